"""A sweep's life in the parent process: launching, progress, collection, failures.

:func:`run_sweep` runs the Hydra multirun and decides the sweep's exit code. Jobs record their
outcome in their run directories (``summary.json`` or ``error.json``) and never raise, so the
launcher always reaches the end of the sweep. The parent watches those files from a thread
(:class:`SweepCallback`, :class:`Watcher`): this works the same for joblib, Ray and submitit,
whose jobs share the filesystem but not the parent's memory. At the end the sweep is collected
and every failed run is listed.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from tqdm import tqdm

from spheres.analysis.store import Store
from spheres.config import one_line
from spheres.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, SpheresError
from spheres.explore import design as designs
from spheres.explore.analysis import from_store
from spheres.paths import ERROR, SUMMARY
from spheres.sweeps import grid, sensitivity
from spheres.sweeps.collect import collect, format_counts, read_error, run_dirs, status_counts

POLL_S = 1.0
# A run directory counts as started in this sweep when Hydra wrote its overrides after the
# sweep started (less this slack, for coarse file times).
SLACK_S = 1.0


def sweep_size(config: DictConfig) -> int | None:
    """The number of runs a sweep of ``config`` makes, known before any starts.

    Known for a grid sweep (the spheres sweeper, or Hydra's basic sweeper: every combination of
    the swept values), a Sobol sweep (the design's runs) and an exploration (samples times arms);
    ``None`` for other sweepers.
    """
    target = str(config.hydra.sweeper.get("_target_"))
    if target == designs.SWEEPER:
        try:
            return designs.runs(config.hydra.runtime.choices.get("experiment"),
                                int(config.hydra.sweeper.samples))
        except SpheresError:  # the sweeper refuses it, and says why
            return None
    if target not in (grid.SWEEPER, grid.BASIC_SWEEPER, sensitivity.SWEEPER):
        return None
    params = config.hydra.sweeper.get("params") or {}
    arguments = [f"{k}={v}" for k, v in params.items()]
    arguments += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    try:
        overrides = OverridesParser.create().parse_overrides(arguments)
        if target == sensitivity.SWEEPER:
            varied = {o.key_or_group for o in overrides if o.is_interval_sweep()}
            return sensitivity.design_runs(int(config.hydra.sweeper.n), len(varied),
                                           bool(config.hydra.sweeper.calc_second_order))
        return len(grid.job_overrides(overrides))
    except Exception:  # a sweep Hydra will refuse: no total to show
        return None


@dataclass
class Tally:
    """Runs of this sweep finished so far, and how many of them failed."""

    done: int = 0
    failed: int = 0


def tally(sweep_dir: Path, since: float) -> Tally:
    """Count the runs started after ``since`` that have a summary or an error record."""
    counts = Tally()
    if not sweep_dir.is_dir():
        return counts
    for _, run_dir in run_dirs(sweep_dir):
        try:
            if (run_dir / ".hydra" / "overrides.yaml").stat().st_mtime < since - SLACK_S:
                continue
        except FileNotFoundError:
            continue
        if (run_dir / SUMMARY).exists():
            counts.done += 1
        elif (run_dir / ERROR).exists():
            counts.done += 1
            counts.failed += 1
    return counts


class Watcher:
    """A thread that shows runs done of total, failures, elapsed and time left on a bar."""

    def __init__(self, sweep_dir: Path, total: int | None, stream: TextIO | None = None) -> None:
        """Watch ``sweep_dir`` for ``total`` runs (unknown: ``None``), drawing on ``stream``."""
        self.sweep_dir = sweep_dir
        self.since = time.time()
        self.bar = tqdm(total=total, desc="sweep", unit="run", file=stream or sys.stderr,
                        dynamic_ncols=True, mininterval=0.5, postfix="0 failed",
                        bar_format="{desc}: {n_fmt}/{total_fmt} runs{postfix} "
                                   "[{elapsed} elapsed, {remaining} left]")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sweep-progress", daemon=True)

    def start(self) -> None:
        """Start watching, in a thread of its own."""
        self._thread.start()

    def update(self) -> Tally:
        """Count the finished runs now and move the bar; return the count."""
        counts = tally(self.sweep_dir, self.since)
        self.bar.set_postfix_str(f"{counts.failed} failed", refresh=False)
        self.bar.update(counts.done - self.bar.n)
        return counts

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            self.update()

    def stop(self, leave: bool = True) -> Tally:
        """Stop watching; show (or with ``leave=False`` clear) and return the final count."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        counts = self.update()
        self.bar.leave = leave
        self.bar.close()
        return counts


@dataclass
class Session:
    """The sweep running in this process: its directory, watcher and outcome."""

    sweep_dir: Path | None = None
    watcher: Watcher | None = None
    ended: bool = False
    failures: list[str] = field(default_factory=list)

    def start(self, sweep_dir: Path, total: int | None) -> None:
        """Begin a sweep into ``sweep_dir`` of ``total`` runs: start watching it."""
        self.sweep_dir, self.ended, self.failures = sweep_dir, False, []
        self.watcher = Watcher(sweep_dir, total)
        self.watcher.start()

    def stop_watching(self, leave: bool = True) -> None:
        """Stop the progress bar; ``leave=False`` clears it (the sweep broke off)."""
        if self.watcher is not None:
            self.watcher.stop(leave)
            self.watcher = None

    def end(self) -> None:
        """Stop watching, collect the sweep and print one line per failed run."""
        self.stop_watching()
        assert self.sweep_dir is not None
        database = collect(self.sweep_dir)
        print(f"collected {format_counts(status_counts(database))} into {database}")
        with Store(database) as store:
            exploration = from_store(store, self.sweep_dir)
        if exploration is not None:
            print("\n".join(exploration.lines()))
        self.failures = failure_lines(self.sweep_dir)
        for line in self.failures:
            print(line, file=sys.stderr)
        self.ended = True


SESSION = Session()


def failure_lines(sweep_dir: Path) -> list[str]:
    """One line per failed run of ``sweep_dir``: job, overrides and error."""
    lines = []
    for job, run_dir in run_dirs(sweep_dir):
        record = read_error(run_dir)
        if record is not None and not (run_dir / SUMMARY).exists():
            overrides = " ".join(record.get("overrides", []))
            lines.append(f"failed: job {job} ({overrides}): error: {record.get('error')}")
    return lines


class SweepCallback(Callback):
    """Hydra callback: watch a sweep's progress from the start, collect and report at the end.

    It keeps no state of its own (launchers pickle callbacks into their workers); the sweep's
    state lives in ``SESSION`` of the parent process.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Start watching the sweep's directory, with its number of runs when known."""
        if "ray_launcher" in str(config.hydra.launcher.get("_target_")):
            # A local Ray instance started by the sweep then reports no usage statistics.
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        SESSION.start(Path(config.hydra.sweep.dir), sweep_size(config))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Collect the sweep and list its failed runs."""
        SESSION.end()


def run_sweep(task: Callable[[], object]) -> int:
    """Run the Hydra multirun ``task`` and return the sweep's exit code.

    0 when every run succeeded, 1 when any run failed (each is listed) or the sweep broke off,
    2 when the sweep as a whole is misconfigured (Hydra could not compose it), 130 on Ctrl-C.
    """
    previous = os.environ.get("HYDRA_FULL_ERROR")
    # Hydra then lets its errors through to here instead of printing them and exiting with 1.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    error: tuple[int, str] | None = None
    try:
        task()
    except (HydraException, OmegaConfBaseException) as err:
        error = (EXIT_USAGE, one_line(err))
    except Exception as err:
        error = (EXIT_FAILED, f"the sweep stopped: {type(err).__name__}: {_describe(err)}")
    except KeyboardInterrupt:
        where = f" hydra.sweep.dir={SESSION.sweep_dir}" if SESSION.sweep_dir else ""
        error = (EXIT_INTERRUPTED, f"interrupted; the same command with{where} resumes the sweep")
    finally:
        SESSION.stop_watching(leave=False)
        if previous is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = previous
    if error is None and not SESSION.ended:
        error = (EXIT_FAILED, "the sweep ended without being collected")
    if error is not None:
        print(f"error: {error[1]}", file=sys.stderr)
        return error[0]
    return EXIT_FAILED if SESSION.failures else 0


def _describe(err: BaseException) -> str:
    """The error's message, followed by its cause's first line when it has one."""
    text = str(err).strip()
    cause = err.__cause__
    if cause is not None and str(cause).strip():
        text += f" ({str(cause).strip().splitlines()[0]})"
    return text
