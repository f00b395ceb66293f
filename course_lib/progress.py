"""Progress bars a learner sees, and stored notebook outputs never carry.

A learner running a notebook sees a ``tqdm`` bar for long loops. When the environment variable
``COURSE_LIB_PROGRESS`` is ``"0"`` (set by the test suite and by ``python -m course_lib.refresh``) the bar is
switched off, so the outputs committed with the notebooks and compared by nbval hold no progress bar.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

ENV_VAR = "COURSE_LIB_PROGRESS"


def progress_enabled() -> bool:
    """True unless ``COURSE_LIB_PROGRESS=0`` is set in the environment."""
    return os.environ.get(ENV_VAR, "1") != "0"


def progress(iterable: Iterable[T], desc: str | None = None, total: int | None = None) -> Iterator[T]:
    """Wrap ``iterable`` in a progress bar when progress bars are enabled, else return it unchanged."""
    if not progress_enabled():
        yield from iterable
        return
    from tqdm.auto import tqdm

    yield from tqdm(iterable, desc=desc, total=total, leave=False)
