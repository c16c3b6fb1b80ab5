"""The market model: builds the state and the agents, and runs the ten phases of a step in order."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import mesa
import numpy as np

from spheres.errors import ConfigError
from spheres.model import draws as dr
from spheres.model import measures, rules, sellers
from spheres.model.agents import Buyer, Influencer, Seller
from spheres.model.currency import Ledger
from spheres.model.engine import ENGINES, Engine
from spheres.model.network import (
    build_network,
    choose_influencers,
    follower_edges,
    network_notes,
)
from spheres.model.state import (
    INFLUENCER_SRC,
    NO_SOURCE,
    PEER,
    Follows,
    empty_buyers,
    empty_sellers,
)
from spheres.model.strategies import Conversations, Strategy, build_strategy, strategy_index
from spheres.model.vector import group_max
from spheres.schema import SpheresConfig, is_validated

log = logging.getLogger(__name__)

# Buyers handled at once where a phase or the set-up could otherwise build temporaries of
# buyers x sellers (initial awareness, ranking what overflows memory).
ROWS_AT_ONCE = 65_536

def _groups(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For ``rows`` sorted ascending: the distinct rows, how often each occurs, and for every
    entry the index of its row among them and its rank within that row's run."""
    owners, start, count = np.unique(rows, return_index=True, return_counts=True)
    group = np.repeat(np.arange(owners.size), count)
    return owners, count, group, np.arange(rows.size) - start[group]


