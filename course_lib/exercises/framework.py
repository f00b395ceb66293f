"""The exercise framework: what an exercise is, the registry, and how a submission is judged.

An exercise is a small function the learner writes (using NumPy only), checked against a reference solution
on a list of cases. Chapter modules ``course_lib/exercises/chNN_<name>.py`` define and register exercises::

    from course_lib.exercises.framework import Case, Exercise, register

    def forget_gate(X_t, H_prev, W_xf, W_hf, b_f):
        \"\"\"F_t = sigmoid(X_t @ W_xf + H_prev @ W_hf + b_f); X_t (n, d), H_prev (n, h) -> F_t (n, h).\"\"\"
        return 1.0 / (1.0 + np.exp(-(X_t @ W_xf + H_prev @ W_hf + b_f)))

    def _cases(rng):
        n, d, h = 3, 4, 5
        full = dict(X_t=rng.normal(size=(n, d)), H_prev=rng.normal(size=(n, h)),
                    W_xf=rng.normal(size=(d, h)), W_hf=rng.normal(size=(h, h)), b_f=rng.normal(size=h))
        only_bias = {**full, "X_t": np.zeros((n, d)), "H_prev": np.zeros((n, h))}
        return [Case(only_bias, "only the bias is non-zero"), Case(full, "all terms non-zero")]

    register(Exercise("lstm.forget_gate", "The forget gate", "forget_gate", forget_gate, _cases,
                      wrong={"You used tanh where the gate needs sigmoid": _forget_gate_tanh}))

Writing good cases (the checker's feedback is only as good as they are):

* Isolate terms, as good unit tests do: one case with every input zero but the bias, one with only ``X_t``
  non-zero, one with only ``H_prev`` non-zero, then a general case. Give each case a ``label`` saying what it
  isolates ("only the bias is non-zero"): the checker lists the labels of failing cases so a learner sees
  *which* term is wrong. It lists only cases that isolate something: a label such as "a general step",
  "all three terms non-zero", "random weights" or "another draw" is left out (say it explicitly with
  ``Case(..., isolates=False)`` or ``isolates=True``).
* Use small shapes with distinct sizes (n=3, d=4, h=5) so a transposed weight shows up as a shape error.
* ``make_cases(rng)`` must draw every random number from ``rng``: ``check`` calls it with
  ``np.random.default_rng(0)`` (the visible cases), the instructor's grader with a generator seeded from the
  submission's file name and the exercise key (hidden cases the learner never saw).
* Every entry of ``wrong`` is a typical mistake, written as a function with the reference's signature. Its
  key is the feedback message, naming the mistake in the book's symbols ("You applied F_t to C_tilde
  instead of C_{t-1}"). The cases must tell each wrong variant apart from the reference (the test suite
  checks this for every registered exercise). A variant may raise on some cases (``W_hh @ H_prev`` is a
  shape error when n != h): the learner's function is then recognised by raising the same error there
  (also when written another way, e.g. ``np.dot``), so register mistakes that raise too.
* Another answer that is also right (PyTorch's ``max_norm / (norm + 1e-6)`` where the book divides by the
  norm) goes into ``accept`` (note -> function); matching it passes with the note shown.
* An exact count returned as a float equal to it passes, with a note to return an int.

Rules for notebooks (chapter authors):

* The stub cell is a code cell tagged ``exercise`` with cell metadata ``{"exercise": "<key>"}``. It defines
  ``func_name`` with the reference's signature and the body ``raise NotImplementedError("Exercise: ...")``;
  :func:`stub_source` writes one for you. It may use ``np`` and nothing else from the notebook.
* The next code cell is exactly ``check("<key>", <func_name>)`` (``from course_lib.exercises import check``
  in the notebook's first cell).
* After the check cell (other cells, e.g. a demonstration, may come in between) and before the next
  exercise cell comes a markdown cell holding the solution in a collapsed dropdown; generate it with
  :func:`solution_markdown`. The solution must appear nowhere else in the notebook. Its shape is::

      ````{dropdown} Solution
      ```python
      def forget_gate(X_t, H_prev, W_xf, W_hf, b_f):
          ...
      ```
      ````

  **Matching rule** (enforced by ``tests/test_exercises_notebooks.py``): the code block in the dropdown must
  be *the same program* as the reference: both are parsed with :mod:`ast`, docstrings are dropped, the
  function is renamed to ``func_name`` and the two ASTs must be equal. So comments, blank lines, quotes,
  line breaks and the docstring may differ; names, operators and statements may not. Keep the reference
  readable: it is what learners see.
* Reference solutions are self-contained: one function using only its arguments and ``np`` (no helpers of
  the module: the dropdown shows this function alone, and learners copy it), called with keyword arguments
  (arrays, floats or ints), returning one array or a tuple of arrays (name them with ``output_names``).
* An exercise about numerical stability sets ``fail_on_warning=True``: a case on which NumPy warns
  (overflow, invalid value, divide by zero) then fails, and warnings count when matching known mistakes.

Judging is split in two so the instructor's grader can run the learner's code in another process: running
a function on cases gives :class:`Outcome` objects (plain arrays, or what went wrong), and
:func:`evaluate` compares outcomes with the reference in the current process and writes the feedback.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Case",
    "Exercise",
    "Outcome",
    "CaseResult",
    "CheckResult",
    "register",
    "get",
    "keys",
    "all_exercises",
    "describe_value",
    "run_function",
    "evaluate",
    "stub_source",
    "stub_function",
    "solution_source",
    "solution_markdown",
    "same_program",
]

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
#: Labels of cases that isolate nothing (see :meth:`Case.is_isolating`).
_GENERAL_LABEL = re.compile(
    r"\b(general|random|another draw|all (?:\w+ )?terms|both (?:[\w-]+ )*?(?:non-zero|open|biases))\b",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------------------------------------
# What an exercise is
# --------------------------------------------------------------------------------------------------------
@dataclass
class Case:
    """One call of the learner's function.

    inputs: keyword arguments (name -> ndarray, float or int) passed to the function.
    label: what the case isolates, e.g. ``"only the bias is non-zero"``; shown in the feedback.
    """

    inputs: dict[str, Any]
    label: str = ""
    isolates: bool | None = None

    def is_isolating(self) -> bool:
        """Does this case isolate one term (so naming it in a hint helps)?

        ``isolates`` says so explicitly; when it is None, a labelled case counts as isolating unless its
        label describes a general case ("a general step", "all three terms non-zero", "random weights",
        "another draw", "both gates partly open").
        """
        if self.isolates is not None:
            return bool(self.isolates)
        return bool(self.label) and not _GENERAL_LABEL.search(self.label)

    def copy_inputs(self) -> dict[str, Any]:
        """Fresh copies of the inputs, so a function that writes into its arguments harms nobody else."""
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.inputs.items()}


@dataclass
class Exercise:
    """A self-checking exercise (see the module docstring for how to write one).

    key: ``"<chapter>.<name>"``, e.g. ``"lstm.forget_gate"``.
    title: short human title, shown in the feedback.
    func_name: the name of the function the learner writes (the stub's name).
    reference: the reference solution (NumPy only); returns one array or a tuple of arrays.
    make_cases: ``make_cases(rng: np.random.Generator) -> list[Case]``.
    wrong: feedback message -> function with the reference's signature implementing that mistake.
    atol, rtol: tolerances of the comparison (``np.allclose`` semantics, NaN equal to NaN).
    output_names: names of the outputs (e.g. ``("H_t", "C_t")``) used in messages; default "output" or
        "output 1", "output 2", ...
    fail_on_warning: a case fails when the function makes NumPy warn (overflow, invalid value, ...): for
        exercises about numerical stability.
    accept: note -> function with the reference's signature: other answers that are also right (e.g.
        PyTorch's clipping formula ``max_norm / (norm + 1e-6)``). A case whose outcome agrees with one of
        them (within the tolerances) passes, and the note is shown.
    """

    key: str
    title: str
    func_name: str
    reference: Callable[..., Any]
    make_cases: Callable[[np.random.Generator], list[Case]]
    wrong: dict[str, Callable[..., Any]] = field(default_factory=dict)
    atol: float = 1e-6
    rtol: float = 1e-6
    output_names: Sequence[str] | None = None
    fail_on_warning: bool = False
    accept: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not _KEY_RE.match(self.key):
            raise ValueError(
                f"key: expected '<chapter>.<name>' in lower case (e.g. 'lstm.forget_gate'), got {self.key!r}"
            )
        if not (
            isinstance(self.func_name, str)
            and self.func_name.isidentifier()
            and not keyword.iskeyword(self.func_name)
        ):
            raise ValueError(f"func_name: expected a Python identifier, got {self.func_name!r}")
        if not callable(self.reference):
            raise TypeError(f"reference: expected a function, got {type(self.reference).__name__}")
        if not callable(self.make_cases):
            raise TypeError(f"make_cases: expected a function, got {type(self.make_cases).__name__}")
        for message, fn in self.wrong.items():
            if not isinstance(message, str) or not message.strip():
                raise TypeError(f"wrong: keys must be non-empty feedback messages, got {message!r}")
            if not callable(fn):
                raise TypeError(f"wrong[{message!r}]: expected a function, got {type(fn).__name__}")
        for note, fn in self.accept.items():
            if not isinstance(note, str) or not note.strip():
                raise TypeError(f"accept: keys must be non-empty notes, got {note!r}")
            if not callable(fn):
                raise TypeError(f"accept[{note!r}]: expected a function, got {type(fn).__name__}")
        if self.output_names is not None:
            self.output_names = tuple(self.output_names)

    def cases(self, rng: np.random.Generator | int | None = 0) -> list[Case]:
        """The cases drawn with ``rng`` (a Generator or a seed); validated."""
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        cases = list(self.make_cases(rng))
        if not cases:
            raise ValueError(f"{self.key}: make_cases returned no case")
        for i, case in enumerate(cases):
            if not isinstance(case, Case):
                raise TypeError(f"{self.key}: make_cases item {i} is {type(case).__name__}, expected Case")
        return cases

    def output_name(self, j: int, n_out: int) -> str:
        """Display name of output ``j`` of ``n_out``."""
        if self.output_names is not None and j < len(self.output_names):
            return str(self.output_names[j])
        return "output" if n_out == 1 else f"output {j + 1}"


_REGISTRY: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to the registry (re-registering the same key from the same module replaces it)."""
    if not isinstance(exercise, Exercise):
        raise TypeError(f"exercise: expected an Exercise, got {type(exercise).__name__}")
    old = _REGISTRY.get(exercise.key)
    if old is not None and getattr(old.reference, "__module__", None) != getattr(
        exercise.reference, "__module__", None
    ):
        raise ValueError(
            f"exercise key {exercise.key!r} is already registered by {old.reference.__module__}; "
            "choose another key"
        )
    _REGISTRY[exercise.key] = exercise
    return exercise


def get(key: str) -> Exercise:
    """The registered exercise ``key``; KeyError listing the known keys otherwise."""
    try:
        return _REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"no exercise {key!r}; registered keys: {known}") from None


