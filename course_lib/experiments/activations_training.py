"""Activation choices under training: LSTMs with other gate, candidate or output activations, adding problem.

Experiments 3 and 4 of the activations chapter (book/05_activations.ipynb), and its porting experiment:

* **gate activations** (Gulcehre et al. 2016; Keras' ``recurrent_activation``): ``sigmoid``,
  ``hard_sigmoid_keras`` (clip(0.2 x + 0.5, 0, 1)) and ``hard_sigmoid_torch`` (relu6(x + 3) / 6) gates;
* **candidate and output activations** (Greff et al. 2017, NOAF; Le et al. 2015, ReLU in recurrence):
  a ReLU candidate with and without the output tanh, and the standard cell without its output activation
  (NOAF: ``H_t = O_t ⊙ C_t``).

Every configuration is a ``course_lib.torch_cells.LSTMLayer`` (h = 32, forget bias 1) with a linear read-out,
trained with Adam (learning rate 0.01, minibatches of 64, gradient clipping at norm 1) on the adding problem
with T = 50, evaluated every 50 steps on 500 held-out sequences, stopping once the test MSE is below 0.01.
After training, on the held-out sequences, it records for each model

* the fraction of gate values at exactly 0 or 1 and the fraction of gate pre-activations whose derivative is
  exactly 0 (``saturated_exact``), and the fraction within 0.01 of 0 or 1 (``saturated_near``);
* the fraction of forget-gate biases whose gradient ``∂L/∂b_f`` is exactly 0 on the held-out batch;
* the largest |H_t| and |C_t|;
* for the three gate activations, the test MSE and the mean |change| of the prediction when the trained
  weights are run with each other gate activation (porting a model between frameworks).

Run ``python -m course_lib.experiments activations_training`` (about 10 minutes of one CPU core) to rewrite
``book/results/activations_training.json``; ``--quick`` runs a reduced version (used by the tests).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch

from course_lib.lstm import LSTMConfig
from course_lib.tasks import ADDING_BASELINE_MSE, adding_problem
from course_lib.torch_cells import LSTMLayer, torch_activation
from course_lib.training import SequenceModel, evaluate, one_thread, train

from . import write_results

GATES = ("sigmoid", "hard_sigmoid_keras", "hard_sigmoid_torch")

#: name -> LSTMConfig keyword arguments
CONFIGS = {
    "sigmoid gates (standard)": dict(gate_activation="sigmoid"),
    "hard_sigmoid_keras gates": dict(gate_activation="hard_sigmoid_keras"),
    "hard_sigmoid_torch gates": dict(gate_activation="hard_sigmoid_torch"),
    "NOAF (no output activation)": dict(output_activation="linear"),
    "ReLU candidate, tanh output": dict(candidate_activation="relu"),
    "ReLU candidate, no output activation": dict(candidate_activation="relu", output_activation="linear"),
}

#: the open interval of pre-activations where each gate activation has a non-zero derivative
LIVE_RANGE = {
    "sigmoid": (-math.inf, math.inf),
    "hard_sigmoid_keras": (-2.5, 2.5),
    "hard_sigmoid_torch": (-3.0, 3.0),
}


def build_model(
    config: LSTMConfig, seed: int, hidden_size: int = 32, forget_bias: float = 1.0
) -> SequenceModel:
    """An ``LSTMLayer`` (d = 2: the adding problem) with a linear read-out; parameters drawn with ``seed``."""
    torch.manual_seed(seed)
    return SequenceModel(LSTMLayer(2, hidden_size, config, forget_bias=forget_bias), hidden_size, 1)


@torch.no_grad()
def gate_statistics(layer: LSTMLayer, X: np.ndarray) -> dict:
    """Run ``layer`` over ``X`` (n, T, 2) step by step and measure how saturated its gates are.

    Returns ``saturated_exact`` (fraction of gate pre-activations outside the live range of the gate
    activation, where its derivative is exactly 0), ``saturated_near`` (gate values within 0.01 of 0 or 1),
    ``max_abs_H`` and ``max_abs_C`` (largest |H_t| and |C_t| over the whole batch and sequence).
    """
    cfg = layer.config
    g = torch_activation(cfg.gate_activation)
    f_c = torch_activation(cfg.candidate_activation)
    f_o = torch_activation(cfg.output_activation)
    low, high = LIVE_RANGE.get(cfg.gate_activation, (-math.inf, math.inf))
    X = torch.as_tensor(X, dtype=torch.float32)
    n, T, _ = X.shape
    h = layer.hidden_size
    H_t, C_t = X.new_zeros((n, h)), X.new_zeros((n, h))
    exact = near = total = 0
    max_H = max_C = 0.0
    for t in range(T):
        A = {
            k: X[:, t] @ getattr(layer, f"W_x{k}")
            + H_t @ getattr(layer, f"W_h{k}")
            + getattr(layer, f"b_{k}")
            for k in ("i", "f", "c", "o")
        }
        gates = {k: g(A[k]) for k in ("i", "f", "o")}
        for k in ("i", "f", "o"):
            exact += int(((A[k] <= low) | (A[k] >= high)).sum())
            near += int(((gates[k] < 0.01) | (gates[k] > 0.99)).sum())
            total += A[k].numel()
        C_t = gates["f"] * C_t + gates["i"] * f_c(A["c"])
        H_t = gates["o"] * f_o(C_t)
        max_H = max(max_H, float(H_t.abs().max()))
        max_C = max(max_C, float(C_t.abs().max()))
    return {
        "saturated_exact": exact / total,
        "saturated_near": near / total,
        "max_abs_H": max_H,
        "max_abs_C": max_C,
    }


def zero_forget_bias_gradients(model: SequenceModel, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of the h entries of ``∂L/∂b_f`` that are exactly 0 for the MSE on ``(X, y)``."""
    model.zero_grad()
    out = model(torch.as_tensor(X, dtype=torch.float32))
    torch.nn.functional.mse_loss(out, torch.as_tensor(y, dtype=torch.float32)).backward()
    grad = model.layer.b_f.grad
    fraction = float((grad == 0).float().mean())
    model.zero_grad()
    return fraction


