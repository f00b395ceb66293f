"""A miniature of Greff et al. (2017), "LSTM: A Search Space Odyssey": every LSTM variant (and the GRU) on two
small tasks, several seeds each.

    python -m course_lib.experiments lstm_family                 # writes book/results/lstm_family_<task>.json
    python -m course_lib.experiments lstm_family --quick         # a reduced run (tests), prints the summary

The stored files were made in five processes (two models each, ``--models ... --out part.json``) merged
with ``--merge``; each file records the commands. One process gives the same numbers (a seed fixes
everything).

For each task, seed and model the script trains a :class:`course_lib.training.SequenceModel` (one recurrent
layer, h units, a linear read-out of H_T) with Adam on fresh minibatches and records the evaluation MSE on a
fixed held-out set every ``eval_every`` steps, divided by the task's baseline MSE (predicting the mean), so
1.0 is "learned nothing" and 0.0 is perfect. A seed fixes the minibatch stream and the held-out set
(identical for every model) and torch's generator before the layer is built.

Greff et al. ran a random search over learning rate, size, momentum and input noise (200 trials per variant
and data set: TIMIT, IAM Online, JSB Chorales) and compared variants with a Welch t-test; here every
variant gets the same fixed hyper-parameters, chosen once for V.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course_lib import tasks
from course_lib.experiments import write_results
from course_lib.lstm_family import VARIANTS, LSTMFamilyLayer
from course_lib.training import SequenceModel, evaluate, train

MODELS = (*VARIANTS, "GRU")

TASKS = {
    # name: (batch function of (n, rng), input size, baseline MSE, description)
    "flip_flop": (
        lambda n, T, rng: tasks.flip_flop_task(n, T, p_event=0.5, rng=rng),
        2,
        tasks.FLIP_FLOP_BASELINE_MSE,
        "flip-flop memory: which button, set or reset, was pressed last (a press at each step of "
        "the first half with probability 0.5)",
    ),
    "adding": (
        lambda n, T, rng: tasks.adding_problem(n, T, rng=rng),
        2,
        tasks.ADDING_BASELINE_MSE,
        "adding problem: the sum of the two marked values",
    ),
}


def build_model(model: str, d: int, h: int, seed: int, forget_bias: float = 0.0) -> SequenceModel:
    """A one-layer model of kind ``model`` (a Greff variant or "GRU"), drawn after torch.manual_seed(seed).

    forget_bias: the initial ``b_f`` of the LSTM variants that have a forget gate (0 for the others).
    """
    torch.manual_seed(seed)
    if model == "GRU":
        if forget_bias != 0.0:
            raise ValueError(f"forget_bias={forget_bias!r} is for the LSTM variants, not the GRU.")
        layer = torch.nn.GRU(d, h, batch_first=True)
    else:
        layer = LSTMFamilyLayer(d, h, model, forget_bias=forget_bias)
    return SequenceModel(layer, h, 1)


def run_one(
    task: str,
    model: str,
    seed: int,
    *,
    T: int,
    h: int,
    steps: int,
    lr: float,
    batch: int,
    eval_every: int,
    n_eval: int = 512,
    forget_bias: float = 0.0,
) -> dict:
    """Train one model on one task with one seed; return its normalised evaluation curve."""
    make, d, baseline, _ = TASKS[task]
    X_eval, y_eval = make(n_eval, T, np.random.default_rng(10_000 + seed))
    net = build_model(model, d, h, seed, forget_bias)
    history = train(
        net,
        lambda rng: make(batch, T, rng),
        steps=steps,
        lr=lr,
        loss="mse",
        clip_norm=1.0,
        eval_data=(X_eval, y_eval),
        eval_every=eval_every,
        seed=seed,
    )
    curve = [round(v / baseline, 5) for v in history.eval_values]
    final = evaluate(net, X_eval, y_eval) / baseline
    return {"steps": history.eval_steps, "curve": curve, "final": round(final, 5)}


def summarise(runs: dict, models=MODELS) -> dict:
    """Per task and model: the final normalised MSE of each seed, and the median."""
    out = {}
    for task, by_model in runs.items():
        out[task] = {
            m: {
                "final": [r["final"] for r in by_model[m]],
                "median": float(np.median([r["final"] for r in by_model[m]])),
            }
            for m in models
            if m in by_model
        }
    return out


def paired_tests(runs: dict, reference: str = "V", models=MODELS) -> dict:
    """Wilcoxon signed-rank tests of each model against ``reference``, pairing runs by (task, seed).

    The statistic is on the difference of final normalised MSEs (model − reference); two-sided p-values,
    exact for these small samples. ``median_diff`` > 0 means the model ended worse than the reference.
    """
    from scipy.stats import wilcoxon

    out = {}
    for m in models:
        if m == reference:
            continue
        diffs = []
        for by_model in runs.values():
            for a, b in zip(by_model[m], by_model[reference], strict=True):
                diffs.append(a["final"] - b["final"])
        diffs = np.asarray(diffs)
        p = float(wilcoxon(diffs).pvalue) if np.any(diffs != 0) else 1.0
        out[m] = {
            "n_pairs": int(diffs.size),
            "median_diff": round(float(np.median(diffs)), 5),
            "worse_in": int((diffs > 0).sum()),
            "p_value": round(p, 5),
        }
    return out


def merge(paths) -> int:
    """Merge part files (same settings and seeds, disjoint models) into ``lstm_family_<task>.json``.

    Lets the runs be spread over several processes: each part is written by a run with ``--models ...
    --out <part>``; the merged file records every part's command.
    """
    from course_lib.experiments import read_results

    parts = [read_results(p) for p in paths]
    settings, seeds = parts[0]["results"]["settings"], parts[0]["provenance"]["seeds"]
    for part in parts:
        if part["results"]["settings"] != settings or part["provenance"]["seeds"] != seeds:
            raise ValueError("merge: the parts were run with different settings or seeds")
    commands = [part["provenance"]["command"] for part in parts]
    for task in parts[0]["results"]["tasks"]:
        runs = {task: {}}
        for part in parts:
            runs[task].update(part["results"]["runs"][task])
        models = [m for m in MODELS if m in runs[task]]
        runs[task] = {m: runs[task][m] for m in models}
        results = {
            "settings": settings,
            "tasks": {task: parts[0]["results"]["tasks"][task]},
            "models": models,
            "runs": runs,
            "summary": summarise(runs, models),
            "tests_vs_V": paired_tests(runs, models=models) if "V" in models else {},
            "cpu_seconds": sum(part["results"]["cpu_seconds"] for part in parts)
            // len(parts[0]["results"]["tasks"]),
            "parts": commands,
        }
        path = write_results(
            f"lstm_family_{task}.json",
            results,
            seeds,
            command=" && ".join(commands) + " && python -m course_lib.experiments lstm_family "
            "--merge " + " ".join(str(p) for p in paths),
        )
        print("wrote", path)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m course_lib.experiments lstm_family",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--seeds", type=int, default=5, help="seeds per task and model (default 5)")
    ap.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    ap.add_argument("--tasks", nargs="*", default=list(TASKS), choices=list(TASKS))
    ap.add_argument("--T", type=int, default=16, help="sequence length")
    ap.add_argument("--h", type=int, default=16, help="hidden units")
    ap.add_argument("--steps", type=int, default=300, help="Adam steps per run")
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--eval-every", type=int, default=25)
    ap.add_argument(
        "--forget-bias",
        type=float,
        default=0.0,
        help="initial b_f of the variants with a forget gate (default 0; the stored family runs use 0)",
    )
    ap.add_argument("--quick", action="store_true", help="a tiny run; prints the summary, writes nothing")
    ap.add_argument(
        "--merge",
        nargs="+",
        metavar="PART",
        help="merge part files (runs of some models, written with --out) into one results file "
        "per task, lstm_family_<task>.json, and exit",
    )
    ap.add_argument(
        "--out",
        default=None,
        help="one results file for all tasks (a part, for --merge); default: lstm_family_<task>.json "
        "under book/results/ for each task",
    )
    args = ap.parse_args(argv)
    if args.merge:
        return merge(args.merge)
    if args.quick:
        args.seeds, args.steps, args.models = 2, 60, ["V", "NFG"]
    seeds = list(range(args.seeds))
    torch.set_num_threads(1)
    runs, started = {}, time.process_time()
    for task in args.tasks:
        runs[task] = {}
        for model in args.models:
            runs[task][model] = [
                run_one(
                    task,
                    model,
                    s,
                    T=args.T,
                    h=args.h,
                    steps=args.steps,
                    lr=args.lr,
                    batch=args.batch,
                    eval_every=args.eval_every,
                    forget_bias=args.forget_bias,
                )
                for s in seeds
            ]
            finals = [r["final"] for r in runs[task][model]]
            print(
                f"{task:9s} {model:5s} final/baseline: {np.round(finals, 3)}  "
                f"(cpu {time.process_time() - started:.0f} s)",
                flush=True,
            )
    results = {
        "settings": {
            "T": args.T,
            "h": args.h,
            "steps": args.steps,
            "lr": args.lr,
            "batch": args.batch,
            "eval_every": args.eval_every,
            "forget_bias": args.forget_bias,
            "n_eval": 512,
            "optimizer": "Adam",
            "clip_norm": 1.0,
            "loss": "mse",
            "metric": "held-out MSE / baseline MSE",
        },
        "tasks": {t: {"description": TASKS[t][3], "baseline_mse": TASKS[t][2]} for t in args.tasks},
        "models": args.models,
        "runs": runs,
        "summary": summarise(runs, args.models),
        "tests_vs_V": paired_tests(runs, models=args.models) if "V" in args.models and len(seeds) > 1 else {},
        "cpu_seconds": round(time.process_time() - started),
    }
    if args.quick:
        print(results["summary"])
        return 0
    if args.out:
        print("wrote", write_results(args.out, results, seeds))
        return 0
    for task in args.tasks:  # one file per task, lstm_family_<task>.json (what the chapter reads)
        one = {
            **results,
            "tasks": {task: results["tasks"][task]},
            "runs": {task: runs[task]},
            "summary": {task: results["summary"][task]},
            "tests_vs_V": paired_tests({task: runs[task]}, models=args.models)
            if results["tests_vs_V"]
            else {},
        }
        print("wrote", write_results(f"lstm_family_{task}.json", one, seeds))
    return 0
