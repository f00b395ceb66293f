"""What an activation does to the LSTM's memory, without training (experiments 1 and 2 of chapter 5).

**1. Gates need a range of (0, 1)** (the memory regimes of book/03_lstm.ipynb). One cell per unit is set by
hand to the *keep* regime (forget gate open, input gate closed, output gate open, every recurrent weight 0)
and stores ``C_0 = 1``. At every step the candidate reads a fresh N(0, 1) input, and each of the forget and
input gates reads its own N(0, 1) input through a weight ``noise`` (0.5): the small input-dependent wobble
every real gate has. "Open" and "closed" are set per gate activation to the pre-activation that gives a gate
value of 1 and 0: ±20 where the function saturates there (sigmoid, tanh's 1, both hard sigmoids, ReLU's 0),
0 for tanh's 0 (tanh is 0 only at its centre) and 1 for ReLU's 1 (ReLU never saturates above). After
``T`` steps :func:`keep_regime` returns ``C_T / C_0`` of every unit: 1 means the value was kept.

**2. The output activation bounds what the cell shows** (Greff et al. 2017, NOAF). Random LSTMs
(``init_lstm_params``: weights U(−1/√h, 1/√h), forget bias 1 or 3) read ``T = 300`` steps of N(0, 1)
inputs; :func:`output_growth` returns the largest |H_t| and |C_t| for the standard cell, the cell without
output activation (NOAF, ``H_t = O_t ⊙ C_t``) and a ReLU candidate with and without the output tanh.

Both run in a second or two; ``python -m course_lib.experiments activations_memory`` repeats them over ten
seeds and writes ``book/results/activations_memory.json`` (``--quick``: three seeds).
"""

from __future__ import annotations

import argparse

import numpy as np

from course_lib.lstm import LSTMConfig, init_lstm_params, lstm_forward, lstm_param_names

from . import write_results

#: gate activations compared in experiment 1
GATE_ACTIVATIONS = ("sigmoid", "hard_sigmoid_keras", "hard_sigmoid_torch", "tanh", "relu")

#: the pre-activation that opens (value 1) and closes (value 0) a gate, per gate activation
GATE_OPEN = {
    "sigmoid": 20.0,
    "hard_sigmoid_keras": 20.0,
    "hard_sigmoid_torch": 20.0,
    "tanh": 20.0,
    "relu": 1.0,
}
GATE_CLOSED = {
    "sigmoid": -20.0,
    "hard_sigmoid_keras": -20.0,
    "hard_sigmoid_torch": -20.0,
    "tanh": 0.0,
    "relu": -20.0,
}

#: experiment 2: name -> LSTMConfig
OUTPUT_VARIANTS = {
    "standard (tanh candidate, tanh output)": LSTMConfig(),
    "NOAF (no output activation)": LSTMConfig(output_activation="linear"),
    "ReLU candidate, tanh output": LSTMConfig(candidate_activation="relu"),
    "ReLU candidate, no output activation": LSTMConfig(
        candidate_activation="relu", output_activation="linear"
    ),
}


def keep_regime_params(gate_activation: str, h: int = 16, noise: float = 0.5) -> dict:
    """Parameters (d = 3 inputs) of ``h`` independent units in the keep regime under ``gate_activation``.

    Input 0 feeds the candidate (``W_xc[0] = 1``), input 1 the forget gate and input 2 the input gate (weight
    ``noise``); every recurrent weight is 0; ``b_f = b_o`` = :data:`GATE_OPEN`, ``b_i`` = :data:`GATE_CLOSED`.
    """
    if gate_activation not in GATE_OPEN:
        raise ValueError(f"gate_activation must be one of {list(GATE_OPEN)}; got {gate_activation!r}.")
    cfg = LSTMConfig(gate_activation=gate_activation)
    params = {}
    for name in lstm_param_names(cfg):
        shape = (3, h) if name.startswith("W_x") else (h, h) if name.startswith("W_h") else (h,)
        params[name] = np.zeros(shape)
    params["W_xc"][0] = 1.0
    params["W_xf"][1] = noise
    params["W_xi"][2] = noise
    params["b_f"][:] = params["b_o"][:] = GATE_OPEN[gate_activation]
    params["b_i"][:] = GATE_CLOSED[gate_activation]
    return params


