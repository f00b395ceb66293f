"""Conversions between ``course_lib`` params dicts and the weights of PyTorch and Keras layers.

The same cell is stored three ways. ``course_lib`` keeps one matrix per gate in the row-vector convention
(``X_t @ W_xi``); the frameworks stack the gates into one matrix, in different orders and orientations.

PyTorch (``nn.RNN/LSTM/GRU``: ``weight_ih_l{k}`` …; ``nn.RNNCell/LSTMCell/GRUCell``: ``weight_ih`` …)
    ``weight_ih`` is ``(G·h, d)`` and ``weight_hh`` is ``(G·h, h)`` — transposed, gates stacked on rows —
    and there are *two* biases ``bias_ih``, ``bias_hh`` (G·h,) that are simply added, except in the GRU.

    ==========  ============  ==========================================================================
    cell        gate order    equations (column convention as in the PyTorch docs)
    ==========  ============  ==========================================================================
    RNN         (one block)   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)   (or relu: ``nonlinearity``)
    LSTM        i, f, g, o    g is the candidate (our C_tilde); c' = f c + i g; h' = o tanh(c')
    GRU         r, z, n       n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); h' = (1 − z) n + z h
    ==========  ============  ==========================================================================

    From PyTorch the two biases of a gate are summed (``b_i = b_ii + b_hi``), except the GRU candidate,
    whose recurrent bias sits inside the reset product: ``b_h = b_in`` and ``b_hh_rec = b_hn`` (while
    ``b_r = b_ir + b_hr``, ``b_z = b_iz + b_hz``). This is ``course_lib``'s GRU with ``reset_after=True``,
    the only GRU PyTorch has. To PyTorch the whole bias goes into ``bias_ih`` and ``bias_hh`` is zero,
    except ``b_hh_rec``, which becomes ``b_hn``. PyTorch's LSTM has no peepholes and no coupled gates, and
    its activations are fixed (sigmoid gates, tanh elsewhere), so only the standard LSTM converts.

Keras (``layer.get_weights()`` → ``[kernel, recurrent_kernel, bias]``, row-vector convention like ours)
    ``kernel`` is ``(d, G·h)``, ``recurrent_kernel`` is ``(h, G·h)``, gates side by side on columns.

    * ``SimpleRNN``: kernel (d, h), recurrent_kernel (h, h), bias (h,).
    * ``LSTM``: order i, f, c, o; bias (4h,). (``unit_forget_bias=True`` only sets the f slice to 1 at
      initialisation.)
    * ``GRU``: order **z, r, h** (update gate first). With ``reset_after=True`` (the default of
      ``tf.keras`` in TensorFlow 2 and of Keras 3; cuDNN-compatible) bias is ``(2, 3h)``: row 0 the input
      biases, row 1 the recurrent biases, and the candidate is
      ``tanh(x W_h + b_in_h + r ⊙ (h U_h + b_rec_h))``, as in PyTorch. With ``reset_after=False`` (the
      default of older Keras 2 releases, as in the signature many tutorials copy; Cho et al. 2014) bias is
      ``(3h,)`` and the candidate is ``tanh(x W_h + (r ⊙ h) U_h + b_h)``.

The functions here return plain NumPy arrays for Keras (no Keras needed): pass them to
``layer.set_weights([...])``, or feed ``layer.get_weights()`` in.
"""

from __future__ import annotations

import numpy as np

from .lstm import LSTMConfig, check_lstm_params
from .rnn import check_rnn_params
from .validation import as_float_array, check_shape

__all__ = [
    "rnn_params_from_torch",
    "rnn_params_to_torch",
    "lstm_params_from_torch",
    "lstm_params_to_torch",
    "gru_params_from_torch",
    "gru_params_to_torch",
    "rnn_params_from_keras",
    "rnn_params_to_keras",
    "lstm_params_from_keras",
    "lstm_params_to_keras",
    "gru_params_from_keras",
    "gru_params_to_keras",
]

_LSTM_TORCH_ORDER = ("i", "f", "c", "o")  # PyTorch calls the candidate block "g"
_LSTM_KERAS_ORDER = ("i", "f", "c", "o")
_GRU_TORCH_ORDER = ("r", "z", "h")  # PyTorch calls the candidate block "n"
_GRU_KERAS_ORDER = ("z", "r", "h")


