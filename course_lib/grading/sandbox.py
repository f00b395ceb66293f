"""Run a learner's exercise cells in a fresh Jupyter kernel and bring back plain arrays.

For one submission, :func:`run_exercises` writes, into a private temporary folder, one ``spec_<i>.json``
(the exercise key, the function name, the cell's source, the types of the inputs) and one ``inputs_<i>.npz``
(the hidden cases) per exercise. It starts a new ``python3`` kernel with nbclient, inside the bubblewrap
sandbox of :mod:`course_lib.grading.isolation` (the specs and inputs read-only, one writable folder for the
results, the kernel's sockets in another; ZeroMQ over Unix sockets since the sandbox has no network), and
executes:

1. a preamble (ours): ``import numpy as np``; learner output is swallowed; ``course_lib`` is made
   unimportable; the address-space limit (``RLIMIT_AS``) is set to the kernel's size at start plus
   ``memory_mb``; a ``SIGALRM`` timer implements the per-exercise time limit;
2. for each exercise, in notebook order, one cell that executes the learner's cell source (magics allowed)
   and then calls the function on every hidden case, saving what it returned to ``result_<i>.npz`` (arrays
   only) and ``result_<i>.json`` (statuses, error messages, warnings), both written atomically.

The kernel never sees the expected answers and the grader never unpickles anything: it reads the arrays
with ``np.load(..., allow_pickle=False)`` and the statuses with ``json``, validating both (and reading only
plain files of bounded size, without following links: the results folder is writable inside). If a cell
outlives its hard limit (the timer was dodged) or the kernel dies (``os._exit``, a kill, the OOM killer),
the kernel is replaced by a new one, the earlier exercise cells are defined again, and grading goes on
with the next exercise.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..exercises.framework import Case, Outcome

#: Seconds allowed on top of the per-exercise limits before a cell is considered hung and the kernel killed.
HARD_SLACK = 5.0
#: Seconds to start a kernel and run the preamble.
STARTUP_TIMEOUT = 60.0
#: Largest result file read back from a kernel.
MAX_RESULT_BYTES = 256 * 2**20

_STATUSES = {"returned", "bad_return", "not_attempted", "raised", "exited", "timeout", "memory", "missing"}

PREAMBLE = r"""
import json as _cg_json
import linecache as _cg_linecache
import os as _cg_os
import resource as _cg_resource
import signal as _cg_signal
import sys as _cg_sys
import warnings as _cg_warnings

import numpy as np

_CG = {"armed": False, "limit": %(limit)r, "memory": %(memory)r, "dir": %(dir)r, "out": %(out)r,
       "max_bytes": %(max_bytes)r}
_cg_load, _cg_savez, _cg_replace, _cg_errstate = np.load, np.savez, _cg_os.replace, np.errstate


class _CGTimeout(BaseException):
    pass


def _cg_on_alarm(signum, frame):
    if _CG["armed"]:
        raise _CGTimeout()


_cg_signal.signal(_cg_signal.SIGALRM, _cg_on_alarm)


class _CGSink:
    encoding = "utf-8"

    def write(self, s):
        return len(s)

    def writelines(self, lines):
        pass

    def flush(self):
        pass

    def isatty(self):
        return False


_cg_sys.stdout = _CGSink()
_cg_sys.stderr = _CGSink()


class _CGBlockCourseLib:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "course_lib" or name.startswith("course_lib."):
            raise ModuleNotFoundError(
                "course_lib is not available while grading: exercise functions may use NumPy only")
        return None


_cg_sys.meta_path.insert(0, _CGBlockCourseLib)
for _cg_m in [m for m in _cg_sys.modules if m == "course_lib" or m.startswith("course_lib.")]:
    del _cg_sys.modules[_cg_m]


def _cg_vmsize():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_cg_start = _cg_vmsize()
if _CG["memory"] and _cg_start:  # Linux; elsewhere (no /proc) the kernel runs without a memory limit
    _cg_lim = _cg_start + _CG["memory"]
    try:
        _cg_resource.setrlimit(_cg_resource.RLIMIT_AS, (_cg_lim, _cg_lim))
    except (ValueError, OSError):
        pass


