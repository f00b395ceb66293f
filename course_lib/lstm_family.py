"""The LSTM family of Greff et al. (2017), "LSTM: A Search Space Odyssey", as one fast PyTorch layer.

Greff et al. compare a vanilla LSTM **V** with eight variants, each changing one thing:

======  ==========================================================================================
V       vanilla: input, forget and output gates, tanh candidate and output, peepholes
NIG     no input gate            ``I_t = 1``
NFG     no forget gate           ``F_t = 1`` (the 1997 cell)
NOG     no output gate           ``O_t = 1``
NIAF    no input activation      the candidate is linear, ``C_tilde = A_c``
NOAF    no output activation     ``H_t = O_t ⊙ C_t``
NP      no peepholes
CIFG    coupled input and forget gate, ``F_t = 1 − I_t`` (the input gate keeps its weights)
FGR     full gate recurrence: the gates at t−1 feed every gate at t (9 more (h, h) matrices)
======  ==========================================================================================

Equations of V (row vectors, as in :mod:`course_lib.lstm`; σ = sigmoid)::

    I_t     = σ(X_t @ W_xi + H_{t-1} @ W_hi + b_i + p_i ⊙ C_{t-1})
    F_t     = σ(X_t @ W_xf + H_{t-1} @ W_hf + b_f + p_f ⊙ C_{t-1})
    C_tilde = tanh(X_t @ W_xc + H_{t-1} @ W_hc + b_c)
    C_t     = F_t ⊙ C_{t-1} + I_t ⊙ C_tilde
    O_t     = σ(X_t @ W_xo + H_{t-1} @ W_ho + b_o + p_o ⊙ C_t)
    H_t     = O_t ⊙ tanh(C_t)

FGR adds to the pre-activation of each gate k in (i, f, o) the term
``I_{t-1} @ R_ik + F_{t-1} @ R_fk + O_{t-1} @ R_ok`` (gates at t = 0 are zero).

Note on CIFG: this layer follows Greff et al. and keeps the *input* gate's weights (``F_t = 1 − I_t``);
``course_lib.lstm.LSTMConfig(cifg=True)`` keeps the *forget* gate's (``I_t = 1 − F_t``). Because
σ(−a) = 1 − σ(a), the two are the same set of functions: negate ``W_x, W_h, b`` and the peephole to go from
one to the other (:func:`cifg_input_from_forget`).

Speed: the weights of all gates are stored fused (``W_x`` (d, G·h), ``W_h`` (h, G·h), ``b`` (G·h,), in gate
order i, f, c, o among the G gates the variant has), the input projections of all T steps are computed in one
matrix product before the time loop, and each step does a single (n, h) @ (h, G·h) product.
``to_params()`` / ``from_params()`` convert to and from the book's per-gate names (``W_xi``, ``p_o``, ...).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from course_lib.lstm import LSTMConfig
from course_lib.validation import as_float_array, check_keys, check_shape, positive_int

__all__ = [
    "VARIANTS",
    "VARIANT_DESCRIPTIONS",
    "LSTMFamilyLayer",
    "variant_gates",
    "variant_peepholes",
    "variant_param_names",
    "variant_config",
    "cifg_input_from_forget",
]

VARIANTS = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR")

VARIANT_DESCRIPTIONS = {
    "V": "vanilla (with peepholes)",
    "NIG": "no input gate",
    "NFG": "no forget gate",
    "NOG": "no output gate",
    "NIAF": "no input activation function",
    "NOAF": "no output activation function",
    "NP": "no peepholes",
    "CIFG": "coupled input and forget gate",
    "FGR": "full gate recurrence",
}

_ORDER = ("i", "f", "c", "o")


def _check_variant(variant) -> str:
    if not isinstance(variant, str) or variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}.")
    return variant


def variant_gates(variant: str) -> tuple[str, ...]:
    """The gates with their own weights, in the fused order (i, f, c, o); "c" is the candidate."""
    _check_variant(variant)
    missing = {"NIG": "i", "NFG": "f", "NOG": "o", "CIFG": "f"}.get(variant)
    return tuple(k for k in _ORDER if k != missing)


def variant_peepholes(variant: str) -> tuple[str, ...]:
    """The gates with a peephole weight (none for NP; only gates that exist have one)."""
    if _check_variant(variant) == "NP":
        return ()
    return tuple(k for k in ("i", "f", "o") if k in variant_gates(variant))


def variant_param_names(variant: str) -> tuple[str, ...]:
    """The book's per-gate parameter names of a variant (what :meth:`LSTMFamilyLayer.to_params` returns)."""
    names = []
    for k in variant_gates(variant):
        names += [f"W_x{k}", f"W_h{k}", f"b_{k}"]
    names += [f"p_{k}" for k in variant_peepholes(variant)]
    if variant == "FGR":
        names += [f"R_{a}{b}" for a in ("i", "f", "o") for b in ("i", "f", "o")]
    return tuple(names)


