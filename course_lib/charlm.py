"""Character-level language models for the folk-tune chapter: data, n-gram baselines, a recurrent model.

* :func:`load_folk_abc` reads ``book/data/folk_abc.txt`` (made once by ``make_folk_abc``) into tunes per
  split; :func:`stream` joins tunes into the one long text a model reads (tunes separated by a blank line).
* :class:`Vocab` maps characters to integers and back.
* :class:`NGram` is an order-``k`` character model (``k`` previous characters) with interpolated absolute
  discounting: ``P_k(c | u) = max(N(u c) - D, 0) / N(u) + D T(u) / N(u) P_{k-1}(c | u')``, where ``u'`` drops
  the oldest character of the context ``u``, ``N`` counts, ``T(u)`` is the number of distinct characters seen
  after ``u``; an unseen context backs off entirely; below order 0 sits the uniform distribution.
* :class:`CharRNN` is an embedding, one LSTM or GRU layer and a linear read-out to logits.
* :func:`train_stateful` trains it with truncated BPTT over long streams: ``n`` parallel streams cut into
  windows of ``T`` characters, the state carried from one window to the next and detached, gradients
  clipped by norm. :func:`bits_per_char` evaluates, :func:`sample` generates with a temperature.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course_lib.experiments import DATA
from course_lib.progress import progress

DATA_FILE = DATA / "folk_abc.txt"
SPLITS = ("train", "valid", "test")
LN2 = math.log(2.0)

__all__ = [
    "load_folk_abc",
    "stream",
    "Vocab",
    "NGram",
    "CharRNN",
    "n_params",
    "hidden_for_params",
    "train_stateful",
    "bits_per_char",
    "sample",
    "sample_tunes",
    "DATA_FILE",
    "SPLITS",
]


def load_folk_abc(path: str | Path = DATA_FILE) -> dict:
    """The data file: ``{"train": [tune, ...], "valid": [...], "test": [...], "sources": {split: [...]}}``."""
    text = Path(path).read_text(encoding="utf-8")
    out = {s: [] for s in SPLITS}
    out["sources"] = {s: [] for s in SPLITS}
    for record in text.strip("\n").split("\n\n"):
        head, tune = record.split("\n", 1)
        if not head.startswith("%"):
            raise ValueError(f"path: record does not start with a '%<split> <source>' line: {head!r}")
        split, source = head[1:].split(" ", 1)
        out[split].append(tune if tune.endswith("\n") else tune + "\n")
        out["sources"][split].append(source)
    return out


def stream(tunes: list[str]) -> str:
    """The text a model reads: the tunes one after the other, separated by a blank line."""
    return "\n".join(tunes)


class Vocab:
    """Characters <-> integers (sorted characters of ``text``)."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        try:
            return np.array([self.index[c] for c in text], dtype=np.int64)
        except KeyError as err:
            raise ValueError(f"text: character {err.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


# ---------------------------------------------------------------------------------------------------------
# n-gram baselines
# ---------------------------------------------------------------------------------------------------------
@dataclass
class NGram:
    """Order-``k`` character model with interpolated absolute discounting ``D`` (see the module docstring).

    ``k = 0`` is the unigram model (interpolated with the uniform distribution over the vocabulary).
    """

    k: int
    vocab: Vocab
    D: float = 0.75
    counts: list = field(default_factory=list)  # counts[j][context of length j] = Counter of next chars

    def fit(self, text: str) -> NGram:
        if self.k < 0:
            raise ValueError(f"k: expected an order >= 0, got {self.k}")
        if not 0 < self.D < 1:
            raise ValueError(f"D: expected a discount in (0, 1), got {self.D}")
        self.counts = [defaultdict(Counter) for _ in range(self.k + 1)]
        for j in range(self.k + 1):
            table = self.counts[j]
            for t in range(j, len(text)):
                table[text[t - j : t]][text[t]] += 1
        self._totals = [{u: (sum(c.values()), len(c)) for u, c in table.items()} for table in self.counts]
        return self

    def prob(self, context: str, char: str) -> float:
        """P(char | the last k characters of context)."""
        p = 1.0 / len(self.vocab)
        for j in range(0, self.k + 1):
            if j > len(context):
                break
            u = context[len(context) - j :] if j else ""
            total = self._totals[j].get(u)
            if total is None:
                continue  # unseen context: keep the lower order's probability
            N_u, T_u = total
            p = max(self.counts[j][u].get(char, 0) - self.D, 0.0) / N_u + self.D * T_u / N_u * p
        return p

    def distribution(self, context: str) -> np.ndarray:
        """P(. | context) over the vocabulary, shape (V,), sums to 1."""
        V = len(self.vocab)
        p = np.full(V, 1.0 / V)
        for j in range(0, self.k + 1):
            if j > len(context):
                break
            u = context[len(context) - j :] if j else ""
            total = self._totals[j].get(u)
            if total is None:
                continue
            N_u, T_u = total
            c = np.zeros(V)
            for ch, n in self.counts[j][u].items():
                c[self.vocab.index[ch]] = n
            p = np.maximum(c - self.D, 0.0) / N_u + self.D * T_u / N_u * p
        return p

    def bits_per_char(self, text: str, history: str = "") -> float:
        """Average -log2 P over the characters of ``text`` (``history`` precedes it, unscored)."""
        full = history + text
        start = len(history)
        total = 0.0
        for t in range(start, len(full)):
            total -= math.log2(self.prob(full[max(0, t - self.k) : t], full[t]))
        return total / len(text)

    def sample(
        self, rng: np.random.Generator, prime: str = "\n\n", max_chars: int = 1000, stop: str = "\n\n"
    ) -> str:
        """Sample characters after ``prime`` until ``stop`` appears (or ``max_chars``)."""
        text = prime
        for _ in range(max_chars):
            p = self.distribution(text[-self.k :] if self.k else "")
            text += self.vocab.chars[rng.choice(len(p), p=p / p.sum())]
            if text[len(prime) :].endswith(stop):
                break
        return text[len(prime) :]


# ---------------------------------------------------------------------------------------------------------
# The recurrent model
# ---------------------------------------------------------------------------------------------------------
class CharRNN(nn.Module):
    """Embedding (V -> e), one ``kind`` layer ("lstm" or "gru", h units), linear read-out (h -> V logits).

    forward(x, state): x (n, T) integer characters -> logits (n, T, V), new state (LSTM: (H, C), GRU: H).
    """

    def __init__(self, vocab_size: int, hidden_size: int, kind: str = "lstm", embed_size: int = 32):
        super().__init__()
        if kind not in ("lstm", "gru"):
            raise ValueError(f"kind: expected 'lstm' or 'gru', got {kind!r}")
        self.kind, self.vocab_size, self.hidden_size, self.embed_size = (
            kind,
            vocab_size,
            hidden_size,
            embed_size,
        )
        self.embed = nn.Embedding(vocab_size, embed_size)
        layer = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = layer(embed_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, x: torch.Tensor, state=None):
        if x.dim() != 2:
            raise ValueError(f"x: expected (n, T) character ids, got shape {tuple(x.shape)}")
        H, state = self.rnn(self.embed(x), state)
        return self.out(H), state


def n_params(vocab_size: int, hidden_size: int, kind: str, embed_size: int = 32) -> int:
    """Trainable parameters of :class:`CharRNN` (PyTorch's layers keep two bias vectors per gate)."""
    gates = {"lstm": 4, "gru": 3}[kind]
    return (
        vocab_size * embed_size
        + gates * (embed_size * hidden_size + hidden_size**2 + 2 * hidden_size)
        + (hidden_size + 1) * vocab_size
    )


def hidden_for_params(target: int, vocab_size: int, kind: str, embed_size: int = 32) -> int:
    """The hidden size whose parameter count is closest to ``target``."""
    return min(range(1, 1024), key=lambda h: abs(n_params(vocab_size, h, kind, embed_size) - target))


def detach_state(state):
    """Cut the graph behind the state (truncated BPTT): same values, no gradient to earlier windows."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def _parallel_streams(ids: np.ndarray, n: int) -> torch.Tensor:
    """Cut one long id sequence into ``n`` equal rows (n, L), dropping the remainder."""
    L = len(ids) // n
    return torch.from_numpy(ids[: n * L].reshape(n, L).copy())


@dataclass
class TrainLog:
    steps: list = field(default_factory=list)
    train_bpc: list = field(default_factory=list)
    valid_steps: list = field(default_factory=list)
    valid_bpc: list = field(default_factory=list)


def train_stateful(
    model: CharRNN,
    train_tunes: list[str],
    vocab: Vocab,
    *,
    steps: int,
    n: int = 32,
    T: int = 64,
    lr: float = 3e-3,
    clip_norm: float = 1.0,
    seed: int = 0,
    valid_text: str | None = None,
    eval_every: int = 0,
    desc: str | None = "training",
) -> TrainLog:
    """Truncated BPTT over long streams with the state carried between windows and detached.

    Each pass over the data shuffles the tunes (generator seeded by ``seed`` and the pass number), joins
    them into one stream and cuts it into ``n`` parallel rows; window ``j`` holds characters
    ``[jT, (j+1)T)`` of every row, so row ``i`` of one window continues row ``i`` of the previous window and
    the state is carried over (detached). The state restarts at zero at each new pass. Adam, clipping by the
    global norm ``clip_norm``. Returns the training bits/char per step (and validation ones if asked).
    """
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    log = TrainLog()
    step, epoch = 0, 0
    bar = iter(progress(range(steps), desc=desc, total=steps))
    while step < steps:
        order = np.random.default_rng([seed, epoch]).permutation(len(train_tunes))
        data = _parallel_streams(vocab.encode(stream([train_tunes[i] for i in order])), n)
        state = None
        for start in range(0, data.shape[1] - T - 1 + 1, T):
            if step >= steps:
                break
            x, y = data[:, start : start + T], data[:, start + 1 : start + T + 1]
            state = detach_state(state)
            logits, state = model(x, state)
            loss = loss_fn(logits.reshape(-1, model.vocab_size), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            opt.step()
            step += 1
            next(bar, None)
            log.steps.append(step)
            log.train_bpc.append(loss.item() / LN2)
            if valid_text is not None and eval_every and (step % eval_every == 0 or step == steps):
                log.valid_steps.append(step)
                log.valid_bpc.append(bits_per_char(model, valid_text, vocab))
                model.train()
        epoch += 1
    return log


@torch.no_grad()
def bits_per_char(model: CharRNN, text: str, vocab: Vocab, n: int = 8, T: int = 256) -> float:
    """Average -log2 P of the characters of ``text`` (after the first) under ``model``.

    ``text`` is cut into ``n`` rows read window by window with the state carried, so every character but
    the first of each row is scored with all the row's history. Characters past ``n * L`` are dropped.
    """
    model.eval()
    data = _parallel_streams(vocab.encode(text), n)
    state, total, count = None, 0.0, 0
    for start in range(0, data.shape[1] - 1, T):
        x, y = data[:, start : start + T], data[:, start + 1 : start + T + 1]
        x = x[:, : y.shape[1]]
        logits, state = model(x, state)
        total += nn.functional.cross_entropy(
            logits.reshape(-1, model.vocab_size), y.reshape(-1), reduction="sum"
        ).item()
        count += y.numel()
    return total / count / LN2


@torch.no_grad()
def sample(
    model: CharRNN,
    vocab: Vocab,
    *,
    temperature: float = 1.0,
    prime: str = "\n\n",
    max_chars: int = 1000,
    stop: str = "\n\n",
    generator: torch.Generator | None = None,
) -> str:
    """Sample one tune: feed ``prime``, then draw each character from softmax(logits / temperature).

    The default prime is the blank line that precedes every tune of the training stream.

    Stops after ``stop`` (the blank line that ends a tune) or ``max_chars`` characters; returns the text
    after ``prime`` without the final stop.
    """
    if temperature <= 0:
        raise ValueError(f"temperature: expected > 0, got {temperature}")
    model.eval()
    x = torch.from_numpy(vocab.encode(prime)).unsqueeze(0)
    logits, state = model(x)
    out = ""
    for _ in range(max_chars):
        p = torch.softmax(logits[0, -1] / temperature, dim=-1)
        i = int(torch.multinomial(p, 1, generator=generator))
        out += vocab.chars[i]
        if out.endswith(stop):
            return out[: -len(stop)] + "\n"
        logits, state = model(torch.tensor([[i]]), state)
    return out


def sample_tunes(
    model: CharRNN,
    vocab: Vocab,
    count: int,
    *,
    temperature: float = 1.0,
    seed: int = 0,
    prime: str = "\n\n",
    max_chars: int = 1000,
) -> list[str]:
    """``count`` tunes written one after the other, as the model read its training stream.

    The model reads ``prime`` (e.g. a training tune and the blank line after it, so that its state is in
    the regime it was trained in), then writes characters continuously with a generator seeded by
    ``seed``, the state carried throughout; the text is cut into tunes at each blank line. A tune that
    reaches ``max_chars`` characters without a blank line is cut there.
    """
    if temperature <= 0:
        raise ValueError(f"temperature: expected > 0, got {temperature}")
    g = torch.Generator().manual_seed(seed)
    model.eval()
    tunes, out = [], ""
    with torch.no_grad():
        logits, state = model(torch.from_numpy(vocab.encode(prime)).unsqueeze(0))
        while len(tunes) < count:
            p = torch.softmax(logits[0, -1] / temperature, dim=-1)
            i = int(torch.multinomial(p, 1, generator=g))
            out += vocab.chars[i]
            if out.endswith("\n\n"):
                tunes.append(out[:-1])
                out = ""
            elif len(out) >= max_chars:
                tunes.append(out)
                out = ""
            logits, state = model(torch.tensor([[i]]), state)
    return tunes
