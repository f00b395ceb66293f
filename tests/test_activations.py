"""course_lib.activations: values and derivatives against torch, finite differences and the edge cases."""

import warnings

import numpy as np
import pytest
import torch

from course_lib import activations as A
from course_lib.activations import ACTIVATIONS, Activation, get_activation

NAMES = ["sigmoid", "tanh", "relu", "hard_sigmoid_keras", "hard_sigmoid_torch", "bipolar_sigmoid", "linear"]

TORCH = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "hard_sigmoid_keras": lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0),  # Keras 2's formula
    "hard_sigmoid_torch": torch.nn.Hardsigmoid(),
    "bipolar_sigmoid": lambda x: 2 * torch.sigmoid(x) - 1,
    "linear": lambda x: x,
}
KINKS = {"relu": [0.0], "hard_sigmoid_keras": [-2.5, 2.5], "hard_sigmoid_torch": [-3.0, 3.0]}


def _points(name, rng, size=400):
    """Random points in [-6, 6] at least 1e-3 away from the activation's kinks (for derivative checks)."""
    x = rng.uniform(-6, 6, size)
    for k in KINKS.get(name, []):
        x = x[np.abs(x - k) > 1e-3]
    return x


def test_registry_is_complete():
    assert sorted(ACTIVATIONS) == sorted(NAMES)
    for name in NAMES:
        act = get_activation(name)
        assert isinstance(act, Activation) and act.name == name
        assert act.f is getattr(A, name) and act.df is getattr(A, f"d_{name}")
    act = get_activation("tanh")
    assert get_activation(act) is act


def test_get_activation_errors():
    with pytest.raises(ValueError, match=r"unknown activation 'softsign'; expected one of \['bipolar_"):
        get_activation("softsign")
    with pytest.raises(TypeError, match="activation must be a name"):
        get_activation(np.tanh)


