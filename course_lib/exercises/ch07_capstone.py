"""Exercises of the capstone chapter (book/07_capstone_folk_tunes.ipynb).

``folk.temperature``    probabilities of the next character from logits at a temperature
``folk.bits_per_char``  bits per character from per-batch mean losses in nats
``folk.ngram_prob``     one context's interpolated absolute-discounting n-gram distribution
``folk.stateful``       a tanh RNN read over a long stream in windows of T steps, state carried and detached

Every reference uses NumPy only and the row-vector convention of the book.
"""

from __future__ import annotations

import numpy as np

from .framework import Case, Exercise, register


# ------------------------------------------------------------------------------------------ folk.temperature
def temperature_probs(logits, temperature):
    """softmax(logits / temperature) along the last axis; logits (n, V) -> probabilities (n, V).

    Stable: the row maximum is subtracted before exp, so large logits do not overflow.
    """
    A = logits / temperature
    A = A - A.max(axis=-1, keepdims=True)
    E = np.exp(A)
    return E / E.sum(axis=-1, keepdims=True)


def _softmax(A):
    A = A - A.max(axis=-1, keepdims=True)
    E = np.exp(A)
    return E / E.sum(axis=-1, keepdims=True)


def _tp_divide_probs(logits, temperature):
    return _softmax(logits) / temperature


def _tp_divide_probs_renormalised(logits, temperature):
    P = _softmax(logits) / temperature
    return P / P.sum(axis=-1, keepdims=True)


def _tp_multiply(logits, temperature):
    return _softmax(logits * temperature)


def _tp_power_wrong_way(logits, temperature):
    P = _softmax(logits) ** temperature
    return P / P.sum(axis=-1, keepdims=True)


def _tp_naive(logits, temperature):
    E = np.exp(logits / temperature)
    return E / E.sum(axis=-1, keepdims=True)


def _tp_not_normalised(logits, temperature):
    A = logits / temperature
    return np.exp(A - A.max(axis=-1, keepdims=True))


def _tp_power_not_normalised(logits, temperature):
    return _softmax(logits) ** (1.0 / temperature)


def _tp_wrong_axis(logits, temperature):
    A = logits / temperature
    A = A - A.max(axis=0, keepdims=True)
    E = np.exp(A)
    return E / E.sum(axis=0, keepdims=True)


def _temperature_cases(rng):
    n, V = 3, 5
    return [
        Case({"logits": rng.normal(size=(n, V)), "temperature": 1.0}, "temperature 1: the plain softmax"),
        Case({"logits": rng.normal(size=(n, V)), "temperature": 0.5}, "temperature 0.5 (sharper)"),
        Case({"logits": rng.normal(size=(n, V)), "temperature": 2.0}, "temperature 2 (flatter)"),
        Case(
            {"logits": rng.normal(size=(n, V)) + 800.0, "temperature": 0.8},
            "large logits (about 800): exp overflows unless the maximum is subtracted",
        ),
    ]


register(
    Exercise(
        key="folk.temperature",
        title="Sampling probabilities at a temperature",
        func_name="temperature_probs",
        reference=temperature_probs,
        make_cases=_temperature_cases,
        fail_on_warning=True,
        wrong={
            "You divided the PROBABILITIES by the temperature: they no longer sum to 1. The temperature "
            "divides the logits, before the softmax.": _tp_divide_probs,
            "You divided the probabilities by the temperature and renormalised: that cancels out, so the "
            "temperature has no effect. Divide the logits, before the softmax.": (
                _tp_divide_probs_renormalised
            ),
            "You multiplied the logits by the temperature: a temperature above 1 must FLATTEN the "
            "distribution, so divide the logits by it.": _tp_multiply,
            "You raised the probabilities to the power T: softmax(logits / T) equals probabilities to the "
            "power 1/T, renormalised.": _tp_power_wrong_way,
            "You took exp of the logits without subtracting the row maximum: for large logits exp overflows "
            "(inf / inf = nan).": _tp_naive,
            "You forgot to normalise: after exp, divide each row by its sum so the probabilities add up "
            "to 1.": _tp_not_normalised,
            "You raised the probabilities to the power 1/T (that is the right idea) but did not renormalise: "
            "each row must be divided by its sum again.": _tp_power_not_normalised,
            "You normalised along the wrong axis: each ROW (one sequence's next character) sums to 1, "
            "axis=-1.": _tp_wrong_axis,
        },
        output_names=("P",),
    )
)


