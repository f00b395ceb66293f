"""Learners' copies of chapter notebooks: ``python -m course_lib.handout book/03_lstm.ipynb --out handout/``.

The book's notebooks carry each exercise's solution in a collapsed ``Solution`` dropdown (a markdown cell made
by :func:`course_lib.exercises.solution_markdown`). For a course where learners hand in graded notebooks,
the instructor gives out copies without them. For each notebook named, this writes ``<out>/<name>.ipynb``:

* every ``{dropdown} Solution`` block is removed (and its markdown cell, when nothing else is left in it);
* every check cell (``check("<key>", <func_name>)``) gets the stored output of an untouched stub: the
  checker's "not attempted" report, exactly as ``check`` prints it;
* an exercise cell that holds the reference solution instead of the stub (an instructor's working copy) is
  put back to the stub (:func:`course_lib.exercises.stub_source`);
* everything else (text, code, figures, stored outputs, metadata) is left as it is.

A notebook in which the reference code of one of its exercises still appears anywhere else (a code cell,
a markdown code block) is refused: nothing is written for it, and the command exits with status 1.
The grader needs only the exercise cells' metadata of the assignment notebook, so a handed-out copy can be
given to ``python -m course_lib.grade --assignment``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
from pathlib import Path

import nbformat

from course_lib.exercises import get, keys, run_check, same_program, stub_function, stub_source

_DROPDOWN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{dropdown\}[ \t]*Solution[ \t]*$", re.M)
_PYBLOCK = re.compile(
    r"^(?P<fence>`{3,})(?:python|py|ipython3?)[ \t]*\n(?P<code>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)
_CHECK = re.compile(r"""^\s*check\(\s*["'](?P<key>[a-z0-9_.]+)["']\s*,\s*(?P<func>\w+)\s*\)\s*$""")


class HandoutError(ValueError):
    """A notebook that cannot be handed out (its solution would leak)."""


def strip_solution_dropdowns(markdown: str) -> tuple[str, int]:
    """``markdown`` without its ``{dropdown} Solution`` blocks, and how many were removed."""
    removed = 0
    while True:
        m = _DROPDOWN.search(markdown)
        if not m:
            return markdown, removed
        fence = m.group("fence")
        rest = markdown[m.end() :]
        close = re.search(rf"^{re.escape(fence)}[ \t]*$\n?", rest, re.M)
        end = m.end() + (close.end() if close else len(rest))
        markdown = markdown[: m.start()] + markdown[end:]
        removed += 1


def not_attempted_output(key: str):
    """The stored output of ``check(key, <untouched stub>)``: what the checker prints, as a stream output."""
    ex = get(key)
    with contextlib.redirect_stdout(io.StringIO()):
        text = run_check(ex, stub_function(ex)).report() + "\n"
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _code_blocks(cell) -> list[str]:
    if cell.cell_type == "code":
        return [cell.source]
    if cell.cell_type == "markdown":
        return [m.group("code") for m in _PYBLOCK.finditer(cell.source)]
    return []


def handout(nb) -> tuple[object, list[str]]:
    """The learner's version of notebook ``nb`` (a new NotebookNode) and notes on what was changed.

    Raises :class:`HandoutError` if the reference code of one of the notebook's exercises would remain.
    """
    nb = nbformat.from_dict(nb)  # a deep copy
    notes: list[str] = []
    registered = set(keys())
    cells = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and _DROPDOWN.search(cell.source):
            text, n = strip_solution_dropdowns(cell.source)
            notes.append(f"cell {i}: removed {n} Solution dropdown{'s' if n > 1 else ''}")
            if not text.strip():
                continue
            cell.source = text.strip("\n")
        if cell.cell_type == "code":
            key = cell.metadata.get("exercise")
            if key in registered and same_program(cell.source, get(key)):
                cell.source = stub_source(get(key)).rstrip("\n")
                cell.outputs = []
                notes.append(f"cell {i}: the exercise cell held the solution of {key}; put back to the stub")
            m = _CHECK.match(cell.source)
            if m and m.group("key") in registered:
                cell.outputs = [not_attempted_output(m.group("key"))]
        cells.append(cell)
    nb.cells = cells
    exercise_keys = [c.metadata.get("exercise") for c in cells if c.cell_type == "code"]
    for key in [k for k in exercise_keys if k in registered]:
        ex = get(key)
        for j, cell in enumerate(cells):
            if any(same_program(block, ex) for block in _code_blocks(cell)):
                raise HandoutError(
                    f"the solution of {key} also appears in cell {j} (of the handed-out notebook), outside "
                    "a Solution dropdown: remove it by hand"
                )
    return nb, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.handout",
        description="Write learners' copies of chapter notebooks: Solution dropdowns removed, check cells "
        "showing 'not attempted', everything else unchanged.",
        epilog="example: python -m course_lib.handout book/*.ipynb --out handout/",
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="chapter notebooks (.ipynb)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the copies to")
    args = parser.parse_args(argv)

    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; give a folder")
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"no such notebook: {path}")
        if path.resolve().parent == args.out.resolve():
            parser.error(f"--out {args.out} holds {path.name} itself: write the copies to another folder")
    names = [p.name for p in args.notebooks]
    if len(set(names)) != len(names):
        parser.error("two notebooks have the same file name; hand them out into different folders")
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.notebooks:
        try:
            nb, notes = handout(nbformat.read(path, as_version=4))
        except HandoutError as exc:
            print(f"{path}: NOT written: {exc}", file=sys.stderr)
            failed += 1
            continue
        except (OSError, ValueError, RecursionError) as exc:  # not JSON, not a notebook, absurdly nested
            print(f"{path}: NOT written: cannot read it as a notebook ({exc})", file=sys.stderr)
            failed += 1
            continue
        nbformat.write(nb, args.out / path.name)
        removed = sum(1 for n in notes if "Solution dropdown" in n)
        print(f"{path} -> {args.out / path.name}: {removed} solution(s) removed")
        for note in notes:
            if "Solution dropdown" not in note:
                print(f"  note: {note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