def keys() -> list[str]:
    """Registered keys, in registration order."""
    return list(_REGISTRY)


def all_exercises() -> list[Exercise]:
    """Registered exercises, in registration order."""
    return list(_REGISTRY.values())


# --------------------------------------------------------------------------------------------------------
# What a function did on one case
# --------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What a function did on one case, as plain data.

    status: ``"returned"`` (``values`` holds the outputs as arrays), ``"bad_return"`` (it returned something
    that is not the expected number of arrays; ``detail`` says what), ``"not_attempted"``
    (NotImplementedError), ``"raised"`` (another exception; ``detail`` is ``"TypeError: ..."``),
    ``"exited"`` (sys.exit), ``"timeout"``, ``"memory"`` (MemoryError / memory limit), ``"crashed"``
    (the process running it died), ``"missing"`` (no such function).
    warnings: NumPy/Python warning messages it triggered (deduplicated, in order).
    """

    status: str
    values: list[np.ndarray] | None = None
    detail: str = ""
    warnings: tuple[str, ...] = ()


def _type_phrase(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__}"


def describe_value(value: Any, n_out: int) -> tuple[list[np.ndarray] | None, str]:
    """Turn a returned value into ``n_out`` numeric arrays, or ``(None, what is wrong with it)``.

    The instructor's grader runs the same rules inside the learner's kernel (``course_lib.grading.sandbox``).
    """
    if n_out == 1:
        items = [value]
    elif isinstance(value, tuple | list) and len(value) == n_out:
        items = list(value)
    else:
        return None, f"returned {_type_phrase(value)}; expected a tuple of {n_out} arrays"
    arrays = []
    for j, item in enumerate(items):
        where = "" if n_out == 1 else f" as item {j + 1}"
        if item is None:
            hint = " (did you forget `return`?)" if n_out == 1 else ""
            return None, f"returned None{where}{hint}"
        try:
            arr = np.array(item, copy=True)
        except MemoryError:
            raise
        except Exception:  # ragged lists and other oddities
            return None, f"returned {_type_phrase(item)}{where} that is not an array of numbers"
        if arr.dtype.kind not in "biufc":
            return None, f"returned {_type_phrase(item)}{where} that is not an array of numbers"
        arrays.append(arr)
    return arrays, ""


def n_outputs(value: Any) -> int:
    """Number of outputs of a reference result (a tuple counts its items)."""
    return len(value) if isinstance(value, tuple) else 1


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_function(func: Callable[..., Any], case: Case, n_out: int) -> Outcome:
    """Call ``func(**case inputs)`` here and now; never raises (except KeyboardInterrupt).

    Warnings are recorded (NumPy set to warn on overflow/invalid/divide-by-zero for the call).
    """
    import warnings

    renamed = _signature_problem(func, case.inputs)
    if renamed is not None:
        return Outcome("raised", detail=renamed)
    errstate = np.errstate(over="warn", invalid="warn", divide="warn")
    with warnings.catch_warnings(record=True) as caught, errstate:
        warnings.simplefilter("always")
        try:
            value = func(**case.copy_inputs())
        except NotImplementedError as exc:
            if type(exc) is NotImplementedError:  # a subclass (e.g. from input()) is a real error
                return Outcome("not_attempted")
            return Outcome("raised", detail=_short(f"{type(exc).__name__}: {exc}") + _where(exc))
        except MemoryError as exc:
            return Outcome("memory", detail=_short(f"MemoryError: {exc}"))
        except SystemExit:
            return Outcome("exited", detail="called sys.exit()")
        except KeyboardInterrupt:
            raise
        except _Timeout:
            raise
        except BaseException as exc:  # noqa: B036 - a learner's function may raise anything
            return Outcome("raised", detail=_short(f"{type(exc).__name__}: {exc}") + _where(exc))
    messages = tuple(dict.fromkeys(_short(str(w.message), 120) for w in caught))
    try:
        arrays, problem = describe_value(value, n_out)
    except MemoryError as exc:
        return Outcome("memory", detail=_short(f"converting the returned value: MemoryError: {exc}"))
    except (KeyboardInterrupt, _Timeout):
        raise
    except BaseException as exc:  # noqa: B036 - e.g. a returned object whose __len__ raises
        return Outcome("raised", detail=_short(f"converting the returned value: {type(exc).__name__}: {exc}"))
    if arrays is None:
        return Outcome("bad_return", detail=problem, warnings=messages)
    return Outcome("returned", values=arrays, warnings=messages)


_RENAMED = "keep the parameter names the stub has"


def _signature_problem(func: Callable[..., Any], inputs: dict[str, Any]) -> str | None:
    """Why ``func`` cannot take the case's keyword arguments (renamed or missing parameters), or None."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # no signature to read (a builtin, a C function): just call it
        return None
    try:
        signature.bind(**inputs)
    except TypeError as exc:
        return _short(
            f"TypeError: {exc}. The check calls your function with the stub's argument names "
            f"({', '.join(inputs)}), as keyword arguments: {_RENAMED}."
        )
    return None


