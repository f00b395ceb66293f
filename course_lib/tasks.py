"""Synthetic tasks (and one small real data set that ships with scikit-learn) for the experiments.

Nothing here downloads anything: every task is generated from a seeded ``numpy.random.Generator``,
and the digits come from the copy bundled inside scikit-learn.

Shapes follow the book: inputs ``X`` are ``(n, T, d)`` (batch, time, features).
"""

from __future__ import annotations

import numpy as np

#: MSE of always predicting 1 on the adding problem: the variance of a sum of two U[0, 1] values, 2/12.
ADDING_BASELINE_MSE = 1.0 / 6.0


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def adding_problem(
    n: int, T: int, rng: np.random.Generator | int | None = None, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber 1997), in the setting of Arjovsky et al. (2016).

    Each sequence has two channels: ``X[:, t, 0]`` holds values drawn from U[0, 1]; ``X[:, t, 1]`` is a
    marker that is 1 at exactly two steps, one drawn uniformly from the first half of the sequence and one
    from the second half. The target is the sum of the two marked values. Predicting the constant 1 gives
    MSE = Var(sum) = 1/6 ≈ 0.167 (:data:`ADDING_BASELINE_MSE`), the baseline a model must beat.

    Args:
        n: number of sequences (>= 1).
        T: sequence length (>= 2).
        rng: a Generator or a seed.
        dtype: float dtype of the arrays (float32 for training with PyTorch).

    Returns:
        X: ``(n, T, 2)`` inputs; y: ``(n, 1)`` targets.
    """
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if int(T) < 2:
        raise ValueError(f"T must be at least 2 (one marker in each half), got {T}")
    rng = _rng(rng)
    values = rng.uniform(0.0, 1.0, size=(n, T))
    half = T // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1).astype(dtype)
    y = (values[rows, first] + values[rows, second])[:, None].astype(dtype)
    return X, y


def recall_task(
    n: int, lag: int, n_symbols: int = 4, rng: np.random.Generator | int | None = None, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Recall the first symbol after ``lag`` distracting steps ("I grew up in France … I speak fluent ___").

    A sequence starts with a cue symbol drawn from ``n_symbols`` classes, followed by ``lag`` steps of random
    distractor symbols; the target is the cue. Symbols are one-hot vectors with one extra channel that is
    1 only at the cue, so the network can tell cue from distractor. Chance accuracy is ``1 / n_symbols``.

    Returns:
        X: ``(n, lag + 1, n_symbols + 1)`` one-hot inputs; y: ``(n,)`` integer class of the cue.
    """
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if int(lag) < 0:
        raise ValueError(f"lag must be >= 0, got {lag}")
    if int(n_symbols) < 2:
        raise ValueError(f"n_symbols must be at least 2, got {n_symbols}")
    rng = _rng(rng)
    T = lag + 1
    symbols = rng.integers(0, n_symbols, size=(n, T))
    X = np.zeros((n, T, n_symbols + 1), dtype=dtype)
    X[np.arange(n)[:, None], np.arange(T)[None, :], symbols] = 1.0
    X[:, 0, n_symbols] = 1.0
    return X, symbols[:, 0].astype(np.int64)


def digits_sequences(
    test_fraction: float = 0.25, seed: int = 0, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 handwritten digits, read row by row as sequences of length 8.

    This is the small, offline cousin of "MNIST with an LSTM": each image is a sequence of T = 8 rows,
    each row d = 8 pixel intensities scaled to [0, 1]; 10 classes; 1,797 images in all.

    Returns:
        X_train ``(n_train, 8, 8)``, y_train ``(n_train,)``, X_test ``(n_test, 8, 8)``, y_test ``(n_test,)``;
        a stratified split made with ``seed``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.images / 16.0).astype(dtype)
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    test_idx = []
    for label in range(10):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        test_idx.extend(idx[: int(round(test_fraction * len(idx)))])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[test_idx] = True
    return X[~test_mask], y[~test_mask], X[test_mask], y[test_mask]


#: MSE of always predicting 0.5 on the flip-flop task (the target is 0 or 1 with equal probability).
FLIP_FLOP_BASELINE_MSE = 0.25


def flip_flop_task(
    n: int, T: int, p_event: float = 0.1, rng: np.random.Generator | int | None = None, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """A flip-flop memory: report which of two buttons, *set* or *reset*, was pressed last.

    ``X[:, t, 0]`` is 1 when *set* is pressed at step t, ``X[:, t, 1]`` when *reset* is; presses happen
    only in the first half of the sequence (each step with probability ``p_event``, a fair choice of
    button), and at least one happens, so the answer must be held for T/2 steps or more while later presses
    overwrite earlier ones. The target is 1.0 if the last press was *set*, 0.0 if it was *reset*; predicting
    0.5 gives MSE = 0.25 (:data:`FLIP_FLOP_BASELINE_MSE`).

    Returns:
        X: ``(n, T, 2)`` inputs; y: ``(n, 1)`` targets in {0, 1}.
    """
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if int(T) < 2:
        raise ValueError(f"T must be at least 2 (presses happen in the first half), got {T}")
    if not 0.0 <= p_event <= 1.0:
        raise ValueError(f"p_event must be in [0, 1], got {p_event}")
    rng = _rng(rng)
    half = T // 2
    press = rng.random((n, half)) < p_event
    press[np.arange(n), rng.integers(0, half, size=n)] = True  # at least one press
    button = rng.integers(0, 2, size=(n, half))  # 0 = set, 1 = reset
    X = np.zeros((n, T, 2), dtype=dtype)
    rows, cols = np.nonzero(press)
    X[rows, cols, button[rows, cols]] = 1.0
    last = half - 1 - np.argmax(press[:, ::-1], axis=1)  # the step of the last press
    y = (button[np.arange(n), last] == 0).astype(dtype)[:, None]
    return X, y


def spike_timing_task(
    n: int, T: int, delay: int, rng: np.random.Generator | int | None = None, dtype=np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Generate a timed spike: an output spike exactly ``delay`` steps after an input pulse.

    A small version of the timing tasks of Gers, Schraudolph & Schmidhuber (2002). Each sequence is silent
    except for one input pulse ``X[:, t0, 0] = 1`` at a step t0 drawn uniformly from ``[0, T - delay - 1]``;
    the target is 1 at step ``t0 + delay`` and 0 at every other step, scored at every step. Predicting 0
    everywhere gives MSE = 1/T, the baseline.

    Returns:
        X: ``(n, T, 1)`` inputs; Y: ``(n, T, 1)`` per-step targets.
    """
    if int(n) < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 1 <= int(delay) <= int(T) - 1:
        raise ValueError(f"delay must be in [1, T - 1] = [1, {int(T) - 1}], got {delay}")
    rng = _rng(rng)
    t0 = rng.integers(0, T - delay, size=n)
    rows = np.arange(n)
    X = np.zeros((n, T, 1), dtype=dtype)
    Y = np.zeros((n, T, 1), dtype=dtype)
    X[rows, t0, 0] = 1.0
    Y[rows, t0 + delay, 0] = 1.0
    return X, Y
