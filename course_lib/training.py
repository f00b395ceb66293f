"""Training small recurrent models on the course's tasks, with PyTorch on the CPU.

A :class:`SequenceModel` is a recurrent layer (``torch.nn.RNN/LSTM/GRU`` or one of the course's own
``course_lib.torch_cells`` layers) followed by a linear read-out of the last hidden state ``H_T``.
:func:`train` runs Adam on minibatches drawn fresh from a task at every step, with optional gradient
clipping by global norm, and records the loss. Loops longer than a few seconds show a progress bar to a
learner (none in stored notebook outputs, see :mod:`course_lib.progress`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from course_lib.progress import progress

BatchFn = Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]


class SequenceModel(nn.Module):
    """A recurrent layer and a linear read-out of its last hidden state.

    Args:
        layer: a batch-first module whose ``forward(X)`` returns ``(H_seq, state)`` with ``H_seq`` of
            shape ``(n, T, h)`` (``torch.nn.RNN/LSTM/GRU`` with ``batch_first=True``, or a
            ``course_lib.torch_cells`` layer).
        hidden_size: ``h``.
        out_features: size of the prediction (1 for regression, the number of classes otherwise).

    ``forward(X)`` maps ``X`` of shape ``(n, T, d)`` to ``(n, out_features)``.
    """

    def __init__(self, layer: nn.Module, hidden_size: int, out_features: int):
        super().__init__()
        self.layer = layer
        self.readout = nn.Linear(hidden_size, out_features)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if X.dim() != 3:
            raise ValueError(f"X must have shape (n, T, d), got shape {tuple(X.shape)}")
        H_seq, _ = self.layer(X)
        return self.readout(H_seq[:, -1])


def make_model(
    kind: str,
    input_size: int,
    hidden_size: int,
    out_features: int,
    *,
    nonlinearity: str = "tanh",
    forget_bias: float | None = None,
    identity_init: bool = False,
    seed: int = 0,
) -> SequenceModel:
    """Build a :class:`SequenceModel` on PyTorch's own fused layers.

    Args:
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        nonlinearity: ``"tanh"`` or ``"relu"`` (plain RNN only).
        forget_bias: LSTM only: the forget-gate bias ``b_f`` at initialisation (PyTorch's two bias vectors
            are set so that they add up to it), as Keras' ``unit_forget_bias=True`` does with 1.
        identity_init: plain RNN only: ``W_hh = I`` and zero biases (the IRNN of Le et al., 2015).
        seed: seeds ``torch`` before the parameters are drawn.
    """
    torch.manual_seed(seed)
    if kind == "rnn":
        layer = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, batch_first=True)
        if identity_init:
            with torch.no_grad():
                layer.weight_hh_l0.copy_(torch.eye(hidden_size))
                layer.bias_ih_l0.zero_()
                layer.bias_hh_l0.zero_()
    elif kind == "lstm":
        layer = nn.LSTM(input_size, hidden_size, batch_first=True)
        if forget_bias is not None:
            h = hidden_size
            with torch.no_grad():  # PyTorch's gate order is i, f, g, o: the forget gate is rows h:2h
                layer.bias_ih_l0[h : 2 * h].fill_(forget_bias)
                layer.bias_hh_l0[h : 2 * h].zero_()
    elif kind == "gru":
        layer = nn.GRU(input_size, hidden_size, batch_first=True)
    else:
        raise ValueError(f"kind must be 'rnn', 'lstm' or 'gru', got {kind!r}")
    if kind != "rnn" and (identity_init or nonlinearity != "tanh"):
        raise ValueError("identity_init and nonlinearity apply to kind='rnn' only")
    if kind != "lstm" and forget_bias is not None:
        raise ValueError("forget_bias applies to kind='lstm' only")
    return SequenceModel(layer, hidden_size, out_features)


@contextmanager
def one_thread():
    """Run PyTorch on one thread inside the block (restored after).

    The course's models are small: splitting their matrix products over threads costs more than it saves
    on a laptop CPU (several times slower on a busy 2-core machine), and one thread is reproducible.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class History:
    """What :func:`train` records: the training loss at every step and evaluations every few steps."""

    loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_values: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)

    def first_step_below(self, threshold: float) -> int | None:
        """The first evaluation step whose value is below ``threshold``, or ``None`` if none is."""
        for step, value in zip(self.eval_steps, self.eval_values, strict=True):
            if value < threshold:
                return step
        return None


def _loss_fn(loss: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if loss == "mse":
        return nn.functional.mse_loss
    if loss == "ce":
        return nn.functional.cross_entropy
    raise ValueError(f"loss must be 'mse' or 'ce', got {loss!r}")


def _as_target(y: np.ndarray, loss: str) -> torch.Tensor:
    return torch.as_tensor(y, dtype=torch.long) if loss == "ce" else torch.as_tensor(y, dtype=torch.float32)


@torch.no_grad()
def evaluate(model: nn.Module, X: np.ndarray, y: np.ndarray, loss: str = "mse") -> float:
    """MSE (``loss="mse"``) or accuracy in [0, 1] (``loss="ce"``) of ``model`` on ``X (n, T, d)``."""
    model.eval()
    out = model(torch.as_tensor(X, dtype=torch.float32))
    model.train()
    if loss == "ce":
        return float((out.argmax(dim=1) == torch.as_tensor(y)).float().mean())
    return float(nn.functional.mse_loss(out, torch.as_tensor(y, dtype=torch.float32)))


def train(
    model: nn.Module,
    batch_fn: BatchFn,
    *,
    steps: int,
    lr: float = 1e-2,
    loss: str = "mse",
    clip_norm: float | None = 1.0,
    eval_data: tuple[np.ndarray, np.ndarray] | None = None,
    eval_every: int = 50,
    stop_below: float | None = None,
    seed: int = 0,
    desc: str | None = None,
) -> History:
    """Train ``model`` with Adam on fresh minibatches ``batch_fn(rng) -> (X, y)``.

    Args:
        steps: number of optimisation steps.
        loss: ``"mse"`` (regression, ``y`` of shape ``(n, 1)``) or ``"ce"`` (classification, ``y`` ints).
        clip_norm: clip the global gradient norm to this value (``None``: no clipping).
        eval_data: a fixed ``(X, y)`` evaluated every ``eval_every`` steps (MSE, or accuracy for ``"ce"``).
        stop_below: stop early once the evaluated MSE is below this value (regression only).
        seed: seeds the minibatch generator and ``torch``.

    Returns:
        a :class:`History`.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    with one_thread():
        return _train_loop(model, batch_fn, steps, lr, loss, clip_norm, eval_data, eval_every, stop_below,
                           seed, desc)


def _train_loop(model, batch_fn, steps, lr, loss, clip_norm, eval_data, eval_every, stop_below, seed, desc):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    criterion = _loss_fn(loss)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = History()
    for step in progress(range(1, steps + 1), desc=desc, total=steps):
        X, y = batch_fn(rng)
        optimizer.zero_grad()
        out = model(torch.as_tensor(X, dtype=torch.float32))
        value = criterion(out, _as_target(y, loss))
        value.backward()
        max_norm = clip_norm if clip_norm is not None else float("inf")
        norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        history.loss.append(value.item())
        history.grad_norms.append(float(norm))
        if eval_data is not None and (step % eval_every == 0 or step == steps):
            metric = evaluate(model, *eval_data, loss=loss)
            history.eval_steps.append(step)
            history.eval_values.append(metric)
            if stop_below is not None and loss == "mse" and metric < stop_below:
                break
    return history
