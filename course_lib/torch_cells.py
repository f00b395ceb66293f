"""The course's recurrent layers as ``torch.nn.Module``s: the same equations and parameter names as the NumPy
reference code (``course_lib.rnn``, ``course_lib.lstm``, ``course_lib.gru``), trained with PyTorch.

PyTorch's fused ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` cover one variant each. These layers cover every
variant the course studies -- LSTM peepholes, no forget gate, coupled input-forget gates (CIFG), hard-sigmoid
gates, and the GRU with the reset gate applied before the recurrent product (Cho et al., 2014) -- with one
``nn.Parameter`` per matrix, named as in the NumPy params dicts (``W_xi``, ``W_hi``, ``b_i``, ...).

All layers are batch first::

    layer = GRULayer(d, h)
    H_seq, H_T = layer(X)            # X (n, T, d) -> H_seq (n, T, h), H_T (n, h)
    H_seq, (H_T, C_T) = LSTMLayer(d, h)(X)

``Layer.from_params(params)`` builds a layer from a NumPy params dict (keeping its dtype, float64 by
default) and ``layer.to_params()`` returns one, so a layer and the NumPy reference can be compared directly.

Two ways to run the same equations:

* ``layer.forward_reference(X, state)`` -- the readable version the chapters teach: one gate at a time, a
  plain Python loop over the steps, autograd for the backward pass.
* ``layer(X, state)`` (``forward``, the default) -- the fast version of :mod:`course_lib.fast_layers`: the
  gates' matrices side by side (one recurrent product per step), the input projection of all steps at
  once, preallocated buffers, and the book's hand-written BPTT as the backward pass. On one CPU thread it
  runs at about the speed of PyTorch's ``nn.LSTM``/``nn.GRU``/``nn.RNN`` for a layer of 128 units; at the
  course's size it takes 2 to 3 times as long as ``nn.LSTM`` and half as long as ``nn.GRU``/``nn.RNN`` (the
  site's *Benchmarks* page); it equals the reference to rounding (``tests/test_fast_layers.py``).
  ``Layer(..., reference=True)`` makes ``forward`` run the reference instead.

As with ``nn.LSTM(batch_first=True)``, the fast path's ``H_seq`` is a non-contiguous view (the layer works
time-major inside): index, slice and compute with it freely; call ``.contiguous()`` before ``.view()``.
Only first derivatives are implemented (no double backward through the fast path).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib import fast_layers
from course_lib.activations import get_activation
from course_lib.gru import GRU_PARAM_NAMES, GRUConfig, check_gru_params
from course_lib.lstm import LSTMConfig, check_lstm_params, lstm_param_names
from course_lib.rnn import RNN_PARAM_NAMES, check_rnn_params
from course_lib.validation import as_float_array, check_keys, check_shape, positive_int

__all__ = ["TORCH_ACTIVATIONS", "torch_activation", "RNNLayer", "LSTMLayer", "GRULayer"]


# ----------------------------------------------------------------------------------------------------------
# activations: the definitions of course_lib.activations, written with torch ops
# ----------------------------------------------------------------------------------------------------------
def _hard_sigmoid_keras(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


def _hard_sigmoid_torch(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x + 3.0, 0.0, 6.0) / 6.0


def _bipolar_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return 2.0 * torch.sigmoid(x) - 1.0


def _linear(x: torch.Tensor) -> torch.Tensor:
    return x


TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "hard_sigmoid_keras": _hard_sigmoid_keras,
    "hard_sigmoid_torch": _hard_sigmoid_torch,
    "bipolar_sigmoid": _bipolar_sigmoid,
    "linear": _linear,
}


def torch_activation(name: str):
    """The torch function computing activation ``name`` of ``course_lib.activations`` (same definition).

    Raises ``TypeError``/``ValueError`` (from ``get_activation``) for a non-string or unknown name.
    """
    return TORCH_ACTIVATIONS[get_activation(name).name]


# ----------------------------------------------------------------------------------------------------------
# shared machinery
# ----------------------------------------------------------------------------------------------------------
def _torch_dtype(params: dict) -> torch.dtype:
    """The torch dtype matching the NumPy arrays of a params dict (their common result type)."""
    return torch.from_numpy(np.zeros(0, dtype=np.result_type(*params.values()))).dtype


class _RecurrentLayer(nn.Module):
    """Parameter bookkeeping and input checks shared by the three layers."""

    reference: bool = False  # True: forward runs forward_reference (set per layer by the constructor)

    def __init__(
        self, input_size: int, hidden_size: int, shapes: dict[str, tuple[int, ...]], dtype, device,
        reference: bool = False,
    ):
        super().__init__()
        if not isinstance(reference, bool):
            raise TypeError(f"reference must be True or False; got {reference!r}.")
        self.reference = reference
        self.input_size = positive_int("input_size (d)", input_size)
        self.hidden_size = positive_int("hidden_size (h)", hidden_size)
        for name, shape in shapes.items():
            self.register_parameter(name, nn.Parameter(torch.empty(shape, dtype=dtype, device=device)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights (and peepholes) uniform in ``[-1/sqrt(h), 1/sqrt(h)]`` (PyTorch's range), biases zero.

        The same scheme as the NumPy ``init_*_params`` functions; the draws come from torch's generator
        (seed it with ``torch.manual_seed``).
        """
        k = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("b_"):
                    p.zero_()
                else:
                    p.uniform_(-k, k)

    def to_params(self) -> dict[str, np.ndarray]:
        """The parameters as a NumPy params dict (copies), as used by the NumPy reference functions."""
        return {name: p.detach().cpu().numpy().copy() for name, p in self.named_parameters()}

    def load_params(self, params: dict) -> None:
        """Copy a NumPy params dict with exactly this layer's keys and shapes into the parameters."""
        own = dict(self.named_parameters())
        check_keys("params", params, list(own), hint=f"Those are the parameters of {self!r}.")
        with torch.no_grad():
            for name, p in own.items():
                value = as_float_array(f"params['{name}']", params[name])
                check_shape(f"params['{name}']", value, tuple(p.shape))
                p.copy_(torch.as_tensor(value, dtype=p.dtype, device=p.device))

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}"

    def _check_input(self, X) -> tuple[int, int]:
        if not isinstance(X, torch.Tensor):
            raise TypeError(
                f"X must be a torch.Tensor of shape (n, T, d); got {type(X).__name__}. "
                f"Convert a NumPy array with torch.as_tensor(X)."
            )
        if not X.is_floating_point():
            raise TypeError(
                f"X must be a floating-point tensor; got dtype {X.dtype}. Convert it, e.g. X.float()."
            )
        if X.dim() != 3:
            raise ValueError(f"X must have 3 dimensions (n, T, d) (batch first); got shape {tuple(X.shape)}.")
        n, T, d = X.shape
        if d != self.input_size:
            raise ValueError(f"X has shape {tuple(X.shape)}; expected (n, T, {self.input_size}) = (n, T, d).")
        if T == 0:
            raise ValueError(f"X has shape {tuple(X.shape)}: an empty sequence (T = 0); expected T >= 1.")
        if n == 0:
            raise ValueError(f"X has shape {tuple(X.shape)}: an empty batch (n = 0); expected n >= 1.")
        dtype = next(self.parameters()).dtype
        if X.dtype != dtype:
            raise TypeError(
                f"X has dtype {X.dtype} but the layer's parameters are {dtype}; convert one of them "
                f"(X.to({dtype}) or layer.to({X.dtype}))."
            )
        return n, T

    def _state(self, name: str, S, n: int, like: torch.Tensor) -> torch.Tensor:
        h = self.hidden_size
        if S is None:
            return like.new_zeros((n, h))
        if not isinstance(S, torch.Tensor):
            raise TypeError(
                f"{name} must be a torch.Tensor of shape (n, h) = ({n}, {h}); got {type(S).__name__}."
            )
        if tuple(S.shape) != (n, h):
            raise ValueError(f"{name} has shape {tuple(S.shape)}; expected ({n}, {h}) = (n, h).")
        if S.dtype != like.dtype:
            raise TypeError(f"{name} has dtype {S.dtype}; expected {like.dtype} (the dtype of X).")
        return S


