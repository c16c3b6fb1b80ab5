"""Study Q2 (strategy): survival, market share, profit and trust under each seller strategy.

From the store's ``strategies`` table (final share and mean steps in the market of each preset's
sellers), ``sellers`` (share over time; profit over the run per seller) and ``runs`` (final
trust in sellers). The hypothesis sets broadcast advertising against listening and
co-creating, so those are compared with ``broadcast`` run by run (all presets share a run's
buyers), then averaged over seeds.
"""

from __future__ import annotations

import pandas as pd

from spheres.analysis.estimate import Estimate, per_scenario
from spheres.analysis.figures import estimates_figure, strategy_colors, time_figure
from spheres.analysis.store import Store
from spheres.studies.base import Findings, Study, Verdict, share_lead
from spheres.studies.readings import at_scenario, fmt, interval, read_difference

BASE = "broadcast"
CHALLENGERS = ("listen", "cocreate")
MEASURES = [  # column, label, unit, digits
    ("final_share", "final market share", "", 3),
    ("survival", "mean steps in the market", "steps", 1),
    ("profit", "profit per seller over the run", "cents", 0),
]


def per_strategy(store: Store) -> pd.DataFrame:
    """Per run and strategy: final share, mean steps in the market and profit per seller."""
    return store.per_run("""
        SELECT s.job, s.strategy, s.final_share, s.mean_survival_steps AS survival,
               p.profit / (s.start + s.entered) AS profit
        FROM strategies s
        JOIN (SELECT job, strategy, sum(profit) AS profit FROM sellers GROUP BY ALL) p
          USING (job, strategy)""")


def analyse(store: Store) -> Findings:
    """Each strategy's outcomes per scenario, and listening and co-creating against broadcast."""
    found = Findings()
    table = per_strategy(store)
    strategies = list(dict.fromkeys(table.sort_values("strategy")["strategy"]))
    levels: dict[tuple[str, str], dict[str, Estimate]] = {}
    for column, label, _, digits in MEASURES:
        for strategy in strategies:
            levels[column, strategy] = per_scenario(table[table["strategy"] == strategy], column)
            for scenario, e in levels[column, strategy].items():
                found.number(f"{label}: {strategy}", scenario, e, digits)
    trust = per_scenario(store.runs, "trust_final_sellers")
    for scenario, e in trust.items():
        found.number("trust in sellers at the end", scenario, e, 3)

    wide = table.pivot_table(index="job", columns="strategy",
                             values=[c for c, _, _, _ in MEASURES])
    for challenger in [c for c in CHALLENGERS if c in strategies and BASE in strategies]:
        gaps = store.tag(pd.DataFrame({
            column: wide[column][challenger] - wide[column][BASE] for column, _, _, _ in MEASURES
        }).reset_index())
        for column, label, unit, digits in MEASURES:
            for scenario, diff in per_scenario(gaps, column).items():
                found.number(f"{label}: {challenger} − {BASE}", scenario, diff, digits)
                found.readings.append(read_difference(
                    at_scenario(store, scenario), label, f"{challenger} sellers", f"{BASE} sellers",
                    diff, digits, unit))
    for scenario in store.scenarios:
        ranked = sorted(strategies, key=lambda s: -levels["final_share", s][scenario].value)
        found.readings.append(f"{at_scenario(store, scenario)}: ranked by mean final market "
                              "share: " +
                              "; ".join(f"{s} {fmt(levels['final_share', s][scenario].value, 3)} "
                                        f"({interval(levels['final_share', s][scenario], 3)})"
                                        for s in ranked) + ".")

    found.figure("q2_final_share.png", estimates_figure(
        [(s, [(k, levels["final_share", k][s]) for k in strategies]) for s in store.scenarios],
        "Final market share of each strategy (mean over seeds, 95% interval)", cols=2),
        "Final market share of each strategy's sellers, per scenario")
    shares = store.per_run("""SELECT job, step, strategy AS line, sum(share) AS value
                              FROM sellers GROUP BY ALL""")
    found.figure("q2_share_time.png", time_figure(
        [(s, shares[shares["scenario"] == s]) for s in store.scenarios], "share of purchases",
        "Market share by strategy over time (mean over seeds; band: 95% interval of the mean)",
        colors=strategy_colors(strategies), cols=2, ylim=(0, None)),
        "Share of each step's purchases made at each strategy's sellers, per scenario")
    found.figure("q2_survival_profit.png", estimates_figure(
        [(f"{label}\n{s}", [(k, levels[column, k][s]) for k in strategies])
         for column, label, _, _ in MEASURES[1:] for s in store.scenarios],
        "Survival and profit of each strategy (mean over seeds, 95% interval)",
        cols=max(len(store.scenarios), 1) if len(store.scenarios) <= 4 else 3),
        "Mean steps in the market and profit per seller over the run (cents), per strategy "
        "and scenario")
    return found


VERDICT = Verdict(
    "listening sellers end with a larger market share than broadcasting sellers",
    share_lead("listen", "broadcast"),
    ("market.frontier_speed", "market.ad_rate", "market.ad_weight", "sellers.ad_cost",
     "sellers.sense_delay", "market.p_word_of_mouth"),
    measure="listening minus broadcasting sellers' final share")

STUDY = Study("q2_strategy", "Study Q2: strategy", analyse, VERDICT)