class _Timeout(BaseException):
    """Raised inside a learner's function when its time is up (BaseException so `except Exception` misses)."""


def _where(exc: BaseException) -> str:
    """' (at: <source line>)' for the deepest frame of the traceback that is not library code."""
    import traceback

    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "site-packages" not in f.filename and "course_lib" not in f.filename and f.line
    ]
    if not frames:
        return ""
    return f" (at: {_short(frames[-1].line, 100)})"


# --------------------------------------------------------------------------------------------------------
# Judging outcomes against the reference
# --------------------------------------------------------------------------------------------------------
@dataclass
class CaseResult:
    """The verdict on one case."""

    index: int
    label: str
    passed: bool
    status: str  # Outcome.status
    max_abs_err: float | None = None
    problems: list[str] = field(default_factory=list)
    values_ok: bool = False  # every value within tolerance (the case may fail for another reason)
    shape_error: bool = False  # some output has the wrong shape (its error cannot be measured)


@dataclass
class CheckResult:
    """The verdict on one exercise: per-case results, score, recognised mistakes, feedback text."""

    key: str
    title: str
    cases: list[CaseResult]
    diagnoses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: known mistakes the function may have made: it raised the same kind of error on the same cases as
    #: these wrong variants (and agreed with them elsewhere), but not the identical error
    possible: list[str] = field(default_factory=list)
    #: extra feedback lines ("Hint: ..."), computed by :func:`evaluate` when no known mistake matched
    hints: list[str] = field(default_factory=list)

    @property
    def n_passed(self) -> int:
        return sum(c.passed for c in self.cases)

    @property
    def n_cases(self) -> int:
        return len(self.cases)

    @property
    def score(self) -> float:
        """Fraction of cases passed, in [0, 1]."""
        return self.n_passed / self.n_cases if self.cases else 0.0

    @property
    def attempted(self) -> bool:
        return not all(c.status == "not_attempted" for c in self.cases)

    @property
    def status(self) -> str:
        """One word: "passed", "not attempted", "timeout", "memory", "crashed", "missing" or "failed"."""
        if self.cases and self.n_passed == self.n_cases:
            return "passed"
        if not self.attempted:
            return "not attempted"
        for s in ("missing", "timeout", "memory", "crashed", "exited"):
            if all(c.status == s for c in self.cases):
                return s
        return "failed"

    def report(self) -> str:
        """Plain deterministic text (no colour, no timings) for the notebook and the feedback files."""
        head = f"{self.key}: {self.title}"
        lines = [head]
        lines += [f"  note: {n}" for n in self.notes]
        if not self.attempted:
            lines.append(
                "  not attempted: replace the `raise NotImplementedError(...)` line with your code "
                "and run the check again."
            )
            lines.append(f"Score: 0/{self.n_cases} cases passed")
            return "\n".join(lines)
        if self.status in ("missing", "timeout", "memory", "crashed", "exited"):
            first = self.cases[0]
            lines.append(f"  {first.problems[0] if first.problems else self.status}")
            lines.append(f"Score: 0/{self.n_cases} cases passed")
            return "\n".join(lines)
        width = len(str(self.n_cases))
        first = self.cases[0]
        if (
            self.n_cases > 1
            and all(not c.passed and c.max_abs_err is None for c in self.cases)
            and all(c.problems == first.problems for c in self.cases)
        ):
            lines.append(f"  all {self.n_cases} cases FAIL:")
            lines += [f"        - {p}" for p in first.problems]
            lines.append(f"Score: 0/{self.n_cases} cases passed")
            lines += self._mistake_lines()
            return "\n".join(lines)
        for c in self.cases:
            verdict = "pass" if c.passed else "FAIL"
            if c.shape_error:
                err = "wrong shape        "
            elif c.max_abs_err is None:
                err = "max|err| n/a       "
            elif c.passed or c.values_ok:
                err = "max|err| ok        "
            elif np.isfinite(c.max_abs_err):
                err = f"max|err| = {c.max_abs_err:.1e} "
            else:
                err = f"max|err| = {c.max_abs_err}".ljust(19)
            label = f"  ({c.label})" if c.label else ""
            lines.append(f"  case {c.index + 1:>{width}}  {verdict}  {err}{label}")
            for p in c.problems:
                lines.append(f"  {' ' * width}        - {p}")
        lines.append(f"Score: {self.n_passed}/{self.n_cases} cases passed")
        lines += self._mistake_lines()
        return "\n".join(lines)

    def _mistake_lines(self) -> list[str]:
        lines = [f"Known mistake: {d}" for d in self.diagnoses]
        if not self.diagnoses:
            lines += [f"Possible mistake: {d}" for d in self.possible]
            if self.n_passed < self.n_cases:
                lines += self.hints
        return lines


