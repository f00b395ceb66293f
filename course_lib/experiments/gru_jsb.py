"""tanh RNN, GRU and LSTM with about 20k parameters on the Bach chorales (after Chung et al. 2014).

``python -m course_lib.experiments gru_jsb`` trains the three on ``book/data/jsb_chorales.npz`` (made by
``make_jsb`` from the chorales inside music21) to predict the 88 keys of the next quarter-note step, and
writes ``book/results/gru_jsb.json``: for each kind and seed, the negative log-likelihood per time step on
the train, valid and test splits (nats, :func:`course_lib.jsb.nll_per_step`) of the epoch with the best
validation NLL, and the validation learning curve. A reference row: the NLL of independent keys with the
training frequencies (no model of time at all). ``--jobs N`` trains N models at a time in separate processes.

Setting (ours): one recurrent layer (PyTorch ``nn.RNN``/``nn.GRU``/``nn.LSTM``) and a sigmoid read-out per
key, hidden sizes chosen so the parameter count is closest to 20,000, Adam (lr 0.03), minibatches of 8 whole
chorales, gradient clipping at 1, ``--epochs`` epochs, early stopping on the validation NLL. This recipe is
ours, not the paper's.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch import nn

from course_lib.experiments import write_results
from course_lib.jsb import SPLITS, load_jsb, nll_per_step, pad_batch
from course_lib.params import count_params_torch
from course_lib.training import one_thread

KINDS = ("rnn", "gru", "lstm")
KEYS, TARGET_PARAMS, EPOCHS, LR, BATCH = 88, 20_000, 12, 3e-2, 8


def jsb_params(kind: str, h: int, K: int = KEYS) -> int:
    """Parameters of the layer (PyTorch counting: two bias vectors) plus the read-out to K keys."""
    return count_params_torch(kind, K, h) + h * K + K


def matched_hidden_size(kind: str, target: int = TARGET_PARAMS, K: int = KEYS) -> int:
    """The hidden size whose parameter count is closest to ``target``."""
    return min(range(1, 400), key=lambda h: abs(jsb_params(kind, h, K) - target))


class PianoRollNet(nn.Module):
    """One recurrent layer and a linear read-out to one logit per key."""

    def __init__(self, kind: str, hidden_size: int, K: int = KEYS, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind]
        self.layer = cls(K, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, K)

    def forward(self, X):
        return self.readout(self.layer(X)[0])


@torch.no_grad()
def split_nll(model, rolls) -> float:
    X, Y, mask = pad_batch(rolls)
    p = torch.sigmoid(model(torch.from_numpy(X))).numpy()
    return nll_per_step(p, Y, mask)


def train_jsb(
    kind: str,
    seed: int,
    data: dict,
    epochs: int = EPOCHS,
    lr: float = LR,
    batch: int = BATCH,
    hidden_size: int | None = None,
) -> dict:
    """Train one model; return its best-validation NLLs, the epoch, and the learning curve."""
    h = hidden_size or matched_hidden_size(kind)
    model = PianoRollNet(kind, h, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    train = data["train"]
    best, curve = None, []
    with one_thread():
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(train))
            for start in range(0, len(order), batch):
                X, Y, mask = pad_batch([train[i] for i in order[start : start + batch]])
                logits = model(torch.from_numpy(X))
                loss = nn.functional.binary_cross_entropy_with_logits(
                    logits, torch.from_numpy(Y), reduction="none"
                ).sum(-1)
                m = torch.from_numpy(mask)
                loss = (loss * m).sum() / m.sum()
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
            valid = split_nll(model, data["valid"])
            curve.append({"valid": round(valid, 4)})
            if best is None or valid < best["valid"]:  # train and test NLL only at the best epoch so far
                best = {"train": split_nll(model, data["train"]), "valid": valid,
                        "test": split_nll(model, data["test"]), "epoch": epoch}
    return {
        "kind": kind,
        "seed": int(seed),
        "hidden_size": h,
        "params": jsb_params(kind, h),
        **{f"nll_{s}": round(best[s], 4) for s in SPLITS},
        "best_epoch": best["epoch"],
        "curve": curve,
    }


def frequency_baseline(data: dict) -> dict:
    """NLL per step of independent keys with the training-set frequencies (no use of the past)."""
    freq = np.concatenate([r[1:] for r in data["train"]]).mean(0)
    out = {}
    for s in SPLITS:
        Y = np.concatenate([r[1:] for r in data[s]])
        out[s] = round(nll_per_step(np.broadcast_to(freq, Y.shape), Y), 4)
    return out


def _train_one(args) -> dict:
    kind, seed, epochs, lr, batch = args
    return train_jsb(kind, seed, load_jsb(), epochs, lr, batch)


def run(seeds, epochs: int, jobs: int = 1, lr: float = LR, batch: int = BATCH) -> dict:
    data = load_jsb()
    results = {
        "epochs": epochs,
        "lr": lr,
        "batch": batch,
        "target_params": TARGET_PARAMS,
        "chorales": {s: len(data[s]) for s in SPLITS},
        "steps": {s: int(sum(r.shape[0] - 1 for r in data[s])) for s in SPLITS},
        "frequency_baseline": frequency_baseline(data),
        "runs": [],
    }
    tasks = [(kind, seed, epochs, lr, batch) for seed in seeds for kind in KINDS]
    if jobs > 1:
        import multiprocessing

        with multiprocessing.get_context("spawn").Pool(jobs) as pool:
            runs = pool.map(_train_one, tasks)
    else:
        runs = [train_jsb(kind, seed, data, ep, lr_, b) for kind, seed, ep, lr_, b in tasks]
    for r in runs:
        results["runs"].append(r)
        print(f"{r['kind']} h={r['hidden_size']} ({r['params']} params) seed {r['seed']}: "
              f"test NLL {r['nll_test']:.3f} (best epoch {r['best_epoch']})", flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments gru_jsb", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--jobs", type=int, default=1, help="models trained at a time (processes)")
    parser.add_argument("--lr", type=float, default=LR, help="Adam learning rate (default %(default)s)")
    parser.add_argument("--batch", type=int, default=BATCH, help="chorales per step (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="one seed, 3 epochs; nothing written")
    parser.add_argument("--out", default="gru_jsb.json")
    args = parser.parse_args(argv)
    if args.quick:
        print(run([0], 3))
        return 0
    results = run(args.seeds, args.epochs, args.jobs, args.lr, args.batch)
    print("wrote", write_results(args.out, results, args.seeds))
    return 0
