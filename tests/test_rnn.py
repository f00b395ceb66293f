"""course_lib.rnn: forward equals torch.nn.RNN / nn.RNNCell, BPTT equals autograd and finite differences."""

import copy

import numpy as np
import pytest
import torch

from course_lib.convert import rnn_params_from_torch, rnn_params_to_torch
from course_lib.gradcheck import assert_gradients_match
from course_lib.rnn import init_rnn_params, rnn_backward, rnn_forward, rnn_step, rnn_step_backward

# (n, T, d, h, seed): includes batch 1 and T = 1
SIZES = [(1, 1, 1, 1, 0), (1, 5, 3, 4, 1), (3, 1, 2, 5, 2), (4, 6, 5, 3, 3), (2, 7, 4, 8, 4)]
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}


def _random_params(d, h, rng, dtype=np.float64):
    p = init_rnn_params(d, h, rng=rng, scale=0.7, dtype=dtype)
    p["b_h"] = rng.normal(0, 0.5, h).astype(dtype)
    return p


# ----------------------------------------------------------------------------------------------------------
# forward vs PyTorch
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n,T,d,h,seed", SIZES)
def test_forward_equals_torch_rnn(n, T, d, h, seed, activation, dtype):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module = torch.nn.RNN(d, h, nonlinearity=activation, batch_first=True, dtype=dtype)  # two random biases
    params = rnn_params_from_torch(module)
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    assert params["W_xh"].dtype == np_dtype
    X = rng.normal(size=(n, T, d)).astype(np_dtype)
    H_0 = rng.normal(size=(n, h)).astype(np_dtype)
    H, _ = rnn_forward(X, params, H_0, activation=activation)
    out, h_T = module(torch.from_numpy(X), torch.from_numpy(H_0)[None])
    assert H.shape == (n, T, h) and H.dtype == np_dtype
    np.testing.assert_allclose(H, out.detach().numpy(), rtol=0, atol=TOL[dtype])
    np.testing.assert_allclose(H[:, -1], h_T[0].detach().numpy(), rtol=0, atol=TOL[dtype])


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n,T,d,h,seed", SIZES[:3])
def test_params_to_torch_then_forward(n, T, d, h, seed, activation):
    rng = np.random.default_rng(seed)
    params = _random_params(d, h, rng)
    module = torch.nn.RNN(d, h, nonlinearity=activation, batch_first=True).double()
    module = rnn_params_to_torch(params, module)
    assert torch.all(module.bias_hh_l0 == 0)
    X = rng.normal(size=(n, T, d))
    H, _ = rnn_forward(X, params, activation=activation)
    np.testing.assert_allclose(H, module(torch.from_numpy(X))[0].detach().numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n,d,h,seed", [(1, 1, 1, 0), (5, 3, 4, 1), (2, 6, 2, 2)])
def test_step_equals_torch_rnncell(n, d, h, seed, activation, dtype):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cell = torch.nn.RNNCell(d, h, nonlinearity=activation, dtype=dtype)
    params = rnn_params_from_torch(cell)
    np_dtype = params["W_xh"].dtype
    X_t = rng.normal(size=(n, d)).astype(np_dtype)
    H_prev = rng.normal(size=(n, h)).astype(np_dtype)
    H_t, cache = rnn_step(X_t, H_prev, params, activation=activation)
    expected = cell(torch.from_numpy(X_t), torch.from_numpy(H_prev)).detach().numpy()
    np.testing.assert_allclose(H_t, expected, rtol=0, atol=TOL[dtype])
    assert set(cache) >= {"X_t", "H_prev", "A_t", "H_t"}


def test_step_default_state_is_zero():
    rng = np.random.default_rng(0)
    params = _random_params(3, 4, rng)
    X_t = rng.normal(size=(2, 3))
    H_t = rnn_step(X_t, None, params)[0]
    np.testing.assert_array_equal(H_t, rnn_step(X_t, np.zeros((2, 4)), params)[0])
    np.testing.assert_array_equal(H_t, np.tanh(X_t @ params["W_xh"] + params["b_h"]))


def test_init_shapes_and_seed():
    p = init_rnn_params(3, 5, rng=0)
    assert {k: v.shape for k, v in p.items()} == {"W_xh": (3, 5), "W_hh": (5, 5), "b_h": (5,)}
    assert all(v.dtype == np.float64 for v in p.values())
    assert np.all(np.abs(p["W_xh"]) <= 1 / np.sqrt(5)) and np.all(p["b_h"] == 0)
    q = init_rnn_params(3, 5, rng=0)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert init_rnn_params(2, 2, dtype=np.float32)["W_hh"].dtype == np.float32


# ----------------------------------------------------------------------------------------------------------
# backward vs autograd and finite differences
# ----------------------------------------------------------------------------------------------------------
def _torch_grads_as_params(module):
    """The gradients of an nn.RNN/RNNCell in the course layout (uses the converter on a grad-filled copy)."""
    g = copy.deepcopy(module)
    with torch.no_grad():
        for name, p in g.named_parameters():
            p.copy_(dict(module.named_parameters())[name].grad)
        for name, p in g.named_parameters():
            if name.startswith("bias_hh"):
                p.zero_()  # d loss / d b_h = grad of bias_ih (= grad of bias_hh); count it once
    return rnn_params_from_torch(g)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n,T,d,h,seed", SIZES)
def test_backward_equals_autograd(n, T, d, h, seed, activation):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module = torch.nn.RNN(d, h, nonlinearity=activation, batch_first=True, dtype=torch.float64)
    params = rnn_params_from_torch(module)
    X, H_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h))
    G, G_T = rng.normal(size=(n, T, h)), rng.normal(size=(n, h))

    H, cache = rnn_forward(X, params, H_0, activation=activation)
    dX, dH_0, grads = rnn_backward(G, cache, dH_T=G_T)

    Xt = torch.tensor(X, requires_grad=True)
    H0t = torch.tensor(H_0[None], requires_grad=True)
    out, hT = module(Xt, H0t)
    ((out * torch.from_numpy(G)).sum() + (hT[0] * torch.from_numpy(G_T)).sum()).backward()
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(dH_0, H0t.grad[0].numpy(), rtol=0, atol=1e-8)
    expected = _torch_grads_as_params(module)
    assert set(grads) == set(expected)
    for k in grads:
        np.testing.assert_allclose(grads[k], expected[k], rtol=0, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("n,d,h,seed", [(1, 1, 1, 0), (4, 3, 5, 1)])
def test_step_backward_equals_rnncell_autograd(n, d, h, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cell = torch.nn.RNNCell(d, h, dtype=torch.float64)
    params = rnn_params_from_torch(cell)
    X_t, H_prev, G = rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    _, cache = rnn_step(X_t, H_prev, params)
    dX, dH_prev, grads = rnn_step_backward(G, cache)
    Xt, Ht = torch.tensor(X_t, requires_grad=True), torch.tensor(H_prev, requires_grad=True)
    (cell(Xt, Ht) * torch.from_numpy(G)).sum().backward()
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(dH_prev, Ht.grad.numpy(), rtol=0, atol=1e-8)
    expected = _torch_grads_as_params(cell)
    for k in grads:
        np.testing.assert_allclose(grads[k], expected[k], rtol=0, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("n,T,d,h,seed", [(1, 1, 2, 3, 0), (3, 5, 4, 3, 1)])
def test_backward_finite_differences(n, T, d, h, seed, activation):
    rng = np.random.default_rng(seed)
    params = _random_params(d, h, rng)
    X, H_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h))
    G, G_T = rng.normal(size=(n, T, h)), rng.normal(size=(n, h))

    def loss():
        H, _ = rnn_forward(X, params, H_0, activation=activation)
        return float((H * G).sum() + (H[:, -1] * G_T).sum())

    _, cache = rnn_forward(X, params, H_0, activation=activation)
    dX, dH_0, grads = rnn_backward(G, cache, dH_T=G_T)
    assert_gradients_match(loss, {**params, "X": X, "H_0": H_0}, {**grads, "X": dX, "H_0": dH_0},
                           rng, n_coords=3)


def test_backward_without_dH_uses_only_dH_T():
    rng = np.random.default_rng(0)
    params = _random_params(2, 3, rng)
    X = rng.normal(size=(2, 4, 2))
    G_T = rng.normal(size=(2, 3))
    _, cache = rnn_forward(X, params)
    G = np.zeros((2, 4, 3))
    G[:, -1] = G_T
    a, b = rnn_backward(None, cache, dH_T=G_T), rnn_backward(G, cache)
    np.testing.assert_allclose(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1])
    for k in params:
        np.testing.assert_allclose(a[2][k], b[2][k])