def keep_regime(
    gate_activation: str,
    seed: int,
    T: int = 100,
    n: int = 16,
    h: int = 16,
    noise: float = 0.5,
    full: bool = False,
) -> np.ndarray:
    """``C_T / C_0`` (n, h) for ``n`` random input sequences of length ``T`` through the keep-regime cell.

    ``C_0 = 1``; inputs are N(0, 1) drawn with ``seed``. 1.0 everywhere means the stored value was kept.
    With ``full=True`` the whole cell sequence ``C_t / C_0`` (n, T, h) is returned.
    """
    rng = np.random.default_rng(seed)
    cfg = LSTMConfig(gate_activation=gate_activation)
    X = rng.normal(size=(n, T, 3))
    with np.errstate(over="ignore", invalid="ignore"):
        _, C, _ = lstm_forward(
            X, keep_regime_params(gate_activation, h, noise), C_0=np.ones((n, h)), config=cfg
        )
    return C if full else C[:, -1]


def output_growth(
    name: str, forget_bias: float, seed: int, T: int = 300, n: int = 8, d: int = 4, h: int = 32
) -> dict:
    """Largest |H_t| and |C_t| of a random LSTM variant ``name`` (:data:`OUTPUT_VARIANTS`) over ``T`` steps.

    Parameters from ``init_lstm_params(d, h, rng=100 + seed, forget_bias=forget_bias)``, inputs N(0, 1) drawn
    with ``seed``. Returns ``{"max_abs_H": ..., "max_abs_C": ...}`` (``inf`` if the values overflowed).
    """
    cfg = OUTPUT_VARIANTS[name]
    X = np.random.default_rng(seed).normal(size=(n, T, d))
    params = init_lstm_params(d, h, config=cfg, rng=100 + seed, forget_bias=forget_bias)
    with np.errstate(over="ignore", invalid="ignore"):
        H, C, _ = lstm_forward(X, params, config=cfg)
    return {
        "max_abs_H": float(np.nan_to_num(np.abs(H).max(), nan=np.inf)),
        "max_abs_C": float(np.nan_to_num(np.abs(C).max(), nan=np.inf)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.experiments activations_memory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--quick", action="store_true", help="seeds 0 1 2 (for the tests)")
    parser.add_argument("--out", default="activations_memory.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = [0, 1, 2]
    keep = {}
    for g in GATE_ACTIVATIONS:
        ratios = np.concatenate([keep_regime(g, s).ravel() for s in args.seeds])
        kept = np.abs(ratios - 1.0) < 0.01
        keep[g] = {
            "fraction_kept_within_1pct": float(kept.mean()),
            "max_abs_deviation": float(np.max(np.abs(ratios - 1.0))),
            "median_ratio": float(np.median(ratios)),
            "min_ratio": float(ratios.min()),
            "max_ratio": float(ratios.max()),
        }
        print(
            f"keep regime, {g:20s} kept {keep[g]['fraction_kept_within_1pct']:.0%}, "
            f"C_T/C_0 in [{keep[g]['min_ratio']:.3g}, {keep[g]['max_ratio']:.3g}]"
        )
    growth = {}
    for b_f in (1.0, 3.0):
        for name in OUTPUT_VARIANTS:
            runs = [output_growth(name, b_f, s) for s in args.seeds]
            growth[f"{name} | b_f={b_f:g}"] = {
                "variant": name,
                "forget_bias": b_f,
                "max_abs_H": [r["max_abs_H"] for r in runs],
                "max_abs_C": [r["max_abs_C"] for r in runs],
            }
            print(
                f"b_f = {b_f:g}, {name:40s} median max|H_t| {np.median([r['max_abs_H'] for r in runs]):.3g}"
            )
    results = {
        "keep_regime": {"T": 100, "n": 16, "h": 16, "noise": 0.5, "C_0": 1.0, "results": keep},
        "output_growth": {"T": 300, "n": 8, "d": 4, "h": 32, "inputs": "N(0, 1)", "results": growth},
    }
    path = write_results(args.out, results, seeds=args.seeds)
    print(f"wrote {path}")
    return 0
