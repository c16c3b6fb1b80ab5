"""What a calibration fits: the settings with their prior ranges, the market, the sampler's sizes.

A calibration is described by a YAML file (a file of the ``configs/calibrate/`` group, chosen by
name, or any path) and the command line, which adds to it and wins over it::

    data: observed.csv            # the observed series (spheres.calibrate.observed)
    fit:                          # each setting to fit, with its prior range (uniform)
      market.ad_rate: [0.001, 0.3]
      market.p_word_of_mouth: [0.005, 0.3]
    overrides:                    # the market: Hydra overrides, as on `spheres run`
      - experiment=diffusion
      - n_buyers=1000
    populations: 6                # ABC-SMC generations at most
    population_size: 100          # accepted particles per generation
    min_epsilon: 0.0              # stop once the acceptance distance is this small
    max_simulations: 20000        # stop after this many simulations in all
    predictive: 40                # runs drawn from the posterior for the predictive band
    seed: 0                       # the calibration's random seed

The market is composed by Hydra from ``configs/config.yaml`` and the overrides, as ``spheres
run`` composes it; ``steps`` is set to the last observed step.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from spheres.config import ConfigError, one_line, settings, to_config, to_dict, validate
from spheres.config.compose import load_config, register
from spheres.paths import config_dir
from spheres.schema import SpheresConfig
from spheres.sweeps.sensitivity import Parameter as Prior  # a setting and its range

GROUP = "calibrate"  # the config group of calibration files: configs/calibrate/<name>.yaml
KEYS = ("data", "fit", "overrides", "populations", "population_size", "min_epsilon",
        "max_simulations", "predictive", "seed")


@dataclass(frozen=True)
class CalibrationSpec:
    """A calibration as asked: data, priors, the market's overrides and the sampler's sizes."""

    data: str | None = None
    fit: tuple[Prior, ...] = ()
    overrides: tuple[str, ...] = ()
    populations: int = 6
    population_size: int = 100
    min_epsilon: float = 0.0
    max_simulations: int = 20000
    predictive: int = 40
    seed: int = 0
    source: str = field(default="the command line", compare=False)


def calibrate_dir() -> Path:
    """The config group's directory, ``configs/calibrate/``."""
    return config_dir() / GROUP


def spec_names() -> list[str]:
    """The calibration files shipped with spheres, by name."""
    return sorted(p.stem for p in calibrate_dir().glob("*.yaml"))


def load_spec(name_or_path: str | None) -> CalibrationSpec:
    """Read a calibration file (a name of ``configs/calibrate/`` or a path); none: empty."""
    if not name_or_path:
        return CalibrationSpec()
    path = Path(name_or_path)
    if not path.is_file():
        path = calibrate_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ConfigError(f"calibration file {name_or_path!r}: no such file, and no "
                          f"configs/calibrate/{name_or_path}.yaml (shipped: "
                          f"{', '.join(spec_names()) or 'none'})")
    try:
        data = OmegaConf.to_container(OmegaConf.load(path))
    except (OmegaConfBaseException, OSError, ValueError) as err:
        raise ConfigError(f"calibration file {str(path)!r} cannot be read: {one_line(err)}") \
            from None
    if not isinstance(data, dict):
        raise ConfigError(f"calibration file {str(path)!r}: a mapping of {', '.join(KEYS)}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"calibration file {str(path)!r}: unknown key {unknown[0]!r} "
                          f"(allowed: {', '.join(KEYS)})")
    fit = data.get("fit") or {}
    if not isinstance(fit, dict):
        raise ConfigError(f"calibration file {str(path)!r}: fit is a mapping of setting: "
                          "[low, high]")
    priors = tuple(prior(key, bounds) for key, bounds in fit.items())
    overrides = data.get("overrides") or []
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ConfigError(f"calibration file {str(path)!r}: overrides is a list of key=value")
    data_path = data.get("data")
    if data_path is not None:  # relative to the file
        data_path = str((path.parent / str(data_path)) if not Path(str(data_path)).is_absolute()
                        else data_path)
    sizes = {k: data[k] for k in KEYS[3:] if k in data}
    return CalibrationSpec(data=data_path, fit=priors, overrides=tuple(overrides),
                           source=str(path), **sizes)


