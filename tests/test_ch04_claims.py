"""The claims of the GRU chapter (book/04_gru.ipynb), checked over several seeds.

Each test names the section of the chapter whose claim it repeats. The notebook makes each claim once with
one seed; here the same computation runs with other seeds and sizes, and the experiments rerun in reduced
form (fewer steps, fewer seeds) next to checks of the committed results files.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.convert import gru_params_from_torch, gru_params_to_keras
from course_lib.experiments import read_results
from course_lib.gradients import jacobian_norms_by_lag
from course_lib.gru import GRUConfig, gru_forward, gru_step, init_gru_params, state_jacobian_norms_by_lag
from course_lib.lstm import init_lstm_params, lstm_forward
from course_lib.params import count_params_keras, count_params_torch
from course_lib.rnn import init_rnn_params, rnn_forward, rnn_step
from course_lib.torch_cells import GRULayer

SEEDS = [0, 1, 2]
CHO, AFTER = GRUConfig(reset_after=False), GRUConfig(reset_after=True)


def random_params(d, h, seed, bias=0.5):
    rng = np.random.default_rng(seed)
    p = init_gru_params(d, h, rng=rng)
    for name in ("b_r", "b_z", "b_h", "b_hh_rec"):
        p[name] = rng.uniform(-bias, bias, size=h)
    return p


# ------------------------------------------------------------------------------------------ section 2
@pytest.mark.parametrize("config", [AFTER, CHO], ids=["after", "before"])
@pytest.mark.parametrize("seed", SEEDS)
def test_state_jacobian_norms_equal_autograd(seed, config):
    rng = np.random.default_rng(seed)
    n, T, d, h = 2, 6, 3, 4
    X, p = rng.normal(size=(n, T, d)), random_params(d, h, seed)
    norms = state_jacobian_norms_by_lag(X, p, config)
    layer = GRULayer.from_params(p, config)
    H = gru_forward(X, p, config=config)[0]
    for t in range(T):
        H_t = torch.from_numpy(H[:, t - 1]) if t > 0 else torch.zeros(n, h, dtype=torch.float64)
        X_rest = torch.from_numpy(X[:, t:])
        J = torch.autograd.functional.jacobian(lambda S, X_rest=X_rest: layer(X_rest, S)[1], H_t)
        for b in range(n):
            assert np.isclose(np.linalg.norm(J[b, :, b, :].numpy(), 2), norms[b, T - t], rtol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_update_gate_bias_keeps_the_gradient(seed):
    n, T, d, h = 8, 100, 4, 16
    X = np.random.default_rng(100 + seed).normal(size=(n, T, d))
    rnn = np.median(jacobian_norms_by_lag(rnn_forward(X, init_rnn_params(d, h, rng=200 + seed))[1]), axis=0)
    gru = {}
    for b_z in (0.0, 3.0):
        p = init_gru_params(d, h, rng=400 + seed)
        p["b_z"] = np.full(h, b_z)
        gru[b_z] = np.median(state_jacobian_norms_by_lag(X, p), axis=0)
    assert gru[3.0][100] > 1e6 * rnn[100]
    assert gru[0.0][50] < gru[3.0][50]
    assert gru[0.0][100] < 1e-3  # b_z = 0 forgets, like the LSTM with b_f = 0


@pytest.mark.parametrize("seed", SEEDS)
def test_gru_state_bounded_lstm_cell_not(seed):
    X = np.random.default_rng(seed).normal(loc=1.0, size=(2, 1000, 1))
    p = init_gru_params(1, 8, rng=seed, scale=5.0)
    p["b_z"] = np.full(8, 4.0)
    for config in (AFTER, CHO):
        assert np.abs(gru_forward(X, p, config=config)[0]).max() < 1
    q = init_lstm_params(1, 8, rng=seed, scale=5.0, forget_bias=6.0)
    q["b_i"] = np.full(8, 6.0)
    assert np.abs(lstm_forward(X, q)[1]).max() > 10


# ------------------------------------------------------------------------------------------ section 3
@pytest.mark.parametrize(("seed", "d", "h"), [(0, 4, 5), (1, 1, 8), (2, 6, 2)])
def test_reset_after_equals_nn_gru_and_reset_before_does_not(seed, d, h):
    torch.manual_seed(seed)
    module = nn.GRU(d, h, batch_first=True).double()
    X = np.random.default_rng(seed).normal(size=(3, 7, d))
    with torch.no_grad():
        out = module(torch.from_numpy(X))[0].numpy()
    p = gru_params_from_torch(module)
    assert np.abs(gru_forward(X, p, config=AFTER)[0] - out).max() < 1e-12
    assert np.abs(gru_forward(X, p, config=CHO)[0] - out).max() > 1e-3
    assert sum(w.numel() for w in module.parameters()) == 3 * (d * h + h * h + 2 * h)
    assert count_params_torch("gru", d, h) == count_params_keras("gru", d, h, reset_after=True)
    assert count_params_keras("gru", d, h, reset_after=False) == 3 * (d * h + h * h + h)
    kernel, recurrent_kernel, bias = gru_params_to_keras(p, reset_after=True)
    W_ih = module.weight_ih_l0.detach().numpy()
    for k, torch_block in enumerate([1, 0, 2]):  # Keras z, r, h <- PyTorch rows r, z, n
        block = W_ih[torch_block * h:(torch_block + 1) * h].T
        np.testing.assert_array_equal(kernel[:, k * h:(k + 1) * h], block)
    np.testing.assert_array_equal(bias[1, 2 * h:], module.bias_hh_l0.detach().numpy()[2 * h:])


def test_parameter_counts_of_the_chapter():
    assert count_params_keras("gru", 4, 5, reset_after=False) == 150
    assert count_params_torch("gru", 4, 5) == 165 == sum(w.numel() for w in nn.GRU(4, 5).parameters())


@pytest.mark.parametrize("config", [AFTER, CHO], ids=["after", "before"])
@pytest.mark.parametrize("seed", SEEDS)
def test_update_gate_conventions_are_one_model(seed, config):
    rng = np.random.default_rng(seed)
    X, p = rng.normal(size=(3, 9, 4)), random_params(4, 5, seed)
    flipped = {**p, "W_xz": -p["W_xz"], "W_hz": -p["W_hz"], "b_z": -p["b_z"]}

    def z_on_candidate(params):
        H_t, out = np.zeros((3, 5)), []
        for t in range(X.shape[1]):
            _, c = gru_step(X[:, t], H_t, params, config=config)
            H_t = (1 - c["Z_t"]) * H_t + c["Z_t"] * c["H_tilde"]
            out.append(H_t)
        return np.stack(out, axis=1)

    H = gru_forward(X, p, config=config)[0]
    assert np.abs(z_on_candidate(flipped) - H).max() < 1e-14
    assert np.abs(z_on_candidate(p) - H).max() > 1e-3


# ------------------------------------------------------------------------------------------ section 4
@pytest.mark.parametrize("seed", SEEDS)
def test_seeds_gru_bugs_and_repair(seed):
    n, T, d, h, q = 2, 5, 4, 5, 3
    g = torch.Generator().manual_seed(seed)
    shapes = [(d, h), (h, h), (h,)] * 3 + [(h, q), (q,)]
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = (
        torch.randn(*s, generator=g, dtype=torch.float64) * 0.5 for s in shapes)
    X = torch.randn(T, n, d, generator=g, dtype=torch.float64)
    state = (torch.zeros(n, h, dtype=torch.float64),)
    with pytest.raises(ValueError, match="not enough values to unpack"):
        (H, C) = state
    (H,) = state
    outputs = []
    for x in X:
        Z = torch.sigmoid(x @ W_xz + H @ W_hz + b_z)
        R = torch.sigmoid(x @ W_xr + H @ W_hr + b_r)
        H = Z * H + (1 - Z) * torch.tanh(x @ W_xh + (R * H) @ W_hh + b_h)
        outputs.append(H @ W_hq + b_q)
    assert tuple(torch.cat(outputs, dim=1).shape) == (n, T * q)
    p = {"W_xr": W_xr, "W_hr": W_hr, "b_r": b_r, "W_xz": W_xz, "W_hz": W_hz, "b_z": b_z,
         "W_xh": W_xh, "W_hh": W_hh, "b_h": b_h}
    p = {k: v.numpy() for k, v in p.items()} | {"b_hh_rec": np.zeros(h)}
    H_ref = gru_forward(np.swapaxes(X.numpy(), 0, 1), p, config=CHO)[0]
    np.testing.assert_allclose(torch.stack(outputs, dim=1).numpy(), H_ref @ W_hq.numpy() + b_q.numpy(),
                               rtol=0, atol=1e-12)
    # "Z = 0 is a plain RNN" needs R = 1 as well
    X_t, H_prev = X[0].numpy(), np.random.default_rng(seed).uniform(-1, 1, size=(n, h))
    rnn = rnn_step(X_t, H_prev, {"W_xh": p["W_xh"], "W_hh": p["W_hh"], "b_h": p["b_h"]})[0]
    z0 = {**p, "b_z": np.full(h, -40.0)}
    assert np.abs(gru_step(X_t, H_prev, z0, config=CHO)[0] - rnn).max() > 1e-3
    z0r1 = {**z0, "b_r": np.full(h, 40.0)}
    assert np.abs(gru_step(X_t, H_prev, z0r1, config=CHO)[0] - rnn).max() < 1e-12


# ------------------------------------------------------------------------------------------ section 6
def test_counting_reduced_rerun():
    from course_lib.experiments.gru_counting import (
        counter_unit,
        largest_correct,
        recognised,
        states,
        train_counting,
    )

    largest = {"lstm": [], "gru": []}
    for seed in (1, 2):
        for kind in ("lstm", "gru"):
            model = train_counting(kind, seed, steps=600)
            largest[kind].append(largest_correct(recognised(model, np.arange(1, 61))))
            S = states(model, 60)
            if kind == "lstm":
                assert counter_unit(model, 20)[1] > 0.95  # one cell unit tracks #a - #b
                assert np.abs(S["C"]).max() > 1
            else:
                assert np.abs(S["H"]).max() < 1
    assert sum(largest["lstm"]) > sum(largest["gru"]), largest


def test_counting_results_file():
    res = read_results("gru_counting.json")
    runs = res["results"]["runs"]
    assert len(res["provenance"]["seeds"]) >= 3
    lstm = [r["largest_correct"] for r in runs if r["kind"] == "lstm"]
    gru = [r["largest_correct"] for r in runs if r["kind"] == "gru"]
    assert np.median(lstm) > np.median(gru)
    assert np.median(lstm) >= res["results"]["n_train"]  # the LSTMs recognise the whole training range
    assert all(r["max_abs_H"] <= 1 for r in runs)  # < 1; the file rounds to 4 decimals
    assert all(r["max_abs_C"] > 1 and r["counter_corr_train_n"] > 0.95 for r in runs if r["kind"] == "lstm")


def test_compare_results_file_and_timing_rerun():
    from course_lib.experiments.gru_compare import model_params, time_steps
    from course_lib.training import make_model

    res = read_results("gru_compare.json")["results"]
    adding = res["adding"]["runs"]
    assert all(r["steps_to_solve"] is None for r in adding if r["kind"] == "rnn")
    assert all(r["steps_to_solve"] is not None for r in adding if r["kind"] != "rnn")
    for row in res["timing"]["rows"]:
        model = make_model(row["kind"], 2, row["hidden_size"], 1)
        assert row["params"] == model_params(row["kind"], 2, row["hidden_size"], 1) == sum(
            w.numel() for w in model.parameters())
    # medians of 5 rounds of 3 steps: one sample of a millisecond-long step is noise on a shared CPU
    quick = time_steps(hidden_sizes=(16,), repeats=5, steps=3, n=16, T=50)
    assert {r["kind"] for r in quick["rows"]} == {"rnn", "gru", "lstm"}
    assert all(r["train_step_s"] > r["forward_s"] > 0 for r in quick["rows"])


def test_jsb_results_file_gated_beat_tanh_gru_close_to_lstm():
    res = read_results("gru_jsb.json")["results"]
    test = {k: [r["nll_test"] for r in res["runs"] if r["kind"] == k] for k in ("rnn", "gru", "lstm")}
    assert all(len(v) >= 3 for v in test.values())
    means = {k: np.mean(v) for k, v in test.items()}
    assert max(means.values()) < res["frequency_baseline"]["test"]  # every cell learns something
    assert max(means["gru"], means["lstm"]) < min(test["rnn"])  # every tanh run worse than the gated means
    assert abs(means["gru"] - means["lstm"]) < min(np.ptp(test["gru"]), np.ptp(test["lstm"]))
    for r in res["runs"]:
        assert abs(r["params"] - 20_000) < 500


def test_jsb_reduced_rerun_learns():
    from course_lib.experiments.gru_jsb import frequency_baseline, train_jsb
    from course_lib.jsb import load_jsb

    data = load_jsb()
    data = {**data, "train": data["train"][:80]}
    run = train_jsb("gru", seed=0, data=data, epochs=3, lr=0.03, batch=8)
    assert run["nll_valid"] < frequency_baseline(data)["valid"]