def variant_config(variant: str) -> LSTMConfig | None:
    """The ``course_lib.lstm.LSTMConfig`` computing the same function, or None (NIG, NOG, FGR, CIFG).

    CIFG has an LSTMConfig twin only after the reparametrisation of :func:`cifg_input_from_forget`
    (``LSTMConfig(peepholes=True, cifg=True)`` keeps the forget gate's weights); it returns None here.
    """
    return {
        "V": LSTMConfig(peepholes=True),
        "NFG": LSTMConfig(peepholes=True, forget_gate=False),
        "NIAF": LSTMConfig(peepholes=True, candidate_activation="linear"),
        "NOAF": LSTMConfig(peepholes=True, output_activation="linear"),
        "NP": LSTMConfig(peepholes=False),
    }.get(_check_variant(variant))


def cifg_input_from_forget(params: dict) -> dict:
    """Greff's CIFG params (input gate kept) from course_lib's CIFG params (forget gate kept).

    ``I_t = 1 − σ(A_f) = σ(−A_f)``: negate ``W_xf, W_hf, b_f, p_f`` and rename them ``*_i``.
    Works in both directions for the sigmoid (and any gate activation with σ(−a) = 1 − σ(a)).
    """
    out = {}
    for name, value in params.items():
        if name in ("W_xf", "W_hf", "b_f", "p_f"):
            out[name.replace("f", "i")] = -np.asarray(value)
        elif name in ("W_xi", "W_hi", "b_i", "p_i"):
            out[name.replace("i", "f")] = -np.asarray(value)
        else:
            out[name] = np.asarray(value)
    return out


