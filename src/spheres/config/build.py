"""Building a config from dotted or nested overrides or an OmegaConf node, and naming it.

Nothing here validates: :func:`spheres.config.make_config` and the CLI build, then validate once.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import re
from typing import Any, get_type_hints

from omegaconf import OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from spheres.errors import ConfigError
from spheres.schema import SpheresConfig, default_mix


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Turn dotted keys (``"market.need_rate"``, or ``market__need_rate``) into nested dicts."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = str(key).replace("__", ".").split(".")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key}: {'.'.join(parts[:-1])} is not a group of settings")
            node = child
        last = parts[-1]
        if isinstance(value, dict) and isinstance(node.get(last), dict) and last != "mix":
            node[last] = {**node[last], **nest(value)}
        else:
            node[last] = nest(value) if isinstance(value, dict) and last != "mix" else value
    return out


def build_config(overrides: dict[str, Any] | None = None, **flat: Any) -> SpheresConfig:
    """Build a config, not yet validated, from defaults, a (nested or dotted) dict and keywords.

    A given ``sellers.mix`` replaces the default mix, in either form; ``sellers.mix.<strategy>``
    changes one count, as on the command line.
    """
    given = {**(overrides or {}), **flat}
    counts = {key: given.pop(key) for key in list(given)
              if str(key).replace("__", ".").startswith("sellers.mix.")}
    nested = nest(given)
    if counts:  # one strategy's count: changed within the mix given, or else the default mix
        sellers = nested.setdefault("sellers", {})
        mix = dict(sellers.get("mix") or default_mix())
        mix.update({str(k).replace("__", ".").removeprefix("sellers.mix."): v
                    for k, v in counts.items()})
        sellers["mix"] = mix
    return to_config(nested)


def to_config(cfg: Any) -> SpheresConfig:
    """Turn an OmegaConf node or a plain nested dict into a ``SpheresConfig``.

    Unknown settings are refused (naming the closest declared one); types are checked by
    :func:`validate`.
    """
    if isinstance(cfg, SpheresConfig):
        return cfg
    data = OmegaConf.to_container(cfg) if OmegaConf.is_config(cfg) else cfg
    if not isinstance(data, dict):
        raise ConfigError(f"a config is a mapping of settings; got {type(data).__name__}")
    check_keys(data)
    return _build(SpheresConfig, data, "")


def check_keys(data: dict[str, Any], cls: type = SpheresConfig, prefix: str = "") -> None:
    """Refuse a key that is not a declared setting, suggesting the closest name."""
    hints = get_type_hints(cls)
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in hints:
            close = difflib.get_close_matches(str(key), list(hints), n=1, cutoff=0.75)
            hint = f"; did you mean {prefix}{close[0]}?" if close else ""
            raise ConfigError(f"{name}: no such setting{hint} (`spheres run --help` lists them)")
        if dataclasses.is_dataclass(hints[key]):
            if not isinstance(value, dict):
                raise ConfigError(f"{name} = {value!r} is not allowed: a group of settings "
                                  f"such as {name}.{next(iter(get_type_hints(hints[key])))}=...")
            check_keys(value, hints[key], f"{name}.")


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        kwargs[key] = (_build(hints[key], value, f"{prefix}{key}.")
                       if dataclasses.is_dataclass(hints[key]) else value)
    return cls(**kwargs)


def to_dict(config: SpheresConfig) -> dict[str, Any]:
    """The config as a plain nested dict."""
    return dataclasses.asdict(config)


def config_hash(config: SpheresConfig) -> str:
    """A short hash of every setting: equal configs, equal hashes."""
    text = json.dumps(to_dict(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def omegaconf_message(err: OmegaConfBaseException) -> str:
    """One line from an OmegaConf error, naming the key when it has one."""
    key = getattr(err, "full_key", None)
    msg = str(err).splitlines()[0]
    return f"{key}: {msg}" if key else msg


def one_line(err: BaseException) -> str:
    """An error of composing a config (Hydra's or OmegaConf's) as one line naming the setting.

    An unknown key gets the closest declared name; a cause from OmegaConf is appended.
    """
    cause = err.__cause__
    key = getattr(cause, "full_key", None)
    if isinstance(cause, ConfigKeyError | ConfigAttributeError) and key:
        try:
            check_keys(nest({key: None}))
        except ConfigError as unknown:
            return str(unknown)
    text = " ".join(str(err).split("Config search path")[0].split())
    taken = re.match(r"Multiple values for (\S+)\. To override a value use 'override \1: (\S+)'",
                     text)
    if taken:  # a group that has a slot in the defaults was added with +
        group, option = taken.groups()
        return (f"{group} already has a slot in the defaults: select it with {group}={option} "
                f"(without +)")
    if isinstance(cause, OmegaConfBaseException):
        text += f": {' '.join(str(cause).split('full_key')[0].split())}"
        if key and key not in text:
            text += f" ({key})"
    return text.replace("Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack "
                        "trace.", "").strip()
