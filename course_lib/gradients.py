"""Gradients through time: Jacobian products, the Pascanu bound, the one-unit "cliff", clipping, truncation.

The Elman RNN of :mod:`course_lib.rnn` (row-vector convention)::

    A_t = X_t @ W_xh + H_{t-1} @ W_hh + b_h,     H_t = f(A_t)

has, for one example, the step Jacobian (numerator layout: row i is the gradient of ``H_t[i]``)::

    J_t = dH_t / dH_{t-1} = diag(f'(A_t)) @ W_hh.T                        (h, h)

and the gradient that reaches ``H_t`` from ``H_T`` is carried by the product
``dH_T / dH_t = J_T @ J_{T-1} @ ... @ J_{t+1}``. Since ``||diag(f'(A))|| <= gamma`` (``gamma = 1`` for tanh
and relu, ``1/4`` for the sigmoid) and ``||W_hh.T||_2 = lambda_1`` (the largest singular value),
``||dH_T / dH_t||_2 <= (gamma * lambda_1) ** (T - t)`` (Pascanu, Mikolov & Bengio, 2013).

What is here:

* :func:`step_jacobians`, :func:`jacobian_product`, :func:`jacobian_norms_by_lag` read a forward cache of
  :func:`course_lib.rnn.rnn_forward` and return Jacobians and their norms against the lag ``T - t``.
* :func:`matrix_with_top_singular_value`, :func:`pascanu_bound`, :data:`DERIVATIVE_BOUND`.
* :func:`cliff_forward`, :func:`cliff_loss`, :func:`cliff_grad`: the one-unit model
  ``x_t = w * sigmoid(x_{t-1}) + b`` of Pascanu et al. (their Fig. 6), vectorised over grids of ``(w, b)``.
* :func:`global_norm`, :func:`clip_by_global_norm`, :func:`clip_by_value` on lists or dicts of arrays.
* :func:`truncated_rnn_backward` (k-step truncated BPTT) and :func:`bptt_contributions` (which term of the
  full gradient comes from which loss step and which time step).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from .activations import get_activation, sigmoid
from .rnn import RNN_PARAM_NAMES, check_rnn_params, rnn_step_backward
from .validation import (
    as_float_array,
    check_cache,
    check_sequence,
    check_shape,
    positive_int,
    state_or_zeros,
)

__all__ = [
    "DERIVATIVE_BOUND",
    "elman_preactivations",
    "step_jacobians",
    "jacobian_product",
    "jacobian_norms_by_lag",
    "matrix_with_top_singular_value",
    "pascanu_bound",
    "cliff_forward",
    "cliff_loss",
    "cliff_grad",
    "global_norm",
    "clip_by_global_norm",
    "clip_by_value",
    "truncated_rnn_backward",
    "bptt_contributions",
]

#: gamma = sup |f'(x)|, the bound on the activation's derivative used by Pascanu et al. (2013).
DERIVATIVE_BOUND = {"tanh": 1.0, "sigmoid": 0.25, "relu": 1.0, "linear": 1.0}


# ----------------------------------------------------------------------------------------------------------
# Jacobian products
# ----------------------------------------------------------------------------------------------------------
_FORWARD_CACHE_KEYS = ("steps", "X", "H_0", "params", "activation")


def _check_cache(cache) -> None:
    check_cache(cache, _FORWARD_CACHE_KEYS, "course_lib.rnn.rnn_forward")


def elman_preactivations(X, params, H_0=None, activation: str = "tanh") -> np.ndarray:
    """Pre-activations ``A_t = X_t @ W_xh + H_{t-1} @ W_hh + b_h`` of an Elman RNN with *any* activation.

    :func:`course_lib.rnn.rnn_forward` allows tanh and relu only; this loop also runs the sigmoid (or any
    name known to :func:`course_lib.activations.get_activation`), which the Pascanu bound compares.

    Parameters
    ----------
    X : ndarray (n, T, d)
    params : dict
        ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h`` (h,).
    H_0 : ndarray (n, h) or None (zeros)
    activation : str

    Returns
    -------
    A : ndarray (n, T, h)
    """
    d, h = check_rnn_params(params)  # keys, float dtypes and shapes, with messages naming the key
    W_xh, W_hh, b_h = (np.asarray(params[key]) for key in RNN_PARAM_NAMES)
    X = check_sequence(X, d)
    n, T, _ = X.shape
    H = state_or_zeros("H_0", H_0, n, h, np.float64)
    f = get_activation(activation).f
    A = np.empty((n, T, h))
    for t in range(T):
        A[:, t] = X[:, t] @ W_xh + H @ W_hh + b_h  # A_t
        H = f(A[:, t])  # H_t
    return A


def _preacts_of(cache):
    _check_cache(cache)
    A = np.stack([step["A_t"] for step in cache["steps"]], axis=1)
    return A, cache["params"]["W_hh"], cache["activation"]


def step_jacobians(cache=None, *, A=None, W_hh=None, activation: str = "tanh") -> np.ndarray:
    """All step Jacobians ``J_t = dH_t / dH_{t-1} = diag(f'(A_t)) @ W_hh.T`` of a forward pass.

    Parameters
    ----------
    cache : dict
        The cache of :func:`course_lib.rnn.rnn_forward` for inputs ``X`` of shape ``(n, T, d)``; or, instead,
    A, W_hh, activation : keyword arguments
        pre-activations ``A`` (n, T, h) (e.g. from :func:`elman_preactivations`), ``W_hh`` (h, h) and the
        activation's name.

    Returns
    -------
    J : ndarray (n, T, h, h)
        ``J[b, t - 1]`` is the Jacobian of ``H_t`` with respect to ``H_{t-1}`` for example ``b``
        (``t = 1 … T``), in numerator layout: ``J[b, t - 1, i, j] = dH_t[b, i] / dH_{t-1}[b, j]``.
    """
    if cache is not None:
        A, W_hh, activation = _preacts_of(cache)
    elif A is None or W_hh is None:
        raise TypeError("step_jacobians needs either a forward cache or the keyword arguments A and W_hh.")
    A = as_float_array("A", A, ndim=3, what="(n, T, h)")
    W_hh = as_float_array("W_hh", W_hh, ndim=2, what="(h, h)")
    check_shape("W_hh", W_hh, (A.shape[2], A.shape[2]), what="(h, h)")
    D = get_activation(activation).df(A)  # (n, T, h): f'(A_t)
    return D[..., :, None] * W_hh.T[None, None, :, :]


def jacobian_product(cache, t: int) -> np.ndarray:
    """``dH_T / dH_t = J_T @ J_{T-1} @ … @ J_{t+1}`` for every example of a forward pass.

    Parameters
    ----------
    cache : dict
        The cache of :func:`course_lib.rnn.rnn_forward`, inputs ``(n, T, d)``.
    t : int
        The earlier step, ``0 <= t <= T`` (``t = 0`` is the initial state ``H_0``; ``t = T`` gives ``I``).

    Returns
    -------
    P : ndarray (n, h, h)
        ``P[b, i, j] = dH_T[b, i] / dH_t[b, j]``.
    """
    J = step_jacobians(cache)
    n, T, h, _ = J.shape
    if isinstance(t, bool) or not isinstance(t, int | np.integer) or not 0 <= t <= T:
        raise ValueError(f"t must be an int in [0, T] = [0, {T}]; got {t!r}.")
    P = np.broadcast_to(np.eye(h), (n, h, h)).copy()
    for s in range(T, t, -1):  # s = T, T-1, …, t+1: append J_s on the right
        P = P @ J[:, s - 1]
    return P


def jacobian_norms_by_lag(
    cache=None, ord: int | str = 2, *, A=None, W_hh=None, activation: str = "tanh"
) -> np.ndarray:
    """Norms ``||dH_T / dH_{T-k}||`` for every lag ``k = 0 … T`` and every example.

    Parameters
    ----------
    cache : dict
        The cache of :func:`course_lib.rnn.rnn_forward`, inputs ``(n, T, d)``; or pass ``A`` (n, T, h),
        ``W_hh`` and ``activation`` by keyword as in :func:`step_jacobians`.
    ord : {2, "fro"}
        Matrix norm: 2 is the spectral norm (largest singular value, the one in the Pascanu bound),
        ``"fro"`` the Frobenius norm.

    Returns
    -------
    norms : ndarray (n, T + 1)
        ``norms[b, k]`` for lag ``k``; ``norms[:, 0]`` is the norm of the identity (1 for ``ord=2``).
    """
    if ord not in (2, "fro"):
        raise ValueError(f"ord must be 2 or 'fro'; got {ord!r}.")
    J = step_jacobians(cache, A=A, W_hh=W_hh, activation=activation)
    n, T, h, _ = J.shape
    P = np.broadcast_to(np.eye(h), (n, h, h)).copy()
    norms = np.empty((n, T + 1))
    norms[:, 0] = np.linalg.norm(P, ord=ord, axis=(1, 2))
    for k in range(1, T + 1):
        P = P @ J[:, T - k]  # J_{T-k+1} is J[:, T-k]
        norms[:, k] = np.linalg.norm(P, ord=ord, axis=(1, 2))
    return norms


def matrix_with_top_singular_value(h: int, lambda_1: float, rng=None, kind: str = "orthogonal") -> np.ndarray:
    """A random ``(h, h)`` recurrent matrix whose largest singular value is exactly ``lambda_1``.

    Parameters
    ----------
    h : int
        Hidden size.
    lambda_1 : float
        The largest singular value wanted (> 0).
    rng : numpy.random.Generator or int or None
    kind : {"orthogonal", "gaussian"}
        ``"orthogonal"``: ``lambda_1 * Q`` with ``Q`` a random orthogonal matrix, so *every* singular value
        and every eigenvalue modulus is ``lambda_1`` (the bound is tight when ``f' = 1``);
        ``"gaussian"``: a Gaussian matrix rescaled so its largest singular value is ``lambda_1`` (its
        spectral radius is then about ``lambda_1 / 2``).

    Returns
    -------
    W_hh : ndarray (h, h)
    """
    h = positive_int("h", h)
    if not np.isfinite(lambda_1) or lambda_1 <= 0:
        raise ValueError(f"lambda_1 must be a positive number; got {lambda_1!r}.")
    rng = np.random.default_rng(rng)
    G = rng.standard_normal((h, h))
    if kind == "orthogonal":
        Q, R = np.linalg.qr(G)
        Q = Q * np.sign(np.diag(R))  # uniform (Haar) orthogonal matrix
        return float(lambda_1) * Q
    if kind == "gaussian":
        return float(lambda_1) * G / np.linalg.norm(G, ord=2)
    raise ValueError(f"kind must be 'orthogonal' or 'gaussian'; got {kind!r}.")


def pascanu_bound(lambda_1: float, lags, gamma: float = 1.0) -> np.ndarray:
    """The upper bound ``(gamma * lambda_1) ** lag`` on ``||dH_T / dH_{T-lag}||_2``.

    ``lags``: array of non-negative lags (any shape); returns an array of the same shape.
    ``gamma``: the bound on ``|f'|`` (see :data:`DERIVATIVE_BOUND`).
    """
    lags = np.asarray(lags, dtype=np.float64)
    if np.any(lags < 0):
        raise ValueError("lags must be non-negative.")
    return (float(gamma) * float(lambda_1)) ** lags


# ----------------------------------------------------------------------------------------------------------
# the one-unit "cliff" of Pascanu et al. (2013), Fig. 6
# ----------------------------------------------------------------------------------------------------------
def cliff_forward(w, b, x_0: float = 0.5, T: int = 50) -> np.ndarray:
    """Run ``x_t = w * sigmoid(x_{t-1}) + b`` for ``T`` steps from ``x_0``.

    ``w`` and ``b`` are numbers or arrays that broadcast together (e.g. a grid); returns ``xs`` of shape
    ``(T + 1, *broadcast_shape)`` with ``xs[0] = x_0`` and ``xs[T]`` the final state.
    """
    w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
    T = positive_int("T", T)
    xs = np.empty((T + 1, *w.shape))
    xs[0] = x_0
    for t in range(1, T + 1):
        xs[t] = w * sigmoid(xs[t - 1]) + b
    return xs


def cliff_loss(w, b, x_0: float = 0.5, T: int = 50, target: float = 0.7) -> np.ndarray:
    """Pascanu et al.'s error ``E = (sigmoid(x_T) - target) ** 2`` of the one-unit model.

    ``w`` and ``b``: numbers or arrays that broadcast together (e.g. two ``(n_b, n_w)`` grids from
    ``np.meshgrid``); returns ``E`` with their broadcast shape.
    """
    return (sigmoid(cliff_forward(w, b, x_0, T)[-1]) - target) ** 2


def cliff_grad(w, b, x_0: float = 0.5, T: int = 50, target: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """``(dE/dw, dE/db)`` of :func:`cliff_loss` by backpropagation through time (broadcast over w, b).

    Backward recursion, with ``delta_t = dE/dx_t``::

        delta_T = 2 (sigmoid(x_T) - target) sigmoid'(x_T)
        dE/dw += delta_t * sigmoid(x_{t-1});   dE/db += delta_t
        delta_{t-1} = delta_t * w * sigmoid'(x_{t-1})
    """
    xs = cliff_forward(w, b, x_0, T)
    w = np.broadcast_to(np.asarray(w, dtype=np.float64), xs.shape[1:])
    s_T = sigmoid(xs[-1])
    delta = 2.0 * (s_T - target) * s_T * (1.0 - s_T)
    dw = np.zeros_like(delta)
    db = np.zeros_like(delta)
    for t in range(T, 0, -1):
        s_prev = sigmoid(xs[t - 1])
        dw += delta * s_prev
        db += delta
        delta = delta * w * s_prev * (1.0 - s_prev)
    return dw, db


# ----------------------------------------------------------------------------------------------------------
# clipping
# ----------------------------------------------------------------------------------------------------------
def _grad_list(name: str, grads) -> tuple[list[np.ndarray], list | None]:
    """Arrays of a list/tuple/dict of gradients (and the dict's keys); refuse one-shot iterators."""
    if isinstance(grads, Iterator):
        raise TypeError(
            f"{name} is a one-shot iterator (e.g. a generator such as model.parameters()); it would be used "
            f"up after one pass and the second pass would see nothing. Pass a list: list({name})."
        )
    if isinstance(grads, Mapping):
        keys = list(grads)
        return [as_float_array(f"{name}[{k!r}]", grads[k]) for k in keys], keys
    if isinstance(grads, np.ndarray) or not isinstance(grads, Sequence):
        raise TypeError(f"{name} must be a list, tuple or dict of arrays; got {type(grads).__name__}.")
    return [as_float_array(f"{name}[{i}]", g) for i, g in enumerate(grads)], None


def _pack(arrays: list[np.ndarray], keys: list | None):
    return dict(zip(keys, arrays)) if keys is not None else arrays


def global_norm(grads) -> float:
    """``sqrt(sum of squares of every entry of every array)``: the norm of all gradients as one vector.

    ``grads``: a list, tuple or dict of arrays of any shapes.
    """
    arrays, _ = _grad_list("grads", grads)
    return _norm_of_all(arrays)


def _norm_of_all(arrays: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in arrays)))


def clip_by_global_norm(grads, max_norm: float, eps: float = 1e-6):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    Every array is multiplied by the same factor ``min(1, max_norm / (norm + eps))`` (PyTorch's
    ``torch.nn.utils.clip_grad_norm_`` uses the same formula), so the direction of the whole gradient is kept.
    Returns ``(clipped, norm)``: new arrays in a list or dict like ``grads``, and the norm before clipping.
    """
    arrays, keys = _grad_list("grads", grads)
    if not np.isfinite(max_norm) or max_norm <= 0:
        raise ValueError(f"max_norm must be a positive number; got {max_norm!r}.")
    norm = _norm_of_all(arrays)
    scale = min(1.0, max_norm / (norm + eps))
    return _pack([g * scale for g in arrays], keys), norm


def clip_by_value(grads, clip_value: float):
    """Clip every entry to ``[-clip_value, clip_value]`` (like ``torch.nn.utils.clip_grad_value_``).

    Entries are clipped independently, so the direction of the gradient generally changes.
    Returns new arrays in a list or dict like ``grads``.
    """
    arrays, keys = _grad_list("grads", grads)
    if not np.isfinite(clip_value) or clip_value <= 0:
        raise ValueError(f"clip_value must be a positive number; got {clip_value!r}.")
    return _pack([np.clip(g, -clip_value, clip_value) for g in arrays], keys)


# ----------------------------------------------------------------------------------------------------------
# truncated BPTT
# ----------------------------------------------------------------------------------------------------------
def _upstream_dH(dH, cache) -> np.ndarray:
    _check_cache(cache)
    X = cache["X"]
    n, T, _ = X.shape
    h = cache["H_0"].shape[1]
    dH = as_float_array("dH", dH, ndim=3, what="(n, T, h)")
    check_shape("dH", dH, (n, T, h), what="(n, T, h)")
    return dH


def truncated_rnn_backward(dH, cache, k: int):
    """k-step truncated backpropagation through time (BPTT(k) of Williams & Peng, 1990).

    The loss term at step ``s`` (upstream gradient ``dH[:, s]``) is propagated back through the steps
    ``s, s-1, …, s-k+1`` only; the rest of its path (through ``H_{s-k}`` and earlier) is cut. With
    ``k >= T`` this equals full BPTT (:func:`course_lib.rnn.rnn_backward`). Cost ``O(T k)`` step backwards.

    Parameters
    ----------
    dH : ndarray (n, T, h)
        Upstream gradients on every hidden state (a loss term per step).
    cache : dict
        The cache of :func:`course_lib.rnn.rnn_forward`.
    k : int
        Truncation length, ``k >= 1``.

    Returns
    -------
    dX : ndarray (n, T, d)
    grads : dict
        ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h`` (h,).
    """
    dH = _upstream_dH(dH, cache)
    k = positive_int("k", k)
    n, T, _ = dH.shape
    dX = np.zeros_like(cache["X"], dtype=np.result_type(cache["X"], dH))
    grads = {key: np.zeros_like(v, dtype=np.result_type(v, dH)) for key, v in cache["params"].items()}
    for s in range(T):
        if not np.any(dH[:, s]):
            continue
        delta = dH[:, s]
        for t in range(s, max(s - k, -1), -1):  # t = s, s-1, …, s-k+1 (and not below 0)
            dX_t, delta, g = rnn_step_backward(delta, cache["steps"][t])
            dX[:, t] += dX_t
            for key in grads:
                grads[key] += g[key]
    return dX, grads


def bptt_contributions(dH, cache, param: str = "W_hh") -> np.ndarray:
    """Split the full BPTT gradient of one parameter into its terms, one per (loss step, time step).

    The gradient of ``L = sum_s L_s`` with respect to a shared parameter is a double sum: loss term ``L_s``
    reaches the copy of the parameter used at step ``t <= s`` through ``dH_s / dH_t``. This returns the
    Frobenius norm of every term.

    Parameters
    ----------
    dH : ndarray (n, T, h)
        Upstream gradients ``dL_s / dH_s`` on every hidden state.
    cache : dict
        The cache of :func:`course_lib.rnn.rnn_forward`.
    param : {"W_hh", "W_xh", "b_h"}

    Returns
    -------
    C : ndarray (T, T)
        ``C[s, t]`` (0-based steps): norm of the contribution of loss step ``s`` through time step ``t``;
        zero above the diagonal (``t > s``). Full BPTT sums all terms (as matrices, not norms); truncation
        to ``k`` steps keeps only the band ``s - k < t <= s``.
    """
    dH = _upstream_dH(dH, cache)
    if param not in cache["params"]:
        raise ValueError(f"param must be one of {sorted(cache['params'])}; got {param!r}.")
    T = dH.shape[1]
    C = np.zeros((T, T))
    for s in range(T):
        delta = dH[:, s]
        for t in range(s, -1, -1):
            _, delta, g = rnn_step_backward(delta, cache["steps"][t])
            C[s, t] = np.linalg.norm(g[param])
    return C
