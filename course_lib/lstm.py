"""The LSTM cell in NumPy, with the historical variants as switches: forward and backward (BPTT).

Row-vector convention (the book's): ``X_t`` is ``(n, d)``, ``H_t`` and ``C_t`` are ``(n, h)``; σ is the gate
activation, g the candidate activation and φ the output activation (σ = sigmoid, g = φ = tanh by default)::

    I_t     = σ(X_t @ W_xi + H_{t-1} @ W_hi + b_i  [+ p_i ⊙ C_{t-1}])     input gate
    F_t     = σ(X_t @ W_xf + H_{t-1} @ W_hf + b_f  [+ p_f ⊙ C_{t-1}])     forget gate
    C_tilde = g(X_t @ W_xc + H_{t-1} @ W_hc + b_c)                         candidate memory
    C_t     = F_t ⊙ C_{t-1} + I_t ⊙ C_tilde                                memory cell
    O_t     = σ(X_t @ W_xo + H_{t-1} @ W_ho + b_o  [+ p_o ⊙ C_t])         output gate
    H_t     = O_t ⊙ φ(C_t)                                                 hidden state

Switches (:class:`LSTMConfig`):

* ``forget_gate=False`` — the original LSTM of Hochreiter & Schmidhuber (1997): no forget gate,
  ``C_t = C_{t-1} + I_t ⊙ C_tilde`` (the cache then holds ``F_t`` = ones; no ``W_xf, W_hf, b_f``).
* ``peepholes=True`` — Gers & Schmidhuber (2000): diagonal peephole weights ``p_i, p_f`` (vectors (h,))
  look at ``C_{t-1}``, ``p_o`` looks at the *new* cell ``C_t`` (the bracketed terms above).
* ``cifg=True`` — coupled input and forget gates: ``I_t = 1 − F_t`` (no ``W_xi, W_hi, b_i``, no ``p_i``).
* ``gate_activation``, ``candidate_activation``, ``output_activation`` — any name of
  :mod:`course_lib.activations` (e.g. ``"hard_sigmoid_keras"`` gates, ``"linear"`` output).

Parameters are a dict: ``W_x?`` (d, h), ``W_h?`` (h, h), ``b_?`` (h,) for ? in i, f, o, c, and ``p_i, p_f,
p_o`` (h,) with peepholes; :func:`lstm_param_names` lists the keys a configuration needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS, get_activation
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
    "LSTMConfig",
    "lstm_gates",
    "lstm_param_names",
    "init_lstm_params",
    "lstm_step",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "check_lstm_params",
]


@dataclass(frozen=True)
class LSTMConfig:
    """Which LSTM variant to run.

    Attributes
    ----------
    forget_gate : bool, default True
        False gives the 1997 LSTM: ``C_t = C_{t-1} + I_t ⊙ C_tilde``.
    peepholes : bool, default False
        Add diagonal peephole terms ``p_i ⊙ C_{t-1}``, ``p_f ⊙ C_{t-1}``, ``p_o ⊙ C_t``.
    cifg : bool, default False
        Coupled input–forget gate ``I_t = 1 − F_t`` (needs ``forget_gate=True``).
    gate_activation, candidate_activation, output_activation : str
        Activation names (see :mod:`course_lib.activations`); defaults sigmoid, tanh, tanh.
    """

    forget_gate: bool = True
    peepholes: bool = False
    cifg: bool = False
    gate_activation: str = "sigmoid"
    candidate_activation: str = "tanh"
    output_activation: str = "tanh"

    def __post_init__(self):
        for field in ("forget_gate", "peepholes", "cifg"):
            if not isinstance(getattr(self, field), bool | np.bool_):
                raise TypeError(f"LSTMConfig.{field} must be True or False; got {getattr(self, field)!r}.")
        for field in ("gate_activation", "candidate_activation", "output_activation"):
            value = getattr(self, field)
            if not isinstance(value, str) or value not in ACTIVATIONS:
                raise ValueError(
                    f"LSTMConfig.{field} must be one of {sorted(ACTIVATIONS)}; got {value!r}."
                )
        if self.cifg and not self.forget_gate:
            raise ValueError(
                "LSTMConfig(cifg=True, forget_gate=False) is contradictory: the coupled gate sets "
                "I_t = 1 - F_t, so it needs the forget gate."
            )


def lstm_gates(config: LSTMConfig = LSTMConfig()) -> tuple[str, ...]:
    """The gates with their own weights under ``config``, among ``("i", "f", "o", "c")`` ("c" = candidate)."""
    _check_config(config)
    gates = []
    if not config.cifg:
        gates.append("i")
    if config.forget_gate:
        gates.append("f")
    return (*gates, "o", "c")


def lstm_param_names(config: LSTMConfig = LSTMConfig()) -> tuple[str, ...]:
    """The keys a params dict needs under ``config`` (12 for the standard LSTM, 15 with peepholes)."""
    names = []
    for g in lstm_gates(config):
        names += [f"W_x{g}", f"W_h{g}", f"b_{g}"]
    if config.peepholes:
        names += [f"p_{g}" for g in lstm_gates(config) if g in ("i", "f", "o")]
    return tuple(names)


def init_lstm_params(
    d: int, h: int, config: LSTMConfig = LSTMConfig(), rng=None, forget_bias: float = 0.0,
    scale: float | None = None, dtype=np.float64,
) -> dict:
    """Random LSTM parameters for ``config``.

    Parameters
    ----------
    d, h : int
        Input size and hidden size.
    config : LSTMConfig
    rng : numpy.random.Generator or int or None
        Random generator or seed (``None``: fresh entropy).
    forget_bias : float
        Initial value of every entry of ``b_f`` (Jozefowicz et al. 2015 recommend 1.0; Keras'
        ``unit_forget_bias=True`` does this). Must be 0 when there is no forget gate.
    scale : float, optional
        Weights and peepholes are drawn from U(−scale, scale); default ``1 / sqrt(h)`` (PyTorch's).
    dtype : numpy dtype, default float64

    Returns
    -------
    dict
        ``W_x?`` (d, h), ``W_h?`` (h, h), ``b_?`` (h,) zeros except ``b_f``, and ``p_?`` (h,) with peepholes.
    """
    d, h = positive_int("d", d), positive_int("h", h)
    _check_config(config)
    if forget_bias != 0.0 and not config.forget_gate:
        raise ValueError(f"forget_bias={forget_bias!r} but config has no forget gate (forget_gate=False).")
    rng = np.random.default_rng(rng)
    s = 1.0 / np.sqrt(h) if scale is None else float(scale)
    params = {}
    for g in lstm_gates(config):
        params[f"W_x{g}"] = rng.uniform(-s, s, size=(d, h)).astype(dtype)
        params[f"W_h{g}"] = rng.uniform(-s, s, size=(h, h)).astype(dtype)
        params[f"b_{g}"] = np.full(h, forget_bias if g == "f" else 0.0, dtype=dtype)
    for name in lstm_param_names(config):
        if name.startswith("p_"):
            params[name] = rng.uniform(-s, s, size=h).astype(dtype)
    return params


# ----------------------------------------------------------------------------------------------------------
# one step
# ----------------------------------------------------------------------------------------------------------
def lstm_step(X_t, H_prev, C_prev, params: dict, config: LSTMConfig = LSTMConfig()):
    """One LSTM step (equations in the module docstring).

    Parameters
    ----------
    X_t : ndarray (n, d)
        Inputs at step t.
    H_prev, C_prev : ndarray (n, h) or None
        Previous hidden state H_{t-1} and memory cell C_{t-1}; ``None`` means zeros.
    params : dict
        Exactly the keys :func:`lstm_param_names` gives for ``config``.
    config : LSTMConfig

    Returns
    -------
    H_t, C_t : ndarray (n, h)
        New hidden state and memory cell.
    cache : dict
        Named entries ``I_t, F_t, O_t, C_tilde, C_t, H_t`` (n, h) (``F_t`` is ones without a forget gate;
        ``I_t = 1 − F_t`` with CIFG), the pre-activations ``A_i, A_f, A_o, A_c`` (``None`` for an absent
        gate), ``X_t, H_prev, C_prev``, ``params`` and ``config``: what :func:`lstm_step_backward` needs.
    """
    params, d, h = _lstm_params(params, config)
    X_t = as_float_array("X_t", X_t, ndim=2, what="(n, d)")
    check_shape("X_t", X_t, (None, d), what="(n, d)")
    H_prev = state_or_zeros("H_prev", H_prev, X_t.shape[0], h, X_t.dtype)
    C_prev = state_or_zeros("C_prev", C_prev, X_t.shape[0], h, X_t.dtype)
    return _lstm_step(X_t, H_prev, C_prev, params, config)


def _lstm_step(X_t, H_prev, C_prev, p, config):
    sig = get_activation(config.gate_activation).f
    g = get_activation(config.candidate_activation).f
    phi = get_activation(config.output_activation).f

    def affine(k):  # X_t @ W_xk + H_{t-1} @ W_hk + b_k
        return X_t @ p[f"W_x{k}"] + H_prev @ p[f"W_h{k}"] + p[f"b_{k}"]

    A_i = A_f = None
    if config.forget_gate:
        A_f = affine("f") + (p["p_f"] * C_prev if config.peepholes else 0.0)
        F_t = sig(A_f)
    else:
        F_t = np.ones_like(C_prev)  # 1997 LSTM: the cell is never erased
    if config.cifg:
        I_t = 1.0 - F_t
    else:
        A_i = affine("i") + (p["p_i"] * C_prev if config.peepholes else 0.0)
        I_t = sig(A_i)
    A_c = affine("c")
    C_tilde = g(A_c)
    C_t = F_t * C_prev + I_t * C_tilde if config.forget_gate else C_prev + I_t * C_tilde
    A_o = affine("o") + (p["p_o"] * C_t if config.peepholes else 0.0)  # the output peephole sees C_t
    O_t = sig(A_o)
    phi_C_t = phi(C_t)
    H_t = O_t * phi_C_t
    cache = {
        "X_t": X_t, "H_prev": H_prev, "C_prev": C_prev,
        "I_t": I_t, "F_t": F_t, "O_t": O_t, "C_tilde": C_tilde, "C_t": C_t, "phi_C_t": phi_C_t, "H_t": H_t,
        "A_i": A_i, "A_f": A_f, "A_o": A_o, "A_c": A_c,
        "params": p, "config": config,
    }
    return H_t, C_t, cache


def lstm_step_backward(dH_t, dC_t, cache: dict):
    """Backward pass of :func:`lstm_step`.

    Parameters
    ----------
    dH_t : ndarray (n, h)
        Gradient of the loss with respect to H_t.
    dC_t : ndarray (n, h) or None
        Gradient with respect to C_t arriving from the *next* step (not through H_t); ``None`` = zeros.
    cache : dict
        The cache returned by :func:`lstm_step`.

    Returns
    -------
    dX_t : ndarray (n, d)
    dH_prev, dC_prev : ndarray (n, h)
    grads : dict
        One gradient per key of ``params``, same shapes.
    """
    check_cache(cache, ("I_t", "F_t", "O_t", "C_tilde", "C_t", "config"), "lstm_step")
    shape = cache["H_t"].shape
    dH_t = as_float_array("dH_t", dH_t, ndim=2, what="(n, h)")
    check_shape("dH_t", dH_t, shape, what="(n, h)")
    dC_t = upstream_or_zeros("dC_t", dC_t, shape, dH_t.dtype)
    return _lstm_step_backward(dH_t, dC_t, cache)


def _lstm_step_backward(dH_t, dC_t, cache):
    config, p = cache["config"], cache["params"]
    dsig = get_activation(config.gate_activation).df
    dg = get_activation(config.candidate_activation).df
    dphi = get_activation(config.output_activation).df
    I_t, F_t, O_t = cache["I_t"], cache["F_t"], cache["O_t"]
    C_prev, C_t, C_tilde = cache["C_prev"], cache["C_t"], cache["C_tilde"]

    # dA[k] is the gradient on the pre-activation A_k of gate k (k = i, f, o, c)
    # H_t = O_t * phi(C_t)
    dA = {"o": dH_t * cache["phi_C_t"] * dsig(cache["A_o"])}
    dC = dC_t + dH_t * O_t * dphi(C_t)  # C_t reaches the loss through the next step and through H_t
    if config.peepholes:
        dC = dC + dA["o"] * p["p_o"]  # ... and through the output peephole A_o += p_o * C_t
    # C_t = F_t * C_prev + I_t * C_tilde
    dA["c"] = dC * I_t * dg(cache["A_c"])
    dI = dC * C_tilde
    dC_prev = dC * F_t  # F_t is ones without a forget gate
    if config.forget_gate:
        dF = dC * C_prev
        if config.cifg:
            dF = dF - dI  # I_t = 1 - F_t also depends on F_t
        dA["f"] = dF * dsig(cache["A_f"])
    if not config.cifg:
        dA["i"] = dI * dsig(cache["A_i"])
    if config.peepholes:  # A_i += p_i * C_prev, A_f += p_f * C_prev
        for k in ("i", "f"):
            if k in dA:
                dC_prev = dC_prev + dA[k] * p[f"p_{k}"]

    # A_k = X_t @ W_xk + H_prev @ W_hk + b_k for every gate with weights
    X_t, H_prev = cache["X_t"], cache["H_prev"]
    dX_t, dH_prev, grads = 0.0, 0.0, {}
    for k in lstm_gates(config):
        dX_t = dX_t + dA[k] @ p[f"W_x{k}"].T
        dH_prev = dH_prev + dA[k] @ p[f"W_h{k}"].T
        grads[f"W_x{k}"] = X_t.T @ dA[k]
        grads[f"W_h{k}"] = H_prev.T @ dA[k]
        grads[f"b_{k}"] = dA[k].sum(axis=0)
    if config.peepholes:
        for k in ("i", "f"):
            if k in dA:
                grads[f"p_{k}"] = (dA[k] * C_prev).sum(axis=0)
        grads["p_o"] = (dA["o"] * C_t).sum(axis=0)
    return dX_t, dH_prev, dC_prev, {k: grads[k] for k in p}


# ----------------------------------------------------------------------------------------------------------
# a whole sequence
# ----------------------------------------------------------------------------------------------------------
def lstm_forward(X, params: dict, H_0=None, C_0=None, config: LSTMConfig = LSTMConfig()):
    """Run an LSTM over a sequence.

    Parameters
    ----------
    X : ndarray (n, T, d)
        Input sequences, batch first. T ≥ 1.
    params : dict
        Exactly the keys :func:`lstm_param_names` gives for ``config``.
    H_0, C_0 : ndarray (n, h) or None
        Initial hidden state and memory cell; ``None`` means zeros.
    config : LSTMConfig

    Returns
    -------
    H : ndarray (n, T, h)
        Hidden states H_1 … H_T.
    C : ndarray (n, T, h)
        Memory cells C_1 … C_T.
    cache : dict
        ``steps`` (list of T step caches, each as in :func:`lstm_step`), ``X``, ``H_0``, ``C_0``, ``params``,
        ``config``.
    """
    params, d, h = _lstm_params(params, config)
    X = check_sequence(X, d)
    n, T, _ = X.shape
    H_prev = H0 = state_or_zeros("H_0", H_0, n, h, X.dtype)
    C_prev = C0 = state_or_zeros("C_0", C_0, n, h, X.dtype)
    dtype = np.result_type(X, H_prev, C_prev, *params.values())
    H = np.empty((n, T, h), dtype=dtype)
    C = np.empty((n, T, h), dtype=dtype)
    steps = []
    for t in range(T):
        H_prev, C_prev, step_cache = _lstm_step(X[:, t], H_prev, C_prev, params, config)
        H[:, t], C[:, t] = H_prev, C_prev
        steps.append(step_cache)
    return H, C, {"steps": steps, "X": X, "H_0": H0, "C_0": C0, "params": params, "config": config}


def lstm_backward(dH, cache: dict, dH_T=None, dC_T=None):
    """Backpropagation through time for :func:`lstm_forward`.

    Parameters
    ----------
    dH : ndarray (n, T, h) or None
        Upstream gradient on every hidden state H_1 … H_T; ``None`` means zeros.
    cache : dict
        The cache returned by :func:`lstm_forward`.
    dH_T, dC_T : ndarray (n, h), optional
        Extra gradients on the final state H_T and final cell C_T (e.g. when the final state is passed on).

    Returns
    -------
    dX : ndarray (n, T, d)
    dH_0, dC_0 : ndarray (n, h)
        Gradients with respect to the initial state and cell.
    grads : dict
        One gradient per key of ``params``, summed over the T steps.
    """
    check_cache(cache, ("steps", "X", "H_0", "C_0", "params", "config"), "lstm_forward")
    X = cache["X"]
    n, T, d = X.shape
    h = cache["H_0"].shape[1]
    dH = upstream_or_zeros("dH", dH, (n, T, h), X.dtype)
    dH_next = upstream_or_zeros("dH_T", dH_T, (n, h), X.dtype)
    dC_next = upstream_or_zeros("dC_T", dC_T, (n, h), X.dtype)
    dX = np.zeros((n, T, d), dtype=np.result_type(X, dH))
    grads = {k: np.zeros_like(v, dtype=np.result_type(v, dH)) for k, v in cache["params"].items()}
    for t in reversed(range(T)):
        dX[:, t], dH_next, dC_next, g = _lstm_step_backward(dH[:, t] + dH_next, dC_next, cache["steps"][t])
        for k in grads:
            grads[k] += g[k]
    return dX, dH_next, dC_next, grads


# ----------------------------------------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------------------------------------
def _check_config(config):
    if not isinstance(config, LSTMConfig):
        raise TypeError(f"config must be an LSTMConfig; got {type(config).__name__}.")


def check_lstm_params(params, config: LSTMConfig = LSTMConfig()) -> tuple[int, int]:
    """Check LSTM params against ``config`` (exact keys, float dtypes, shapes) and return ``(d, h)``.

    Raises ``TypeError`` (not a dict, non-float arrays, config not an LSTMConfig) or ``ValueError``
    (missing/extra keys for this config, inconsistent shapes).
    """
    _, d, h = _lstm_params(params, config)
    return d, h


def _lstm_params(params, config):
    """Check params against config (keys, float dtypes, shapes); return ``(arrays, d, h)``."""
    _check_config(config)
    names = lstm_param_names(config)
    check_keys("params", params, names, hint=f"Those are the parameters of {config!r}.")
    first = f"W_x{lstm_gates(config)[0]}"
    P = {first: as_float_array(f"params['{first}']", params[first], ndim=2, what="(d, h)")}
    d, h = P[first].shape
    for name in names:
        expected, what = {"W_x": ((d, h), "(d, h)"), "W_h": ((h, h), "(h, h)")}.get(name[:3], ((h,), "(h,)"))
        P[name] = as_float_array(f"params['{name}']", params[name])
        check_shape(f"params['{name}']", P[name], expected, what=what)
    return {k: P[k] for k in names}, d, h
