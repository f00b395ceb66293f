"""course_lib.layers.run_layer: Keras' return_sequences / return_state / go_backwards / initial_state."""

import numpy as np
import pytest
import torch

from course_lib.convert import (
    gru_params_from_torch,
    lstm_params_from_torch,
    rnn_params_from_torch,
)
from course_lib.layers import run_layer
from course_lib.lstm import LSTMConfig, init_lstm_params, lstm_forward
from course_lib.rnn import init_rnn_params

TORCH_LAYER = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
FROM_TORCH = {"rnn": rnn_params_from_torch, "lstm": lstm_params_from_torch, "gru": gru_params_from_torch}


@pytest.fixture(scope="module")
def seeds_example():
    """The seeds' example: 32 sentences of 10 words, word vectors of size 8, 4 units."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 10, 8))


def _params(cell, d, h, seed=0):
    torch.manual_seed(seed)
    return FROM_TORCH[cell](TORCH_LAYER[cell](d, h, dtype=torch.float64))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_seeds_example_shapes(seeds_example, cell):
    X = seeds_example
    params = _params(cell, 8, 4)
    assert run_layer(cell, X, params).shape == (32, 4)
    assert run_layer(cell, X, params, return_sequences=True).shape == (32, 10, 4)
    n_states = 2 if cell == "lstm" else 1
    for return_sequences in (False, True):
        result = run_layer(cell, X, params, return_sequences=return_sequences, return_state=True)
        assert isinstance(result, tuple) and len(result) == 1 + n_states
        out, *states = result
        assert out.shape == ((32, 10, 4) if return_sequences else (32, 4))
        assert all(s.shape == (32, 4) for s in states)
        last = out[:, -1] if return_sequences else out
        np.testing.assert_array_equal(states[0], last)  # h is the last output


def test_lstm_states_are_h_T_and_c_T(seeds_example):
    params = init_lstm_params(8, 4, rng=1, forget_bias=1.0)
    H, C, _ = lstm_forward(seeds_example, params)
    out, h, c = run_layer("lstm", seeds_example, params, return_state=True)
    np.testing.assert_array_equal(out, H[:, -1])
    np.testing.assert_array_equal(c, C[:, -1])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("n,T,d,h,seed", [(1, 1, 2, 3, 0), (3, 6, 4, 5, 1)])
def test_go_backwards_matches_torch_reverse_direction(cell, n, T, d, h, seed):
    """Keras' go_backwards output = the reverse half of a bidirectional torch layer, read in processing order.

    torch aligns the reverse direction's outputs with the input positions (out[:, t] has read X[:, t:]);
    Keras returns them in processing order, so out_keras[:, k] = out_torch_reverse[:, T - 1 - k].
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module = TORCH_LAYER[cell](d, h, batch_first=True, bidirectional=True, dtype=torch.float64)
    params = FROM_TORCH[cell](module, reverse=True)
    X = rng.normal(size=(n, T, d))
    out_t, state_t = module(torch.from_numpy(X))
    reverse_half = out_t[..., h:].detach().numpy()
    result = run_layer(cell, X, params, return_sequences=True, return_state=True, go_backwards=True)
    np.testing.assert_allclose(result[0], reverse_half[:, ::-1], rtol=0, atol=1e-10)
    h_T = (state_t[0] if cell == "lstm" else state_t)[1].detach().numpy()
    np.testing.assert_allclose(result[1], h_T, rtol=0, atol=1e-10)
    if cell == "lstm":
        np.testing.assert_allclose(result[2], state_t[1][1].detach().numpy(), rtol=0, atol=1e-10)
    last = run_layer(cell, X, params, go_backwards=True)
    np.testing.assert_array_equal(last, result[0][:, -1])  # the state after reading X[:, 0]


def test_go_backwards_is_the_reversed_input_not_the_reversed_output():
    rng = np.random.default_rng(3)
    params = init_rnn_params(2, 3, rng=rng)
    X = rng.normal(size=(2, 5, 2))
    back = run_layer("rnn", X, params, return_sequences=True, go_backwards=True)
    np.testing.assert_array_equal(back, run_layer("rnn", X[:, ::-1], params, return_sequences=True))
    forward = run_layer("rnn", X, params, return_sequences=True)
    assert not np.allclose(back, forward[:, ::-1])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_forward_and_initial_state_match_torch(cell):
    torch.manual_seed(4)
    rng = np.random.default_rng(4)
    n, T, d, h = 3, 5, 2, 4
    module = TORCH_LAYER[cell](d, h, batch_first=True, dtype=torch.float64)
    params = FROM_TORCH[cell](module)
    X, H_0, C_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    if cell == "lstm":
        init, torch_state = [H_0, C_0], (torch.from_numpy(H_0)[None], torch.from_numpy(C_0)[None])
    else:
        init, torch_state = [H_0], torch.from_numpy(H_0)[None]
    out = run_layer(cell, X, params, return_sequences=True, initial_state=init)
    expected = module(torch.from_numpy(X), torch_state)[0].detach().numpy()
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-10)
    if cell != "lstm":  # a bare (n, h) array is accepted for one-state cells
        bare = run_layer(cell, X, params, return_sequences=True, initial_state=H_0)
        np.testing.assert_array_equal(bare, out)


def test_cell_options_are_passed_on():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2, 3, 2))
    config = LSTMConfig(peepholes=True, gate_activation="hard_sigmoid_keras")
    params = init_lstm_params(2, 3, config, rng=rng)
    a = run_layer("lstm", X, params, config=config)
    b = run_layer("lstm", X, params, peepholes=True, gate_activation="hard_sigmoid_keras")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, lstm_forward(X, params, config=config)[0][:, -1])
    rparams = init_rnn_params(2, 3, rng=rng)
    np.testing.assert_array_equal(run_layer("rnn", X, rparams, activation="relu"),
                                  np.maximum(run_layer("rnn", X, rparams, activation="relu"), 0))


def test_bad_arguments():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(2, 3, 2))
    params = init_lstm_params(2, 3, rng=rng)
    with pytest.raises(ValueError, match=r"cell must be one of \['rnn', 'lstm', 'gru'\]; got 'transformer'"):
        run_layer("transformer", X, params)
    with pytest.raises(ValueError, match=r"initial_state must be a list \[h_0, c_0\].*got a sequence of 1"):
        run_layer("lstm", X, params, initial_state=[np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"C_0 has shape \(2, 2\); expected \(2, 3\)"):
        run_layer("lstm", X, params, initial_state=[np.zeros((2, 3)), np.zeros((2, 2))])
    with pytest.raises(TypeError, match=r"unexpected option\(s\) \['units'\]"):
        run_layer("lstm", X, params, units=3)
    with pytest.raises(TypeError, match=r"unexpected option\(s\) \['peepholes'\]"):
        run_layer("rnn", X, init_rnn_params(2, 3), peepholes=True)
    with pytest.raises(TypeError, match="return_sequences must be True or False"):
        run_layer("lstm", X, params, return_sequences="yes")
    with pytest.raises(TypeError, match="X must be a floating-point array"):
        run_layer("lstm", X.astype(int), params, go_backwards=True)
    with pytest.raises(ValueError, match="T = 0"):
        run_layer("lstm", X[:, :0], params)
