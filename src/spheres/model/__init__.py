"""One simulation: the market model, its state, network, phases, strategies, ledger and measures.

- ``model``: ``MarketModel`` (a ``mesa.Model``): set-up, and ``step()`` listing the phases in order.
- ``state``: the struct-of-arrays state of buyers and sellers.
- ``network``: graph builders and edge-list loading, all stored as CSR.
- ``draws``: the random draws of each buyer and influencer phase, as arrays.
- ``vector``: the fast engine, each phase over whole arrays.
- ``agents``: Buyer, Influencer and Seller views and the per-agent reference engine.
- ``strategies``: seller strategies, one small class each, by name.
- ``currency``: the social-currency ledger.
- ``measures``: the measures, and the collection of a run's tables.
"""

from spheres.model.model import MarketModel

__all__ = ["MarketModel"]
