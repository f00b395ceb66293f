"""What the grader writes: the gradebook CSV, one feedback text per submission, Gradescope's results.json.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``), so an
interrupted run never leaves a half-written gradebook. The contents are deterministic (sorted rows, fixed
number formats, no timings), so grading the same submissions twice gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def fmt_points(x: float) -> str:
    """Points with at most 3 decimals, without trailing zeros (``1``, ``0.667``)."""
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would read it as a formula (=, +, -, @, tab, CR)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_csv(results: list[dict[str, Any]], keys: list[str]) -> str:
    """CSV text: submission, status, one column per exercise key, total, max, flags, sha256.

    Text taken from submissions (file names, flags) is made spreadsheet-safe: a file named ``=cmd().ipynb``
    appears as ``'=cmd().ipynb`` instead of being evaluated when the gradebook is opened.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission", "status", *keys, "total", "max", "flags", "sha256"])
    for r in sorted(results, key=lambda r: r["name"]):
        scores = {e["key"]: e["score"] for e in r["exercises"]}
        flags = "; ".join(f"{e['key']}: {f}" for e in r["exercises"] for f in e.get("flags", []))
        w.writerow(
            [
                spreadsheet_safe(r["name"]),
                spreadsheet_safe(r["status"]),
                *(fmt_points(scores.get(k, 0.0)) for k in keys),
                fmt_points(r["total"]),
                fmt_points(r["max"]),
                spreadsheet_safe(flags),
                r.get("sha256", ""),
            ]
        )
    return buf.getvalue()


def feedback_text(result: dict[str, Any]) -> str:
    """The learner-facing feedback of one submission (plain text)."""
    lines = [
        f"Submission: {result['name']}",
        f"Score: {fmt_points(result['total'])} / {fmt_points(result['max'])}",
    ]
    if result["status"] != "graded":
        lines.append(f"Status: {result['status']}")
    lines += [f"Note: {n}" for n in result.get("notes", [])]
    lines.append("")
    lines.append(
        "Each exercise was run on hidden cases, different from the ones check() shows in the notebook."
    )
    for e in result["exercises"]:
        lines.append("")
        lines.append(f"[{fmt_points(e['score'])} / {fmt_points(e['max_score'])}] " + e["report"])
        lines += [f"  FLAG: {f}" for f in e.get("flags", [])]
    return "\n".join(lines) + "\n"


def class_summary(results: list[dict[str, Any]], keys: list[str]) -> str:
    """For the instructor: per exercise, the mean score, how many passed, and the known mistakes seen."""
    n = len(results)
    lines = [f"{n} submission(s), {len(keys)} exercise(s)", ""]
    not_graded = sorted(r["name"] for r in results if r["status"] != "graded")
    if not_graded:
        lines.append(f"not graded or suspicious ({len(not_graded)}): " + ", ".join(not_graded))
        lines.append("")
    for key in keys:
        entries = [e for r in results for e in r["exercises"] if e["key"] == key]
        if not entries:
            continue
        mean = sum(e["score"] for e in entries) / len(entries)
        passed = sum(1 for e in entries if e["status"] == "passed")
        untried = sum(1 for e in entries if e["status"] == "not attempted")
        lines.append(f"{key}: mean {fmt_points(mean)} / 1, passed {passed}, not attempted {untried}")
        counts: dict[str, int] = {}
        for e in entries:
            for m in e.get("mistakes", []):
                counts[m] = counts.get(m, 0) + 1
        for m, c in sorted(counts.items(), key=lambda mc: (-mc[1], mc[0])):
            lines.append(f"  {c} x {m}")
        flagged = sum(1 for e in entries if e.get("flags"))
        if flagged:
            lines.append(f"  flagged: {flagged}")
    return "\n".join(lines) + "\n"


def gradescope_results(result: dict[str, Any]) -> dict[str, Any]:
    """Gradescope's results.json for one submission: overall score and output, one test per exercise."""
    tests = []
    for number, e in enumerate(result["exercises"], start=1):
        output = e["report"]
        if e.get("flags"):
            output += "\n" + "\n".join(f"FLAG: {f}" for f in e["flags"])
        tests.append(
            {
                "name": f"{e['key']}: {e['title']}",
                "number": str(number),
                "score": round(e["score"], 3),
                "max_score": e["max_score"],
                "status": "passed" if e["score"] >= e["max_score"] else "failed",
                "output": output,
                "visibility": "visible",
            }
        )
    head = [f"Score: {fmt_points(result['total'])} / {fmt_points(result['max'])}"]
    if result["status"] != "graded":
        head.append(f"Status: {result['status']}")
    head += [f"Note: {n}" for n in result.get("notes", [])]
    return {
        "score": round(result["total"], 3),
        "output": "\n".join(head),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def feedback_stem(name: str) -> str:
    """A safe file stem for a submission name (path separators and odd characters become '_')."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"
    return stem[:150]


def feedback_stems(names: list[str]) -> dict[str, str]:
    """A unique :func:`feedback_stem` per name, even when two names map to the same stem ("a b" and
    "a_b", or "Alice" and "alice" on a case-insensitive disk): later ones (in sorted order) get "-2", "-3"."""
    used: set[str] = {"_class_summary"}
    stems = {}
    for name in sorted(set(names)):
        base = stem = feedback_stem(name)
        n = 1
        while stem.casefold() in used:
            n += 1
            stem = f"{base}-{n}"
        used.add(stem.casefold())
        stems[name] = stem
    return stems

