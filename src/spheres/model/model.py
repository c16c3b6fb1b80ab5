"""The market model: builds the state and the agents, and runs the ten phases of a step in order."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from spheres.config import SpheresConfig, make_config, validate
from spheres.model import draws as dr
from spheres.model import measures
from spheres.model.agents import AgentEngine, Buyer, Influencer, Seller
from spheres.model.currency import Ledger
from spheres.model.network import (
    build_network,
    choose_influencers,
    follower_edges,
    network_notes,
)
from spheres.model.state import (
    INFLUENCER_SRC,
    PEER,
    Follows,
    empty_buyers,
    empty_sellers,
)
from spheres.model.strategies import SENSING, STRATEGIES, strategy_index
from spheres.model.vector import VectorEngine

log = logging.getLogger(__name__)

ENGINES = {"vector": VectorEngine, "agent": AgentEngine}

# How a sponsoring seller ranks the influencers it contracts: a key per buyer, highest first.
TARGETING: dict[str, Callable[[MarketModel], np.ndarray]] = {
    "score": lambda model: measures.klout_score(model),
    "degree": lambda model: (model.degree + model.buyers_state.n_followers).astype(float),
    "random": lambda model: model.rng.random(model.n_buyers),
    "true_influence": lambda model: model.buyers_state.caused.astype(float),
}


class MarketModel(mesa.Model):
    """Buyers, influencers and sellers on a social network, trading goods and social currency.

    ``MarketModel(config)`` or ``MarketModel(n_buyers=500, **{"market.p_need": 0.2})``. The state
    lives in arrays (``buyers_state``, ``sellers_state``); ``Buyer``, ``Influencer`` and ``Seller``
    agents are views of their rows. Buyer agents are created on first use of :attr:`buyers`
    (always by the per-agent engine), so that large vectorised runs do not pay for them.
    """

    def __init__(self, config: SpheresConfig | None = None, **overrides: Any) -> None:
        cfg = validate(config) if config is not None else make_config(**overrides)
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.n_buyers = cfg.n_buyers
        self.dims = cfg.market.dims
        n_start = sum(cfg.sellers.mix.values())
        self.n_slots = n_start + (cfg.sellers.max_entrants if cfg.mechanisms.entry else 0)
        self.n_start_sellers = n_start
        classes = list(STRATEGIES.values())
        self._levers = {lever: np.array([getattr(c, lever) for c in classes])
                        for lever in ("advertises", "sponsors", "cocreates")}
        self._sensing = np.array([SENSING.index(c.sensing) for c in classes])
        self._build_network()
        self._build_sellers()
        self._build_buyers()
        self.ledger = Ledger(self.buyers_state.currency, self.buyers_state.is_influencer,
                             keep_entries=cfg.output.ledger_entries)
        self.contracts: dict[int, np.ndarray] = {}
        self.purchases = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        self.step_counts: dict[str, int] = {}
        self.metric_rows: list[dict[str, Any]] = []
        self.seller_rows: list[dict[str, np.ndarray]] = []
        self.events: dict[str, int] = {"exits": 0, "entries": 0, "promotions": 0}
        self.revenue_total = 0
        self._views: list[Buyer] | None = None
        self._buyer_set: mesa.agent.AgentSet | None = None
        self.engine = ENGINES[cfg.engine]()
        self.engine.attach(self)

    # -- set-up ---------------------------------------------------------------------------------
    def _build_network(self) -> None:
        net = self.cfg.network
        seed = int(self.rng.integers(2**62))
        self.graph, self.network_facts = build_network(net, self.n_buyers, seed)
        for key, value in self.network_facts.items():
            if value:
                log.info("network %s: %s", key, value)
        for note in network_notes(self.network_facts, net, self.n_buyers):
            log.warning(note)
        self.degree = self.graph.degree()

    def _build_sellers(self) -> None:
        cfg, d = self.cfg, self.dims
        self.frontier = np.zeros(d)
        direction = self.rng.standard_normal(d)
        self.direction = direction / np.linalg.norm(direction)
        self.sellers_state = empty_sellers(self.n_slots, d, cfg.sellers.sense_delay)
        names = [name for name, count in cfg.sellers.mix.items() for _ in range(count)]
        offers = self.rng.standard_normal((len(names), d)) * cfg.market.taste_spread
        for row, (name, offer) in enumerate(zip(names, offers, strict=True)):
            self._open_seller(row, name, offer, step=0)

    def _open_seller(self, row: int, strategy: str, offering: np.ndarray, step: int) -> None:
        m, cfg = self.sellers_state, self.cfg
        m.exists[row] = m.alive[row] = True
        m.strategy[row] = strategy_index(strategy)
        m.offering[row] = offering
        m.price[row] = cfg.sellers.price
        m.cash[row] = cfg.sellers.initial_cash_per_buyer * self.n_buyers
        m.entry_step[row] = step
        Seller(self, row)

    def _build_buyers(self) -> None:
        cfg, n, d = self.cfg, self.n_buyers, self.dims
        b = empty_buyers(n, self.n_start_sellers, d)
        self.buyers_state = b
        b.taste[:] = self.rng.standard_normal((n, d)) * cfg.market.taste_spread
        b.expect[:] = self.frontier + b.taste
        b.trust[:] = (cfg.market.trust_peers, cfg.market.trust_influencers,
                      cfg.market.trust_sellers)
        b.belief[:] = cfg.market.belief_prior
        start = self.n_start_sellers
        known = self.rng.random((n, start), dtype=np.float32) < cfg.market.initial_awareness
        b.aware[:, :start] = known
        b.aware_time[:, :start][known] = 0
        self.sellers_state.aware_count[:start] = known.sum(axis=0)
        self.follows = Follows(np.zeros(0, dtype=np.int64), n)
        if cfg.mechanisms.influencers and cfg.network.influencer_share > 0:
            infl = choose_influencers(self.graph, cfg.network.influencer_share,
                                      cfg.network.influencer_selection, self.rng)
            b.is_influencer[infl] = True
            src, dst = follower_edges(n, infl, cfg.network.followers_per_influencer, self.rng)
            b.n_followers[:] = np.bincount(self.follows.add(np.asarray(src), np.asarray(dst)),
                                           minlength=n)

    @property
    def buyers(self) -> mesa.agent.AgentSet:
        """The buyer agents (influencers included), created on first use."""
        if self._views is None:
            infl = self.buyers_state.is_influencer
            self._views = [(Influencer if infl[row] else Buyer)(self, row)
                           for row in range(self.n_buyers)]
        if self._buyer_set is None:
            self._buyer_set = mesa.agent.AgentSet(self._views, random=self.random)
        return self._buyer_set

    def buyer_agent(self, row: int) -> Buyer:
        """The agent viewing buyer ``row``."""
        if self._views is None:
            self.buyers  # noqa: B018 - creates the views
        assert self._views is not None
        return self._views[row]

    def _promote(self, rows: np.ndarray) -> None:
        """Buyers ``rows`` gained enough followers to become influencers."""
        self.buyers_state.is_influencer[rows] = True
        self.step_counts["promotions"] += int(rows.size)
        self.events["promotions"] += int(rows.size)
        if self._views is not None:
            for row in rows:
                self._views[row].remove()
                self._views[row] = Influencer(self, int(row))
            self._buyer_set = None

    @property
    def sellers(self) -> mesa.agent.AgentSet:
        """The seller agents, in row order."""
        return self.agents_by_type[Seller]

    # -- helpers shared by both engines ---------------------------------------------------------
    @property
    def n_used(self) -> int:
        """Seller slots in use (initial sellers and entrants so far, alive or not): the width of
        the per-(buyer, seller) arrays."""
        return self.buyers_state.width

    def reputation_of(self, rows: np.ndarray) -> np.ndarray:
        """Weight multiplier of advice from ``rows``: balance relative to the mean, capped."""
        mech = self.cfg.mechanisms
        if not (mech.reputation and mech.currency):
            return np.ones(rows.shape)
        mean = self.buyers_state.currency.sum() / self.n_buyers
        rep = (1.0 + np.take(self.buyers_state.currency, rows)) / (1.0 + mean)
        return np.minimum(rep, self.cfg.market.reputation_cap)

    def make_aware(self, rows: np.ndarray, sellers: np.ndarray, sources: np.ndarray, kind: int,
                   phase: int) -> None:
        """Record that buyers ``rows`` learned of ``sellers`` from ``sources`` (of ``kind``)."""
        if rows.size == 0:
            return
        b = self.buyers_state
        cells = b.cells(rows, sellers)
        b.aware.reshape(-1)[cells] = True
        b.introducer.reshape(-1)[cells] = sources
        b.intro_kind.reshape(-1)[cells] = kind
        b.aware_time.reshape(-1)[cells] = 10 * self.steps + phase
        self.sellers_state.aware_count += np.bincount(sellers, minlength=self.n_slots)
        if kind in (PEER, INFLUENCER_SRC):
            np.add.at(b.informed, sources, 1)

    def post_topics(self, posters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each poster's topic (its sponsor, else the known seller it rates best, else -1), the
        fit it claims, and the weight factor its followers give it."""
        b, m, s = self.buyers_state, self.sellers_state, self.cfg.sellers
        sponsor = b.sponsor_of[posters]
        sponsored = sponsor >= 0
        sponsored[sponsored] = m.alive[sponsor[sponsored]]
        known = b.aware[posters] & m.alive[: self.n_used]
        best = np.argmax(np.where(known, b.belief[posters], -np.inf), axis=1)
        topic = np.where(sponsored, sponsor, np.where(known.any(axis=1), best, -1))
        claim = b.belief[posters, np.maximum(topic, 0)]
        claim = np.where(sponsored, np.maximum(claim, s.sponsored_claim), claim)
        factor = self.cfg.market.influencer_weight * b.credibility[posters]
        if s.disclose_sponsorship:
            factor = np.where(sponsored, factor * s.disclosure_discount, factor)
        return topic.astype(np.int64), claim, factor

    def advertisers(self) -> np.ndarray:
        """Rows of the alive sellers whose strategy advertises."""
        return self._has("advertises")

    def _has(self, lever: str) -> np.ndarray:
        """Rows of the alive sellers whose strategy uses ``lever`` (a Strategy flag)."""
        m = self.sellers_state
        return np.flatnonzero(m.alive & self._levers[lever][m.strategy])

    # -- one step -------------------------------------------------------------------------------
    def step(self) -> None:
        """Run the ten phases in their fixed order (see docs/ODD.md, process overview)."""
        self.ledger.step = self.steps
        self._start_step()
        self.drift()  # 1. the frontier moves; expectations follow
        self.needs()  # 2. who needs something this step
        self.conversations()  # 3. buyers with a need ask their contacts
        self.influencer_posts()  # 4. influencers post to their followers
        self.advertising()  # 5. advertisers reach buyers
        self.purchase()  # 6. buyers with a need choose a seller or nothing
        self.experience()  # 7. buyers learn the true fit and reward advice that helped
        self.currency_economy()  # 8. sponsorship, co-creation rewards, cash-outs, decay, audiences
        self.sellers_act()  # 9. book revenue and costs, sense, adapt, exit, entry
        self.observe()  # 10. record the step's measures

    def _start_step(self) -> None:
        m = self.sellers_state
        m.revenue[:] = 0
        m.costs[:] = 0
        m.sales[:] = 0
        m.cust_sum[:] = 0.0
        m.talk_sum[:] = 0.0
        m.talk_n[:] = 0
        self.step_counts = {"exits": 0, "entries": 0, "promotions": 0}

    def drift(self) -> None:
        """Phase 1: the frontier of expectations moves, and buyers' expectations follow it."""
        if not self.cfg.mechanisms.drift:
            return
        z = dr.drift(self)
        mk = self.cfg.market
        self.frontier = self.frontier + mk.frontier_speed * self.direction + mk.frontier_noise * z
        self.engine.drift(self)

    def needs(self) -> None:
        """Phase 2: each buyer has a need with probability ``p_need``."""
        self.engine.needs(self, dr.needs(self))

    def conversations(self) -> None:
        """Phase 3: word of mouth among buyers with a need and their contacts."""
        d = dr.conversations(self)
        self.engine.conversations(self, d)
        m = self.sellers_state
        su = self.n_used
        aware = np.take(self.buyers_state.aware, d.rows, axis=0)
        m.talk_sum[:su] = aware.T.astype(float) @ np.take(self.buyers_state.expect, d.rows, axis=0)
        m.talk_n[:su] = aware.sum(axis=0)

    def influencer_posts(self) -> None:
        """Phase 4: influencers post about one seller to their followers."""
        if not self.cfg.mechanisms.influencers:
            return
        self.engine.posts(self, dr.posts(self))

    def advertising(self) -> None:
        """Phase 5: each advertising seller reaches each buyer with probability ``p_ad``."""
        if not self.cfg.mechanisms.advertising:
            return
        self.engine.advertising(self, dr.advertising(self))

    def purchase(self) -> None:
        """Phase 6: buyers with a need choose among known sellers (logit) or buy nothing."""
        rows = np.flatnonzero(self.buyers_state.need)
        choice = self.engine.purchase(self, rows, dr.purchase(self, rows))
        bought = choice >= 0
        rows, sellers = rows[bought], choice[bought]
        self.purchases = (rows, sellers)
        b, m = self.buyers_state, self.sellers_state
        price = m.price[sellers]
        b.spend_by.reshape(-1)[b.cells(rows, sellers)] += price  # one purchase per buyer
        b.purchases[rows] += 1
        np.add.at(m.revenue, sellers, price)
        m.sales += np.bincount(sellers, minlength=self.n_slots)
        for dim in range(self.dims):
            m.cust_sum[:, dim] = np.bincount(sellers, weights=b.expect[rows, dim],
                                             minlength=self.n_slots)
        slot = self.steps % (self.cfg.sellers.sense_delay + 1)
        m.hist_sum[slot] = m.cust_sum
        m.hist_n[slot] = m.sales

    def experience(self) -> None:
        """Phase 7: buyers who bought learn the true fit; advice that helped is rewarded."""
        rows, sellers = self.purchases
        self.engine.experience(self, rows, sellers, dr.experience(self, rows.size))

    def currency_economy(self) -> None:
        """Phase 8: sponsorship and co-creation (money into currency), cash-outs and decay; then
        audiences grow in proportion to the attention earned (balance plus followers)."""
        if self.cfg.mechanisms.currency:
            self._sponsorship()
            self._cocreation()
            self.engine.economy(self)
        self._grow_audiences()

    def _sponsorship(self) -> None:
        b, m, s = self.buyers_state, self.sellers_state, self.cfg.sellers
        pts = s.sponsor_fee // self.cfg.currency.cents_per_point
        if pts <= 0 or s.sponsor_k == 0:
            return
        sponsors = self._has("sponsors")
        if (self.steps - 1) % s.sponsor_period == 0:
            b.sponsor_of[:] = -1
            self.contracts = {}
            free = b.is_influencer.copy()
            key = self._targeting_key()
            for seller in sponsors:
                cand = np.flatnonzero(free)
                order = np.lexsort((cand, -key[cand]))
                chosen = np.sort(cand[order[: s.sponsor_k]])
                free[chosen] = False
                b.sponsor_of[chosen] = seller
                self.contracts[int(seller)] = chosen
        for seller in sponsors:
            chosen = self.contracts.get(int(seller), np.zeros(0, dtype=np.int64))
            if chosen.size:
                self.ledger.convert_in(np.full(chosen.size, seller), chosen, pts)
                m.costs[seller] += pts * self.cfg.currency.cents_per_point * chosen.size

    def _targeting_key(self) -> np.ndarray:
        return TARGETING[self.cfg.sellers.sponsor_targeting](self)

    def _cocreation(self) -> None:
        m, k = self.sellers_state, self.cfg.currency
        reward = self.cfg.sellers.cocreate_reward
        if reward <= 0:
            return
        rows, sellers = self.purchases
        for seller in self._has("cocreates"):
            cust = rows[sellers == seller]
            if cust.size:
                self.ledger.convert_in(np.full(cust.size, seller), cust, reward)
                m.costs[seller] += reward * k.cents_per_point * cust.size

    def _grow_audiences(self) -> None:
        mech, b = self.cfg.mechanisms, self.buyers_state
        count = round(self.cfg.market.audience_growth * self.n_buyers)
        if not (mech.audience_growth and mech.influencers) or count == 0:
            return
        weight = b.currency + b.n_followers
        total = int(weight.sum())
        if total == 0:
            return
        u, followers = dr.audience_growth(self, count)
        targets = np.searchsorted(np.cumsum(weight), u * total, side="right")
        followed = self.follows.add(targets, followers)
        if followed.size == 0:
            return
        np.add.at(b.n_followers, followed, 1)
        promoted = np.flatnonzero(~b.is_influencer & (b.n_followers >= self.cfg.market.promote_at))
        if promoted.size:
            self._promote(promoted)

    def sellers_act(self) -> None:
        """Phase 9: book revenue and costs; sense expectations, adapt, exit, enter."""
        cfg, m, n = self.cfg, self.sellers_state, self.n_buyers
        m.costs[m.alive] += cfg.sellers.fixed_cost_per_buyer * n
        if cfg.mechanisms.adaptation:
            z = self.rng.standard_normal((self.n_slots, self.dims))
            target, sensed = self._sensed(z)
            rows = np.flatnonzero(sensed)
            old = m.offering[rows]
            m.offering[rows] = old + cfg.sellers.adapt_rate * (target[rows] - old)
            moved = np.linalg.norm(m.offering[rows] - old, axis=1)
            m.costs[rows] += np.rint(cfg.sellers.adapt_cost_per_buyer * n * moved).astype(np.int64)
        m.cash += m.revenue - m.costs
        self.revenue_total += int(m.revenue.sum())
        if cfg.mechanisms.exit:
            for seller in np.flatnonzero(m.alive & (m.cash < 0)):
                self._close_seller(int(seller))
        if cfg.mechanisms.entry:
            self._maybe_enter()
        reach = m.aware_count / n
        known = reach >= self.cfg.market.knowledge_share
        m.knowledge_step[m.exists & (m.knowledge_step < 0) & known] = self.steps

    def _sensed(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each seller senses expectations to be, by its strategy's sensing method, and
        which alive sellers sensed anything this step (``z``: one normal draw per seller)."""
        m, s = self.sellers_state, self.cfg.sellers
        method = self._sensing[m.strategy]
        total = np.zeros_like(m.offering)
        count = np.zeros(self.n_slots, dtype=np.int64)
        noise = np.zeros(self.n_slots)
        late = self.steps - s.sense_delay
        for name, has, sums, counts, sd in (
            ("sales", late >= 1, m.hist_sum[late % (s.sense_delay + 1)],
             m.hist_n[late % (s.sense_delay + 1)], s.sense_noise),
            ("conversations", True, m.talk_sum, m.talk_n, s.listen_noise),
            ("customers", True, m.cust_sum, m.sales, 0.0),
        ):
            mine = method == SENSING.index(name)
            if has and mine.any():
                total[mine], count[mine], noise[mine] = sums[mine], counts[mine], sd
        sensed = m.alive & (count > 0)
        target = total / np.maximum(count, 1)[:, None] + noise[:, None] * z
        return target, sensed

    def _close_seller(self, seller: int) -> None:
        m, b = self.sellers_state, self.buyers_state
        m.alive[seller] = False
        m.exit_step[seller] = self.steps
        chosen = self.contracts.pop(seller, None)
        if chosen is not None:
            b.sponsor_of[chosen] = -1
        self.step_counts["exits"] += 1
        self.events["exits"] += 1

    def _maybe_enter(self) -> None:
        m, s = self.sellers_state, self.cfg.sellers
        u = self.rng.random()
        z = self.rng.standard_normal(self.dims)
        free = np.flatnonzero(~m.exists)
        if u >= s.p_entry or free.size == 0:
            return
        offer = (self.frontier + s.entry_lead * self.direction
                 + 0.5 * self.cfg.market.taste_spread * z)
        row = int(free[0])
        b = self.buyers_state
        b.widen(row + 1, self.cfg.market.belief_prior)
        self._open_seller(row, s.entry_strategy, offer, step=self.steps)
        known = np.flatnonzero(self.rng.random(self.n_buyers, dtype=np.float32)
                               < self.cfg.market.initial_awareness)
        b.aware[known, row] = True
        b.aware_time[known, row] = 10 * self.steps + 9
        m.aware_count[row] = known.size
        self.step_counts["entries"] += 1
        self.events["entries"] += 1

    def observe(self) -> None:
        """Phase 10: record the step's measures and close the ledger's step."""
        row, sellers = measures.observe(self)
        self.metric_rows.append(row)
        self.seller_rows.append(sellers)
        self.ledger.close_step(self.steps)

    # -- results --------------------------------------------------------------------------------
    def results(self) -> Any:
        """The run's tables and summary as a :class:`spheres.simulate.Results`."""
        return measures.collect(self)
