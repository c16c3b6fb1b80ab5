"""Global sensitivity: Sobol designs and indices (SALib), and the files a Sobol sweep keeps.

A Sobol sweep (``hydra/sweeper=sobol``) keeps, before any analysis:

- ``SWEEP_DIR/sobol/problem.json``: the parameters with their bounds, which of them are integer
  settings (rounded to the nearest integer when run), the fixed overrides and the sweeper's
  settings (``n``, ``seed``, ``calc_second_order``, ``outcomes``, ...);
- ``SWEEP_DIR/sobol/design.parquet``: one row per sample (``row``, and one column per parameter
  holding the value as run);
- ``SWEEP_DIR/sobol/runs.parquet``: one row per sample: ``row``, ``run_dir``, ``status``
  (``ok``/``failed``), ``error``, and one column per outcome.

The indices then go to ``SWEEP_DIR/sensitivity.parquet``: ``outcome``, ``parameter``, ``S1``,
``S1_conf``, ``ST``, ``ST_conf`` (and ``SWEEP_DIR/sobol/second_order.parquet`` with ``S2`` when
second-order indices were asked for). Nothing here imports Hydra.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from spheres.errors import SensitivityError

# The ``_target_`` of the Sobol sweeper (hydra/sweeper=sobol), whose runs make the design.
SWEEPER = "hydra_plugins.spheres_sobol_sweeper.sobol_sweeper.SobolSweeper"
SOBOL_DIR = "sobol"
PROBLEM = "problem.json"
DESIGN = "design.parquet"
RUNS = "runs.parquet"
INDICES = "sensitivity.parquet"
SECOND_ORDER = "second_order.parquet"
DIFFERENCE = " - "  # an outcome "a - b" is the difference of two summary keys
INDEX_COLUMNS = ["outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]


@dataclass(frozen=True)
class Parameter:
    """One swept setting: its override key, its range and whether it is an integer setting."""

    key: str
    low: float
    high: float
    integer: bool = False

    def value(self, x: float) -> float | int:
        """The setting's value at ``x`` of its range (an integer setting's rounded value)."""
        return round(x) if self.integer else float(x)

    @property
    def name(self) -> str:
        """The setting's name (the override key without a leading ``+``)."""
        return self.key.lstrip("+")


@dataclass(frozen=True)
class Settings:
    """The sweeper's settings, saved beside the design."""

    n: int
    outcomes: tuple[str, ...]
    seed: int = 0
    calc_second_order: bool = False
    num_resamples: int = 100
    conf_level: float = 0.95
    block: int = 1


def check_settings(settings: Settings, parameters: Sequence[Parameter]) -> None:
    """Raise ``SensitivityError`` naming the first setting that is not allowed."""
    n = settings.n
    if n < 2 or n & (n - 1):
        raise SensitivityError(f"hydra.sweeper.n = {n} is not allowed: a power of 2 (2, 4, ..., "
                               "1024), the number of base samples of the Sobol sequence")
    if settings.block < 1:
        raise SensitivityError(f"hydra.sweeper.block = {settings.block} is not allowed: "
                               "a whole number of design rows per job, at least 1")
    if not settings.outcomes:
        raise SensitivityError("hydra.sweeper.outcomes is empty: list the summary keys to "
                               "analyse, e.g. hydra.sweeper.outcomes=[sellers_alive]")
    for outcome in settings.outcomes:
        if outcome.count(DIFFERENCE) > 1 or not all(
                part.strip() for part in outcome.split(DIFFERENCE)):
            raise SensitivityError(f"hydra.sweeper.outcomes: {outcome!r} is not allowed: a "
                                   "summary key (dots go into nested keys) or the difference "
                                   "of two, 'a - b'")
    if not 0 < settings.conf_level < 1:
        raise SensitivityError(f"hydra.sweeper.conf_level = {settings.conf_level} is not "
                               "allowed: a probability between 0 and 1")
    if not parameters:
        raise SensitivityError("no parameter to vary: give at least one key=interval(lo,hi)")
    for p in parameters:
        if not p.low < p.high:
            raise SensitivityError(f"{p.key}=interval({p.low},{p.high}) is not allowed: "
                                   "the lower bound must be below the upper bound")


def problem(parameters: Sequence[Parameter]) -> dict[str, Any]:
    """SALib's problem description of ``parameters``."""
    return {"num_vars": len(parameters), "names": [p.name for p in parameters],
            "bounds": [[p.low, p.high] for p in parameters]}


def design_runs(n: int, parameters: int, second_order: bool) -> int:
    """Runs of a Sobol design of ``n`` base samples over ``parameters`` settings."""
    return n * ((2 if second_order else 1) * parameters + 2)


def sample(parameters: Sequence[Parameter], settings: Settings) -> pd.DataFrame:
    """The Sobol design (Saltelli's scheme, SALib): one row per run, integer settings rounded.

    ``n * (D + 2)`` rows for D parameters, ``n * (2 D + 2)`` with second-order indices.
    """
    values = sobol_sample.sample(problem(parameters), settings.n,
                          calc_second_order=settings.calc_second_order, seed=settings.seed)
    design = pd.DataFrame({"row": np.arange(len(values))})
    for i, p in enumerate(parameters):
        column = values[:, i]
        design[p.name] = np.rint(column).astype(np.int64) if p.integer else column
    return design


