"""The synthetic tasks: shapes, the published adding-problem baseline, determinism, clear errors."""

import numpy as np
import pytest

from course_lib.tasks import ADDING_BASELINE_MSE, adding_problem, digits_sequences, recall_task


def test_adding_problem_shapes_and_markers():
    X, y = adding_problem(50, 20, rng=0)
    assert X.shape == (50, 20, 2) and y.shape == (50, 1)
    markers = X[:, :, 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :10].sum(axis=1) == 1)  # one marker in each half (Arjovsky et al. 2016)
    assert np.all(markers[:, 10:].sum(axis=1) == 1)
    np.testing.assert_allclose(y[:, 0], (X[:, :, 0] * markers).sum(axis=1), rtol=1e-6)


def test_adding_problem_baseline_is_one_sixth():
    # Always predicting 1 gives MSE = Var(U1 + U2) = 2/12; the published baseline is 0.167.
    _, y = adding_problem(200_000, 4, rng=1, dtype=np.float64)
    assert abs(np.mean((y - 1.0) ** 2) - ADDING_BASELINE_MSE) < 2e-3
    assert round(ADDING_BASELINE_MSE, 3) == 0.167


def test_adding_problem_is_deterministic_per_seed():
    a = adding_problem(8, 10, rng=3)
    b = adding_problem(8, 10, rng=np.random.default_rng(3))
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("kwargs, message", [({"n": 0, "T": 10}, "n must"), ({"n": 4, "T": 1}, "T must")])
def test_adding_problem_rejects_bad_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        adding_problem(**kwargs)


def test_recall_task_cue_is_the_answer():
    X, y = recall_task(100, lag=7, n_symbols=5, rng=0)
    assert X.shape == (100, 8, 6) and y.shape == (100,)
    assert np.all(X.sum(axis=2)[:, 1:] == 1)  # one symbol per distractor step
    assert np.all(X[:, 0, 5] == 1) and np.all(X[:, 1:, 5] == 0)  # the cue flag
    np.testing.assert_array_equal(X[:, 0, :5].argmax(axis=1), y)
    with pytest.raises(ValueError, match="lag"):
        recall_task(3, lag=-1)


def test_digits_are_row_sequences_and_split_is_stratified():
    X_train, y_train, X_test, y_test = digits_sequences()
    assert X_train.shape[1:] == (8, 8) and X_test.shape[1:] == (8, 8)
    assert len(X_train) + len(X_test) == 1797
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0
    assert set(np.unique(y_test)) == set(range(10))
    assert abs(len(X_test) / 1797 - 0.25) < 0.01
