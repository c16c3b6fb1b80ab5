"""Fitting settings to an observed series by ABC-SMC (pyabc), the [calibrate] extra.

pyabc runs the sequential Monte Carlo: each generation draws settings from the previous
generation's particles (perturbed by its kernel), runs the model with them and keeps those whose
series lies within the generation's distance of the observed one. Here:

- the *model* (:class:`SeriesModel`) runs spheres at the drawn settings, with a seed drawn from the
  task's random state, and returns each observed column at the observed steps;
- the *distance* (:func:`distance`) is the root of the summed squared differences over the
  observed points (a seller that has left counts as 0);
- the *sampler* (:class:`SeededMappingSampler`) is pyabc's mapping sampler whose tasks each get a
  seed from the calibration's seed, the generation and the task's place, so that the posterior is
  the same with any number of processes; the map runs the tasks in this process (1 process) or in
  a process pool, or on a Dask cluster (its ``Client``).
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc
from pyabc.sampler import MappingSampler
from pyabc.weighted_statistics import weighted_quantile

from spheres.calibrate.observed import Observed, simulated
from spheres.calibrate.spec import CalibrationSpec, Prior, with_values
from spheres.run.simulate import simulate
from spheres.schema import SpheresConfig

SEED_LIMIT = 2**31 - 1
PREDICTIVE_ROUND = 10**6  # the seeds of the predictive runs: a round no generation reaches


@dataclass(frozen=True)
class SeriesModel:
    """Runs the market at drawn settings and returns its series at the observed steps."""

    base: SpheresConfig
    priors: tuple[Prior, ...]
    observed: Observed

    def settings(self, parameter: dict[str, float]) -> dict[str, Any]:
        """The drawn parameter (named ``p0``, ``p1``, ...) as settings' values."""
        return {p.key: p.value(parameter[f"p{i}"]) for i, p in enumerate(self.priors)}

    def run(self, values: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
        """The series of one run at ``values`` with ``seed``."""
        config = with_values(self.base, {**values, "seed": seed})
        return simulated(simulate(config), self.observed)

    def __call__(self, parameter: dict[str, float]) -> dict[str, np.ndarray]:
        """The model call of pyabc: the series at the drawn parameter, seeded by the task."""
        seed = int(np.random.randint(0, SEED_LIMIT))  # the task's random state, seeded
        return self.run(self.settings(parameter), seed)


def distance(x: dict[str, np.ndarray], x0: dict[str, np.ndarray]) -> float:
    """Root of the summed squared differences over the observed points."""
    total = 0.0
    for name, want in x0.items():
        seen = np.isfinite(want)
        got = np.nan_to_num(np.asarray(x[name], float)[seen], nan=0.0)
        total += float(np.sum((got - want[seen]) ** 2))
    return math.sqrt(total)


def task_seed(seed: int, generation: int, index: int) -> int:
    """The seed of task ``index`` of a sampling round: from the calibration's seed and round."""
    return int(np.random.SeedSequence([seed, generation, index]).generate_state(1)[0])


class SeededMappingSampler(MappingSampler):
    """pyabc's mapping sampler, each task seeded from (calibration seed, round, task).

    Each task samples until it has one accepted particle, as in pyabc; the results come back in
    the tasks' order whatever map runs them, so the population does not depend on the number of
    processes.
    """

    def __init__(self, map_: Callable[..., Iterable[Any]], seed: int) -> None:
        """Tasks run through ``map_``; their seeds derive from ``seed``."""
        super().__init__(map_=map_)
        self.seed = seed
        self.round = 0
        self.report: Callable[[int, int, float], None] | None = None

    def map_function(self, simulate_one: Any, seed: Any) -> tuple[Any, int]:
        """One task: seed the random state, then sample until a particle is accepted."""
        np.random.seed(seed)
        random.seed(seed)
        simulate_one = self.unpickle(simulate_one)
        sample, nr_simulations = self._create_empty_sample(), 0
        while True:
            particle = simulate_one()
            nr_simulations += 1
            sample.append(particle)
            if particle.accepted:
                return sample, nr_simulations

    def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, *,
                                max_eval: float = np.inf, all_accepted: bool = False,
                                ana_vars: Any = None) -> Any:
        """``n`` tasks, each seeded; their samples joined in the tasks' order."""
        self.round += 1
        start = time.perf_counter()
        seeds = [task_seed(self.seed, self.round, i) for i in range(n)]
        pickled = self.pickle(simulate_one)
        results = list(self.map_(_Task(self, pickled), seeds))
        self.nr_evaluations_ = sum(evals for _, evals in results)
        sample = self._create_empty_sample()
        for part, _ in results:
            sample += part
        if self.report is not None:
            self.report(t, self.nr_evaluations_, time.perf_counter() - start)
        return sample


@dataclass(frozen=True)
class _Task:
    """A picklable call of the sampler's task function (for process pools and clusters)."""

    sampler: SeededMappingSampler
    pickled: Any

    def __call__(self, seed: int) -> tuple[Any, int]:
        return self.sampler.map_function(self.pickled, seed)


@dataclass
class Generation:
    """What one generation did: its distance threshold, simulations, acceptance and time."""

    t: int
    epsilon: float
    simulations: int
    accepted: int
    seconds: float