# --------------------------------------------------------------------------------------- folk.bits_per_char
def bits_per_char(losses, counts):
    """Bits per character from per-batch losses.

    losses (B,): the mean cross-entropy of each batch in nats (what nn.CrossEntropyLoss returns);
    counts (B,): the number of characters in each batch. Returns a float: total nats / total characters
    / ln 2.
    """
    return float(np.sum(losses * counts) / np.sum(counts) / np.log(2.0))


def _bpc_plain_mean(losses, counts):
    return float(np.mean(losses) / np.log(2.0))


def _bpc_nats(losses, counts):
    return float(np.sum(losses * counts) / np.sum(counts))


def _bpc_times_ln2(losses, counts):
    return float(np.sum(losses * counts) / np.sum(counts) * np.log(2.0))


def _bpc_log10(losses, counts):
    return float(np.sum(losses * counts) / np.sum(counts) / np.log(10.0))


def _bpc_perplexity(losses, counts):
    return float(np.exp(np.sum(losses * counts) / np.sum(counts)))


def _bpc_total(losses, counts):
    return float(np.sum(losses * counts) / np.log(2.0))


def _bpc_log2_of_loss(losses, counts):
    return float(np.log2(np.sum(losses * counts) / np.sum(counts)))


def _bpc_cases(rng):
    return [
        Case(
            {"losses": np.array([np.log(2.0)]), "counts": np.array([10.0])},
            "one batch with loss ln 2 nats: exactly 1 bit per character",
        ),
        Case(
            {"losses": rng.uniform(1.0, 2.0, size=4), "counts": np.full(4, 64.0)},
            "four batches of equal size",
        ),
        Case(
            {"losses": np.array([1.2, 2.5, 1.7]), "counts": np.array([2048.0, 100.0, 700.0])},
            "batches of different sizes (the last ones shorter)",
        ),
    ]


register(
    Exercise(
        key="folk.bits_per_char",
        title="Bits per character from a loss in nats",
        func_name="bits_per_char",
        reference=bits_per_char,
        make_cases=_bpc_cases,
        wrong={
            "You averaged the batch means: batches of different sizes must be weighted by their number of "
            "characters (sum of losses * counts / sum of counts).": _bpc_plain_mean,
            "You returned nats per character: PyTorch's cross-entropy uses the natural log; divide by ln 2 "
            "for bits.": _bpc_nats,
            "You multiplied by ln 2: bits = nats / ln 2 (a bit is the larger unit, so the number grows).": (
                _bpc_times_ln2
            ),
            "You divided by ln 10: that gives decimal digits (bans), bits need ln 2.": _bpc_log10,
            "You returned the perplexity exp(loss): bits per character is the loss divided by ln 2 "
            "(perplexity = 2 ** bits).": _bpc_perplexity,
            "You forgot to divide by the number of characters: that is the total in bits.": _bpc_total,
            "You took log2 OF the loss: the loss is already a log (in nats); convert it with a division by "
            "ln 2, do not take another logarithm.": _bpc_log2_of_loss,
        },
        output_names=("bits_per_char",),
    )
)


# ----------------------------------------------------------------------------------------- folk.ngram_prob
def ngram_prob(counts, lower, D):
    """Interpolated absolute discounting for one context u.

    counts (V,): N(u c), how often each character c followed u in the training text; lower (V,): the
    lower-order distribution P_{k-1}(. | u'), sums to 1; D: the discount, 0 < D < 1. Returns (V,):
    P(c | u) = max(N(u c) - D, 0) / N(u) + D * T(u) / N(u) * lower(c), with N(u) = sum of counts and
    T(u) = the number of characters with a non-zero count. An unseen context (N(u) = 0) returns lower.
    """
    N_u = counts.sum()
    if N_u == 0:
        return lower.copy()
    T_u = np.count_nonzero(counts)
    return np.maximum(counts - D, 0.0) / N_u + D * T_u / N_u * lower


