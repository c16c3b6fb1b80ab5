"""Hydra's side of the settings: the schema in Hydra's ConfigStore, and a composed config loaded.

``configs/config.yaml`` composes over the structured schema registered as ``spheres_schema``;
:func:`register` stores it (and the help page of ``spheres run --help``) in Hydra's ConfigStore.
The ``spheres`` command, the sweepers and anyone composing with Hydra's compose API call it
before composing::

    from hydra import compose, initialize_config_dir

    from spheres.config.compose import load_config, register
    from spheres.paths import config_dir

    register()
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        config = load_config(compose("config", overrides=["n_buyers=500"]))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from spheres.config.build import omegaconf_message, to_config
from spheres.config.help import settings_text
from spheres.config.validate import validate
from spheres.errors import ConfigError
from spheres.model.network import KINDS
from spheres.paths import config_dir
from spheres.schema import SpheresConfig

SCHEMA = "spheres_schema"  # the name configs/config.yaml lists first in its defaults
HELP = "spheres_help"  # the option of hydra/help that configs/config.yaml selects


def schema() -> DictConfig:
    """The structured schema as registered with Hydra: ``sellers.mix`` is empty.

    Hydra merges dicts key by key, so the mix comes only from the selected ``sellers/`` file;
    a file listing one strategy then gives exactly that strategy.
    """
    node = OmegaConf.structured(SpheresConfig)
    node.sellers.mix = {}
    return node


# Directories of configs/ that are not config groups of a run: Hydra's own, and the files of
# spheres calibrate (configs/calibrate/, read by spheres.calibrate.spec).
NOT_RUN_GROUPS = ("hydra", "calibrate")


def run_groups() -> str:
    """The config groups of ``spheres run``, one line each: ``group: option, option``."""
    lines = []
    for group in sorted(p for p in config_dir().iterdir()
                        if p.is_dir() and p.name not in NOT_RUN_GROUPS):
        options = sorted(f.stem for f in group.glob("*.yaml"))
        lines.append(f"{group.name}: {', '.join(options)}")
    return "\n".join(lines) + "\n"


def help_page() -> dict[str, Any]:
    """The page of ``spheres run --help``: the config groups, then every setting."""
    template = ("${hydra.help.header}\n== Config groups (pick one with group=option) ==\n"
                + run_groups() + "\n== Settings (set with key=value; defaults shown) ==\n"
                + settings_text() + "\n${hydra.help.footer}\n")
    return {"app_name": "spheres run", "header": "", "footer": "", "template": template}


def register() -> None:
    """Store the schema (``spheres_schema``) and the help page in Hydra's ConfigStore.

    Storing again replaces the same entries, so calling this more than once is harmless.
    """
    store = ConfigStore.instance()
    store.store(name=SCHEMA, node=schema())
    store.store(group="hydra/help", name=HELP, node=help_page())


def from_hydra(cfg: Any, cwd: str | Path | None = None) -> SpheresConfig:
    """Turn Hydra's composed config into a ``SpheresConfig``, not yet validated.

    A relative ``network.path`` is read from ``cwd``, the directory the command was started in.
    """
    # Converted as composed, not merged again over the schema's defaults: a merge would put the
    # default seller mix back under the mix of the selected sellers/ file.
    try:
        config = to_config(cfg)
    except OmegaConfBaseException as err:
        raise ConfigError(omegaconf_message(err)) from None
    path, kind = config.network.path, KINDS.get(config.network.kind)
    if (cwd is not None and kind is not None and "path" in kind.uses and isinstance(path, str)
            and path and not Path(path).is_absolute()):
        config.network.path = str(Path(cwd) / path)
    return config


def load_config(cfg: Any, cwd: str | Path | None = None) -> SpheresConfig:
    """Turn Hydra's composed config into a validated ``SpheresConfig`` (see :func:`from_hydra`)."""
    return validate(from_hydra(cfg, cwd))
