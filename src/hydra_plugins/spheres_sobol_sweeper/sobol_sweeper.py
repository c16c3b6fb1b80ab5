"""A Hydra sweeper that runs a Sobol design and computes Sobol sensitivity indices (SALib).

Select it with ``hydra/sweeper=sobol`` and give each varied setting as ``key=interval(lo,hi)``;
other plain overrides are passed to every run. Example::

    spheres run -m hydra/sweeper=sobol hydra/launcher=joblib \
        market.ad_rate='interval(0,0.1)' sellers.sense_delay='interval(1,20)' \
        hydra.sweeper.n=64 hydra.sweeper.outcomes=[sellers_alive,trust_final.sellers]

The sweeper samples the design (``SALib.sample.sobol.sample``), saves it under
``SWEEP_DIR/sobol/`` (see :mod:`spheres.sweeps.sensitivity`), launches the runs through the
configured launcher (basic, joblib, Ray, SLURM...), saves each run's status and outcomes, and
only then computes the indices (``SALib.analyze.sobol.analyze``) into
``SWEEP_DIR/sensitivity.parquet``. Outcomes are read from each run's ``summary.json``.

Integer settings (an ``int`` in the composed config) are rounded to the nearest integer.
With ``hydra.sweeper.block=K`` one launched job runs K design rows in turn: the job's config is
composed once and each row's values are set on a copy, which saves Hydra's per-job cost when
runs are short. Each row still gets its own run directory (``hydra.sweep.subdir`` with
``hydra.job.num`` = the row); the block job's own log goes to ``SWEEP_DIR/sobol/blocks/<b>/``.
"""

import copy
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus, run_job
from hydra.errors import CompactHydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from spheres.errors import SensitivityError
from spheres.sweeps import sensitivity as sens
from spheres.sweeps.collect import read_error

log = logging.getLogger(__name__)


@dataclass
class SobolSweeperConf:
    """Settings of ``hydra/sweeper=sobol`` (``hydra.sweeper.<name>=...``)."""

    _target_: str = sens.SWEEPER
    # base samples of the Sobol sequence (a power of 2); runs = n * (D + 2), or n * (2D + 2)
    n: int = 64
    # summary keys to analyse; dots go into nested keys (trust_final.peers)
    outcomes: list[str] = field(default_factory=lambda: ["sellers_alive"])
    # seed of the design's scrambling and of the bootstrap of the confidence intervals
    seed: int = 0
    # also compute second-order indices (S2): more runs
    calc_second_order: bool = False
    # design rows per launched job (>1 saves Hydra's per-job cost on short runs)
    block: int = 1
    # bootstrap resamples and level of the confidence intervals
    num_resamples: int = 100
    conf_level: float = 0.95
    # parameters given in a config file instead of the command line: {key: "interval(lo,hi)"}
    params: dict[str, str] = field(default_factory=dict)


ConfigStore.instance().store(group="hydra/sweeper", name="sobol", node=SobolSweeperConf,
                             provider="spheres")


class SobolError(CompactHydraException):
    """A Sobol sweep was refused or could not be analysed."""


class BlockTask:
    """The task each launched job calls: the task itself, or a block of design rows in turn."""

    def __init__(self, task_function: TaskFunction) -> None:
        """Wrap the sweep's ``task_function``; blocks of rows are set before launching."""
        self.task_function = task_function
        self.blocks: list[list[tuple[int, dict[str, Any], list[str]]]] | None = None
        self.hydra_context: HydraContext | None = None
        # hydra settings of the rows, taken from the sweep's config (a block job overrides them)
        self.row_hydra: dict[str, Any] = {}

    def __call__(self, cfg: DictConfig) -> Any:
        """Run the job: the task itself, or each design row of the job's block in turn."""
        if self.blocks is None:
            return self.task_function(cfg)
        block = self.blocks[HydraConfig.get().job.num]
        full = copy.deepcopy(cfg)
        with read_write(full), open_dict(full):
            full.hydra = copy.deepcopy(HydraConfig.instance().cfg.hydra)
        OmegaConf.set_readonly(full.hydra, False)
        return [self._run_row(full, row, values, overrides) for row, values, overrides in block]

    def _run_row(self, full: DictConfig, row: int, values: dict[str, Any],
                 overrides: list[str]) -> dict[str, Any]:
        """Run one design row through Hydra's ``run_job`` on a copy of the block's config."""
        assert self.hydra_context is not None
        config = copy.deepcopy(full)
        with read_write(config), open_dict(config):
            for key, value in values.items():
                OmegaConf.update(config, key.lstrip("+"), value, merge=False,
                                 force_add=key.startswith("+"))
            for key, value in self.row_hydra.items():
                OmegaConf.update(config, key, value, merge=False)
            config.hydra.job.num = row
            config.hydra.job.id = f"sobol_row_{row}"
            config.hydra.overrides.task = overrides
        ret = run_job(task_function=self.task_function, config=config,
                      job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir",
                      hydra_context=self.hydra_context, configure_logging=False)
        return _row_result(row, ret)


