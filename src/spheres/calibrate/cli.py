"""``spheres calibrate``: fit settings to an observed series, with uncertainty.

Everything the user can get wrong (the file, its columns, a setting, a range, a size, the output
directory) is checked before the first simulation, and refused with one line and exit code 2.
The work is done in a temporary directory beside ``--out``, renamed into place at the end; Ctrl-C
removes it, so nothing that looks like a finished calibration is left.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pandas as pd

from spheres.calibrate import outputs
from spheres.calibrate.observed import Observed, check_outputs, read_observed
from spheres.calibrate.spec import (
    CalibrationSpec,
    base_config,
    check_priors,
    check_sizes,
    load_spec,
    merged,
    parse_fit,
    spec_names,
    with_values,
)
from spheres.errors import EXIT_INTERRUPTED, ConfigError
from spheres.run.simulate import simulate
from spheres.run.task import remembered_interrupts

if TYPE_CHECKING:
    from spheres.calibrate import smc as smc_types

PROG = "spheres calibrate"
EXTRA = "pip install -e '.[calibrate]'"


class Parser(argparse.ArgumentParser):
    """argparse, its errors one line and exit code 2 like every other refusal."""

    def error(self, message: str) -> NoReturn:
        """Refuse the arguments with argparse's message."""
        raise ConfigError(f"{message} (`{PROG} --help` lists the arguments)")


def parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    p = Parser(
        prog=PROG,
        description="Fit settings to an observed series by ABC-SMC (pyabc): a posterior "
                    "sample of the settings, a table of medians and 90%% intervals, a "
                    "posterior-predictive figure and calibrated.yaml to run the fitted market.",
        epilog="example: spheres calibrate --spec bass_colour_tv  (the README's worked "
               "example); spheres calibrate observed.csv --fit market.ad_rate=0.001:0.3 "
               "--fit market.p_word_of_mouth=0.005:0.3 experiment=diffusion n_buyers=1000. "
               "Exit codes: 0 done, 2 bad input (nothing simulated), 130 interrupted.")
    p.add_argument("data", nargs="?", help="CSV file: a time column (step, or year from the "
                   "run's start) and columns named after model outputs (a metrics column, or "
                   "seller_<id>.<column>)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="the market, as Hydra overrides of `spheres run` (groups and settings)")
    p.add_argument("--spec", help="a calibration file: a name in configs/calibrate/ "
                   f"({', '.join(spec_names()) or 'none'}) or a path")
    p.add_argument("--fit", action="append", default=[], metavar="KEY=LOW:HIGH",
                   help="a setting to fit and its uniform prior range (repeatable)")
    p.add_argument("--populations", type=int, help="ABC-SMC generations at most (default 6)")
    p.add_argument("--population-size", type=int,
                   help="accepted particles per generation (default 100)")
    p.add_argument("--min-epsilon", type=float,
                   help="stop once a generation's distance threshold is this small (default 0)")
    p.add_argument("--max-simulations", type=int,
                   help="stop after this many simulations in all (default 20000)")
    p.add_argument("--predictive", type=int,
                   help="runs drawn from the posterior for the figure's band (default 40)")
    p.add_argument("--seed", type=int, help="the calibration's random seed (default 0)")
    p.add_argument("--procs", type=int, default=None,
                   help="processes to simulate in (default: all cores)")
    p.add_argument("--scheduler", help="a Dask scheduler's address (tcp://host:8786): "
                   "simulate on that cluster instead of local processes")
    p.add_argument("--out", type=Path, help="output directory (must not exist; default "
                   "outputs/calibrations/DATE/TIME)")
    return p


def calibrate_main(argv: list[str]) -> int:
    """Check everything, fit, write the directory; return the exit code."""
    args = parser().parse_intermixed_args(argv)
    data, overrides = args.data, list(args.overrides)
    if data is not None and "=" in data:  # no data file given: the first word is an override
        data, overrides = None, [data, *overrides]
    spec = merged(load_spec(args.spec), fit=tuple(parse_fit(f) for f in args.fit),
                  overrides=tuple(overrides), data=data, populations=args.populations,
                  population_size=args.population_size, min_epsilon=args.min_epsilon,
                  max_simulations=args.max_simulations, predictive=args.predictive,
                  seed=args.seed)
    check_sizes(spec)
    out = args.out or Path("outputs/calibrations") / datetime.now().strftime("%Y-%m-%d/%H-%M-%S")
    if out.exists():
        raise ConfigError(f"--out {str(out)!r} exists: give a new directory, or remove it")
    procs = args.procs if args.procs is not None else _cores()
    if procs < 1:
        raise ConfigError(f"--procs {procs} is not allowed: at least 1")
    try:
        import spheres.calibrate.smc as smc  # pyabc: the [calibrate] extra
    except ImportError as err:
        raise ConfigError(f"spheres calibrate needs pyabc ({err.name} is missing): {EXTRA}") \
            from None
    base = base_config(spec.overrides, steps=1)
    observed = read_observed(spec.data, base.time.steps_per_year)
    check_outputs(observed, simulate(base))
    base = with_values(base, {"steps": observed.last_step})
    check_priors(base, spec.fit)
    model = smc.SeriesModel(base, spec.fit, observed)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.partial"
        work.mkdir()
    except OSError as err:
        raise ConfigError(f"--out {str(out)!r} cannot be written: {err.strerror or err}") \
            from None
    print(f"fitting {', '.join(p.key for p in spec.fit)} to {observed.points()} observed "
          f"values of {', '.join(observed.values)} ({observed.last_step} steps of "
          f"1/{base.time.steps_per_year:g} year, {base.n_buyers} buyers); up to "
          f"{spec.populations} generations of {spec.population_size}, "
          + (f"on the Dask cluster at {args.scheduler}" if args.scheduler else
             f"{procs} process{'es' if procs > 1 else ''}"), file=sys.stderr)
    try:
        with ExitStack() as stack:
            stop = stack.enter_context(remembered_interrupts())
            run_map = _checked(smc.mapper(stack, procs, args.scheduler), stop)
            started = time.perf_counter()
            fitted = smc.fit(spec, model, work / outputs.HISTORY, run_map,
                             progress=_progress(started))
            print(f"posterior-predictive band: {spec.predictive} runs", file=sys.stderr)
            series = smc.predictive(model, fitted, spec.predictive, spec.seed, run_map)
        table = _write(work, spec, fitted, observed, series, base.time.steps_per_year)
        work.rename(out)
    except KeyboardInterrupt:
        shutil.rmtree(work, ignore_errors=True)
        print("interrupted: no calibration written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    print(outputs.table_text(table, float(fitted.distances.min())))
    print(f"results: {out}  (run the fitted market: spheres run --config-dir {out} "
          "--config-name calibrated)")
    return 0


def _checked(run_map: Callable[..., Iterable[Any]],
             stop: threading.Event) -> Callable[..., Iterator[Any]]:
    """``run_map`` that stops at the next task once interrupted.

    A Ctrl-C that Python dropped (see :func:`spheres.run.task.remembered_interrupts`) is raised
    again here, so one Ctrl-C always stops the calibration.
    """
    def run(function: Callable[..., Any], items: Iterable[Any]) -> Iterator[Any]:
        for result in run_map(function, items):
            if stop.is_set():
                raise KeyboardInterrupt
            yield result
    return run


def _write(work: Path, spec: CalibrationSpec, fitted: smc_types.Fit, observed: Observed,
           series: dict[str, np.ndarray], steps_per_year: int) -> pd.DataFrame:
    """Write the calibration's files into ``work``; return the table of fitted settings."""
    table = fitted.table()
    fitted.posterior.to_parquet(work / outputs.POSTERIOR, index=False)
    medians = {row.setting: _value(spec, row.setting, row.median) for row in table.itertuples()}
    (work / outputs.CALIBRATED).write_text(outputs.calibrated_config(spec.overrides, medians))
    outputs.predictive_figure(observed, series, steps_per_year, work / outputs.FIGURE)
    generations = [dataclasses.asdict(g) for g in fitted.generations]
    asked = {**dataclasses.asdict(spec), "data": str(spec.data)}
    outputs.write_summary(work / outputs.SUMMARY, table, fitted.best(),
                          float(fitted.distances.min()), generations, asked)
    return table


def _value(spec: CalibrationSpec, key: str, median: float) -> float | int:
    prior = next(p for p in spec.fit if p.key == key)
    return prior.value(median)


def _progress(started: float) -> Callable[[smc_types.Generation, int], None]:
    """A printer of each generation's progress and an estimate of the time left."""

    def report(generation: smc_types.Generation, populations: int) -> None:
        elapsed = time.perf_counter() - started
        if generation.t < 0:
            print(f"calibration sample: {generation.simulations} simulations from the prior "
                  f"(sets the first distance threshold), {elapsed:.0f} s", file=sys.stderr,
                  flush=True)
            return
        done = generation.t + 1
        left = elapsed / done * (populations - done)
        print(f"generation {done}/{populations}: distance <= {generation.epsilon:.4g}, "
              f"{generation.simulations} simulations "
              f"({generation.accepted / max(generation.simulations, 1):.0%} accepted), "
              f"{elapsed:.0f} s; at most about {left:.0f} s left", file=sys.stderr, flush=True)
    return report


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

