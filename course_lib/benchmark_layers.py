"""How fast the course's recurrent layers are, next to PyTorch's fused ``nn.LSTM``/``nn.GRU``/``nn.RNN``.

Run from the repository root (takes 1 to 3 minutes)::

    python -m course_lib.benchmark_layers              # the table of the Benchmarks page
    python -m course_lib.benchmark_layers --reference  # also the readable per-gate loop (forward_reference)
    python -m course_lib.benchmark_layers --quick      # fewer repeats

What is timed: one training step's worth of work on one thread in float32 -- the forward pass over a
batch ``X`` of shape ``(n, T, d)``, the loss ``H_seq.sum()`` and the backward pass to every parameter
(``X`` needs no gradient, as in training). Each of our layers is timed side by side with the ``torch.nn``
layer of the same size: the two alternate (ours, theirs, ours, theirs, ...), each measurement is the CPU
time of the thread over a few calls, and the table gives the **median of the pair-by-pair ratios**, so a
machine whose speed drifts (other jobs) affects both sides of each ratio alike. Absolute times are medians
too, and depend on the machine and its load; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch

from course_lib.gru import GRUConfig
from course_lib.lstm import LSTMConfig
from course_lib.torch_cells import GRULayer, LSTMLayer, RNNLayer
from course_lib.training import one_thread

__all__ = ["SIZES", "CASES", "time_pair", "main"]

SIZES = [(100, 64, 32, 128), (100, 32, 2, 32)]  # (T, n, d, h); the second is the course's training size

LSTM_VARIANTS = {
    "standard": LSTMConfig(),
    "peepholes": LSTMConfig(peepholes=True),
    "no forget gate": LSTMConfig(forget_gate=False),
    "CIFG": LSTMConfig(cifg=True),
    "CIFG + peepholes": LSTMConfig(cifg=True, peepholes=True),
    "hard-sigmoid gates": LSTMConfig(gate_activation="hard_sigmoid_keras"),
}
GRU_VARIANTS = {
    "reset after (PyTorch)": GRUConfig(reset_after=True),
    "reset before (Cho 2014)": GRUConfig(reset_after=False),
}

# (layer kind, variant label, our layer (d, h, reference) -> module, PyTorch's layer (d, h) -> module)
CASES: list[tuple[str, str, Callable, Callable]] = (
    [
        ("LSTMLayer", name, lambda d, h, ref, c=c: LSTMLayer(d, h, c, reference=ref),
         lambda d, h: torch.nn.LSTM(d, h, batch_first=True))
        for name, c in LSTM_VARIANTS.items()
    ]
    + [
        ("GRULayer", name, lambda d, h, ref, c=c: GRULayer(d, h, c, reference=ref),
         lambda d, h: torch.nn.GRU(d, h, batch_first=True))
        for name, c in GRU_VARIANTS.items()
    ]
    + [
        ("RNNLayer", a, lambda d, h, ref, a=a: RNNLayer(d, h, a, reference=ref),
         lambda d, h, a=a: torch.nn.RNN(d, h, nonlinearity=a, batch_first=True))
        for a in ("tanh", "relu")
    ]
)


def _step(module: torch.nn.Module, X: torch.Tensor) -> None:
    """Forward, loss, backward; the gradients are dropped (set to None) before the next call."""
    for p in module.parameters():
        p.grad = None
    H_seq, _ = module(X)
    H_seq.sum().backward()


def _cpu_seconds_per_call(module, X, calls: int) -> float:
    start = time.thread_time()
    for _ in range(calls):
        _step(module, X)
    return (time.thread_time() - start) / calls


def time_pair(ours, theirs, X, repeats: int = 15, budget: float = 0.03) -> dict:
    """Alternate ``ours`` and ``theirs`` on ``X`` ``repeats`` times; return the median ratio and times.

    Each measurement runs as many calls as fit in about ``budget`` seconds (at least 1).
    Returns ``{"ratio": median of ours/theirs, "ours_ms": median, "theirs_ms": median,
    "ratio_min", "ratio_max"}``.
    """
    for module in (ours, theirs):  # warm-up (allocator, first-call costs)
        _step(module, X)
        _step(module, X)
    one = max(_cpu_seconds_per_call(ours, X, 1), _cpu_seconds_per_call(theirs, X, 1), 1e-5)
    calls = max(1, int(budget / one))
    ratios, t_ours, t_theirs = [], [], []
    for _ in range(repeats):
        a = _cpu_seconds_per_call(ours, X, calls)
        b = _cpu_seconds_per_call(theirs, X, calls)
        ratios.append(a / b)
        t_ours.append(a)
        t_theirs.append(b)
    return {
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "ours_ms": 1e3 * statistics.median(t_ours),
        "theirs_ms": 1e3 * statistics.median(t_theirs),
    }


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m course_lib.benchmark_layers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5 repeats instead of 15")
    parser.add_argument("--reference", action="store_true",
                        help="also time forward_reference (the readable loop) against torch.nn")
    parser.add_argument("--only", default=None, help="only the layers whose name contains this (e.g. GRU)")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 15
    rows = []
    print(f"# {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads available, "
          f"torch {torch.__version__}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, load average {_loadavg()}")
    print("# one thread, float32, forward + backward of H_seq.sum(); median of pair-by-pair ratios\n")
    header = "| size (T, n, d, h) | layer | variant | ours / torch.nn | ours (ms) | torch.nn (ms) |"
    if args.reference:
        header += " reference / torch.nn |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    with one_thread():
        for T, n, d, h in SIZES:
            for kind, variant, make_ours, make_theirs in CASES:
                if args.only and args.only not in kind:
                    continue
                torch.manual_seed(0)
                X = torch.randn(n, T, d)
                ours, theirs = make_ours(d, h, False), make_theirs(d, h)
                row = {"size": (T, n, d, h), "layer": kind, "variant": variant,
                       **time_pair(ours, theirs, X, repeats)}
                line = (f"| {T}, {n}, {d}, {h} | `{kind}` | {variant} | {row['ratio']:.2f}× | "
                        f"{row['ours_ms']:.2f} | {row['theirs_ms']:.2f} |")
                if args.reference:
                    ref = time_pair(make_ours(d, h, True), theirs, X, max(3, repeats // 3))
                    row["reference_ratio"] = ref["ratio"]
                    line += f" {ref['ratio']:.2f}× |"
                print(line, flush=True)
                rows.append(row)
    print(f"\n# load average at the end {_loadavg()}")
    return rows


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


if __name__ == "__main__":
    main()