def _cg_short(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _cg_phrase(value):
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return "a %%s of %%d item%%s" %% (type(value).__name__, len(value), "" if len(value) == 1 else "s")
    return "a %%s" %% type(value).__name__


def _cg_arrays(value, n_out):
    if n_out == 1:
        items = [value]
    elif isinstance(value, (tuple, list)) and len(value) == n_out:
        items = list(value)
    else:
        return None, "returned %%s; expected a tuple of %%d arrays" %% (_cg_phrase(value), n_out)
    arrays = []
    for j, item in enumerate(items):
        where = "" if n_out == 1 else " as item %%d" %% (j + 1)
        if item is None:
            hint = " (did you forget `return`?)" if n_out == 1 else ""
            return None, "returned None%%s%%s" %% (where, hint)
        try:
            arr = np.array(item, copy=True)
        except MemoryError:
            raise
        except Exception:
            return None, "returned %%s%%s that is not an array of numbers" %% (_cg_phrase(item), where)
        if arr.dtype.kind not in "biufc":
            return None, "returned %%s%%s that is not an array of numbers" %% (_cg_phrase(item), where)
        arrays.append(arr)
    return arrays, ""


def _cg_where(exc):
    import traceback
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith("<exercise cell") and f.line]
    return " (at: %%s)" %% _cg_short(frames[-1].line, 100) if frames else ""


def _cg_error(exc):
    if isinstance(exc, MemoryError):
        mb = _CG["memory"] // 2**20
        return "memory", "ran out of memory (limit: %%d MB): %%s" %% (mb, _cg_short(exc, 120))
    if isinstance(exc, SystemExit):
        return "exited", "called sys.exit()"
    if type(exc) is NotImplementedError:  # not subclasses (IPython's StdinNotImplementedError for input())
        return "not_attempted", ""
    return "raised", _cg_short("%%s: %%s" %% (type(exc).__name__, exc)) + _cg_where(exc)


def _cg_arm():
    _CG["armed"] = True
    _cg_signal.setitimer(_cg_signal.ITIMER_REAL, _CG["limit"], 0.05)


def _cg_disarm():
    _CG["armed"] = False
    _cg_signal.setitimer(_cg_signal.ITIMER_REAL, 0)


def _cg_spec(i):
    with open(_cg_os.path.join(_CG["dir"], "spec_%%d.json" %% i)) as f:
        return _cg_json.load(f)


def _cg_define(i):
    spec = _cg_spec(i)
    src = spec["source"]
    try:
        src = get_ipython().transform_cell(src)  # noqa: F821 - IPython kernel
    except Exception:
        pass
    status = ["timeout", "defining the function timed out after %%g s" %% _CG["limit"]]
    try:
        try:
            _cg_arm()
            with _cg_warnings.catch_warnings():
                _cg_warnings.simplefilter("ignore")
                fname = "<exercise cell %%s>" %% spec["key"]
                _cg_linecache.cache[fname] = (len(src), None, src.splitlines(True), fname)
                exec(compile(src, fname, "exec"), globals())
            status = ["ok", ""]
        except _CGTimeout:
            pass
        except BaseException as exc:
            kind, detail = _cg_error(exc)
            status = [kind if kind != "not_attempted" else "raised", "running the cell: " + detail]
        finally:
            _cg_disarm()
    except _CGTimeout:
        pass
    return status


