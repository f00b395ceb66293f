"""The forget-gate bias race of the LSTM chapter (section 5), with more seeds than the page can afford.

``python -m course_lib.experiments forget_bias_race`` trains LSTMs (hidden size 32) on the adding problem
with T = 50 for every forget-gate bias in ``--biases`` and every seed, Adam (learning rate 0.01, batches of
64, clipping at norm 1), evaluating every 25 steps on 500 held-out sequences, and records the first step
with test MSE below 0.01 (stopping there, or at ``--steps``). Writes ``book/results/forget_bias_race.json``:
per bias the steps of every seed (``null`` = not within the budget) and their median, where a run that did
not get there counts as ``steps + 25``.

``--quick`` runs a reduced version (one seed, biases 0 and 2, 150 steps) for the tests; ``--jobs 2`` spreads
the runs over two processes (each on one thread; the results do not depend on it).
"""

from __future__ import annotations

import argparse

import numpy as np

from course_lib.experiments import write_results
from course_lib.tasks import adding_problem
from course_lib.training import make_model, one_thread, train

T, HIDDEN, LR, BATCH, EVAL_EVERY, EVAL_N, TARGET, STEPS = 50, 32, 1e-2, 64, 25, 500, 0.01, 600
BIASES = (0.0, 1.0, 2.0, 3.0)


def first_step(b_f: float, seed: int, steps: int = STEPS) -> int | None:
    """First evaluation step with test MSE below 0.01 for forget bias ``b_f`` and ``seed``; None if none."""
    X_eval, y_eval = adding_problem(EVAL_N, T, rng=np.random.default_rng(123))
    model = make_model("lstm", 2, HIDDEN, 1, forget_bias=b_f, seed=seed)
    hist = train(model, lambda r: adding_problem(BATCH, T, rng=r), steps=steps, lr=LR,
                 eval_data=(X_eval, y_eval), eval_every=EVAL_EVERY, stop_below=TARGET, seed=seed)
    return hist.first_step_below(TARGET)


def _one(args) -> int | None:
    b_f, seed, steps = args
    with one_thread():
        return first_step(b_f, seed, steps)


def run(biases, seeds, steps: int = STEPS, jobs: int = 1) -> dict:
    """Every (bias, seed) run; ``jobs`` > 1 spreads them over that many processes (same results)."""
    tasks = [(b, s, steps) for b in biases for s in seeds]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            done = list(pool.map(_one, tasks))
    else:
        done = [_one(t) for t in tasks]
    results = dict(zip(((b, s) for b, s, _ in tasks), done, strict=True))
    first = {f"{b:g}": [results[b, s] for s in seeds] for b in biases}
    medians = {
        key: float(np.median([steps + EVAL_EVERY if v is None else v for v in values]))
        for key, values in first.items()
    }
    return {
        "settings": {"T": T, "hidden": HIDDEN, "lr": LR, "batch": BATCH, "clip_norm": 1.0,
                     "eval_every": EVAL_EVERY, "eval_n": EVAL_N, "target_mse": TARGET, "steps": steps},
        "biases": [float(b) for b in biases],
        "first_step_below_target": first,
        "median_steps": medians,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.experiments forget_bias_race",
                                     description=__doc__)
    parser.add_argument("--seeds", type=int, default=6, help="number of seeds (0, 1, ...)")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--quick", action="store_true", help="one seed, biases 0 and 2, 150 steps")
    parser.add_argument("--jobs", type=int, default=1, help="processes to spread the runs over")
    parser.add_argument("--out", default="forget_bias_race.json", help="results file (under book/results/)")
    args = parser.parse_args(argv)
    seeds = [0] if args.quick else list(range(args.seeds))
    biases = (0.0, 2.0) if args.quick else BIASES
    steps = 150 if args.quick else args.steps
    results = run(biases, seeds, steps, jobs=args.jobs)
    path = write_results(args.out, results, seeds)
    for key, values in results["first_step_below_target"].items():
        print(f"b_f = {key}: {values}  median {results['median_steps'][key]:g}")
    print("wrote", path)
    return 0
