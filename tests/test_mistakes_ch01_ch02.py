"""The checker names what learners actually get wrong in chapters 1 and 2 (issue 12).

Each test writes one wrong answer the way a learner would type it (not by calling the registered wrong
variant) and checks that the feedback names the mistake with a "Known mistake:" line, never a bare score or
a raw NumPy exception alone. Some of these answers raise (a matmul shape mismatch): the checker must still
recognise them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.exercises import get, run_check


def _report(key, func):
    result = run_check(key, func)
    report = result.report()
    assert result.n_passed < result.n_cases, report
    return result, report


def _named(key, func, phrase):
    """The check of ``func`` fails and one of its 'Known mistake' lines contains ``phrase``."""
    result, report = _report(key, func)
    assert any(phrase in d for d in result.diagnoses), report
    assert f"Known mistake: {next(d for d in result.diagnoses if phrase in d)}" in report


# ------------------------------------------------------------------------------------------ chapter 1
def test_rnn_step_W_hh_times_H_prev_is_named_although_it_raises():
    def rnn_cell(X_t, H_prev, W_xh, W_hh, b_h):
        return np.tanh(X_t @ W_xh + W_hh @ H_prev + b_h)

    result, report = _report("rnn.step", rnn_cell)
    assert "mismatch" in report  # the cases raise: (h, h) @ (n, h) with n != h
    _named("rnn.step", rnn_cell, "You wrote W_hh @ H_prev")


def test_rnn_step_X_t_times_W_xh_transposed_is_named_although_it_raises():
    def rnn_cell(X_t, H_prev, W_xh, W_hh, b_h):
        return np.tanh(H_prev @ W_hh + X_t @ W_xh.T + b_h)  # another order of the terms: still named

    _named("rnn.step", rnn_cell, "You wrote X_t @ W_xh.T")


def test_rnn_step_W_hh_transposed_feedback_names_pytorchs_nn_rnn_convention():
    def rnn_cell(X_t, H_prev, W_xh, W_hh, b_h):
        return np.tanh(X_t @ W_xh + H_prev @ W_hh.T + b_h)

    result, report = _report("rnn.step", rnn_cell)
    assert any("nn.RNN formula writes h_{t-1} W_hh^T" in d for d in result.diagnoses), report
    assert "column-vector formula" not in report  # the old, wrong description of PyTorch's docs


def test_rnn_unroll_time_reversed_is_named():
    def rnn_unroll(X, H_0, W_xh, W_hh, b_h):
        H_t, states = H_0, []
        for t in range(X.shape[1] - 1, -1, -1):
            H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
            states.append(H_t)
        return np.stack(states, axis=1)

    _named("rnn.unroll", rnn_unroll, "backwards in time")


def test_rnn_unroll_batch_axis_indexing_is_named():
    def rnn_unroll(X, H_0, W_xh, W_hh, b_h):
        H_t, states = H_0, []
        for t in range(X.shape[1]):
            H_t = np.tanh(X[t] @ W_xh + H_t @ W_hh + b_h)
            states.append(H_t)
        return np.stack(states, axis=1)

    _named("rnn.unroll", rnn_unroll, "X[t] indexes the batch axis")


def test_jordan_slice_from_one_is_named():
    def jordan_states(X, Y, Y_0, W_xh, W_yh, b_h):
        Y_prev = np.concatenate([Y_0[:, None, :], Y[:, 1:, :]], axis=1)
        return np.tanh(X @ W_xh + Y_prev @ W_yh + b_h)

    _named("rnn.teacher_forcing", jordan_states, "Y[:, 1:]")


def test_jordan_without_Y_0_is_named_although_it_raises():
    def jordan_states(X, Y, Y_0, W_xh, W_yh, b_h):
        return np.tanh(X @ W_xh + Y[:, :-1] @ W_yh + b_h)

    _named("rnn.teacher_forcing", jordan_states, "without Y_0 in front")


def test_last_states_ignoring_lengths_is_named():
    def last_states(X, lengths, H_0, W_xh, W_hh, b_h):
        H_t = H_0
        for t in range(X.shape[1]):
            H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
        return H_t

    _named("rnn.last_states", last_states, "You ignored lengths")


def test_last_states_zeroing_padded_inputs_is_named():
    def last_states(X, lengths, H_0, W_xh, W_hh, b_h):
        H_t = H_0
        for t in range(X.shape[1]):
            x = X[:, t] * (t < lengths)[:, None]
            H_t = np.tanh(x @ W_xh + H_t @ W_hh + b_h)
        return H_t

    _named("rnn.last_states", last_states, "Zeroing the padded inputs is not enough")


def test_last_states_fancy_index_one_too_far_is_named():
    def last_states(X, lengths, H_0, W_xh, W_hh, b_h):
        H_t, states = H_0, []
        for t in range(X.shape[1]):
            H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
            states.append(H_t)
        return np.stack(states, axis=1)[np.arange(len(lengths)), lengths]

    _named("rnn.last_states", last_states, "H[:, lengths] is one step too far")


def test_torch_step_without_transposing_weight_ih_is_named_although_it_raises():
    def torch_rnn_step(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        return np.tanh(X_t @ weight_ih + bias_ih + H_prev @ weight_hh.T + bias_hh)

    _named("rnn.torch_step", torch_rnn_step, "weight_ih without its transpose")


def test_torch_step_with_the_two_weights_swapped_gets_a_message_true_for_it():
    # raises the same shape error as a missing transpose of weight_ih: the message must cover both causes
    def torch_rnn_step(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        return np.tanh(X_t @ weight_hh.T + bias_ih + H_prev @ weight_ih.T + bias_hh)

    _named("rnn.torch_step", torch_rnn_step, "or weight_hh, which belongs to H_prev")


def test_torch_step_without_tanh_is_named():
    def torch_rnn_step(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        return X_t @ weight_ih.T + bias_ih + H_prev @ weight_hh.T + bias_hh

    _named("rnn.torch_step", torch_rnn_step, "You returned the pre-activation")


def test_torch_step_without_transposing_weight_hh_is_named_although_shapes_fit():
    def torch_rnn_step(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        return np.tanh(X_t @ weight_ih.T + bias_ih + H_prev @ weight_hh + bias_hh)

    _named("rnn.torch_step", torch_rnn_step, "You wrote H_prev @ weight_hh")


def test_torch_step_column_form_is_named_although_it_raises():
    def torch_rnn_step(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        return np.tanh(weight_ih @ X_t.T + weight_hh @ H_prev.T + bias_ih + bias_hh)

    _named("rnn.torch_step", torch_rnn_step, "You computed the column form weight_ih @ X_t.T")


def test_torch_step_one_bias_is_named():
    def torch_rnn_step(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
        return np.tanh(X_t @ weight_ih.T + H_prev @ weight_hh.T + bias_ih)

    _named("rnn.torch_step", torch_rnn_step, "You left out bias_hh")


# ------------------------------------------------------------------------------------------ chapter 2
def test_step_backward_sign_error_is_named():
    def step_backward(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
        dA = dH_t * (H_t**2 - 1)
        return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)

    _named("bptt.step_backward", step_backward, "Sign error")


def test_step_backward_tanh_of_H_t_is_named():
    def step_backward(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
        dA = dH_t * (1 - np.tanh(H_t) ** 2)
        return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)

    _named("bptt.step_backward", step_backward, "1 - tanh(H_t)**2")


def test_step_backward_H_t_for_H_prev_is_named():
    def step_backward(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
        dA = dH_t * (1 - H_t**2)
        return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_t.T @ dA, dA.sum(axis=0)

    _named("bptt.step_backward", step_backward, "not by H_t")


def test_step_backward_dX_without_transpose_is_named_although_it_raises():
    def step_backward(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
        dA = dH_t * (1 - H_t**2)
        return dA @ W_xh, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)

    _named("bptt.step_backward", step_backward, "dX_t = dA_t @ W_xh.T")


def _loop(H, dH, W_hh, *, dW=None, carry=None, ret=None, deriv=None, H_in=None):
    """A learner's BPTT loop with one line swapped for a typical mistake."""
    n, T_plus_1, h = H.shape
    dW_hh = np.zeros((h, h))
    c = np.zeros((n, h))
    dA = None
    for t in range(T_plus_1 - 1, 0, -1):
        delta = dH[:, t - 1] + c
        dA = delta * (deriv(H[:, t]) if deriv else 1 - H[:, t] ** 2)
        H_prev = H[:, t] if H_in == "H_t" else H[:, t - 1]
        dW_hh += dA.T @ H_prev if dW == "transposed" else H_prev.T @ dA
        c = (delta if carry == "skip" else dA) @ W_hh.T
    return dW_hh, (dA if ret == "dA" else c)


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        (dict(dW="transposed"), "Your dW_hh is transposed"),
        (dict(carry="skip"), "Your carry skips tanh'"),
        (dict(ret="dA"), "You returned dA_1"),
        (dict(H_in="H_t"), "not by H_t = H[:, t]"),
        (dict(deriv=lambda H_t: H_t**2 - 1), "Sign error"),
        (dict(deriv=lambda H_t: 1 - np.tanh(H_t) ** 2), "not 1 - tanh(H[:, t])**2"),
    ],
    ids=["transposed-dW", "carry-skips-tanh-prime", "dH_0-returned-as-dA", "H_t-for-H_prev", "sign",
         "tanh-of-H"],
)
def test_bptt_loop_mistakes_are_named(kwargs, phrase):
    def bptt_grad_W_hh(H, dH, W_hh):
        return _loop(H, dH, W_hh, **kwargs)

    _named("bptt.backward_loop", bptt_grad_W_hh, phrase)


