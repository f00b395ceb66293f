"""Exercises of the peepholes chapter (book/06_peepholes.ipynb).

``peep.step``          one LSTM step with diagonal peepholes -> (H_t, C_t)
``peep.param_counts``  parameters of one LSTM layer: no peepholes, diagonal peepholes, full peephole matrices
``peep.cifg_step``     one step of Greff's CIFG (the input gate keeps its weights, F_t = 1 − I_t)
``peep.cifg_convert``  course_lib's CIFG weights (forget gate kept) -> Greff's (input gate kept)
``peep.timer_gates``   the output- and forget-gate peepholes and biases of the hand-set one-cell timer

Every reference uses NumPy only and the row-vector convention of the book.
"""

from __future__ import annotations

import numpy as np

from .framework import Case, Exercise, register

_N, _D, _H = 3, 4, 5  # distinct sizes, so a transposed weight shows up as a shape error


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


# ------------------------------------------------------------------------------------------------ peep.step
def peephole_step(
    X_t, H_prev, C_prev, W_xi, W_hi, b_i, p_i, W_xf, W_hf, b_f, p_f, W_xo, W_ho, b_o, p_o, W_xc, W_hc, b_c
):
    """One LSTM step with diagonal peepholes (Gers & Schmidhuber 2000).

    X_t (n, d), H_prev (n, h), C_prev (n, h); W_x? (d, h), W_h? (h, h), b_? (h,), p_i, p_f, p_o (h,)
    -> H_t (n, h), C_t (n, h). p_i and p_f look at C_prev, p_o at the new C_t.
    """
    I_t = 1.0 / (1.0 + np.exp(-(X_t @ W_xi + H_prev @ W_hi + b_i + p_i * C_prev)))
    F_t = 1.0 / (1.0 + np.exp(-(X_t @ W_xf + H_prev @ W_hf + b_f + p_f * C_prev)))
    C_tilde = np.tanh(X_t @ W_xc + H_prev @ W_hc + b_c)
    C_t = F_t * C_prev + I_t * C_tilde
    O_t = 1.0 / (1.0 + np.exp(-(X_t @ W_xo + H_prev @ W_ho + b_o + p_o * C_t)))
    H_t = O_t * np.tanh(C_t)
    return H_t, C_t


def _ps(X_t, H_prev, C_prev, w, peep_i, peep_f, peep_o, inside=True):
    """A peephole step whose peephole terms are given (for the wrong variants)."""
    A_i = X_t @ w["W_xi"] + H_prev @ w["W_hi"] + w["b_i"]
    A_f = X_t @ w["W_xf"] + H_prev @ w["W_hf"] + w["b_f"]
    I_t = _sig(A_i + peep_i) if inside else np.clip(_sig(A_i) + peep_i, 0, None)
    F_t = _sig(A_f + peep_f) if inside else np.clip(_sig(A_f) + peep_f, 0, None)
    C_t = F_t * C_prev + I_t * np.tanh(X_t @ w["W_xc"] + H_prev @ w["W_hc"] + w["b_c"])
    A_o = X_t @ w["W_xo"] + H_prev @ w["W_ho"] + w["b_o"]
    O_t = _sig(A_o + peep_o(C_t)) if inside else _sig(A_o) + peep_o(C_t)
    return O_t * np.tanh(C_t), C_t


def _ps_old_cell_out(X_t, H_prev, C_prev, **w):
    return _ps(X_t, H_prev, C_prev, w, w["p_i"] * C_prev, w["p_f"] * C_prev, lambda C_t: w["p_o"] * C_prev)


def _ps_no_peepholes(X_t, H_prev, C_prev, **w):
    return _ps(X_t, H_prev, C_prev, w, 0.0, 0.0, lambda C_t: 0.0)


def _ps_peep_on_h(X_t, H_prev, C_prev, **w):
    return _ps(X_t, H_prev, C_prev, w, w["p_i"] * H_prev, w["p_f"] * H_prev, lambda C_t: w["p_o"] * H_prev)


def _ps_no_out_peep(X_t, H_prev, C_prev, **w):
    return _ps(X_t, H_prev, C_prev, w, w["p_i"] * C_prev, w["p_f"] * C_prev, lambda C_t: 0.0)


