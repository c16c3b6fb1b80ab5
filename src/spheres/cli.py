"""The ``spheres`` command: thin entry points around the library.

``spheres run`` composes ``configs/config.yaml`` over the structured schema, runs one simulation,
writes its results into Hydra's run directory and prints a summary; ``spheres run -m ...`` runs a
sweep (Hydra multirun), one run directory per job (``spheres.sweeps``); ``spheres collect`` and
``spheres bench-sweep`` are the sweep commands. ``spheres settings`` prints every setting.

A run's lifecycle: the config is validated once (settings, the chosen network's needs, memory),
the run directory is checked for writing and space and cleared of an earlier run's result files
(``summary.json`` first), the log records the start (config hash, seed, engine), progress, and the
finish or the interruption. Exit codes: 0 done; 1 a run failed; 2 a configuration error (a
setting, an override, the run directory); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from spheres.config import (
    ConfigError,
    SpheresConfig,
    config_hash,
    one_line,
    settings_markdown,
    settings_text,
    to_config,
    validate,
)
from spheres.paths import config_dir
from spheres.errors import RunDirError
from spheres.run.files import check_run_dir, clear_results, estimate_output_bytes, write_results
from spheres.run.simulate import simulate
from spheres.run.text import format_summary

if TYPE_CHECKING:
    from spheres.run.tables import Results

PROG = "spheres"
EXIT_FAILED, EXIT_CONFIG, EXIT_INTERRUPTED = 1, 2, 130
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

HELP_TEMPLATE = (
    "${hydra.help.header}\n== Config groups (pick one with group=option) ==\n$APP_CONFIG_GROUPS\n"
    "== Settings (set with key=value; defaults shown) ==\n" + settings_text()
    + "\n${hydra.help.footer}\n"
)


def schema() -> DictConfig:
    """The structured schema as registered with Hydra: ``sellers.mix`` is empty.

    Hydra merges dicts key by key, so the mix comes only from the selected ``sellers/`` file;
    a file listing one strategy then gives exactly that strategy.
    """
    node = OmegaConf.structured(SpheresConfig)
    node.sellers.mix = {}
    return node


ConfigStore.instance().store(name="spheres_schema", node=schema())
ConfigStore.instance().store(group="hydra/help", name="spheres_help",
                             node={"app_name": "spheres run", "header": "", "footer": "",
                                   "template": HELP_TEMPLATE})
# configs/hydra/launcher/ holds this project's defaults for launchers whose plugins register a
# config of the same name; Hydra validates the file against the plugin's schema, and warns.
warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/\w+' is validated against")


def load_config(cfg: DictConfig, cwd: str | Path | None = None) -> SpheresConfig:
    """Turn Hydra's composed config into a validated ``SpheresConfig``.

    A relative ``network.path`` is read from ``cwd``, the directory the command was started in.
    """
    # Converted as composed, not merged again over the schema's defaults: a merge would put the
    # default seller mix back under the mix of the selected sellers/ file.
    try:
        config = to_config(cfg)
    except OmegaConfBaseException as err:
        from spheres.config import omegaconf_message

        raise ConfigError(omegaconf_message(err)) from None
    from spheres.model.network import KINDS

    path, kind = config.network.path, KINDS.get(config.network.kind)
    if (cwd is not None and kind is not None and "path" in kind.uses and isinstance(path, str)
            and path and not Path(path).is_absolute()):
        config.network.path = str(Path(cwd) / path)
    return validate(config)


def _user_errors() -> tuple[type[Exception], ...]:
    from spheres.model.network import NetworkError

    return (ConfigError, NetworkError, RunDirError)


class Progress:
    """Shows a run's progress: a bar on a terminal, else a log line every ``every`` seconds."""

    def __init__(self, config: SpheresConfig, console: bool) -> None:
        from tqdm import tqdm

        self.steps, self.every = config.steps, config.output.progress_every
        self.tty = console and config.output.progress and sys.stderr.isatty()
        self.lines = console and config.output.progress and not self.tty
        self.start = self.last = time.monotonic()
        self.step = 0
        self.bar = tqdm(total=self.steps, desc="steps", unit="step", file=sys.stderr,
                        mininterval=0.5, disable=not self.tty)

    def __call__(self, step: int, steps: int) -> None:
        """Record that ``step`` of ``steps`` is done."""
        self.step = step
        self.bar.update(step - self.bar.n)
        now = time.monotonic()
        if now - self.last >= self.every and step < steps:
            self.last = now
            elapsed = now - self.start
            line = (f"step {step} of {steps} ({100 * step / steps:.0f}%), {elapsed:.0f} s "
                    f"elapsed, about {elapsed * (steps - step) / step:.0f} s left")
            log.info(line)
            if self.lines:
                print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()


