"""Every notebook of the book runs top to bottom where a learner opens it: Colab, plain JupyterLab, VS Code.

There the learner has what ``pip install "course_lib[notebooks] @ git+<repository>"`` installs (see
``book/how_to_use.md``), but neither the repository's files next to ``course_lib`` nor ``myst_nb`` (the
website's notebook renderer). So each notebook is executed here in a fresh kernel where

* ``course_lib`` is imported from a copy *installed* by pip from the repository's sources (a regular, not
  editable, install into a temporary folder put first on ``PYTHONPATH``), not from the checkout;
* ``myst_nb`` cannot be imported: the same folder's ``sitecustomize.py`` puts a finder at the front of
  ``sys.meta_path`` that refuses it;
* the working directory is an empty temporary folder.

A cell added in front checks the first two points inside the kernel, one added at the end that
``course_lib.glue`` took its fallback. Outputs are not compared (nbval does that, with the build tools).

This re-executes the whole book (about the CPU time of ``python -m course_lib.refresh``). Select or leave it
out with the marker: ``pytest -m notebooks_anywhere`` / ``pytest -m "not notebooks_anywhere"``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
NOTEBOOKS = sorted(p for p in BOOK.glob("*.ipynb") if not p.name.startswith("."))

pytestmark = pytest.mark.notebooks_anywhere

SITECUSTOMIZE = '''\
"""Imitate an environment without the book's build tools: ``import myst_nb`` fails."""
import sys


class _NoMystNb:
    def find_spec(self, name, path=None, target=None):
        if name == "myst_nb" or name.startswith("myst_nb."):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by test_notebooks_anywhere.py)")
        return None


sys.meta_path.insert(0, _NoMystNb())
'''

FIRST_CELL = """\
# added by tests/test_notebooks_anywhere.py
from pathlib import Path
try:
    import myst_nb
except ImportError:
    pass
else:
    raise AssertionError("myst_nb is importable in this kernel: the test would prove nothing")
import course_lib
assert Path(course_lib.__file__).resolve().is_relative_to({site!r}), course_lib.__file__
"""

LAST_CELL = """\
# added by tests/test_notebooks_anywhere.py
import sys
import course_lib.glue
assert course_lib.glue._myst_glue is None, "course_lib.glue found myst_nb"
assert "myst_nb" not in sys.modules
print("ran without myst_nb")
"""


@pytest.fixture(scope="module")
def blocker_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("no_myst_nb")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def installed_course_lib(tmp_path_factory) -> Path:
    """A folder holding course_lib as pip installs it from the repository (no dependencies: those of the
    running environment serve). Built from a copy of the sources, so the checkout gets no build/ folder."""
    tmp = tmp_path_factory.mktemp("pip_installed")
    ignore = shutil.ignore_patterns(
        ".venv", "venv", "_build", ".git", "test-artifacts", "__pycache__", "*.egg-info", "build", "dist"
    )
    source = shutil.copytree(REPO, tmp / "source", ignore=ignore)
    site = tmp / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    command += ["--no-compile", "--target", str(site), str(source)]
    out = subprocess.run(command, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    shutil.rmtree(source)
    return site


def run_anywhere(path: Path, blocker: Path, site: Path, cwd: Path, timeout: int = 300):
    """Execute the notebook at ``path`` (a copy in memory) in a kernel without myst_nb, with the course_lib
    installed in ``site``; return the executed notebook."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(FIRST_CELL.format(site=str(site.resolve()))))
    nb.cells.append(nbformat.v4.new_code_cell(LAST_CELL))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), str(site), *filter(None, [env.get("PYTHONPATH")])])
    env["COURSE_LIB_PROGRESS"] = "0"
    env.setdefault("PYTHONHASHSEED", "0")
    resources = {"metadata": {"path": str(cwd)}}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources=resources)
    client.execute(env=env)
    return nb


def test_the_blocker_blocks(blocker_dir, tmp_path):
    """Without this, a notebook passing below could still have used myst_nb."""
    env = dict(os.environ, PYTHONPATH=str(blocker_dir))
    code = "try:\n import myst_nb\nexcept ImportError as e:\n print('blocked', e)\n"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("blocked"), out.stdout
    # ... and myst_nb is installed here, so it is the blocker that makes the difference
    pytest.importorskip("myst_nb")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_without_myst_nb_and_the_checkout(path, blocker_dir, installed_course_lib, tmp_path):
    nb = run_anywhere(path, blocker_dir, installed_course_lib, cwd=tmp_path)
    last = nb.cells[-1].outputs
    assert any("ran without myst_nb" in o.get("text", "") for o in last), last


def test_glue_falls_back_without_myst_nb(blocker_dir, tmp_path):
    """course_lib.glue outside the book build: display=True shows the value, display=False shows nothing."""
    code = (
        "import course_lib.glue as g\n"
        "assert g._myst_glue is None\n"
        "g.glue('shown', 0.125)\n"
        "g.glue('hidden', 'SECRET', display=False)\n"
        "try:\n"
        "    g.glue('', 1)\n"
        "except ValueError as e:\n"
        "    print('error:', e)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(blocker_dir))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "0.125"
    assert "SECRET" not in out.stdout
    assert "error: name must be a non-empty string" in out.stdout
