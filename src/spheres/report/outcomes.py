"""The outcomes a what-if report compares, their estimates by scenario, and how a difference reads.

Each outcome is one number per run (a column of the sweep's runs): the market's (sellers
alive, concentration, currency, trust, scores) and each strategy's (alive, survival, share,
profit). For every scenario the report gives each outcome's mean across seeds and its
difference from the baseline scenario, both with a 95% bootstrap interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spheres.analysis.estimate import Estimate, difference_ci, format_number, per_scenario
from spheres.report.sweep import Sweep


@dataclass(frozen=True)
class Outcome:
    """One outcome per run: its column, label, and how a difference reads in plain words.

    ``more`` and ``less`` are sentences with ``{d}`` (the size of the difference) and ``{ci}``
    (its interval), e.g. ``"listen sellers survive {d} steps longer ({ci})"``.
    """

    column: str
    label: str
    more: str
    less: str
    digits: int = 2


# Outcomes per strategy: column prefix, label, reading when higher, reading when lower, digits.
# "{s}" is "<strategy> sellers".
STRATEGY_OUTCOMES = [
    ("alive", "{s} alive at the end", "{d} more {s} are alive at the end {ci}",
     "{d} fewer {s} are alive at the end {ci}", 1),
    ("survival", "mean steps in the market of {s}", "{s} survive {d} steps longer {ci}",
     "{s} survive {d} steps less {ci}", 1),
    ("share", "final market share of {s}", "{s} hold a market share {d} higher {ci}",
     "{s} hold a market share {d} lower {ci}", 3),
    ("profit", "profit of {s} over the run (cents)", "{s} make {d} cents more profit {ci}",
     "{s} make {d} cents less profit {ci}", 0),
]


def strategy_outcomes(strategy: str) -> list[Outcome]:
    """Return the outcomes of one strategy's sellers (columns ``<prefix>[<strategy>]``)."""
    def fill(text: str) -> str:
        return text.replace("{s}", f"{strategy} sellers")

    return [Outcome(f"{prefix}[{strategy}]", fill(label), fill(more), fill(less), digits)
            for prefix, label, more, less, digits in STRATEGY_OUTCOMES]


MARKET_OUTCOMES = [
    Outcome("sellers_alive", "sellers alive at the end",
            "{d} more sellers are alive at the end {ci}",
            "{d} fewer sellers are alive at the end {ci}", 1),
    Outcome("hhi", "market concentration at the end (HHI)",
            "the market is more concentrated: HHI {d} higher {ci}",
            "the market is less concentrated: HHI {d} lower {ci}", 3),
    Outcome("currency_mint", "social currency minted (points)",
            "buyers mint {d} more points of social currency {ci}",
            "buyers mint {d} fewer points of social currency {ci}", 0),
    Outcome("currency_convert_in", "money converted into currency (points)",
            "sellers convert {d} more points of money into social currency {ci}",
            "sellers convert {d} fewer points of money into social currency {ci}", 0),
    Outcome("currency_convert_out", "currency converted into money (points)",
            "agents convert {d} more points of social currency into money {ci}",
            "agents convert {d} fewer points of social currency into money {ci}", 0),
    Outcome("currency_gini", "Gini of currency balances at the end",
            "social currency is more unequally held: Gini {d} higher {ci}",
            "social currency is more evenly held: Gini {d} lower {ci}", 3),
    *[Outcome(f"trust_final_{source}", f"trust in {source} at the end",
              f"buyers end up trusting {source} more: {{d}} higher {{ci}}",
              f"buyers end up trusting {source} less: {{d}} lower {{ci}}", 3)
      for source in ("peers", "influencers", "sellers")],
    Outcome("score_influence_spearman", "rank correlation of score and true influence",
            "influence scores rank agents more like their true influence: "
            "Spearman {d} higher {ci}",
            "influence scores rank agents less like their true influence: "
            "Spearman {d} lower {ci}", 3),
]


def outcome_list(sweep: Sweep) -> list[Outcome]:
    """Return the outcomes present in the sweep: market-level ones, then each strategy's."""
    found = [o for o in MARKET_OUTCOMES if o.column in sweep.outcomes.columns]
    for strategy in sweep.strategies:
        found += [o for o in strategy_outcomes(strategy) if o.column in sweep.outcomes.columns]
    return found


def estimates(sweep: Sweep, outcomes: Sequence[Outcome]) -> dict[tuple[str, str], Estimate]:
    """Map (scenario, outcome column) to the mean across the scenario's complete runs."""
    out: dict[tuple[str, str], Estimate] = {}
    for o in outcomes:
        for scenario, e in per_scenario(sweep.outcomes, o.column).items():
            out[scenario, o.column] = e
    return out


def differences(sweep: Sweep, outcomes: Sequence[Outcome],
                baseline: str) -> dict[tuple[str, str], Estimate]:
    """Map (scenario, outcome column) to the difference from the baseline, with its interval."""
    base = sweep.outcomes[sweep.outcomes["scenario"] == baseline]
    out: dict[tuple[str, str], Estimate] = {}
    for scenario, group in sweep.outcomes.groupby("scenario", sort=False):
        if scenario == baseline:
            continue
        for o in outcomes:
            out[str(scenario), o.column] = difference_ci(group[o.column].to_numpy(dtype=float),
                                                         base[o.column].to_numpy(dtype=float))
    return out


def reading(outcome: Outcome, diff: Estimate) -> str:
    """Say a difference from the baseline in one plain-language sentence."""
    d = abs(diff.value)
    low, high = sorted((abs(diff.low), abs(diff.high)))
    ci = f"(95% CI {format_number(low, outcome.digits)}–{format_number(high, outcome.digits)})"
    template = outcome.more if diff.value > 0 else outcome.less
    return template.format(d=format_number(d, outcome.digits), ci=ci) + " than in the baseline"
