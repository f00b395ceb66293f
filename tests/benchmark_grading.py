"""Time the exercise checker and the grader (a script, not a test): record the figures in book/benchmarks.md.

    python tests/benchmark_grading.py            # from the repository root
    python tests/benchmark_grading.py --sandbox  # only: the sandbox's cost on one notebook

Measures, for every registered exercise, the wall-clock time of check() on the reference solution and on
the untouched stub (best of 5); then the grader on one notebook holding every exercise's reference
solution, and on a batch of 20 such notebooks (different names, so different hidden cases) with 2 workers;
then the cost of the bubblewrap sandbox: the same one notebook graded with and without it (``--no-sandbox``),
alternately, 3 times each (wall-clock only: the CPU time of processes inside the sandbox does not reach the
grader's ``getrusage``, so a CPU comparison would flatter the sandbox).
Prints Markdown tables, and the machine it ran on.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nbformat

from course_lib.exercises import all_exercises, check, solution_source, stub_function

REPO = Path(__file__).resolve().parent.parent


def time_check(key: str, func, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            check(key, func)
        best = min(best, time.perf_counter() - start)
    return best


def solutions_notebook(path: Path) -> None:
    cells = [nbformat.v4.new_code_cell("import numpy as np\nfrom course_lib.exercises import check")]
    for ex in all_exercises():
        cell = nbformat.v4.new_code_cell(solution_source(ex))
        cell.metadata["exercise"] = ex.key
        cell.metadata["tags"] = ["exercise"]
        cells.append(cell)
        cells.append(nbformat.v4.new_code_cell(f'check("{ex.key}", {ex.func_name})'))
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def run_grader(paths: list[Path], out: Path, extra: tuple[str, ...] = ()) -> float:
    keys = ",".join(ex.key for ex in all_exercises())
    cmd = [
        sys.executable,
        "-m",
        "course_lib.grade",
        *map(str, paths),
        "--exercises",
        keys,
        "--jobs",
        "2",
        "--out",
        str(out),
        *extra,
    ]
    env = dict(os.environ, COURSE_LIB_PROGRESS="0")
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=REPO, capture_output=True)
    return time.perf_counter() - start


def sandbox_cost(repeat: int = 3) -> None:
    """The same notebook graded with and without the sandbox, alternately: wall-clock seconds."""
    tmp = Path(tempfile.mkdtemp(prefix="grade-bench-sandbox-"))
    try:
        one = tmp / "learner.ipynb"
        solutions_notebook(one)
        times: dict[str, list[float]] = {"sandbox": [], "--no-sandbox": []}
        for _ in range(repeat):
            for mode, extra in (("sandbox", ()), ("--no-sandbox", ("--no-sandbox",))):
                times[mode].append(run_grader([one], tmp / "g.csv", extra))
        print()
        n_ex = len(all_exercises())
        print(f"| grading 1 notebook ({n_ex} exercises), command line | wall-clock, median of {repeat} |")
        print("|---|---|")
        for mode, runs in times.items():
            label = "in the sandbox" if mode == "sandbox" else "without (`--no-sandbox`)"
            print(f"| {label} | {statistics.median(runs):.1f} s |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {os.cpu_count()} CPU cores, {platform.machine()}, Python {platform.python_version()}")
    try:
        print(f"load average at start: {os.getloadavg()[0]:.1f}")
    except OSError:
        pass
    if "--sandbox" in sys.argv[1:]:
        sandbox_cost()
        return
    print()
    print("| exercise | check(), reference | check(), stub | check(), slowest known mistake |")
    print("|---|---|---|---|")
    times = []
    for ex in all_exercises():
        t_ref = time_check(ex.key, ex.reference)
        t_stub = time_check(ex.key, stub_function(ex))
        t_wrong = max((time_check(ex.key, f) for f in ex.wrong.values()), default=0.0)
        times += [t_ref, t_stub, t_wrong]
        print(f"| `{ex.key}` | {t_ref * 1000:.1f} ms | {t_stub * 1000:.1f} ms | {t_wrong * 1000:.1f} ms |")
    print()
    print(f"check(): median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")

    tmp = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    try:
        one = tmp / "one" / "learner.ipynb"
        one.parent.mkdir()
        solutions_notebook(one)
        t_one = run_grader([one], tmp / "one.csv")
        batch = tmp / "batch"
        batch.mkdir()
        for i in range(20):
            shutil.copy(one, batch / f"learner_{i:02d}.ipynb")
        t_batch = run_grader([batch], tmp / "batch.csv")
        rows = (tmp / "batch.csv").read_text().splitlines()[1:]
        n_ex = len(all_exercises())
        full = sum(1 for r in rows if r.split(",")[-4] == str(n_ex))
        print()
        print(f"grading 1 notebook ({n_ex} exercises), command line end to end: {t_one:.1f} s")
        print(
            f"grading 20 notebooks, 2 workers: {t_batch:.1f} s ({t_batch / 20:.1f} s per notebook); "
            f"{full}/20 scored full marks"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sandbox_cost()


if __name__ == "__main__":
    main()
