"""The finite-difference checker accepts a right gradient and catches a wrong one."""

import numpy as np
import pytest

from course_lib.gradcheck import assert_gradients_match, numerical_gradient


def test_numerical_gradient_of_a_quadratic():
    A = np.array([[1.0, -2.0], [0.5, 3.0]])
    M = np.array([[2.0, 0.0], [1.0, -1.0]])

    def f():
        return float(np.sum(M * A**2))

    np.testing.assert_allclose(numerical_gradient(f, A), 2 * M * A, atol=1e-8)
    assert abs(numerical_gradient(f, A, index=(1, 1)) - (-6.0)) < 1e-8
    np.testing.assert_array_equal(A, [[1.0, -2.0], [0.5, 3.0]])  # restored


def test_assert_gradients_match_catches_a_wrong_gradient():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 4))
    X = rng.normal(size=(5, 3))

    def f():
        return float(np.sum(np.tanh(X @ W)))

    right = X.T @ (1 - np.tanh(X @ W) ** 2)
    assert_gradients_match(f, {"W": W}, {"W": right})
    assert_gradients_match(f, {"W": W}, {"W": right}, rng, n_coords=3)
    with pytest.raises(AssertionError, match="W"):
        assert_gradients_match(f, {"W": W}, {"W": X.T @ np.ones((5, 4))})  # forgot tanh'
    with pytest.raises(ValueError, match="shape"):
        assert_gradients_match(f, {"W": W}, {"W": right.T})


def test_float32_is_refused():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))
