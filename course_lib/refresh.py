"""Re-execute the book's notebooks in place, each in a fresh kernel, the one way outputs are refreshed.

Usage (from the repository root)::

    python -m course_lib.refresh              # every notebook under book/
    python -m course_lib.refresh book/03_lstm.ipynb

Each notebook runs top to bottom in a new ``python3`` kernel started in ``book/`` with progress bars off
(``COURSE_LIB_PROGRESS=0``), so the stored outputs are exactly what nbval later compares against.
A notebook that raises is not written back, and the command exits non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"


def book_notebooks() -> list[Path]:
    """All notebooks of the book, sorted, leaving out checkpoints and build folders."""
    return sorted(
        p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts
    )


def execute_in_place(path: Path, timeout: int = 600) -> float:
    """Run ``path`` in a fresh kernel and write it back with its new outputs; return the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["COURSE_LIB_PROGRESS"] = "0"
    os.environ.setdefault("PYTHONHASHSEED", "0")
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    seconds = time.perf_counter() - start
    # Keep the stored metadata minimal and stable.
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.refresh", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: all of book/)")
    args = parser.parse_args(argv)
    paths = args.notebooks or book_notebooks()
    failed = 0
    for path in paths:
        try:
            seconds = execute_in_place(path)
        except Exception as exc:  # report and go on with the others
            failed += 1
            print(f"FAILED  {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            continue
        print(f"ok      {path}  ({seconds:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
