"""The what-if report's document: what the sweeps compared, and what the comparison says.

For every scenario the report gives the mean and a 95% bootstrap confidence interval across
seeds of the main outcomes, the differences from a baseline scenario with their intervals, and a
plain-language sentence for each difference whose interval excludes zero. It draws survival
curves by strategy (Kaplan–Meier), market share over time, currency flows by kind and, when a
Sobol sweep left ``sensitivity``, the Sobol indices. Failed and incomplete runs are counted and
named, never averaged in.
"""

from __future__ import annotations

import pandas as pd

from spheres.analysis.estimate import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    MISSING,
    format_estimate,
    format_number,
)
from spheres.analysis.figures import png
from spheres.analysis.store import value_text
from spheres.report.figures import (
    currency_flows,
    outcomes_by_scenario,
    share_by_strategy,
    sobol_indices,
    survival_by_strategy,
)
from spheres.report.outcomes import (
    MARKET_OUTCOMES,
    differences,
    estimates,
    outcome_list,
    reading,
)
from spheres.report.sweep import Sweep, pick_baseline
from spheres.report.writers import Doc

MAX_SCENARIOS = 24  # beyond this the runs are a sampled design, not scenarios to compare


def build(sweep: Sweep, baseline: str | None = None,
          explored: bool = False) -> tuple[Doc, str]:
    """Compose the report's document; return it with its title.

    ``explored``: the sweep is an exploration (its verdict section goes before this document).
    """
    title = "What-if report: " + ", ".join(sweep.names)
    doc = Doc()
    doc.heading(title, 1)
    counts = sweep.runs["status"].value_counts()
    ok, total = int(counts.get("ok", 0)), len(sweep.runs)
    n_failed, n_incomplete = int(counts.get("failed", 0)), int(counts.get("incomplete", 0))
    per_scenario = sweep.runs.groupby("scenario")["run"].count()
    # A Sobol sweep's runs (one per sampled point) are a design, not scenarios to compare.
    too_many = len(sweep.scenarios) > MAX_SCENARIOS or (
        not sweep.sensitivity.empty and len(sweep.scenarios) > 1 and per_scenario.max() == 1)

    doc.heading("What this sweep compared")
    swept = ("the values of " + ", ".join(sweep.keys)) if sweep.keys else \
        "nothing but the seed"
    doc.para(f"{_count(total, 'run')} in {_count(len(sweep.scenarios), 'scenario')}. "
             f"A scenario is one combination of {swept}; within a scenario the runs differ "
             "only by their random seed. "
             f"{ok} runs finished; {n_failed} failed and {n_incomplete} did not finish — those "
             "are listed at the end and left out of every number.")
    if ok == 0:
        doc.para("No run finished, so there is nothing to compare.")
    elif too_many:
        doc.para(f"With {len(sweep.scenarios)} scenarios the runs are a sampled design rather "
                 "than scenarios to compare one by one; see "
                 + ("where the answer holds, above." if explored else
                    "the sensitivity section."))
    else:
        base = pick_baseline(sweep.scenarios, baseline)
        seeds = sweep.outcomes.groupby("scenario")["run"].count()
        doc.table(pd.DataFrame({
            "": [f"S{i + 1}" for i in range(len(sweep.scenarios))],
            "scenario": [s + (" (baseline)" if s == base else "") for s in sweep.scenarios],
            "finished runs (seeds)": [int(seeds.get(s, 0)) for s in sweep.scenarios],
        }))
        _comparison(doc, sweep, base)
    _sensitivity(doc, sweep)
    doc.heading("Failed and incomplete runs")
    lines = _status_lines(sweep)
    doc.bullets(lines) if lines else doc.para("None: every run finished.")
    return doc, title


