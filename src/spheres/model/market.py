"""What the phases read of the market: the model as its engines, draws and sellers see it.

``MarketModel`` (``model.py``) builds this state and lists the phases; the modules that run the
phases (the engines, the draws, the sellers' phase, the levers, the measures) take the model as
a :class:`Market` and so never import ``model.py``: every import of the model's room points
toward its foundations, none back at the model that uses them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import mesa

    from spheres.model.currency import Ledger
    from spheres.model.memory import Memory
    from spheres.model.network import Graph
    from spheres.model.state import BuyerArrays, Follows, SellerArrays
    from spheres.schema import SpheresConfig


class Market(Protocol):
    """The state of a market and the few questions its phases ask of it."""

    cfg: SpheresConfig  # every time-dependent value per step (spheres.model.clock.per_step)
    rng: np.random.Generator
    random: Any  # the model's random.Random (Mesa), for AgentSet's shuffles
    steps: int
    tie_seed: int  # the key of every random tie-break (draws.tie_keys)
    n_buyers: int
    dims: int
    n_slots: int
    n_start_sellers: int
    graph: Graph
    degree: np.ndarray
    degree_percentile: np.ndarray
    frontier: np.ndarray
    direction: np.ndarray
    buyers_state: BuyerArrays
    sellers_state: SellerArrays
    memory: Memory
    follows: Follows
    ledger: Ledger
    strategies: list[Any]  # a model.strategies.Strategy per opened seller slot, else None
    contracts: dict[int, np.ndarray]
    purchases: tuple[np.ndarray, np.ndarray]
    feedback: np.ndarray
    paid: np.ndarray
    step_counts: dict[str, int]
    promoted_now: np.ndarray
    events: dict[str, int]
    revenue_total: int
    kept_means: dict[str, np.ndarray]

    @property
    def buyers(self) -> mesa.agent.AgentSet:
        """Every buyer and influencer as a Mesa agent."""
        ...

    @property
    def n_used(self) -> int:
        """Seller slots in use (opened so far)."""
        ...

    @property
    def n_opened(self) -> int:
        """Seller slots opened so far."""
        ...

    def buyer_agent(self, row: int) -> mesa.Agent:
        """The agent of buyer ``row``."""
        ...

    def open_seller(self, row: int, strategy: str, offering: np.ndarray, step: int) -> None:
        """Open seller slot ``row`` with ``strategy`` and ``offering`` at ``step``."""
        ...

    def reputation_of(self, rows: np.ndarray) -> np.ndarray:
        """How much the advice of buyers ``rows`` weighs."""
        ...

    def seller_claim(self, sellers: np.ndarray) -> np.ndarray:
        """What each of ``sellers`` claims in its ads and sponsored posts."""
        ...

    def post_topics(self, posters: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What each poster posts about: seller, claim, weight factor, undisclosed."""
        ...
