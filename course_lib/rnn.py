"""The Elman RNN cell in NumPy: forward and backward (BPTT), written to be read.

Row-vector convention (the book's): a minibatch ``X_t`` is ``(n, d)``, the state ``H_t`` is ``(n, h)``::

    A_t = X_t @ W_xh + H_{t-1} @ W_hh + b_h        (pre-activation, (n, h))
    H_t = f(A_t)                                   (f = tanh or relu)

Parameters are a dict ``{"W_xh": (d, h), "W_hh": (h, h), "b_h": (h,)}``.

Each forward function returns a *cache* with what its backward needs; each backward function takes the
upstream gradient and that cache. Gradients are returned in a dict with the same keys as ``params``.
The backward pass of a sequence (backpropagation through time) is the step backward applied from
t = T down to t = 1, carrying ``dH_prev`` from one step to the one before.
"""

from __future__ import annotations

import numpy as np

from .activations import get_activation
from .validation import (
    as_float_array,
    check_cache,
    check_keys,
    check_sequence,
    check_shape,
    positive_int,
    state_or_zeros,
    upstream_or_zeros,
)

__all__ = [
    "RNN_PARAM_NAMES",
    "init_rnn_params",
    "rnn_step",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "check_rnn_params",
]

RNN_PARAM_NAMES = ("W_xh", "W_hh", "b_h")
_RNN_ACTIVATIONS = ("tanh", "relu")


def init_rnn_params(d: int, h: int, rng=None, scale: float | None = None, dtype=np.float64) -> dict:
    """Random parameters of an Elman RNN cell.

    Parameters
    ----------
    d, h : int
        Input size and hidden size.
    rng : numpy.random.Generator or int or None
        Random generator (or a seed for ``numpy.random.default_rng``); ``None`` gives fresh entropy.
    scale : float, optional
        Weights are drawn from U(−scale, scale); default ``1 / sqrt(h)``, the PyTorch default.
    dtype : numpy dtype, default float64

    Returns
    -------
    dict
        ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h`` (h,) (the bias starts at zero).
    """
    d, h = positive_int("d", d), positive_int("h", h)
    rng = np.random.default_rng(rng)
    s = 1.0 / np.sqrt(h) if scale is None else float(scale)
    return {
        "W_xh": rng.uniform(-s, s, size=(d, h)).astype(dtype),
        "W_hh": rng.uniform(-s, s, size=(h, h)).astype(dtype),
        "b_h": np.zeros(h, dtype=dtype),
    }


def check_rnn_params(params) -> tuple[int, int]:
    """Check an RNN params dict (exact keys, float dtypes, consistent shapes) and return ``(d, h)``.

    Raises ``TypeError`` (not a dict, non-float arrays) or ``ValueError`` (missing/extra keys, shapes).
    """
    _, d, h = _rnn_params(params)
    return d, h


def _rnn_params(params) -> tuple[dict, int, int]:
    """Check an RNN params dict (keys, float dtypes, consistent shapes); return ``(arrays, d, h)``."""
    hint = "An Elman RNN cell has W_xh (d, h), W_hh (h, h), b_h (h,)."
    check_keys("params", params, RNN_PARAM_NAMES, hint=hint)
    P = {"W_xh": as_float_array("params['W_xh']", params["W_xh"], ndim=2, what="(d, h)")}
    d, h = P["W_xh"].shape
    P["W_hh"] = as_float_array("params['W_hh']", params["W_hh"])
    check_shape("params['W_hh']", P["W_hh"], (h, h), what="(h, h)")
    P["b_h"] = as_float_array("params['b_h']", params["b_h"])
    check_shape("params['b_h']", P["b_h"], (h,), what="(h,)")
    return P, d, h


# ----------------------------------------------------------------------------------------------------------
# one step
# ----------------------------------------------------------------------------------------------------------
def rnn_step(X_t, H_prev, params: dict, activation: str = "tanh"):
    """One step of an Elman RNN: ``H_t = f(X_t @ W_xh + H_prev @ W_hh + b_h)``.

    Parameters
    ----------
    X_t : ndarray (n, d)
        Inputs at step t.
    H_prev : ndarray (n, h) or None
        Previous hidden state H_{t-1}; ``None`` means zeros.
    params : dict
        ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h`` (h,).
    activation : {"tanh", "relu"}

    Returns
    -------
    H_t : ndarray (n, h)
        New hidden state.
    cache : dict
        ``X_t`` (n, d), ``H_prev`` (n, h), ``A_t`` (n, h) pre-activation, ``H_t`` (n, h), ``params``,
        ``activation``: what :func:`rnn_step_backward` needs.
    """
    params, d, h = _rnn_params(params)
    X_t = as_float_array("X_t", X_t, ndim=2, what="(n, d)")
    check_shape("X_t", X_t, (None, d), what="(n, d)")
    H_prev = state_or_zeros("H_prev", H_prev, X_t.shape[0], h, X_t.dtype)
    return _rnn_step(X_t, H_prev, params, _activation(activation))