def _ng_no_backoff(counts, lower, D):
    N_u = counts.sum()
    if N_u == 0:
        return lower.copy()
    return np.maximum(counts - D, 0.0) / N_u


def _ng_no_clip(counts, lower, D):
    N_u = counts.sum()
    if N_u == 0:
        return lower.copy()
    T_u = np.count_nonzero(counts)
    return (counts - D) / N_u + D * T_u / N_u * lower


def _ng_V_not_T(counts, lower, D):
    N_u = counts.sum()
    if N_u == 0:
        return lower.copy()
    return np.maximum(counts - D, 0.0) / N_u + D * len(counts) / N_u * lower


def _ng_add_one(counts, lower, D):
    return (counts + 1.0) / (counts.sum() + len(counts))


def _ng_unseen_uniform(counts, lower, D):
    N_u = counts.sum()
    if N_u == 0:
        return np.full_like(lower, 1.0 / len(lower))
    T_u = np.count_nonzero(counts)
    return np.maximum(counts - D, 0.0) / N_u + D * T_u / N_u * lower


def _ng_backoff_D(counts, lower, D):
    N_u = counts.sum()
    if N_u == 0:
        return lower.copy()
    return np.maximum(counts - D, 0.0) / N_u + D * lower


def _ng_add_D(counts, lower, D):
    return (counts + D) / (counts.sum() + D * len(counts))


def _ngram_cases(rng):
    V = 6
    lower = rng.dirichlet(np.ones(V))
    return [
        Case(
            {"counts": np.array([4.0, 0, 1, 0, 0, 3]), "lower": lower, "D": 0.75},
            "a seen context: some characters never followed it",
        ),
        Case(
            {"counts": np.zeros(V), "lower": rng.dirichlet(np.ones(V)), "D": 0.75},
            "an unseen context: every count is zero",
        ),
        Case(
            {"counts": np.array([0.0, 0, 7, 0, 0, 0]), "lower": rng.dirichlet(np.ones(V)), "D": 0.5},
            "only one character ever followed the context",
        ),
        Case(
            {
                "counts": rng.integers(1, 9, size=V).astype(float),
                "lower": rng.dirichlet(np.ones(V)),
                "D": 0.9,
            },
            "every character followed the context",
        ),
    ]


register(
    Exercise(
        key="folk.ngram_prob",
        title="The smoothed n-gram probability",
        func_name="ngram_prob",
        reference=ngram_prob,
        make_cases=_ngram_cases,
        wrong={
            "You discounted the counts but did not give the removed mass D * T(u) / N(u) to the lower order: "
            "the probabilities sum to less than 1 and unseen characters get 0.": _ng_no_backoff,
            "You subtracted D from zero counts too: characters never seen after u get a NEGATIVE term; "
            "clip at 0 with max(N(u c) - D, 0).": _ng_no_clip,
            "The backoff weight uses T(u), the number of DISTINCT characters seen after u (the number of "
            "counts that were discounted), not the vocabulary size V.": _ng_V_not_T,
            "That is add-one (Laplace) smoothing: this model discounts by D and interpolates with the lower "
            "order.": _ng_add_one,
            "For an unseen context back off to the LOWER-ORDER distribution, not to the uniform one.": (
                _ng_unseen_uniform
            ),
            "The lower order's weight is D * T(u) / N(u), not D.": _ng_backoff_D,
            "You ADDED D to every count (add-D, Lidstone smoothing): this model SUBTRACTS D from the seen "
            "counts and gives that mass to the lower order.": _ng_add_D,
        },
        output_names=("P",),
    )
)


