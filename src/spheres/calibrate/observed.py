"""An observed series, read from a CSV file and checked, and the same series read from a run.

The file has a time column, ``step`` (the run's step, from 1) or ``year`` (years from the run's
start, converted by the model's time unit: step = round(year x steps per year)), and one or more
columns named after model outputs, values as shares or levels in the model's own units:

- a column of a run's ``metrics.parquet`` (one row per step), e.g. ``reach_mean``,
  ``trust_peers``, ``trust_sellers``, ``currency_gini``;
- a seller's column of ``sellers.parquet``, written ``seller_<id>.<column>``, e.g.
  ``seller_0.reach`` (the share of buyers aware of seller 0) or ``seller_3.share``.

Empty cells are allowed (a column observed at fewer times than another); every other cell must
be a finite number.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from spheres.errors import ConfigError
from spheres.run.tables import Results

TIME_COLUMNS = ("step", "year")
SELLER_COLUMN = re.compile(r"^seller_(\d+)\.(\w+)$")
MIN_POINTS = 3  # fewer points than this cannot tell settings apart
# Columns of sellers.parquet that are not observable series of one seller.
SELLER_KEYS = ("step", "seller_id", "strategy", "marketing_lever", "sensing")


@dataclass(frozen=True)
class Observed:
    """An observed series: the steps observed and, per output column, a value at each step.

    A value is NaN where that column was not observed at that step.
    """

    path: Path
    steps: np.ndarray  # int64, increasing, from 1
    values: dict[str, np.ndarray]

    @property
    def last_step(self) -> int:
        """The last step observed: the length of a run that covers the series."""
        return int(self.steps[-1])

    def points(self) -> int:
        """How many observed values the series holds (all columns)."""
        return int(sum(np.isfinite(v).sum() for v in self.values.values()))


def output_names(results: Results) -> tuple[list[str], list[str], list[int]]:
    """What a run of this market outputs: metrics columns, sellers' columns and seller ids."""
    metrics = [c for c in results.metrics.columns if c != "step"]
    sellers = [c for c in results.sellers.columns if c not in SELLER_KEYS]
    ids = sorted(int(i) for i in results.sellers["seller_id"].unique())
    return metrics, sellers, ids


def check_outputs(observed: Observed, results: Results) -> None:
    """Raise ``ConfigError`` unless every observed column is an output of ``results``' market."""
    metrics, sellers, ids = output_names(results)
    for name in observed.values:
        match = SELLER_COLUMN.match(name)
        if match and match.group(2) in sellers and int(match.group(1)) in ids:
            continue
        if not match and name in metrics:
            continue
        if match and match.group(2) in sellers:
            raise ConfigError(f"observed column {name!r}: this market has no seller "
                              f"{match.group(1)} at the start (sellers {ids[0]}–{ids[-1]})")
        raise ConfigError(
            f"observed column {name!r} is not a model output: name a column of metrics.parquet "
            f"({', '.join(metrics)}) or a seller's column of sellers.parquet as "
            f"seller_<id>.<column> ({', '.join(sellers)})")


def read_observed(path: str | Path, steps_per_year: int) -> Observed:
    """Read and check an observed series; raise ``ConfigError`` naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"observed data {str(path)!r}: no such file")
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ConfigError(f"observed data {str(path)!r} is not a CSV table: "
                          f"{' '.join(str(err).split())}") from None
    time = [c for c in TIME_COLUMNS if c in table.columns]
    if len(time) != 1:
        raise ConfigError(f"observed data {str(path)!r}: give exactly one time column, "
                          f"'step' or 'year' (found {', '.join(map(str, table.columns))})")
    time_col = time[0]
    outputs = [str(c) for c in table.columns if c != time_col]
    if not outputs:
        raise ConfigError(f"observed data {str(path)!r}: no observed column beside {time_col!r}")
    numbers = table.apply(pd.to_numeric, errors="coerce")
    for column in table.columns:
        bad = numbers[column].isna() & table[column].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ConfigError(f"observed data {str(path)!r}, column {column!r}, row {row + 2}: "
                              f"{table[column].iat[row]!r} is not a number")
    if numbers[time_col].isna().any() or not np.isfinite(numbers.to_numpy(float)[
            ~numbers.isna().to_numpy()]).all():
        raise ConfigError(f"observed data {str(path)!r}: every time must be given, and every "
                          "value must be a finite number")
    if time_col == "year":
        steps = np.rint(numbers["year"].to_numpy(float) * steps_per_year)
    else:
        steps = numbers["step"].to_numpy(float)
        if not np.all(steps == np.rint(steps)):
            raise ConfigError(f"observed data {str(path)!r}: 'step' must hold whole numbers")
    if (steps < 1).any():
        raise ConfigError(f"observed data {str(path)!r}: the first step a run records is 1; "
                          f"every {time_col} must be after the start "
                          f"({'year > 0' if time_col == 'year' else 'step >= 1'})")
    if len(np.unique(steps)) != len(steps):
        raise ConfigError(f"observed data {str(path)!r}: two rows fall on the same step "
                          f"({time_col} values closer than one step apart)")
    order = np.argsort(steps, kind="stable")
    values = {name: numbers[name].to_numpy(float)[order] for name in outputs}
    observed = Observed(path, steps[order].astype(np.int64), values)
    if observed.points() < MIN_POINTS:
        raise ConfigError(f"observed data {str(path)!r}: {observed.points()} observed values; "
                          f"at least {MIN_POINTS} are needed to tell settings apart")
    return observed


def simulated(results: Results, observed: Observed) -> dict[str, np.ndarray]:
    """The run's values of each observed column at the observed steps (NaN where not observed).

    A seller the run does not have, or a step it did not reach, is NaN too.
    """
    out = {}
    metrics = results.metrics.set_index("step")
    for name, wanted in observed.values.items():
        match = SELLER_COLUMN.match(name)
        if match:
            rows = results.sellers[results.sellers["seller_id"] == int(match.group(1))]
            series = rows.set_index("step")[match.group(2)]
        else:
            series = metrics[name]
        got = series.reindex(observed.steps).to_numpy(float, copy=True)
        got[~np.isfinite(wanted)] = math.nan
        out[name] = got
    return out
