"""A Hydra sweeper that samples the settings a study's answer depends on (``spheres explore``).

Select it with ``hydra/sweeper=explore`` and a study with an answer to map
(``experiment=q2_strategy``); ``spheres explore`` does both. The sweeper draws a Latin hypercube
over the settings of the study's verdict (:mod:`spheres.explore.design`), saves it under
``SWEEP_DIR/explore/``, and launches one run per sample and arm through the configured launcher
(basic, joblib, Ray, SLURM...). Plain overrides on the command line are passed to every run; a
setting of the verdict given that way is pinned and not varied. The study's own grid
(``hydra.sweeper.params`` of its experiment file) is not run. When the sweep is collected, the
verdict of each sample and the boxes where it holds and flips are added to the store
(:mod:`spheres.explore.analysis`).
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobStatus
from hydra.errors import CompactHydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from spheres.errors import ConfigError
from spheres.explore import design as designs

log = logging.getLogger(__name__)


@dataclass
class ExploreSweeperConf:
    """Settings of ``hydra/sweeper=explore`` (``hydra.sweeper.<name>=...``)."""

    _target_: str = designs.SWEEPER
    # samples of the Latin hypercube (each runs once per arm of the study's verdict)
    samples: int = 128
    # seed of the design's scrambling (sample i runs with seed=i)
    seed: int = 0
    # the study's own grid, from its experiment file: not run by an exploration
    params: dict[str, str] = field(default_factory=dict)


ConfigStore.instance().store(group="hydra/sweeper", name="explore", node=ExploreSweeperConf,
                             provider="spheres")


class ExploreError(CompactHydraException):
    """An exploration was refused."""


class ExploreSweeper(Sweeper):
    """Runs a Latin hypercube over a study's settings through the configured launcher."""

    def __init__(self, samples: int, seed: int, params: dict[str, str] | None = None) -> None:
        """Take the settings of :class:`ExploreSweeperConf`."""
        self.samples = samples
        self.seed = seed
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.launcher: Launcher | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        """Instantiate the configured launcher."""
        self.config = config
        self.hydra_context = hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> list[Any]:
        """Sample, save the design, launch a run per sample and arm."""
        assert self.config is not None and self.launcher is not None
        experiment = self.config.hydra.runtime.choices.get("experiment")
        fixed = self._fixed(arguments)
        pinned = {line.split("=", 1)[0].lstrip("+") for line in fixed}
        try:
            designs.require_extra()
            verdict = designs.verdict_of(experiment)
            dims = designs.dimensions(verdict, sorted(pinned))
            if not dims:
                raise ConfigError("every setting of the study's verdict is pinned by an "
                                  "override: nothing to explore")
            design = designs.sample(dims, self.samples, self.seed)
        except ConfigError as err:
            raise ExploreError(str(err)) from None
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        designs.save(sweep_dir, experiment, dims, design, fixed, self.seed)
        jobs = designs.job_overrides(design, dims, verdict, fixed)
        arms = len(designs.arms_of(verdict))
        print(f"Exploring {experiment}: {len(design)} samples x {arms} "
              f"arm{'s' if arms > 1 else ''} = {len(jobs)} runs over "
              + "; ".join(d.describe() for d in dims))
        print(f"Verdict per sample: {verdict.statement}")
        returns = self.launcher.launch(jobs, initial_job_idx=0)
        failed = [r for r in returns if r.status != JobStatus.COMPLETED]
        if failed:
            log.warning("%d of %d exploration runs raised", len(failed), len(returns))
        return list(returns)

    def _fixed(self, arguments: list[str]) -> list[str]:
        """The plain overrides of the command line; sweeps of values are refused."""
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        fixed = []
        for override in parser.parse_overrides(arguments):
            if override.is_sweep_override():
                raise ExploreError(f"{override.input_line}: an exploration samples its study's "
                                   "settings itself: give single values only (a value pins "
                                   "that setting)")
            fixed.append(override.input_line)
        return fixed
