"""Plotting helpers: every figure the course draws has a title and labelled axes with units.

Chapters call :func:`label` (or the small helpers built on it) instead of setting titles and labels by
hand, so a missing label is an error rather than an unlabelled figure on the website.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes


def label(ax: Axes, title: str, xlabel: str, ylabel: str) -> Axes:
    """Set the title and axis labels of ``ax``; each must be a non-empty string."""
    for name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def curves(
    ax: Axes,
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    baseline: tuple[float, str] | None = None,
) -> Axes:
    """Draw one line per entry of ``series`` (``name -> (x, y)``), with a legend and optional baseline.

    ``baseline`` is ``(value, label)``, drawn as a dashed horizontal line (e.g. the adding problem's 0.167).
    """
    for name, (x, y) in series.items():
        ax.plot(x, y, label=name)
    if baseline is not None:
        value, text = baseline
        ax.axhline(value, color="gray", linestyle="--", label=text)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return label(ax, title, xlabel, ylabel)


def heatmap(
    ax: Axes,
    values: np.ndarray,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    colorbar_label: str,
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    cmap: str = "viridis",
) -> Axes:
    """Show a 2-D array (rows on the y axis, e.g. hidden units; columns on x, e.g. time steps)."""
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D (rows, columns), got shape {values.shape}")
    image = ax.imshow(values, aspect="auto", interpolation="nearest", cmap=cmap, vmin=vmin, vmax=vmax)
    colorbar = plt.colorbar(image, ax=ax)
    colorbar.set_label(colorbar_label)
    return label(ax, title, xlabel, ylabel)