# ----------------------------------------------------------------------------------------------------------
# Elman RNN
# ----------------------------------------------------------------------------------------------------------
class RNNLayer(_RecurrentLayer):
    """Elman RNN layer: ``H_t = f(X_t @ W_xh + H_{t-1} @ W_hh + b_h)``, f = tanh or relu.

    Args:
        input_size: d.
        hidden_size: h.
        activation: ``"tanh"`` or ``"relu"``.
        dtype, device: of the parameters (torch's default dtype, float32, when None).
        reference: run :meth:`forward_reference` (the readable loop) instead of the fast path.

    Parameters: ``W_xh`` (d, h), ``W_hh`` (h, h), ``b_h`` (h,).
    ``forward(X, state=None)``: X (n, T, d), state H_0 (n, h) or None (zeros) -> (H_seq (n, T, h), H_T).
    """

    def __init__(
        self, input_size: int, hidden_size: int, activation: str = "tanh", dtype=None, device=None, *,
        reference: bool = False,
    ):
        if get_activation(activation).name not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu' for an Elman RNN; got {activation!r}.")
        self.activation = activation
        d, h = input_size, hidden_size
        super().__init__(d, h, {"W_xh": (d, h), "W_hh": (h, h), "b_h": (h,)}, dtype, device, reference)

    @classmethod
    def from_params(
        cls, params: dict, activation: str = "tanh", dtype=None, device=None, *, reference: bool = False
    ) -> RNNLayer:
        """A layer holding a copy of NumPy ``params`` (keys ``W_xh, W_hh, b_h``); dtype from the arrays."""
        d, h = check_rnn_params(params)
        layer = cls(d, h, activation, dtype=dtype or _torch_dtype(params), device=device, reference=reference)
        layer.load_params({k: params[k] for k in RNN_PARAM_NAMES})
        return layer

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, activation={self.activation!r}"

    def forward(self, X: torch.Tensor, state: torch.Tensor | None = None):
        """X (n, T, d), state H_0 (n, h) or None -> (H_seq (n, T, h), H_T): the fast path (one product
        per step, hand-written BPTT), or :meth:`forward_reference` when ``self.reference``."""
        if self.reference:
            return self.forward_reference(X, state)
        n, T = self._check_input(X)
        H_0 = self._state("state", state, n, X)
        f_name = get_activation(self.activation).name
        return fast_layers.rnn_sequence(X, H_0, self.W_xh, self.W_hh, self.b_h, f_name)

    def forward_reference(self, X: torch.Tensor, state: torch.Tensor | None = None):
        """The readable loop, differentiated by autograd: the same result as ``forward``."""
        n, T = self._check_input(X)
        f = torch_activation(self.activation)
        H_t = self._state("state", state, n, X)
        XW = X @ self.W_xh + self.b_h  # input projections of all steps at once, (n, T, h)
        H_seq = []
        for t in range(T):
            H_t = f(XW[:, t] + H_t @ self.W_hh)
            H_seq.append(H_t)
        return torch.stack(H_seq, dim=1), H_t


