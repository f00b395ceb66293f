"""The instructor's grader on good, bad and hostile submissions (tests/fixtures/grading/).

The whole fixture folder is graded once (module fixture, 2 s per exercise, 2 workers, each kernel in the
bubblewrap sandbox); each test then checks one fixture's row and feedback. Fixtures are written by
tests/fixtures/make_grading_fixtures.py; the ``attack_*`` ones attack the grader itself (issue 15; more in
tests/test_grade_sandbox.py). Where no sandbox can be made (no bwrap, not Linux) the class is graded with
``--no-sandbox`` without the attack fixtures, and the attack tests are skipped, except under CI (CI=true),
where a missing sandbox is a failure.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course_lib import grade
from course_lib.exercises import all_exercises, solution_source, stub_source
from course_lib.grading import reports
from course_lib.grading.isolation import sandbox_problem
from course_lib.grading.submission import hidden_seed, read_submission

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "grading"
KEYS = ["setup.sigmoid", "setup.hard_sigmoid"]
LIMIT = "2"
REFERENCE_MODULE = Path(grade.__file__).resolve().parent / "exercises" / "ch00_setup.py"
NO_SANDBOX = sandbox_problem()
if NO_SANDBOX and os.environ.get("CI") == "true":
    raise RuntimeError(f"CI=true but the grader's sandbox is unavailable: {NO_SANDBOX}")
needs_sandbox = pytest.mark.skipif(bool(NO_SANDBOX), reason=f"no sandbox here: {NO_SANDBOX}")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every fixture once through the command line; return (rows by name, feedback dir, digests)."""
    out = tmp_path_factory.mktemp("grades")
    before = _digests(FIXTURES)
    module = os.stat(REFERENCE_MODULE)
    folder, extra = FIXTURES, []
    if NO_SANDBOX:  # grade the non-attack fixtures, unprotected
        folder, extra = tmp_path_factory.mktemp("class"), ["--no-sandbox"]
        for p in FIXTURES.iterdir():
            if not p.name.startswith("attack_"):
                shutil.copy(p, folder / p.name)
    code = grade.main(
        [
            str(folder),
            *extra,
            "--exercises",
            "setup.*",
            "--time-limit",
            LIMIT,
            "--jobs",
            "2",
            "--out",
            str(out / "grades.csv"),
        ]
    )
    assert code == 0
    with open(out / "grades.csv", newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    return {
        "rows": rows,
        "feedback": out / "feedback",
        "csv": out / "grades.csv",
        "before": before,
        "folder": folder,
        "module": (module.st_ino, module.st_mtime_ns, REFERENCE_MODULE.read_bytes()),
    }


def feedback(graded, name: str) -> str:
    return (graded["feedback"] / f"{name}.txt").read_text()


def scores(graded, name: str) -> tuple[float, float, float]:
    r = graded["rows"][name]
    return float(r["setup.sigmoid"]), float(r["setup.hard_sigmoid"]), float(r["total"])


# ----------------------------------------------------------------------------------- the batch as a whole
def test_gradebook_has_one_row_per_submission_and_one_column_per_exercise(graded):
    names = sorted(p.name for p in graded["folder"].iterdir() if p.suffix == ".ipynb")
    assert sorted(graded["rows"]) == names
    header = graded["csv"].read_text().splitlines()[0].split(",")
    assert header == ["submission", "status", *KEYS, "total", "max", "flags", "sha256"]
    for name in names:
        assert (graded["feedback"] / f"{name}.txt").is_file()
        assert (graded["feedback"] / f"{name}.json").is_file()


def test_submission_files_are_never_modified(graded):
    assert _digests(FIXTURES) == graded["before"]


def test_no_temporary_files_are_left_next_to_the_gradebook(graded):
    assert [p.name for p in graded["csv"].parent.iterdir() if p.name.endswith(".tmp")] == []


def test_regrading_gives_the_same_rows(graded, tmp_path):
    names = ["good.ipynb", "known_mistakes.ipynb", "infinite_loop.ipynb", "os_exit.ipynb"]
    for n in names:
        shutil.copy(FIXTURES / n, tmp_path / n)
    out = tmp_path / "again.csv"
    grade.main(
        [
            *(str(tmp_path / n) for n in names),
            "--exercises",
            "setup.*",
            "--time-limit",
            LIMIT,
            "--out",
            str(out),
        ]
    )
    with open(out, newline="") as f:
        again = {r["submission"]: r for r in csv.DictReader(f)}
    for n in names:
        assert again[n] == graded["rows"][n]
        assert (tmp_path / "feedback" / f"{n}.txt").read_text() == feedback(graded, n)


def test_class_summary_counts_known_mistakes(graded):
    text = (graded["feedback"] / "_class_summary.txt").read_text()
    assert text.startswith(f"{len(graded['rows'])} submission(s), 2 exercise(s)")
    assert "1 x That is Keras 2's hard sigmoid" in text
    assert "not graded or suspicious" in text and "truncated.ipynb" in text


def test_gradescope_results_format(graded):
    res = json.loads((graded["feedback"] / "known_mistakes.ipynb.json").read_text())
    assert set(res) >= {"score", "output", "tests"}
    assert res["score"] == pytest.approx(float(graded["rows"]["known_mistakes.ipynb"]["total"]))
    assert [t["name"].split(":")[0] for t in res["tests"]] == KEYS
    for t in res["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output"}
        assert 0 <= t["score"] <= t["max_score"] == 1
    assert sum(t["score"] for t in res["tests"]) == pytest.approx(res["score"])


# ------------------------------------------------------------------------------------------------- fixtures
def test_good_submission_scores_full_marks(graded):
    assert scores(graded, "good.ipynb") == (1, 1, 2)
    assert graded["rows"]["good.ipynb"]["status"] == "graded"
    assert "hidden cases" in feedback(graded, "good.ipynb")


def test_untouched_stubs_are_not_attempted(graded):
    assert scores(graded, "stub.ipynb") == (0, 0, 0)
    assert feedback(graded, "stub.ipynb").count("not attempted") == 2


def test_known_mistakes_are_named(graded):
    s, h, _ = scores(graded, "known_mistakes.ipynb")
    assert 0 < s < 1 and 0 < h < 1
    text = feedback(graded, "known_mistakes.ipynb")
    assert "Known mistake: 1 / (1 + np.exp(-x)) overflows" in text
    assert "Known mistake: That is Keras 2's hard sigmoid" in text


def test_infinite_loop_times_out_and_the_rest_is_graded(graded):
    assert scores(graded, "infinite_loop.ipynb") == (0, 1, 1)
    assert f"timed out after {LIMIT} s" in feedback(graded, "infinite_loop.ipynb")


def test_loop_that_swallows_interrupts_is_stopped(graded):
    assert scores(graded, "stubborn_loop.ipynb") == (0, 1, 1)
    assert f"timed out after {LIMIT} s" in feedback(graded, "stubborn_loop.ipynb")


def test_endless_loop_at_the_top_of_a_cell(graded):
    assert scores(graded, "loop_at_top_level.ipynb") == (0, 1, 1)
    assert "defining the function timed out" in feedback(graded, "loop_at_top_level.ipynb")


def test_exception_is_reported(graded):
    assert scores(graded, "exception.ipynb") == (0, 1, 1)
    text = feedback(graded, "exception.ipynb")
    assert "ValueError: matmul" in text and "(at: return np.exp(x) @ np.ones((2, 2, 2, 2, 9)))" in text


def test_nan_and_inf(graded):
    assert scores(graded, "nan_inf.ipynb") == (0, 0, 0)
    text = feedback(graded, "nan_inf.ipynb")
    assert "contains NaN" in text and "contains inf" in text


def test_wrong_shape_and_dtype(graded):
    assert scores(graded, "wrong_shape_dtype.ipynb") == (0, 0, 0)
    text = feedback(graded, "wrong_shape_dtype.ipynb")
    assert "output: shape (1, 12), expected (3, 4)" in text
    assert "output: dtype float32, expected float64" in text


def test_returning_none_or_a_string(graded):
    assert scores(graded, "returns_none.ipynb") == (0, 0, 0)
    text = feedback(graded, "returns_none.ipynb")
    assert "returned None (did you forget `return`?)" in text
    assert "returned a str that is not an array of numbers" in text


def test_printing_megabytes_does_not_matter(graded):
    assert scores(graded, "prints_megabytes.ipynb") == (1, 1, 2)
    assert len(feedback(graded, "prints_megabytes.ipynb")) < 5000


def test_huge_allocation_hits_the_memory_limit(graded):
    assert scores(graded, "huge_allocation.ipynb") == (0, 1, 1)
    assert "ran out of memory (limit: 1024 MB)" in feedback(graded, "huge_allocation.ipynb")


def test_sys_exit_in_function_and_in_cell(graded):
    assert scores(graded, "sys_exit.ipynb") == (0, 0, 0)
    text = feedback(graded, "sys_exit.ipynb")
    assert "called sys.exit()" in text and "running the cell: called sys.exit()" in text


def test_os_exit_crashes_only_its_exercise(graded):
    assert scores(graded, "os_exit.ipynb") == (0, 1, 1)
    assert "the kernel died while running this exercise" in feedback(graded, "os_exit.ipynb")


def test_killing_the_kernel(graded):
    assert scores(graded, "kills_kernel.ipynb") == (0, 1, 1)
    assert "the kernel died" in feedback(graded, "kills_kernel.ipynb")


@needs_sandbox
def test_killing_the_grading_process_is_impossible_from_the_sandbox(graded):
    # The kernel's parent is the sandbox's first process, in its own PID namespace: the grader's worker is
    # out of reach, so the notebook is graded (its sigmoid after the kill is right).
    assert scores(graded, "kills_grader.ipynb") == (1, 1, 2)
    assert graded["rows"]["kills_grader.ipynb"]["status"] == "graded"
    assert scores(graded, "good.ipynb") == (1, 1, 2)


@pytest.fixture(scope="module")
def graded_unsandboxed(tmp_path_factory):
    """Two attacks graded with --no-sandbox: the worker-level defences still hold there."""
    folder = tmp_path_factory.mktemp("unsandboxed")
    for name in ("kills_grader.ipynb", "injects_result.ipynb", "good.ipynb"):
        shutil.copy(FIXTURES / name, folder / name)
    out = folder / "out"
    code = grade.main(
        [str(folder), "--no-sandbox", "--exercises", "setup.*", "--time-limit", LIMIT]
        + ["--out", str(out / "g.csv")]
    )
    assert code == 0
    with open(out / "g.csv", newline="") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


def test_killing_the_grading_process_costs_only_that_submission(graded_unsandboxed):
    rows = graded_unsandboxed
    assert (rows["kills_grader.ipynb"]["total"], rows["good.ipynb"]["total"]) == ("0", "2")
    assert rows["kills_grader.ipynb"]["status"].startswith("the grading process failed")


def test_deleted_exercise_cell(graded):
    assert scores(graded, "cell_deleted.ipynb") == (1, 0, 1)
    assert "no exercise cell for setup.hard_sigmoid" in feedback(graded, "cell_deleted.ipynb")


def test_renamed_function_and_missing_metadata(graded):
    assert scores(graded, "renamed.ipynb") == (0, 1, 1)
    text = feedback(graded, "renamed.ipynb")
    assert "does not define a function `sigmoid`" in text
    assert "found by its `def hard_sigmoid(` line" in text


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("truncated.ipynb", "the JSON ends early"),
        ("truncated.ipynb", "truncated or not a notebook"),
        ("truncated_in_string.ipynb", "the JSON ends early (the file is truncated or not a notebook"),
        ("malformed.ipynb", "broken JSON"),
        ("not_a_notebook.ipynb", "not a notebook: the file is not text"),
        ("script.ipynb", "not a notebook: the file is not JSON"),
        ("empty.ipynb", "the file is empty"),
        ("json_not_notebook.ipynb", "JSON without a list of cells"),
    ],
)
def test_broken_files_score_zero_with_a_reason(graded, name, problem):
    assert scores(graded, name) == (0, 0, 0)
    assert problem in graded["rows"][name]["status"]
    assert problem in feedback(graded, name)


