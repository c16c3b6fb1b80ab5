"""Where an answer holds: the verdict of each sample, the boxes where it holds and flips.

From a collected exploration (its store and ``SWEEP_DIR/explore/``): per sample, the study's
number for each arm, the number compared (the first arm's minus the second's, with two arms),
its margin past the verdict's threshold and whether the verdict holds (the table ``explore``);
then PRIM's box where it holds and the box where it flips, each setting's limit in them, and
how much each setting matters (the table ``boxes``). A sample whose runs did not all finish has
no verdict and is left out of the boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from spheres.analysis.store import Store
from spheres.explore import design as designs
from spheres.explore.design import Dimension

REGIONS = ("holds", "flips")
BOX_COLUMNS = ["region", "setting", "restricted", "low", "high", "options", "coverage",
               "density", "mass", "importance"]


@dataclass
class Exploration:
    """A collected exploration: its problem, dimensions, per-sample verdicts and boxes."""

    problem: dict[str, Any]
    dims: list[Dimension]
    samples: pd.DataFrame  # the table ``explore``
    boxes: pd.DataFrame  # the table ``boxes``
    importance: dict[str, float] = field(default_factory=dict)

    @property
    def decided(self) -> pd.DataFrame:
        """The samples that have a verdict (all their runs finished)."""
        return self.samples[self.samples["holds"].notna()]

    def share(self) -> float:
        """The share of decided samples where the verdict holds (NaN if none is decided)."""
        decided = self.decided
        return float(decided["holds"].astype(bool).mean()) if len(decided) else float("nan")

    def ranked(self) -> list[str]:
        """The settings, the one that matters most first.

        By importance for the verdict; where the verdict is the same in every sample (nothing to
        score), by how strongly each setting goes with the number compared (:meth:`drivers`).
        """
        keys = [d.key for d in self.dims]
        if self.importance:
            return sorted(keys, key=lambda k: -self.importance.get(k, 0.0))
        drivers = self.drivers()
        return sorted(keys, key=lambda k: -abs(drivers.get(k, 0.0)))

    def drivers(self) -> dict[str, float]:
        """Spearman's rank correlation of each numeric setting with the number compared."""
        decided = self.decided
        if len(decided) < 3:
            return {}
        found = {}
        for d in self.dims:
            if d.categorical or decided[d.key].nunique() < 2:
                continue
            rho = stats.spearmanr(decided[d.key].astype(float),
                                  decided["value"].astype(float)).statistic
            if np.isfinite(rho):
                found[d.key] = float(rho)
        return found

    def box_text(self, region: str) -> str | None:
        """The region's box in words with coverage and density, or ``None`` if it has none."""
        rows = self.boxes[self.boxes["region"] == region]
        if rows.empty:
            return None
        restricted = [_limit_text(r) for r in rows.itertuples() if r.restricted]
        first = rows.iloc[0]
        where = (" and ".join(restricted) if restricted else
                 "the whole ranges; no narrower box passes the test")
        overall = self.share() if region == "holds" else 1 - self.share()
        return (f"{where} (coverage {first['coverage']:.2f}, density {first['density']:.2f} "
                f"against {overall:.2f} overall, {first['mass']:.0%} of the samples)")

    def lines(self) -> list[str]:
        """The verdict first, then where it holds and flips and which setting matters most."""
        decided = self.decided
        n, held = len(decided), int(decided["holds"].astype(bool).sum()) if len(decided) else 0
        lines = [f"Verdict: {self.problem['statement']}.",
                 f"It holds in {held} of {n} samples ({held / n:.0%})" if n else
                 "No sample has a verdict (no run finished)."]
        if n:
            lines[-1] += (", drawn over " + "; ".join(d.describe() for d in self.dims) + ".")
            if held in (0, n):
                lines.append(f"It holds {'everywhere' if held else 'nowhere'} sampled: there is "
                             "no box to find.")
                drivers = self.drivers()
                top = sorted(drivers, key=lambda k: -abs(drivers[k]))[:3]
                if top:
                    lines.append("What sets the number's size: " + ", ".join(
                        f"{k} (Spearman {drivers[k]:+.2f})" for k in top) + ".")
            elif held / n >= 0.9:
                lines.append("It holds almost everywhere sampled.")
            elif held / n <= 0.1:
                lines.append("It holds almost nowhere sampled.")
            low, mid, high = decided["value"].astype(float).quantile([0.05, 0.5, 0.95])
            verdict = designs.verdict_of(self.problem["experiment"])
            lines.append(f"The number compared ({verdict.measure}): median {mid:.3g}, "
                         f"5–95% of samples {low:.3g} to {high:.3g}; the verdict's threshold "
                         f"is {verdict.threshold:g}.")
        for region in REGIONS:
            text = self.box_text(region)
            if text is not None:
                lines.append(f"{'Holds' if region == 'holds' else 'Flips'} where: {text}.")
        if self.importance:
            top = self.ranked()
            lines.append("Matters most: " + ", ".join(
                f"{k} ({self.importance[k]:.2f})" for k in top[:3]) + " (extra-trees scores).")
        missing = len(self.samples) - n
        if missing:
            lines.append(f"{missing} samples have no verdict: a run of theirs did not finish "
                         "or gave no number.")
        return lines