def _comparison(doc: Doc, sweep: Sweep, base: str) -> None:
    outcomes = outcome_list(sweep)
    found = estimates(sweep, outcomes)
    diffs = differences(sweep, outcomes, base)
    clear = [(s, o, diffs[s, o.column]) for s in sweep.scenarios if s != base
             for o in outcomes if (s, o.column) in diffs and diffs[s, o.column].clear]
    single = sweep.outcomes.groupby("scenario")["run"].count().min() < 2

    doc.heading("Main differences")
    if clear:
        doc.para(f"Compared with the baseline ({base}), the differences whose 95% interval "
                 "excludes zero:")
        for scenario in dict.fromkeys(s for s, _, _ in clear):
            doc.heading(scenario, 3)
            doc.bullets([_sentence(reading(o, d)) for s, o, d in clear if s == scenario])
    elif len(sweep.scenarios) == 1:
        doc.para("Only one scenario: there is nothing to compare it with.")
    else:
        doc.para("No difference from the baseline is clearly larger than its 95% interval.")
    doc.heading("How to read the numbers")
    doc.para(f"Each number is the mean over a scenario's seeds, followed by its {CONFIDENCE:.0%} "
             "confidence interval (bootstrap over seeds: scipy.stats.bootstrap, percentile "
             f"method, {BOOTSTRAP_RESAMPLES} resamples, random state {BOOTSTRAP_SEED}, so the "
             "report is reproducible). A difference is scenario minus baseline; it is read out "
             "above only when its interval excludes zero. With few seeds the intervals are "
             "rough; with one seed a scenario gets a mean but no interval, and its differences "
             "are never called clear." + (" Some scenarios here have a single seed." if single
                                          else ""))
    doc.heading("Outcomes by scenario")
    table = pd.DataFrame({"outcome": [o.label for o in outcomes]})
    for i, s in enumerate(sweep.scenarios):
        table[f"S{i + 1}"] = [format_estimate(found.get((s, o.column), MISSING), o.digits)
                              for o in outcomes]
    doc.table(table)
    if len(sweep.scenarios) > 1:
        doc.heading("Differences from the baseline")
        diff_table = pd.DataFrame({"outcome": [o.label for o in outcomes]})
        for i, s in enumerate(sweep.scenarios):
            if s != base:
                diff_table[f"S{i + 1} − baseline"] = [
                    format_estimate(diffs[s, o.column], o.digits)
                    + (" *" if diffs[s, o.column].clear else "") for o in outcomes]
        doc.table(diff_table)
        doc.para("* the interval excludes zero.")
    shown = [o for o in outcomes if o in MARKET_OUTCOMES or o.column.startswith("survival[")]
    doc.figure("outcomes.png", png(outcomes_by_scenario(sweep, shown, found)),
               "Main outcomes by scenario, mean and 95% interval")
    doc.heading("Seller survival by strategy")
    doc.figure("survival.png", png(survival_by_strategy(sweep)),
               "Share of sellers of each strategy still in the market after a number of steps "
               "(Kaplan–Meier over all seeds of a scenario; sellers alive at the end censored)")
    doc.heading("Market share over time")
    doc.figure("market_share.png", png(share_by_strategy(sweep)),
               "Market share by strategy: mean across seeds, band: middle 95% of runs")
    doc.heading("Social currency flows")
    doc.figure("currency_flows.png", png(currency_flows(sweep)),
               "Social currency minted, transferred, converted and burned per step")


def _sensitivity(doc: Doc, sweep: Sweep) -> None:
    if sweep.sensitivity.empty:
        return
    doc.heading("Global sensitivity (Sobol indices)")
    doc.para("S1 is the share of an outcome's variance caused by a parameter alone; ST adds its "
             "interactions with the others. Intervals are SALib's bootstrap confidence "
             "intervals. Parameters with ST near zero hardly matter for that outcome.")
    table = sweep.sensitivity.copy()
    for c in ("S1", "S1_conf", "ST", "ST_conf"):
        table[c] = table[c].map(lambda v: format_number(float(v), 3))
    doc.table(table[["sweep", "outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]])
    doc.figure("sensitivity.png", png(sobol_indices(sweep.sensitivity)),
               "Sobol indices S1 and ST per outcome, with their intervals")


def _status_lines(sweep: Sweep) -> list[str]:
    bad = sweep.runs[sweep.runs["status"] != "ok"]
    lines = []
    for r in bad.itertuples():
        error = f": {r.error}" if isinstance(r.error, str) and r.error else ""
        lines.append(f"{r.status} — run {r.run} (scenario {r.scenario}, seed "
                     f"{value_text(r.seed)}){error}")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."
