"""Study Q4 (scores): does a Klout-like score rank buyers by their true influence?

The score counts what is visible; true influence is the purchases a buyer's advice caused.

From the store's ``runs`` (``score_influence_spearman``, each run's rank correlation of score
and true influence) and ``agents`` (each buyer's ``score`` and ``true_influence``): the
correlation per scenario, and how much of all advice-caused purchases the 10% highest-scored
buyers caused, against the 10% with the highest true influence (the most any top tenth can).
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from spheres.analysis.estimate import difference_ci, per_scenario
from spheres.analysis.figures import AGENT_TYPE_COLORS
from spheres.analysis.store import SEED, Store
from spheres.studies.base import Findings, Study, Verdict, runs_column
from spheres.studies.figures import ONE_RUN_EACH, measures_figure, run_panels
from spheres.studies.readings import at_scenario, fmt, interval, read_difference

TOP = 0.1  # the top tenth of buyers by score, or by true influence
SPEARMAN = "rank correlation (Spearman) of score and true influence"
MEASURES = [  # column, label, digits
    ("score_influence_spearman", SPEARMAN, 3),
    ("top_by_score", "share of caused purchases made by the top 10% by score", 3),
    ("top_by_influence", "share of caused purchases made by the top 10% by true influence", 3),
]
SPEARMAN_COLUMN = MEASURES[0][0]


def top_shares(store: Store) -> pd.DataFrame:
    """Compute each run's share of caused purchases made by the top tenth by score and by influence.

    Ties are broken by buyer row.
    """
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
            f"{at_scenario(store, scenario)}: {text} (Spearman {fmt(rho.value, 3)}, "
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

    found.figure("q4_scatter.png", scatter_figure(store),
                 f"Score against true influence of every buyer, {ONE_RUN_EACH}; the vertical "
                 "axis is linear below 1, logarithmic above")
    found.figure("q4_correlation.png", measures_figure(
        store, levels, MEASURES,
        "How well the score ranks true influence (mean over seeds, 95% interval)",
        reference={SPEARMAN: 0.0}),
        "Rank correlation of score and true influence, and the share of caused purchases made "
        "by the top tenth by score and by true influence, per scenario")
    return found


def scatter_figure(store: Store) -> Figure:
    """Draw score vs true influence of each buyer, one panel per scenario (one run each)."""
    fig, panels = run_panels(store, "agent_type, score, true_influence")
    types = sorted({kind for _, data in panels for kind in data["agent_type"]})
    for ax, data in panels:
        for kind in types:
            group = data[data["agent_type"] == kind]
            ax.scatter(group["score"], group["true_influence"], s=6, alpha=0.5,
                       color=AGENT_TYPE_COLORS[kind], label=f"{kind} ({len(group)})")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_xlabel("Klout-like score")
        ax.set_ylabel("true influence (purchases caused)", fontsize="small")
        ax.legend(fontsize="x-small", loc="upper left", markerscale=2)
    fig.suptitle("Score vs true influence, one run per scenario")
    return fig


VERDICT = Verdict(
    "the visible score ranks agents like their true influence (Spearman above 0.5)",
    runs_column("score_influence_spearman"),
    ("market.audience_growth", "market.post_reach", "market.p_word_of_mouth",
     "network.influencer_share", "market.promote_at"),
    threshold=0.5, measure="Spearman of score and true influence",
    choices=(("network", ("barabasi_albert", "erdos_renyi", "watts_strogatz")),))

STUDY = Study("q4_scores", "Study Q4: scores", analyse, VERDICT)
