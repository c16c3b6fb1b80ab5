"""The ``spheres`` command: parse, call one job, map its errors to exit codes.

``spheres run`` composes ``configs/config.yaml`` over the structured schema, runs one simulation
into Hydra's run directory (:mod:`spheres.run`) and prints a summary; ``spheres run -m ...`` runs
a sweep, one run directory per job (:mod:`spheres.sweeps`). The other commands each call one
function: ``collect``, ``settings``, ``viz``, ``bench``, ``bench-sweep`` and ``report``.

A run's lifecycle: an earlier run's result files in the run directory are removed first
(``summary.json`` first), the config is validated once, the run directory is checked for
writing and space, the log records the start, progress and the finish or the interruption.
Exit codes: 0 done; 1 a run failed; 2 bad input (a setting, an override, a directory: any
:class:`spheres.errors.SpheresError`, one line and no traceback); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from spheres.bench.engines import main as bench_main
from spheres.bench.sweeps import main as bench_sweep_main
from spheres.calibrate.cli import calibrate_main
from spheres.config import one_line
from spheres.config.compose import load_config, register
from spheres.config.help import settings_markdown
from spheres.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, SpheresError
from spheres.explore.design import explorable, require_extra, verdict_of
from spheres.paths import config_dir
from spheres.report.cli import report_main
from spheres.run.files import clear_results, write_results
from spheres.run.task import run_in
from spheres.run.text import format_summary
from spheres.sweeps.collect import collect_main
from spheres.sweeps.job import run_job
from spheres.sweeps.progress import run_sweep

# viz.serve imports Solara (heavy, optional: the [viz] extra) only when it serves the page.
from spheres.viz.serve import main as viz_main

PROG = "spheres"
log = logging.getLogger("spheres.run")

USAGE = f"""\
usage: {PROG} <command> [arguments...]

commands:
  run          run one simulation; with -m, a sweep (one run per combination of values)
  collect      gather a sweep directory into SWEEP_DIR/sweep.duckdb and Parquet tables
  settings     print every setting (name, default, allowed values, unit, meaning) as Markdown
  viz          serve the classroom page (a market with sliders and live plots) on this machine
  bench        time both engines by buyers and sellers, and the diffusion job beside numpy
  bench-sweep  time one 20-run sweep on 1 and 2 processes and through submitit; print a table
  report       write a what-if report (HTML, Markdown, PNG) of one or several collected sweeps
  calibrate    fit settings to an observed series (ABC-SMC): posterior, table, figure, config
  explore      map where a study's answer holds: sample its settings, PRIM boxes, verdict first

Arguments of `run` are Hydra overrides: `key=value` sets a setting, `group=option` picks a file
of a config group. `{PROG} run --help` lists the groups and every setting with its default.

exit codes: 0 done, 1 a run failed, 2 a configuration error (a setting, an override, the run
directory), 130 interrupted.

examples:
  {PROG} run
  {PROG} run n_buyers=10000 steps=300 network=watts_strogatz sellers=listen_vs_broadcast
  {PROG} run experiment=diffusion
  {PROG} run -m 'seed=range(0,20)' market=default,fast_drift
  {PROG} collect outputs/sweeps/<date>/<time>
"""

# Here, at import, so that every process that runs a job (the sweep's workers import this
# module for run_task) can compose configs/config.yaml over the schema.
register()
# configs/hydra/launcher/ holds this project's defaults for launchers whose plugins register a
# config of the same name; Hydra validates the file against the plugin's schema, and warns.
warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/\w+' is validated against")


@hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")
def run_task(cfg: DictConfig) -> None:
    """Run one simulation from a composed config into Hydra's output directory.

    In a sweep the job never raises (:func:`spheres.sweeps.job.run_job`). A single run first
    removes an earlier run's results, and leaves no result file behind when it fails.
    """
    global _task_started
    _task_started = True
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        run_job(cfg, run_dir, list(hydra_cfg.overrides.task), cwd=hydra_cfg.runtime.cwd)
        return
    # First of all: an earlier run's results in this directory must not outlive this run's start.
    removed = clear_results(run_dir)
    if removed:
        log.info("removed an earlier run's result files: %s", ", ".join(removed))
    try:
        config = load_config(cfg, cwd=hydra_cfg.runtime.cwd)
        results = run_in(config, run_dir, console=True)
        write_results(results, run_dir)
    except SpheresError as err:
        # Exits here: an error raised out of the task, Hydra would report with a line of its own.
        log.info("refused: %s", err)
        refuse(err)
    except KeyboardInterrupt:
        clear_results(run_dir)
        raise
    except Exception as err:
        log.exception("the run failed")
        clear_results(run_dir)
        print(f"error: the run failed: {type(err).__name__}: {err} (traceback in "
              f"{run_dir / 'spheres.log'})", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    print(format_summary(results.summary))
    print(f"results: {run_dir}")


_task_started = False


def refuse(err: SpheresError) -> NoReturn:
    """Print a user's error as one line, without a traceback, and exit with its code."""
    print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
    sys.exit(err.exit_code)


