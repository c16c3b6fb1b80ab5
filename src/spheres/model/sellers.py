"""What sellers do of their own: book spend, rank buyers, and the sellers' phase.

Sellers are few, so their work runs once for both engines. Each seller holds a
:class:`~spheres.model.strategies.Strategy` (``model.strategies[row]``); the functions here group
the sellers by lever or sensing method and ask those objects what to do. Marketing spends from
each seller's budget (``rules.budget``: a share of its cash, so a seller cannot spend what it
does not have and markets less as it grows poor).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from spheres.model import draws as dr
from spheres.model import measures, rules
from spheres.model.market import Market
from spheres.model.state import NO_SOURCE

# How sponsors and seeders rank buyers: a key per buyer, highest first (equal keys in a random
# order, see top_k).
TARGETING: dict[str, Callable[[Market], np.ndarray]] = {
    "score": lambda model: measures.klout_score(model),
    "degree": lambda model: model.degree.astype(float),
    "followers": lambda model: model.buyers_state.n_followers.astype(float),
    "random": lambda model: model.rng.random(model.n_buyers),
    "true_influence": lambda model: model.buyers_state.caused.astype(float),
}


def campaign_step(model: Market) -> bool:
    """Contracts are renewed and seeding rounds given every ``campaign_period`` steps."""
    return (model.steps - 1) % model.cfg.sellers.campaign_period == 0


def top_k(key: np.ndarray, tie: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the highest key, best first (``rules.top_k``).

    ``key`` and ``tie`` hold one entry per buyer; ``tie`` the random keys that order equals.
    """
    return candidates[rules.top_k(key[candidates], tie[candidates], k)]


def spend(model: Market, row: int, cents: int) -> None:
    """Book marketing spend of seller ``row`` against its budget and costs."""
    m = model.sellers_state
    m.budget[row] -= cents
    m.marketing[row] += cents
    m.costs[row] += cents


# -- phase 9: the sellers' phase ----------------------------------------------------------------
def act(model: Market) -> None:
    """Book fixed costs; sense expectations and adapt the offering; book cash; exit; enter."""
    cfg, m, n = model.cfg, model.sellers_state, model.n_buyers
    m.costs[m.alive] += cfg.sellers.fixed_cost_per_buyer * n
    z = model.rng.standard_normal((model.n_slots, model.dims))
    if cfg.mechanisms.adaptation:
        sense_and_adapt(model, z)
    m.cash += m.revenue - m.costs
    model.revenue_total += int(m.revenue.sum())
    if cfg.mechanisms.exit:
        for seller in np.flatnonzero(m.alive & (m.cash < 0)):
            close(model, int(seller))
    if cfg.mechanisms.entry:
        maybe_enter(model)
    known = m.aware_count / n >= cfg.market.knowledge_share
    m.knowledge_step[m.exists & (m.knowledge_step < 0) & known] = model.steps


def sense_and_adapt(model: Market, z: np.ndarray) -> None:
    """Each alive seller senses by its method, and adapts to what it sensed.

    ``z`` holds one normal draw per seller and dimension. A seller that sensed something updates
    the fit it believes it has and moves its offering ``adapt_rate`` of the way toward the
    sensed expectation, paying for the distance moved.
    """
    cfg, m = model.cfg, model.sellers_state
    alive = np.flatnonzero(m.alive)
    groups: dict[type, list[int]] = {}
    for row in alive:
        groups.setdefault(type(model.strategies[row].sensing), []).append(int(row))
    for rows_list in groups.values():
        rows = np.array(rows_list, dtype=np.int64)
        method = model.strategies[rows[0]].sensing
        sensed = method.sense(model, rows)
        got = sensed.count > 0
        rows, target = rows[got], sensed.target[got] + method.noise(cfg) * z[rows[got]]
        if rows.size == 0:
            continue
        m.believed_fit[rows] = sensed.fit[got]
        old = m.offering[rows]
        m.offering[rows] = rules.adapt(old, target, cfg.sellers.adapt_rate)
        moved = np.linalg.norm(m.offering[rows] - old, axis=1)
        m.costs[rows] += rules.adapt_cost(cfg.sellers.adapt_cost_per_buyer, model.n_buyers, moved)


def close(model: Market, seller: int) -> None:
    """Seller ``seller`` leaves the market; its contracts end."""
    m, b = model.sellers_state, model.buyers_state
    m.alive[seller] = False
    m.exit_step[seller] = model.steps
    chosen = model.contracts.pop(seller, None)
    if chosen is not None:
        b.sponsor_of[chosen] = -1
    model.step_counts["exits"] += 1
    model.events["exits"] += 1


def maybe_enter(model: Market) -> None:
    """With probability ``entry_rate`` a new seller enters ``entry_lead`` ahead of the frontier."""
    m, s = model.sellers_state, model.cfg.sellers
    u = model.rng.random()
    z = model.rng.standard_normal(model.dims)
    free = np.flatnonzero(~m.exists)
    if u >= s.entry_rate or free.size == 0:
        return
    offer = (model.frontier + s.entry_lead * model.direction
             + 0.5 * model.cfg.market.taste_spread * z)
    row = int(free[0])
    model.open_seller(row, s.entry_strategy, offer, step=model.steps)
    known = np.flatnonzero(dr.initial_awareness(model, model.n_buyers))
    model.memory.make_aware(known, np.full(known.size, row), np.int32(-1), NO_SOURCE, phase=9)
    model.step_counts["entries"] += 1
    model.events["entries"] += 1
