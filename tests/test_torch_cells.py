"""Tests of the torch layers of course_lib.torch_cells.

* the torch activations are the NumPy ones of course_lib.activations (values and derivatives);
* every layer and variant equals the NumPy reference forward (float64, 1e-10);
* the standard variants equal torch.nn.RNN / LSTM / GRU given converted weights;
* autograd through every layer and variant equals the hand-written NumPy backward passes;
* parameters round-trip through NumPy params dicts; bad input raises a clear error.
"""

import numpy as np
import pytest
import torch

from course_lib.activations import ACTIVATIONS, get_activation
from course_lib.convert import gru_params_from_torch, lstm_params_from_torch, rnn_params_from_torch
from course_lib.gru import GRUConfig, gru_backward, gru_forward, init_gru_params
from course_lib.lstm import LSTMConfig, init_lstm_params, lstm_backward, lstm_forward, lstm_param_names
from course_lib.rnn import init_rnn_params, rnn_backward, rnn_forward
from course_lib.torch_cells import GRULayer, LSTMLayer, RNNLayer, torch_activation

SIZES = [(3, 4, 3, 5), (1, 1, 2, 3)]  # (n, T, d, h)



LSTM_CONFIGS = {
    "standard": LSTMConfig(),
    "peepholes": LSTMConfig(peepholes=True),
    "no-forget-gate": LSTMConfig(forget_gate=False),
    "no-forget-gate-peepholes": LSTMConfig(forget_gate=False, peepholes=True),
    "cifg": LSTMConfig(cifg=True),
    "cifg-peepholes": LSTMConfig(cifg=True, peepholes=True),
    "hard-sigmoid-keras": LSTMConfig(gate_activation="hard_sigmoid_keras"),
    "hard-sigmoid-torch-relu-linear": LSTMConfig(
        gate_activation="hard_sigmoid_torch", candidate_activation="relu", output_activation="linear"
    ),
    "bipolar-gates": LSTMConfig(gate_activation="bipolar_sigmoid", peepholes=True),
}
GRU_CONFIGS = {
    "reset-after": GRUConfig(reset_after=True),
    "reset-before": GRUConfig(reset_after=False),
    "after-hard-sigmoid-keras": GRUConfig(gate_activation="hard_sigmoid_keras"),
    "before-hard-sigmoid-torch-relu": GRUConfig(
        reset_after=False, gate_activation="hard_sigmoid_torch", candidate_activation="relu"
    ),
    "after-bipolar-linear": GRUConfig(gate_activation="bipolar_sigmoid", candidate_activation="linear"),
}


def _with_random_biases(params, rng):
    """init_*_params start biases at zero; give every bias (and peephole) random values."""
    for k in params:
        if k.startswith(("b_", "p_")):
            params[k] = rng.uniform(-0.5, 0.5, size=params[k].shape)
    return params


def _inputs(n, T, d, h, rng):
    return rng.normal(size=(n, T, d)), rng.normal(size=(n, h)), rng.normal(size=(n, T, h))


def _t(a, requires_grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad)


def _max_diff(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())

def _assert_layer_matches_numpy(layer, X, H_0, G, G_T, H, dX, dH_0, grads):
    """The torch layer's outputs equal the NumPy forward ``H``; its autograd gradients for the loss
    sum(H * G) + sum(H_T * G_T) equal the hand-written backward (dX, dH_0, grads), all within 1e-10."""
    X_t, H_0_t = _t(X, True), _t(H_0, True)
    H_seq, H_T = layer(X_t, H_0_t)
    assert _max_diff(H_seq.detach(), H) < 1e-10
    assert _max_diff(H_T.detach(), H[:, -1]) < 1e-10
    ((H_seq * _t(G)).sum() + (H_T * _t(G_T)).sum()).backward()
    assert _max_diff(X_t.grad, dX) < 1e-10 and _max_diff(H_0_t.grad, dH_0) < 1e-10
    for name, p in layer.named_parameters():
        assert _max_diff(p.grad, grads[name]) < 1e-10, name