class MarketModel(mesa.Model):
    """Buyers, influencers and sellers on a social network, trading goods and social currency.

    ``MarketModel(spheres.make_config(n_buyers=500, **{"market.p_need": 0.2}))``: the model
    trusts the validated config it is given and refuses one that was not validated. The state
    lives in arrays (``buyers_state``, ``sellers_state``); ``Buyer``, ``Influencer`` and ``Seller``
    agents are views of their rows. Buyer agents are created on first use of :attr:`buyers`
    (always by the per-agent engine), so that large vectorised runs do not pay for them.
    """

    def __init__(self, config: SpheresConfig) -> None:
        if not is_validated(config):
            raise ConfigError("MarketModel takes a validated config: build it with "
                              "spheres.make_config(...) or spheres.config.validate(config)")
        cfg = config
        super().__init__(rng=cfg.seed)
        self.cfg = cfg
        self.n_buyers = cfg.n_buyers
        self.dims = cfg.market.dims
        n_start = sum(cfg.sellers.mix.values())
        self.n_slots = n_start + (cfg.sellers.max_entrants if cfg.mechanisms.entry else 0)
        self.n_start_sellers = n_start
        self.strategies: list[Strategy | None] = [None] * self.n_slots
        self._build_network()
        self._build_sellers()
        self._build_buyers()
        self.ledger = Ledger(self.buyers_state.currency, self.buyers_state.is_influencer,
                             keep_entries=cfg.output.ledger_entries)
        self.contracts: dict[int, np.ndarray] = {}
        self.purchases = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        self.feedback = np.zeros(0, dtype=bool)
        self.paid = np.zeros(0, dtype=np.int64)
        self.step_counts: dict[str, int] = {}
        self.promoted_now = np.zeros(0, dtype=np.int64)
        self.metric_rows: list[dict[str, Any]] = []
        self.seller_rows: list[dict[str, np.ndarray]] = []
        self.events: dict[str, int] = {"exits": 0, "entries": 0, "promotions": 0}
        self.revenue_total = 0
        self.kept_means: dict[str, np.ndarray] = {}  # measures.buyer_means of unchanging arrays
        self._views: list[Buyer] | None = None
        self._buyer_set: mesa.agent.AgentSet | None = None
        self.engine: Engine = ENGINES[cfg.engine]()
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
        ranks = np.argsort(np.argsort(self.degree, kind="stable"), kind="stable")
        self.degree_percentile = (ranks + 1) / self.n_buyers

    def _build_sellers(self) -> None:
        cfg, d = self.cfg, self.dims
        self.frontier = np.zeros(d)
        direction = self.rng.standard_normal(d)
        self.direction = direction / np.linalg.norm(direction)
        self.sellers_state = empty_sellers(self.n_slots, d, cfg.sellers.sense_delay)
        names = [name for name, count in cfg.sellers.mix.items() for _ in range(count)]
        offers = self.rng.standard_normal((len(names), d)) * cfg.market.taste_spread
        for row, (name, offer) in enumerate(zip(names, offers, strict=True)):
            self.open_seller(row, name, offer, step=0)

    def open_seller(self, row: int, strategy: str, offering: np.ndarray, step: int) -> None:
        """Open seller slot ``row`` with a strategy preset, an offering and the initial cash."""
        m, cfg = self.sellers_state, self.cfg
        m.exists[row] = m.alive[row] = True
        m.strategy[row] = strategy_index(strategy)
        m.offering[row] = offering
        m.price[row] = cfg.sellers.price
        m.cash[row] = cfg.sellers.initial_cash_per_buyer * self.n_buyers
        m.believed_fit[row] = cfg.market.belief_prior
        m.entry_step[row] = step
        self.strategies[row] = build_strategy(strategy, cfg)
        Seller(self, row)

    def _build_buyers(self) -> None:
        cfg, n, d = self.cfg, self.n_buyers, self.dims
        # a column for every slot: entry copies nothing
        b = empty_buyers(n, self.n_slots, d, cfg.market.belief_prior, cfg.market.max_known)
        self.buyers_state = b
        b.taste[:] = self.rng.standard_normal((n, d)) * cfg.market.taste_spread
        b.expect[:] = self.frontier + b.taste
        b.drift_rate[:] = dr.drift_rates(self)
        b.trust[:] = (cfg.market.trust_peers, cfg.market.trust_influencers,
                      cfg.market.trust_sellers)
        start = self.n_start_sellers
        for lo in range(0, n, ROWS_AT_ONCE):  # drawn a block of buyers at a time: same draws
            hi = min(n, lo + ROWS_AT_ONCE)
            known = (self.rng.random((hi - lo, start), dtype=np.float32)
                     < cfg.market.initial_awareness)
            rows, sellers = np.nonzero(known)
            self.make_aware(rows + lo, sellers, np.int32(-1), NO_SOURCE, phase=0)
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
        self.buyers_state.promoted_step[rows] = self.steps
        self.promoted_now = rows
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
        """Seller slots (initial sellers and room for every entrant, whether it came or not):
        the width of the per-(buyer, seller) arrays. A slot not yet opened is a seller no
        buyer knows and that is not alive."""
        return self.buyers_state.width

    @property
    def n_opened(self) -> int:
        """Seller slots opened so far (initial sellers and entrants, alive or not)."""
        return int(np.count_nonzero(self.sellers_state.exists))

    def known_pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The alive sellers each of buyers ``rows`` knows, as (index into ``rows``, seller,
        flat memory index) triples, sorted by buyer then seller."""
        so = self.n_opened  # slots not yet opened are never known
        i, s, cell = self.buyers_state.known_of(rows, so)
        alive = self.sellers_state.alive
        if not alive[:so].all():
            live = alive[s]
            i, s, cell = i[live], s[live], cell[live]
        return i, s, cell

    def reputation_of(self, rows: np.ndarray) -> np.ndarray:
        """Weight multiplier of advice from ``rows``: balance relative to the mean, capped."""
        if not self.cfg.mechanisms.reputation:
            return np.ones(rows.shape)
        mean = self.buyers_state.currency.sum() / self.n_buyers
        rep = (1.0 + np.take(self.buyers_state.currency, rows)) / (1.0 + mean)
        return np.minimum(rep, self.cfg.market.reputation_cap)

    def make_aware(self, rows: np.ndarray, sellers: np.ndarray, sources: Any, kind: int,
                   phase: int, belief: np.ndarray | None = None) -> None:
        """Record that buyers ``rows`` learned of ``sellers`` they did not know (each pair once)
        from ``sources`` (of ``kind``), believing ``belief`` of them (else the prior). A buyer
        whose memory is full keeps the sellers it ranks highest (:meth:`_make_room`)."""
        if rows.size == 0:
            return
        b = self.buyers_state
        when = 10 * self.steps + phase
        capped = b.slot is not None
        if capped:
            sources = np.broadcast_to(sources, rows.shape)
            belief = np.broadcast_to(b.prior if belief is None else belief, rows.shape)
            keep = self._make_room(rows, sellers, belief, when)
            rows, sellers, sources, belief = rows[keep], sellers[keep], sources[keep], belief[keep]
        b.aware[rows, sellers] = True
        cells = b.cells(rows, sellers)
        if belief is not None:  # without a cap a cell not known holds the prior already
            b.belief.reshape(-1)[cells] = belief
        b.introducer.reshape(-1)[cells] = sources
        b.intro_kind.reshape(-1)[cells] = kind
        b.aware_time.reshape(-1)[cells] = when
        if capped:  # a reused cell starts afresh (without a cap none is reused)
            b.claim.reshape(-1)[cells] = 0.0
            b.claim_kind.reshape(-1)[cells] = 0
            b.spend_by.reshape(-1)[cells] = 0
        self.sellers_state.aware_count += np.bincount(sellers, minlength=self.n_slots)
        if kind in (PEER, INFLUENCER_SRC):
            np.add.at(b.informed, sources, 1)

    def believe(self, rows: np.ndarray, sellers: np.ndarray, belief: np.ndarray,
                sources: np.ndarray, kind: int, phase: int) -> None:
        """Set buyers' ``belief`` about ``sellers`` (each pair once); those they did not know
        they learn of from ``sources`` (:meth:`make_aware`), after the known ones are written."""
        b = self.buyers_state
        new = ~b.aware[rows, sellers]
        b.belief.reshape(-1)[b.cells(rows[~new], sellers[~new])] = belief[~new]
        self.make_aware(rows[new], sellers[new], sources[new], kind, phase=phase,
                        belief=belief[new])

    def _make_room(self, rows: np.ndarray, sellers: np.ndarray, belief: np.ndarray,
                   when: int) -> np.ndarray:
        """Give each newly learned (buyer, seller) pair a memory cell, or not; return which got
        one.

        A buyer keeps the ``max_known`` sellers it ranks highest among those it knew and those
        it just learned of, and forgets the rest: a seller that has left ranks below every
        alive one, then a lower belief ranks lower, then (on equal beliefs) the earlier learned,
        then the higher seller row. New pairs take free cells in seller order.
        """
        b, k = self.buyers_state, self.buyers_state.k
        assert b.slot is not None and b.held is not None
        key = rows * self.n_slots + sellers
        ordered = bool(np.all(key[1:] > key[:-1]))  # as most phases give them
        order = np.arange(key.size) if ordered else np.argsort(key, kind="stable")
        r, s, belief = rows[order], sellers[order], belief[order]
        owners, count, group, rank = _groups(r)
        room = np.count_nonzero(b.held[owners] >= 0, axis=1)
        over = count > k - room
        keep = np.ones(r.size, dtype=bool)
        if over.any():
            full = owners[over]
            mine = np.flatnonzero(over[group])  # the new pairs of buyers over their room
            gi = (np.cumsum(over) - 1)[group[mine]]  # their buyer's index in ``full``
            bounds = np.searchsorted(gi, np.arange(0, full.size + ROWS_AT_ONCE, ROWS_AT_ONCE))
            for lo, hi in itertools.pairwise(bounds):
                if hi > lo:
                    a = gi[lo]
                    keep[mine[lo:hi]] = self._rank_out(
                        full[a:gi[hi - 1] + 1], gi[lo:hi] - a, rank[mine[lo:hi]],
                        s[mine[lo:hi]], belief[mine[lo:hi]], when)
            r, s = r[keep], s[keep]
            owners, count, group, rank = _groups(r)
        # the kept new pairs take their buyers' free cells, in seller order
        free = b.held[owners] < 0
        n_free = np.count_nonzero(free, axis=1)
        first = np.cumsum(n_free) - n_free
        col = np.flatnonzero(free)[first[group] + rank] - group * k
        b.held[r, col] = s
        b.slot[r, s] = col
        out = np.empty(rows.size, dtype=bool)
        out[order] = keep
        return out

    def _rank_out(self, full: np.ndarray, gi: np.ndarray, rank: np.ndarray, s: np.ndarray,
                  belief: np.ndarray, when: int) -> np.ndarray:
        """Buyers ``full`` learned more sellers than they have room for: the new pairs are
        (``full[gi]``, ``s``), the ``rank``-th new seller of their buyer, believed ``belief``.
        Forget the known sellers each ranks lowest (see :meth:`_make_room`); return which new
        pairs are kept."""
        b, k, alive = self.buyers_state, self.buyers_state.k, self.sellers_state.alive
        assert b.slot is not None and b.held is not None
        width = k + int(rank.max()) + 1
        col = k + rank
        seller = np.full((full.size, width), -1, dtype=np.int64)
        seller[:, :k] = b.held[full]
        value = np.full((full.size, width), -np.inf)
        value[:, :k] = np.take(b.belief, full, axis=0)
        tie = np.full((full.size, width), -1, dtype=np.int64)
        tie[:, :k] = np.take(b.aware_time, full, axis=0)
        seller[gi, col], value[gi, col], tie[gi, col] = s, belief, when
        valid = seller >= 0
        value[~valid | ~alive[np.maximum(seller, 0)]] = -np.inf
        # ascending = forgotten first; ties of value go to the earlier learned, then higher row
        # (complex numbers sort by real part, then imaginary: one sort for both keys, exact)
        tie = np.where(valid, tie * 2048 + (2047 - seller), -1)
        o = np.argsort(value + 1j * tie, axis=1, kind="stable")
        lost = np.zeros_like(valid)
        np.put_along_axis(lost, o[:, : width - k], True, axis=1)
        lost &= valid
        fi, fc = np.nonzero(lost[:, :k])  # known sellers forgotten
        fr, fs = full[fi], seller[fi, fc]
        b.aware[fr, fs] = False
        b.slot[fr, fs] = -1
        b.held[fr, fc] = -1
        self.sellers_state.aware_count -= np.bincount(fs, minlength=self.n_slots)
        return ~lost[gi, col]

    def hear_claims(self, rows: np.ndarray, sellers: np.ndarray, claims: np.ndarray,
                    kind: int) -> None:
        """Record the fit claimed to buyers ``rows`` about ``sellers`` by a source of ``kind``
        (the last claim heard is the one an experience answers); a claim about a seller the
        buyer does not hold in mind is not kept."""
        b = self.buyers_state
        if b.slot is not None:
            held = b.aware[rows, sellers]
            rows, sellers, claims = rows[held], sellers[held], np.asarray(claims)[held]
        cells = b.cells(rows, sellers)
        b.claim.reshape(-1)[cells] = claims
        b.claim_kind.reshape(-1)[cells] = kind

    def seller_claim(self, sellers: np.ndarray) -> np.ndarray:
        """What each seller's ads or sponsored posts claim: its believed fit plus its overclaim."""
        over = np.array([self.strategies[s].overclaim(self.cfg) for s in sellers])
        return rules.claim(self.sellers_state.believed_fit[sellers], over)

    def post_topics(self, posters: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each poster's topic (its sponsor, else the known seller it rates best, else -1), the
        fit it claims, the weight factor its followers give it, and whether it is an undisclosed
        sponsored post (which a reader may find out)."""
        b, m, s = self.buyers_state, self.sellers_state, self.cfg.sellers
        sponsor = b.sponsor_of[posters].astype(np.int64)
        sponsored = sponsor >= 0
        sponsored[sponsored] = m.alive[sponsor[sponsored]]
        known = b.aware[posters] & m.alive[: self.n_used]
        belief = b.belief_rows(posters, self.n_used)
        best = np.argmax(np.where(known, belief, -np.inf), axis=1)
        topic = np.where(sponsored, sponsor, np.where(known.any(axis=1), best, -1))
        claim = belief[np.arange(posters.size), np.maximum(topic, 0)]
        if sponsored.any():
            claim[sponsored] = self.seller_claim(sponsor[sponsored])
        factor = self.cfg.market.influencer_weight * b.credibility[posters]
        if s.disclose_sponsorship:
            factor = np.where(sponsored, factor * s.disclosure_discount, factor)
        hidden = sponsored & (not s.disclose_sponsorship) & self.cfg.mechanisms.exposure
        return topic.astype(np.int64), claim, factor, hidden

    # -- one step -------------------------------------------------------------------------------
    def step(self) -> None:
        """Run the ten phases in their fixed order (see docs/ODD.md, process overview)."""
        self.ledger.step = self.steps
        self._start_step()
        self.drift()  # 1. the frontier moves; expectations follow
        self.needs()  # 2. who needs something this step
        self.conversations()  # 3. buyers with a need ask their contacts
        self.influencer_posts()  # 4. influencers post to their followers
        self.marketing()  # 5. ads reach buyers; free trials
        self.purchase()  # 6. buyers with a need choose a seller or nothing
        self.experience()  # 7. buyers learn the true fit and reward advice that helped
        self.currency_economy()  # 8. sponsorship, shares, co-creation, cash-outs, decay, audiences
        sellers.act(self)  # 9. book revenue and costs, sense, adapt, exit, entry
        self.observe()  # 10. record the step's measures

    def _start_step(self) -> None:
        m = self.sellers_state
        for name in ("revenue", "costs", "sales", "marketing", "cust_sum", "fit_sum", "talk_sum",
                     "talk_w", "talk_n", "feedback_sum", "feedback_fit", "feedback_n"):
            getattr(m, name)[:] = 0
        m.budget[:] = rules.budget(m.cash, self.cfg.sellers.marketing_budget)
        self.step_counts = {"exits": 0, "entries": 0, "promotions": 0, "exposures": 0,
                            "trials": 0}
        self.promoted_now = np.zeros(0, dtype=np.int64)

    def drift(self) -> None:
        """Phase 1: the frontier of expectations moves, and buyers' expectations follow it."""
        z = dr.drift(self)
        if not self.cfg.mechanisms.drift:
            return
        mk = self.cfg.market
        self.frontier = self.frontier + mk.frontier_speed * self.direction + mk.frontier_noise * z
        self.engine.drift(self)

    def needs(self) -> None:
        """Phase 2: each buyer has a need with probability ``p_need``."""
        self.engine.needs(self, dr.needs(self))

    def conversations(self) -> None:
        """Phase 3: word of mouth among buyers with a need and their contacts; then what each
        talker says about its favourite seller (the known one it rates best) is there for
        sellers that listen to hear."""
        d = dr.conversations(self)
        self.engine.conversations(self, d)
        if self.cfg.mechanisms.adaptation and any(
                isinstance(self.strategies[s].sensing, Conversations)
                for s in np.flatnonzero(self.sellers_state.alive)):
            self._tell_listeners(d.rows)

    def _tell_listeners(self, rows: np.ndarray) -> None:
        """Sums, per seller, of what the talkers ``rows`` whose favourite it is say: their
        count, their beliefs about it and their expectations (for sellers that listen)."""
        m, b = self.sellers_state, self.buyers_state
        who, seller, cell = self.known_pairs(rows)
        belief = b.belief.reshape(-1)[cell]
        top = group_max(who, belief, rows.size, -np.inf)[0]
        best = np.flatnonzero(belief == top[who])
        first = np.ones(best.size, dtype=bool)
        first[1:] = who[best][1:] != who[best][:-1]
        best = best[first]  # the first best of each buyer
        favourite, rows = seller[best], rows[who[best]]
        m.talk_n[:] = np.bincount(favourite, minlength=self.n_slots)
        m.talk_w[:] = np.bincount(favourite, weights=belief[best], minlength=self.n_slots)
        for dim in range(self.dims):
            m.talk_sum[:, dim] = np.bincount(favourite, weights=b.expect[rows, dim],
                                             minlength=self.n_slots)

    def influencer_posts(self) -> None:
        """Phase 4: influencers post about one seller to their followers."""
        if not self.cfg.mechanisms.influencers:
            return
        self.engine.posts(self, dr.posts(self))

    def marketing(self) -> None:
        """Phase 5: ads reach buyers (as far as each advertiser's budget pays) and seeding
        sellers give free trials."""
        ads = dr.advertising(self)
        m = self.sellers_state
        cost = self.cfg.sellers.ad_cost
        for i, s in enumerate(ads.sellers):  # the draw may overshoot the budget: cut it there
            paid = rules.paid_prefix(ads.reached[i].size, int(m.budget[s]), cost)
            ads.reached[i] = ads.reached[i][:paid]
            sellers.spend(self, s, cost * paid)
        trials = sellers.trials(self)
        self.step_counts["trials"] = int(trials.buyers.size)
        self.engine.marketing(self, ads, trials)

    def purchase(self) -> None:
        """Phase 6: buyers with a need choose among known sellers (logit) or buy nothing; a buyer
        with enough currency pays part of the price in points (a perk the seller honours)."""
        rows = np.flatnonzero(self.buyers_state.need)
        choice = self.engine.purchase(self, rows, dr.purchase(self, rows))
        bought = choice >= 0
        rows, chosen = rows[bought], choice[bought]
        self.purchases = (rows, chosen)
        b, m, k = self.buyers_state, self.sellers_state, self.cfg.currency
        price = m.price[chosen]
        if self.cfg.mechanisms.perks:
            pts = rules.perk_points(b.currency[rows], price, k.cents_per_point, k.perk_share,
                                    k.perk_threshold)
            used = pts > 0
            self.ledger.convert_out(rows[used], pts[used], "perk")
            saved = pts * k.cents_per_point
            b.money[rows] += saved
            price = price - saved
        self.paid = price
        b.spend_by.reshape(-1)[b.cells(rows, chosen)] += price  # one purchase per buyer
        b.spent[rows] += price
        b.purchases[rows] += 1
        np.add.at(m.revenue, chosen, price)
        m.sales += np.bincount(chosen, minlength=self.n_slots)
        for dim in range(self.dims):
            m.cust_sum[:, dim] = np.bincount(chosen, weights=b.expect[rows, dim],
                                             minlength=self.n_slots)

    def experience(self) -> None:
        """Phase 7: buyers who bought learn the true fit; advice that helped is rewarded; some
        customers give the seller feedback; sellers book what their customers felt."""
        rows, chosen = self.purchases
        felt = self.engine.experience(self, rows, chosen, dr.experience(self, rows.size))
        gave = dr.feedback(self, rows.size)
        self.feedback = gave
        m, b = self.sellers_state, self.buyers_state
        m.fit_sum[:] = np.bincount(chosen, weights=felt, minlength=self.n_slots)
        m.feedback_n[:] = np.bincount(chosen[gave], minlength=self.n_slots)
        m.feedback_fit[:] = np.bincount(chosen[gave], weights=felt[gave], minlength=self.n_slots)
        for dim in range(self.dims):
            m.feedback_sum[:, dim] = np.bincount(chosen[gave], weights=b.expect[rows[gave], dim],
                                                 minlength=self.n_slots)
        slot = self.steps % (self.cfg.sellers.sense_delay + 1)
        m.hist_sum[slot] = m.cust_sum
        m.hist_fit[slot] = m.fit_sum
        m.hist_n[slot] = m.sales

    def currency_economy(self) -> None:
        """Phase 8: sponsorship (money into currency), influencers' shares with followers who
        bought, co-creation rewards, cash-outs and decay; then audiences grow in proportion to
        the attention earned (balance plus followers)."""
        sellers.settle(self)
        self.engine.economy(self)
        self._grow_audiences()

    def _grow_audiences(self) -> None:
        mech, b = self.cfg.mechanisms, self.buyers_state
        count = round(self.cfg.market.audience_growth * self.n_buyers)
        if not mech.audience_growth or count == 0:
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

    def observe(self) -> None:
        """Phase 10: record the step's measures and close the ledger's step."""
        row, seller_cols = measures.observe(self)
        self.metric_rows.append(row)
        self.seller_rows.append(seller_cols)
        self.ledger.close_step(self.steps)

    # -- results --------------------------------------------------------------------------------
    def results(self) -> Any:
        """The run's tables and summary as a :class:`spheres.run.tables.Results`."""
        from spheres.run.tables import assemble

        return assemble(self)
