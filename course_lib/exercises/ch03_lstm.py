"""Exercises of the LSTM chapter (book/03_lstm.ipynb).

``lstm.forget_gate``         F_t = σ(X_t W_xf + H_{t-1} W_hf + b_f)
``lstm.cell_update``         C_t = F_t ⊙ C_{t-1} + I_t ⊙ C_tilde
``lstm.step``                one full LSTM step -> (H_t, C_t)
``lstm.split_torch_weights`` PyTorch's packed ``weight_ih_l0`` (4h, d), ``weight_hh_l0`` (4h, h) and two
                             biases -> per-gate weights in the book's layout
``lstm.backward_cell``       the backward step through the memory cell: dC_{t-1}, dI_t, dF_t, dO_t, dC_tilde

Every reference uses NumPy only and the row-vector convention of the book.
"""

from __future__ import annotations

import numpy as np

from .framework import Case, Exercise, register

_N, _D, _H = 3, 4, 5  # distinct sizes, so a transposed weight shows up as a shape error


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


# ------------------------------------------------------------------------------------------ lstm.forget_gate
def forget_gate(X_t, H_prev, W_xf, W_hf, b_f):
    """The forget gate F_t = sigmoid(X_t @ W_xf + H_prev @ W_hf + b_f).

    X_t (n, d), H_prev (n, h), W_xf (d, h), W_hf (h, h), b_f (h,) -> F_t (n, h), values in (0, 1).
    """
    A_f = X_t @ W_xf + H_prev @ W_hf + b_f
    return 1.0 / (1.0 + np.exp(-A_f))


def _fg_tanh(X_t, H_prev, W_xf, W_hf, b_f):
    return np.tanh(X_t @ W_xf + H_prev @ W_hf + b_f)


def _fg_no_bias(X_t, H_prev, W_xf, W_hf, b_f):
    return _sig(X_t @ W_xf + H_prev @ W_hf)


def _fg_no_state(X_t, H_prev, W_xf, W_hf, b_f):
    return _sig(X_t @ W_xf + b_f)


def _fg_transposed(X_t, H_prev, W_xf, W_hf, b_f):
    return _sig(X_t @ W_xf + H_prev @ W_hf.T + b_f)


def _fg_one_minus(X_t, H_prev, W_xf, W_hf, b_f):
    return 1.0 - _sig(X_t @ W_xf + H_prev @ W_hf + b_f)


def _forget_gate_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = _N, _D, _H
    full = {
        "X_t": rng.normal(size=(n, d)),
        "H_prev": rng.uniform(-1.0, 1.0, size=(n, h)),
        "W_xf": rng.normal(scale=0.7, size=(d, h)),
        "W_hf": rng.normal(scale=0.7, size=(h, h)),
        "b_f": rng.normal(size=h),
    }
    zx, zh, zb = np.zeros((n, d)), np.zeros((n, h)), np.zeros(h)
    return [
        Case({**full, "X_t": zx, "H_prev": zh}, "only the bias b_f is non-zero"),
        Case({**full, "H_prev": zh, "b_f": zb}, "only the input term X_t @ W_xf is non-zero"),
        Case({**full, "X_t": zx, "b_f": zb}, "only the recurrent term H_prev @ W_hf is non-zero"),
        Case(full, "all three terms non-zero"),
    ]


register(
    Exercise(
        key="lstm.forget_gate",
        title="The forget gate F_t",
        func_name="forget_gate",
        reference=forget_gate,
        make_cases=_forget_gate_cases,
        wrong={
            "You used tanh: a gate needs the sigmoid, whose values lie in (0, 1) (tanh gives -1..1, and a "
            "negative gate would flip the sign of the memory).": _fg_tanh,
            "You left out the bias b_f (it is the term Jozefowicz et al. set to 1 at initialisation).": (
                _fg_no_bias
            ),
            "You left out the recurrent term H_prev @ W_hf: the gate must also see the previous hidden "
            "state.": _fg_no_state,
            "You used W_hf.T: in the book's row-vector convention the recurrent term is H_prev @ W_hf "
            "(W_hf is (h, h), so the transpose has the right shape but the wrong values).": _fg_transposed,
            "You computed 1 - sigmoid(...): F_t is the fraction of C_{t-1} that is KEPT, not erased.": (
                _fg_one_minus
            ),
        },
        atol=1e-10,
        rtol=1e-8,
    )
)


