"""Hydra's basic sweeper, composing the config once per group choice instead of once per job.

Hydra composes a sweep's config twice per job: in the ``spheres`` process, to check the whole
sweep before anything runs, and again where the job runs. Composition (reading the config
groups, merging them over the schema) costs 0.1-0.25 s, as much as a short run. Jobs of a sweep
mostly differ in value overrides (``seed=3``, ``market.p_ad=0.05``), which Hydra applies after
composing the groups. This sweeper's config loader composes once for each distinct combination
of config group choices (``market=fast_drift``, ``hydra/launcher=ray``, ...) and gives each job a
copy with its value overrides applied by Hydra's own function, its override lists and
``override_dirname`` set as Hydra sets them: the same config as Hydra's composition (tested).
The compositions are kept per process, so a joblib or Ray worker composes once per group choice;
an unknown group option, unknown key or value of the wrong type is still refused, with Hydra's
error, before any job starts. Jobs, their order and numbering are those of the basic sweeper.
"""

import copy
import uuid
from dataclasses import dataclass

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict


@dataclass
class SpheresSweeperConf(BasicSweeperConf):
    """Settings of ``hydra/sweeper=spheres``: those of the basic sweeper."""

    _target_: str = "hydra_plugins.spheres_sweeper.spheres_sweeper.SpheresSweeper"


ConfigStore.instance().store(group="hydra/sweeper", name="spheres", node=SpheresSweeperConf,
                             provider="spheres")

# Compositions of the current sweep in this process: (sweep token, group overrides) -> config.
_COMPOSED: dict[tuple[str, tuple[str, ...]], DictConfig] = {}


class SweepConfigLoader(ConfigLoaderImpl):
    """Hydra's config loader, composing a sweep's jobs once per combination of group choices."""

    def __init__(self, loader: ConfigLoaderImpl) -> None:
        self.__dict__.update(loader.__dict__)
        self.token = uuid.uuid4().hex  # tells this sweep's compositions from another sweep's

    def load_sweep_config(self, master_config: DictConfig,
                          sweep_overrides: list[str]) -> DictConfig:
        """The config of the job with ``sweep_overrides``, as Hydra's composition gives it."""
        parsed = OverridesParser.create(config_loader=self).parse_overrides(list(sweep_overrides))
        groups = [o for o in parsed if self._is_group(o)]
        values = [o for o in parsed if not self._is_group(o)]
        key = (self.token, tuple(o.input_line for o in groups))
        if key not in _COMPOSED:
            for old in [k for k in _COMPOSED if k[0] != self.token]:
                del _COMPOSED[old]
            _COMPOSED[key] = super().load_sweep_config(master_config, list(key[1]))
        config = copy.deepcopy(_COMPOSED[key])
        ConfigLoaderImpl._apply_overrides_to_config(values, config)
        hydra = config.hydra
        hydra.overrides.hydra = [*master_config.hydra.overrides.hydra,
                                 *(o.input_line for o in parsed if o.is_hydra_override())]
        app = [o for o in parsed if not o.is_hydra_override()]
        hydra.overrides.task = [o.input_line for o in app]
        with open_dict(hydra):
            names = hydra.job.config.override_dirname
            hydra.job.override_dirname = get_overrides_dirname(
                overrides=app, kv_sep=names.kv_sep, item_sep=names.item_sep,
                exclude_keys=list(names.exclude_keys))
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config

    def _is_group(self, override: Override) -> bool:
        """Whether ``override`` picks a config group option (Hydra's own test)."""
        return (self.repository.group_exists(override.key_or_group)
                and not isinstance(override.value(), dict))


class SpheresSweeper(BasicSweeper):
    """The basic sweeper, with a config loader that composes once per group choice."""

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        """Set up the basic sweeper and its launcher with the composing-once config loader."""
        loader = hydra_context.config_loader
        assert isinstance(loader, ConfigLoaderImpl)
        context = HydraContext(config_loader=SweepConfigLoader(loader),
                               callbacks=hydra_context.callbacks)
        super().setup(hydra_context=context, task_function=task_function, config=config)
