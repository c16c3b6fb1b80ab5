"""A grid sweep's jobs and their configs, as Hydra's basic sweeper and config loader make them.

``spheres run -m seed=range(0,20) market=default,fast_drift`` runs every combination of the
swept values: :func:`job_overrides` lists the jobs in the order and with the override strings
of Hydra's basic sweeper, :func:`batches` splits them by ``max_batch_size``. The default sweeper
(``hydra_plugins.spheres_sweeper``) composes a job's config once per combination of config group
choices and sets the values of each job on a copy: :func:`apply_overrides` as Hydra's config
loader applies value overrides, and :func:`override_dirname` as it names a job's overrides
(``hydra.job.override_dirname``). Hydra keeps these pieces in its private modules; the tests
compare each with Hydra's own.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Sequence
from textwrap import dedent

from hydra.core.override_parser.types import Override
from hydra.errors import ConfigCompositionException, HydraException
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

# The ``_target_`` of the sweepers whose jobs are the grid of this module: the default sweeper
# of ``spheres run -m`` (hydra/sweeper=spheres) and Hydra's basic sweeper (hydra/sweeper=basic).
SWEEPER = "hydra_plugins.spheres_sweeper.spheres_sweeper.SpheresSweeper"
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def job_overrides(overrides: Sequence[Override]) -> list[list[str]]:
    """Every job of the sweep: one list of ``key=value`` strings per combination of values.

    A key swept over a list or range (``seed=1,2,3``, ``seed=range(0,20)``) takes each of its
    values; a plain override is in every job. Keys keep the order in which they were first given
    (a key given again keeps its place, with the last values); the last key varies fastest.
    """
    values: dict[str, list[str]] = {}
    for override in overrides:
        key = override.get_key_element()
        if override.is_sweep_override():
            if not override.is_discrete_sweep():
                kind = override.value_type.name if override.value_type else "this"
                raise HydraException(
                    f"{override.input_line}: a grid sweep takes lists and ranges of values, not "
                    f"a sweep of type {kind} (hydra/sweeper=sobol varies key=interval(lo,hi))")
            values[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
        else:
            values[key] = [f"{key}={override.get_value_element_as_str()}"]
    return [list(job) for job in itertools.product(*values.values())]


def batches(jobs: list[list[str]], max_batch_size: int | None) -> list[list[list[str]]]:
    """The jobs in batches of at most ``max_batch_size`` jobs (``None``: all in one batch)."""
    if max_batch_size is None:
        return [jobs]
    if max_batch_size < 1:
        raise HydraException(f"hydra.sweeper.max_batch_size={max_batch_size} is not allowed: "
                             "a number of jobs >= 1, or null for one batch")
    return [jobs[i:i + max_batch_size] for i in range(0, len(jobs), max_batch_size)]


def override_dirname(overrides: Sequence[Override], exclude_keys: Sequence[str],
                     item_sep: str, kv_sep: str) -> str:
    """A job's overrides as one name (``hydra.job.override_dirname``): sorted, keys excluded.

    ``item_sep`` joins the overrides and ``kv_sep`` replaces each ``=``.
    """
    lines = sorted(str(o.input_line) for o in overrides if o.key_or_group not in exclude_keys)
    return re.sub("[=]", kv_sep, item_sep.join(lines))


def apply_overrides(overrides: Sequence[Override], cfg: DictConfig) -> None:
    """Set value overrides on a composed config, as Hydra's composition does after the groups.

    ``key=value`` changes an existing key, ``+key=value`` adds one (or merges into a dict or list
    already there), ``++key=value`` adds or changes, ``~key`` (or ``~key=value``) deletes.
    Raises ``ConfigCompositionException`` with Hydra's message when an override does not apply.
    """
    for override in overrides:
        if override.package is not None:
            raise ConfigCompositionException(
                f"Override {override.input_line} looks like a config group override, but config "
                f"group '{override.key_or_group}' does not exist.")
        key, value = override.key_or_group, override.value()
        try:
            if override.is_delete():
                _delete(cfg, key, value, override)
            elif override.is_add():
                if (OmegaConf.select(cfg, key, throw_on_missing=False) is not None
                        and not isinstance(value, dict | list)):
                    assert override.input_line is not None
                    raise ConfigCompositionException(dedent(f"""\
                        Could not append to config. An item is already at '{key}'.
                        Either remove + prefix: '{override.input_line[1:]}'
                        Or add a second + to add or override '{key}': '+{override.input_line}'
                        """))
                OmegaConf.update(cfg, key, value, merge=True, force_add=True)
            elif override.is_force_add():
                OmegaConf.update(cfg, key, value, merge=True, force_add=True)
            else:
                try:
                    OmegaConf.update(cfg, key, value, merge=True)
                except (ConfigAttributeError, ConfigKeyError) as err:
                    raise ConfigCompositionException(
                        f"Could not override '{key}'.\n"
                        f"To append to your config use +{override.input_line}") from err
        except OmegaConfBaseException as err:
            raise ConfigCompositionException(
                f"Error merging override {override.input_line}"
            ).with_traceback(sys.exc_info()[2]) from err


def _delete(cfg: DictConfig, key: str, value: object, override: Override) -> None:
    """Delete ``key`` (``~key``), checking its value first when one is given (``~key=value``)."""
    found = OmegaConf.select(cfg, key, throw_on_missing=False)
    if found is None:
        raise ConfigCompositionException(
            f"Could not delete from config. '{override.key_or_group}' does not exist.")
    if value is not None and value != found:
        raise ConfigCompositionException(
            f"Could not delete from config. The value of '{override.key_or_group}' is {found} "
            f"and not {value}.")
    parent, _, last = key.rpartition(".")
    with open_dict(cfg):
        if parent:
            del OmegaConf.select(cfg, parent)[last]
        else:
            del cfg[key]