def _row_result(row: int, ret: JobReturn) -> dict[str, Any]:
    """A picklable record of one design row's job.

    Its row, run directory, status, error, and whether the job raised.
    """
    run_dir = str(ret.hydra_cfg.hydra.runtime.output_dir) if ret.hydra_cfg is not None else ""
    if ret.status == JobStatus.COMPLETED:
        return {"row": row, "run_dir": run_dir, "status": "ok", "error": None, "raised": False}
    try:
        ret.return_value  # noqa: B018 -- raises the job's exception
        error = "the job did not finish"
    except Exception as err:  # a failed job: keep its one-line message
        error = f"{type(err).__name__}: {err}".splitlines()[0]
    return {"row": row, "run_dir": run_dir, "status": "failed", "error": error, "raised": True}


class SobolSweeper(Sweeper):
    """Runs a Sobol design through the configured launcher and computes Sobol indices."""

    def __init__(self, n: int, outcomes: list[str], seed: int, calc_second_order: bool,
                 block: int, num_resamples: int, conf_level: float,
                 params: dict[str, str] | None = None) -> None:
        """Take the settings of :class:`SobolSweeperConf`."""
        self.settings = sens.Settings(n=n, outcomes=tuple(outcomes), seed=seed,
                                      calc_second_order=calc_second_order,
                                      num_resamples=num_resamples, conf_level=conf_level,
                                      block=block)
        self.params = dict(params or {})
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.launcher: Launcher | None = None
        self.task: BlockTask | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        """Instantiate the configured launcher around a task that can run blocks of rows."""
        self.config = config
        self.hydra_context = hydra_context
        self.task = BlockTask(task_function)
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=self.task, config=config)

    def sweep(self, arguments: list[str]) -> list[dict[str, Any]]:
        """Sample, save the design, launch every row, save statuses, then analyse."""
        assert self.config is not None and self.launcher is not None and self.task is not None
        parameters, fixed = self._parse([f"{k}={v}" for k, v in self.params.items()]
                                        + list(arguments))
        settings = self.settings
        try:
            sens.check_settings(settings, parameters)
        except SensitivityError as err:
            raise SobolError(str(err)) from None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sobol_dir = sweep_dir / sens.SOBOL_DIR
        sobol_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")

        design = sens.sample(parameters, settings)
        sens.save_design(sobol_dir, parameters, settings, design, fixed)
        rows = sens.row_values(design, parameters)
        rounded = [p.name for p in parameters if p.integer]
        print(f"Sobol design: {len(rows)} runs (n={settings.n}, {len(parameters)} parameters"
              f"{', second order' if settings.calc_second_order else ''}) saved in {sobol_dir}")
        if rounded:
            print(f"integer settings rounded to the nearest integer: {', '.join(rounded)}")

        records = self._launch(rows, fixed)
        runs = self._outcomes(records)
        sens.save_runs(sobol_dir, runs)
        failed = runs[runs["status"] != "ok"]
        if len(failed):
            names = ", ".join(str(r) for r in failed["row"].head(10))
            message = (f"{len(failed)} of {len(runs)} Sobol runs failed (rows {names}"
                       f"{', ...' if len(failed) > 10 else ''}): no indices computed. The "
                       f"design and each run's status are saved in {sobol_dir}")
            if failed["raised"].any():
                # As Hydra's basic sweeper does when a job raised: the sweep fails.
                raise SobolError(message)
            # The jobs recorded their own failures (a spheres run writes error.json): say so
            # and end normally, so that the application reports them its own way.
            print(f"error: {message}", file=sys.stderr)
            return runs.to_dict("records")
        indices, second = sens.analyze(parameters, settings, runs)
        path = sens.write_indices(sweep_dir, indices, second)
        print(sens.format_indices(indices))
        print(f"Sobol indices: {path}")
        return runs.to_dict("records")

    def _parse(self, arguments: list[str]) -> tuple[list[sens.Parameter], list[str]]:
        """Split overrides into varied parameters (``interval``) and fixed overrides."""
        assert self.hydra_context is not None and self.config is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        parameters: list[sens.Parameter] = []
        fixed: list[str] = []
        for override in parser.parse_overrides(arguments):
            key = override.get_key_element()
            if override.is_interval_sweep():
                interval = override.value()
                default = OmegaConf.select(self.config, override.key_or_group, default=None,
                                           throw_on_missing=False)
                integer = isinstance(default, int) and not isinstance(default, bool)
                parameters.append(sens.Parameter(key, float(interval.start),
                                                 float(interval.end), integer))
            elif override.is_sweep_override():
                raise SobolError(f"{override.input_line}: hydra/sweeper=sobol varies settings "
                                 "over ranges only: give key=interval(lo,hi), or a single value")
            else:
                fixed.append(override.input_line)
        return parameters, fixed

    def _launch(self, rows: list[dict[str, Any]], fixed: list[str]) -> list[dict[str, Any]]:
        """Launch the rows, one per job or ``block`` per job; one record per row."""
        assert self.launcher is not None and self.task is not None and self.config is not None
        overrides = [fixed + [f"{k}={v!r}" for k, v in values.items()] for values in rows]
        block = self.settings.block
        if block == 1:
            self.task.blocks = None
            returns = self.launcher.launch(overrides, initial_job_idx=0)
            return [_row_result(i, ret) for i, ret in enumerate(returns)]
        self.task.hydra_context = self.hydra_context
        raw = OmegaConf.to_container(self.config.hydra, resolve=False)
        assert isinstance(raw, dict)
        self.task.row_hydra = {
            "hydra.sweep.dir": str(self.config.hydra.sweep.dir),  # resolved once: ${now:...}
            "hydra.sweep.subdir": raw["sweep"]["subdir"],
            "hydra.output_subdir": raw["output_subdir"],
            "hydra.overrides.hydra": raw["overrides"]["hydra"],
        }
        indices = list(range(len(rows)))
        self.task.blocks = [[(i, rows[i], overrides[i]) for i in indices[s:s + block]]
                            for s in range(0, len(rows), block)]
        jobs = [[*fixed, f"hydra.sweep.subdir={sens.SOBOL_DIR}/blocks/{b}",
                 "hydra.output_subdir=null"] for b in range(len(self.task.blocks))]
        records: list[dict[str, Any]] = []
        for b, ret in enumerate(self.launcher.launch(jobs, initial_job_idx=0)):
            if ret.status == JobStatus.COMPLETED:
                records += ret.return_value
            else:
                error = _row_result(-1, ret)["error"]
                records += [{"row": i, "run_dir": "", "status": "failed", "error": error,
                             "raised": True} for i, _, _ in self.task.blocks[b]]
        return records

    def _outcomes(self, records: list[dict[str, Any]]) -> pd.DataFrame:
        """Per row: status, error and the outcomes read from the run's ``summary.json``."""
        outcomes = self.settings.outcomes
        rows = []
        for record in sorted(records, key=lambda r: r["row"]):
            run_dir = record["run_dir"]
            values = sens.run_outcomes(Path(run_dir), outcomes) if run_dir else None
            if record["status"] == "ok" and values is None:
                failure = read_error(Path(run_dir)) or {}
                record = {**record, "status": "failed",
                          "error": failure.get("error", "no summary.json written")}
            rows.append({**record, **(values or dict.fromkeys(outcomes, float("nan")))})
        return pd.DataFrame(rows)
