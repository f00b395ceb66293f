"""``glue``: name a value computed in a notebook so the book's prose can quote it.

Inside the website build (``myst_nb`` installed) this is :func:`myst_nb.glue`: the value is stored in the
cell's output and a ``{glue:text}`` role in a markdown cell shows it. In plain JupyterLab, VS Code or Colab,
where ``myst_nb`` is not installed, the notebooks must still run top to bottom: ``glue`` then shows the value
when ``display=True`` and otherwise does nothing visible. Chapters import it with
``from course_lib.glue import glue``.
"""

from __future__ import annotations

from typing import Any

try:  # the book's build tools are installed: the real thing
    from myst_nb import glue as _myst_glue
except ImportError:  # plain Jupyter / Colab (tests/test_notebooks_anywhere.py runs this path)
    _myst_glue = None


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Store ``variable`` under ``name`` for the book (``myst_nb.glue``), or fall back outside the build.

    name: the key a markdown cell uses; variable: any displayable value; display: also show it in the cell.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if _myst_glue is not None:
        _myst_glue(name, variable, display=display)
    elif display:
        from IPython.display import display as _show

        _show(variable)


__all__ = ["glue"]
