"""Experiments too long for a notebook's 60 s budget, run from the command line.

Each module of this package is one experiment (or one data-preparation script) with a ``main(argv)``
function; run it as ``python -m course_lib.experiments <module> [options]`` (``--help`` lists them).
An experiment writes a small results file under ``book/results/`` (data under ``book/data/``) through
:func:`write_results`, which records the seeds, the library versions, the machine and the exact command,
so a maintainer can rerun it next year and compare. The chapter notebook loads that file, plots it and
reruns one short configuration live; a test reruns a reduced version (``--quick`` or smaller arguments).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent


def _book_files() -> Path:
    """``book/`` in a checkout; ``course_lib/_book/`` in a pip-installed copy (see pyproject.toml)."""
    checkout = REPO / "book"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parent.parent / "_book"


RESULTS = _book_files() / "results"
DATA = _book_files() / "data"


def provenance(seeds, command: str | None = None) -> dict[str, Any]:
    """What a results file must record: seeds, versions, machine, date and the command that wrote it."""
    import numpy as np
    import torch

    return {
        "seeds": list(seeds),
        "command": command if command is not None else "python -m " + shlex.join(
            ["course_lib.experiments", *sys.argv[1:]] if sys.argv and sys.argv[0].endswith("__main__.py")
            else sys.argv),
        "date": _dt.date.today().isoformat(),
        "versions": {
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
        },
        "machine": {
            "processor": platform.machine(), "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        },
    }


def write_results(path: str | Path, results: dict[str, Any], seeds, command: str | None = None) -> Path:
    """Write ``results`` and its provenance as indented JSON to ``path`` (relative: under book/results/).

    results: plain JSON values (numbers, strings, lists, dicts); seeds: the seeds used, recorded as given.
    """
    path = Path(path)
    if not path.is_absolute():
        path = RESULTS / path
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"provenance": provenance(seeds, command), "results": results}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_results(path: str | Path) -> dict[str, Any]:
    """Load a file written by :func:`write_results` (relative paths: under book/results/)."""
    path = Path(path)
    if not path.is_absolute():
        path = RESULTS / path
    return json.loads(path.read_text(encoding="utf-8"))