def test_cells_run_in_notebook_order_so_helpers_of_earlier_cells_work(graded):
    assert scores(graded, "uses_earlier_cell.ipynb") == (1, 1, 2)
    # Even when the exercises are listed in another order.
    res = grade.grade_submission(
        FIXTURES / "uses_earlier_cell.ipynb",
        "uses_earlier_cell.ipynb",
        ["setup.hard_sigmoid", "setup.sigmoid"],
        time_limit=5,
        sandbox=not NO_SANDBOX,
    )
    assert [e["score"] for e in res["exercises"]] == [1.0, 1.0]


def test_notebook_of_another_chapter(graded):
    assert scores(graded, "other_chapter.ipynb") == (0, 0, 0)
    assert graded["rows"]["other_chapter.ipynb"]["status"] == "wrong notebook?"
    assert "was the right notebook submitted?" in feedback(graded, "other_chapter.ipynb")


def test_monkeypatching_numpy_or_check_changes_nothing(graded):
    assert scores(graded, "monkeypatch.ipynb") == (0, 1, 1)
    assert "has no effect on grading" in feedback(graded, "monkeypatch.ipynb")


def test_importing_the_reference_solution_is_flagged(graded):
    assert scores(graded, "imports_reference.ipynb") == (0, 1, 1)
    row = graded["rows"]["imports_reference.ipynb"]
    assert "setup.sigmoid: uses course_lib" in row["flags"]
    assert "FLAG: uses course_lib" in feedback(graded, "imports_reference.ipynb")


