"""course_lib.params: parameter counts equal torch's numel sums and Keras' formulas."""

import pytest
import torch

from course_lib.params import count_params_keras, count_params_torch

LAYERS = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
CELLS = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}


def _numel(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("d,h", [(1, 1), (8, 4), (3, 7)])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
def test_torch_layers(kind, d, h, num_layers, bias):
    module = LAYERS[kind](d, h, num_layers=num_layers, bias=bias)
    assert count_params_torch(kind, d, h, num_layers=num_layers, bias=bias) == _numel(module)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_torch_bidirectional_and_cells(kind):
    module = LAYERS[kind](5, 3, num_layers=2, bidirectional=True)
    assert count_params_torch(kind, 5, 3, num_layers=2, bidirectional=True) == _numel(module)
    assert count_params_torch(kind, 5, 3) == _numel(CELLS[kind](5, 3))


@pytest.mark.parametrize("d,h", [(8, 4), (1, 1), (100, 32)])
def test_keras_formulas(d, h):
    assert count_params_keras("lstm", d, h) == 4 * (d * h + h * h + h)
    assert count_params_keras("gru", d, h) == 3 * (d * h + h * h + 2 * h)
    assert count_params_keras("gru", d, h, reset_after=False) == 3 * (d * h + h * h + h)
    assert count_params_keras("rnn", d, h) == d * h + h * h + h
    assert count_params_keras("SimpleRNN", d, h) == d * h + h * h + h
    assert count_params_keras("lstm", d, h, use_bias=False) == 4 * (d * h + h * h)


def test_seeds_example_and_framework_difference():
    # the seeds' layer: 8 inputs, 4 units
    assert count_params_keras("lstm", 8, 4) == 208
    assert count_params_torch("lstm", 8, 4) == 224  # 4h = 16 more: the second bias vector
    assert count_params_keras("gru", 8, 4) == count_params_torch("gru", 8, 4) == 168
    assert count_params_keras("gru", 8, 4, reset_after=False) == 156


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"kind must be one of \['gru', 'lstm', 'rnn'\]; got 'transformer'"):
        count_params_torch("transformer", 3, 4)
    with pytest.raises(TypeError, match="kind must be one of"):
        count_params_keras(None, 3, 4)
    with pytest.raises(ValueError, match="h must be a positive int; got 0"):
        count_params_keras("lstm", 3, 0)
    with pytest.raises(TypeError, match="num_layers must be a positive int; got float"):
        count_params_torch("lstm", 3, 4, num_layers=2.0)
