"""Exercises of chapter 1 (book/01_rnn_limits.ipynb): the plain recurrent network.

``rnn.step``: one step of an Elman RNN, ``H_t = tanh(X_t @ W_xh + H_prev @ W_hh + b_h)``.
``rnn.unroll``: the same step run over a whole batch-first sequence ``X (n, T, d) -> H (n, T, h)``.
``rnn.teacher_forcing``: a Jordan network's hidden states under teacher forcing, all steps in one product.
``rnn.param_count``: parameters of an RNN versus an MLP that reads the whole flattened sequence.
"""

from __future__ import annotations

import numpy as np

from .framework import Case, Exercise, register


# ----------------------------------------------------------------------------------------------- rnn.step
def rnn_cell(X_t, H_prev, W_xh, W_hh, b_h):
    """One step of an Elman RNN: H_t = tanh(X_t @ W_xh + H_prev @ W_hh + b_h).

    X_t (n, d), H_prev (n, h), W_xh (d, h), W_hh (h, h), b_h (h,) -> H_t (n, h).
    """
    return np.tanh(X_t @ W_xh + H_prev @ W_hh + b_h)


def _cell_transposed_W_hh(X_t, H_prev, W_xh, W_hh, b_h):
    return np.tanh(X_t @ W_xh + H_prev @ W_hh.T + b_h)


def _cell_no_bias(X_t, H_prev, W_xh, W_hh, b_h):
    return np.tanh(X_t @ W_xh + H_prev @ W_hh)


def _cell_relu(X_t, H_prev, W_xh, W_hh, b_h):
    return np.maximum(X_t @ W_xh + H_prev @ W_hh + b_h, 0.0)


def _cell_linear(X_t, H_prev, W_xh, W_hh, b_h):
    return X_t @ W_xh + H_prev @ W_hh + b_h


def _cell_no_recurrence(X_t, H_prev, W_xh, W_hh, b_h):
    return np.tanh(X_t @ W_xh + b_h)


def _cell_sigmoid(X_t, H_prev, W_xh, W_hh, b_h):
    return 1.0 / (1.0 + np.exp(-(X_t @ W_xh + H_prev @ W_hh + b_h)))


def _cell_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = 3, 4, 5
    full = {
        "X_t": rng.normal(size=(n, d)),
        "H_prev": rng.uniform(-1.0, 1.0, size=(n, h)),
        "W_xh": rng.normal(scale=0.5, size=(d, h)),
        "W_hh": rng.normal(scale=0.5, size=(h, h)),
        "b_h": rng.normal(scale=0.5, size=h),
    }
    zeros_x, zeros_h, zeros_b = np.zeros((n, d)), np.zeros((n, h)), np.zeros(h)
    return [
        Case({**full, "X_t": zeros_x, "H_prev": zeros_h}, "only the bias b_h is non-zero"),
        Case({**full, "H_prev": zeros_h, "b_h": zeros_b}, "only the input term X_t @ W_xh is non-zero"),
        Case({**full, "X_t": zeros_x, "b_h": zeros_b}, "only the recurrent term H_prev @ W_hh is non-zero"),
        Case(full, "all three terms non-zero"),
    ]


register(
    Exercise(
        key="rnn.step",
        title="One step of an Elman RNN",
        func_name="rnn_cell",
        reference=rnn_cell,
        make_cases=_cell_cases,
        wrong={
            "You multiplied by W_hh.T: that is the column-vector formula W_hh h_{t-1} (as in PyTorch's docs) "
            "carried over to row vectors. With rows, the recurrent term is H_prev @ W_hh.": (
                _cell_transposed_W_hh
            ),
            "You left out the bias b_h.": _cell_no_bias,
            "You used relu; this cell uses tanh, which keeps H_t in (-1, 1) and is negative for negative "
            "pre-activations.": _cell_relu,
            "You used sigmoid; this cell uses tanh (range -1..1, not 0..1).": _cell_sigmoid,
            "You forgot the activation: H_t must be tanh(...) of the sum, not the sum itself.": _cell_linear,
            "You left out the recurrent term H_prev @ W_hh: without it the network has no memory of the "
            "past.": _cell_no_recurrence,
        },
        atol=1e-10,
        rtol=1e-10,
        output_names=("H_t",),
    )
)


# --------------------------------------------------------------------------------------------- rnn.unroll
def rnn_unroll(X, H_0, W_xh, W_hh, b_h):
    """Run an Elman RNN over a batch-first sequence, carrying the state from step to step.

    X (n, T, d), H_0 (n, h), W_xh (d, h), W_hh (h, h), b_h (h,) -> H (n, T, h), where H[:, t] is the state
    after reading X[:, t].
    """
    H_t = H_0
    states = []
    for t in range(X.shape[1]):
        H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
        states.append(H_t)
    return np.stack(states, axis=1)


