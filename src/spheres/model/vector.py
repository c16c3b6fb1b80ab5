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
from spheres.model import rules
from spheres.model.market import Market
from spheres.model.state import AD, INFLUENCER_SRC, PEER

if TYPE_CHECKING:
    from spheres.model.strategies import Trials


class VectorEngine:
    """Buyer and influencer phases over whole arrays."""

    name = "vector"

    def __init__(self) -> None:
        """Start without the drift's working buffer (made on first use)."""
        self._move: np.ndarray | None = None

    def attach(self, model: Market) -> None:
        """Prepare for a model (nothing to build for this engine)."""

    # 1. Drift -------------------------------------------------------------------------------
    def drift(self, model: Market) -> None:
        """Expectations move toward the frontier plus each buyer's taste, at its own rate.

        ``rules.drift`` in place, through one kept buffer for the targets.
        """
        b = model.buyers_state
        if self._move is None or self._move.shape != b.expect.shape:
            self._move = np.empty_like(b.expect)  # kept: a fresh large array costs page faults
        target = np.add(model.frontier, b.taste, out=self._move)
        rules.drift(b.expect, target, b.drift_rate[:, None], out=b.expect)

    # 2. Needs -------------------------------------------------------------------------------
    def needs(self, model: Market, drawn: np.ndarray) -> None:
        """A buyer has a need this step with its own chance (the drawn mask)."""
        model.buyers_state.need[:] = drawn

    # 3. Conversations -----------------------------------------------------------------------
    def conversations(self, model: Market, d: dr.ConversationDraws) -> None:
        """Buyers with a need ask contacts what they know.

        They learn of sellers, blend beliefs (the contacts' claims), thank the helpful, and move
        toward the most advanced contact's expectations.
        """
        b, m, cfg = model.buyers_state, model.sellers_state, model.cfg
        rows, contacts = d.rows, d.contacts
        if rows.size == 0:
            return
        so = model.n_opened  # slots not yet opened take no part
        n, k_count = contacts.shape
        valid = contacts >= 0
        cs = np.where(valid, contacts, 0)
        # decisions, from the state at the start of the phase
        own = np.take(b.aware, rows, axis=0)[:, :so]
        alive = m.alive[:so]
        every_alive, every_valid = bool(alive.all()), bool(valid.all())
        weight = rules.advice_weight(cfg.market.peer_weight, np.take(b.trust[:, 0], rows)[:, None],
                                     model.reputation_of(cs))
        # Only the (asker, seller) cells some contact tells about are touched: their sums of
        # weighted claims and weights, added contact by contact (the order of the sums).
        belief = b.belief.reshape(-1)
        told = np.zeros((n, so), dtype=bool)
        pending = ~own  # sellers not yet known (nor heard of earlier in the contact order)
        fresh_at, fresh_k, tells = [], [], []
        for k in range(k_count):
            # the askers with a k-th contact (all of them, or those with more needs)
            sub = slice(None) if every_valid else np.flatnonzero(valid[:, k])
            c = cs[sub, k]
            heard = rules.hears(np.take(b.aware, c, axis=0)[:, :so], own[sub],
                                d.lucky[sub, k, :so])
            if not every_alive:
                heard &= alive
            fresh = heard & pending[sub]
            pending[sub] ^= fresh
            told[sub] |= heard
            at = np.flatnonzero(heard)  # faster than a 2-D nonzero
            j = at // so  # among the askers with a k-th contact
            i = j if every_valid else sub[j]
            at = i * so + (at - j * so)
            tells.append((at, weight[i, k], belief[b.cells(c[j], at - i * so)]))
            j = np.flatnonzero(fresh)
            i = j // so if every_valid else sub[j // so]
            fresh_at.append(i * so + j % so)
            fresh_k.append(np.full(j.size, k))
        cells = np.flatnonzero(told)
        num = np.zeros(cells.size)
        den = np.zeros(cells.size)
        for at, wk, said in tells:
            pos = np.searchsorted(cells, at)
            num[pos] += wk * said
            den[pos] += wk
        some = den > 0
        cells, num, den = cells[some], num[some], den[some]
        ci, cj = np.divmod(cells, so)
        new_belief = rules.blend(b.belief_at(rows[ci], cj), num, den)
        claims = rules.heard_claim(num, den)
        found = np.concatenate(fresh_at)
        order = np.argsort(found)
        found, first = found[order], np.concatenate(fresh_k)[order]
        ri, si = np.divmod(found, so)
        introducer = cs[ri, first]
        known = own.reshape(-1)[cells]
        fresh_belief = new_belief[~known]
        if fresh_belief.size < found.size:  # a fresh seller no weight told of keeps the prior
            fresh_belief = np.full(found.size, b.prior)
            fresh_belief[np.searchsorted(found, cells[~known])] = new_belief[~known]
        ty = rules.gated(cfg.mechanisms.thank_you, cfg.currency.thank_you)
        thanking = ty > 0
        if thanking:
            helpful = np.zeros((n, k_count), dtype=bool)
            helpful[ri, first] = True
            pays = rules.thanked(helpful, ty, np.take(b.currency, rows))
        pulled = self._pull(model, rows, cs, valid) if cfg.mechanisms.peer_pull else None
        # writes
        memory = model.memory
        memory.revise(rows[ci[known]], cj[known], new_belief[known])
        memory.make_aware(rows[ri], si, introducer, PEER, phase=3, belief=fresh_belief)
        memory.hear_claims(rows[ci], cj, claims, PEER)
        np.add.at(b.talks, contacts[valid] if not every_valid else contacts.reshape(-1), 1)
        if thanking:
            pi, pk = np.nonzero(pays)
            model.ledger.transfer(rows[pi], contacts[pi, pk], ty, "thank_you")
            np.add.at(b.thanks, contacts[pi, pk], 1)
        if pulled is not None:
            moved, expect = pulled
            b.expect[moved] = expect

    @staticmethod
    def _pull(model: Market, rows: np.ndarray, cs: np.ndarray, valid: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        """Askers pulled by a contact further along, and their expectations moved toward it.

        The askers are those whose most advanced contact knows a frontier further along than
        they do (``rules.most_advanced``); they move by ``rules.pull``.
        """
        b = model.buyers_state
        known = rules.known_frontier(np.take(b.expect, cs, axis=0), np.take(b.taste, cs, axis=0))
        ahead = np.where(valid, rules.advance(known, model.direction), -np.inf)
        mine = rules.known_frontier(np.take(b.expect, rows, axis=0),
                                    np.take(b.taste, rows, axis=0))
        best, go = rules.most_advanced(ahead, rules.advance(mine, model.direction))
        gap = known[np.flatnonzero(go), best[go]] - mine[go]
        return rows[go], rules.pull(np.take(b.expect, rows[go], axis=0), gap,
                                    model.cfg.market.peer_pull)

    # 4. Influencer posts --------------------------------------------------------------------
    def posts(self, model: Market, d: dr.PostDraws) -> None:
        """Posting influencers recommend one seller; reached followers learn and blend claims.

        A follower who finds out an undisclosed sponsored post ignores it and trusts influencers
        less, and the poster loses credibility.
        """
        b, mk = model.buyers_state, model.cfg.market
        if d.posters.size == 0:
            return
        topic, claim, factor, hidden = model.post_topics(d.posters)
        t_edge = topic[d.owner]
        ok = t_edge >= 0
        f, o, t_edge, found = d.followers[ok], d.owner[ok], t_edge[ok], d.found[ok]
        caught = rules.found_out(hidden[o], found)
        # decisions, from the state at the start of the phase
        read = ~caught
        fr, orr, tr = f[read], o[read], t_edge[read]
        w = rules.post_weight(np.take(b.trust[:, 1], fr), factor[orr])
        # the posts each follower read about each seller; of several, the one of lowest random
        # key introduces the seller to a follower who did not know it
        tie = dr.tie_keys(model, "post_credit", fr, d.posters[orr])
        pair = fr.astype(np.int64) * b.width + tr
        order = np.lexsort((tie, pair))
        starts = np.ones(order.size, dtype=bool)
        starts[1:] = pair[order][1:] != pair[order][:-1]
        first, inv = order[starts], np.empty(order.size, dtype=np.int64)
        inv[order] = np.cumsum(starts) - 1
        num = np.bincount(inv, weights=w * claim[orr], minlength=first.size)
        den = np.bincount(inv, weights=w, minlength=first.size)
        r, s = fr[first], tr[first]
        blended = rules.blend(b.belief_at(r, s), num, den)
        # writes
        b.posts[d.posters[topic >= 0]] += d.counts[topic >= 0]
        b.reads += np.bincount(d.posters[o], minlength=model.n_buyers)
        model.memory.believe(r, s, blended, d.posters[orr[first]], INFLUENCER_SRC, phase=4)
        said = den > 0
        model.memory.hear_claims(r[said], s[said], rules.heard_claim(num[said], den[said]),
                                 INFLUENCER_SRC)
        if caught.any():
            readers, times = np.unique(f[caught], return_counts=True)
            b.trust[readers, 1] = rules.shrink(b.trust[readers, 1], mk.exposure_penalty, times)
            posters, hits = np.unique(d.posters[o[caught]], return_counts=True)
            b.credibility[posters] = rules.credibility_after(b.credibility[posters], -hits,
                                                             mk.credibility_loss)
            b.exposed[posters] += hits
            model.step_counts["exposures"] += int(caught.sum())

    # 5. Marketing ---------------------------------------------------------------------------
    def marketing(self, model: Market, ads: dr.AdDraws, trials: Trials) -> None:
        """Reached buyers learn of the advertiser and blend its claim; seeded buyers try.

        Each reader's trust in sellers moves with how well the ads it saw fit it (above or below
        the spam threshold); seeded buyers try the offering and learn its fit.
        """
        b, m, cfg = model.buyers_state, model.sellers_state, model.cfg
        mk = cfg.market
        if ads.sellers:  # each (buyer, seller) cell is reached at most once: all ads at once
            r = np.concatenate(ads.reached)
            s = np.repeat(np.array(ads.sellers, dtype=np.int64),
                          [reached.size for reached in ads.reached])
            c = np.repeat(model.seller_claim(np.array(ads.sellers, dtype=np.int64)),
                          [reached.size for reached in ads.reached])
            w = rules.ad_weight(mk.ad_weight, b.trust[r, 2])
            model.memory.believe(r, s, rules.blend(b.belief_at(r, s), w * c, w), s, AD, phase=5)
            model.memory.hear_claims(r, s, c, AD)
            if cfg.mechanisms.spam:
                rows, at = np.unique(r, return_inverse=True)
                gap = np.bincount(at, weights=rules.relevance(b.expect[r], m.offering[s],
                                                              mk.fit_width, mk.spam_threshold))
                b.trust[rows, 2] = rules.trust_moved(b.trust[rows, 2], gap, mk.spam_rate)
        if trials.buyers.size:
            r, s = trials.buyers, trials.sellers
            felt = rules.experienced_fit(b.expect[r], m.offering[s], mk.fit_width,
                                         mk.experience_noise, trials.noise)
            model.memory.believe(r, s, rules.learn(b.belief_at(r, s), felt, mk.learning_rate), s,
                                 AD, phase=5)

    # 6. Purchase ----------------------------------------------------------------------------
    def purchase(self, model: Market, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Each buyer with a need picks a known seller by logit, or buys nothing (-1)."""
        b, m, mk = model.buyers_state, model.sellers_state, model.cfg.market
        who, seller, cell = model.memory.known_pairs(rows)
        util = rules.utility(b.belief.reshape(-1)[cell], m.price[seller],
                             mk.choice_beta, mk.price_weight, mk.reference_price)
        return rules.choose_known(who, seller, util,
                                  rules.outside_utility(mk.choice_beta, mk.outside_option), u)

    # 7. Experience --------------------------------------------------------------------------
    def experience(self, model: Market, rows: np.ndarray, sellers: np.ndarray,
                   noise: np.ndarray) -> np.ndarray:
        """Buyers learn the true fit; returns the experienced fit of each purchase.

        They update their belief and their trust in the source of the last claim, and reward
        helpful advisors.
        """
        b, m, cfg = model.buyers_state, model.sellers_state, model.cfg
        mk, mech = cfg.market, cfg.mechanisms
        felt = rules.experienced_fit(b.expect[rows], m.offering[sellers], mk.fit_width,
                                     mk.experience_noise, noise)
        told = model.memory.experience(rows, sellers, felt, mk.learning_rate)
        satisfied = rules.satisfied(felt, mk.satisfaction)
        kind, who = told.intro_kind, told.introducer
        has = told.claim_kind > 0
        rate = rules.gated(mech.trust, mk.trust_rate)
        if has.any() and rate > 0:
            col = told.claim_kind[has].astype(np.int64) - 1
            r = rows[has]
            b.trust[r, col] = rules.trust_after(b.trust[r, col], felt[has], told.claim[has], rate)
        by_influencer = kind == INFLUENCER_SRC
        if by_influencer.any():
            p = who[by_influencer]
            touched, inv = np.unique(p, return_inverse=True)
            delta = np.bincount(inv, weights=rules.credibility_delta(satisfied[by_influencer],
                                                                     b.credibility[p]))
            b.credibility[touched] = rules.credibility_after(b.credibility[touched], delta,
                                                             mk.credibility_rate)
        # an experience teaches once; what advice caused and earns counts the units bought
        advised = rules.advised(kind)
        helped = advised & satisfied
        np.add.at(b.caused, who[advised], model.units[advised])
        np.add.at(b.caused_spend, who[advised], model.paid[advised])
        np.add.at(b.helped, who[helped], model.units[helped])
        reward = rules.gated(mech.advice_reward, cfg.currency.advice_reward)
        if reward > 0:
            model.ledger.mint(who[helped], reward * model.units[helped], "advice")
        return felt

    # 8. Currency economy (buyers' part) -----------------------------------------------------
    def economy(self, model: Market, burn: dr.DecayDraws) -> None:
        """Buyers cash currency out into their wallets above a threshold; then attention fades."""
        b, k, mech = model.buyers_state, model.cfg.currency, model.cfg.mechanisms
        if mech.cashout:
            rows = np.flatnonzero(rules.may_convert(b.currency, k.cashout_threshold))
            pts = rules.cashout_points(b.currency[rows], k.cashout_threshold, k.cashout_rate)
            rows, pts = rows[pts > 0], pts[pts > 0]
            model.ledger.convert_out(rows, pts, "cashout")
            money = rules.cents(pts, k.cents_per_point)
            b.money[rows] += money
            b.money_in[rows] += money
        if mech.decay:
            rows = np.flatnonzero(b.currency > 0)
            pts = rules.burn_points(b.currency[rows], k.decay, burn.at(rows))
            rows, pts = rows[pts > 0], pts[pts > 0]
            model.ledger.burn(rows, pts, "decay")
