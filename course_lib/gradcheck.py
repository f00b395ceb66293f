"""Finite-difference gradient checks: the independent witness for every hand-written backward pass.

A central difference ``(f(a + ε) − f(a − ε)) / 2ε`` approximates ∂f/∂a with an error of order ε², so in
float64 with ε = 1e-6 it agrees with a correct analytic gradient to about 1e-8 relative error, and
disagrees visibly with a wrong one (CS231n's ``eval_numerical_gradient`` is the same idea).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np


def numerical_gradient(f: Callable[[], float], A: np.ndarray, index=None, eps: float = 1e-6):
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``A``.

    ``f`` takes no arguments and reads ``A`` (which is changed in place, entry by entry, and restored).

    Args:
        f: a function returning a float that depends on the current contents of ``A``.
        A: float64 array, any shape.
        index: one index tuple: return only ∂f/∂A[index] (a float); ``None``: the whole gradient, shape
            of ``A``.
        eps: the step ε.
    """
    if not isinstance(A, np.ndarray) or A.dtype != np.float64:
        got = A.dtype if isinstance(A, np.ndarray) else type(A).__name__
        raise TypeError(f"A must be a float64 ndarray (finite differences need the precision); got {got}")
    indices = [index] if index is not None else list(np.ndindex(A.shape))
    grad = np.zeros(len(indices))
    for k, i in enumerate(indices):
        old = A[i]
        A[i] = old + eps
        up = f()
        A[i] = old - eps
        down = f()
        A[i] = old
        grad[k] = (up - down) / (2 * eps)
    return float(grad[0]) if index is not None else grad.reshape(A.shape)


def assert_gradients_match(
    f: Callable[[], float],
    arrays: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    rng: np.random.Generator | None = None,
    n_coords: int | None = None,
    eps: float = 1e-6,
    tol: float = 1e-6,
) -> None:
    """Assert that ``grads[name]`` equals the finite-difference gradient of ``f()`` for every array.

    Args:
        f: scalar function of the current contents of the arrays.
        arrays: ``name -> array`` the gradients are taken with respect to (changed in place, restored).
        grads: ``name -> analytic gradient``, same shapes.
        rng, n_coords: check ``n_coords`` random entries of each array (drawn with ``rng``);
            ``n_coords=None`` checks every entry.
        tol: allowed ``|numeric − analytic| / max(1, |numeric|)``.
    """
    for name, A in arrays.items():
        if grads[name].shape != A.shape:
            raise ValueError(f"grads[{name!r}] has shape {grads[name].shape}; expected {A.shape}")
        if n_coords is None:
            numeric = numerical_gradient(f, A, eps=eps)
            error = np.abs(numeric - grads[name]) / np.maximum(1.0, np.abs(numeric))
            assert error.max() <= tol, f"{name}: max relative error {error.max():.2e} > {tol:.0e}"
            continue
        rng = rng if rng is not None else np.random.default_rng(0)
        for _ in range(n_coords):
            idx = tuple(int(rng.integers(s)) for s in A.shape)
            numeric = numerical_gradient(f, A, index=idx, eps=eps)
            error = abs(numeric - grads[name][idx]) / max(1.0, abs(numeric))
            analytic = grads[name][idx]
            assert error <= tol, f"{name}{list(idx)}: numeric {numeric:.8g} vs analytic {analytic:.8g}"