def _ps_outside(X_t, H_prev, C_prev, **w):
    return _ps(
        X_t, H_prev, C_prev, w, w["p_i"] * C_prev, w["p_f"] * C_prev, lambda C_t: w["p_o"] * C_t, inside=False
    )


def _ps_swapped_if(X_t, H_prev, C_prev, **w):
    return _ps(X_t, H_prev, C_prev, w, w["p_f"] * C_prev, w["p_i"] * C_prev, lambda C_t: w["p_o"] * C_t)


def _ps_tanh_peep(X_t, H_prev, C_prev, **w):
    return _ps(
        X_t,
        H_prev,
        C_prev,
        w,
        w["p_i"] * np.tanh(C_prev),
        w["p_f"] * np.tanh(C_prev),
        lambda C_t: w["p_o"] * np.tanh(C_t),
    )


def _ps_matmul_peep(X_t, H_prev, C_prev, **w):
    # C_{t-1} @ p_i is (n,), which does not broadcast with the (n, h) pre-activation (n != h): it raises
    return _ps(X_t, H_prev, C_prev, w, C_prev @ w["p_i"], C_prev @ w["p_f"], lambda C_t: C_t @ w["p_o"])


def _ps_no_output_tanh(X_t, H_prev, C_prev, **w):
    _, C_t = peephole_step(X_t, H_prev, C_prev, **w)
    O_t = _sig(X_t @ w["W_xo"] + H_prev @ w["W_ho"] + w["b_o"] + w["p_o"] * C_t)
    return O_t * C_t, C_t


def _step_weights(rng, n, d, h, peep_scale=1.5):
    w = {}
    for g in "ifoc":
        w[f"W_x{g}"] = rng.normal(scale=0.6, size=(d, h))
        w[f"W_h{g}"] = rng.normal(scale=0.6, size=(h, h))
        w[f"b_{g}"] = rng.normal(scale=0.5, size=h)
    for g in "ifo":
        w[f"p_{g}"] = rng.normal(scale=peep_scale, size=h)
    return w


def _step_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = _N, _D, _H
    w = _step_weights(rng, n, d, h)
    X_t, H_prev = rng.normal(size=(n, d)), rng.uniform(-1, 1, size=(n, h))
    C_prev = rng.normal(scale=1.5, size=(n, h))
    zero_w = {k: (np.zeros_like(v) if k[0] in "Wb" else v) for k, v in w.items()}
    return [
        Case(
            {
                "X_t": X_t,
                "H_prev": H_prev,
                "C_prev": C_prev,
                **{**w, "p_i": np.zeros(h), "p_f": np.zeros(h), "p_o": np.zeros(h)},
            },
            "all peepholes zero (a standard LSTM step)",
        ),
        Case(
            {"X_t": X_t, "H_prev": H_prev, "C_prev": np.zeros((n, h)), **w},
            "C_{t-1} = 0: only the output peephole p_o ⊙ C_t can act",
        ),
        Case(
            {"X_t": X_t, "H_prev": H_prev, "C_prev": C_prev, **zero_w},
            "only the peephole terms are non-zero (all W and b zero)",
        ),
        Case({"X_t": X_t, "H_prev": H_prev, "C_prev": C_prev, **w}, "a general step", isolates=False),
    ]