def test_bptt_loop_cases_use_distinct_sizes():
    for case in get("bptt.backward_loop").cases(0):
        n, _, h = case.inputs["H"].shape
        assert n != h  # a transposed (n, h) array cannot hide


def test_clipping_with_pytorchs_formula_passes():
    def clip_global_norm(dW_xh, dW_hh, db_h, max_norm):
        norm = np.sqrt(sum(np.sum(g**2) for g in (dW_xh, dW_hh, db_h)))
        coef = min(max_norm / (norm + 1e-6), 1.0)  # torch.nn.utils.clip_grad_norm_
        return dW_xh * coef, dW_hh * coef, db_h * coef

    result = run_check("bptt.clip_global_norm", clip_global_norm)
    assert result.n_passed == result.n_cases, result.report()


def test_clipping_with_torch_itself_passes():
    def clip_global_norm(dW_xh, dW_hh, db_h, max_norm):
        params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in (dW_xh, dW_hh, db_h)]
        for p, g in zip(params, (dW_xh, dW_hh, db_h)):
            p.grad = torch.from_numpy(g.copy())
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        return tuple(p.grad.numpy() for p in params)

    result = run_check("bptt.clip_global_norm", clip_global_norm)
    assert result.n_passed == result.n_cases, result.report()


def test_clipping_upside_down_factor_is_named():
    def clip_global_norm(dW_xh, dW_hh, db_h, max_norm):
        norm = np.sqrt(np.sum(dW_xh**2) + np.sum(dW_hh**2) + np.sum(db_h**2))
        if norm > max_norm:
            return dW_xh * norm / max_norm, dW_hh * norm / max_norm, db_h * norm / max_norm
        return dW_xh, dW_hh, db_h

    _named("bptt.clip_global_norm", clip_global_norm, "upside down")


