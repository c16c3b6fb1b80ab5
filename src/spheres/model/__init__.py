"""One simulation: the market model, its state, network, phases, strategies, ledger and measures.

- ``model``: ``MarketModel`` (a ``mesa.Model``): set-up, and ``step()`` listing the phases in order.
- ``market``: ``Market``, the model as the phases see it (the engines, draws, sellers, levers and
  measures take a ``Market``, so none of them imports ``model``).
- ``state``: the struct-of-arrays state of buyers and sellers.
- ``memory``: what buyers know and believe about sellers (awareness, beliefs, claims, forgetting).
- ``network``: graph builders (their nodes renamed at random) and edge-list loading, as CSR.
- ``draws``: the random draws of each buyer and influencer phase, as arrays, and the random keys
  that break ties.
- ``rules``: the formulas both engines call (fit, utility, belief, trust, claims, currency).
- ``engine``: the ``Engine`` protocol, naming the phases engines run, and the registry of engines.
- ``vector``: the fast engine, each phase over whole arrays.
- ``agents``: Buyer, Influencer and Seller views and the per-agent reference engine.
- ``strategies``: marketing levers and sensing methods, one small class each, and the presets.
- ``sellers``: the levers' actions and the sellers' phase (book, sense, adapt, exit, enter).
- ``currency``: the social-currency ledger, every movement with its reason.
- ``measures``: the measures of a step and of a finished run.

This package's ``__init__`` imports nothing, so that its registries (network kinds, strategies,
engines) can be read without building the model: ``spheres.MarketModel`` is the model.
"""
