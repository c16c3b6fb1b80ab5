"""The engine protocol and the registry of engines.

The protocol names the buyer and influencer phases an engine runs, as in ``MarketModel.step()``.

Two engines implement it and give the same results from the same seed: the vectorised engine
(``spheres.model.vector``), whole arrays at a time, and the per-agent reference engine
(``spheres.model.agents``), one Mesa agent at a time. Both call the formulas of
``spheres.model.rules`` and change what buyers know and believe through the model's
``spheres.model.memory.Memory``; they differ only in how they iterate and commit. Market- and
seller-level work (the frontier, bookings, the sellers' phase) is done once, by the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from spheres.model.agents import AgentEngine
from spheres.model.market import Market
from spheres.model.vector import VectorEngine

if TYPE_CHECKING:
    from spheres.model import draws as dr
    from spheres.model.strategies import Trials


class Engine(Protocol):
    """The phases of a step that buyers and influencers act in."""

    name: str

    def attach(self, model: Market) -> None:
        """Prepare for a model (the per-agent engine creates its agents)."""

    def drift(self, model: Market) -> None:
        """1. Expectations follow the frontier, each buyer at its own rate."""

    def needs(self, model: Market, drawn: np.ndarray) -> None:
        """2. Who has a need this step (the drawn mask)."""

    def conversations(self, model: Market, d: dr.ConversationDraws) -> None:
        """3. Buyers with a need ask contacts: awareness, beliefs, claims, thank-yous, pull."""

    def posts(self, model: Market, d: dr.PostDraws) -> None:
        """4. Influencers post; followers read, or find out an undisclosed sponsorship."""

    def marketing(self, model: Market, ads: dr.AdDraws, trials: Trials) -> None:
        """5. Reached buyers see ads; seeded buyers try the offering."""

    def purchase(self, model: Market, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """6. Each buyer with a need picks a known seller by logit, or nothing (-1)."""
        ...

    def experience(self, model: Market, rows: np.ndarray, sellers: np.ndarray,
                   noise: np.ndarray) -> np.ndarray:
        """7. Buyers learn the true fit (returned, per purchase) and reward helpful advice."""
        ...

    def economy(self, model: Market, burn: dr.DecayDraws) -> None:
        """8. Buyers cash out into their wallets above the threshold; balances decay."""


# The engines by name (``engine=``): a new engine is a class with these phases, registered here.
ENGINES: dict[str, type[Engine]] = {"vector": VectorEngine, "agent": AgentEngine}
