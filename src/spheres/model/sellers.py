"""What sellers do: their marketing levers' actions, and the sellers' phase (book, sense, adapt,
exit, enter).

Sellers are few, so their phase runs once for both engines. Each seller holds a
:class:`~spheres.model.strategies.Strategy` (``model.strategies[row]``); the functions here ask
those objects what to do and spend from each seller's marketing budget (``rules.budget``: a share
of its cash, so a seller cannot spend what it does not have and markets less as it grows poor).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from spheres.model import measures, rules
from spheres.model.state import INFLUENCER_SRC

if TYPE_CHECKING:
    from spheres.model.model import MarketModel

# How sponsors and seeders rank buyers: a key per buyer, highest first (ties: lowest row first).
TARGETING: dict[str, Callable[[MarketModel], np.ndarray]] = {
    "score": lambda model: measures.klout_score(model),
    "degree": lambda model: model.degree.astype(float),
    "followers": lambda model: model.buyers_state.n_followers.astype(float),
    "random": lambda model: model.rng.random(model.n_buyers),
    "true_influence": lambda model: model.buyers_state.caused.astype(float),
}


@dataclass
class Trials:
    """Free trials of this step: the seller and the buyer of each, and one normal each."""

    sellers: np.ndarray
    buyers: np.ndarray
    noise: np.ndarray


def with_lever(model: MarketModel, lever: str) -> np.ndarray:
    """Rows of the alive sellers whose marketing has ``lever`` (``advertises``, ``sponsors``,
    ``cocreates`` or ``seeds``)."""
    m = model.sellers_state
    return np.array([row for row in np.flatnonzero(m.alive)
                     if getattr(model.strategies[row].marketing, lever)], dtype=np.int64)


def campaign_step(model: MarketModel) -> bool:
    """Contracts are renewed and seeding rounds given every ``campaign_period`` steps."""
    return (model.steps - 1) % model.cfg.sellers.campaign_period == 0


def top_k(key: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates with the highest key (lowest row first on ties), ascending."""
    order = np.lexsort((candidates, -key[candidates]))
    return np.sort(candidates[order[:k]])


def spend(model: MarketModel, row: int, cents: int) -> None:
    """Book marketing spend of seller ``row`` against its budget and costs."""
    m = model.sellers_state
    m.budget[row] -= cents
    m.marketing[row] += cents
    m.costs[row] += cents