@dataclass
class Fit:
    """A finished calibration: the last population, its distances and the generations."""

    posterior: pd.DataFrame  # one column per fitted setting, then "weight"
    distances: np.ndarray
    generations: list[Generation]

    def table(self) -> pd.DataFrame:
        """Per setting: the weighted median and 5% and 95% quantiles."""
        w = self.posterior["weight"].to_numpy()
        rows = []
        for key in self.posterior.columns.drop("weight"):
            x = self.posterior[key].to_numpy(float)
            rows.append({"setting": key, "median": weighted_quantile(x, w, alpha=0.5),
                         "low_5%": weighted_quantile(x, w, alpha=0.05),
                         "high_95%": weighted_quantile(x, w, alpha=0.95)})
        return pd.DataFrame(rows)

    def best(self) -> dict[str, Any]:
        """The settings of the particle nearest the observed series."""
        row = self.posterior.iloc[int(np.argmin(self.distances))]
        return {k: row[k] for k in self.posterior.columns.drop("weight")}


def mapper(stack: ExitStack, procs: int, scheduler: str | None) -> Callable[..., Iterable[Any]]:
    """The map tasks run through: this process, a process pool, or a Dask cluster."""
    if scheduler:
        from distributed import Client  # comes with pyabc; only a cluster run needs it

        client = stack.enter_context(Client(scheduler))
        return lambda f, items: client.gather(client.map(f, list(items), pure=False))
    if procs <= 1:
        return map
    pool = stack.enter_context(ProcessPoolExecutor(max_workers=procs))
    return lambda f, items: pool.map(f, items, chunksize=1)


def quiet_pyabc() -> None:
    """Pyabc logs every generation at INFO; the command prints its own progress."""
    for name in ("ABC", "Sampler", "Epsilon", "History", "Distance", "Acceptor", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING)


def fit(spec: CalibrationSpec, model: SeriesModel, database: Path, run_map: Callable[..., Any],
        progress: Callable[[Generation, int], None] | None = None) -> Fit:
    """Run ABC-SMC for ``spec`` until a stopping rule holds; return the last population.

    ``progress(generation, populations)`` is called after each generation (the calibration
    sample that sets the first distance threshold is generation -1).
    """
    quiet_pyabc()
    np.random.seed(task_seed(spec.seed, 0, 0))
    random.seed(spec.seed)
    prior = pyabc.Distribution(**{f"p{i}": pyabc.RV("uniform", p.low, p.high - p.low)
                                  for i, p in enumerate(model.priors)})
    sampler = SeededMappingSampler(run_map, spec.seed)
    abc = pyabc.ABCSMC(model, prior, distance, population_size=spec.population_size,
                       sampler=sampler)
    if progress is not None:
        sampler.report = _Reporter(abc, spec, progress)
    abc.new(f"sqlite:///{database}", model.observed.values)
    history = abc.run(minimum_epsilon=spec.min_epsilon, max_nr_populations=spec.populations,
                      max_total_nr_simulations=spec.max_simulations)
    pops = history.get_all_populations()
    generations = [Generation(int(r.t), float(r.epsilon), int(r.samples), spec.population_size,
                              float(r.wall_time)) for r in pops.itertuples() if r.t >= 0]
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    posterior = pd.DataFrame({p.key: [p.value(v) for v in frame[f"p{i}"]]
                              for i, p in enumerate(model.priors)})
    posterior["weight"] = np.asarray(weights, float)
    dist = history.get_weighted_distances(t=history.max_t)["distance"].to_numpy(float)
    return Fit(posterior, dist, generations)


@dataclass
class _Reporter:
    """Reports each sampling round: the generation, its threshold, simulations and time."""

    abc: Any
    spec: CalibrationSpec
    progress: Callable[[Generation, int], None]

    def __call__(self, t: int, simulations: int, seconds: float) -> None:
        epsilon = float(self.abc.eps(t)) if t >= 0 else math.inf
        self.progress(Generation(t, epsilon, simulations, self.spec.population_size, seconds),
                      self.spec.populations)


def predictive(model: SeriesModel, result: Fit, n: int, seed: int,
               run_map: Callable[..., Any]) -> dict[str, np.ndarray]:
    """``n`` runs drawn from the posterior (by weight): each column's series, one row per run."""
    rng = np.random.default_rng(seed)
    weights = result.posterior["weight"].to_numpy(float)
    rows = rng.choice(len(weights), size=n, p=weights / weights.sum())
    keys = list(result.posterior.columns.drop("weight"))
    draws = [({k: _plain(result.posterior[k].iat[r]) for k in keys},
              task_seed(seed, PREDICTIVE_ROUND, i)) for i, r in enumerate(rows)]
    series = list(run_map(_Predict(model), draws))
    return {name: np.vstack([s[name] for s in series]) for name in model.observed.values}


@dataclass(frozen=True)
class _Predict:
    model: SeriesModel

    def __call__(self, draw: tuple[dict[str, Any], int]) -> dict[str, np.ndarray]:
        values, seed = draw
        return self.model.run(values, seed % SEED_LIMIT)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