def _cg_exercise(i):
    spec = _cg_spec(i)
    define = _cg_define(i)
    report = {"define": define, "cases": [], "course_lib": False}
    arrays = {}
    fn = globals().get(spec["func_name"])
    if define[0] == "ok" and not callable(fn):
        msg = "the exercise cell does not define a function `%%s`" %% spec["func_name"]
        report["define"] = ["missing", msg]
    if report["define"][0] == "ok":
        with _cg_load(_cg_os.path.join(_CG["dir"], "inputs_%%d.npz" %% i), allow_pickle=False) as z:
            inputs = []
            for k, kinds in enumerate(spec["cases"]):
                kw = {}
                for name, kind in kinds.items():
                    a = z["c%%d_%%s" %% (k, name)]
                    conv = {"array": lambda v: v, "float": float, "int": int, "bool": bool}[kind]
                    kw[name] = conv(a)
                inputs.append(kw)
        cases = report["cases"]
        total = 0
        try:
            try:
                _cg_arm()
                for k, kw in enumerate(inputs):
                    with _cg_warnings.catch_warnings(record=True) as caught, _cg_errstate(
                            over="warn", invalid="warn", divide="warn"):
                        _cg_warnings.simplefilter("always")
                        try:
                            value = fn(**kw)
                        except _CGTimeout:
                            raise
                        except BaseException as exc:
                            kind, detail = _cg_error(exc)
                            cases.append({"status": kind, "detail": detail, "warnings": [], "n": 0})
                            continue
                    msgs = list(dict.fromkeys(_cg_short(w.message, 120) for w in caught))
                    try:
                        out, problem = _cg_arrays(value, spec["n_out"])
                    except _CGTimeout:
                        raise
                    except BaseException as exc:  # MemoryError copying a huge result, a broken __len__...
                        kind, detail = _cg_error(exc)
                        kind = kind if kind in ("memory", "exited") else "raised"
                        cases.append({"status": kind, "detail": "converting the returned value: " + detail,
                                      "warnings": msgs, "n": 0})
                        continue
                    finally:
                        value = None
                    if out is not None and total + sum(a.nbytes for a in out) > _CG["max_bytes"]:
                        out, problem = None, "returned more data than the grader reads (%%d MB in all)" %% (
                            _CG["max_bytes"] // 2**20)
                    if out is None:
                        cases.append({"status": "bad_return", "detail": problem, "warnings": msgs, "n": 0})
                        continue
                    total += sum(a.nbytes for a in out)
                    for j, a in enumerate(out):
                        arrays["c%%d_o%%d" %% (k, j)] = a
                    cases.append({"status": "returned", "detail": "", "warnings": msgs, "n": len(out)})
            finally:
                _cg_disarm()
        except _CGTimeout:
            pass
    report["course_lib"] = any(m == "course_lib" or m.startswith("course_lib.") for m in _cg_sys.modules)
    base = _cg_os.path.join(_CG["out"], "result_%%d" %% i)
    _cg_savez(base + ".tmp.npz", **arrays)
    _cg_replace(base + ".tmp.npz", base + ".npz")
    with open(base + ".tmp.json", "w") as f:
        _cg_json.dump(report, f)
    _cg_replace(base + ".tmp.json", base + ".json")
"""


@dataclass
class ExerciseRun:
    """What the kernel reported for one exercise: the cell's fate and one Outcome per case."""

    outcomes: list[Outcome]
    define_status: str = "ok"
    define_detail: str = ""
    course_lib_loaded: bool = False


def _input_kind(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return "array"
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    raise TypeError(f"case inputs must be arrays, floats or ints, got {type(value).__name__}")


def _write_exercise(
    folder: Path, i: int, key: str, func_name: str, source: str, n_out: int, cases: list[Case]
) -> None:
    arrays = {}
    kinds = []
    for k, case in enumerate(cases):
        kinds.append({name: _input_kind(v) for name, v in case.inputs.items()})
        for name, v in case.inputs.items():
            arrays[f"c{k}_{name}"] = np.asarray(v)
    np.savez(folder / f"inputs_{i}.npz", **arrays)
    spec = {"key": key, "func_name": func_name, "source": source, "n_out": n_out, "cases": kinds}
    (folder / f"spec_{i}.json").write_text(json.dumps(spec))


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else None.

    The folder is writable from the kernel: a symbolic link (to a file of the grader's), a FIFO (which would
    block the reader) or an endless device is refused without being followed or opened for long.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def _read_result(
    folder: Path, i: int, n_cases: int, n_out: int, time_limit: float = 10.0
) -> ExerciseRun | None:
    """Validate and load what the kernel wrote for exercise ``i``; None if missing or malformed."""
    try:
        jdata = _read_regular(folder / f"result_{i}.json", 2**20)
        ndata = _read_regular(folder / f"result_{i}.npz", MAX_RESULT_BYTES + 2**20)
        if jdata is None or ndata is None:
            return None
        report = json.loads(jdata.decode("utf-8"))
        define = report["define"]
        if not (isinstance(define, list) and len(define) == 2 and all(isinstance(x, str) for x in define)):
            return None
        run = ExerciseRun([], define[0], define[1][:400], bool(report.get("course_lib", False)))
        if define[0] != "ok":
            return run
        cases = report["cases"]
        if not isinstance(cases, list):
            return None
        with zipfile.ZipFile(io.BytesIO(ndata)) as zf:
            if sum(info.file_size for info in zf.infolist()) > MAX_RESULT_BYTES:
                return ExerciseRun(
                    [],
                    "raised",
                    f"the function returned more data than the grader reads ({MAX_RESULT_BYTES // 2**20} MB)",
                )
        with np.load(io.BytesIO(ndata), allow_pickle=False) as z:
            for k, c in enumerate(cases[:n_cases]):
                status = c.get("status") if isinstance(c, dict) else None
                if status not in _STATUSES:
                    return None
                detail = str(c.get("detail", ""))[:400]
                warns = tuple(str(w)[:200] for w in c.get("warnings", [])[:10] if isinstance(w, str))
                if status == "returned":
                    values = [np.array(z[f"c{k}_o{j}"]) for j in range(n_out)]
                    if any(v.dtype.kind not in "biufc" for v in values):  # the kernel only saves numbers
                        return None
                    run.outcomes.append(Outcome("returned", values=values, warnings=warns))
                else:
                    run.outcomes.append(Outcome(status, detail=detail, warnings=warns))
        if len(run.outcomes) < n_cases:  # the timer stopped the loop
            msg = f"timed out after {time_limit:g} s (an endless loop, or far too slow?)"
            run.outcomes += [Outcome("timeout", detail=msg) for _ in range(n_cases - len(run.outcomes))]
        return run
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile, EOFError):
        return None


def _kernel_env(home: Path | str) -> dict[str, str]:
    """The kernel's environment: the grader's, with one thread per library and a private home."""
    env = dict(os.environ)
    env.update(
        {
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "COURSE_LIB_PROGRESS": "0",
            "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg",
            "HOME": str(home),
            "IPYTHONDIR": str(Path(home) / ".ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "JUPYTER_RUNTIME_DIR": str(Path(home) / ".jupyter-runtime"),
        }
    )
    return env


def _sandbox_env(home: str) -> dict[str, str]:
    """A small environment for a sandboxed kernel: nothing of the grader's but what Python needs, and the
    worker's clean-up tag (``COURSE_GRADE_TAG``)."""
    keep = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "COURSE_GRADE_TAG", "SYSTEMROOT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    full = _kernel_env(home)
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "COURSE_LIB_PROGRESS",
              "PYTHONHASHSEED", "MPLBACKEND", "HOME", "IPYTHONDIR", "JUPYTER_PLATFORM_DIRS",
              "JUPYTER_RUNTIME_DIR"):
        env[k] = full[k]
    env["TMPDIR"] = "/tmp"
    return env


def _sandboxed_manager(folders: dict[str, Path], hidden: list[Path], n: int):
    """A jupyter_client kernel manager that starts ``python -m ipykernel_launcher`` inside bubblewrap.

    The kernel and the worker talk over ZeroMQ's ``ipc`` transport (Unix sockets in ``folders["sock"]``),
    since the sandbox has no network; the connection file is written to ``folders["conn"]``, read-only
    inside.
    """
    from jupyter_client.manager import AsyncKernelManager

    from .isolation import bwrap_prefix

    prefix = bwrap_prefix(
        read_only=[folders["in"], folders["conn"]],
        writable=[folders["out"], folders["sock"]],
        hidden=hidden,
    )

    class SandboxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):  # noqa: D102
            cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
            return [*prefix, *cmd, *(extra_arguments or [])]

    return SandboxedKernelManager(
        kernel_name="python3",
        transport="ipc",
        ip=str(folders["sock"] / "k"),
        connection_file=str(folders["conn"] / f"kernel-{n}.json"),
    )