def _unroll_last_only(X, H_0, W_xh, W_hh, b_h):
    H_t = H_0
    for t in range(X.shape[1]):
        H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
    return H_t


def _unroll_no_carry(X, H_0, W_xh, W_hh, b_h):
    return np.stack([np.tanh(X[:, t] @ W_xh + H_0 @ W_hh + b_h) for t in range(X.shape[1])], axis=1)


def _unroll_time_major(X, H_0, W_xh, W_hh, b_h):
    H_t = H_0
    states = []
    for t in range(X.shape[1]):
        H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
        states.append(H_t)
    return np.stack(states)


def _unroll_concatenate(X, H_0, W_xh, W_hh, b_h):
    H_t = H_0
    states = []
    for t in range(X.shape[1]):
        H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
        states.append(H_t)
    return np.concatenate(states, axis=1)


def _unroll_store_before_update(X, H_0, W_xh, W_hh, b_h):
    H_t = H_0
    states = []
    for t in range(X.shape[1]):
        states.append(H_t)
        H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
    return np.stack(states, axis=1)


def _unroll_ignore_H_0(X, H_0, W_xh, W_hh, b_h):
    return rnn_unroll(X, np.zeros_like(H_0), W_xh, W_hh, b_h)


def _unroll_cases(rng: np.random.Generator) -> list[Case]:
    n, T, d, h = 2, 6, 3, 4

    def weights():
        return {
            "W_xh": rng.normal(scale=0.6, size=(d, h)),
            "W_hh": rng.normal(scale=0.6, size=(h, h)),
            "b_h": rng.normal(scale=0.3, size=h),
        }

    return [
        Case({"X": rng.normal(size=(n, 1, d)), "H_0": rng.uniform(-1, 1, size=(n, h)), **weights()},
             "a sequence of length T = 1"),
        Case({"X": rng.normal(size=(n, T, d)), "H_0": np.zeros((n, h)), **weights()},
             "H_0 = 0, T = 6"),
        Case({"X": rng.normal(size=(n, T, d)), "H_0": rng.uniform(-1, 1, size=(n, h)), **weights()},
             "non-zero H_0, T = 6"),
        Case({"X": rng.normal(size=(5, 3, d)), "H_0": rng.uniform(-1, 1, size=(5, h)), **weights()},
             "n = 5 sequences of length T = 3"),
    ]


register(
    Exercise(
        key="rnn.unroll",
        title="Unrolling an RNN over a sequence",
        func_name="rnn_unroll",
        reference=rnn_unroll,
        make_cases=_unroll_cases,
        wrong={
            "You returned only the last state H_T (n, h); the exercise asks for every state, H (n, T, h).": (
                _unroll_last_only
            ),
            "You did not carry the state: every step used H_0 instead of the previous step's H_{t-1}.": (
                _unroll_no_carry
            ),
            "You stacked the states along axis 0, giving (T, n, h) (time-major); the book is batch-first: "
            "np.stack(states, axis=1) gives (n, T, h).": _unroll_time_major,
            "np.concatenate joins the states along the existing hidden axis, giving (n, T * h); "
            "np.stack(states, axis=1) adds a new time axis and gives (n, T, h).": _unroll_concatenate,
            "Off by one: you stored the state before updating it, so your H[:, t] is H_{t-1} (the first "
            "entry is H_0 and H_T is missing).": _unroll_store_before_update,
            "You ignored H_0 and started from zeros.": _unroll_ignore_H_0,
        },
        atol=1e-10,
        rtol=1e-10,
        output_names=("H",),
    )
)


# ------------------------------------------------------------------------------------ rnn.teacher_forcing
def jordan_states(X, Y, Y_0, W_xh, W_yh, b_h):
    """Hidden states of a Jordan network under teacher forcing, every step in one batched product.

    H_t = tanh(X_t @ W_xh + Y_{t-1} @ W_yh + b_h), with the true previous target Y_{t-1} (Y_0 at t = 1).
    X (n, T, d), Y (n, T, q) targets, Y_0 (n, q), W_xh (d, h), W_yh (q, h), b_h (h,) -> H (n, T, h).
    """
    Y_prev = np.concatenate([Y_0[:, None, :], Y[:, :-1, :]], axis=1)
    return np.tanh(X @ W_xh + Y_prev @ W_yh + b_h)


def _jordan_no_shift(X, Y, Y_0, W_xh, W_yh, b_h):
    return np.tanh(X @ W_xh + Y @ W_yh + b_h)


def _jordan_roll(X, Y, Y_0, W_xh, W_yh, b_h):
    return np.tanh(X @ W_xh + np.roll(Y, 1, axis=1) @ W_yh + b_h)


def _jordan_zero_start(X, Y, Y_0, W_xh, W_yh, b_h):
    return jordan_states(X, Y, np.zeros_like(Y_0), W_xh, W_yh, b_h)


