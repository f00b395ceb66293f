"""Tests of course_lib.memory: gates set by hand, and the gradient along the memory cell."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.lstm import LSTMConfig, init_lstm_params, lstm_backward, lstm_forward
from course_lib.memory import (
    GATE_SATURATION,
    cell_jacobian_norms_by_lag,
    cell_path_norms_by_lag,
    fixed_gate_params,
)


# ------------------------------------------------------------------------------------------ fixed_gate_params
def test_fixed_gate_params_sets_the_gates():
    p = fixed_gate_params(np.eye(2), input_gate=0.25, forget_gate=1.0, output_gate=0.0)
    X = np.random.default_rng(0).normal(size=(3, 5, 2))
    _, _, cache = lstm_forward(X, p)
    for step in cache["steps"]:
        np.testing.assert_allclose(step["I_t"], 0.25, atol=1e-12)
        assert np.all(1.0 - step["F_t"] < 3e-9) and np.all(step["O_t"] < 3e-9)
        np.testing.assert_allclose(step["C_tilde"], np.tanh(step["X_t"]), atol=1e-15)
    assert sorted(p) == sorted(init_lstm_params(2, 2, rng=0))
    assert p["b_f"][0] == pytest.approx(GATE_SATURATION)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(W_xc=np.eye(2), input_gate=1.5, forget_gate=0.0), ValueError, "input_gate"),
        (dict(W_xc=np.eye(2), input_gate=0.5, forget_gate="open"), TypeError, "forget_gate"),
        (dict(W_xc=np.eye(2), input_gate=0.5, forget_gate=True), TypeError, "forget_gate"),
        (dict(W_xc=np.ones(3), input_gate=0.5, forget_gate=0.5), ValueError, "W_xc"),
    ],
)
def test_fixed_gate_params_refuses_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        fixed_gate_params(**kwargs)


# ------------------------------------------------------------------------------ cell_jacobian_norms_by_lag
@pytest.mark.parametrize("config", [LSTMConfig(), LSTMConfig(forget_gate=False), LSTMConfig(peepholes=True)])
def test_cell_jacobian_norms_match_lstm_backward(config):
    rng = np.random.default_rng(4)
    n, T, d, h = 2, 9, 3, 4
    params = init_lstm_params(d, h, config=config, rng=rng)
    X, H_0, C_0 = rng.normal(size=(n, T, d)), rng.normal(size=(n, h)), rng.normal(size=(n, h))
    norms = cell_jacobian_norms_by_lag(X, params, config=config, H_0=H_0, C_0=C_0, ord="fro")
    assert norms.shape == (n, T + 1)
    np.testing.assert_allclose(norms[:, 0], np.sqrt(h))
    for b in range(n):  # lag T: dC_T/dC_0, one row per unit vector on C_T
        _, _, cache = lstm_forward(X[b : b + 1], params, H_0[b : b + 1], C_0[b : b + 1], config=config)
        rows = [lstm_backward(None, cache, dC_T=np.eye(h)[j : j + 1])[2][0] for j in range(h)]
        assert norms[b, T] == pytest.approx(np.linalg.norm(np.array(rows)), rel=1e-12)
    with pytest.raises(ValueError, match="ord"):
        cell_jacobian_norms_by_lag(X, params, config=config, ord=1)


def test_cell_jacobian_norms_name_a_bad_initial_state():
    params = init_lstm_params(3, 4, rng=0)
    X = np.zeros((2, 5, 3))
    with pytest.raises(ValueError, match=r"C_0 has shape \(2, 3\)"):
        cell_jacobian_norms_by_lag(X, params, C_0=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="H_0"):
        cell_jacobian_norms_by_lag(X, params, H_0=np.zeros(4))


def test_keep_regime_passes_the_gradient_unchanged():
    p = fixed_gate_params(np.eye(3), input_gate=0.0, forget_gate=1.0)
    X = np.random.default_rng(1).normal(size=(2, 50, 3))
    norms = cell_jacobian_norms_by_lag(X, p)
    np.testing.assert_allclose(norms, 1.0, atol=1e-6)  # the constant error carousel


# ---------------------------------------------------------------------------------- cell_path_norms_by_lag
def test_cell_path_norms_are_the_largest_product_of_forget_gates():
    rng = np.random.default_rng(5)
    n, T, d, h = 3, 7, 2, 4
    params = init_lstm_params(d, h, rng=rng, forget_bias=1.0)
    X = rng.normal(size=(n, T, d))
    _, _, cache = lstm_forward(X, params)
    norms = cell_path_norms_by_lag(cache)
    assert norms.shape == (n, T + 1)
    np.testing.assert_allclose(norms[:, 0], 1.0)
    for k in range(1, T + 1):
        product = np.ones((n, h))
        for step in cache["steps"][T - k :]:
            product = product * step["F_t"]
        expected = [np.linalg.norm(np.diag(row), ord=2) for row in product]  # spectral norm of the diagonal
        np.testing.assert_allclose(norms[:, k], expected, rtol=1e-12)


def test_cell_path_is_part_of_the_full_jacobian():
    """With the recurrent and peephole paths cut (W_h? = 0), the full Jacobian is the cell path alone."""
    rng = np.random.default_rng(6)
    params = init_lstm_params(2, 3, rng=rng, forget_bias=2.0)
    params = {k: np.zeros_like(v) if k.startswith("W_h") else v for k, v in params.items()}
    X = rng.normal(size=(2, 12, 2))
    np.testing.assert_allclose(cell_jacobian_norms_by_lag(X, params),
                               cell_path_norms_by_lag(lstm_forward(X, params)[2]), rtol=1e-12)


def test_cell_path_norms_without_forget_gate_are_one_and_refuse_a_bad_cache():
    config = LSTMConfig(forget_gate=False)
    X = np.random.default_rng(7).normal(size=(2, 6, 3))
    _, _, cache = lstm_forward(X, init_lstm_params(3, 4, config=config, rng=7), config=config)
    np.testing.assert_array_equal(cell_path_norms_by_lag(cache), np.ones((2, 7)))
    with pytest.raises(TypeError, match="lstm_forward"):
        cell_path_norms_by_lag({"steps": []})
