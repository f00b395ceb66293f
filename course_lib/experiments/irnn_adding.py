"""ReLU RNNs at initialisation and in training: He's random N(0, 2/h) versus the IRNN (chapter 2, section 8).

``python -m course_lib.experiments irnn_adding`` does two things for several seeds and writes
``book/results/irnn_adding.json``:

* **at initialisation** (NumPy, h = 64, T = 50, 16 adding-problem sequences): for each draw of He's
  ``W_hh ~ N(0, 2/h)``, its spectral radius, the fraction of ReLU units active over all steps, the median
  over the sequences of ``||dH_T/dH_0||_2`` and the per-step growth ``median ** (1/T)``; for the IRNN
  (``W_hh = I``) the same median norm;
* **in training** (PyTorch, h = 32, T = 30, 300 Adam steps, batches of 64, learning rate 0.002, no clipping):
  the test MSE of a tanh RNN, a ReLU RNN with He's ``W_hh`` and an IRNN, every 25 steps.

``--quick`` runs a reduced version (2 seeds, 60 training steps) for the tests.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from course_lib import gradients as gr
from course_lib import rnn
from course_lib.experiments import write_results
from course_lib.tasks import adding_problem
from course_lib.training import make_model, one_thread, train

H_INIT, T_INIT, N_INIT = 64, 50, 16
H_TRAIN, T_TRAIN, STEPS, LR, EVAL_EVERY = 32, 30, 300, 2e-3, 25
MODELS = ("tanh RNN", "ReLU RNN, He init", "IRNN")


def init_statistics(seed: int, h: int = H_INIT, T: int = T_INIT, n: int = N_INIT) -> dict:
    """He's N(0, 2/h) recurrent matrix of draw ``seed`` versus W_hh = I, on the same inputs and W_xh."""
    X, _ = adding_problem(n, T, rng=4, dtype=np.float64)
    p_he = rnn.init_rnn_params(2, h, rng=seed)
    p_he["W_hh"] = np.random.default_rng(100 + seed).normal(scale=np.sqrt(2 / h), size=(h, h))
    _, c_he = rnn.rnn_forward(X, p_he, activation="relu")
    A = np.stack([step["A_t"] for step in c_he["steps"]], axis=1)
    he_median = float(np.median(gr.jacobian_norms_by_lag(c_he)[:, -1]))
    p_id = rnn.init_rnn_params(2, h, rng=seed)
    p_id["W_hh"], p_id["b_h"] = np.eye(h), np.zeros(h)
    _, c_id = rnn.rnn_forward(X, p_id, activation="relu")
    return {
        "seed": seed,
        "he_spectral_radius": float(np.abs(np.linalg.eigvals(p_he["W_hh"])).max()),
        "he_active_fraction": float((A > 0).mean()),
        "he_median_norm_T": he_median,
        "he_growth_per_step": he_median ** (1.0 / T),
        "irnn_median_norm_T": float(np.median(gr.jacobian_norms_by_lag(c_id)[:, -1])),
    }


def build_models(seed: int, h: int = H_TRAIN) -> dict:
    """The three networks of the comparison, drawn with ``seed``."""
    models = {
        "tanh RNN": make_model("rnn", 2, h, 1, seed=seed),
        "ReLU RNN, He init": make_model("rnn", 2, h, 1, nonlinearity="relu", seed=seed),
        "IRNN": make_model("rnn", 2, h, 1, nonlinearity="relu", identity_init=True, seed=seed),
    }
    with torch.no_grad():
        torch.nn.init.normal_(models["ReLU RNN, He init"].layer.weight_hh_l0, 0.0, np.sqrt(2 / h))
    return models


def train_run(seed: int, steps: int = STEPS) -> dict:
    """Test MSE curves of the three networks trained with ``seed``."""
    eval_data = adding_problem(500, T_TRAIN, rng=123)

    def batches(r):
        return adding_problem(64, T_TRAIN, r)

    out = {}
    for name, model in build_models(seed).items():
        hist = train(model, batches, steps=steps, lr=LR, clip_norm=None, eval_data=eval_data,
                     eval_every=EVAL_EVERY, seed=seed)
        out[name] = {"eval_steps": list(hist.eval_steps), "eval_mse": [float(v) for v in hist.eval_values]}
    return out


def run(seeds, steps: int = STEPS) -> dict:
    with one_thread():
        init = [init_statistics(s) for s in seeds]
        training = {str(s): train_run(s, steps) for s in seeds}
    final = {name: [training[str(s)][name]["eval_mse"][-1] for s in seeds] for name in MODELS}
    return {
        "settings": {"init": {"h": H_INIT, "T": T_INIT, "n": N_INIT},
                     "train": {"h": H_TRAIN, "T": T_TRAIN, "steps": steps, "lr": LR, "batch": 64,
                               "clip": None, "eval_every": EVAL_EVERY, "eval_n": 500}},
        "init": init,
        "training": training,
        "final_mse": final,
        "median_final_mse": {name: float(np.median(v)) for name, v in final.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.experiments irnn_adding", description=__doc__)
    parser.add_argument("--seeds", type=int, default=8, help="number of seeds (0, 1, ...)")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--quick", action="store_true", help="2 seeds, 60 steps (for the tests)")
    parser.add_argument("--out", default="irnn_adding.json", help="results file (relative: book/results/)")
    args = parser.parse_args(argv)
    seeds = list(range(2 if args.quick else args.seeds))
    steps = 60 if args.quick else args.steps
    results = run(seeds, steps)
    path = write_results(args.out, results, seeds)
    for name, value in results["median_final_mse"].items():
        print(f"{name:18s} median test MSE over {len(seeds)} seeds: {value:.3f}")
    print("wrote", path)
    return 0