def test_clipping_per_tensor_is_named():
    def clip_global_norm(dW_xh, dW_hh, db_h, max_norm):
        out = []
        for g in (dW_xh, dW_hh, db_h):
            norm = np.linalg.norm(g)
            out.append(g * max_norm / norm if norm > max_norm else g)
        return tuple(out)

    _named("bptt.clip_global_norm", clip_global_norm, "each gradient by its own norm")


def test_irnn_final_state_powers_the_wrong_way_is_named():
    def irnn_final_state(X, H_0, W_xh, scale):
        T = X.shape[1]
        H_T = scale**T * H_0
        for t in range(T):
            H_T = H_T + scale**t * (X[:, t] @ W_xh)
        return H_T

    _named("bptt.irnn_final_state", irnn_final_state, "wrong way")


def test_irnn_final_state_zero_based_off_by_one_is_named():
    def irnn_final_state(X, H_0, W_xh, scale):
        T = X.shape[1]
        return scale**T * H_0 + sum(scale ** (T - t) * X[:, t] @ W_xh for t in range(T))

    _named("bptt.irnn_final_state", irnn_final_state, "with 0-based t")


def test_last_states_index_without_arange_is_named():
    def last_states(X, lengths, H_0, W_xh, W_hh, b_h):
        H_t, states = H_0, []
        for t in range(X.shape[1]):
            H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
            states.append(H_t)
        return np.stack(states, axis=1)[:, lengths - 1]

    _named("rnn.last_states", last_states, "H[np.arange(n), lengths - 1]")


# ------------------------------------------------------------- the notebooks (issue 13: folded solutions)
@pytest.mark.parametrize("name", ["01_rnn_limits.ipynb", "02_bptt.ipynb"])
def test_solution_cells_open_collapsed_in_jupyter(name):
    import nbformat

    path = __import__("pathlib").Path(__file__).resolve().parent.parent / "book" / name
    nb = nbformat.read(path, as_version=4)
    solutions = [c for c in nb.cells if c.cell_type == "markdown" and "{dropdown} Solution" in c.source]
    assert len(solutions) >= 4
    for cell in solutions:
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, cell.source[:80]


