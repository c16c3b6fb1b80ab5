"""Scenario discovery: the box of settings where a verdict holds (PRIM, EMA Workbench).

The one module that imports ``ema_workbench`` (the ``[explore]`` extra). PRIM (Friedman and
Fisher's patient rule induction, ``ema_workbench.analysis.prim``) peels the sampled space down
to boxes ever denser in cases; of its peeling trajectory, the box kept is the smallest that still
holds at least :data:`MIN_COVERAGE` of the cases. Coverage is the share of all cases that fall in
the box, density the share of the box's samples that are cases, mass the share of all samples in
the box. A limit of the kept box is reported only when its quasi-p-value (the one-sided binomial
test of Bryant and Lempert 2010, as EMA Workbench computes it) is below :data:`ALPHA`: a limit
that could come from noise is dropped, and coverage, density and mass are those of the box with
the limits reported. Which setting matters most comes from extra-trees feature scores
(``ema_workbench.analysis.feature_scoring``, a fixed random state).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spheres.errors import ConfigError
from spheres.explore.design import Dimension

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ipyparallel is not needed: no warning about it
    try:
        from ema_workbench.analysis import feature_scoring, prim
    except ImportError:  # pragma: no cover - depends on the installation
        raise ConfigError("spheres explore needs the [explore] extra (EMA Workbench): "
                          "pip install -e '.[explore]'") from None

logging.getLogger("EMA").setLevel(logging.WARNING)  # PRIM's progress lines are not for users

MIN_COVERAGE = 0.8  # the kept box holds at least this share of the cases
ALPHA = 0.05  # a limit is kept when its quasi-p-value is below this
IMPORTANCE_SEED = 0


@dataclass(frozen=True)
class Limit:
    """One setting's limit in a box: a range of numbers, or a set of options."""

    key: str
    low: float | None = None
    high: float | None = None
    options: tuple[str, ...] = ()
    restricted: bool = False


@dataclass(frozen=True)
class Box:
    """A box of settings: its restricted limits, coverage, density and mass."""

    limits: tuple[Limit, ...]
    coverage: float
    density: float
    mass: float


def frame(samples: pd.DataFrame, dims: Sequence[Dimension]) -> pd.DataFrame:
    """The settings of ``samples`` as PRIM's input: numbers as floats, options as categories."""
    return pd.DataFrame({d.key: pd.Categorical(samples[d.key].astype(str),
                                               categories=list(d.options))
                         if d.categorical else samples[d.key].astype(float) for d in dims})


def find_box(samples: pd.DataFrame, dims: Sequence[Dimension], cases: np.ndarray) -> Box | None:
    """The box where ``cases`` (one bool per sample) concentrate; ``None`` if none or all are."""
    cases = np.asarray(cases, dtype=bool)
    if not cases.any() or cases.all():
        return None
    x = frame(samples, dims)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = prim.Prim(x, cases).find_box()
    trajectory = box.peeling_trajectory
    kept = int(trajectory.index[trajectory["coverage"] >= MIN_COVERAGE][-1])
    box.select(kept)
    limits = box.box_lims[kept]
    # quasi-p-values of each restricted setting's lower and upper limit (Bryant and Lempert)
    qp = {str(key): tuple(values) for key, values in box.p_values[kept].items()}
    limits_of = []
    inside = np.ones(len(x), dtype=bool)
    for d in dims:
        low_p, high_p = (_p(p) for p in qp.get(d.key, (math.nan, math.nan)))
        if d.categorical:
            chosen = tuple(o for o in d.options if o in limits[d.key].iloc[0])
            cut = len(chosen) < len(set(x[d.key].dropna())) and min(low_p, high_p) < ALPHA
            limits_of.append(Limit(d.key, options=chosen if cut else (), restricted=bool(cut)))
            if cut:
                inside &= x[d.key].isin(chosen).to_numpy()
            continue
        low, high = float(limits[d.key].iloc[0]), float(limits[d.key].iloc[1])
        cut_low = bool(low > x[d.key].min() and low_p < ALPHA)
        cut_high = bool(high < x[d.key].max() and high_p < ALPHA)
        if cut_low:
            inside &= (x[d.key] >= low).to_numpy()
        if cut_high:
            inside &= (x[d.key] <= high).to_numpy()
        if d.integer:  # a limit between two whole numbers, said as the whole number inside
            low, high = float(math.ceil(low)), float(math.floor(high))
        limits_of.append(Limit(d.key, low if cut_low else None, high if cut_high else None,
                               restricted=cut_low or cut_high))
    return Box(tuple(limits_of), coverage=float(cases[inside].sum() / cases.sum()),
               density=float(cases[inside].mean()) if inside.any() else math.nan,
               mass=float(inside.mean()))


def _p(value: object) -> float:
    """A quasi-p-value as a number (a limit PRIM did not test, given as -1 or none: 1)."""
    try:
        p = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
    return 1.0 if math.isnan(p) or p < 0 else p


def importance(samples: pd.DataFrame, dims: Sequence[Dimension],
               cases: np.ndarray) -> dict[str, float]:
    """Each setting's extra-trees feature score for the verdict (sums to 1; empty if constant)."""
    cases = np.asarray(cases, dtype=bool)
    if not cases.any() or cases.all():
        return {}
    x = frame(samples, dims)
    numeric = x.apply(lambda c: c.cat.codes if isinstance(c.dtype, pd.CategoricalDtype) else c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = feature_scoring.get_ex_feature_scores(numeric, cases,
                                                       random_state=IMPORTANCE_SEED)[0]
    return {str(k): float(v) for k, v in scores.iloc[:, 0].items()}
