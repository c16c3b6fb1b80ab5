"""The figures several studies draw alike: measures by scenario, and one run's agents per panel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spheres.analysis.estimate import Estimate
from spheres.analysis.figures import estimates_figure, figure
from spheres.analysis.store import SEED, Store
from spheres.studies.base import short

# What :func:`run_panels` shows, in words for a caption.
ONE_RUN_EACH = "one run (the lowest seed) per scenario"


def measures_figure(store: Store, levels: Mapping[str, Mapping[str, Estimate]],
                    measures: Sequence[tuple[Any, ...]], title: str,
                    reference: Mapping[str, float] | None = None) -> Figure:
    """Draw each measure's mean and interval in every scenario, one panel per measure.

    ``measures`` are ``(column, label, ...)``; ``levels`` maps column -> scenario -> estimate.
    ``reference`` (label -> value) draws a dashed line in that measure's panel.
    """
    panels = [(m[1], [(short(s), levels[m[0]][s]) for s in store.scenarios]) for m in measures]
    return estimates_figure(panels, title, reference=reference)


def run_panels(store: Store, columns: str, width: float = 4.4,
               height: float = 3.6) -> tuple[Figure, list[tuple[Axes, pd.DataFrame]]]:
    """Make one panel per scenario holding the ``agents`` rows of its run with the lowest seed.

    ``columns`` (an SQL column list) are read for each agent. Each panel's title names the
    scenario, one swept setting per line, and the run's seed. Returns the figure and each panel
    with its rows.
    """
    first, agents = store.lowest_seed_agents(columns)
    fig, axes = figure(max(len(first), 1), width=width, height=height)
    panels = []
    for ax, run in zip(axes, first.itertuples(), strict=False):
        lines = run.scenario.replace(", ", "\n")
        ax.set_title(f"{lines} (seed {getattr(run, SEED)})", fontsize="small")
        panels.append((ax, agents[agents["job"] == run.job]))
    return fig, panels
