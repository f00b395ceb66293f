"""Fast sequence functions behind ``course_lib.torch_cells``: the same equations, laid out for speed.

The layers of :mod:`course_lib.torch_cells` keep one ``nn.Parameter`` per matrix (``W_xi``, ``W_hi``, ...)
and a readable per-gate loop (``layer.forward_reference``). Their default ``forward`` calls the functions
here, which compute exactly the same thing faster:

* **fused gates**: the gates' matrices side by side, so one step costs one recurrent matrix product
  ``H_{t-1} @ W_h`` (``W_h`` of shape ``(h, G h)`` for G gates) instead of G;
* **the input projection of all steps at once**: ``X @ W_x + b`` for the whole sequence in one product,
  written time-major into a preallocated buffer that each step then updates in place;
* **contiguous gate slabs**: the gates sharing an activation sit next to each other, so one call applies
  it to all of them; each step writes into preallocated buffers (no ``torch.stack``);
* **the book's hand-written BPTT as the backward pass** (a ``torch.autograd.Function``): the backward loop
  only carries ``dH`` and ``dC`` back through time; every gate derivative that does not depend on the
  carried gradient is computed for all steps at once before the loop, and the weight gradients come
  after it in one product each, ``dW_h = H_prev^T @ dA`` over all steps stacked.

Layouts (inside this module only; the layers take and return batch-first tensors):

* **time-major and transposed**: the loop carries ``H_t^T`` of shape ``(h, n)`` and the buffers are
  ``(T, G h, n)``, so that every gate of every step is a *contiguous* ``(h, n)`` block (elementwise ops on
  contiguous blocks are several times cheaper than on column slices of an ``(n, G h)`` matrix), and all the
  per-step views are made before the loop (``unbind``), none inside it. The recurrent product becomes
  ``A_t^T += W_h^T @ H_{t-1}^T``, the same numbers.
* LSTM gates ``[o, i, f, c]`` (``i`` absent with CIFG, ``f`` without a forget gate): ``o, i, f`` share the
  gate activation (one call when there are no peepholes) and the backward's ``dC``-driven gates ``i, f, c``
  are one block.
* GRU input projection ``[h~, z, r]``, recurrent product ``[z, r, h~]`` (PyTorch convention,
  ``reset_after=True``), or ``[z, r]`` and ``W_hh`` apart (Cho et al., ``reset_after=False``).

Derivatives of the activations are taken from their *outputs* (σ' = y (1 − y), tanh' = 1 − y², ...), so no
pre-activation is stored. Only first derivatives are supported (no double backward).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

__all__ = ["lstm_sequence", "gru_sequence", "rnn_sequence", "activate_", "derivative_from_output"]


# ----------------------------------------------------------------------------------------------------------
# activations in place, and their derivatives from their outputs
# ----------------------------------------------------------------------------------------------------------
#: From this many elements on, tanh is computed as 2 sigmoid(2x) - 1: PyTorch's CPU tanh costs about four
#: times its sigmoid per element, so on large blocks the three extra cheap passes pay for themselves.
TANH_VIA_SIGMOID_MIN = 4096

#: Blocks of at least this many elements (h n) switch the backward pass to "large" mode: the per-step
#: factors are computed a few steps at a time (they stay in the CPU's cache) and the weight gradients
#: are accumulated step by step, instead of whole-sequence passes over buffers larger than the cache.
LARGE_BLOCK = 4096
_CHUNK_ELEMENTS = 65536  # about 256 KB of float32 per factor tensor in a chunk

#: The hard sigmoids are clamp(slope x + 1/2, 0, 1): for the LSTM's gates the slope and offset are folded
#: into the gates' weights (a few multiplications of the weights, tracked by autograd), so that each step
#: applies one clamp instead of three operations.
_HARD_SIGMOIDS = {"hard_sigmoid_keras": 0.2, "hard_sigmoid_torch": 1.0 / 6.0}
_CLAMP01 = "clamp01"  # internal: clamp(x, 0, 1), the hard sigmoid once its slope and offset are folded


def activate_(name: str, x: torch.Tensor) -> torch.Tensor:
    """Apply activation ``name`` (a ``course_lib.activations`` name) to ``x`` in place; return ``x``."""
    if name == "sigmoid":
        return x.sigmoid_()
    if name == "tanh":
        if x.numel() >= TANH_VIA_SIGMOID_MIN:
            return x.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)
        return x.tanh_()
    if name == "relu":
        return x.relu_()
    if name == "hard_sigmoid_keras":
        return x.mul_(0.2).add_(0.5).clamp_(0.0, 1.0)
    if name == "hard_sigmoid_torch":
        return x.add_(3.0).clamp_(0.0, 6.0).div_(6.0)
    if name == "bipolar_sigmoid":
        return x.sigmoid_().mul_(2.0).sub_(1.0)
    if name == "linear":
        return x
    if name == _CLAMP01:
        return x.clamp_(0.0, 1.0)
    raise ValueError(f"unknown activation {name!r}")


def _activate_into(name: str, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """``out = f(x)`` for activation ``name`` (``out`` preallocated, same shape as ``x``)."""
    if name == "tanh":
        if x.numel() >= TANH_VIA_SIGMOID_MIN:
            return torch.mul(x, 2.0, out=out).sigmoid_().mul_(2.0).sub_(1.0)
        return torch.tanh(x, out=out)
    if name == "sigmoid":
        return torch.sigmoid(x, out=out)
    out.copy_(x)
    return activate_(name, out)


def derivative_from_output(name: str, y: torch.Tensor) -> torch.Tensor | float:
    """f'(x) written with y = f(x) (a new tensor, or the float 1.0 for ``linear``).

    sigmoid y (1 − y); tanh 1 − y²; relu [y > 0]; hard sigmoids their slope where 0 < y < 1;
    bipolar sigmoid (1 − y²) / 2; linear 1. At a kink the derivative is 0, as in ``course_lib.activations``.
    """
    if name == "sigmoid":
        return y * (1.0 - y)
    if name == "tanh":
        return 1.0 - y * y
    if name == "relu":
        return (y > 0).to(y.dtype)
    if name == "hard_sigmoid_keras":
        return ((y > 0) & (y < 1)).to(y.dtype) * 0.2
    if name == "hard_sigmoid_torch":
        return ((y > 0) & (y < 1)).to(y.dtype) * (1.0 / 6.0)
    if name == "bipolar_sigmoid":
        return (1.0 - y * y) * 0.5
    if name == "linear":
        return 1.0
    if name == _CLAMP01:
        return ((y > 0) & (y < 1)).to(y.dtype)
    raise ValueError(f"unknown activation {name!r}")


# ----------------------------------------------------------------------------------------------------------
# shared machinery
# ----------------------------------------------------------------------------------------------------------
def _projection_T(X: torch.Tensor, W_x: torch.Tensor, b: torch.Tensor, out=None):
    """The input projection of all steps at once, ``(X_t @ W_x + b)^T`` for t = 1..T, as one batched matrix
    product. Returns ``(Y, X_T)``: Y (T, G h, n) contiguous (or written into ``out``), X_T = X as (T, d, n).
    """
    n, T, d = X.shape
    X_T = X.permute(1, 2, 0).contiguous()
    Y = torch.baddbmm(b.view(1, -1, 1), W_x.t().expand(T, -1, d), X_T, out=out)
    return Y, X_T


def _blocks(buffer: torch.Tensor) -> torch.Tensor:
    """(T, k, n) -> (k, T n): every step's (k, n) block side by side (a copy of contiguous rows of n)."""
    T, k, n = buffer.shape
    return buffer.permute(1, 0, 2).reshape(k, T * n)