# ------------------------------------------------------------------------------------------ lstm.cell_update
def cell_update(F_t, I_t, C_tilde, C_prev):
    """The memory cell update C_t = F_t * C_prev + I_t * C_tilde (elementwise).

    F_t, I_t (n, h) gates in (0, 1); C_tilde (n, h) candidate in (-1, 1); C_prev (n, h) -> C_t (n, h).
    """
    return F_t * C_prev + I_t * C_tilde


def _cu_swapped(F_t, I_t, C_tilde, C_prev):
    return F_t * C_tilde + I_t * C_prev


def _cu_no_forget(F_t, I_t, C_tilde, C_prev):
    return C_prev + I_t * C_tilde


def _cu_no_input(F_t, I_t, C_tilde, C_prev):
    return F_t * C_prev + C_tilde


def _cu_coupled(F_t, I_t, C_tilde, C_prev):
    return F_t * C_prev + (1.0 - F_t) * C_tilde


def _cu_forget_after_write(F_t, I_t, C_tilde, C_prev):
    return F_t * (C_prev + I_t * C_tilde)


def _cell_update_cases(rng: np.random.Generator) -> list[Case]:
    n, h = _N, _H
    F_t, I_t = rng.uniform(0.05, 0.95, size=(n, h)), rng.uniform(0.05, 0.95, size=(n, h))
    C_tilde, C_prev = rng.uniform(-1.0, 1.0, size=(n, h)), rng.normal(scale=2.0, size=(n, h))
    return [
        Case({"F_t": F_t, "I_t": np.zeros((n, h)), "C_tilde": C_tilde, "C_prev": C_prev},
             "input gate closed (I_t = 0): only the kept part of C_prev"),
        Case({"F_t": np.zeros((n, h)), "I_t": I_t, "C_tilde": C_tilde, "C_prev": C_prev},
             "forget gate closed (F_t = 0): only the written candidate"),
        Case({"F_t": F_t, "I_t": I_t, "C_tilde": C_tilde, "C_prev": C_prev}, "both gates partly open"),
    ]


register(
    Exercise(
        key="lstm.cell_update",
        title="The memory cell C_t",
        func_name="cell_update",
        reference=cell_update,
        make_cases=_cell_update_cases,
        wrong={
            "You applied the forget gate to the candidate C_tilde and the input gate to C_{t-1}: F_t decides "
            "how much of the OLD cell C_{t-1} is kept, I_t how much of the candidate is written.": (
                _cu_swapped
            ),
            "You left out the forget gate (C_t = C_{t-1} + I_t * C_tilde): that is the 1997 LSTM, whose cell "
            "is never erased; the modern cell multiplies C_{t-1} by F_t.": _cu_no_forget,
            "You left out the input gate (C_t = F_t * C_{t-1} + C_tilde): the candidate must be scaled by "
            "I_t.": _cu_no_input,
            "You wrote the GRU-style convex mix F_t * C_{t-1} + (1 - F_t) * C_tilde (a coupled input-forget "
            "gate); the LSTM has its own input gate I_t.": _cu_coupled,
            "You applied the forget gate after writing (F_t * (C_{t-1} + I_t * C_tilde)): the forget gate "
            "scales only the old cell C_{t-1}; the new content I_t * C_tilde is added unscaled.": (
                _cu_forget_after_write
            ),
        },
        atol=1e-10,
        rtol=1e-8,
    )
)


# ------------------------------------------------------------------------------------------------ lstm.step
def lstm_cell(X_t, H_prev, C_prev, W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c):
    """One LSTM step. X_t (n, d); H_prev, C_prev (n, h); W_x? (d, h), W_h? (h, h), b_? (h,).

    Returns (H_t, C_t), both (n, h):
    I_t = sigmoid(X_t W_xi + H_prev W_hi + b_i), likewise F_t and O_t;
    C_tilde = tanh(X_t W_xc + H_prev W_hc + b_c); C_t = F_t * C_prev + I_t * C_tilde; H_t = O_t * tanh(C_t).
    """

    def sigmoid(a):
        return 1.0 / (1.0 + np.exp(-a))

    I_t = sigmoid(X_t @ W_xi + H_prev @ W_hi + b_i)
    F_t = sigmoid(X_t @ W_xf + H_prev @ W_hf + b_f)
    O_t = sigmoid(X_t @ W_xo + H_prev @ W_ho + b_o)
    C_tilde = np.tanh(X_t @ W_xc + H_prev @ W_hc + b_c)
    C_t = F_t * C_prev + I_t * C_tilde
    H_t = O_t * np.tanh(C_t)
    return H_t, C_t


