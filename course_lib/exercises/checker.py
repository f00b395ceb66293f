"""``check``: the learner's self-check, run in the notebook right after an exercise cell.

    check("lstm.forget_gate", forget_gate)

runs the learner's function on the exercise's visible cases (drawn with ``np.random.default_rng(0)``), prints
one line per case (pass/FAIL, largest absolute error or "wrong shape", shape/dtype problems, the case's
label), a score, and the message of any known mistake the function behaves like ("Known mistake: ..."; a
wrong variant that raises is recognised by its error, also when the learner wrote the same shape error
another way). When no known mistake matches, a failing answer still gets feedback: the known mistakes that
raise the same kind of error ("Possible mistake: ..."), the failing cases that isolate one term, the outputs
that are right, or where to look ("Hint: ..."); a NumPy shape error is explained in plain words. Answers
registered in the exercise's ``accept`` (e.g. PyTorch's clipping formula) pass with a note, and so does an
exact count returned as a float equal to it. Output is plain deterministic text, so it can be
stored in the notebook and compared by nbval. It never raises for anything the learner's function does: an
untouched stub prints "not attempted", an exception or a ``sys.exit()`` is reported, and a function that runs
longer than ``time_limit`` seconds is stopped (POSIX, main thread) and reported.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .framework import (
    CheckResult,
    Exercise,
    Outcome,
    _Timeout,
    evaluate,
    get,
    reference_outcomes,
    run_function,
)

__all__ = ["check", "run_check"]

#: Visible cases are always drawn with this seed (the grader uses other, hidden seeds).
VISIBLE_SEED = 0


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def run_check(
    key: str | Exercise, func: Any, time_limit: float = 10.0, seed: int = VISIBLE_SEED
) -> CheckResult:
    """Run ``func`` on the visible cases of exercise ``key`` and judge it; returns the :class:`CheckResult`.

    ``time_limit`` (seconds) bounds the learner's function over all cases together.
    """
    exercise = key if isinstance(key, Exercise) else get(key)
    cases = exercise.cases(np.random.default_rng(seed))
    expected = reference_outcomes(exercise, cases)
    n_out = len(expected[0].values or [])
    if not callable(func):
        outcomes = [
            Outcome("missing", detail=f"`{exercise.func_name}` is {_kind(func)}, not a function")
            for _ in cases
        ]
        return evaluate(exercise, cases, outcomes, expected)

    outcomes: list[Outcome] = []
    use_alarm = _can_use_alarm() and time_limit and time_limit > 0
    old_handler = None
    if use_alarm:

        def _on_alarm(signum: int, frame: Any) -> None:
            raise _Timeout()

        old_handler = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, float(time_limit))
    try:
        for case in cases:
            try:
                outcomes.append(run_function(func, case, n_out))
            except _Timeout:
                break
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
    if len(outcomes) < len(cases):
        msg = f"timed out after {time_limit:g} s (an endless loop?)"
        outcomes += [Outcome("timeout", detail=msg) for _ in range(len(cases) - len(outcomes))]
    return evaluate(exercise, cases, outcomes, expected)


def _kind(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def check(key: str, func: Callable[..., Any], time_limit: float = 10.0) -> None:
    """Check the learner's ``func`` for exercise ``key`` and print the verdict (see the module docstring).

    Prints; returns None (so a notebook shows no ``Out[...]``). An unknown ``key`` is an authoring error and
    raises KeyError.
    """
    print(run_check(key, func, time_limit=time_limit).report())