def _chunks(T: int, block: int):
    """Time ranges ``(t0, t1)`` from the end to the start: one for the whole sequence when it is small,
    else a few steps each (about ``_CHUNK_ELEMENTS`` per factor tensor)."""
    L = T if block < LARGE_BLOCK else max(1, _CHUNK_ELEMENTS // block)
    return [(max(0, t1 - L), t1) for t1 in range(T, 0, -L)]


def _upstream(dH_seq: torch.Tensor, dH_T: torch.Tensor):
    """The loss's gradients on H_1..H_T as a list of (h, n) views, the last one including dH_T."""
    dHs = list(dH_seq.permute(1, 2, 0).unbind(0))
    dHs[-1] = dHs[-1] + dH_T.t()
    return dHs


def _carry_back(dHs, t, dH, Z_t):
    """Start of the GRU's dH_{t-1}: ``dH_t * Z_t`` plus the loss's own gradient on H_{t-1} (none on H_0)."""
    return torch.addcmul(dHs[t - 1], dH, Z_t) if t > 0 else dH * Z_t


class _WeightGrads:
    """The weight gradients every layer computes the same way from the pre-activation gradients ``D``
    (T, G h, n) of all steps: ``dW_h = sum_t H_{t-1}^T dA_t`` over the recurrent rows of D, and
    ``dW_x = sum_t X_t^T dA_t``, ``db = sum_t sum_batch dA_t`` over its input-projection rows.

    Small blocks: one matrix product over all steps at the end (``finish``). Large blocks (``large``): each
    step's products are added as soon as its dA_t is known (``step``), while it is still in the cache;
    ``db`` rides along as an extra row of ones under ``X_t``.
    """

    def __init__(self, ctx, X_T, H_prev, D, input_rows: slice, recurrent_rows: slice, i_Wx=3, i_b=5, i_Wh=4):
        self.X_T, self.H_prev, self.D = X_T, H_prev, D
        self.input_rows, self.recurrent_rows = input_rows, recurrent_rows
        self.need_x = ctx.needs_input_grad[i_Wx] or ctx.needs_input_grad[i_b]
        self.need_h = ctx.needs_input_grad[i_Wh]
        T, d, n = X_T.shape
        self.large = H_prev.shape[1] * n >= LARGE_BLOCK
        if self.large:
            G_in = D[0, input_rows].shape[0]
            G_rec = D[0, recurrent_rows].shape[0]
            if self.need_x:
                self.X1s = torch.cat([X_T, X_T.new_ones((T, 1, n))], dim=1).unbind(0)
                self.dW_xb = X_T.new_zeros((d + 1, G_in))
            if self.need_h:
                self.Hs = H_prev.unbind(0)
                self.dW_h = X_T.new_zeros((H_prev.shape[1], G_rec))

    def step(self, t: int, D_t: torch.Tensor) -> None:
        if self.large:
            if self.need_x:
                self.dW_xb.addmm_(self.X1s[t], D_t[self.input_rows].t())
            if self.need_h:
                self.dW_h.addmm_(self.Hs[t], D_t[self.recurrent_rows].t())

    def finish(self):
        """Returns ``(dW_x, db, dW_h)`` (None where not needed)."""
        dW_x = db = dW_h = None
        if self.large:
            if self.need_x:
                dW_x, db = self.dW_xb[:-1], self.dW_xb[-1]
            if self.need_h:
                dW_h = self.dW_h
            return dW_x, db, dW_h
        D2 = _blocks(self.D)
        if self.need_x:
            D_in = D2[self.input_rows]
            dW_x, db = _blocks(self.X_T) @ D_in.t(), D_in.sum(1)
        if self.need_h:
            dW_h = _blocks(self.H_prev) @ D2[self.recurrent_rows].t()
        return dW_x, db, dW_h


def _input_gradient(ctx, W_x, D_in):
    """dX (n, T, d) = dA @ W_x^T for every step at once (``D_in`` (T, G h, n), the input-projection rows)."""
    return torch.matmul(W_x, D_in).permute(2, 0, 1) if ctx.needs_input_grad[0] else None


# ----------------------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------------------
class _LSTMFunction(torch.autograd.Function):
    """Fused LSTM over a whole sequence; backward = hand-written BPTT.

    Inputs: X (n, T, d), H_0, C_0 (n, h), W_x (d, G h), W_h (h, G h), b (G h,), P (k + 1, h) peepholes
    ``[p_i, p_f, p_o]`` (those present) or None, and the static ``spec`` (activations, switches).
    Outputs: H_seq (n, T, h), H_T (n, h), C_T (n, h).
    """

    @staticmethod
    def forward(ctx, X, H_0, C_0, W_x, W_h, b, P, spec):
        g_name, c_name, o_name, has_i, has_f, peep = spec
        n, T, d = X.shape
        h = H_0.shape[1]
        k = int(has_i) + int(has_f)  # how many of the gates i, f there are
        G = k + 2
        Y, X_T = _projection_T(X, W_x, b)  # (T, G h, n): pre-activations, then (in place) the gates' values
        W_hT = W_h.t().contiguous()
        Hb = X.new_empty((T + 1, h, n))
        Cb = X.new_empty((T + 1, h, n))
        TC = X.new_empty((T, h, n)) if o_name != "linear" else Cb[1:]  # phi(C_t)
        Hb[0] = H_0.t()
        Cb[0] = C_0.t()
        Yv = Y.view(T, G, h, n)
        A, O, C_tilde = Y.unbind(0), Yv[:, 0].unbind(0), Yv[:, G - 1].unbind(0)
        I = Yv[:, 1].unbind(0) if has_i else None
        F = Yv[:, 1 + int(has_i)].unbind(0) if has_f else None
        gated = Y[:, : (k + 1) * h].unbind(0)  # o, i, f: one activation call without peepholes
        IF, IF_k = Y[:, h : (k + 1) * h].unbind(0), Yv[:, 1 : k + 1].unbind(0)
        Hs, Cs, TCs = Hb.unbind(0), Cb.unbind(0), TC.unbind(0)
        if peep:
            P_if, p_o = P[:k].unsqueeze(-1), P[k].unsqueeze(-1)  # (k, h, 1), (h, 1)
        for t in range(T):
            A[t].addmm_(W_hT, Hs[t])
            if peep:
                IF_k[t].addcmul_(P_if, Cs[t])
                activate_(g_name, IF[t])
            else:
                activate_(g_name, gated[t])
            activate_(c_name, C_tilde[t])
            if has_i and has_f:
                torch.mul(F[t], Cs[t], out=Cs[t + 1]).addcmul_(I[t], C_tilde[t])
            elif has_f:  # CIFG: C_t = F C_prev + (1 - F) C_tilde
                torch.lerp(C_tilde[t], Cs[t], F[t], out=Cs[t + 1])
            else:  # no forget gate: C_t = C_prev + I C_tilde
                torch.addcmul(Cs[t], I[t], C_tilde[t], out=Cs[t + 1])
            if peep:
                activate_(g_name, O[t].addcmul_(p_o, Cs[t + 1]))
            if o_name != "linear":
                _activate_into(o_name, Cs[t + 1], TCs[t])
            torch.mul(O[t], TCs[t], out=Hs[t + 1])
        ctx.spec = spec
        ctx.save_for_backward(X_T, W_x, W_h, P, Y, Hb, Cb, TC)
        return Hb[1:].permute(2, 0, 1), Hb[T].t(), Cb[T].t()  # views of the buffers, batch-first

    @staticmethod
    @once_differentiable
    def backward(ctx, dH_seq, dH_T, dC_T):
        g_name, c_name, o_name, has_i, has_f, peep = ctx.spec
        X_T, W_x, W_h, P, Y, Hb, Cb, TC = ctx.saved_tensors
        T, _, n = X_T.shape
        h = Hb.shape[1]
        k = int(has_i) + int(has_f)
        G = k + 2
        Yv = Y.view(T, G, h, n)
        F = Yv[:, 1 + int(has_i)] if has_f else None
        if peep:
            P_if, p_o = P[:k].unsqueeze(-1), P[k].unsqueeze(-1)

        def factors(t0, t1):
            """Everything that does not depend on the carried gradient, for steps t0..t1-1 at once:
            dA_o = dH M_o; dC = dC_next + dH D_phi; dA_k = dC K_k (k = i, f, c); dC_prev = dC F_back."""
            O, C_tilde, C_prev, TC_ = Yv[t0:t1, 0], Yv[t0:t1, G - 1], Cb[t0:t1], TC[t0:t1]
            I = Yv[t0:t1, 1] if has_i else None
            F_ = F[t0:t1] if has_f else None
            M_o = TC_ * derivative_from_output(g_name, O)
            D_phi = O * derivative_from_output(o_name, TC_)
            K = []
            if has_i:
                K.append(C_tilde * derivative_from_output(g_name, I))
            if has_f and has_i:
                K.append(C_prev * derivative_from_output(g_name, F_))
            elif has_f:  # CIFG: I = 1 - F
                K.append((C_prev - C_tilde) * derivative_from_output(g_name, F_))
            K.append((I if has_i else 1.0 - F_) * derivative_from_output(c_name, C_tilde))
            F_back = F_
            if peep:  # A_o += p_o C_t, A_i += p_i C_prev, A_f += p_f C_prev: fold them into the factors
                D_phi = D_phi.addcmul_(M_o, p_o)
                F_back = sum(K[j] * P_if[j] for j in range(k)) + (F_ if has_f else 1.0)
            F_back = F_back.unbind(0) if F_back is not None else None
            return M_o.unbind(0), D_phi.unbind(0), torch.stack(K, dim=1).unbind(0), F_back

        D = torch.empty_like(Y)  # dA^T of every step, gates [o, i, f, c]
        Dv = D.view(T, G, h, n)
        Ds, D_o, D_k = D.unbind(0), Dv[:, 0].unbind(0), Dv[:, 1:].unbind(0)
        grads = _WeightGrads(ctx, X_T, Hb[:-1], D, slice(None), slice(None))
        dHs = _upstream(dH_seq, dH_T)
        dH = dHs[T - 1]
        dC_next = dC_T.t()
        for t0, t1 in _chunks(T, G * h * n):
            M_o, D_phi, K, F_back = factors(t0, t1)
            for t in reversed(range(t0, t1)):
                j = t - t0
                torch.mul(dH, M_o[j], out=D_o[t])
                dC = torch.addcmul(dC_next, dH, D_phi[j])
                torch.mul(dC, K[j], out=D_k[t])
                dC_next = dC * F_back[j] if F_back is not None else dC
                grads.step(t, Ds[t])
                dH = torch.addmm(dHs[t - 1], W_h, Ds[t]) if t > 0 else W_h @ Ds[0]
        dW_x, db, dW_h = grads.finish()
        dX = _input_gradient(ctx, W_x, D)
        dP = None
        if peep and ctx.needs_input_grad[6]:
            dP_if = (Dv[:, 1 : k + 1] * Cb[:-1].unsqueeze(1)).sum((0, 3))
            dP = torch.cat([dP_if, (Dv[:, 0] * Cb[1:]).sum((0, 2)).unsqueeze(0)])
        dH_0 = dH.t() if ctx.needs_input_grad[1] else None
        dC_0 = dC_next.t() if ctx.needs_input_grad[2] else None
        return dX, dH_0, dC_0, dW_x, dW_h, db, dP, None


def lstm_sequence(X, H_0, C_0, W_x, W_h, b, P, config):
    """Run the LSTM of ``config`` (an ``LSTMConfig``) over X (n, T, d) with fused weights.

    ``W_x`` (d, G h), ``W_h`` (h, G h), ``b`` (G h,) hold the gates in the order ``[o, i, f, c]`` (those
    present); ``P`` is the peepholes stacked ``[p_i, p_f, p_o]`` (those present), or None.
    Returns ``(H_seq (n, T, h), H_T, C_T)``.
    """
    g_name = config.gate_activation
    if g_name in _HARD_SIGMOIDS:  # clamp(slope A + 1/2, 0, 1): slope and offset into the gates' weights
        slope, h = _HARD_SIGMOIDS[g_name], H_0.shape[1]
        gates = W_h.shape[1] - h  # the columns of o, i, f (the candidate c comes last)
        scale = torch.cat([W_h.new_full((gates,), slope), W_h.new_ones(h)])
        W_x, W_h = W_x * scale, W_h * scale
        b = torch.addcmul(torch.cat([b.new_full((gates,), 0.5), b.new_zeros(h)]), b, scale)
        P = P * slope if P is not None else None
        g_name = _CLAMP01
    spec = (
        g_name,
        config.candidate_activation,
        config.output_activation,
        not config.cifg,
        config.forget_gate,
        config.peepholes,
    )
    return _LSTMFunction.apply(X, H_0, C_0, W_x, W_h, b, P, spec)


# ----------------------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------------------
class _GRUFunction(torch.autograd.Function):
    """Fused GRU over a whole sequence; backward = hand-written BPTT.

    Inputs: X (n, T, d), H_0 (n, h), W_hh (h, h) (reset_before only, else None), W_x (d, 3h) gates
    ``[h~, z, r]``, W_h: ``[z, r, h~]`` (h, 3h) when reset_after, else ``[z, r]`` (h, 2h), b (3h,) (the
    candidate's slab holds ``b_h``, plus ``b_hh_rec`` when reset_before), b_rec (h,) = ``b_hh_rec``
    (reset_after only, else None); ``spec`` = (gate activation, candidate activation, reset_after).
    Outputs: H_seq (n, T, h), H_T (n, h).
    """

    @staticmethod
    def forward(ctx, X, H_0, W_hh, W_x, W_h, b, b_rec, spec):
        g_name, f_name, reset_after = spec
        n, T, d = X.shape
        h = H_0.shape[1]
        XW, X_T = _projection_T(X, W_x, b)  # (T, 3h, n), [h~, z, r]
        XW_n, XW_zr = XW[:, :h].unbind(0), XW[:, h:].unbind(0)
        Hb = X.new_empty((T + 1, h, n))
        Hb[0] = H_0.t()
        ZR = X.new_empty((T, 2 * h, n))
        H_tilde = X.new_empty((T, h, n))
        # reset_after: the recurrent products [z, r, h~] (with b_hh_rec); reset_before: R_t ⊙ H_{t-1}
        S = X.new_empty((T, 3 * h, n) if reset_after else (T, h, n))
        Hs, ZRs, Z, R = Hb.unbind(0), ZR.unbind(0), ZR[:, :h].unbind(0), ZR[:, h:].unbind(0)
        Hts, Ss = H_tilde.unbind(0), S.unbind(0)
        W_hT = W_h.t().contiguous()
        if reset_after:
            b_col = torch.cat([b_rec.new_zeros(2 * h), b_rec]).unsqueeze(1)
            S_zr, S_n = S[:, : 2 * h].unbind(0), S[:, 2 * h :].unbind(0)
            for t in range(T):
                torch.addmm(b_col, W_hT, Hs[t], out=Ss[t])
                activate_(g_name, torch.add(XW_zr[t], S_zr[t], out=ZRs[t]))
                activate_(f_name, torch.addcmul(XW_n[t], R[t], S_n[t], out=Hts[t]))
                torch.lerp(Hts[t], Hs[t], Z[t], out=Hs[t + 1])  # H~ + Z (H_prev - H~)
        else:
            W_hhT = W_hh.t().contiguous()
            for t in range(T):
                activate_(g_name, torch.addmm(XW_zr[t], W_hT, Hs[t], out=ZRs[t]))
                torch.mul(R[t], Hs[t], out=Ss[t])
                activate_(f_name, torch.addmm(XW_n[t], W_hhT, Ss[t], out=Hts[t]))
                torch.lerp(Hts[t], Hs[t], Z[t], out=Hs[t + 1])
        ctx.spec = spec
        ctx.save_for_backward(X_T, W_x, W_h, W_hh, Hb, ZR, H_tilde, S)
        return Hb[1:].permute(2, 0, 1), Hb[T].t()

    @staticmethod
    @once_differentiable
    def backward(ctx, dH_seq, dH_T):
        g_name, f_name, reset_after = ctx.spec
        X_T, W_x, W_h, W_hh, Hb, ZR, H_tilde, S = ctx.saved_tensors
        T, _, n = X_T.shape
        h = Hb.shape[1]
        H_prev = Hb[:-1]
        Zs = ZR[:, :h].unbind(0)

        def factors(t0, t1):
            """dA_h~ = dH * K_n and dA_z = dH * K_z (one block [h~, z]); K_r for the reset gate."""
            Z, R, Ht, Hp = ZR[t0:t1, :h], ZR[t0:t1, h:], H_tilde[t0:t1], H_prev[t0:t1]
            dg = derivative_from_output(g_name, ZR[t0:t1])
            K_n = (1.0 - Z) * derivative_from_output(f_name, Ht)
            K_nz = torch.stack([K_n, (Hp - Ht) * dg[:, :h]], dim=1).unbind(0)
            if reset_after:  # dA_r = dA_h~ (W_hh^T H_prev + b_hh_rec) g'(R); the recurrent h~ block: dA_h~ R
                K_r = torch.stack([S[t0:t1, 2 * h :] * dg[:, h:], R], dim=1).unbind(0)
            else:  # dA_r = (W_hh dA_h~) * H_prev * g'(R)
                K_r = (Hp * dg[:, h:]).unbind(0)
            return K_nz, K_r

        if reset_after:
            D = X_T.new_empty((T, 4 * h, n))  # [h~, z, r, h~ ⊙ R]: input gates D[:3h], recurrent D[h:]
            Dv = D.view(T, 4, h, n)
            D_nz, D_n = Dv[:, :2].unbind(0), Dv[:, 0].unbind(0)
            D_rn, D_zrn = Dv[:, 2:].unbind(0), D[:, h:].unbind(0)
            grads = _WeightGrads(ctx, X_T, H_prev, D, slice(0, 3 * h), slice(h, 4 * h))
        else:
            D = X_T.new_empty((T, 3 * h, n))  # [h~, z, r]
            Dv = D.view(T, 3, h, n)
            D_nz, D_n = Dv[:, :2].unbind(0), Dv[:, 0].unbind(0)
            D_r, D_zr = Dv[:, 2].unbind(0), D[:, h:].unbind(0)
            Rs = ZR[:, h:].unbind(0)
            grads = _WeightGrads(ctx, X_T, H_prev, D, slice(None), slice(h, 3 * h))
            RHs = S.unbind(0)
            large_hh = grads.large and ctx.needs_input_grad[2]
            dW_hh = X_T.new_zeros((h, h)) if large_hh else None
        dHs = _upstream(dH_seq, dH_T)
        dH = dHs[T - 1]
        for t0, t1 in _chunks(T, 3 * h * n):
            K_nz, K_r = factors(t0, t1)
            for t in reversed(range(t0, t1)):
                j = t - t0
                torch.mul(dH, K_nz[j], out=D_nz[t])
                if reset_after:
                    torch.mul(D_n[t], K_r[j], out=D_rn[t])
                    grads.step(t, D[t])
                    dH = _carry_back(dHs, t, dH, Zs[t]).addmm_(W_h, D_zrn[t])
                else:
                    dRH = W_hh @ D_n[t]
                    torch.mul(dRH, K_r[j], out=D_r[t])
                    grads.step(t, D[t])
                    if large_hh:
                        dW_hh.addmm_(RHs[t], D_n[t].t())
                    dH = _carry_back(dHs, t, dH, Zs[t]).addcmul_(dRH, Rs[t]).addmm_(W_h, D_zr[t])
        dW_x, db, dW_h = grads.finish()
        if reset_after:
            dX = _input_gradient(ctx, W_x, D[:, : 3 * h])
            db_rec = D[:, 3 * h :].sum((0, 2)) if ctx.needs_input_grad[6] else None
            dW_hh = None
        else:
            dX = _input_gradient(ctx, W_x, D)
            if ctx.needs_input_grad[2] and not large_hh:
                dW_hh = _blocks(S) @ _blocks(D[:, :h]).t()
            db_rec = None
        dH_0 = dH.t() if ctx.needs_input_grad[1] else None
        return dX, dH_0, dW_hh, dW_x, dW_h, db, db_rec, None


def gru_sequence(X, H_0, W_x, b, W_h, W_hh, b_rec, config):
    """Run the GRU of ``config`` (a ``GRUConfig``) over X (n, T, d) with fused weights (see _GRUFunction).

    Returns ``(H_seq (n, T, h), H_T)``.
    """
    spec = (config.gate_activation, config.candidate_activation, config.reset_after)
    return _GRUFunction.apply(X, H_0, W_hh, W_x, W_h, b, b_rec, spec)


# ----------------------------------------------------------------------------------------------------------
# Elman RNN
# ----------------------------------------------------------------------------------------------------------
class _RNNFunction(torch.autograd.Function):
    """Elman RNN over a whole sequence; backward = hand-written BPTT.

    Inputs: X (n, T, d), H_0 (n, h), (unused slot), W_xh (d, h), W_hh (h, h), b_h (h,), activation name.
    Outputs: H_seq (n, T, h), H_T (n, h).
    """

    @staticmethod
    def forward(ctx, X, H_0, _unused, W_x, W_h, b, f_name):
        n, T, d = X.shape
        h = H_0.shape[1]
        Hb = X.new_empty((T + 1, h, n))
        Hb[0] = H_0.t()
        _, X_T = _projection_T(X, W_x, b, out=Hb[1:])
        Hs = Hb.unbind(0)
        W_hT = W_h.t().contiguous()
        for t in range(T):
            activate_(f_name, Hs[t + 1].addmm_(W_hT, Hs[t]))
        ctx.f_name = f_name
        ctx.save_for_backward(X_T, W_x, W_h, Hb)
        return Hb[1:].permute(2, 0, 1), Hb[T].t()

    @staticmethod
    @once_differentiable
    def backward(ctx, dH_seq, dH_T):
        X_T, W_x, W_h, Hb = ctx.saved_tensors
        T, _, n = X_T.shape
        h = Hb.shape[1]
        D = torch.empty_like(Hb[1:])
        Ds = D.unbind(0)
        grads = _WeightGrads(ctx, X_T, Hb[:-1], D, slice(None), slice(None))
        dHs = _upstream(dH_seq, dH_T)
        dH = dHs[T - 1]
        for t0, t1 in _chunks(T, h * n):
            K = derivative_from_output(ctx.f_name, Hb[t0 + 1 : t1 + 1]).unbind(0)
            for t in reversed(range(t0, t1)):
                torch.mul(dH, K[t - t0], out=Ds[t])
                grads.step(t, Ds[t])
                dH = torch.addmm(dHs[t - 1], W_h, Ds[t]) if t > 0 else W_h @ Ds[0]
        dW_x, db, dW_h = grads.finish()
        dX = _input_gradient(ctx, W_x, D)
        dH_0 = dH.t() if ctx.needs_input_grad[1] else None
        return dX, dH_0, None, dW_x, dW_h, db, None


def rnn_sequence(X, H_0, W_xh, W_hh, b_h, activation):
    """Run an Elman RNN (``activation`` "tanh" or "relu") over X (n, T, d). Returns (H_seq, H_T)."""
    return _RNNFunction.apply(X, H_0, None, W_xh, W_hh, b_h, activation)
