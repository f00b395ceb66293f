"""Reading a submitted notebook without trusting it, and finding its exercise cells.

A submission is whatever file a learner handed in: a notebook, a truncated notebook, a PDF, an empty file.
:func:`read_submission` never raises for bad content; it returns a :class:`Submission` whose ``problem``
says what is wrong. Submission files are only ever opened for reading.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Larger files are not parsed (a course notebook with outputs is a few MB at most).
MAX_NOTEBOOK_BYTES = 50 * 2**20


@dataclass
class ExerciseCell:
    """The source of one exercise cell and how it was found."""

    key: str
    source: str
    found_by: str  # "metadata", "function name" or "later cell" (see find_exercise_cell)
    duplicates: int = 0  # other cells with the same key (the last one is graded)
    index: int = 0  # position among the notebook's code cells (exercises run in this order)


@dataclass
class Submission:
    """A submitted file: its name, the exercise cells found, or the problem that stops grading."""

    path: Path
    name: str
    sha256: str = ""
    problem: str = ""
    cells: dict[str, ExerciseCell] = field(default_factory=dict)  # keys with metadata
    code_cells: list[str] = field(default_factory=list)  # every code cell's source, in order


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in 1 MB blocks (any size; "" when it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(2**20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def hidden_seed(file_name: str, key: str, salt: str = "") -> int:
    """Seed of the hidden cases of exercise ``key`` for the submission called ``file_name``.

    Derived from the file's base name, the key and an optional ``salt`` (the grader's ``--salt``: e.g. a
    term name, or a learner id on Gradescope where every upload has the same file name) only, so a regrade
    gives the same cases (and the same grades) and different submissions get different cases (``check`` in
    the notebook uses seed 0). Without a salt, a learner who reads this code can compute their hidden
    cases; that only lets them hard-code answers they could compute anyway, but a salt kept private
    (the grader's ``--salt``) makes the cases unpredictable.
    """
    text = f"{Path(file_name).name}\0{key}" if not salt else f"{salt}\0{Path(file_name).name}\0{key}"
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


def read_submission(path: Path, name: str | None = None) -> Submission:
    """Read ``path`` as a notebook (JSON, nbformat 4), collecting exercise cells; never raises for content."""
    path = Path(path)
    sub = Submission(path=path, name=name or path.name)
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            sub.sha256 = file_sha256(path)  # still tie the row to the exact file
            sub.problem = f"file too large to be a course notebook ({size / 2**20:.0f} MB)"
            return sub
        data = path.read_bytes()
    except OSError as exc:
        sub.problem = f"cannot read the file ({type(exc).__name__}: {exc.strerror or exc})"
        return sub
    sub.sha256 = hashlib.sha256(data).hexdigest()
    if not data.strip():
        sub.problem = "the file is empty"
        return sub
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if not data.lstrip().startswith(b"{"):
            sub.problem = "not a notebook: the file is not text (a PDF, an image or a zip?)"
            return sub
        # JSON that is not UTF-8 (a notebook re-saved as Latin-1 by an editor): the stray bytes become U+FFFD,
        # which only matters if they sit in code (then that exercise's cell fails with a SyntaxError).
        text = data.decode("utf-8-sig", errors="replace")
    try:
        nb = json.loads(text)
    except RecursionError:  # e.g. "[[[[...]]]]" nested far beyond any notebook
        sub.problem = "not a notebook: JSON nested too deeply"
        return sub
    except json.JSONDecodeError as exc:
        at_end = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
        if at_end and text.lstrip().startswith("{"):
            sub.problem = (
                "not a valid notebook: the JSON ends early (the file is truncated or not a notebook: "
                "a partly saved or partly uploaded file?)"
            )
        elif text.lstrip().startswith("{"):
            sub.problem = f"not a valid notebook: broken JSON at line {exc.lineno} ({exc.msg})"
        else:
            sub.problem = "not a notebook: the file is not JSON (a .py script or another file?)"
        return sub
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        if isinstance(nb, dict) and "worksheets" in nb:
            sub.problem = "not a supported notebook: nbformat 3; open and save it in a current Jupyter"
        else:
            sub.problem = "not a notebook: JSON without a list of cells"
        return sub
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = _source(cell)
        sub.code_cells.append(src)
        meta = cell.get("metadata")
        key = meta.get("exercise") if isinstance(meta, dict) else None
        if isinstance(key, str) and key:
            old = sub.cells.get(key)
            dup = old.duplicates + 1 if old else 0
            sub.cells[key] = ExerciseCell(key, src, "metadata", dup, len(sub.code_cells) - 1)
    return sub


def find_exercise_cell(sub: Submission, key: str, func_name: str) -> ExerciseCell | None:
    """The cell to grade for ``key``: by metadata, else the last code cell that defines ``func_name``.

    One exception, a common way of working: the metadata cell still holds the untouched stub (it raises
    NotImplementedError) and the learner wrote the function in a later cell, which is what ``check`` saw.
    Then the last later cell that defines ``func_name`` without raising NotImplementedError is graded
    (``found_by == "later cell"``).
    """
    pattern = re.compile(rf"^def\s+{re.escape(func_name)}\s*\(", re.M)
    if key in sub.cells:
        cell = sub.cells[key]
        if "NotImplementedError" in cell.source:
            for index in range(len(sub.code_cells) - 1, cell.index, -1):
                src = sub.code_cells[index]
                if pattern.search(src) and "NotImplementedError" not in src:
                    return ExerciseCell(key, src, "later cell", cell.duplicates, index)
        return cell
    for index in range(len(sub.code_cells) - 1, -1, -1):
        if pattern.search(sub.code_cells[index]):
            return ExerciseCell(key, sub.code_cells[index], "function name", 0, index)
    return None


_COURSE_LIB = re.compile(r"\bcourse_lib\b")
_PATCH_NUMPY = re.compile(r"^\s*(?:np|numpy)(?:\.\w+)+\s*=(?!=)", re.M)
_PATCH_CHECK = re.compile(r"^\s*(?:check|course_lib\S*)\s*=(?!=)", re.M)


_SILENCE = re.compile(r"\b(?:errstate|seterr|filterwarnings|simplefilter|catch_warnings)\b")


def static_flags(source: str, fail_on_warning: bool = False) -> tuple[list[str], list[str]]:
    """(flags for the instructor, neutral notes) from an exercise cell's source text.

    ``fail_on_warning``: the exercise fails a case on which NumPy warns; a cell that silences warnings
    (``np.errstate(all="ignore")``, ``warnings.filterwarnings``...) could then pass with the very formula
    the exercise is about avoiding, so it is flagged for a look.
    """
    flags, notes = [], []
    if fail_on_warning and _SILENCE.search(source):
        flags.append(
            "silences warnings (errstate, seterr or a warnings filter) in an exercise graded on NumPy's "
            "warnings: check by hand that the function avoids the overflow rather than hiding it"
        )
    if _COURSE_LIB.search(source):
        flags.append(
            "uses course_lib, where the reference solutions live: exercise functions may use NumPy "
            "only (course_lib is not importable while grading)"
        )
    if _PATCH_NUMPY.search(source) or _PATCH_CHECK.search(source):
        notes.append(
            "this cell reassigns a NumPy or checker function; that has no effect on grading, which "
            "compares results in the grader's own process"
        )
    return flags, notes