_STATUS_TEXT = {
    "not_attempted": "raised NotImplementedError (not attempted)",
    "timeout": "timed out",
    "memory": "ran out of memory",
    "exited": "called sys.exit()",
    "crashed": "crashed",
    "missing": "no function to check",
}


def _compare(
    exercise: Exercise, expected: list[np.ndarray], got: Outcome
) -> tuple[bool, float | None, list[str], bool, bool]:
    """Compare one outcome with the expected arrays.

    Returns (passed, max abs error, problems, values within tolerance, some output has the wrong shape).
    """
    problems: list[str] = []
    n_out = len(expected)
    if got.status != "returned":
        problems = [got.detail or _STATUS_TEXT.get(got.status, got.status)]
        if got.status == "raised":
            problems += _explain_error(got.detail)
        return False, None, problems, False, False
    ok = True
    values_ok = True
    shape_error = False
    worst: float | None = None
    for j, (exp, val) in enumerate(zip(expected, got.values or [], strict=True)):
        name = exercise.output_name(j, n_out)
        if val.shape != exp.shape:
            hint = " (transposed?)" if val.shape == exp.shape[::-1] and val.ndim == 2 else ""
            problems.append(f"{name}: shape {val.shape}, expected {exp.shape}{hint}")
            ok = values_ok = False
            shape_error = True
            continue
        dtype_note = ""
        if val.dtype != exp.dtype:
            if exp.dtype.kind in "iu" and val.dtype.kind == "f":
                # an exact count returned as a float: right when every value is that integer exactly
                with np.errstate(all="ignore"):
                    exact = bool(np.all(np.isfinite(val))) and np.array_equal(val, exp)
                if exact:
                    dtype_note = (
                        f"note: {name}: right, but a {val.dtype}; an exact count is better returned as an "
                        "int (int(...))"
                    )
                else:
                    problems.append(
                        f"{name}: dtype {val.dtype}, expected {exp.dtype} (an exact count: return an int)"
                    )
                    ok = False
            elif exp.dtype.kind == "f" and val.dtype.kind in "iu":
                dtype_note = (
                    f"note: {name}: you returned integers ({val.dtype}); floats ({exp.dtype}) are expected"
                )
            else:
                problems.append(f"{name}: dtype {val.dtype}, expected {exp.dtype}")
                ok = False
        with np.errstate(all="ignore"):
            v = val.astype(np.complex128 if val.dtype.kind == "c" or exp.dtype.kind == "c" else np.float64)
            e = exp.astype(v.dtype)
            bad_nan = np.isnan(v) & ~np.isnan(e)
            bad_inf = np.isinf(v) & ~np.isinf(e)
            if bad_nan.any():
                problems.append(f"{name}: contains NaN at {int(bad_nan.sum())} of {v.size} entries")
            if bad_inf.any():
                problems.append(f"{name}: contains inf at {int(bad_inf.sum())} of {v.size} entries")
            close = np.isclose(v, e, atol=exercise.atol, rtol=exercise.rtol, equal_nan=True)
            if v.size:
                diff = np.abs(v - e)
                both_nan = np.isnan(v) & np.isnan(e)
                same_inf = np.isinf(v) & np.isinf(e) & (v == e)
                diff = np.where(both_nan | same_inf, 0.0, diff)
                diff = np.where(np.isnan(diff), np.inf, diff)
                err = float(np.max(diff))
                worst = err if worst is None else max(worst, err)
        if not close.all():
            ok = values_ok = False
            if not (bad_nan.any() or bad_inf.any()):
                n_bad = int((~close).sum())
                problems.append(f"{name}: {n_bad} of {v.size} entries differ from the expected values")
        elif dtype_note:
            problems.append(dtype_note)
    if exercise.fail_on_warning and got.warnings:
        ok = False
        problems.append("NumPy warned: " + "; ".join(got.warnings))
    elif got.warnings:
        problems.append("note: NumPy warned: " + "; ".join(got.warnings))
    return ok, worst, problems, values_ok, shape_error


