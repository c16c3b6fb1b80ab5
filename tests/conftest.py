"""Shared test helpers."""

from __future__ import annotations

from typing import Any

from spheres.model.network import GRAPH_SETTINGS, KINDS


def used_graph_settings(flat: dict[str, Any]) -> dict[str, Any]:
    """``flat`` (dotted keys) without the graph settings its ``network.kind`` does not use.

    A graph setting the chosen kind ignores is refused by validation, so a base config shared by
    tests of several kinds keeps only those the kind reads.
    """
    kind = KINDS[flat.get("network.kind", "barabasi_albert")]
    unused = {f"network.{name}" for name in GRAPH_SETTINGS if name not in kind.uses}
    return {key: value for key, value in flat.items() if key not in unused}
