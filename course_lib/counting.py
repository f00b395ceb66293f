"""The counting language aⁿbⁿ as a next-symbol prediction task (after Weiss, Goldberg & Yahav 2018).

A string of the language is ``n`` symbols ``a`` followed by ``n`` symbols ``b``, then the end symbol ``$``.
The network reads the string one symbol at a time (one-hot, alphabet ``a, b, $``) and predicts the next
symbol after each. While it reads ``a``s the next symbol cannot be known (another ``a`` or the first ``b``);
from the first ``b`` on it is determined: ``b`` until as many ``b``s as ``a``s have been read, then ``$``.
Predicting those steps needs a counter of #a − #b. Here a string counts as *recognised* when the most
likely next symbol is the right one at every determined step.

Shapes follow the book: ``X`` is ``(batch, time, 3)``; targets and masks are ``(batch, time)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SYMBOLS", "anbn_string", "anbn_batch", "determined_mask", "counter_values"]

SYMBOLS = ("a", "b", "$")  #: symbol k is one-hot channel k
A, B, END = 0, 1, 2


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an int >= 1; got {n!r}")
    return int(n)


def anbn_string(n: int) -> np.ndarray:
    """The symbol indices of ``a^n b^n $``: shape (2n + 1,)."""
    n = _check_n(n)
    return np.array([A] * n + [B] * n + [END], dtype=np.int64)


def anbn_batch(ns, dtype=np.float32):
    """A padded batch of strings ``a^n b^n $``, one per entry of ``ns``.

    Returns:
        X: (batch, T, 3) one-hot inputs, the string without its final ``$`` (T = 2 max(ns)); zero rows pad.
        y: (batch, T) int targets, the next symbol at every step (0 where padded).
        mask: (batch, T) float, 1 at real steps and 0 at padding.
        det: (batch, T) bool, True at the determined steps (from the first ``b`` read on).
    """
    ns = [_check_n(int(n)) for n in np.atleast_1d(ns)]
    T = 2 * max(ns)
    X = np.zeros((len(ns), T, len(SYMBOLS)), dtype=dtype)
    y = np.zeros((len(ns), T), dtype=np.int64)
    mask = np.zeros((len(ns), T), dtype=dtype)
    det = np.zeros((len(ns), T), dtype=bool)
    for row, n in enumerate(ns):
        s = anbn_string(n)
        X[row, np.arange(2 * n), s[:-1]] = 1.0
        y[row, : 2 * n] = s[1:]
        mask[row, : 2 * n] = 1.0
        det[row, n : 2 * n] = True
    return X, y, mask, det


def determined_mask(n: int) -> np.ndarray:
    """(2n,) bool: the steps of ``a^n b^n`` whose next symbol is determined (from the first ``b`` on)."""
    return anbn_batch([n])[3][0]


def counter_values(n: int) -> np.ndarray:
    """(2n,) the count #a − #b after reading each symbol of ``a^n b^n``: 1, 2, …, n, n − 1, …, 0."""
    n = _check_n(n)
    return np.concatenate([np.arange(1, n + 1), np.arange(n - 1, -1, -1)]).astype(float)
