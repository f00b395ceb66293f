"""The learner's install path outside the book's environment (Colab, Binder, a plain venv) stays consistent.

* ``book/how_to_use.md`` gives one command, ``pip install "course_lib[notebooks] @ git+<url>"``, whose URL is
  ``_config.yml``'s ``repository.url`` (the setting the site's launch buttons are built from);
* the ``notebooks`` extra exists and, with the core dependencies, provides every third-party module the
  notebooks import, directly or through the ``course_lib`` modules they import (lazy imports included);
* the setup-check notebook checks exactly the version ranges ``pyproject.toml`` declares.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
NOTEBOOKS = sorted(p for p in BOOK.glob("*.ipynb") if not p.name.startswith("."))
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
HOW_TO = (BOOK / "how_to_use.md").read_text(encoding="utf-8")


def repository_url() -> str:
    return CONFIG["repository"]["url"].rstrip("/")


def requirements(group: str | None = None) -> dict[str, Requirement]:
    project = PYPROJECT["project"]
    items = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {canonicalize_name(r.name): r for r in map(Requirement, items)}


def test_how_to_page_command_uses_the_configured_repository():
    url = repository_url()
    assert url.startswith("https://github.com/"), url
    command = f'pip install "course_lib[notebooks] @ git+{url}"'
    assert command in HOW_TO, f"book/how_to_use.md should give the command {command!r}"
    # no other (stale) GitHub repository is named on the page
    others = {u.rstrip("/.") for u in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", HOW_TO)} - {url}
    assert not others, f"how_to_use.md names repositories other than _config.yml's {url}: {others}"


def test_launch_buttons_are_configured_from_the_same_repository():
    """Binder and Colab links are built by the theme from repository.url + branch; both must be set."""
    launch = CONFIG["launch_buttons"]
    assert launch.get("binderhub_url") and launch.get("colab_url")
    assert CONFIG["repository"].get("branch")
    assert "mybinder.org" in HOW_TO and "colab.research.google.com" in HOW_TO


def test_notebooks_extra_exists_with_what_the_how_to_page_promises():
    extra = requirements("notebooks")
    assert extra, "pyproject.toml has no 'notebooks' extra"
    core = requirements()
    assert not set(extra) & set(core), "the extra repeats core dependencies"
    assert "torch" in core and "torch" not in extra


def _imports(source: str) -> set[str]:
    """Top-level names of every module imported anywhere in ``source`` (inside functions too)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics in a notebook cell
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        tree = ast.parse("\n".join(lines))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _course_lib_file(module: str) -> Path | None:
    path = REPO.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports_of_notebooks() -> dict[str, set[str]]:
    """Top-level third-party module -> where it is imported (a notebook, or a course_lib module reached)."""
    where: dict[str, set[str]] = {}
    todo: list[tuple[str, str]] = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                todo += [(name, path.name) for name in _imports(cell.source)]
    seen: set[str] = set()
    while todo:
        name, origin = todo.pop()
        top = name.split(".")[0]
        if top == "course_lib":
            if name in seen:
                continue
            seen.add(name)
            file = _course_lib_file(name)
            if file is not None:
                todo += [(n, name) for n in _imports(file.read_text(encoding="utf-8"))]
            continue
        if top in sys.stdlib_module_names or top == "__future__":
            continue
        where.setdefault(top, set()).add(origin)
    return where


# course_lib.glue uses myst_nb only when it is there (the book build) and IPython, which every Jupyter
# kernel (JupyterLab, Colab, VS Code, Binder) brings.
NOT_FOR_LEARNERS = {"myst_nb", "IPython"}


def test_the_extra_provides_what_the_notebooks_import():
    provided = set(requirements()) | set(requirements("notebooks"))
    dists = packages_distributions()
    missing = {}
    for module, origins in third_party_imports_of_notebooks().items():
        if module in NOT_FOR_LEARNERS:
            continue
        names = {canonicalize_name(d) for d in dists.get(module, [module])}
        if not names & provided:
            missing[module] = sorted(origins)
    assert not missing, f"imported by notebooks, in neither the core nor the 'notebooks' extra: {missing}"


def test_setup_check_notebook_checks_the_ranges_pyproject_declares():
    nb = nbformat.read(BOOK / "00_setup_check.ipynb", as_version=4)
    required = None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            names = [getattr(t, "id", None) for t in getattr(node, "targets", [])]
            if isinstance(node, ast.Assign) and "REQUIRED" in names:
                required = ast.literal_eval(node.value)
    assert required is not None, "00_setup_check.ipynb: no REQUIRED = {...} dict"
    expected = {name: r.specifier for name, r in requirements().items()}
    expected["python"] = SpecifierSet(PYPROJECT["project"]["requires-python"])
    got = {canonicalize_name(name): SpecifierSet(spec) for name, spec in required.items()}
    assert got == expected


@pytest.mark.parametrize(
    "version, ok", [("2.13.0+cpu", True), ("2.1.0", True), ("2.14.0", False), ("2.0.1", False)]
)
def test_torch_range(version, ok):
    """pyproject allows torch >=2.1,<2.14 (the CPU build's local label '+cpu' does not matter)."""
    assert requirements()["torch"].specifier.contains(version) is ok


def test_every_course_lib_package_is_listed_in_pyproject():
    """pyproject.toml lists packages one by one (it maps book/ into the wheel): add each new subpackage."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "course_lib").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"


def test_the_wheel_carries_the_results_and_data_files_the_notebooks_read(tmp_path):
    """A pip-installed course_lib (Colab, Binder) reads book/results and book/data from course_lib/_book/."""
    import shutil
    import subprocess
    import zipfile

    src = tmp_path / "src"
    shutil.copytree(REPO / "course_lib", src / "course_lib", ignore=shutil.ignore_patterns("__pycache__"))
    for sub in ("results", "data"):
        if (BOOK / sub).is_dir():
            shutil.copytree(BOOK / sub, src / "book" / sub)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(src),
         "-w", str(tmp_path / "dist")],
        check=True, capture_output=True,
    )
    names = set(zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))).namelist())
    expected = {
        f"course_lib/_book/{p.parent.name}/{p.name}"
        for sub in ("results", "data")
        for p in (BOOK / sub).glob("*")
        if p.is_file()
    }
    assert expected, "book/results and book/data hold the files the notebooks read"
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    # and the installed copy resolves them: course_lib.experiments picks course_lib/_book/ outside a checkout
    assert "course_lib/experiments/__init__.py" in names
