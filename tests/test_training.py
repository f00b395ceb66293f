"""Training helpers: models have the right shapes and initialisations, and training really learns."""

import numpy as np
import pytest
import torch

from course_lib.tasks import adding_problem
from course_lib.training import History, evaluate, make_model, train


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_model_maps_sequences_to_predictions(kind):
    model = make_model(kind, 3, 5, 2)
    out = model(torch.zeros(4, 7, 3))
    assert out.shape == (4, 2)
    with pytest.raises(ValueError, match=r"\(n, T, d\)"):
        model(torch.zeros(7, 3))


def test_forget_bias_sets_the_sum_of_pytorchs_two_biases():
    model = make_model("lstm", 2, 4, 1, forget_bias=1.0)
    b = model.layer.bias_ih_l0 + model.layer.bias_hh_l0  # PyTorch gate order i, f, g, o
    assert torch.allclose(b[4:8], torch.ones(4))
    assert not torch.allclose(b[:4], torch.ones(4))


def test_identity_init_is_the_irnn():
    model = make_model("rnn", 2, 6, 1, nonlinearity="relu", identity_init=True)
    assert torch.equal(model.layer.weight_hh_l0, torch.eye(6))
    assert torch.all(model.layer.bias_hh_l0 == 0) and torch.all(model.layer.bias_ih_l0 == 0)


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="kind"):
        make_model("transformer", 2, 4, 1)
    with pytest.raises(ValueError, match="forget_bias"):
        make_model("gru", 2, 4, 1, forget_bias=1.0)


def test_training_lowers_the_loss_and_clips():
    model = make_model("lstm", 2, 8, 1)
    data = adding_problem(200, 10, rng=5)
    before = evaluate(model, *data)
    history = train(model, lambda rng: adding_problem(32, 10, rng), steps=150, lr=1e-2,
                    eval_data=data, eval_every=50, clip_norm=0.5)
    assert isinstance(history, History) and len(history.loss) == 150
    assert history.eval_steps == [50, 100, 150]
    assert history.eval_values[-1] < 0.5 * before
    assert max(history.grad_norms) > 0  # norms are recorded before clipping


def test_training_is_deterministic():
    runs = []
    for _ in range(2):
        model = make_model("gru", 2, 4, 1, seed=1)
        runs.append(train(model, lambda rng: adding_problem(16, 6, rng), steps=20, seed=2).loss)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_classification_accuracy():
    X = np.zeros((40, 3, 2), dtype=np.float32)
    y = np.arange(40) % 2
    X[y == 1, :, 0] = 1.0
    model = make_model("gru", 2, 4, 2)
    train(model, lambda rng: (X, y), steps=60, lr=5e-2, loss="ce")
    assert evaluate(model, X, y, loss="ce") == 1.0


def test_history_first_step_below():
    h = History(eval_steps=[10, 20, 30], eval_values=[0.2, 0.05, 0.001])
    assert h.first_step_below(0.1) == 20 and h.first_step_below(1e-6) is None
