"""The sandbox around a learner's kernel: bubblewrap (``bwrap``), a kept, widely used isolation tool.

Each submission's Jupyter kernel runs inside ``bwrap`` (Linux; Debian/Ubuntu package ``bubblewrap``):

* **its own namespaces** (``--unshare-all``): a PID namespace, so it sees neither the grader, nor the grading
  worker, nor the kernels of other notebooks (``/proc`` shows only its own processes); no network (not even
  the loopback of the machine; the kernel talks to the worker over Unix sockets in a private folder); its
  own IPC and host name;
* **a file system made of read-only pieces**: the system (``/usr``, ``/bin``, ``/lib*``, ``/etc``) and the
  Python installation with its packages, and nothing else. The course repository (``course_lib`` with
  the reference solutions, the book's notebooks with their Solution dropdowns), the submissions folder, the
  assignment notebook, the gradebook and the feedback are simply not there; if one of them lies inside a
  piece that is shown (a ``course_lib`` installed into site-packages), an empty folder is mounted over it;
* **three private folders**: ``/tmp`` (empty, in memory, at most :data:`TMP_MB` MB, gone at the end), the
  exercise specs and hidden inputs (read-only) and the folder it writes its results to (the only place
  outside it can read); ``/dev/shm`` is a private :data:`SHM_MB` MB; the rest (``/``, ``/dev``) is
  read-only, so files written in memory cannot exhaust the machine's RAM (the sizes need bubblewrap 0.7
  or later: :func:`sized_tmpfs`);
* **no capabilities** (``--cap-drop ALL``), a new session (``--new-session``: no terminal to inject keys
  into), and ``--die-with-parent``: when the kernel, or the worker that started it, ends, the namespace's
  first process ends, and the Linux kernel kills every process left in the namespace, detached or not.

:func:`sandbox_problem` says why no sandbox can be made here ("" when it can); the grader refuses to grade
without one unless the instructor passes ``--no-sandbox`` (:data:`UNPROTECTED` is what it then prints).
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

#: Environment variable through which the grader tells its workers which paths the kernel must not see.
HIDE_VAR = "COURSE_GRADE_HIDE"

#: Size of the sandbox's private ``/tmp`` and ``/dev/shm`` (in memory: without a size, a learner could fill
#: the machine's RAM with files, which the kernel's address-space limit does not count).
TMP_MB = 128
SHM_MB = 16

#: Read-only system folders shown inside the sandbox (those that exist).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")

#: What grading without the sandbox (``--no-sandbox``) leaves open, printed when it is used.
UNPROTECTED = """\
WARNING: grading WITHOUT a sandbox (--no-sandbox). Each learner's code runs as you, with your files and
network. NOT protected in this mode:
  - reading the reference solutions from course_lib on disk, or from the assignment notebook;
  - reading or rewriting classmates' submissions, and editing course_lib so later notebooks are judged
    against a changed reference;
  - stopping or signalling the grader's processes, and forging results into their output (its own or a
    classmate's);
  - processes that escape the clean-up (a new, empty environment) and rewrite the gradebook, the feedback
    or results.json after the grader exits;
  - the network.
Grade untrusted notebooks only with the sandbox (Linux + bubblewrap), or inside a throw-away container."""


def bwrap_path() -> str | None:
    """The ``bwrap`` executable, or None."""
    return shutil.which("bwrap") or ("/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)


@functools.lru_cache(maxsize=1)
def sized_tmpfs() -> bool:
    """Can this ``bwrap`` limit the size of a tmpfs (``--size``: bubblewrap 0.7 or later, not setuid)?"""
    bwrap = bwrap_path()
    if bwrap is None:
        return False
    try:
        probe = [bwrap, "--dev-bind", "/", "/", "--size", "1048576", "--tmpfs", "/tmp", "true"]
        proc = subprocess.run(probe, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        return proc.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def python_dirs() -> list[Path]:
    """Folders the kernel needs to run this Python with its packages: prefixes and site-packages."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    dirs.add(os.path.dirname(sys.executable))
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        dirs.add(sysconfig.get_paths().get(name, ""))
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # some embedded Pythons
        pass
    out = []
    for d in dirs:
        if d and os.path.isdir(d):
            out.append(Path(d))
            real = Path(os.path.realpath(d))
            if real != Path(d):
                out.append(real)
    real_exe = Path(os.path.realpath(sys.executable)).parent
    if real_exe.is_dir():
        out.append(real_exe)
    return sorted(set(out))


