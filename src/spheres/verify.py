"""Check that the two engines are the same model.

Run both from one config, step by step, and report the first step and state field where they
differ.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from spheres.config import SpheresConfig, validate
from spheres.model.model import MarketModel


@dataclass
class Difference:
    """Where two runs first differ."""

    step: int
    field: str
    detail: str

    def __str__(self) -> str:
        """Say where the engines differ."""
        return f"engines differ at step {self.step}, field {self.field}: {self.detail}"


def snapshot(model: MarketModel) -> dict[str, np.ndarray]:
    """Every state array of the model, by name (ledger entries sorted canonically)."""
    out: dict[str, np.ndarray] = {}
    for prefix, part in (("buyers", model.buyers_state), ("sellers", model.sellers_state)):
        for f in dataclasses.fields(part):
            value = getattr(part, f.name)
            if isinstance(value, np.ndarray):  # not the prior, nor a cap's absent index
                out[f"{prefix}.{f.name}"] = value
    out["follows.keys"] = model.follows.keys
    out["frontier"] = np.asarray(model.frontier)
    out["ledger.totals"] = model.ledger.totals
    entries = model.ledger.entries()
    out["ledger.entries"] = entries[np.lexsort(entries.T[::-1])] if entries.size else entries
    return out


def compare(a: dict[str, np.ndarray], b: dict[str, np.ndarray], atol: float = 1e-9
            ) -> tuple[str, str] | None:
    """The first field that differs (discrete exactly, floats within ``atol``), or None."""
    for name, x in a.items():
        y = b[name]
        if x.shape != y.shape:
            return name, f"shapes {x.shape} != {y.shape}"
        if np.issubdtype(x.dtype, np.floating):
            bad = ~np.isclose(x, y, rtol=0.0, atol=atol, equal_nan=True)
        else:
            bad = x != y
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            return name, f"first at index {idx}: {x[idx]!r} != {y[idx]!r} ({int(bad.sum())} differ)"
    return None


def first_difference(config: SpheresConfig, atol: float = 1e-9) -> Difference | None:
    """Run ``config`` with both engines, step by step; return the first difference or None."""
    base = dataclasses.replace(config, output=dataclasses.replace(config.output,
                                                                  ledger_entries=True))
    vec = MarketModel(validate(dataclasses.replace(base, engine="vector")))
    agt = MarketModel(validate(dataclasses.replace(base, engine="agent")))
    found = compare(snapshot(vec), snapshot(agt), atol)
    if found:
        return Difference(0, *found)
    for _ in range(config.steps):
        vec.step()
        agt.step()
        found = compare(snapshot(vec), snapshot(agt), atol)
        if found:
            return Difference(vec.steps, *found)
    return None
