"""Exercises of chapter 1 (book/01_rnn_limits.ipynb): the plain recurrent network.

``rnn.step``: one step of an Elman RNN, ``H_t = tanh(X_t @ W_xh + H_prev @ W_hh + b_h)``.
``rnn.unroll``: the same step run over a whole batch-first sequence ``X (n, T, d) -> H (n, T, h)``.
``rnn.teacher_forcing``: a Jordan network's hidden states under teacher forcing, all steps in one product.
``rnn.param_count``: parameters of an RNN versus an MLP that reads the whole flattened sequence.
``rnn.last_states``: the final states of a padded batch of sequences of different lengths.
``rnn.torch_step``: one step of PyTorch's ``nn.RNN`` computed in NumPy from its stored parameters.

``rnn.step`` and ``rnn.unroll`` are the two cells the chapter builds in front of the reader; they stay
registered (for instructors and the grader) while the chapter's own exercises ask for the ideas.
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


def _cell_column_order(X_t, H_prev, W_xh, W_hh, b_h):
    return np.tanh(X_t @ W_xh + W_hh @ H_prev + b_h)


def _cell_input_transposed(X_t, H_prev, W_xh, W_hh, b_h):
    return np.tanh(X_t @ W_xh.T + H_prev @ W_hh + b_h)


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
            "You multiplied by W_hh.T. PyTorch's nn.RNN formula writes h_{t-1} W_hh^T because it stores "
            "weight_hh as (h_out, h_in); the book's W_hh is stored (h_in, h_out), so the recurrent term is "
            "H_prev @ W_hh.": _cell_transposed_W_hh,
            "You wrote W_hh @ H_prev, the column-vector order of PyTorch's RNNCell formula (W_hh h). In the "
            "book each example is a row: H_prev (n, h) comes first, H_prev @ W_hh (n, h) @ (h, h).": (
                _cell_column_order
            ),
            "You wrote X_t @ W_xh.T: W_xh is already stored (d, h), from input to hidden, so X_t @ W_xh is "
            "(n, d) @ (d, h). (W_xh.T is the (h, d) layout of PyTorch's weight_ih.)": _cell_input_transposed,
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


def _unroll_backwards(X, H_0, W_xh, W_hh, b_h):
    H_t = H_0
    states = []
    for t in reversed(range(X.shape[1])):
        H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
        states.append(H_t)
    return np.stack(states, axis=1)


def _unroll_stack_reversed(X, H_0, W_xh, W_hh, b_h):
    return rnn_unroll(X, H_0, W_xh, W_hh, b_h)[:, ::-1]


def _unroll_index_batch_axis(X, H_0, W_xh, W_hh, b_h):
    H_t = H_0
    states = []
    for t in range(X.shape[1]):
        H_t = np.tanh(X[t] @ W_xh + H_t @ W_hh + b_h)
        states.append(H_t)
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
            "You ran the sequence backwards in time, from X[:, T-1] down to X[:, 0]: the state must read "
            "X[:, 0] first.": _unroll_backwards,
            "Your states are in reverse order: H[:, 0] must be the state after the first step, H[:, -1] "
            "the final state H_T.": _unroll_stack_reversed,
            "X[t] indexes the batch axis: the sequence is batch-first, X (n, T, d), so step t is X[:, t].": (
                _unroll_index_batch_axis
            ),
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


def _jordan_slice_from_one(X, Y, Y_0, W_xh, W_yh, b_h):
    Y_prev = np.concatenate([Y_0[:, None, :], Y[:, 1:, :]], axis=1)
    return np.tanh(X @ W_xh + Y_prev @ W_yh + b_h)


def _jordan_no_Y_0(X, Y, Y_0, W_xh, W_yh, b_h):
    return np.tanh(X @ W_xh + Y[:, :-1, :] @ W_yh + b_h)


def _jordan_Y_0_batch_axis(X, Y, Y_0, W_xh, W_yh, b_h):
    Y_prev = np.concatenate([Y_0[None], Y[:, :-1, :]], axis=1)  # Y_0[None] is (1, n, q), not (n, 1, q)
    return np.tanh(X @ W_xh + Y_prev @ W_yh + b_h)


def _jordan_W_yh_transposed(X, Y, Y_0, W_xh, W_yh, b_h):
    Y_prev = np.concatenate([Y_0[:, None, :], Y[:, :-1, :]], axis=1)
    return np.tanh(X @ W_xh + Y_prev @ W_yh.T + b_h)


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
            "After Y_0 you appended Y[:, 1:], which skips Y_1 and feeds Y_t into step t from the second step "
            "on. The targets fed back are Y_0, Y_1, ..., Y_{T-1}: Y_0 followed by Y[:, :-1].": (
                _jordan_slice_from_one
            ),
            "You fed back Y[:, :-1] without Y_0 in front: that is T - 1 targets for T steps, so the shapes "
            "(n, T, h) and (n, T - 1, h) cannot be added. Put Y_0 first (np.concatenate along axis 1).": (
                _jordan_no_Y_0
            ),
            "Y_0 is (n, q) and Y[:, :-1] is (n, T - 1, q): to stand in front of them along the time axis "
            "Y_0 must become (n, 1, q), Y_0[:, None, :]. Y_0[None] is (1, n, q): it adds the new axis in "
            "front of the batch axis, so the concatenation fails.": _jordan_Y_0_batch_axis,
            "W_yh is already (q, h): the fed-back targets (n, T, q) multiply it as they are, "
            "Y_prev @ W_yh, without a transpose.": _jordan_W_yh_transposed,
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


def _count_no_readout_bias(d, h, q, T):
    return d * h + h * h + h + h * q, T * d * h + h + h * q


def _count_swapped(d, h, q, T):
    rnn_count, mlp_count = count_params(d, h, q, T)
    return mlp_count, rnn_count


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
            "You left out the read-out's bias b_q (q,) (in both models): the read-out has h * q + q "
            "parameters.": _count_no_readout_bias,
            "Both counts are right but in the wrong order: return (rnn_count, mlp_count).": _count_swapped,
        },
        atol=0.0,
        rtol=0.0,
        output_names=("rnn_count", "mlp_count"),
    )
)


# ---------------------------------------------------------------------------------------- rnn.last_states
def last_states(X, lengths, H_0, W_xh, W_hh, b_h):
    """Final states of a padded batch of sequences of different lengths (a tanh Elman RNN).

    X (n, T, d): sequence i is X[i, :lengths[i]], the steps after it are padding; lengths (n,) ints in
    1..T; H_0 (n, h); W_xh (d, h); W_hh (h, h); b_h (h,). Returns H_last (n, h): the state of each sequence
    after its own last real step X[i, lengths[i] - 1].
    """
    H_t = H_0
    for t in range(X.shape[1]):
        H_new = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
        real = (t < lengths)[:, None]  # (n, 1): True where sequence i still has a real step t
        H_t = np.where(real, H_new, H_t)  # padding steps keep the state unchanged
    return H_t


def _ls_loop(X, lengths, H_0, W_xh, W_hh, b_h, update):
    H_t = H_0
    for t in range(X.shape[1]):
        H_new = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
        H_t = update(t, H_new, H_t, lengths[:, None])
    return H_t


def _ls_ignore_lengths(X, lengths, H_0, W_xh, W_hh, b_h):
    return _ls_loop(X, lengths, H_0, W_xh, W_hh, b_h, lambda t, new, old, L: new)


def _ls_one_step_too_many(X, lengths, H_0, W_xh, W_hh, b_h):
    return _ls_loop(X, lengths, H_0, W_xh, W_hh, b_h, lambda t, new, old, L: np.where(t <= L, new, old))


def _ls_zero_on_padding(X, lengths, H_0, W_xh, W_hh, b_h):
    return _ls_loop(X, lengths, H_0, W_xh, W_hh, b_h, lambda t, new, old, L: np.where(t < L, new, 0.0))


def _ls_zero_padded_inputs(X, lengths, H_0, W_xh, W_hh, b_h):
    mask = (np.arange(X.shape[1])[None, :] < lengths[:, None])[:, :, None]
    return _ls_ignore_lengths(X * mask, lengths, H_0, W_xh, W_hh, b_h)


def _ls_index_lengths(X, lengths, H_0, W_xh, W_hh, b_h):
    H = rnn_unroll(X, H_0, W_xh, W_hh, b_h)
    return H[np.arange(X.shape[0]), lengths]


def _ls_index_without_arange(X, lengths, H_0, W_xh, W_hh, b_h):
    return rnn_unroll(X, H_0, W_xh, W_hh, b_h)[:, lengths - 1]


def _ls_ignore_H_0(X, lengths, H_0, W_xh, W_hh, b_h):
    return last_states(X, lengths, np.zeros_like(H_0), W_xh, W_hh, b_h)


def _last_states_cases(rng: np.random.Generator) -> list[Case]:
    n, T, d, h = 4, 6, 3, 5

    def case(lengths, garbage=False, H_0_zero=False):
        lengths = np.array(lengths)
        X = rng.normal(size=(n, T, d))
        if not garbage:  # the usual zero padding
            X = X * (np.arange(T)[None, :] < lengths[:, None])[:, :, None]
        return {
            "X": X,
            "lengths": lengths,
            "H_0": np.zeros((n, h)) if H_0_zero else rng.uniform(-1, 1, size=(n, h)),
            "W_xh": rng.normal(scale=0.6, size=(d, h)),
            "W_hh": rng.normal(scale=0.6, size=(h, h)),
            "b_h": rng.normal(scale=0.3, size=h),
        }

    return [
        Case(case([T, T, T, T]), "every sequence has the full length T = 6 (no padding)"),
        Case(case([1, 1, 1, 1], H_0_zero=True), "every sequence has length 1, H_0 = 0"),
        Case(case([2, 6, 3, 5]), "lengths 2, 6, 3, 5 with zero padding"),
        Case(case([4, 1, 5, 2], garbage=True), "lengths 4, 1, 5, 2, the padding holds non-zero values"),
    ]


register(
    Exercise(
        key="rnn.last_states",
        title="Final states of padded sequences",
        func_name="last_states",
        reference=last_states,
        make_cases=_last_states_cases,
        wrong={
            "You ignored lengths: your states also read the padding steps. A padded step must leave the "
            "state of that sequence unchanged.": _ls_ignore_lengths,
            "Off by one: your states read one padding step too many (t <= lengths); sequence i has real "
            "steps t = 0, ..., lengths[i] - 1.": _ls_one_step_too_many,
            "You set the state to zero on padding steps; it must keep its last real value (np.where(real, "
            "H_new, H_t)).": _ls_zero_on_padding,
            "Zeroing the padded inputs is not enough: a step with X_t = 0 still applies W_hh and b_h and "
            "changes the state. Keep the state unchanged where the step is padding.": _ls_zero_padded_inputs,
            "H[:, lengths] is one step too far (and out of range when lengths[i] = T): the last real state "
            "of sequence i is H[i, lengths[i] - 1].": _ls_index_lengths,
            "H[:, lengths - 1] takes, for every sequence, the steps lengths - 1 of all sequences: (n, n, h). "
            "Pair each sequence with its own length: H[np.arange(n), lengths - 1].": _ls_index_without_arange,
            "You ignored H_0 and started from zeros.": _ls_ignore_H_0,
        },
        atol=1e-10,
        rtol=1e-10,
        output_names=("H_last",),
    )
)


# ----------------------------------------------------------------------------------------- rnn.torch_step
def torch_rnn_step(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One step of PyTorch's nn.RNN (tanh) in NumPy, from the parameters as PyTorch stores them.

    X_t (n, d), H_prev (n, h); weight_ih (h, d) and weight_hh (h, h) (one row per hidden unit, as in
    weight_ih_l0 and weight_hh_l0); bias_ih (h,), bias_hh (h,). Returns H_t (n, h).
    """
    return np.tanh(X_t @ weight_ih.T + bias_ih + H_prev @ weight_hh.T + bias_hh)


