"""course_lib.lstm_family: every Greff variant against the NumPy LSTM (where an LSTMConfig exists) and against
a small explicit per-gate PyTorch reference written here, values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.lstm import LSTMConfig, init_lstm_params, lstm_backward, lstm_forward
from course_lib.lstm_family import (
    VARIANTS,
    LSTMFamilyLayer,
    cifg_input_from_forget,
    variant_config,
    variant_gates,
    variant_param_names,
    variant_peepholes,
)

N, T, D, H = 3, 7, 4, 5  # distinct sizes


def reference_forward(X, P, variant):
    """The variant's equations written out gate by gate (no fused matrices), in torch, float64.

    X (n, T, d); P: dict of per-gate tensors named as in the book (variant_param_names(variant)).
    """
    n, T_, _ = X.shape
    h = P["W_hc"].shape[0]
    H_t, C_t = X.new_zeros(n, h), X.new_zeros(n, h)
    I_prev = F_prev = O_prev = X.new_zeros(n, h)
    outs = []
    for t in range(T_):
        x = X[:, t]

        def pre(g, C, x=x, H_t=H_t, I_prev=I_prev, F_prev=F_prev, O_prev=O_prev):
            a = x @ P[f"W_x{g}"] + H_t @ P[f"W_h{g}"] + P[f"b_{g}"]
            if f"p_{g}" in P:
                a = a + P[f"p_{g}"] * C
            if variant == "FGR":
                a = a + I_prev @ P[f"R_i{g}"] + F_prev @ P[f"R_f{g}"] + O_prev @ P[f"R_o{g}"]
            return a

        I_t = torch.sigmoid(pre("i", C_t)) if "W_xi" in P else torch.ones_like(C_t)
        if "W_xf" in P:
            F_t = torch.sigmoid(pre("f", C_t))
        elif variant == "CIFG":
            F_t = 1.0 - I_t
        else:
            F_t = torch.ones_like(C_t)
        A_c = x @ P["W_xc"] + H_t @ P["W_hc"] + P["b_c"]
        C_tilde = A_c if variant == "NIAF" else torch.tanh(A_c)
        C_t = F_t * C_t + I_t * C_tilde
        O_t = torch.sigmoid(pre("o", C_t)) if "W_xo" in P else torch.ones_like(C_t)
        H_t = O_t * (C_t if variant == "NOAF" else torch.tanh(C_t))
        I_prev, F_prev, O_prev = I_t, F_t, O_t
        outs.append(H_t)
    return torch.stack(outs, dim=1), C_t


def _random_params(variant, rng, scale=0.5):
    P = {}
    for name in variant_param_names(variant):
        if name.startswith("W_x"):
            shape = (D, H)
        elif name.startswith(("W_h", "R_")):
            shape = (H, H)
        else:
            shape = (H,)
        P[name] = rng.normal(scale=scale, size=shape)
    return P


@pytest.mark.parametrize("variant", VARIANTS)
def test_matches_explicit_reference_values_and_gradients(variant):
    rng = np.random.default_rng(1)
    P = _random_params(variant, rng)
    X = torch.as_tensor(rng.normal(size=(N, T, D)), dtype=torch.float64)
    layer = LSTMFamilyLayer.from_params(P, variant)
    assert layer.W_x.dtype == torch.float64
    H_seq, (H_T, C_T) = layer(X)
    P_ref = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    H_ref, C_ref = reference_forward(X, P_ref, variant)
    torch.testing.assert_close(H_seq, H_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(C_T, C_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(H_T, H_seq[:, -1])
    upstream = torch.as_tensor(rng.normal(size=(N, T, H)))
    (H_seq * upstream).sum().backward()
    (H_ref * upstream).sum().backward()
    grads = {}
    layer_grads = LSTMFamilyLayer.from_params(P, variant)  # map fused grads back to names via to_params
    with torch.no_grad():
        for name in ("W_x", "W_h", "b", "p", "R"):
            if getattr(layer, name) is not None:
                getattr(layer_grads, name).copy_(getattr(layer, name).grad)
    grads = layer_grads.to_params()
    for k in P:
        np.testing.assert_allclose(grads[k], P_ref[k].grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("variant", ["V", "NFG", "NIAF", "NOAF", "NP"])
def test_matches_numpy_lstm_with_the_matching_config(variant):
    config = variant_config(variant)
    rng = np.random.default_rng(2)
    params = init_lstm_params(D, H, config, rng=rng, scale=0.8)
    if config.forget_gate:
        params["b_f"] = rng.normal(size=H)
    X = rng.normal(size=(N, T, D))
    H_np, C_np, cache = lstm_forward(X, params, config=config)
    layer = LSTMFamilyLayer.from_params(params, variant)
    Xt = torch.tensor(X, requires_grad=True)
    H_seq, (_, C_T) = layer(Xt)
    np.testing.assert_allclose(H_seq.detach().numpy(), H_np, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(C_T.detach().numpy(), C_np[:, -1], rtol=1e-12, atol=1e-13)
    # gradients: autograd through the fused layer vs course_lib's hand-written BPTT
    dH = rng.normal(size=(N, T, H))
    (H_seq * torch.as_tensor(dH)).sum().backward()
    dX, _, _, grads = lstm_backward(dH, cache)
    np.testing.assert_allclose(Xt.grad.numpy(), dX, rtol=1e-10, atol=1e-12)
    fused_grad = LSTMFamilyLayer.from_params(params, variant)
    with torch.no_grad():
        for name in ("W_x", "W_h", "b", "p"):
            if getattr(layer, name) is not None:
                getattr(fused_grad, name).copy_(getattr(layer, name).grad)
    named = fused_grad.to_params()
    assert set(named) == set(grads)
    for k in grads:
        np.testing.assert_allclose(named[k], grads[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_cifg_is_course_lib_cifg_with_negated_forget_weights():
    config = LSTMConfig(peepholes=True, cifg=True)
    rng = np.random.default_rng(3)
    params = init_lstm_params(D, H, config, rng=rng, forget_bias=1.0)
    X = rng.normal(size=(N, T, D))
    H_np, _, cache = lstm_forward(X, params, config=config)
    greff = cifg_input_from_forget(params)
    assert set(greff) == set(variant_param_names("CIFG"))
    np.testing.assert_array_equal(greff["b_i"], -params["b_f"])
    layer = LSTMFamilyLayer.from_params(greff, "CIFG")
    H_seq, _ = layer(torch.as_tensor(X))
    np.testing.assert_allclose(H_seq.detach().numpy(), H_np, rtol=1e-12, atol=1e-13)
    # and the gradients are the negated ones (chain rule through the sign flip)
    dH = rng.normal(size=(N, T, H))
    (H_seq * torch.as_tensor(dH)).sum().backward()
    _, _, _, grads = lstm_backward(dH, cache)
    g = LSTMFamilyLayer.from_params(greff, "CIFG")
    with torch.no_grad():
        for name in ("W_x", "W_h", "b", "p"):
            getattr(g, name).copy_(getattr(layer, name).grad)
    named = g.to_params()
    np.testing.assert_allclose(named["W_hi"], -grads["W_hf"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(named["p_i"], -grads["p_f"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(named["W_xc"], grads["W_xc"], rtol=1e-10, atol=1e-12)
    # the conversion is its own inverse
    back = cifg_input_from_forget(greff)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])


def test_gates_peepholes_and_parameter_counts():
    assert variant_gates("V") == ("i", "f", "c", "o")
    assert variant_gates("NIG") == ("f", "c", "o")
    assert variant_gates("NOG") == ("i", "f", "c")
    assert variant_gates("CIFG") == ("i", "c", "o")
    assert variant_peepholes("NP") == ()
    assert variant_peepholes("NOG") == ("i", "f")
    assert variant_peepholes("NFG") == ("i", "o")
    d, h = 3, 6
    base = 4 * (d * h + h * h + h)
    counts = {v: sum(p.numel() for p in LSTMFamilyLayer(d, h, v).parameters()) for v in VARIANTS}
    assert counts["NP"] == base
    assert counts["V"] == counts["NIAF"] == counts["NOAF"] == base + 3 * h
    assert counts["FGR"] == base + 3 * h + 9 * h * h
    assert (
        counts["CIFG"]
        == counts["NIG"]
        == counts["NFG"]
        == counts["NOG"]
        == base - (d * h + h * h + h) + 2 * h
    )
    for v in VARIANTS:
        assert len(LSTMFamilyLayer(d, h, v).to_params()) == len(variant_param_names(v))


def test_init_forget_bias_and_round_trip():
    torch.manual_seed(0)
    layer = LSTMFamilyLayer(2, 4, "V", forget_bias=1.0)
    P = layer.to_params()
    np.testing.assert_array_equal(P["b_f"], np.ones(4, dtype=np.float32))
    np.testing.assert_array_equal(P["b_i"], np.zeros(4, dtype=np.float32))
    assert np.abs(P["W_hc"]).max() <= 0.5
    again = LSTMFamilyLayer.from_params(P, "V")
    X = torch.randn(2, 3, 2)
    torch.testing.assert_close(again(X)[0], layer(X)[0])
    with pytest.raises(ValueError, match="no forget gate"):
        LSTMFamilyLayer(2, 4, "NFG", forget_bias=1.0)


def test_initial_state_is_used():
    rng = np.random.default_rng(4)
    P = _random_params("V", rng)
    layer = LSTMFamilyLayer.from_params(P, "V")
    X = torch.as_tensor(rng.normal(size=(N, T, D)))
    H0, C0 = torch.as_tensor(rng.normal(size=(N, H))), torch.as_tensor(rng.normal(size=(N, H)))
    H_seq, _ = layer(X, (H0, C0))
    params = {k: v for k, v in P.items()}
    H_np, _, _ = lstm_forward(
        X.numpy(), params, H_0=H0.numpy(), C_0=C0.numpy(), config=LSTMConfig(peepholes=True)
    )
    np.testing.assert_allclose(H_seq.detach().numpy(), H_np, rtol=1e-12, atol=1e-13)


def test_bad_input_raises_clear_errors():
    layer = LSTMFamilyLayer(4, 5, "V")
    with pytest.raises(ValueError, match="variant must be one of"):
        LSTMFamilyLayer(4, 5, "LSTM")
    with pytest.raises(ValueError, match=r"expected \(n, T, 4\)"):
        layer(torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match=r"expected \(n, T, 4\)"):
        layer(torch.zeros(3, 4))
    with pytest.raises(TypeError, match="dtype"):
        layer(torch.zeros(2, 3, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match="floating-point torch.Tensor"):
        layer(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"expected \(2, 5\)"):
        layer(torch.zeros(2, 3, 4), (torch.zeros(2, 4), torch.zeros(2, 5)))
    P = layer.to_params()
    with pytest.raises(ValueError, match="p_o"):
        LSTMFamilyLayer.from_params({k: v for k, v in P.items() if k != "p_o"}, "V")
    with pytest.raises(ValueError, match=r"W_hc.*\(5, 5\)"):
        LSTMFamilyLayer.from_params({**P, "W_hc": np.zeros((4, 5))}, "V")
    with pytest.raises(ValueError):
        LSTMFamilyLayer.from_params(P, "NP")  # NP has no peepholes: extra keys


def test_trains_on_float32_and_loss_decreases():
    from course_lib.tasks import adding_problem

    torch.manual_seed(0)
    layer = LSTMFamilyLayer(2, 8, "FGR")
    readout = torch.nn.Linear(8, 1)
    opt = torch.optim.Adam([*layer.parameters(), *readout.parameters()], lr=1e-2)
    X, y = (torch.as_tensor(a) for a in adding_problem(64, 8, rng=0))
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(readout(layer(X)[0][:, -1]), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_experiment_build_model_forget_bias_changes_only_b_f():
    from course_lib.experiments.lstm_family import build_model

    net0, net2 = build_model("V", 2, 5, 3), build_model("V", 2, 5, 3, forget_bias=2.0)
    layers = [next(m for m in net.modules() if isinstance(m, LSTMFamilyLayer)) for net in (net0, net2)]
    p0, p2 = (layer.to_params() for layer in layers)
    assert p0.keys() == p2.keys()
    np.testing.assert_array_equal(p0["b_f"], np.zeros(5))
    np.testing.assert_array_equal(p2["b_f"], np.full(5, 2.0))
    for k in p0:
        if k != "b_f":
            np.testing.assert_array_equal(p0[k], p2[k])  # same seed: the same draw otherwise
    with pytest.raises(ValueError, match="forget_bias"):
        build_model("GRU", 2, 5, 3, forget_bias=1.0)
    with pytest.raises(ValueError, match="forget_bias"):
        build_model("NFG", 2, 5, 3, forget_bias=1.0)
