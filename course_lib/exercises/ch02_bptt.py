"""Exercises of chapter 2, backpropagation through time (book/02_bptt.ipynb).

``bptt.step_backward``: the backward pass of one tanh RNN step (the body of the BPTT loop).
``bptt.backward_loop``: the BPTT loop itself, for dL/dW_hh and dL/dH_0 of a tanh RNN.
``bptt.jacobian_product``: dH_{t+k} / dH_t as a product of k step Jacobians diag(1 - tanh(A)^2) @ W_hh.T.
``bptt.clip_global_norm``: gradient clipping by the global norm of all gradients together.
``bptt.identity_init``: the recurrent weights and bias of an IRNN (Le, Jaitly & Hinton, 2015).
``bptt.irnn_final_state``: the final state of a ReLU RNN with W_hh = scale * I, in closed form.
"""

from __future__ import annotations

import numpy as np

from .framework import Case, Exercise, register


# ---------------------------------------------------------------------------------------- bptt.step_backward
def step_backward(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    """Backward pass of one tanh RNN step H_t = tanh(X_t @ W_xh + H_prev @ W_hh + b_h).

    dH_t (n, h): total gradient of the loss with respect to H_t; X_t (n, d); H_prev (n, h);
    H_t (n, h): the step's output (tanh'(A_t) = 1 - H_t**2); W_xh (d, h); W_hh (h, h).
    Returns dX_t (n, d), dH_prev (n, h), dW_xh (d, h), dW_hh (h, h), db_h (h,).
    """
    dA = dH_t * (1.0 - H_t**2)  # through tanh: tanh'(A_t) = 1 - H_t**2
    dX_t = dA @ W_xh.T
    dH_prev = dA @ W_hh.T
    dW_xh = X_t.T @ dA
    dW_hh = H_prev.T @ dA
    db_h = dA.sum(axis=0)
    return dX_t, dH_prev, dW_xh, dW_hh, db_h


def _sb_no_derivative(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_wrong_step(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_prev**2)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_not_squared(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_sign_error(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (H_t**2 - 1.0)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_tanh_of_H_t(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - np.tanh(H_t) ** 2)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_dX_not_transposed(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_dW_xh_transposed(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh.T, dA @ W_hh.T, dA.T @ X_t, H_prev.T @ dA, dA.sum(axis=0)


def _sb_W_hh_not_transposed(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh.T, dA @ W_hh, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_dW_hh_transposed(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, dA.T @ H_prev, dA.sum(axis=0)


def _sb_dW_hh_uses_H_t(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_t.T @ dA, dA.sum(axis=0)


def _sb_bias_wrong_axis(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=1)


def _sb_bias_not_summed(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dA, H_prev.T @ dA, dA.mean(axis=0)


def _sb_dH_prev_is_dA(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh.T, dA, X_t.T @ dA, H_prev.T @ dA, dA.sum(axis=0)


def _sb_params_from_dH_t(dH_t, X_t, H_prev, H_t, W_xh, W_hh):
    dA = dH_t * (1.0 - H_t**2)
    return dA @ W_xh.T, dA @ W_hh.T, X_t.T @ dH_t, H_prev.T @ dH_t, dH_t.sum(axis=0)


def _step_backward_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = 3, 4, 5
    X_t = rng.normal(size=(n, d))
    H_prev = np.tanh(rng.normal(size=(n, h)))
    W_xh = rng.normal(scale=0.5, size=(d, h))
    W_hh = rng.normal(scale=0.5, size=(h, h))
    b_h = rng.normal(scale=0.5, size=h)
    dH_t = rng.normal(size=(n, h))

    def case(X, Hp, label):
        H_t = np.tanh(X @ W_xh + Hp @ W_hh + b_h)
        return Case(dict(dH_t=dH_t, X_t=X, H_prev=Hp, H_t=H_t, W_xh=W_xh, W_hh=W_hh), label)

    return [
        case(np.zeros((n, d)), np.zeros((n, h)), "X_t = 0 and H_prev = 0: only the bias drives H_t"),
        case(X_t, np.zeros((n, h)), "H_prev = 0: only the input term"),
        case(np.zeros((n, d)), H_prev, "X_t = 0: only the recurrent term"),
        case(X_t, H_prev, "all terms non-zero"),
    ]


register(
    Exercise(
        key="bptt.step_backward",
        title="The backward pass of one tanh RNN step",
        func_name="step_backward",
        reference=step_backward,
        make_cases=_step_backward_cases,
        wrong={
            "You forgot the derivative of tanh: dA_t = dH_t * (1 - H_t**2), not dH_t.": _sb_no_derivative,
            "You used the derivative of the wrong step: tanh'(A_t) = 1 - H_t**2 (this step's output), "
            "not 1 - H_prev**2.": _sb_wrong_step,
            "tanh'(A_t) is 1 - H_t**2, not 1 - H_t: square the output.": _sb_not_squared,
            "Sign error: tanh'(A_t) = 1 - H_t**2, not H_t**2 - 1 (the derivative of tanh is positive).": (
                _sb_sign_error
            ),
            "You applied tanh once more: H_t is already tanh(A_t), so tanh'(A_t) = 1 - H_t**2, not "
            "1 - tanh(H_t)**2.": _sb_tanh_of_H_t,
            "dX_t = dA_t @ W_xh.T: dA_t is (n, h) and W_xh is (d, h), so the gradient goes back through the "
            "transpose.": _sb_dX_not_transposed,
            "dW_xh has the layout of W_xh, (d, h): X_t.T @ dA_t, not dA_t.T @ X_t (which is (h, d)).": (
                _sb_dW_xh_transposed
            ),
            "dH_prev = dA_t @ W_hh.T: W_hh maps H_prev to A_t, so the gradient goes back through its "
            "transpose.": _sb_W_hh_not_transposed,
            "dW_hh has the layout of W_hh, (h_in, h_out): H_prev.T @ dA_t, not dA_t.T @ H_prev.": (
                _sb_dW_hh_transposed
            ),
            "dW_hh multiplies dA_t by the state that entered the step, H_prev, not by H_t.": (
                _sb_dW_hh_uses_H_t
            ),
            "db_h is the sum of dA_t over the batch (the loss is a sum over examples), not the mean.": (
                _sb_bias_not_summed
            ),
            "db_h sums dA_t over the batch, axis 0, giving one entry per hidden unit (h,); axis=1 sums over "
            "the hidden units and gives (n,).": _sb_bias_wrong_axis,
            "Your dH_prev is dA_t itself: the gradient still has to go back through the recurrent "
            "product, dH_prev = dA_t @ W_hh.T.": _sb_dH_prev_is_dA,
            "Your parameter gradients use dH_t where dA_t belongs: W_xh, W_hh and b_h act before the "
            "tanh, so dW_xh = X_t.T @ dA_t, dW_hh = H_prev.T @ dA_t and db_h sums dA_t, with "
            "dA_t = dH_t * (1 - H_t**2).": _sb_params_from_dH_t,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("dX_t", "dH_prev", "dW_xh", "dW_hh", "db_h"),
    )
)


# ----------------------------------------------------------------------------------------- bptt.backward_loop
def bptt_grad_W_hh(H, dH, W_hh):
    """Backpropagation through time for W_hh and H_0 of a tanh RNN.

    H (n, T + 1, h): the states H_0, H_1, ..., H_T (H[:, t] is H_t); dH (n, T, h): the upstream gradient
    on H_1, ..., H_T (dH[:, t - 1] is dl_t/dH_t); W_hh (h, h).
    Returns dW_hh (h, h) = sum over t of H_{t-1}.T @ dA_t, and dH_0 (n, h).
    """
    n, T_plus_1, h = H.shape
    dW_hh = np.zeros((h, h))
    carry = np.zeros((n, h))  # the gradient that reaches H_t from step t + 1
    for t in range(T_plus_1 - 1, 0, -1):  # t = T, T-1, ..., 1
        delta = dH[:, t - 1] + carry  # total gradient dL/dH_t
        dA = delta * (1.0 - H[:, t] ** 2)  # through tanh at step t
        dW_hh += H[:, t - 1].T @ dA  # this step's copy of W_hh
        carry = dA @ W_hh.T  # on to H_{t-1}
    return dW_hh, carry


def _bptt(
    H,
    dH,
    W_hh,
    *,
    accumulate=True,
    carry_on=True,
    every_step=True,
    prev_deriv=False,
    transpose=True,
    forward=False,
    transposed_dW=False,
    carry_skips_derivative=False,
    return_dA=False,
    H_t_for_H_prev=False,
    derivative=None,
):
    n, T_plus_1, h = H.shape
    T = T_plus_1 - 1
    dW_hh = np.zeros((h, h))
    carry = np.zeros((n, h))
    order = range(1, T + 1) if forward else range(T, 0, -1)
    for t in order:
        upstream = dH[:, t - 1] if (every_step or t == T) else 0.0
        delta = upstream + (carry if carry_on else 0.0)
        H_s = H[:, t - 1] if prev_deriv else H[:, t]
        dA = delta * (derivative(H_s) if derivative is not None else 1.0 - H_s**2)
        H_in = H[:, t] if H_t_for_H_prev else H[:, t - 1]
        term = dA.T @ H_in if transposed_dW else H_in.T @ dA
        dW_hh = dW_hh + term if accumulate else term
        carry = (delta if carry_skips_derivative else dA) @ (W_hh.T if transpose else W_hh)
    return dW_hh, (dA if return_dA else carry)


def _bptt_no_accumulate(H, dH, W_hh):
    return _bptt(H, dH, W_hh, accumulate=False)


def _bptt_no_carry(H, dH, W_hh):
    return _bptt(H, dH, W_hh, carry_on=False)


def _bptt_last_loss_only(H, dH, W_hh):
    return _bptt(H, dH, W_hh, every_step=False)


def _bptt_prev_derivative(H, dH, W_hh):
    return _bptt(H, dH, W_hh, prev_deriv=True)


def _bptt_not_transposed(H, dH, W_hh):
    return _bptt(H, dH, W_hh, transpose=False)


def _bptt_forward_in_time(H, dH, W_hh):
    return _bptt(H, dH, W_hh, forward=True)


def _bptt_transposed_dW(H, dH, W_hh):
    return _bptt(H, dH, W_hh, transposed_dW=True)


def _bptt_carry_skips_derivative(H, dH, W_hh):
    return _bptt(H, dH, W_hh, carry_skips_derivative=True)


def _bptt_returns_dA(H, dH, W_hh):
    return _bptt(H, dH, W_hh, return_dA=True)


def _bptt_H_t_for_H_prev(H, dH, W_hh):
    return _bptt(H, dH, W_hh, H_t_for_H_prev=True)


def _bptt_sign_error(H, dH, W_hh):
    return _bptt(H, dH, W_hh, derivative=lambda H_s: H_s**2 - 1.0)


def _bptt_tanh_of_H(H, dH, W_hh):
    return _bptt(H, dH, W_hh, derivative=lambda H_s: 1.0 - np.tanh(H_s) ** 2)


def _bptt_skips_step_1(H, dH, W_hh):
    n, T_plus_1, h = H.shape
    dW_hh, carry = np.zeros((h, h)), np.zeros((n, h))
    for t in range(T_plus_1 - 1, 1, -1):  # stops at t = 2: step 1 is missing
        dA = (dH[:, t - 1] + carry) * (1.0 - H[:, t] ** 2)
        dW_hh += H[:, t - 1].T @ dA
        carry = dA @ W_hh.T
    return dW_hh, carry


def _bptt_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = 3, 2, 4
    W_xh = rng.normal(scale=0.8, size=(d, h))
    W_hh = rng.normal(scale=0.6, size=(h, h))

    def states(T):
        H = [np.tanh(rng.normal(scale=0.5, size=(n, h)))]
        for _ in range(T):
            H.append(np.tanh(rng.normal(size=(n, d)) @ W_xh + H[-1] @ W_hh))
        return np.stack(H, axis=1)

    last_only = np.zeros((n, 5, h))
    last_only[:, -1] = rng.normal(size=(n, h))
    return [
        Case(dict(H=states(1), dH=rng.normal(size=(n, 1, h)), W_hh=W_hh), "T = 1: a single step"),
        Case(dict(H=states(5), dH=last_only, W_hh=W_hh), "T = 5, a loss on the last state only"),
        Case(dict(H=states(5), dH=rng.normal(size=(n, 5, h)), W_hh=W_hh), "T = 5, a loss on every state"),
    ]


register(
    Exercise(
        key="bptt.backward_loop",
        title="The BPTT loop: dL/dW_hh and dL/dH_0",
        func_name="bptt_grad_W_hh",
        reference=bptt_grad_W_hh,
        make_cases=_bptt_cases,
        wrong={
            "W_hh is shared by all steps, so its gradient is the sum of the terms of every step: "
            "accumulate with dW_hh += ..., do not overwrite it.": _bptt_no_accumulate,
            "You dropped the gradient that comes back from the later steps: the total gradient at H_t is "
            "dH[:, t-1] plus the carry dA_{t+1} @ W_hh.T (without it you computed truncated BPTT with "
            "k = 1).": _bptt_no_carry,
            "You used the upstream gradient of the last step only: a loss on every step adds dH[:, t-1] "
            "at every t.": _bptt_last_loss_only,
            "The derivative at step t is tanh'(A_t) = 1 - H_t**2 (H[:, t]), not 1 - H_{t-1}**2.": (
                _bptt_prev_derivative
            ),
            "The carry to the previous state is dA_t @ W_hh.T, with the transpose.": _bptt_not_transposed,
            "The loop must run backwards in time, from t = T down to 1: the gradient at H_t needs the "
            "one from step t + 1 first.": _bptt_forward_in_time,
            "Your dW_hh is transposed: it has the layout of W_hh, (h_in, h_out), so each step adds "
            "H_{t-1}.T @ dA_t, not dA_t.T @ H_{t-1}. (W_hh is square, so the shapes cannot warn you.)": (
                _bptt_transposed_dW
            ),
            "Your carry skips tanh': the gradient goes back to H_{t-1} from the pre-activation, "
            "carry = dA_t @ W_hh.T with dA_t = delta_t * (1 - H_t**2), not delta_t @ W_hh.T.": (
                _bptt_carry_skips_derivative
            ),
            "You returned dA_1, the gradient at the first pre-activation, as dH_0. dH_0 is one more step "
            "back: dA_1 @ W_hh.T (the carry after the loop).": _bptt_returns_dA,
            "dW_hh multiplies dA_t by the state that entered step t, H_{t-1} = H[:, t-1], not by "
            "H_t = H[:, t].": _bptt_H_t_for_H_prev,
            "Sign error: tanh'(A_t) = 1 - H_t**2, not H_t**2 - 1.": _bptt_sign_error,
            "H[:, t] is already tanh(A_t): the derivative is 1 - H[:, t]**2, not 1 - tanh(H[:, t])**2.": (
                _bptt_tanh_of_H
            ),
            "Your loop stops before step 1: range(T, 1, -1) ends at t = 2. Step 1 (with H_0 going in) "
            "also has a copy of W_hh, and dH_0 comes out of it: range(T, 0, -1).": _bptt_skips_step_1,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("dW_hh", "dH_0"),
    )
)


# ------------------------------------------------------------------------------------- bptt.jacobian_product
def jacobian_product(A, W_hh):
    """dH_{t+k} / dH_t of a tanh RNN for one example: J_{t+k} @ ... @ J_{t+1}.

    A (k, h): pre-activations A_{t+1}, ..., A_{t+k} (row i is step t+1+i); W_hh (h, h).
    Each step Jacobian is J_s = diag(1 - tanh(A_s)**2) @ W_hh.T. Returns P (h, h).
    """
    k, h = A.shape
    P = np.eye(h)
    for i in range(k - 1, -1, -1):  # the latest step on the left: P = J_{t+k} @ ... @ J_{t+1}
        J = (1.0 - np.tanh(A[i]) ** 2)[:, None] * W_hh.T  # diag(f'(A_s)) @ W_hh.T
        P = P @ J
    return P


def _jp(A, W_hh, jac, order="latest_left", steps=None):
    k, h = A.shape
    steps = range(k) if steps is None else steps
    P = np.eye(h)
    for i in steps:
        J = jac(A[i], W_hh)
        P = J @ P if order == "latest_left" else P @ J
    return P


def _jp_no_diag(A, W_hh):
    return _jp(A, W_hh, lambda a, W: W.T)


def _jp_not_transposed(A, W_hh):
    return _jp(A, W_hh, lambda a, W: (1.0 - np.tanh(a) ** 2)[:, None] * W)


def _jp_diag_on_right(A, W_hh):
    return _jp(A, W_hh, lambda a, W: W.T * (1.0 - np.tanh(a) ** 2)[None, :])


def _jp_reversed(A, W_hh):
    return _jp(A, W_hh, lambda a, W: (1.0 - np.tanh(a) ** 2)[:, None] * W.T, order="earliest_left")


def _jp_off_by_one(A, W_hh):
    return _jp(A, W_hh, lambda a, W: (1.0 - np.tanh(a) ** 2)[:, None] * W.T, steps=range(A.shape[0] - 1))


def _jp_tanh_not_derivative(A, W_hh):
    return _jp(A, W_hh, lambda a, W: np.tanh(a)[:, None] * W.T)


def _jp_derivative_of_A(A, W_hh):
    return _jp(A, W_hh, lambda a, W: (1.0 - a**2)[:, None] * W.T)


def _jp_start_from_zeros(A, W_hh):
    return np.zeros((A.shape[1], A.shape[1]))


def _jp_elementwise(A, W_hh):
    k, h = A.shape
    P = np.eye(h)
    for i in range(k - 1, -1, -1):
        P = P * ((1.0 - np.tanh(A[i]) ** 2)[:, None] * W_hh.T)
    return P


def _jacobian_product_cases(rng: np.random.Generator) -> list[Case]:
    h = 4
    W_hh = rng.normal(scale=0.8, size=(h, h))
    return [
        Case(dict(A=rng.normal(size=(1, h)), W_hh=W_hh), "k = 1: the product is the single Jacobian J_{t+1}"),
        Case(dict(A=np.zeros((3, h)), W_hh=W_hh), "A = 0, so tanh' = 1: the product is (W_hh.T)^3"),
        Case(dict(A=rng.normal(size=(2, h)), W_hh=W_hh), "k = 2: order of the two factors matters"),
        Case(dict(A=rng.normal(size=(5, h)), W_hh=W_hh), "k = 5, general pre-activations"),
    ]


register(
    Exercise(
        key="bptt.jacobian_product",
        title="The Jacobian dH_{t+k}/dH_t as a product of step Jacobians",
        func_name="jacobian_product",
        reference=jacobian_product,
        make_cases=_jacobian_product_cases,
        wrong={
            "You left out diag(tanh'(A_s)): each step Jacobian is diag(1 - tanh(A_s)**2) @ W_hh.T, "
            "not W_hh.T alone.": _jp_no_diag,
            "In the row-vector convention A_s = H_{s-1} @ W_hh + ..., so dA_s/dH_{s-1} = W_hh.T: "
            "you used W_hh without the transpose.": _jp_not_transposed,
            "The diagonal goes on the left, diag(f'(A_s)) @ W_hh.T (it scales rows, the outputs of the "
            "step), not on the right. (A vector times a matrix, v * M, broadcasts over the rows and "
            "scales the columns: that is M @ diag(v). diag(v) @ M is v[:, None] * M.)": _jp_diag_on_right,
            "The factors are in the wrong order: the latest step's Jacobian goes on the left, "
            "J_{t+k} @ ... @ J_{t+1} (the chain rule reads from the output back).": _jp_reversed,
            "Off by one: A holds k steps, so the product has k Jacobians; you multiplied k - 1 "
            "(check your range()).": _jp_off_by_one,
            "You used tanh(A_s) where the derivative 1 - tanh(A_s)**2 belongs.": _jp_tanh_not_derivative,
            "A holds pre-activations, not states: tanh'(A_s) = 1 - tanh(A_s)**2. The shortcut 1 - H**2 "
            "needs H = tanh(A).": _jp_derivative_of_A,
            "Your product starts from zeros, and zero times anything stays zero. The empty product is the "
            "identity: start from P = np.eye(h).": _jp_start_from_zeros,
            "You multiplied the Jacobians entry by entry (P * J). Chaining steps is a matrix product: "
            "P @ J.": _jp_elementwise,
        },
        atol=1e-10,
        rtol=1e-8,
    )
)


# ------------------------------------------------------------------------------------ bptt.clip_global_norm
def clip_global_norm(dW_xh, dW_hh, db_h, max_norm):
    """Clip three gradients together by their global norm.

    dW_xh (d, h), dW_hh (h, h), db_h (h,); max_norm > 0. The global norm is the square root of the sum of
    squares of every entry of the three arrays. If it exceeds max_norm, all three are multiplied by
    max_norm / norm; otherwise they are returned unchanged. Returns (dW_xh, dW_hh, db_h).
    """
    norm = np.sqrt(np.sum(dW_xh**2) + np.sum(dW_hh**2) + np.sum(db_h**2))
    scale = max_norm / norm if norm > max_norm else 1.0
    return dW_xh * scale, dW_hh * scale, db_h * scale


def _cg_per_tensor(dW_xh, dW_hh, db_h, max_norm):
    out = []
    for g in (dW_xh, dW_hh, db_h):
        n = np.sqrt(np.sum(g**2))
        out.append(g * (max_norm / n if n > max_norm else 1.0))
    return tuple(out)


def _cg_by_value(dW_xh, dW_hh, db_h, max_norm):
    return tuple(np.clip(g, -max_norm, max_norm) for g in (dW_xh, dW_hh, db_h))


def _cg_always_scale(dW_xh, dW_hh, db_h, max_norm):
    norm = np.sqrt(np.sum(dW_xh**2) + np.sum(dW_hh**2) + np.sum(db_h**2))
    return dW_xh * max_norm / norm, dW_hh * max_norm / norm, db_h * max_norm / norm


def _cg_forgot_bias(dW_xh, dW_hh, db_h, max_norm):
    norm = np.sqrt(np.sum(dW_xh**2) + np.sum(dW_hh**2))
    scale = max_norm / norm if norm > max_norm else 1.0
    return dW_xh * scale, dW_hh * scale, db_h * scale


def _cg_sum_of_norms(dW_xh, dW_hh, db_h, max_norm):
    norm = sum(np.sqrt(np.sum(g**2)) for g in (dW_xh, dW_hh, db_h))
    scale = max_norm / norm if norm > max_norm else 1.0
    return dW_xh * scale, dW_hh * scale, db_h * scale


def _cg_inverted_ratio(dW_xh, dW_hh, db_h, max_norm):
    norm = np.sqrt(np.sum(dW_xh**2) + np.sum(dW_hh**2) + np.sum(db_h**2))
    scale = norm / max_norm if norm > max_norm else 1.0
    return dW_xh * scale, dW_hh * scale, db_h * scale


def _cg_squared_norm(dW_xh, dW_hh, db_h, max_norm):
    norm = np.sum(dW_xh**2) + np.sum(dW_hh**2) + np.sum(db_h**2)  # no square root
    scale = max_norm / norm if norm > max_norm else 1.0
    return dW_xh * scale, dW_hh * scale, db_h * scale


def _cg_pytorch(dW_xh, dW_hh, db_h, max_norm):
    norm = np.sqrt(np.sum(dW_xh**2) + np.sum(dW_hh**2) + np.sum(db_h**2))
    scale = min(max_norm / (norm + 1e-6), 1.0)  # torch.nn.utils.clip_grad_norm_
    return dW_xh * scale, dW_hh * scale, db_h * scale


def _clip_cases(rng: np.random.Generator) -> list[Case]:
    d, h = 3, 4

    def with_norm(shape, norm):  # a random direction with exactly this norm, so each label holds for any rng
        g = rng.normal(size=shape)
        return g * (norm / np.linalg.norm(g))

    def grads(norm_xh, norm_hh, norm_b):
        return dict(
            dW_xh=with_norm((d, h), norm_xh), dW_hh=with_norm((h, h), norm_hh), db_h=with_norm(h, norm_b)
        )

    return [
        Case({**grads(0.02, 0.04, 0.01), "max_norm": 1.0}, "global norm below max_norm: nothing changes"),
        Case({**grads(0.7, 0.8, 0.6), "max_norm": 1.0}, "each norm below max_norm, their global norm above"),
        Case({**grads(2.0, 120.0, 4.0), "max_norm": 5.0}, "one huge gradient (dW_hh), the others moderate"),
        Case({**grads(1.0, 1.0, 8.0), "max_norm": float(rng.uniform(1.0, 2.0))}, "a large bias gradient"),
    ]


register(
    Exercise(
        key="bptt.clip_global_norm",
        title="Gradient clipping by global norm",
        func_name="clip_global_norm",
        reference=clip_global_norm,
        make_cases=_clip_cases,
        wrong={
            "You clipped each gradient by its own norm. Clipping by global norm scales all of them by "
            "one factor computed from the norm of all gradients together, which keeps the direction of the "
            "whole update.": _cg_per_tensor,
            "You clipped by value (np.clip of every entry). That changes the direction of the gradient; "
            "clipping by norm rescales the whole vector.": _cg_by_value,
            "You rescaled even when the norm was already below max_norm: clipping only shrinks, "
            "scale = min(1, max_norm / norm).": _cg_always_scale,
            "Your global norm leaves out db_h: every gradient enters the norm.": _cg_forgot_bias,
            "The global norm is sqrt(sum of all squares), not the sum of the three norms.": _cg_sum_of_norms,
            "Your factor is upside down: norm / max_norm makes a large gradient larger. Multiply by "
            "max_norm / norm (< 1 when clipping).": _cg_inverted_ratio,
            "You forgot the square root: the sum of squares is the squared norm. The global norm is "
            "np.sqrt(sum of all squares).": _cg_squared_norm,
        },
        accept={
            "PyTorch's clip_grad_norm_ divides by norm + 1e-6 (and caps the factor at 1): the same "
            "clipping.": _cg_pytorch,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("dW_xh", "dW_hh", "db_h"),
    )
)


# --------------------------------------------------------------------------------------- bptt.identity_init
def identity_init(h, scale):
    """The recurrent weights of an IRNN (Le, Jaitly & Hinton, 2015).

    h: hidden size; scale: multiplies the identity (1.0 is the IRNN; the paper also uses a scaled identity).
    Returns W_hh (h, h) = scale * identity and b_h (h,) = zeros.
    """
    W_hh = scale * np.eye(h)
    b_h = np.zeros(h)
    return W_hh, b_h


def _ii_ones(h, scale):
    return scale * np.ones((h, h)), np.zeros(h)


def _ii_no_scale(h, scale):
    return np.eye(h), np.zeros(h)


def _ii_bias_ones(h, scale):
    return scale * np.eye(h), np.ones(h)


def _ii_bias_scale(h, scale):
    return scale * np.eye(h), scale * np.ones(h)


def _identity_init_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case(dict(h=int(rng.integers(3, 6)), scale=1.0), "scale = 1: the plain identity"),
        Case(dict(h=int(rng.integers(2, 8)), scale=float(rng.uniform(0.1, 0.9))), "a scaled identity"),
    ]


register(
    Exercise(
        key="bptt.identity_init",
        title="Identity initialisation of a ReLU RNN (IRNN)",
        func_name="identity_init",
        reference=identity_init,
        make_cases=_identity_init_cases,
        wrong={
            "np.ones((h, h)) is the all-ones matrix, not the identity: use np.eye(h).": _ii_ones,
            "You ignored scale: W_hh = scale * np.eye(h).": _ii_no_scale,
            "The IRNN starts with zero biases, b_h = np.zeros(h).": _ii_bias_ones,
            "scale multiplies W_hh only; the bias starts at zero.": _ii_bias_scale,
        },
        atol=1e-12,
        rtol=1e-10,
        output_names=("W_hh", "b_h"),
    )
)


# ----------------------------------------------------------------------------------- bptt.irnn_final_state
def irnn_final_state(X, H_0, W_xh, scale):
    """The final state H_T of a ReLU RNN with W_hh = scale * I and b_h = 0, as a sum (no recurrence).

    Valid while every unit stays active (X, W_xh, H_0 >= 0 here, so ReLU never cuts). X (n, T, d), with
    X[:, t - 1] the input X_t of step t; H_0 (n, h); W_xh (d, h); scale: a float. Returns H_T (n, h)
    without running the recurrence: each term's weight is a power of scale.
    """
    T = X.shape[1]
    H_T = scale**T * H_0  # H_0 is multiplied by scale at each of the T steps
    for t in range(1, T + 1):
        H_T = H_T + scale ** (T - t) * (X[:, t - 1] @ W_xh)  # X_t, then T - t more steps
    return H_T


def _irnn_loop(X, H_0, W_xh, scale, start_power=0, reverse=False, H_0_power=None):
    T = X.shape[1]
    powers = np.arange(T) if reverse else np.arange(T - 1, -1, -1)
    weights = scale ** (powers + start_power)
    p0 = T if H_0_power is None else H_0_power
    return scale**p0 * H_0 + np.einsum("t,ntd->nd", weights, X) @ W_xh


def _irnn_reversed_powers(X, H_0, W_xh, scale):
    return _irnn_loop(X, H_0, W_xh, scale, reverse=True)


def _irnn_one_power_too_many(X, H_0, W_xh, scale):
    return _irnn_loop(X, H_0, W_xh, scale, start_power=1, H_0_power=X.shape[1] + 1)


def _irnn_zero_based_exponent(X, H_0, W_xh, scale):
    return _irnn_loop(X, H_0, W_xh, scale, start_power=1)


def _irnn_H_0_not_decayed(X, H_0, W_xh, scale):
    return _irnn_loop(X, H_0, W_xh, scale, H_0_power=0)


def _irnn_H_0_one_power_short(X, H_0, W_xh, scale):
    return _irnn_loop(X, H_0, W_xh, scale, H_0_power=X.shape[1] - 1)


def _irnn_no_H_0(X, H_0, W_xh, scale):
    return irnn_final_state(X, np.zeros_like(H_0), W_xh, scale)


def _irnn_ignores_scale(X, H_0, W_xh, scale):
    return irnn_final_state(X, H_0, W_xh, 1.0)


def _irnn_mean(X, H_0, W_xh, scale):
    return scale ** X.shape[1] * H_0 + X.mean(axis=1) @ W_xh


def _irnn_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = 3, 2, 4

    def case(T, scale, H_0_zero=False):
        return {
            "X": rng.uniform(0.0, 1.0, size=(n, T, d)),
            "H_0": np.zeros((n, h)) if H_0_zero else rng.uniform(0.0, 1.0, size=(n, h)),
            "W_xh": rng.uniform(0.0, 1.0, size=(d, h)),
            "scale": scale,
        }

    return [
        Case(case(1, 0.5), "T = 1: a single step"),
        Case(case(6, 1.0, H_0_zero=True), "scale = 1 (the IRNN), H_0 = 0: a plain sum of the inputs"),
        Case(case(6, 1.0), "scale = 1, non-zero H_0"),
        Case(case(5, float(rng.uniform(0.5, 0.9))), "scale < 1: the network forgets geometrically"),
    ]


register(
    Exercise(
        key="bptt.irnn_final_state",
        title="What an identity-initialised ReLU RNN computes",
        func_name="irnn_final_state",
        reference=irnn_final_state,
        make_cases=_irnn_cases,
        wrong={
            "Your powers of scale run the wrong way: the LAST input is the freshest, weight scale**0, and "
            "the first input X_1 has been multiplied by scale T - 1 times.": _irnn_reversed_powers,
            "Off by one: X_t enters at step t and is then multiplied by scale at each of the T - t later "
            "steps, so its weight is scale**(T - t), and H_0's is scale**T.": _irnn_one_power_too_many,
            "Off by one in the inputs' powers: each input got one factor of scale too many. The last "
            "input, X[:, T - 1], enters at the last step and keeps weight scale**0 = 1; with 0-based t, "
            "X[:, t] is multiplied by scale at the T - 1 - t steps after it: scale**(T - 1 - t).": (
                _irnn_zero_based_exponent
            ),
            "H_0 is multiplied by scale at every one of the T steps: scale**T * H_0, not H_0.": (
                _irnn_H_0_not_decayed
            ),
            "You left out H_0: the state starts from H_0, which survives as scale**T * H_0.": _irnn_no_H_0,
            "H_0 is one power of scale short: it is multiplied by scale at every one of the T steps "
            "(step 1 included), scale**T * H_0, not scale**(T - 1).": _irnn_H_0_one_power_short,
            "You ignored scale: with W_hh = scale * I each step multiplies the state by scale.": (
                _irnn_ignores_scale
            ),
            "The network adds its inputs, it does not average them: a sum over t, not a mean.": _irnn_mean,
        },
        atol=1e-10,
        rtol=1e-10,
        output_names=("H_T",),
    )
)
