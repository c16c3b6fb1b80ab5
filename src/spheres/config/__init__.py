"""Every setting of a run: declared once (``schema``), checked once (``validate``), built from
overrides (``build``) and described in words (``help``).

The names below are the package's public face; ``from spheres.config import make_config`` and
the rest keep working whichever module a name lives in.
"""

from spheres.config.build import (
    check_keys,
    config_hash,
    make_config,
    nest,
    omegaconf_message,
    one_line,
    to_config,
    to_dict,
)
from spheres.config.help import settings_markdown, settings_text
from spheres.config.validate import (
    Setting,
    available_memory,
    check_resources,
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

__all__ = [
    "MONEY_LIMIT", "ConfigError", "CurrencyConfig", "MarketConfig", "MechanismsConfig",
    "NetworkConfig", "OutputConfig", "SellersConfig", "Setting", "Spec", "SpheresConfig",
    "available_memory", "check_keys", "check_resources", "config_hash", "default_mix",
    "estimate_memory", "make_config", "nest", "omegaconf_message", "one_line", "prob", "setting",
    "settings", "settings_markdown", "settings_text", "to_config", "to_dict", "validate",
]
