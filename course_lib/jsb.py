"""The Bach chorales of ``music21`` as piano rolls: the committed ``book/data/jsb_chorales.npz``.

The file is made once by ``python -m course_lib.experiments make_jsb`` (see that module for what is in it
and how the split is chosen); reading it needs NumPy only.

The modelling task is the one of Boulanger-Lewandowski et al. (2012) and Chung et al. (2014): at every
quarter-note step predict which of the 88 keys sound at the next step, each key an independent Bernoulli
variable given the past. The score is the negative log-likelihood per time step, the sum over the 88 keys
of ``-[x log p + (1 - x) log(1 - p)]``, averaged over all predicted steps of a split (in nats).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from course_lib.experiments import DATA

__all__ = ["JSB_PATH", "SPLITS", "load_jsb", "pad_batch", "nll_per_step"]

JSB_PATH = DATA / "jsb_chorales.npz"
SPLITS = ("train", "valid", "test")


def load_jsb(path: str | Path = JSB_PATH) -> dict:
    """The chorales by split.

    Returns:
        dict with ``"train"``, ``"valid"``, ``"test"``: lists of float32 arrays of shape (T_i, 88), one per
        chorale (1.0 where a key sounds); ``"names"``: dict split -> list of file names; ``"lowest_midi"``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; make it with `python -m course_lib.experiments make_jsb`")
    with np.load(path) as f:
        roll = np.unpackbits(f["roll"], axis=1)[:, :88].astype(np.float32)
        lengths, names, split = f["lengths"], f["names"], f["split"]
        lowest = int(f["lowest_midi"])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    out = {s: [] for s in SPLITS}
    out["names"] = {s: [] for s in SPLITS}
    for start, T, name, code in zip(starts, lengths, names, split, strict=True):
        out[SPLITS[code]].append(roll[start : start + T])
        out["names"][SPLITS[code]].append(str(name))
    out["lowest_midi"] = lowest
    return out


def pad_batch(rolls):
    """Inputs, targets and mask for next-step prediction on a list of (T_i, 88) rolls.

    Returns X (n, T, 88) = steps 0..T_i-2, Y (n, T, 88) = steps 1..T_i-1, mask (n, T) with T = max T_i - 1.
    """
    T = max(r.shape[0] for r in rolls) - 1
    n, K = len(rolls), rolls[0].shape[1]
    X = np.zeros((n, T, K), np.float32)
    Y = np.zeros((n, T, K), np.float32)
    mask = np.zeros((n, T), np.float32)
    for i, r in enumerate(rolls):
        L = r.shape[0] - 1
        X[i, :L], Y[i, :L], mask[i, :L] = r[:-1], r[1:], 1.0
    return X, Y, mask


def nll_per_step(p, Y, mask=None, eps: float = 1e-7) -> float:
    """Mean over (unmasked) steps of the Bernoulli negative log-likelihood summed over keys, in nats.

    p, Y: (..., K) probabilities and 0/1 targets; mask: (...) or None.
    """
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    Y = np.asarray(Y, dtype=np.float64)
    nll = -(Y * np.log(p) + (1 - Y) * np.log1p(-p)).sum(-1)
    if mask is None:
        return float(nll.mean())
    mask = np.asarray(mask, dtype=np.float64)
    return float((nll * mask).sum() / mask.sum())