# ----------------------------------------------------------------------------------------------------------
# PyTorch
# ----------------------------------------------------------------------------------------------------------
def _torch_module(kind: str, module, layer: int, reverse: bool):
    """Check ``module`` is a PyTorch ``kind`` layer or cell; return the names of its 4 tensors (or None)."""
    from torch import nn

    layer_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    cell_cls = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind]
    if isinstance(module, layer_cls):
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < module.num_layers:
            raise ValueError(
                f"layer must be an int in [0, {module.num_layers - 1}] for this {type(module).__name__} "
                f"with num_layers={module.num_layers}; got {layer!r}."
            )
        if reverse and not module.bidirectional:
            raise ValueError(f"reverse=True needs a bidirectional {type(module).__name__}; this one is not.")
        if getattr(module, "proj_size", 0):
            raise ValueError(
                f"module has proj_size={module.proj_size}; LSTMs with projections are not supported."
            )
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    elif isinstance(module, cell_cls):
        if layer != 0 or reverse:
            raise ValueError(f"a {type(module).__name__} has a single layer: use layer=0, reverse=False.")
        suffix = ""
    else:
        raise TypeError(
            f"module must be a torch.nn.{layer_cls.__name__} or torch.nn.{cell_cls.__name__}; "
            f"got {type(module).__name__}."
        )
    names = [f"weight_ih{suffix}", f"weight_hh{suffix}", f"bias_ih{suffix}", f"bias_hh{suffix}"]
    return [n if getattr(module, n, None) is not None else None for n in names]


def _from_torch(kind, module, layer, reverse, G):
    """Return (W_ih (d, G h), W_hh (h, G h), b_ih (G h,), b_hh (G h,)) as NumPy, row-vector layout."""
    names = _torch_module(kind, module, layer, reverse)
    w_ih, w_hh = (getattr(module, n).detach().cpu().numpy() for n in names[:2])
    Gh = w_hh.shape[0]
    biases = [
        np.zeros(Gh, dtype=w_ih.dtype) if n is None else getattr(module, n).detach().cpu().numpy()
        for n in names[2:]
    ]
    if Gh % G:
        raise ValueError(f"{names[1]} has {Gh} rows; expected a multiple of {G}.")
    return w_ih.T.copy(), w_hh.T.copy(), biases[0].copy(), biases[1].copy()


def _to_torch(kind, module, layer, reverse, W_ih, W_hh, b_ih, b_hh):
    """Copy row-layout blocks (W_ih (d, G h), W_hh (h, G h), b_ih, b_hh) into ``module``; return it."""
    import torch

    names = _torch_module(kind, module, layer, reverse)
    values = [W_ih.T, W_hh.T, b_ih, b_hh]
    with torch.no_grad():
        for name, value in zip(names, values):
            if name is None:  # bias=False module
                if np.any(value != 0):
                    raise ValueError(
                        "module was built with bias=False but the params have non-zero biases; "
                        "build it with bias=True (or zero the biases)."
                    )
                continue
            target = getattr(module, name)
            if tuple(target.shape) != value.shape:
                raise ValueError(
                    f"params give {name} the shape {value.shape}, but module.{name} has shape "
                    f"{tuple(target.shape)}: the input size d or hidden size h differ."
                )
            target.copy_(torch.as_tensor(np.ascontiguousarray(value), dtype=target.dtype))
    return module


def _blocks(W, order, h):
    """Split the last axis of ``W`` into len(order) blocks of size h, keyed by gate name."""
    return {g: W[..., k * h:(k + 1) * h] for k, g in enumerate(order)}


def rnn_params_from_torch(module, layer: int = 0, reverse: bool = False) -> dict:
    """Params dict of an ``nn.RNN`` layer (index ``layer``; ``reverse`` for the backward direction of a
    bidirectional one) or of an ``nn.RNNCell``.

    Returns ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h = bias_ih + bias_hh`` (h,), with the module's dtype.
    The activation is ``module.nonlinearity`` ("tanh" or "relu").
    """
    W_ih, W_hh, b_ih, b_hh = _from_torch("rnn", module, layer, reverse, 1)
    return {"W_xh": W_ih, "W_hh": W_hh, "b_h": b_ih + b_hh}