def course_lib_dirs() -> list[Path]:
    """Where ``course_lib`` lives on disk (its package folder, and its repository when it is a checkout)."""
    import course_lib

    found = []
    for p in getattr(course_lib, "__path__", []):
        pkg = Path(os.path.realpath(p))
        found.append(pkg)
        root = pkg.parent
        if (root / "pyproject.toml").is_file() and (root / "book").is_dir():  # a clone of the course
            found.append(root)
    return found


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def bwrap_prefix(
    *,
    read_only: list[Path],
    writable: list[Path],
    hidden: list[Path],
    home: str = "/tmp/home",
) -> list[str]:
    """The ``bwrap ...`` words to put before a command (see the module docstring).

    ``read_only`` / ``writable``: folders shown at their own path (besides the system and Python);
    ``hidden``: paths that must not be visible, even when they lie inside a folder that is shown.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise RuntimeError("bubblewrap (bwrap) is not installed")
    candidates = [Path(d) for d in SYSTEM_DIRS if os.path.lexists(d)] + python_dirs()
    for d in list(candidates):  # /bin -> usr/bin: show the target too
        if d.is_symlink():
            candidates.append(Path(os.path.realpath(d)))
    shown = [d for d in sorted(set(candidates)) if d.is_dir() and not d.is_symlink()]
    shown = [d for d in shown if not any(s != d and _inside(d, s) for s in shown)]  # outermost only
    ops: list[tuple[int, int, list[str]]] = []  # (depth, order, words): parents are mounted before children
    for d in shown:
        ops.append((len(d.parts), 0, ["--ro-bind", str(d), str(d)]))
    for d in sorted(set(candidates)):
        if d.is_symlink() and not any(_inside(d, s) for s in shown):
            ops.append((len(d.parts), 0, ["--symlink", os.readlink(d), str(d)]))
    for d in read_only:
        ops.append((len(Path(d).parts), 0, ["--ro-bind", str(d), str(d)]))
    for d in writable:
        ops.append((len(Path(d).parts), 0, ["--bind", str(d), str(d)]))
    data = [Path(d) for d in [*read_only, *writable]]
    for h in hidden:
        h = Path(os.path.realpath(h))
        if not any(_inside(h, s) for s in shown) or any(_inside(d, h) for d in data) or h in shown:
            continue  # not visible anyway, or it holds our own folders, or it is a whole system folder
        if h.is_dir():
            ops.append((len(h.parts), 1, ["--tmpfs", str(h), "--remount-ro", str(h)]))
            # The Python installation inside a hidden folder (a venv in a clone that lies under /usr or /opt)
            # is shown again on top (deeper paths are mounted later).
            for c in sorted(set(candidates)):
                if c != h and _inside(c, h) and c.is_dir() and not c.is_symlink():
                    ops.append((len(c.parts), 0, ["--ro-bind", str(c), str(c)]))
        elif h.exists():
            ops.append((len(h.parts), 1, ["--ro-bind", "/dev/null", str(h)]))
    words = [
        bwrap,
        "--unshare-all",  # PID, network, IPC, UTS, cgroup (and user, where needed) namespaces
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        *(["--size", str(SHM_MB * 2**20)] if sized_tmpfs() else []),
        "--tmpfs",
        "/dev/shm",
        *(["--size", str(TMP_MB * 2**20)] if sized_tmpfs() else []),
        "--tmpfs",
        "/tmp",
    ]
    for _, _, w in sorted(ops, key=lambda o: (o[0], o[1])):
        words += w
    words += ["--dir", home, "--chdir", home, "--unsetenv", "JPY_PARENT_PID", "--setenv", "HOME", home]
    words += ["--remount-ro", "/dev", "--remount-ro", "/"]  # only the sized tmpfs and `writable` are writable
    return words


def hidden_paths(extra: list[str | Path] = ()) -> list[Path]:
    """Paths the kernel must not see: course_lib (and its checkout), the current folder, ``extra``, and
    those the grader passed to its worker through the environment variable :data:`HIDE_VAR`."""
    paths = [*course_lib_dirs(), Path.cwd()]
    paths += [Path(p) for p in os.environ.get(HIDE_VAR, "").split(os.pathsep) if p]
    paths += [Path(p) for p in extra]
    out = []
    for p in paths:
        try:
            out.append(Path(os.path.realpath(p)))
        except OSError:
            continue
    return sorted(set(out))


@functools.lru_cache(maxsize=1)
def sandbox_problem() -> str:
    """Why kernels cannot be sandboxed here ("" when they can): not Linux, no bwrap, or bwrap fails."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox (bubblewrap) needs Linux; this is {sys.platform}"
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    tmp = Path(tempfile.mkdtemp(prefix="course-grade-probe-"))
    try:
        cmd = bwrap_prefix(read_only=[], writable=[tmp], hidden=hidden_paths()) + [
            sys.executable,
            "-c",
            f"import numpy, ipykernel; open({str(tmp / 'probe.txt')!r}, 'w').write('ok')",
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bubblewrap could not start a sandbox ({type(exc).__name__}: {exc})"
        ok = (tmp / "probe.txt").is_file()
        if proc.returncode != 0 or not ok:
            last = (proc.stderr.strip().splitlines() or ["no message"])[-1][:300]
            return f"bubblewrap could not start a sandbox (exit code {proc.returncode}: {last})"
        return ""
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