# ----------------------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------------------
class LSTMLayer(_RecurrentLayer):
    """LSTM layer with every variant of ``course_lib.lstm.LSTMConfig``.

    Equations (g: gate activation, f_c: candidate activation, f_o: output activation)::

        I_t = g(X_t @ W_xi + H_{t-1} @ W_hi + b_i [+ p_i ⊙ C_{t-1}])     (I_t = 1 - F_t with cifg)
        F_t = g(X_t @ W_xf + H_{t-1} @ W_hf + b_f [+ p_f ⊙ C_{t-1}])     (F_t = 1 without a forget gate)
        C_tilde = f_c(X_t @ W_xc + H_{t-1} @ W_hc + b_c)
        C_t = F_t ⊙ C_{t-1} + I_t ⊙ C_tilde
        O_t = g(X_t @ W_xo + H_{t-1} @ W_ho + b_o [+ p_o ⊙ C_t])
        H_t = O_t ⊙ f_o(C_t)

    Args:
        input_size: d.
        hidden_size: h.
        config: an ``LSTMConfig``; it decides which parameters exist (no ``*_i`` with cifg, no ``*_f``
            without a forget gate, ``p_*`` peepholes (h,) when ``peepholes``).
        forget_bias: initial value of ``b_f`` (1.0 is the usual advice, Jozefowicz et al. 2015).
        dtype, device: of the parameters (torch's default dtype, float32, when None).
        reference: run :meth:`forward_reference` (the readable per-gate loop) instead of the fast path.

    ``forward(X, state=None)``: X (n, T, d), state (H_0, C_0) or None (zeros)
    -> (H_seq (n, T, h), (H_T, C_T)).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        config: LSTMConfig = LSTMConfig(),  # noqa: B008 (a frozen dataclass)
        forget_bias: float = 0.0,
        dtype=None,
        device=None,
        *,
        reference: bool = False,
    ):
        if not isinstance(config, LSTMConfig):
            raise TypeError(f"config must be an LSTMConfig; got {type(config).__name__}.")
        self.config = config
        self.forget_bias = float(forget_bias)
        d, h = input_size, hidden_size
        shapes = {}
        for name in lstm_param_names(config):
            if name.startswith("W_x"):
                shapes[name] = (d, h)
            elif name.startswith("W_h"):
                shapes[name] = (h, h)
            else:
                shapes[name] = (h,)
        super().__init__(d, h, shapes, dtype, device, reference)

    def reset_parameters(self) -> None:
        """Uniform weights and peepholes, zero biases except ``b_f = forget_bias`` (as init_lstm_params)."""
        super().reset_parameters()
        if self.config.forget_gate:
            with torch.no_grad():
                self.b_f.fill_(self.forget_bias)

    @classmethod
    def from_params(
        cls,
        params: dict,
        config: LSTMConfig = LSTMConfig(),  # noqa: B008 (a frozen dataclass)
        dtype=None,
        device=None,
        *,
        reference: bool = False,
    ) -> LSTMLayer:
        """A layer holding a copy of NumPy ``params`` (the keys ``config`` needs); dtype from the arrays."""
        d, h = check_lstm_params(params, config)
        layer = cls(d, h, config, dtype=dtype or _torch_dtype(params), device=device, reference=reference)
        layer.load_params(params)
        return layer

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, config={self.config}"

    def _initial_states(self, X, state):
        n, T = self._check_input(X)
        if state is None:
            H_0 = C_0 = None
        elif isinstance(state, tuple | list) and len(state) == 2:
            H_0, C_0 = state
        else:
            raise TypeError("state must be a tuple (H_0, C_0) of two (n, h) tensors, or None.")
        return n, T, self._state("state[0] (H_0)", H_0, n, X), self._state("state[1] (C_0)", C_0, n, X)

    def fused_weights(self):
        """The gates side by side in the fast path's order ``[o, i, f, c]`` (those present):
        ``W_x`` (d, G h), ``W_h`` (h, G h), ``b`` (G h,), and the peepholes ``[p_i, p_f, p_o]`` (those
        present) stacked (k, h), or None. Built from the parameters at each call, so gradients reach them."""
        cfg = self.config
        gates = ["o"] + (["i"] if not cfg.cifg else []) + (["f"] if cfg.forget_gate else []) + ["c"]
        W_x = torch.cat([getattr(self, f"W_x{k}") for k in gates], dim=1)
        W_h = torch.cat([getattr(self, f"W_h{k}") for k in gates], dim=1)
        b = torch.cat([getattr(self, f"b_{k}") for k in gates])
        P = None
        if cfg.peepholes:
            peepholes = [k for k in ("i", "f", "o") if f"p_{k}" in self._parameters]
            P = torch.stack([getattr(self, f"p_{k}") for k in peepholes])
        return W_x, W_h, b, P

    def forward(self, X: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """X (n, T, d), state (H_0, C_0) or None -> (H_seq (n, T, h), (H_T, C_T)): the fast path (fused
        gates, hand-written BPTT), or :meth:`forward_reference` when ``self.reference``."""
        if self.reference:
            return self.forward_reference(X, state)
        n, T, H_0, C_0 = self._initial_states(X, state)
        H_seq, H_T, C_T = fast_layers.lstm_sequence(X, H_0, C_0, *self.fused_weights(), self.config)
        return H_seq, (H_T, C_T)

    def forward_reference(self, X: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        """The readable per-gate loop of the equations above, differentiated by autograd."""
        n, T, H_t, C_t = self._initial_states(X, state)
        cfg = self.config
        g = torch_activation(cfg.gate_activation)
        f_c = torch_activation(cfg.candidate_activation)
        f_o = torch_activation(cfg.output_activation)

        gates = [k for k in ("i", "f", "c", "o") if f"W_x{k}" in self._parameters]
        # input projections of all steps at once ((n, T, h) per gate); recurrent weights side by side
        XW = {k: X @ getattr(self, f"W_x{k}") + getattr(self, f"b_{k}") for k in gates}
        W_h = torch.cat([getattr(self, f"W_h{k}") for k in gates], dim=1)
        H_seq = []
        for t in range(T):
            HW = dict(zip(gates, (H_t @ W_h).split(self.hidden_size, dim=1), strict=True))
            A = {k: XW[k][:, t] + HW[k] for k in gates}
            if cfg.forget_gate:
                F_t = g(A["f"] + self.p_f * C_t) if cfg.peepholes else g(A["f"])
            if cfg.cifg:
                I_t = 1.0 - F_t
            else:
                I_t = g(A["i"] + self.p_i * C_t) if cfg.peepholes else g(A["i"])
            C_tilde = f_c(A["c"])
            C_t = F_t * C_t + I_t * C_tilde if cfg.forget_gate else C_t + I_t * C_tilde
            O_t = g(A["o"] + self.p_o * C_t) if cfg.peepholes else g(A["o"])
            H_t = O_t * f_o(C_t)
            H_seq.append(H_t)
        return torch.stack(H_seq, dim=1), (H_t, C_t)


# ----------------------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------------------
class GRULayer(_RecurrentLayer):
    """GRU layer in either convention of ``course_lib.gru.GRUConfig``.

    Equations (g: gate activation, f: candidate activation)::

        R_t = g(X_t @ W_xr + H_{t-1} @ W_hr + b_r)
        Z_t = g(X_t @ W_xz + H_{t-1} @ W_hz + b_z)
        H_tilde = f(X_t @ W_xh + b_h + R_t ⊙ (H_{t-1} @ W_hh + b_hh_rec))      reset_after=True (PyTorch)
        H_tilde = f(X_t @ W_xh + (R_t ⊙ H_{t-1}) @ W_hh + b_h + b_hh_rec)      reset_after=False (Cho 2014)
        H_t = Z_t ⊙ H_{t-1} + (1 - Z_t) ⊙ H_tilde

    Args:
        input_size: d.
        hidden_size: h.
        config: a ``GRUConfig``.
        dtype, device: of the parameters (torch's default dtype, float32, when None).
        reference: run :meth:`forward_reference` (the readable per-gate loop) instead of the fast path.

    Parameters: ``W_xr, W_xz, W_xh`` (d, h), ``W_hr, W_hz, W_hh`` (h, h), ``b_r, b_z, b_h, b_hh_rec`` (h,).
    ``forward(X, state=None)``: X (n, T, d), state H_0 (n, h) or None (zeros) -> (H_seq (n, T, h), H_T).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        config: GRUConfig = GRUConfig(),  # noqa: B008 (a frozen dataclass)
        dtype=None,
        device=None,
        *,
        reference: bool = False,
    ):
        if not isinstance(config, GRUConfig):
            raise TypeError(f"config must be a GRUConfig; got {type(config).__name__}.")
        self.config = config
        d, h = input_size, hidden_size
        shapes = {}
        for name in GRU_PARAM_NAMES:
            shapes[name] = (d, h) if name.startswith("W_x") else (h, h) if name.startswith("W_h") else (h,)
        super().__init__(d, h, shapes, dtype, device, reference)

    @classmethod
    def from_params(
        cls,
        params: dict,
        config: GRUConfig = GRUConfig(),  # noqa: B008 (a frozen dataclass)
        dtype=None,
        device=None,
        *,
        reference: bool = False,
    ) -> GRULayer:
        """A layer holding a copy of NumPy GRU ``params``; dtype from the arrays."""
        d, h = check_gru_params(params)
        layer = cls(d, h, config, dtype=dtype or _torch_dtype(params), device=device, reference=reference)
        layer.load_params(params)
        return layer

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, config={self.config}"

    def fused_weights(self):
        """The gates side by side in the fast path's order: ``W_x`` (d, 3h) ``[h~, z, r]`` and its bias
        ``b`` (3h,) (``b_h + b_hh_rec`` in the candidate's slab when the reset acts before the product);
        ``W_h`` = ``[W_hz, W_hr, W_hh]`` (h, 3h) and ``b_rec = b_hh_rec`` when ``reset_after``, else
        ``W_h`` = ``[W_hz, W_hr]`` (h, 2h) and ``W_hh`` apart. Returns ``(W_x, b, W_h, W_hh, b_rec)``."""
        if self.config.reset_after:
            b = torch.cat([self.b_h, self.b_z, self.b_r])
            W_h = torch.cat([self.W_hz, self.W_hr, self.W_hh], dim=1)
            W_hh, b_rec = None, self.b_hh_rec
        else:
            b = torch.cat([self.b_h + self.b_hh_rec, self.b_z, self.b_r])
            W_h = torch.cat([self.W_hz, self.W_hr], dim=1)
            W_hh, b_rec = self.W_hh, None
        W_x = torch.cat([self.W_xh, self.W_xz, self.W_xr], dim=1)
        return W_x, b, W_h, W_hh, b_rec

    def forward(self, X: torch.Tensor, state: torch.Tensor | None = None):
        """X (n, T, d), state H_0 (n, h) or None -> (H_seq (n, T, h), H_T): the fast path (fused gates,
        hand-written BPTT), or :meth:`forward_reference` when ``self.reference``."""
        if self.reference:
            return self.forward_reference(X, state)
        n, T = self._check_input(X)
        H_0 = self._state("state", state, n, X)
        return fast_layers.gru_sequence(X, H_0, *self.fused_weights(), self.config)

    def forward_reference(self, X: torch.Tensor, state: torch.Tensor | None = None):
        """The readable per-gate loop of the equations above, differentiated by autograd."""
        n, T = self._check_input(X)
        H_t = self._state("state", state, n, X)
        g = torch_activation(self.config.gate_activation)
        f = torch_activation(self.config.candidate_activation)
        h = self.hidden_size
        # input projections of all steps at once, (n, T, h) each
        XR = X @ self.W_xr + self.b_r
        XZ = X @ self.W_xz + self.b_z
        XH = X @ self.W_xh + self.b_h
        W_h_gates = torch.cat([self.W_hr, self.W_hz], dim=1)  # (h, 2h): both gates in one product
        H_seq = []
        for t in range(T):
            HR, HZ = (H_t @ W_h_gates).split(h, dim=1)
            R_t = g(XR[:, t] + HR)
            Z_t = g(XZ[:, t] + HZ)
            if self.config.reset_after:
                H_tilde = f(XH[:, t] + R_t * (H_t @ self.W_hh + self.b_hh_rec))
            else:
                H_tilde = f(XH[:, t] + (R_t * H_t) @ self.W_hh + self.b_hh_rec)
            H_t = Z_t * H_t + (1.0 - Z_t) * H_tilde
            H_seq.append(H_t)
        return torch.stack(H_seq, dim=1), H_t