@pytest.mark.parametrize("name", NAMES)
def test_values_equal_torch(name):
    x = np.random.default_rng(0).uniform(-8, 8, 500)
    x[:4] = [-3.0, -2.5, 2.5, 3.0]
    expected = TORCH[name](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(get_activation(name).f(x), expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_equals_torch_autograd(name):
    x = _points(name, np.random.default_rng(1))
    xt = torch.tensor(x, requires_grad=True)
    TORCH[name](xt).sum().backward()
    # nn.Hardsigmoid's backward multiplies by 1/6 rounded to float32 even for float64 (relative error 3e-8)
    atol = 1e-7 if name == "hard_sigmoid_torch" else 1e-15
    np.testing.assert_allclose(get_activation(name).df(x), xt.grad.numpy(), rtol=0, atol=atol)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_equals_finite_differences(name):
    act = get_activation(name)
    x = _points(name, np.random.default_rng(2))
    eps = 1e-6
    numeric = (act.f(x + eps) - act.f(x - eps)) / (2 * eps)
    np.testing.assert_allclose(act.df(x), numeric, rtol=0, atol=1e-8)


def test_the_two_hard_sigmoids_differ():
    x = np.array([-3.0, -2.5, 0.0, 1.0, 2.5, 3.0])
    np.testing.assert_allclose(A.hard_sigmoid_keras(x), [0, 0, 0.5, 0.7, 1, 1])
    np.testing.assert_allclose(A.hard_sigmoid_torch(x), [0, 1 / 12, 0.5, 4 / 6, 11 / 12, 1])
    assert A.d_hard_sigmoid_keras(np.array(0.0)) == pytest.approx(0.2)
    assert A.d_hard_sigmoid_torch(np.array(0.0)) == pytest.approx(1 / 6)
    # kinks: derivative 0 there, as in torch
    np.testing.assert_array_equal(A.d_hard_sigmoid_keras(np.array([-2.5, 2.5])), [0, 0])
    np.testing.assert_array_equal(A.d_hard_sigmoid_torch(np.array([-3.0, 3.0])), [0, 0])
    assert A.d_relu(np.array(0.0)) == 0


def test_bipolar_sigmoid_is_tanh_of_half():
    x = np.linspace(-10, 10, 101)
    np.testing.assert_allclose(A.bipolar_sigmoid(x), np.tanh(x / 2), atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_extreme_inputs_without_warnings(name):
    act = get_activation(name)
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y, dy = act.f(x), act.df(x)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dy))


def test_sigmoid_saturates_exactly():
    y = A.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(A.d_sigmoid(np.array([-1000.0, 1000.0])), [0.0, 0.0])
    assert A.sigmoid(np.array(-700.0)) > 0  # exp(-700) is still representable: no early underflow to 0


@pytest.mark.parametrize("name", NAMES)
def test_dtype_and_shape_preserved(name):
    act = get_activation(name)
    x = np.random.default_rng(3).normal(size=(2, 3, 4)).astype(np.float32)
    assert act.f(x).dtype == np.float32 and act.f(x).shape == (2, 3, 4)
    assert act.df(x).dtype == np.float32 and act.df(x).shape == (2, 3, 4)
    # integer input is computed in float64, never truncated
    assert act.f(np.array([1, 2])).dtype == np.float64


def test_scalars_work():
    assert float(A.sigmoid(0.0)) == 0.5
    assert float(A.d_tanh(0.0)) == 1.0
    assert float(A.relu(-2.0)) == 0.0


# ---------------------------------------------------------------------------------------------------------
# the squashers of the 1997 LSTM and Gulcehre et al.'s hard sigmoid (plain functions, not in ACTIVATIONS)
# ---------------------------------------------------------------------------------------------------------
EXTRA = {
    "lstm1997_g": (lambda x: 4 * torch.sigmoid(x) - 2, []),
    "lstm1997_h": (lambda x: 2 * torch.sigmoid(x) - 1, []),
    "hard_sigmoid_gulcehre": (lambda x: torch.clamp(0.25 * x + 0.5, 0.0, 1.0), [-2.0, 2.0]),
}


@pytest.mark.parametrize("name", list(EXTRA))
def test_extra_squashers_equal_torch_and_autograd(name):
    f, df = getattr(A, name), getattr(A, f"d_{name}")
    torch_f, kinks = EXTRA[name]
    x = np.random.default_rng(5).uniform(-8, 8, 500)
    for k in kinks:
        x = x[np.abs(x - k) > 1e-3]
    xt = torch.from_numpy(x).requires_grad_(True)
    y = torch_f(xt)
    y.sum().backward()
    np.testing.assert_allclose(f(x), y.detach().numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(df(x), xt.grad.numpy(), rtol=0, atol=1e-14)
    step = 1e-6  # and central finite differences
    np.testing.assert_allclose(df(x), (f(x + step) - f(x - step)) / (2 * step), rtol=0, atol=1e-7)


def test_extra_squashers_ranges_and_identities():
    x = np.linspace(-40, 40, 2001)
    np.testing.assert_allclose(A.lstm1997_h(x), A.bipolar_sigmoid(x), atol=1e-15)
    np.testing.assert_allclose(A.lstm1997_g(x), 2 * np.tanh(x / 2), atol=1e-14)
    assert A.lstm1997_g(x).min() >= -2 and A.lstm1997_g(x).max() <= 2
    assert A.lstm1997_g(np.array(-40.0)) < -1.99 and A.d_lstm1997_g(np.array(0.0)) == 1.0
    assert A.d_lstm1997_h(np.array(0.0)) == 0.5
    np.testing.assert_allclose(A.hard_sigmoid_gulcehre(np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 5.0])),
                               [0.0, 0.25, 0.5, 0.75, 1.0, 1.0])
    np.testing.assert_array_equal(A.d_hard_sigmoid_gulcehre(np.array([-2.0, 2.0, 0.0])), [0.0, 0.0, 0.25])
    # not registered: LSTMConfig and the torch layers keep their seven names
    for name in EXTRA:
        assert name not in ACTIVATIONS


def test_zero_gradient_regions_match_the_derivatives():
    for name, (below, above) in A.ZERO_GRADIENT_REGIONS.items():
        df = getattr(A, f"d_{name}")
        if below is not None:
            assert np.all(df(np.array([below, below - 0.01, below - 100.0])) == 0)
            assert df(np.array(below + 0.01)) > 0
        if above is not None:
            assert np.all(df(np.array([above, above + 0.01, above + 100.0])) == 0)
            assert df(np.array(above - 0.01)) > 0
    assert A.ZERO_GRADIENT_REGIONS["hard_sigmoid_keras"] == (-2.5, 2.5)
    assert A.ZERO_GRADIENT_REGIONS["hard_sigmoid_torch"] == (-3.0, 3.0)


@pytest.mark.parametrize("name", list(EXTRA))
def test_extra_squashers_extreme_inputs_dtype(name):
    f, df = getattr(A, name), getattr(A, f"d_{name}")
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y, dy = f(x), df(x)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dy))
    x32 = np.zeros((2, 3), dtype=np.float32)
    assert f(x32).dtype == np.float32 and df(x32).dtype == np.float32 and f(x32).shape == (2, 3)