def test_solution_written_below_the_untouched_stub_is_graded(graded):
    assert scores(graded, "stub_then_solution.ipynb") == (1, 1, 2)
    assert "the exercise cell still holds the stub" in feedback(graded, "stub_then_solution.ipynb")


def test_syntax_error_in_the_exercise_cell(graded):
    assert scores(graded, "syntax_error.ipynb") == (0, 1, 1)
    assert "running the cell: SyntaxError" in feedback(graded, "syntax_error.ipynb")


def test_returning_an_array_too_large_to_copy(graded):
    assert scores(graded, "big_return.ipynb") == (0, 1, 1)
    assert "converting the returned value: ran out of memory" in feedback(graded, "big_return.ipynb")


def test_processes_forked_by_a_submission_do_not_outlive_its_grading(graded):
    assert scores(graded, "forks_child.ipynb") == (1, 1, 2)
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        assert b"course-grade-orphan-fixture" not in cmdline, f"process {proc.name} survived grading"


def test_a_result_forged_into_the_workers_output_is_rejected(graded_unsandboxed):
    row = graded_unsandboxed["injects_result.ipynb"]
    assert row["total"] == "0" and "tampered with" in row["status"]


@needs_sandbox
def test_a_sandboxed_kernel_cannot_reach_the_workers_output(graded):
    # The forged line (total 99) never reaches the worker: the row is the notebook's honest grade.
    assert scores(graded, "injects_result.ipynb") == (1, 1, 2)
    assert graded["rows"]["injects_result.ipynb"]["status"] == "graded"


