"""Mesa agents as views of the state arrays, and the per-agent reference engine.

A ``Buyer`` reads and writes its own row of the model's buyer arrays; an ``Influencer`` is a buyer
with followers who posts; a ``Seller`` is a view of a row of the seller arrays. The per-agent
engine runs each buyer and influencer phase as methods of these agents, visited through Mesa's
``AgentSet`` in random order. Every phase is synchronous: each agent first *decides* from the state
at the start of the phase (a method returning its pending changes), and only when all have decided
are the changes *committed*. The agents read the same per-phase draws as the vectorised engine
(``spheres.model.vector``), entry ``[i]`` for buyer ``i``, so both engines give the same results.

The method names follow the schedule of docs/ODD.md:

1. ``drift``  2. ``feel_need``  3. ``ask_contacts`` / ``learn_from_contacts``
4. ``post`` (influencers) / ``read_posts``  5. ``see_marketing``  6. ``choose_seller``
7. ``experience`` / (commit) ``reward_advisor``  8. ``spend_currency``.

Every formula comes from ``spheres.model.rules``, and every change to what a buyer knows and
believes goes through ``spheres.model.memory``, as in the vectorised engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from spheres.model import draws as dr
from spheres.model import rules
from spheres.model.market import Market
from spheres.model.state import AD, INFLUENCER_SRC, PEER
from spheres.model.strategies import STRATEGIES

if TYPE_CHECKING:
    from spheres.model.strategies import Trials


@dataclass
class Conversation:
    """What a buyer took from its contacts this step, before it is written to the state."""

    belief: np.ndarray
    claimed: np.ndarray  # sellers a contact said something about (weight > 0)
    claims: np.ndarray  # what they said: the weighted mean of their beliefs
    new_sellers: np.ndarray
    introducers: np.ndarray
    contacts: np.ndarray
    thanked: np.ndarray
    expect: np.ndarray | None


@dataclass
class Post:
    """One influencer's post as a follower receives it."""

    poster: int
    seller: int
    claim: float
    factor: float
    hidden: bool  # an undisclosed sponsored post
    found: bool  # this follower would recognise a sponsored post as advertising (the edge's draw)


@dataclass
class Experience:
    """The outcome of one purchase, before advisor rewards are written."""

    buyer: int
    seller: int
    felt: float
    satisfied: bool
    advisor: int
    advisor_kind: int
    paid: int  # cents the buyer paid (the price less any perk)
    units: int  # units bought


@dataclass
class Inbox:
    """Posts waiting for each follower, by follower row, and who was found out how often."""

    posts: dict[int, list[Post]] = field(default_factory=dict)
    exposed: dict[int, int] = field(default_factory=dict)


class RowView(mesa.Agent):
    """A Mesa agent that is a view of one row of the model's state arrays."""

    model: Market

    def __init__(self, model: Market, row: int) -> None:
        """Register with ``model`` as the view of row ``row``."""
        super().__init__(model)
        self.row = row


class Entry:
    """A read-only attribute of a view: its row's entry of one of the model's state arrays.

    ``Entry("buyers_state", "currency", int)`` reads ``model.buyers_state.currency[row]`` as an
    ``int``; without a conversion, an array's row is a view that writes through.
    """

    def __init__(self, state: str, array: str, convert: Callable[[Any], Any] | None = None
                 ) -> None:
        """Read ``model.<state>.<array>[row]``, converted by ``convert`` if given."""
        self.state, self.array, self.convert = state, array, convert

    def __get__(self, view: RowView | None, owner: type) -> Any:
        """The entry of ``view``'s row (the descriptor itself when read from the class)."""
        if view is None:
            return self
        value = getattr(getattr(view.model, self.state), self.array)[view.row]
        return value if self.convert is None else self.convert(value)

    def __set__(self, view: RowView, value: Any) -> None:
        """Refuse: the state arrays are written by the phases, not through the views."""
        raise AttributeError(f"{self.array} is read-only on a view")


