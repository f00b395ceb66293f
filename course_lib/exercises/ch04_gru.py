"""Exercises of the GRU chapter (book/04_gru.ipynb).

``gru.step``                ``gru_cell``: one GRU step in either convention (``reset_after`` 0: Cho et al.
                            2014, reset before the recurrent product; 1: PyTorch/cuDNN, reset after it)
``gru.split_torch_weights`` ``nn.GRU``'s packed ``weight_ih_l0`` (3h, d), ``weight_hh_l0`` (3h, h) and two
                            biases -> per-gate weights in the book's layout, with ``b_hn`` kept apart
``gru.param_counts``        parameter counts: reset-before with one bias, PyTorch, Keras ``reset_after=True``
``gru.sequence``            the seeds' hand-written GRU, repaired: a whole sequence with a read-out
``gru.backward_mix``        the backward step through H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H_tilde

Every reference uses NumPy only and the row-vector convention of the book.
"""

from __future__ import annotations

import numpy as np

from .framework import Case, Exercise, register

_N, _D, _H = 3, 4, 5  # distinct sizes, so a transposed weight shows up as a shape error


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


# ------------------------------------------------------------------------------------------------- gru.step
def gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    """One GRU step. X_t (n, d), H_prev (n, h); W_x? (d, h), W_h? (h, h), b_? and b_hh_rec (h,).

    R_t = sigmoid(X_t W_xr + H_prev W_hr + b_r);  Z_t = sigmoid(X_t W_xz + H_prev W_hz + b_z)
    reset_after = 0 (Cho et al. 2014):  H_tilde = tanh(X_t W_xh + (R_t * H_prev) W_hh + b_h + b_hh_rec)
    reset_after = 1 (PyTorch):          H_tilde = tanh(X_t W_xh + b_h + R_t * (H_prev W_hh + b_hh_rec))
    Returns H_t = Z_t * H_prev + (1 - Z_t) * H_tilde, shape (n, h).
    """
    R_t = 1.0 / (1.0 + np.exp(-(X_t @ W_xr + H_prev @ W_hr + b_r)))
    Z_t = 1.0 / (1.0 + np.exp(-(X_t @ W_xz + H_prev @ W_hz + b_z)))
    if reset_after:
        H_tilde = np.tanh(X_t @ W_xh + b_h + R_t * (H_prev @ W_hh + b_hh_rec))
    else:
        H_tilde = np.tanh(X_t @ W_xh + (R_t * H_prev) @ W_hh + b_h + b_hh_rec)
    return Z_t * H_prev + (1.0 - Z_t) * H_tilde


def _gates(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z):
    return _sig(X_t @ W_xr + H_prev @ W_hr + b_r), _sig(X_t @ W_xz + H_prev @ W_hz + b_z)


def _st_other_convention(
    X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after
):
    return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, 1 - reset_after)


def _st_always_before(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, 0)


def _st_always_after(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, 1)


def _st_z_swapped(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    H_t = gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after)
    Z_t = _gates(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z)[1]
    H_tilde = (H_t - Z_t * H_prev) / (1.0 - Z_t)
    return (1.0 - Z_t) * H_prev + Z_t * H_tilde


def _st_reset_on_input(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    R_t, Z_t = _gates(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z)
    H_tilde = np.tanh(R_t * (X_t @ W_xh) + H_prev @ W_hh + b_h + b_hh_rec)
    return Z_t * H_prev + (1.0 - Z_t) * H_tilde


def _st_no_reset(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    Z_t = _gates(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z)[1]
    H_tilde = np.tanh(X_t @ W_xh + H_prev @ W_hh + b_h + b_hh_rec)
    return Z_t * H_prev + (1.0 - Z_t) * H_tilde


def _st_after_bias_outside(
    X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after
):
    if not reset_after:
        return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, 0)
    R_t, Z_t = _gates(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z)
    H_tilde = np.tanh(X_t @ W_xh + b_h + b_hh_rec + R_t * (H_prev @ W_hh))
    return Z_t * H_prev + (1.0 - Z_t) * H_tilde


def _candidate(X_t, H_prev, R_t, W_xh, W_hh, b_h, b_hh_rec, reset_after, squash=np.tanh):
    if reset_after:
        return squash(X_t @ W_xh + b_h + R_t * (H_prev @ W_hh + b_hh_rec))
    return squash(X_t @ W_xh + (R_t * H_prev) @ W_hh + b_h + b_hh_rec)


def _st_no_b_hh_before(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    if reset_after:
        return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, 1)
    zero = np.zeros_like(b_hh_rec)
    return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, zero, 0)


