"""course_lib.lstm: the standard cell equals torch.nn.LSTM / nn.LSTMCell; every variant's BPTT equals
autograd (of nn.LSTM, or of an independent torch re-implementation of the equations) and finite differences.
"""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.convert import lstm_params_from_torch, lstm_params_to_torch
from course_lib.gradcheck import assert_gradients_match
from course_lib.lstm import (
    LSTMConfig,
    init_lstm_params,
    lstm_backward,
    lstm_forward,
    lstm_gates,
    lstm_param_names,
    lstm_step,
    lstm_step_backward,
)

SIZES = [(1, 1, 1, 1, 0), (1, 5, 3, 4, 1), (3, 1, 2, 5, 2), (4, 6, 5, 3, 3), (2, 7, 4, 8, 4)]
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}

VARIANTS = {
    "standard": LSTMConfig(),
    "no_forget_gate_1997": LSTMConfig(forget_gate=False),
    "peepholes": LSTMConfig(peepholes=True),
    "cifg": LSTMConfig(cifg=True),
    "cifg_peepholes": LSTMConfig(cifg=True, peepholes=True),
    "no_forget_peepholes": LSTMConfig(forget_gate=False, peepholes=True),
    "hard_sigmoid_keras_gates": LSTMConfig(gate_activation="hard_sigmoid_keras"),
    "hard_sigmoid_torch_gates_peepholes": LSTMConfig(gate_activation="hard_sigmoid_torch", peepholes=True),
    "bipolar_gates_linear_output": LSTMConfig(gate_activation="bipolar_sigmoid", output_activation="linear"),
    "relu_candidate": LSTMConfig(candidate_activation="relu", output_activation="relu"),
}

TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "hard_sigmoid_keras": lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0),
    # relu6(x + 3) / 6 written out: F.hardsigmoid's backward multiplies by 1/6 rounded to float32 even in
    # float64 (relative error 3e-8), which would fail a 1e-8 comparison for the wrong reason
    "hard_sigmoid_torch": lambda x: F.relu6(x + 3.0) / 6.0,
    "bipolar_sigmoid": lambda x: 2 * torch.sigmoid(x) - 1,
    "linear": lambda x: x,
}


def _random_params(d, h, config, rng, dtype=np.float64):
    p = init_lstm_params(d, h, config, rng=rng, scale=0.7, dtype=dtype)
    for k in p:
        if k.startswith("b_"):
            p[k] = rng.normal(0, 0.5, h).astype(dtype)
    return p


def torch_lstm_reference(X, params, H_0, C_0, config):
    """LSTM straight from the equations, in torch (autograd-able). X (n, T, d), params: dict of tensors."""
    sig, g, phi = (TORCH_ACT[a] for a in (config.gate_activation, config.candidate_activation,
                                          config.output_activation))
    H, C, outs, cells = H_0, C_0, [], []
    for t in range(X.shape[1]):
        x = X[:, t]

        def aff(k, x=x, H=H):
            return x @ params[f"W_x{k}"] + H @ params[f"W_h{k}"] + params[f"b_{k}"]

        if config.forget_gate:
            Fg = sig(aff("f") + (params["p_f"] * C if config.peepholes else 0))
        if config.cifg:
            Ig = 1 - Fg
        else:
            Ig = sig(aff("i") + (params["p_i"] * C if config.peepholes else 0))
        C_tilde = g(aff("c"))
        C = (Fg * C if config.forget_gate else C) + Ig * C_tilde
        Og = sig(aff("o") + (params["p_o"] * C if config.peepholes else 0))
        H = Og * phi(C)
        outs.append(H)
        cells.append(C)
    return torch.stack(outs, 1), torch.stack(cells, 1)


# ----------------------------------------------------------------------------------------------------------
# config and init
# ----------------------------------------------------------------------------------------------------------
def test_param_names_per_variant():
    assert len(lstm_param_names(LSTMConfig())) == 12
    extra = set(lstm_param_names(LSTMConfig(peepholes=True))) - set(lstm_param_names())
    assert extra == {"p_i", "p_f", "p_o"}
    assert lstm_gates(LSTMConfig(cifg=True)) == ("f", "o", "c")
    assert lstm_gates(LSTMConfig(forget_gate=False)) == ("i", "o", "c")
    assert "p_i" not in lstm_param_names(LSTMConfig(cifg=True, peepholes=True))
    assert "p_f" not in lstm_param_names(LSTMConfig(forget_gate=False, peepholes=True))


