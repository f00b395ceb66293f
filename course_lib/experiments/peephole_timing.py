"""Do peepholes help an LSTM learn precise timing? Paired seeds, with and without peepholes.

    python -m course_lib.experiments peephole_timing            # writes book/results/peephole_timing.json
    python -m course_lib.experiments peephole_timing --quick    # a reduced run (tests), writes nothing

The task is a small version of "generating timed spikes" of Gers, Schraudolph & Schmidhuber (2002): a
sequence of length T is silent except for one input pulse at a random step t0; the target is a single
output spike exactly D steps later (1 at t0 + D, 0 everywhere else), scored at every step with the MSE.
:func:`spike_timing_task` (in :mod:`course_lib.tasks`) makes the data.

For every seed the two models are **paired**: the same minibatch stream, the same held-out set and the same
initial weights; the peephole model's peepholes start at zero, so at step 0 both networks compute the same
function and only the peepholes' ability to learn differs. Both are ``course_lib.lstm_family`` layers
(variant V with peepholes, variant NP without), h units, and a linear read-out at every step.

Reported per run: the held-out MSE divided by the MSE of predicting 0 everywhere (1/T), and the fraction of
held-out sequences whose largest output falls exactly on the target step ("on time"). A Wilcoxon signed-rank
test (two-sided, exact) compares the paired final MSEs.

Gers et al. used one memory cell, plain gradient descent with momentum and a small learning rate, and up to
10^7 training sequences per run; we use Adam, a few hundred minibatches, and a few cells.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from course_lib.experiments import write_results
from course_lib.lstm_family import LSTMFamilyLayer
from course_lib.tasks import spike_timing_task


class TimingModel(nn.Module):
    """An LSTM-family layer and a linear read-out at every step: X (n, T, 1) -> Y (n, T, 1)."""

    def __init__(self, variant: str, h: int, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.layer = LSTMFamilyLayer(1, h, variant)  # W_x, W_h are drawn before p: identical for V and NP
        if self.layer.p is not None:
            with torch.no_grad():
                self.layer.p.zero_()  # peepholes start at zero: the same initial function as NP
        torch.manual_seed(seed + 1)
        self.readout = nn.Linear(h, 1)

    def forward(self, X):
        H_seq, _ = self.layer(X)
        return self.readout(H_seq)


@torch.no_grad()
def score(model: TimingModel, X: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """(MSE / (1/T), fraction of sequences whose output peaks exactly at the target step)."""
    out = model(torch.as_tensor(X)).numpy()[..., 0]
    T = X.shape[1]
    mse = float(np.mean((out - Y[..., 0]) ** 2)) * T
    on_time = float(np.mean(out.argmax(axis=1) == Y[..., 0].argmax(axis=1)))
    return mse, on_time


def run_pair_member(
    variant: str,
    seed: int,
    *,
    T: int,
    delay: int,
    h: int,
    steps: int,
    lr: float,
    batch: int,
    eval_every: int,
    n_eval: int = 256,
) -> dict:
    """Train one model (variant "V" or "NP") with ``seed``; return its evaluation curve."""
    X_eval, Y_eval = spike_timing_task(n_eval, T, delay, rng=np.random.default_rng(10_000 + seed))
    model = TimingModel(variant, h, seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curve, on_time, eval_steps = [], [], []
    for step in range(1, steps + 1):
        X, Y = spike_timing_task(batch, T, delay, rng=rng)
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(torch.as_tensor(X)), torch.as_tensor(Y))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % eval_every == 0 or step == steps:
            mse, ok = score(model, X_eval, Y_eval)
            eval_steps.append(step)
            curve.append(round(mse, 5))
            on_time.append(round(ok, 4))
    solved = [s for s, ok in zip(eval_steps, on_time, strict=True) if ok >= 0.99]
    out = {
        "steps": eval_steps,
        "curve": curve,
        "on_time": on_time,
        "final": curve[-1],
        "final_on_time": on_time[-1],
        "steps_to_on_time": solved[0] if solved else None,
    }
    if model.layer.p is not None:
        out["peepholes_final"] = np.round(model.layer.p.detach().numpy(), 4).tolist()
    return out


def wilcoxon_paired(a, b) -> dict:
    """Two-sided Wilcoxon signed-rank test of paired samples a − b, with the sign counts."""
    from scipy.stats import wilcoxon

    d = np.asarray(a) - np.asarray(b)
    p = float(wilcoxon(d).pvalue) if np.any(d != 0) else 1.0
    return {
        "n_pairs": int(d.size),
        "a_lower_in": int((d < 0).sum()),
        "b_lower_in": int((d > 0).sum()),
        "median_diff": round(float(np.median(d)), 5),
        "p_value": round(p, 5),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m course_lib.experiments peephole_timing",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--seeds", type=int, default=10, help="paired seeds (default 10)")
    ap.add_argument("--T", type=int, default=24, help="sequence length")
    ap.add_argument("--delay", type=int, default=12, help="steps from the input pulse to the output spike")
    ap.add_argument("--h", type=int, default=8, help="hidden units")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--lr", type=float, default=3e-2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--eval-every", type=int, default=25)
    ap.add_argument("--quick", action="store_true", help="a tiny run; prints the summary, writes nothing")
    ap.add_argument("--out", default="peephole_timing.json")
    ap.epilog = "steps_to_on_time: the first evaluation with >= 99% of sequences on time (None: never)."
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.steps = 2, 60
    torch.set_num_threads(1)
    seeds = list(range(args.seeds))
    kw = dict(
        T=args.T,
        delay=args.delay,
        h=args.h,
        steps=args.steps,
        lr=args.lr,
        batch=args.batch,
        eval_every=args.eval_every,
    )
    started = time.process_time()
    runs = {"V": [], "NP": []}
    for s in seeds:
        for v in ("V", "NP"):
            runs[v].append(run_pair_member(v, s, **kw))
        print(
            f"seed {s}: final MSE/baseline V {runs['V'][-1]['final']:.4f}  NP {runs['NP'][-1]['final']:.4f}; "
            f"on time V {runs['V'][-1]['final_on_time']:.3f}  NP {runs['NP'][-1]['final_on_time']:.3f}  "
            f"(cpu {time.process_time() - started:.0f} s)",
            flush=True,
        )
    results = {
        "settings": {
            **kw,
            "n_eval": 256,
            "optimizer": "Adam",
            "clip_norm": 1.0,
            "loss": "mse at every step",
            "metric": "held-out MSE / (1/T) (predicting 0 everywhere) and fraction on time",
            "peepholes_init": 0.0,
        },
        "runs": runs,
        "test_mse": wilcoxon_paired([r["final"] for r in runs["V"]], [r["final"] for r in runs["NP"]]),
        "test_steps_to_on_time": wilcoxon_paired(
            [r["steps_to_on_time"] or 2 * args.steps for r in runs["V"]],
            [r["steps_to_on_time"] or 2 * args.steps for r in runs["NP"]],
        ),
        "cpu_seconds": round(time.process_time() - started),
    }
    if args.quick:
        print(results["test_mse"])
        return 0
    print("wrote", write_results(args.out, results, seeds))
    return 0