def parse_fit(text: str) -> Prior:
    """A command line's ``KEY=LOW:HIGH`` as a prior."""
    key, sep, bounds = text.partition("=")
    low, sep2, high = bounds.partition(":")
    if not (sep and sep2 and key):
        raise ConfigError(f"--fit {text!r} is not allowed: write SETTING=LOW:HIGH, e.g. "
                          "--fit market.ad_rate=0.001:0.3")
    return prior(key.strip(), [low, high])


def prior(key: str, bounds: Any) -> Prior:
    """A prior for setting ``key`` from ``[low, high]``; refuse a setting that is not a number."""
    known = {s.name: s for s in settings()}
    if key not in known:
        raise ConfigError(f"fit: {key!r} is not a setting (`spheres settings` lists them)")
    setting = known[key]
    if setting.kind not in ("int", "float"):
        raise ConfigError(f"fit: {key} is not a number ({setting.kind}); only numeric settings "
                          "can be fitted")
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise ConfigError(f"fit: {key} = {bounds!r} is not allowed: a range [low, high] of "
                          "two numbers") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"fit: {key} = [{low:g}, {high:g}] is not allowed: two finite numbers, "
                          "the lower below the upper")
    return Prior(key, low, high, integer=setting.kind == "int")


def merged(spec: CalibrationSpec, **given: Any) -> CalibrationSpec:
    """``spec`` with the command line's: priors added (or replaced), overrides appended, sizes."""
    fit = {p.key: p for p in spec.fit}
    fit.update({p.key: p for p in given.pop("fit", ())})
    overrides = (*spec.overrides, *given.pop("overrides", ()))
    chosen = {k: v for k, v in given.items() if v is not None}
    return replace(spec, fit=tuple(fit.values()), overrides=overrides, **chosen)


def check_sizes(spec: CalibrationSpec) -> None:
    """Raise ``ConfigError`` naming the first size that is not allowed."""
    if not spec.fit:
        raise ConfigError("nothing to fit: give at least one setting with --fit KEY=LOW:HIGH "
                          "or in the calibration file's fit")
    if spec.data is None:
        raise ConfigError("no observed data: give the CSV file (spheres calibrate DATA.csv)")
    for name, low in (("populations", 1), ("population_size", 5), ("max_simulations", 1),
                      ("predictive", 2)):
        value = getattr(spec, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ConfigError(f"{name} = {value!r} is not allowed: a whole number, at least "
                              f"{low}")
    if not (isinstance(spec.min_epsilon, (int, float)) and spec.min_epsilon >= 0):
        raise ConfigError(f"min_epsilon = {spec.min_epsilon!r} is not allowed: a number >= 0")


def base_config(overrides: tuple[str, ...] | list[str], steps: int) -> SpheresConfig:
    """The market to fit in: composed by Hydra from the overrides, ``steps`` long, validated."""
    register()
    try:
        with initialize_config_dir(str(config_dir()), version_base="1.3"):
            cfg = compose("config", overrides=[*overrides, f"steps={steps}",
                                               "output.progress=false"])
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(f"overrides: {one_line(err)}") from None
    return load_config(cfg)


def with_values(base: SpheresConfig, values: dict[str, Any]) -> SpheresConfig:
    """``base`` with the given settings (dotted keys) set, validated."""
    data = copy.deepcopy(to_dict(base))
    for key, value in values.items():
        node = data
        *groups, last = key.split(".")
        for group in groups:
            node = node[group]
        node[last] = value
    return validate(to_config(data))


def check_priors(base: SpheresConfig, priors: tuple[Prior, ...]) -> None:
    """Refuse a prior range that reaches outside what its setting allows, naming the setting."""
    for p in priors:
        for end in (p.low, p.high):
            try:
                with_values(base, {p.key: p.value(end)})
            except ConfigError as err:
                raise ConfigError(f"fit: {p.key} range [{p.low:g}, {p.high:g}] is not allowed: "
                                  f"{err}") from None
