"""Tests for course_lib.diagrams: every diagram draws, has a title, carries the book's symbols as text, is
opaque (legible on the site's dark theme), and the options change what is drawn."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from course_lib import diagrams  # noqa: E402

LSTM_LABELS = [r"$X_t$", r"$H_{t-1}$", r"$H_t$", r"$C_{t-1}$", r"$C_t$", r"$I_t$", r"$F_t$", r"$O_t$"]
LSTM_LABELS += [r"$\tilde{C}_t$"]
GRU_LABELS = [r"$X_t$", r"$H_{t-1}$", r"$H_t$", r"$R_t$", r"$Z_t$", r"$\tilde{H}_t$"]
PEEPHOLE_LABELS = [r"$p_i$", r"$p_f$", r"$p_o$"]

CASES = {
    "rnn_unrolled": (diagrams.rnn_unrolled, {}, [r"$X_t$", r"$H_t$", r"$H_{t-1}$", r"$W_{hh}$", r"$W_{xh}$"]),
    "rnn_patterns": (diagrams.rnn_patterns, {}, [r"$X_1$", r"$H_3$", r"$\hat{Y}$", r"$W_{yh}$", r"$W_{hh}$"]),
    "bptt_flow": (diagrams.bptt_flow, {}, [r"$H_1$", r"$H_4$", r"$X_1$", r"$\partial L/\partial H_4$"]),
    "lstm_cell": (diagrams.lstm_cell, {}, LSTM_LABELS),
    "lstm_cell_memory": (diagrams.lstm_cell, {"highlight": "memory"}, LSTM_LABELS),
    "lstm_cell_activations": (diagrams.lstm_cell, {"highlight": "activations"}, LSTM_LABELS),
    "lstm_cell_peepholes": (diagrams.lstm_cell, {"peepholes": True}, LSTM_LABELS + PEEPHOLE_LABELS),
    "gru_cell": (diagrams.gru_cell, {}, GRU_LABELS),
    "gru_cell_cho": (diagrams.gru_cell, {"reset_after": False}, GRU_LABELS),
    "peephole_lstm_cell": (diagrams.peephole_lstm_cell, {}, LSTM_LABELS + PEEPHOLE_LABELS),
}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def title(fig: Figure) -> str:
    return fig._suptitle.get_text() if fig._suptitle is not None else ""


def png_pixels(fig: Figure) -> np.ndarray:
    """The figure saved as notebooks save it (PNG, default savefig arguments): RGBA in [0, 1]."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    buffer.seek(0)
    return mpimg.imread(buffer)


def facecolors(fig: Figure) -> set[tuple]:
    return {tuple(np.round(p.get_facecolor(), 3)) for p in fig.findobj(Patch)}


def edge_and_line_colors(fig: Figure) -> list[tuple]:
    colors = [tuple(np.round(p.get_edgecolor(), 3)) for p in fig.findobj(Patch)]
    colors += [tuple(np.round(to_rgba(line.get_color()), 3)) for ax in fig.axes for line in ax.get_lines()]
    return colors


def rgba(color: str) -> tuple:
    return tuple(np.round(to_rgba(color), 3))


@pytest.mark.parametrize("case", sorted(CASES))
def test_draws_with_title_and_the_books_symbols(case):
    function, kwargs, labels = CASES[case]
    fig = function(**kwargs)
    assert isinstance(fig, Figure)
    assert title(fig).strip(), f"{case}: no title"
    shown = texts(fig)
    missing = [label for label in labels if label not in shown]
    assert not missing, f"{case}: labels {missing} not drawn; drawn: {shown}"
    fig.canvas.draw()  # mathtext parses, layout runs