def _make_client(cells: list[str], cwd: Path, km=None):
    import nbformat
    from nbclient import NotebookClient

    class _QuietClient(NotebookClient):
        """Keeps only error outputs, truncated: a learner printing megabytes costs nothing here."""

        def output(self, outs, msg, display_id, cell_index):  # noqa: D102
            if msg.get("msg_type") == "error" and not outs:
                content = msg.get("content", {})
                outs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename=str(content.get("ename", ""))[:100],
                        evalue=str(content.get("evalue", ""))[:300],
                        traceback=[],
                    )
                )
            return None

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    return _QuietClient(
        nb,
        km=km,
        timeout=int(STARTUP_TIMEOUT),
        kernel_name="python3",
        allow_errors=True,
        shutdown_kernel="immediate",
        startup_timeout=int(STARTUP_TIMEOUT),
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,
    )


def run_exercises(
    items: list[tuple[str, str, str, int, list[Case]]],
    time_limit: float = 10.0,
    memory_mb: int = 1024,
    sandbox: bool = True,
    hidden: list[Path] | None = None,
) -> list[ExerciseRun]:
    """Run each ``(key, func_name, cell_source, n_out, cases)`` in a fresh kernel; one ExerciseRun each.

    ``time_limit``: seconds for defining the cell, and again for all the cases of the exercise.
    ``memory_mb``: extra address space the kernel may take beyond its size at start (0: no limit).
    ``sandbox``: run the kernel inside bubblewrap (:mod:`course_lib.grading.isolation`); ``hidden``: paths
    it must not see besides those :func:`~course_lib.grading.isolation.hidden_paths` lists. Without the
    sandbox the kernel runs as the grader's user (``--no-sandbox``).
    """
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if not items:
        return []
    tmp = Path(tempfile.mkdtemp(prefix="course-grade-"))
    folders = {name: tmp / name for name in ("in", "out", "conn", "sock", "home")}
    for folder in folders.values():
        folder.mkdir(mode=0o700)
    if sandbox:
        from .isolation import hidden_paths

        hide = hidden_paths(hidden or [])
        home: Path | str = "/tmp/home"
        env = _sandbox_env(str(home))
        cwd = folders["out"]
    else:
        home = folders["home"]
        env = _kernel_env(home)
        cwd = folders["home"]
    runs: dict[int, ExerciseRun] = {}
    try:
        for i, (key, func_name, source, n_out, cases) in enumerate(items):
            _write_exercise(folders["in"], i, key, func_name, source, n_out, cases)
        preamble = PREAMBLE % {
            "limit": float(time_limit),
            "memory": int(memory_mb) * 2**20,
            "dir": str(folders["in"]),
            "out": str(folders["out"]),
            "max_bytes": MAX_RESULT_BYTES,
        }
        pending = list(range(len(items)))
        defined: list[int] = []
        hard = int(2 * time_limit + HARD_SLACK)
        n_kernels = 0
        while pending:
            cells = (
                [preamble] + [f"_cg_define({j})" for j in defined] + [f"_cg_exercise({i})" for i in pending]
            )
            n_kernels += 1
            km = _sandboxed_manager(folders, hide, n_kernels) if sandbox else None
            client = _make_client(cells, cwd, km)
            client.owns_km = True  # shut the kernel down when done, even with our own manager
            index = 0
            current: int | None = None
            try:
                with client.setup_kernel(
                    env=env, cwd=str(cwd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                ):
                    client.timeout = int(STARTUP_TIMEOUT)
                    client.execute_cell(client.nb.cells[0], 0)
                    if client.nb.cells[0].outputs:
                        err = client.nb.cells[0].outputs[0]
                        raise RuntimeError(
                            f"the grader's preamble failed: {err.get('ename')}: {err.get('evalue')}"
                        )
                    index = 1
                    client.timeout = hard
                    for _ in defined:
                        client.execute_cell(client.nb.cells[index], index)
                        index += 1
                    for i in list(pending):
                        current = i
                        client.execute_cell(client.nb.cells[index], index)
                        index += 1
                        pending.remove(i)
                        run = _read_result(folders["out"], i, len(items[i][4]), items[i][3], time_limit)
                        if run is None:
                            outs = client.nb.cells[index - 1].outputs
                            why = f" ({outs[0].get('ename')}: {outs[0].get('evalue')})" if outs else ""
                            run = ExerciseRun(
                                [],
                                "crashed",
                                "the grader's runner could not report on this "
                                f"exercise{why}; did the cell tamper with Python itself?",
                            )
                        runs[i] = run
                        if run.define_status == "ok":
                            defined.append(i)
                        current = None
            except CellTimeoutError:
                if current is None:  # redefining an earlier cell hung: give up on the rest
                    break
                pending.remove(current)
                runs[current] = ExerciseRun(
                    [],
                    "timeout",
                    # Same text as a timeout the kernel survived: where the timer struck is luck.
                    f"timed out after {time_limit:g} s (an endless loop, or far too slow?)",
                )
            except DeadKernelError:
                if current is None:
                    break
                pending.remove(current)
                runs[current] = ExerciseRun(
                    [],
                    "crashed",
                    "the kernel died while running this exercise "
                    "(os._exit, killing the process, or running out of memory)",
                )
            except RuntimeError as exc:
                if "Kernel died" in str(exc) and current is not None:
                    pending.remove(current)
                    runs[current] = ExerciseRun([], "crashed", "the kernel died while running this exercise")
                    continue
                raise
        for i in pending:  # only after a failure while re-defining earlier cells
            runs[i] = ExerciseRun(
                [],
                "crashed",
                "not run: the kernel could not be restored after an earlier exercise crashed it",
            )
        return [runs[i] for i in range(len(items))]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
