"""tanh RNN, GRU and LSTM side by side: time per training step on this CPU, steps to solve the adding problem.

``python -m course_lib.experiments gru_compare`` writes ``book/results/gru_compare.json`` with

* ``timing``: seconds per training step (forward, backward and an Adam update) of PyTorch's ``nn.RNN``,
  ``nn.GRU`` and ``nn.LSTM`` with a linear read-out, batch 64, T = 100, d = 2, at h = 32 and h = 128, on
  one thread; also the forward pass alone. The kinds are measured *interleaved* (RNN, GRU, LSTM, RNN, ...)
  for ``--repeats`` rounds and the median is kept, so a load that comes and goes on a shared machine hits
  all three alike. Absolute times depend on the machine and its load; only ratios are meaningful.
* ``adding``: for each kind and seed, the first evaluation step at which the test MSE of the adding problem
  with T = 100 falls below 0.01 (``None``: not within ``--cap`` steps), with the settings of chapter 1
  (h = 32, Adam, lr 1e-2, batch 64, clipping at 1; the LSTM with forget bias 1).

``--quick``: timing with 2 repeats, adding with one seed and a 300-step cap; nothing written.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course_lib.experiments import write_results
from course_lib.params import count_params_torch
from course_lib.tasks import adding_problem
from course_lib.training import make_model, one_thread, train

KINDS = ("rnn", "gru", "lstm")


def model_params(kind: str, d: int, h: int, out: int) -> int:
    """Parameters of the recurrent layer (PyTorch counting) plus the linear read-out."""
    return count_params_torch(kind, d, h) + h * out + out


def time_steps(hidden_sizes=(32, 128), repeats: int = 5, steps: int = 5, n: int = 64, T: int = 100) -> dict:
    """Median seconds per training step and per forward pass, measured interleaved over the kinds."""
    X, y = adding_problem(n, T, rng=0)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    samples = {(k, h, what): [] for k in KINDS for h in hidden_sizes for what in ("train", "forward")}
    with one_thread():
        models = {(k, h): make_model(k, 2, h, 1, seed=0) for k in KINDS for h in hidden_sizes}
        opts = {key: torch.optim.Adam(m.parameters(), lr=1e-3) for key, m in models.items()}
        for m in models.values():  # warm up once
            m(X).sum().backward()
        for _ in range(repeats):
            for h in hidden_sizes:
                for k in KINDS:
                    m, opt = models[k, h], opts[k, h]
                    t0 = time.perf_counter()
                    for _ in range(steps):
                        opt.zero_grad()
                        torch.nn.functional.mse_loss(m(X), y).backward()
                        opt.step()
                    samples[k, h, "train"].append((time.perf_counter() - t0) / steps)
                    t0 = time.perf_counter()
                    with torch.no_grad():
                        for _ in range(steps):
                            m(X)
                    samples[k, h, "forward"].append((time.perf_counter() - t0) / steps)
    out = []
    for h in hidden_sizes:
        for k in KINDS:
            out.append(
                {
                    "kind": k,
                    "hidden_size": h,
                    "params": model_params(k, 2, h, 1),
                    "train_step_s": float(np.median(samples[k, h, "train"])),
                    "forward_s": float(np.median(samples[k, h, "forward"])),
                    "train_step_s_all": [round(v, 6) for v in samples[k, h, "train"]],
                }
            )
    return {"batch": n, "T": T, "d": 2, "repeats": repeats, "steps_per_sample": steps, "rows": out}


def adding_steps(seeds, cap: int = 1000, T: int = 100, h: int = 32) -> dict:
    X_eval, y_eval = adding_problem(500, T, rng=np.random.default_rng(1000))
    rows = []
    for seed in seeds:
        for k in KINDS:
            model = make_model(k, 2, h, 1, seed=seed, **({"forget_bias": 1.0} if k == "lstm" else {}))
            hist = train(
                model,
                lambda r: adding_problem(64, T, rng=r),
                steps=cap,
                lr=1e-2,
                eval_data=(X_eval, y_eval),
                eval_every=50,
                stop_below=0.01,
                seed=seed,
            )
            rows.append(
                {
                    "kind": k,
                    "seed": int(seed),
                    "steps_to_solve": hist.first_step_below(0.01),
                    "final_mse": round(float(hist.eval_values[-1]), 5),
                    "params": model_params(k, 2, h, 1),
                }
            )
            print(rows[-1], flush=True)
    return {"T": T, "hidden_size": h, "cap": cap, "threshold": 0.01, "runs": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments gru_compare", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--cap", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="gru_compare.json")
    args = parser.parse_args(argv)
    if args.quick:
        print(time_steps(repeats=2, steps=2))
        print(adding_steps([0], cap=300))
        return 0
    timing = time_steps(repeats=args.repeats)
    for row in timing["rows"]:
        print(row["kind"], row["hidden_size"], f"{row['train_step_s'] * 1e3:.1f} ms", flush=True)
    results = {"timing": timing, "adding": adding_steps(args.seeds, cap=args.cap)}
    print("wrote", write_results(args.out, results, args.seeds))
    return 0
