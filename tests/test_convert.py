"""course_lib.convert: PyTorch and Keras weight layouts, both ways.

PyTorch: round trips, and every NumPy cell (RNN, LSTM, GRU; layers and *Cell modules) equals torch given
converted weights. Keras (not installed here): round trips, and NumPy transcriptions of Keras' own cell
formulas (keras/src/layers/rnn/{simple_rnn,lstm,gru}.py, written independently below) equal course_lib's
cells on weights in Keras' layout.
"""

import numpy as np
import pytest
import torch

from course_lib import convert as cv
from course_lib.gru import GRUConfig, gru_forward, gru_step, init_gru_params
from course_lib.lstm import LSTMConfig, init_lstm_params, lstm_forward
from course_lib.rnn import init_rnn_params, rnn_forward

SIZES = [(1, 1, 1, 1, 0), (1, 5, 3, 4, 1), (3, 1, 2, 5, 2), (4, 6, 5, 3, 3)]
TOL = {torch.float64: 1e-10, torch.float32: 1e-5}
LAYERS = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
CELLS = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
FROM = {"rnn": cv.rnn_params_from_torch, "lstm": cv.lstm_params_from_torch, "gru": cv.gru_params_from_torch}
TO = {"rnn": cv.rnn_params_to_torch, "lstm": cv.lstm_params_to_torch, "gru": cv.gru_params_to_torch}


def _random_params(kind, d, h, rng, **kw):
    init = {"rnn": init_rnn_params, "lstm": init_lstm_params, "gru": init_gru_params}[kind]
    p = init(d, h, rng=rng, **kw)
    for k in p:
        if k.startswith("b_"):
            p[k] = rng.normal(0, 0.5, p[k].shape)
    return p


def _numpy_forward(kind, X, params, H_0=None, C_0=None, gru_config=GRUConfig()):
    if kind == "rnn":
        return rnn_forward(X, params, H_0)[0]
    if kind == "lstm":
        return lstm_forward(X, params, H_0, C_0)[0]
    return gru_forward(X, params, H_0, config=gru_config)[0]


