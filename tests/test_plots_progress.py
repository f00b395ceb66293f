"""Plot helpers refuse unlabelled figures; progress bars obey COURSE_LIB_PROGRESS."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import plots, progress  # noqa: E402


def test_label_requires_every_text():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="xlabel"):
        plots.label(ax, "A title", "", "loss")
    plots.curves(ax, {"a": ([0, 1], [1.0, 0.5])}, title="t", xlabel="step", ylabel="MSE",
                 baseline=(0.167, "baseline"), logy=True)
    assert ax.get_title() == "t" and ax.get_xlabel() == "step" and ax.get_yscale() == "log"
    plt.close(fig)


def test_heatmap_shape_check():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="2-D"):
        plots.heatmap(ax, np.zeros(3), title="t", xlabel="x", ylabel="y", colorbar_label="c")
    plots.heatmap(ax, np.zeros((2, 3)), title="t", xlabel="time step", ylabel="unit", colorbar_label="gate")
    plt.close(fig)


def test_progress_switch(monkeypatch, capsys):
    monkeypatch.setenv(progress.ENV_VAR, "0")
    assert list(progress.progress(range(3))) == [0, 1, 2]
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(progress.ENV_VAR, "1")
    assert progress.progress_enabled()
    assert list(progress.progress(range(3), desc="x")) == [0, 1, 2]
