"""Exercises of the activations chapter (book/05_activations.ipynb).

``activations.hard_sigmoids``        both hard sigmoids (Keras 2: clip(0.2 x + 0.5, 0, 1); PyTorch and
                                     Keras 3: relu6(x + 3) / 6) and their derivatives
``activations.stable_sigmoid``       a sigmoid that never makes NumPy warn, for any |x| (fail_on_warning)
``activations.tanh_backward``        backward through H = tanh(A) from the saved output: dA = dH ⊙ (1 − H²)
``activations.cell_bound``           the largest |C_T| a cell can reach when |F_t| <= F_max and
                                     |I_t ⊙ C̃_t| <= w_max
``activations.lstm_step_hard_gates`` one LSTM step with clipped-linear gates of a given slope

Every reference uses NumPy only and the row-vector convention of the book.
"""

from __future__ import annotations

import numpy as np

from .framework import Case, Exercise, register

_N, _D, _H = 3, 4, 5  # distinct sizes, so a transposed weight shows up as a shape error


# ------------------------------------------------------------------------------ activations.hard_sigmoids
def hard_sigmoids(x):
    """Both hard sigmoids and their derivatives, elementwise on x (any shape).

    Keras 2 / Theano:      y_keras = clip(0.2 x + 0.5, 0, 1), derivative 0.2 on (-2.5, 2.5), 0 elsewhere.
    PyTorch / Keras 3:     y_torch = relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1),
                           derivative 1/6 on (-3, 3), 0 elsewhere.
    Returns (y_keras, dy_keras, y_torch, dy_torch), each the shape of x.
    """
    y_keras = np.clip(0.2 * x + 0.5, 0.0, 1.0)
    dy_keras = np.where(np.abs(x) < 2.5, 0.2, 0.0)
    y_torch = np.clip(x + 3.0, 0.0, 6.0) / 6.0
    dy_torch = np.where(np.abs(x) < 3.0, 1.0 / 6.0, 0.0)
    return y_keras, dy_keras, y_torch, dy_torch


def _hs_swapped(x):
    y_keras, dy_keras, y_torch, dy_torch = hard_sigmoids(x)
    return y_torch, dy_torch, y_keras, dy_keras


def _hs_gulcehre_slope(x):
    _, _, y_torch, dy_torch = hard_sigmoids(x)
    return np.clip(0.25 * x + 0.5, 0.0, 1.0), np.where(np.abs(x) < 2.0, 0.25, 0.0), y_torch, dy_torch


def _hs_derivative_ignores_clip(x):
    y_keras, _, y_torch, _ = hard_sigmoids(x)
    return y_keras, np.full_like(x, 0.2), y_torch, np.full_like(x, 1.0 / 6.0)


def _hs_same_range(x):
    y_keras, _, y_torch, dy_torch = hard_sigmoids(x)
    return y_keras, np.where(np.abs(x) < 3.0, 0.2, 0.0), y_torch, dy_torch


def _hs_relu6_shift_after(x):
    y_keras, dy_keras, _, dy_torch = hard_sigmoids(x)
    return y_keras, dy_keras, np.clip(x, 0.0, 6.0) / 6.0 + 0.5, dy_torch


def _hs_wrong_order(x):
    y_keras, dy_keras, y_torch, dy_torch = hard_sigmoids(x)
    return y_keras, y_torch, dy_keras, dy_torch


def _hs_relu_not_relu6(x):
    y_keras, dy_keras, _, dy_torch = hard_sigmoids(x)
    return y_keras, dy_keras, np.maximum(x + 3.0, 0.0) / 6.0, dy_torch


def _hs_sigmoid_style_derivative(x):
    y_keras, _, y_torch, _ = hard_sigmoids(x)
    return y_keras, y_keras * (1.0 - y_keras), y_torch, y_torch * (1.0 - y_torch)