def _hydra_command(task: Callable[[], object]) -> None:
    """Run a Hydra entry point; turn Hydra's errors into one line and the documented exit code."""
    global _task_started
    _task_started = False
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing a stack trace
    try:
        task()
    except (HydraException, OmegaConfBaseException) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        sys.exit(EXIT_FAILED if _task_started else EXIT_USAGE)
    except BrokenPipeError:
        raise
    except OSError as err:
        # Hydra creates the run directory and writes its .hydra/ files before the run starts.
        where = f" {err.filename}" if err.filename else ""
        reason = err.strerror or str(err)
        if err.filename and Path(err.filename).is_file():
            reason = "it is a file, not a directory"
        print(f"error: cannot write the run directory{where}: {reason}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def run_command(argv: list[str]) -> int:
    """``spheres run``: one run; with ``-m`` a sweep (:func:`spheres.sweeps.progress.run_sweep`).

    Hydra reads the overrides ``argv`` from ``sys.argv``.
    """
    if {"-m", "--multirun", "hydra.mode=MULTIRUN"} & set(argv):
        return run_sweep(run_task)
    _hydra_command(run_task)
    return 0


EXPLORE_USAGE = f"""\
usage: {PROG} explore experiment=NAME [overrides...]

Maps where a study's answer holds. Samples the settings the study's verdict depends on over
their ranges to try (a Latin hypercube; each range from the settings' sources table, docs/ODD.md),
runs each sample (twice, with the same seed, for a verdict that compares two arms), collects the
runs into SWEEP_DIR/sweep.duckdb with the tables `explore` (each sample's settings, numbers and
verdict) and `boxes` (PRIM's box where the verdict holds and where it flips, with coverage,
density and each setting's importance), and prints the verdict first, then where it holds.

studies: {{studies}}

Overrides are Hydra's, as for `{PROG} run -m`: a single value pins a setting (it is then not
varied); hydra.sweeper.samples=N sets the samples (default 128), hydra.sweeper.seed the design's
seed, hydra/launcher=joblib|ray|submitit_slurm where the runs go, hydra.sweep.dir=DIR where
they are written. `{PROG} report SWEEP_DIR` writes the report, verdict first.

exit codes: 0 done, 1 a run failed, 2 bad input, 130 interrupted.

example:
  {PROG} explore experiment=q2_strategy hydra.sweeper.samples=256 hydra/launcher=joblib
"""


def explore_command(argv: list[str]) -> int:
    """``spheres explore experiment=NAME``: a sweep of ``hydra/sweeper=explore``, collected."""
    if any(a in ("-h", "--help") for a in argv):
        print(EXPLORE_USAGE.format(studies=", ".join(explorable())), end="")
        return 0
    named = [a.split("=", 1)[1] for a in argv if a.startswith("experiment=")]
    verdict_of(named[-1] if named else None)  # a study with a verdict, or ConfigError
    require_extra()
    sys.argv = [sys.argv[0], "-m", "hydra/sweeper=explore", *argv]
    return run_sweep(run_task)


def settings_command(argv: list[str]) -> int:
    """``spheres settings``: every setting as Markdown tables (the README's and docs/ODD.md's)."""
    if any(a in ("-h", "--help") for a in argv):
        print(f"usage: {PROG} settings\n\nPrints every setting (name, default, allowed values, "
              "unit, symbol, meaning) as Markdown tables.")
        return 0
    print(settings_markdown(), end="")
    return 0


# Each command: a function of the arguments after the command's name, returning the exit code.
COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "run": run_command,
    "collect": collect_main,
    "settings": settings_command,
    "viz": viz_main,
    "bench": bench_main,
    "bench-sweep": bench_sweep_main,
    "report": report_main,
    "calibrate": calibrate_main,
    "explore": explore_command,
}


def main(argv: list[str] | None = None) -> None:
    """Dispatch ``spheres <command> [arguments...]`` to the command; exit with its code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        print(USAGE, end="", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    command, rest = args[0], args[1:]
    if command in ("-h", "--help", "help"):
        print(USAGE, end="")
        return
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}\n", file=sys.stderr)
        print(USAGE, end="", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    sys.argv = [f"{PROG} {command}", *rest]  # Hydra's commands read their overrides here
    try:
        code = COMMANDS[command](rest)
    except SpheresError as err:
        refuse(err)
    except BrokenPipeError:
        # The reader of the output went away (`spheres run --help | head`): nothing to report.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt as stop:
        print(str(stop) or "interrupted: no results written for the unfinished run",
              file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    if code:
        sys.exit(code)


if __name__ == "__main__":
    main()