_MATMUL_RE = re.compile(
    r"matmul: Input operand 1 has a mismatch in its core dimension 0.*\(size (\d+) is different from (\d+)\)"
)
_DOT_RE = re.compile(
    r"shapes \(([\d, ]*)\) and \(([\d, ]*)\) not aligned: (\d+) \(dim \d+\) != (\d+) \(dim \d+\)"
)
_BROADCAST_RE = re.compile(r"operands could not be broadcast together with shapes ((?:\([\d, ]*\) ?)+)")


def _error_signature(detail: str) -> tuple[Any, ...] | None:
    """What a shape error says, independent of how it was written (``@``, ``np.dot``, ``np.matmul``)."""
    m = _MATMUL_RE.search(detail)
    if m:
        return ("product", int(m.group(2)), int(m.group(1)))  # (columns of the left, rows of the right)
    m = _DOT_RE.search(detail)
    if m:
        return ("product", int(m.group(3)), int(m.group(4)))
    m = _BROADCAST_RE.search(detail)
    if m:
        return ("broadcast", " ".join(m.group(1).split()))
    return None


def _explain_error(detail: str) -> list[str]:
    """A plain-words reading of common NumPy shape errors (one line, or nothing)."""
    sig = _error_signature(detail)
    if sig is None:
        return []
    if sig[0] == "product":
        return [
            f"a matrix product A @ B needs A's last size to equal B's first: here A has {sig[1]} columns and "
            f"B has {sig[2]} rows. In the book's row convention a batch of rows multiplies a weight from the "
            "left (X_t @ W_xh, H_prev @ W_hh); print the shapes of both factors."
        ]
    return [
        f"an elementwise operation got arrays of shapes {sig[1]}, which do not match (or broadcast): is one "
        "of them transposed, or taken from the wrong step?"
    ]


