"""One figure style and one palette for every plot: reports, studies, the classroom, notebooks.

Colours:

- a strategy always has the same colour, the palette's colour at the strategy's place in the
  registry (``inert`` blue, ``broadcast`` orange, ``listen`` green, ``sponsor`` red,
  ``cocreate`` purple, ``lagging`` brown, ``seed`` pink): :func:`strategy_colors`,
  :func:`strategy_color`;
- kinds of currency movement, agent types and trust sources have fixed colours too
  (:data:`CURRENCY_KIND_COLORS`, :data:`AGENT_TYPE_COLORS`, :data:`TRUST_COLORS`);
- other lines (a setting's values, kinds of seller) take the palette in order:
  :func:`series_colors`.

Style: :data:`STYLE` holds the matplotlib settings every figure is made with (the palette as the
colour cycle, no top or right frame line); a notebook applies it with
``matplotlib.pyplot.style.use(STYLE)``. :func:`figure` makes a figure of panels with that style
on the Agg canvas (no display needed) and :func:`png` turns it into PNG bytes. The drawings that
several reports share are here too: survival curves (:func:`survival_figure`), lines over time
with a band (:func:`time_figure`) and means with their intervals (:func:`estimates_figure`).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from io import BytesIO
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps, cycler, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from spheres.analysis.estimate import Estimate, error_bars, kaplan_meier, mean_band
from spheres.model.currency import KINDS
from spheres.model.measures import TRUST_COLUMNS
from spheres.model.strategies import STRATEGIES

# Matplotlib's ten "tab10" colours, as CSS hex.
PALETTE: tuple[str, ...] = tuple(to_hex(c) for c in colormaps["tab10"].colors)
# Kinds of currency movement: colours apart from the strategies' (the first seven of PALETTE).
CURRENCY_KIND_COLORS: dict[str, str] = dict(zip(
    KINDS, ("#bcbd22", "#17becf", "#1a3d8f", "#7f7f7f", "#000000"), strict=True))
AGENT_TYPE_COLORS: dict[str, str] = {"buyer": PALETTE[0], "influencer": PALETTE[3],
                                     "seller": PALETTE[2]}
TRUST_COLORS: dict[str, str] = dict(zip(TRUST_COLUMNS, PALETTE, strict=False))
# Where an answer holds and where it flips (spheres explore).
VERDICT_COLORS: dict[str, str] = {"holds": PALETTE[2], "flips": PALETTE[3]}
STYLE: dict[str, Any] = {
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
}
DPI = 100  # pixels per inch of the PNG figures
TITLE_WIDTH = 44  # characters per line of a panel's title (small type, a 4.4-inch panel)

Band = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray, np.ndarray]]


# -- the palette --------------------------------------------------------------------------------


def strategy_colors(names: Iterable[str]) -> dict[str, str]:
    """Map each strategy name to its colour (CSS hex), the same in every figure and page.

    A registered strategy gets the palette's colour at its place in the registry; a name the
    registry does not hold gets the palette's next colours after the registry's, in order.
    """
    registry = list(STRATEGIES)
    colors: dict[str, str] = {}
    extra = len(registry)
    for name in names:
        if name in colors:
            continue
        if name in registry:
            colors[name] = PALETTE[registry.index(name) % len(PALETTE)]
        else:
            colors[name] = PALETTE[extra % len(PALETTE)]
            extra += 1
    return colors


def strategy_color(name: str) -> str:
    """Return the colour (CSS hex) of one strategy: see :func:`strategy_colors`."""
    return strategy_colors([name])[name]


def series_colors(names: Iterable[Any]) -> dict[Any, str]:
    """Map each name of lines that are not strategies to the palette's colours, in order."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(dict.fromkeys(names))}


# -- the style ----------------------------------------------------------------------------------


def figure(n_panels: int, width: float = 4.2, height: float = 3.2,
           cols: int = 3) -> tuple[Figure, list[Axes]]:
    """Make a figure of ``n_panels`` panels, ``cols`` to a row, each ``width`` x ``height`` inches.

    The figure has the :data:`STYLE`, a constrained layout and the Agg canvas; panels beyond
    ``n_panels`` in the last row are hidden.
    """
    cols = max(min(n_panels, cols), 1)
    rows = max(math.ceil(n_panels / cols), 1)
    with rc_context(STYLE):
        fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
        FigureCanvasAgg(fig)
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def png(fig: Figure) -> bytes:
    """Return the figure as PNG bytes."""
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def panel_title(ax: Axes, text: str, width: int = TITLE_WIDTH) -> None:
    """Set a panel's title in small type, wrapped at ``width`` characters."""
    ax.set_title(textwrap.fill(text, width, break_long_words=True), fontsize="small")


