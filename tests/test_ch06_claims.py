"""The claims of book/06_peepholes.ipynb: the hand-set timer, the two new tasks, the stored experiments (their
statistics recomputed from the stored runs), and short reruns that must reproduce the stored curves."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import wilcoxon

from course_lib.exercises.ch06_peepholes import timer_gates
from course_lib.experiments import read_results
from course_lib.lstm import LSTMConfig, lstm_forward
from course_lib.tasks import flip_flop_task, spike_timing_task

MODELS = ("V", "NIG", "NFG", "NOG", "NIAF", "NOAF", "NP", "CIFG", "FGR", "GRU")


def timer_params(delay):
    """The chapter's one-cell timer for any delay, with the output and forget gates from the exercise."""
    p_o, b_o, p_f, b_f = timer_gates(delay)
    delta = 1.0 / (delay + 1)
    k = 20.0 / delta
    z = np.zeros((1, 1))
    return {
        "W_xi": np.array([[20.0]]),
        "W_hi": np.array([[-2 * k]]),
        "b_i": np.array([-10.0]),
        "p_i": np.array([k]),
        "W_xf": z,
        "W_hf": z,
        "b_f": np.array([b_f]),
        "p_f": np.array([p_f]),
        "W_xo": z,
        "W_ho": z,
        "b_o": np.array([b_o]),
        "p_o": np.array([p_o]),
        "W_xc": z,
        "W_hc": z,
        "b_c": np.array([np.arctanh(delta)]),
    }


@pytest.mark.parametrize("delay", [3, 9, 20])
def test_hand_set_timer_spikes_exactly_delay_steps_after_each_pulse(delay):
    T = 3 * (delay + 4)
    pulses = [2, delay + 6]
    X = np.zeros((1, T, 1))
    X[0, pulses, 0] = 1.0
    H, C, _ = lstm_forward(X, timer_params(delay), config=LSTMConfig(peepholes=True))
    spikes = np.flatnonzero(H[0, :, 0] > 0.5)
    assert (spikes - np.array(pulses)).tolist() == [delay, delay]
    assert np.delete(H[0, :, 0], spikes).max() < 0.01  # silent in between
    # without peepholes the same weights never spike
    blind = {**timer_params(delay), "p_i": np.zeros(1), "p_f": np.zeros(1), "p_o": np.zeros(1)}
    H_blind, _, _ = lstm_forward(X, blind, config=LSTMConfig(peepholes=True))
    assert H_blind.max() < 0.01


def test_flip_flop_target_is_the_last_press():
    X, y = flip_flop_task(200, 12, p_event=0.3, rng=0)
    assert X.shape == (200, 12, 2) and y.shape == (200, 1)
    assert np.all(X[:, 6:] == 0)  # presses only in the first half
    assert np.all(X.sum(axis=(1, 2)) >= 1)  # at least one press
    assert np.all(X.sum(axis=2) <= 1)  # one button at a time
    for x, target in zip(X, y[:, 0]):
        last = np.flatnonzero(x.sum(axis=1))[-1]
        assert target == (1.0 if x[last, 0] == 1 else 0.0)
    assert 0.3 < y.mean() < 0.7
    with pytest.raises(ValueError, match="p_event"):
        flip_flop_task(2, 10, p_event=1.5)


def test_spike_timing_task():
    X, Y = spike_timing_task(100, 24, 12, rng=1)
    t0, t1 = X[..., 0].argmax(axis=1), Y[..., 0].argmax(axis=1)
    assert np.all(t1 - t0 == 12)
    assert np.all(X.sum(axis=(1, 2)) == 1) and np.all(Y.sum(axis=(1, 2)) == 1)
    with pytest.raises(ValueError, match="delay"):
        spike_timing_task(2, 10, 10)


def test_stored_timing_experiment_and_its_claim():
    res = read_results("peephole_timing.json")
    r = res["results"]
    seeds = res["provenance"]["seeds"]
    assert len(seeds) >= 10 and len(r["runs"]["V"]) == len(r["runs"]["NP"]) == len(seeds)
    final_V = np.array([x["final"] for x in r["runs"]["V"]])
    final_NP = np.array([x["final"] for x in r["runs"]["NP"]])
    p = wilcoxon(final_V - final_NP).pvalue
    assert p == pytest.approx(r["test_mse"]["p_value"], abs=1e-5)
    # the chapter's claims: both learn the task (the spike on time in >= 99% of held-out sequences, median
    # MSE far below the baseline), and peepholes give no significant advantage at this budget
    for v in ("V", "NP"):
        assert all(x["final_on_time"] >= 0.99 for x in r["runs"][v])
    assert np.median(final_V) < 0.01 and np.median(final_NP) < 0.01
    assert p >= 0.05


