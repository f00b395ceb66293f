"""Sphinx extension of the course website: serve MathJax 3 from the site itself.

Loaded by ``_config.yml`` (``sphinx.extra_extensions: [course_lib.site]``). Sphinx's default ``mathjax_path``
points at a CDN, so a reader without network access (or a browser test that forbids other hosts) would see
raw LaTeX. This extension:

* sets ``mathjax_path`` to ``mathjax/tex-chtml.js`` under the site's ``_static/`` folder, and
* switches off the unused live-code extension ``sphinx_thebe`` that Jupyter Book always loads (the book has
  no thebe button): its inline script names a CDN URL and, being added twice, throws
  "Identifier 'THEBE_JS_URL' has already been declared" in the browser console of every page, and
* after a successful HTML build copies the MathJax 3 files that page needs (the ``tex-chtml`` bundle, its
  fonts, the TeX extensions it autoloads, and the menu's accessibility modules) from the PyPI package
  ``sphinx-mathjax-offline`` (listed in requirements.txt; it ships MathJax 3.2.2) into ``_build/html``.

Nothing is downloaded at build time and no JavaScript blob is kept in the repository.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

MATHJAX_PACKAGE = "sphinx-mathjax-offline"
MATHJAX_BUNDLE = "tex-chtml.js"
MATHJAX_PATH = f"mathjax/{MATHJAX_BUNDLE}"

# Parts of the MathJax distribution that tex-chtml.js may load at run time (relative to its folder).
_KEEP_DIRS = (
    "input/tex/extensions",  # \require / autoload (e.g. \boldsymbol, \cancel, \color)
    "output/chtml/fonts/woff-v2",  # the CommonHTML fonts
    "ui",  # menu pieces loaded lazily
    "a11y",  # accessibility options in the MathJax menu
    "sre",  # speech-rule engine and its maps, used by those options
)


def mathjax_source_dir() -> Path:
    """Folder of the MathJax 3 distribution shipped by the ``sphinx-mathjax-offline`` package.

    Raises ``ModuleNotFoundError`` with the install command when the package is missing.
    """
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"The website needs the PyPI package {MATHJAX_PACKAGE!r} (it ships MathJax 3 for offline use): "
            f"pip install -r requirements.txt"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    if not (folder / MATHJAX_BUNDLE).is_file():
        raise FileNotFoundError(f"{folder / MATHJAX_BUNDLE} is missing: reinstall {MATHJAX_PACKAGE!r}")
    return folder


def copy_mathjax(destination: Path) -> int:
    """Copy the MathJax files the site uses into ``destination`` (a folder); return the number of files."""
    source = mathjax_source_dir()
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / MATHJAX_BUNDLE, destination / MATHJAX_BUNDLE)
    count = 1
    for sub in _KEEP_DIRS:
        if (source / sub).is_dir():
            shutil.copytree(source / sub, destination / sub, dirs_exist_ok=True)
            count += sum(1 for p in (destination / sub).rglob("*") if p.is_file())
    return count


def _set_mathjax_path(app, config) -> None:
    config.mathjax_path = MATHJAX_PATH


def _thebe_wanted(config) -> bool:
    options = getattr(config, "html_theme_options", None) or {}
    return bool((options.get("launch_buttons") or {}).get("thebe"))


def _drop_unused_thebe(app, config) -> None:
    """Disconnect sphinx_thebe's hooks (scripts, stylesheet, static path, page config) when thebe is off."""
    if _thebe_wanted(config) or "sphinx_thebe" not in app.extensions:
        return
    for event in ("builder-inited", "env-before-read-docs", "doctree-resolved"):
        for listener in list(app.events.listeners.get(event, [])):
            handler = listener.handler
            if getattr(handler, "__module__", "") == "sphinx_thebe" and handler.__name__ in (
                "st_static_path",
                "init_thebe_core",
                "update_thebe_context",
            ):
                app.disconnect(listener.id)
    app.registry.css_files[:] = [(f, a) for f, a in app.registry.css_files if f != "sphinx-thebe.css"]


def _copy_on_build_finished(app, exception) -> None:
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    copy_mathjax(Path(app.outdir) / "_static" / "mathjax")


def setup(app):
    """Sphinx entry point."""
    mathjax_source_dir()  # fail early, with the install command, when the package is missing
    app.connect("config-inited", _set_mathjax_path, priority=900)
    app.connect("config-inited", _drop_unused_thebe, priority=900)
    app.connect("build-finished", _copy_on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