def _ts_input_not_transposed(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(X_t @ weight_ih + bias_ih + H_prev @ weight_hh.T + bias_hh)


def _ts_recurrent_not_transposed(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(X_t @ weight_ih.T + bias_ih + H_prev @ weight_hh + bias_hh)


def _ts_column_order(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(X_t @ weight_ih.T + bias_ih + weight_hh @ H_prev + bias_hh)


def _ts_column_form(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(weight_ih @ X_t.T + bias_ih[:, None] + weight_hh @ H_prev.T + bias_hh[:, None])


def _ts_column_form_row_bias(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(weight_ih @ X_t.T + weight_hh @ H_prev.T + bias_ih + bias_hh)


def _ts_only_bias_ih(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(X_t @ weight_ih.T + bias_ih + H_prev @ weight_hh.T)


def _ts_only_bias_hh(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return np.tanh(X_t @ weight_ih.T + H_prev @ weight_hh.T + bias_hh)


def _ts_no_tanh(X_t, H_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return X_t @ weight_ih.T + bias_ih + H_prev @ weight_hh.T + bias_hh


def _torch_step_cases(rng: np.random.Generator) -> list[Case]:
    n, d, h = 3, 4, 5
    full = {
        "X_t": rng.normal(size=(n, d)),
        "H_prev": rng.uniform(-1.0, 1.0, size=(n, h)),
        "weight_ih": rng.normal(scale=0.5, size=(h, d)),
        "weight_hh": rng.normal(scale=0.5, size=(h, h)),
        "bias_ih": rng.normal(scale=0.5, size=h),
        "bias_hh": rng.normal(scale=0.5, size=h),
    }
    zeros_x, zeros_h, zeros_b = np.zeros((n, d)), np.zeros((n, h)), np.zeros(h)
    return [
        Case({**full, "X_t": zeros_x, "H_prev": zeros_h, "bias_hh": zeros_b}, "only bias_ih is non-zero"),
        Case({**full, "X_t": zeros_x, "H_prev": zeros_h, "bias_ih": zeros_b}, "only bias_hh is non-zero"),
        Case({**full, "H_prev": zeros_h, "bias_ih": zeros_b, "bias_hh": zeros_b},
             "only the input term is non-zero"),
        Case({**full, "X_t": zeros_x, "bias_ih": zeros_b, "bias_hh": zeros_b},
             "only the recurrent term is non-zero"),
        Case(full, "all terms non-zero"),
    ]


register(
    Exercise(
        key="rnn.torch_step",
        title="One step of nn.RNN from PyTorch's stored weights",
        func_name="torch_rnn_step",
        reference=torch_rnn_step,
        make_cases=_torch_step_cases,
        wrong={
            "X_t (n, d) was multiplied by a matrix with h rows: weight_ih without its transpose (PyTorch "
            "stores it (h, d), one row per hidden unit), or weight_hh, which belongs to H_prev. The input "
            "term is X_t @ weight_ih.T, (n, d) @ (d, h).": _ts_input_not_transposed,
            "You wrote H_prev @ weight_hh. weight_hh is stored (h_out, h_in), so the product is "
            "H_prev @ weight_hh.T; without the transpose the shapes still fit (h, h) and the numbers are "
            "silently wrong.": _ts_recurrent_not_transposed,
            "You wrote weight_hh @ H_prev, the column-vector order of the RNNCell formula. With a row per "
            "example it is H_prev @ weight_hh.T.": _ts_column_order,
            "You computed the column form (weight_ih @ X_t.T + ...), which gives H_t transposed, (h, n). "
            "Return one row per example, (n, h): X_t @ weight_ih.T + H_prev @ weight_hh.T + biases.": (
                _ts_column_form
            ),
            "You computed the column form weight_ih @ X_t.T + weight_hh @ H_prev.T, which is (h, n), one "
            "column per example, so the biases (h,) no longer line up with it. Keep one row per example: "
            "X_t @ weight_ih.T + H_prev @ weight_hh.T + bias_ih + bias_hh.": _ts_column_form_row_bias,
            "You left out bias_hh: nn.RNN adds both bias vectors, bias_ih and bias_hh.": _ts_only_bias_ih,
            "You left out bias_ih: nn.RNN adds both bias vectors, bias_ih and bias_hh.": _ts_only_bias_hh,
            "You returned the pre-activation: nn.RNN (nonlinearity='tanh', the default) applies np.tanh to "
            "the sum.": _ts_no_tanh,
        },
        atol=1e-10,
        rtol=1e-10,
        output_names=("H_t",),
    )
)