def test_only_numbers_are_read_back_from_the_kernel(graded):
    assert scores(graded, "overrides_runner.ipynb") == (1, 0, 1)
    assert "could not report on this exercise" in feedback(graded, "overrides_runner.ipynb")


def test_silencing_warnings_in_an_exercise_about_them_is_flagged(graded):
    assert scores(graded, "silences_warnings.ipynb") == (1, 1, 2)  # the values are right...
    assert "setup.sigmoid: silences warnings" in graded["rows"]["silences_warnings.ipynb"]["flags"]
    assert graded["rows"]["good.ipynb"]["flags"] == ""


def test_odd_files_deep_json_and_latin1(graded):
    assert scores(graded, "deep_json.ipynb") == (0, 0, 0)
    assert graded["rows"]["deep_json.ipynb"]["status"] == "not a notebook: JSON nested too deeply"
    assert scores(graded, "latin1.ipynb") == (1, 1, 2)
    # Reading every submission to find the exercises (no --exercises) must not stop on either.
    subs = [(FIXTURES / n, n) for n in ("deep_json.ipynb", "latin1.ipynb")]
    assert grade.resolve_keys(None, None, subs) == KEYS


# ----------------------------------------------------------------- attacks on the grader itself (issue 15)
# Each attack_* fixture got full marks, or sabotaged a classmate, before the kernels were sandboxed (see
# tests/fixtures/make_grading_fixtures.py for how each one works). Graded with the rest of the class above.
@needs_sandbox
def test_attack_sigstop_and_forged_result_fails(graded):
    row = graded["rows"]["attack_sigstop_forge.ipynb"]
    assert scores(graded, "attack_sigstop_forge.ipynb") == (0, 0, 0)  # its constant function, not the forgery
    assert row["status"] == "graded"
    assert row["sha256"] == hashlib.sha256((FIXTURES / "attack_sigstop_forge.ipynb").read_bytes()).hexdigest()


