"""The market model: builds the state and the agents, and runs the ten phases of a step in order."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import mesa
import numpy as np
from scipy.stats import rankdata

from spheres.errors import ConfigError
from spheres.model import audiences, clock, measures, rules, sellers, strategies
from spheres.model import draws as dr
from spheres.model.agents import Buyer, Influencer, Seller
from spheres.model.currency import Ledger
from spheres.model.engine import ENGINES, Engine
from spheres.model.memory import ROWS_AT_ONCE, Memory
from spheres.model.network import (
    build_network,
    choose_influencers,
    follower_edges,
    network_notes,
)
from spheres.model.state import NO_SOURCE, Follows, empty_buyers, empty_sellers
from spheres.model.strategies import Conversations, Strategy, build_strategy, strategy_index
from spheres.schema import SpheresConfig, is_validated

log = logging.getLogger(__name__)


class MarketModel(mesa.Model):
    """Buyers, influencers and sellers on a social network, trading goods and social currency.

    ``MarketModel(spheres.make_config(n_buyers=500, **{"market.need_rate": 0.2}))``: the model
    trusts the validated config it is given and refuses one that was not validated. The state
    lives in arrays (``buyers_state``, ``sellers_state``), and what buyers know and believe about
    sellers changes through :attr:`memory` (a :class:`~spheres.model.memory.Memory`); ``Buyer``,
    ``Influencer`` and ``Seller`` agents are views of their rows. Buyer agents are created on
    first use of :attr:`buyers` (always by the per-agent engine), so that large vectorised runs
    do not pay for them.
    """

    def __init__(self, config: SpheresConfig) -> None:
        """Build the network, the sellers, the buyers and the engine from a validated config."""
        if not is_validated(config):
            raise ConfigError("MarketModel takes a validated config: build it with "
                              "spheres.make_config(...) or spheres.config.validate(config)")
        cfg = clock.per_step(config)
        super().__init__(rng=cfg.seed)
        self.config = config  # as given: rates per year, durations in weeks
        self.cfg = cfg  # as the phases read it: every time-dependent value per step
        self.n_buyers = cfg.n_buyers
        self.dims = cfg.market.dims
        n_start = sum(cfg.sellers.mix.values())
        self.n_slots = n_start + (cfg.sellers.max_entrants if cfg.mechanisms.entry else 0)
        self.n_start_sellers = n_start
        self.strategies: list[Strategy | None] = [None] * self.n_slots
        self._build_network()
        self.tie_seed = dr.tie_seed(self)
        self._build_sellers()
        self._build_buyers()
        self.ledger = Ledger(self.buyers_state.currency, self.buyers_state.is_influencer,
                             keep_entries=cfg.output.ledger_entries)
        self.contracts: dict[int, np.ndarray] = {}
        self.purchases = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        self.feedback = np.zeros(0, dtype=bool)
        self.paid = np.zeros(0, dtype=np.int64)  # cents of each purchase of the step
        self.units = np.zeros(0, dtype=np.int64)  # units of each purchase of the step
        self.step_counts: dict[str, int] = {}
        self.promoted_now = np.zeros(0, dtype=np.int64)
        self.metric_rows: list[dict[str, Any]] = []
        self.seller_rows: list[dict[str, np.ndarray]] = []
        self.events: dict[str, int] = {"exits": 0, "entries": 0, "promotions": 0}
        self.revenue_total = 0
        self.income_spent = 0  # cents of purchases paid from buyers' income (not their wallets)
        self.kept_means: dict[str, np.ndarray] = {}  # measures.buyer_means of unchanging arrays
        self._views: list[Buyer] | None = None
        self._buyer_set: mesa.agent.AgentSet | None = None
        self.engine: Engine = ENGINES[cfg.engine]()
        self.engine.attach(self)

    # -- set-up ---------------------------------------------------------------------------------
    def _build_network(self) -> None:
        net = self.cfg.network
        self.graph, self.network_facts = build_network(net, self.n_buyers, self.rng)
        for key, value in self.network_facts.items():
            if value:
                log.info("network %s: %s", key, value)
        for note in network_notes(self.network_facts, net, self.n_buyers):
            log.warning(note)
        self.degree = self.graph.degree()
        # equal degrees share their average rank (ranks from 1): no row ranks above another
        self.degree_percentile = rankdata(self.degree, method="average") / self.n_buyers

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
        self.memory = Memory(b, self.sellers_state, partial(dr.tie_keys, self, "forgetting"))
        b.taste[:] = self.rng.standard_normal((n, d)) * cfg.market.taste_spread
        b.expect[:] = self.frontier + b.taste
        b.drift_rate[:] = dr.drift_rates(self)
        b.need_mean[:] = dr.need_means(self)
        b.trust[:] = (cfg.market.trust_peers, cfg.market.trust_influencers,
                      cfg.market.trust_sellers)
        start = self.n_start_sellers
        for lo in range(0, n, ROWS_AT_ONCE):  # drawn a block of buyers at a time: same draws
            hi = min(n, lo + ROWS_AT_ONCE)
            rows, sellers = np.nonzero(dr.initial_awareness(self, (hi - lo, start)))
            self.memory.make_aware(rows + lo, sellers, np.int32(-1), NO_SOURCE, phase=0)
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
        """Seller slots: the width of the per-(buyer, seller) arrays.

        The initial sellers and room for every entrant, whether it came or not. A slot not yet
        opened is a seller no buyer knows and that is not alive.
        """
        return self.buyers_state.width

    @property
    def n_opened(self) -> int:
        """Seller slots opened so far (initial sellers and entrants, alive or not)."""
        return self.sellers_state.n_opened

    def reputation_of(self, rows: np.ndarray) -> np.ndarray:
        """Weight multiplier of advice from ``rows``: balance relative to the mean, capped."""
        if not self.cfg.mechanisms.reputation:
            return np.ones(rows.shape)
        mean = self.buyers_state.currency.sum() / self.n_buyers
        return rules.reputation(np.take(self.buyers_state.currency, rows), mean,
                                self.cfg.market.reputation_cap)

    def seller_claim(self, sellers: np.ndarray) -> np.ndarray:
        """What each seller's ads or sponsored posts claim: its believed fit plus its overclaim."""
        over = np.array([self.strategies[s].overclaim(self.cfg) for s in sellers])
        return rules.claim(self.sellers_state.believed_fit[sellers], over)

    def post_topics(self, posters: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What each of ``posters`` would post about, and how.

        Returns each poster's topic (its sponsor, else the known seller it rates best, one of
        equals at random, else -1), the fit it claims, the weight factor its followers give it,
        and whether it is an undisclosed sponsored post (which a reader may find out).
        """
        b, m, s = self.buyers_state, self.sellers_state, self.cfg.sellers
        sponsor = b.sponsor_of[posters].astype(np.int64)
        sponsored = sponsor >= 0
        sponsored[sponsored] = m.alive[sponsor[sponsored]]
        known = b.aware[posters] & m.alive[: self.n_used]
        belief = b.belief_rows(posters, self.n_used)
        tie = dr.tie_keys(self, "post_topic", posters[:, None], np.arange(self.n_used))
        best = rules.best(np.where(known, belief, -np.inf), tie)
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
        self.ledger.step = self.memory.step = self.steps
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
        """Phase 2: each buyer has a need with its own chance (``need_rate``, ``need_shape``)."""
        self.engine.needs(self, dr.needs(self))

    def conversations(self) -> None:
        """Phase 3: word of mouth among buyers with a need and their contacts.

        Then what each talker says about its favourite seller (the known one it rates best) is
        there for sellers that listen to hear.
        """
        d = dr.conversations(self)
        self.engine.conversations(self, d)
        if self.cfg.mechanisms.adaptation and any(
                isinstance(self.strategies[s].sensing, Conversations)
                for s in np.flatnonzero(self.sellers_state.alive)):
            self._tell_listeners(d.rows)

    def _tell_listeners(self, rows: np.ndarray) -> None:
        """Sum, per seller, what the talkers ``rows`` whose favourite it is say.

        A talker's favourite is the known seller it rates best (one of equals at random). Sums
        their count, their beliefs about it and their expectations (for sellers that listen).
        """
        m, b = self.sellers_state, self.buyers_state
        who, seller, cell = self.memory.known_pairs(rows)
        belief = b.belief.reshape(-1)[cell]
        top = rules.group_max(who, belief, rows.size, -np.inf)[0]
        best = np.flatnonzero(belief == top[who])
        # of a talker's equal best, the one of lowest random key (keys differ: one each)
        tied = np.bincount(who[best], minlength=rows.size)[who[best]] > 1
        if tied.any():
            t = best[tied]
            tie = dr.tie_keys(self, "favourite", rows[who[t]], seller[t])
            lowest = -rules.group_max(who[t], -tie, rows.size, -np.inf)[0]
            tied[tied] = tie != lowest[who[t]]
            best = best[~tied]
        favourite, rows = seller[best], rows[who[best]]
        m.talk_n[:] = np.bincount(favourite, minlength=self.n_slots)
        m.talk_w[:] = np.bincount(favourite, weights=belief[best], minlength=self.n_slots)
        self._sum_expectations(favourite, rows, m.talk_sum)

    def _sum_expectations(self, sellers: np.ndarray, rows: np.ndarray, out: np.ndarray,
                          units: np.ndarray | None = None) -> None:
        """Sum into ``out``, per seller, the expectations of buyers ``rows`` (one per seller).

        Each counted ``units`` times when given (a customer once per unit bought).
        """
        for dim in range(self.dims):
            said = self.buyers_state.expect[rows, dim]
            out[:, dim] = np.bincount(sellers, weights=said if units is None else said * units,
                                      minlength=self.n_slots)

    def influencer_posts(self) -> None:
        """Phase 4: influencers post about one seller to their followers."""
        if not self.cfg.mechanisms.influencers:
            return
        self.engine.posts(self, dr.posts(self))

    def marketing(self) -> None:
        """Phase 5: ads reach buyers, as far as budgets pay, and seeding sellers give trials."""
        ads = dr.advertising(self)
        m = self.sellers_state
        cost = self.cfg.sellers.ad_cost
        for i, s in enumerate(ads.sellers):
            # the draw may reach more buyers than the budget pays for: as many, at random
            paid = rules.paid_prefix(ads.reached[i].size, int(m.budget[s]), cost)
            if paid < ads.reached[i].size:
                ads.reached[i] = dr.some_of(self, "ad_budget", ads.reached[i], paid, s)
            sellers.spend(self, s, cost * paid)
        trials = strategies.trials(self)
        self.step_counts["trials"] = int(trials.buyers.size)
        self.engine.marketing(self, ads, trials)

    def purchase(self) -> None:
        """Phase 6: buyers with a need choose among known sellers (logit) or buy nothing.

        A buyer that buys takes a unit per need from the seller it chose (one purchase, of
        ``need`` units). A buyer with enough currency pays part of the price in points (a perk:
        the seller honours it as a discount). What remains is paid from the buyer's wallet
        (money from cashed-out points) as far as it holds, the rest from income.
        """
        rows = np.flatnonzero(self.buyers_state.need)
        choice = self.engine.purchase(self, rows, dr.purchase(self, rows))
        bought = choice >= 0
        rows, chosen = rows[bought], choice[bought]
        self.purchases = (rows, chosen)
        b, m, k = self.buyers_state, self.sellers_state, self.cfg.currency
        units = b.need[rows]
        self.units = units
        price = m.price[chosen] * units
        if self.cfg.mechanisms.perks:
            pts = rules.perk_points(b.currency[rows], price, k.cents_per_point, k.perk_share,
                                    k.perk_threshold)
            used = pts > 0
            self.ledger.convert_out(rows[used], pts[used], "perk")
            price = price - rules.cents(pts, k.cents_per_point)
        wallet = rules.paid_from_wallet(b.money[rows], price)
        b.money[rows] -= wallet  # one purchase per buyer
        b.wallet_spent[rows] += wallet
        self.income_spent += int((price - wallet).sum())
        self.paid = price
        b.spend_by.reshape(-1)[b.cells(rows, chosen)] += price  # one purchase per buyer
        b.spent[rows] += price
        b.purchases[rows] += units
        np.add.at(m.revenue, chosen, price)
        m.sales += np.bincount(chosen, weights=units, minlength=self.n_slots).astype(np.int64)
        self._sum_expectations(chosen, rows, m.cust_sum, units)

    def experience(self) -> None:
        """Phase 7: buyers who bought learn the true fit; advice that helped is rewarded.

        Some customers give the seller feedback; sellers book what their customers felt.
        """
        rows, chosen = self.purchases
        felt = self.engine.experience(self, rows, chosen, dr.experience(self, rows.size))
        gave = dr.feedback(self, rows.size)
        self.feedback = gave
        m = self.sellers_state
        m.fit_sum[:] = np.bincount(chosen, weights=felt * self.units, minlength=self.n_slots)
        m.feedback_n[:] = np.bincount(chosen[gave], minlength=self.n_slots)
        m.feedback_fit[:] = np.bincount(chosen[gave], weights=felt[gave], minlength=self.n_slots)
        self._sum_expectations(chosen[gave], rows[gave], m.feedback_sum)
        slot = self.steps % (self.cfg.sellers.sense_delay + 1)
        m.hist_sum[slot] = m.cust_sum
        m.hist_fit[slot] = m.fit_sum
        m.hist_n[slot] = m.sales

    def currency_economy(self) -> None:
        """Phase 8: the social-currency economy, then audiences grow.

        Sponsorship (money into currency), influencers' shares with followers who bought,
        co-creation rewards, cash-outs and decay; then audiences grow by the rule of
        ``market.follow_by`` (``model.audiences``), and buyers with enough followers are promoted.
        """
        strategies.settle(self)
        self.engine.economy(self, dr.decay(self))
        self._grow_audiences()

    def _grow_audiences(self) -> None:
        """New followers attach by ``market.follow_by`` (``audiences.grow``); promotions."""
        b = self.buyers_state
        if audiences.grow(self).size == 0:
            return
        promoted = np.flatnonzero(~b.is_influencer & (b.n_followers >= self.cfg.market.promote_at))
        if promoted.size:
            self._promote(promoted)

    def observe(self) -> None:
        """Phase 10: record the step's measures and close the ledger's step."""
        row, seller_cols = measures.observe(self)
        self.metric_rows.append(row)
        self.seller_rows.append(seller_cols)
        self.ledger.close_step(self.steps)
