"""The default sweeper of ``spheres run -m``: a grid sweep, composing once per group choice.

Hydra composes a sweep's config twice per job: in the ``spheres`` process, to check the whole
sweep before anything runs, and again where the job runs. Composition (reading the config
groups, merging them over the schema) costs 0.1-0.25 s, as much as a short run. Jobs of a sweep
mostly differ in value overrides (``seed=3``, ``market.ad_rate=0.05``), which Hydra applies after
composing the groups. This sweeper's config loader composes once for each distinct combination
of config group choices (``market=fast_drift``, ``hydra/launcher=ray``, ...) through Hydra's
loader, and gives each job a copy with its value overrides applied, its override lists and
``override_dirname`` set as Hydra sets them: the same config as Hydra's composition (tested).
The compositions are kept per process, so a joblib or Ray worker composes once per group choice;
an unknown group option, unknown key or value of the wrong type is still refused, with Hydra's
error, before any job starts. Jobs, their order, numbering and batches are those of Hydra's
basic sweeper (:mod:`spheres.sweeps.grid`).
"""

import copy
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_loader import ConfigLoader
from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.config_store import ConfigStore
from hydra.core.object_type import ObjectType
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn
from hydra.plugins.config_source import ConfigSource
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, RunMode, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

from spheres.config.compose import register
from spheres.sweeps import grid


@dataclass
class SpheresSweeperConf:
    """Settings of ``hydra/sweeper=spheres``: those of Hydra's basic sweeper."""

    _target_: str = grid.SWEEPER
    # jobs launched (and checked) at a time; null: all at once
    max_batch_size: int | None = None
    # swept settings given in a config file instead of the command line: {key: "1,2,3"}
    params: dict[str, str] | None = None


ConfigStore.instance().store(group="hydra/sweeper", name="spheres", node=SpheresSweeperConf,
                             provider="spheres")

# Compositions of the current sweep in this process: (sweep token, group overrides) -> config.
_COMPOSED: dict[tuple[str, tuple[str, ...]], DictConfig] = {}


class SweepConfigLoader(ConfigLoader):
    """Hydra's config loader, composing a sweep's jobs once per combination of group choices.

    Every method but :meth:`load_sweep_config` is the wrapped loader's.
    """

    def __init__(self, loader: ConfigLoader) -> None:
        """Wrap ``loader``, the config loader Hydra gave the sweeper."""
        self.loader = loader
        self.token = uuid.uuid4().hex  # tells this sweep's compositions from another sweep's
        self.groups: dict[str, bool] = {}

    def load_sweep_config(self, master_config: DictConfig,
                          sweep_overrides: list[str]) -> DictConfig:
        """The config of the job with ``sweep_overrides``, as Hydra's composition gives it."""
        parsed = OverridesParser.create(config_loader=self).parse_overrides(list(sweep_overrides))
        groups = [o for o in parsed if self.is_group(o)]
        values = [o for o in parsed if not self.is_group(o)]
        key = (self.token, tuple(str(o.input_line) for o in groups))
        if key not in _COMPOSED:
            for old in [k for k in _COMPOSED if k[0] != self.token]:
                del _COMPOSED[old]
            register()  # the schema configs/config.yaml composes over, in this process too
            _COMPOSED[key] = self.loader.load_sweep_config(master_config, list(key[1]))
        config = copy.deepcopy(_COMPOSED[key])
        grid.apply_overrides(values, config)
        hydra = config.hydra
        hydra.overrides.hydra = [*master_config.hydra.overrides.hydra,
                                 *(o.input_line for o in parsed if o.is_hydra_override())]
        app = [o for o in parsed if not o.is_hydra_override()]
        hydra.overrides.task = [o.input_line for o in app]
        with open_dict(hydra):
            names = hydra.job.config.override_dirname
            hydra.job.override_dirname = grid.override_dirname(
                app, exclude_keys=list(names.exclude_keys), item_sep=names.item_sep,
                kv_sep=names.kv_sep)
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config

    def is_group(self, override: Override) -> bool:
        """Whether ``override`` picks a config group option (Hydra's own test).

        It does when a config source holds a group of that name and the value is not a dict.
        """
        name = override.key_or_group
        if name not in self.groups:
            self.groups[name] = any(s.is_group(name) for s in self.loader.get_sources())
        return self.groups[name] and not isinstance(override.value(), dict)

    def load_configuration(self, config_name: str | None, overrides: list[str],
                           run_mode: RunMode, from_shell: bool = True,
                           validate_sweep_overrides: bool = True) -> DictConfig:
        """Compose ``config_name`` with ``overrides`` (the wrapped loader's)."""
        return self.loader.load_configuration(config_name, overrides, run_mode, from_shell,
                                              validate_sweep_overrides)

    def get_search_path(self) -> ConfigSearchPath:
        """The config search path (the wrapped loader's)."""
        return self.loader.get_search_path()

    def get_sources(self) -> list[ConfigSource]:
        """The config sources (the wrapped loader's)."""
        return self.loader.get_sources()

    def list_groups(self, parent_name: str) -> list[str]:
        """The config groups under ``parent_name`` (the wrapped loader's)."""
        return self.loader.list_groups(parent_name)

    def get_group_options(self, group_name: str,
                          results_filter: ObjectType | None = ObjectType.CONFIG,
                          config_name: str | None = None,
                          overrides: list[str] | None = None) -> list[str]:
        """The options of a config group (the wrapped loader's)."""
        return self.loader.get_group_options(group_name, results_filter, config_name, overrides)

    def compute_defaults_list(self, config_name: str | None, overrides: list[str],
                              run_mode: RunMode) -> Any:
        """The defaults list of ``config_name`` with ``overrides`` (the wrapped loader's)."""
        return self.loader.compute_defaults_list(config_name, overrides, run_mode)


class SpheresSweeper(Sweeper):
    """A grid sweep (Hydra's basic sweeper's jobs), composing once per group choice."""

    def __init__(self, max_batch_size: int | None = None,
                 params: dict[str, str] | None = None) -> None:
        """Take the settings of :class:`SpheresSweeperConf`."""
        self.max_batch_size = max_batch_size
        self.params = dict(params or {})
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        """Instantiate the configured launcher, with the composing-once config loader."""
        self.config = config
        self.hydra_context = HydraContext(
            config_loader=SweepConfigLoader(hydra_context.config_loader),
            callbacks=hydra_context.callbacks)
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=self.hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> list[list[JobReturn]]:
        """Launch every job of the grid, batch by batch, each batch checked before it starts."""
        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([f"{k}={v}" for k, v in self.params.items()]
                                           + list(arguments))
        todo = grid.batches(grid.job_overrides(overrides), self.max_batch_size)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns: list[list[JobReturn]] = []
        first = 0
        for batch in todo:
            self.validate_batch_is_legal(batch)
            results = list(self.launcher.launch(batch, initial_job_idx=first))
            for result in results:
                result.return_value  # noqa: B018 -- raises the job's error, as the basic sweeper
            first += len(batch)
            returns.append(results)
        return returns