def test_config_rejects_contradictions_and_unknown_activations():
    with pytest.raises(ValueError, match="cifg=True, forget_gate=False"):
        LSTMConfig(cifg=True, forget_gate=False)
    with pytest.raises(ValueError, match=r"gate_activation must be one of .*got 'sigmod'"):
        LSTMConfig(gate_activation="sigmod")
    with pytest.raises(TypeError, match="peepholes must be True or False"):
        LSTMConfig(peepholes="yes")


@pytest.mark.parametrize("name", list(VARIANTS))
def test_init_shapes(name):
    config = VARIANTS[name]
    p = init_lstm_params(3, 5, config, rng=0, forget_bias=1.0 if config.forget_gate else 0.0)
    assert tuple(p) == lstm_param_names(config)
    for k, v in p.items():
        expected = {"W_x": (3, 5), "W_h": (5, 5)}.get(k[:3], (5,))
        assert v.shape == expected and v.dtype == np.float64
    if config.forget_gate:
        assert np.all(p["b_f"] == 1.0)
        assert all(np.all(p[f"b_{g}"] == 0) for g in lstm_gates(config) if g != "f")


def test_forget_bias_without_forget_gate_is_an_error():
    with pytest.raises(ValueError, match="forget_bias=1.0 but config has no forget gate"):
        init_lstm_params(2, 3, LSTMConfig(forget_gate=False), forget_bias=1.0)


# ----------------------------------------------------------------------------------------------------------
# forward vs PyTorch
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n,T,d,h,seed", SIZES)
def test_forward_equals_torch_lstm(n, T, d, h, seed, dtype):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module = torch.nn.LSTM(d, h, batch_first=True, dtype=dtype)
    params = lstm_params_from_torch(module)
    np_dtype = params["W_xi"].dtype
    X = rng.normal(size=(n, T, d)).astype(np_dtype)
    H_0, C_0 = rng.normal(size=(n, h)).astype(np_dtype), rng.normal(size=(n, h)).astype(np_dtype)
    H, C, _ = lstm_forward(X, params, H_0, C_0)
    out, (h_T, c_T) = module(torch.from_numpy(X), (torch.from_numpy(H_0)[None], torch.from_numpy(C_0)[None]))
    assert H.shape == C.shape == (n, T, h) and H.dtype == np_dtype
    np.testing.assert_allclose(H, out.detach().numpy(), rtol=0, atol=TOL[dtype])
    np.testing.assert_allclose(H[:, -1], h_T[0].detach().numpy(), rtol=0, atol=TOL[dtype])
    np.testing.assert_allclose(C[:, -1], c_T[0].detach().numpy(), rtol=0, atol=TOL[dtype])


