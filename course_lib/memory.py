"""How the LSTM memory cell keeps what it stores: gates set by hand, and the gradient along the cell.

Tools for the LSTM chapter (book/03_lstm.ipynb), all built on :mod:`course_lib.lstm`:

* :func:`fixed_gate_params` — LSTM parameters whose gates ignore the input and the state and sit at chosen
  values, so the three memory regimes can be watched one at a time::

      keep        F_t ≈ 1, I_t ≈ 0:   C_t ≈ C_{t-1}               (long-term memory)
      overwrite   F_t ≈ 0, I_t ≈ 1:   C_t ≈ C_tilde               (short-term memory)
      accumulate  F_t ≈ 1, I_t ≈ 1:   C_t ≈ C_{t-1} + C_tilde     (a running sum)

* :func:`cell_jacobian_norms_by_lag` — the norm of ``∂C_T/∂C_{T-k}`` against the lag ``k``: how much of a
  gradient arriving at the last memory cell reaches a cell ``k`` steps earlier, along every path.
* :func:`cell_path_norms_by_lag` — the same along the cell path alone, where the Jacobian is the diagonal
  ``diag(F_T ⊙ F_{T-1} ⊙ … ⊙ F_{T-k+1})``: no weight matrix and no squashing derivative is multiplied in,
  which is why the LSTM does not suffer the plain RNN's vanishing gradient when its forget gates stay near 1
  (compare :func:`course_lib.gradients.jacobian_norms_by_lag`).
"""

from __future__ import annotations

import numpy as np

from .lstm import LSTMConfig, check_lstm_params, lstm_forward, lstm_gates, lstm_step_backward
from .validation import as_float_array, check_cache, check_shape

__all__ = ["GATE_SATURATION", "fixed_gate_params", "cell_jacobian_norms_by_lag", "cell_path_norms_by_lag"]

#: |pre-activation| used for a gate set to exactly 0 or 1: sigmoid(20) = 1 - 2.1e-9.
GATE_SATURATION = 20.0


