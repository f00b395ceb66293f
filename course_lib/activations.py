"""Activation functions of recurrent cells and their derivatives.

Every function works elementwise on a NumPy array ``x`` of any shape and returns an array of the same shape
and dtype. The derivative ``d_f(x)`` is taken with respect to the *input* ``x`` (the pre-activation), so a
backward pass multiplies the upstream gradient by ``d_f(A)`` where ``A`` is the pre-activation it cached.

======================  ===========================  ============================  =======
name                    f(x)                         f'(x)                         range
======================  ===========================  ============================  =======
``sigmoid``             1 / (1 + exp(-x))            σ(x) (1 − σ(x))               (0, 1)
``tanh``                tanh(x)                      1 − tanh(x)²                  (−1, 1)
``relu``                max(0, x)                    1 if x > 0 else 0             [0, ∞)
``hard_sigmoid_keras``  clip(0.2 x + 0.5, 0, 1)      0.2 if −2.5 < x < 2.5 else 0  [0, 1]
``hard_sigmoid_torch``  relu6(x + 3) / 6             1/6 if −3 < x < 3 else 0      [0, 1]
``bipolar_sigmoid``     2 σ(x) − 1  (= tanh(x / 2))  2 σ(x) (1 − σ(x))             (−1, 1)
``linear``              x                            1                             ℝ
======================  ===========================  ============================  =======

Two published "hard sigmoids" exist and they differ: Keras ≤ 2 (``keras.activations.hard_sigmoid`` in
Keras 2 / ``tf.keras``) uses slope 0.2, saturating at ±2.5; PyTorch's ``nn.Hardsigmoid`` and Keras 3 use
``relu6(x + 3) / 6``, slope 1/6, saturating at ±3. At a kink the derivative is taken as 0 (the convention of
``torch.nn.functional.hardsigmoid``); a kink is hit with probability 0 by continuous inputs. (PyTorch
2.x's backward of ``hardsigmoid`` multiplies by 1/6 rounded to float32 even for float64 tensors:
0.1666666716…, a relative error of 3e-8 — visible when comparing float64 gradients at 1e-8.)

Three more squashers appear in the literature and in the activations chapter (book/05_activations.ipynb);
they are plain functions here, not entries of :data:`ACTIVATIONS` (so ``LSTMConfig`` and the torch layers do
not offer them):

==========================  ===========================  ============================  =======
``lstm1997_g``              4 σ(x) − 2                   4 σ(x) (1 − σ(x))             (−2, 2)
``lstm1997_h``              2 σ(x) − 1                   2 σ(x) (1 − σ(x))             (−1, 1)
``hard_sigmoid_gulcehre``   clip(0.25 x + 0.5, 0, 1)     0.25 if −2 < x < 2 else 0     [0, 1]
==========================  ===========================  ============================  =======

``lstm1997_g`` and ``lstm1997_h`` are the cell-input and cell-output squashing functions of the original LSTM
(Hochreiter & Schmidhuber 1997, appendix A.1, equations 3 to 5; ``lstm1997_h`` is the same function as
``bipolar_sigmoid``).
``hard_sigmoid_gulcehre`` is the hard sigmoid of Gulcehre et al. (2016): σ's first-order Taylor expansion at
0, clipped to [0, 1]. :data:`ZERO_GRADIENT_REGIONS` lists where each piecewise-linear function has
derivative 0.

``sigmoid`` is computed without overflow: for x < 0 it uses exp(x) / (1 + exp(x)), so ``sigmoid(-1000.0)``
is ``0.0`` with no ``RuntimeWarning``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "get_activation",
    "sigmoid",
    "d_sigmoid",
    "tanh",
    "d_tanh",
    "relu",
    "d_relu",
    "hard_sigmoid_keras",
    "d_hard_sigmoid_keras",
    "hard_sigmoid_torch",
    "d_hard_sigmoid_torch",
    "bipolar_sigmoid",
    "d_bipolar_sigmoid",
    "linear",
    "d_linear",
    "lstm1997_g",
    "d_lstm1997_g",
    "lstm1997_h",
    "d_lstm1997_h",
    "hard_sigmoid_gulcehre",
    "d_hard_sigmoid_gulcehre",
    "ZERO_GRADIENT_REGIONS",
]


def _float(x) -> np.ndarray:
    """``x`` as an array; non-float input (ints, bools) becomes float64 so results are never truncated."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def sigmoid(x):
    """Logistic sigmoid σ(x) = 1 / (1 + exp(−x)), stable for any |x|.

    Only exp(−|x|) ≤ 1 is ever evaluated, so no overflow for large |x|.
    x: array of any shape (float). Returns an array of the same shape, values in (0, 1) (exactly 0 or 1
    only when the result rounds there).
    """
    x = _float(x)
    with np.errstate(under="ignore"):  # exp(-1000) = 0.0 is the right answer, not an error
        e = np.exp(-np.abs(x))  # in [0, 1]
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def d_sigmoid(x):
    """Derivative of :func:`sigmoid` with respect to x: σ(x) (1 − σ(x)). Same shape as x."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    """Hyperbolic tangent (NumPy's, which is already stable). Same shape as x, values in (−1, 1)."""
    return np.tanh(x)


def d_tanh(x):
    """Derivative of :func:`tanh`: 1 − tanh(x)². Same shape as x."""
    t = np.tanh(x)
    return 1.0 - t * t


def relu(x):
    """Rectified linear unit max(0, x). Same shape as x."""
    x = _float(x)
    return np.maximum(x, 0.0).astype(x.dtype, copy=False)


def d_relu(x):
    """Derivative of :func:`relu`: 1 where x > 0, else 0 (0 at x = 0, as in PyTorch). Same shape as x."""
    x = _float(x)
    return (x > 0).astype(x.dtype)


def hard_sigmoid_keras(x):
    """Keras ≤ 2 hard sigmoid: clip(0.2 x + 0.5, 0, 1). Same shape as x, values in [0, 1]."""
    x = _float(x)
    return np.clip(0.2 * x + 0.5, 0.0, 1.0).astype(x.dtype, copy=False)


def d_hard_sigmoid_keras(x):
    """Derivative of :func:`hard_sigmoid_keras`: 0.2 on (−2.5, 2.5), 0 outside. Same shape as x."""
    x = _float(x)
    return np.where((x > -2.5) & (x < 2.5), 0.2, 0.0).astype(x.dtype)


def hard_sigmoid_torch(x):
    """PyTorch ``nn.Hardsigmoid`` / Keras 3 hard sigmoid: relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1)."""
    x = _float(x)
    return (np.clip(x + 3.0, 0.0, 6.0) / 6.0).astype(x.dtype, copy=False)


def d_hard_sigmoid_torch(x):
    """Derivative of :func:`hard_sigmoid_torch`: 1/6 on (−3, 3), 0 outside. Same shape as x."""
    x = _float(x)
    return np.where((x > -3.0) & (x < 3.0), 1.0 / 6.0, 0.0).astype(x.dtype)


def bipolar_sigmoid(x):
    """Bipolar sigmoid 2σ(x) − 1, a sigmoid rescaled to (−1, 1); equal to tanh(x / 2). Same shape as x."""
    return 2.0 * sigmoid(x) - 1.0


def d_bipolar_sigmoid(x):
    """Derivative of :func:`bipolar_sigmoid`: 2 σ(x) (1 − σ(x)). Same shape as x."""
    return 2.0 * d_sigmoid(x)


def linear(x):
    """Identity f(x) = x (no activation). Returns x as an array."""
    return _float(x)


def d_linear(x):
    """Derivative of :func:`linear`: ones with the shape and dtype of x."""
    return np.ones_like(_float(x))


def lstm1997_g(x):
    """Cell-input squashing of the 1997 LSTM: g(x) = 4σ(x) − 2, values in (−2, 2). Same shape as x."""
    return 4.0 * sigmoid(x) - 2.0


def d_lstm1997_g(x):
    """Derivative of :func:`lstm1997_g`: 4 σ(x) (1 − σ(x)), at most 1 (at x = 0). Same shape as x."""
    return 4.0 * d_sigmoid(x)


def lstm1997_h(x):
    """Cell-output squashing of the 1997 LSTM: h(x) = 2σ(x) − 1 (= tanh(x / 2)), values in (−1, 1)."""
    return 2.0 * sigmoid(x) - 1.0


def d_lstm1997_h(x):
    """Derivative of :func:`lstm1997_h`: 2 σ(x) (1 − σ(x)), at most 0.5 (at x = 0). Same shape as x."""
    return 2.0 * d_sigmoid(x)


def hard_sigmoid_gulcehre(x):
    """Hard sigmoid of Gulcehre et al. (2016): clip(0.25 x + 0.5, 0, 1), slope σ'(0) = 0.25 (shape of x)."""
    x = _float(x)
    return np.clip(0.25 * x + 0.5, 0.0, 1.0).astype(x.dtype, copy=False)


def d_hard_sigmoid_gulcehre(x):
    """Derivative of :func:`hard_sigmoid_gulcehre`: 0.25 on (−2, 2), 0 outside (0 at the kinks)."""
    x = _float(x)
    return np.where((x > -2.0) & (x < 2.0), 0.25, 0.0).astype(x.dtype)


#: Where a piecewise-linear activation has derivative exactly 0: ``(below, above)``, i.e. the derivative is
#: 0 for ``x <= below`` and for ``x >= above`` (``None``: nowhere on that side). Smooth functions (sigmoid,
#: tanh, the 1997 squashers) have a derivative that is small but never 0 for finite x.
ZERO_GRADIENT_REGIONS: dict[str, tuple[float | None, float | None]] = {
    "hard_sigmoid_keras": (-2.5, 2.5),
    "hard_sigmoid_torch": (-3.0, 3.0),
    "hard_sigmoid_gulcehre": (-2.0, 2.0),
    "relu": (0.0, None),
}


class Activation(NamedTuple):
    """An activation function together with its derivative.

    Attributes: ``name`` (str), ``f`` (x -> f(x)), ``df`` (x -> f'(x), derivative w.r.t. the input x).
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    df: Callable[[np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, d_sigmoid),
    "tanh": Activation("tanh", tanh, d_tanh),
    "relu": Activation("relu", relu, d_relu),
    "hard_sigmoid_keras": Activation("hard_sigmoid_keras", hard_sigmoid_keras, d_hard_sigmoid_keras),
    "hard_sigmoid_torch": Activation("hard_sigmoid_torch", hard_sigmoid_torch, d_hard_sigmoid_torch),
    "bipolar_sigmoid": Activation("bipolar_sigmoid", bipolar_sigmoid, d_bipolar_sigmoid),
    "linear": Activation("linear", linear, d_linear),
}


def get_activation(name: str | Activation) -> Activation:
    """Look up an activation by name; an :class:`Activation` is returned unchanged.

    name: one of ``"sigmoid", "tanh", "relu", "hard_sigmoid_keras", "hard_sigmoid_torch",
    "bipolar_sigmoid", "linear"``.
    Raises ``TypeError`` for a non-string, ``ValueError`` for an unknown name (listing the known ones).
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str) such as 'tanh'; got {type(name).__name__}.")
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}.") from None