@pytest.mark.parametrize("name", ["01_rnn_limits.ipynb", "02_bptt.ipynb"])
def test_notebook_imports_everything_in_its_first_code_cell(name):
    import nbformat

    path = __import__("pathlib").Path(__file__).resolve().parent.parent / "book" / name
    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code_cells[1:]:
        lines = [line for line in cell.source.splitlines() if line.startswith(("import ", "from "))]
        assert not lines, lines


# ------------------------------------------------- more answers typed as learners type them (review)
def test_jordan_Y_0_with_the_new_axis_in_front_is_named_although_it_raises():
    def jordan_states(X, Y, Y_0, W_xh, W_yh, b_h):
        Y_prev = np.concatenate([Y_0[None], Y[:, :-1]], axis=1)
        return np.tanh(X @ W_xh + Y_prev @ W_yh + b_h)

    _named("rnn.teacher_forcing", jordan_states, "Y_0[:, None, :]")


def test_param_count_without_the_readout_bias_is_named():
    def count_params(d, h, q, T):
        return d * h + h * h + h + h * q, T * d * h + h + h * q

    _named("rnn.param_count", count_params, "bias b_q")


def test_param_count_in_the_wrong_order_is_named():
    def count_params(d, h, q, T):
        readout = h * q + q
        return T * d * h + h + readout, d * h + h * h + h + readout

    _named("rnn.param_count", count_params, "wrong order")


def test_step_backward_parameter_gradients_from_dH_t_are_named():
    def step_backward(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
        dA = dH_t * (1 - H_t**2)
        return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dH_t, H_prev.T @ dH_t, dH_t.sum(axis=0)

    _named("bptt.step_backward", step_backward, "use dH_t where dA_t belongs")


def test_step_backward_dH_prev_without_W_hh_is_named():
    def step_backward(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
        dA = dH_t * (1 - H_t**2)
        return dA @ W_xh.T, dA, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)

    _named("bptt.step_backward", step_backward, "Your dH_prev is dA_t itself")


def test_bptt_loop_that_stops_before_step_1_is_named():
    def bptt_grad_W_hh(H, dH, W_hh):
        n, T_plus_1, h = H.shape
        dW_hh, carry = np.zeros((h, h)), np.zeros((n, h))
        for t in range(T_plus_1 - 1, 1, -1):
            dA = (dH[:, t - 1] + carry) * (1 - H[:, t] ** 2)
            dW_hh += H[:, t - 1].T @ dA
            carry = dA @ W_hh.T
        return dW_hh, carry

    _named("bptt.backward_loop", bptt_grad_W_hh, "stops before step 1")


@pytest.mark.parametrize(
    "jacobian, phrase",
    [
        (lambda a, W: (1 - a**2)[:, None] * W.T, "A holds pre-activations"),
        (lambda a, W: (1 - np.tanh(a) ** 2) * W.T, "v * M, broadcasts"),
    ],
)
def test_jacobian_product_step_mistakes_are_named(jacobian, phrase):
    def jacobian_product(A, W_hh):
        P = np.eye(A.shape[1])
        for a in A[::-1]:
            P = P @ jacobian(a, W_hh)
        return P

    _named("bptt.jacobian_product", jacobian_product, phrase)


def test_jacobian_product_entry_by_entry_is_named():
    def jacobian_product(A, W_hh):
        P = np.eye(A.shape[1])
        for a in A[::-1]:
            P = P * (np.diag(1 - np.tanh(a) ** 2) @ W_hh.T)
        return P

    _named("bptt.jacobian_product", jacobian_product, "entry by entry")


def test_jacobian_product_from_zeros_is_named():
    def jacobian_product(A, W_hh):
        P = np.zeros((A.shape[1], A.shape[1]))
        for a in A[::-1]:
            P = P @ (np.diag(1 - np.tanh(a) ** 2) @ W_hh.T)
        return P

    _named("bptt.jacobian_product", jacobian_product, "starts from zeros")


def test_clipping_without_the_square_root_is_named():
    def clip_global_norm(dW_xh, dW_hh, db_h, max_norm):
        norm = sum(np.sum(g**2) for g in (dW_xh, dW_hh, db_h))
        scale = max_norm / norm if norm > max_norm else 1.0
        return dW_xh * scale, dW_hh * scale, db_h * scale

    _named("bptt.clip_global_norm", clip_global_norm, "square root")


def test_irnn_final_state_H_0_one_power_short_is_named():
    def irnn_final_state(X, H_0, W_xh, scale):
        T = X.shape[1]
        H_T = scale ** (T - 1) * H_0
        for t in range(T):
            H_T = H_T + scale ** (T - 1 - t) * (X[:, t] @ W_xh)
        return H_T

    _named("bptt.irnn_final_state", irnn_final_state, "one power of scale short")