@pytest.mark.parametrize("n,T,d,h,seed", SIZES[:3])
def test_params_to_torch_then_forward(n, T, d, h, seed):
    rng = np.random.default_rng(seed)
    params = _random_params(d, h, LSTMConfig(), rng)
    module = lstm_params_to_torch(params, torch.nn.LSTM(d, h, batch_first=True).double())
    assert torch.all(module.bias_hh_l0 == 0)
    X = rng.normal(size=(n, T, d))
    H, _, _ = lstm_forward(X, params)
    np.testing.assert_allclose(H, module(torch.from_numpy(X))[0].detach().numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n,d,h,seed", [(1, 1, 1, 0), (5, 3, 4, 1), (2, 6, 2, 2)])
def test_step_equals_torch_lstmcell(n, d, h, seed, dtype):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cell = torch.nn.LSTMCell(d, h, dtype=dtype)
    params = lstm_params_from_torch(cell)
    np_dtype = params["W_xi"].dtype
    X_t, H_prev, C_prev = (rng.normal(size=s).astype(np_dtype) for s in [(n, d), (n, h), (n, h)])
    H_t, C_t, cache = lstm_step(X_t, H_prev, C_prev, params)
    h_ref, c_ref = cell(torch.from_numpy(X_t), (torch.from_numpy(H_prev), torch.from_numpy(C_prev)))
    np.testing.assert_allclose(H_t, h_ref.detach().numpy(), rtol=0, atol=TOL[dtype])
    np.testing.assert_allclose(C_t, c_ref.detach().numpy(), rtol=0, atol=TOL[dtype])
    for key in ("I_t", "F_t", "O_t", "C_tilde", "C_t", "H_t"):
        assert cache[key].shape == (n, h)
    np.testing.assert_allclose(cache["C_t"], cache["F_t"] * C_prev + cache["I_t"] * cache["C_tilde"])


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("n,T,d,h,seed", [SIZES[0], SIZES[3]])
def test_variant_forward_equals_torch_reference(name, n, T, d, h, seed):
    config = VARIANTS[name]
    rng = np.random.default_rng(seed)
    params = _random_params(d, h, config, rng)
    X, H_0, C_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    H, C, _ = lstm_forward(X, params, H_0, C_0, config)
    tp = {k: torch.from_numpy(v) for k, v in params.items()}
    H_ref, C_ref = torch_lstm_reference(torch.from_numpy(X), tp, torch.from_numpy(H_0), torch.from_numpy(C_0),
                                        config)
    np.testing.assert_allclose(H, H_ref.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(C, C_ref.numpy(), rtol=0, atol=1e-12)


def test_special_cases_of_the_equations():
    rng = np.random.default_rng(5)
    X_t, H_prev, C_prev = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    # 1997 LSTM: the cell only accumulates; F_t is reported as ones
    config = LSTMConfig(forget_gate=False)
    p = _random_params(3, 4, config, rng)
    _, C_t, cache = lstm_step(X_t, H_prev, C_prev, p, config)
    np.testing.assert_allclose(C_t, C_prev + cache["I_t"] * cache["C_tilde"])
    assert np.all(cache["F_t"] == 1) and cache["A_f"] is None
    # CIFG: the input gate is 1 - F_t
    config = LSTMConfig(cifg=True)
    p = _random_params(3, 4, config, rng)
    _, _, cache = lstm_step(X_t, H_prev, C_prev, p, config)
    np.testing.assert_allclose(cache["I_t"], 1 - cache["F_t"])
    # peepholes: the output gate sees the new cell C_t
    config = LSTMConfig(peepholes=True)
    p = _random_params(3, 4, config, rng)
    _, C_t, cache = lstm_step(X_t, H_prev, C_prev, p, config)
    A_o = X_t @ p["W_xo"] + H_prev @ p["W_ho"] + p["b_o"] + p["p_o"] * C_t
    np.testing.assert_allclose(cache["O_t"], 1 / (1 + np.exp(-A_o)))


# ----------------------------------------------------------------------------------------------------------
# backward vs autograd and finite differences
# ----------------------------------------------------------------------------------------------------------
def _torch_grads_as_params(module):
    g = copy.deepcopy(module)
    with torch.no_grad():
        for name, p in g.named_parameters():
            p.copy_(dict(module.named_parameters())[name].grad)
            if name.startswith("bias_hh"):
                p.zero_()  # grad of b_? = grad of bias_ih (= grad of bias_hh): count once
    return lstm_params_from_torch(g)


@pytest.mark.parametrize("n,T,d,h,seed", SIZES)
def test_backward_equals_torch_lstm_autograd(n, T, d, h, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module = torch.nn.LSTM(d, h, batch_first=True, dtype=torch.float64)
    params = lstm_params_from_torch(module)
    X, H_0, C_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    G, G_H, G_C = rng.normal(size=(n, T, h)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    _, _, cache = lstm_forward(X, params, H_0, C_0)
    dX, dH_0, dC_0, grads = lstm_backward(G, cache, dH_T=G_H, dC_T=G_C)

    Xt = torch.tensor(X, requires_grad=True)
    H0t, C0t = torch.tensor(H_0[None], requires_grad=True), torch.tensor(C_0[None], requires_grad=True)
    out, (hT, cT) = module(Xt, (H0t, C0t))
    loss = (out * torch.from_numpy(G)).sum() + (hT[0] * torch.from_numpy(G_H)).sum()
    (loss + (cT[0] * torch.from_numpy(G_C)).sum()).backward()
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(dH_0, H0t.grad[0].numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(dC_0, C0t.grad[0].numpy(), rtol=0, atol=1e-8)
    expected = _torch_grads_as_params(module)
    assert set(grads) == set(expected)
    for k in grads:
        np.testing.assert_allclose(grads[k], expected[k], rtol=0, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("n,d,h,seed", [(1, 1, 1, 0), (4, 3, 5, 1)])
def test_step_backward_equals_lstmcell_autograd(n, d, h, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cell = torch.nn.LSTMCell(d, h, dtype=torch.float64)
    params = lstm_params_from_torch(cell)
    X_t, H_prev, C_prev = rng.normal(size=(n, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    G_H, G_C = rng.normal(size=(n, h)), rng.normal(size=(n, h))
    _, _, cache = lstm_step(X_t, H_prev, C_prev, params)
    dX, dH_prev, dC_prev, grads = lstm_step_backward(G_H, G_C, cache)
    leaves = [torch.tensor(a, requires_grad=True) for a in (X_t, H_prev, C_prev)]
    h_t, c_t = cell(leaves[0], (leaves[1], leaves[2]))
    ((h_t * torch.from_numpy(G_H)).sum() + (c_t * torch.from_numpy(G_C)).sum()).backward()
    for ours, leaf in zip((dX, dH_prev, dC_prev), leaves):
        np.testing.assert_allclose(ours, leaf.grad.numpy(), rtol=0, atol=1e-8)
    expected = _torch_grads_as_params(cell)
    for k in grads:
        np.testing.assert_allclose(grads[k], expected[k], rtol=0, atol=1e-8, err_msg=k)


def _reference_grads(X, params, H_0, C_0, G, G_H, G_C, config):
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in
              {**params, "X": X, "H_0": H_0, "C_0": C_0}.items()}
    H, C = torch_lstm_reference(leaves["X"], leaves, leaves["H_0"], leaves["C_0"], config)
    loss = (H * torch.from_numpy(G)).sum() + (H[:, -1] * torch.from_numpy(G_H)).sum()
    (loss + (C[:, -1] * torch.from_numpy(G_C)).sum()).backward()
    return {k: v.grad.numpy() for k, v in leaves.items()}


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("n,T,d,h,seed", [SIZES[0], SIZES[2], SIZES[4]])
def test_variant_backward_equals_reference_autograd(name, n, T, d, h, seed):
    config = VARIANTS[name]
    rng = np.random.default_rng(seed)
    params = _random_params(d, h, config, rng)
    X, H_0, C_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    G, G_H, G_C = rng.normal(size=(n, T, h)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    _, _, cache = lstm_forward(X, params, H_0, C_0, config)
    dX, dH_0, dC_0, grads = lstm_backward(G, cache, dH_T=G_H, dC_T=G_C)
    assert tuple(grads) == lstm_param_names(config)
    ref = _reference_grads(X, params, H_0, C_0, G, G_H, G_C, config)
    ours = {**grads, "X": dX, "H_0": dH_0, "C_0": dC_0}
    for k in ref:
        np.testing.assert_allclose(ours[k], ref[k], rtol=0, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_step_backward_equals_reference_autograd(name):
    config = VARIANTS[name]
    rng = np.random.default_rng(11)
    n, d, h = 3, 2, 4
    params = _random_params(d, h, config, rng)
    X, H_0, C_0 = rng.normal(size=(n, 1, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    G_H, G_C = rng.normal(size=(n, h)), rng.normal(size=(n, h))
    _, _, cache = lstm_step(X[:, 0], H_0, C_0, params, config)
    dX, dH_prev, dC_prev, grads = lstm_step_backward(G_H, G_C, cache)
    ref = _reference_grads(X, params, H_0, C_0, np.zeros((n, 1, h)), G_H, G_C, config)
    ours = {**grads, "X": dX[:, None], "H_0": dH_prev, "C_0": dC_prev}
    for k in ref:
        np.testing.assert_allclose(ours[k], ref[k], rtol=0, atol=1e-8, err_msg=k)


@pytest.mark.parametrize("name", list(VARIANTS))
def test_backward_finite_differences(name):
    config = VARIANTS[name]
    rng = np.random.default_rng(7)
    n, T, d, h = 2, 4, 3, 3
    params = _random_params(d, h, config, rng)
    X, H_0, C_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    G, G_H, G_C = rng.normal(size=(n, T, h)), rng.normal(size=(n, h)), rng.normal(size=(n, h))

    def loss():
        H, C, _ = lstm_forward(X, params, H_0, C_0, config)
        return float((H * G).sum() + (H[:, -1] * G_H).sum() + (C[:, -1] * G_C).sum())

    _, _, cache = lstm_forward(X, params, H_0, C_0, config)
    dX, dH_0, dC_0, grads = lstm_backward(G, cache, dH_T=G_H, dC_T=G_C)
    assert_gradients_match(loss, {**params, "X": X, "H_0": H_0, "C_0": C_0},
                           {**grads, "X": dX, "H_0": dH_0, "C_0": dC_0}, rng, n_coords=2)


# ----------------------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def good():
    rng = np.random.default_rng(0)
    return _random_params(3, 4, LSTMConfig(), rng), rng.normal(size=(2, 5, 3))


def test_wrong_rank(good):
    params, X = good
    with pytest.raises(ValueError, match=r"X must have 3 dimensions \(n, T, d\); got 2 dimensions"):
        lstm_forward(X[:, 0], params)
    with pytest.raises(ValueError, match=r"C_prev must have 2 dimensions"):
        lstm_step(X[:, 0], None, np.zeros(4), params)


def test_mismatched_sizes(good):
    params, X = good
    with pytest.raises(ValueError, match=r"X has shape \(2, 5, 4\); expected \(\*, \*, 3\)"):
        lstm_forward(np.zeros((2, 5, 4)), params)
    with pytest.raises(ValueError, match=r"C_0 has shape \(2, 3\); expected \(2, 4\) = \(n, h\)"):
        lstm_forward(X, params, C_0=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"params\['W_ho'\] has shape \(4, 3\); expected \(4, 4\)"):
        lstm_forward(X, dict(params, W_ho=np.zeros((4, 3))))
    _, _, cache = lstm_forward(X, params)
    with pytest.raises(ValueError, match=r"dC_T has shape \(4,\); expected \(2, 4\)"):
        lstm_backward(None, cache, dC_T=np.zeros(4))


def test_integer_input_is_type_error(good):
    params, X = good
    with pytest.raises(TypeError, match=r"X must be a floating-point array.*got dtype int"):
        lstm_forward(np.ones((2, 5, 3), dtype=np.int32), params)
    with pytest.raises(TypeError, match=r"params\['b_f'\].*got dtype int64"):
        lstm_forward(X, dict(params, b_f=np.ones(4, dtype=np.int64)))


def test_empty_sequence(good):
    params, X = good
    with pytest.raises(ValueError, match=r"T = 0"):
        lstm_forward(X[:, :0], params)


def test_params_must_match_config(good):
    params, X = good
    with pytest.raises(ValueError, match=r"params is missing keys \['p_i', 'p_f', 'p_o'\]"):
        lstm_forward(X, params, config=LSTMConfig(peepholes=True))
    with pytest.raises(ValueError, match=r"unexpected keys \['W_hi', 'W_xi', 'b_i'\]"):
        lstm_forward(X, params, config=LSTMConfig(cifg=True))
    with pytest.raises(ValueError, match=r"missing key \['W_xc'\]"):
        lstm_forward(X, {k: v for k, v in params.items() if k != "W_xc"})
    with pytest.raises(TypeError, match="config must be an LSTMConfig"):
        lstm_forward(X, params, config={"peepholes": True})


def test_backward_needs_the_forward_cache(good):
    params, X = good
    H, C, cache = lstm_forward(X, params)
    with pytest.raises(TypeError, match="cache must be the dict returned by lstm_forward"):
        lstm_backward(np.ones_like(H), cache["steps"][0])
    with pytest.raises(TypeError, match="cache must be the dict returned by lstm_step; got a dict with keys"):
        lstm_step_backward(np.ones((2, 4)), None, {"H_t": H[:, 0]})
    with pytest.raises(ValueError, match=r"dH_t has shape \(2, 3\); expected \(2, 4\)"):
        lstm_step_backward(np.ones((2, 3)), None, cache["steps"][0])
