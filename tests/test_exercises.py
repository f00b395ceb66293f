"""The exercise framework and every registered exercise (the chapters' ones included).

For each exercise in the registry: the reference solution scores full marks (on the visible cases and on
hidden ones), the untouched stub says "not attempted" and scores 0, every known-wrong variant is caught
with its own message, check() stays under a second, and its printed report is deterministic.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from course_lib.exercises import (
    Case,
    Exercise,
    all_exercises,
    check,
    get,
    keys,
    register,
    run_check,
    same_program,
    solution_markdown,
    solution_source,
    stub_function,
    stub_source,
)
from course_lib.exercises import framework as fw
from course_lib.grading.submission import hidden_seed

KEYS = keys()
WRONG = [(ex.key, msg) for ex in all_exercises() for msg in ex.wrong]
HIDDEN_SEEDS = [hidden_seed("student_a.ipynb", "x"), hidden_seed("student_b.ipynb", "y")]


def test_registry_has_the_setup_exercises():
    assert "setup.sigmoid" in KEYS and "setup.hard_sigmoid" in KEYS
    assert get("setup.sigmoid").func_name == "sigmoid"
    with pytest.raises(KeyError, match="no exercise 'nope.nothing'"):
        get("nope.nothing")


# ------------------------------------------------------------------------------- every registered exercise
@pytest.mark.parametrize("key", KEYS)
def test_reference_scores_full_marks(key):
    ex = get(key)
    for seed in [0, *HIDDEN_SEEDS]:
        result = run_check(key, ex.reference, seed=seed)
        assert result.n_passed == result.n_cases, result.report()
        assert result.status == "passed" and result.score == 1.0
        assert not result.diagnoses, result.report()
    assert "Score: " in run_check(key, ex.reference).report()


@pytest.mark.parametrize("key", KEYS)
def test_stub_is_not_attempted_and_scores_zero(key, capsys):
    ex = get(key)
    stub = stub_function(ex)
    result = run_check(key, stub)
    assert result.score == 0 and not result.attempted and result.status == "not attempted"
    check(key, stub)  # prints, never raises
    out = capsys.readouterr().out
    assert "not attempted" in out and f"Score: 0/{result.n_cases}" in out


@pytest.mark.parametrize(("key", "message"), WRONG)
def test_known_wrong_variant_is_caught_with_its_message(key, message):
    ex = get(key)
    for seed in [0, *HIDDEN_SEEDS]:
        result = run_check(key, ex.wrong[message], seed=seed)
        assert result.n_passed < result.n_cases, f"{key}: the cases do not tell this variant apart: {message}"
        assert message in result.diagnoses, result.report()
        assert f"Known mistake: {message}" in result.report()


@pytest.mark.parametrize("key", KEYS)
def test_check_is_fast_and_deterministic(key, capsys):
    ex = get(key)
    funcs = [ex.reference, stub_function(ex), *ex.wrong.values()]
    for func in funcs:
        start = time.process_time()
        check(key, func)
        assert time.process_time() - start < 1.0, f"check({key!r}) took over a second of CPU"
    first = capsys.readouterr().out
    for func in funcs:
        check(key, func)
    assert capsys.readouterr().out == first
    assert "\x1b[" not in first and "<span" not in first and "<div" not in first  # no colour, no HTML


@pytest.mark.parametrize("key", KEYS)
def test_cases_are_valid_and_reproducible(key):
    ex = get(key)
    a, b = ex.cases(0), ex.cases(0)
    assert len(a) >= 2
    labels = [c.label for c in a]
    assert all(labels), f"{key}: label every case (say what it isolates)"
    for ca, cb in zip(a, b, strict=True):
        assert ca.inputs.keys() == cb.inputs.keys()
        for name in ca.inputs:
            np.testing.assert_array_equal(ca.inputs[name], cb.inputs[name])
            assert isinstance(ca.inputs[name], np.ndarray | float | int), f"{key}: input {name}"
    hidden = ex.cases(HIDDEN_SEEDS[0])
    assert any(
        not np.array_equal(np.asarray(x.inputs[n]), np.asarray(y.inputs[n]))
        for x, y in zip(a, hidden, strict=False)
        for n in x.inputs
        if np.asarray(x.inputs[n]).shape == np.asarray(y.inputs[n]).shape
    ), f"{key}: hidden cases should differ from the visible ones (draw inputs from rng)"


@pytest.mark.parametrize("key", KEYS)
def test_stub_and_solution_sources(key):
    ex = get(key)
    stub = stub_source(ex)
    assert stub.startswith(f"def {ex.func_name}(") and "raise NotImplementedError" in stub
    sol = solution_source(ex)
    assert sol.startswith(f"def {ex.func_name}(")
    assert same_program(sol, ex)
    assert same_program("# a comment\n" + sol.replace("\n\n", "\n"), ex)
    assert not same_program(stub, ex)
    md = solution_markdown(ex)
    assert md.startswith("````{dropdown} Solution\n```python\n") and md.endswith("```\n````")


# ------------------------------------------------------------------------------------------ the check itself
def _ex(**kw):
    def ref(X, W, b):
        """Two outputs: Y = X @ W + b and its row sums."""
        Y = X @ W + b
        return Y, Y.sum(axis=1)

    def cases(rng):
        X, W, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
        return [
            Case({"X": np.zeros((3, 4)), "W": W, "b": b}, "only the bias is non-zero"),
            Case({"X": X, "W": W, "b": np.zeros(5)}, "only X @ W is non-zero"),
            Case({"X": X, "W": W, "b": b}, "all terms"),
        ]

    def no_bias(X, W, b):
        return X @ W, (X @ W).sum(axis=1)

    args = dict(
        key="test.affine",
        title="Affine map",
        func_name="affine",
        reference=ref,
        make_cases=cases,
        wrong={"You forgot the bias b.": no_bias},
        output_names=("Y", "row_sums"),
    )
    args.update(kw)
    return Exercise(**args)


def test_two_outputs_and_labelled_failures():
    ex = _ex()
    ok = run_check(ex, ex.reference)
    assert ok.score == 1
    r = run_check(ex, lambda X, W, b: (X @ W, (X @ W).sum(axis=1)))
    assert r.diagnoses == ["You forgot the bias b."]
    assert [c.passed for c in r.cases] == [False, True, False]
    # An unknown mistake: the hint names the labelled cases that fail AND isolate something (issue 12:
    # "all terms" isolates nothing, so it is no longer listed).
    r = run_check(ex, lambda X, W, b: (X @ W + 2 * b, (X @ W + 2 * b).sum(axis=1)))
    assert not r.diagnoses
    text = r.report()
    assert "Hint: the failing cases isolate: only the bias is non-zero." in text
    assert "Y: 15 of 15 entries differ" in text


def test_bad_returns_are_reported_not_raised():
    ex = _ex()
    r = run_check(ex, lambda X, W, b: X @ W + b)
    assert r.score == 0 and "returned a ndarray; expected a tuple of 2 arrays" in r.report()
    r = run_check(ex, lambda X, W, b: ((X @ W + b).T, (X @ W + b).sum(axis=1)))
    assert "Y: shape (5, 3), expected (3, 5) (transposed?)" in r.report()
    r = run_check(ex, lambda X, W, b: ((X @ W + b).astype(np.float32), (X @ W + b).sum(axis=1)))
    assert "Y: dtype float32, expected float64" in r.report() and r.score == 0
    r = run_check(ex, lambda X, W, b: (None, None))
    assert "returned None as item 1" in r.report()
    r = run_check(ex, lambda X, W, b: (np.full((3, 5), np.nan), np.full(3, np.inf)))
    assert "Y: contains NaN at 15 of 15 entries" in r.report()
    assert "row_sums: contains inf at 3 of 3 entries" in r.report()


def test_odd_returned_values_never_raise():
    ex = _ex()

    class BrokenTuple(tuple):
        def __len__(self):
            raise RuntimeError("boom")

    r = run_check(ex, lambda X, W, b: BrokenTuple((X, X)))
    assert r.score == 0 and "converting the returned value: RuntimeError: boom" in r.report()
    ok = ex.reference
    r = run_check(ex, lambda X, W, b: tuple(np.ma.masked_array(v) for v in ok(X, W, b)))
    assert r.score == 1  # a NumPy subclass is read as its plain array
    r = run_check(ex, lambda X, W, b: (v.astype(object) for v in ok(X, W, b)))
    assert "returned a generator; expected a tuple of 2 arrays" in r.report()
    r = run_check(ex, lambda X, W, b: tuple(v.astype(object) for v in ok(X, W, b)))
    assert "returned a ndarray as item 1 that is not an array of numbers" in r.report()


def test_exceptions_exit_and_timeouts_never_raise(capsys):
    ex = _ex()

    def boom(X, W, b):
        raise ValueError("shapes do not match")

    def leave(X, W, b):
        raise SystemExit(3)

    def spin(X, W, b):
        while True:
            pass

    def spin_stubborn(X, W, b):
        while True:
            try:
                time.sleep(0.01)
            except Exception:
                pass

    assert "ValueError: shapes do not match" in run_check(ex, boom).report()
    assert "called sys.exit()" in run_check(ex, leave).report()
    start = time.perf_counter()
    assert "timed out after 0.3 s" in run_check(ex, spin, time_limit=0.3).report()
    assert "timed out after 0.3 s" in run_check(ex, spin_stubborn, time_limit=0.3).report()
    assert time.perf_counter() - start < 5
    assert "is None, not a function" in run_check(ex, None).report()
    check("setup.sigmoid", boom)
    assert "TypeError" in capsys.readouterr().out  # wrong signature: reported, not raised


def test_inputs_are_copied_so_a_learner_cannot_corrupt_them():
    ex = _ex()

    def vandal(X, W, b):
        X[:] = 0.0
        b += 1.0
        return ex.reference(X=X, W=W, b=b)

    r = run_check(ex, vandal)
    assert r.n_passed < r.n_cases
    assert run_check(ex, ex.reference).score == 1


def test_warnings_fail_only_exercises_about_them():
    sig = get("setup.sigmoid")
    r = run_check(sig, lambda x: 1.0 / (1.0 + np.exp(-x)))
    assert "NumPy warned: overflow encountered in exp" in r.report() and r.score < 1
    ex = _ex()

    def noisy(X, W, b):
        np.log(np.zeros(1))  # warns "divide by zero", result unused
        return ex.reference(X=X, W=W, b=b)

    r = run_check(ex, noisy)
    assert r.score == 1 and "note: NumPy warned" in r.report()


def test_exercise_validation():
    with pytest.raises(ValueError, match="key"):
        _ex(key="Bad Key")
    with pytest.raises(ValueError, match="func_name"):
        _ex(func_name="not an identifier")
    with pytest.raises(TypeError, match="reference"):
        _ex(reference=42)
    with pytest.raises(TypeError, match="wrong"):
        _ex(wrong={"message": "not callable"})
    with pytest.raises(TypeError, match="exercise"):
        register("setup.sigmoid")
    with pytest.raises(TypeError, match="Case"):
        _ex(make_cases=lambda rng: [{"X": 1}]).cases(0)


def test_register_refuses_a_key_owned_by_another_module():
    clash = _ex(key="setup.sigmoid")
    with pytest.raises(ValueError, match="already registered"):
        register(clash)
    assert get("setup.sigmoid").reference.__module__ == "course_lib.exercises.ch00_setup"


def test_evaluate_runs_on_plain_outcomes():
    ex = _ex()
    cases = ex.cases(0)
    outcomes = [fw.Outcome("timeout", detail="timed out after 2 s") for _ in cases]
    r = fw.evaluate(ex, cases, outcomes)
    assert r.status == "timeout" and "timed out after 2 s" in r.report()
    with pytest.raises(ValueError, match="outcomes"):
        fw.evaluate(ex, cases, outcomes[:1])


def test_a_wrong_variant_that_raises_is_recognised_by_its_error():
    def transposed(X, W, b):
        Y = W @ X + b  # column convention: a shape error for these shapes
        return Y, Y.sum(axis=1)

    ex = _ex(wrong={"You computed W @ X (column convention); the book's rows are X @ W.": transposed})
    r = run_check(ex, lambda X, W, b: ((W @ X + b), (W @ X + b).sum(axis=1)))
    assert r.diagnoses == ["You computed W @ X (column convention); the book's rows are X @ W."]
    r = run_check(ex, lambda X, W, b: (X @ W.T, None))  # another error: not that mistake
    assert r.diagnoses == []
