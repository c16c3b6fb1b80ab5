"""What every study's analysis shares: the store it reads, its findings, and their readings.

A study reads only its sweep store (``sweep.duckdb``, through DuckDB) and returns
:class:`Findings`: figures (PNG), key numbers (each a mean across seeds with its 95% bootstrap
interval, from :func:`spheres.sweeps.report.mean_ci` / ``difference_ci``) and readings, plain
sentences generated from those numbers (:func:`read_difference`, :func:`read_level`). The study's
question, hypothesis and sweep are read from the header of its ``configs/experiment/<name>.yaml``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from spheres.analysis.store import SEED
from spheres.sweeps.report import MISSING, Estimate, _num, mean_ci, scenario_name

if TYPE_CHECKING:
    import duckdb

# The parts of a study's header, in the order they appear: field -> the words that open it.
HEADER_PARTS = {"question": r"Question \(Q\d[^)]*\):", "hypothesis": r"Hypothesis tested[^:]*:",
                "swept": r"Swept:", "look_at": r"Look at[^:]*:"}


def header(name: str) -> dict[str, str]:
    """The question, hypothesis, sweep and what to look at, from the study's config header."""
    from spheres.paths import config_dir

    lines = (config_dir() / "experiment" / f"{name}.yaml").read_text().splitlines()
    words = " ".join(line.lstrip("#").strip() for line in lines[:next(
        i for i, line in enumerate(lines) if not line.startswith("#"))])
    starts = [re.search(pattern, words) for pattern in HEADER_PARTS.values()]
    if not all(starts):
        raise ValueError(f"configs/experiment/{name}.yaml: the header lacks one of "
                         "'Question (Qn ...):', 'Hypothesis tested:', 'Swept:', 'Look at:'")
    ends = [m.start() for m in starts[1:]] + [len(words)]  # type: ignore[union-attr]
    return {part: words[m.end():end].strip()  # type: ignore[union-attr]
            for part, m, end in zip(HEADER_PARTS, starts, ends, strict=True)}


# -- the store ------------------------------------------------------------------------------