# -- phase 5: trials ----------------------------------------------------------------------------
def trials(model: MarketModel) -> Trials:
    """Free trials given this step: on campaign steps each seeding seller picks up to ``seed_k``
    buyers not yet aware of it, by the targeting rule, as far as its budget pays."""
    cfg, b = model.cfg, model.buyers_state
    none = Trials(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if not (cfg.mechanisms.seeding and campaign_step(model)):
        return none
    seeders = with_lever(model, "seeds")
    if seeders.size == 0 or cfg.sellers.seed_k == 0:
        return none
    key = TARGETING[cfg.sellers.targeting](model)
    sellers, buyers = [], []
    for s in seeders:
        n = rules.paid_prefix(cfg.sellers.seed_k, int(model.sellers_state.budget[s]),
                              cfg.sellers.trial_cost)
        chosen = top_k(key, np.flatnonzero(~b.aware[:, s]), n)
        spend(model, int(s), cfg.sellers.trial_cost * chosen.size)
        sellers.append(np.full(chosen.size, s))
        buyers.append(chosen)
    seller_arr, buyer_arr = np.concatenate(sellers), np.concatenate(buyers)
    return Trials(seller_arr, buyer_arr, model.rng.standard_normal(buyer_arr.size))


# -- phase 8: sponsorship, co-creation, follower shares -----------------------------------------
def sponsorship(model: MarketModel) -> None:
    """On campaign steps sponsors contract up to ``sponsor_k`` buyers with an audience each (by
    the targeting rule, sponsors in row order); every step each pays its contracted influencers
    the fee in points, as far as its budget pays: those it cannot pay leave the contract."""
    cfg, b = model.cfg, model.buyers_state
    s, cpp = cfg.sellers, cfg.currency.cents_per_point
    pts = s.sponsor_fee // cpp
    if not cfg.mechanisms.sponsorship or pts <= 0 or s.sponsor_k == 0:
        return
    sponsors = with_lever(model, "sponsors")
    if campaign_step(model):
        b.sponsor_of[:] = -1
        model.contracts = {}
        if sponsors.size:
            free = b.n_followers > 0
            key = TARGETING[s.targeting](model)
            for seller in sponsors:
                chosen = top_k(key, np.flatnonzero(free), s.sponsor_k)
                free[chosen] = False
                b.sponsor_of[chosen] = seller
                model.contracts[int(seller)] = chosen
    for seller in sponsors:
        chosen = model.contracts.get(int(seller), np.zeros(0, dtype=np.int64))
        paid = rules.paid_prefix(chosen.size, int(model.sellers_state.budget[seller]), pts * cpp)
        if paid < chosen.size:
            b.sponsor_of[chosen[paid:]] = -1
            model.contracts[int(seller)] = chosen = chosen[:paid]
        if chosen.size:
            model.ledger.convert_in(np.full(chosen.size, seller), chosen, pts, "sponsorship")
            spend(model, int(seller), pts * cpp * chosen.size)


def follower_shares(model: MarketModel) -> None:
    """A sponsored influencer passes ``follower_share`` points to each follower who bought its
    sponsor this step on its post, as far as its balance covers (buyers in row order)."""
    cfg, b = model.cfg, model.buyers_state
    amount = cfg.currency.follower_share
    if not cfg.mechanisms.follower_share or amount <= 0:
        return
    rows, sellers = model.purchases
    cells = b.cells(rows, sellers)
    by_post = b.intro_kind.reshape(-1)[cells] == INFLUENCER_SRC
    who = b.introducer.reshape(-1)[cells].astype(np.int64)
    acted = by_post & (b.sponsor_of[np.maximum(who, 0)] == sellers) & (who >= 0)
    payers, takers = who[acted], rows[acted]
    ok = rules.covered(payers, amount, b.currency)
    model.ledger.transfer(payers[ok], takers[ok], amount, "follower_share")


def cocreation(model: MarketModel) -> None:
    """A co-creating seller gives ``cocreate_reward`` points to each of this step's customers who
    gave it feedback, as far as its budget pays (customers in row order)."""
    cfg = model.cfg
    reward, cpp = cfg.sellers.cocreate_reward, cfg.currency.cents_per_point
    if not cfg.mechanisms.cocreation or reward <= 0:
        return
    rows, sellers = model.purchases
    gave = model.feedback
    for seller in with_lever(model, "cocreates"):
        contributors = rows[(sellers == seller) & gave]
        paid = rules.paid_prefix(contributors.size, int(model.sellers_state.budget[seller]),
                                 reward * cpp)
        if paid:
            model.ledger.convert_in(np.full(paid, seller), contributors[:paid], reward,
                                    "cocreation")
            spend(model, int(seller), reward * cpp * paid)


# -- phase 9: the sellers' phase ----------------------------------------------------------------
def act(model: MarketModel) -> None:
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


def sense_and_adapt(model: MarketModel, z: np.ndarray) -> None:
    """Each alive seller senses by its method (``z``: one normal draw per seller and dimension);
    a seller that sensed something updates the fit it believes it has and moves its offering
    ``adapt_rate`` of the way toward the sensed expectation, paying for the distance moved."""
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
        m.offering[rows] = old + cfg.sellers.adapt_rate * (target - old)
        moved = np.linalg.norm(m.offering[rows] - old, axis=1)
        m.costs[rows] += np.rint(cfg.sellers.adapt_cost_per_buyer * model.n_buyers
                                 * moved).astype(np.int64)


def close(model: MarketModel, seller: int) -> None:
    """Seller ``seller`` leaves the market; its contracts end."""
    m, b = model.sellers_state, model.buyers_state
    m.alive[seller] = False
    m.exit_step[seller] = model.steps
    chosen = model.contracts.pop(seller, None)
    if chosen is not None:
        b.sponsor_of[chosen] = -1
    model.step_counts["exits"] += 1
    model.events["exits"] += 1


def maybe_enter(model: MarketModel) -> None:
    """With probability ``p_entry`` a new seller enters ``entry_lead`` ahead of the frontier."""
    m, s = model.sellers_state, model.cfg.sellers
    u = model.rng.random()
    z = model.rng.standard_normal(model.dims)
    free = np.flatnonzero(~m.exists)
    if u >= s.p_entry or free.size == 0:
        return
    offer = (model.frontier + s.entry_lead * model.direction
             + 0.5 * model.cfg.market.taste_spread * z)
    row = int(free[0])
    b = model.buyers_state
    b.widen(row + 1, model.cfg.market.belief_prior)
    model.open_seller(row, s.entry_strategy, offer, step=model.steps)
    known = np.flatnonzero(model.rng.random(model.n_buyers, dtype=np.float32)
                           < model.cfg.market.initial_awareness)
    b.aware[known, row] = True
    b.aware_time[known, row] = 10 * model.steps + 9
    m.aware_count[row] = known.size
    model.step_counts["entries"] += 1
    model.events["entries"] += 1