def _st_no_b_hh(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    zero = np.zeros_like(b_hh_rec)
    return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, zero, reset_after)


def _st_gates_swapped(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    return gru_cell(X_t, H_prev, W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, b_hh_rec, reset_after)


def _st_reset_in_mix(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    R_t, Z_t = _gates(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z)
    H_tilde = np.tanh(X_t @ W_xh + H_prev @ W_hh + b_h + b_hh_rec)
    return Z_t * (R_t * H_prev) + (1.0 - Z_t) * H_tilde


def _st_reset_whole(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after):
    if not reset_after:
        return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, 0)
    R_t, Z_t = _gates(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z)
    H_tilde = np.tanh(R_t * (X_t @ W_xh + b_h + H_prev @ W_hh + b_hh_rec))
    return Z_t * H_prev + (1.0 - Z_t) * H_tilde


def _st_sigmoid_candidate(
    X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after
):
    R_t, Z_t = _gates(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z)
    H_tilde = _candidate(X_t, H_prev, R_t, W_xh, W_hh, b_h, b_hh_rec, reset_after, squash=_sig)
    return Z_t * H_prev + (1.0 - Z_t) * H_tilde


def _st_W_hh_transposed(
    X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, b_hh_rec, reset_after
):
    return gru_cell(X_t, H_prev, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh.T, b_h, b_hh_rec, reset_after)


def _step_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = _N, _D, _H

    def draw():
        return {
            "X_t": rng.normal(size=(n, d)),
            "H_prev": rng.uniform(-0.9, 0.9, size=(n, h)),
            **{f"W_x{g}": rng.normal(scale=0.6, size=(d, h)) for g in "rzh"},
            **{f"W_h{g}": rng.normal(scale=0.6, size=(h, h)) for g in "rzh"},
            **{f"b_{g}": rng.normal(scale=0.5, size=h) for g in "rzh"},
            "b_hh_rec": rng.normal(scale=0.5, size=h),
        }

    order = ["X_t", "H_prev", "W_xr", "W_hr", "b_r", "W_xz", "W_hz", "b_z", "W_xh", "W_hh", "b_h", "b_hh_rec"]
    cases = []
    for flag, name in (
        (0, "reset before the product (Cho et al.)"),
        (1, "reset after the product (PyTorch)"),
    ):
        cases.append(
            Case(
                {**{k: v for k, v in draw().items() if k in order}, "reset_after": flag},
                f"reset_after = {flag}: {name}, random values",
            )
        )
    zero_in = draw()
    zero_in["X_t"] = np.zeros((n, d))
    cases.append(Case({**zero_in, "reset_after": 1}, "reset_after = 1, X_t = 0: only the recurrent terms"))
    cases.append(Case({**draw(), "reset_after": 0}, "reset_after = 0, another draw"))
    return cases


register(
    Exercise(
        key="gru.step",
        title="One GRU step, in both conventions",
        func_name="gru_cell",
        reference=gru_cell,
        make_cases=_step_cases,
        wrong={
            "You swapped the conventions: reset_after = 0 is Cho et al.'s (R_t * H_prev) @ W_hh, reset_after "
            "= 1 is PyTorch's R_t * (H_prev @ W_hh + b_hh_rec).": _st_other_convention,
            "You always reset BEFORE the product (Cho et al.'s form), also when reset_after = 1.": (
                _st_always_before
            ),
            "You always reset AFTER the product (PyTorch's form), also when reset_after = 0.": (
                _st_always_after
            ),
            "Z_t is on the wrong side: in this book (and Cho et al., PyTorch, Keras) Z_t weights the OLD "
            "state, H_t = Z_t * H_prev + (1 - Z_t) * H_tilde.": _st_z_swapped,
            "The reset gate multiplies the wrong term: it scales the recurrent contribution (H_prev), not "
            "the input term X_t @ W_xh.": _st_reset_on_input,
            "You left the reset gate out of the candidate: H_tilde must use R_t.": _st_no_reset,
            "With reset_after = 1 the recurrent bias b_hh_rec belongs INSIDE the reset product, "
            "R_t * (H_prev @ W_hh + b_hh_rec), not outside it.": _st_after_bias_outside,
            "With reset_after = 0 you left out b_hh_rec: in this exercise the candidate of Cho et al.'s form "
            "has both biases, X_t @ W_xh + (R_t * H_prev) @ W_hh + b_h + b_hh_rec.": _st_no_b_hh_before,
            "You left out the second candidate bias b_hh_rec in both conventions.": _st_no_b_hh,
            "You swapped the two gates: R_t is sigmoid(X_t W_xr + H_prev W_hr + b_r) and multiplies "
            "H_prev in the candidate; Z_t (W_xz, W_hz, b_z) mixes the old state and the candidate. (Keras "
            "stores them z first, PyTorch r first: the names, not the order, say which is which.)": (
                _st_gates_swapped
            ),
            "The reset gate multiplies the wrong term: you applied R_t to H_prev in the mix, Z_t * (R_t * "
            "H_prev); it belongs inside the candidate, on the recurrent term.": _st_reset_in_mix,
            "With reset_after = 1 the reset gate scales only the recurrent part, R_t * (H_prev @ W_hh + "
            "b_hh_rec); you multiplied the whole pre-activation, input term and b_h included.": (
                _st_reset_whole
            ),
            "The candidate H_tilde needs tanh, not sigmoid: it must be able to push the state down as well "
            "as up, in (-1, 1).": _st_sigmoid_candidate,
            "You used W_hh transposed: in the row-vector convention the recurrent term is H_prev @ W_hh "
            "(W_hh is (h, h), so a transpose gives no shape error, only wrong values).": _st_W_hh_transposed,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("H_t",),
    )
)


# ------------------------------------------------------------------------------------ gru.split_torch_weights
def split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    """nn.GRU's packed weights -> the book's per-gate weights, gates stacked in the order r, z, h.

    weight_ih (3h, d), weight_hh (3h, h): row blocks in PyTorch's order r, z, n (n is our candidate h);
    bias_ih, bias_hh (3h,). Returns (W_x (3, d, h), W_h (3, h, h), b (3, h), b_hh_rec (h,)) where
    b[0] = b_ir + b_hr, b[1] = b_iz + b_hz, but b[2] = b_in alone: b_hn stays inside the reset product and
    is returned as b_hh_rec.
    """
    h = weight_hh.shape[1]
    W_x = weight_ih.reshape(3, h, -1).transpose(0, 2, 1)
    W_h = weight_hh.reshape(3, h, h).transpose(0, 2, 1)
    b_ih, b_hh = bias_ih.reshape(3, h), bias_hh.reshape(3, h)
    b = np.stack([b_ih[0] + b_hh[0], b_ih[1] + b_hh[1], b_ih[2]])
    return W_x, W_h, b, b_hh[2]


def _sw_sum_all(weight_ih, weight_hh, bias_ih, bias_hh):
    W_x, W_h, _, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return W_x, W_h, (bias_ih + bias_hh).reshape(3, -1), np.zeros_like(b_hh_rec)


def _sw_keras_order(weight_ih, weight_hh, bias_ih, bias_hh):
    W_x, W_h, b, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return W_x[[1, 0, 2]], W_h[[1, 0, 2]], b[[1, 0, 2]], b_hh_rec


def _sw_no_transpose(weight_ih, weight_hh, bias_ih, bias_hh):
    h = weight_hh.shape[1]
    _, _, b, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return weight_ih.reshape(3, h, -1), weight_hh.reshape(3, h, h), b, b_hh_rec


def _sw_transpose_then_reshape(weight_ih, weight_hh, bias_ih, bias_hh):
    h, d = weight_hh.shape[1], weight_ih.shape[1]
    _, _, b, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return weight_ih.T.reshape(3, d, h), weight_hh.T.reshape(3, h, h), b, b_hh_rec


def _sw_drop_bias_hh(weight_ih, weight_hh, bias_ih, bias_hh):
    W_x, W_h, _, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return W_x, W_h, bias_ih.reshape(3, -1), np.zeros_like(b_hh_rec)


def _sw_reshape_not_transpose(weight_ih, weight_hh, bias_ih, bias_hh):
    h, d = weight_hh.shape[1], weight_ih.shape[1]
    _, _, b, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return weight_ih.reshape(3, d, h), weight_hh.reshape(3, h, h), b, b_hh_rec


def _sw_b_hn_twice(weight_ih, weight_hh, bias_ih, bias_hh):
    W_x, W_h, _, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return W_x, W_h, (bias_ih + bias_hh).reshape(3, -1), b_hh_rec


def _sw_T_3d(weight_ih, weight_hh, bias_ih, bias_hh):
    h = weight_hh.shape[1]
    _, _, b, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    return weight_ih.reshape(3, h, -1).T, weight_hh.reshape(3, h, h).T, b, b_hh_rec


def _sw_b_in_b_hn_swapped(weight_ih, weight_hh, bias_ih, bias_hh):
    W_x, W_h, b, b_hh_rec = split_torch_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    h = weight_hh.shape[1]
    b = b.copy()
    b[2] = bias_hh[2 * h:]
    return W_x, W_h, b, bias_ih[2 * h:]


def _split_cases(rng: np.random.Generator) -> list[Case]:
    d, h = 4, 2

    def packed():
        return {
            "weight_ih": rng.normal(size=(3 * h, d)),
            "weight_hh": rng.normal(size=(3 * h, h)),
            "bias_ih": rng.normal(size=3 * h),
            "bias_hh": rng.normal(size=3 * h),
        }

    labelled = {  # gate block k filled with about k + 1: the order shows at a glance
        "weight_ih": np.repeat(np.arange(1.0, 4.0), h)[:, None] + 0.01 * rng.normal(size=(3 * h, d)),
        "weight_hh": np.repeat(np.arange(1.0, 4.0), h)[:, None] + 0.01 * rng.normal(size=(3 * h, h)),
        "bias_ih": np.repeat(np.arange(1.0, 4.0), h) + 0.01 * rng.normal(size=3 * h),
        "bias_hh": 10 * np.repeat(np.arange(1.0, 4.0), h) + 0.01 * rng.normal(size=3 * h),
    }
    return [
        Case(
            labelled, "block k of the weights about k + 1, of bias_hh about 10 (k + 1): order and biases show"
        ),
        Case(packed(), "random weights and both biases"),
        Case(packed(), "random weights and both biases, another draw"),
    ]


register(
    Exercise(
        key="gru.split_torch_weights",
        title="From nn.GRU's packed weights to the book's gates",
        func_name="split_torch_weights",
        reference=split_torch_weights,
        make_cases=_split_cases,
        wrong={
            "You added bias_hh into all three gates (the LSTM habit): for the candidate, b_hn sits inside "
            "the reset product R_t * (H_prev W_hn^T + b_hn), so it cannot be merged with b_in. Return it as "
            "b_hh_rec.": _sw_sum_all,
            "You used Keras' gate order z, r, h; PyTorch stores r, z, n.": _sw_keras_order,
            "You split the row blocks but did not transpose them: PyTorch stores (3h, d) and computes "
            "X @ weight_ih.T, so each block must become (d, h).": _sw_no_transpose,
            "You transposed the whole matrix first and then reshaped: weight_ih.T is (d, 3h) and "
            ".reshape(3, d, h) mixes rows of different gates. Split the rows into 3 blocks first, then "
            "transpose each block.": _sw_transpose_then_reshape,
            "You dropped bias_hh: the gates' b_r and b_z are bias_ih + bias_hh, and b_hn is b_hh_rec.": (
                _sw_drop_bias_hh
            ),
            "You reshaped each block to (d, h) instead of transposing it: a (h, d) block reshaped to (d, h) "
            "has the right shape but its numbers in the wrong places. Use .transpose(0, 2, 1) (or .T per "
            "block).": _sw_reshape_not_transpose,
            "You counted b_hn twice: it is returned as b_hh_rec (inside the reset product), so b[2] is b_in "
            "alone, not b_in + b_hn.": _sw_b_hn_twice,
            "You used .T on a 3-D array: it reverses ALL axes, (3, h, d) -> (d, h, 3). Swap only the last "
            "two: .transpose(0, 2, 1).": _sw_T_3d,
            "You swapped b_in and b_hn: b[2] is bias_ih[2h:] (outside the reset product), b_hh_rec is "
            "bias_hh[2h:] (inside it).": _sw_b_in_b_hn_swapped,
        },
        atol=1e-12,
        rtol=1e-10,
        output_names=("W_x", "W_h", "b", "b_hh_rec"),
    )
)


# ------------------------------------------------------------------------------------------ gru.param_counts
def param_counts(d, h):
    """Parameters of one GRU layer with d inputs and h units, as an int array of three counts:

    [reset-before with one bias per gate (Cho et al.; Keras reset_after=False),
     PyTorch nn.GRU (two bias vectors per gate block),
     Keras GRU with reset_after=True (its default: input and recurrent bias rows)].
    """
    one_bias = 3 * (d * h + h * h + h)
    two_biases = 3 * (d * h + h * h + 2 * h)
    return np.array([one_bias, two_biases, two_biases])


def _pc_lstm_blocks(d, h):
    return np.array([4 * (d * h + h * h + h), 4 * (d * h + h * h + 2 * h), 4 * (d * h + h * h + 2 * h)])


def _pc_keras_one_bias(d, h):
    return np.array([3 * (d * h + h * h + h), 3 * (d * h + h * h + 2 * h), 3 * (d * h + h * h + h)])


def _pc_no_recurrent(d, h):
    return np.array([3 * (d * h + h), 3 * (d * h + 2 * h), 3 * (d * h + 2 * h)])


def _pc_torch_one_bias(d, h):
    return np.array([3 * (d * h + h * h + h), 3 * (d * h + h * h + h), 3 * (d * h + h * h + 2 * h)])


def _pc_square_input(d, h):
    return np.array([3 * (d * d + h * h + h), 3 * (d * d + h * h + 2 * h), 3 * (d * d + h * h + 2 * h)])


def _pc_all_one_bias(d, h):
    return np.array([3 * (d * h + h * h + h)] * 3)


def _pc_all_two_biases(d, h):
    return np.array([3 * (d * h + h * h + 2 * h)] * 3)


def _pc_one_bias_vector(d, h):
    return np.array([3 * (d * h + h * h) + h, 3 * (d * h + h * h) + 2 * h, 3 * (d * h + h * h) + 2 * h])


def _pc_only_b_hn_extra(d, h):
    return np.array([3 * (d * h + h * h + h), 3 * (d * h + h * h + h) + h, 3 * (d * h + h * h + h) + h])


def _pc_cases(rng: np.random.Generator) -> list[Case]:
    sizes = [(4, 5), (1, 1), (int(rng.integers(2, 30)), int(rng.integers(31, 129)))]
    return [Case({"d": d, "h": h}, f"d = {d}, h = {h}") for d, h in sizes]


register(
    Exercise(
        key="gru.param_counts",
        title="How many parameters a GRU has",
        func_name="param_counts",
        reference=param_counts,
        make_cases=_pc_cases,
        wrong={
            "You counted four gate blocks (the LSTM's); a GRU has three: r, z and the candidate.": (
                _pc_lstm_blocks
            ),
            "Keras' default GRU (reset_after=True) has TWO bias rows, shape (2, 3h), like PyTorch: "
            "3(dh + h² + 2h).": _pc_keras_one_bias,
            "You left out the recurrent matrices W_hr, W_hz, W_hh (h² each).": _pc_no_recurrent,
            "PyTorch keeps two bias vectors per gate block (bias_ih and bias_hh): 3(dh + h² + 2h).": (
                _pc_torch_one_bias
            ),
            "The input matrices are (d, h), so they hold d·h weights, not d².": _pc_square_input,
            "You gave all three one bias per gate: PyTorch (bias_ih and bias_hh) and Keras' default (bias of "
            "shape (2, 3h)) have two, 3(dh + h² + 2h).": _pc_all_one_bias,
            "You gave all three two biases per gate: the reset-before GRU (Cho et al., Keras "
            "reset_after=False) has one, 3(dh + h² + h).": _pc_all_two_biases,
            "You counted one bias vector of h for the whole layer: every gate block has its own, 3h per "
            "bias vector.": _pc_one_bias_vector,
            "You added only b_hn (h numbers) for the second bias: PyTorch's bias_hh and Keras' recurrent "
            "bias row cover all three blocks, 3h numbers.": _pc_only_b_hn_extra,
        },
        atol=0,
        rtol=0,
        output_names=("counts",),
    )
)


# ------------------------------------------------------------------------------------------- gru.sequence
def gru_sequence(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    """The seeds' hand-written GRU, repaired. Reset BEFORE the product (Cho et al.), as the seeds wrote it.

    X (n, T, d) batch first; H_0 (n, h); W_x? (d, h), W_h? (h, h), b_? (h,); read-out W_hq (h, q), b_q (q,).
    Returns (Y, H_T): Y (n, T, q) the outputs Y_t = H_t W_hq + b_q of every step, H_T (n, h) the last state.
    """
    H = H_0
    outputs = []
    for t in range(X.shape[1]):
        X_t = X[:, t]
        Z = 1.0 / (1.0 + np.exp(-(X_t @ W_xz + H @ W_hz + b_z)))
        R = 1.0 / (1.0 + np.exp(-(X_t @ W_xr + H @ W_hr + b_r)))
        H_tilde = np.tanh(X_t @ W_xh + (R * H) @ W_hh + b_h)
        H = Z * H + (1.0 - Z) * H_tilde
        outputs.append(H @ W_hq + b_q)
    return np.stack(outputs, axis=1), H


def _seq_parts(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q, after=False, swap=False):
    H, outputs = H_0, []
    for t in range(X.shape[1]):
        X_t = X[:, t]
        Z = _sig(X_t @ W_xz + H @ W_hz + b_z)
        R = _sig(X_t @ W_xr + H @ W_hr + b_r)
        H_tilde = np.tanh(X_t @ W_xh + (R * (H @ W_hh) if after else (R * H) @ W_hh) + b_h)
        H = (1.0 - Z) * H + Z * H_tilde if swap else Z * H + (1.0 - Z) * H_tilde
        outputs.append(H @ W_hq + b_q)
    return outputs, H


def _sq_cat_dim1(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    outputs, H = _seq_parts(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q)
    return np.concatenate(outputs, axis=1), H


def _sq_cat_dim0(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    outputs, H = _seq_parts(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q)
    return np.concatenate(outputs, axis=0), H


def _sq_stack_time_first(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    outputs, H = _seq_parts(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q)
    return np.stack(outputs, axis=0), H


def _sq_reset_after(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    outputs, H = _seq_parts(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q, after=True)
    return np.stack(outputs, axis=1), H


def _sq_swap(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    outputs, H = _seq_parts(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q, swap=True)
    return np.stack(outputs, axis=1), H


def _sq_zero_start(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    return gru_sequence(X, np.zeros_like(H_0), W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q)


def _sq_loop_over_batch(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    H, outputs = H_0, []
    for X_t in X:  # walks over the n examples (each (T, d)), not over time
        Z = _sig(X_t @ W_xz + H @ W_hz + b_z)
        R = _sig(X_t @ W_xr + H @ W_hr + b_r)
        H_tilde = np.tanh(X_t @ W_xh + (R * H) @ W_hh + b_h)
        H = Z * H + (1.0 - Z) * H_tilde
        outputs.append(H @ W_hq + b_q)
    return np.stack(outputs, axis=1), H


def _sq_output_before_update(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    Y, H_T = gru_sequence(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q)
    Y_prev = np.concatenate([(H_0 @ W_hq + b_q)[:, None], Y[:, :-1]], axis=1)
    return Y_prev, H_T


def _sq_no_readout(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    h = H_0.shape[1]
    eye = np.eye(h)
    return gru_sequence(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, eye, np.zeros(h))


def _sq_last_output(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q):
    Y, _ = gru_sequence(X, H_0, W_xr, W_hr, b_r, W_xz, W_hz, b_z, W_xh, W_hh, b_h, W_hq, b_q)
    return Y, Y[:, -1]


def _seq_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h, q, T = _N, _D, _H, 2, 6

    def draw(T=T):
        return {
            "X": rng.normal(size=(n, T, d)),
            "H_0": rng.uniform(-0.5, 0.5, size=(n, h)),
            **{
                k: v
                for g in "rzh"
                for k, v in (
                    (f"W_x{g}", rng.normal(scale=0.6, size=(d, h))),
                    (f"W_h{g}", rng.normal(scale=0.6, size=(h, h))),
                    (f"b_{g}", rng.normal(scale=0.3, size=h)),
                )
            },
            "W_hq": rng.normal(size=(h, q)),
            "b_q": rng.normal(size=q),
        }

    return [
        Case(draw(), "n = 3 sequences of T = 6 steps, random H_0"),
        Case(draw(T=1), "a single step (T = 1)"),
        Case(draw(), "another draw"),
    ]


register(
    Exercise(
        key="gru.sequence",
        title="The seeds' GRU, repaired",
        func_name="gru_sequence",
        reference=gru_sequence,
        make_cases=_seq_cases,
        wrong={
            "You concatenated the outputs along axis 1, as the seeds' torch.cat(outputs, dim=1): that gives "
            "(n, T·q), every step's q outputs side by side. Stack them on a new time axis: "
            "np.stack(outputs, axis=1) -> (n, T, q).": _sq_cat_dim1,
            "You concatenated along axis 0 (d2l's layout, (T·n, q)); this exercise asks for (n, T, q).": (
                _sq_cat_dim0
            ),
            "You stacked time first, (T, n, q); the book's layout is batch first, (n, T, q).": (
                _sq_stack_time_first
            ),
            "You applied the reset gate after the product, R * (H @ W_hh): the seeds' GRU (Cho et al.) "
            "resets before it, (R * H) @ W_hh.": _sq_reset_after,
            "Z is on the wrong side: H = Z * H + (1 - Z) * H_tilde.": _sq_swap,
            "You started from zeros instead of the given H_0.": _sq_zero_start,
            "You looped `for X_t in X` over a batch-first X: that walks over the n examples, each (T, d), "
            "not over time. Loop `for t in range(X.shape[1])` and take X[:, t], (n, d).": _sq_loop_over_batch,
            "Your Y_t is computed from H_{t-1}: update H first, then read out Y_t = H_t W_hq + b_q.": (
                _sq_output_before_update
            ),
            "You returned the states, not the outputs: Y_t = H_t W_hq + b_q is the read-out of each state.": (
                _sq_no_readout
            ),
            "The second value is the last STATE H_T (n, h), not the last output Y[:, -1] (n, q).": (
                _sq_last_output
            ),
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("Y", "H_T"),
    )
)


# --------------------------------------------------------------------------------------- gru.backward_mix
def backward_mix(dH_t, Z_t, H_prev, H_tilde):
    """Backward through H_t = Z_t * H_prev + (1 - Z_t) * H_tilde (all (n, h), elementwise).

    dH_t (n, h): gradient of the loss on H_t. Returns (dH_prev_direct, dZ_t, dH_tilde): the gradients on
    H_prev along the direct path only (not through the gates or the candidate), on the gate VALUE Z_t, and
    on the candidate H_tilde.
    """
    dH_prev_direct = dH_t * Z_t
    dZ_t = dH_t * (H_prev - H_tilde)
    dH_tilde = dH_t * (1.0 - Z_t)
    return dH_prev_direct, dZ_t, dH_tilde


def _bm_sign(dH_t, Z_t, H_prev, H_tilde):
    a, dZ, c = backward_mix(dH_t, Z_t, H_prev, H_tilde)
    return a, -dZ, c


def _bm_swap(dH_t, Z_t, H_prev, H_tilde):
    return dH_t * (1.0 - Z_t), dH_t * (H_tilde - H_prev), dH_t * Z_t


def _bm_dz_partial(dH_t, Z_t, H_prev, H_tilde):
    a, _, c = backward_mix(dH_t, Z_t, H_prev, H_tilde)
    return a, dH_t * H_prev, c


def _bm_sigmoid_derivative(dH_t, Z_t, H_prev, H_tilde):
    a, dZ, c = backward_mix(dH_t, Z_t, H_prev, H_tilde)
    return a, dZ * Z_t * (1.0 - Z_t), c


def _bm_direct_unscaled(dH_t, Z_t, H_prev, H_tilde):
    _, dZ, c = backward_mix(dH_t, Z_t, H_prev, H_tilde)
    return dH_t, dZ, c


def _bm_candidate_times_Z(dH_t, Z_t, H_prev, H_tilde):
    a, dZ, _ = backward_mix(dH_t, Z_t, H_prev, H_tilde)
    return a, dZ, dH_t * Z_t


def _bm_candidate_unscaled(dH_t, Z_t, H_prev, H_tilde):
    a, dZ, _ = backward_mix(dH_t, Z_t, H_prev, H_tilde)
    return a, dZ, dH_t


def _bm_dz_summed(dH_t, Z_t, H_prev, H_tilde):
    a, dZ, c = backward_mix(dH_t, Z_t, H_prev, H_tilde)
    return a, dZ.sum(axis=0), c


def _bm_cases(rng: np.random.Generator) -> list[Case]:
    n, h = _N, _H
    dH, Hp, Ht = rng.normal(size=(n, h)), rng.uniform(-1, 1, size=(n, h)), rng.uniform(-1, 1, size=(n, h))
    return [
        Case(
            {"dH_t": dH, "Z_t": np.ones((n, h)), "H_prev": Hp, "H_tilde": Ht},
            "Z_t = 1: the state is copied, all gradient goes straight to H_prev",
        ),
        Case(
            {"dH_t": dH, "Z_t": np.zeros((n, h)), "H_prev": Hp, "H_tilde": Ht},
            "Z_t = 0: the state is overwritten by the candidate",
        ),
        Case(
            {
                "dH_t": rng.normal(size=(n, h)),
                "Z_t": rng.uniform(0.05, 0.95, size=(n, h)),
                "H_prev": Hp,
                "H_tilde": Ht,
            },
            "Z_t partly open",
        ),
    ]


register(
    Exercise(
        key="gru.backward_mix",
        title="Backward through the update gate's interpolation",
        func_name="backward_mix",
        reference=backward_mix,
        make_cases=_bm_cases,
        wrong={
            "dZ_t has the wrong sign: ∂H_t/∂Z_t = H_prev − H_tilde.": _bm_sign,
            "You treated Z_t as the weight of the candidate (Chung et al.'s convention); here H_t = Z_t * "
            "H_prev + (1 - Z_t) * H_tilde.": _bm_swap,
            "dZ_t misses the candidate: Z_t appears twice in H_t, so ∂H_t/∂Z_t = H_prev − H_tilde, not "
            "H_prev.": _bm_dz_partial,
            "You multiplied dZ_t by the sigmoid's derivative Z_t (1 − Z_t): that is the next step (the "
            "gradient on the pre-activation A_z); this function returns the gradient on the gate VALUE.": (
                _bm_sigmoid_derivative
            ),
            "dH_prev_direct is dH_t * Z_t: along the direct path only the fraction Z_t of H_prev reaches "
            "H_t (the (1 - Z_t) part is the candidate's, whose own dependence on H_prev is not this "
            "path).": _bm_direct_unscaled,
            "dH_tilde is dH_t * (1 - Z_t): the candidate enters H_t with weight 1 - Z_t, not Z_t.": (
                _bm_candidate_times_Z
            ),
            "You forgot the weight of the candidate: dH_tilde = dH_t * (1 - Z_t).": _bm_candidate_unscaled,
            "dZ_t is per example, (n, h), like Z_t: do not sum it over the batch (that happens only for the "
            "weights' gradients).": _bm_dz_summed,
        },
        atol=1e-12,
        rtol=1e-10,
        output_names=("dH_prev_direct", "dZ_t", "dH_tilde"),
    )
)