# ----------------------------------------------------------------------------------------------------------
# PyTorch
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n,T,d,h,seed", SIZES)
def test_numpy_layer_equals_torch_layer(kind, n, T, d, h, seed, dtype):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module = LAYERS[kind](d, h, batch_first=True, dtype=dtype)  # default init: both biases non-zero
    params = FROM[kind](module)
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    assert all(v.dtype == np_dtype for v in params.values())
    X, H_0, C_0 = (rng.normal(size=s).astype(np_dtype) for s in [(n, T, d), (n, h), (n, h)])
    H_0t, C_0t = torch.from_numpy(H_0)[None], torch.from_numpy(C_0)[None]
    state = (H_0t, C_0t) if kind == "lstm" else H_0t
    expected = module(torch.from_numpy(X), state)[0].detach().numpy()
    H = _numpy_forward(kind, X, params, H_0, C_0)
    np.testing.assert_allclose(H, expected, rtol=0, atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("n,d,h,seed", [(1, 1, 1, 0), (5, 3, 4, 1), (2, 6, 2, 2)])
def test_numpy_gru_step_equals_grucell(n, d, h, seed, dtype):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cell = torch.nn.GRUCell(d, h, dtype=dtype)
    params = cv.gru_params_from_torch(cell)
    X_t, H_prev = (rng.normal(size=s).astype(params["W_xh"].dtype) for s in [(n, d), (n, h)])
    H_t, _ = gru_step(X_t, H_prev, params)
    expected = cell(torch.from_numpy(X_t), torch.from_numpy(H_prev)).detach().numpy()
    np.testing.assert_allclose(H_t, expected, rtol=0, atol=TOL[dtype])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("container", ["layer", "cell"])
def test_torch_round_trip_and_bias_placement(kind, container):
    rng = np.random.default_rng(0)
    d, h = 3, 4
    params = _random_params(kind, d, h, rng)
    module = (LAYERS if container == "layer" else CELLS)[kind](d, h, dtype=torch.float64)
    assert TO[kind](params, module) is module
    back = FROM[kind](module)
    assert list(back) == list(params)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k], err_msg=k)
    bias_hh = dict(module.named_parameters())["bias_hh" + ("_l0" if container == "layer" else "")]
    bias_hh = bias_hh.detach().numpy()
    if kind == "gru":  # only b_hn, the candidate's recurrent bias, stays in bias_hh
        np.testing.assert_array_equal(bias_hh[: 2 * h], 0)
        np.testing.assert_array_equal(bias_hh[2 * h:], params["b_hh_rec"])
    else:
        np.testing.assert_array_equal(bias_hh, 0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_from_torch_sums_the_two_biases(kind):
    torch.manual_seed(1)
    module = CELLS[kind](2, 3, dtype=torch.float64)
    p = FROM[kind](module)
    b_ih, b_hh = module.bias_ih.detach().numpy(), module.bias_hh.detach().numpy()
    if kind == "rnn":
        np.testing.assert_allclose(p["b_h"], b_ih + b_hh)
    elif kind == "lstm":  # i, f, g, o
        for k, g in enumerate("ifco"):
            np.testing.assert_allclose(p[f"b_{g}"], b_ih[3 * k:3 * k + 3] + b_hh[3 * k:3 * k + 3])
        np.testing.assert_array_equal(p["W_xc"], module.weight_ih.detach().numpy()[6:9].T)
    else:  # r, z, n
        np.testing.assert_allclose(p["b_r"], b_ih[:3] + b_hh[:3])
        np.testing.assert_allclose(p["b_z"], b_ih[3:6] + b_hh[3:6])
        np.testing.assert_array_equal(p["b_h"], b_ih[6:])
        np.testing.assert_array_equal(p["b_hh_rec"], b_hh[6:])
        np.testing.assert_array_equal(p["W_hz"], module.weight_hh.detach().numpy()[3:6].T)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_second_layer_of_a_stack(kind):
    torch.manual_seed(2)
    rng = np.random.default_rng(2)
    module = LAYERS[kind](3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
    X = rng.normal(size=(2, 5, 3))
    H1 = _numpy_forward(kind, X, FROM[kind](module, layer=0))
    H2 = _numpy_forward(kind, H1, FROM[kind](module, layer=1))
    np.testing.assert_allclose(H2, module(torch.from_numpy(X))[0].detach().numpy(), rtol=0, atol=1e-10)
    # and back: a NumPy stack written into a fresh torch stack
    fresh = LAYERS[kind](3, 4, num_layers=2, batch_first=True, dtype=torch.float64)
    for layer in (0, 1):
        TO[kind](FROM[kind](module, layer=layer), fresh, layer=layer)
    np.testing.assert_allclose(fresh(torch.from_numpy(X))[0].detach().numpy(), H2, rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_bias_free_modules(kind):
    module = CELLS[kind](2, 3, bias=False, dtype=torch.float64)
    p = FROM[kind](module)
    assert all(np.all(v == 0) for k, v in p.items() if k.startswith("b_"))
    TO[kind](p, module)  # zero biases fit a bias-free module
    p = _random_params(kind, 2, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="bias=False but the params have non-zero biases"):
        TO[kind](p, module)


def test_torch_conversion_errors():
    rng = np.random.default_rng(0)
    lstm = torch.nn.LSTM(3, 4)
    with pytest.raises(TypeError, match=r"module must be a torch.nn.LSTM or torch.nn.LSTMCell; got GRU"):
        cv.lstm_params_from_torch(torch.nn.GRU(3, 4))
    with pytest.raises(ValueError, match=r"layer must be an int in \[0, 0\].*got 1"):
        cv.lstm_params_from_torch(lstm, layer=1)
    with pytest.raises(ValueError, match="reverse=True needs a bidirectional LSTM"):
        cv.lstm_params_from_torch(lstm, reverse=True)
    with pytest.raises(ValueError, match="proj_size=2"):
        cv.lstm_params_from_torch(torch.nn.LSTM(3, 4, proj_size=2))
    expected = r"weight_ih_l0 the shape \(16, 5\), but module.weight_ih_l0 has shape \(16, 3\)"
    with pytest.raises(ValueError, match=expected):
        cv.lstm_params_to_torch(_random_params("lstm", 5, 4, rng), lstm)
    with pytest.raises(ValueError, match="peephole weights .* torch.nn.LSTM has no peepholes"):
        cv.lstm_params_to_torch(init_lstm_params(3, 4, LSTMConfig(peepholes=True)), lstm)
    with pytest.raises(ValueError, match="no forget gate"):
        cv.lstm_params_to_torch(init_lstm_params(3, 4, LSTMConfig(forget_gate=False)), lstm)
    with pytest.raises(ValueError, match="CIFG"):
        cv.lstm_params_to_torch(init_lstm_params(3, 4, LSTMConfig(cifg=True)), lstm)
    with pytest.raises(ValueError, match=r"params is missing key \['b_h'\]"):
        cv.rnn_params_to_torch({"W_xh": np.zeros((3, 4)), "W_hh": np.zeros((4, 4))}, torch.nn.RNN(3, 4))
    with pytest.raises(TypeError, match=r"params\['W_xh'\] must be a floating-point array"):
        bad = dict(init_rnn_params(3, 4), W_xh=np.zeros((3, 4), dtype=int))
        cv.rnn_params_to_torch(bad, torch.nn.RNN(3, 4))


# ----------------------------------------------------------------------------------------------------------
# Keras: independent NumPy transcriptions of Keras' cells (row-vector layout, kernel (d, G h))
# ----------------------------------------------------------------------------------------------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def keras_simple_rnn(X, kernel, recurrent_kernel, bias, h0):
    """keras SimpleRNNCell: h = tanh(x @ kernel + bias + h_prev @ recurrent_kernel)."""
    h, outs = h0, []
    for t in range(X.shape[1]):
        h = np.tanh(X[:, t] @ kernel + bias + h @ recurrent_kernel)
        outs.append(h)
    return np.stack(outs, 1)


def keras_lstm(X, kernel, recurrent_kernel, bias, h0, c0):
    """keras LSTMCell (implementation 2): z = x K + h U + b, split in 4 = i, f, c, o."""
    h, c, outs = h0, c0, []
    for t in range(X.shape[1]):
        z = X[:, t] @ kernel + h @ recurrent_kernel + bias
        z0, z1, z2, z3 = np.split(z, 4, axis=1)
        i, f, o = _sigmoid(z0), _sigmoid(z1), _sigmoid(z3)
        c = f * c + i * np.tanh(z2)
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs, 1)


def keras_gru(X, kernel, recurrent_kernel, bias, h0, reset_after):
    """keras GRUCell (implementation 2): blocks z, r, h; bias (2, 3h) if reset_after else (3h,)."""
    units = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, None)
    h, outs = h0, []
    for t in range(X.shape[1]):
        x_z, x_r, x_h = np.split(X[:, t] @ kernel + input_bias, 3, axis=-1)
        if reset_after:
            inner = h @ recurrent_kernel + recurrent_bias
        else:
            inner = h @ recurrent_kernel[:, : 2 * units]
        z = _sigmoid(x_z + inner[:, :units])
        r = _sigmoid(x_r + inner[:, units: 2 * units])
        if reset_after:
            rec_h = r * inner[:, 2 * units:]
        else:
            rec_h = (r * h) @ recurrent_kernel[:, 2 * units:]
        hh = np.tanh(x_h + rec_h)
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, 1)