def swapped_gate_model(model: SequenceModel, gate_activation: str) -> SequenceModel:
    """A copy of a trained ``model`` whose layer runs with another gate activation (same weights)."""
    cfg = model.layer.config
    new_cfg = LSTMConfig(
        gate_activation=gate_activation,
        candidate_activation=cfg.candidate_activation,
        output_activation=cfg.output_activation,
    )
    layer = LSTMLayer.from_params(model.layer.to_params(), config=new_cfg)
    copy = SequenceModel(layer, model.layer.hidden_size, 1)
    copy.readout.load_state_dict(model.readout.state_dict())
    return copy


def run_one(name: str, seed: int, T: int, steps: int, X_eval, y_eval) -> dict:
    """Train configuration ``name`` with ``seed``; return its learning curve and the measurements above."""
    config = LSTMConfig(**CONFIGS[name])
    model = build_model(config, seed)
    history = train(
        model,
        lambda r: adding_problem(64, T, rng=r),
        steps=steps,
        lr=1e-2,
        eval_data=(X_eval, y_eval),
        eval_every=50,
        stop_below=0.01,
        seed=seed,
    )
    finite = all(math.isfinite(v) for v in history.eval_values)
    result = {
        "config": name,
        "seed": seed,
        "eval_steps": history.eval_steps,
        "eval_mse": [float(v) if math.isfinite(v) else None for v in history.eval_values],
        "final_mse": float(history.eval_values[-1]) if finite else None,
        "solved_at": history.first_step_below(0.01),
        "diverged": not finite,
    }
    with one_thread():
        result.update(gate_statistics(model.layer, X_eval))
        result["zero_grad_b_f"] = zero_forget_bias_gradients(model, X_eval, y_eval)
        if (
            config.gate_activation in GATES
            and config.candidate_activation == "tanh"
            and config.output_activation == "tanh"
        ):
            with torch.no_grad():
                pred = model(torch.as_tensor(X_eval, dtype=torch.float32))
            ported = {}
            for other in GATES:
                copy = swapped_gate_model(model, other)
                with torch.no_grad():
                    pred_other = copy(torch.as_tensor(X_eval, dtype=torch.float32))
                ported[other] = {
                    "mse": evaluate(copy, X_eval, y_eval),
                    "mean_abs_change": float((pred_other - pred).abs().mean()),
                }
            result["ported"] = ported
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments activations_training", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--T", type=int, default=50)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument(
        "--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS), metavar="CONFIG"
    )
    parser.add_argument("--quick", action="store_true", help="T = 20, 150 steps, seeds 0 1 (for the tests)")
    parser.add_argument("--out", default="activations_training.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small models: one thread is faster and reproducible
    if args.quick:
        args.T, args.steps, args.seeds = 20, 150, [0, 1]
    X_eval, y_eval = adding_problem(500, args.T, rng=np.random.default_rng(1000))
    runs = []
    for seed in args.seeds:  # seeds outermost: an interrupted run still covers every configuration
        for name in args.configs:
            run = run_one(name, seed, args.T, args.steps, X_eval, y_eval)
            print(
                f"{name:40s} seed {seed}: final MSE {run['final_mse']}, solved at {run['solved_at']}, "
                f"saturated (exact) {run['saturated_exact']:.3f}, zero dL/db_f {run['zero_grad_b_f']:.2f}",
                flush=True,
            )
            runs.append(run)
    results = {
        "task": "adding problem",
        "T": args.T,
        "steps": args.steps,
        "hidden_size": 32,
        "forget_bias": 1.0,
        "lr": 0.01,
        "batch": 64,
        "clip_norm": 1.0,
        "baseline_mse": ADDING_BASELINE_MSE,
        "configs": args.configs,
        "runs": runs,
    }
    path = write_results(args.out, results, seeds=args.seeds)
    print(f"wrote {path}")
    return 0
