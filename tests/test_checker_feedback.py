"""The checker's feedback (issue 12): a wrong answer never gets only "Score: k/n".

Shape errors print the shapes (not ``max|err| = 0.0e+00``), an exact count returned as an equal float passes
with a note, hints list only the cases that isolate something, a wrong variant that RAISES is still
recognised when the learner writes it another way (``np.dot`` for ``@``), alternative right answers
registered in ``accept`` pass (PyTorch's clipping formula), and answers within float tolerance pass.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from course_lib.exercises import Case, Exercise, all_exercises, get, keys, run_check
from course_lib.exercises import framework as fw


def _affine(**kw):
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

    def column_convention(X, W, b):
        Y = W @ X + b  # (4, 5) @ (3, 4): a shape error
        return Y, Y.sum(axis=1)

    args = dict(
        key="test.affine",
        title="Affine map",
        func_name="affine",
        reference=ref,
        make_cases=cases,
        wrong={"You computed W @ X (column convention); the book's rows are X @ W.": column_convention},
        output_names=("Y", "row_sums"),
    )
    args.update(kw)
    return Exercise(**args)


# ----------------------------------------------------------------------------------------------- shapes
def test_a_shape_error_prints_the_shapes_not_a_zero_error():
    ex = _affine()

    def keepdims(X, W, b):
        Y = X @ W + b
        return Y, Y.sum(axis=1, keepdims=True)  # row_sums (3, 1) instead of (3,); Y is right

    text = run_check(ex, keepdims).report()
    assert "row_sums: shape (3, 1), expected (3,)" in text
    assert "wrong shape" in text
    assert "max|err| = 0.0e+00" not in text
    assert "Hint: Y is right on every case that returned; the error is in row_sums." in text


def test_a_transposed_output_says_transposed():
    ex = _affine()
    text = run_check(ex, lambda X, W, b: ((X @ W + b).T, (X @ W + b).sum(axis=1))).report()
    assert "Y: shape (5, 3), expected (3, 5) (transposed?)" in text


# ------------------------------------------------------------------------------------------ exact counts
def _count_exercise():
    def count(d, h):
        """Parameters of a dense layer with bias: d * h + h (an int)."""
        return d * h + h

    def cases(rng):
        return [
            Case({"d": int(rng.integers(2, 9)), "h": int(rng.integers(2, 9))}, "small sizes"),
            Case({"d": 100, "h": 7}, "d = 100"),
        ]

    return Exercise(
        "test.count", "Count", "count", count, cases, wrong={"You forgot the bias.": lambda d, h: d * h}
    )


def test_an_exact_count_returned_as_an_equal_float_passes_with_a_note():
    ex = _count_exercise()
    r = run_check(ex, lambda d, h: float(d * h + h))
    assert r.score == 1, r.report()
    assert "an exact count is better returned as an int" in r.report()
    r = run_check(ex, lambda d, h: d * h + h + 0.5)
    assert r.score == 0 and "(an exact count: return an int)" in r.report()
    r = run_check(ex, lambda d, h: float(d * h))
    assert r.diagnoses == ["You forgot the bias."], r.report()


def test_param_count_of_chapter_1_accepts_floats_equal_to_the_counts():
    ex = get("rnn.param_count")
    r = run_check(ex, lambda **kw: tuple(float(v) for v in ex.reference(**kw)))
    assert r.score == 1, r.report()


def test_integers_where_floats_are_expected_pass_with_a_note():
    ex = get("bptt.identity_init") if "bptt.identity_init" in keys() else None
    if ex is None:
        pytest.skip("bptt.identity_init not registered")
    case = ex.cases(0)[0]
    ref = ex.reference(**case.inputs)
    arrays, _ = fw.describe_value(ref, fw.n_outputs(ref))
    if not all(np.array_equal(a, np.round(a)) for a in arrays):
        pytest.skip("the first case's answer is not integral")
    ints = tuple(a.astype(np.int64) for a in arrays)
    got = fw.Outcome("returned", values=list(ints))
    r = fw.evaluate(ex, [case], [got])
    assert r.score == 1 and "floats (float64) are expected" in r.report()


# ------------------------------------------------------------------------------------------------- hints
def test_hints_list_only_cases_that_isolate_something():
    ex = _affine()
    r = run_check(ex, lambda X, W, b: (X @ W + 2 * b, (X @ W + 2 * b).sum(axis=1)))
    text = r.report()
    assert "Hint: the failing cases isolate: only the bias is non-zero." in text
    assert "all terms" not in text.split("Hint:")[1]


def test_case_isolates_flag_and_general_labels():
    assert Case({}, "only the bias is non-zero").is_isolating()
    for label in [
        "a general step",
        "all three terms non-zero",
        "random weights and both biases",
        "random weights, another draw",
        "both gates partly open",
        "both upstream gradients non-zero",
        "all terms",
        "",
    ]:
        assert not Case({}, label).is_isolating(), label
    assert not Case({}, "only X", isolates=False).is_isolating()
    assert Case({}, "a general step", isolates=True).is_isolating()


def test_when_only_the_combined_case_fails_the_hint_says_so():
    ex = _affine()

    def squares_only_when_both(X, W, b):
        Y = X @ W + b
        if np.any(X) and np.any(b):
            Y = Y * 1.5
        return Y, Y.sum(axis=1)

    text = run_check(ex, squares_only_when_both).report()
    assert "Hint: the cases that isolate one part pass" in text


# ------------------------------------------------------------------------------------------------ raising
def test_a_raising_wrong_variant_is_named_when_written_with_np_dot():
    ex = _affine()
    r = run_check(ex, lambda X, W, b: (np.dot(W, X) + b, None))
    assert r.diagnoses == ["You computed W @ X (column convention); the book's rows are X @ W."], r.report()
    assert "Known mistake: You computed W @ X" in r.report()


def test_a_raised_shape_error_is_explained_in_plain_words():
    ex = _affine(wrong={})
    text = run_check(ex, lambda X, W, b: (W @ X + b, None)).report()
    assert "ValueError: matmul" in text  # the learner's own error, with where it happened
    assert "A has 5 columns and B has 3 rows" in text
    assert "Hint:" in text


def test_another_error_of_the_same_type_is_only_a_possible_mistake():
    ex = _affine()

    def odd(X, W, b):
        raise ValueError("something else went wrong")  # a ValueError, like the known mistake's, but unparsed

    r = run_check(ex, odd)
    assert r.diagnoses == [] and r.possible, r.report()
    assert "Possible mistake: You computed W @ X" in r.report()
    assert "Known mistake" not in r.report()


def test_a_different_shape_error_is_not_offered_as_a_mistake():
    ex = _affine()
    r = run_check(ex, lambda X, W, b: (X @ W.T, None))  # (3, 4) @ (5, 4): another product than W @ X
    assert r.diagnoses == [] and r.possible == [], r.report()
    assert "A has 4 columns and B has 5 rows" in r.report() and "Hint:" in r.report()


def test_an_unknown_error_still_gets_a_hint():
    ex = _affine()

    def typo(X, W, b):
        raise NameError("name 'H_prev' is not defined")

    text = run_check(ex, typo).report()
    assert "NameError" in text and "Hint:" in text


# ------------------------------------------------------------------------------------------------- accept
def _pytorch_clip(dW_xh, dW_hh, db_h, max_norm):
    """torch.nn.utils.clip_grad_norm_: coefficient max_norm / (norm + 1e-6), clamped at 1."""
    norm = np.sqrt(np.sum(dW_xh**2) + np.sum(dW_hh**2) + np.sum(db_h**2))
    coef = min(max_norm / (norm + 1e-6), 1.0)
    return dW_xh * coef, dW_hh * coef, db_h * coef


def test_accept_lets_pytorchs_clipping_formula_pass():
    ex = get("bptt.clip_global_norm")
    strict = dataclasses.replace(ex, key="test.clip_strict", accept={})
    strict.atol, strict.rtol = 1e-10, 1e-8
    assert run_check(strict, _pytorch_clip).score < 1  # the 1e-6 is visible at this tolerance
    note = "PyTorch's clip_grad_norm_ divides by norm + 1e-6; that is the same clipping."
    lenient = dataclasses.replace(strict, key="test.clip_accept", accept={note: _pytorch_clip})
    r = run_check(lenient, _pytorch_clip)
    assert r.score == 1 and f"accepted: {note}" in r.report()
    assert run_check(lenient, ex.reference).score == 1
    for message, fn in ex.wrong.items():
        assert message in run_check(lenient, fn).diagnoses


def test_accept_is_validated():
    with pytest.raises(TypeError, match="accept"):
        _affine(accept={"note": 42})


# --------------------------------------------------------------------------------- every registered one
@pytest.mark.parametrize("key", keys())
def test_an_answer_within_float_tolerance_passes(key):
    ex = get(key)
    cases = ex.cases(0)
    outs = []
    for exp in fw.reference_outcomes(ex, cases):
        vals = []
        for v in exp.values:
            if v.dtype.kind == "f":
                v = v + np.where(v == 0, 0.1 * ex.atol, 0.1 * ex.rtol * v)
            vals.append(v)
        outs.append(fw.Outcome("returned", values=vals))
    r = fw.evaluate(ex, cases, outs)
    assert r.score == 1, r.report()


@pytest.mark.parametrize("key", keys())
def test_a_wrong_answer_never_gets_only_a_score(key):
    ex = get(key)
    cases = ex.cases(0)
    outs = []
    for exp in fw.reference_outcomes(ex, cases):
        vals = [v * 1.5 + 0.25 if v.dtype.kind == "f" else v + 1 for v in exp.values]
        outs.append(fw.Outcome("returned", values=vals))
    r = fw.evaluate(ex, cases, outs)
    text = r.report()
    assert r.score < 1
    assert any(
        line.startswith(("Known mistake:", "Possible mistake:", "Hint:")) for line in text.splitlines()
    ), text


@pytest.mark.parametrize("key", keys())
def test_accepted_alternatives_pass(key):
    ex = get(key)
    for fn in ex.accept.values():
        r = run_check(ex, fn)
        assert r.score == 1 and not r.diagnoses, r.report()


def test_registry_is_not_empty():
    assert len(all_exercises()) >= 10


# ------------------------------------------------------------------- hints that say what is wrong (review)
def test_right_outputs_in_the_wrong_order_are_named():
    ex = get("lstm.backward_cell")

    def backward_cell(**kw):
        dC_prev, dI_t, dF_t, dO_t, dC_tilde = ex.reference(**kw)
        return dI_t, dF_t, dO_t, dC_tilde, dC_prev

    r = run_check(ex, backward_cell)
    assert r.score == 0 and not r.diagnoses
    assert any("right but in the wrong order" in h and "dC_prev as item 5" in h for h in r.hints), r.report()


def test_a_tuple_of_the_wrong_length_says_what_to_return():
    ex = get("lstm.step")

    def lstm_cell(**kw):
        return ex.reference(**kw)[0]  # H_t only

    text = run_check(ex, lstm_cell).report()
    assert "expected a tuple of 2 arrays" in text
    assert "Hint: look at what your function returns" in text and "(H_t, C_t)" in text
    assert "none of the" not in text


def test_a_right_answer_in_float32_is_told_to_use_float64():
    ex = get("lstm.forget_gate")

    def forget_gate(**kw):
        return ex.reference(**kw).astype(np.float32)

    r = run_check(ex, forget_gate)
    assert r.score < 1
    assert any("single precision" in h and "float64" in h for h in r.hints), r.report()


def test_renamed_parameters_are_named_not_blamed_on_shapes(capsys):
    """A learner who renames the stub's parameters is told to keep the names, not to print shapes."""
    from course_lib.exercises import check

    def forget_gate(x, h, W_xf, W_hf, b_f):  # the stub's X_t, H_prev renamed
        return 1.0 / (1.0 + np.exp(-(x @ W_xf + h @ W_hf + b_f)))

    check("lstm.forget_gate", forget_gate)
    out = capsys.readouterr().out
    assert "Score: 0/" in out
    assert "keep the parameter names the stub has" in out
    assert "X_t, H_prev, W_xf, W_hf, b_f" in out
    assert "Print the shapes" not in out