def test_timing_rerun_reproduces_the_stored_start():
    from course_lib.experiments.peephole_timing import run_pair_member

    r = read_results("peephole_timing.json")["results"]
    s = r["settings"]
    kw = {k: s[k] for k in ("T", "delay", "h", "lr", "batch", "eval_every")}
    torch.set_num_threads(1)
    for v in ("V", "NP"):
        live = run_pair_member(v, 0, steps=2 * s["eval_every"], **kw)
        np.testing.assert_allclose(live["curve"], r["runs"][v][0]["curve"][:2], rtol=0.05, atol=1e-4)


def _family():
    return {t: read_results(f"lstm_family_{t}.json")["results"] for t in ("flip_flop", "adding")}


def test_stored_family_has_every_model_and_seed():
    for task, r in _family().items():
        assert tuple(r["models"]) == MODELS
        for m in MODELS:
            runs = r["runs"][task][m]
            assert len(runs) >= 5
            for run in runs:
                assert run["final"] >= 0 and len(run["curve"]) == len(run["steps"])
        # V left the plateau on every seed (trained long enough)
        assert all(run["final"] < 0.5 for run in r["runs"][task]["V"])


def _paired_p(final, model):
    diffs = np.concatenate([np.log10(final[t][model]) - np.log10(final[t]["V"]) for t in final])
    return diffs, wilcoxon(diffs).pvalue


def test_family_claims_hold_in_the_stored_runs():
    fam = _family()
    final = {t: {m: np.array([x["final"] for x in r["runs"][t][m]]) for m in MODELS} for t, r in fam.items()}
    assert all(final[t][m].min() > 0 for t in final for m in MODELS)  # log10 is defined
    tests = {m: _paired_p(final, m) for m in MODELS if m != "V"}
    assert all(d.size == 10 for d, _ in tests.values())
    assert all(final["flip_flop"][m].max() < 0.005 for m in MODELS)
    assert all(tests[m][1] > 0.05 for m in MODELS if m not in ("V", "GRU"))  # no LSTM variant differs from V
    assert tests["NFG"][1] > 0.5
    assert tests["GRU"][1] < 0.05 and np.median(tests["GRU"][0]) < 0


def test_nfg_learns_the_flip_flop_more_slowly_on_every_seed():
    # the chapter's learning-speed claim: mean log10 of the held-out curve, NFG minus V, per seed
    r = _family()["flip_flop"]["runs"]["flip_flop"]

    def mean_log(m):
        return np.array([np.mean(np.log10(x["curve"])) for x in r[m]])

    gap = mean_log("NFG") - mean_log("V")
    assert gap.size >= 5 and (gap > 0.3).all()
    adding = _family()["adding"]["runs"]["adding"]
    gap_adding = np.array(
        [
            np.mean(np.log10(a["curve"])) - np.mean(np.log10(b["curve"]))
            for a, b in zip(adding["NFG"], adding["V"], strict=True)
        ]
    )
    assert (gap_adding > 0.3).sum() == 0  # not behind on the adding problem


def test_longer_flip_flop_v_stays_on_the_plateau_nfg_starts_to_learn():
    res = read_results("lstm_family_flip_flop_T64.json")
    r = res["results"]
    assert r["settings"]["T"] == 64 and r["settings"]["steps"] == _family()["flip_flop"]["settings"]["steps"]
    assert len(res["provenance"]["seeds"]) >= 5
    final = {m: np.array([x["final"] for x in r["runs"]["flip_flop"][m]]) for m in ("V", "NFG")}
    assert final["V"].min() > 0.9
    assert (final["NFG"] < 0.9).sum() >= 4
    # ... and the same V started with b_f = 2 solves it
    biased = read_results("lstm_family_flip_flop_T64_forget_bias2.json")["results"]
    assert biased["settings"]["forget_bias"] == 2.0 and biased["settings"]["T"] == 64
    assert {k: v for k, v in biased["settings"].items() if k != "forget_bias"} == {
        k: v for k, v in r["settings"].items() if k != "forget_bias"
    }
    assert max(x["final"] for x in biased["runs"]["flip_flop"]["V"]) < 0.01


def test_family_rerun_reproduces_the_stored_start():
    from course_lib.experiments.lstm_family import run_one

    r = _family()["flip_flop"]
    s = r["settings"]
    torch.set_num_threads(1)
    for m in ("V", "NFG"):
        live = run_one(
            "flip_flop",
            m,
            0,
            T=s["T"],
            h=s["h"],
            steps=2 * s["eval_every"],
            lr=s["lr"],
            batch=s["batch"],
            eval_every=s["eval_every"],
        )
        np.testing.assert_allclose(
            live["curve"], r["runs"]["flip_flop"][m][0]["curve"][:2], rtol=0.05, atol=1e-4
        )


def test_quick_experiments_run(capsys):
    from course_lib.experiments import lstm_family, peephole_timing

    assert peephole_timing.main(["--quick"]) == 0
    assert lstm_family.main(["--quick", "--tasks", "flip_flop"]) == 0
    out = capsys.readouterr().out
    assert "p_value" in out and "flip_flop" in out