def rnn_params_to_torch(params: dict, module, layer: int = 0, reverse: bool = False):
    """Copy RNN ``params`` into ``module`` (``nn.RNN`` or ``nn.RNNCell``), in place; returns ``module``.

    ``bias_ih`` receives ``b_h`` and ``bias_hh`` zeros.
    """
    check_rnn_params(params)
    b = np.asarray(params["b_h"])
    return _to_torch("rnn", module, layer, reverse, np.asarray(params["W_xh"]), np.asarray(params["W_hh"]),
                     b, np.zeros_like(b))


def lstm_params_from_torch(module, layer: int = 0, reverse: bool = False) -> dict:
    """Params dict (standard LSTM, ``LSTMConfig()``) of an ``nn.LSTM`` layer or an ``nn.LSTMCell``.

    PyTorch's blocks i, f, g, o become ``W_x?`` (d, h), ``W_h?`` (h, h), ``b_? = b_i? + b_h?`` (h,) for
    ? = i, f, c, o (g is our candidate c).
    """
    W_ih, W_hh, b_ih, b_hh = _from_torch("lstm", module, layer, reverse, 4)
    h = W_hh.shape[0]
    Wx, Wh, b = (_blocks(A, _LSTM_TORCH_ORDER, h) for A in (W_ih, W_hh, b_ih + b_hh))
    params = {}
    for g in ("i", "f", "o", "c"):
        params.update({f"W_x{g}": Wx[g].copy(), f"W_h{g}": Wh[g].copy(), f"b_{g}": b[g].copy()})
    return params


def _standard_lstm(params, target):
    """Refuse LSTM variants a framework cannot hold, with a message saying which feature is the problem."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of NumPy arrays; got {type(params).__name__}.")
    if any(k in params for k in ("p_i", "p_f", "p_o")):
        raise ValueError(f"params have peephole weights (p_i, p_f, p_o); {target} has no peepholes.")
    if "W_xf" not in params:
        raise ValueError(f"params have no forget gate (W_xf, W_hf, b_f); {target} always has one.")
    if "W_xi" not in params:
        raise ValueError(f"params have no input gate (a CIFG LSTM?); {target} has separate i and f gates.")
    check_lstm_params(params, LSTMConfig())


def lstm_params_to_torch(params: dict, module, layer: int = 0, reverse: bool = False):
    """Copy standard-LSTM ``params`` into ``module`` (``nn.LSTM`` or ``nn.LSTMCell``), in place.

    Blocks in PyTorch's order i, f, g (= our c), o; ``bias_ih`` gets the biases, ``bias_hh`` zeros.
    Peephole / no-forget-gate / CIFG params raise ``ValueError`` (PyTorch has none of them).
    """
    _standard_lstm(params, "torch.nn.LSTM")
    W_ih = np.concatenate([np.asarray(params[f"W_x{g}"]) for g in _LSTM_TORCH_ORDER], axis=1)
    W_hh = np.concatenate([np.asarray(params[f"W_h{g}"]) for g in _LSTM_TORCH_ORDER], axis=1)
    b = np.concatenate([np.asarray(params[f"b_{g}"]) for g in _LSTM_TORCH_ORDER])
    return _to_torch("lstm", module, layer, reverse, W_ih, W_hh, b, np.zeros_like(b))


def _check_gru(params):
    from .gru import check_gru_params  # gru.py imports nothing from here; kept local to stay light

    check_gru_params(params)


def gru_params_from_torch(module, layer: int = 0, reverse: bool = False) -> dict:
    """Params dict of an ``nn.GRU`` layer or an ``nn.GRUCell`` (course_lib GRU with ``reset_after=True``).

    ``b_r = b_ir + b_hr``, ``b_z = b_iz + b_hz``, ``b_h = b_in``, ``b_hh_rec = b_hn``.
    """
    W_ih, W_hh, b_ih, b_hh = _from_torch("gru", module, layer, reverse, 3)
    h = W_hh.shape[0]
    Wx, Wh = _blocks(W_ih, _GRU_TORCH_ORDER, h), _blocks(W_hh, _GRU_TORCH_ORDER, h)
    bi, bh = _blocks(b_ih, _GRU_TORCH_ORDER, h), _blocks(b_hh, _GRU_TORCH_ORDER, h)
    return _gru_params_from_blocks(Wx, Wh, bi, bh)


def gru_params_to_torch(params: dict, module, layer: int = 0, reverse: bool = False):
    """Copy GRU ``params`` into ``module`` (``nn.GRU`` or ``nn.GRUCell``), in place; returns ``module``.

    ``bias_ih = [b_r, b_z, b_h]``, ``bias_hh = [0, 0, b_hh_rec]``. PyTorch's GRU is the ``reset_after=True``
    GRU: params used with ``GRUConfig(reset_after=False)`` give a different function there.
    """
    _check_gru(params)
    P = {k: np.asarray(v) for k, v in params.items()}
    W_ih = np.concatenate([P[f"W_x{g}"] for g in _GRU_TORCH_ORDER], axis=1)
    W_hh = np.concatenate([P[f"W_h{g}"] for g in _GRU_TORCH_ORDER], axis=1)
    b_ih = np.concatenate([P["b_r"], P["b_z"], P["b_h"]])
    b_hh = np.concatenate([np.zeros_like(P["b_r"]), np.zeros_like(P["b_z"]), P["b_hh_rec"]])
    return _to_torch("gru", module, layer, reverse, W_ih, W_hh, b_ih, b_hh)


# ----------------------------------------------------------------------------------------------------------
# Keras (NumPy arrays in the layout of layer.get_weights())
# ----------------------------------------------------------------------------------------------------------
def _keras_arrays(kernel, recurrent_kernel, G, layer):
    kernel = as_float_array("kernel", kernel, ndim=2, what="(d, G*h)")
    recurrent_kernel = as_float_array("recurrent_kernel", recurrent_kernel, ndim=2, what="(h, G*h)")
    h = recurrent_kernel.shape[0]
    check_shape("recurrent_kernel", recurrent_kernel, (h, G * h), what=f"(h, {G}h) for a Keras {layer}")
    check_shape("kernel", kernel, (None, G * h), what=f"(d, {G}h) for a Keras {layer}")
    return kernel, recurrent_kernel, h


def rnn_params_from_keras(kernel, recurrent_kernel, bias=None) -> dict:
    """Params dict of a Keras ``SimpleRNN``: kernel (d, h) → ``W_xh``, recurrent_kernel (h, h) → ``W_hh``,
    bias (h,) → ``b_h`` (``None`` for ``use_bias=False``: zeros)."""
    kernel, recurrent_kernel, h = _keras_arrays(kernel, recurrent_kernel, 1, "SimpleRNN")
    b = _keras_bias(bias, (h,), "(h,)", kernel.dtype)
    return {"W_xh": kernel.copy(), "W_hh": recurrent_kernel.copy(), "b_h": b.copy()}


def rnn_params_to_keras(params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(kernel (d, h), recurrent_kernel (h, h), bias (h,))`` for a Keras ``SimpleRNN``."""
    check_rnn_params(params)
    return tuple(np.array(params[k]) for k in ("W_xh", "W_hh", "b_h"))


