"""Keras-style sequence options over the NumPy cells: ``return_sequences``, ``return_state``,
``go_backwards``, ``initial_state``.

``run_layer("lstm", X, params, ...)`` returns exactly what ``keras.layers.LSTM(h, ...)(X)`` returns for the
same weights (see :mod:`course_lib.convert` for the Keras weight layout)::

    return_sequences  return_state   LSTM returns                     RNN / GRU return
    ----------------  ------------   ------------------------------   ----------------------------
    False             False          out (n, h)                       out (n, h)
    True              False          out (n, T, h)                    out (n, T, h)
    False             True           (out (n, h), h (n, h), c (n, h)) (out (n, h), h (n, h))
    True              True           (out (n, T, h), h, c)            (out (n, T, h), h)

With ``return_state`` the state ``h`` is the last output: equal to ``out`` when ``return_sequences=False``,
to ``out[:, -1]`` otherwise. (Keras returns a list; here it is a tuple, which unpacks the same way.)

``go_backwards=True`` follows Keras ("process the input sequence backwards and return the reversed
sequence"): the cell reads ``X[:, T-1], X[:, T-2], …, X[:, 0]``; with ``return_sequences`` the outputs
come in that processing order, so ``out[:, 0]`` is the state after reading ``X[:, T-1]`` and ``out[:, -1]``
the state after reading ``X[:, 0]``. Keras does **not** flip them back (``Bidirectional`` does that itself
before merging the two directions); flip with ``out[:, ::-1]`` to align outputs with input positions.
The returned states are the states after the last step processed, i.e. after ``X[:, 0]``.

``initial_state`` is, as in Keras, a list: ``[h_0]`` for RNN and GRU (a bare ``(n, h)`` array is also
accepted) and ``[h_0, c_0]`` for the LSTM; ``None`` means zeros.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .lstm import LSTMConfig, lstm_forward
from .rnn import rnn_forward

__all__ = ["run_layer"]

_CELLS = ("rnn", "lstm", "gru")


def run_layer(
    cell: str,
    X,
    params: dict,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    initial_state=None,
    **config,
):
    """Run a whole recurrent layer over ``X`` with Keras' output options.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    X : ndarray (n, T, d)
        Input sequences, batch first.
    params : dict
        The cell's parameters (see :mod:`course_lib.rnn`, :mod:`course_lib.lstm`, :mod:`course_lib.gru`).
    return_sequences : bool
        Return every output ``(n, T, h)`` instead of the last one ``(n, h)``.
    return_state : bool
        Also return the final state: ``h`` (rnn, gru) or ``h, c`` (lstm).
    go_backwards : bool
        Process the sequence from the last step to the first (outputs stay in processing order, as Keras).
    initial_state : list of ndarray (n, h), optional
        ``[h_0]`` (rnn, gru; a bare array is accepted) or ``[h_0, c_0]`` (lstm). ``None``: zeros.
    **config
        Options of the cell: ``activation="tanh"`` for "rnn"; ``config=LSTMConfig(...)`` or its fields
        (``peepholes=True``, ...) for "lstm"; ``config=GRUConfig(...)`` or its fields for "gru".

    Returns
    -------
    output : ndarray (n, h) or (n, T, h)
        When ``return_state`` is False.
    (output, h) or (output, h, c) : tuple
        When ``return_state`` is True; ``h``, ``c`` are (n, h).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(32, 10, 8))
    >>> params = init_lstm_params(8, 4, rng=0)
    >>> run_layer("lstm", X, params).shape
    (32, 4)
    >>> out, h, c = run_layer("lstm", X, params, return_sequences=True, return_state=True)
    >>> out.shape, h.shape, c.shape
    ((32, 10, 4), (32, 4), (32, 4))
    """
    if not isinstance(cell, str) or cell.lower() not in _CELLS:
        raise ValueError(f"cell must be one of {list(_CELLS)}; got {cell!r}.")
    cell = cell.lower()
    for name, flag in (("return_sequences", return_sequences), ("return_state", return_state),
                       ("go_backwards", go_backwards)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{name} must be True or False; got {flag!r}.")
    if getattr(X, "ndim", None) == 3:
        X_run = X[:, ::-1] if go_backwards else X
    else:
        X_run = X  # let the cell's own checks report the bad input

    if cell == "rnn":
        unknown = set(config) - {"activation"}
        _no_unknown(cell, unknown, "activation")
        (H_0,) = _initial_state(initial_state, 1, "[h_0]")
        H, _ = rnn_forward(X_run, params, H_0, activation=config.get("activation", "tanh"))
        states = (H[:, -1],)
    elif cell == "lstm":
        lstm_config = _build_config(LSTMConfig, config, "lstm")
        H_0, C_0 = _initial_state(initial_state, 2, "[h_0, c_0]")
        H, C, _ = lstm_forward(X_run, params, H_0, C_0, config=lstm_config)
        states = (H[:, -1], C[:, -1])
    else:
        from .gru import GRUConfig, gru_forward  # imported here: gru.py is written by another module owner

        gru_config = _build_config(GRUConfig, config, "gru")
        (H_0,) = _initial_state(initial_state, 1, "[h_0]")
        H, _ = gru_forward(X_run, params, H_0, config=gru_config)
        states = (H[:, -1],)

    output = H if return_sequences else H[:, -1]
    return (output, *states) if return_state else output


def _no_unknown(cell, unknown, allowed):
    if unknown:
        raise TypeError(
            f"run_layer({cell!r}) got unexpected option(s) {sorted(unknown)}; it accepts {allowed}."
        )


def _build_config(cls, options, cell):
    """A config object from ``config=<cls>`` or from its fields given as keyword arguments."""
    fields = set(cls.__dataclass_fields__)
    if "config" in options:
        _no_unknown(cell, set(options) - {"config"}, f"config={cls.__name__}(...) alone, or its fields")
        if not isinstance(options["config"], cls):
            raise TypeError(f"config must be a {cls.__name__}; got {type(options['config']).__name__}.")
        return options["config"]
    _no_unknown(cell, set(options) - fields, f"config=... or the fields {sorted(fields)}")
    return cls(**options)


def _initial_state(state, count, layout):
    """Split Keras' ``initial_state`` list into ``count`` arrays (``None`` entries mean zeros)."""
    if state is None:
        return (None,) * count
    if isinstance(state, np.ndarray) and count == 1:
        return (state,)
    if not isinstance(state, Sequence) or isinstance(state, str) or len(state) != count:
        got = f"a sequence of {len(state)}" if isinstance(state, Sequence) else type(state).__name__
        raise ValueError(f"initial_state must be a list {layout} of (n, h) arrays; got {got}.")
    return tuple(state)
