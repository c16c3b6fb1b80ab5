"""The what-if report's figures: survival, market share, currency flows, outcomes, Sobol indices.

Every figure has the one style and palette of :mod:`spheres.analysis.figures`: a strategy has
the colour it has in the studies, the classroom page and the notebooks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from spheres.analysis.estimate import MISSING, Estimate, middle_band
from spheres.analysis.figures import (
    CURRENCY_KIND_COLORS,
    PALETTE,
    estimates_figure,
    figure,
    legend_below,
    panel_title,
    strategy_colors,
    survival_figure,
    time_figure,
)
from spheres.model.currency import CURRENCY_LABELS, KINDS
from spheres.report.outcomes import Outcome
from spheres.report.sweep import Sweep

SOBOL_TITLE_WIDTH = 48  # characters per line of an outcome key (a difference of two is long)


def survival_by_strategy(sweep: Sweep) -> Figure:
    """Draw the Kaplan–Meier survival of sellers by strategy, one panel per scenario.

    A seller's time is its steps alive; an exit is an event, a seller alive at the end is
    censored.
    """
    panels = []
    for scenario in sweep.scenarios:
        data = sweep.survival[sweep.survival["scenario"] == scenario]
        panels.append((scenario, {str(strategy): (group["steps_alive"].to_numpy(dtype=float),
                                                  group["exited"].to_numpy(dtype=bool))
                                  for strategy, group in data.groupby("strategy")}))
    colors = strategy_colors(name for _, lines in panels for name in lines)
    return survival_figure(panels, colors, "Seller survival by strategy (Kaplan–Meier; sellers "
                           "alive at the end censored)", legend_title="strategy (sellers)")


def share_by_strategy(sweep: Sweep) -> Figure:
    """Draw market share by strategy over time: mean across seeds, band = middle 95% of runs."""
    shares = sweep.shares[sweep.shares["run"].isin(sweep.outcomes["run"])]
    shares = shares.assign(job=shares["run"], line=shares["strategy"], value=shares["share"])
    return time_figure([(s, shares[shares["scenario"] == s]) for s in sweep.scenarios],
                       "share of purchases", "Market share by strategy (line: mean across seeds; "
                       "band: middle 95% of runs)", colors=strategy_colors(sweep.strategies),
                       ylim=(0, 1), band=middle_band)


def currency_flows(sweep: Sweep) -> Figure:
    """Draw social currency moved per step by kind, mean across seeds, one panel per scenario."""
    fig, axes = figure(len(sweep.scenarios))
    ok = sweep.flows[sweep.flows["run"].isin(sweep.outcomes["run"])]
    for ax, scenario in zip(axes, sweep.scenarios, strict=True):
        data = ok[ok["scenario"] == scenario]
        runs = max(data["run"].nunique(), 1)
        by_kind = data.pivot_table(index="step", columns="kind", values="amount", aggfunc="sum",
                                   fill_value=0) / runs
        for kind in [k for k in KINDS if k in by_kind.columns]:
            ax.plot(by_kind.index, by_kind[kind], color=CURRENCY_KIND_COLORS[kind],
                    label=CURRENCY_LABELS.get(kind, kind))
        panel_title(ax, scenario)
        ax.set_xlabel("step")
        ax.set_ylabel("points per step (mean over seeds)", fontsize="small")
    legend_below(fig, axes)
    fig.suptitle("Social currency flows by kind")
    return fig


def outcomes_by_scenario(sweep: Sweep, outcomes: Sequence[Outcome],
                         found: dict[tuple[str, str], Estimate]) -> Figure:
    """Draw each outcome's mean per scenario with its 95% interval (rows S1, S2, ...)."""
    rows = [f"S{i + 1}" for i in range(len(sweep.scenarios))]
    panels = [(o.label, [(row, found.get((s, o.column), MISSING))
                         for row, s in zip(rows, sweep.scenarios, strict=True)])
              for o in outcomes]
    return estimates_figure(panels, "Main outcomes by scenario (mean across seeds, 95% interval; "
                                    "S1.. as in the scenario table)")


def sobol_indices(indices: pd.DataFrame) -> Figure:
    """Draw bars of first-order (S1) and total (ST) Sobol indices per outcome, with intervals."""
    groups = list(indices.groupby(["sweep", "outcome"], sort=False))
    fig, axes = figure(len(groups), width=4.6)
    for ax, ((sweep, outcome), group) in zip(axes, groups, strict=True):
        x = np.arange(len(group))
        ax.bar(x - 0.2, group["S1"], 0.4, yerr=group["S1_conf"], capsize=3, color=PALETTE[0],
               label="S1 (alone)")
        ax.bar(x + 0.2, group["ST"], 0.4, yerr=group["ST_conf"], capsize=3, color=PALETTE[1],
               label="ST (with interactions)")
        ax.set_xticks(x, group["parameter"], rotation=20, ha="right", fontsize="small")
        ax.axhline(0, color="black", linewidth=0.5)
        title = f"{outcome}" + (f" ({sweep})" if indices["sweep"].nunique() > 1 else "")
        panel_title(ax, title, SOBOL_TITLE_WIDTH)
        ax.set_ylabel("Sobol index")
        if group[["S1", "ST"]].isna().all().all():
            ax.text(0.5, 0.5, "no index: the outcome did not vary\n(or a run did not give it)",
                    transform=ax.transAxes, ha="center", va="center", fontsize="small")
        else:
            ax.legend(fontsize="x-small")
    fig.suptitle("Global sensitivity: share of each outcome's variance due to each parameter")
    return fig