register(
    Exercise(
        key="peep.step",
        title="One peephole LSTM step",
        func_name="peephole_step",
        reference=peephole_step,
        make_cases=_step_cases,
        output_names=("H_t", "C_t"),
        wrong={
            "Your output gate's peephole reads the old cell C_{t-1}; it must read the NEW cell: "
            "O_t = σ(... + p_o ⊙ C_t), computed after C_t = F_t ⊙ C_{t-1} + I_t ⊙ C_tilde.": _ps_old_cell_out,
            "You left out the peephole terms p_i ⊙ C_{t-1}, p_f ⊙ C_{t-1} and p_o ⊙ C_t.": _ps_no_peepholes,
            "Your peepholes multiply H_{t-1}; a peephole looks at the memory cell C (C_{t-1} for I_t and "
            "F_t, C_t for O_t), which the gates cannot see through H when the output gate is closed.": (
                _ps_peep_on_h
            ),
            "You gave the input and forget gates peepholes but not the output gate: add p_o ⊙ C_t inside "
            "O_t's sigmoid.": _ps_no_out_peep,
            "You added the peephole term after the sigmoid; it belongs inside, with the other terms of the "
            "gate's pre-activation: σ(X_t W_x? + H_{t-1} W_h? + b_? + p_? ⊙ C).": _ps_outside,
            "You swapped p_i and p_f: the input gate's peephole is p_i, the forget gate's is p_f.": (
                _ps_swapped_if
            ),
            "Your peepholes read tanh(C); a peephole reads the cell itself: p_i ⊙ C_{t-1}, p_f ⊙ C_{t-1}, "
            "p_o ⊙ C_t (tanh appears only in H_t = O_t ⊙ tanh(C_t)).": _ps_tanh_peep,
            "You multiplied the cell by the peephole as a matrix product (C_{t-1} @ p_i, shape (n,)); a "
            "diagonal peephole is a vector of h weights applied elementwise: p_i ⊙ C_{t-1} is "
            "p_i * C_prev, shape (n, h).": _ps_matmul_peep,
            "You wrote H_t = O_t ⊙ C_t; the output passes the cell through tanh: H_t = O_t ⊙ tanh(C_t) "
            "(without it you have Greff's NOAF variant).": _ps_no_output_tanh,
        },
        atol=1e-10,
        rtol=1e-8,
    )
)


# ---------------------------------------------------------------------------------------- peep.param_counts
def param_counts(d, h):
    """Parameters of one LSTM layer (input size d, h units, one bias per gate): an int array of three
    counts, [no peepholes, diagonal peepholes (vectors p_i, p_f, p_o), full peephole matrices (h, h)].
    """
    base = 4 * (d * h + h * h + h)
    return np.array([base, base + 3 * h, base + 3 * h * h])


def _pc_no_bias(d, h):
    base = 4 * (d * h + h * h)
    return np.array([base, base + 3 * h, base + 3 * h * h])


def _pc_two_biases(d, h):
    base = 4 * (d * h + h * h + 2 * h)
    return np.array([base, base + 3 * h, base + 3 * h * h])


def _pc_four_peepholes(d, h):
    base = 4 * (d * h + h * h + h)
    return np.array([base, base + 4 * h, base + 4 * h * h])


def _pc_three_gates(d, h):
    base = 3 * (d * h + h * h + h)
    return np.array([base, base + 3 * h, base + 3 * h * h])


def _pc_square_diag(d, h):
    base = 4 * (d * h + h * h + h)
    return np.array([base, base + 3 * h * h, base + 3 * h * h])


def _pc_dh(d, h):
    base = 4 * (d * h + h * h + h)
    return np.array([base, base + 3 * h, base + 3 * d * h])


def _pc_full_plus_diag(d, h):
    base = 4 * (d * h + h * h + h)
    return np.array([base, base + 3 * h, base + 3 * h + 3 * h * h])


def _pc_cases(rng: np.random.Generator) -> list[Case]:
    d1, h1 = int(rng.integers(2, 9)), int(rng.integers(10, 30))
    return [
        Case({"d": 4, "h": 5}, "d = 4, h = 5", isolates=False),
        Case({"d": 1, "h": 1}, "one input, one cell (the timer of this chapter)", isolates=False),
        Case({"d": d1, "h": h1}, "another size", isolates=False),
        Case({"d": 128, "h": 256}, "d = 128, h = 256", isolates=False),
    ]


register(
    Exercise(
        key="peep.param_counts",
        title="Counting parameters with and without peepholes",
        func_name="param_counts",
        reference=param_counts,
        make_cases=_pc_cases,
        wrong={
            "You forgot the biases: each of the four gate rows (i, f, o and the candidate c) has h "
            "of them.": (
                _pc_no_bias
            ),
            "You counted two bias vectors per gate (PyTorch's b_ih and b_hh); the book's LSTM has one.": (
                _pc_two_biases
            ),
            "You gave the candidate C_tilde a peephole too: only the three gates I_t, F_t, O_t have one.": (
                _pc_four_peepholes
            ),
            "You counted three weight blocks (the gates) and forgot the candidate C_tilde, which has its own "
            "W_xc, W_hc, b_c.": _pc_three_gates,
            "You counted a diagonal peephole as an (h, h) matrix: it is a vector of h weights "
            "(p ⊙ C, elementwise).": _pc_square_diag,
            "A full peephole matrix maps the cell C (h units) to a gate (h units): it is (h, h), "
            "not (d, h).": (
                _pc_dh
            ),
            "You added the full (h, h) matrices on top of the diagonal vectors: full peepholes replace the "
            "vectors (a diagonal peephole is a full matrix whose off-diagonal entries are fixed at 0), so "
            "the third count is base + 3h², not base + 3h + 3h².": _pc_full_plus_diag,
        },
        atol=0,
        rtol=0,
    )
)


