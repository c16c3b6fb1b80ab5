"""Shared test helpers."""

from __future__ import annotations

import dataclasses
from typing import Any

from spheres.config import MechanismsConfig, SpheresConfig, make_config
from spheres.model.clock import per_year
from spheres.model.network import GRAPH_SETTINGS, KINDS

# The sections of a config, and the settings that are maps (kept whole by :func:`weekly`).
SECTIONS = {"time", "network", "market", "sellers", "currency", "mechanisms", "output"}
MAPS = {"mix", "marketing", "sensing"}

# Every mechanism switch, read from the schema (``mechanisms.<name>``).
SWITCHES = tuple(f.name for f in dataclasses.fields(MechanismsConfig))
# The switch that turns off each reason currency moves for (``currency.REASONS``).
REASON_SWITCH = {"advice": "advice_reward", "thank_you": "thank_you",
                 "follower_share": "follower_share", "sponsorship": "sponsorship",
                 "cocreation": "cocreation", "perk": "perks", "cashout": "cashout",
                 "decay": "decay"}
# Ads reaching each buyer about once a year: the default ``market.ad_rate`` (0.03, the published
# Bass p) gives too few ads in a short run to measure what they do.
ADS_ONCE_A_YEAR = 1.05
ADS: dict[str, Any] = {"market.ad_rate": ADS_ONCE_A_YEAR}


def used_graph_settings(flat: dict[str, Any]) -> dict[str, Any]:
    """``flat`` (dotted keys) without the graph settings its ``network.kind`` does not use.

    A graph setting the chosen kind ignores is refused by validation, so a base config shared by
    tests of several kinds keeps only those the kind reads.
    """
    kind = KINDS[flat.get("network.kind", "barabasi_albert")]
    unused = {f"network.{name}" for name in GRAPH_SETTINGS if name not in kind.uses}
    return {key: value for key, value in flat.items() if key not in unused}


def weekly(overrides: dict[str, Any] | None = None, **flat: Any) -> dict[str, Any]:
    """Dotted settings from values stated per weekly step (``a__b=x`` sets ``a.b``).

    Tests state rates as chances per step, amounts as amounts per step and durations in steps;
    the settings are per year (and in weeks), so each time-dependent value is converted with
    :func:`spheres.model.clock.per_year`. Sections given nested are flattened (the seller mix and
    the strategy maps stay whole).
    """
    dotted: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and key in SECTIONS:
            for name, inner in value.items():
                dotted[f"{key}.{name}"] = inner
        else:
            dotted[key] = value
    dotted.update({key.replace("__", "."): value for key, value in flat.items()})
    return per_year(dotted)


def weekly_config(overrides: dict[str, Any] | None = None, **flat: Any) -> SpheresConfig:
    """A validated config from values stated per weekly step (see :func:`weekly`)."""
    values = weekly(overrides, **flat)
    nested: dict[str, Any] = {}
    for key in [k for k in values if k.count(".") == 1 and k.split(".")[1] in MAPS]:
        section, name = key.split(".")
        nested.setdefault(section, {})[name] = values.pop(key)
    return make_config(nested or None, **values)