def _same_behaviour(exercise: Exercise, a: Outcome, b: Outcome, loose: bool = False) -> bool:
    """True when two outcomes agree: values within tolerance (and warnings, if they matter), or one error.

    Two errors agree when their type and message match (e.g. the same NumPy shape error of a transposed
    product), or when both are the same shape error in other words (``W @ H`` and ``np.dot(W, H)`` word
    it differently), so a wrong variant that fails on a case can still be recognised. With ``loose``, two
    errors of the same type agree unless both are shape errors with different shapes.
    """
    if a.status == b.status == "raised" or a.status == b.status == "bad_return":
        da, db = a.detail.split(" (at: ")[0], b.detail.split(" (at: ")[0]
        if da == db:
            return True
        if a.status != "raised" or da.split(":")[0] != db.split(":")[0]:
            return False
        sa, sb = _error_signature(da), _error_signature(db)
        if sa is not None and sb is not None:
            return sa == sb  # two shape errors: the same only when the shapes involved are the same
        return loose
    if a.status != "returned" or b.status != "returned":
        return False
    if len(a.values or []) != len(b.values or []):
        return False
    for x, y in zip(a.values or [], b.values or [], strict=True):
        if x.shape != y.shape:
            return False
        with np.errstate(all="ignore"):
            if not np.allclose(
                x.astype(complex if x.dtype.kind == "c" else float),
                y.astype(complex if y.dtype.kind == "c" else float),
                atol=exercise.atol,
                rtol=exercise.rtol,
                equal_nan=True,
            ):
                return False
    if exercise.fail_on_warning and bool(a.warnings) != bool(b.warnings):
        return False
    return True


def reference_outcomes(exercise: Exercise, cases: list[Case]) -> list[Outcome]:
    """The reference solution's outcomes on ``cases`` (it must return arrays; errors are bugs: raise)."""
    outs = []
    for case in cases:
        value = exercise.reference(**case.copy_inputs())
        arrays, problem = describe_value(value, n_outputs(value))
        if arrays is None:
            raise TypeError(f"{exercise.key}: the reference solution {problem}")
        outs.append(Outcome("returned", values=arrays))
    return outs


