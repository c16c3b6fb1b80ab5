"""The vectorised engine: the buyer and influencer phases as numpy operations over the state.

Each function reads the state as it was at the start of its phase, computes every buyer's
decision from it, and then writes the results (synchronous update). The per-agent engine in
``spheres.model.agents`` computes the same phases one agent at a time from the same draws; both give
the same results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from spheres.model import draws as dr
from spheres.model.state import AD, INFLUENCER_SRC, PEER

if TYPE_CHECKING:
    from spheres.model.model import MarketModel


def fit(expect: np.ndarray, offering: np.ndarray, width: float) -> np.ndarray:
    """True fit ``exp(-|e - o|^2 / (2 w^2))`` of offerings for buyers (broadcast, last axis D)."""
    diff = expect - offering
    return np.exp(-(diff * diff).sum(axis=-1) / (2.0 * width * width))


def choose(util: np.ndarray, avail: np.ndarray, outside: float, u: np.ndarray) -> np.ndarray:
    """Logit choice over available sellers against the outside option; -1 means no purchase.

    ``util`` and ``avail`` have sellers on the last axis; ``u`` is one uniform per chooser. The
    chooser takes the first option whose cumulative weight exceeds ``u`` times the total, the
    outside option first. Loops run over the (few) sellers, each step vectorised over choosers.
    """
    masked = np.where(avail, util, -np.inf)
    sellers = range(util.shape[-1])
    top = np.full(util.shape[:-1], outside, dtype=float)
    for s in sellers:
        top = np.maximum(top, masked[..., s])
    weights = np.exp(masked - top[..., None])  # exactly 0 where unavailable
    w0 = np.exp(outside - top)
    total = w0
    for s in sellers:
        total = total + weights[..., s]
    x = u * total
    cum = w0
    choice = np.full(util.shape[:-1], -1, dtype=np.int64)
    open_ = x >= w0
    for s in sellers:
        cum = cum + weights[..., s]
        hit = open_ & (x < cum)
        choice = np.where(hit, s, choice)
        open_ = open_ & ~hit
    return choice


class VectorEngine:
    """Buyer and influencer phases over whole arrays."""

    name = "vector"

    def __init__(self) -> None:
        self._move: np.ndarray | None = None

    def attach(self, model: MarketModel) -> None:
        """Prepare for a model (nothing to build for this engine)."""

    # 1. Drift -------------------------------------------------------------------------------
    def drift(self, model: MarketModel) -> None:
        """Expectations move toward the frontier plus each buyer's taste."""
        b = model.buyers_state
        rate = model.cfg.market.drift_rate
        if self._move is None or self._move.shape != b.expect.shape:
            self._move = np.empty_like(b.expect)  # kept: a fresh large array costs page faults
        move = self._move
        np.add(model.frontier, b.taste, out=move)
        move -= b.expect
        move *= rate
        b.expect += move

    # 2. Needs -------------------------------------------------------------------------------
    def needs(self, model: MarketModel, drawn: np.ndarray) -> None:
        """A buyer has a need this step with probability ``p_need`` (the drawn mask)."""
        model.buyers_state.need[:] = drawn

    # 3. Conversations -----------------------------------------------------------------------
    def conversations(self, model: MarketModel, d: dr.ConversationDraws) -> None:
        """Buyers with a need ask contacts; they learn of sellers, blend beliefs, say thank you."""
        b, m, cfg = model.buyers_state, model.sellers_state, model.cfg
        rows, contacts = d.rows, d.contacts
        if rows.size == 0:
            return
        su = model.n_used
        n, k_count = contacts.shape
        valid = contacts >= 0
        cs = np.where(valid, contacts, 0)
        # decisions, from the state at the start of the phase
        own = np.take(b.aware, rows, axis=0)
        alive = m.alive[:su]
        every_alive, every_valid = bool(alive.all()), bool(valid.all())
        weight = (cfg.market.peer_weight * np.take(b.trust[:, 0], rows)[:, None]
                  * model.reputation_of(cs))
        pull = cfg.mechanisms.peer_pull
        num = np.zeros((n, su))
        den = np.zeros((n, su))
        who = np.full((n, su), -1, dtype=np.int64)
        first = np.zeros((n, su), dtype=np.int64)
        pending = ~own  # sellers not yet known (nor heard of earlier in the contact order)
        total = np.zeros((n, model.dims))
        for k in range(k_count):
            c = cs[:, k]
            heard = np.take(b.aware, c, axis=0) & (own | d.lucky[:, k, :])
            if not every_alive:
                heard &= alive
            if not every_valid:
                heard &= valid[:, k, None]
            fresh = heard & pending
            pending ^= fresh
            np.copyto(who, c[:, None], where=fresh)
            np.copyto(first, k, where=fresh)
            wk = heard * weight[:, k, None]
            num += wk * np.take(b.belief, c, axis=0)
            den += wk
            if pull:
                near = np.take(b.expect, c, axis=0)
                total += near if every_valid else np.where(valid[:, k, None], near, 0.0)
        new_belief = (np.take(b.belief, rows, axis=0) + num) / (1.0 + den)
        ri, si = np.nonzero(who >= 0)
        helpful = np.zeros((n, k_count), dtype=bool)
        helpful[ri, first[ri, si]] = True
        ty = cfg.currency.thank_you
        balance = np.take(b.currency, rows)
        pays = np.zeros_like(helpful)
        owed = np.zeros(n, dtype=np.int64)
        for k in range(k_count):
            owed += helpful[:, k]
            pays[:, k] = helpful[:, k] & (owed * ty <= balance)
        # writes
        b.belief[rows] = new_belief
        model.make_aware(rows[ri], si, who[ri, si], PEER, phase=3)
        np.add.at(b.talks, contacts[valid] if not every_valid else contacts.reshape(-1), 1)
        if cfg.mechanisms.currency and ty > 0:
            pi, pk = np.nonzero(pays)
            model.ledger.transfer(rows[pi], contacts[pi, pk], ty)
        if pull:
            cnt = valid.sum(axis=1)
            talked = cnt > 0
            mean = total[talked] / cnt[talked, None]
            moved = rows[talked]
            expect = np.take(b.expect, moved, axis=0)
            b.expect[moved] = expect + cfg.market.peer_pull * (mean - expect)

    # 4. Influencer posts --------------------------------------------------------------------
    def posts(self, model: MarketModel, d: dr.PostDraws) -> None:
        """Posting influencers recommend one seller; reached followers learn and blend beliefs."""
        b = model.buyers_state
        if d.posters.size == 0:
            return
        topic, claim, factor = model.post_topics(d.posters)
        b.posts[d.posters[topic >= 0]] += 1
        t_edge = topic[d.owner]
        ok = t_edge >= 0
        f, o, t_edge = d.followers[ok], d.owner[ok], t_edge[ok]
        if f.size == 0:
            return
        w = np.take(b.trust[:, 1], f) * factor[o]
        cells, first, inv = np.unique(b.cells(f, t_edge), return_index=True, return_inverse=True)
        num = np.bincount(inv, weights=w * claim[o], minlength=cells.size)
        den = np.bincount(inv, weights=w, minlength=cells.size)
        new = ~b.aware.reshape(-1)[cells]
        belief = b.belief.reshape(-1)
        belief[cells] = (belief[cells] + num) / (1.0 + den)
        model.make_aware(f[first[new]], t_edge[first[new]], d.posters[o[first[new]]],
                         INFLUENCER_SRC, phase=4)

    # 5. Advertising -------------------------------------------------------------------------
    def advertising(self, model: MarketModel, d: dr.AdDraws) -> None:
        """Reached buyers learn of the advertiser; ads that miss what they want cost trust."""
        b, m, cfg = model.buyers_state, model.sellers_state, model.cfg
        trust0 = [b.trust[r, 2] for r in d.reached]
        spam_rows = []
        for s, r, t0 in zip(d.sellers, d.reached, trust0, strict=True):
            w = cfg.market.ad_weight * t0
            cells = b.cells(r, s)
            belief = b.belief.reshape(-1)
            belief[cells] = (belief[cells] + w * cfg.market.ad_claim) / (1.0 + w)
            new = ~b.aware.reshape(-1)[cells]
            seller = np.full(int(new.sum()), s)
            model.make_aware(r[new], seller, seller, AD, phase=5)
            m.costs[s] += cfg.sellers.ad_cost * r.size
            if cfg.mechanisms.spam_penalty:
                spam_rows.append(r[fit(b.expect[r], m.offering[s], cfg.market.fit_width)
                                   < cfg.market.spam_threshold])
        if spam_rows:
            hits = np.concatenate(spam_rows)
            rows, count = np.unique(hits, return_counts=True)
            b.trust[rows, 2] *= (1.0 - cfg.market.spam_penalty) ** count

    # 6. Purchase ----------------------------------------------------------------------------
    def purchase(self, model: MarketModel, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Each buyer with a need picks a known seller by logit, or buys nothing (-1)."""
        b, m, mk = model.buyers_state, model.sellers_state, model.cfg.market
        su = model.n_used
        avail = np.take(b.aware, rows, axis=0) & m.alive[:su]
        util = mk.choice_beta * (np.take(b.belief, rows, axis=0)
                                 - mk.price_weight * m.price[:su] / mk.reference_price)
        return choose(util, avail, mk.choice_beta * mk.outside_option, u)

    # 7. Experience --------------------------------------------------------------------------
    def experience(self, model: MarketModel, rows: np.ndarray, sellers: np.ndarray,
                   noise: np.ndarray) -> None:
        """Buyers learn the true fit, update belief and trust, and reward helpful advisors."""
        b, m, cfg = model.buyers_state, model.sellers_state, model.cfg
        mk = cfg.market
        felt = fit(b.expect[rows], m.offering[sellers], mk.fit_width) + mk.experience_noise * noise
        cells = b.cells(rows, sellers)
        belief = b.belief.reshape(-1)
        before = belief[cells]
        belief[cells] = before + mk.learning_rate * (felt - before)
        satisfied = felt >= mk.satisfaction
        kind = b.intro_kind.reshape(-1)[cells]
        who = b.introducer.reshape(-1)[cells]
        if cfg.mechanisms.trust:
            has = kind > 0
            col = kind[has].astype(np.int64) - 1
            r = rows[has]
            b.trust[r, col] += mk.trust_rate * (satisfied[has] - b.trust[r, col])
        by_influencer = kind == INFLUENCER_SRC
        if by_influencer.any():
            p = who[by_influencer]
            touched, inv = np.unique(p, return_inverse=True)
            delta = np.bincount(inv, weights=satisfied[by_influencer] - b.credibility[p])
            b.credibility[touched] = np.clip(
                b.credibility[touched] + mk.credibility_rate * delta, 0.0, 1.0)
        advised = (kind == PEER) | by_influencer
        np.add.at(b.caused, who[advised], 1)
        np.add.at(b.caused_spend, who[advised], m.price[sellers[advised]])
        if cfg.mechanisms.currency and cfg.currency.advice_reward > 0:
            rewarded = advised & satisfied
            model.ledger.mint(who[rewarded], cfg.currency.advice_reward)

    # 8. Currency economy (buyers' part) -----------------------------------------------------
    def economy(self, model: MarketModel) -> None:
        """Buyers convert currency into money above a threshold; then attention fades (burn)."""
        b, k = model.buyers_state, model.cfg.currency
        rows = np.flatnonzero(b.currency >= max(k.cashout_threshold, 1))
        pts = np.floor(b.currency[rows] * k.cashout_share).astype(np.int64)
        rows, pts = rows[pts > 0], pts[pts > 0]
        model.ledger.convert_out(rows, pts)
        b.money[rows] += pts * k.cents_per_point
        rows = np.flatnonzero(b.currency > 0)
        burn = np.ceil(b.currency[rows] * k.decay).astype(np.int64)
        rows, burn = rows[burn > 0], burn[burn > 0]
        model.ledger.burn(rows, burn)
