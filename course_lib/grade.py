"""Grade a class: ``python -m course_lib.grade SUBMISSIONS... --out grades.csv``.

Each submission (a saved ``.ipynb``; folders are searched for notebooks) is graded in its own worker process,
which runs the learner's exercise cells in a fresh Jupyter kernel on hidden cases (seeded from the file's
name and the exercise key, so a regrade gives the same result) and judges the returned arrays against the
reference solutions in the grader's own process. The kernel runs inside a bubblewrap sandbox
(:mod:`course_lib.grading.isolation`: its own PID namespace, no network, no reference solutions, no
submissions, no outputs on its file system); without one the grader refuses to run unless given
``--no-sandbox``. Every file's sha256 is taken before grading starts. When a worker ends, every process that
inherited its environment tag is killed too (what escapes that, the sandbox ends). Writes:

* the gradebook ``--out`` (CSV: one row per submission, one column per exercise, total, max, flags);
* ``--feedback DIR`` (default: ``feedback/`` next to the gradebook): ``<name>.txt`` for the learner and
  ``<name>.json`` in Gradescope's results.json format;
* ``--gradescope PATH``: results.json for a single submission (for Gradescope's ``run_autograder``).

Exit status: 0; 1 when no submission holds any graded exercise (a wrong ``--assignment``?); 2 for wrong
options or no sandbox. Which exercises are graded: those of ``--assignment book/03_lstm.ipynb`` (the shipped
or handed-out notebook, :mod:`course_lib.handout`), or
``--exercises lstm.forget_gate,lstm.step`` (``lstm.*`` selects a chapter), or by default every registered
exercise that appears in at least one submission. See book/instructors.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from course_lib.exercises import framework as fw
from course_lib.exercises import get
from course_lib.exercises import keys as registered_keys
from course_lib.grading.isolation import HIDE_VAR, UNPROTECTED, sandbox_problem, sized_tmpfs
from course_lib.grading.reports import (
    atomic_write_text,
    class_summary,
    feedback_stems,
    feedback_text,
    fmt_points,
    gradebook_csv,
    gradescope_results,
)
from course_lib.grading.submission import (
    file_sha256,
    find_exercise_cell,
    hidden_seed,
    read_submission,
    static_flags,
)

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_MEMORY_MB = 1024
_MARK = "@@COURSE-GRADE-RESULT@@"


# ----------------------------------------------------------------------------------------------------------
# One submission (runs inside a worker process)
# ----------------------------------------------------------------------------------------------------------
def _exercise_entry(ex: fw.Exercise, result: fw.CheckResult, flags: list[str]) -> dict[str, Any]:
    return {
        "key": ex.key,
        "title": ex.title,
        "score": round(result.score, 3),
        "max_score": 1,
        "status": result.status,
        "report": result.report(),
        "flags": flags,
        "mistakes": list(result.diagnoses),
    }


def grade_submission(
    path: Path,
    name: str,
    keys: list[str],
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    salt: str = "",
    sandbox: bool = True,
) -> dict[str, Any]:
    """Grade one saved notebook on the exercises ``keys``; returns a plain dict (see :func:`main`).

    Never raises for anything in the submission: an unreadable file scores 0 with its problem as status.
    ``sandbox``: run the learner's code inside bubblewrap (:mod:`course_lib.grading.isolation`).
    """
    from course_lib.grading.sandbox import run_exercises

    sub = read_submission(path, name)
    out: dict[str, Any] = {
        "name": name,
        "status": "graded",
        "notes": [],
        "exercises": [],
        "total": 0.0,
        "max": float(len(keys)),
        "sha256": sub.sha256,
        "matched": False,  # does the file hold at least one of the graded exercises?
    }
    exercises = [get(k) for k in keys]
    if sub.problem:
        out["status"] = sub.problem
        for ex in exercises:
            n = len(ex.cases(np.random.default_rng(hidden_seed(name, ex.key, salt))))
            miss = fw.Outcome("missing", detail=f"not graded: {sub.problem}")
            res = fw.CheckResult(
                ex.key,
                ex.title,
                [fw.CaseResult(i, "", False, "missing", None, [miss.detail]) for i in range(n)],
            )
            out["exercises"].append(_exercise_entry(ex, res, []))
        return out

    found_keys = set(sub.cells)
    if keys and not (found_keys & set(keys)) and found_keys:
        out["status"] = "wrong notebook?"
        out["notes"].append(
            "this notebook holds the exercises " + ", ".join(sorted(found_keys)) + ", none of the graded "
            "ones (" + ", ".join(keys) + "): was the right notebook submitted?"
        )

    items, plan = [], []
    for ex in exercises:
        cases = ex.cases(np.random.default_rng(hidden_seed(name, ex.key, salt)))
        expected = fw.reference_outcomes(ex, cases)
        n_out = len(expected[0].values or [])
        cell = find_exercise_cell(sub, ex.key, ex.func_name)
        flags, notes = static_flags(cell.source, ex.fail_on_warning) if cell else ([], [])
        if cell is not None and cell.found_by == "function name":
            notes.append(f"cell found by its `def {ex.func_name}(` line (its exercise metadata is missing)")
        elif cell is not None and cell.found_by == "later cell":
            notes.append(
                f"the exercise cell still holds the stub; the later cell that defines `{ex.func_name}` "
                "was graded"
            )
        if cell is not None and cell.duplicates:
            notes.append(
                f"{cell.duplicates + 1} cells carry this exercise's metadata; the last one was graded"
            )
        plan.append((ex, cases, expected, cell, flags, notes, len(items) if cell else None))
        if cell is not None:
            items.append((cell.index, (ex.key, ex.func_name, cell.source, n_out, cases)))

    # Run the cells in the notebook's order (a later cell may use an earlier one, as in the notebook).
    order = sorted(range(len(items)), key=lambda k: items[k][0])
    out["matched"] = bool(items)
    hidden = [path, path.parent]  # the notebook graded and its folder (classmates) are never shown
    ran = run_exercises(
        [items[k][1] for k in order],
        time_limit=time_limit,
        memory_mb=memory_mb,
        sandbox=sandbox,
        hidden=hidden,
    )
    runs = [ran[order.index(k)] for k in range(len(items))]

    for ex, cases, expected, _cell, flags, notes, idx in plan:
        if idx is None:
            detail = (
                f'no exercise cell for {ex.key} (cell metadata {{"exercise": "{ex.key}"}}) and no '
                f"`def {ex.func_name}(`: was the cell deleted or renamed, or is this another chapter?"
            )
            outcomes = [fw.Outcome("missing", detail=detail) for _ in cases]
        else:
            run = runs[idx]
            if run.course_lib_loaded and not any("course_lib" in f for f in flags):
                flags.append("imported course_lib while grading (reference solutions live there)")
            if run.define_status == "ok":
                outcomes = run.outcomes
            else:
                status = (
                    run.define_status
                    if run.define_status in ("timeout", "memory", "exited", "missing", "crashed")
                    else "raised"
                )
                outcomes = [fw.Outcome(status, detail=run.define_detail) for _ in cases]
        result = fw.evaluate(ex, cases, outcomes, expected)
        result.notes.extend(notes)
        out["exercises"].append(_exercise_entry(ex, result, flags))
    out["total"] = round(sum(e["score"] for e in out["exercises"]), 3)
    return out


def _failed_entry(path: Path, name: str, keys: list[str], why: str, sha: str | None = None) -> dict[str, Any]:
    exs = []
    for k in keys:
        ex = get(k)
        res = fw.CheckResult(ex.key, ex.title, [fw.CaseResult(0, "", False, "crashed", None, [why])])
        exs.append(_exercise_entry(ex, res, []))
    return {
        "name": name,
        "status": why,
        "notes": [],
        "exercises": exs,
        "total": 0.0,
        "max": float(len(keys)),
        "sha256": file_sha256(path) if sha is None else sha,
        "matched": None,  # not known: the worker failed
    }


# ----------------------------------------------------------------------------------------------------------
# A batch: one worker process per submission, `jobs` at a time
# ----------------------------------------------------------------------------------------------------------
_TAG_VAR = "COURSE_GRADE_TAG"
_ACTIVE_TAGS: set[str] = set()  # tags of the workers running now (killed on Ctrl-C)


def kill_tagged(tag: str) -> int:
    """SIGKILL every process whose environment holds ``COURSE_GRADE_TAG=<tag>``; returns how many.

    Each worker gets its own tag, which its kernels and anything they start inherit, so processes a
    submission forked (even into a new session) do not outlive its grading. Linux only (reads /proc).
    """
    needle = f"{_TAG_VAR}={tag}".encode()
    killed = 0
    for _ in range(3):  # a second pass catches children forked while the first one ran
        found = 0
        for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                env = (entry / "environ").read_bytes()
            except OSError:
                continue
            if needle in env.split(b"\0"):
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                    found += 1
                except OSError:
                    pass
        killed += found
        if not found:
            break
    return killed

def _run_worker(
    path: Path,
    name: str,
    keys: list[str],
    time_limit: float,
    memory_mb: int,
    salt: str = "",
    sandbox: bool = True,
    sha256: str | None = None,
    hidden: list[Path] | None = None,
) -> dict[str, Any]:
    """Grade one submission in a worker process (``python -m course_lib.grade --worker``).

    ``sha256``: the file's checksum taken before the batch started; if the file graded differs (someone
    changed it meanwhile), the submission gets 0 with that reason. ``hidden``: more paths the kernel must not
    see (the other submissions, the assignment, the outputs).
    """
    cmd = [
        sys.executable,
        "-m",
        "course_lib.grade",
        "--worker",
        str(path),
        "--name",
        name,
        "--exercises",
        ",".join(keys),
        "--time-limit",
        str(time_limit),
        "--memory-mb",
        str(memory_mb),
        "--salt",
        salt,
        *([] if sandbox else ["--no-sandbox"]),
    ]
    budget = 60 + len(keys) * (2 * time_limit + 10)
    tag = secrets.token_hex(16)
    _ACTIVE_TAGS.add(tag)
    # The worker's temporary files (and its kernels') go into a folder removed here, even if it is killed.
    workdir = tempfile.mkdtemp(prefix="course-grade-worker-")
    env = dict(os.environ, COURSE_LIB_PROGRESS="0", PYTHONHASHSEED="0", TMPDIR=workdir, **{_TAG_VAR: tag})
    env[HIDE_VAR] = os.pathsep.join(str(p) for p in hidden or [])
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=budget,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return _failed_entry(path, name, keys, f"grading did not finish within {budget:g} s", sha=sha256)
    finally:
        kill_tagged(tag)
        _ACTIVE_TAGS.discard(tag)
        shutil.rmtree(workdir, ignore_errors=True)
    marked = [line for line in proc.stdout.splitlines() if line.startswith(_MARK)]
    if len(marked) > 1:  # the worker writes one line: someone else wrote into its output
        return _failed_entry(
            path,
            name,
            keys,
            "the grading process failed (its output was tampered with: check this notebook)",
            sha=sha256,
        )
    if marked and proc.returncode == 0:
        try:
            result = json.loads(marked[0][len(_MARK) :])
            if isinstance(result, dict) and result.get("name") == name:
                if sha256 and result.get("sha256") != sha256:
                    return _failed_entry(
                        path,
                        name,
                        keys,
                        "the file changed while the class was being graded (its sha256 before grading "
                        "is recorded): check this notebook and who could write to it",
                        sha=sha256,
                    )
                return result
        except json.JSONDecodeError:
            pass
    if proc.returncode < 0:
        why = f"killed by signal {-proc.returncode}; did the notebook kill it?"
    else:
        why = (
            f"exit code {proc.returncode}: " + (proc.stderr.strip().splitlines() or ["no message"])[-1][:200]
        )
    return _failed_entry(path, name, keys, f"the grading process failed ({why})", sha=sha256)


def grade_batch(
    submissions: list[tuple[Path, str]],
    keys: list[str],
    time_limit: float = DEFAULT_TIME_LIMIT,
    memory_mb: int = DEFAULT_MEMORY_MB,
    jobs: int = 2,
    salt: str = "",
    sandbox: bool = True,
    hidden: list[Path] | None = None,
    log=None,
) -> list[dict[str, Any]]:
    """Grade every ``(path, name)``, ``jobs`` at a time, each in its own process; results sorted by name.

    Every file's sha256 is taken before the first one is graded, so a file changed during the batch is
    caught (0 points, with the reason) and the gradebook records what was handed in. ``hidden``: paths the
    learners' kernels must not see, besides the submissions themselves. ``log``: a text stream (default
    stderr) for progress: a bar on a terminal, one line per notebook otherwise.
    """
    from course_lib.progress import progress, progress_enabled

    log = sys.stderr if log is None else log
    digests = {p: file_sha256(p) for p, _ in submissions}
    # Folders holding the submissions (which hides every file in them), deduplicated: the list goes to each
    # worker through an environment variable, whose size is limited.
    hide = sorted({*(hidden or []), *(Path(os.path.abspath(p)).parent for p, _ in submissions)})
    results = []
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = [
            pool.submit(_run_worker, p, n, keys, time_limit, memory_mb, salt, sandbox, digests[p], hide)
            for p, n in submissions
        ]
        on_terminal = bool(getattr(log, "isatty", lambda: False)()) and progress_enabled()
        done = as_completed(futures)
        if on_terminal:
            done = progress(done, desc="grading", total=len(futures))
        for number, fut in enumerate(done, start=1):
            result = fut.result()
            results.append(result)
            if not on_terminal:  # a log file: one plain line per notebook, no carriage returns
                print(
                    f"[{number}/{len(futures)}] {result['name']}: {fmt_points(result['total'])} / "
                    f"{fmt_points(result['max'])} ({result['status']})",
                    file=log,
                    flush=True,
                )
    except BaseException:  # Ctrl-C: stop now, without grading the rest (nothing is written)
        pool.shutdown(wait=False, cancel_futures=True)
        for tag in list(_ACTIVE_TAGS):
            kill_tagged(tag)
        raise
    pool.shutdown()
    return sorted(results, key=lambda r: r["name"])


def collect_submissions(args: list[str]) -> list[tuple[Path, str]]:
    """Files as given (named by their base name), folders searched for ``*.ipynb`` (named by relative path).

    Names are unique: clashes get their parent folders prepended.
    """
    found: list[tuple[Path, str]] = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            for f in sorted(p.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in f.parts or not f.is_file():
                    continue
                found.append((f, f.relative_to(p).as_posix()))
        elif p.exists():
            found.append((p, p.name))
        else:
            raise SystemExit(f"no such file or folder: {arg}")
    unique: dict[Path, tuple[Path, str]] = {}  # a file given twice (or in two folders given) is graded once
    for p, n in found:
        unique.setdefault(p.resolve(), (p, n))
    found = list(unique.values())
    names = [n for _, n in found]
    if len(set(names)) != len(names):
        found = [(p, p.as_posix().removeprefix("./")) for p, _ in found]
    return found


def resolve_keys(
    assignment: str | None, exercises: str | None, submissions: list[tuple[Path, str]]
) -> list[str]:
    """The exercise keys to grade, in order (see the module docstring)."""
    known = registered_keys()
    if assignment:
        sub = read_submission(Path(assignment))
        if sub.problem:
            raise SystemExit(f"--assignment {assignment}: {sub.problem}")
        keys = [k for k in sub.cells if k in known]
        if not keys:
            raise SystemExit(f"--assignment {assignment}: no registered exercise cell found")
        return keys
    if exercises is not None:  # "" too: an empty --exercises is a mistake, not "grade everything"
        keys = []
        for pat in (s.strip() for s in exercises.split(",")):
            match = [k for k in known if fnmatch.fnmatchcase(k, pat)]
            if not match:
                raise SystemExit(f"--exercises: no registered exercise matches {pat!r}")
            keys += [k for k in match if k not in keys]
        return keys
    seen = set()
    for path, name in submissions:
        seen |= set(read_submission(path, name).cells)
    return [k for k in known if k in seen]


def write_outputs(
    results: list[dict[str, Any]],
    keys: list[str],
    out: Path | None,
    feedback: Path | None,
    gradescope: Path | None,
) -> None:
    """Write the gradebook, the feedback files and the Gradescope results (all atomically)."""
    if feedback is not None:
        stems = feedback_stems([r["name"] for r in results])
        for r in results:
            stem = stems[r["name"]]
            atomic_write_text(feedback / f"{stem}.txt", feedback_text(r))
            atomic_write_text(feedback / f"{stem}.json", json.dumps(gradescope_results(r), indent=2) + "\n")
        if results:
            atomic_write_text(feedback / "_class_summary.txt", class_summary(results, keys))
    if gradescope is not None:
        atomic_write_text(gradescope, json.dumps(gradescope_results(results[0]), indent=2) + "\n")
    if out is not None:
        atomic_write_text(out, gradebook_csv(results, keys))


#: Smallest --time-limit accepted, in seconds.
MIN_TIME_LIMIT = 1.0


def _seconds(text: str) -> float:
    """argparse type of ``--time-limit``: a finite number of seconds >= :data:`MIN_TIME_LIMIT`."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds greater than 0 (the limit cannot be switched off), got {text}"
        )
    if value < MIN_TIME_LIMIT:  # e.g. 1e-9 or 0.01: every learner would "time out"
        raise argparse.ArgumentTypeError(
            f"expected at least {MIN_TIME_LIMIT:g} s per exercise (less times out correct functions on a "
            f"busy machine), got {text}"
        )
    if value > 3600:
        raise argparse.ArgumentTypeError(f"expected at most 3600 seconds per exercise, got {text}")
    return value