def evaluate(
    exercise: Exercise,
    cases: list[Case],
    outcomes: list[Outcome],
    expected: list[Outcome] | None = None,
) -> CheckResult:
    """Judge ``outcomes`` (one per case) against the reference and recognise known wrong versions.

    Runs entirely in the calling process on plain arrays: nothing the learner's code did can change it.
    A case also passes when its outcome agrees with one of ``exercise.accept`` (its note is shown). When
    the outcomes are not those of a known wrong variant, the result says which known mistakes raise the
    same kind of error (``possible``) and gives hints: the failing cases that isolate one term, the outputs
    that are right, or where to look.
    """
    if len(outcomes) != len(cases):
        raise ValueError(f"outcomes: expected {len(cases)} (one per case), got {len(outcomes)}")
    if expected is None:
        expected = reference_outcomes(exercise, cases)
    n_out = len(expected[0].values or [])
    results = []
    notes: list[str] = []
    for i, (case, exp, got) in enumerate(zip(cases, expected, outcomes, strict=True)):
        passed, err, problems, values_ok, shape_error = _compare(exercise, exp.values or [], got)
        if not passed and got.status == "returned":
            for note, fn in exercise.accept.items():
                alt = run_function(fn, case, n_out)
                if alt.status != "returned":
                    continue
                a_passed, a_err, a_problems, a_ok, _ = _compare(exercise, alt.values or [], got)
                if a_passed:
                    passed, err, problems, values_ok = True, a_err, a_problems, a_ok
                    if note not in notes:
                        notes.append(note)
                    break
        results.append(CaseResult(i, case.label, passed, got.status, err, problems, values_ok, shape_error))
    result = CheckResult(exercise.key, exercise.title, results)
    result.notes += [f"accepted: {n}" for n in notes]
    if result.n_passed < result.n_cases and any(
        o.status in ("returned", "raised", "bad_return") for o in outcomes
    ):
        possible = []
        for message, fn in exercise.wrong.items():
            variant = [run_function(fn, case, n_out) for case in cases]
            pairs = list(zip(variant, outcomes, strict=True))
            if all(_same_behaviour(exercise, v, o) for v, o in pairs):
                result.diagnoses.append(message)
            elif any(o.status == "raised" for o in outcomes) and all(
                _same_behaviour(exercise, v, o, loose=True) for v, o in pairs
            ):
                possible.append(message)
        if not result.diagnoses:
            result.possible = possible
            result.hints = _hints(exercise, cases, result, outcomes, expected)
    return result


def _what_to_return(exercise: Exercise, n_out: int) -> str:
    if n_out == 1:
        return "one value (one array, or one number)"
    names = [exercise.output_name(j, n_out) for j in range(n_out)]
    return f"a tuple of {n_out} arrays ({', '.join(names)}), in that order"


def _order_hint(exercise: Exercise, outcomes: list[Outcome], expected: list[Outcome]) -> str | None:
    """'Right values, wrong positions': every expected output appears among the returned ones, elsewhere."""
    pairs = [(o.values, e.values) for o, e in zip(outcomes, expected, strict=True)
             if o.status == "returned" and e.values]
    if not pairs or len(pairs[0][1]) < 2:
        return None
    n_out = len(pairs[0][1])

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        if a.shape != b.shape:
            return False
        with np.errstate(all="ignore"):
            return bool(np.allclose(a, b, atol=exercise.atol, rtol=exercise.rtol))

    position = []
    for j in range(n_out):  # where does expected output j sit in the returned tuple, on every case?
        found = [i for i in range(n_out) if all(same(got[i], exp[j]) for got, exp in pairs)]
        if not found:
            return None
        position.append(j if j in found else found[0])
    if position == list(range(n_out)) or len(set(position)) < n_out:
        return None
    names = [exercise.output_name(j, n_out) for j in range(n_out)]
    moved = [f"{names[j]} as item {position[j] + 1}" for j in range(n_out) if position[j] != j]
    return (
        f"Hint: the values are right but in the wrong order: you returned {'; '.join(moved)}. Return "
        f"({', '.join(names)})."
    )


def _float32_hint(result: CheckResult) -> str | None:
    """A right answer computed in float32 (or another low precision) fails only by rounding."""
    failing = [r for r in result.cases if not r.passed]
    if failing and all(
        r.max_abs_err is not None
        and r.max_abs_err < 1e-4
        and any("dtype float32" in p or "dtype float16" in p for p in r.problems)
        for r in failing
    ):
        return (
            "Hint: your values agree with the expected ones to single precision only: compute in float64, "
            "NumPy's default (do not convert to float32, and use NumPy rather than float32 torch tensors)."
        )
    return None


