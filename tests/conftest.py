"""Shared test helpers."""

from __future__ import annotations

import dataclasses
from typing import Any

from spheres.config import MechanismsConfig
from spheres.model.network import GRAPH_SETTINGS, KINDS

# Every mechanism switch, read from the schema (``mechanisms.<name>``).
SWITCHES = tuple(f.name for f in dataclasses.fields(MechanismsConfig))
# The switch that turns off each reason currency moves for (``currency.REASONS``).
REASON_SWITCH = {"advice": "advice_reward", "thank_you": "thank_you",
                 "follower_share": "follower_share", "sponsorship": "sponsorship",
                 "cocreation": "cocreation", "perk": "perks", "cashout": "cashout",
                 "decay": "decay"}


def used_graph_settings(flat: dict[str, Any]) -> dict[str, Any]:
    """``flat`` (dotted keys) without the graph settings its ``network.kind`` does not use.

    A graph setting the chosen kind ignores is refused by validation, so a base config shared by
    tests of several kinds keeps only those the kind reads.
    """
    kind = KINDS[flat.get("network.kind", "barabasi_albert")]
    unused = {f"network.{name}" for name in GRAPH_SETTINGS if name not in kind.uses}
    return {key: value for key, value in flat.items() if key not in unused}