class Buyer(RowView):
    """A buyer: its attributes read and write its row of the model's buyer arrays."""

    # -- views ---------------------------------------------------------------------------------
    expectation = Entry("buyers_state", "expect")
    """Where this buyer's expectations are (a view of its row)."""
    currency = Entry("buyers_state", "currency", int)
    """Social-currency balance (points)."""
    trust = Entry("buyers_state", "trust")
    """Trust in peers, influencers and sellers (a view of its row)."""
    aware = Entry("buyers_state", "aware")
    """Which sellers this buyer knows (a view of its row)."""

    @property
    def belief(self) -> np.ndarray:
        """Believed fit of each seller, the prior for those it does not know (a copy)."""
        return self.model.buyers_state.belief_rows(np.array([self.row]), self.model.n_used)[0]

    def _known_frontier(self, row: int) -> np.ndarray:
        b = self.model.buyers_state
        return rules.known_frontier(b.expect[row], b.taste[row])

    # -- 1. drift ------------------------------------------------------------------------------
    def drift(self) -> None:
        """Move my expectation toward the frontier plus my own taste, at my own rate."""
        b = self.model.buyers_state
        target = self.model.frontier + b.taste[self.row]
        b.expect[self.row] = rules.drift(b.expect[self.row], target, b.drift_rate[self.row])

    # -- 2. needs ------------------------------------------------------------------------------
    def feel_need(self, drawn: np.ndarray) -> None:
        """Have a need this step (my own chance: the phase's draw, entry ``[row]``)."""
        self.model.buyers_state.need[self.row] = drawn[self.row]

    # -- 3. conversations ----------------------------------------------------------------------
    def ask_contacts(self, d: dr.ConversationDraws, pos: int) -> Conversation:
        """Ask my drawn contacts what they know; decide what I take from them.

        I learn of sellers they know (each with probability ``p_word_of_mouth``), blend their
        beliefs by my trust in peers and their reputation, pick whom to thank, and move toward
        the most advanced contact's known frontier.
        """
        model = self.model
        b, cfg = model.buyers_state, model.cfg
        su = model.n_used
        alive = model.sellers_state.alive[:su]
        contacts = d.contacts[pos]
        own_aware = b.aware[self.row]
        me = np.array([self.row])
        weight = rules.advice_weight(cfg.market.peer_weight, b.trust[self.row, 0],
                                     model.reputation_of(np.where(contacts >= 0, contacts, 0)))
        num = np.zeros(su)
        den = np.zeros(su)
        introducer = np.full(su, -1, dtype=np.int64)
        first_k = np.full(su, -1, dtype=np.int64)
        ahead = np.full(contacts.size, -np.inf)
        for k, c in enumerate(contacts):
            if c < 0:
                continue
            heard = rules.hears(b.aware[c] & alive, own_aware, d.lucky[pos, k])
            tried = heard & ~own_aware
            wk = np.where(heard, weight[k], 0.0)
            num += wk * b.belief_rows(np.array([c]), su)[0]
            den += wk
            fresh = tried & (introducer < 0)
            introducer[fresh] = c
            first_k[fresh] = k
            ahead[k] = rules.advance(self._known_frontier(c), model.direction)
        new = np.flatnonzero(introducer >= 0)
        claimed = np.flatnonzero(den > 0)
        helpful = np.zeros(contacts.size, dtype=bool)
        helpful[first_k[new]] = True
        thanked = np.zeros(0, dtype=np.int64)
        ty = rules.gated(cfg.mechanisms.thank_you, cfg.currency.thank_you)
        if ty > 0:
            thanked = contacts[rules.thanked(helpful, ty, b.currency[self.row])]
        expect = None
        if cfg.mechanisms.peer_pull:
            mine = self._known_frontier(self.row)
            best, go = rules.most_advanced(ahead, rules.advance(mine, model.direction))
            if go:
                gap = self._known_frontier(int(contacts[best])) - mine
                expect = rules.pull(b.expect[self.row], gap, cfg.market.peer_pull)
        return Conversation(
            belief=rules.blend(b.belief_rows(me, su)[0], num, den),
            claimed=claimed,
            claims=rules.heard_claim(num[claimed], den[claimed]),
            new_sellers=new,
            introducers=introducer[new],
            contacts=contacts[contacts >= 0],
            thanked=thanked,
            expect=expect,
        )

    def _learn(self, sellers: list[int], belief: np.ndarray, sources: list[int], kind: int,
               phase: int) -> None:
        """Set my beliefs about ``sellers`` (``belief`` indexed by seller).

        Those I did not know I learn of, from ``sources``.
        """
        s = np.array(sellers, dtype=np.int64)
        self.model.memory.believe(np.full(s.size, self.row), s, belief[s],
                                  np.array(sources, dtype=np.int64), kind, phase)

    def learn_from_contacts(self, talk: Conversation) -> None:
        """Write what I took from my contacts; thank the helpful ones."""
        model, b, memory = self.model, self.model.buyers_state, self.model.memory
        known = np.flatnonzero(b.aware[self.row, :talk.belief.size])
        memory.revise(np.full(known.size, self.row), known, talk.belief[known])
        memory.make_aware(np.full(talk.new_sellers.size, self.row), talk.new_sellers,
                          talk.introducers, PEER, phase=3, belief=talk.belief[talk.new_sellers])
        memory.hear_claims(np.full(talk.claimed.size, self.row), talk.claimed, talk.claims, PEER)
        np.add.at(b.talks, talk.contacts, 1)
        if talk.thanked.size:
            model.ledger.transfer(np.full(talk.thanked.size, self.row), talk.thanked,
                                  model.cfg.currency.thank_you, "thank_you")
            np.add.at(b.thanks, talk.thanked, 1)
        if talk.expect is not None:
            b.expect[self.row] = talk.expect

    # -- 4. posts ----------------------------------------------------------------------------------
    def post(self, d: dr.PostDraws, index: int, inbox: Inbox) -> None:
        """Post about my sponsor or the known seller I rate best, to the followers who read it.

        Each follower edge is read with probability ``post_reach`` (the phase's draws).
        Influencers post; so does a buyer with followers while a seller sponsors it.
        """
        model = self.model
        topic, claim, factor, hidden = model.post_topics(np.array([self.row]))
        if topic[0] < 0:
            return
        lo, hi = np.searchsorted(d.owner, index), np.searchsorted(d.owner, index, "right")
        model.buyers_state.posts[self.row] += d.counts[index]
        model.buyers_state.reads[self.row] += hi - lo
        for follower, found in zip(d.followers[lo:hi], d.found[lo:hi], strict=True):
            post = Post(self.row, int(topic[0]), float(claim[0]), float(factor[0]),
                        bool(hidden[0]), bool(found))
            inbox.posts.setdefault(int(follower), []).append(post)

    # -- 4. posts (the reading side) ------------------------------------------------------------
    def read_posts(self, posts: list[Post], inbox: Inbox) -> None:
        """Learn of and blend in the posted sellers, weighted by my trust in influencers.

        A post I find out to be undisclosed sponsorship I ignore, and I trust influencers less.
        """
        model, b, mk = self.model, self.model.buyers_state, self.model.cfg.market
        posts = sorted(posts, key=lambda p: p.poster)
        caught = [p for p in posts if rules.found_out(p.hidden, p.found)]
        kept = [p for p in posts if not rules.found_out(p.hidden, p.found)]
        trust = b.trust[self.row, 1]
        belief = self.belief
        sellers, posters, said, claims = sorted({p.seller for p in kept}), [], [], []
        for seller in sellers:
            about = [p for p in kept if p.seller == seller]
            num = den = 0.0
            for p in about:
                w = rules.post_weight(trust, p.factor)
                num += w * p.claim
                den += w
            belief[seller] = rules.blend(belief[seller], num, den)
            # of several posts, the one of lowest random key introduces a seller I did not know
            tie = dr.tie_keys(model, "post_credit", self.row, [p.poster for p in about])
            posters.append(about[int(np.argmin(tie))].poster)
            if den > 0:
                said.append(seller)
                claims.append(rules.heard_claim(num, den))
        if sellers:
            self._learn(sellers, belief, posters, INFLUENCER_SRC, phase=4)
            model.memory.hear_claims(np.full(len(said), self.row),
                                     np.array(said, dtype=np.int64), np.array(claims),
                                     INFLUENCER_SRC)
        if caught:
            b.trust[self.row, 1] = rules.shrink(trust, mk.exposure_penalty, len(caught))
            for p in caught:
                inbox.exposed[p.poster] = inbox.exposed.get(p.poster, 0) + 1

    # -- 5. marketing (the receiving side) ------------------------------------------------------
    def see_marketing(self, ads: list[tuple[int, float]], trials: list[tuple[int, float]]
                      ) -> None:
        """Learn of the advertisers and blend their claims by my trust in sellers.

        My trust in sellers moves with how well the ads fit me, down for those that miss what I
        want (spam), up for those that fit; then I try the free trials I was given.
        """
        model, b, cfg = self.model, self.model.buyers_state, self.model.cfg
        mk, offering = cfg.market, model.sellers_state.offering
        w = rules.ad_weight(mk.ad_weight, b.trust[self.row, 2])
        gap = 0.0
        belief = self.belief
        for s, claim in ads:
            belief[s] = rules.blend(belief[s], w * claim, w)
            gap += rules.relevance(b.expect[self.row], offering[s], mk.fit_width,
                                   mk.spam_threshold)
        if ads:
            sellers = [s for s, _ in ads]
            self._learn(sellers, belief, sellers, AD, phase=5)
            model.memory.hear_claims(np.full(len(ads), self.row),
                                     np.array(sellers, dtype=np.int64),
                                     np.array([claim for _, claim in ads]), AD)
        if cfg.mechanisms.spam and ads:
            b.trust[self.row, 2] = rules.trust_moved(b.trust[self.row, 2], gap, mk.spam_rate)
        if trials:
            belief = self.belief
            for s, z in trials:
                felt = rules.experienced_fit(b.expect[self.row], offering[s], mk.fit_width,
                                             mk.experience_noise, z)
                belief[s] = rules.learn(belief[s], felt, mk.learning_rate)
            sellers = [s for s, _ in trials]
            self._learn(sellers, belief, sellers, AD, phase=5)

    # -- 6. purchase ---------------------------------------------------------------------------
    def choose_seller(self, u: float) -> int:
        """Pick a known seller by logit over believed fit minus price, or nothing (-1)."""
        model, b, m = self.model, self.model.buyers_state, self.model.sellers_state
        mk = model.cfg.market
        su = model.n_used
        avail = b.aware[self.row] & m.alive[:su]
        util = rules.utility(self.belief, m.price[:su], mk.choice_beta, mk.price_weight,
                             mk.reference_price)
        outside = rules.outside_utility(mk.choice_beta, mk.outside_option)
        return int(rules.choose(util, avail, outside, np.float64(u)))

    # -- 7. experience -------------------------------------------------------------------------
    def experience(self, seller: int, noise: float, paid: int, units: int) -> Experience:
        """Learn the true fit of what I bought; update my belief and my trust.

        Trust changes in the kind of source whose claim I heard last, up when the experience beat
        the claim and down when it fell short, in proportion to the gap.
        """
        model, b, cfg = self.model, self.model.buyers_state, self.model.cfg
        mk, mech = cfg.market, cfg.mechanisms
        felt = rules.experienced_fit(b.expect[self.row], model.sellers_state.offering[seller],
                                     mk.fit_width, mk.experience_noise, noise)
        told = model.memory.experience(np.array([self.row]), np.array([seller]), felt,
                                       mk.learning_rate)
        satisfied = bool(rules.satisfied(felt, mk.satisfaction))
        said = int(told.claim_kind[0])
        rate = rules.gated(mech.trust, mk.trust_rate)
        if said > 0 and rate > 0:
            col = said - 1
            b.trust[self.row, col] = rules.trust_after(b.trust[self.row, col], felt,
                                                       told.claim[0], rate)
        return Experience(self.row, seller, float(felt), satisfied, int(told.introducer[0]),
                          int(told.intro_kind[0]), paid, units)

    def reward_advisor(self, outcome: Experience, credibility: dict[int, float]) -> None:
        """Credit the advisor with the units it caused, and mint currency for each if it helped.

        The outcome (one experience, whatever the units) is reported to an influencer advisor's
        credibility.
        """
        model, b, cfg = self.model, self.model.buyers_state, self.model.cfg
        if not rules.advised(outcome.advisor_kind):
            return
        who = outcome.advisor
        b.caused[who] += outcome.units
        b.caused_spend[who] += outcome.paid
        b.helped[who] += outcome.units * int(outcome.satisfied)
        if outcome.advisor_kind == INFLUENCER_SRC:
            credibility[who] = credibility.get(who, 0.0) + rules.credibility_delta(
                outcome.satisfied, b.credibility[who])
        reward = rules.gated(cfg.mechanisms.advice_reward, cfg.currency.advice_reward)
        if reward > 0 and outcome.satisfied:
            model.ledger.mint(np.array([who]), reward * outcome.units, "advice")

    # -- 8. currency economy -------------------------------------------------------------------
    def spend_currency(self, burn: dr.DecayDraws) -> None:
        """Cash currency out into my wallet above the threshold; then let attention fade."""
        model, b, k = self.model, self.model.buyers_state, self.model.cfg.currency
        mech = model.cfg.mechanisms
        row = np.array([self.row])
        if mech.cashout:
            pts = int(rules.cashout_points(b.currency[self.row], k.cashout_threshold,
                                           k.cashout_rate))
            if pts > 0:
                model.ledger.convert_out(row, pts, "cashout")
                money = rules.cents(pts, k.cents_per_point)
                b.money[self.row] += money
                b.money_in[self.row] += money
        balance = b.currency[self.row]
        if mech.decay and balance > 0:
            pts = int(rules.burn_points(balance, k.decay, burn.at(self.row)))
            if pts > 0:
                model.ledger.burn(row, pts, "decay")