class Store:
    """A sweep store opened read-only: its complete runs, swept keys and scenarios."""

    def __init__(self, path: Path | str) -> None:
        import duckdb

        self.path = Path(path)
        self.con: duckdb.DuckDBPyConnection = duckdb.connect(str(self.path), read_only=True)
        self.keys = [k for k in self.df("SELECT key FROM swept")["key"] if k != SEED]
        runs = self.df("SELECT * FROM runs WHERE status = 'ok' ORDER BY job")
        runs["scenario"] = [scenario_name(r, self.keys) for r in runs[self.keys].to_dict(
            "records")] if self.keys else "all runs"
        self.runs = runs
        self.scenarios: list[str] = list(dict.fromkeys(runs["scenario"]))

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def df(self, sql: str) -> pd.DataFrame:
        """A query's result as a frame."""
        return self.con.execute(sql).df()

    def per_run(self, sql: str) -> pd.DataFrame:
        """A query with a ``job`` column, limited to complete runs, with scenario, keys and seed."""
        return self.tag(self.df(sql))

    def tag(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (with a ``job`` column) limited to complete runs, with their scenario, swept
        values and seed."""
        cols = ["job", "scenario", SEED, *self.keys]
        return frame.merge(self.runs[cols], on="job", how="inner")

    def lowest_seed_agents(self, columns: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The run with the lowest seed of each scenario, and those runs' ``agents`` rows
        (``job`` and ``columns``, an SQL column list)."""
        first = (self.runs.sort_values([SEED, "job"], kind="stable").drop_duplicates("scenario")
                 .set_index("scenario").loc[self.scenarios].reset_index())
        jobs = ", ".join(str(int(j)) for j in first["job"]) or "NULL"
        return first, self.df(f"SELECT job, {columns} FROM agents WHERE job IN ({jobs})")

    def scenario(self, **values: Any) -> str:
        """The name of the scenario with these swept values (keys as in ``runs``)."""
        return scenario_name(values, self.keys)

    def where(self, scenario: str) -> str:
        """A scenario as words for a reading: ``At market.contacts=3, market.frontier_speed=0``."""
        return f"At {scenario}" if self.keys else "Over all runs"

    def sizes(self) -> dict[str, Any]:
        """Runs, seeds per scenario, buyers and steps of the complete runs."""
        per_scenario = self.runs.groupby("scenario")["job"].count()
        return {"runs": len(self.runs), "scenarios": len(self.scenarios),
                "seeds": sorted(int(s) for s in self.runs[SEED].unique()),
                "seeds_per_scenario": int(per_scenario.min()) if len(per_scenario) else 0,
                "buyers": sorted(int(b) for b in self.runs["n_buyers"].unique()),
                "steps": sorted(int(s) for s in self.runs["steps"].unique())}


# -- findings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    """A key number: a mean across seeds (or a difference of means) with its 95% interval."""

    label: str
    scenario: str
    estimate: Estimate
    digits: int = 2

    def as_json(self) -> dict[str, Any]:
        """``{label, scenario, mean, low, high, n}``; a missing value is ``None``."""
        e = self.estimate

        def plain(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {"label": self.label, "scenario": self.scenario, "mean": plain(e.value),
                "low": plain(e.low), "high": plain(e.high), "n": int(e.n)}


@dataclass
class Findings:
    """What a study's analysis gives: figures (file name, PNG, caption), numbers and readings."""

    figures: list[tuple[str, bytes, str]] = field(default_factory=list)
    numbers: list[Number] = field(default_factory=list)
    readings: list[str] = field(default_factory=list)

    def number(self, label: str, scenario: str, estimate: Estimate, digits: int = 2) -> Estimate:
        """Record a key number and return its estimate."""
        self.numbers.append(Number(label, scenario, estimate, digits))
        return estimate


@dataclass(frozen=True)
class Study:
    """A named study: its experiment name, short title and the analysis of its store."""

    name: str
    title: str
    analyse: Callable[[Store], Findings]


# -- readings -------------------------------------------------------------------------------


def fmt(value: float, digits: int) -> str:
    """A number for a sentence: thousands separated, a true minus sign, '–' if missing."""
    return _num(value, digits).replace("-", "−")


def interval(e: Estimate, digits: int) -> str:
    """``95% CI low to high``."""
    return f"95% CI {fmt(e.low, digits)} to {fmt(e.high, digits)}"


def read_difference(where: str, measure: str, first: str, second: str, diff: Estimate,
                    digits: int = 2, unit: str = "") -> str:
    """One sentence on ``first`` minus ``second`` in ``measure``.

    It names the direction only when the 95% interval excludes zero; otherwise it says "no clear
    difference", and with fewer than two seeds that no interval could be computed.
    """
    unit = f" {unit}" if unit else ""
    if diff.n == 0:
        return f"{where}: no run gives {measure} of both {first} and {second}."
    if not diff.has_interval:
        return (f"{where}: {first} minus {second} in {measure} is {fmt(diff.value, digits)}"
                f"{unit}, with too few seeds for an interval, so no clear difference can be told.")
    if diff.clear:
        word = "higher" if diff.value > 0 else "lower"
        return (f"{where}: {measure} is {fmt(abs(diff.value), digits)}{unit} {word} for "
                f"{first} than for {second} ({interval(diff, digits)}).")
    return (f"{where}: no clear difference in {measure} between {first} and {second} "
            f"({first} minus {second}: {fmt(diff.value, digits)}{unit}, "
            f"{interval(diff, digits)}, the interval includes zero).")


def read_level(where: str, measure: str, e: Estimate, digits: int = 2, unit: str = "") -> str:
    """One sentence giving a mean with its interval."""
    unit = f" {unit}" if unit else ""
    ci = f" ({interval(e, digits)})" if e.has_interval else " (too few seeds for an interval)"
    return f"{where}: {measure} is {fmt(e.value, digits)}{unit}{ci}."


def per_scenario(frame: pd.DataFrame, column: str) -> dict[str, Estimate]:
    """Scenario -> mean of ``column`` across its runs, with its interval (a scenario without
    runs in ``frame`` gives ``MISSING``)."""
    return defaultdict(lambda: MISSING, {str(s): mean_ci(g[column].to_numpy(dtype=float))
                                         for s, g in frame.groupby("scenario", sort=False)})


def ordered(values: Sequence[Any]) -> list[Any]:
    """Distinct values, sorted (numbers numerically, others as text)."""
    distinct = list(dict.fromkeys(v for v in values if not pd.isna(v)))
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=str)


def key_effects(store: Store, frame: pd.DataFrame, column: str, key: str,
                base: Any = None) -> list[tuple[str, str, str, Estimate]]:
    """``column`` at one value of swept ``key`` minus at another, with an interval.

    Without ``base``: the largest value against the smallest; with it, every other value against
    ``base``. One entry per comparison and combination of the other swept keys: ``(where, value,
    base value, difference)``, the values named like scenarios (``market.frontier_speed=0.03``).
    Empty if ``key`` does not take two values in ``frame`` (or ``base`` is not one of them).
    """
    from spheres.sweeps.report import difference_ci

    values = ordered(frame[key]) if key in store.keys else []
    if len(values) < 2:
        return []
    if base is None:
        pairs = [(values[-1], values[0])]
    elif base in values:
        pairs = [(v, base) for v in values if v != base]
    else:
        return []
    others = [k for k in store.keys if k != key]
    groups = frame.groupby(others, sort=True) if others else [((), frame)]
    found = []
    for group_values, group in groups:
        where = (f"With {scenario_name(dict(zip(others, group_values, strict=True)), others)}"
                 if others else "Over all runs")
        for high, low in pairs:
            diff = difference_ci(group.loc[group[key] == high, column].to_numpy(dtype=float),
                                 group.loc[group[key] == low, column].to_numpy(dtype=float))
            found.append((where, scenario_name({key: high}, [key]),
                          scenario_name({key: low}, [key]), diff))
    return found


def by_measure(store: Store, levels: dict[str, dict[str, Estimate]],
               measures: Sequence[tuple[Any, ...]]) -> list[tuple[str, list[tuple[str, Estimate]]]]:
    """Panels for ``estimates_figure``: per measure ``(column, label, ...)``, its estimate in
    each scenario."""
    return [(m[1], [(short(s), levels[m[0]][s]) for s in store.scenarios]) for m in measures]


def short(scenario: str) -> str:
    """A scenario's name with each setting's group dropped: ``frontier_speed=0, contacts=3``."""
    return ", ".join(part.split("=", 1)[0].rsplit(".", 1)[-1] + "=" + part.split("=", 1)[1]
                     if "=" in part else part for part in scenario.split(", "))