# -------------------------------------------------------------------------------------------- peep.cifg_step
def cifg_step(X_t, H_prev, C_prev, W_xi, W_hi, b_i, W_xc, W_hc, b_c, W_xo, W_ho, b_o):
    """One step of the coupled input-forget gate LSTM as in Greff et al. (2017): F_t = 1 − I_t.

    X_t (n, d), H_prev (n, h), C_prev (n, h); W_x? (d, h), W_h? (h, h), b_? (h,) -> H_t (n, h), C_t (n, h).
    """
    I_t = 1.0 / (1.0 + np.exp(-(X_t @ W_xi + H_prev @ W_hi + b_i)))
    F_t = 1.0 - I_t
    C_tilde = np.tanh(X_t @ W_xc + H_prev @ W_hc + b_c)
    C_t = F_t * C_prev + I_t * C_tilde
    O_t = 1.0 / (1.0 + np.exp(-(X_t @ W_xo + H_prev @ W_ho + b_o)))
    H_t = O_t * np.tanh(C_t)
    return H_t, C_t


def _cifg(X_t, H_prev, C_prev, w, gates):
    I_t = _sig(X_t @ w["W_xi"] + H_prev @ w["W_hi"] + w["b_i"])
    keep, write = gates(I_t)
    C_t = keep * C_prev + write * np.tanh(X_t @ w["W_xc"] + H_prev @ w["W_hc"] + w["b_c"])
    O_t = _sig(X_t @ w["W_xo"] + H_prev @ w["W_ho"] + w["b_o"])
    return O_t * np.tanh(C_t), C_t


def _cifg_f_equals_i(X_t, H_prev, C_prev, **w):
    return _cifg(X_t, H_prev, C_prev, w, lambda I: (I, I))


def _cifg_swapped(X_t, H_prev, C_prev, **w):
    return _cifg(X_t, H_prev, C_prev, w, lambda I: (I, 1.0 - I))


def _cifg_no_forget(X_t, H_prev, C_prev, **w):
    return _cifg(X_t, H_prev, C_prev, w, lambda I: (np.ones_like(I), I))


def _cifg_sig_one_minus(X_t, H_prev, C_prev, **w):
    A_i = X_t @ w["W_xi"] + H_prev @ w["W_hi"] + w["b_i"]
    return _cifg(X_t, H_prev, C_prev, w, lambda I: (_sig(1.0 - A_i), I))


def _cifg_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = _N, _D, _H
    w = {k: v for k, v in _step_weights(rng, n, d, h).items() if k[-1] in "ico" and not k.startswith("p_")}
    X_t, H_prev = rng.normal(size=(n, d)), rng.uniform(-1, 1, size=(n, h))
    C_prev = rng.normal(scale=1.5, size=(n, h))
    shut = {**w, "W_xi": np.zeros((d, h)), "W_hi": np.zeros((h, h)), "b_i": np.full(h, -30.0)}
    return [
        Case(
            {"X_t": X_t, "H_prev": H_prev, "C_prev": C_prev, **shut},
            "input gate shut (I_t ≈ 0): the cell must be kept whole",
        ),
        Case(
            {"X_t": X_t, "H_prev": H_prev, "C_prev": np.zeros((n, h)), **w},
            "C_{t-1} = 0: only the written candidate counts",
        ),
        Case({"X_t": X_t, "H_prev": H_prev, "C_prev": C_prev, **w}, "a general step", isolates=False),
    ]


