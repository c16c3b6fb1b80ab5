"""``spheres bench-sweep``: the same sweep on 1 and 2 local processes and through submitit.

Each sweep is a real ``spheres run -m`` in a subprocess, timed from start to collected store.
The table gives wall time, speed-up over one process and the overhead per run: the sweep's
process-seconds (wall time x processes) less the simulation work, per run. The work is the runs'
simulation time in the one-process sweep, where nothing competes for the core. The overhead
holds Hydra's composition and job set-up, starting and importing in the workers, writing the
runs' files and collecting the sweep; in the parallel rows also any wait for a busy core.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from spheres.paths import SUMMARY


@dataclass
class Setup:
    """One way to run the sweep: a label, the processes it uses and its launcher overrides."""

    label: str
    processes: int
    overrides: tuple[str, ...]


SETUPS = (
    Setup("joblib, 1 process", 1, ("hydra.launcher.n_jobs=1",)),
    Setup("joblib, 2 processes", 2, ("hydra.launcher.n_jobs=2",)),
    Setup("submitit_local", 2, ("hydra/launcher=submitit_local",)),
)


@dataclass
class Timing:
    """One timed sweep."""

    setup: Setup
    wall_s: float
    simulate_s: float
    runs: int

    def overhead_per_run_s(self, work_s: float) -> float:
        """Process-seconds beyond ``work_s`` of simulation, per run."""
        return (self.wall_s * self.setup.processes - work_s) / self.runs


def time_sweep(setup: Setup, sweep_dir: Path, runs: int, task: list[str]) -> Timing:
    """Run ``spheres run -m seed=range(0,runs) ...`` with ``setup`` and time it."""
    command = [sys.executable, "-m", "spheres.cli", "run", "-m", f"seed=range(0,{runs})",
               *task, *setup.overrides, f"hydra.sweep.dir={sweep_dir}"]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{setup.label}: the sweep failed:\n{done.stderr[-2000:]}")
    summaries = list(sweep_dir.glob(f"*/{SUMMARY}"))
    simulate = sum(json.loads(p.read_text())["wall_time_s"] for p in summaries)
    return Timing(setup, wall, simulate, len(summaries))


def format_table(timings: list[Timing]) -> str:
    """The benchmark table, one line per setup."""
    serial, work = timings[0].wall_s, timings[0].simulate_s
    lines = [f"{'setup':<22} {'processes':>9} {'wall s':>8} {'speed-up':>8} "
             f"{'sim s/run':>9} {'overhead s/run':>14}"]
    for t in timings:
        lines.append(f"{t.setup.label:<22} {t.setup.processes:>9} {t.wall_s:>8.1f} "
                     f"{serial / t.wall_s:>7.2f}x {t.simulate_s / t.runs:>9.3f} "
                     f"{t.overhead_per_run_s(work):>14.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the three sweeps, print the table."""
    parser = argparse.ArgumentParser(
        prog="spheres bench-sweep",
        description="Time the same sweep (seeds 0..RUNS-1 of one config) on 1 and 2 local "
                    "processes (joblib) and through submitit_local; print wall time, speed-up "
                    "over one process, simulation time and overhead per run.")
    parser.add_argument("--runs", type=int, default=20, help="runs per sweep (default 20)")
    parser.add_argument("--n-buyers", type=int, default=3000,
                        help="buyers per run (default 3000, the default run)")
    parser.add_argument("--steps", type=int, default=200,
                        help="steps per run (default 200: a short run, so that the overhead "
                             "around runs shows)")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where to keep the sweeps (default: a temporary directory)")
    args = parser.parse_args(argv)
    for name in ("runs", "n_buyers", "steps"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be >= 1", file=sys.stderr)
            return 2
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    task = [f"n_buyers={args.n_buyers}", f"steps={args.steps}"]
    with tempfile.TemporaryDirectory(prefix="spheres-bench-sweep-") as tmp:
        root = args.dir or Path(tmp)
        timings = []
        for i, setup in enumerate(SETUPS):
            print(f"[{i + 1}/{len(SETUPS)}] {setup.label}: {args.runs} runs...", file=sys.stderr)
            timings.append(time_sweep(setup, root / f"sweep{i}", args.runs, task))
    print(f"{args.runs} runs of {args.n_buyers} buyers x {args.steps} steps, "
          f"{os.cpu_count()} cores")
    print(format_table(timings))
    return 0
