"""The claims chapter 2 (book/02_bptt.ipynb) makes in its prose, checked over more than one random seed.

Each test names the claim. The notebook shows one draw; these tests make sure the claim is not an accident
of that draw.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib import gradients as gr
from course_lib import rnn
from course_lib.exercises import get as get_exercise
from course_lib.tasks import ADDING_BASELINE_MSE, adding_problem
from course_lib.training import make_model, train

SEEDS = [0, 1, 2]


def _tanh_norms(lam, seed, activation="tanh", h=32, T=60, n=8, kind="orthogonal"):
    X = np.random.default_rng(100 + seed).normal(size=(n, T, 4))
    p = rnn.init_rnn_params(4, h, rng=200 + seed)
    p["W_hh"] = gr.matrix_with_top_singular_value(h, lam, rng=300 + seed, kind=kind)
    A = gr.elman_preactivations(X, p, activation=activation)
    return gr.jacobian_norms_by_lag(A=A, W_hh=p["W_hh"], activation=activation)


@pytest.mark.parametrize("seed", SEEDS)
def test_measured_norms_never_exceed_the_pascanu_bound(seed):
    for lam in [0.5, 0.9, 1.0, 1.5, 3.0]:
        for act in ["tanh", "sigmoid"]:
            norms = _tanh_norms(lam, seed, act)
            bound = gr.pascanu_bound(lam, np.arange(norms.shape[1]), gr.DERIVATIVE_BOUND[act])
            assert np.all(norms <= bound * (1 + 1e-9)), (lam, act)


@pytest.mark.parametrize("seed", SEEDS)
def test_lambda_half_vanishes_below_1e_minus_6_by_lag_30(seed):
    assert np.all(_tanh_norms(0.5, seed)[:, 30] < 1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_lambda_one_decays_and_lambda_above_one_grows_with_tanh(seed):
    assert np.median(_tanh_norms(1.0, seed)[:, 60]) < 0.1
    grow = np.median(_tanh_norms(3.0, seed), axis=0)
    assert grow[30] > 1e3 and grow[60] > grow[30] > grow[10] > 1
    assert np.median(_tanh_norms(1.5, seed)[:, 60]) > 10


@pytest.mark.parametrize("seed", SEEDS)
def test_sigmoid_with_lambda_3_vanishes_while_tanh_explodes(seed):
    assert np.all(_tanh_norms(3.0, seed, "sigmoid")[:, 60] < 1e-6)
    assert np.median(_tanh_norms(3.0, seed, "tanh")[:, 60]) > 1e4


@pytest.mark.parametrize("seed", SEEDS)
def test_lambda_above_one_is_not_sufficient_a_gaussian_matrix_still_vanishes(seed):
    # lambda_1 = 1.5, but the spectral radius of a rescaled Gaussian matrix is far below 1
    assert np.median(_tanh_norms(1.5, seed, kind="gaussian")[:, 60]) < 1e-3
    assert np.median(_tanh_norms(1.5, seed, kind="orthogonal")[:, 60]) > 10


@pytest.mark.parametrize("seeds", [range(0, 8), range(10, 18)])
def test_irnn_norms_stay_at_most_one_while_he_relu_spreads_and_mostly_grows(seeds):
    h, T = 64, 50
    X, _ = adding_problem(16, T, rng=4, dtype=np.float64)
    he_final = []
    for seed in seeds:
        p = rnn.init_rnn_params(2, h, rng=seed)
        p["W_hh"], p["b_h"] = np.eye(h), np.zeros(h)
        _, c = rnn.rnn_forward(X, p, activation="relu")
        assert np.all(gr.jacobian_norms_by_lag(c) <= 1 + 1e-12)
        p["W_hh"] = np.random.default_rng(seed).normal(scale=math.sqrt(2 / h), size=(h, h))
        p["b_h"] = np.zeros(h)
        _, c = rnn.rnn_forward(X, p, activation="relu")
        he_final.append(np.median(gr.jacobian_norms_by_lag(c)[:, -1]))
    he_final = np.array(he_final)
    assert np.sum(he_final > 1) >= 4  # at least half of the draws grow
    assert he_final.max() / he_final.min() > 10  # and the draws spread over more than a factor of 10


def _cliff_wall(w0):
    """The bias b* where x_50 of the one-unit model jumps from the low to the high fixed point (bisection)."""
    b_low, b_high = -4.0, -1.0
    for _ in range(50):
        b_mid = (b_low + b_high) / 2
        b_low, b_high = (b_mid, b_high) if gr.cliff_forward(w0, b_mid)[-1] < 0 else (b_low, b_mid)
    return (b_low + b_high) / 2


@pytest.mark.parametrize("w0", [4.8, 5.0])
def test_the_cliff_is_a_wall_with_a_huge_gradient(w0):
    b_star = _cliff_wall(w0)
    below, above, far_below = (gr.cliff_loss(w0, b_star + db) for db in (-1e-4, 1e-4, -1e-2))
    assert below > 0.1 > 0.01 > above and far_below > 0.3
    assert np.hypot(*gr.cliff_grad(w0, b_star - 1e-4)) > 100 * np.hypot(*gr.cliff_grad(w0, b_star - 1e-2))


@pytest.mark.parametrize("w0", [4.8, 5.0])
@pytest.mark.parametrize("db", [-5e-5, -1e-4, -3e-4])
def test_clipping_rescues_descent_next_to_the_cliff(w0, db):
    def descend(w, b, max_norm=None, lr=0.1, steps=200):
        for _ in range(steps):
            g = np.array(gr.cliff_grad(w, b))
            if max_norm is not None:
                (g,), _ = gr.clip_by_global_norm([g], max_norm)
            w, b = w - lr * g[0], b - lr * g[1]
        return w, b

    start = (w0, _cliff_wall(w0) + db)  # just below the wall, on the high-loss side
    w_u, b_u = descend(*start)
    w_c, b_c = descend(*start, max_norm=0.5)
    assert np.hypot(w_u - start[0], b_u - start[1]) > 3  # thrown far away ...
    assert gr.cliff_loss(w_u, b_u) > 0.05  # ... onto a plateau of high loss
    assert gr.cliff_loss(w_c, b_c) < 0.02  # clipped: into the valley


@pytest.mark.parametrize("seed", [0, 1])
def test_irnn_learns_the_adding_problem_and_tanh_stays_at_baseline(seed):
    T, h = 30, 32
    eval_data = adding_problem(500, T, rng=123)

    def batches(rng):
        return adding_problem(64, T, rng)

    results = {}
    for name, kwargs in [("irnn", dict(nonlinearity="relu", identity_init=True)), ("tanh", {})]:
        model = make_model("rnn", 2, h, 1, seed=seed, **kwargs)
        hist = train(
            model, batches, steps=300, lr=2e-3, clip_norm=None, eval_data=eval_data, eval_every=300, seed=seed
        )
        results[name] = hist.eval_values[-1]
    assert results["irnn"] < 0.6 * ADDING_BASELINE_MSE, results
    assert results["tanh"] > 0.8 * ADDING_BASELINE_MSE, results
    assert torch.get_default_dtype() == torch.float32


# ------------------------------------------------------------------ section 8: He initialisation, explained
@pytest.mark.parametrize("seeds", [range(0, 8), range(20, 28)])
def test_he_relu_is_critical_on_average_with_a_wide_spread(seeds):
    """Half the units are off, the factor 2 compensates: per-step factor near 1, spread over draws."""
    from course_lib.experiments.irnn_adding import init_statistics

    stats = [init_statistics(seed) for seed in seeds]
    rho = np.array([s["he_spectral_radius"] for s in stats])
    active = np.array([s["he_active_fraction"] for s in stats])
    factor = np.array([s["he_growth_per_step"] for s in stats])
    norm_T = np.array([s["he_median_norm_T"] for s in stats])
    assert np.all((rho > 1.25) & (rho < 1.75))  # spectral radius about sqrt(2)
    assert np.all((active > 0.35) & (active < 0.65))  # about half the units active
    assert np.all((factor > 0.9) & (factor < 1.3))  # about 1 per step: critical on average ...
    assert norm_T.max() / norm_T.min() > 100  # ... with a spread of orders of magnitude over 50 steps
    assert all(s["irnn_median_norm_T"] <= 1 + 1e-12 for s in stats)  # the IRNN: at most 1, no spread


def test_irnn_adding_experiment_quick_run_writes_its_results(tmp_path):
    from course_lib.experiments import read_results
    from course_lib.experiments.irnn_adding import MODELS, main

    out = tmp_path / "irnn_adding_quick.json"
    assert main(["--quick", "--out", str(out)]) == 0
    payload = read_results(out)
    assert payload["provenance"]["seeds"] == [0, 1]
    results = payload["results"]
    assert set(results["final_mse"]) == set(MODELS)
    for seed in ("0", "1"):
        for name in MODELS:
            run = results["training"][seed][name]
            assert run["eval_steps"][-1] == 60 and len(run["eval_mse"]) == len(run["eval_steps"])
    assert len(results["init"]) == 2


def test_stored_irnn_adding_results_back_the_chapters_claims():
    """The stored 8-seed run: the IRNN's median is well below the baseline and below He's; tanh at it."""
    from course_lib.experiments import read_results

    results = read_results("irnn_adding.json")["results"]
    med = results["median_final_mse"]
    assert len(results["training"]) == 8
    assert med["IRNN"] < 0.6 * ADDING_BASELINE_MSE
    assert med["tanh RNN"] > 0.8 * ADDING_BASELINE_MSE
    assert med["IRNN"] < med["ReLU RNN, He init"]
    he = np.array(results["final_mse"]["ReLU RNN, He init"])
    assert he.max() / he.min() > 2  # He's draws spread widely


def test_irnn_final_state_reference_equals_the_relu_recurrence():
    rng = np.random.default_rng(7)
    n, T, d, h = 3, 9, 2, 4
    X, H_0 = rng.uniform(0, 1, size=(n, T, d)), rng.uniform(0, 1, size=(n, h))
    W_xh = rng.uniform(0, 1, size=(d, h))
    for scale in (1.0, 0.7):
        params = {"W_xh": W_xh, "W_hh": scale * np.eye(h), "b_h": np.zeros(h)}
        H, _ = rnn.rnn_forward(X, params, H_0=H_0, activation="relu")
        got = get_exercise("bptt.irnn_final_state").reference(X=X, H_0=H_0, W_xh=W_xh, scale=scale)
        np.testing.assert_allclose(got, H[:, -1], rtol=1e-12, atol=1e-12)