def row_values(design: pd.DataFrame, parameters: Sequence[Parameter]) -> list[dict[str, Any]]:
    """Each design row as ``{override key: plain Python value}``."""
    return [{p.key: _plain(design[p.name].iat[i]) for p in parameters}
            for i in range(len(design))]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def save_design(sobol_dir: Path, parameters: Sequence[Parameter], settings: Settings,
                design: pd.DataFrame, fixed: Sequence[str] = ()) -> None:
    """Write ``problem.json`` and ``design.parquet`` into ``sobol_dir``."""
    sobol_dir.mkdir(parents=True, exist_ok=True)
    saved = {
        "problem": problem(parameters),
        "parameters": [asdict(p) for p in parameters],
        "integer": [p.name for p in parameters if p.integer],
        "fixed_overrides": list(fixed),
        "settings": {**asdict(settings), "outcomes": list(settings.outcomes)},
    }
    (sobol_dir / PROBLEM).write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    design.to_parquet(sobol_dir / DESIGN, index=False)


def load_design(sobol_dir: Path) -> tuple[list[Parameter], Settings, pd.DataFrame]:
    """Read back what :func:`save_design` wrote."""
    if not (sobol_dir / PROBLEM).is_file() or not (sobol_dir / DESIGN).is_file():
        raise SensitivityError(f"{sobol_dir}: no saved Sobol design ({PROBLEM}, {DESIGN})")
    saved = json.loads((sobol_dir / PROBLEM).read_text(encoding="utf-8"))
    parameters = [Parameter(**p) for p in saved["parameters"]]
    raw = saved["settings"]
    settings = Settings(**{**raw, "outcomes": tuple(raw["outcomes"])})
    return parameters, settings, pd.read_parquet(sobol_dir / DESIGN)


def outcome_value(summary: Mapping[str, Any], key: str) -> float:
    """The number at ``key`` in a run's summary; dots go into nested mappings.

    ``trust_final.peers`` reads ``summary["trust_final"]["peers"]``. ``a - b`` (spaces around
    the minus) is the difference of two such numbers, e.g. ``sellers_alive_by_strategy.listen.
    final_share - sellers_alive_by_strategy.lagging.final_share``. Missing keys, ``None`` and
    non-numbers give NaN.
    """
    if DIFFERENCE in key:
        first, second = key.split(DIFFERENCE, 1)
        return outcome_value(summary, first.strip()) - outcome_value(summary, second.strip())
    value: Any = summary
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return math.nan
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def run_outcomes(run_dir: Path, outcomes: Sequence[str]) -> dict[str, float] | None:
    """The outcomes of the run in ``run_dir`` from its ``summary.json``; None if it has none."""
    path = Path(run_dir) / "summary.json"
    if not path.is_file():
        return None
    summary = json.loads(path.read_text(encoding="utf-8"))
    return {key: outcome_value(summary, key) for key in outcomes}


def save_runs(sobol_dir: Path, runs: pd.DataFrame) -> None:
    """Write the per-row statuses and outcomes (``runs.parquet``)."""
    runs.to_parquet(sobol_dir / RUNS, index=False)


def analyze(parameters: Sequence[Parameter], settings: Settings,
            runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Sobol indices (SALib) of each outcome: first-order and total, with confidence intervals.

    ``runs`` holds one row per design row (ordered by ``row``) with one column per outcome.
    Returns the indices (:data:`INDEX_COLUMNS`) and, with second-order indices, a table of
    ``outcome``, ``parameter_1``, ``parameter_2``, ``S2``, ``S2_conf``.
    """
    spec = problem(parameters)
    ordered = runs.sort_values("row")
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    for outcome in settings.outcomes:
        y = ordered[outcome].to_numpy(dtype=float)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            # SALib divides by the outcome's variance: NaN in, or no variation, gives no index.
            first += [{"outcome": outcome, "parameter": name, "S1": math.nan, "S1_conf": math.nan,
                       "ST": math.nan, "ST_conf": math.nan} for name in spec["names"]]
            continue
        result = sobol_analyze.analyze(spec, y, calc_second_order=settings.calc_second_order,
                               num_resamples=settings.num_resamples,
                               conf_level=settings.conf_level,
                               seed=np.random.default_rng(settings.seed))
        for i, name in enumerate(spec["names"]):
            first.append({"outcome": outcome, "parameter": name,
                          **{c: float(result[c][i]) for c in INDEX_COLUMNS[2:]}})
        if settings.calc_second_order:
            for i, a in enumerate(spec["names"]):
                for j in range(i + 1, len(spec["names"])):
                    second.append({"outcome": outcome, "parameter_1": a,
                                   "parameter_2": spec["names"][j],
                                   "S2": float(result["S2"][i, j]),
                                   "S2_conf": float(result["S2_conf"][i, j])})
    indices = pd.DataFrame(first, columns=INDEX_COLUMNS)
    return indices, (pd.DataFrame(second) if settings.calc_second_order else None)


def write_indices(sweep_dir: Path, indices: pd.DataFrame,
                  second_order: pd.DataFrame | None = None) -> Path:
    """Write ``sensitivity.parquet`` (and ``sobol/second_order.parquet``); return the first path."""
    path = Path(sweep_dir) / INDICES
    indices.to_parquet(path, index=False)
    if second_order is not None:
        second_order.to_parquet(Path(sweep_dir) / SOBOL_DIR / SECOND_ORDER, index=False)
    return path


def format_indices(indices: pd.DataFrame) -> str:
    """A plain-text table of the indices, one line per outcome and parameter."""
    lines: list[str] = []
    for outcome, rows in indices.groupby("outcome", sort=False):
        lines += [f"outcome: {outcome}", f"  {'parameter':<30} {'S1':>16} {'ST':>16}"]
        lines += [f"  {r.parameter:<30} {r.S1:>7.3f} ± {r.S1_conf:<6.3f} "
                  f"{r.ST:>7.3f} ± {r.ST_conf:<6.3f}" for r in rows.itertuples()]
    return "\n".join(lines)