def _gate_bias(name: str, value) -> float:
    """The bias b with sigmoid(b) = value (value 0 or 1 map to -/+ GATE_SATURATION)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a number in [0, 1]; got {type(value).__name__} {value!r}.")
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1] (a gate value); got {value}.")
    low, high = 1.0 / (1.0 + np.exp(GATE_SATURATION)), 1.0 / (1.0 + np.exp(-GATE_SATURATION))
    value = min(max(value, low), high)
    return float(np.log(value) - np.log1p(-value))


def fixed_gate_params(W_xc, input_gate: float, forget_gate: float, output_gate: float = 1.0) -> dict:
    """Standard-LSTM parameters whose three gates are constants and whose candidate reads only the input.

    Every gate weight (``W_x?``, ``W_h?``) is zero and its bias is chosen so that
    ``sigmoid(b_?)`` equals the requested value; a value of exactly 0 or 1 becomes a bias of
    ∓:data:`GATE_SATURATION` (a gate value within 2.1e-9 of it). The candidate is
    ``C_tilde = tanh(X_t @ W_xc)`` (``W_hc = 0``, ``b_c = 0``).

    Parameters
    ----------
    W_xc : ndarray (d, h)
        Input weights of the candidate memory.
    input_gate, forget_gate, output_gate : float in [0, 1]
        The constant values of I_t, F_t and O_t.

    Returns
    -------
    dict
        The 12 parameters of ``LSTMConfig()``: ``W_x?`` (d, h), ``W_h?`` (h, h), ``b_?`` (h,).

    Examples
    --------
    >>> keep = fixed_gate_params(np.eye(1), input_gate=0.0, forget_gate=1.0)   # long-term memory
    """
    W_xc = as_float_array("W_xc", W_xc, ndim=2, what="(d, h)")
    d, h = W_xc.shape
    values = {"i": ("input_gate", input_gate), "f": ("forget_gate", forget_gate),
              "o": ("output_gate", output_gate)}
    params = {}
    for g in lstm_gates(LSTMConfig()):
        params[f"W_x{g}"] = W_xc.copy() if g == "c" else np.zeros((d, h), dtype=W_xc.dtype)
        params[f"W_h{g}"] = np.zeros((h, h), dtype=W_xc.dtype)
        bias = 0.0 if g == "c" else _gate_bias(*values[g])
        params[f"b_{g}"] = np.full(h, bias, dtype=W_xc.dtype)
    return params


def cell_jacobian_norms_by_lag(
    X, params: dict, config: LSTMConfig = LSTMConfig(), H_0=None, C_0=None, ord: int | str = 2
) -> np.ndarray:
    """Norms ``||∂C_T / ∂C_{T-k}||`` for every lag ``k = 0 … T`` and every example.

    ``∂C_T / ∂C_t`` is the Jacobian of the last memory cell with respect to the cell ``C_t`` passed into
    step ``t + 1``, with ``H_t`` held fixed (the state of an LSTM is the pair ``(H_t, C_t)``): it counts
    every path from ``C_t`` to ``C_T``, the direct one through the forget gates and those through later
    hidden states and gates. It is exactly the ``dC_0`` that :func:`course_lib.lstm.lstm_backward` returns
    for ``t = 0`` when the upstream gradient is a unit vector on ``C_T``.

    How: each example is repeated ``h`` times; copy ``j`` back-propagates the unit vector ``e_j`` from
    ``C_T`` (``dH = 0``), so after the step backward of step ``t + 1`` copy ``j`` holds row ``j`` of the
    Jacobian.

    Parameters
    ----------
    X : ndarray (n, T, d)
        Input sequences.
    params : dict
        LSTM parameters for ``config`` (see :mod:`course_lib.lstm`).
    config : LSTMConfig
    H_0, C_0 : ndarray (n, h), optional
        Initial state and cell (zeros by default).
    ord : {2, "fro"}
        Matrix norm: spectral (2, the default, as in :func:`course_lib.gradients.jacobian_norms_by_lag`) or
        Frobenius.

    Returns
    -------
    norms : ndarray (n, T + 1)
        ``norms[b, k] = ||∂C_T / ∂C_{T-k}||`` for example ``b``; ``norms[:, 0]`` is the norm of the
        identity.
    """
    if ord not in (2, "fro"):
        raise ValueError(f"ord must be 2 or 'fro'; got {ord!r}.")
    X = as_float_array("X", X, ndim=3, what="(n, T, d)")
    n, T, _ = X.shape
    _, h = check_lstm_params(params, config)

    def repeat(name, S):  # (n, h) -> (n * h, h): row b repeated h times
        if S is None:
            return None
        S = as_float_array(name, S, ndim=2, what="(n, h)")
        check_shape(name, S, (n, h), what="(n, h)")
        return np.repeat(S, h, axis=0)

    _, _, cache = lstm_forward(np.repeat(X, h, axis=0), params, repeat("H_0", H_0), repeat("C_0", C_0),
                               config=config)
    dC = np.tile(np.eye(h, dtype=X.dtype), (n, 1))  # (n*h, h): copy j of each example carries e_j
    dH = np.zeros_like(dC)
    norms = np.empty((n, T + 1))
    norms[:, 0] = np.linalg.norm(np.eye(h), ord=ord)
    for k in range(1, T + 1):
        _, dH, dC, _ = lstm_step_backward(dH, dC, cache["steps"][T - k])
        norms[:, k] = np.linalg.norm(dC.reshape(n, h, h), ord=ord, axis=(1, 2))
    return norms


def cell_path_norms_by_lag(cache: dict) -> np.ndarray:
    """Norms of the cell-path Jacobian ``diag(F_T ⊙ F_{T-1} ⊙ … ⊙ F_{T-k+1})`` for every lag ``k = 0 … T``.

    This is the part of ``∂C_T / ∂C_{T-k}`` that runs along the memory cell only (the gates held fixed):
    the product of the forget gates of the last ``k`` steps. The spectral norm of a diagonal matrix is its
    largest entry, so the result is the largest product over the ``h`` units. Without a forget gate
    (``LSTMConfig(forget_gate=False)``) every product is 1: the constant error carousel.
    :func:`cell_jacobian_norms_by_lag` adds the paths that leave the cell through ``H_t`` and come back.

    Parameters
    ----------
    cache : dict
        The cache of :func:`course_lib.lstm.lstm_forward` (its ``steps`` hold ``F_t``, each (n, h)).

    Returns
    -------
    norms : ndarray (n, T + 1)
        ``norms[b, k] = max_j prod_{s=T-k+1}^{T} F_s[b, j]``; ``norms[:, 0] = 1``.
    """
    check_cache(cache, ("steps", "X"), "lstm_forward")
    n, T, _ = cache["X"].shape
    norms = np.ones((n, T + 1))
    F = np.stack([step["F_t"] for step in cache["steps"]], axis=1)  # (n, T, h); ones without a forget gate
    products = np.cumprod(F[:, ::-1], axis=1)  # [:, k - 1] = F_T ⊙ … ⊙ F_{T-k+1}
    norms[:, 1:] = products.max(axis=2)
    return norms
