"""Hydra's basic sweeper, checking a sweep before it runs with one composition per group choice.

The basic sweeper composes every job's config in the ``spheres`` process before launching, so
that a misconfigured sweep fails before anything runs; the launcher then composes each job again
where it runs. For a sweep of many short runs the first pass costs as much as a run. This sweeper
makes the same check cheaply: it composes the config once for each distinct combination of the
jobs' config group choices (``market=fast_drift``, ``hydra/launcher=ray``, ...) and applies each
job's value overrides (``seed=3``, ``market.p_ad=0.05``) to a copy, as Hydra's composition applies
them after loading the groups. An unknown group option, unknown key or value of the wrong type is
refused with Hydra's own error, before any job starts. Jobs, their order and numbering, and what
the launcher runs are those of the basic sweeper.
"""

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig

TARGET = "hydra_plugins.spheres_sweeper.spheres_sweeper.SpheresSweeper"


@dataclass
class SpheresSweeperConf(BasicSweeperConf):
    """Settings of ``hydra/sweeper=spheres``: those of the basic sweeper."""

    _target_: str = TARGET


ConfigStore.instance().store(group="hydra/sweeper", name="spheres", node=SpheresSweeperConf,
                             provider="spheres")


class SpheresSweeper(BasicSweeper):
    """The basic sweeper with a check of the sweep that composes once per group choice."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Raise Hydra's composition error if any job of ``batch`` cannot be composed."""
        assert self.config is not None and self.hydra_context is not None
        loader = self.hydra_context.config_loader
        assert isinstance(loader, ConfigLoaderImpl)
        parser = OverridesParser.create(config_loader=loader)
        composed: dict[tuple[str, ...], DictConfig] = {}
        for job in batch:
            groups: list[str] = []
            values: list[Override] = []
            for override in parser.parse_overrides(list(job)):
                is_group = loader.repository.group_exists(override.key_or_group)
                if is_group and not isinstance(override.value(), dict):
                    groups.append(override.input_line)
                else:
                    values.append(override)
            key = tuple(groups)
            if key not in composed:
                composed[key] = loader.load_sweep_config(self.config, groups)
            config = copy.deepcopy(composed[key])
            ConfigLoaderImpl._apply_overrides_to_config(values, config)