register(
    Exercise(
        key="peep.cifg_step",
        title="One CIFG step (Greff's convention)",
        func_name="cifg_step",
        reference=cifg_step,
        make_cases=_cifg_cases,
        output_names=("H_t", "C_t"),
        wrong={
            "You used I_t for the forget gate too; the coupling is F_t = 1 − I_t (write as much as you "
            "erase).": _cifg_f_equals_i,
            "You coupled the gates the wrong way round (treating the given weights as the forget gate's, "
            "I_t = 1 − F_t, which is course_lib's LSTMConfig(cifg=True) convention): here, as in Greff et "
            "al., W_xi, W_hi, b_i make the INPUT gate I_t, which multiplies the candidate C_tilde, and "
            "F_t = 1 − I_t multiplies C_{t-1}.": _cifg_swapped,
            "You kept the whole old cell (F_t = 1, the 1997 LSTM); in CIFG the cell forgets F_t = 1 − I_t.": (
                _cifg_no_forget
            ),
            "You wrote σ(1 − A_i) for the forget gate; the coupling is on the gate values, "
            "F_t = 1 − σ(A_i).": (
                _cifg_sig_one_minus
            ),
        },
        atol=1e-10,
        rtol=1e-8,
    )
)


# ----------------------------------------------------------------------------------------- peep.cifg_convert
def forget_to_input(W_xf, W_hf, b_f, p_f):
    """The book's NumPy CIFG keeps the forget gate (I_t = 1 − F_t), Greff's the input gate (F_t = 1 − I_t).

    Given the forget-gate weights W_xf (d, h), W_hf (h, h), b_f (h,) and peephole p_f (h,) of the first,
    return the input-gate weights (W_xi, W_hi, b_i, p_i) of the second that compute the same I_t and F_t.
    """
    return -W_xf, -W_hf, -b_f, -p_f


def _cv_one_minus(W_xf, W_hf, b_f, p_f):
    return 1.0 - W_xf, 1.0 - W_hf, 1.0 - b_f, 1.0 - p_f


def _cv_same(W_xf, W_hf, b_f, p_f):
    return W_xf, W_hf, b_f, p_f


def _cv_bias_only(W_xf, W_hf, b_f, p_f):
    return W_xf, W_hf, -b_f, p_f


def _cv_transposed(W_xf, W_hf, b_f, p_f):
    return -W_xf, -W_hf.T, -b_f, -p_f


def _cv_no_peep(W_xf, W_hf, b_f, p_f):
    return -W_xf, -W_hf, -b_f, p_f


def _cv_bias_kept(W_xf, W_hf, b_f, p_f):
    return -W_xf, -W_hf, b_f, -p_f


def _cv_bias_one_minus(W_xf, W_hf, b_f, p_f):
    return -W_xf, -W_hf, 1.0 - b_f, -p_f


def _cv_cases(rng: np.random.Generator) -> list[Case]:
    d, h = _D, _H
    full = {
        "W_xf": rng.normal(size=(d, h)),
        "W_hf": rng.normal(size=(h, h)),
        "b_f": rng.normal(size=h),
        "p_f": rng.normal(size=h),
    }
    return [
        Case(
            {**full, "W_xf": np.zeros((d, h)), "W_hf": np.zeros((h, h)), "p_f": np.zeros(h)},
            "only the bias b_f is non-zero",
        ),
        Case(
            {**full, "b_f": np.zeros(h), "W_hf": np.zeros((h, h)), "p_f": np.zeros(h)},
            "only W_xf is non-zero",
        ),
        Case(full, "random weights", isolates=False),
    ]


register(
    Exercise(
        key="peep.cifg_convert",
        title="From one CIFG convention to the other",
        func_name="forget_to_input",
        reference=forget_to_input,
        make_cases=_cv_cases,
        output_names=("W_xi", "W_hi", "b_i", "p_i"),
        wrong={
            "You wrote 1 − W: the coupling 1 − σ(A) is on the gate VALUE. Since 1 − σ(A) = σ(−A), the "
            "pre-activation is negated: every weight, the bias and the peephole change sign.": _cv_one_minus,
            "You returned the forget-gate weights unchanged: they would give I_t = F_t, not I_t = 1 − F_t; "
            "negate them (1 − σ(A) = σ(−A)).": _cv_same,
            "You negated only the bias; the whole pre-activation A_f must change sign, weights and "
            "peephole too.": _cv_bias_only,
            "You transposed W_hf; negating a weight keeps its shape and layout (h, h), rows = H_{t-1}.": (
                _cv_transposed
            ),
            "You forgot to negate the peephole p_f: it is part of the pre-activation A_f as well.": (
                _cv_no_peep
            ),
            "You negated the weights and the peephole but kept the bias b_f: the bias is part of the "
            "pre-activation A_f too, so b_i = −b_f.": _cv_bias_kept,
            "You wrote b_i = 1 − b_f: the 1 − ... belongs to the gate value, 1 − σ(A_f) = σ(−A_f), so the "
            "bias only changes sign: b_i = −b_f.": _cv_bias_one_minus,
        },
        atol=1e-12,
        rtol=1e-12,
    )
)


