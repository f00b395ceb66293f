"""The claims of the activations chapter (book/05_activations.ipynb), checked over several seeds.

Each test names the section of the chapter whose claim it repeats. The notebook makes each claim with a few
seeds; here the same computations run with other seeds (and sizes), the experiment modules run in their
reduced ``--quick`` form, and the committed results files are checked for what the chapter reads from them.
The activation functions themselves are tested in tests/test_activations.py, the exercises in
tests/test_exercises.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from course_lib import activations as A
from course_lib.experiments import activations_memory as memory
from course_lib.experiments import activations_speed as speed
from course_lib.experiments import activations_training as training
from course_lib.experiments import read_results
from course_lib.lstm import LSTMConfig, init_lstm_params, lstm_forward
from course_lib.tasks import adding_problem
from course_lib.torch_cells import LSTMLayer

SEEDS = [10, 11, 12, 13, 14]


# ------------------------------------------------------------------------------------------ section 1 and 2
def test_the_two_hard_sigmoids_differ_by_one_twelfth():
    x = np.linspace(-10, 10, 400001)
    gap = np.abs(A.hard_sigmoid_keras(x) - A.hard_sigmoid_torch(x))
    assert gap.max() == pytest.approx(1 / 12, abs=1e-9)
    assert np.abs(np.abs(x[gap.argmax()]) - 2.5) < 1e-4
    torch_value = torch.nn.functional.hardsigmoid(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(A.hard_sigmoid_torch(x), torch_value, rtol=0, atol=1e-15)
    # the smooth functions are never exactly flat on a moderate range; the hard ones are beyond their kinks
    xs = np.linspace(-15, 15, 3001)
    for f in (A.d_sigmoid, A.d_tanh, A.d_bipolar_sigmoid, A.d_lstm1997_g):
        assert np.all(f(xs) > 0)
    assert np.all(A.d_hard_sigmoid_keras(xs[np.abs(xs) >= 2.5]) == 0)
    assert np.all(A.d_hard_sigmoid_torch(xs[np.abs(xs) >= 3]) == 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_porting_between_gate_activations_changes_a_trained_model(seed):
    """Section 2, live cell: a hard-sigmoid LSTM trained briefly; other gate functions change its output."""
    T = 10
    X_eval, y_eval = adding_problem(200, T, rng=np.random.default_rng(500 + seed))
    model = training.build_model(LSTMConfig(gate_activation="hard_sigmoid_keras"), seed=seed)
    training.train(model, lambda r: adding_problem(64, T, rng=r), steps=200, lr=1e-2, seed=seed)
    mse = {}
    for g in training.GATES:
        mse[g] = training.evaluate(training.swapped_gate_model(model, g), X_eval, y_eval)
    assert mse["hard_sigmoid_keras"] < 0.05  # it learned (baseline 0.167)
    assert mse["hard_sigmoid_torch"] > mse["hard_sigmoid_keras"]
    assert mse["sigmoid"] > mse["hard_sigmoid_keras"]
    same = training.swapped_gate_model(model, "hard_sigmoid_keras")
    with torch.no_grad():
        X = torch.as_tensor(X_eval)
        assert torch.equal(same(X), model(X))  # swapping to the same activation changes nothing


# ------------------------------------------------------------------------------------------ section 3
@pytest.mark.parametrize("seed", SEEDS)
def test_keep_regime_needs_gates_flat_at_zero_and_one(seed):
    ratio = {g: memory.keep_regime(g, seed) for g in memory.GATE_ACTIVATIONS}
    assert np.max(np.abs(ratio["sigmoid"] - 1)) < 1e-6
    assert np.all(ratio["hard_sigmoid_keras"] == 1.0) and np.all(ratio["hard_sigmoid_torch"] == 1.0)
    assert np.mean(np.abs(ratio["tanh"] - 1) < 0.01) < 0.1  # the closed input gate leaks
    assert np.mean(np.abs(ratio["relu"] - 1) < 0.01) < 0.1  # the open forget gate has no ceiling
    assert np.any(ratio["tanh"] < 0)  # a tanh gate can flip the sign of the memory


def test_keep_regime_tanh_leak_grows_with_the_gate_noise():
    quiet = np.abs(memory.keep_regime("tanh", 20, noise=0.05) - 1).mean()
    loud = np.abs(memory.keep_regime("tanh", 20, noise=0.5) - 1).mean()
    assert loud > 3 * quiet > 0


# ------------------------------------------------------------------------------------------ section 4
@pytest.mark.parametrize("seed", SEEDS)
def test_output_activation_bounds_the_hidden_state(seed):
    names = list(memory.OUTPUT_VARIANTS)
    standard, noaf, relu_tanh, relu_noaf = names
    H = {(name, b): memory.output_growth(name, b, seed)["max_abs_H"] for name in names for b in (1.0, 3.0)}
    for b in (1.0, 3.0):
        assert H[standard, b] < 1.0 and H[relu_tanh, b] < 1.0
    assert H[noaf, 3.0] > 100 * H[standard, 3.0]
    assert H[relu_noaf, 3.0] > 30 * H[standard, 3.0]  # from ~40 to ~1e18 depending on the seed
    for name in names:  # with forget bias 1 nothing builds up
        assert H[name, 1.0] < 2.0


def test_relu_candidate_without_output_activation_grows_by_orders_of_magnitude():
    name = "ReLU candidate, no output activation"
    H = [memory.output_growth(name, 3.0, seed)["max_abs_H"] for seed in SEEDS]
    assert np.median(H) > 1e3 and max(H) > 1e6


def test_output_growth_at_another_size():
    """The NOAF growth at forget bias 3 does not depend on the particular sizes of the chapter."""
    for seed in (0, 1):
        X = np.random.default_rng(seed).normal(size=(4, 300, 3))
        big = {}
        for name in ("standard (tanh candidate, tanh output)", "NOAF (no output activation)"):
            cfg = memory.OUTPUT_VARIANTS[name]
            p = init_lstm_params(3, 24, config=cfg, rng=200 + seed, forget_bias=3.0)
            H, _, _ = lstm_forward(X, p, config=cfg)
            big[name] = np.abs(H).max()
        assert big["NOAF (no output activation)"] > 30 * big["standard (tanh candidate, tanh output)"]


# ------------------------------------------------------------------------------------------ section 5
def test_perfect_carry_numbers():
    assert A.sigmoid(1.0) ** 100 == pytest.approx(2.5e-14, rel=0.02)
    assert A.sigmoid(3.0) ** 100 == pytest.approx(0.0078, rel=0.01)
    assert A.hard_sigmoid_keras(3.0) ** 100 == 1.0 and A.hard_sigmoid_torch(3.0) ** 100 == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saturated_hard_forget_gate_gets_exactly_zero_gradient(seed):
    X = torch.from_numpy(np.random.default_rng(seed).normal(size=(5, 25, 2)))
    grads = {}
    for gate in training.GATES:
        torch.manual_seed(seed)
        layer = LSTMLayer(2, 6, LSTMConfig(gate_activation=gate), forget_bias=4.0, dtype=torch.float64)
        with torch.no_grad():
            layer.W_xf.mul_(0.1)
            layer.W_hf.mul_(0.1)
        _, (H_T, _) = layer(X)
        H_T.pow(2).sum().backward()
        grads[gate] = (layer.b_f.grad.clone(), layer.b_i.grad.clone())
    assert torch.all(grads["sigmoid"][0] != 0)
    for gate in ("hard_sigmoid_keras", "hard_sigmoid_torch"):
        assert torch.all(grads[gate][0] == 0) and torch.any(grads[gate][1] != 0)


def test_training_experiment_quick(tmp_path):
    out = tmp_path / "training.json"
    configs = ["hard_sigmoid_keras gates", "ReLU candidate, no output activation"]
    assert training.main(["--quick", "--steps", "60", "--configs", *configs, "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["provenance"]["seeds"] == [0, 1]
    runs = payload["results"]["runs"]
    assert {r["config"] for r in runs} == set(configs) and len(runs) == 4
    for r in runs:
        assert 0.0 <= r["saturated_exact"] <= 1.0 and 0.0 <= r["zero_grad_b_f"] <= 1.0
        if r["config"] == "hard_sigmoid_keras gates":
            assert r["ported"]["hard_sigmoid_keras"]["mean_abs_change"] == 0.0
            assert r["ported"]["hard_sigmoid_torch"]["mean_abs_change"] > 0.0
        else:
            assert "ported" not in r


def test_committed_training_results_support_the_chapter():
    """What section 2 and 5 read from book/results/activations_training.json (written by the module)."""
    payload = read_results("activations_training.json")
    assert payload["provenance"]["seeds"] == [0, 1, 2]
    assert "activations_training" in payload["provenance"]["command"]
    res = payload["results"]
    runs = res["runs"]
    assert {r["config"] for r in runs} == set(training.CONFIGS) and len(runs) == 3 * len(training.CONFIGS)
    for r in runs:
        if "ported" in r:  # every swap of the gate activation made the test error larger
            own = r["ported"][r["config"].split(" ")[0]]["mse"]
            assert all(v["mse"] > own for g, v in r["ported"].items() if not r["config"].startswith(g))
        if r["config"].startswith("hard_sigmoid"):
            assert r["saturated_exact"] > 0.0
        if r["config"].startswith("sigmoid"):
            assert r["saturated_exact"] == 0.0 and r["zero_grad_b_f"] == 0.0


# ------------------------------------------------------------------------------------------ section 7
def test_speed_experiment_quick(tmp_path):
    out = tmp_path / "speed.json"
    assert speed.main(["--quick", "--out", str(out)]) == 0
    res = json.loads(out.read_text())["results"]
    for part in ("elementwise_small", "elementwise_large", "lstm_layer"):
        for t in res[part]["times"].values():
            assert 0 < t["q25_s"] <= t["median_s"] <= t["q75_s"] and math.isfinite(t["median_s"])
    layer = res["lstm_layer"]["times"]
    assert set(layer) == {f"LSTMLayer {p} {g} gates" for p in speed.PATHS for g in training.GATES}
    # the fast path is about 3 times faster than the per-gate loop in the committed run: even 3 noisy
    # interleaved repeats keep it faster
    for g in training.GATES:
        fast, loop = layer[f"LSTMLayer fast {g} gates"], layer[f"LSTMLayer reference {g} gates"]
        assert fast["median_s"] < loop["median_s"]


def test_committed_speed_results_support_the_chapter():
    """What section 7 and the summary say about book/results/activations_speed.json (from the module)."""
    payload = read_results("activations_speed.json")
    assert "activations_speed" in payload["provenance"]["command"]
    res = payload["results"]
    assert "process_time" in res["timer"]  # the chapter says CPU time, not wall-clock time

    def ratio(part, name, reference):
        times = res[part]["times"]
        return times[name]["median_s"] / times[reference]["median_s"]

    # faster on large arrays: NumPy's clip formula and PyTorch's fused hardsigmoid
    assert ratio("elementwise_large", "numpy hard_sigmoid_keras (clip)", "numpy 1/(1+exp(-x))") < 1
    for part in ("forward", "forward+backward"):
        fused = f"torch hardsigmoid (F.hardsigmoid) {part}"
        assert ratio("elementwise_large", fused, f"torch.sigmoid {part}") < 1
    # not faster: NumPy on gate-sized arrays (about equal), the clamp formulas, a whole LSTM layer
    assert 0.8 < ratio("elementwise_small", "numpy hard_sigmoid_keras (clip)", "numpy 1/(1+exp(-x))") < 1.25
    for part in ("elementwise_small", "elementwise_large"):
        for kind in ("forward", "forward+backward"):
            for g in training.GATES[1:]:
                assert ratio(part, f"torch {g} (clamp) {kind}", f"torch.sigmoid {kind}") > 1
    # a whole LSTMLayer, on the fast path (hard sigmoid folded into one clamp) and on the per-gate loop:
    # hard-sigmoid gates clearly slower (> 10 %); the fast path well under the loop's time, whatever the gates
    assert speed.PATHS == ("fast", "reference")
    for path in speed.PATHS:
        for g in training.GATES[1:]:
            assert ratio("lstm_layer", f"LSTMLayer {path} {g} gates", f"LSTMLayer {path} sigmoid gates") > 1.1
    for g in training.GATES:
        assert ratio("lstm_layer", f"LSTMLayer fast {g} gates", f"LSTMLayer reference {g} gates") < 0.6
    assert "reference=True" in res["lstm_layer"]["paths"]["reference"]


def test_memory_experiment_quick(tmp_path):
    out = tmp_path / "memory.json"
    assert memory.main(["--quick", "--out", str(out)]) == 0
    res = json.loads(out.read_text())["results"]
    keep = res["keep_regime"]["results"]
    assert keep["hard_sigmoid_keras"]["fraction_kept_within_1pct"] == 1.0
    assert keep["tanh"]["fraction_kept_within_1pct"] < 0.1


# ------------------------------------------------------------------------------------------ section 6
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_candidate_units_without_forget_gradient_are_the_dead_cells(seed):
    """Zero dL/db_f with a ReLU candidate happens exactly for the units whose cell stays 0 (dead ReLU)."""
    X, y = adding_problem(100, 30, rng=np.random.default_rng(40 + seed))
    model = training.build_model(LSTMConfig(candidate_activation="relu"), seed=seed)
    model.zero_grad()
    out = model(torch.as_tensor(X))
    torch.nn.functional.mse_loss(out, torch.as_tensor(y)).backward()
    zero_grad = (model.layer.b_f.grad == 0).numpy()
    params = {k: v.astype(np.float64) for k, v in model.layer.to_params().items()}
    C = lstm_forward(X.astype(np.float64), params, config=LSTMConfig(candidate_activation="relu"))[1]
    dead = np.all(C == 0, axis=(0, 1))
    np.testing.assert_array_equal(zero_grad, dead)
    assert 0 < dead.sum() < dead.size  # some units dead, not all
