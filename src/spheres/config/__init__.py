"""Every setting of a run: declared once (``spheres.schema``), built, checked once, described.

- ``build``: a config from overrides or an OmegaConf node (not validated), its dict and hash.
- ``validate``: the checks of every setting and of the rules that join them, once per run.
- ``help``: the settings in words (``spheres run --help``, ``spheres settings``).
- ``compose``: Hydra's side: the schema in Hydra's ConfigStore, a composed config loaded.

:func:`make_config` is the library's boundary: it builds and validates. The names below are the
package's public face (``from spheres.config import make_config``); ``help`` and ``compose``
import from the modules above, so they are imported by their own names.
"""

from typing import Any

from spheres.config.build import (
    build_config,
    check_keys,
    config_hash,
    nest,
    omegaconf_message,
    one_line,
    to_config,
    to_dict,
)
from spheres.config.validate import (
    Setting,
    available_memory,
    check_resources,
    check_settings,
    estimate_memory,
    settings,
    validate,
)
from spheres.errors import ConfigError
from spheres.schema import (
    MONEY_LIMIT,
    CurrencyConfig,
    MarketConfig,
    MechanismsConfig,
    NetworkConfig,
    OutputConfig,
    SellersConfig,
    Spec,
    SpheresConfig,
    default_mix,
    prob,
    setting,
)


def make_config(overrides: dict[str, Any] | None = None, **flat: Any) -> SpheresConfig:
    """Build a validated config from defaults, a (nested or dotted) dict and keyword overrides.

    ``make_config({"market": {"need_rate": 0.2}}, n_buyers=500, **{"sellers.price": 900})``.
    A given ``sellers.mix`` replaces the default mix, in either form; ``sellers.mix.<strategy>``
    changes one count, as on the command line. Raises ``ConfigError`` naming a bad setting.
    """
    return validate(build_config(overrides, **flat))


__all__ = [
    "MONEY_LIMIT", "ConfigError", "CurrencyConfig", "MarketConfig", "MechanismsConfig",
    "NetworkConfig", "OutputConfig", "SellersConfig", "Setting", "Spec", "SpheresConfig",
    "available_memory", "build_config", "check_keys", "check_resources", "check_settings",
    "config_hash", "default_mix", "estimate_memory", "make_config", "nest", "omegaconf_message",
    "one_line", "prob", "setting", "settings", "to_config", "to_dict", "validate",
]