# ----------------------------------------------------------------------------------------- peep.timer_gates
def timer_gates(delay):
    """Output- and forget-gate weights of the one-cell timer that spikes ``delay`` steps after a pulse.

    The cell grows by delta = 1 / (delay + 1) per step from the pulse step on; the threshold sits half a
    step below 1, at 1 − delta / 2, with gain k = 20 / delta. Returns (p_o, b_o, p_f, b_f) as floats:
    O_t = σ(p_o C_t + b_o) opens when C_t passes the threshold, F_t = σ(p_f C_{t-1} + b_f) closes then.
    """
    delta = 1.0 / (delay + 1)
    k = 20.0 / delta
    threshold = 1.0 - delta / 2
    return k, -k * threshold, -k, k * threshold


def _tg_delta_off_by_one(delay):
    delta = 1.0 / delay
    k = 20.0 / delta
    return k, -k * (1.0 - delta / 2), -k, k * (1.0 - delta / 2)


def _tg_threshold_one(delay):
    k = 20.0 * (delay + 1)
    return k, -k, -k, k


def _tg_forget_sign(delay):
    delta = 1.0 / (delay + 1)
    k = 20.0 / delta
    return k, -k * (1.0 - delta / 2), k, -k * (1.0 - delta / 2)


def _tg_bias_sign(delay):
    delta = 1.0 / (delay + 1)
    k = 20.0 / delta
    return k, k * (1.0 - delta / 2), -k, -k * (1.0 - delta / 2)


def _tg_gain_fixed(delay):
    delta = 1.0 / (delay + 1)
    return 20.0, -20.0 * (1.0 - delta / 2), -20.0, 20.0 * (1.0 - delta / 2)


def _tg_threshold_full_step(delay):
    delta = 1.0 / (delay + 1)
    k = 20.0 / delta
    return k, -k * (1.0 - delta), -k, k * (1.0 - delta)


def _tg_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case({"delay": int(D)}, f"delay = {int(D)}", isolates=False) for D in (3, 9, int(rng.integers(5, 40)))
    ]


register(
    Exercise(
        key="peep.timer_gates",
        title="Setting the timer's gates by hand",
        func_name="timer_gates",
        reference=timer_gates,
        make_cases=_tg_cases,
        output_names=("p_o", "b_o", "p_f", "b_f"),
        wrong={
            "Your increment is delta = 1/delay: the pulse step itself already writes delta, so the cell "
            "reaches 1 after delay + 1 writes: delta = 1/(delay + 1).": _tg_delta_off_by_one,
            "Your threshold is at 1, exactly where the cell lands: σ(0) = 0.5 there, half a spike. "
            "Put it half "
            "a step below, at 1 − delta/2, so the gate is clearly shut one step before and open on time.": (
                _tg_threshold_one
            ),
            "Your forget gate closes while the cell is small and opens once it is full: its peephole "
            "p_f must "
            "be negative (F_t = σ(−k C_{t-1} + k·threshold)), so the cell is erased right after the spike.": (
                _tg_forget_sign
            ),
            "Your biases have the wrong sign: the output gate must be shut (b_o < 0) until p_o C_t "
            "exceeds k·threshold, the forget gate open (b_f > 0) until then.": _tg_bias_sign,
            "Your threshold is a whole step below 1, at 1 − delta: the cell reaches that value one step "
            "before the target, where σ(0) = 0.5 gives half a spike a step too early. Put it half a step "
            "below, at 1 − delta/2.": _tg_threshold_full_step,
            "Your gain is 20, not 20/delta: the cell moves by only delta per step, so the pre-activation "
            "changes by gain × delta per step; with gain 20 the gates would barely move.": _tg_gain_fixed,
        },
        atol=1e-9,
        rtol=1e-9,
    )
)
