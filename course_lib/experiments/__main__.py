"""``python -m course_lib.experiments <module> [options]``: run one experiment module's ``main(argv)``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

from . import __path__ as _path


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(_path) if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = _modules()
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        print("experiments:", ", ".join(names) or "(none)")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in names:
        print(f"unknown experiment {name!r}; choose one of: {', '.join(names)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"{__package__}.{name}")
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