def legend_below(fig: Figure, axes: Sequence[Axes]) -> None:
    """Draw one legend for the whole figure, below the panels, from the first panel with lines."""
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6),
                       fontsize="small")
            return


# -- shared drawings ----------------------------------------------------------------------------


def survival_figure(panels: Sequence[tuple[str, Mapping[str, tuple[np.ndarray, np.ndarray]]]],
                    colors: Mapping[str, str], title: str,
                    legend_title: str | None = None) -> Figure:
    """Draw Kaplan–Meier survival curves, one panel per ``(title, {line: (times, exited)})``.

    ``times`` are the steps each seller was alive; ``exited`` marks those that left (the others
    are censored). Each line's label counts its sellers.
    """
    fig, axes = figure(len(panels))
    for ax, (panel, lines) in zip(axes, panels, strict=True):
        for name, (times, exited) in lines.items():
            x, y = kaplan_meier(np.asarray(times, dtype=float), np.asarray(exited, dtype=bool))
            ax.step(x, y, where="post", color=colors[name], label=f"{name} ({len(times)})")
        panel_title(ax, panel)
        ax.set_xlabel("steps alive")
        ax.set_ylabel("share of sellers still in the market", fontsize="small")
        ax.set_ylim(-0.02, 1.02)
        if lines:
            ax.legend(fontsize="x-small", loc="lower left", title=legend_title,
                      title_fontsize="x-small")
    fig.suptitle(title)
    return fig


def time_figure(panels: Sequence[tuple[str, pd.DataFrame]], ylabel: str, title: str,
                colors: Mapping[Any, str] | None = None, cols: int = 3,
                ylim: tuple[float | None, float | None] | None = None,
                band: Band = mean_band) -> Figure:
    """Draw lines over time, one panel per ``(title, frame)`` with ``job, step, line, value``.

    Each line is the mean across runs at each step, with a band (by default the 95% interval of
    that mean; ``band`` may be :func:`~spheres.analysis.estimate.middle_band`). ``colors`` fixes
    the lines' order and colours (default: the palette, in the order found).
    """
    if colors is None:
        colors = series_colors(v for _, frame in panels for v in frame["line"])
    fig, axes = figure(len(panels), width=4.4 if cols >= 3 else 5.5, height=3.3, cols=cols)
    for ax, (panel, frame) in zip(axes, panels, strict=True):
        for name, color in colors.items():
            group = frame[frame["line"] == name]
            if group.empty:
                continue
            wide = group.pivot_table(index="step", columns="job", values="value",
                                     aggfunc="mean")
            mean, low, high = band(wide)
            ax.plot(wide.index, mean, color=color, label=str(name))
            ax.fill_between(wide.index, low, high, color=color, alpha=0.2, linewidth=0)
        panel_title(ax, panel)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel, fontsize="small")
        if ylim is not None:
            ax.set_ylim(*ylim)
    legend_below(fig, axes)
    fig.suptitle(title)
    return fig


def estimates_figure(panels: Sequence[tuple[str, Sequence[tuple[str, Estimate]]]], title: str,
                     reference: Mapping[str, float] | None = None, cols: int = 3) -> Figure:
    """Draw means with their 95% intervals, one panel per ``(title, [(row, estimate), ...])``.

    ``reference`` (panel title -> value) draws a dashed vertical line in that panel, e.g. a
    baseline's mean. Panels with the same rows name them once, at the left of each line of
    panels.
    """
    most = max((len(rows) for _, rows in panels), default=1)
    fig, axes = figure(len(panels), width=4.6, height=1.5 + 0.32 * most, cols=cols)
    same = len({tuple(label for label, _ in rows) for _, rows in panels}) == 1
    for i, (ax, (panel, rows)) in enumerate(zip(axes, panels, strict=True)):
        y = np.arange(len(rows))
        values, below, above = error_bars([e for _, e in rows])
        ax.errorbar(values, y, xerr=[below, above], fmt="o", capsize=3, color=PALETTE[0])
        named = not same or i % min(len(panels), cols) == 0
        ax.set_yticks(y, [label for label, _ in rows] if named else [], fontsize="small")
        ax.set_ylim(len(rows) - 0.5, -0.5)
        if reference and panel in reference:
            ax.axvline(reference[panel], color="grey", linestyle="--", linewidth=1)
        panel_title(ax, panel)
        ax.tick_params(axis="x", labelsize="small")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    fig.suptitle(title)
    return fig
