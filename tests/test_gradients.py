"""course_lib.gradients against torch.autograd and finite differences; the Pascanu bound; clipping."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib import gradients as gr
from course_lib import rnn

ACTS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


def _setup(activation="tanh", n=2, T=7, d=3, h=4, seed=0, scale=0.8):
    rng = np.random.default_rng(seed)
    params = rnn.init_rnn_params(d, h, rng=rng, scale=scale)
    params["b_h"] = rng.normal(scale=0.2, size=h)
    X = rng.normal(size=(n, T, d))
    H_0 = rng.normal(scale=0.5, size=(n, h))
    return params, X, H_0


def _torch_run(X, params, H_start, start, stop, activation="tanh"):
    """Run steps start+1 .. stop (1-based) from H_start (n, h) in torch float64."""
    f = ACTS[activation]
    W_xh, W_hh, b_h = (torch.tensor(params[k]) for k in ("W_xh", "W_hh", "b_h"))
    X = torch.tensor(X)
    H = H_start
    for s in range(start, stop):
        H = f(X[:, s] @ W_xh + H @ W_hh + b_h)
    return H


# ------------------------------------------------------------------------------------------ Jacobians
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_step_jacobians_match_autograd(activation):
    params, X, H_0 = _setup(activation)
    H, cache = rnn.rnn_forward(X, params, H_0=H_0, activation=activation)
    J = gr.step_jacobians(cache)
    n, T, h = H.shape
    assert J.shape == (n, T, h, h)
    states = np.concatenate([H_0[:, None], H], axis=1)
    for t in [1, 4, T]:
        for b in range(n):

            def one_step(H_prev, t=t, b=b):
                return _torch_run(X[b : b + 1], params, H_prev[None], t - 1, t, activation)[0]

            ref = torch.autograd.functional.jacobian(one_step, torch.tensor(states[b, t - 1])).numpy()
            np.testing.assert_allclose(J[b, t - 1], ref, atol=1e-12)


@pytest.mark.parametrize("t", [0, 3, 6, 7])
def test_jacobian_product_matches_autograd(t):
    params, X, H_0 = _setup(T=7)
    H, cache = rnn.rnn_forward(X, params, H_0=H_0)
    P = gr.jacobian_product(cache, t)
    states = np.concatenate([H_0[:, None], H], axis=1)
    for b in range(X.shape[0]):

        def run(H_t, b=b):
            return _torch_run(X[b : b + 1], params, H_t[None], t, 7)[0]

        ref = torch.autograd.functional.jacobian(run, torch.tensor(states[b, t])).numpy()
        np.testing.assert_allclose(P[b], ref, atol=1e-12)


def test_jacobian_norms_by_lag_agree_with_products_and_the_bound():
    params, X, H_0 = _setup(T=9, h=5)
    params["W_hh"] = gr.matrix_with_top_singular_value(5, 1.3, rng=1, kind="gaussian")
    _, cache = rnn.rnn_forward(X, params, H_0=H_0)
    norms = gr.jacobian_norms_by_lag(cache)
    fro = gr.jacobian_norms_by_lag(cache, ord="fro")
    assert norms.shape == (2, 10)
    np.testing.assert_allclose(norms[:, 0], 1.0)
    np.testing.assert_allclose(fro[:, 0], np.sqrt(5))
    for k in range(10):
        P = gr.jacobian_product(cache, 9 - k)
        np.testing.assert_allclose(norms[:, k], np.linalg.norm(P, 2, axis=(1, 2)), rtol=1e-12)
        np.testing.assert_allclose(fro[:, k], np.linalg.norm(P, "fro", axis=(1, 2)), rtol=1e-12)
    assert np.all(norms <= gr.pascanu_bound(1.3, np.arange(10)) * (1 + 1e-12))
    with pytest.raises(ValueError, match="ord"):
        gr.jacobian_norms_by_lag(cache, ord=1)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_preactivation_path_matches_cache_and_autograd(activation):
    params, X, H_0 = _setup(T=6)
    A = gr.elman_preactivations(X, params, H_0=H_0, activation=activation)
    assert A.shape == (2, 6, 4)
    if activation == "tanh":
        _, cache = rnn.rnn_forward(X, params, H_0=H_0)
        np.testing.assert_allclose(A, np.stack([s["A_t"] for s in cache["steps"]], axis=1), atol=1e-14)
        np.testing.assert_allclose(
            gr.jacobian_norms_by_lag(A=A, W_hh=params["W_hh"]), gr.jacobian_norms_by_lag(cache), atol=1e-14
        )
    J = gr.step_jacobians(A=A, W_hh=params["W_hh"], activation=activation)
    # product over all steps vs autograd of H_6 w.r.t. H_0
    P = np.eye(4)
    for s in range(5, -1, -1):
        P = P @ J[0, s]
    ref = torch.autograd.functional.jacobian(
        lambda H: _torch_run(X[:1], params, H[None], 0, 6, activation)[0], torch.tensor(H_0[0])
    ).numpy()
    np.testing.assert_allclose(P, ref, atol=1e-12)
    gamma = gr.DERIVATIVE_BOUND[activation]
    lam = np.linalg.norm(params["W_hh"], 2)
    norms = gr.jacobian_norms_by_lag(A=A, W_hh=params["W_hh"], activation=activation)
    assert np.all(norms <= gr.pascanu_bound(lam, np.arange(7), gamma) * (1 + 1e-12))


@pytest.mark.parametrize("kind", ["orthogonal", "gaussian"])
def test_matrix_with_top_singular_value(kind):
    W = gr.matrix_with_top_singular_value(6, 2.5, rng=0, kind=kind)
    s = np.linalg.svd(W, compute_uv=False)
    assert W.shape == (6, 6) and s[0] == pytest.approx(2.5)
    if kind == "orthogonal":
        np.testing.assert_allclose(s, 2.5)
    np.testing.assert_array_equal(W, gr.matrix_with_top_singular_value(6, 2.5, rng=0, kind=kind))
    with pytest.raises(ValueError, match="lambda_1"):
        gr.matrix_with_top_singular_value(6, -1.0)
    with pytest.raises(ValueError, match="kind"):
        gr.matrix_with_top_singular_value(6, 1.0, kind="uniform")
    with pytest.raises(ValueError, match="h must"):
        gr.matrix_with_top_singular_value(0, 1.0)


def test_pascanu_bound_values():
    np.testing.assert_allclose(gr.pascanu_bound(3.0, [0, 1, 2], gamma=0.25), [1.0, 0.75, 0.5625])
    with pytest.raises(ValueError, match="non-negative"):
        gr.pascanu_bound(1.0, [-1])


def test_bad_cache_and_arguments():
    with pytest.raises(TypeError, match="rnn_forward"):
        gr.step_jacobians({"nope": 1})
    with pytest.raises(TypeError, match="A and W_hh"):
        gr.step_jacobians()
    params, X, H_0 = _setup()
    _, cache = rnn.rnn_forward(X, params)
    with pytest.raises(ValueError, match=r"t must be an int in \[0, T\]"):
        gr.jacobian_product(cache, 8)


# ----------------------------------------------------------------------------------------------- cliff
def test_cliff_gradient_matches_autograd_and_finite_differences():
    ws = np.array([0.5, 3.0, 5.0, 6.5])
    bs = np.array([-0.2, -1.5, -2.5, -3.3])
    dw, db = gr.cliff_grad(ws, bs)
    w_t = torch.tensor(ws, requires_grad=True)
    b_t = torch.tensor(bs, requires_grad=True)
    x = torch.full_like(w_t, 0.5)
    for _ in range(50):
        x = w_t * torch.sigmoid(x) + b_t
    E = (torch.sigmoid(x) - 0.7) ** 2
    E.sum().backward()
    np.testing.assert_allclose(gr.cliff_loss(ws, bs), E.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dw, w_t.grad.numpy(), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(db, b_t.grad.numpy(), rtol=1e-9, atol=1e-14)
    eps = 1e-6
    fd_w = (gr.cliff_loss(ws + eps, bs) - gr.cliff_loss(ws - eps, bs)) / (2 * eps)
    fd_b = (gr.cliff_loss(ws, bs + eps) - gr.cliff_loss(ws, bs - eps)) / (2 * eps)
    np.testing.assert_allclose(dw, fd_w, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(db, fd_b, rtol=1e-5, atol=1e-9)


def test_cliff_broadcasts_over_a_grid():
    W, B = np.meshgrid(np.linspace(0, 8, 5), np.linspace(-6, 1, 3))
    assert gr.cliff_loss(W, B).shape == (3, 5)
    assert gr.cliff_forward(W, B, T=4).shape == (5, 3, 5)
    dw, db = gr.cliff_grad(W, B)
    assert dw.shape == db.shape == (3, 5)
    with pytest.raises(ValueError, match="T must"):
        gr.cliff_forward(1.0, 0.0, T=0)


# -------------------------------------------------------------------------------------------- clipping
def _torch_params(arrays):
    ps = [torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.float64)) for a in arrays]
    for p, a in zip(ps, arrays):
        p.grad = torch.tensor(a)
    return ps


@pytest.mark.parametrize("max_norm", [0.5, 5.0, 1e3])
def test_clip_by_global_norm_matches_torch(max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=(4, 4)) * 3, rng.normal(size=4)]
    clipped, norm = gr.clip_by_global_norm(grads, max_norm)
    ps = _torch_params(grads)
    norm_t = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    assert norm == pytest.approx(float(norm_t), rel=1e-12)
    for c, p in zip(clipped, ps):
        np.testing.assert_allclose(c, p.grad.numpy(), rtol=1e-12)
    assert gr.global_norm(clipped) <= max_norm * (1 + 1e-9)
    if norm <= max_norm:
        for c, g in zip(clipped, grads):
            np.testing.assert_allclose(c, g, rtol=1e-6)
    # direction kept: every array scaled by the same factor
    ratios = [np.linalg.norm(c) / np.linalg.norm(g) for c, g in zip(clipped, grads)]
    assert np.ptp(ratios) < 1e-12


def test_clip_by_value_matches_torch_and_changes_direction():
    grads = [np.array([[10.0, 0.5], [-3.0, 0.1]]), np.array([0.2, -7.0])]
    clipped = gr.clip_by_value(grads, 1.0)
    ps = _torch_params(grads)
    torch.nn.utils.clip_grad_value_(ps, 1.0)
    for c, p in zip(clipped, ps):
        np.testing.assert_array_equal(c, p.grad.numpy())
    flat_g = np.concatenate([g.ravel() for g in grads])
    flat_c = np.concatenate([c.ravel() for c in clipped])
    cos = flat_g @ flat_c / (np.linalg.norm(flat_g) * np.linalg.norm(flat_c))
    assert cos < 0.99


def test_clipping_keeps_dicts_and_refuses_generators():
    grads = {"W_hh": np.full((2, 2), 3.0), "b_h": np.array([4.0, 0.0])}
    clipped, norm = gr.clip_by_global_norm(grads, 1.0)
    assert set(clipped) == {"W_hh", "b_h"} and norm == pytest.approx(np.sqrt(36 + 16))
    assert gr.global_norm(grads) == pytest.approx(norm)
    assert set(gr.clip_by_value(grads, 1.0)) == {"W_hh", "b_h"}
    with pytest.raises(TypeError, match="one-shot iterator"):
        gr.clip_by_global_norm((g for g in [np.ones(2)]), 1.0)
    with pytest.raises(TypeError, match="list, tuple or dict"):
        gr.clip_by_global_norm(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        gr.clip_by_global_norm([np.ones(2)], 0.0)
    with pytest.raises(ValueError, match="clip_value"):
        gr.clip_by_value([np.ones(2)], -1.0)
    with pytest.raises(TypeError, match="floating-point"):
        gr.global_norm([np.ones(2, dtype=int)])


# ---------------------------------------------------------------------------------------- truncation
def _torch_truncated(params, X, H_0, dH, k):
    """Autograd reference: loss step s sees only steps s-k+1..s, starting from a constant H_{s-k}."""
    H, _ = rnn.rnn_forward(X, params, H_0=H_0)
    states = np.concatenate([H_0[:, None], H], axis=1)
    leaves = {key: torch.tensor(v, requires_grad=True) for key, v in params.items()}
    X_t = torch.tensor(X, requires_grad=True)
    total = 0.0
    for s in range(X.shape[1]):
        start = max(0, s - k + 1)
        H_t = torch.tensor(states[:, start])
        for t in range(start, s + 1):
            H_t = torch.tanh(X_t[:, t] @ leaves["W_xh"] + H_t @ leaves["W_hh"] + leaves["b_h"])
        total = total + (H_t * torch.tensor(dH[:, s])).sum()
    total.backward()
    return X_t.grad.numpy(), {key: v.grad.numpy() for key, v in leaves.items()}


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_truncated_bptt_matches_autograd(k):
    params, X, H_0 = _setup(T=6)
    dH = np.random.default_rng(1).normal(size=(2, 6, 4))
    _, cache = rnn.rnn_forward(X, params, H_0=H_0)
    dX, grads = gr.truncated_rnn_backward(dH, cache, k)
    dX_ref, grads_ref = _torch_truncated(params, X, H_0, dH, k)
    np.testing.assert_allclose(dX, dX_ref, atol=1e-12)
    for key in grads:
        np.testing.assert_allclose(grads[key], grads_ref[key], atol=1e-12)


def test_truncation_at_T_or_more_is_full_bptt():
    params, X, H_0 = _setup(T=5)
    dH = np.random.default_rng(2).normal(size=(2, 5, 4))
    _, cache = rnn.rnn_forward(X, params, H_0=H_0)
    dX_full, _, full = rnn.rnn_backward(dH, cache)
    for k in [5, 9]:
        dX, grads = gr.truncated_rnn_backward(dH, cache, k)
        np.testing.assert_allclose(dX, dX_full, atol=1e-13)
        for key in full:
            np.testing.assert_allclose(grads[key], full[key], atol=1e-13)
    with pytest.raises(ValueError, match="k must"):
        gr.truncated_rnn_backward(dH, cache, 0)
    with pytest.raises(ValueError, match="dH has shape"):
        gr.truncated_rnn_backward(dH[:, :3], cache, 2)


def test_bptt_contributions_are_the_terms_of_the_double_sum():
    params, X, H_0 = _setup(T=5)
    dH = np.random.default_rng(3).normal(size=(2, 5, 4))
    _, cache = rnn.rnn_forward(X, params, H_0=H_0)
    C = gr.bptt_contributions(dH, cache, "W_hh")
    assert C.shape == (5, 5)
    assert np.all(np.triu(C, 1) == 0) and np.all(np.diag(C) > 0)
    # the diagonal term of loss step s is one step backward of dH[:, s]
    for s in range(5):
        _, _, g = rnn.rnn_step_backward(dH[:, s], cache["steps"][s])
        assert C[s, s] == pytest.approx(np.linalg.norm(g["W_hh"]))
    # the terms of loss step s sum (as matrices) to the gradient of that loss term alone
    only = np.zeros_like(dH)
    only[:, 4] = dH[:, 4]
    _, _, g_full = rnn.rnn_backward(only, cache)
    assert np.linalg.norm(g_full["W_hh"]) <= C[4].sum() + 1e-12
    with pytest.raises(ValueError, match="param"):
        gr.bptt_contributions(dH, cache, "W_hy")
