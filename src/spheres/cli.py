"""The ``spheres`` command: ``spheres run [overrides...]`` runs a simulation through Hydra.

``spheres run`` composes ``configs/config.yaml`` over the structured schema, runs one simulation,
writes its results into Hydra's run directory and prints a summary. ``spheres run -m ...`` runs a
sweep (Hydra multirun), one run directory per job (``spheres.sweeps``); ``spheres collect`` and
``spheres bench-sweep`` are the sweep commands.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from spheres.config import ConfigError, SpheresConfig, validate
from spheres.results import format_summary, write_results

if TYPE_CHECKING:
    from spheres.results import Results

PROG = "spheres"

USAGE = f"""\
usage: {PROG} <command> [arguments...]

commands:
  run     run one simulation; with -m, a sweep (one run per combination of values)
  bench   time both engines at 10^3..10^6 buyers and print a table
  collect gather a sweep directory into SWEEP_DIR/sweep.duckdb and Parquet tables
  bench-sweep  time one 20-run sweep on 1 and 2 processes and through submitit; print a table
  report  write a what-if report (HTML, Markdown, PNG) of one or several collected sweeps

Arguments of `run` are Hydra overrides: `key=value` sets a setting, `group=option` picks a file
of a config group. `{PROG} run --help` lists the groups and every setting with its default.

examples:
  {PROG} run
  {PROG} run n_buyers=10000 steps=300 network=watts_strogatz sellers=listen_vs_broadcast
  {PROG} run +experiment=diffusion
  {PROG} run -m 'seed=range(0,20)' market=default,fast_drift
  {PROG} collect outputs/sweeps/<date>/<time>
"""


def config_dir() -> Path:
    """The Hydra config tree: the copy shipped in the package, else the source checkout's."""
    here = Path(__file__).resolve().parent
    packaged = here / "configs"
    if packaged.is_dir():
        return packaged
    return here.parents[1] / "configs"


def schema() -> DictConfig:
    """The structured schema as registered with Hydra: ``sellers.mix`` is empty.

    Hydra merges dicts key by key, so the mix comes only from the selected ``sellers/`` file;
    a file listing one strategy then gives exactly that strategy.
    """
    node = OmegaConf.structured(SpheresConfig)
    node.sellers.mix = {}
    return node


ConfigStore.instance().store(name="spheres_schema", node=schema())
# configs/hydra/launcher/ holds this project's defaults for launchers whose plugins register a
# config of the same name; Hydra validates the file against the plugin's schema, and warns.
warnings.filterwarnings("ignore", message=r"\s*'hydra/launcher/\w+' is validated against")


def load_config(cfg: DictConfig) -> SpheresConfig:
    """Turn Hydra's composed config into a validated ``SpheresConfig``."""
    # Converted as composed, not merged again over the schema's defaults: a merge would put the
    # default seller mix back under the mix of the selected sellers/ file.
    try:
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as err:
        key = getattr(err, "full_key", None)
        message = str(err).splitlines()[0]
        raise ConfigError(f"{key}: {message}" if key else message) from None
    if not isinstance(obj, SpheresConfig):
        raise ConfigError("the composed config is not a spheres config")
    return validate(obj)


def _user_errors() -> tuple[type[Exception], ...]:
    from spheres.model.network import NetworkError

    return (ConfigError, NetworkError)


def _simulate(config: SpheresConfig) -> Results:
    from tqdm import tqdm

    from spheres.simulate import simulate

    # disable=None: shown only when stderr is a terminal.
    with tqdm(total=config.steps, desc="steps", unit="step", file=sys.stderr, mininterval=0.5,
              disable=None if config.output.progress else True) as bar:

        def progress(step: int, steps: int) -> None:
            bar.update(step - bar.n)

        return simulate(config, progress=progress)


@hydra.main(config_path=str(config_dir()), config_name="config", version_base="1.3")
def run_task(cfg: DictConfig) -> None:
    """Run one simulation from a composed config and write its results to the run directory."""
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        from spheres.sweeps.job import run_job

        run_job(cfg, run_dir, list(hydra_cfg.overrides.task), load_config, _simulate,
                _user_errors())
        return
    try:
        config = load_config(cfg)
        results = _simulate(config)
    except _user_errors() as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    write_results(results, run_dir)
    print(format_summary(results.summary))
    print(f"results: {run_dir}")


def bench_task() -> None:
    """Run the engine benchmark (``spheres bench --help`` lists its options)."""
    from spheres.bench import main as bench_main

    sys.exit(bench_main(sys.argv[1:]))


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
    run_task()


def bench_sweep_task() -> None:
    """Run the sweep benchmark (``spheres bench-sweep --help``)."""
    from spheres.sweeps.bench import main as bench_sweep_main

    sys.exit(bench_sweep_main(sys.argv[1:]))


def report_task() -> None:
    """Write a what-if report of collected sweeps (``spheres report --help``)."""
    from spheres.sweeps.report import report_main

    sys.exit(report_main(sys.argv[1:]))


COMMANDS: dict[str, Callable[[], object]] = {"run": run_command, "bench": bench_task,
                                             "collect": collect_task,
                                             "bench-sweep": bench_sweep_task,
                                             "report": report_task}


def main(argv: list[str] | None = None) -> None:
    """Dispatch ``spheres <command> [arguments...]`` to the command."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:
        print(USAGE, end="", file=sys.stderr)
        sys.exit(2)
    command, rest = args[0], args[1:]
    if command in ("-h", "--help", "help"):
        print(USAGE, end="")
        return
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}\n", file=sys.stderr)
        print(USAGE, end="", file=sys.stderr)
        sys.exit(2)
    sys.argv = [f"{PROG} {command}", *rest]
    COMMANDS[command]()


if __name__ == "__main__":
    main()
