"""What every study's analysis shares: its findings, the study's header, comparisons of keys.

A study reads only its sweep store (:class:`spheres.analysis.store.Store`) and returns
:class:`Findings`: figures (PNG), key numbers (each a mean across seeds with its 95% bootstrap
interval, from :mod:`spheres.analysis.estimate`) and readings, plain sentences generated from
those numbers (:mod:`spheres.studies.readings`). The study's question, hypothesis and sweep are
read from the header of its ``configs/experiment/<name>.yaml``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from spheres.analysis.estimate import Estimate, difference_ci
from spheres.analysis.figures import png
from spheres.analysis.store import Store, scenario_name
from spheres.paths import config_dir

# The parts of a study's header, in the order they appear: field -> the words that open it.
HEADER_PARTS = {"question": r"Question \(Q\d[^)]*\):", "hypothesis": r"Hypothesis tested[^:]*:",
                "swept": r"Swept:", "look_at": r"Look at[^:]*:"}


def header(name: str) -> dict[str, str]:
    """Read the question, hypothesis, sweep and what to look at from the study's config header."""
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

    def figure(self, name: str, fig: Figure, caption: str) -> None:
        """Record a figure as the PNG file ``name`` with its caption."""
        self.figures.append((name, png(fig), caption))


@dataclass(frozen=True)
class Verdict:
    """A study's answer as yes or no per sample of settings, to map where it holds.

    Per run, ``value`` reads one number from the store (a frame of ``job`` and ``value``). With
    two ``arms`` (overrides), every sample runs once per arm with the same seed and the number
    compared is the first arm's value minus the second's. The answer holds at a sample when that
    number is above ``threshold`` (below it, with ``below``). ``settings`` are the settings the
    answer may depend on, each varied over its range to try (``schema.Spec.tries``, the ODD's
    sources table); ``choices`` add config groups or named settings varied over listed options.
    ``fixed`` overrides hold for every run (the study's own choices that the answer is about);
    ``measure`` says in words what the number compared is.
    """

    statement: str
    value: Callable[[Store], pd.DataFrame]
    settings: tuple[str, ...]
    threshold: float = 0.0
    below: bool = False
    arms: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    measure: str = "the study's number"  # the number compared, in words

    def margin(self, compared: pd.Series) -> pd.Series:
        """How far each compared number is on the answer's side of the threshold (> 0: holds)."""
        return (self.threshold - compared) if self.below else (compared - self.threshold)


@dataclass(frozen=True)
class Study:
    """A named study: its experiment name, short title and the analysis of its store.

    ``verdict``, when given, is its main answer as yes or no per run, which ``spheres explore``
    maps over the answer's settings.
    """

    name: str
    title: str
    analyse: Callable[[Store], Findings]
    verdict: Verdict | None = None


def share_lead(first: str, second: str) -> Callable[[Store], pd.DataFrame]:
    """Per run: the final market share of strategy ``first``'s sellers minus ``second``'s."""
    def lead(store: Store) -> pd.DataFrame:
        return store.df(f"""
            SELECT job, sum(final_share) FILTER (WHERE strategy = '{first}')
                        - sum(final_share) FILTER (WHERE strategy = '{second}') AS value
            FROM strategies GROUP BY job ORDER BY job""")
    return lead


def runs_column(column: str) -> Callable[[Store], pd.DataFrame]:
    """Per run: the ``runs`` table's ``column`` as the value."""
    def read(store: Store) -> pd.DataFrame:
        return store.df(f"SELECT job, {column} AS value FROM runs WHERE status = 'ok' "
                        "ORDER BY job")
    return read


# -- comparisons ----------------------------------------------------------------------------


def ordered(values: Sequence[Any]) -> list[Any]:
    """Return the distinct values, sorted (numbers numerically, others as text)."""
    distinct = list(dict.fromkeys(v for v in values if not pd.isna(v)))
    try:
        return sorted(distinct)
    except TypeError:
        return sorted(distinct, key=str)


def key_effects(store: Store, frame: pd.DataFrame, column: str, key: str,
                base: Any = None) -> list[tuple[str, str, str, Estimate]]:
    """Estimate ``column`` at one value of swept ``key`` minus at another, with an interval.

    Without ``base``: the largest value against the smallest; with it, every other value against
    ``base``. One entry per comparison and combination of the other swept keys: ``(where, value,
    base value, difference)``, the values named like scenarios (``market.frontier_speed=1.56``).
    Empty if ``key`` does not take two values in ``frame`` (or ``base`` is not one of them).
    """
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


def short(scenario: str) -> str:
    """Shorten a scenario's name, each setting's group dropped: ``frontier_speed=0, contacts=3``."""
    return ", ".join(part.split("=", 1)[0].rsplit(".", 1)[-1] + "=" + part.split("=", 1)[1]
                     if "=" in part else part for part in scenario.split(", "))
