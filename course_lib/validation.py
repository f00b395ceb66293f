"""Input checks shared by every numerical module of ``course_lib``.

A wrong shape deep inside a matrix product gives an error message about ``matmul`` operands that says
nothing about *which* argument is wrong. These helpers check arguments at the door and raise an error that
names the argument, what was received and what was expected::

    >>> as_float_array("X", np.ones((2, 3), dtype=int), ndim=3)
    TypeError: X must be a floating-point array (float32 or float64); got dtype int64. ...

Integer input is refused on purpose (``TypeError``): an integer array silently turns ``X @ W`` into integer
arithmetic in some code paths and hides a missing ``.astype(float)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

__all__ = ["as_float_array", "check_shape", "check_keys", "format_shape"]


def format_shape(shape: Sequence[int | None]) -> str:
    """Format a shape tuple like NumPy does, writing ``*`` for a ``None`` ("any size") entry.

    >>> format_shape((None, 4))
    '(*, 4)'
    """
    parts = ["*" if s is None else str(int(s)) for s in shape]
    if len(parts) == 1:
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"


def as_float_array(name: str, x, ndim: int | None = None, what: str | None = None) -> np.ndarray:
    """Return ``x`` as a floating-point NumPy array, or raise an error naming ``name``.

    Parameters
    ----------
    name : str
        The argument's name as the caller knows it (``"X"``, ``"H_0"``, ``"params['W_xh']"``).
    x : array_like
        A NumPy array, a (nested) list of floats or a Python float. float16/32/64 arrays keep their dtype.
    ndim : int, optional
        Required number of dimensions.
    what : str, optional
        The expected layout in words, used in the message, e.g. ``"(n, T, d)"``.

    Returns
    -------
    numpy.ndarray
        ``x`` itself when it already is a floating-point array (no copy).

    Raises
    ------
    TypeError
        ``x`` is ``None``, not numeric, or of integer/boolean/complex dtype.
    ValueError
        ``x`` does not have ``ndim`` dimensions.
    """
    if x is None:
        raise TypeError(f"{name} must be a floating-point array{_layout(what)}; got None.")
    if hasattr(x, "detach") and hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array; got a {type(x).__name__} (a torch tensor?). "
            f"Convert it first with .detach().numpy()."
        )
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a floating-point array; could not convert it ({exc}).") from exc
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"{name} must be a floating-point array (float32 or float64); got dtype {arr.dtype}. "
            f"Convert it first, e.g. {name}.astype(np.float64)."
        )
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must have {ndim} dimension{'s' if ndim != 1 else ''}{_layout(what)}; "
            f"got {arr.ndim} dimension{'s' if arr.ndim != 1 else ''} with shape {format_shape(arr.shape)}."
        )
    return arr


def check_shape(name: str, x, expected: Sequence[int | None], what: str | None = None) -> None:
    """Raise ``ValueError`` unless ``x.shape`` matches ``expected``.

    Parameters
    ----------
    name : str
        The argument's name, used in the message.
    x : numpy.ndarray
        The array to check (anything with a ``.shape``).
    expected : tuple of int or None
        The expected shape; ``None`` accepts any size on that axis.
    what : str, optional
        The expected layout in symbols, e.g. ``"(n, h)"``, appended to the message.

    Example message: ``H_0 has shape (3, 5); expected (2, 4) = (n, h).``
    """
    shape = tuple(np.shape(x))
    expected = tuple(expected)
    ok = len(shape) == len(expected) and all(e is None or int(e) == s for s, e in zip(shape, expected))
    if not ok:
        layout = f" = {what}" if what else ""
        raise ValueError(
            f"{name} has shape {format_shape(shape)}; expected {format_shape(expected)}{layout}"
            f"{' (* = any size)' if None in expected else ''}."
        )


def check_keys(name: str, mapping, required: Iterable[str], hint: str = "") -> None:
    """Raise unless ``mapping`` is a dict holding exactly the keys ``required``.

    Parameters
    ----------
    name : str
        The argument's name (usually ``"params"``).
    mapping : dict
        The parameters dictionary to check.
    required : iterable of str
        Keys that must be present; any other key is reported as unexpected.
    hint : str, optional
        A sentence appended to the message (e.g. which configuration needs these keys).

    Raises
    ------
    TypeError
        ``mapping`` is not a dict-like ``Mapping``.
    ValueError
        Keys are missing or unexpected keys are present.
    """
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{name} must be a dict of NumPy arrays; got {type(mapping).__name__}.")
    required = list(required)
    missing = [k for k in required if k not in mapping]
    extra = sorted(k for k in mapping if k not in required)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"is missing key{'s' if len(missing) > 1 else ''} {missing}")
        if extra:
            parts.append(f"has unexpected key{'s' if len(extra) > 1 else ''} {extra}")
        raise ValueError(
            f"{name} {' and '.join(parts)}; expected exactly the keys {required}."
            + (f" {hint}" if hint else "")
        )


def _layout(what: str | None) -> str:
    return f" {what}" if what else ""


# Checks shared by the cells (rnn, lstm, gru, torch_cells).
def positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise TypeError(f"{name} must be a positive int; got {type(v).__name__} {v!r}.")
    if v < 1:
        raise ValueError(f"{name} must be a positive int; got {v}.")
    return int(v)


def check_sequence(X, d, name="X"):
    """Validate a ``(n, T, d)`` sequence, n >= 1 and T >= 1 (``d=None``: any d); return it as floats."""
    X = as_float_array(name, X, ndim=3, what="(n, T, d)")
    check_shape(name, X, (None, None, d), what="(n, T, d)")
    if X.shape[1] == 0:
        raise ValueError(
            f"{name} has shape {X.shape}: an empty sequence (T = 0); expected at least one time step."
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} has shape {X.shape}: an empty batch (n = 0); expected n >= 1.")
    return X


def state_or_zeros(name, S, n, h, dtype):
    """Validate a (n, h) state, or make zeros when S is None."""
    if S is None:
        return np.zeros((n, h), dtype=dtype)
    S = as_float_array(name, S, ndim=2, what="(n, h)")
    check_shape(name, S, (n, h), what="(n, h)")
    return S


def check_cache(cache, keys, producer):
    """TypeError unless ``cache`` is a dict holding ``keys`` (i.e. the cache ``producer`` returned)."""
    if not isinstance(cache, dict) or any(k not in cache for k in keys):
        got = f"a dict with keys {sorted(cache)}" if isinstance(cache, dict) else type(cache).__name__
        raise TypeError(f"cache must be the dict returned by {producer}; got {got}.")


def upstream_or_zeros(name, G, shape, dtype):
    """Validate an upstream gradient of the given shape, or zeros when G is None."""
    if G is None:
        return np.zeros(shape, dtype=dtype)
    G = as_float_array(name, G)
    check_shape(name, G, shape)  # also catches a wrong rank, with the full expected shape in the message
    return G
