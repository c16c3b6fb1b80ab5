"""Measure, at the default settings, each mechanism the seven questions rest on.

    python experiments/mechanism_checks.py              # seeds 0-4, about ten minutes
    python experiments/mechanism_checks.py --seeds 10 --buyers 3000
    python experiments/mechanism_checks.py --checks 7              # one check only

Prints one table per check, each a mean over seeds with its standard deviation:

1. the lag of expectations behind the frontier at 1, 3 and 10 contacts per step, at mean degree
   4, 10 and 40, and with the pull toward more advanced contacts switched off (Q1);
2. survival and final share of lagging vs listening sellers with the same marketing (none), with
   the frontier still, at the default speed and fast (Q1);
3. final market share by strategy at the defaults (entry off, so entrants do not blur the
   presets) and with a fast frontier, where the ranking changes; broadcast sellers as the cost
   of an ad grows, since marketing is paid from a budget that is a share of cash (Q2);
4. trust in peers, influencers and sellers at the end of all-broadcast, all-listen and
   all-sponsor runs (Q7); 4b. trust meets experience symmetrically: trust in sellers and peers
   after 260 weekly steps of all-broadcast runs with ads about once a year, whose ads claim 0.2
   less, the same as or 0.2 more than the seller believes, with and without the ads' own move
   of trust (spam), and the steps trust took to settle;
5. promotions per default run and the degree percentile of the promoted (spheres), and 5b. the
   same under each rule of whom buyers follow (``market.follow_by``);
6. every currency flow's total in a default run, by reason (Q3);
7. the share of all purchases made by the top 20% of buyers, buyers alike and as their need
   rates spread (``market.need_shape``; Q5);
8. money from points in a default run: the cents cashed out, the share spent again on later
   purchases, and who holds the rest (Q3).

These are the figures docs/ODD.md (section 5, "Why these defaults") quotes; the named studies
in configs/experiment/ run the questions at scale.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import pandas as pd

import spheres
from spheres.config import make_config


def runs(seeds: int, buyers: int, **overrides: Any) -> list[spheres.Results]:
    """One quiet run per seed with the given dotted overrides."""
    base = {"output.progress": False, "output.dashboard": False, "n_buyers": buyers}
    return [spheres.simulate(make_config(**{**base, **overrides, "seed": seed}))
            for seed in range(seeds)]


def mean_sd(values: list[float]) -> str:
    """``mean ± sd`` of a list of numbers."""
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def strategy_rows(results: list[spheres.Results], label: str) -> list[dict[str, Any]]:
    """Survival (share of a preset's initial sellers alive at the end) and final share."""
    rows = []
    for name in results[0].summary["sellers_alive_by_strategy"]:
        got = [r.summary["sellers_alive_by_strategy"][name] for r in results]
        rows.append({"setting": label, "strategy": name,
                     "survival": mean_sd([g["alive"] / max(g["start"], 1) for g in got]),
                     "final share": mean_sd([g["final_share"] for g in got])})
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run every check and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds per setting (default 5)")
    ap.add_argument("--buyers", type=int, default=3000, help="buyers per run (default 3000)")
    ap.add_argument("--checks", type=int, nargs="*", default=list(range(1, 9)),
                    help="the checks to run (default all: 1 to 8)")
    args = ap.parse_args(argv)
    s, n, checks = args.seeds, args.buyers, set(args.checks)
    pd.set_option("display.width", 120)

    def lag(**o: Any) -> str:
        rs = runs(s, n, **o)
        return mean_sd([float(r.metrics["expectation_lag"].iloc[len(r.metrics) // 2:].mean())
                        for r in rs])

    defaults = runs(s, n) if checks & {5, 6, 8} else []  # the default runs checks 5 and 6 read
    if 1 in checks:
        print("1. lag of expectations behind the frontier (mean over the run's second half)")
        rows = [{"setting": f"market.contacts={k}", "lag": lag(**{"market.contacts": k})}
                for k in (1, 3, 10)]
        rows += [{"setting": f"network.mean_degree={k}", "lag": lag(**{"network.mean_degree": k})}
                 for k in (4, 40)]
        rows.append({"setting": "mechanisms.peer_pull=false",
                     "lag": lag(**{"mechanisms.peer_pull": False})})
        print(pd.DataFrame(rows).to_string(index=False), "\n")

    if 2 in checks:
        print("2. lagging vs listening sellers, same marketing (none), entry off")
        rows = []
        for label, speed in (("frontier still", 0.0), ("default speed", 0.52), ("fast", 1.56)):
            rows += strategy_rows(runs(s, n, **{"sellers.mix": {"lagging": 5, "listen": 5},
                                                "market.frontier_speed": speed,
                                                "mechanisms.entry": False}), label)
        print(pd.DataFrame(rows).to_string(index=False), "\n")

    if 3 in checks:
        print("3. final share by strategy (default mix, entry off)")
        rows = strategy_rows(runs(s, n, **{"mechanisms.entry": False}), "defaults")
        rows += strategy_rows(runs(s, n, **{"mechanisms.entry": False,
                                            "market.frontier_speed": 1.56}),
                              "market.frontier_speed=1.56")
        print(pd.DataFrame(rows).to_string(index=False), "\n")

        print("3b. broadcast sellers as the cost of an ad grows (default mix, entry off)")
        rows = []
        for cost in (20, 200, 1000):
            rs = runs(s, n, **{"mechanisms.entry": False, "sellers.ad_cost": cost})
            got = [r.summary["sellers_alive_by_strategy"]["broadcast"] for r in rs]
            spent = [int(r.sellers.loc[r.sellers.strategy == "broadcast", "marketing"].sum())
                     for r in rs]
            rows.append({"sellers.ad_cost": cost, "broadcast share": mean_sd(
                [g["final_share"] for g in got]), "survival": mean_sd([g["alive"] / g["start"]
                                                                       for g in got]),
                "ad spend (cents)": f"{np.mean(spent):.0f}"})
        print(pd.DataFrame(rows).to_string(index=False), "\n")

    if 4 in checks:
        print("4. trust at the end, by source")
        rows = []
        for preset in ("broadcast", "listen", "sponsor"):
            rs = runs(s, n, **{"sellers.mix": {preset: 10}})
            row = {"market": f"all {preset}"}
            for source in ("peers", "influencers", "sellers"):
                row[source] = mean_sd([r.summary["trust_final"][source] for r in rs])
            rows.append(row)
        print(pd.DataFrame(rows).to_string(index=False), "(start: 0.6, 0.5, 0.4)\n")

        print("4b. trust after 260 steps of all-broadcast runs, by what the ads claim, ads")
        print("    reaching each buyer about once a year (market.ad_rate=1.05)")
        rows = []
        for spam in (True, False):
            for over in (-0.2, 0.0, 0.2):
                rs = runs(s, n, steps=260, **{"sellers.mix": {"broadcast": 10},
                                              "market.ad_rate": 1.05,
                                              "sellers.ad_overclaim": over,
                                              "mechanisms.spam": spam})
                row: dict[str, Any] = {"mechanisms.spam": spam, "sellers.ad_overclaim": over}
                for source in ("sellers", "peers"):
                    row[source] = mean_sd([r.summary["trust_final"][source] for r in rs])
                    settled = [r.summary["trust_settle_steps"][source] for r in rs]
                    row[f"{source} settled at"] = " ".join("-" if v is None else str(v)
                                                           for v in settled)
                rows.append(row)
        print(pd.DataFrame(rows).to_string(index=False),
              "(start: sellers 0.4, peers 0.6; '-': not settled)\n")

    if 5 in checks:
        print("5. promotions per default run")
        promoted = [r.summary["promotions"] for r in defaults]
        pct = [r.summary["promoted_degree_percentile_median"] for r in defaults]
        print(f"promotions {mean_sd(promoted)} (per seed {promoted}); median degree percentile of "
              f"the promoted {mean_sd([p for p in pct if p == p])}\n")

        print("5b. promotions by whom buyers follow (market.follow_by), at the defaults and with")
        print("    twice the follow attempts and half the followers needed")
        rows = []
        faster = {"market.audience_growth": 0.52, "market.promote_at": 4}
        for label, growth in (("defaults", {}), ("growth 0.52, promote at 4", faster)):
            for rule in ("reach", "advice", "random"):
                rs = (defaults if rule == "reach" and not growth
                      else runs(s, n, **growth, **{"market.follow_by": rule}))
                pct = [r.summary["promoted_degree_percentile_median"] for r in rs]
                rows.append({"setting": label, "market.follow_by": rule,
                             "promotions": mean_sd([r.summary["promotions"] for r in rs]),
                             "median degree percentile": mean_sd([p for p in pct if p == p])
                             if any(p == p for p in pct) else "none promoted"})
        print(pd.DataFrame(rows).to_string(index=False), "\n")

    if 6 in checks:
        print("6. currency flows in a default run, by reason (points)")
        table = pd.DataFrame([r.summary["currency_by_reason"] for r in defaults])
        spread = table.agg(["mean", lambda x: x.std(ddof=0), "min"])  # s.d. as in the other checks
        print(spread.set_axis(["mean", "sd", "min"]).round(0).astype(int).T.to_string())
        other = [(r.summary["exits"], r.summary["entries"]) for r in defaults]
        print(f"\nexits and entries per default run: {other}\n")

    if 7 in checks:
        print("7. share of all purchases made by the top 20% of buyers")
        rows = []
        for shape in (0.0, 0.5, 0.6, 1.0, 2.0):
            rs = runs(s, n, **{"market.need_shape": shape})
            rows.append({"market.need_shape": shape, "top 20% share": mean_sd(
                [r.summary["purchase_concentration_top20"] for r in rs]),
                "purchases per buyer": mean_sd([float(r.agents.purchases.mean()) for r in rs]),
                "buyers with a need per step": mean_sd(
                    [float(r.metrics.buyers_with_need.mean() / n) for r in rs])})
        print(pd.DataFrame(rows).to_string(index=False), "(default: 0.6)\n")

    if 8 in checks:
        print("8. money from points in a default run (cents)")
        rows = []
        for r in defaults:
            m, a = r.summary, r.agents
            infl = a.agent_type == "influencer"
            rows.append({"cashed out": m["money_from_points"], "spent again": m["wallet_spent"],
                         "held": m["wallet_held"], "perks": m["perk_cents"],
                         "share spent again": m["wallet_spent"] / max(m["money_from_points"], 1),
                         "share to influencers": float(a.money_from_points[infl].sum())
                         / max(m["money_from_points"], 1),
                         "buyers cashing out": int((a.money_from_points > 0).sum()),
                         "share of buyers' spend": m["wallet_spent"] / max(m["buyer_spend"], 1)})
        table = pd.DataFrame(rows)
        print(table.agg(["mean", lambda x: x.std(ddof=0)]).set_axis(["mean", "sd"]).T
              .to_string(float_format=lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"))


if __name__ == "__main__":
    main()
