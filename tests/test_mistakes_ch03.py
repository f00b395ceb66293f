"""The checker names what learners actually get wrong in the LSTM chapter (issue 12).

Each test writes one wrong answer the way a learner would type it (not by calling the registered wrong
variant) and checks that the feedback names the mistake with a "Known mistake:" line. Some of these answers
raise (a matmul shape mismatch): the checker must still recognise them. The new exercises' references are
checked against finite differences and PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.convert import lstm_params_from_torch
from course_lib.exercises import get, run_check


def _named(key, func, phrase):
    """The check of ``func`` fails and one of its 'Known mistake' lines contains ``phrase``."""
    result = run_check(key, func)
    report = result.report()
    assert result.n_passed < result.n_cases, report
    assert any(phrase in d for d in result.diagnoses), report
    assert f"Known mistake: {next(d for d in result.diagnoses if phrase in d)}" in report
    return report


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ------------------------------------------------------------------------------------------ lstm.step
def test_step_without_the_forget_gate():
    def lstm_cell(X_t, H_prev, C_prev, W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c):
        I_t = sigmoid(X_t @ W_xi + H_prev @ W_hi + b_i)
        O_t = sigmoid(X_t @ W_xo + H_prev @ W_ho + b_o)
        C_t = C_prev + I_t * np.tanh(X_t @ W_xc + H_prev @ W_hc + b_c)
        return O_t * np.tanh(C_t), C_t

    _named("lstm.step", lstm_cell, "You left out the forget gate")


@pytest.mark.parametrize("gate", ["input", "output"])
def test_step_with_tanh_on_a_gate(gate):
    def lstm_cell(X_t, H_prev, C_prev, W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c):
        act_i = np.tanh if gate == "input" else sigmoid
        act_o = np.tanh if gate == "output" else sigmoid
        I_t = act_i(X_t @ W_xi + H_prev @ W_hi + b_i)
        F_t = sigmoid(X_t @ W_xf + H_prev @ W_hf + b_f)
        O_t = act_o(X_t @ W_xo + H_prev @ W_ho + b_o)
        C_t = F_t * C_prev + I_t * np.tanh(X_t @ W_xc + H_prev @ W_hc + b_c)
        return O_t * np.tanh(C_t), C_t

    _named("lstm.step", lstm_cell, f"The {gate} gate {'I_t' if gate == 'input' else 'O_t'} uses tanh")


def test_step_returning_C_t_H_t_swapped():
    def lstm_cell(X_t, H_prev, C_prev, W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c):
        I_t = sigmoid(X_t @ W_xi + H_prev @ W_hi + b_i)
        F_t = sigmoid(X_t @ W_xf + H_prev @ W_hf + b_f)
        O_t = sigmoid(X_t @ W_xo + H_prev @ W_ho + b_o)
        C_t = F_t * C_prev + I_t * np.tanh(X_t @ W_xc + H_prev @ W_hc + b_c)
        H_t = O_t * np.tanh(C_t)
        return C_t, H_t

    _named("lstm.step", lstm_cell, "You returned (C_t, H_t)")


def test_step_with_one_minus_forget_gate():
    def lstm_cell(X_t, H_prev, C_prev, W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c):
        I_t = sigmoid(X_t @ W_xi + H_prev @ W_hi + b_i)
        F_t = sigmoid(X_t @ W_xf + H_prev @ W_hf + b_f)
        O_t = sigmoid(X_t @ W_xo + H_prev @ W_ho + b_o)
        C_t = (1 - F_t) * C_prev + I_t * np.tanh(X_t @ W_xc + H_prev @ W_hc + b_c)
        return O_t * np.tanh(C_t), C_t

    _named("lstm.step", lstm_cell, "You kept (1 - F_t) * C_{t-1}")


def test_cell_update_with_one_minus_forget_gate():
    _named(
        "lstm.cell_update",
        lambda F_t, I_t, C_tilde, C_prev: (1 - F_t) * C_prev + I_t * C_tilde,
        "You kept (1 - F_t) * C_{t-1}",
    )


def test_step_column_convention_is_named_although_it_raises():
    def lstm_cell(X_t, H_prev, C_prev, W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c):
        I_t = sigmoid(X_t @ W_xi + H_prev @ W_hi + b_i)
        F_t = sigmoid(X_t @ W_xf + np.dot(W_hf, H_prev) + b_f)  # another gate, another spelling: same error
        O_t = sigmoid(X_t @ W_xo + H_prev @ W_ho + b_o)
        C_t = F_t * C_prev + I_t * np.tanh(X_t @ W_xc + H_prev @ W_hc + b_c)
        return O_t * np.tanh(C_t), C_t

    report = _named("lstm.step", lstm_cell, "You wrote W_h? @ H_prev")
    assert "ValueError" in report  # the learner still sees their own error, and where


def test_forget_gate_column_convention_is_named_although_it_raises():
    _named(
        "lstm.forget_gate",
        lambda X_t, H_prev, W_xf, W_hf, b_f: sigmoid(X_t @ W_xf + W_hf @ H_prev + b_f),
        "You wrote W_hf @ H_prev",
    )


# ---------------------------------------------------------------------------------- lstm.backward_cell
def test_backward_cell_on_the_pre_activations_cs231n_habit():
    def backward_cell(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
        dC = dC_t + dH_t * O_t * (1 - np.tanh(C_t) ** 2)
        di = dC * C_tilde * I_t * (1 - I_t)
        df = dC * C_prev * F_t * (1 - F_t)
        do = dH_t * np.tanh(C_t) * O_t * (1 - O_t)
        dg = dC * I_t * (1 - C_tilde**2)
        return dC * F_t, di, df, do, dg

    _named("lstm.backward_cell", backward_cell, "PRE-activations")


# --------------------------------------------------------------------------------- lstm.split_torch_weights
def _split_under(order):
    """A learner's split that believes PyTorch's blocks come in ``order`` (letters i, f, c, o)."""

    def split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh):
        h = weight_hh.shape[1]
        b = bias_ih + bias_hh
        k = {g: order.index(g) for g in "ifco"}
        W_x = np.stack([weight_ih[k[g] * h : (k[g] + 1) * h].T for g in "ifco"])
        W_h = np.stack([weight_hh[k[g] * h : (k[g] + 1) * h].T for g in "ifco"])
        return W_x, W_h, np.stack([b[k[g] * h : (k[g] + 1) * h] for g in "ifco"])

    return split_torch_weights


@pytest.mark.parametrize(
    ("order", "phrase"),
    [
        ("iofc", "(ONNX's)"),
        ("fico", "You swapped the first two blocks (f, i, g, o)"),
        ("icfo", "TensorFlow 1"),
        ("ifoc", "You assumed the order i, f, o, c"),
    ],
)
def test_split_under_a_wrong_gate_order(order, phrase):
    _named("lstm.split_torch_weights", _split_under(order), phrase)


def test_split_under_pytorchs_order_passes():
    assert run_check("lstm.split_torch_weights", _split_under("ifco")).score == 1


def test_onnx_order_is_iofc_and_the_registered_mistake_slices_that_way():
    """ONNX packs W[iofc]: block 1 is o, block 2 is f, block 3 is c. A learner assuming that layout reads
    PyTorch's block 1 (f) as o, so the W_x[1] it returns (its "f") is PyTorch's block 2 (g)."""
    ex = get("lstm.split_torch_weights")
    case = ex.cases(0)[0]  # block k filled with about k + 1
    wrong = ex.wrong["You assumed the order i, o, f, c (ONNX's); PyTorch's is i, f, g, o."]
    W_x, _, b = wrong(**case.inputs)
    assert np.round(b.mean(axis=1)).tolist() == [1.0, 3.0, 4.0, 2.0]
    assert np.round(W_x.mean(axis=(1, 2))).tolist() == [1.0, 3.0, 4.0, 2.0]


# ---------------------------------------------------------------------------------- lstm.step_backward
def _numerical_grads(fn, args, upstream, eps=1e-6):
    """Central differences of L = sum(dH * H_t) + sum(dC * C_t) for every array argument of ``fn``."""
    dH, dC = upstream
    out = {}
    for name in args:
        x = args[name]
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            old = x[idx]
            x[idx] = old + eps
            Hp, Cp = fn(**args)
            x[idx] = old - eps
            Hm, Cm = fn(**args)
            x[idx] = old
            g[idx] = (np.sum(dH * (Hp - Hm)) + np.sum(dC * (Cp - Cm))) / (2 * eps)
        out[name] = g
    return out


def _fused_forward(X_t, H_prev, C_prev, W_x, W_h, b):
    h = H_prev.shape[1]
    A = X_t @ W_x + H_prev @ W_h + b
    I_t, F_t = sigmoid(A[:, :h]), sigmoid(A[:, h : 2 * h])
    C_tilde, O_t = np.tanh(A[:, 2 * h : 3 * h]), sigmoid(A[:, 3 * h :])
    C_t = F_t * C_prev + I_t * C_tilde
    return O_t * np.tanh(C_t), C_t


@pytest.mark.parametrize("seed", [0, 1])
def test_step_backward_reference_matches_finite_differences(seed):
    ex = get("lstm.step_backward")
    for case in ex.cases(seed):
        inputs = {k: np.array(v, dtype=float) for k, v in case.inputs.items()}
        got = ex.reference(**inputs)
        args = {k: inputs[k].copy() for k in ("X_t", "H_prev", "C_prev", "W_x", "W_h", "b")}
        num = _numerical_grads(_fused_forward, args, (inputs["dH_t"], inputs["dC_t"]))
        for name, g in zip(("X_t", "H_prev", "C_prev", "W_x", "W_h", "b"), got, strict=True):
            np.testing.assert_allclose(g, num[name], rtol=1e-5, atol=1e-7, err_msg=f"{case.label}: d{name}")


def test_step_backward_reference_matches_torch_lstm_cell():
    ex = get("lstm.step_backward")
    case = ex.cases(3)[2]
    x = {k: torch.tensor(v, requires_grad=True) for k, v in case.inputs.items() if k not in ("dH_t", "dC_t")}
    cell = nn.LSTMCell(4, 5).double()
    with torch.no_grad():  # PyTorch's blocks i, f, g, o equal ours i, f, c, o; weights transposed
        cell.weight_ih.copy_(x["W_x"].detach().T)
        cell.weight_hh.copy_(x["W_h"].detach().T)
        cell.bias_ih.copy_(x["b"].detach())
        cell.bias_hh.zero_()
    H_t, C_t = cell(x["X_t"], (x["H_prev"], x["C_prev"]))
    loss = (H_t * torch.tensor(case.inputs["dH_t"])).sum() + (C_t * torch.tensor(case.inputs["dC_t"])).sum()
    loss.backward()
    dX_t, dH_prev, dC_prev, dW_x, dW_h, db = ex.reference(**case.inputs)
    np.testing.assert_allclose(dX_t, x["X_t"].grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(dH_prev, x["H_prev"].grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(dC_prev, x["C_prev"].grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(dW_x, cell.weight_ih.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(dW_h, cell.weight_hh.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(db, cell.bias_ih.grad.numpy(), atol=1e-12)


def test_step_backward_without_the_sigmoid_derivative():
    def step_backward(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
        h = H_prev.shape[1]
        A = X_t @ W_x + H_prev @ W_h + b
        i, f, g, o = (
            sigmoid(A[:, :h]),
            sigmoid(A[:, h : 2 * h]),
            np.tanh(A[:, 2 * h : 3 * h]),
            sigmoid(A[:, 3 * h :]),
        )
        c = f * C_prev + i * g
        dc = dC_t + dH_t * o * (1 - np.tanh(c) ** 2)
        dA = np.hstack([dc * g, dc * C_prev, dc * i * (1 - g**2), dH_t * np.tanh(c)])
        return dA @ W_x.T, dA @ W_h.T, dc * f, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)

    _named("lstm.step_backward", step_backward, "no sigmoid derivative")


def test_step_backward_with_cs231n_gate_order():
    def step_backward(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
        h = H_prev.shape[1]
        A = X_t @ W_x + H_prev @ W_h + b
        i, f, o, g = (
            sigmoid(A[:, :h]),
            sigmoid(A[:, h : 2 * h]),
            sigmoid(A[:, 2 * h : 3 * h]),
            np.tanh(A[:, 3 * h :]),
        )
        c = f * C_prev + i * g
        dc = dC_t + dH_t * o * (1 - np.tanh(c) ** 2)
        dA = np.hstack(
            [
                dc * g * i * (1 - i),
                dc * C_prev * f * (1 - f),
                dH_t * np.tanh(c) * o * (1 - o),
                dc * i * (1 - g**2),
            ]
        )
        return dA @ W_x.T, dA @ W_h.T, dc * f, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)

    _named("lstm.step_backward", step_backward, "CS231n's order i, f, o, g")


def test_step_backward_dH_prev_without_transpose_is_named_although_it_raises():
    ref = get("lstm.step_backward").reference

    def step_backward(dH_t, dC_t, X_t, H_prev, C_prev, W_x, W_h, b):
        h = H_prev.shape[1]
        A = X_t @ W_x + H_prev @ W_h + b
        i, f, g, o = (
            sigmoid(A[:, :h]),
            sigmoid(A[:, h : 2 * h]),
            np.tanh(A[:, 2 * h : 3 * h]),
            sigmoid(A[:, 3 * h :]),
        )
        c = f * C_prev + i * g
        dc = dC_t + dH_t * o * (1 - np.tanh(c) ** 2)
        dA = np.hstack(
            [
                dc * g * i * (1 - i),
                dc * C_prev * f * (1 - f),
                dc * i * (1 - g**2),
                dH_t * np.tanh(c) * o * (1 - o),
            ]
        )
        return dA @ W_x.T, dA @ W_h, dc * f, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)

    assert ref is not step_backward
    _named("lstm.step_backward", step_backward, "dH_prev = dA @ W_h.T")


# --------------------------------------------------------------------------------- lstm.torch_forget_bias
def test_forget_bias_1_in_both_pytorch_biases_gives_2():
    def torch_forget_bias(bias_ih, bias_hh, value):
        h = len(bias_ih) // 4
        bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
        bias_ih[h : 2 * h] = value
        bias_hh[h : 2 * h] = value
        return bias_ih, bias_hh

    _named("lstm.torch_forget_bias", torch_forget_bias, "setting 1 in both gives 2")
    module = nn.LSTM(3, 4)
    with torch.no_grad():
        module.bias_ih_l0[4:8] = 1.0
        module.bias_hh_l0[4:8] = 1.0
    assert np.allclose(lstm_params_from_torch(module)["b_f"], 2.0)


def test_forget_bias_reference_gives_the_value_in_pytorch():
    ex = get("lstm.torch_forget_bias")
    module = nn.LSTM(3, 4)
    b_ih, b_hh = ex.reference(
        module.bias_ih_l0.detach().double().numpy(), module.bias_hh_l0.detach().double().numpy(), 1.0
    )
    with torch.no_grad():
        module.bias_ih_l0.copy_(torch.from_numpy(b_ih))
        module.bias_hh_l0.copy_(torch.from_numpy(b_hh))
    params = lstm_params_from_torch(module)
    assert np.allclose(params["b_f"], 1.0)


def test_forget_bias_in_bias_hh_only_is_accepted():
    def torch_forget_bias(bias_ih, bias_hh, value):
        h = len(bias_ih) // 4
        bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
        bias_ih[h : 2 * h], bias_hh[h : 2 * h] = 0.0, value
        return bias_ih, bias_hh

    r = run_check("lstm.torch_forget_bias", torch_forget_bias)
    assert r.score == 1 and "accepted:" in r.report()


def test_forget_bias_kept_bias_hh_and_difference_in_bias_ih_is_accepted():
    """Only the sum counts: value - bias_hh in bias_ih (bias_hh untouched) is right too."""

    def torch_forget_bias(bias_ih, bias_hh, value):
        h = len(bias_ih) // 4
        bias_ih = bias_ih.copy()
        bias_ih[h : 2 * h] = value - bias_hh[h : 2 * h]
        return bias_ih, bias_hh

    r = run_check("lstm.torch_forget_bias", torch_forget_bias)
    assert r.score == 1 and "accepted:" in r.report(), r.report()


def test_forget_bias_added_to_the_random_biases():
    def torch_forget_bias(bias_ih, bias_hh, value):
        h = len(bias_ih) // 4
        bias_ih = bias_ih.copy()
        bias_ih[h : 2 * h] += value  # "add 1 to the forget bias", as Keras' docs say
        return bias_ih, bias_hh

    _named("lstm.torch_forget_bias", torch_forget_bias, "You added value to the forget biases")


def test_forget_bias_with_the_examples_slice_4_8():
    def torch_forget_bias(bias_ih, bias_hh, value):
        bias_ih, bias_hh = bias_ih.copy(), bias_hh.copy()
        bias_ih[4:8] = value  # copied from the chapter's cell, where h = 4
        bias_hh[4:8] = 0.0
        return bias_ih, bias_hh

    _named("lstm.torch_forget_bias", torch_forget_bias, "slice 4:8")


def test_forget_bias_third_block_message_is_true():
    """The third block IS the forget gate in TensorFlow 1 (i, j, f, o) and ONNX (i, o, f, c): say so."""
    (message,) = [m for m in get("lstm.torch_forget_bias").wrong if "[2h, 3h)" in m]
    assert "TensorFlow 1" in message and "ONNX" in message and "no common layout" not in message


# ------------------------------------------------------------------------------ forget gate, cell, backward
def test_forget_gate_without_the_sigmoid():
    def forget_gate(X_t, H_prev, W_xf, W_hf, b_f):
        return X_t @ W_xf + H_prev @ W_hf + b_f

    _named("lstm.forget_gate", forget_gate, "You returned the pre-activation A_f")


def test_forget_gate_with_the_sign_error_in_exp_names_the_sign():
    def forget_gate(X_t, H_prev, W_xf, W_hf, b_f):
        return 1.0 / (1.0 + np.exp(X_t @ W_xf + H_prev @ W_hf + b_f))

    _named("lstm.forget_gate", forget_gate, "check the sign in exp(-A_f)")


def test_cell_update_squashed_with_tanh():
    def cell_update(F_t, I_t, C_tilde, C_prev):
        return np.tanh(F_t * C_prev + I_t * C_tilde)

    _named("lstm.cell_update", cell_update, "You squashed the cell with tanh")


def test_backward_cell_with_the_sign_error_in_tanh_derivative():
    def backward_cell(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
        dC = dC_t + dH_t * O_t * (np.tanh(C_t) ** 2 - 1)
        return dC * F_t, dC * C_tilde, dC * C_prev, dH_t * np.tanh(C_t), dC * I_t

    _named("lstm.backward_cell", backward_cell, "Sign error")


def test_backward_cell_without_the_output_gate_on_the_H_path():
    def backward_cell(dH_t, dC_t, I_t, F_t, O_t, C_tilde, C_prev, C_t):
        tanh_C = np.tanh(C_t)
        dC = dC_t + dH_t * (1 - tanh_C**2)
        return dC * F_t, dC * C_tilde, dC * C_prev, dH_t * tanh_C, dC * I_t

    _named("lstm.backward_cell", backward_cell, "missing the factor O_t")