def _rnn_step(X_t, H_prev, params, act):
    A_t = X_t @ params["W_xh"] + H_prev @ params["W_hh"] + params["b_h"]
    H_t = act.f(A_t)
    cache = {"X_t": X_t, "H_prev": H_prev, "A_t": A_t, "H_t": H_t, "params": params, "activation": act.name}
    return H_t, cache


def rnn_step_backward(dH_t, cache: dict):
    """Backward pass of :func:`rnn_step`.

    Parameters
    ----------
    dH_t : ndarray (n, h)
        Gradient of the loss with respect to H_t (everything that flows into H_t).
    cache : dict
        The cache returned by :func:`rnn_step`.

    Returns
    -------
    dX_t : ndarray (n, d)
    dH_prev : ndarray (n, h)
    grads : dict
        ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h`` (h,).
    """
    check_cache(cache, ("X_t", "H_prev", "A_t", "H_t", "params", "activation"), "rnn_step")
    dH_t = as_float_array("dH_t", dH_t, ndim=2, what="(n, h)")
    check_shape("dH_t", dH_t, cache["H_t"].shape, what="(n, h)")
    return _rnn_step_backward(dH_t, cache)


def _rnn_step_backward(dH_t, cache):
    p = cache["params"]
    dA = dH_t * get_activation(cache["activation"]).df(cache["A_t"])  # through f
    dX_t = dA @ p["W_xh"].T
    dH_prev = dA @ p["W_hh"].T
    grads = {"W_xh": cache["X_t"].T @ dA, "W_hh": cache["H_prev"].T @ dA, "b_h": dA.sum(axis=0)}
    return dX_t, dH_prev, grads


# ----------------------------------------------------------------------------------------------------------
# a whole sequence
# ----------------------------------------------------------------------------------------------------------
def rnn_forward(X, params: dict, H_0=None, activation: str = "tanh"):
    """Run an Elman RNN over a sequence.

    Parameters
    ----------
    X : ndarray (n, T, d)
        Input sequences, batch first. T ≥ 1.
    params : dict
        ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h`` (h,).
    H_0 : ndarray (n, h) or None
        Initial state; ``None`` means zeros.
    activation : {"tanh", "relu"}

    Returns
    -------
    H : ndarray (n, T, h)
        Hidden states H_1 … H_T (``H[:, -1]`` is the final state H_T).
    cache : dict
        ``steps`` (list of the T step caches, each as in :func:`rnn_step`), ``X`` (n, T, d), ``H_0`` (n, h),
        ``params`` and ``activation`` (name): what :func:`rnn_backward` needs.
    """
    params, d, h = _rnn_params(params)
    X = check_sequence(X, d)
    n, T, _ = X.shape
    H_prev = state_or_zeros("H_0", H_0, n, h, X.dtype)
    act = _activation(activation)
    H0 = H_prev
    steps = []
    H = np.empty((n, T, h), dtype=np.result_type(X, H_prev, *params.values()))
    for t in range(T):
        H_prev, step_cache = _rnn_step(X[:, t], H_prev, params, act)
        H[:, t] = H_prev
        steps.append(step_cache)
    return H, {"steps": steps, "H_0": H0, "X": X, "params": params, "activation": act.name}


def rnn_backward(dH, cache: dict, dH_T=None):
    """Backpropagation through time for :func:`rnn_forward`.

    Parameters
    ----------
    dH : ndarray (n, T, h) or None
        Upstream gradient on every hidden state H_1 … H_T (e.g. from a loss on each output); ``None``
        means zeros (only ``dH_T`` flows in).
    cache : dict
        The cache returned by :func:`rnn_forward`.
    dH_T : ndarray (n, h), optional
        Extra gradient on the final state H_T (e.g. from a later segment); added to ``dH[:, -1]``.

    Returns
    -------
    dX : ndarray (n, T, d)
    dH_0 : ndarray (n, h)
        Gradient with respect to the initial state.
    grads : dict
        ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h`` (h,), summed over the T steps.
    """
    check_cache(cache, ("steps", "X", "H_0", "params", "activation"), "rnn_forward")
    X = cache["X"]
    n, T, d = X.shape
    h = cache["H_0"].shape[1]
    dH = upstream_or_zeros("dH", dH, (n, T, h), X.dtype)
    dH_next = upstream_or_zeros("dH_T", dH_T, (n, h), X.dtype)
    dX = np.zeros((n, T, d), dtype=np.result_type(X, dH))
    grads = {k: np.zeros_like(v, dtype=np.result_type(v, dH)) for k, v in cache["params"].items()}
    for t in reversed(range(T)):
        dX[:, t], dH_next, g = _rnn_step_backward(dH[:, t] + dH_next, cache["steps"][t])
        for k in grads:
            grads[k] += g[k]
    return dX, dH_next, grads


def _activation(name):
    act = get_activation(name)
    if act.name not in _RNN_ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {list(_RNN_ACTIVATIONS)} for an Elman RNN; got {act.name!r}."
        )
    return act
