"""Study Q5 (network value): whom does lifetime value undervalue, against network value?

Lifetime value is a buyer's own spend; network value the spend its advice caused in others,
recursively.

From the store's ``agents`` table, per run: the rank correlation of the two values
(``scipy.stats.spearmanr``), the share of all network value held by the lower half of buyers by
lifetime value, and the *undervalued*: buyers in the top tenth by network value but the lower
half by lifetime value, with how well connected they are (``degree_percentile``: 0.5 is the
middle of the degree ranking, near 1 the best connected). Ties are broken by buyer row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from spheres.analysis.estimate import mean_ci, per_scenario
from spheres.analysis.store import Store
from spheres.studies.base import Findings, Study, Verdict, key_effects
from spheres.studies.figures import ONE_RUN_EACH, measures_figure, run_panels
from spheres.studies.readings import at_scenario, read_difference, read_level

TOP = 0.1  # the top tenth by network value
MEASURES = [  # column, label, digits
    ("spearman", "rank correlation (Spearman) of lifetime and network value", 3),
    ("low_half_share", "share of network value held by the lower half by lifetime value", 3),
    ("undervalued", "share of buyers undervalued (top 10% network value, lower half lifetime)",
     3),
    ("undervalued_degree", "mean degree percentile of the undervalued", 3),
    ("undervalued_influencers", "share of the undervalued that are influencers", 3),
]
MIDDLE = 0.5  # the degree percentile of the middle buyer


def per_run(store: Store) -> pd.DataFrame:
    """Per run: the measures of :data:`MEASURES`."""
    agents = store.df("""SELECT job, agent_id, agent_type, degree_percentile, lifetime_value,
                                network_value FROM agents ORDER BY job, agent_id""")
    rows = []
    for job, a in agents.groupby("job", sort=True):
        n = len(a)
        low_half = a["lifetime_value"].rank(method="first") <= n / 2
        top = a["network_value"].rank(method="first", ascending=False) <= TOP * n
        under = a[low_half & top]
        total = a["network_value"].sum()
        rho = stats.spearmanr(a["lifetime_value"], a["network_value"]).statistic
        rows.append({"job": job, "spearman": rho,
                     "low_half_share": a.loc[low_half, "network_value"].sum() / total
                     if total > 0 else np.nan,
                     "undervalued": len(under) / n,
                     "undervalued_degree": under["degree_percentile"].mean(),
                     "undervalued_influencers": (under["agent_type"] == "influencer").mean()
                     if len(under) else np.nan})
    return store.tag(pd.DataFrame(rows, columns=["job", *[c for c, _, _ in MEASURES]]))


def analyse(store: Store) -> Findings:
    """The measures per scenario, who is undervalued and how connected, one scatter each."""
    found = Findings()
    runs = per_run(store)
    levels = {column: per_scenario(runs, column) for column, _, _ in MEASURES}
    for scenario in store.scenarios:
        for column, label, digits in MEASURES:
            found.number(label, scenario, levels[column][scenario], digits)
        where = at_scenario(store, scenario)
        found.readings.append(read_level(where, MEASURES[0][1], levels["spearman"][scenario], 3))
        found.readings.append(read_level(where, MEASURES[1][1], levels["low_half_share"][scenario],
                                         3))
        found.readings.append(read_level(where, MEASURES[2][1], levels["undervalued"][scenario],
                                         3))
        gap = mean_ci(runs.loc[runs["scenario"] == scenario, "undervalued_degree"] - MIDDLE)
        found.number("degree percentile of the undervalued − 0.5", scenario, gap, 3)
        found.readings.append(read_difference(
            where, "degree percentile", "the undervalued buyers", "the middle buyer (0.5)", gap,
            3))
    for where, high, low, diff in key_effects(store, runs, "low_half_share",
                                              "market.p_word_of_mouth"):
        found.readings.append(read_difference(where, MEASURES[1][1], high, low, diff, 3))

    found.figure("q5_values.png", scatter_figure(store),
                 f"Lifetime value against network value of every buyer (cents), {ONE_RUN_EACH}, "
                 "coloured by degree percentile; the axes are linear below 100 cents and "
                 "logarithmic above")
    found.figure("q5_undervalued.png", measures_figure(
        store, levels, MEASURES,
        "Who lifetime value undervalues (mean over seeds, 95% interval)",
        reference={MEASURES[3][1]: MIDDLE, MEASURES[0][1]: 0.0}),
        "Per scenario: rank correlation of the two values, the network value held by the lower "
        "half by lifetime value, and the undervalued buyers: how many, how connected (dashed: "
        "the middle buyer), how many are influencers")
    return found


def scatter_figure(store: Store) -> Figure:
    """Draw lifetime vs network value per buyer, by degree percentile, one panel per run."""
    fig, panels = run_panels(store, "degree_percentile, lifetime_value, network_value")
    points = None
    for ax, data in panels:
        points = ax.scatter(data["lifetime_value"], data["network_value"], s=5, alpha=0.6,
                            c=data["degree_percentile"], cmap="viridis", vmin=0, vmax=1)
        for axis in ("x", "y"):
            getattr(ax, f"set_{axis}scale")("symlog", linthresh=100)
        ax.set_xlabel("lifetime value (cents)")
        ax.set_ylabel("network value (cents)")
    if points is not None:
        fig.colorbar(points, ax=[ax for ax, _ in panels], label="degree percentile", shrink=0.8)
    fig.suptitle("Lifetime value vs network value, one run per scenario")
    return fig


def lifetime_network_spearman(store: Store) -> pd.DataFrame:
    """Per run: the rank correlation of buyers' lifetime and network value."""
    return per_run(store)[["job", "spearman"]].rename(columns={"spearman": "value"})


VERDICT = Verdict(
    "lifetime value is a weak guide to network value (Spearman below 0.5)",
    lifetime_network_spearman,
    ("market.p_word_of_mouth", "market.need_shape", "market.audience_growth",
     "network.influencer_share", "market.network_value_decay"),
    threshold=0.5, below=True, measure="Spearman of lifetime and network value",
    choices=(("network", ("barabasi_albert", "erdos_renyi")),))

STUDY = Study("q5_network_value", "Study Q5: network value", analyse, VERDICT)