# ----------------------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def good():
    rng = np.random.default_rng(0)
    return _random_params(3, 4, rng), rng.normal(size=(2, 5, 3))


def test_wrong_rank_names_argument(good):
    params, X = good
    with pytest.raises(ValueError, match=r"X must have 3 dimensions \(n, T, d\); got 2 .* \(5, 3\)"):
        rnn_forward(X[0], params)
    with pytest.raises(ValueError, match=r"X_t must have 2 dimensions"):
        rnn_step(X, None, params)


def test_mismatched_sizes(good):
    params, X = good
    with pytest.raises(ValueError, match=r"X has shape \(2, 5, 2\); expected \(\*, \*, 3\)"):
        rnn_forward(X[:, :, :2], params)
    with pytest.raises(ValueError, match=r"H_0 has shape \(3, 4\); expected \(2, 4\) = \(n, h\)"):
        rnn_forward(X, params, H_0=np.zeros((3, 4)))
    bad = dict(params, W_hh=np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"params\['W_hh'\] has shape \(4, 5\); expected \(4, 4\)"):
        rnn_forward(X, bad)
    with pytest.raises(ValueError, match=r"params\['b_h'\] has shape \(3,\); expected \(4,\)"):
        rnn_forward(X, dict(params, b_h=np.zeros(3)))
    _, cache = rnn_forward(X, params)
    with pytest.raises(ValueError, match=r"dH has shape \(2, 4, 4\); expected \(2, 5, 4\)"):
        rnn_backward(np.zeros((2, 4, 4)), cache)