def _hints(
    exercise: Exercise,
    cases: list[Case],
    result: CheckResult,
    outcomes: list[Outcome],
    expected: list[Outcome] | None = None,
) -> list[str]:
    """Feedback when no known mistake matched, so a wrong answer never gets only a score."""
    if result.status != "failed":
        return []
    failing_outcomes = [o for o, r in zip(outcomes, result.cases, strict=True) if not r.passed]
    if failing_outcomes and all(o.status == "bad_return" for o in failing_outcomes):
        n_out = len(expected[0].values or []) if expected else len(exercise.output_names or ()) or 1
        return [
            f"Hint: look at what your function returns (see above): it must return "
            f"{_what_to_return(exercise, n_out)}, as the docstring says."
        ]
    for special in (
        _order_hint(exercise, outcomes, expected) if expected else None,
        _float32_hint(result),
    ):
        if special:
            return [special]
    hints = []
    failing = [c.label for c, r in zip(cases, result.cases, strict=True) if not r.passed and c.is_isolating()]
    passing = [c.label for c, r in zip(cases, result.cases, strict=True) if r.passed and c.is_isolating()]
    if failing and result.n_passed > 0:
        hints.append("Hint: the failing cases isolate: " + "; ".join(dict.fromkeys(failing)) + ".")
    elif passing and not failing:
        hints.append(
            "Hint: the cases that isolate one part pass (" + "; ".join(dict.fromkeys(passing)) + "); the "
            "others fail, so look at how the parts are combined."
        )
    n_out = len(exercise.output_names or ()) or None
    returned = [(o, r) for o, r in zip(outcomes, result.cases, strict=True) if o.status == "returned"]
    if returned and len(returned[0][0].values or []) > 1:
        n_out = len(returned[0][0].values or [])
        wrong_names = set()
        for _, r in returned:
            for p in r.problems:
                if not p.startswith("note:"):
                    wrong_names.add(p.split(":")[0])
        names = [exercise.output_name(j, n_out) for j in range(n_out)]
        right = [n for n in names if n not in wrong_names]
        if right and len(right) < n_out:
            wrong = [n for n in names if n in wrong_names]
            hints.append(
                f"Hint: {', '.join(right)} {'is' if len(right) == 1 else 'are'} right on every case that "
                f"returned; the error is in {', '.join(wrong)}."
            )
    if not hints and not result.possible:
        failed = [o for o, r in zip(outcomes, result.cases, strict=True) if not r.passed]
        if failed and all(o.status == "raised" and _RENAMED in (o.detail or "") for o in failed):
            hints.append(
                "Hint: rename your function's parameters back to the stub's (or copy the stub's first line "
                "again); the body can stay as it is."
            )
        elif all(o.status == "raised" for o in failed):
            hints.append(
                "Hint: your function raised an error (see above); the line after 'at:' is where. Print the "
                "shapes of the arrays on that line and compare them with the shapes in the docstring."
            )
        else:
            known = len(exercise.wrong)
            which = (
                f"none of the {known} mistakes the checker knows"
                if known
                else "not a mistake the checker knows"
            )
            hints.append(
                f"Hint: this is {which}. Compare your code with the equations term by term, and print the "
                "shapes and a few values of your intermediate results on a failing case."
            )
    return hints


# --------------------------------------------------------------------------------------------------------
# Sources: stubs for notebooks, solutions for the dropdowns
# --------------------------------------------------------------------------------------------------------
def _function_node(source: str) -> ast.FunctionDef:
    tree = ast.parse(textwrap.dedent(source))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            return node
    raise ValueError("no function definition found in the source")


def solution_source(exercise: Exercise) -> str:
    """The reference's source, dedented, renamed to ``func_name``: what goes into the Solution dropdown."""
    src = textwrap.dedent(inspect.getsource(exercise.reference)).strip("\n")
    name = exercise.reference.__name__
    if name != exercise.func_name:
        pattern = rf"^def\s+{re.escape(name)}\s*\("
        src = re.sub(pattern, f"def {exercise.func_name}(", src, count=1, flags=re.M)
    return src + "\n"


def solution_markdown(exercise: Exercise) -> str:
    """The markdown cell with the collapsed Solution dropdown for ``exercise``."""
    return "````{dropdown} Solution\n```python\n" + solution_source(exercise) + "```\n````"


def stub_source(exercise: Exercise, message: str | None = None) -> str:
    """Source of the stub cell: the reference's signature and docstring, then raise NotImplementedError."""
    node = _function_node(inspect.getsource(exercise.reference))
    sig = inspect.signature(exercise.reference)
    doc = ast.get_docstring(node)
    lines = [f"def {exercise.func_name}{sig}:"]
    if doc:
        body = textwrap.indent(doc, "    ").lstrip()
        lines.append(f'    """{body}\n    """' if "\n" in doc else f'    """{body}"""')
    msg = message or f"Exercise: write {exercise.func_name}, then run the check cell below."
    lines.append(f"    raise NotImplementedError({msg!r})")
    return "\n".join(lines) + "\n"


def stub_function(exercise: Exercise) -> Callable[..., Any]:
    """The untouched stub as a function (for tests: it must score 0 and say "not attempted")."""
    namespace: dict[str, Any] = {"np": np}
    exec(compile(stub_source(exercise), f"<stub {exercise.key}>", "exec"), namespace)  # noqa: S102
    return namespace[exercise.func_name]


class _DropDocstrings(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        self.generic_visit(node)
        if (
            node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)
        ):
            node.body = node.body[1:] or [ast.Pass()]
        return node


def _normal_form(source: str, func_name: str) -> str:
    tree = ast.parse(textwrap.dedent(source))
    tree = _DropDocstrings().visit(tree)
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if funcs:
        funcs[0].name = func_name
    return ast.dump(tree, annotate_fields=True, include_attributes=False)


def same_program(source: str, exercise: Exercise) -> bool:
    """The matching rule for Solution dropdowns: same AST as the reference, ignoring docstrings and comments.

    ``source`` is parsed as a module; it may only hold the function (and comments). False when it does not
    parse.
    """
    try:
        reference = _normal_form(solution_source(exercise), exercise.func_name)
        return _normal_form(source, exercise.func_name) == reference
    except SyntaxError:
        return False
