"""pytest plugin loaded by the repo's pytest settings (``-p course_lib.pytest_plugin``).

It runs before any test or notebook is collected, wherever pytest is pointed (``tests/``, ``book/`` or both),
so nbval's kernels inherit the same environment as ``python -m course_lib.refresh`` used to store outputs:
progress bars off and a fixed hash seed.
"""

import os

os.environ["COURSE_LIB_PROGRESS"] = "0"
os.environ.setdefault("PYTHONHASHSEED", "0")
