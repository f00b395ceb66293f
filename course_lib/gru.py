"""Gated recurrent unit (GRU): a NumPy reference, forward and backward, in both conventions.

Row-vector convention: a minibatch ``X_t`` is ``(n, d)``, the hidden state ``H_t`` is ``(n, h)``.

Gates (``g`` is the gate activation, the logistic sigmoid by default)::

    R_t = g(X_t @ W_xr + H_{t-1} @ W_hr + b_r)                        reset gate
    Z_t = g(X_t @ W_xz + H_{t-1} @ W_hz + b_z)                        update gate

Candidate state (``f`` is the candidate activation, tanh by default), in one of two conventions:

* ``reset_after=False`` -- Cho et al. (2014), Keras ``reset_after=False``: the reset gate scales the
  previous state *before* the recurrent matrix product::

      H_tilde = f(X_t @ W_xh + (R_t ⊙ H_{t-1}) @ W_hh + b_h + b_hh_rec)

* ``reset_after=True`` -- PyTorch / cuDNN, Keras ``reset_after=True`` (the default here): the reset gate
  scales the recurrent term *after* the product, recurrent bias included::

      H_tilde = f(X_t @ W_xh + b_h + R_t ⊙ (H_{t-1} @ W_hh + b_hh_rec))

New state, in both conventions::

    H_t = Z_t ⊙ H_{t-1} + (1 - Z_t) ⊙ H_tilde

Parameters live in a dict: ``W_xr, W_xz, W_xh`` are ``(d, h)``; ``W_hr, W_hz, W_hh`` are ``(h, h)``;
``b_r, b_z, b_h, b_hh_rec`` are ``(h,)``. With ``reset_after=False`` the two candidate biases ``b_h`` and
``b_hh_rec`` are simply added, so only their sum matters.

Each forward function returns a cache that the matching backward function consumes (CS231n style).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.activations import ACTIVATIONS, get_activation
from course_lib.validation import (
    as_float_array,
    check_keys,
    check_sequence,
    check_shape,
    positive_int,
    state_or_zeros,
    upstream_or_zeros,
)

__all__ = [
    "GRU_PARAM_NAMES",
    "GRUConfig",
    "init_gru_params",
    "check_gru_params",
    "gru_step",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "state_jacobian_norms_by_lag",
]

GRU_PARAM_NAMES = ("W_xr", "W_hr", "b_r", "W_xz", "W_hz", "b_z", "W_xh", "W_hh", "b_h", "b_hh_rec")


@dataclass(frozen=True)
class GRUConfig:
    """Which GRU: where the reset gate acts, and which activations the gates and candidate use.

    Attributes:
        reset_after: True (default): ``H_tilde = f(X_t @ W_xh + b_h + R_t ⊙ (H_{t-1} @ W_hh + b_hh_rec))``
            as in PyTorch, cuDNN and Keras ``reset_after=True``. False: the reset gate acts before the
            product, ``H_tilde = f(X_t @ W_xh + (R_t ⊙ H_{t-1}) @ W_hh + b_h + b_hh_rec)`` as in Cho et al.
            (2014) and Keras ``reset_after=False``.
        gate_activation: name of the activation of ``R_t`` and ``Z_t`` (see ``course_lib.activations``),
            e.g. ``"sigmoid"`` or ``"hard_sigmoid_keras"``.
        candidate_activation: name of the activation of ``H_tilde``, e.g. ``"tanh"``.
    """

    reset_after: bool = True
    gate_activation: str = "sigmoid"
    candidate_activation: str = "tanh"

    def __post_init__(self):
        if not isinstance(self.reset_after, bool | np.bool_):
            raise TypeError(f"GRUConfig.reset_after must be True or False; got {self.reset_after!r}.")
        for field in ("gate_activation", "candidate_activation"):
            value = getattr(self, field)
            if not isinstance(value, str):
                raise TypeError(f"GRUConfig.{field} must be an activation name (str); got {value!r}.")
            if value not in ACTIVATIONS:
                raise ValueError(f"GRUConfig.{field} must be one of {sorted(ACTIVATIONS)}; got {value!r}.")


def _check_config(config) -> GRUConfig:
    if not isinstance(config, GRUConfig):
        raise TypeError(f"config must be a GRUConfig, got {type(config).__name__}")
    return config


def init_gru_params(
    d: int, h: int, config: GRUConfig = GRUConfig(), rng=None, scale: float | None = None, dtype=np.float64
) -> dict[str, np.ndarray]:
    """Random GRU parameters: weights uniform in ``[-scale, scale]``, biases zero.

    Args:
        d: input size (features per time step), >= 1.
        h: hidden size, >= 1.
        config: a ``GRUConfig``; the parameter shapes are the same in both conventions.
        rng: ``np.random.Generator``, an int seed, or None (fresh entropy).
        scale: half-width of the uniform range; default ``1 / sqrt(h)`` (PyTorch's choice).
        dtype: NumPy float dtype of the arrays, float64 by default.

    Returns:
        dict with ``W_xr, W_xz, W_xh`` of shape (d, h), ``W_hr, W_hz, W_hh`` of shape (h, h) and
        ``b_r, b_z, b_h, b_hh_rec`` of shape (h,).
    """
    _check_config(config)
    d, h = positive_int("d", d), positive_int("h", h)
    s = 1.0 / np.sqrt(h) if scale is None else float(scale)
    rng = np.random.default_rng(rng)
    params = {}
    for gate in ("r", "z", "h"):
        params[f"W_x{gate}"] = rng.uniform(-s, s, size=(d, h)).astype(dtype)
        params[f"W_h{gate}"] = rng.uniform(-s, s, size=(h, h)).astype(dtype)
        params[f"b_{gate}"] = np.zeros(h, dtype=dtype)
    params["b_hh_rec"] = np.zeros(h, dtype=dtype)
    return {name: params[name] for name in GRU_PARAM_NAMES}


def _check_params(params) -> tuple[dict[str, np.ndarray], int, int]:
    """Validate a GRU params dict; return (params as float arrays, d, h)."""
    check_keys("params", params, GRU_PARAM_NAMES, hint="init_gru_params(d, h) builds such a dict.")
    out = {}
    for name in GRU_PARAM_NAMES:
        ndim = 1 if name.startswith("b_") else 2
        out[name] = as_float_array(f"params['{name}']", params[name], ndim=ndim)
    d, h = out["W_xh"].shape
    for gate in ("r", "z", "h"):
        check_shape(f"params['W_x{gate}']", out[f"W_x{gate}"], (d, h), "(d, h)")
        check_shape(f"params['W_h{gate}']", out[f"W_h{gate}"], (h, h), "(h, h)")
        check_shape(f"params['b_{gate}']", out[f"b_{gate}"], (h,), "(h,)")
    check_shape("params['b_hh_rec']", out["b_hh_rec"], (h,), "(h,)")
    return out, d, h


def check_gru_params(params) -> tuple[int, int]:
    """Check a GRU params dict (keys, float dtypes, consistent shapes) and return ``(d, h)``."""
    _, d, h = _check_params(params)
    return d, h


def _gru_step(X_t, H_prev, params, config):
    """One GRU step without input checks (see ``gru_step``)."""
    gate = get_activation(config.gate_activation)
    cand = get_activation(config.candidate_activation)

    A_r = X_t @ params["W_xr"] + H_prev @ params["W_hr"] + params["b_r"]
    A_z = X_t @ params["W_xz"] + H_prev @ params["W_hz"] + params["b_z"]
    R_t = gate.f(A_r)
    Z_t = gate.f(A_z)
    cache = {"X_t": X_t, "H_prev": H_prev, "params": params, "config": config}
    if config.reset_after:
        S_t = H_prev @ params["W_hh"] + params["b_hh_rec"]  # recurrent term, reset afterwards
        A_h = X_t @ params["W_xh"] + params["b_h"] + R_t * S_t
        cache["S_t"] = S_t
    else:
        RH_t = R_t * H_prev  # previous state, reset before the product
        A_h = X_t @ params["W_xh"] + RH_t @ params["W_hh"] + params["b_h"] + params["b_hh_rec"]
        cache["RH_t"] = RH_t
    H_tilde = cand.f(A_h)
    H_t = Z_t * H_prev + (1.0 - Z_t) * H_tilde
    cache.update(A_r=A_r, A_z=A_z, A_h=A_h, R_t=R_t, Z_t=Z_t, H_tilde=H_tilde, H_t=H_t)
    return H_t, cache


def gru_step(X_t, H_prev, params, config: GRUConfig = GRUConfig()):
    """One GRU time step for a minibatch.

    Args:
        X_t: input at step t, shape (n, d).
        H_prev: previous hidden state H_{t-1}, shape (n, h); None means zeros.
        params: GRU parameter dict (see the module docstring).
        config: ``GRUConfig`` (convention and activations).

    Returns:
        H_t: new hidden state, shape (n, h).
        cache: dict for ``gru_step_backward``; holds the inputs and the named intermediates
            ``R_t, Z_t, H_tilde`` (n, h), their pre-activations ``A_r, A_z, A_h`` (n, h) and either
            ``S_t = H_{t-1} @ W_hh + b_hh_rec`` (reset_after) or ``RH_t = R_t ⊙ H_{t-1}`` (reset before).
    """
    config = _check_config(config)
    params, d, h = _check_params(params)
    X_t = as_float_array("X_t", X_t, ndim=2, what="(n, d)")
    check_shape("X_t", X_t, (None, d), what="(n, d)")
    H_prev = state_or_zeros("H_prev", H_prev, X_t.shape[0], h, np.result_type(X_t, params["W_hh"]))
    return _gru_step(X_t, H_prev, params, config)


def gru_step_backward(dH_t, cache):
    """Backward pass of one GRU step.

    Args:
        dH_t: gradient of the loss with respect to H_t, shape (n, h).
        cache: the cache returned by ``gru_step`` (or one entry of ``gru_forward``'s cache["steps"]).

    Returns:
        dX_t: gradient with respect to X_t, shape (n, d).
        dH_prev: gradient with respect to H_{t-1}, shape (n, h).
        grads: dict with the gradient of every parameter, same keys and shapes as ``params``.
    """
    if not isinstance(cache, dict) or "Z_t" not in cache:
        raise TypeError("cache must be the dict returned by gru_step")
    dH_t = as_float_array("dH_t", dH_t, ndim=2, what="(n, h)")
    check_shape("dH_t", dH_t, cache["H_t"].shape, "(n, h)")
    p, config = cache["params"], cache["config"]
    X_t, H_prev = cache["X_t"], cache["H_prev"]
    R_t, Z_t, H_tilde = cache["R_t"], cache["Z_t"], cache["H_tilde"]
    gate = get_activation(config.gate_activation)
    cand = get_activation(config.candidate_activation)

    # H_t = Z_t ⊙ H_prev + (1 - Z_t) ⊙ H_tilde
    dZ_t = dH_t * (H_prev - H_tilde)
    dH_tilde = dH_t * (1.0 - Z_t)
    dH_prev = dH_t * Z_t

    # H_tilde = f(A_h)
    dA_h = dH_tilde * cand.df(cache["A_h"])
    grads = {"W_xh": X_t.T @ dA_h, "b_h": dA_h.sum(axis=0)}
    dX_t = dA_h @ p["W_xh"].T
    if config.reset_after:
        # A_h = X_t @ W_xh + b_h + R_t ⊙ S_t,  S_t = H_prev @ W_hh + b_hh_rec
        dS_t = dA_h * R_t
        dR_t = dA_h * cache["S_t"]
        grads["W_hh"] = H_prev.T @ dS_t
        grads["b_hh_rec"] = dS_t.sum(axis=0)
        dH_prev += dS_t @ p["W_hh"].T
    else:
        # A_h = X_t @ W_xh + RH_t @ W_hh + b_h + b_hh_rec,  RH_t = R_t ⊙ H_prev
        dRH_t = dA_h @ p["W_hh"].T
        grads["W_hh"] = cache["RH_t"].T @ dA_h
        grads["b_hh_rec"] = dA_h.sum(axis=0)
        dR_t = dRH_t * H_prev
        dH_prev += dRH_t * R_t

    # R_t = g(A_r), Z_t = g(A_z),  A_? = X_t @ W_x? + H_prev @ W_h? + b_?
    for name, dG, A in (("r", dR_t, cache["A_r"]), ("z", dZ_t, cache["A_z"])):
        dA = dG * gate.df(A)
        grads[f"W_x{name}"] = X_t.T @ dA
        grads[f"W_h{name}"] = H_prev.T @ dA
        grads[f"b_{name}"] = dA.sum(axis=0)
        dX_t += dA @ p[f"W_x{name}"].T
        dH_prev += dA @ p[f"W_h{name}"].T
    return dX_t, dH_prev, {k: grads[k] for k in GRU_PARAM_NAMES}


def gru_forward(X, params, H_0=None, config: GRUConfig = GRUConfig()):
    """Run a GRU over a whole minibatch of sequences.

    Args:
        X: inputs, shape (n, T, d) with T >= 1.
        params: GRU parameter dict (see the module docstring).
        H_0: initial hidden state, shape (n, h); zeros when None.
        config: ``GRUConfig`` (convention and activations).

    Returns:
        H: hidden states H_1 ... H_T, shape (n, T, h); the final state is ``H[:, -1]``.
        cache: dict for ``gru_backward`` with ``"steps"`` (one ``gru_step`` cache per time step) and,
            for inspection and plots, the gate and candidate sequences ``"R"``, ``"Z"``, ``"H_tilde"``,
            each (n, T, h).
    """
    config = _check_config(config)
    params, d, h = _check_params(params)
    X = check_sequence(X, d)
    n, T, _ = X.shape
    H_0 = state_or_zeros("H_0", H_0, n, h, np.result_type(X, params["W_hh"]))

    H_t, steps, states = H_0, [], []
    for t in range(T):
        H_t, step_cache = _gru_step(X[:, t], H_t, params, config)
        steps.append(step_cache)
        states.append(H_t)
    H = np.stack(states, axis=1)
    cache = {
        "steps": steps,
        "X": X,
        "H_0": H_0,
        "params": params,
        "config": config,
        "R": np.stack([c["R_t"] for c in steps], axis=1),
        "Z": np.stack([c["Z_t"] for c in steps], axis=1),
        "H_tilde": np.stack([c["H_tilde"] for c in steps], axis=1),
    }
    return H, cache


def gru_backward(dH, cache, dH_T=None):
    """Backpropagation through time for ``gru_forward``.

    Args:
        dH: upstream gradients on every hidden state H_1 ... H_T, shape (n, T, h); None means zeros
            (e.g. when only the final state feeds the loss, pass it as ``dH_T``).
        cache: the cache returned by ``gru_forward``.
        dH_T: extra gradient on the final state H_T, shape (n, h), or None.

    Returns:
        dX: gradient with respect to X, shape (n, T, d).
        dH_0: gradient with respect to the initial state H_0, shape (n, h).
        grads: dict with the gradient of every parameter, same keys and shapes as ``params``.
    """
    if not isinstance(cache, dict) or "steps" not in cache:
        raise TypeError("cache must be the dict returned by gru_forward")
    steps, X = cache["steps"], cache["X"]
    n, T, d = X.shape
    h = cache["H_0"].shape[1]
    dH = upstream_or_zeros("dH", dH, (n, T, h), X.dtype)
    dH_next = upstream_or_zeros("dH_T", dH_T, (n, h), X.dtype)

    dX = np.zeros((n, T, d), dtype=np.result_type(X, dH))
    grads = {k: np.zeros(v.shape, dtype=np.result_type(v, dH)) for k, v in cache["params"].items()}
    for t in reversed(range(T)):
        dX[:, t], dH_next, step_grads = gru_step_backward(dH[:, t] + dH_next, steps[t])
        for k in grads:
            grads[k] += step_grads[k]
    return dX, dH_next, grads


def state_jacobian_norms_by_lag(X, params, config: GRUConfig = GRUConfig(), H_0=None, ord: int | str = 2):
    """Norms ``||∂H_T / ∂H_{T-k}||`` of a GRU for every lag ``k = 0 … T`` and every example.

    ``∂H_T / ∂H_t`` counts every path from ``H_t`` to ``H_T``: the direct one through the update gates
    (``diag(Z_{t+1} ⊙ … ⊙ Z_T)``) and those through the gates and candidates. It is the ``dH_0`` of
    :func:`gru_backward` for ``t = 0`` when the upstream gradient is a unit vector on ``H_T``.

    How (as ``course_lib.memory.cell_jacobian_norms_by_lag``): each example is repeated ``h`` times and
    copy ``j`` back-propagates the unit vector ``e_j`` from ``H_T``, so after the backward step of step
    ``t + 1`` copy ``j`` holds row ``j`` of the Jacobian.

    Args:
        X: input sequences, shape (n, T, d).
        params: GRU parameters (see the module docstring); config: ``GRUConfig``.
        H_0: initial state (n, h), zeros when None.
        ord: matrix norm, 2 (spectral, the default) or "fro".

    Returns:
        norms, shape (n, T + 1): ``norms[b, k] = ||∂H_T / ∂H_{T-k}||`` for example ``b``; ``norms[:, 0]``
        is the norm of the identity.
    """
    if ord not in (2, "fro"):
        raise ValueError(f"ord must be 2 or 'fro'; got {ord!r}.")
    config = _check_config(config)
    params, d, h = _check_params(params)
    X = check_sequence(X, d)
    n, T, _ = X.shape
    H_0 = state_or_zeros("H_0", H_0, n, h, np.result_type(X, params["W_hh"]))
    _, cache = gru_forward(np.repeat(X, h, axis=0), params, np.repeat(H_0, h, axis=0), config=config)
    dH = np.tile(np.eye(h, dtype=X.dtype), (n, 1))  # (n*h, h): copy j of each example carries e_j
    norms = np.empty((n, T + 1))
    norms[:, 0] = np.linalg.norm(np.eye(h), ord=ord)
    for k in range(1, T + 1):
        _, dH, _ = gru_step_backward(dH, cache["steps"][T - k])
        norms[:, k] = np.linalg.norm(dH.reshape(n, h, h), ord=ord, axis=(1, 2))
    return norms
