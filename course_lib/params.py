"""How many parameters a recurrent layer has, in PyTorch and in Keras.

A layer with G gate blocks (RNN 1, GRU 3, LSTM 4), input size d and hidden size h has G·(d·h + h·h)
weights in both frameworks. They differ in the biases:

* PyTorch keeps two bias vectors per block (``bias_ih`` and ``bias_hh``): G·(d·h + h² + 2h).
  Stacked layers (``num_layers > 1``) read the h outputs of the layer below (2h when bidirectional).
* Keras keeps one bias per block: SimpleRNN d·h + h² + h, LSTM 4(d·h + h² + h), GRU with
  ``reset_after=False`` 3(d·h + h² + h) — but the default GRU (``reset_after=True``) has a second,
  recurrent bias row like PyTorch: 3(d·h + h² + 2h).

So a Keras LSTM has 4h parameters fewer than the "same" PyTorch LSTM, while a default Keras GRU has exactly
as many as a PyTorch GRU; both compute the same functions (two added biases are one bias).
"""

from __future__ import annotations

__all__ = ["count_params_torch", "count_params_keras", "GATE_BLOCKS"]

GATE_BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}
_ALIASES = {"simplernn": "rnn", "simple_rnn": "rnn", "elman": "rnn"}


def _kind(kind) -> str:
    if not isinstance(kind, str):
        raise TypeError(f"kind must be one of {sorted(GATE_BLOCKS)} (str); got {type(kind).__name__}.")
    k = _ALIASES.get(kind.lower(), kind.lower())
    if k not in GATE_BLOCKS:
        raise ValueError(f"kind must be one of {sorted(GATE_BLOCKS)}; got {kind!r}.")
    return k


def _positive(name, v) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be a positive int; got {type(v).__name__} {v!r}.")
    if v < 1:
        raise ValueError(f"{name} must be a positive int; got {v}.")
    return v


def count_params_torch(kind: str, d: int, h: int, num_layers: int = 1, bias: bool = True,
                       bidirectional: bool = False) -> int:
    """Number of parameters of ``torch.nn.RNN/GRU/LSTM(d, h, num_layers, bias, bidirectional=...)``.

    kind: "rnn", "gru" or "lstm". Equals ``sum(p.numel() for p in module.parameters())``; the ``*Cell``
    modules have the count of one layer, one direction.
    Per layer and direction: G·(d_in·h + h² + 2h) with d_in = d for the first layer and h (2h if
    bidirectional) above it; without bias, G·(d_in·h + h²).
    """
    G = GATE_BLOCKS[_kind(kind)]
    d, h, num_layers = _positive("d", d), _positive("h", h), _positive("num_layers", num_layers)
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        d_in = d if layer == 0 else directions * h
        total += directions * G * (d_in * h + h * h + (2 * h if bias else 0))
    return total


def count_params_keras(kind: str, d: int, h: int, reset_after: bool = True, use_bias: bool = True) -> int:
    """Number of parameters of a Keras ``SimpleRNN``, ``GRU`` or ``LSTM`` layer: ``h`` units, ``d`` inputs.

    kind: "rnn" (or "simplernn"), "gru", "lstm". ``reset_after`` only matters for the GRU (Keras' default
    is True since TF 2). Formulas: SimpleRNN d·h + h² + h; LSTM 4(d·h + h² + h); GRU 3(d·h + h² + 2h) with
    ``reset_after=True``, 3(d·h + h² + h) otherwise.
    """
    k = _kind(kind)
    G = GATE_BLOCKS[k]
    d, h = _positive("d", d), _positive("h", h)
    biases = 0
    if use_bias:
        biases = 2 * h if (k == "gru" and reset_after) else h
    return G * (d * h + h * h + biases)