@pytest.mark.parametrize("n,T,d,h,seed", SIZES)
def test_keras_simple_rnn(n, T, d, h, seed):
    rng = np.random.default_rng(seed)
    kernel, rec, bias = rng.normal(0, 0.5, (d, h)), rng.normal(0, 0.5, (h, h)), rng.normal(0, 0.5, h)
    X, h0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h))
    params = cv.rnn_params_from_keras(kernel, rec, bias)
    np.testing.assert_allclose(rnn_forward(X, params, h0)[0], keras_simple_rnn(X, kernel, rec, bias, h0),
                               rtol=0, atol=1e-12)
    for a, b in zip(cv.rnn_params_to_keras(params), (kernel, rec, bias)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("n,T,d,h,seed", SIZES)
def test_keras_lstm(n, T, d, h, seed):
    rng = np.random.default_rng(seed)
    kernel, rec = rng.normal(0, 0.5, (d, 4 * h)), rng.normal(0, 0.5, (h, 4 * h))
    bias = rng.normal(0, 0.5, 4 * h)
    X, h0, c0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    params = cv.lstm_params_from_keras(kernel, rec, bias)
    np.testing.assert_allclose(lstm_forward(X, params, h0, c0)[0], keras_lstm(X, kernel, rec, bias, h0, c0),
                               rtol=0, atol=1e-12)
    back = cv.lstm_params_to_keras(params)
    assert [a.shape for a in back] == [(d, 4 * h), (h, 4 * h), (4 * h,)]
    for a, b in zip(back, (kernel, rec, bias)):
        np.testing.assert_array_equal(a, b)
    # the f slice is the second block (unit_forget_bias sets exactly these entries to 1)
    np.testing.assert_array_equal(params["b_f"], bias[h:2 * h])


@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("n,T,d,h,seed", SIZES)
def test_keras_gru(n, T, d, h, seed, reset_after):
    rng = np.random.default_rng(seed)
    kernel, rec = rng.normal(0, 0.5, (d, 3 * h)), rng.normal(0, 0.5, (h, 3 * h))
    bias = rng.normal(0, 0.5, (2, 3 * h) if reset_after else 3 * h)
    X, h0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h))
    params = cv.gru_params_from_keras(kernel, rec, bias)
    config = GRUConfig(reset_after=reset_after)
    np.testing.assert_allclose(gru_forward(X, params, h0, config=config)[0],
                               keras_gru(X, kernel, rec, bias, h0, reset_after), rtol=0, atol=1e-12)
    k2, r2, b2 = cv.gru_params_to_keras(params, reset_after=reset_after)
    np.testing.assert_array_equal(k2, kernel)
    np.testing.assert_array_equal(r2, rec)
    assert b2.shape == bias.shape
    # course_lib -> Keras -> the Keras formula gives the same function (biases may be redistributed)
    np.testing.assert_allclose(keras_gru(X, k2, r2, b2, h0, reset_after),
                               keras_gru(X, kernel, rec, bias, h0, reset_after), rtol=0, atol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_course_gru_to_keras_keeps_the_function(reset_after):
    rng = np.random.default_rng(9)
    params = _random_params("gru", 3, 4, rng)  # b_hh_rec non-zero
    X, h0 = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4))
    k, r, b = cv.gru_params_to_keras(params, reset_after=reset_after)
    expected = gru_forward(X, params, h0, config=GRUConfig(reset_after=reset_after))[0]
    np.testing.assert_allclose(keras_gru(X, k, r, b, h0, reset_after), expected, rtol=0, atol=1e-12)
    if reset_after:  # lossless both ways
        back = cv.gru_params_from_keras(k, r, b)
        for key in params:
            np.testing.assert_allclose(back[key], params[key], rtol=0, atol=1e-15, err_msg=key)