@pytest.mark.parametrize("case", sorted(CASES))
def test_opaque_white_background_with_dark_ink(case):
    """The site's dark theme shows images as they are: the PNG must be opaque, light paper, dark text."""
    function, kwargs, _ = CASES[case]
    fig = function(**kwargs)
    pixels = png_pixels(fig)
    assert pixels.shape[2] == 4
    assert np.all(pixels[..., 3] == 1.0), "transparent pixels would show the dark page through"
    corners = pixels[[0, 0, -1, -1], [0, -1, 0, -1], :3]
    assert np.all(corners > 0.97), f"background is not white: {corners}"
    luminance = pixels[..., :3] @ np.array([0.2126, 0.7152, 0.0722])
    assert np.mean(luminance < 0.3) > 0.002, "no dark ink found"
    title_rgb = np.array(to_rgba(fig._suptitle.get_color())[:3])
    assert title_rgb @ np.array([0.2126, 0.7152, 0.0722]) < 0.3


def test_lstm_highlights_differ():
    plain = diagrams.lstm_cell()
    memory = diagrams.lstm_cell(highlight="memory")
    activations = diagrams.lstm_cell(highlight="activations")
    titles = {title(plain), title(memory), title(activations)}
    assert len(titles) == 3
    assert "carousel" in title(memory)
    # the memory path is drawn in the highlight colour only when asked for
    assert rgba(diagrams.MEMORY) in edge_and_line_colors(memory)
    assert rgba(diagrams.MEMORY) not in edge_and_line_colors(plain)
    # sigma and tanh layers get their own fills only in the "activations" variant
    assert {rgba(diagrams.SIGMA), rgba(diagrams.TANH)} <= facecolors(activations)
    assert not {rgba(diagrams.SIGMA), rgba(diagrams.TANH)} & facecolors(plain)
    # and the pictures themselves differ
    a, b, c = (png_pixels(f) for f in (plain, memory, activations))
    assert a.shape == b.shape == c.shape
    assert np.abs(a - b).max() > 0.3 and np.abs(a - c).max() > 0.3


def test_peepholes_add_three_connections():
    plain, peep = diagrams.lstm_cell(), diagrams.peephole_lstm_cell()
    for label in PEEPHOLE_LABELS:
        assert label not in texts(plain)
        assert texts(peep).count(label) == 1
    assert rgba(diagrams.PEEPHOLE) in edge_and_line_colors(peep)
    assert rgba(diagrams.PEEPHOLE) not in edge_and_line_colors(plain)
    assert title(peep) == title(diagrams.lstm_cell(peepholes=True))


def test_gru_states_its_convention_and_where_the_reset_gate_acts():
    pytorch, cho = diagrams.gru_cell(), diagrams.gru_cell(reset_after=False)
    assert "PyTorch" in title(pytorch) and "after" in title(pytorch)
    assert "Cho" in title(cho) and "before" in title(cho)
    for fig in (pytorch, cho):
        assert any("reset gate" in t for t in texts(fig))
    assert any(r"R_t \odot (H_{t-1} W_{hh})" in t for t in texts(pytorch))
    assert any(r"(R_t \odot H_{t-1}) W_{hh}" in t for t in texts(cho))


def test_bptt_marks_the_jacobian_products():
    shown = texts(diagrams.bptt_flow())
    jacobians = [t for t in shown if r"\mathrm{diag}(\phi'(A_" in t and r"W_{hh}^{\top}" in t]
    assert len(jacobians) >= 3, shown
    assert any("vanish" in t for t in shown)


def test_rnn_patterns_show_three_patterns():
    shown = " ".join(texts(diagrams.rnn_patterns()))
    for name in ("Elman", "Jordan", "sequence to one"):
        assert name in shown


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: diagrams.lstm_cell(highlight="gates"), ValueError, ["highlight", "'gates'", "memory"]),
        (lambda: diagrams.lstm_cell(highlight="Memory"), ValueError, ["highlight"]),
        (lambda: diagrams.lstm_cell(peepholes="yes"), TypeError, ["peepholes", "'yes'"]),
        (lambda: diagrams.lstm_cell(peepholes=1), TypeError, ["peepholes"]),
        (lambda: diagrams.gru_cell(reset_after="pytorch"), TypeError, ["reset_after"]),
        (lambda: diagrams.lstm_cell(True, "memory", 3), TypeError, []),
        (lambda: diagrams.rnn_unrolled(3), TypeError, []),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, words):
    before = plt.get_fignums()
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)
    assert plt.get_fignums() == before, "a figure was left open by a failed call"