def _simulate(config: SpheresConfig, run_dir: Path, console: bool) -> Results:
    """Run one simulation for ``run_dir``, logging start, progress and finish or interruption.

    The run directory is checked for writing and space first. On Ctrl-C, files a write left
    behind are removed and the process exits 130 with one line.
    """
    check_run_dir(run_dir, estimate_output_bytes(config))
    log.info("start: config %s, seed %d, engine %s, %d buyers, %d steps, run directory %s",
             config_hash(config), config.seed, config.engine, config.n_buyers, config.steps,
             run_dir)
    t0 = time.monotonic()
    progress = Progress(config, console)
    try:
        results = simulate(config, progress=progress)
    except KeyboardInterrupt:
        progress.close()
        line = f"interrupted at step {progress.step} of {config.steps}: no results written"
        log.info("%s (after %.1f s)", line, time.monotonic() - t0)
        print(line, file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    progress.close()
    log.info("finish: %d steps, wall time %.2f s", config.steps, time.monotonic() - t0)
    return results


@hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")
def run_task(cfg: DictConfig) -> None:
    """Run one simulation from a composed config and write its results to the run directory."""
    global _task_started
    _task_started = True
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        from spheres.sweeps.job import run_job

        # A job never raises: it skips a run already done for this config (resume), and
        # records a failure in error.json, so the sweep goes on and names every failure.
        run_job(cfg, run_dir, list(hydra_cfg.overrides.task),
                lambda c: load_config(c, cwd=hydra_cfg.runtime.cwd),
                lambda config: _simulate(config, run_dir, console=False), _user_errors())
        return
    # First of all: an earlier run's results in this directory must not outlive this run's start.
    removed = clear_results(run_dir)
    if removed:
        log.info("removed an earlier run's result files: %s", ", ".join(removed))
    try:
        config = load_config(cfg, cwd=hydra_cfg.runtime.cwd)
        results = _simulate(config, run_dir, console=True)
        write_results(results, run_dir)
    except KeyboardInterrupt:
        clear_results(run_dir)
        print("interrupted: no results written", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except _user_errors() as err:
        log.info("configuration error: %s", err)
        print(f"error: {err}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    except Exception as err:
        log.exception("the run failed")
        message = f"error: the run failed: {type(err).__name__}: {err}"
        clear_results(run_dir)
        print(f"{message} (traceback in {run_dir / 'spheres.log'})", file=sys.stderr)
        sys.exit(EXIT_FAILED)
    print(format_summary(results.summary))
    print(f"results: {run_dir}")


_task_started = False


def _hydra_command(task: Callable[[], object]) -> None:
    """Run a Hydra entry point; turn its errors into one line and the documented exit code."""
    global _task_started
    _task_started = False
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra raises instead of printing a stack trace
    try:
        task()
    except (HydraException, OmegaConfBaseException) as err:
        print(f"error: {one_line(err)}", file=sys.stderr)
        sys.exit(EXIT_FAILED if _task_started else EXIT_CONFIG)
    except BrokenPipeError:
        raise
    except OSError as err:
        # Hydra creates the run directory and writes its .hydra/ files before the run starts.
        where = f" {err.filename}" if err.filename else ""
        reason = err.strerror or str(err)
        if err.filename and Path(err.filename).is_file():
            reason = "it is a file, not a directory"
        print(f"error: cannot write the run directory{where}: {reason}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)


def settings_task() -> None:
    """Print every setting as Markdown tables (the README's and docs/ODD.md's parameter table)."""
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(f"usage: {PROG} settings\n\nPrints every setting (name, default, allowed values, "
              "unit, symbol, meaning) as Markdown tables.")
        return
    print(settings_markdown(), end="")


def bench_task() -> None:
    """Run the engine benchmark (``spheres bench --help`` lists its options)."""
    from spheres.bench.engines import main as bench_main

    sys.exit(bench_main(sys.argv[1:]))


def viz_task() -> None:
    """Serve the classroom page (``spheres viz --help`` lists its options)."""
    from spheres.viz.serve import main as viz_main

    sys.exit(viz_main(sys.argv[1:]))


def collect_task() -> None:
    """Collect a sweep directory (``spheres collect --help``)."""
    from spheres.sweeps.cli import collect_main

    sys.exit(collect_main(sys.argv[1:]))


def run_command() -> None:
    """``spheres run``: one run; with ``-m`` a sweep, exiting 1 if any run failed, 2 if the sweep
    itself is misconfigured."""
    if {"-m", "--multirun", "hydra.mode=MULTIRUN"} & set(sys.argv[1:]):
        from spheres.sweeps.progress import run_sweep

        sys.exit(run_sweep(run_task))
    _hydra_command(run_task)


def bench_sweep_task() -> None:
    """Run the sweep benchmark (``spheres bench-sweep --help``)."""
    from spheres.bench.sweeps import main as bench_sweep_main

    sys.exit(bench_sweep_main(sys.argv[1:]))


def report_task() -> None:
    """Write a what-if report of collected sweeps (``spheres report --help``)."""
    from spheres.sweeps.report import report_main

    sys.exit(report_main(sys.argv[1:]))


COMMANDS: dict[str, Callable[[], object]] = {
    "run": run_command,
    "collect": collect_task,
    "settings": settings_task,
    "viz": viz_task,
    "bench": bench_task,
    "bench-sweep": bench_sweep_task,
    "report": report_task,
}


def main(argv: list[str] | None = None) -> None:
    """Dispatch ``spheres <command> [arguments...]`` to the command."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        print(USAGE, end="", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    command, rest = args[0], args[1:]
    if command in ("-h", "--help", "help"):
        print(USAGE, end="")
        return
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}\n", file=sys.stderr)
        print(USAGE, end="", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    sys.argv = [f"{PROG} {command}", *rest]
    try:
        COMMANDS[command]()
    except BrokenPipeError:
        # The reader of the output went away (`spheres run --help | head`): nothing to report.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        print("interrupted: no results written for the unfinished run", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