# ----------------------------------------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_torch_activation_matches_numpy(name):
    x = np.concatenate([np.linspace(-8, 8, 161), [-40.0, -3.0, -2.5, 0.0, 2.5, 3.0, 40.0]])
    act = get_activation(name)
    xt = _t(x, requires_grad=True)
    y = torch_activation(name)(xt)
    assert _max_diff(y.detach().numpy(), act.f(x)) < 1e-15
    y.sum().backward()
    away_from_kinks = np.all(np.abs(x[:, None] - np.array([-3.0, -2.5, 0.0, 2.5, 3.0])) > 1e-9, axis=1)
    assert _max_diff(xt.grad.numpy()[away_from_kinks], act.df(x)[away_from_kinks]) < 1e-15


def test_torch_activation_unknown_name():
    with pytest.raises(ValueError, match="unknown activation"):
        torch_activation("swish")


# ----------------------------------------------------------------------------------------------------------
# RNN
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("size", SIZES)
def test_rnn_layer_matches_numpy_forward_and_backward(size, activation):
    n, T, d, h = size
    rng = np.random.default_rng(sum(size))
    params = _with_random_biases(init_rnn_params(d, h, rng=rng), rng)
    X, H_0, G = _inputs(n, T, d, h, rng)
    G_T = rng.normal(size=(n, h))
    H, cache = rnn_forward(X, params, H_0=H_0, activation=activation)
    dX, dH_0, grads = rnn_backward(G, cache, dH_T=G_T)

    layer = RNNLayer.from_params(params, activation=activation)
    _assert_layer_matches_numpy(layer, X, H_0, G, G_T, H, dX, dH_0, grads)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_layer_matches_nn_rnn(nonlinearity):
    torch.manual_seed(0)
    module = torch.nn.RNN(3, 4, nonlinearity=nonlinearity, batch_first=True, dtype=torch.float64)
    layer = RNNLayer.from_params(rnn_params_from_torch(module), activation=nonlinearity)
    X, H_0 = torch.randn(2, 5, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    with torch.no_grad():
        expected, expected_T = module(X, H_0[None])
        H_seq, H_T = layer(X, H_0)
    assert _max_diff(H_seq, expected) < 1e-10 and _max_diff(H_T, expected_T[0]) < 1e-10


# ----------------------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", list(LSTM_CONFIGS))
def test_lstm_layer_matches_numpy_forward_and_backward(key, size):
    config = LSTM_CONFIGS[key]
    n, T, d, h = size
    rng = np.random.default_rng(sum(size) + len(key))
    params = _with_random_biases(init_lstm_params(d, h, config=config, rng=rng), rng)
    X, H_0, G = _inputs(n, T, d, h, rng)
    C_0, G_H, G_C = (rng.normal(size=(n, h)) for _ in range(3))
    H, C, cache = lstm_forward(X, params, H_0=H_0, C_0=C_0, config=config)
    dX, dH_0, dC_0, grads = lstm_backward(G, cache, dH_T=G_H, dC_T=G_C)

    layer = LSTMLayer.from_params(params, config=config)
    assert [name for name, _ in layer.named_parameters()] == list(lstm_param_names(config))
    X_t, H_0_t, C_0_t = _t(X, True), _t(H_0, True), _t(C_0, True)
    H_seq, (H_T, C_T) = layer(X_t, (H_0_t, C_0_t))
    assert _max_diff(H_seq.detach(), H) < 1e-10
    assert _max_diff(H_T.detach(), H[:, -1]) < 1e-10 and _max_diff(C_T.detach(), C[:, -1]) < 1e-10
    ((H_seq * _t(G)).sum() + (H_T * _t(G_H)).sum() + (C_T * _t(G_C)).sum()).backward()
    assert _max_diff(X_t.grad, dX) < 1e-10
    assert _max_diff(H_0_t.grad, dH_0) < 1e-10 and _max_diff(C_0_t.grad, dC_0) < 1e-10
    for name, p in layer.named_parameters():
        assert _max_diff(p.grad, grads[name]) < 1e-10, name


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_lstm_layer_matches_nn_lstm(dtype, tol):
    torch.manual_seed(1)
    module = torch.nn.LSTM(3, 4, batch_first=True, dtype=dtype)
    layer = LSTMLayer.from_params(lstm_params_from_torch(module))
    assert next(layer.parameters()).dtype == dtype
    X = torch.randn(2, 6, 3, dtype=dtype)
    H_0, C_0 = torch.randn(2, 4, dtype=dtype), torch.randn(2, 4, dtype=dtype)
    with torch.no_grad():
        expected, (expected_H, expected_C) = module(X, (H_0[None], C_0[None]))
        H_seq, (H_T, C_T) = layer(X, (H_0, C_0))
    assert _max_diff(H_seq, expected) < tol
    assert _max_diff(H_T, expected_H[0]) < tol and _max_diff(C_T, expected_C[0]) < tol


def test_lstm_forget_bias_and_default_init():
    torch.manual_seed(0)
    layer = LSTMLayer(3, 4, forget_bias=1.0)
    assert layer.W_xi.dtype == torch.get_default_dtype()
    assert torch.all(layer.b_f == 1.0) and torch.all(layer.b_i == 0.0)
    assert torch.all(layer.W_hf.abs() <= 0.5) and layer.W_hf.abs().max() > 0
    layer = LSTMLayer(3, 4, LSTMConfig(cifg=True, peepholes=True))
    assert sorted(layer.to_params()) == sorted(lstm_param_names(LSTMConfig(cifg=True, peepholes=True)))
    assert not hasattr(layer, "p_i") and layer.p_f.shape == (4,)


# ----------------------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("key", list(GRU_CONFIGS))
def test_gru_layer_matches_numpy_forward_and_backward(key, size):
    config = GRU_CONFIGS[key]
    n, T, d, h = size
    rng = np.random.default_rng(sum(size) + len(key))
    params = _with_random_biases(init_gru_params(d, h, rng=rng), rng)
    X, H_0, G = _inputs(n, T, d, h, rng)
    G_T = rng.normal(size=(n, h))
    H, cache = gru_forward(X, params, H_0=H_0, config=config)
    dX, dH_0, grads = gru_backward(G, cache, dH_T=G_T)

    layer = GRULayer.from_params(params, config=config)
    _assert_layer_matches_numpy(layer, X, H_0, G, G_T, H, dX, dH_0, grads)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("size", SIZES)
def test_gru_layer_matches_nn_gru(size, dtype, tol):
    n, T, d, h = size
    torch.manual_seed(2)
    module = torch.nn.GRU(d, h, batch_first=True, dtype=dtype)
    layer = GRULayer.from_params(gru_params_from_torch(module))
    X, H_0 = torch.randn(n, T, d, dtype=dtype), torch.randn(n, h, dtype=dtype)
    with torch.no_grad():
        expected, expected_T = module(X, H_0[None])
        H_seq, H_T = layer(X, H_0)
        expected_zero_state, _ = module(X)
        H_seq_zero_state, _ = layer(X)
    assert _max_diff(H_seq, expected) < tol and _max_diff(H_T, expected_T[0]) < tol
    assert _max_diff(H_seq_zero_state, expected_zero_state) < tol


def test_gru_autograd_matches_nn_gru_gradients():
    """The same loss through GRULayer and nn.GRU gives the same gradients (mapped to our names)."""
    torch.manual_seed(3)
    module = torch.nn.GRU(3, 4, batch_first=True, dtype=torch.float64)
    layer = GRULayer.from_params(gru_params_from_torch(module))
    X = torch.randn(2, 5, 3, dtype=torch.float64)
    module(X)[0].pow(2).sum().backward()
    layer(X)[0].pow(2).sum().backward()
    grad_module = type(module)(3, 4, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for name, p in module.named_parameters():
            getattr(grad_module, name).copy_(p.grad)
    expected = gru_params_from_torch(grad_module)  # b_r = db_ir + db_hr, the same for z; b_hh_rec = db_hn
    for name, p in layer.named_parameters():
        if name in ("b_r", "b_z"):  # both torch biases receive the full gradient: halve their sum
            assert _max_diff(p.grad, expected[name] / 2) < 1e-10, name
        else:
            assert _max_diff(p.grad, expected[name]) < 1e-10, name


# ----------------------------------------------------------------------------------------------------------
# params round trip, dtypes, training use
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, params",
    [
        (lambda p: RNNLayer.from_params(p, activation="relu"), init_rnn_params(2, 3, rng=0)),
        (
            lambda p: LSTMLayer.from_params(p, config=LSTMConfig(peepholes=True)),
            init_lstm_params(2, 3, config=LSTMConfig(peepholes=True), rng=0, forget_bias=1.0),
        ),
        (
            lambda p: GRULayer.from_params(p, config=GRUConfig(reset_after=False)),
            init_gru_params(2, 3, rng=0),
        ),
    ],
    ids=["rnn", "lstm", "gru"],
)
def test_params_round_trip(make, params):
    layer = make(params)
    out = layer.to_params()
    assert list(out) == list(params)
    for k in params:
        assert isinstance(out[k], np.ndarray) and out[k].dtype == np.float64
        assert np.array_equal(out[k], params[k])
    out[next(iter(out))][...] = 123.0  # a copy: the layer is untouched
    assert not torch.any(next(layer.parameters()) == 123.0)
    layer32 = make({k: v.astype(np.float32) for k, v in params.items()})
    assert all(p.dtype == torch.float32 for p in layer32.parameters())
    H_seq, _ = layer32(torch.zeros(1, 2, 2))
    assert H_seq.shape == (1, 2, 3) and H_seq.dtype == torch.float32


def test_layers_train_in_float32():
    from course_lib.training import SequenceModel

    torch.manual_seed(0)
    for layer in (RNNLayer(2, 4), LSTMLayer(2, 4, LSTMConfig(cifg=True)), GRULayer(2, 4, GRUConfig(False))):
        model = SequenceModel(layer, 4, 1)
        loss = model(torch.randn(3, 5, 2)).pow(2).mean()
        loss.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


# ----------------------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [RNNLayer, LSTMLayer, GRULayer])
def test_bad_input(cls):
    torch.manual_seed(0)
    layer = cls(3, 4)
    X = torch.randn(2, 5, 3)
    with pytest.raises(TypeError, match="torch.Tensor"):
        layer(X.numpy())
    with pytest.raises(TypeError, match="floating-point"):
        layer(torch.ones(2, 5, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"3 dimensions \(n, T, d\).*\(5, 3\)"):
        layer(X[0])
    with pytest.raises(ValueError, match=r"shape \(2, 5, 2\); expected \(n, T, 3\)"):
        layer(X[:, :, :2])
    with pytest.raises(ValueError, match=r"T = 0"):
        layer(X[:, :0])
    with pytest.raises(TypeError, match=r"dtype torch.float64 but the layer's parameters are torch.float32"):
        layer(X.double())
    bad_state = torch.zeros(1, 2, 4)  # nn.RNN's (layers, n, h) layout is not ours
    with pytest.raises((ValueError, TypeError), match=r"\(n, h\)"):
        layer(X, (bad_state, bad_state) if cls is LSTMLayer else bad_state)
    with pytest.raises(TypeError, match="positive int"):
        cls(3.0, 4)
    with pytest.raises(ValueError, match="positive int"):
        cls(3, 0)


def test_bad_configs_and_params():
    with pytest.raises(ValueError, match="'tanh' or 'relu'"):
        RNNLayer(3, 4, activation="sigmoid")
    with pytest.raises(TypeError, match="LSTMConfig"):
        LSTMLayer(3, 4, config=GRUConfig())
    with pytest.raises(TypeError, match="GRUConfig"):
        GRULayer(3, 4, config=LSTMConfig())
    with pytest.raises(TypeError, match=r"state must be a tuple \(H_0, C_0\)"):
        LSTMLayer(3, 4)(torch.randn(2, 5, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match=r"dtype torch.float64; expected torch.float32"):
        GRULayer(3, 4)(torch.randn(2, 5, 3), torch.zeros(2, 4, dtype=torch.float64))
    peephole_params = init_lstm_params(3, 4, config=LSTMConfig(peepholes=True), rng=0)
    with pytest.raises(ValueError, match=r"unexpected keys \['p_f', 'p_i', 'p_o'\]"):
        LSTMLayer.from_params(peephole_params)  # default config has no peepholes
    with pytest.raises(ValueError, match=r"b_hh_rec"):
        GRULayer.from_params({k: v for k, v in init_gru_params(3, 4, rng=0).items() if k != "b_hh_rec"})
    with pytest.raises(TypeError, match=r"params\['W_xh'\]"):
        RNNLayer.from_params({**init_rnn_params(3, 4, rng=0), "W_xh": np.ones((3, 4), dtype=int)})
    layer = GRULayer(3, 4)
    with pytest.raises(ValueError, match=r"params\['W_hh'\] has shape \(3, 3\); expected \(4, 4\)"):
        layer.load_params({**layer.to_params(), "W_hh": np.zeros((3, 3))})
