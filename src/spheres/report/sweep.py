"""The collected stores of one or several sweeps, read into one :class:`Sweep` with scenarios named.

A *scenario* is one combination of the swept overrides other than ``seed`` (the ``swept`` table
of ``sweep.duckdb``); with several sweeps the sweep's name is one more key. Failed and
incomplete runs are kept in ``runs`` (to be named) and left out of every other table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from spheres.analysis.store import Store, scenario_names
from spheres.errors import ReportError
from spheres.paths import DATABASE


@dataclass
class Sweep:
    """The tables of one or several collected sweeps, with scenarios named."""

    names: list[str]
    runs: pd.DataFrame  # one row per run: run, sweep, job, scenario, seed, status, error, ...
    keys: list[str]  # scenario columns
    outcomes: pd.DataFrame  # complete runs only: run, scenario + one column per outcome
    strategies: list[str]
    survival: pd.DataFrame  # run, scenario, strategy, steps_alive, exited
    shares: pd.DataFrame  # run, scenario, step, strategy, share
    flows: pd.DataFrame  # run, scenario, step, kind, amount
    sensitivity: pd.DataFrame  # outcome, parameter, S1, S1_conf, ST, ST_conf (+ sweep)
    scenarios: list[str] = field(default_factory=list)


def sweep_names(dirs: Sequence[Path]) -> list[str]:
    """Name the sweep directories shortly: by the last path parts that tell them apart."""
    resolved = [d.resolve() for d in dirs]
    for depth in range(1, 8):
        names = ["/".join(d.parts[-depth:]) for d in resolved]
        if len(set(names)) == len(names):
            return names
    return [str(d) for d in resolved]


# What the report reads from each store beyond ``runs``: name -> (query, its columns).
PER_RUN_QUERIES = {
    "final": ("SELECT job, hhi, currency_gini FROM steps "
              "QUALIFY step = max(step) OVER (PARTITION BY job)", ["job", "hhi", "currency_gini"]),
    "strategies": ("SELECT job, strategy, alive, mean_survival_steps, final_share "
                   "FROM strategies",
                   ["job", "strategy", "alive", "mean_survival_steps", "final_share"]),
    "profit": ("SELECT job, strategy, sum(profit) AS profit FROM sellers GROUP BY ALL",
               ["job", "strategy", "profit"]),
    "survival": ("SELECT job, seller_id, any_value(strategy) AS strategy, "
                 "sum(CAST(alive AS INTEGER)) AS steps_alive, "
                 "NOT arg_max(alive, step) AS exited FROM sellers GROUP BY ALL",
                 ["job", "seller_id", "strategy", "steps_alive", "exited"]),
    "shares": ("SELECT job, step, strategy, sum(share) AS share FROM sellers GROUP BY ALL",
               ["job", "step", "strategy", "share"]),
    "flows": ("SELECT job, step, kind, sum(amount) AS amount FROM flows GROUP BY ALL",
              ["job", "step", "kind", "amount"]),
}
# Per-strategy columns of ``strategies`` and ``sellers`` -> the outcome column's prefix.
PER_STRATEGY = {"alive": "alive", "mean_survival_steps": "survival", "final_share": "share",
                "profit": "profit"}


def load(sweep_dirs: Sequence[Path | str]) -> Sweep:
    """Read the collected store of each sweep directory and name the scenarios."""
    dirs = [Path(d) for d in sweep_dirs]
    if not dirs:
        raise ReportError("SWEEP_DIR: give at least one collected sweep directory")
    for d in dirs:
        if not (d / DATABASE).is_file():
            raise ReportError(f"SWEEP_DIR: {d} has no {DATABASE}; run `spheres collect {d}` "
                              "first")
    names = sweep_names(dirs)
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in
                                            ("runs", "survival", "shares", "flows", "sens")}
    keys: list[str] = []
    for name, d in zip(names, dirs, strict=True):
        with Store(d / DATABASE) as store:
            keys += [k for k in store.keys if k not in keys]
            runs = store.df("SELECT * FROM runs")
            has_results = bool((runs["status"] == "ok").any())
            # Without a finished run the per-step tables hold only a job column.
            got = {table: (store.df(sql) if has_results else pd.DataFrame(columns=columns))
                   for table, (sql, columns) in PER_RUN_QUERIES.items()}
            for table in ("survival", "shares", "flows"):
                parts[table].append(got[table].assign(sweep=name))
            if "sensitivity" in store.tables():
                parts["sens"].append(store.df("SELECT * FROM sensitivity").assign(sweep=name))
        per_strategy = got["strategies"].merge(got["profit"], on=["job", "strategy"],
                                               how="left").pivot(
            index="job", columns="strategy", values=list(PER_STRATEGY))
        per_strategy.columns = [f"{PER_STRATEGY[a]}[{s}]" for a, s in per_strategy.columns]
        runs = (runs.merge(got["final"], on="job", how="left")
                .merge(per_strategy.reset_index(), on="job", how="left").assign(sweep=name))
        parts["runs"].append(runs)

    runs = pd.concat(parts["runs"], ignore_index=True)
    if len(dirs) > 1:
        keys = ["sweep", *keys]
    runs["scenario"] = scenario_names(runs, keys)
    runs["run"] = runs["sweep"] + ":" + runs["job"].astype(str)
    scenario_of = runs.set_index("run")["scenario"]

    def tag(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.assign(run=frame["sweep"] + ":" + frame["job"].astype(str))
        return frame.assign(scenario=frame["run"].map(scenario_of))

    ok = runs[runs["status"] == "ok"]
    strategies = sorted({c[c.index("[") + 1:-1] for c in runs.columns if c.startswith("alive[")})
    survival = tag(pd.concat(parts["survival"], ignore_index=True))
    return Sweep(
        names=names, runs=runs, keys=keys, outcomes=ok, strategies=strategies,
        survival=survival[survival["run"].isin(ok["run"])],
        shares=tag(pd.concat(parts["shares"], ignore_index=True)),
        flows=tag(pd.concat(parts["flows"], ignore_index=True)),
        sensitivity=(pd.concat(parts["sens"], ignore_index=True) if parts["sens"]
                     else pd.DataFrame()),
        scenarios=list(dict.fromkeys(runs["scenario"])),
    )


def pick_baseline(scenarios: Sequence[str], wanted: str | None) -> str:
    """Pick the baseline: the scenario ``wanted`` names, else the first.

    ``wanted`` is a scenario's name, or a substring of exactly one; anything else is a
    :class:`~spheres.errors.ReportError` that lists the scenarios.
    """
    if wanted is None:
        return scenarios[0]
    if wanted in scenarios:
        return wanted
    matches = [s for s in scenarios if wanted in s]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(scenarios)
    if not matches:
        raise ReportError(f"--baseline {wanted!r} matches no scenario; the scenarios are: "
                          f"{listing}")
    raise ReportError(f"--baseline {wanted!r} matches {len(matches)} scenarios "
                      f"({'; '.join(matches)}); give one of: {listing}")

