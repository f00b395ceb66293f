"""Self-checking exercises: ``from course_lib.exercises import check``.

``check("lstm.forget_gate", forget_gate)`` judges a learner's function on visible cases (see
:mod:`course_lib.exercises.checker`); the instructor's grader (``python -m course_lib.grade``) judges saved
notebooks on hidden cases. Exercises are defined in ``chNN_<name>.py`` modules of this package, each calling
:func:`register` at import; every such module is imported here, so adding a chapter needs no shared list.
How to write an exercise, and the rules for notebooks: :mod:`course_lib.exercises.framework`.
"""

from __future__ import annotations

import importlib
import pkgutil

from .checker import check, run_check
from .framework import (
    Case,
    CheckResult,
    Exercise,
    all_exercises,
    get,
    keys,
    register,
    same_program,
    solution_markdown,
    solution_source,
    stub_function,
    stub_source,
)

__all__ = [
    "Case",
    "CheckResult",
    "Exercise",
    "all_exercises",
    "check",
    "get",
    "keys",
    "register",
    "run_check",
    "same_program",
    "solution_markdown",
    "solution_source",
    "stub_function",
    "stub_source",
]


def _import_chapter_modules() -> list[str]:
    """Import every ``ch*`` module of this package (sorted by name, so registration order is stable)."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("ch"))
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    return names


CHAPTER_MODULES = _import_chapter_modules()
