"""Every exercise in the book's notebooks follows the rules of course_lib.exercises.framework.

For each exercise cell (code cell with metadata {"exercise": key}) of each notebook in book/:
the key is registered and the cell is tagged "exercise"; the cell is the untouched stub (defines func_name
with the reference's parameters and raises NotImplementedError); the next code cell is exactly
check("<key>", <func_name>) and its stored output says "not attempted"; before the next exercise cell comes
a markdown cell with a ```{dropdown} Solution``` block whose Python code is the same program as the
reference (ast equality ignoring docstrings and comments, see framework.same_program). The reference code
appears nowhere else in the notebook (solutions are shown only folded away).
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import nbformat
import pytest

from course_lib.exercises import get, keys, same_program

BOOK = Path(__file__).resolve().parent.parent / "book"
NOTEBOOKS = sorted(p for p in BOOK.glob("*.ipynb") if not p.name.startswith("."))

_DROPDOWN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{dropdown\}[ \t]*Solution[ \t]*$", re.M)
_PYBLOCK = re.compile(
    r"^(?P<fence>`{3,})(?:python|py|ipython3?)[ \t]*\n(?P<code>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)


def dropdown_code(markdown: str) -> str | None:
    """The Python code inside the Solution dropdown of a markdown cell, or None."""
    m = _DROPDOWN.search(markdown)
    if not m:
        return None
    rest = markdown[m.end() :]
    close = re.search(rf"^{re.escape(m.group('fence'))}[ \t]*$", rest, re.M)
    body = rest[: close.start()] if close else rest
    if re.search(r"^:open:", body, re.M):
        raise AssertionError("the Solution dropdown must be closed (no :open: option)")
    block = _PYBLOCK.search(body)
    return block.group("code") if block else None


def outside_dropdowns(markdown: str) -> list[str]:
    """Python code blocks of a markdown cell that are not inside a Solution dropdown."""
    if _DROPDOWN.search(markdown):
        return []
    return [m.group("code") for m in _PYBLOCK.finditer(markdown)]


def _text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return str(output.get("data", {}).get("text/plain", ""))


def exercise_problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    problems = []
    cells = nb.cells
    for i, cell in enumerate(cells):
        key = cell.metadata.get("exercise") if cell.cell_type == "code" else None
        if not key:
            continue
        where = f"{path.name} cell {i} ({key})"
        if key not in keys():
            problems.append(f"{where}: exercise key not registered in course_lib.exercises")
            continue
        ex = get(key)
        if "exercise" not in cell.metadata.get("tags", []):
            problems.append(f"{where}: tag the cell 'exercise'")
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            problems.append(f"{where}: the stub does not parse")
            continue
        defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == ex.func_name]
        if not defs:
            problems.append(f"{where}: the stub must define `{ex.func_name}`")
        else:
            params = [a.arg for a in defs[0].args.args]
            ref_params = list(inspect.signature(ex.reference).parameters)
            if params != ref_params:
                problems.append(f"{where}: stub parameters {params} differ from the reference's {ref_params}")
            raises = [n for n in ast.walk(defs[0]) if isinstance(n, ast.Raise)]
            if not any("NotImplementedError" in ast.unparse(r) for r in raises):
                problems.append(f"{where}: the shipped stub must raise NotImplementedError")
        later = [j for j in range(i + 1, len(cells)) if cells[j].cell_type == "code"]
        if not later:
            problems.append(f"{where}: no check cell follows")
            continue
        chk = cells[later[0]]
        expected = f'check("{key}", {ex.func_name})'
        if chk.source.strip() != expected:
            got = chk.source.strip()
            problems.append(f"{where}: the next code cell must be exactly {expected!r}, got {got!r}")
        elif "not attempted" not in "".join(_text(o) for o in chk.get("outputs", [])):
            problems.append(f"{where}: the stored check output should say 'not attempted' (stub untouched)")
        nxt = [j for j in later[1:] if cells[j].metadata.get("exercise")]
        stop = nxt[0] if nxt else len(cells)
        codes = [dropdown_code(c.source) for c in cells[later[0] + 1 : stop] if c.cell_type == "markdown"]
        codes = [c for c in codes if c is not None]
        if not codes:
            problems.append(f"{where}: no ```{{dropdown}} Solution``` markdown cell after the check cell")
        elif not same_program(codes[0], ex):
            problems.append(
                f"{where}: the Solution dropdown differs from the reference in course_lib "
                "(regenerate it with course_lib.exercises.solution_markdown)"
            )
    # The reference code must not be shown outside dropdowns.
    for ex_key in {c.metadata.get("exercise") for c in cells if c.cell_type == "code"} - {None}:
        if ex_key not in keys():
            continue
        ex = get(ex_key)
        for i, cell in enumerate(cells):
            blocks = [cell.source] if cell.cell_type == "code" else outside_dropdowns(cell.source)
            if any(same_program(b, ex) for b in blocks):
                problems.append(f"{path.name} cell {i}: shows the solution of {ex_key} outside a dropdown")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_exercise_cells_have_check_and_solution_dropdown(path):
    assert exercise_problems(path) == []


def test_setup_notebook_has_its_two_exercises():
    nb = nbformat.read(BOOK / "00_setup_check.ipynb", as_version=4)
    found = [c.metadata.get("exercise") for c in nb.cells if c.metadata.get("exercise")]
    assert found == ["setup.sigmoid", "setup.hard_sigmoid"]


def test_dropdown_parser():
    md = "Some text\n\n````{dropdown} Solution\n```python\ndef f(x):\n    return x\n```\n````\n"
    assert dropdown_code(md) == "def f(x):\n    return x\n"
    assert dropdown_code(":::{dropdown} Solution\n```python\ndef f(x):\n    return x\n```\n:::\n") is not None
    assert dropdown_code("```python\ndef f(x):\n    return x\n```") is None
    assert outside_dropdowns("```python\nx = 1\n```") == ["x = 1\n"]
    with pytest.raises(AssertionError, match="closed"):
        dropdown_code("````{dropdown} Solution\n:open:\n```python\nx = 1\n```\n````")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_solution_cells_open_collapsed_in_jupyter(path):
    """The {dropdown} folds a solution only on the website; JupyterLab folds a cell whose metadata has
    jupyter.source_hidden = true (its nbformat cell metadata: "whether the source is hidden")."""
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    solutions = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and _DROPDOWN.search(c.source)]
    shown = [i for i in solutions if cells[i].metadata.get("jupyter", {}).get("source_hidden") is not True]
    assert not shown, (
        f"{path.name}: Solution cells {shown} lack the metadata "
        '"jupyter": {"source_hidden": true} (so JupyterLab shows them collapsed)'
    )