class Influencer(Buyer):
    """A buyer with an audience of followers, who posts about sellers."""

    @property
    def followers(self) -> np.ndarray:
        """Rows of this influencer's followers."""
        return self.model.follows.followers_of(self.row)

    credibility = Entry("buyers_state", "credibility", float)
    """How much followers weigh this influencer's posts, in [0, 1]."""


class Seller(RowView):
    """A seller: a view of its row of the seller arrays."""

    @property
    def strategy(self) -> str:
        """Name of the seller's strategy."""
        return list(STRATEGIES)[self.model.sellers_state.strategy[self.row]]

    alive = Entry("sellers_state", "alive", bool)
    """Still in the market."""
    cash = Entry("sellers_state", "cash", int)
    """Cash in cents."""
    offering = Entry("sellers_state", "offering")
    """The offering's position in expectation space (a view of its row)."""


class AgentEngine:
    """The per-agent reference engine: every buyer and influencer phase as agent methods.

    Agents are visited in a random order (``AgentSet.shuffle``) to show that the order does not
    matter: every phase decides from the state at its start, then commits.
    """

    name = "agent"

    def __init__(self, shuffle: bool = True) -> None:
        """Visit agents in a random order (``shuffle``), or in row order."""
        self.shuffle = shuffle

    def attach(self, model: Market) -> None:
        """Create the buyer and influencer agents (views of their rows)."""
        model.buyers  # noqa: B018 - creates the views

    def _visit(self, model: Market, rows: np.ndarray) -> mesa.agent.AgentSet:
        agents = mesa.agent.AgentSet([model.buyer_agent(int(r)) for r in rows],
                                     random=model.random)
        return agents.shuffle() if self.shuffle else agents

    def drift(self, model: Market) -> None:
        """Phase 1 for every buyer."""
        self._visit(model, np.arange(model.n_buyers)).do("drift")

    def needs(self, model: Market, drawn: np.ndarray) -> None:
        """Phase 2 for every buyer."""
        self._visit(model, np.arange(model.n_buyers)).do("feel_need", drawn)

    def conversations(self, model: Market, d: dr.ConversationDraws) -> None:
        """Phase 3: every buyer with a need asks its contacts, then all commit."""
        pos = {int(r): i for i, r in enumerate(d.rows)}
        talkers = self._visit(model, d.rows)
        talks = talkers.map(lambda a: (a, a.ask_contacts(d, pos[a.row])))
        for agent, talk in talks:
            agent.learn_from_contacts(talk)

    def posts(self, model: Market, d: dr.PostDraws) -> None:
        """Phase 4: posting influencers deliver posts, then followers read them.

        Then the posters found out lose credibility.
        """
        inbox = Inbox()
        index = {int(r): i for i, r in enumerate(d.posters)}
        self._visit(model, d.posters).do(lambda a: a.post(d, index[a.row], inbox))
        readers = np.array(sorted(inbox.posts), dtype=np.int64)
        self._visit(model, readers).do(lambda a: a.read_posts(inbox.posts[a.row], inbox))
        b, loss = model.buyers_state, model.cfg.market.credibility_loss
        for poster, hits in inbox.exposed.items():
            b.credibility[poster] = rules.credibility_after(b.credibility[poster], -hits, loss)
            b.exposed[poster] += hits
            model.step_counts["exposures"] += hits

    def marketing(self, model: Market, ads: dr.AdDraws, trials: Trials) -> None:
        """Phase 5: each reached buyer sees its ads, and each seeded buyer tries the offering."""
        claims = model.seller_claim(np.array(ads.sellers, dtype=np.int64))
        seen: dict[int, list[tuple[int, float]]] = {}
        for s, reached, claim in zip(ads.sellers, ads.reached, claims, strict=True):
            for row in reached:
                seen.setdefault(int(row), []).append((s, float(claim)))
        tried: dict[int, list[tuple[int, float]]] = {}
        for s, row, z in zip(trials.sellers, trials.buyers, trials.noise, strict=True):
            tried.setdefault(int(row), []).append((int(s), float(z)))
        rows = np.array(sorted(set(seen) | set(tried)), dtype=np.int64)
        self._visit(model, rows).do(
            lambda a: a.see_marketing(seen.get(a.row, []), tried.get(a.row, [])))

    def purchase(self, model: Market, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Phase 6: each buyer with a need chooses; returns the choices in row order."""
        pos = {int(r): i for i, r in enumerate(rows)}
        choice = np.full(rows.size, -1, dtype=np.int64)
        for agent, pick in self._visit(model, rows).map(
                lambda a: (a, a.choose_seller(u[pos[a.row]]))):
            choice[pos[agent.row]] = pick
        return choice

    def experience(self, model: Market, rows: np.ndarray, sellers: np.ndarray,
                   noise: np.ndarray) -> np.ndarray:
        """Phase 7: buyers who bought learn; then advisors are credited and rewarded.

        Returns the experienced fit of each purchase, in row order.
        """
        pos = {int(r): i for i, r in enumerate(rows)}
        outcomes = self._visit(model, rows).map(
            lambda a: (a, a.experience(int(sellers[pos[a.row]]), noise[pos[a.row]],
                                       int(model.paid[pos[a.row]]),
                                       int(model.units[pos[a.row]]))))
        felt = np.zeros(rows.size)
        credibility: dict[int, float] = {}
        for agent, outcome in outcomes:
            felt[pos[agent.row]] = outcome.felt
            agent.reward_advisor(outcome, credibility)
        b, rate = model.buyers_state, model.cfg.market.credibility_rate
        for who, delta in credibility.items():
            b.credibility[who] = rules.credibility_after(b.credibility[who], delta, rate)
        return felt

    def economy(self, model: Market, burn: dr.DecayDraws) -> None:
        """Phase 8 (buyers' part): every buyer with currency cashes out and burns."""
        rows = np.flatnonzero(model.buyers_state.currency > 0)
        self._visit(model, rows).do("spend_currency", burn)