def _hard_sigmoid_cases(rng: np.random.Generator) -> list[Case]:
    def away_from_kinks(values):
        for k in (-3.0, -2.5, 2.5, 3.0):
            values = np.where(np.abs(values - k) < 1e-3, values + 0.01, values)
        return values

    inner = rng.uniform(-2.4, 2.4, size=(_N, _H))
    between = rng.choice([-1.0, 1.0], size=(_N, _H)) * rng.uniform(2.55, 2.95, size=(_N, _H))
    outer = rng.choice([-1.0, 1.0], size=(_N, _H)) * rng.uniform(3.1, 8.0, size=(_N, _H))
    mixed = away_from_kinks(rng.uniform(-6.0, 6.0, size=(_N, _D, _H)))
    return [
        Case({"x": inner}, "|x| < 2.5: both are on their linear pieces"),
        Case({"x": between}, "2.5 < |x| < 3: Keras' is saturated (flat), PyTorch's is not"),
        Case({"x": outer}, "|x| > 3: both saturated at 0 or 1"),
        Case({"x": mixed}, "random x in [-6, 6], shape (3, 4, 5)"),
    ]


register(
    Exercise(
        key="activations.hard_sigmoids",
        title="The two hard sigmoids and their derivatives",
        func_name="hard_sigmoids",
        reference=hard_sigmoids,
        make_cases=_hard_sigmoid_cases,
        output_names=("y_keras", "dy_keras", "y_torch", "dy_torch"),
        wrong={
            "You swapped the two definitions: Keras 2 / Theano use slope 0.2 (flat beyond |x| = 2.5), "
            "PyTorch's Hardsigmoid and Keras 3 use relu6(x + 3) / 6, slope 1/6 (flat beyond |x| = 3).": (
                _hs_swapped
            ),
            "You used slope 0.25 for Keras: that is Gulcehre et al.'s hard sigmoid (sigma's slope at 0), "
            "not Keras' 0.2.": _hs_gulcehre_slope,
            "Your derivatives ignore the clipping: where the function is flat (|x| >= 2.5 for Keras, "
            "|x| >= 3 for PyTorch) its derivative is exactly 0.": _hs_derivative_ignores_clip,
            "Your Keras derivative is non-zero up to |x| = 3: Keras' hard sigmoid is already flat from "
            "|x| = 2.5 (0.2 * 2.5 + 0.5 = 1).": _hs_same_range,
            "You computed relu6(x) / 6 + 0.5: the shift by 3 goes inside, relu6(x + 3) / 6.": (
                _hs_relu6_shift_after
            ),
            "You returned the outputs in the order (y_keras, y_torch, dy_keras, dy_torch): the order asked "
            "for is (y_keras, dy_keras, y_torch, dy_torch).": _hs_wrong_order,
            "Your PyTorch hard sigmoid never saturates at 1: relu(x + 3) / 6 grows without limit; relu6 caps "
            "x + 3 at 6, so the function stops at 1 for x >= 3.": _hs_relu_not_relu6,
            "You used the sigmoid's identity y * (1 - y) for the derivatives: it holds for the logistic "
            "sigmoid only. A hard sigmoid's derivative is its constant slope (0.2 or 1/6) on the ramp and 0 "
            "where it is flat.": _hs_sigmoid_style_derivative,
        },
        atol=1e-12,
        rtol=1e-10,
    )
)