class LSTMFamilyLayer(nn.Module):
    """One of Greff et al.'s LSTM variants as a batch-first layer (see the module docstring).

    Args:
        input_size: d.
        hidden_size: h.
        variant: one of :data:`VARIANTS`.
        forget_bias: initial value of ``b_f`` (variants with a forget gate).
        dtype, device: of the parameters (float32 when None).

    Parameters (fused, G = number of gates with weights): ``W_x`` (d, G·h), ``W_h`` (h, G·h), ``b`` (G·h,),
    ``p`` (P, h) peepholes in order (i, f, o) among the P the variant has, and for FGR ``R`` (3h, 3h),
    rows ``[I_{t-1}, F_{t-1}, O_{t-1}]``, columns ``[i, f, o]``.

    ``forward(X, state=None)``: X (n, T, d), state (H_0, C_0) or None (zeros)
    -> (H_seq (n, T, h), (H_T, C_T)).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        variant: str = "V",
        forget_bias: float = 0.0,
        dtype=None,
        device=None,
    ):
        super().__init__()
        self.variant = _check_variant(variant)
        self.input_size = d = positive_int("input_size (d)", input_size)
        self.hidden_size = h = positive_int("hidden_size (h)", hidden_size)
        self.gates = variant_gates(variant)
        self.peepholes = variant_peepholes(variant)
        if forget_bias != 0.0 and "f" not in self.gates:
            raise ValueError(f"forget_bias={forget_bias!r} but variant {variant!r} has no forget gate.")
        self.forget_bias = float(forget_bias)
        G = len(self.gates)
        kw = {"dtype": dtype, "device": device}
        self.W_x = nn.Parameter(torch.empty(d, G * h, **kw))
        self.W_h = nn.Parameter(torch.empty(h, G * h, **kw))
        self.b = nn.Parameter(torch.empty(G * h, **kw))
        self.p = nn.Parameter(torch.empty(len(self.peepholes), h, **kw)) if self.peepholes else None
        self.R = nn.Parameter(torch.empty(3 * h, 3 * h, **kw)) if variant == "FGR" else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights, peepholes and R uniform in [−1/√h, 1/√h] (PyTorch's range); biases 0, b_f = forget_bias.
        """
        k = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in (self.W_x, self.W_h, self.p, self.R):
                if p is not None:
                    p.uniform_(-k, k)
            self.b.zero_()
            if "f" in self.gates:
                self._slice(self.b, "f").fill_(self.forget_bias)

    def _slice(self, fused: torch.Tensor, gate: str) -> torch.Tensor:
        j, h = self.gates.index(gate), self.hidden_size
        return fused[..., j * h : (j + 1) * h]

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}, variant={self.variant!r}"

    # ------------------------------------------------------------------------------------------------ params
    def to_params(self) -> dict[str, np.ndarray]:
        """The parameters under the book's per-gate names (NumPy copies), e.g. for ``lstm_forward``."""
        h, out = self.hidden_size, {}
        for k in self.gates:
            out[f"W_x{k}"] = self._slice(self.W_x, k).detach().cpu().numpy().copy()
            out[f"W_h{k}"] = self._slice(self.W_h, k).detach().cpu().numpy().copy()
            out[f"b_{k}"] = self._slice(self.b, k).detach().cpu().numpy().copy()
        for j, k in enumerate(self.peepholes):
            out[f"p_{k}"] = self.p[j].detach().cpu().numpy().copy()
        if self.R is not None:
            for a, src in enumerate("ifo"):
                for c, dst in enumerate("ifo"):
                    out[f"R_{src}{dst}"] = (
                        self.R[a * h : (a + 1) * h, c * h : (c + 1) * h].detach().cpu().numpy().copy()
                    )
        return out

    def load_params(self, params: dict) -> None:
        """Copy per-gate NumPy params (exactly :func:`variant_param_names`) into the fused parameters."""
        d, h = self.input_size, self.hidden_size
        names = variant_param_names(self.variant)
        check_keys("params", params, names, hint=f"Those are the parameters of variant {self.variant!r}.")
        shapes = {"W_x": ((d, h), "(d, h)"), "W_h": ((h, h), "(h, h)"), "R_": ((h, h), "(h, h)")}
        values = {}
        for name in names:
            shape, what = shapes.get(name[:2] if name.startswith("R_") else name[:3], ((h,), "(h,)"))
            values[name] = as_float_array(f"params['{name}']", params[name])
            check_shape(f"params['{name}']", values[name], shape, what=what)

        def t(name):
            return torch.as_tensor(values[name], dtype=self.W_x.dtype, device=self.W_x.device)

        with torch.no_grad():
            for k in self.gates:
                self._slice(self.W_x, k).copy_(t(f"W_x{k}"))
                self._slice(self.W_h, k).copy_(t(f"W_h{k}"))
                self._slice(self.b, k).copy_(t(f"b_{k}"))
            for j, k in enumerate(self.peepholes):
                self.p[j].copy_(t(f"p_{k}"))
            if self.R is not None:
                for a, src in enumerate("ifo"):
                    for c, dst in enumerate("ifo"):
                        self.R[a * h : (a + 1) * h, c * h : (c + 1) * h].copy_(t(f"R_{src}{dst}"))

    @classmethod
    def from_params(cls, params: dict, variant: str = "V", dtype=None, device=None) -> LSTMFamilyLayer:
        """A layer holding a copy of per-gate NumPy ``params``; dtype from the arrays (float64 usually)."""
        _check_variant(variant)
        first = f"W_x{variant_gates(variant)[0]}"
        if not isinstance(params, dict) or first not in params:
            raise ValueError(f"params must be a dict with the keys {variant_param_names(variant)}.")
        W = as_float_array(f"params['{first}']", params[first], ndim=2, what="(d, h)")
        if dtype is None:
            dtype = torch.from_numpy(np.zeros(0, dtype=np.result_type(*params.values()))).dtype
        layer = cls(W.shape[0], W.shape[1], variant, dtype=dtype, device=device)
        layer.load_params(params)
        return layer

    # ----------------------------------------------------------------------------------------------- forward
    def _check_input(self, X) -> tuple[int, int]:
        if not isinstance(X, torch.Tensor) or not X.is_floating_point():
            raise TypeError(
                f"X must be a floating-point torch.Tensor of shape (n, T, d); got {type(X).__name__}"
                f"{'' if not isinstance(X, torch.Tensor) else ' of dtype ' + str(X.dtype)}."
            )
        if X.dim() != 3 or X.shape[2] != self.input_size or X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(
                f"X has shape {tuple(X.shape)}; expected (n, T, {self.input_size}) = (n, T, d) "
                f"with n, T >= 1 (batch first)."
            )
        if X.dtype != self.W_x.dtype:
            raise TypeError(f"X has dtype {X.dtype} but the layer's parameters are {self.W_x.dtype}.")
        return X.shape[0], X.shape[1]

    def _state(self, name, S, n, X):
        h = self.hidden_size
        if S is None:
            return X.new_zeros((n, h))
        if not isinstance(S, torch.Tensor) or tuple(S.shape) != (n, h):
            got = tuple(S.shape) if isinstance(S, torch.Tensor) else type(S).__name__
            raise ValueError(f"{name} has shape {got}; expected ({n}, {h}) = (n, h).")
        return S

    def forward(self, X: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None):
        n, T = self._check_input(X)
        if state is None:
            state = (None, None)
        if not isinstance(state, tuple | list) or len(state) != 2:
            raise TypeError("state must be a tuple (H_0, C_0) of two (n, h) tensors, or None.")
        H_t = self._state("state[0] (H_0)", state[0], n, X)
        C_t = self._state("state[1] (C_0)", state[1], n, X)
        v, h, gates = self.variant, self.hidden_size, self.gates
        peep = {k: self.p[j] for j, k in enumerate(self.peepholes)}
        cand = (lambda a: a) if v == "NIAF" else torch.tanh
        out_act = (lambda c: c) if v == "NOAF" else torch.tanh
        XW = torch.addmm(self.b, X.reshape(n * T, -1), self.W_x).reshape(n, T, -1)  # all steps at once
        ones = X.new_ones((n, h))
        G_prev = X.new_zeros((n, 3 * h)) if v == "FGR" else None  # [I, F, O] at t−1 for FGR
        H_seq = []
        for t in range(T):
            A = dict(zip(gates, torch.addmm(XW[:, t], H_t, self.W_h).split(h, dim=1), strict=True))
            if G_prev is not None:
                for k, extra in zip("ifo", (G_prev @ self.R).split(h, dim=1), strict=True):
                    A[k] = A[k] + extra
            I_t = torch.sigmoid(A["i"] + peep["i"] * C_t if "i" in peep else A["i"]) if "i" in A else ones
            if "f" in A:
                F_t = torch.sigmoid(A["f"] + peep["f"] * C_t if "f" in peep else A["f"])
            else:
                F_t = 1.0 - I_t if v == "CIFG" else ones
            C_t = F_t * C_t + I_t * cand(A["c"])
            O_t = torch.sigmoid(A["o"] + peep["o"] * C_t if "o" in peep else A["o"]) if "o" in A else ones
            H_t = O_t * out_act(C_t)
            if G_prev is not None:
                G_prev = torch.cat([I_t, F_t, O_t], dim=1)
            H_seq.append(H_t)
        return torch.stack(H_seq, dim=1), (H_t, C_t)
