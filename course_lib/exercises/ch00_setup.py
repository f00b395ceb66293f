"""Warm-up exercises of the setup page (book/00_setup_check.ipynb): two activation functions.

``setup.sigmoid``: a logistic sigmoid that never overflows (NumPy must not warn for x = ±1000).
``setup.hard_sigmoid``: PyTorch's hard sigmoid, ``relu6(x + 3) / 6``, not Keras 2's
``clip(0.2 x + 0.5, 0, 1)``.
"""

from __future__ import annotations

import numpy as np

from .framework import Case, Exercise, register


# ------------------------------------------------------------------------------------------- setup.sigmoid
def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), elementwise, without overflow.

    x: array of any shape (float64) -> array of the same shape, values in [0, 1].
    """
    e = np.exp(-np.abs(x))  # never overflows: -|x| <= 0
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_naive(x):
    return 1.0 / (1.0 + np.exp(-x))


def _sigmoid_exp_ratio(x):
    return np.exp(x) / (1.0 + np.exp(x))


def _sigmoid_where_both_branches(x):
    return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))


def _sigmoid_tanh(x):
    return np.tanh(x)


def _sigmoid_sign(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, e / (1.0 + e), 1.0 / (1.0 + e))


def _sigmoid_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case({"x": np.array(0.0)}, "x = 0 (a 0-d array)"),
        Case({"x": rng.uniform(-4.0, 4.0, size=7)}, "moderate values, |x| < 4"),
        Case({"x": -rng.uniform(800.0, 1000.0, size=5)}, "large negative values, x < -800"),
        Case({"x": rng.uniform(800.0, 1000.0, size=5)}, "large positive values, x > 800"),
        Case({"x": rng.normal(scale=3.0, size=(3, 4))}, "a (3, 4) batch of mixed signs"),
    ]


register(
    Exercise(
        key="setup.sigmoid",
        title="A sigmoid that never overflows",
        func_name="sigmoid",
        reference=sigmoid,
        make_cases=_sigmoid_cases,
        wrong={
            "1 / (1 + np.exp(-x)) overflows for large negative x: np.exp(-x) is inf and NumPy warns. "
            "Compute exp(-|x|) instead, which never overflows.": _sigmoid_naive,
            "np.exp(x) / (1 + np.exp(x)) is inf / inf = NaN for large positive x. "
            "Compute exp(-|x|) instead, which never overflows.": _sigmoid_exp_ratio,
            "np.where(cond, a, b) evaluates both a and b on every entry, so the branch you throw away still "
            "overflows and NumPy warns. Compute e = exp(-|x|) once and build both branches from it.": (
                _sigmoid_where_both_branches
            ),
            "You computed tanh(x) (range -1..1); the sigmoid is 1 / (1 + exp(-x)) (range 0..1).": (
                _sigmoid_tanh
            ),
            "Sign error: you computed sigmoid(-x) = 1 / (1 + exp(x)).": _sigmoid_sign,
        },
        atol=1e-12,
        rtol=1e-10,
        fail_on_warning=True,
    )
)


# -------------------------------------------------------------------------------------- setup.hard_sigmoid
def hard_sigmoid(x):
    """PyTorch's hard sigmoid (torch.nn.Hardsigmoid): relu6(x + 3) / 6 = clip(x / 6 + 1/2, 0, 1).

    x: array of any shape (float64) -> array of the same shape, values in [0, 1].
    """
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _hard_sigmoid_keras(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _hard_sigmoid_unclipped(x):
    return (x + 3.0) / 6.0


def _hard_sigmoid_relu_only(x):
    return np.maximum(x + 3.0, 0.0) / 6.0


def _hard_sigmoid_smooth(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _hard_sigmoid_cases(rng: np.random.Generator) -> list[Case]:
    return [
        Case({"x": np.array([0.0])}, "x = 0"),
        Case({"x": rng.uniform(-2.4, 2.4, size=6)}, "the linear part, |x| < 2.5"),
        Case(
            {"x": rng.uniform(2.5, 3.0, size=4) * rng.choice([-1.0, 1.0], size=4)},
            "between the Keras and PyTorch kinks, 2.5 < |x| < 3",
        ),
        Case({"x": rng.uniform(3.0, 50.0, size=5)}, "saturated above, x > 3"),
        Case({"x": -rng.uniform(3.0, 50.0, size=5)}, "saturated below, x < -3"),
        Case({"x": rng.normal(scale=3.0, size=(2, 3))}, "a (2, 3) batch of mixed values"),
    ]


register(
    Exercise(
        key="setup.hard_sigmoid",
        title="PyTorch's hard sigmoid",
        func_name="hard_sigmoid",
        reference=hard_sigmoid,
        make_cases=_hard_sigmoid_cases,
        wrong={
            "That is Keras 2's hard sigmoid, clip(0.2 x + 0.5, 0, 1) (slope 0.2, flat beyond |x| = 2.5). "
            "PyTorch's is relu6(x + 3) / 6 (slope 1/6, flat beyond |x| = 3).": _hard_sigmoid_keras,
            "You forgot to clip: (x + 3) / 6 leaves [0, 1] for |x| > 3.": _hard_sigmoid_unclipped,
            "You clipped only at 0: relu6 also caps x + 3 at 6, so the result never exceeds 1.": (
                _hard_sigmoid_relu_only
            ),
            "You computed the smooth sigmoid; the hard sigmoid is piecewise linear.": _hard_sigmoid_smooth,
        },
        atol=1e-12,
        rtol=1e-10,
    )
)