#: Smallest --memory-mb a kernel can run NumPy functions in (0 switches the limit off).
MIN_MEMORY_MB = 64


def _megabytes(text: str) -> int:
    """argparse type of ``--memory-mb``: 0 (no limit) or a whole number of MB >= :data:`MIN_MEMORY_MB`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of MB, got {text!r}") from None
    if value != 0 and value < MIN_MEMORY_MB:
        raise argparse.ArgumentTypeError(
            f"expected 0 (no limit) or at least {MIN_MEMORY_MB} MB (a kernel needs that much to run "
            f"NumPy), got {text}"
        )
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {text}")
    return value


def _check_output_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, before grading anything, output paths that cannot be written as asked."""
    for option, path in (("--out", args.out), ("--gradescope", args.gradescope)):
        if path is None:
            continue
        if path.is_dir():
            parser.error(f"{option} {path} is a folder; give a file name, e.g. {path / 'grades.csv'}")
        if path.parent.exists() and not path.parent.is_dir():
            parser.error(f"{option} {path}: {path.parent} is not a folder")
    if args.feedback is not None and args.feedback.exists() and not args.feedback.is_dir():
        parser.error(f"--feedback {args.feedback} is a file; give a folder")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.grade",
        description="Grade saved notebooks on hidden cases: a gradebook CSV, feedback files and Gradescope "
        "results. Each notebook runs in a fresh kernel inside a bubblewrap sandbox; comparisons happen in "
        "the grader's process.",
        epilog="example: python -m course_lib.grade submissions/ --assignment book/03_lstm.ipynb "
        "--out grades.csv (see book/instructors.md)",
    )
    parser.add_argument("submissions", nargs="+", help="saved notebooks, or folders holding them (*.ipynb)")
    parser.add_argument("--out", type=Path, help="gradebook CSV to write")
    parser.add_argument(
        "--feedback", type=Path, help="folder for feedback files (default: feedback/ next to --out)"
    )
    parser.add_argument("--gradescope", type=Path, help="write Gradescope results.json (one submission only)")
    parser.add_argument("--assignment", help="the shipped notebook whose exercises are graded")
    parser.add_argument("--exercises", help="comma-separated exercise keys or patterns, e.g. 'lstm.*'")
    parser.add_argument(
        "--time-limit",
        type=_seconds,
        default=DEFAULT_TIME_LIMIT,
        help="seconds per exercise, for the cell and again for its cases; > 0 (default %(default)s)",
    )
    parser.add_argument(
        "--memory-mb",
        type=_megabytes,
        default=DEFAULT_MEMORY_MB,
        help="memory a kernel may allocate beyond its start size, MB; 0 = no limit, else at least "
        f"{MIN_MEMORY_MB} (default %(default)s)",
    )
    parser.add_argument(
        "--jobs", type=_jobs, default=2, help="submissions graded at once (default %(default)s)"
    )
    parser.add_argument(
        "--salt",
        default="",
        help="text mixed into the seeds of the hidden cases (e.g. a term, or a learner id on Gradescope)",
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade without the bubblewrap sandbox (where there is none: macOS, Windows). UNSAFE for "
        "untrusted notebooks: prints what is then not protected",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        # nbformat imports jsonschema, whose optional IRI checker (rfc3987_syntax) takes seconds to import and
        # is never used on notebooks: keep it out of the worker processes.
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
        path = Path(args.submissions[0])
        keys = [k for k in (args.exercises or "").split(",") if k]
        result = grade_submission(
            path,
            args.name or path.name,
            keys,
            args.time_limit,
            args.memory_mb,
            args.salt,
            sandbox=not args.no_sandbox,
        )
        sys.stdout.write(_MARK + json.dumps(result) + "\n")
        return 0

    if args.out is None and args.gradescope is None:
        parser.error("give --out GRADES.csv and/or --gradescope results.json")
    _check_output_paths(parser, args)
    subs = collect_submissions(args.submissions)
    if not subs:
        parser.error(
            "no submissions found: folders are searched for *.ipynb files (sub-folders included, "
            "except .ipynb_checkpoints); looked in " + ", ".join(args.submissions)
        )
    if args.gradescope is not None and len(subs) != 1:
        parser.error("--gradescope grades exactly one submission")
    keys = resolve_keys(args.assignment, args.exercises, subs)
    if not keys:
        print("warning: no known exercise found in the submissions; every row will be empty", file=sys.stderr)
    problem = sandbox_problem() if not args.no_sandbox else ""
    if problem:
        print(
            f"error: refusing to grade without a sandbox: {problem}.\n"
            "Learners' code would run as you, with your files and network. Install bubblewrap, or grade "
            "inside a throw-away container and pass --no-sandbox there (see book/instructors.md).",
            file=sys.stderr,
        )
        return 2
    if args.no_sandbox:
        print(UNPROTECTED, file=sys.stderr)
    elif not sized_tmpfs():
        print(
            "warning: this bubblewrap cannot limit the size of the sandbox's /tmp (--size needs bubblewrap "
            "0.7 or later): a notebook can fill the machine's memory with files while it is graded",
            file=sys.stderr,
        )
    feedback = args.feedback or (args.out.parent / "feedback" if args.out is not None else None)
    hidden = [Path(os.path.abspath(p)) for p in (args.out, args.gradescope, feedback, args.assignment) if p]
    start = time.perf_counter()
    try:
        results = grade_batch(
            subs,
            keys,
            args.time_limit,
            args.memory_mb,
            args.jobs,
            args.salt,
            sandbox=not args.no_sandbox,
            hidden=hidden,
        )
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written", file=sys.stderr)
        return 130
    write_outputs(results, keys, args.out, feedback, args.gradescope)
    total = sum(r["total"] for r in results)
    print(
        f"graded {len(results)} submission(s), {len(keys)} exercise(s), mean score "
        f"{total / max(1, len(results)):.2f} / {len(keys)} in {time.perf_counter() - start:.1f} s"
        + ("" if not args.no_sandbox else " WITHOUT a sandbox")
    )
    if keys and results and all(r.get("matched") is False for r in results):
        print(
            f"warning: none of the {len(results)} submission(s) holds any of the graded exercises "
            f"({', '.join(keys)}); every row is 0. Is --assignment / --exercises the right chapter, and are "
            "these the right files?",
            file=sys.stderr,
        )
        return 1
    unmatched = sum(1 for r in results if r["status"] == "wrong notebook?")
    if unmatched:
        print(
            f"warning: {unmatched} submission(s) hold none of the graded exercises "
            "(status 'wrong notebook?')",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
