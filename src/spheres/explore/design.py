"""An exploration's design: the settings a study's answer may depend on, sampled over their ranges.

Each numeric setting of the study's :class:`~spheres.studies.base.Verdict` is varied over its
range to try (``schema.Spec.tries``, the ranges of the ODD's sources table): uniformly, or on a
log scale when the range is positive and spans a factor of 20 or more (``market.ad_rate`` from
0.01 to 1 a year). Integer settings are rounded. Config groups and named settings listed by the
verdict's ``choices`` take each option equally often. The design is a Latin hypercube
(``scipy.stats.qmc.LatinHypercube``, scrambled with the design's seed). Sample ``i`` runs with
``seed=i``, once per arm of the verdict, as job ``i * arms + arm``.

A sweep keeps, before any run, ``SWEEP_DIR/explore/problem.json`` (the study, its verdict, each
dimension with its range, the fixed overrides) and ``SWEEP_DIR/explore/design.parquet`` (one row
per sample: ``sample``, ``seed`` and one column per setting, holding the value as run).
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from spheres.config.validate import settings
from spheres.errors import ConfigError
from spheres.studies.base import Verdict
from spheres.studies.registry import STUDIES

# The ``_target_`` of the exploration sweeper (hydra/sweeper=explore).
SWEEPER = "hydra_plugins.spheres_explore_sweeper.explore_sweeper.ExploreSweeper"
EXPLORE_DIR = "explore"
PROBLEM = "problem.json"
DESIGN = "design.parquet"
LOG_SPAN = 20.0  # a positive range spanning this factor or more is sampled on a log scale


@dataclass(frozen=True)
class Dimension:
    """One varied setting: its key, its range (numbers) or its options (names)."""

    key: str
    low: float = 0.0
    high: float = 0.0
    integer: bool = False
    log: bool = False
    options: tuple[str, ...] = ()

    @property
    def categorical(self) -> bool:
        """Whether the dimension takes named options rather than numbers."""
        return bool(self.options)

    def value(self, u: float) -> Any:
        """The setting's value at ``u`` in [0, 1) of the dimension."""
        if self.categorical:
            return self.options[min(int(u * len(self.options)), len(self.options) - 1)]
        if self.log:
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return round(x) if self.integer else float(x)

    def describe(self) -> str:
        """``key in [low, high]`` (with the scale), or ``key in {a, b}``."""
        if self.categorical:
            return f"{self.key} in {{{', '.join(self.options)}}}"
        return f"{self.key} in [{self.low:g}, {self.high:g}]" + (" (log scale)" if self.log else "")


def explorable() -> list[str]:
    """The studies whose answer can be explored (those with a verdict)."""
    return sorted(name for name, study in STUDIES.items() if study.verdict is not None)


def verdict_of(experiment: str | None) -> Verdict:
    """The verdict of the study ``experiment``; ``ConfigError`` naming the studies that have one."""
    known = explorable()
    if not experiment:
        raise ConfigError("spheres explore needs a study: experiment=NAME, one of "
                          + ", ".join(known))
    study = STUDIES.get(experiment)
    if study is None or study.verdict is None:
        raise ConfigError(f"experiment={experiment} is not allowed: spheres explore maps the "
                          f"answer of a study, one of {', '.join(known)}")
    return study.verdict


def require_extra() -> None:
    """Refuse an exploration before any run when EMA Workbench (the ``[explore]`` extra) is absent.

    Without it the runs could be made but not analysed.
    """
    if importlib.util.find_spec("ema_workbench") is None:
        raise ConfigError("spheres explore needs the [explore] extra (EMA Workbench, for PRIM): "
                          "pip install -e '.[explore]'")


def dimensions(verdict: Verdict, pinned: Sequence[str] = ()) -> list[Dimension]:
    """The verdict's settings as dimensions, less those ``pinned`` by an override."""
    known = {s.name: s for s in settings()}
    found: list[Dimension] = []
    for key in verdict.settings:
        if key in pinned:
            continue
        setting = known[key]
        if setting.spec.tries is None:
            raise ConfigError(f"{key} has no range to try in the schema: it cannot be explored")
        low, high = (float(b) for b in setting.spec.tries)
        found.append(Dimension(key, low, high, integer=setting.kind == "int",
                               log=low > 0 and high / low >= LOG_SPAN))
    found += [Dimension(key, options=tuple(options)) for key, options in verdict.choices
              if key not in pinned]
    return found


def sample(dims: Sequence[Dimension], n: int, seed: int) -> pd.DataFrame:
    """``n`` samples of a scrambled Latin hypercube: ``sample``, ``seed`` and one column a key."""
    if n < 2:
        raise ConfigError(f"hydra.sweeper.samples = {n} is not allowed: a whole number of "
                          "samples, at least 2 (a few hundred to find where an answer holds)")
    units = qmc.LatinHypercube(d=len(dims), rng=np.random.default_rng(seed)).random(n)
    design = pd.DataFrame({"sample": np.arange(n), "seed": np.arange(n)})
    for j, dim in enumerate(dims):
        design[dim.key] = [dim.value(u) for u in units[:, j]]
    return design


def arms_of(verdict: Verdict) -> list[list[str]]:
    """The overrides of each arm a sample runs (one arm, no overrides, for a verdict without)."""
    return [[arm] for arm in verdict.arms] or [[]]


def job_overrides(design: pd.DataFrame, dims: Sequence[Dimension], verdict: Verdict,
                  fixed: Sequence[str]) -> list[list[str]]:
    """Each job's overrides, in job order: sample ``i`` arm ``a`` is job ``i * arms + a``."""
    jobs = []
    for values in design.to_dict("records"):
        settings_ = [f"{d.key}={_plain(values[d.key])!r}" if not d.categorical
                     else f"{d.key}={values[d.key]}" for d in dims]
        for arm in arms_of(verdict):
            jobs.append([*fixed, *verdict.fixed, *settings_, *arm, f"seed={int(values['seed'])}"])
    return jobs


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def runs(experiment: str | None, samples: int) -> int:
    """The number of runs an exploration of ``experiment`` with ``samples`` samples makes."""
    return samples * len(arms_of(verdict_of(experiment)))


def save(sweep_dir: Path, experiment: str, dims: Sequence[Dimension], design: pd.DataFrame,
         fixed: Sequence[str], design_seed: int) -> None:
    """Write ``explore/problem.json`` and ``explore/design.parquet`` into ``sweep_dir``."""
    where = Path(sweep_dir) / EXPLORE_DIR
    where.mkdir(parents=True, exist_ok=True)
    verdict = verdict_of(experiment)
    saved = {"experiment": experiment, "statement": verdict.statement,
             "arms": list(verdict.arms), "dimensions": [asdict(d) for d in dims],
             "fixed_overrides": [*fixed, *verdict.fixed], "samples": len(design),
             "design_seed": design_seed}
    (where / PROBLEM).write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")
    design.to_parquet(where / DESIGN, index=False)


def load(sweep_dir: Path) -> tuple[dict[str, Any], list[Dimension], pd.DataFrame] | None:
    """What :func:`save` wrote (problem, dimensions, design), or ``None`` if it is not there."""
    where = Path(sweep_dir) / EXPLORE_DIR
    if not (where / PROBLEM).is_file() or not (where / DESIGN).is_file():
        return None
    problem = json.loads((where / PROBLEM).read_text(encoding="utf-8"))
    dims = [Dimension(**{**d, "options": tuple(d["options"])}) for d in problem["dimensions"]]
    return problem, dims, pd.read_parquet(where / DESIGN)
