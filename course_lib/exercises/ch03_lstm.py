"""Exercises of the LSTM chapter (book/03_lstm.ipynb).

``lstm.forget_gate``         F_t = σ(X_t W_xf + H_{t-1} W_hf + b_f)
``lstm.cell_update``         C_t = F_t ⊙ C_{t-1} + I_t ⊙ C_tilde
``lstm.step``                one full LSTM step -> (H_t, C_t)
``lstm.split_torch_weights`` PyTorch's packed ``weight_ih_l0`` (4h, d), ``weight_hh_l0`` (4h, h) and two
                             biases -> per-gate weights in the book's layout
``lstm.backward_cell``       the backward step through the memory cell: dC_{t-1}, dI_t, dF_t, dO_t, dC_tilde
``lstm.step_backward``       the whole backward step of the fused cell (CS231n style), through the gates and
                             the weights: dX_t, dH_prev, dC_prev, dW_x, dW_h, db
``lstm.torch_forget_bias``   set the forget-gate bias of ``nn.LSTM``, which has two bias vectors

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


def _fg_no_sigmoid(X_t, H_prev, W_xf, W_hf, b_f):
    return X_t @ W_xf + H_prev @ W_hf + b_f


def _fg_column(X_t, H_prev, W_xf, W_hf, b_f):
    return _sig(X_t @ W_xf + W_hf @ H_prev + b_f)  # (h, h) @ (n, h): a shape error since n != h


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
        Case(full, "all three terms non-zero", isolates=False),
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
            "Your gate is 1 - sigmoid(A_f), which is also what 1 / (1 + np.exp(+A_f)) gives (check the sign "
            "in exp(-A_f)): F_t = sigmoid(A_f) is the fraction of C_{t-1} that is KEPT, not erased.": (
                _fg_one_minus
            ),
            "You returned the pre-activation A_f = X_t @ W_xf + H_prev @ W_hf + b_f: apply the sigmoid, so "
            "that the gate lies in (0, 1).": _fg_no_sigmoid,
            "You wrote W_hf @ H_prev (the column-vector habit): H_prev holds one example per ROW, (n, h), "
            "so the recurrent term is H_prev @ W_hf.": _fg_column,
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


def _cu_one_minus_forget(F_t, I_t, C_tilde, C_prev):
    return (1.0 - F_t) * C_prev + I_t * C_tilde


def _cu_squashed(F_t, I_t, C_tilde, C_prev):
    return np.tanh(F_t * C_prev + I_t * C_tilde)


def _cell_update_cases(rng: np.random.Generator) -> list[Case]:
    n, h = _N, _H
    F_t, I_t = rng.uniform(0.05, 0.95, size=(n, h)), rng.uniform(0.05, 0.95, size=(n, h))
    C_tilde, C_prev = rng.uniform(-1.0, 1.0, size=(n, h)), rng.normal(scale=2.0, size=(n, h))
    return [
        Case(
            {"F_t": F_t, "I_t": np.zeros((n, h)), "C_tilde": C_tilde, "C_prev": C_prev},
            "input gate closed (I_t = 0): only the kept part of C_prev",
        ),
        Case(
            {"F_t": np.zeros((n, h)), "I_t": I_t, "C_tilde": C_tilde, "C_prev": C_prev},
            "forget gate closed (F_t = 0): only the written candidate",
        ),
        Case(
            {"F_t": F_t, "I_t": I_t, "C_tilde": C_tilde, "C_prev": C_prev},
            "both gates partly open",
            isolates=False,
        ),
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
            "You kept (1 - F_t) * C_{t-1}: F_t is the fraction KEPT (F_t = 1 keeps everything), so the old "
            "cell enters as F_t * C_{t-1}.": _cu_one_minus_forget,
            "You squashed the cell with tanh: C_t = F_t * C_{t-1} + I_t * C_tilde has no squashing function "
            "(that is what lets it carry a value, and its gradient, over many steps); the tanh comes later, "
            "in H_t = O_t * tanh(C_t).": _cu_squashed,
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


def _st_no_forget_gate(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    C_t = C_prev + I_t * np.tanh(A_c)
    return O_t * np.tanh(C_t), C_t


def _st_one_minus_forget(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    C_t = (1.0 - F_t) * C_prev + I_t * np.tanh(A_c)
    return O_t * np.tanh(C_t), C_t


def _st_tanh_input_gate(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    I_t = np.tanh(X_t @ w["W_xi"] + H_prev @ w["W_hi"] + w["b_i"])
    C_t = F_t * C_prev + I_t * np.tanh(A_c)
    return O_t * np.tanh(C_t), C_t


def _st_tanh_output_gate(X_t, H_prev, C_prev, **w):
    I_t, F_t, O_t, A_c = _step_parts(X_t, H_prev, **w)
    O_t = np.tanh(X_t @ w["W_xo"] + H_prev @ w["W_ho"] + w["b_o"])
    C_t = F_t * C_prev + I_t * np.tanh(A_c)
    return O_t * np.tanh(C_t), C_t


def _st_swapped_outputs(X_t, H_prev, C_prev, **w):
    H_t, C_t = lstm_cell(X_t, H_prev, C_prev, **w)
    return C_t, H_t


def _st_column(X_t, H_prev, C_prev, **w):
    # W_hi @ H_prev: (h, h) @ (n, h), a shape error since n != h
    I_t = _sig(X_t @ w["W_xi"] + w["W_hi"] @ H_prev + w["b_i"])
    return I_t, I_t


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
        Case(
            {**w_split, "X_t": X_t, "H_prev": np.zeros((n, h)), "C_prev": np.zeros((n, h))},
            "the first step: H_prev = C_prev = 0",
        ),
        Case({**w_split, **zeros, "C_prev": C_prev}, "no input and no H_prev: only the biases and C_prev"),
        Case({**w_split, "X_t": X_t, "H_prev": H_prev, "C_prev": C_prev}, "a general step", isolates=False),
        Case(
            {**w, "X_t": 2.0 * X_t, "H_prev": H_prev, "C_prev": 2.0 * C_prev},
            "a general step with larger inputs and cell",
            isolates=False,
        ),
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
            "You left out the forget gate (C_t = C_{t-1} + I_t * C_tilde, the 1997 cell): the modern cell "
            "keeps F_t * C_{t-1}.": _st_no_forget_gate,
            "You kept (1 - F_t) * C_{t-1}: F_t is the fraction of the old cell that is KEPT, so it is "
            "F_t * C_{t-1}.": _st_one_minus_forget,
            "The input gate I_t uses tanh: every gate is a sigmoid, a fraction in (0, 1); tanh belongs to "
            "the candidate C_tilde and to the output tanh(C_t).": _st_tanh_input_gate,
            "The output gate O_t uses tanh: every gate is a sigmoid, a fraction in (0, 1); tanh belongs to "
            "the candidate C_tilde and to the output tanh(C_t).": _st_tanh_output_gate,
            "You returned (C_t, H_t): the order is (H_t, C_t), like PyTorch's (h_n, c_n).": (
                _st_swapped_outputs
            ),
            "You wrote W_h? @ H_prev (the column-vector habit): H_prev holds one example per ROW, (n, h), so "
            "each recurrent term is H_prev @ W_h?.": _st_column,
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


def _assumed_order(order: str):
    """The learner's code when it believes PyTorch's blocks come in ``order`` (e.g. "iofc", ONNX's).

    It slices block k of the packed matrices as gate ``order[k]``, then stacks the gates as the exercise
    asks (i, f, c, o): so it returns block ``order.index(g)`` where gate g belongs.
    """

    def wrong(weight_ih, weight_hh, bias_ih, bias_hh):
        h = weight_hh.shape[1]
        b = bias_ih + bias_hh
        blocks = {g: slice(k * h, (k + 1) * h) for k, g in enumerate(order)}  # the ASSUMED layout
        W_x = np.stack([weight_ih[blocks[g]].T for g in "ifco"])
        W_h = np.stack([weight_hh[blocks[g]].T for g in "ifco"])
        return W_x, W_h, np.stack([b[blocks[g]] for g in "ifco"])

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
        Case(packed(), "random weights and both biases", isolates=False),
        Case(packed(), "random weights and both biases, another draw", isolates=False),
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
            "i, f, g, o.": _assumed_order("icfo"),
            "You assumed the order i, o, f, c (ONNX's); PyTorch's is i, f, g, o.": _assumed_order("iofc"),
            "You assumed the order i, f, o, c; PyTorch's is i, f, g, o (g, the candidate, comes third).": (
                _assumed_order("ifoc")
            ),
            "You swapped the first two blocks (f, i, g, o): PyTorch's order is i, f, g, o, the input gate "
            "first.": _assumed_order("fico"),
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


def _bc_sign_error(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    dC = dC_t + dH_t * O_t * (np.tanh(C_t) ** 2 - 1.0)
    return dC * F_t, dC * C_tilde, dC * C_prev, dH_t * np.tanh(C_t), dC * I_t


def _bc_no_output_gate(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    dC = dC_t + dH_t * (1.0 - np.tanh(C_t) ** 2)
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


def _bc_pre_activations(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
    # the CS231n habit: go on through the sigmoids and the tanh, to the pre-activations A_i, A_f, A_o, A_c
    dC = dC_t + dH_t * O_t * (1.0 - np.tanh(C_t) ** 2)
    dA_i = dC * C_tilde * I_t * (1.0 - I_t)
    dA_f = dC * C_prev * F_t * (1.0 - F_t)
    dA_o = dH_t * np.tanh(C_t) * O_t * (1.0 - O_t)
    dA_c = dC * I_t * (1.0 - C_tilde**2)
    return dC * F_t, dA_i, dA_f, dA_o, dA_c


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
        Case({"dH_t": dH, "dC_t": dC, **state}, "both upstream gradients non-zero", isolates=False),
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
            "Sign error: the derivative of tanh is 1 - tanh**2, so the path through H_t adds "
            "dH_t * O_t * (1 - tanh(C_t)**2), not dH_t * O_t * (tanh(C_t)**2 - 1).": _bc_sign_error,
            "The path through H_t = O_t * tanh(C_t) is missing the factor O_t: it adds "
            "dH_t * O_t * (1 - tanh(C_t)**2) to the gradient on C_t.": _bc_no_output_gate,
            "dC_prev is missing the factor F_t: C_t = F_t * C_prev + ..., so dC_prev = dC * F_t (only the "
            "1997 LSTM, without forget gate, passes dC on unchanged).": _bc_no_forget_factor,
            "You swapped dF_t and dI_t: F_t multiplies C_prev (dF_t = dC * C_prev) and I_t multiplies "
            "C_tilde (dI_t = dC * C_tilde).": _bc_swapped,
            "dO_t = dH_t * tanh(C_t): you forgot the tanh.": _bc_dO_without_tanh,
            "You returned the gradients on the PRE-activations (dA_i = dI_t * I_t * (1 - I_t), ...), as "
            "CS231n's lstm_step_backward goes on to do: this exercise stops one step earlier, at the gate "
            "values I_t, F_t, O_t, C_tilde.": _bc_pre_activations,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("dC_prev", "dI_t", "dF_t", "dO_t", "dC_tilde"),
    )
)


# -------------------------------------------------------------------------------------- lstm.step_backward
def step_backward(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
    """Backward through one fused LSTM step, from (dH_t, dC_t) to the inputs and the weights.

    Forward (gate blocks i, f, c, o of width h): A = X_t @ W_x + H_prev @ W_h + b (n, 4h);
    I_t, F_t, O_t = sigmoid of the blocks i, f, o; C_tilde = tanh of block c;
    C_t = F_t * C_prev + I_t * C_tilde; H_t = O_t * tanh(C_t).
    dH_t, dC_t (n, h): gradients on H_t and on C_t (the part arriving from step t + 1);
    X_t (n, d); H_prev, C_prev (n, h); W_x (d, 4h); W_h (h, 4h); b (4h,).
    Returns (dX_t, dH_prev, dC_prev, dW_x, dW_h, db), shaped like X_t, H_prev, C_prev, W_x, W_h, b.
    """
    h = H_prev.shape[1]
    A = X_t @ W_x + H_prev @ W_h + b
    I_t = 1.0 / (1.0 + np.exp(-A[:, :h]))
    F_t = 1.0 / (1.0 + np.exp(-A[:, h : 2 * h]))
    C_tilde = np.tanh(A[:, 2 * h : 3 * h])
    O_t = 1.0 / (1.0 + np.exp(-A[:, 3 * h :]))
    C_t = F_t * C_prev + I_t * C_tilde
    tanh_C = np.tanh(C_t)
    # backward through the cell (exercise 4), then through each gate's nonlinearity
    dC = dC_t + dH_t * O_t * (1.0 - tanh_C**2)
    dA_i = dC * C_tilde * I_t * (1.0 - I_t)
    dA_f = dC * C_prev * F_t * (1.0 - F_t)
    dA_c = dC * I_t * (1.0 - C_tilde**2)
    dA_o = dH_t * tanh_C * O_t * (1.0 - O_t)
    dA = np.concatenate([dA_i, dA_f, dA_c, dA_o], axis=1)  # (n, 4h)
    # backward through A = X_t @ W_x + H_prev @ W_h + b
    dX_t = dA @ W_x.T
    dH_prev = dA @ W_h.T
    dW_x = X_t.T @ dA
    dW_h = H_prev.T @ dA
    db = dA.sum(axis=0)
    return dX_t, dH_prev, dC * F_t, dW_x, dW_h, db


def _sb_forward(X_t, H_prev, C_prev, W_x, W_h, b):
    h = H_prev.shape[1]
    A = X_t @ W_x + H_prev @ W_h + b
    I_t, F_t = _sig(A[:, :h]), _sig(A[:, h : 2 * h])
    C_tilde, O_t = np.tanh(A[:, 2 * h : 3 * h]), _sig(A[:, 3 * h :])
    return I_t, F_t, C_tilde, O_t, F_t * C_prev + I_t * C_tilde


def _sb_from(dA, dC, F_t, X_t, H_prev, W_x, W_h):
    return dA @ W_x.T, dA @ W_h.T, dC * F_t, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_variant(no_sigmoid_derivative=False, no_tanh_derivative=False, no_h_path=False):
    def wrong(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
        I_t, F_t, C_tilde, O_t, C_t = _sb_forward(X_t, H_prev, C_prev, W_x, W_h, b)
        tanh_C = np.tanh(C_t)
        dC = dC_t if no_h_path else dC_t + dH_t * O_t * (1.0 - tanh_C**2)
        ds = (lambda G: 1.0) if no_sigmoid_derivative else (lambda G: G * (1.0 - G))
        dt = 1.0 if no_tanh_derivative else 1.0 - C_tilde**2
        dA = np.concatenate(
            [dC * C_tilde * ds(I_t), dC * C_prev * ds(F_t), dC * I_t * dt, dH_t * tanh_C * ds(O_t)], axis=1
        )
        return _sb_from(dA, dC, F_t, X_t, H_prev, W_x, W_h)

    return wrong


def _sb_dA(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
    I_t, F_t, C_tilde, O_t, C_t = _sb_forward(X_t, H_prev, C_prev, W_x, W_h, b)
    tanh_C = np.tanh(C_t)
    dC = dC_t + dH_t * O_t * (1.0 - tanh_C**2)
    dA = np.concatenate(
        [
            dC * C_tilde * I_t * (1 - I_t),
            dC * C_prev * F_t * (1 - F_t),
            dC * I_t * (1 - C_tilde**2),
            dH_t * tanh_C * O_t * (1 - O_t),
        ],
        axis=1,
    )
    return dA, dC, F_t


def _sb_no_transpose_W_h(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
    dA, dC, F_t = _sb_dA(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b)
    dH_prev = dA @ W_h  # (n, 4h) @ (h, 4h): a shape error
    return dA @ W_x.T, dH_prev, dC * F_t, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_dW_transposed(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
    dA, dC, F_t = _sb_dA(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b)
    return dA @ W_x.T, dA @ W_h.T, dC * F_t, dA.T @ X_t, dA.T @ H_prev, dA.sum(axis=0)


def _sb_db_wrong_axis(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
    dA, dC, F_t = _sb_dA(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b)
    return dA @ W_x.T, dA @ W_h.T, dC * F_t, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=1)


def _sb_cs231n_order(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
    # the blocks read in CS231n's order i, f, o, g: block 2 taken as the output gate, block 3 as the candidate
    h = H_prev.shape[1]
    perm = np.r_[0 : 2 * h, 3 * h : 4 * h, 2 * h : 3 * h]  # i, f, c, o <-> i, f, o, c (its own inverse)
    out = step_backward(dH_t, dC_t, X_t, H_prev, C_prev, W_x[:, perm], W_h[:, perm], b[perm])
    dX_t, dH_prev, dC_prev, dW_x, dW_h, db = out
    return dX_t, dH_prev, dC_prev, dW_x[:, perm], dW_h[:, perm], db[perm]


def _step_backward_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = _N, _D, _H
    W_x = rng.normal(scale=0.5, size=(d, 4 * h))
    W_h = rng.normal(scale=0.5, size=(h, 4 * h))
    b = rng.normal(scale=0.5, size=4 * h)
    X_t, H_prev = rng.normal(size=(n, d)), rng.uniform(-1.0, 1.0, size=(n, h))
    C_prev = rng.normal(scale=1.5, size=(n, h))
    dH, dC = rng.normal(size=(n, h)), rng.normal(size=(n, h))
    zero = np.zeros((n, h))
    state = {"X_t": X_t, "H_prev": H_prev, "C_prev": C_prev, "W_x": W_x, "W_h": W_h, "b": b}
    return [
        Case({"dH_t": zero, "dC_t": dC, **state}, "only dC_t is non-zero (no path through H_t)"),
        Case({"dH_t": dH, "dC_t": zero, **state}, "only dH_t is non-zero"),
        Case({"dH_t": dH, "dC_t": dC, **state}, "both upstream gradients non-zero", isolates=False),
    ]


register(
    Exercise(
        key="lstm.step_backward",
        title="Backward through one LSTM step, gates and weights",
        func_name="step_backward",
        reference=step_backward,
        make_cases=_step_backward_cases,
        wrong={
            "You used the gate values' gradients as the pre-activations' (no sigmoid derivative): through "
            "I_t = sigmoid(A_i) the gradient is multiplied by I_t * (1 - I_t), likewise F_t and O_t.": (
                _sb_variant(no_sigmoid_derivative=True)
            ),
            "You forgot the tanh derivative of the candidate: dA_c = dC * I_t * (1 - C_tilde**2).": (
                _sb_variant(no_tanh_derivative=True)
            ),
            "You used only dC_t as the gradient on C_t: C_t also reaches the loss through "
            "H_t = O_t * tanh(C_t), so add dH_t * O_t * (1 - tanh(C_t)**2).": _sb_variant(no_h_path=True),
            "dH_prev = dA @ W_h.T: W_h is (h, 4h), so the gradient goes back through its transpose (your "
            "product dA @ W_h does not even have matching shapes).": _sb_no_transpose_W_h,
            "dW_x and dW_h are transposed: dW_x = X_t.T @ dA has W_x's shape (d, 4h), not dA.T @ X_t.": (
                _sb_dW_transposed
            ),
            "db sums over the wrong axis: the bias is shared by the n examples, so db = dA.sum(axis=0), "
            "shape (4h,).": _sb_db_wrong_axis,
            "You read the blocks in CS231n's order i, f, o, g; here (as in PyTorch and Keras) they are "
            "i, f, c, o: the candidate is block 3 and the output gate block 4.": _sb_cs231n_order,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("dX_t", "dH_prev", "dC_prev", "dW_x", "dW_h", "db"),
    )
)


# ---------------------------------------------------------------------------------- lstm.torch_forget_bias
def torch_forget_bias(bias_ih, bias_hh, value):
    """Set the forget-gate bias of a PyTorch LSTM, which adds two bias vectors: b = bias_ih + bias_hh.

    bias_ih, bias_hh (4h,): blocks in PyTorch's gate order i, f, g, o; value: the wanted forget bias b_f.
    Returns new (bias_ih, bias_hh) whose SUM has value in the forget block [h, 2h), other blocks unchanged.
    """
    h = bias_ih.shape[0] // 4
    bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
    bias_ih[h : 2 * h] = value
    bias_hh[h : 2 * h] = 0.0
    return bias_ih, bias_hh


def _tf_split(fraction):
    def alt(bias_ih, bias_hh, value):
        h = bias_ih.shape[0] // 4
        bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
        bias_ih[h : 2 * h] = fraction * value
        bias_hh[h : 2 * h] = (1.0 - fraction) * value
        return bias_ih, bias_hh

    return alt


def _tf_keep(which):
    def alt(bias_ih, bias_hh, value):
        h = bias_ih.shape[0] // 4
        bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
        if which == "hh":  # keep bias_hh, put the difference into bias_ih
            bias_ih[h : 2 * h] = value - bias_hh[h : 2 * h]
        else:
            bias_hh[h : 2 * h] = value - bias_ih[h : 2 * h]
        return bias_ih, bias_hh

    return alt


def _tf_added(bias_ih, bias_hh, value):
    h = bias_ih.shape[0] // 4
    bias_ih = bias_ih.copy()
    bias_ih[h : 2 * h] += value
    return bias_ih, bias_hh.copy()


def _tf_slice_4_8(bias_ih, bias_hh, value):
    bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
    bias_ih[4:8] = value  # the chapter's example has h = 4
    bias_hh[4:8] = 0.0
    return bias_ih, bias_hh


def _tf_both(bias_ih, bias_hh, value):
    h = bias_ih.shape[0] // 4
    bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
    bias_ih[h : 2 * h] = value
    bias_hh[h : 2 * h] = value
    return bias_ih, bias_hh


def _tf_only_ih(bias_ih, bias_hh, value):
    h = bias_ih.shape[0] // 4
    bias_ih = bias_ih.copy()
    bias_ih[h : 2 * h] = value
    return bias_ih, bias_hh.copy()


def _tf_block(k):
    def wrong(bias_ih, bias_hh, value):
        h = bias_ih.shape[0] // 4
        bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
        bias_ih[k * h : (k + 1) * h] = value
        bias_hh[k * h : (k + 1) * h] = 0.0
        return bias_ih, bias_hh

    return wrong


def _torch_forget_bias_cases(rng: np.random.Generator) -> list[Case]:
    h = 3

    def biases():
        return {"bias_ih": rng.uniform(-0.5, 0.5, size=4 * h), "bias_hh": rng.uniform(-0.5, 0.5, size=4 * h)}

    return [
        Case({**biases(), "value": 1.0}, "value = 1 (Keras' unit_forget_bias)", isolates=False),
        Case({**biases(), "value": float(rng.uniform(1.5, 3.0))}, "a larger forget bias", isolates=False),
    ]


register(
    Exercise(
        key="lstm.torch_forget_bias",
        title="PyTorch's two biases and the forget-gate bias",
        func_name="torch_forget_bias",
        reference=torch_forget_bias,
        make_cases=_torch_forget_bias_cases,
        wrong={
            "You set the forget block of BOTH vectors to value: PyTorch adds bias_ih and bias_hh, so the "
            "forget bias becomes 2 * value (setting 1 in both gives 2).": _tf_both,
            "You set bias_ih only: bias_hh's forget block (random at initialisation) is still added, so the "
            "forget bias is value + bias_hh[h:2h]. Zero it.": _tf_only_ih,
            "You set block [0, h), the INPUT gate: PyTorch's order is i, f, g, o, so the forget gate is "
            "the second block [h, 2h).": _tf_block(0),
            "You set block [2h, 3h), the candidate g: in PyTorch's order i, f, g, o the forget gate is the "
            "second block [h, 2h) (the third block is the forget gate in TensorFlow 1's i, j, f, o and in "
            "ONNX's i, o, f, c, not in PyTorch).": _tf_block(2),
            "You added value to the forget biases that were there (+=): PyTorch's initial biases are random, "
            "so the forget bias becomes value + bias_ih[h:2h] + bias_hh[h:2h]. Set the sum to value (Keras "
            "can say 'add 1' because its biases start at 0).": _tf_added,
            "You kept the slice 4:8 from the chapter's example, where h = 4: compute h = len(bias_ih) // 4 "
            "and set the block [h, 2h).": _tf_slice_4_8,
        },
        accept={
            "the sum is what counts: putting value into bias_hh (and 0 into bias_ih) is just as right.": (
                _tf_split(0.0)
            ),
            "the sum is what counts: splitting value equally between the two vectors is just as right.": (
                _tf_split(0.5)
            ),
            "the sum is what counts: keeping bias_hh and setting bias_ih[h:2h] = value - bias_hh[h:2h] is "
            "just as right.": _tf_keep("hh"),
            "the sum is what counts: keeping bias_ih and setting bias_hh[h:2h] = value - bias_ih[h:2h] is "
            "just as right.": _tf_keep("ih"),
        },
        atol=1e-12,
        rtol=1e-10,
        output_names=("bias_ih", "bias_hh"),
    )
)


# ------------------------------------------------------------------------------- the chapter's open task
#: The open task at the end of the LSTM chapter: the smallest forget-gate bias (to this resolution) whose
#: median cell-path norm at lag OPEN_TASK_LAG, for section 3's inputs and initialisation, reaches the target.
OPEN_TASK_LAG, OPEN_TASK_TARGET, OPEN_TASK_RESOLUTION = 100, 0.01, 0.05


def open_task_cell_path(b_f: float) -> float:
    """Median over section 3's 8 sequences of the cell-path norm at lag 100, for forget-gate bias ``b_f``.

    Section 3's setup: inputs ``np.random.default_rng(1).normal(size=(8, 100, 4))``, parameters
    ``init_lstm_params(4, 16, rng=3, forget_bias=b_f)``, norms from ``cell_path_norms_by_lag``.
    """
    from course_lib.lstm import init_lstm_params, lstm_forward
    from course_lib.memory import cell_path_norms_by_lag

    X = np.random.default_rng(1).normal(size=(8, 100, 4))
    params = init_lstm_params(4, 16, rng=3, forget_bias=float(b_f))
    return float(np.median(cell_path_norms_by_lag(lstm_forward(X, params)[2]), axis=0)[OPEN_TASK_LAG])


def forget_bias_task_verdict(b_f) -> tuple[bool, str]:
    """Judge an answer to the open task: (right?, feedback text).

    Right: the cell-path norm at lag 100 reaches 0.01 at ``b_f`` but not at ``b_f - 0.05`` (so ``b_f`` is
    the smallest such bias to within 0.05).
    """
    title = "Open task: the smallest forget-gate bias that keeps 1% along the cell for 100 steps"
    if b_f is None:
        return False, f"{title}\n  not attempted: set my_b_f to your answer and run this cell again."
    if (
        isinstance(b_f, bool)
        or not isinstance(b_f, int | float | np.integer | np.floating)
        or not np.isfinite(b_f)
    ):
        return False, f"{title}\n  my_b_f must be a finite number; got {b_f!r}."
    at, below = open_task_cell_path(b_f), open_task_cell_path(b_f - OPEN_TASK_RESOLUTION)
    lines = [title, f"  b_f = {float(b_f):g}: median cell-path norm at lag 100 = {at:.2e}"]
    if at < OPEN_TASK_TARGET:
        lines.append(f"  below {OPEN_TASK_TARGET:g}: b_f is too small.")
        return False, "\n".join(lines)
    if below >= OPEN_TASK_TARGET:
        lines.append(
            f"  at b_f - {OPEN_TASK_RESOLUTION:g} it is still {below:.2e} >= {OPEN_TASK_TARGET:g}: "
            "a smaller bias does it too."
        )
        return False, "\n".join(lines)
    lines.append(
        f"  right: at b_f - {OPEN_TASK_RESOLUTION:g} it is {below:.2e} < {OPEN_TASK_TARGET:g}, "
        f"so this is the smallest such bias to within {OPEN_TASK_RESOLUTION:g}."
    )
    return True, "\n".join(lines)


def check_forget_bias_task(b_f) -> None:
    """Print the verdict on an answer to the chapter's open task (see :func:`forget_bias_task_verdict`)."""
    print(forget_bias_task_verdict(b_f)[1])