def test_keras_gate_orders():
    h = 2
    kernel = np.repeat(np.arange(4.0), h)[None, :]  # block k filled with the value k
    p = cv.lstm_params_from_keras(kernel, np.zeros((h, 4 * h)))
    assert [p[f"W_x{g}"][0, 0] for g in "ifco"] == [0, 1, 2, 3]
    p = cv.gru_params_from_keras(kernel[:, : 3 * h], np.zeros((h, 3 * h)))
    assert [p[f"W_x{g}"][0, 0] for g in "zrh"] == [0, 1, 2]
    assert all(np.all(p[k] == 0) for k in ("b_r", "b_z", "b_h", "b_hh_rec"))


def test_keras_conversion_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"^kernel has shape \(2, 9\); expected \(\*, 12\) = \(d, 4h\)"):
        cv.lstm_params_from_keras(rng.normal(size=(2, 9)), rng.normal(size=(3, 12)))
    with pytest.raises(ValueError, match=r"recurrent_kernel has shape \(3, 9\); expected \(3, 12\)"):
        cv.lstm_params_from_keras(rng.normal(size=(2, 12)), rng.normal(size=(3, 9)))
    with pytest.raises(ValueError, match=r"bias has shape \(9,\); expected \(12,\)"):
        cv.lstm_params_from_keras(rng.normal(size=(2, 12)), rng.normal(size=(3, 12)), np.zeros(9))
    with pytest.raises(ValueError, match=r"bias has shape \(2, 9\), which belongs to a reset_after=True GRU"):
        cv.gru_params_from_keras(rng.normal(size=(2, 9)), rng.normal(size=(3, 9)), np.zeros((2, 9)),
                                 reset_after=False)
    with pytest.raises(ValueError, match=r"bias has shape \(3, 9\); expected \(2, 9\)"):
        cv.gru_params_from_keras(rng.normal(size=(2, 9)), rng.normal(size=(3, 9)), np.zeros((3, 9)))
    with pytest.raises(TypeError, match="kernel must be a floating-point array"):
        cv.rnn_params_from_keras(np.ones((2, 3), dtype=int), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="keras.layers.LSTM has no peepholes"):
        cv.lstm_params_to_keras(init_lstm_params(2, 3, LSTMConfig(peepholes=True)))