def _jordan_shift_wrong_way(X, Y, Y_0, W_xh, W_yh, b_h):
    Y_next = np.concatenate([Y[:, 1:, :], Y_0[:, None, :]], axis=1)
    return np.tanh(X @ W_xh + Y_next @ W_yh + b_h)


def _jordan_cases(rng: np.random.Generator) -> list[Case]:
    n, T, d, q, h = 3, 5, 4, 2, 6

    def case(Y_0_zero: bool = False):
        return {
            "X": rng.normal(size=(n, T, d)),
            "Y": rng.normal(size=(n, T, q)),
            "Y_0": np.zeros((n, q)) if Y_0_zero else rng.normal(size=(n, q)),
            "W_xh": rng.normal(scale=0.5, size=(d, h)),
            "W_yh": rng.normal(scale=0.5, size=(q, h)),
            "b_h": rng.normal(scale=0.3, size=h),
        }

    only_targets = case()
    only_targets["X"] = np.zeros((n, T, d))
    only_targets["b_h"] = np.zeros(h)
    return [
        Case(only_targets, "X = 0 and b_h = 0: only the fed-back targets act"),
        Case(case(Y_0_zero=True), "Y_0 = 0"),
        Case(case(), "non-zero Y_0, all terms"),
    ]


register(
    Exercise(
        key="rnn.teacher_forcing",
        title="A Jordan network trained with teacher forcing",
        func_name="jordan_states",
        reference=jordan_states,
        make_cases=_jordan_cases,
        wrong={
            "You fed Y_t into step t instead of Y_{t-1}: the network sees the very target it must predict. "
            "Shift the targets one step right, with Y_0 first.": _jordan_no_shift,
            "np.roll wraps around: your first step received Y_T (the last target) instead of Y_0.": (
                _jordan_roll
            ),
            "You started from zeros instead of Y_0 at the first step.": _jordan_zero_start,
            "You shifted the wrong way: step t received Y_{t+1}, a future target.": _jordan_shift_wrong_way,
        },
        atol=1e-10,
        rtol=1e-10,
        output_names=("H",),
    )
)


# ---------------------------------------------------------------------------------------- rnn.param_count
def count_params(d, h, q, T):
    """Parameters of two models that map a sequence of T inputs of size d to q outputs.

    The RNN: W_xh (d, h), W_hh (h, h), b_h (h,), then a read-out of H_T: W_hq (h, q), b_q (q,).
    The MLP: reads the flattened sequence (T * d values) into h hidden units, then the same read-out.
    d, h, q, T (ints) -> (rnn_count, mlp_count) (ints).
    """
    readout = h * q + q
    rnn_count = d * h + h * h + h + readout
    mlp_count = T * d * h + h + readout
    return rnn_count, mlp_count


def _count_rnn_times_T(d, h, q, T):
    readout = h * q + q
    return T * (d * h + h * h + h) + readout, T * d * h + h + readout


def _count_no_W_hh(d, h, q, T):
    readout = h * q + q
    return d * h + h + readout, T * d * h + h + readout


def _count_mlp_without_T(d, h, q, T):
    readout = h * q + q
    return d * h + h * h + h + readout, d * h + h + readout


def _count_no_readout(d, h, q, T):
    return d * h + h * h + h, T * d * h + h


def _count_torch_two_biases(d, h, q, T):
    readout = h * q + q
    return d * h + h * h + 2 * h + readout, T * d * h + h + readout


def _count_cases(rng: np.random.Generator) -> list[Case]:
    def ints(T):
        return {"d": int(rng.integers(2, 9)), "h": int(rng.integers(10, 40)), "q": int(rng.integers(1, 5)),
                "T": T}

    return [
        Case(ints(1), "T = 1 (a single step)"),
        Case(ints(10), "T = 10"),
        Case(ints(int(rng.integers(50, 200))), "a long sequence, T >= 50"),
    ]


register(
    Exercise(
        key="rnn.param_count",
        title="Parameters: RNN versus MLP on the flattened sequence",
        func_name="count_params",
        reference=count_params,
        make_cases=_count_cases,
        wrong={
            "You multiplied the RNN's count by T: the RNN reuses the same W_xh, W_hh and b_h at every step, "
            "so its size does not depend on T.": _count_rnn_times_T,
            "You left out W_hh (h, h), the recurrent weights.": _count_no_W_hh,
            "The MLP reads all T * d inputs at once: its first layer has T * d * h weights, not d * h.": (
                _count_mlp_without_T
            ),
            "You left out the read-out W_hq (h, q) and b_q (q,) (in both models).": _count_no_readout,
            "You counted two bias vectors in the RNN, as PyTorch stores them (bias_ih and bias_hh); the "
            "book's cell has one, b_h.": _count_torch_two_biases,
        },
        atol=0.0,
        rtol=0.0,
        output_names=("rnn_count", "mlp_count"),
    )
)
