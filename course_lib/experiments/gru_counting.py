"""Counting with an LSTM and a GRU: next-symbol prediction on aⁿbⁿ (Weiss, Goldberg & Yahav 2018).

``python -m course_lib.experiments gru_counting`` trains an LSTM and a GRU of the same hidden size on strings
``a^n b^n $`` with ``1 <= n <= N_TRAIN`` for several seeds and writes ``book/results/gru_counting.json``:
for each model and seed, which n up to ``N_TEST`` it recognises (:mod:`course_lib.counting`), the largest
n such that every string up to it is recognised, and the correlation between #a − #b and the LSTM cell
unit that tracks it best (or, for the GRU, its best hidden unit).

``--quick`` runs a reduced version (2 seeds, fewer steps) for the tests.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch import nn

from course_lib.convert import gru_params_from_torch, lstm_params_from_torch
from course_lib.counting import anbn_batch, counter_values
from course_lib.experiments import write_results
from course_lib.gru import gru_forward
from course_lib.lstm import lstm_forward
from course_lib.training import one_thread

N_TRAIN, N_TEST, HIDDEN, STEPS, LR, BATCH = 20, 100, 8, 1500, 1e-2, 32


class CountingNet(nn.Module):
    """One recurrent layer (``nn.LSTM`` or ``nn.GRU``, batch first) and a linear read-out to 3 symbols."""

    def __init__(self, kind: str, hidden_size: int = HIDDEN, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        layers = {"lstm": nn.LSTM, "gru": nn.GRU}
        if kind not in layers:
            raise ValueError(f"kind must be 'lstm' or 'gru'; got {kind!r}")
        self.kind = kind
        self.layer = layers[kind](3, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, 3)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X (n, T, 3) one-hot -> logits (n, T, 3) of the next symbol."""
        H_seq, _ = self.layer(X)
        return self.readout(H_seq)


def train_counting(
    kind: str,
    seed: int,
    steps: int = STEPS,
    n_train: int = N_TRAIN,
    hidden_size: int = HIDDEN,
    lr: float = LR,
    batch: int = BATCH,
) -> CountingNet:
    """Adam on batches of strings with n drawn uniformly from 1..n_train; masked cross-entropy."""
    model = CountingNet(kind, hidden_size, seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    with one_thread():
        for _ in range(steps):
            X, y, mask, _ = anbn_batch(rng.integers(1, n_train + 1, size=batch))
            logits = model(torch.from_numpy(X))
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, 3), torch.from_numpy(y).reshape(-1), reduction="none"
            )
            m = torch.from_numpy(mask).reshape(-1)
            loss = (loss * m).sum() / m.sum()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    return model


@torch.no_grad()
def recognised(model: CountingNet, ns) -> np.ndarray:
    """(len(ns),) bool: is the predicted next symbol right at every determined step of a^n b^n?"""
    X, y, _, det = anbn_batch(ns)
    with one_thread():
        pred = model(torch.from_numpy(X)).argmax(-1).numpy()
    return np.all((pred == y) | ~det, axis=1)


def largest_correct(ok: np.ndarray) -> int:
    """Largest N with ok[n - 1] for every n <= N (ok[k] is about n = k + 1); 0 if n = 1 already fails."""
    bad = np.flatnonzero(~np.asarray(ok))
    return int(bad[0]) if bad.size else int(len(ok))


def states(model: CountingNet, n: int) -> dict[str, np.ndarray]:
    """Run the trained layer in course_lib (float64) on a^n b^n: H (2n, h) and, for the LSTM, C (2n, h)."""
    X = anbn_batch([n], dtype=np.float64)[0]
    if model.kind == "lstm":
        params = {k: v.astype(np.float64) for k, v in lstm_params_from_torch(model.layer).items()}
        H, C, _ = lstm_forward(X, params)
        return {"H": H[0], "C": C[0]}
    params = {k: v.astype(np.float64) for k, v in gru_params_from_torch(model.layer).items()}
    H, _ = gru_forward(X, params)
    return {"H": H[0]}


def counter_unit(model: CountingNet, n: int) -> tuple[int, float]:
    """The unit (of C for the LSTM, of H for the GRU) whose value correlates best with #a − #b on a^n b^n.

    Returns (unit index, |Pearson correlation|).
    """
    S = states(model, n)["C" if model.kind == "lstm" else "H"]
    count = counter_values(n)
    r = np.array(
        [abs(np.corrcoef(S[:, j], count)[0, 1]) if S[:, j].std() > 0 else 0.0 for j in range(S.shape[1])]
    )
    j = int(np.nanargmax(r))
    return j, float(r[j])


def run(seeds, steps: int, n_test: int) -> dict:
    ns = np.arange(1, n_test + 1)
    out = {
        "n_train": N_TRAIN,
        "n_test": n_test,
        "hidden_size": HIDDEN,
        "steps": steps,
        "lr": LR,
        "batch": BATCH,
        "runs": [],
    }
    for seed in seeds:
        for kind in ("lstm", "gru"):
            model = train_counting(kind, seed, steps)
            ok = recognised(model, ns)
            unit, corr = counter_unit(model, N_TRAIN)
            _, corr_long = counter_unit(model, n_test)
            S = states(model, n_test)
            out["runs"].append(
                {
                    "kind": kind,
                    "seed": int(seed),
                    "recognised": [bool(v) for v in ok],
                    "largest_correct": largest_correct(ok),
                    "train_all_ok": bool(ok[:N_TRAIN].all()),
                    "counter_unit": unit,
                    "counter_corr_train_n": round(corr, 4),
                    "counter_corr_test_n": round(corr_long, 4),
                    "max_abs_H": round(float(np.abs(S["H"]).max()), 4),
                    "max_abs_C": round(float(np.abs(S["C"]).max()), 4) if "C" in S else None,
                }
            )
            print(
                f"{kind} seed {seed}: largest n recognised {out['runs'][-1]['largest_correct']}, "
                f"counter |r| {corr:.3f}",
                flush=True,
            )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments gru_counting", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds, 600 steps, n up to 60; no file written"
    )
    parser.add_argument("--out", default="gru_counting.json")
    args = parser.parse_args(argv)
    if args.quick:
        print(run([0, 1], 600, 60))
        return 0
    results = run(args.seeds, args.steps, N_TEST)
    path = write_results(args.out, results, args.seeds)
    print("wrote", path)
    return 0