@needs_sandbox
def test_attack_on_concurrent_workers_spoils_no_classmate(graded):
    assert scores(graded, "attack_concurrent_mark.ipynb") == (0, 0, 0)
    assert [n for n, r in graded["rows"].items() if "tampered" in r["status"]] == []


@needs_sandbox
@pytest.mark.parametrize(
    "name", ["attack_reads_reference.ipynb", "attack_unblocks_import.ipynb", "attack_reads_classmate.ipynb"]
)
def test_attacks_that_steal_the_solution_find_nothing(graded, name):
    # Reading course_lib's source on disk (name assembled at run time), unblocking the import of course_lib,
    # reading a classmate's notebook from the submissions folder: none of them is in the sandbox.
    assert scores(graded, name) == (0, 0, 0)
    assert "TypeError: 'NoneType' object is not callable" in feedback(graded, name)
    assert graded["rows"][name]["flags"] == ""  # nothing to flag: the attack failed, it is not hidden


@needs_sandbox
def test_attack_editing_course_lib_on_disk_fails(graded):
    assert scores(graded, "attack_edits_course_lib.ipynb") == (0, 0, 0)
    now = os.stat(REFERENCE_MODULE)
    assert (now.st_ino, now.st_mtime_ns, REFERENCE_MODULE.read_bytes()) == graded["module"]
    assert list(REFERENCE_MODULE.parent.glob("*.attack-tmp")) == []


@needs_sandbox
def test_a_detached_process_that_leaves_the_environment_does_not_survive(graded):
    # It double-forks into a new session with an empty environment (invisible to the clean-up by tag)
    # and would sleep for 2 minutes: the PID namespace ends with the kernel.
    assert scores(graded, "attack_outlives_grader.ipynb") == (0, 0, 0)
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        assert b"course-grade-daemon-fixture" not in cmdline, f"process {proc.name} survived grading"


@needs_sandbox
def test_files_written_in_memory_cannot_fill_the_machines_ram(graded):
    # It writes up to 200 MB into each of the sandbox's in-memory folders and reports how much it could:
    # /tmp and /dev/shm are sized tmpfs (isolation.TMP_MB, SHM_MB); / and /dev are read-only.
    from course_lib.grading.isolation import SHM_MB, TMP_MB

    assert scores(graded, "attack_fills_memory.ipynb") == (0, 0, 0)
    text = feedback(graded, "attack_fills_memory.ipynb")
    found = dict(re.findall(r"(/[a-z/]*) (\d+) MB", text.split("RuntimeError: wrote ", 1)[1].split("\n")[0]))
    assert set(found) == {"/tmp", "/dev/shm", "/", "/dev"}, text
    assert int(found["/tmp"]) <= TMP_MB and int(found["/dev/shm"]) <= SHM_MB
    assert int(found["/"]) == int(found["/dev"]) == 0


# ----------------------------------------------------------------------------------------------- units
def test_feedback_file_names_are_unique():
    stems = reports.feedback_stems(["a b.ipynb", "a_b.ipynb", "Alice.ipynb", "alice.ipynb", "class_summary"])
    assert len({s.casefold() for s in stems.values()}) == 5
    assert stems["a b.ipynb"] == "a_b.ipynb" and stems["a_b.ipynb"] == "a_b.ipynb-2"


def test_gradebook_does_not_let_names_become_spreadsheet_formulas():
    result = {"name": "=HYPERLINK(1).ipynb", "status": "graded", "total": 1.0, "max": 2.0, "sha256": "ab",
              "exercises": [{"key": "rnn.step", "score": 1.0, "flags": ["-x"]}]}
    rows = list(csv.reader(reports.gradebook_csv([result], ["rnn.step"]).splitlines()))
    assert rows[1][0] == "'=HYPERLINK(1).ipynb"
    assert rows[1][1] == "graded" and rows[1][2:5] == ["1", "1", "2"]
    assert reports.spreadsheet_safe("lstm.ipynb") == "lstm.ipynb"
    assert reports.spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"


