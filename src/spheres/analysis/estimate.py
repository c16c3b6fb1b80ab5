"""Estimates across seeds: means and differences with their intervals, bands, survival curves.

A mean (or a difference of means) across a scenario's seeds gets a 95% bootstrap confidence
interval (``scipy.stats.bootstrap``, percentile method, a fixed random state so that every
report is reproducible); with fewer than two seeds it gets no interval. A line over time gets a
band (:func:`mean_band`, the interval of the mean at each step; :func:`middle_band`, the middle
95% of the runs). Survival is the Kaplan–Meier curve. :func:`format_number` and
:func:`format_estimate` write numbers and estimates the same way in every table.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A mean (or difference of means) across seeds with its 95% interval (NaN with one seed)."""

    value: float
    low: float
    high: float
    n: int

    @property
    def has_interval(self) -> bool:
        """True when the interval could be computed (at least two seeds on each side)."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def clear(self) -> bool:
        """True when the interval excludes zero: a difference clearly larger than its noise."""
        return self.has_interval and (self.low > 0 or self.high < 0)


MISSING = Estimate(math.nan, math.nan, math.nan, 0)


def _bootstrap(samples: tuple[np.ndarray, ...],
               statistic: Callable[..., np.ndarray]) -> tuple[float, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(samples, statistic, n_resamples=BOOTSTRAP_RESAMPLES,
                                 confidence_level=CONFIDENCE, method="percentile",
                                 rng=np.random.default_rng(BOOTSTRAP_SEED))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def mean_ci(values: Sequence[float]) -> Estimate:
    """Estimate the mean across seeds with its 95% bootstrap interval (none below 2 seeds)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return MISSING
    if len(x) < 2:
        return Estimate(float(x.mean()), math.nan, math.nan, len(x))
    return Estimate(float(x.mean()), *_bootstrap((x,), _mean), len(x))


def difference_ci(values: Sequence[float], baseline: Sequence[float]) -> Estimate:
    """Estimate the mean of ``values`` minus the mean of ``baseline``, with a 95% interval."""
    x = np.asarray(values, dtype=float)
    y = np.asarray(baseline, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) == 0 or len(y) == 0:
        return MISSING
    value = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return Estimate(value, math.nan, math.nan, min(len(x), len(y)))
    return Estimate(value, *_bootstrap((x, y), _mean_difference), min(len(x), len(y)))


def per_scenario(frame: pd.DataFrame, column: str) -> defaultdict[str, Estimate]:
    """Estimate the mean of ``column`` in each scenario of ``frame``, in order of appearance.

    A scenario without rows in ``frame`` gives :data:`MISSING`.
    """
    return defaultdict(lambda: MISSING, {str(s): mean_ci(g[column].to_numpy(dtype=float))
                                         for s, g in frame.groupby("scenario", sort=False)})


def error_bars(estimates: Sequence[Estimate]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the values and the lengths of the bars below and above them (0 without interval)."""
    values = np.array([e.value for e in estimates], dtype=float)
    below = np.array([e.value - e.low if e.has_interval else 0.0 for e in estimates])
    above = np.array([e.high - e.value if e.has_interval else 0.0 for e in estimates])
    return values, below, above


def mean_band(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the row means of ``wide`` (steps x runs) and the 95% t interval of each mean.

    Runs with no value at a step (NaN) are left out of that step; a step with one run gets no
    band.
    """
    n = wide.notna().sum(axis=1).to_numpy()
    mean = wide.mean(axis=1).to_numpy()
    sem = wide.sem(axis=1).to_numpy()
    with np.errstate(invalid="ignore"):
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sem
    half[n < 2] = np.nan
    return mean, mean - half, mean + half


def middle_band(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the row means of ``wide`` (steps x runs) and the middle 95% of the runs.

    With a single run there is no band.
    """
    mean = wide.mean(axis=1).to_numpy()
    if wide.shape[1] < 2:
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    return (mean, wide.quantile(0.025, axis=1).to_numpy(),
            wide.quantile(0.975, axis=1).to_numpy())


def kaplan_meier(times: np.ndarray, exited: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the Kaplan–Meier survival curve (steps, share surviving) from 0 to the longest time.

    ``times`` are steps alive; ``exited`` marks an event, the others are censored
    (``scipy.stats.ecdf`` on ``CensoredData``). Plot with ``where="post"``.
    """
    end = float(times.max())
    if not exited.any():
        return np.array([0.0, end]), np.array([1.0, 1.0])
    sf = stats.ecdf(stats.CensoredData(uncensored=times[exited], right=times[~exited])).sf
    return (np.concatenate([[0.0], sf.quantiles, [end]]),
            np.concatenate([[1.0], sf.probabilities, [sf.probabilities[-1]]]))


def format_number(value: float, digits: int) -> str:
    """Write a number with thousands separated and ``digits`` decimals, ``–`` when missing."""
    if not math.isfinite(value):
        return "–"
    return f"{value:,.{digits}f}"


def format_estimate(e: Estimate, digits: int) -> str:
    """Write an estimate as ``mean (low to high)``, or the mean alone without an interval."""
    if not e.has_interval:
        return format_number(e.value, digits)
    return (f"{format_number(e.value, digits)} ({format_number(e.low, digits)} to "
            f"{format_number(e.high, digits)})")
