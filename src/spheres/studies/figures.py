"""The figures the studies share: a measure over time with its band, and means with intervals.

Every figure is a matplotlib ``Figure`` on the Agg canvas (no display needed), turned into PNG
bytes by :func:`png`. Panels and colours follow the what-if report's (``spheres.sweeps.report``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spheres.sweeps.report import Estimate, _colors, _figure, _png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["estimates_figure", "mean_band", "png", "time_figure"]
TITLE_WIDTH = 44  # characters per line of a panel's title (small type, a 4.4-inch panel)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    return _png(fig)


def mean_band(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row means of ``wide`` (steps x runs) and the 95% t interval of each mean across runs.

    Runs with no value at a step (NaN) are left out of that step; a step with one run gets no
    band.
    """
    from scipy import stats

    n = wide.notna().sum(axis=1).to_numpy()
    mean = wide.mean(axis=1).to_numpy()
    sem = wide.sem(axis=1).to_numpy()
    with np.errstate(invalid="ignore"):
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sem
    half[n < 2] = np.nan
    return mean, mean - half, mean + half


def time_figure(panels: Sequence[tuple[str, pd.DataFrame]], ylabel: str, title: str,
                lines: Sequence[Any] | None = None, cols: int = 3,
                ylim: tuple[float | None, float | None] | None = None) -> Figure:
    """One panel per ``(title, frame)``; the frame has ``job``, ``step``, ``line``, ``value``.

    Each line is the mean across runs at each step, its band the 95% interval of that mean.
    ``lines`` fixes the lines' order and colours (default: as found).
    """
    names = list(lines) if lines is not None else list(dict.fromkeys(
        v for _, frame in panels for v in frame["line"]))
    colors = _colors([str(n) for n in names])
    fig, axes = _figure(len(panels), width=4.4 if cols >= 3 else 5.5, height=3.3, cols=cols)
    for ax, (panel, frame) in zip(axes, panels, strict=True):
        for name in names:
            group = frame[frame["line"] == name]
            if group.empty:
                continue
            wide = group.pivot_table(index="step", columns="job", values="value",
                                     aggfunc="mean")
            mean, low, high = mean_band(wide)
            ax.plot(wide.index, mean, color=colors[str(name)], label=str(name))
            ax.fill_between(wide.index, low, high, color=colors[str(name)], alpha=0.2,
                            linewidth=0)
        ax.set_title(textwrap.fill(panel, TITLE_WIDTH), fontsize="small")
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel, fontsize="small")
        if ylim is not None:
            ax.set_ylim(*ylim)
    _legend(fig, axes)
    fig.suptitle(title)
    return fig


def estimates_figure(panels: Sequence[tuple[str, Sequence[tuple[str, Estimate]]]], title: str,
                     reference: dict[str, float] | None = None, cols: int = 3) -> Figure:
    """One panel per ``(title, [(row label, estimate), ...])``: means with 95% intervals.

    ``reference`` (panel title -> value) draws a dashed vertical line in that panel, e.g. a
    baseline's mean.
    """
    from matplotlib.ticker import MaxNLocator

    most = max((len(rows) for _, rows in panels), default=1)
    fig, axes = _figure(len(panels), width=4.6, height=1.5 + 0.32 * most, cols=cols)
    # Panels with the same rows name them once, at the left of each line of panels.
    same = len({tuple(label for label, _ in rows) for _, rows in panels}) == 1
    for i, (ax, (panel, rows)) in enumerate(zip(axes, panels, strict=True)):
        y = np.arange(len(rows))
        values = np.array([e.value for _, e in rows])
        low = np.array([e.value - e.low if e.has_interval else 0.0 for _, e in rows])
        high = np.array([e.high - e.value if e.has_interval else 0.0 for _, e in rows])
        ax.errorbar(values, y, xerr=[low, high], fmt="o", capsize=3)
        named = not same or i % min(len(panels), cols) == 0
        ax.set_yticks(y, [label for label, _ in rows] if named else [], fontsize="small")
        ax.set_ylim(len(rows) - 0.5, -0.5)
        if reference and panel in reference:
            ax.axvline(reference[panel], color="grey", linestyle="--", linewidth=1)
        ax.set_title(textwrap.fill(panel, TITLE_WIDTH), fontsize="small")
        ax.tick_params(axis="x", labelsize="small")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4))
    fig.suptitle(title)
    return fig


def _legend(fig: Figure, axes: Sequence[Any]) -> None:
    """One legend for the whole figure, below the panels, from the first panel with lines."""
    for ax in axes:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6),
                       fontsize="small")
            return