# ----------------------------------------------------------------------------- activations.stable_sigmoid
def stable_sigmoid(x):
    """The logistic sigmoid 1 / (1 + exp(-x)), elementwise, without any NumPy warning for any finite x.

    x: array of any shape (float64). Returns sigma(x), same shape. Evaluate exp only where it cannot overflow.
    """
    z = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _ss_naive(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ss_other_naive(x):
    return np.exp(x) / (1.0 + np.exp(x))


def _ss_where_both_branches(x):
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


def _ss_tanh_wrong_scale(x):
    return 0.5 * (1.0 + np.tanh(x))


def _ss_abs_only(x):
    z = np.exp(-np.abs(x))
    return 1.0 / (1.0 + z)


def _ss_branches_swapped(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, z / (1.0 + z), 1.0 / (1.0 + z))


def _stable_sigmoid_cases(rng: np.random.Generator) -> list[Case]:
    moderate = rng.uniform(-6.0, 6.0, size=(_N, _H))
    very_negative = -rng.uniform(750.0, 1000.0, size=(_N, _H))
    very_positive = rng.uniform(750.0, 1000.0, size=(_N, _H))
    mixed = rng.uniform(-1000.0, 1000.0, size=(_N, _D))
    mixed[0, :2] = [-800.0, 800.0]
    return [
        Case({"x": moderate}, "moderate x in [-6, 6]"),
        Case({"x": very_negative}, "very negative x (exp(-x) overflows)"),
        Case({"x": very_positive}, "very positive x (exp(x) overflows)"),
        Case({"x": mixed}, "x of both signs in [-1000, 1000]"),
    ]


register(
    Exercise(
        key="activations.stable_sigmoid",
        title="A numerically stable sigmoid",
        func_name="stable_sigmoid",
        reference=stable_sigmoid,
        make_cases=_stable_sigmoid_cases,
        fail_on_warning=True,
        wrong={
            "You computed 1 / (1 + np.exp(-x)): for very negative x, exp(-x) overflows to inf (NumPy warns), "
            "even though the result 0 is right.": _ss_naive,
            "You computed np.exp(x) / (1 + np.exp(x)): for very positive x this is inf / inf = nan.": (
                _ss_other_naive
            ),
            "np.where evaluates BOTH branches on every element before choosing, so each branch still "
            "overflows somewhere: compute exp(-|x|), which never overflows, and choose afterwards.": (
                _ss_where_both_branches
            ),
            "sigma(x) = (1 + tanh(x / 2)) / 2: you forgot to halve x inside the tanh.": _ss_tanh_wrong_scale,
            "You returned 1 / (1 + exp(-|x|)) for every x, which is sigma(|x|): for x < 0 the sigmoid is "
            "exp(x) / (1 + exp(x)) = z / (1 + z) with z = exp(-|x|).": _ss_abs_only,
            "Your two branches are swapped: with z = exp(-|x|), sigma(x) = 1 / (1 + z) for x >= 0 and "
            "z / (1 + z) for x < 0 (you returned sigma(-x) = 1 - sigma(x)).": _ss_branches_swapped,
        },
        atol=1e-12,
        rtol=1e-10,
    )
)


# ------------------------------------------------------------------------------ activations.tanh_backward
def tanh_backward(dH, H):
    """Backward through H = tanh(A), using the saved OUTPUT H (not A).

    dH (n, h): gradient of the loss with respect to H; H (n, h): the values tanh(A) saved by the forward pass.
    Returns dA (n, h): the gradient of the loss with respect to the pre-activation A, from dH and H alone.
    """
    return dH * (1.0 - H**2)


def _tb_tanh_again(dH, H):
    return dH * (1.0 - np.tanh(H) ** 2)


def _tb_sigmoid_form(dH, H):
    return dH * H * (1.0 - H)


def _tb_no_upstream(dH, H):
    return 1.0 - H**2


def _tb_no_square(dH, H):
    return dH * (1.0 - H)


def _tb_square_of_difference(dH, H):
    return dH * (1.0 - H) ** 2


def _tb_matmul(dH, H):
    return dH @ (1.0 - H**2)


def _tb_matmul_transposed(dH, H):
    return dH @ (1.0 - H**2).T


def _tanh_backward_cases(rng: np.random.Generator) -> list[Case]:
    A = rng.normal(scale=1.5, size=(_N, _H))
    dH = rng.normal(size=(_N, _H))
    return [
        Case({"dH": np.ones((_N, _H)), "H": np.tanh(A)}, "upstream gradient all ones"),
        Case({"dH": dH, "H": np.zeros((_N, _H))}, "H = 0 (A = 0, where the slope is 1)"),
        Case({"dH": dH, "H": np.tanh(A)}, "random A, random upstream gradient"),
        Case({"dH": dH, "H": np.tanh(4.0 * A)}, "mostly saturated H (|H| near 1)"),
    ]


register(
    Exercise(
        key="activations.tanh_backward",
        title="The tanh derivative, written from the output",
        func_name="tanh_backward",
        reference=tanh_backward,
        make_cases=_tanh_backward_cases,
        wrong={
            "You applied tanh again, 1 - tanh(H)**2: H is already tanh(A), so the derivative is 1 - H**2.": (
                _tb_tanh_again
            ),
            "You used the sigmoid's derivative H * (1 - H): for tanh it is 1 - H**2.": _tb_sigmoid_form,
            "You returned the local derivative 1 - H**2 without multiplying by the upstream gradient dH.": (
                _tb_no_upstream
            ),
            "You wrote 1 - H instead of 1 - H**2.": _tb_no_square,
            "You computed (1 - H)**2: the square belongs to H alone, 1 - H**2 = (1 - H)(1 + H).": (
                _tb_square_of_difference
            ),
            "You used a matrix product dH @ (1 - H**2): the chain rule through an elementwise function is "
            "an elementwise product, dH * (1 - H**2).": _tb_matmul,
            "You used a matrix product dH @ (1 - H**2).T, which gives shape (n, n): the chain rule through "
            "an elementwise function is an elementwise product, dH * (1 - H**2), shape (n, h).": (
                _tb_matmul_transposed
            ),
        },
        atol=1e-12,
        rtol=1e-10,
    )
)


# --------------------------------------------------------------------------------- activations.cell_bound
def cell_bound(F_max, w_max, C0_abs, T):
    """The largest |C_T| the update C_t = F_t * C_{t-1} + I_t * C_tilde can reach after T steps.

    F_max (k,): bound on |F_t| (one value per case, in (0, 1]); w_max (float): bound on |I_t * C_tilde_t|;
    C0_abs (float): |C_0|; T (int >= 1): number of steps.
    Returns (k,): the bound B_T with B_0 = C0_abs and B_t = F_max * B_{t-1} + w_max.
    """
    bound = np.full_like(F_max, C0_abs, dtype=float)
    for _ in range(T):
        bound = F_max * bound + w_max
    return bound


def _cb_infinite_horizon(F_max, w_max, C0_abs, T):
    return w_max / (1.0 - F_max)


def _cb_no_initial(F_max, w_max, C0_abs, T):
    bound = np.zeros_like(F_max, dtype=float)
    for _ in range(T):
        bound = F_max * bound + w_max
    return bound


def _cb_forget_after_write(F_max, w_max, C0_abs, T):
    bound = np.full_like(F_max, C0_abs, dtype=float)
    for _ in range(T):
        bound = F_max * (bound + w_max)
    return bound


def _cb_off_by_one(F_max, w_max, C0_abs, T):
    bound = np.full_like(F_max, C0_abs, dtype=float)
    for _ in range(T + 1):
        bound = F_max * bound + w_max
    return bound


def _cb_closed_form(F_max, w_max, C0_abs, T):
    return F_max**T * C0_abs + w_max * (1.0 - F_max**T) / (1.0 - F_max)


def _cb_one_step_short(F_max, w_max, C0_abs, T):
    bound = np.full_like(F_max, C0_abs, dtype=float)
    for _ in range(1, T):
        bound = F_max * bound + w_max
    return bound


def _cb_ignores_forget_gate(F_max, w_max, C0_abs, T):
    bound = np.full_like(F_max, C0_abs, dtype=float)
    for _ in range(T):
        bound = bound + w_max
    return bound


def _cell_bound_cases(rng: np.random.Generator) -> list[Case]:
    F = np.sort(rng.uniform(0.3, 0.98, size=4))
    return [
        Case({"F_max": F, "w_max": 1.0, "C0_abs": 0.0, "T": 60}, "C_0 = 0, long sequence"),
        Case(
            {
                "F_max": F,
                "w_max": float(rng.uniform(0.2, 1.0)),
                "C0_abs": float(rng.uniform(1.0, 3.0)),
                "T": 3,
            },
            "a stored C_0, three steps",
        ),
        Case(
            {"F_max": np.array([1.0, float(F[-1])]), "w_max": 1.0, "C0_abs": 0.5, "T": 20},
            "F_max = 1 (a gate that can be exactly 1: no forgetting)",
        ),
        Case({"F_max": F, "w_max": 2.0, "C0_abs": 1.0, "T": 1}, "one step (w_max = 2, the 1997 g's range)"),
    ]


register(
    Exercise(
        key="activations.cell_bound",
        title="A bound on the memory cell",
        func_name="cell_bound",
        reference=cell_bound,
        make_cases=_cell_bound_cases,
        wrong={
            "You used the limit w_max / (1 - F_max): it holds for T -> infinity and C_0 = 0 only, and "
            "divides by zero when the gate can be exactly 1.": _cb_infinite_horizon,
            "You left out the stored value: C_0 contributes F_max**T * |C_0|.": _cb_no_initial,
            "You applied the forget gate after writing, F * (B + w): the cell keeps F * C_{t-1} and then "
            "adds the new write, F * B + w.": _cb_forget_after_write,
            "Off by one: T steps apply the update T times, starting from B_0 = |C_0|.": _cb_off_by_one,
            "Off by one: your loop applies the update T - 1 times (range(1, T)); T steps apply it T times, "
            "starting from B_0 = |C_0|.": _cb_one_step_short,
            "Your geometric-sum formula F**T |C_0| + w (1 - F**T) / (1 - F) is right for F_max < 1 but "
            "computes 0 / 0 = nan at F_max = 1, where the bound is |C_0| + T w_max: iterate the update, or "
            "treat F_max = 1 separately.": _cb_closed_form,
            "You left out the forget gate, B_t = B_{t-1} + w_max: that is the bound only for F_max = 1; "
            "the stored value is multiplied by F_max at every step, B_t = F_max * B_{t-1} + w_max.": (
                _cb_ignores_forget_gate
            ),
        },
        atol=1e-9,
        rtol=1e-9,
    )
)


# ----------------------------------------------------------------------- activations.lstm_step_hard_gates
def lstm_step_hard_gates(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    """One LSTM step whose three gates use the hard sigmoid clip(slope * A + 0.5, 0, 1).

    X_t (n, d); H_prev, C_prev (n, h); fused weights in Keras' gate order i, f, c, o: W_x (d, 4h),
    W_h (h, 4h), b (4h,). slope: 0.2 for Keras 2's hard sigmoid, 1/6 for PyTorch's.
    Candidate and output use tanh.
    Returns (H_t, C_t), both (n, h).
    """
    h = H_prev.shape[1]
    A = X_t @ W_x + H_prev @ W_h + b  # (n, 4h): the four pre-activations side by side
    A_i, A_f, A_c, A_o = A[:, :h], A[:, h : 2 * h], A[:, 2 * h : 3 * h], A[:, 3 * h :]
    I_t = np.clip(slope * A_i + 0.5, 0.0, 1.0)
    F_t = np.clip(slope * A_f + 0.5, 0.0, 1.0)
    O_t = np.clip(slope * A_o + 0.5, 0.0, 1.0)
    C_tilde = np.tanh(A_c)
    C_t = F_t * C_prev + I_t * C_tilde
    H_t = O_t * np.tanh(C_t)
    return H_t, C_t


def _step_parts(X_t, H_prev, W_x, W_h, b):
    h = H_prev.shape[1]
    A = X_t @ W_x + H_prev @ W_h + b
    return A[:, :h], A[:, h : 2 * h], A[:, 2 * h : 3 * h], A[:, 3 * h :]


def _hg_sigmoid(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    A_i, A_f, A_c, A_o = _step_parts(X_t, H_prev, W_x, W_h, b)

    def sig(a):
        return 1.0 / (1.0 + np.exp(-a))

    C_t = sig(A_f) * C_prev + sig(A_i) * np.tanh(A_c)
    return sig(A_o) * np.tanh(C_t), C_t


def _hg_offset_inside(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    A_i, A_f, A_c, A_o = _step_parts(X_t, H_prev, W_x, W_h, b)

    def hard(a):
        return np.clip(slope * (a + 0.5), 0.0, 1.0)

    C_t = hard(A_f) * C_prev + hard(A_i) * np.tanh(A_c)
    return hard(A_o) * np.tanh(C_t), C_t


def _hg_hard_candidate(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    A_i, A_f, A_c, A_o = _step_parts(X_t, H_prev, W_x, W_h, b)

    def hard(a):
        return np.clip(slope * a + 0.5, 0.0, 1.0)

    C_t = hard(A_f) * C_prev + hard(A_i) * hard(A_c)
    return hard(A_o) * np.tanh(C_t), C_t


def _hg_no_output_tanh(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    A_i, A_f, A_c, A_o = _step_parts(X_t, H_prev, W_x, W_h, b)

    def hard(a):
        return np.clip(slope * a + 0.5, 0.0, 1.0)

    C_t = hard(A_f) * C_prev + hard(A_i) * np.tanh(A_c)
    return hard(A_o) * C_t, C_t


def _hg_swapped_blocks(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    A_i, A_f, A_o, A_c = _step_parts(X_t, H_prev, W_x, W_h, b)  # blocks read as i, f, o, c

    def hard(a):
        return np.clip(slope * a + 0.5, 0.0, 1.0)

    C_t = hard(A_f) * C_prev + hard(A_i) * np.tanh(A_c)
    return hard(A_o) * np.tanh(C_t), C_t


def _hg_outputs_swapped(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    H_t, C_t = lstm_step_hard_gates(X_t, H_prev, C_prev, W_x, W_h, b, slope)
    return C_t, H_t


def _hg_fixed_keras_slope(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    return lstm_step_hard_gates(X_t, H_prev, C_prev, W_x, W_h, b, 0.2)


def _hg_relu6_ignores_slope(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    return lstm_step_hard_gates(X_t, H_prev, C_prev, W_x, W_h, b, 1.0 / 6.0)


def _hg_output_from_previous_cell(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    A_i, A_f, A_c, A_o = _step_parts(X_t, H_prev, W_x, W_h, b)

    def hard(a):
        return np.clip(slope * a + 0.5, 0.0, 1.0)

    C_t = hard(A_f) * C_prev + hard(A_i) * np.tanh(A_c)
    return hard(A_o) * np.tanh(C_prev), C_t


def _hg_forget_first(X_t, H_prev, C_prev, W_x, W_h, b, slope):
    A_f, A_i, A_c, A_o = _step_parts(X_t, H_prev, W_x, W_h, b)  # blocks read as f, i, c, o

    def hard(a):
        return np.clip(slope * a + 0.5, 0.0, 1.0)

    C_t = hard(A_f) * C_prev + hard(A_i) * np.tanh(A_c)
    return hard(A_o) * np.tanh(C_t), C_t


def _hard_gates_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = _N, _D, _H
    full = {
        "X_t": rng.normal(size=(n, d)),
        "H_prev": rng.uniform(-1.0, 1.0, size=(n, h)),
        "C_prev": rng.normal(scale=1.5, size=(n, h)),
        "W_x": rng.normal(scale=1.2, size=(d, 4 * h)),
        "W_h": rng.normal(scale=1.2, size=(h, 4 * h)),
        "b": rng.normal(scale=1.5, size=4 * h),
    }
    only_bias = {**full, "X_t": np.zeros((n, d)), "H_prev": np.zeros((n, h))}
    return [
        Case({**only_bias, "slope": 0.2}, "only the biases are non-zero, Keras' slope 0.2"),
        Case({**full, "slope": 0.2}, "all terms, Keras' slope 0.2 (some gates saturated at 0 or 1)"),
        Case({**full, "slope": 1.0 / 6.0}, "all terms, PyTorch's slope 1/6"),
    ]


register(
    Exercise(
        key="activations.lstm_step_hard_gates",
        title="An LSTM step with hard-sigmoid gates",
        func_name="lstm_step_hard_gates",
        reference=lstm_step_hard_gates,
        make_cases=_hard_gates_cases,
        output_names=("H_t", "C_t"),
        wrong={
            "You used the logistic sigmoid for the gates; they must be clip(slope * A + 0.5, 0, 1).": (
                _hg_sigmoid
            ),
            "You computed clip(slope * (A + 0.5), 0, 1): the 0.5 is added after scaling, "
            "clip(slope * A + 0.5, 0, 1).": _hg_offset_inside,
            "You used the hard sigmoid for the candidate too: C_tilde = tanh(A_c) must be able to be "
            "negative.": _hg_hard_candidate,
            "You left out the output tanh, H_t = O_t * C_t: that is the NOAF variant; the step shows "
            "O_t * tanh(C_t).": _hg_no_output_tanh,
            "You read the last two blocks as o, c: in Keras' order i, f, c, o (PyTorch's i, f, g, o is the "
            "same order) the third block is the candidate and the fourth the output gate.": (
                _hg_swapped_blocks
            ),
            "You read the first two blocks as f, i: in Keras' order i, f, c, o the input gate comes first.": (
                _hg_forget_first
            ),
            "You returned (C_t, H_t): the step returns (H_t, C_t).": _hg_outputs_swapped,
            "You used slope 0.2 whatever `slope` is: the gates must use the argument, "
            "clip(slope * A + 0.5, 0, 1).": _hg_fixed_keras_slope,
            "You wrote PyTorch's relu6(A + 3) / 6 for every gate: that is the hard sigmoid of slope 1/6 "
            "only; use the argument, clip(slope * A + 0.5, 0, 1).": _hg_relu6_ignores_slope,
            "You squashed the previous cell, H_t = O_t * tanh(C_{t-1}): the output reads the new cell, "
            "O_t * tanh(C_t).": _hg_output_from_previous_cell,
        },
        atol=1e-10,
        rtol=1e-8,
    )
)