def test_hidden_seed_is_stable_and_depends_on_name_and_key():
    a = hidden_seed("alice.ipynb", "setup.sigmoid")
    assert a == hidden_seed("some/folder/alice.ipynb", "setup.sigmoid")
    assert a != hidden_seed("bob.ipynb", "setup.sigmoid") != hidden_seed("alice.ipynb", "setup.hard_sigmoid")
    assert a != 0


def test_gradebook_is_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "grades.csv"
    target.write_text("old gradebook\n")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        reports.atomic_write_text(target, "new gradebook\n")
    assert target.read_text() == "old gradebook\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_gradescope_option_and_assignment_keys(tmp_path):
    results = [
        {
            "name": "a.ipynb",
            "status": "graded",
            "notes": [],
            "total": 1.5,
            "max": 2.0,
            "sha256": "",
            "exercises": [
                {
                    "key": k,
                    "title": "t",
                    "score": s,
                    "max_score": 1,
                    "status": "x",
                    "report": "r",
                    "flags": [],
                }
                for k, s in zip(KEYS, [1.0, 0.5], strict=True)
            ],
        }
    ]
    grade.write_outputs(results, KEYS, None, None, tmp_path / "results" / "results.json")
    res = json.loads((tmp_path / "results" / "results.json").read_text())
    assert res["score"] == 1.5 and [t["score"] for t in res["tests"]] == [1.0, 0.5]
    assert grade.resolve_keys(str(FIXTURES / "good.ipynb"), None, []) == KEYS
    assert grade.resolve_keys(None, "setup.hard*", []) == ["setup.hard_sigmoid"]


def test_read_submission_never_raises(tmp_path):
    for p in FIXTURES.iterdir():
        sub = read_submission(p)
        assert sub.problem or sub.cells or sub.code_cells
    missing = read_submission(tmp_path / "nope.ipynb")
    assert "cannot read the file" in missing.problem


def test_every_registered_exercise_through_the_kernel(tmp_path):
    """All reference solutions score full marks and all stubs 0 when graded in a kernel on hidden cases."""
    for name, source in (("solutions.ipynb", solution_source), ("stubs.ipynb", stub_source)):
        cells = [nbformat.v4.new_code_cell("import numpy as np")]
        for ex in all_exercises():
            cell = nbformat.v4.new_code_cell(source(ex))
            cell.metadata["exercise"] = ex.key
            cells.append(cell)
        nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / name)
    keys = [ex.key for ex in all_exercises()]
    results = grade.grade_batch(
        [(tmp_path / "solutions.ipynb", "solutions.ipynb"), (tmp_path / "stubs.ipynb", "stubs.ipynb")],
        keys,
        time_limit=10,
        jobs=2,
        sandbox=not NO_SANDBOX,
    )
    sol, stub = results
    assert sol["total"] == len(keys), "\n".join(e["report"] for e in sol["exercises"] if e["score"] < 1)
    assert stub["total"] == 0
    assert all(e["status"] == "not attempted" for e in stub["exercises"])


def test_collect_submissions_names_are_unique(tmp_path):
    for folder in ("group_a", "group_b"):
        (tmp_path / folder).mkdir()
        shutil.copy(FIXTURES / "good.ipynb", tmp_path / folder / "lstm.ipynb")
    (tmp_path / "group_a" / ".ipynb_checkpoints").mkdir()
    shutil.copy(
        FIXTURES / "good.ipynb", tmp_path / "group_a" / ".ipynb_checkpoints" / "lstm-checkpoint.ipynb"
    )
    found = grade.collect_submissions([str(tmp_path)])
    assert [n for _, n in found] == ["group_a/lstm.ipynb", "group_b/lstm.ipynb"]
    both = grade.collect_submissions(
        [str(tmp_path / "group_a" / "lstm.ipynb"), str(tmp_path / "group_b" / "lstm.ipynb")]
    )
    assert len({n for _, n in both}) == 2
    twice = grade.collect_submissions([str(tmp_path / "group_a" / "lstm.ipynb"), str(tmp_path / "group_a")])
    assert [n for _, n in twice] == ["lstm.ipynb"]  # the same file given twice is graded once
    assert reports.feedback_stem("group_a/lstm.ipynb") == "group_a_lstm.ipynb"
