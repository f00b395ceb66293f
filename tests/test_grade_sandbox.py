"""The grader's sandbox (course_lib.grading.isolation) and the instructor's command line on wrong inputs.

* What a sandboxed process sees and can do (a plain Python in the same bubblewrap sandbox as the kernels).
* The attacks that need their own grading run (tests/test_grade.py grades the others with the class):
  copying the solution from the --assignment notebook, rewriting a classmate's notebook that is not yet
  graded, and a detached process that rewrites the gradebook and results.json after the grader has exited.
* Refusing to grade without a sandbox, --no-sandbox's warning, checksums taken before grading.
* Instructor UX (issue 15): no submission matches, bad limits, --out a folder, log-file progress, an empty
  folder, a 200 MB notebook. These use files that never start a kernel (cheap).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_lib import grade
from course_lib.grading import isolation

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "grading"
NO_SANDBOX = isolation.sandbox_problem()
if NO_SANDBOX and os.environ.get("CI") == "true":
    raise RuntimeError(f"CI=true but the grader's sandbox is unavailable: {NO_SANDBOX}")
needs_sandbox = pytest.mark.skipif(bool(NO_SANDBOX), reason=f"no sandbox here: {NO_SANDBOX}")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as f:
        return {r["submission"]: r for r in csv.DictReader(f)}


def _survivors(marker: bytes) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if marker in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            continue
    return found


# ------------------------------------------------------------------------------------------ the sandbox
PROBE = r"""
import json, os, socket, sys
report = {}
report["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
report["ppid"] = os.getppid()
paths = json.loads(sys.argv[1])
report["visible"] = {p: os.path.exists(p) for p in paths}
def can_write(p):
    try:
        with open(os.path.join(p, ".sandbox-probe"), "w") as f:
            f.write("x")
        os.unlink(os.path.join(p, ".sandbox-probe"))
        return True
    except OSError:
        return False
report["writable"] = {p: can_write(p) for p in ["/usr", sys.prefix, "/tmp", os.environ["HOME"], "/", "/dev"]}
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    report["network"] = "connected"
except OSError as exc:
    report["network"] = type(exc).__name__
try:
    os.kill(report["ppid"], 9)
    report["killed_parent"] = os.path.exists("/proc/%d" % report["ppid"])
except OSError as exc:
    report["killed_parent"] = type(exc).__name__
import numpy
report["numpy"] = float(numpy.ones(3) @ numpy.ones(3))
report["env"] = sorted(os.environ)
print(json.dumps(report))
"""


@needs_sandbox
def test_what_a_sandboxed_process_sees(tmp_path, monkeypatch):
    from course_lib.grading.sandbox import _sandbox_env

    secret = tmp_path / "submissions"
    secret.mkdir()
    (secret / "classmate.ipynb").write_text("{}")
    course_lib = Path(grade.__file__).resolve().parent
    looked_for = [
        str(course_lib / "exercises" / "ch00_setup.py"),
        str(course_lib),
        str(REPO / "book"),
        str(REPO / "tests"),
        str(secret / "classmate.ipynb"),
    ]
    monkeypatch.setenv("SECRET_TOKEN", "the grader's environment stays outside")
    cmd = isolation.bwrap_prefix(read_only=[], writable=[], hidden=isolation.hidden_paths([secret]))
    proc = subprocess.run(
        [*cmd, sys.executable, "-c", PROBE, json.dumps(looked_for)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_sandbox_env("/tmp/home"),  # what a sandboxed kernel gets
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["pids"] == [1, 2] and report["ppid"] == 1  # its own PID namespace: nobody else
    assert report["killed_parent"] is True  # SIGKILL to the namespace's first process is ignored
    assert report["visible"] == {p: False for p in looked_for}  # no reference, no book, no classmates
    assert report["writable"] == {  # "/" and "/dev" are in memory too: read-only (/tmp is sized)
        "/usr": False, sys.prefix: False, "/tmp": True, "/tmp/home": True, "/": False, "/dev": False
    }
    assert report["network"] != "connected"
    assert report["numpy"] == 3.0  # what a learner's function needs still works
    assert "SECRET_TOKEN" not in report["env"]


@needs_sandbox
def test_course_lib_installed_inside_a_shown_folder_is_hidden(tmp_path):
    # e.g. course_lib installed into site-packages (shown read-only): an empty folder is mounted over it.
    import numpy

    pkg = Path(numpy.__file__).resolve().parent  # stands for such a package here
    cmd = isolation.bwrap_prefix(read_only=[], writable=[], hidden=[pkg])
    proc = subprocess.run(
        [*cmd, "/bin/sh", "-c", f"ls -A {pkg} | wc -l"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"


# ----------------------------------------------------------------------------- attacks with their own run
@needs_sandbox
def test_copying_the_assignment_and_rewriting_classmates_fail(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("attack_copies_assignment.ipynb", "attack_rewrites_classmate.ipynb"):
        shutil.copy(FIXTURES / name, subs / name)
    for name in ("classmate_a.ipynb", "classmate_b.ipynb"):  # graded after the attacks (--jobs 1, by name)
        shutil.copy(FIXTURES / "good.ipynb", subs / name)
    shutil.copy(REPO / "book" / "00_setup_check.ipynb", tmp_path / "assignment.ipynb")  # has the solutions
    before = {p.name: _sha(p) for p in subs.iterdir()}
    cwd = os.getcwd()
    os.chdir(tmp_path)  # relative paths on the command line, as an instructor types them
    try:
        code = grade.main(
            ["subs", "--assignment", "assignment.ipynb", "--time-limit", "2", "--jobs", "1", "--out", "g.csv"]
        )
    finally:
        os.chdir(cwd)
    assert code == 0
    rows = _rows(tmp_path / "g.csv")
    assert {n: r["total"] for n, r in rows.items()} == {
        "attack_copies_assignment.ipynb": "0",
        "attack_rewrites_classmate.ipynb": "0",
        "classmate_a.ipynb": "2",
        "classmate_b.ipynb": "2",
    }
    assert {p.name: _sha(p) for p in subs.iterdir()} == before
    assert {n: r["sha256"] for n, r in rows.items()} == before


@needs_sandbox
def test_a_process_outliving_the_grader_cannot_rewrite_its_outputs(tmp_path):
    shutil.copy(FIXTURES / "attack_outlives_grader.ipynb", tmp_path / "learner.ipynb")
    cmd = [sys.executable, "-m", "course_lib.grade", "learner.ipynb", "--exercises", "setup.*"]
    cmd += ["--time-limit", "2", "--out", "g.csv", "--gradescope", "results.json"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    outputs = [tmp_path / "g.csv", tmp_path / "results.json", tmp_path / "feedback" / "learner.ipynb.json"]
    right_after = [p.read_bytes() for p in outputs]
    time.sleep(3)  # the daemon would wait for the grader to exit, then write within a second
    assert [p.read_bytes() for p in outputs] == right_after
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 0
    assert _survivors(b"course-grade-daemon-fixture") == []


# ------------------------------------------------------------------------------- without a sandbox
def test_grading_refuses_without_a_sandbox_unless_told(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty.ipynb").write_bytes(b"")  # no kernel is started for it
    monkeypatch.setattr(grade, "sandbox_problem", lambda: "bubblewrap (bwrap) is not installed")
    out = tmp_path / "g.csv"
    assert grade.main([str(tmp_path / "empty.ipynb"), "--exercises", "setup.*", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "refusing to grade without a sandbox: bubblewrap (bwrap) is not installed" in err
    assert "--no-sandbox" in err and not out.exists()
    args = [str(tmp_path / "empty.ipynb"), "--exercises", "setup.*", "--out", str(out), "--no-sandbox"]
    code = grade.main(args)
    err = capsys.readouterr().err
    assert code == 1 and out.exists()  # graded (1: the empty file holds no exercise)
    assert "WARNING: grading WITHOUT a sandbox" in err
    for item in ("reference solutions", "classmates' submissions", "forging results", "after the grader"):
        assert item in err


def test_a_file_changed_between_hashing_and_grading_scores_zero(tmp_path, monkeypatch):
    (tmp_path / "a.ipynb").write_bytes(b"")
    monkeypatch.setattr(grade, "file_sha256", lambda path: "0" * 64)  # the digest "before grading"
    [row] = grade.grade_batch([(tmp_path / "a.ipynb", "a.ipynb")], ["setup.sigmoid"], log=io.StringIO())
    assert row["status"].startswith("the file changed while the class was being graded")
    assert row["total"] == 0 and row["sha256"] == "0" * 64


# ---------------------------------------------------------------------------------------- instructor UX
def test_no_submission_matching_the_assignment_warns_and_exits_non_zero(tmp_path, capsys):
    shutil.copy(FIXTURES / "other_chapter.ipynb", tmp_path / "a.ipynb")  # holds rnn.step only
    shutil.copy(FIXTURES / "other_chapter.ipynb", tmp_path / "b.ipynb")
    out = tmp_path / "g.csv"
    assert grade.main([str(tmp_path), "--exercises", "setup.*", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "none of the 2 submission(s) holds any of the graded exercises (setup.sigmoid" in err
    assert {r["status"] for r in _rows(out).values()} == {"wrong notebook?"}  # the gradebook says why


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--time-limit", "-1", "greater than 0"),
        ("--time-limit", "0", "the limit cannot be switched off"),
        ("--time-limit", "nan", "greater than 0"),
        ("--time-limit", "inf", "greater than 0"),
        ("--time-limit", "ten", "expected a number of seconds"),
        ("--time-limit", "1e-9", "expected at least 1 s per exercise"),
        ("--memory-mb", "-5", "expected 0 (no limit) or at least 64 MB"),
        ("--memory-mb", "10", "expected 0 (no limit) or at least 64 MB"),
        ("--memory-mb", "1.5", "expected a whole number of MB"),
        ("--jobs", "0", "expected at least 1"),
    ],
)
def test_limits_are_validated_before_grading(tmp_path, capsys, option, value, message):
    shutil.copy(FIXTURES / "good.ipynb", tmp_path / "good.ipynb")
    with pytest.raises(SystemExit) as exc:
        grade.main([str(tmp_path / "good.ipynb"), option, value, "--out", str(tmp_path / "g.csv")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert option in err and message in err
    assert not (tmp_path / "g.csv").exists() and not (tmp_path / "feedback").exists()


@pytest.mark.parametrize("value", ["", ",", "lstm.nonexistent"])
def test_an_empty_or_unknown_exercises_option_is_refused_before_grading(tmp_path, value):
    shutil.copy(FIXTURES / "good.ipynb", tmp_path / "good.ipynb")
    with pytest.raises(SystemExit) as exc:
        grade.main([str(tmp_path / "good.ipynb"), "--exercises", value, "--out", str(tmp_path / "g.csv")])
    assert "--exercises: no registered exercise matches" in str(exc.value.code)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.ipynb"]  # nothing graded, nothing written


def test_out_pointing_at_a_folder_is_refused_before_grading(tmp_path, capsys):
    shutil.copy(FIXTURES / "good.ipynb", tmp_path / "good.ipynb")
    (tmp_path / "grades").mkdir()
    with pytest.raises(SystemExit) as exc:
        grade.main([str(tmp_path / "good.ipynb"), "--out", str(tmp_path / "grades")])
    assert exc.value.code == 2
    assert "is a folder; give a file name" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.ipynb", "grades"]  # no feedback written
    with pytest.raises(SystemExit):
        grade.main([str(tmp_path / "good.ipynb"), "--gradescope", str(tmp_path / "grades")])
    assert "--gradescope" in capsys.readouterr().err


def test_progress_in_a_log_file_is_one_line_per_notebook(tmp_path, capsys):
    for name in ("a.ipynb", "b.ipynb", "c.ipynb"):
        (tmp_path / name).write_bytes(b"")
    assert grade.main([str(tmp_path), "--exercises", "setup.*", "--out", str(tmp_path / "g.csv")]) == 1
    err = capsys.readouterr().err  # not a terminal
    assert "\r" not in err
    line_re = re.compile(r"\[(\d)/3\] (\w)\.ipynb: 0 / 2 \(the file is empty\)")
    found = [m.groups() for m in map(line_re.fullmatch, err.splitlines()) if m]
    assert [i for i, _ in found] == ["1", "2", "3"]  # one line per notebook, as each one is done
    assert sorted(n for _, n in found) == ["a", "b", "c"]


def test_an_empty_folder_says_what_is_looked_for(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a notebook")
    with pytest.raises(SystemExit) as exc:
        grade.main([str(tmp_path), "--out", str(tmp_path / "g.csv")])
    assert exc.value.code == 2
    assert "no submissions found: folders are searched for *.ipynb files" in capsys.readouterr().err


def test_a_200_mb_notebook_gets_its_real_sha256(tmp_path):
    big = tmp_path / "big.ipynb"
    with open(big, "wb") as f:  # 200 MB: '{"cells": [' then zero bytes (sparse where the disk allows)
        f.write(b'{"cells": [')
        f.truncate(200 * 2**20)
    expected = hashlib.sha256()
    with open(big, "rb") as f:
        for block in iter(lambda: f.read(2**22), b""):
            expected.update(block)
    assert grade.main([str(big), "--exercises", "setup.*", "--out", str(tmp_path / "g.csv")]) == 1
    row = _rows(tmp_path / "g.csv")["big.ipynb"]
    assert row["status"] == "file too large to be a course notebook (200 MB)"
    assert row["sha256"] == expected.hexdigest()