# -------------------------------------------------------------------------------------------- folk.stateful
def stateful_rnn(X, H_0, W_xh, W_hh, b_h, T):
    """A tanh RNN read over one long stream in windows of T steps, as truncated BPTT trains it.

    X (n, L, d), H_0 (n, h), W_xh (d, h), W_hh (h, h), b_h (h,), T: window length.
    H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h). Each window starts from the state the previous window
    ended with (carried: the values go on) but detached (the graph is cut: the backward pass of a window
    stops at its first step). Returns H (n, L, h), the states, and first (L,) int: for each step t, the
    earliest step the backward pass from step t's loss reaches.
    """
    n, L, d = X.shape
    H = np.zeros((n, L, W_hh.shape[0]))
    first = np.zeros(L, dtype=int)
    H_t = H_0
    for start in range(0, L, T):
        H_t = H_t.copy()
        for t in range(start, min(start + T, L)):
            H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
            H[:, t] = H_t
            first[t] = start
    return H, first


def _sr_no_detach(X, H_0, W_xh, W_hh, b_h, T):
    H, first = stateful_rnn(X, H_0, W_xh, W_hh, b_h, T)
    return H, np.zeros_like(first)


def _sr_reset_zero(X, H_0, W_xh, W_hh, b_h, T):
    n, L, d = X.shape
    H = np.zeros((n, L, W_hh.shape[0]))
    first = np.zeros(L, dtype=int)
    for start in range(0, L, T):
        H_t = H_0 if start == 0 else np.zeros_like(H_0)
        for t in range(start, min(start + T, L)):
            H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
            H[:, t] = H_t
            first[t] = start
    return H, first


def _sr_reset_H0(X, H_0, W_xh, W_hh, b_h, T):
    n, L, d = X.shape
    H = np.zeros((n, L, W_hh.shape[0]))
    first = np.zeros(L, dtype=int)
    for start in range(0, L, T):
        H_t = H_0
        for t in range(start, min(start + T, L)):
            H_t = np.tanh(X[:, t] @ W_xh + H_t @ W_hh + b_h)
            H[:, t] = H_t
            first[t] = start
    return H, first


def _sr_no_bptt(X, H_0, W_xh, W_hh, b_h, T):
    H, first = stateful_rnn(X, H_0, W_xh, W_hh, b_h, T)
    return H, np.arange(X.shape[1])


def _sr_window_number(X, H_0, W_xh, W_hh, b_h, T):
    H, first = stateful_rnn(X, H_0, W_xh, W_hh, b_h, T)
    return H, first // T


def _sr_ignore_H0(X, H_0, W_xh, W_hh, b_h, T):
    return stateful_rnn(X, np.zeros_like(H_0), W_xh, W_hh, b_h, T)


def _stateful_cases(rng):
    n, d, h = 3, 4, 5

    def draw(L):
        return {
            "X": rng.normal(size=(n, L, d)),
            "H_0": rng.uniform(-0.9, 0.9, size=(n, h)),
            "W_xh": rng.normal(scale=0.5, size=(d, h)),
            "W_hh": rng.normal(scale=0.5, size=(h, h)),
            "b_h": rng.normal(scale=0.3, size=h),
        }

    return [
        Case({**draw(7), "T": 7}, "one window covers the stream (T = L = 7)"),
        Case({**draw(6), "T": 2}, "three windows of T = 2"),
        Case({**draw(7), "T": 3}, "windows of T = 3, the last one shorter (L = 7)"),
        Case({**draw(4), "T": 1}, "windows of one step (T = 1)"),
    ]


register(
    Exercise(
        key="folk.stateful",
        title="Carry the state, cut the graph",
        func_name="stateful_rnn",
        reference=stateful_rnn,
        make_cases=_stateful_cases,
        wrong={
            "You carried the state but did not DETACH it: the backward pass then runs back to step 0 through "
            "every earlier window (first[t] should be the start of t's window).": _sr_no_detach,
            "You reset the state to zero at every window: the stream is one long text, so each window must "
            "start from the state the previous one ended with.": _sr_reset_zero,
            "You restarted every window from H_0: carry the LAST state of the previous window.": _sr_reset_H0,
            "first[t] = t means no backpropagation through time at all: within a window the gradient flows "
            "back to the window's first step.": _sr_no_bptt,
            "You ignored H_0: the first window starts from the given state.": _sr_ignore_H0,
            "first[t] is the window's first STEP (a time index, e.g. 3 for the second window of T = 3), "
            "not the window's number.": _sr_window_number,
        },
        atol=1e-10,
        rtol=1e-8,
        output_names=("H", "first"),
    )
)
