"""Study Q3 (currency): how much social currency helping creates, and where it goes.

Where it flows, how concentrated it is and how fast it circulates.

From the store's ``flows`` (points by source type, destination type, kind and reason: the flow
diagram), ``runs`` (run totals by kind: minted, converted in and out, burned) and ``steps``
(``currency_gini`` and ``currency_velocity`` over time).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from spheres.analysis.estimate import per_scenario
from spheres.analysis.figures import PALETTE, figure, series_colors, time_figure
from spheres.analysis.store import Store, scenario_name
from spheres.studies.base import Findings, Study, Verdict, key_effects, ordered
from spheres.studies.readings import at_scenario, fmt, read_difference

DECAY, REWARD = "currency.decay", "currency.advice_reward"
TOTALS = [  # runs column, label, digits
    ("currency_mint", "points minted for advice that helped", 0),
    ("currency_convert_in", "points converted in from sellers' money", 0),
    ("currency_convert_out", "points converted back into money (perks, cash-outs)", 0),
    ("currency_burn", "points burned by decay", 0),
    ("gini_end", "Gini of balances at the end", 3),
    ("velocity_mean", "mean velocity per step", 4),
]
# Nodes of the flow diagram: name -> (x, y).
NODES = {"minted": (0.0, 1.0), "sellers' money": (0.0, 0.0), "buyers": (1.0, 1.0),
         "influencers": (1.6, 0.0), "burned": (2.6, 1.0), "money": (2.6, 0.0)}


def node(side: str, party: str, kind: str) -> str:
    """The diagram node of a flow's source or destination type (``none`` by the flow's kind)."""
    if party == "none":
        return {"mint": "minted", "burn": "burned"}.get(kind, "money")
    return {"buyer": "buyers", "influencer": "influencers", "seller": "sellers' money"}[party]


def analyse(store: Store) -> Findings:
    """Run totals and their intervals, the flow diagram, Gini and velocity over time."""
    found = Findings()
    runs = store.tag(store.df("""
        SELECT job, arg_max(currency_gini, step) AS gini_end,
               avg(currency_velocity) AS velocity_mean FROM steps GROUP BY job""").merge(
        store.runs[["job", *[c for c, _, _ in TOTALS[:4]]]], on="job"))
    levels = {column: per_scenario(runs, column) for column, _, _ in TOTALS}
    for scenario in store.scenarios:
        for column, label, digits in TOTALS:
            found.number(label, scenario, levels[column][scenario], digits)
        parts = [f"{fmt(levels[c][scenario].value, d)} {label} ({fmt(levels[c][scenario].low, d)}"
                 f" to {fmt(levels[c][scenario].high, d)})" for c, label, d in TOTALS[:4]]
        found.readings.append(f"{at_scenario(store, scenario)}, per run (95% CI): "
                              + "; ".join(parts) + ".")
    for column, label, digits in TOTALS[4:]:
        for where, high, low, diff in key_effects(store, runs, column, DECAY):
            found.readings.append(read_difference(where, label, high, low, diff, digits))
    for where, high, low, diff in key_effects(store, runs, "currency_mint", REWARD):
        found.readings.append(read_difference(where, TOTALS[0][1], high, low, diff, 0))

    flows = store.per_run("""SELECT job, source_type, destination_type, kind, reason,
                                    sum(amount) AS amount FROM flows GROUP BY ALL""")
    shown = store.scenarios
    if REWARD in store.keys:
        middle = ordered(store.runs[REWARD])[len(ordered(store.runs[REWARD])) // 2]
        shown = [s for s in store.scenarios if s in set(
            store.runs.loc[store.runs[REWARD] == middle, "scenario"])]
    found.figure("q3_flows.png", flow_figure(store, flows, shown),
                 "Where social currency flows: points per run (mean over seeds) by "
                 "source, destination and reason; arrow width grows with the amount")
    steps = store.per_run("SELECT job, step, currency_gini, currency_velocity FROM steps")
    line = DECAY if DECAY in store.keys else "scenario"
    steps["line"] = [scenario_name({line: v}, [line]) for v in steps[line]]
    names = [scenario_name({line: v}, [line]) for v in ordered(steps[line])]
    groups = ([(f"{REWARD}={v}", steps[steps[REWARD] == v]) for v in ordered(steps[REWARD])]
              if REWARD in store.keys else [("all runs", steps)])
    for column, label in (("currency_gini", "Gini of balances"),
                          ("currency_velocity", "velocity")):
        panels = [(f"{label}, {name}", g.assign(value=g[column])) for name, g in groups]
        found.figure(f"q3_{column.removeprefix('currency_')}.png", time_figure(
            panels, label, f"{label} of social currency over time by decay (mean over seeds; "
            "band: 95% interval of the mean)", colors=series_colors(names)),
            f"{label} over time, one line per decay setting")
    return found


def flow_figure(store: Store, flows: pd.DataFrame, scenarios: list[str]) -> Figure:
    """A flow diagram per scenario: nodes are who holds or gives currency, arrows the reasons."""
    fig, axes = figure(len(scenarios), width=9.0, height=4.6, cols=1)
    flows = flows.assign(src=[node("src", p, k) for p, k in zip(flows["source_type"],
                                                                 flows["kind"], strict=True)],
                         dst=[node("dst", p, k) for p, k in zip(flows["destination_type"],
                                                                 flows["kind"], strict=True)])
    for ax, scenario in zip(axes, scenarios, strict=True):
        data = flows[flows["scenario"] == scenario]
        n_runs = max(data["job"].nunique(), 1)
        edges = (data.groupby(["src", "dst", "reason"])["amount"].sum() / n_runs).reset_index()
        top = max(float(edges["amount"].max()) if len(edges) else 1.0, 1.0)
        for name, (x, y) in NODES.items():
            ax.text(x, y, name, ha="center", va="center", fontsize="small", zorder=3,
                    bbox={"boxstyle": "round", "facecolor": "#eef", "edgecolor": "#99a"})
        for (src, dst), pair in edges.groupby(["src", "dst"]):
            for i, edge in enumerate(pair.itertuples()):
                _arrow(ax, src, dst, edge, i, len(pair), top)
        ax.set_xlim(-0.4, 3.0)
        ax.set_ylim(-0.75, 1.75)
        ax.set_axis_off()
        ax.set_title(scenario, fontsize="small", wrap=True)
    fig.suptitle("Social currency by source, destination and reason (points per run, mean over "
                 "seeds)")
    return fig


def _arrow(ax: Any, src: str, dst: str, edge: Any, i: int, k: int, top: float) -> None:
    """One flow's arrow and its label; parallel flows between two nodes bend apart."""
    width = 0.8 + 7.0 * np.sqrt(edge.amount / top)
    label = f"{edge.reason.replace('_', ' ')}\n{fmt(edge.amount, 0)}"
    (x0, y0), (x1, y1) = NODES[src], NODES[dst]
    if src == dst:  # a loop above the upper nodes, below the lower ones
        side = 1.0 if y0 > 0 else -1.0
        ax.add_patch(FancyArrowPatch((x0 - 0.1, y0 + 0.08 * side), (x0 + 0.1, y0 + 0.08 * side),
                                     connectionstyle=f"arc3,rad={-1.6 * side}", arrowstyle="-|>",
                                     mutation_scale=10, linewidth=width, color=PALETTE[2],
                                     alpha=0.6))
        ax.text(x0 + 0.22 * (i - (k - 1) / 2) * 2, y0 + 0.42 * side, label, ha="center",
                va="center", fontsize="x-small")
        return
    rad = 0.3 * (i - (k - 1) / 2)
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), connectionstyle=f"arc3,rad={rad}",
                                 arrowstyle="-|>", mutation_scale=12, shrinkA=22, shrinkB=22,
                                 linewidth=width, color=PALETTE[0], alpha=0.5))
    # The label sits on the curve, nearer the source on slanted arrows (a quadratic Bezier
    # through the arc's control point), so that crossing arrows keep their labels apart.
    cx, cy = (x0 + x1) / 2 + rad * (y1 - y0), (y0 + y1) / 2 - rad * (x1 - x0)
    t = 0.5 if y0 == y1 else 0.3 + 0.22 * i
    lx = (1 - t) ** 2 * x0 + 2 * t * (1 - t) * cx + t * t * x1
    ly = (1 - t) ** 2 * y0 + 2 * t * (1 - t) * cy + t * t * y1
    ax.text(lx, ly, label, ha="center", va="center",
            fontsize="x-small", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8,
                                      "pad": 1})


def peer_transfer_share(store: Store) -> pd.DataFrame:
    """Per run: points passed from buyer to buyer, as a share of the points minted."""
    return store.df("""
        SELECT job, coalesce(sum(amount) FILTER (WHERE kind = 'transfer'
                                                 AND source_type = 'buyer'
                                                 AND destination_type = 'buyer'), 0)
                    / nullif(sum(amount) FILTER (WHERE kind = 'mint'), 0) AS value
        FROM flows GROUP BY job ORDER BY job""")


VERDICT = Verdict(
    "points hardly pass between buyers: buyer-to-buyer transfers are under a tenth of the "
    "points minted", peer_transfer_share,
    ("currency.advice_reward", "currency.thank_you", "currency.decay",
     "currency.cashout_threshold", "currency.follower_share", "currency.perk_share"),
    threshold=0.1, below=True,
    measure="points passed buyer to buyer over points minted")

STUDY = Study("q3_currency", "Study Q3: currency", analyse, VERDICT)