def lstm_params_from_keras(kernel, recurrent_kernel, bias=None) -> dict:
    """Standard-LSTM params of a Keras ``LSTM``: kernel (d, 4h), recurrent_kernel (h, 4h), bias (4h,),
    gate blocks in the order i, f, c, o. ``bias=None`` (``use_bias=False``) gives zero biases."""
    kernel, recurrent_kernel, h = _keras_arrays(kernel, recurrent_kernel, 4, "LSTM")
    b = _keras_bias(bias, (4 * h,), "(4h,)", kernel.dtype)
    Wx, Wh, bb = (_blocks(A, _LSTM_KERAS_ORDER, h) for A in (kernel, recurrent_kernel, b))
    params = {}
    for g in ("i", "f", "o", "c"):
        params.update({f"W_x{g}": Wx[g].copy(), f"W_h{g}": Wh[g].copy(), f"b_{g}": bb[g].copy()})
    return params


def lstm_params_to_keras(params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(kernel (d, 4h), recurrent_kernel (h, 4h), bias (4h,))`` for a Keras ``LSTM``, order i, f, c, o.

    Peephole / no-forget-gate / CIFG params raise ``ValueError`` (Keras' LSTM has none of them).
    """
    _standard_lstm(params, "keras.layers.LSTM")
    return tuple(
        np.concatenate([np.asarray(params[f"{prefix}{g}"]) for g in _LSTM_KERAS_ORDER], axis=-1)
        for prefix in ("W_x", "W_h", "b_")
    )


def gru_params_from_keras(kernel, recurrent_kernel, bias=None, reset_after: bool | None = None) -> dict:
    """GRU params of a Keras ``GRU``: kernel (d, 3h), recurrent_kernel (h, 3h), blocks in the order z, r, h.

    ``bias`` is (2, 3h) when the layer has ``reset_after=True`` (row 0 input biases, row 1 recurrent
    biases) and (3h,) when ``reset_after=False``; ``reset_after`` is read from its shape (give it only
    with ``bias=None``, i.e. ``use_bias=False``). Use the result with ``GRUConfig(reset_after=...)`` of the
    same value. ``reset_after=True``: ``b_z, b_r`` = sum of both rows, ``b_h`` = input row,
    ``b_hh_rec`` = recurrent row. ``reset_after=False``: ``b_hh_rec`` = 0.
    """
    kernel, recurrent_kernel, h = _keras_arrays(kernel, recurrent_kernel, 3, "GRU")
    if bias is None:
        bias = np.zeros((2, 3 * h) if reset_after in (None, True) else 3 * h, dtype=kernel.dtype)
    bias = as_float_array("bias", bias)
    inferred = bias.ndim == 2
    if reset_after is not None and bool(reset_after) != inferred:
        raise ValueError(
            f"bias has shape {bias.shape}, which belongs to a reset_after={inferred} GRU; "
            f"got reset_after={reset_after}."
        )
    if inferred:
        check_shape("bias", bias, (2, 3 * h), what="(2, 3h) for a Keras GRU with reset_after=True")
        b_in, b_rec = bias[0], bias[1]
    else:
        check_shape("bias", bias, (3 * h,), what="(3h,) for a Keras GRU with reset_after=False")
        b_in, b_rec = bias, np.zeros_like(bias)
    Wx, Wh = _blocks(kernel, _GRU_KERAS_ORDER, h), _blocks(recurrent_kernel, _GRU_KERAS_ORDER, h)
    bi, br = _blocks(b_in, _GRU_KERAS_ORDER, h), _blocks(b_rec, _GRU_KERAS_ORDER, h)
    return _gru_params_from_blocks(Wx, Wh, bi, br)


def gru_params_to_keras(params: dict, reset_after: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(kernel (d, 3h), recurrent_kernel (h, 3h), bias)`` for a Keras ``GRU``, blocks z, r, h.

    ``reset_after=True``: bias (2, 3h) = [[b_z, b_r, b_h], [0, 0, b_hh_rec]].
    ``reset_after=False``: bias (3h,) = [b_z, b_r, b_h + b_hh_rec] (with the reset gate before the
    product, the two candidate biases are just added). Choose the value of the ``GRUConfig`` the params
    belong to: the two GRUs are different functions of the same weights.
    """
    _check_gru(params)
    P = {k: np.asarray(v) for k, v in params.items()}
    kernel = np.concatenate([P[f"W_x{g}"] for g in _GRU_KERAS_ORDER], axis=1)
    recurrent = np.concatenate([P[f"W_h{g}"] for g in _GRU_KERAS_ORDER], axis=1)
    zeros = np.zeros_like(P["b_z"])
    if reset_after:
        bias = np.stack([np.concatenate([P["b_z"], P["b_r"], P["b_h"]]),
                         np.concatenate([zeros, zeros, P["b_hh_rec"]])])
    else:
        bias = np.concatenate([P["b_z"], P["b_r"], P["b_h"] + P["b_hh_rec"]])
    return kernel, recurrent, bias


def _keras_bias(bias, shape, what, dtype):
    if bias is None:
        return np.zeros(shape, dtype=dtype)
    bias = as_float_array("bias", bias)
    check_shape("bias", bias, shape, what=what)
    return bias


def _gru_params_from_blocks(Wx: dict, Wh: dict, b_in: dict, b_rec: dict) -> dict:
    """course_lib GRU params from per-gate blocks (keys r, z, h) of input and recurrent weights and biases.

    The two biases of the gates add up (``b_r = b_ir + b_hr``); the candidate keeps its recurrent bias apart
    (``b_hh_rec``), since with reset_after it sits inside ``R_t ⊙ (H W_hh + b_hh_rec)``.
    """
    return {
        "W_xr": Wx["r"].copy(), "W_hr": Wh["r"].copy(), "b_r": b_in["r"] + b_rec["r"],
        "W_xz": Wx["z"].copy(), "W_hz": Wh["z"].copy(), "b_z": b_in["z"] + b_rec["z"],
        "W_xh": Wx["h"].copy(), "W_hh": Wh["h"].copy(), "b_h": b_in["h"].copy(),
        "b_hh_rec": b_rec["h"].copy(),
    }
