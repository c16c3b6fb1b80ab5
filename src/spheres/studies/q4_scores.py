"""Study Q4 (scores): does a Klout-like score of what is visible rank buyers by their true
influence, the purchases their advice caused?

From the store's ``runs`` (``score_influence_spearman``, each run's rank correlation of score
and true influence) and ``agents`` (each buyer's ``score`` and ``true_influence``): the
correlation per scenario, and how much of all advice-caused purchases the 10% highest-scored
buyers caused, against the 10% with the highest true influence (the most any top tenth can).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from spheres.analysis.store import SEED
from spheres.studies.base import (
    Findings,
    Store,
    Study,
    by_measure,
    fmt,
    interval,
    per_scenario,
    read_difference,
)
from spheres.studies.figures import estimates_figure, png
from spheres.sweeps.report import _colors, _figure, difference_ci

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP = 0.1  # the top tenth of buyers by score, or by true influence
SPEARMAN = "rank correlation (Spearman) of score and true influence"
MEASURES = [  # column, label, digits
    ("score_influence_spearman", SPEARMAN, 3),
    ("top_by_score", "share of caused purchases made by the top 10% by score", 3),
    ("top_by_influence", "share of caused purchases made by the top 10% by true influence", 3),
]
SPEARMAN_COLUMN = MEASURES[0][0]


def top_shares(store: Store) -> pd.DataFrame:
    """Per run: the share of all caused purchases caused by the top tenth by score and by true
    influence (ties broken by buyer row)."""
    return store.df(f"""
        WITH ranked AS (
            SELECT job, true_influence, count(*) OVER (PARTITION BY job) AS n,
                   row_number() OVER (PARTITION BY job ORDER BY score DESC, agent_id) AS by_score,
                   row_number() OVER (PARTITION BY job ORDER BY true_influence DESC, agent_id)
                       AS by_influence
            FROM agents)
        SELECT job,
               sum(true_influence) FILTER (WHERE by_score <= {TOP} * n)
                   / nullif(sum(true_influence), 0) AS top_by_score,
               sum(true_influence) FILTER (WHERE by_influence <= {TOP} * n)
                   / nullif(sum(true_influence), 0) AS top_by_influence
        FROM ranked GROUP BY job""")


def analyse(store: Store) -> Findings:
    """The rank correlation and top-tenth shares per scenario, the scatter of one seed each."""
    found = Findings()
    runs = store.runs[["job", "scenario", SEED, *store.keys, MEASURES[0][0]]].merge(
        top_shares(store), on="job", how="left")
    levels = {column: per_scenario(runs, column) for column, _, _ in MEASURES}
    for scenario in store.scenarios:
        for column, label, digits in MEASURES:
            found.number(label, scenario, levels[column][scenario], digits)
        rho = levels[SPEARMAN_COLUMN][scenario]
        if rho.clear:
            sign = "positive: higher scores go with more caused purchases" if rho.value > 0 \
                else "negative: higher scores go with fewer caused purchases"
            text = f"the rank correlation of score and true influence is {sign}"
        else:
            text = "no clear rank correlation of score and true influence"
        found.readings.append(
            f"{store.where(scenario)}: {text} (Spearman {fmt(rho.value, 3)}, "
            f"{interval(rho, 3)}); the 10% highest-scored buyers caused "
            f"{fmt(levels['top_by_score'][scenario].value, 3)} of the purchases advice caused "
            f"({interval(levels['top_by_score'][scenario], 3)}), the 10% with the highest true "
            f"influence {fmt(levels['top_by_influence'][scenario].value, 3)}.")
    base = store.scenarios[0] if store.scenarios else None
    for scenario in store.scenarios[1:]:
        diff = difference_ci(runs.loc[runs["scenario"] == scenario, SPEARMAN_COLUMN],
                             runs.loc[runs["scenario"] == base, SPEARMAN_COLUMN])
        found.number(f"{SPEARMAN}: difference from {base}", scenario, diff, 3)
        found.readings.append(read_difference("Between scenarios", SPEARMAN, scenario, base,
                                              diff, 3))

    first, agents = store.lowest_seed_agents("agent_type, score, true_influence")
    found.figures.append(("q4_scatter.png", png(scatter_figure(first, agents)),
                          "Score against true influence of every buyer, one run (the lowest "
                          "seed) per scenario; the vertical axis is linear below 1, logarithmic "
                          "above"))
    found.figures.append(("q4_correlation.png", png(estimates_figure(
        by_measure(store, levels, MEASURES),
        "How well the score ranks true influence (mean over seeds, 95% interval)",
        reference={SPEARMAN: 0.0})),
        "Rank correlation of score and true influence, and the share of caused purchases made "
        "by the top tenth by score and by true influence, per scenario"))
    return found


def scatter_figure(first: pd.DataFrame, agents: pd.DataFrame) -> Figure:
    """Score vs true influence of each buyer, one panel per scenario (one run each)."""
    types = sorted(agents["agent_type"].unique())
    colors = _colors(types)
    fig, axes = _figure(max(len(first), 1), width=4.4, height=3.6)
    for ax, run in zip(axes, first.itertuples(), strict=False):
        data = agents[agents["job"] == run.job]
        for kind in types:
            group = data[data["agent_type"] == kind]
            ax.scatter(group["score"], group["true_influence"], s=6, alpha=0.5,
                       color=colors[kind], label=f"{kind} ({len(group)})")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_xlabel("Klout-like score")
        ax.set_ylabel("true influence (purchases caused)", fontsize="small")
        lines = run.scenario.replace(", ", "\n")  # one swept setting per line
        ax.set_title(f"{lines} (seed {getattr(run, SEED)})", fontsize="small")
        ax.legend(fontsize="x-small", loc="upper left", markerscale=2)
    fig.suptitle("Score vs true influence, one run per scenario")
    return fig


STUDY = Study("q4_scores", "Study Q4: scores", analyse)