def test_integer_input_is_type_error(good):
    params, X = good
    with pytest.raises(TypeError, match=r"X must be a floating-point array.*got dtype int64"):
        rnn_forward(X.astype(np.int64), params)
    with pytest.raises(TypeError, match=r"params\['W_xh'\].*int"):
        rnn_forward(X, dict(params, W_xh=np.ones((3, 4), dtype=int)))
    with pytest.raises(TypeError, match=r"H_0 .*bool"):
        rnn_forward(X, params, H_0=np.zeros((2, 4), dtype=bool))


def test_empty_sequence(good):
    params, X = good
    with pytest.raises(ValueError, match=r"X has shape \(2, 0, 3\).*T = 0"):
        rnn_forward(X[:, :0], params)


def test_missing_param_key(good):
    params, X = good
    with pytest.raises(ValueError, match=r"params is missing key \['b_h'\]"):
        rnn_forward(X, {k: v for k, v in params.items() if k != "b_h"})
    with pytest.raises(TypeError, match="params must be a dict"):
        rnn_forward(X, [params["W_xh"]])


def test_bad_activation(good):
    params, X = good
    with pytest.raises(ValueError, match=r"activation must be one of \['tanh', 'relu'\].*'sigmoid'"):
        rnn_forward(X, params, activation="sigmoid")
    with pytest.raises(ValueError, match="unknown activation 'tan'"):
        rnn_forward(X, params, activation="tan")


def test_bad_sizes_in_init():
    with pytest.raises(ValueError, match="h must be a positive int; got 0"):
        init_rnn_params(3, 0)
    with pytest.raises(TypeError, match="d must be a positive int; got float"):
        init_rnn_params(3.0, 2)


def test_backward_needs_the_forward_cache(good):
    params, X = good
    H, cache = rnn_forward(X, params)
    with pytest.raises(TypeError, match="cache must be the dict returned by rnn_forward"):
        rnn_backward(np.ones_like(H), cache["steps"][0])
    with pytest.raises(TypeError, match="cache must be the dict returned by rnn_step; got tuple"):
        rnn_step_backward(np.ones((2, 4)), (H, cache))
