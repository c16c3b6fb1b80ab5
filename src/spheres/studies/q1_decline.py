"""Study Q1 (decline): do sellers steering by lagging sales decline faster than listeners?

The question: do sellers that steer by lagging sales decline faster than sellers that listen to
conversations, the more so the faster expectations move?

From the store's ``sellers`` table, grouped by each seller's ``sensing`` method: each seller's
steps in the market (an exit is an event, a seller alive at the end is censored), the distance of
the alive sellers' offerings to the mean buyer expectation (``sync``) over time, and their share
of purchases at the last step. Within a run both kinds of seller face the same buyers, so each
gap is taken run by run and then averaged over seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from spheres.analysis.estimate import per_scenario
from spheres.analysis.figures import (
    strategy_color,
    survival_figure,
    time_figure,
)
from spheres.analysis.store import Store
from spheres.studies.base import Findings, Study, Verdict, key_effects, share_lead
from spheres.studies.figures import measures_figure
from spheres.studies.readings import at_scenario, read_difference

LAGGING, LISTENING = "lagging_sales", "conversations"
NAMES = {LAGGING: "lagging sellers", LISTENING: "listening sellers"}
# Each kind of seller in the colour of the strategy that senses that way.
COLORS = {NAMES[LAGGING]: strategy_color("lagging"), NAMES[LISTENING]: strategy_color("listen")}
SPEED, CONTACTS = "market.frontier_speed", "market.contacts"


def sellers(store: Store) -> pd.DataFrame:
    """Read each run's sellers: sensing, steps alive, exit, summed sync and final share.

    The sync is summed over the steps the seller was alive; the share is that of purchases at
    the last step.
    """
    return store.per_run("""
        SELECT job, seller_id, any_value(sensing) AS sensing,
               sum(CAST(alive AS INTEGER)) AS steps_alive, NOT arg_max(alive, step) AS exited,
               sum(sync) FILTER (WHERE alive) AS sync_sum, arg_max(share, step) AS final_share
        FROM sellers GROUP BY job, seller_id""")


def per_run(store: Store, table: pd.DataFrame) -> pd.DataFrame:
    """Compute each run's gaps between listening and lagging sellers.

    Survival and final share: listening minus lagging; sync (the mean over alive seller-steps):
    lagging minus listening.
    """
    grouped = table.groupby(["job", "sensing"]).agg(
        survival=("steps_alive", "mean"), sync_sum=("sync_sum", "sum"),
        steps=("steps_alive", "sum"), share=("final_share", "sum"))
    by = grouped.unstack("sensing")

    def of(measure: str, sensing: str) -> pd.Series:
        """A measure of one kind of seller per run (NaN where a run has none of that kind)."""
        found = by.get((measure, sensing))
        return found if found is not None else pd.Series(np.nan, index=by.index)

    sync = {s: of("sync_sum", s) / of("steps", s) for s in NAMES}
    gaps = pd.DataFrame({
        "survival_lagging": of("survival", LAGGING),
        "survival_listening": of("survival", LISTENING),
        "survival_gap": of("survival", LISTENING) - of("survival", LAGGING),
        "sync_gap": sync[LAGGING] - sync[LISTENING],
        "share_gap": of("share", LISTENING) - of("share", LAGGING)}).reset_index()
    return store.tag(gaps)


NUMBERS = [  # column, label, digits
    ("survival_lagging", "mean steps in the market, lagging sellers", 1),
    ("survival_listening", "mean steps in the market, listening sellers", 1),
    ("survival_gap", "survival gap: listening − lagging (steps)", 1),
    ("sync_gap", "sync gap: lagging − listening (distance to expectations)", 3),
    ("share_gap", "final share gap: listening − lagging", 3),
]


def analyse(store: Store) -> Findings:
    """Survival curves, sync over time, and the gaps between listening and lagging sellers."""
    found = Findings()
    table = sellers(store)
    table = table[table["sensing"].isin(NAMES)]
    runs = per_run(store, table)
    estimates = {column: per_scenario(runs, column) for column, _, _ in NUMBERS}
    for scenario in store.scenarios:
        for column, label, digits in NUMBERS:
            found.number(label, scenario, estimates[column][scenario], digits)
    for column, measure, digits, unit in (("survival_gap", "mean steps in the market", 1,
                                           "steps"),
                                          ("share_gap", "final market share", 3, "")):
        for scenario in store.scenarios:
            found.readings.append(read_difference(
                at_scenario(store, scenario), measure, NAMES[LISTENING], NAMES[LAGGING],
                estimates[column][scenario], digits, unit))
    for key in (SPEED, CONTACTS):
        for where, high, low, diff in key_effects(store, runs, "survival_gap", key):
            found.readings.append(read_difference(
                where, "the survival gap (listening minus lagging sellers' mean steps)", high, low,
                diff, 1, "steps"))
    for where, high, low, diff in key_effects(store, runs, "sync_gap", SPEED):
        found.readings.append(read_difference(
            where, "the sync gap (lagging minus listening sellers' distance to expectations)",
            high, low, diff, 3))

    found.figure("q1_survival.png", survival_panels(store, table),
                 "Kaplan–Meier survival of lagging and listening sellers per scenario, "
                 "all seeds pooled (a seller alive at the end is censored)")
    sync = store.per_run("""SELECT job, step, sensing AS line, avg(sync) AS value
                            FROM sellers WHERE alive GROUP BY ALL""")
    sync = sync[sync["line"].isin(NAMES)].assign(line=lambda f: f["line"].map(NAMES))
    found.figure("q1_sync.png", time_figure(
        [(s, sync[sync["scenario"] == s]) for s in store.scenarios],
        "distance of offering to expectations", "Sync of alive sellers over time by sensing "
        "(mean over seeds; band: 95% interval of the mean)", colors=COLORS),
        "Distance between the offerings of alive sellers and the mean buyer expectation, "
        "lagging vs listening sellers, per scenario (lower is closer)")
    found.figure("q1_gaps.png", measures_figure(
        store, estimates, [n for n in NUMBERS if n[0].endswith("_gap")],
        "Gaps between listening and lagging sellers by scenario (mean over seeds, 95% interval)",
        reference={label: 0.0 for column, label, _ in NUMBERS}), "The gaps per scenario: "
        "survival and final share (listening − lagging), sync (lagging − listening)")
    return found


def survival_panels(store: Store, table: pd.DataFrame) -> Figure:
    """Draw Kaplan–Meier curves of lagging and listening sellers, one panel per scenario."""
    panels = []
    for scenario in store.scenarios:
        data = table[table["scenario"] == scenario]
        groups = {NAMES[sensing]: data[data["sensing"] == sensing] for sensing in NAMES}
        panels.append((scenario, {name: (g["steps_alive"].to_numpy(dtype=float),
                                         g["exited"].to_numpy(dtype=bool))
                                  for name, g in groups.items() if not g.empty}))
    return survival_figure(panels, COLORS, "Seller survival by sensing (Kaplan–Meier; sellers "
                           "alive at the end censored)")


VERDICT = Verdict(
    "sellers that listen end with a larger market share than sellers that steer by lagging "
    "sales", share_lead("listen", "lagging"),
    ("market.frontier_speed", "market.contacts", "sellers.sense_delay", "sellers.sense_noise",
     "market.p_word_of_mouth", "market.drift_rate"),
    measure="listening minus lagging sellers' final share")

STUDY = Study("q1_decline", "Study Q1: decline", analyse, VERDICT)
