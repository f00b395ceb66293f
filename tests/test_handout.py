"""The hand-out command (course_lib.handout): learners' copies without solutions, that still run.

Structure is checked on every chapter notebook in book/ (new chapters included as they appear); two
chapters are executed top to bottom from their handed-out copy (CPU is shared: not all of them).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_lib import grade, handout
from course_lib.exercises import all_exercises, get, same_program, solution_markdown, stub_source

BOOK = Path(__file__).resolve().parent.parent / "book"
NOTEBOOKS = sorted(p for p in BOOK.glob("*.ipynb") if not p.name.startswith("."))
EXECUTED = ["00_setup_check.ipynb", "03_lstm.ipynb"]


def _blocks(cell) -> list[str]:
    """Every piece of code a learner could read in a cell: the source of a code cell, the code blocks of a
    markdown cell (inside a dropdown or not)."""
    if cell.cell_type == "code":
        return [cell.source]
    fenced = r"^(?P<fence>`{3,})(?:python|py|ipython3?)?[ \t]*\n(?P<code>.*?)^(?P=fence)[ \t]*$"
    return [m.group("code") for m in re.finditer(fenced, cell.source, re.M | re.S)]


def _is_solution(cell) -> bool:
    return cell.cell_type == "markdown" and "{dropdown} Solution" in cell.source


def _exercise_keys(nb) -> list[str]:
    return [c.metadata["exercise"] for c in nb.cells if c.cell_type == "code" and c.metadata.get("exercise")]


def _merged(outputs) -> list[tuple[str, str]]:
    """Stream outputs as (name, text), consecutive pieces of one stream joined (a busy kernel may send one
    print in two messages), other outputs as (type, repr)."""
    merged: list[tuple[str, str]] = []
    for o in outputs:
        if o.get("output_type") == "stream":
            if merged and merged[-1][0] == o["name"]:
                merged[-1] = (o["name"], merged[-1][1] + o["text"])
            else:
                merged.append((o["name"], o["text"]))
        else:
            merged.append((o.get("output_type"), repr(dict(o))))
    return merged


def _text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def handed_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout")
    assert handout.main([*map(str, NOTEBOOKS), "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_handout_has_no_solution_and_keeps_everything_else(handed_out, path):
    original = nbformat.read(path, as_version=4)
    copy = nbformat.read(handed_out / path.name, as_version=4)
    keys = _exercise_keys(original)
    # No reference code anywhere: not in code cells, not in any markdown code block, dropdown or not.
    for cell in copy.cells:
        assert "{dropdown} Solution" not in cell.source
        for key in keys:
            assert not any(same_program(block, get(key)) for block in _blocks(cell)), (key, cell.source[:200])
    # The original did hold them (so the check above is not vacuous).
    for key in keys:
        assert any(same_program(b, get(key)) for c in original.cells for b in _blocks(c)), key
    # Everything else is intact, in order: the original minus its solution cells.
    kept = [c for c in original.cells if not _is_solution(c)]
    assert len(kept) == len(copy.cells) == len(original.cells) - len(keys)
    for a, b in zip(kept, copy.cells, strict=True):
        assert (a.cell_type, a.source, a.metadata) == (b.cell_type, b.source, b.metadata)
        if a.cell_type == "code" and not a.source.startswith("check("):
            assert a.outputs == b.outputs
    assert copy.metadata == original.metadata
    # Check cells show what check() prints for the untouched stub.
    for cell in copy.cells:
        if cell.cell_type == "code" and cell.source.startswith("check("):
            key = re.match(r'check\("([^"]+)"', cell.source).group(1)
            assert "not attempted" in _text(cell)
            assert cell.outputs == [handout.not_attempted_output(key)]
    # The grader takes the handed-out copy as --assignment: same exercises, no solution needed.
    if keys:
        assert grade.resolve_keys(str(handed_out / path.name), None, []) == keys


@pytest.mark.parametrize("name", EXECUTED)
def test_handed_out_notebook_runs_top_to_bottom(handed_out, name, tmp_path):
    """Executed in a fresh kernel from the book's folder (for its data files); no cell raises, and every check
    cell prints exactly the stored "not attempted" output."""
    copy = nbformat.read(handed_out / name, as_version=4)
    stored = [c.outputs for c in copy.cells if c.cell_type == "code" and c.source.startswith("check(")]
    assert stored, f"{name} has no exercise"
    client = NotebookClient(
        copy,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(BOOK)}},
    )
    client.execute(env={"COURSE_LIB_PROGRESS": "0", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"})
    errors = [o for c in copy.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    ran = [c.outputs for c in copy.cells if c.cell_type == "code" and c.source.startswith("check(")]
    assert [_merged(outs) for outs in ran] == [_merged(outs) for outs in stored]


def test_solution_left_in_an_exercise_cell_goes_back_to_the_stub_and_leaks_are_refused(tmp_path):
    ex = all_exercises()[0]
    cells = [nbformat.v4.new_code_cell("import numpy as np\nfrom course_lib.exercises import check")]
    cell = nbformat.v4.new_code_cell(solution_markdown(ex).split("```python\n")[1].split("```")[0])
    cell.metadata.update({"exercise": ex.key, "tags": ["exercise"]})
    cells += [cell, nbformat.v4.new_code_cell(f'check("{ex.key}", {ex.func_name})')]
    cells.append(nbformat.v4.new_markdown_cell("Intro text.\n\n" + solution_markdown(ex) + "\n\nMore text."))
    nb = nbformat.v4.new_notebook(cells=cells)
    copy, notes = handout.handout(nb)
    assert copy.cells[1].source == stub_source(ex).rstrip("\n")
    assert any("put back to the stub" in n for n in notes)
    assert copy.cells[3].source == "Intro text.\n\n\nMore text."  # the dropdown went, the text stayed
    assert nb.cells[1].source != copy.cells[1].source  # the input notebook is not modified
    # The solution elsewhere (a plain code cell): refused, and the command writes nothing for it.
    nb.cells.append(nbformat.v4.new_code_cell(solution_markdown(ex).split("```python\n")[1].split("```")[0]))
    with pytest.raises(handout.HandoutError, match=f"the solution of {re.escape(ex.key)} also appears"):
        handout.handout(nb)
    nbformat.write(nb, tmp_path / "leaky.ipynb")
    assert handout.main([str(tmp_path / "leaky.ipynb"), "--out", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out" / "leaky.ipynb").exists()


def test_handout_refuses_to_overwrite_its_input(tmp_path, capsys):
    shutil.copy(BOOK / "00_setup_check.ipynb", tmp_path / "ch.ipynb")
    with pytest.raises(SystemExit):
        handout.main([str(tmp_path / "ch.ipynb"), "--out", str(tmp_path)])
    assert "holds ch.ipynb itself" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit):
        handout.main([str(tmp_path / "ch.ipynb"), "--out", str(tmp_path / "file")])
    assert "is a file" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["truncated.ipynb", "deep_json.ipynb", "latin1.ipynb"])
def test_a_file_that_is_not_a_readable_notebook_is_refused_without_a_traceback(tmp_path, capsys, name):
    fixture = Path(__file__).resolve().parent / "fixtures" / "grading" / name
    assert handout.main([str(fixture), "--out", str(tmp_path / "out")]) == 1
    assert f"{name}: NOT written: cannot read it as a notebook" in capsys.readouterr().err
    assert list((tmp_path / "out").iterdir()) == []