def _step_parts(X_t, H_prev, W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c):
    I_t = _sig(X_t @ W_xi + H_prev @ W_hi + b_i)
    F_t = _sig(X_t @ W_xf + H_prev @ W_hf + b_f)
    O_t = _sig(X_t @ W_xo + H_prev @ W_ho + b_o)
    A_c = X_t @ W_xc + H_prev @ W_hc + b_c
    return I_t, F_t, O_t, A_c


def _st_forget_on_candidate(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    C_t = I_t * C_prev + F_t * np.tanh(A_c)
    return O_t * np.tanh(C_t), C_t


def _st_no_tanh_out(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    C_t = F_t * C_prev + I_t * np.tanh(A_c)
    return O_t * C_t, C_t


def _st_no_output_gate(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    C_t = F_t * C_prev + I_t * np.tanh(A_c)
    return np.tanh(C_t), C_t


def _st_sigmoid_candidate(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    C_t = F_t * C_prev + I_t * _sig(A_c)
    return O_t * np.tanh(C_t), C_t


def _st_old_cell_out(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    C_t = F_t * C_prev + I_t * np.tanh(A_c)
    return O_t * np.tanh(C_prev), C_t


def _step_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = _N, _D, _H
    w = {}
    for g in ("i", "f", "o", "c"):
        w[f"W_x{g}"] = rng.normal(scale=0.6, size=(d, h))
        w[f"W_h{g}"] = rng.normal(scale=0.6, size=(h, h))
        w[f"b_{g}"] = rng.normal(scale=0.5, size=h)
    X_t = rng.normal(size=(n, d))
    H_prev = rng.uniform(-1.0, 1.0, size=(n, h))
    C_prev = rng.normal(scale=1.5, size=(n, h))
    # make the input and forget gates clearly different, so swapping them changes the result
    w_split = {**w, "b_i": w["b_i"] - 1.5, "b_f": w["b_f"] + 1.5}
    zeros = {"X_t": np.zeros((n, d)), "H_prev": np.zeros((n, h))}
    return [
        Case({**w_split, "X_t": X_t, "H_prev": np.zeros((n, h)), "C_prev": np.zeros((n, h))},
             "the first step: H_prev = C_prev = 0"),
        Case({**w_split, **zeros, "C_prev": C_prev}, "no input and no H_prev: only the biases and C_prev"),
        Case({**w_split, "X_t": X_t, "H_prev": H_prev, "C_prev": C_prev}, "a general step"),
        Case({**w, "X_t": 2.0 * X_t, "H_prev": H_prev, "C_prev": 2.0 * C_prev},
             "a general step with larger inputs and cell"),
    ]


register(
    Exercise(
        key="lstm.step",
        title="One LSTM step",
        func_name="lstm_cell",
        reference=lstm_cell,
        make_cases=_step_cases,
        wrong={
            "You swapped the input and forget gates: in your code the forget gate multiplies the candidate "
            "C_tilde and the input gate multiplies C_{t-1}. It is C_t = F_t * C_{t-1} + I_t * C_tilde "
            "(check which weights, W_xf/W_hf/b_f or W_xi/W_hi/b_i, feed each gate).": _st_forget_on_candidate,
            "H_t = O_t * C_t is missing the tanh: the hidden state is O_t * tanh(C_t), so it stays in "
            "(-1, 1) even when the cell grows.": _st_no_tanh_out,
            "You left out the output gate: H_t = O_t * tanh(C_t), not tanh(C_t).": _st_no_output_gate,
            "The candidate C_tilde uses tanh, not the sigmoid: it is a value to write (-1..1), not a "
            "gate (0..1).": _st_sigmoid_candidate,
            "H_t must read the NEW cell: H_t = O_t * tanh(C_t), not tanh(C_{t-1}).": _st_old_cell_out,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("H_t", "C_t"),
    )
)


# ------------------------------------------------------------------------------- lstm.split_torch_weights
def split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    """PyTorch's packed LSTM weights -> the book's per-gate weights, gates stacked in the order i, f, c, o.

    weight_ih (4h, d), weight_hh (4h, h): row blocks in PyTorch's gate order i, f, g, o (g is our candidate
    c); bias_ih, bias_hh (4h,). Returns (W_x, W_h, b) with W_x (4, d, h), W_h (4, h, h), b (4, h), where
    W_x[0] = W_xi, W_x[1] = W_xf, W_x[2] = W_xc, W_x[3] = W_xo (likewise W_h, b) and b = b_ih + b_hh.
    """
    h = weight_hh.shape[1]
    W_x = weight_ih.reshape(4, h, -1).transpose(0, 2, 1)
    W_h = weight_hh.reshape(4, h, h).transpose(0, 2, 1)
    b = (bias_ih + bias_hh).reshape(4, h)
    return W_x, W_h, b


def _sp_no_transpose(weight_ih, weight_hh, bias_ih, bias_hh):
    h = weight_hh.shape[1]
    return weight_ih.reshape(4, h, -1), weight_hh.reshape(4, h, h), (bias_ih + bias_hh).reshape(4, h)


def _sp_transpose_then_reshape(weight_ih, weight_hh, bias_ih, bias_hh):
    h = weight_hh.shape[1]
    d = weight_ih.shape[1]
    return weight_ih.T.reshape(4, d, h), weight_hh.T.reshape(4, h, h), (bias_ih + bias_hh).reshape(4, h)


def _sp_drop_bias_hh(weight_ih, weight_hh, bias_ih, bias_hh):
    W_x, W_h, _ = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return W_x, W_h, bias_ih.reshape(4, -1)


def _reorder(order):
    def wrong(weight_ih, weight_hh, bias_ih, bias_hh):
        return tuple(A[list(order)] for A in split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh))

    return wrong


def _split_cases(rng: np.random.Generator) -> list[Case]:
    d, h = 3, 2

    def packed(scale_b_hh=1.0):
        return {
            "weight_ih": rng.normal(size=(4 * h, d)),
            "weight_hh": rng.normal(size=(4 * h, h)),
            "bias_ih": rng.normal(size=4 * h),
            "bias_hh": scale_b_hh * rng.normal(size=4 * h),
        }

    labelled = {  # every entry of gate block k is k + 1 + a small random part: the order shows at a glance
        "weight_ih": np.repeat(np.arange(1.0, 5.0), h)[:, None] + 0.01 * rng.normal(size=(4 * h, d)),
        "weight_hh": np.repeat(np.arange(1.0, 5.0), h)[:, None] + 0.01 * rng.normal(size=(4 * h, h)),
        "bias_ih": np.repeat(np.arange(1.0, 5.0), h) + 0.01 * rng.normal(size=4 * h),
        "bias_hh": np.zeros(4 * h),
    }
    return [
        Case(labelled, "gate block k filled with about k + 1 (the gate order), bias_hh = 0"),
        Case(packed(), "random weights and both biases"),
        Case(packed(), "random weights and both biases, another draw"),
    ]


register(
    Exercise(
        key="lstm.split_torch_weights",
        title="From PyTorch's packed weights to the book's gates",
        func_name="split_torch_weights",
        reference=split_torch_weights,
        make_cases=_split_cases,
        wrong={
            "You split the row blocks but did not transpose them: PyTorch stores (4h, d) and computes "
            "X @ weight_ih.T, so each block must become (d, h).": _sp_no_transpose,
            "You transposed the whole matrix first and then reshaped: weight_ih.T is (d, 4h) and "
            ".reshape(4, d, h) mixes rows of different gates. Split the (4h, d) rows into 4 blocks first, "
            "then transpose each block.": _sp_transpose_then_reshape,
            "You dropped bias_hh: PyTorch adds both biases, so the book's b is bias_ih + bias_hh.": (
                _sp_drop_bias_hh
            ),
            "You assumed the order i, c, f, o (TensorFlow 1's BasicLSTMCell i, j, f, o); PyTorch's is "
            "i, f, g, o.": _reorder((0, 2, 1, 3)),
            "You assumed the order i, o, f, c (ONNX's); PyTorch's is i, f, g, o.": _reorder((0, 3, 1, 2)),
            "You assumed the order i, f, o, c; PyTorch's is i, f, g, o (g, the candidate, comes third).": (
                _reorder((0, 1, 3, 2))
            ),
        },
        atol=1e-12,
        rtol=1e-10,
        output_names=("W_x", "W_h", "b"),
    )
)


# -------------------------------------------------------------------------------------- lstm.backward_cell
def backward_cell(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    """Backward through C_t = F_t * C_prev + I_t * C_tilde and H_t = O_t * tanh(C_t).

    dH_t (n, h): gradient on H_t; dC_t (n, h): gradient on C_t arriving from step t + 1.
    I_t, F_t, O_t, C_tilde, C_prev, C_t (n, h): values saved by the forward step.
    Returns (dC_prev, dI_t, dF_t, dO_t, dC_tilde), gradients on the gate VALUES (after the sigmoid / tanh).
    """
    tanh_C = np.tanh(C_t)
    dC = dC_t + dH_t * O_t * (1.0 - tanh_C**2)  # both paths into C_t: the next step, and H_t
    dO_t = dH_t * tanh_C
    dF_t = dC * C_prev
    dI_t = dC * C_tilde
    dC_tilde = dC * I_t
    dC_prev = dC * F_t
    return dC_prev, dI_t, dF_t, dO_t, dC_tilde


def _bc_no_h_path(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    dC = dC_t
    return dC * F_t, dC * C_tilde, dC * C_prev, dH_t * np.tanh(C_t), dC * I_t


def _bc_tanh_derivative_wrong(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    dC = dC_t + dH_t * O_t * (1.0 - C_t**2)
    return dC * F_t, dC * C_tilde, dC * C_prev, dH_t * np.tanh(C_t), dC * I_t


def _bc_no_forget_factor(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    dC = dC_t + dH_t * O_t * (1.0 - np.tanh(C_t) ** 2)
    return dC, dC * C_tilde, dC * C_prev, dH_t * np.tanh(C_t), dC * I_t


def _bc_swapped(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    dC = dC_t + dH_t * O_t * (1.0 - np.tanh(C_t) ** 2)
    return dC * F_t, dC * C_prev, dC * C_tilde, dH_t * np.tanh(C_t), dC * I_t


def _bc_dO_without_tanh(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    dC = dC_t + dH_t * O_t * (1.0 - np.tanh(C_t) ** 2)
    return dC * F_t, dC * C_tilde, dC * C_prev, dH_t * C_t, dC * I_t


def _backward_cell_cases(rng: np.random.Generator) -> list[Case]:
    n, h = _N, _H
    I_t, F_t, O_t = (rng.uniform(0.05, 0.95, size=(n, h)) for _ in range(3))
    C_tilde = rng.uniform(-0.95, 0.95, size=(n, h))
    C_prev = rng.normal(scale=1.5, size=(n, h))
    C_t = F_t * C_prev + I_t * C_tilde
    state = {"I_t": I_t, "F_t": F_t, "O_t": O_t, "C_tilde": C_tilde, "C_prev": C_prev, "C_t": C_t}
    dH, dC = rng.normal(size=(n, h)), rng.normal(size=(n, h))
    zero = np.zeros((n, h))
    return [
        Case({"dH_t": zero, "dC_t": dC, **state}, "only dC_t is non-zero (the gradient along the cell)"),
        Case({"dH_t": dH, "dC_t": zero, **state}, "only dH_t is non-zero (the path through H_t)"),
        Case({"dH_t": dH, "dC_t": dC, **state}, "both upstream gradients non-zero"),
    ]


register(
    Exercise(
        key="lstm.backward_cell",
        title="Backward through the memory cell",
        func_name="backward_cell",
        reference=backward_cell,
        make_cases=_backward_cell_cases,
        wrong={
            "You used only dC_t as the gradient on C_t: C_t also reaches the loss through "
            "H_t = O_t * tanh(C_t), so add dH_t * O_t * (1 - tanh(C_t)**2).": _bc_no_h_path,
            "The derivative of tanh(C_t) is 1 - tanh(C_t)**2, not 1 - C_t**2 (C_t is not bounded by 1).": (
                _bc_tanh_derivative_wrong
            ),
            "dC_prev is missing the factor F_t: C_t = F_t * C_prev + ..., so dC_prev = dC * F_t (only the "
            "1997 LSTM, without forget gate, passes dC on unchanged).": _bc_no_forget_factor,
            "You swapped dF_t and dI_t: F_t multiplies C_prev (dF_t = dC * C_prev) and I_t multiplies "
            "C_tilde (dI_t = dC * C_tilde).": _bc_swapped,
            "dO_t = dH_t * tanh(C_t): you forgot the tanh.": _bc_dO_without_tanh,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("dC_prev", "dI_t", "dF_t", "dO_t", "dC_tilde"),
    )
)
