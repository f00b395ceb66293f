"""Is the hard sigmoid faster? Time the gate activations in NumPy and PyTorch on this machine's CPU.

Experiment 5 of the activations chapter (book/05_activations.ipynb). The hard sigmoid was introduced as a
cheaper stand-in for the logistic sigmoid (Keras 2's docstring: "Faster than sigmoid"; Theano's: "More
approximate and faster than ultra_fast_sigmoid"). This script
measures, on one CPU thread:

* **elementwise**, on float32 arrays of 2,048 elements (one gate of a batch of 64 with h = 32, the size our
  models use) and of 1,000,000 elements: NumPy's ``1 / (1 + exp(-x))``, ``course_lib.activations.sigmoid``
  (the overflow-free one), ``np.tanh``, both hard sigmoids written with ``np.clip``, and PyTorch's
  ``torch.sigmoid``, ``torch.tanh``, ``torch.nn.functional.hardsigmoid`` and the two clamp formulas
  ``course_lib.torch_cells`` uses (``torch.clamp(0.2 x + 0.5, 0, 1)``, ``torch.clamp(x + 3, 0, 6) / 6``),
  each forward only and forward + backward (PyTorch);
* **a whole layer**: forward + backward of ``course_lib.torch_cells.LSTMLayer`` (batch 64, T = 50, h = 32)
  with each of the three gate activations, on both of its paths: the fast one ``forward`` runs by default
  (``course_lib.fast_layers``: fused gates, hand-written BPTT; a hard sigmoid's slope and offset are folded
  into the gate weights, so the gate is one clamp) and the readable per-gate loop (``reference=True``,
  which applies the ``torch.clamp`` formulas above and is differentiated by autograd).

The machine is shared while this runs, so every repetition runs all candidates in a fresh random order
(interleaved: a burst of load hits all of them alike), and the results are medians over repetitions of the
process's CPU time (``time.process_time``, which does not count the time the process waits for a core while
others run; torch runs on one thread), with the interquartile range. Run
``python -m course_lib.experiments activations_speed`` to rewrite ``book/results/activations_speed.json``;
``--quick`` takes fewer repetitions (used by the tests).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course_lib import activations as A
from course_lib.lstm import LSTMConfig
from course_lib.torch_cells import LSTMLayer

from . import write_results

GATES = ("sigmoid", "hard_sigmoid_keras", "hard_sigmoid_torch")
PATHS = ("fast", "reference")  # LSTMLayer.forward (default) and LSTMLayer(..., reference=True)


def _numpy_candidates():
    return {
        "numpy 1/(1+exp(-x))": lambda x: 1.0 / (1.0 + np.exp(-x)),
        "numpy course_lib sigmoid (stable)": A.sigmoid,
        "numpy tanh": np.tanh,
        "numpy hard_sigmoid_keras (clip)": lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
        "numpy hard_sigmoid_torch (clip)": lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0,
    }


def _torch_candidates():
    return {
        "torch.sigmoid": torch.sigmoid,
        "torch.tanh": torch.tanh,
        "torch hardsigmoid (F.hardsigmoid)": torch.nn.functional.hardsigmoid,
        "torch hard_sigmoid_keras (clamp)": lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0),
        "torch hard_sigmoid_torch (clamp)": lambda x: torch.clamp(x + 3.0, 0.0, 6.0) / 6.0,
    }


def _per_call(fn, number: int) -> float:
    start = time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - start) / number


def measure(candidates: dict, repeats: int, number: int, rng: np.random.Generator) -> dict:
    """Median and quartiles (seconds per call) of each zero-argument callable, interleaved in random order."""
    names = list(candidates)
    times = {name: [] for name in names}
    for name in names:  # warm-up
        candidates[name]()
    for _ in range(repeats):
        for i in rng.permutation(len(names)):
            times[names[i]].append(_per_call(candidates[names[i]], number))
    return {
        name: {
            "median_s": float(np.median(t)),
            "q25_s": float(np.percentile(t, 25)),
            "q75_s": float(np.percentile(t, 75)),
            "repeats": repeats,
            "calls_per_repeat": number,
        }
        for name, t in times.items()
    }


def elementwise(size: int, repeats: int, rng: np.random.Generator) -> dict:
    """Time every candidate on a float32 array of ``size`` normal(0, 3) values."""
    x = (3.0 * rng.standard_normal(size)).astype(np.float32)
    xt = torch.from_numpy(x.copy())
    number = max(1, 200_000 // size) * 5
    calls = {name: (lambda f=f: f(x)) for name, f in _numpy_candidates().items()}
    for name, f in _torch_candidates().items():
        calls[f"{name} forward"] = lambda f=f: f(xt)

        def forward_backward(f=f):
            leaf = xt.detach().requires_grad_(True)
            f(leaf).sum().backward()

        calls[f"{name} forward+backward"] = forward_backward
    return measure(calls, repeats, number, rng)


def layer(repeats: int, rng: np.random.Generator, n: int = 64, T: int = 50, h: int = 32) -> dict:
    """Time forward + backward of an ``LSTMLayer`` with each gate activation (same weights and inputs), on the
    fast path (the default ``forward``) and on the readable per-gate loop (``reference=True``)."""
    torch.manual_seed(0)
    X = torch.randn(n, T, 2)
    params = LSTMLayer(2, h, LSTMConfig()).to_params()
    layers = {
        f"LSTMLayer {path} {g} gates": LSTMLayer.from_params(
            params, config=LSTMConfig(gate_activation=g), reference=(path == "reference")
        )
        for path in PATHS
        for g in GATES
    }

    def run(lay):
        lay.zero_grad()
        H_seq, _ = lay(X)
        H_seq.pow(2).mean().backward()

    return measure({name: (lambda lay=lay: run(lay)) for name, lay in layers.items()}, repeats, 2, rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments activations_speed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--repeats", type=int, default=41)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="5 repeats (for the tests)")
    parser.add_argument("--out", default="activations_speed.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 5
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    results = {
        "timer": "time.process_time (CPU time, one thread), median over interleaved repeats, shared machine",
        "torch_threads": 1,
        "elementwise_small": {
            "size": 2048,
            "dtype": "float32",
            "times": elementwise(2048, args.repeats, rng),
        },
        "elementwise_large": {
            "size": 1_000_000,
            "dtype": "float32",
            "times": elementwise(1_000_000, max(3, args.repeats // 4), rng),
        },
        "lstm_layer": {
            "n": 64,
            "T": 50,
            "h": 32,
            "paths": {
                "fast": "LSTMLayer(...) default forward: course_lib.fast_layers (fused gates, hand-written "
                "BPTT, hard sigmoid folded into the gate weights: one clamp per gate)",
                "reference": "LSTMLayer(..., reference=True): forward_reference, the per-gate loop "
                "(torch.clamp formulas), differentiated by autograd",
            },
            "times": layer(max(3, args.repeats // 4), rng),
        },
    }
    for part in ("elementwise_small", "elementwise_large", "lstm_layer"):
        print(part)
        for name, t in results[part]["times"].items():
            print(f"  {name:45s} {t['median_s'] * 1e6:10.1f} µs")
    path = write_results(args.out, results, seeds=[args.seed])
    print(f"wrote {path}")
    return 0
