"""Diagrams of the course's networks, drawn with code in one place and in one style.

Every chapter's central structure is a function here that returns a matplotlib ``Figure``; change a label
or a colour here and re-run the chapter. The visual vocabulary is the one of Olah's "Understanding LSTM
Networks" and of *Dive into Deep Learning*:

* a **yellow box** is a layer with weights: an affine map of its inputs followed by the activation written
  in it (``σ`` or ``tanh``), e.g. ``F_t = σ(X_t W_xf + H_{t-1} W_hf + b_f)``;
* a **white box** is an affine map without activation (only in the GRU, where the reset gate acts between
  the product and the activation);
* a **pink circle** is a pointwise operation (``⊙`` element-wise product, ``+`` sum, ``1−``, ``tanh``);
* lines carry arrays of shape ``(n, h)`` (or ``(n, d)`` for ``X_t``); where two lines merge their arrays go
  into the same layers; where a line forks it is copied. Biases are not drawn.

Labels are the book's symbols (``X_t, H_{t-1}, H_t, C_{t-1}, C_t, I_t, F_t, O_t, C̃_t, R_t, Z_t, H̃_t``),
written in matplotlib mathtext. Figures are drawn on an opaque white background with dark ink, so they read
the same in the website's light and dark themes.

The figures are pyplot figures: in a notebook ``lstm_cell()`` followed by ``plt.show()`` (or ``fig =
lstm_cell()``) shows one image. Functions::

    rnn_unrolled()                               the RNN folded and unrolled in time
    rnn_patterns()                               Elman, Jordan (output recurrence), sequence-to-one
    bptt_flow()                                  the gradient flowing back; the products that make it vanish
    lstm_cell(peepholes=False, highlight=None)   highlight in {None, "memory", "activations"}
    gru_cell(reset_after=True)                   PyTorch / cuDNN convention by default, Cho et al. with False
    peephole_lstm_cell()                         lstm_cell(peepholes=True)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path

__all__ = [
    "LSTM_HIGHLIGHTS",
    "rnn_unrolled",
    "rnn_patterns",
    "bptt_flow",
    "lstm_cell",
    "gru_cell",
    "peephole_lstm_cell",
]

LSTM_HIGHLIGHTS = (None, "memory", "activations")

# One palette for every diagram: dark ink on white paper (legible under the site's light and dark themes).
PAPER = "#ffffff"
INK = "#1f1f1f"
CELL = "#f3f3f3"  # the cell's background rectangle
LAYER = "#fde7a1"  # weight layer (yellow, as in Olah's figures)
LINEAR = "#ffffff"  # affine map without activation
POINTWISE = "#f7c6d1"  # pointwise operation (pink)
SIGMA = "#9fc7ee"  # "activations" highlight: sigmoid layers (blue) ...
TANH = "#a9dc9b"  # ... and tanh (green)
MEMORY = "#c62828"  # the memory path / the backward gradient (red)
PEEPHOLE = "#6a1b9a"  # peephole connections (purple)
MUTED = "#9a9a9a"
TIMES = r"$\odot$"  # the element-wise product, as in the equations

SCALE = 0.82  # figure size factor: smaller figures show the text larger on a web page of fixed width
LINE_WIDTH = 1.8
FONT = 13  # labels of arrays
OP_FONT = 12  # text inside boxes and circles
_HALO = [patheffects.withStroke(linewidth=LINE_WIDTH + 4, foreground=PAPER)]


# ----------------------------------------------------------------------------------------------- drawing kit


def _canvas(width: float, height: float, xlim, ylim, title: str):
    """A white figure with one axes in data units (1 unit = the same length on x and y), no frame."""
    fig = plt.figure(figsize=(width * SCALE, height * SCALE), facecolor=PAPER)
    ax = fig.add_axes([0.01, 0.01, 0.98, 0.86])
    ax.set_facecolor(PAPER)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.suptitle(title, fontsize=14, color=INK, y=0.97)
    return fig, ax


def _line(ax, points, *, color=INK, width=LINE_WIDTH, arrow=True, style="-", zorder=2, alpha=1.0):
    """A polyline through ``points`` with an arrow head at the end; a white halo keeps crossings readable."""
    ax.add_patch(
        FancyArrowPatch(
            path=Path(points),
            arrowstyle="-|>" if arrow else "-",
            mutation_scale=14,
            color=color,
            lw=width,
            linestyle=style,
            joinstyle="miter",
            capstyle="butt",
            zorder=zorder,
            alpha=alpha,
            path_effects=_HALO,
        )
    )


def _box(ax, x, y, text, *, fill=LAYER, width=1.0, height=0.62, edge=INK, lw=1.4, fontsize=OP_FONT, zorder=4):
    """A layer box centred at (x, y); returns its half width and half height."""
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.08",
            facecolor=fill,
            edgecolor=edge,
            lw=lw,
            zorder=zorder,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=INK, zorder=zorder + 1)
    return width / 2, height / 2


def _op(ax, x, y, text, *, fill=POINTWISE, radius=0.27, edge=INK, lw=1.4, fontsize=OP_FONT, zorder=4):
    """A pointwise operation: a circle centred at (x, y) with its symbol inside."""
    ax.add_patch(Circle((x, y), radius, facecolor=fill, edgecolor=edge, lw=lw, zorder=zorder))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=INK, zorder=zorder + 1)


def _label(ax, x, y, text, *, ha="center", va="center", color=INK, fontsize=FONT, **kwargs):
    return ax.text(x, y, text, ha=ha, va=va, color=color, fontsize=fontsize, zorder=6, **kwargs)


def _note(ax, x, y, text, *, color=INK, fontsize=10.5, ha="left", va="top", **kwargs):
    return ax.text(
        x, y, text, ha=ha, va=va, color=color, fontsize=fontsize, zorder=6, linespacing=1.4, **kwargs
    )


def _legend(ax, x, y, entries):
    """A one-row key: entries are ("box"|"linear"|"op"|"line"|"dashed", colour, text)."""
    for kind, color, text in entries:
        if kind == "box":
            ax.add_patch(
                Rectangle((x, y - 0.17), 0.5, 0.34, facecolor=color, edgecolor=INK, lw=1.0, zorder=4)
            )
        elif kind == "op":
            ax.add_patch(Circle((x + 0.25, y), 0.17, facecolor=color, edgecolor=INK, lw=1.0, zorder=4))
        else:
            ax.plot(
                [x, x + 0.5],
                [y, y],
                color=color,
                lw=3 if kind == "line" else LINE_WIDTH,
                ls="-" if kind == "line" else "--",
                zorder=4,
            )
        t = _note(ax, x + 0.65, y, text, va="center", fontsize=10)
        right = t.get_window_extent(renderer=ax.figure.canvas.get_renderer()).x1
        x = ax.transData.inverted().transform((right, 0))[0] + 0.5


def _sym(base: str, index: str) -> str:
    """The mathtext of a symbol with a subscript, spelled as the book spells it: ``$X_t$``, ``$H_{t-1}$``."""
    return f"${base}_{index}$" if len(index) == 1 else f"${base}_{{{index}}}$"


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed!r}, got {value!r}")


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")


# ----------------------------------------------------------------------------------------------- plain RNN


def _rnn_step(ax, x, y, *, text=r"$\tanh$"):
    _box(ax, x, y, text, width=1.1, height=0.8)


def rnn_unrolled() -> Figure:
    """The recurrent network folded (one cell with a loop) and unrolled over three steps.

    Each copy computes ``H_t = tanh(X_t W_xh + H_{t-1} W_hh + b_h)`` with the *same* weights.
    """
    fig, ax = _canvas(
        11.5, 4.6, (-0.6, 15.6), (-1.4, 4.6), "A recurrent network, folded and unrolled in time"
    )
    # folded: one cell, its state fed back through a delay
    _rnn_step(ax, 1.2, 1.6)
    _line(ax, [(1.2, -0.3), (1.2, 1.2)])
    _label(ax, 1.2, -0.6, r"$X_t$")
    _line(ax, [(1.2, 2.0), (1.2, 3.5)])
    _label(ax, 1.2, 3.85, r"$H_t$")
    _line(ax, [(1.2, 2.7), (2.4, 2.7), (2.4, 1.6), (1.75, 1.6)])
    ax.add_patch(Circle((1.2, 2.7), 0.07, color=INK, zorder=5))
    _label(ax, 2.55, 2.15, r"$W_{hh}$", ha="left", fontsize=11)
    _label(ax, 1.35, 0.35, r"$W_{xh}$", ha="left", fontsize=11)
    _label(ax, 3.9, 1.6, "=", fontsize=26)
    # unrolled: three copies
    xs = (6.6, 9.6, 12.6)
    names = ("t-1", "t", "t+1")
    _line(ax, [(4.7, 1.6), (xs[0] - 0.55, 1.6)])
    _label(ax, 4.75, 2.0, r"$H_{t-2}$", ha="left")
    for i, (x, s) in enumerate(zip(xs, names)):
        _rnn_step(ax, x, 1.6)
        _line(ax, [(x, -0.3), (x, 1.2)])
        _label(ax, x, -0.6, _sym("X", s))
        _label(ax, x + 0.12, 0.45, r"$W_{xh}$", ha="left", fontsize=11)
        _line(ax, [(x, 2.0), (x, 3.5)])
        _label(ax, x, 3.85, _sym("H", s))
        end = xs[i + 1] - 0.55 if i + 1 < len(xs) else x + 2.2
        _line(ax, [(x + 0.55, 1.6), (end, 1.6)])
        _label(ax, (x + 0.55 + end) / 2, 1.85, r"$W_{hh}$", fontsize=11)
    _label(ax, xs[-1] + 2.3, 2.0, r"$H_{t+1}$", ha="left")
    _note(
        ax,
        3.4,
        -0.95,
        "the same weights $W_{xh}$, $W_{hh}$, $b_h$ at every step:  "
        r"$H_t = \tanh(X_t W_{xh} + H_{t-1} W_{hh} + b_h)$",
        fontsize=11,
    )
    return fig


def rnn_patterns() -> Figure:
    """Three design patterns of recurrent networks, each unrolled over three steps.

    Elman (hidden-to-hidden recurrence, an output at every step); Jordan (the previous output ``Y_{t-1}``
    is fed back instead of the state; under teacher forcing it is the target, so training is parallel);
    sequence-to-one (hidden-to-hidden recurrence, one read-out ``Ŷ = H_T W_hq + b_q`` at the end).
    """
    fig, ax = _canvas(13.5, 4.5, (-0.3, 23.0), (-1.8, 5.0), "Design patterns of recurrent networks")
    panels = (
        (0.0, "Elman: state to state,\nan output at every step"),
        (7.9, "Jordan: previous output to state\n(teacher forcing: $Y_{t-1}$ fed back)"),
        (15.8, "sequence to one: state to state,\none output at the end"),
    )
    steps = ("1", "2", "3")
    for k, (x0, caption) in enumerate(panels):
        xs = [x0 + 1.0 + 2.5 * i for i in range(3)]
        for i, (x, s) in enumerate(zip(xs, steps)):
            _box(ax, x, 1.3, _sym("H", s), width=1.0, height=0.7, fill=LAYER)
            _line(ax, [(x, -0.3), (x, 0.95)])
            _label(ax, x, -0.6, _sym("X", s))
            has_output = k != 2 or i == 2
            if has_output:
                text = r"$\hat{Y}$" if k == 2 else _sym(r"\hat{Y}", s)
                _box(ax, x, 3.2, text, width=0.9, height=0.62, fill=LINEAR)
                _line(ax, [(x, 1.65), (x, 2.89)])
            if i + 1 < 3:
                nxt = xs[i + 1]
                if k == 1:  # output -> next hidden state
                    _line(ax, [(x + 0.45, 3.2), (x + 1.25, 3.2), (nxt - 0.5, 1.55)], color=MEMORY)
                else:
                    _line(ax, [(x + 0.5, 1.3), (nxt - 0.5, 1.3)], color=MEMORY)
        label = r"$W_{yh}$" if k == 1 else r"$W_{hh}$"
        _label(ax, xs[0] + 1.25, 1.0 if k != 1 else 2.15, label, fontsize=11, color=MEMORY)
        _note(ax, x0 + 3.5, -1.05, caption, ha="center", fontsize=11)
        if k == 2:
            _label(ax, xs[-1] + 0.6, 4.05, r"$\hat{Y} = H_3 W_{hq} + b_q$", ha="right", fontsize=11)
    _note(
        ax,
        0.0,
        4.85,
        "red: the recurrent connection; white boxes: read-outs $\\hat{Y}_t = H_t W_{hq} + b_q$",
        fontsize=10.5,
    )
    return fig


def bptt_flow() -> Figure:
    """Backpropagation through time on an RNN unrolled over four steps, the loss read at the last one.

    Forward (grey, left to right): ``A_t = X_t W_xh + H_{t-1} W_hh + b_h``, ``H_t = φ(A_t)``. Backward (red,
    right to left): the loss gradient reaches ``H_{t-1}`` from ``H_t`` multiplied by the Jacobian
    ``J_t = ∂H_t/∂H_{t-1} = diag(φ'(A_t)) W_hhᵀ``; ``k`` steps back it is a product of ``k`` such factors,
    which shrinks (vanishes) or grows (explodes) geometrically. The red arrows thin out to the left to show
    a vanishing gradient.
    """
    fig, ax = _canvas(
        12.5, 5.3, (-0.9, 17.2), (-3.4, 4.6), "Backpropagation through time: where the gradient vanishes"
    )
    xs = (1.5, 5.5, 9.5, 13.5)
    names = ("1", "2", "3", "4")
    widths = (1.0, 1.9, 3.0)  # gradient arrows from step 2->1, 3->2, 4->3: fading to the left
    for i, (x, s) in enumerate(zip(xs, names)):
        _box(ax, x, 1.4, _sym("H", s), width=1.1, height=0.8)
        _line(ax, [(x, -0.35), (x, 1.0)], color=MUTED)
        _label(ax, x, -0.65, _sym("X", s))
        if i + 1 < len(xs):
            nxt = xs[i + 1]
            _line(ax, [(x + 0.55, 1.6), (nxt - 0.55, 1.6)], color=MUTED)
            _label(ax, (x + nxt) / 2, 1.9, r"$W_{hh}$", color=MUTED, fontsize=10.5)
            # backward: the gradient from step i+1 to step i goes through one Jacobian
            _line(ax, [(nxt - 0.55, 1.1), (x + 0.55, 1.1)], color=MEMORY, width=widths[i])
            _label(
                ax,
                (x + nxt) / 2,
                0.55,
                r"$\times\,\mathrm{diag}(\phi'(A_" + names[i + 1] + r"))\,W_{hh}^{\top}$",
                color=MEMORY,
                fontsize=11.5,
            )
    _line(ax, [(xs[0] - 2.3, 1.4), (xs[0] - 0.55, 1.4)], color=MUTED)
    _label(ax, xs[0] - 2.25, 1.75, r"$H_0$", ha="left")
    # the loss, read out at the last step
    _op(ax, xs[-1], 3.6, r"$L$", radius=0.38, fill=LINEAR)
    _line(ax, [(xs[-1] - 0.12, 1.8), (xs[-1] - 0.12, 3.22)], color=MUTED)
    _line(ax, [(xs[-1] + 0.12, 3.22), (xs[-1] + 0.12, 1.8)], color=MEMORY, width=3.0)
    _label(ax, xs[-1] + 0.35, 2.5, r"$\partial L/\partial H_4$", ha="left", color=MEMORY, fontsize=11.5)
    _note(
        ax,
        -0.7,
        -1.2,
        r"$\partial L/\partial H_1 = \partial L/\partial H_4 \cdot J_4\, J_3\, J_2$,   "
        r"$J_t = \partial H_t/\partial H_{t-1} = \mathrm{diag}(\phi'(A_t))\,W_{hh}^{\top}$"
        ":  $k$ steps back, $k$ factors.",
        fontsize=12,
    )
    _note(
        ax,
        -0.7,
        -1.9,
        r"With $|\phi'| \leq 1$ (tanh) and $\Vert W_{hh} \Vert_2 < 1$ every factor shrinks the gradient: it"
        " vanishes geometrically;\nwith a large $W_{hh}$ it can explode. Grey: the forward pass,"
        r" $H_t = \phi(A_t)$ with $A_t = X_t W_{xh} + H_{t-1} W_{hh} + b_h$;"
        "\nred: the gradient of the loss.",
        fontsize=11,
    )
    return fig


# ----------------------------------------------------------------------------------------------------- LSTM


def lstm_cell(peepholes: bool = False, highlight: str | None = None) -> Figure:
    """The LSTM cell (row-vector convention, biases not drawn).

    ``I_t, F_t, O_t = σ(X_t W_x? + H_{t-1} W_h? + b_?)``, ``C̃_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)``,
    ``C_t = F_t ⊙ C_{t-1} + I_t ⊙ C̃_t``, ``H_t = O_t ⊙ tanh(C_t)``.

    peepholes : bool
        Also draw the peephole connections of Gers & Schmidhuber (2000): ``p_i ⊙ C_{t-1}`` into the input
        gate, ``p_f ⊙ C_{t-1}`` into the forget gate, ``p_o ⊙ C_t`` into the output gate.
    highlight : None, "memory" or "activations"
        ``"memory"``: the memory path C_{t-1} → C_t (the constant error carousel) in red; ``"activations"``:
        the σ layers in blue and the tanh layers / pointwise tanh in green.
    """
    _check_bool("peepholes", peepholes)
    _check_choice("highlight", highlight, LSTM_HIGHLIGHTS)
    title = "The LSTM cell" + (" with peephole connections" if peepholes else "")
    if highlight == "memory":
        title += ": the memory path (constant error carousel)"
    elif highlight == "activations":
        title += r": where $\sigma$ and $\tanh$ act"
    fig, ax = _canvas(10.5, 7.0, (-1.6, 13.4), (-2.6, 7.3), title)
    Y_C, Y_BUS, Y_GATE = 5.6, 0.8, 2.4
    x_f, x_i, x_c, x_o, x_out = 2.4, 4.0, 5.5, 7.3, 9.2
    ax.add_patch(
        FancyBboxPatch(
            (0.0, -0.1),
            11.2,
            6.6,
            boxstyle="round,pad=0.0,rounding_size=0.35",
            facecolor=CELL,
            edgecolor=MUTED,
            lw=1.2,
            zorder=0,
        )
    )
    mem = highlight == "memory"
    other = MUTED if mem else INK
    sig_fill = SIGMA if highlight == "activations" else LAYER
    tanh_fill = TANH if highlight == "activations" else LAYER
    tanh_op_fill = TANH if highlight == "activations" else POINTWISE

    # the memory line: C_{t-1} -> (x) forget -> (+) -> C_t
    mem_color, mem_width = (MEMORY, 3.6) if mem else (INK, LINE_WIDTH + 0.6)
    _line(ax, [(-0.9, Y_C), (x_f - 0.27, Y_C)], color=mem_color, width=mem_width, arrow=False)
    _line(ax, [(x_f + 0.27, Y_C), (x_c - 0.27, Y_C)], color=mem_color, width=mem_width, arrow=False)
    _line(ax, [(x_c + 0.27, Y_C), (12.2, Y_C)], color=mem_color, width=mem_width)
    _label(ax, -1.0, Y_C + 0.45, r"$C_{t-1}$", ha="left")
    _label(ax, 12.3, Y_C + 0.45, r"$C_t$", ha="right")
    _op(ax, x_f, Y_C, TIMES, edge=mem_color)
    _op(ax, x_c, Y_C, r"$+$", edge=mem_color)

    # inputs: H_{t-1} from the left, X_t from below, merged into one bus feeding the four layers
    _line(ax, [(-0.9, Y_BUS), (x_o, Y_BUS)], color=other, arrow=False)
    _label(ax, -1.0, Y_BUS + 0.4, r"$H_{t-1}$", ha="left")
    _line(ax, [(1.0, -1.2), (1.0, Y_BUS)], color=other, arrow=False)
    _label(ax, 1.0, -1.5, r"$X_t$")
    ax.add_patch(Circle((1.0, Y_BUS), 0.07, color=other, zorder=5))
    for x in (x_f, x_i, x_c, x_o):
        _line(ax, [(x, Y_BUS), (x, Y_GATE - 0.31)], color=other)

    # the four layers
    _box(ax, x_f, Y_GATE, r"$\sigma$", fill=sig_fill)
    _box(ax, x_i, Y_GATE, r"$\sigma$", fill=sig_fill)
    _box(ax, x_c, Y_GATE, r"$\tanh$", fill=tanh_fill)
    _box(ax, x_o, Y_GATE, r"$\sigma$", fill=sig_fill)

    # forget gate multiplies the old memory
    _line(ax, [(x_f, Y_GATE + 0.31), (x_f, Y_C - 0.27)], color=other)
    _label(ax, x_f - 0.12, 3.8, r"$F_t$", ha="right")
    # input gate times candidate, added to the memory
    Y_IN = 4.1
    _op(ax, x_c, Y_IN, TIMES)
    _line(ax, [(x_i, Y_GATE + 0.31), (x_i, Y_IN), (x_c - 0.27, Y_IN)], color=other)
    _label(ax, x_i - 0.12, 3.55, r"$I_t$", ha="right")
    _line(ax, [(x_c, Y_GATE + 0.31), (x_c, Y_IN - 0.27)], color=other)
    _label(ax, x_c + 0.12, 3.25, r"$\tilde{C}_t$", ha="left")
    _line(ax, [(x_c, Y_IN + 0.27), (x_c, Y_C - 0.27)], color=other)
    # output: H_t = O_t * tanh(C_t)
    Y_TANH = 4.1
    _line(ax, [(x_out, Y_C), (x_out, Y_TANH + 0.42)], color=other)
    ax.add_patch(Circle((x_out, Y_C), 0.07, color=mem_color, zorder=5))
    _op(ax, x_out, Y_TANH, r"$\tanh$", fill=tanh_op_fill, radius=0.42, fontsize=10.5)
    _op(ax, x_out, Y_GATE, TIMES)
    _line(ax, [(x_out, Y_TANH - 0.42), (x_out, Y_GATE + 0.27)], color=other)
    _line(ax, [(x_o + 0.5, Y_GATE), (x_out - 0.27, Y_GATE)], color=other)
    _label(ax, (x_o + x_out) / 2 - 0.1, Y_GATE + 0.3, r"$O_t$")
    _line(ax, [(x_out, Y_GATE - 0.27), (x_out, Y_BUS), (12.2, Y_BUS)], color=other)
    _line(ax, [(10.4, Y_BUS), (10.4, 6.9)], color=other)
    ax.add_patch(Circle((10.4, Y_BUS), 0.07, color=other, zorder=5))
    _label(ax, 12.3, Y_BUS + 0.4, r"$H_t$", ha="right")
    _label(ax, 10.55, 6.95, r"$H_t$", ha="left")

    if peepholes:
        kw = dict(color=PEEPHOLE, style="--", width=1.6)
        _line(ax, [(0.45, Y_C), (0.45, Y_GATE + 0.15), (x_f - 0.5, Y_GATE + 0.15)], **kw)
        _label(ax, 0.55, 3.9, r"$p_f$", ha="left", color=PEEPHOLE)
        _line(
            ax, [(1.45, Y_C), (1.45, 3.2), (3.2, 3.2), (3.2, Y_GATE + 0.1), (x_i - 0.5, Y_GATE + 0.1)], **kw
        )
        _label(ax, 1.55, 4.3, r"$p_i$", ha="left", color=PEEPHOLE)
        _line(ax, [(x_o, Y_C), (x_o, Y_GATE + 0.31)], **kw)
        _label(ax, x_o + 0.1, 3.9, r"$p_o$", ha="left", color=PEEPHOLE)
        ax.add_patch(Circle((0.45, Y_C), 0.07, color=PEEPHOLE, zorder=5))
        ax.add_patch(Circle((1.45, Y_C), 0.07, color=PEEPHOLE, zorder=5))
        ax.add_patch(Circle((x_o, Y_C), 0.07, color=PEEPHOLE, zorder=5))

    # key and equations under the cell
    entries = [
        (
            "box",
            LAYER if highlight != "activations" else SIGMA,
            "layer with weights" if highlight != "activations" else r"$\sigma$: gate in (0, 1)",
        )
    ]
    if highlight == "activations":
        entries.append(("box", TANH, r"$\tanh$: value in (−1, 1)"))
    entries.append(("op", POINTWISE, "pointwise operation"))
    if mem:
        entries.append(("line", MEMORY, "memory path"))
    if peepholes:
        entries.append(("dashed", PEEPHOLE, "peephole (diagonal)"))
    _legend(ax, -1.3, -2.25, entries)
    if mem:
        _note(
            ax,
            0.2,
            7.15,
            r"$C_t = F_t \odot C_{t-1} + I_t \odot \tilde{C}_t$:  $\partial C_t / \partial C_{t-1}"
            r" = \mathrm{diag}(F_t)$ — no weight matrix, no squashing;"
            "\n"
            r"with $F_t \approx 1$ the error flows back along the red line unchanged.",
            fontsize=11,
            color=MEMORY,
            va="bottom",
        )
    elif highlight == "activations":
        _note(
            ax,
            0.2,
            7.15,
            r"$\sigma$ makes the gates $F_t, I_t, O_t$ (fractions in (0, 1)); $\tanh$ makes the"
            r" candidate $\tilde{C}_t$"
            "\n"
            r"and squashes $C_t$ on its way out, $H_t = O_t \odot \tanh(C_t)$.",
            fontsize=11,
            va="bottom",
        )
    elif peepholes:
        _note(
            ax,
            0.2,
            7.15,
            r"Peepholes: $p_i \odot C_{t-1}$ and $p_f \odot C_{t-1}$ enter the input and forget"
            r" gates,"
            "\n"
            r"$p_o \odot C_t$ (the new memory) enters the output gate.",
            fontsize=11,
            color=PEEPHOLE,
            va="bottom",
        )
    else:
        _note(
            ax,
            0.2,
            7.15,
            r"$I_t = \sigma(X_t W_{xi} + H_{t-1} W_{hi} + b_i)$, likewise $F_t$ and $O_t$;  "
            r"$\tilde{C}_t = \tanh(X_t W_{xc} + H_{t-1} W_{hc} + b_c)$"
            "\n"
            r"$C_t = F_t \odot C_{t-1} + I_t \odot \tilde{C}_t$,  $H_t = O_t \odot \tanh(C_t)$",
            fontsize=11,
            va="bottom",
        )
    return fig


def peephole_lstm_cell() -> Figure:
    """The LSTM cell with peepholes: ``p_i, p_f`` read ``C_{t-1}``, ``p_o`` reads ``C_t``."""
    return lstm_cell(peepholes=True)


# ------------------------------------------------------------------------------------------------------ GRU


def gru_cell(reset_after: bool = True) -> Figure:
    """The GRU cell (row-vector convention, biases not drawn), ``H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t``.

    reset_after : bool, default True
        True: PyTorch / cuDNN (and Keras ``reset_after=True``): the reset gate scales the recurrent term
        *after* the product, ``H̃_t = tanh(X_t W_xh + R_t ⊙ (H_{t-1} W_hh))``. False: Cho et al. (2014):
        it scales the state *before* it, ``H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t-1}) W_hh)``. The convention is
        stated in the title. Matches ``course_lib.gru`` (whose default is also ``reset_after=True``).
    """
    _check_bool("reset_after", reset_after)
    convention = (
        "PyTorch convention (reset after $W_{hh}$)"
        if reset_after
        else "Cho et al. 2014 (reset before $W_{hh}$)"
    )
    fig, ax = _canvas(10.5, 7.0, (-1.6, 13.4), (-2.6, 7.3), "The GRU cell, " + convention)
    Y_H, Y_BUS, Y_GATE, Y_REC = 5.6, 0.8, 2.3, 3.6
    x_z, x_r, x_a, x_b, x_sum, x_old, x_one, x_new = 2.2, 3.7, 5.4, 6.9, 8.3, 8.9, 9.75, 10.6
    ax.add_patch(
        FancyBboxPatch(
            (0.0, -0.35),
            11.5,
            6.85,
            boxstyle="round,pad=0.0,rounding_size=0.35",
            facecolor=CELL,
            edgecolor=MUTED,
            lw=1.2,
            zorder=0,
        )
    )
    # state line: H_{t-1} -> (x) Z -> (+) -> H_t
    _line(ax, [(-0.9, Y_H), (x_old - 0.27, Y_H)], arrow=False, width=LINE_WIDTH + 0.6)
    _line(ax, [(x_old + 0.27, Y_H), (x_new - 0.27, Y_H)], arrow=False, width=LINE_WIDTH + 0.6)
    _line(ax, [(x_new + 0.27, Y_H), (12.2, Y_H)], width=LINE_WIDTH + 0.6)
    _label(ax, -1.0, Y_H + 0.45, r"$H_{t-1}$", ha="left")
    _label(ax, 12.3, Y_H + 0.45, r"$H_t$", ha="right")
    _op(ax, x_old, Y_H, TIMES)
    _op(ax, x_new, Y_H, r"$+$")
    # H_{t-1} down to the gates' bus, X_t up from below
    _line(ax, [(0.5, Y_H), (0.5, Y_BUS), (x_r, Y_BUS)], arrow=False)
    ax.add_patch(Circle((0.5, Y_H), 0.07, color=INK, zorder=5))
    _line(ax, [(1.2, -1.2), (1.2, Y_BUS)], arrow=False)
    ax.add_patch(Circle((1.2, Y_BUS), 0.07, color=INK, zorder=5))
    _label(ax, 1.2, -1.5, r"$X_t$")
    for x in (x_z, x_r):
        _line(ax, [(x, Y_BUS), (x, Y_GATE - 0.31)])
    _box(ax, x_z, Y_GATE, r"$\sigma$")
    _box(ax, x_r, Y_GATE, r"$\sigma$")
    # update gate: Z_t keeps the old state, 1 - Z_t lets the candidate in
    _line(ax, [(x_z, Y_GATE + 0.31), (x_z, 4.6), (x_old, 4.6), (x_old, Y_H - 0.27)])
    ax.add_patch(Circle((x_old, 4.6), 0.07, color=INK, zorder=5))
    _label(ax, x_z - 0.12, 4.15, r"$Z_t$", ha="right")
    _op(ax, x_one, 4.6, r"$1-$", radius=0.32, fontsize=9.5)
    _line(ax, [(x_old, 4.6), (x_one - 0.27, 4.6)])
    _op(ax, x_new, 4.6, TIMES)
    _line(ax, [(x_one + 0.27, 4.6), (x_new - 0.27, 4.6)])
    _line(ax, [(x_new, 4.6 + 0.27), (x_new, Y_H - 0.27)])
    # candidate: the recurrent term H_{t-1} W_hh, scaled by R_t before or after the product
    _line(ax, [(0.5, Y_REC), (x_a - (0.5 if reset_after else 0.27), Y_REC)])
    ax.add_patch(Circle((0.5, Y_REC), 0.07, color=INK, zorder=5))
    x_reset = x_b if reset_after else x_a
    x_whh = x_a if reset_after else x_b
    _box(ax, x_whh, Y_REC, r"$W_{hh}$", fill=LINEAR)
    _op(ax, x_reset, Y_REC, TIMES, edge=MEMORY, lw=2.4)
    _line(ax, [(x_a + (0.5 if reset_after else 0.27), Y_REC), (x_b - (0.27 if reset_after else 0.5), Y_REC)])
    _line(ax, [(x_r + 0.5, Y_GATE), (x_reset, Y_GATE), (x_reset, Y_REC - 0.27)], color=MEMORY)
    _label(ax, (x_r + x_reset) / 2 + 0.2, Y_GATE - 0.3, r"$R_t$", color=MEMORY)
    _line(ax, [(x_b + (0.27 if reset_after else 0.5), Y_REC), (x_sum, Y_REC), (x_sum, Y_GATE + 0.27)])
    # the input term X_t W_xh
    _line(ax, [(1.2, 0.2), (x_sum, 0.2), (x_sum, 1.3 - 0.31)])
    ax.add_patch(Circle((1.2, 0.2), 0.07, color=INK, zorder=5))
    _box(ax, x_sum, 1.3, r"$W_{xh}$", fill=LINEAR)
    _line(ax, [(x_sum, 1.3 + 0.31), (x_sum, Y_GATE - 0.27)])
    _op(ax, x_sum, Y_GATE, r"$+$")
    _op(ax, x_new, Y_GATE, r"$\tanh$", radius=0.42, fontsize=10.5)
    _line(ax, [(x_sum + 0.27, Y_GATE), (x_new - 0.42, Y_GATE)])
    _line(ax, [(x_new, Y_GATE + 0.42), (x_new, 4.6 - 0.27)])
    _label(ax, x_new + 0.12, 3.5, r"$\tilde{H}_t$", ha="left")
    _note(
        ax,
        x_reset + 0.3,
        Y_REC - 0.3,
        "reset gate\nacts here",
        color=MEMORY,
        fontsize=10,
        ha="left",
        va="top",
    )
    _legend(
        ax,
        -1.3,
        -2.25,
        [
            ("box", LAYER, "layer with weights"),
            ("box", LINEAR, "affine map only"),
            ("op", POINTWISE, "pointwise operation"),
        ],
    )
    formula = (
        r"$\tilde{H}_t = \tanh(X_t W_{xh} + R_t \odot (H_{t-1} W_{hh}))$"
        if reset_after
        else r"$\tilde{H}_t = \tanh(X_t W_{xh} + (R_t \odot H_{t-1}) W_{hh})$"
    )
    _note(
        ax,
        0.2,
        7.15,
        formula + r",   $H_t = Z_t \odot H_{t-1} + (1 - Z_t) \odot \tilde{H}_t$",
        fontsize=11.5,
        va="bottom",
    )
    return fig