def _limit_text(row: Any) -> str:
    if isinstance(row.options, str) and row.options:
        return f"{row.setting} in {{{row.options}}}"
    low = None if pd.isna(row.low) else float(row.low)
    high = None if pd.isna(row.high) else float(row.high)
    if low is not None and high is not None:
        return f"{low:.3g} ≤ {row.setting} ≤ {high:.3g}"
    return f"{row.setting} ≥ {low:.3g}" if low is not None else f"{row.setting} ≤ {high:.3g}"


def samples_table(store: Store, problem: dict[str, Any], design: pd.DataFrame) -> pd.DataFrame:
    """Per sample: its settings, each arm's number, the number compared, margin and verdict."""
    verdict = designs.verdict_of(problem["experiment"])
    arms = designs.arms_of(verdict)
    values = (verdict.value(store)[["job", "value"]].dropna() if len(store.runs)
              else pd.DataFrame({"job": pd.Series(dtype="int64"), "value": pd.Series(dtype=float)}))
    values = values.assign(sample=values["job"] // len(arms), arm=values["job"] % len(arms))
    wide = values.pivot(index="sample", columns="arm", values="value")
    table = design.copy()
    names = [a[0] if a else "value" for a in arms]
    for i, name in enumerate(names):
        column = wide[i] if i in wide.columns else pd.Series(dtype=float)
        table[name if len(arms) > 1 else "value"] = table["sample"].map(column).astype(float)
    compared = (table[names[0]] - table[names[1]]) if len(arms) == 2 else table["value"]
    if len(arms) == 2:
        table["value"] = compared
    margin = verdict.margin(compared)
    table["margin"] = margin
    table["holds"] = pd.array([None if np.isnan(m) else bool(m > 0) for m in margin],
                              dtype="boolean")
    return table


def explored(store: Store, sweep_dir: Path) -> Exploration | None:
    """The exploration of ``sweep_dir`` read from its store, or ``None`` if it is not one."""
    loaded = designs.load(sweep_dir)
    if loaded is None:
        return None
    # PRIM and the feature scores come from EMA Workbench (the [explore] extra), loaded here.
    from spheres.explore.regions import find_box, importance

    problem, dims, design = loaded
    samples = samples_table(store, problem, design)
    decided = samples[samples["holds"].notna()]
    cases = decided["holds"].astype(bool).to_numpy()
    scores = importance(decided, dims, cases)
    rows = []
    for region, wanted in zip(REGIONS, (cases, ~cases), strict=True):
        box = find_box(decided, dims, wanted)
        if box is None:
            continue
        rows += [{"region": region, "setting": limit.key, "restricted": limit.restricted,
                  "low": limit.low, "high": limit.high,
                  "options": ", ".join(limit.options) if limit.options else None,
                  "coverage": box.coverage, "density": box.density, "mass": box.mass,
                  "importance": scores.get(limit.key, float("nan"))}
                 for limit in box.limits]
    boxes = pd.DataFrame(rows, columns=BOX_COLUMNS).astype(
        {"region": "string", "setting": "string", "restricted": "boolean", "low": "float64",
         "high": "float64", "options": "string", "coverage": "float64", "density": "float64",
         "mass": "float64", "importance": "float64"})
    return Exploration(problem, dims, samples, boxes, scores)


def from_store(store: Store, sweep_dir: Path) -> Exploration | None:
    """An exploration as collected (tables ``explore`` and ``boxes``), or ``None``."""
    loaded = designs.load(sweep_dir)
    if loaded is None or not {"explore", "boxes"} <= store.tables():
        return None
    problem, dims, _ = loaded
    samples = store.df("SELECT * FROM explore ORDER BY sample")
    boxes = store.df("SELECT * FROM boxes")
    scores = boxes.drop_duplicates("setting").dropna(subset=["importance"])
    importance = dict(zip(scores["setting"], scores["importance"].astype(float), strict=True))
    return Exploration(problem, dims, samples, boxes, importance)
