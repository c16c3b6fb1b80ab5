"""The formulas of the model, each written once: both engines call these.

Each works on numbers and on numpy arrays alike (element by element, or along the last axis where
it says so), so the vectorised engine passes whole arrays and the per-agent engine one buyer's
values; the two engines then differ only in how they iterate and commit. docs/ODD.md gives the
same formulas as equations and names the function of each.
"""

from __future__ import annotations

import math

import numpy as np

from spheres.model.state import INFLUENCER_SRC, PEER

Array = np.ndarray | float


# -- time: from a year to a step ---------------------------------------------------------------
def step_chance(rate: float, steps_per_year: float) -> float:
    """Chance of an event in one step at ``rate`` per year: ``1 - exp(-rate / n)``."""
    return -math.expm1(-rate / steps_per_year)


def step_share(per_year: float, steps_per_year: float) -> float:
    """The step's part of an amount per year that grows with time: ``amount / n``."""
    return per_year / steps_per_year


def step_spread(per_root_year: float, steps_per_year: float) -> float:
    """The s.d. of one step of a random walk whose s.d. over a year is given: ``s / sqrt(n)``."""
    return per_root_year / math.sqrt(steps_per_year)


def step_cents(per_year: int, steps_per_year: float) -> int:
    """Whole cents per step of an amount per year, rounded half to even."""
    return round(per_year / steps_per_year)


def step_count(weeks: int, steps_per_year: float, weeks_per_year: int) -> int:
    """Whole steps in a duration given in weeks, rounded half to even."""
    return round(weeks * steps_per_year / weeks_per_year)


def hazard_scaled(p: Array, factor: Array) -> Array:
    """Chance of an event at ``factor`` times the hazard of chance ``p``: ``1 - (1 - p)^factor``."""
    return -np.expm1(np.asarray(factor) * np.log1p(-np.asarray(p, dtype=float)))


# -- fit and expectations -----------------------------------------------------------------------
def fit(expect: np.ndarray, offering: np.ndarray, width: float) -> np.ndarray:
    """True fit ``exp(-|e - o|^2 / (2 w^2))`` of offerings for buyers (broadcast, last axis D)."""
    diff = expect - offering
    return np.exp(-(diff * diff).sum(axis=-1) / (2.0 * width * width))


def experienced_fit(expect: np.ndarray, offering: np.ndarray, width: float, noise: float,
                    z: Array) -> np.ndarray:
    """Fit a buyer feels on trying an offering: the true fit plus ``noise`` times a normal ``z``."""
    return fit(expect, offering, width) + noise * z


def satisfied(felt: Array, threshold: float) -> Array:
    """Whether an experience satisfies: ``felt >= threshold``."""
    return felt >= threshold


def relevance(expect: np.ndarray, offering: np.ndarray, width: float, threshold: float
              ) -> np.ndarray:
    """How far an ad's offering fits its reader above ``threshold``: ``fit - threshold``.

    Negative for an ad that misses what the reader wants (spam), positive for one that fits.
    """
    return fit(expect, offering, width) - threshold


def drift(expect: np.ndarray, target: np.ndarray, rate: Array,
          out: np.ndarray | None = None) -> np.ndarray:
    """Expectation moved toward ``target`` (frontier plus taste) at the buyer's own rate.

    ``e + rate (target - e)``. With ``out`` the result is written there (``out=expect`` moves
    the expectations in place) and ``target`` serves as working space: its values are lost.
    """
    move = np.subtract(target, expect, out=None if out is None else target)
    move *= rate
    return np.add(expect, move, out=out)


def known_frontier(expect: np.ndarray, taste: np.ndarray) -> np.ndarray:
    """Where a buyer believes the frontier is: its expectation minus its taste."""
    return expect - taste


def advance(known: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """How far along the frontier's direction a known frontier (expectation minus taste) is."""
    return (known * direction).sum(axis=-1)


def most_advanced(ahead: np.ndarray, mine: Array) -> tuple[np.ndarray, np.ndarray]:
    """The contact furthest along, and whether it is ahead of the buyer.

    ``ahead`` holds the contacts' advances on the last axis (``-inf`` where there is no
    contact), ``mine`` the buyer's own; the first contact wins a tie.
    """
    best = np.argmax(ahead, axis=-1)
    top = np.take_along_axis(ahead, np.expand_dims(best, -1), axis=-1)[..., 0]
    return best, top > mine


def pull(expect: np.ndarray, gap: np.ndarray, rate: float) -> np.ndarray:
    """Expectation moved by ``rate`` of the gap to a more advanced contact's known frontier."""
    return expect + rate * gap


# -- weights, beliefs and claims ----------------------------------------------------------------
def reputation(balance: Array, mean: float, cap: float) -> Array:
    """Weight multiplier of a buyer's advice: ``min((1 + c) / (1 + mean c), cap)``."""
    return np.minimum((1.0 + balance) / (1.0 + mean), cap)


def advice_weight(peer_weight: float, trust: Array, reputation: Array) -> Array:
    """Weight an asker gives a contact: ``peer_weight * trust in peers * reputation``."""
    return peer_weight * trust * reputation


def post_weight(trust: Array, factor: Array) -> Array:
    """Weight a follower gives a post: its trust in influencers times the post's factor."""
    return trust * factor


def ad_weight(weight: float, trust: Array) -> Array:
    """Weight a reached buyer gives an ad: ``ad_weight * trust in sellers``."""
    return weight * trust


def blend(belief: Array, num: Array, den: Array) -> Array:
    """Belief after hearing claims: ``(b + sum w x) / (1 + sum w)``."""
    return (belief + num) / (1.0 + den)


def heard_claim(num: Array, den: Array) -> Array:
    """The claim heard from several sources: their weighted mean ``sum w x / sum w``."""
    return num / den


def hears(contact_aware: np.ndarray, own_aware: np.ndarray, lucky: np.ndarray) -> np.ndarray:
    """Which sellers a buyer hears a contact speak of.

    Those the contact knows that the buyer knows too, or that word of mouth passes (``lucky``).
    """
    return contact_aware & (own_aware | lucky)


def learn(belief: Array, felt: Array, rate: float) -> Array:
    """Belief after an experience: ``b + alpha (felt - b)``."""
    return belief + rate * (felt - belief)


def claim(believed_fit: Array, overclaim: float) -> Array:
    """What a seller's ad or sponsored post claims: believed fit plus overclaim, in [0, 1]."""
    return np.clip(believed_fit + overclaim, 0.0, 1.0)


# -- trust and credibility ----------------------------------------------------------------------
def gated(on: bool, amount: Array) -> Array:
    """An amount or rate where its mechanism is on, else zero: a mechanism off moves nothing."""
    return amount if on else 0 * amount


def trust_moved(trust: Array, gap: Array, rate: float) -> Array:
    """Trust moved by evidence ``gap``: ``clip(t + rate t (1 - t) gap, 0, 1)``.

    Up when the evidence is positive, down when negative, by the same amount for the same size:
    the logistic factor ``t (1 - t)`` slows the move near 0 and 1, so that with ``rate <= 1``
    and ``|gap| <= 1`` trust stays inside (0, 1) without the clip.
    """
    return np.clip(trust + rate * trust * (1.0 - trust) * gap, 0.0, 1.0)


def trust_after(trust: Array, felt: Array, claim: Array, rate: float) -> Array:
    """Trust in the source of a claim after the experience it led to.

    ``clip(t + rate t (1 - t) (felt - claim), 0, 1)`` (:func:`trust_moved`): a source whose
    claims match experience on average keeps trust on average.
    """
    return trust_moved(trust, felt - claim, rate)


def shrink(value: Array, penalty: float, count: Array) -> Array:
    """``value (1 - penalty)^count``: a multiplicative loss per event (being found out)."""
    return value * (1.0 - penalty) ** count


def found_out(hidden: Array, recognised: Array) -> Array:
    """Whether a read finds out a post: undisclosed sponsorship recognised as advertising.

    ``recognised`` is the read's draw, true with probability ``p_exposure``.
    """
    return hidden & recognised


def advised(kind: Array) -> Array:
    """Whether a source of awareness is a buyer's advice (a peer's or an influencer's post)."""
    return (kind == PEER) | (kind == INFLUENCER_SRC)


def credibility_delta(satisfied: Array, credibility: Array) -> Array:
    """What one advised purchase adds to its influencer's credibility change: ``sat - c``."""
    return satisfied - credibility


def credibility_after(credibility: Array, delta: Array, rate: float) -> Array:
    """Credibility after advised purchases: ``clip(c + rate * sum(satisfied - c), 0, 1)``."""
    return np.clip(credibility + rate * delta, 0.0, 1.0)


# -- choice -------------------------------------------------------------------------------------
def utility(belief: Array, price: Array, beta: float, price_weight: float,
            reference_price: float) -> Array:
    """Logit utility of a seller: ``beta * (belief - price_weight * price / reference_price)``."""
    return beta * (belief - price_weight * price / reference_price)


def outside_utility(beta: float, outside_option: float) -> float:
    """Logit utility of buying nothing: ``beta * outside_option``."""
    return beta * outside_option


def group_max(who: np.ndarray, values: np.ndarray, n: int,
              floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The largest value of each group ``0..n-1`` of ``values`` (sorted by group ``who``).

    Returns the largest value (``floor`` if larger, or if the group is empty), the group's size
    and where it starts in ``values``.
    """
    count = np.bincount(who, minlength=n)
    start = np.cumsum(count) - count
    top = np.full(n, floor, dtype=float)
    has = count > 0
    if who.size:
        top[has] = np.maximum(top[has], np.maximum.reduceat(values, start[has]))
    return top, count, start


def best(value: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Position of the largest value along the last axis; of equal largest, the lowest ``tie``.

    ``tie`` holds random keys (``draws.tie_keys``), so equals are chosen among at random.
    """
    top = np.max(value, axis=-1, keepdims=True)
    return np.argmin(np.where(value == top, tie, np.inf), axis=-1)


def top_k(key: np.ndarray, tie: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest keys, best first; equal keys in the order of ``tie``.

    ``tie`` holds random keys (``draws.tie_keys``), so equals at the cut are chosen at random.
    """
    return np.lexsort((tie, -key))[:k]


def choose_known(who: np.ndarray, seller: np.ndarray, util: np.ndarray, outside: float,
                 u: np.ndarray) -> np.ndarray:
    """Logit choice of each chooser among its available sellers; -1 means no purchase.

    The options are (chooser, seller) pairs sorted by chooser then seller, with their
    utilities; ``u`` is one uniform per chooser. The chooser takes the first option whose
    cumulative weight exceeds ``u`` times the total, the outside option first and then its
    sellers in row order (weights added one after the other).
    """
    n = u.size
    top, count, start = group_max(who, util, n, outside)
    w0 = np.exp(outside - top)
    grid = np.zeros((n, int(count.max(initial=0)) + 1))
    grid[:, 0] = w0
    rank = np.arange(who.size) - start[who]
    grid[who, rank + 1] = np.exp(util - top[who])
    cum = np.cumsum(grid, axis=1)
    x = u * cum[:, -1]
    # the cumulative weights never decrease: the first seller whose sum exceeds x is the number
    # of sellers whose sums do not
    passed = np.count_nonzero(cum[:, 1:] <= x[:, None], axis=1)
    hit = (x >= w0) & (passed < count)
    choice = np.full(n, -1, dtype=np.int64)
    choice[hit] = seller[start[hit] + passed[hit]]
    return choice


def choose(util: np.ndarray, avail: np.ndarray, outside: float, u: Array) -> np.ndarray:
    """Logit choice over available sellers against the outside option; -1 means no purchase.

    ``util`` and ``avail`` have sellers on the last axis (one chooser, or one row per chooser);
    ``u`` is one uniform per chooser. See :func:`choose_known`.
    """
    util2, avail2 = np.atleast_2d(util), np.atleast_2d(avail)
    who, seller = np.nonzero(avail2)
    choice = choose_known(who, seller, util2[who, seller], outside, np.atleast_1d(u))
    return choice.reshape(np.shape(u))


# -- social currency ----------------------------------------------------------------------------
def cents(points: Array, cents_per_point: int) -> Array:
    """Money for points converted out of the economy (a cash-out, a perk's discount).

    ``points * cents_per_point``.
    """
    return points * cents_per_point


def paid_from_wallet(wallet: Array, price: Array) -> Array:
    """Cents of a price paid from the buyer's wallet (money from points): as much as it holds.

    The rest is paid from income.
    """
    return np.minimum(wallet, price)


def may_convert(balance: Array, threshold: int) -> Array:
    """Whether a balance may turn into money (cash-out, perks): at least the threshold and 1."""
    return balance >= max(threshold, 1)


def cashout_points(balance: Array, threshold: int, share: float) -> Array:
    """Points converted into money: ``floor(share * balance)`` at or above the threshold."""
    return np.where(may_convert(balance, threshold),
                    np.floor(balance * share), 0).astype(np.int64)


def burn_points(balance: Array, decay: float, u: Array) -> Array:
    """Points burned by decay: ``floor(decay * balance + u)`` for a uniform ``u``.

    Rounded up with the chance of the fraction, so that ``decay * balance`` is burned on average
    whatever the step's length.
    """
    return np.floor(np.asarray(balance) * decay + u).astype(np.int64)


def perk_points(balance: Array, price: Array, cents_per_point: int, share: float,
                threshold: int) -> Array:
    """Points a buyer spends as a discount on a purchase.

    At most ``share`` of the price, at most its balance, and only at or above the threshold.
    """
    most = np.floor(np.asarray(price) * share / cents_per_point).astype(np.int64)
    return np.where(may_convert(balance, threshold), np.minimum(balance, most),
                    0).astype(np.int64)


def affordable(nth: Array, amount: int, balance: Array) -> Array:
    """Whether a payer's ``nth`` payment (from 1) of ``amount`` stays within its balance."""
    return nth * amount <= balance


def thanked(helpful: np.ndarray, amount: int, balance: Array) -> np.ndarray:
    """Which helpful contacts an asker thanks: in contact order, as far as its balance covers.

    ``helpful`` has the asker's contacts on the last axis, ``balance`` one entry per asker.
    """
    owed = np.cumsum(helpful, axis=-1)
    return helpful & affordable(owed, amount, np.expand_dims(balance, -1))


def covered(payers: np.ndarray, amount: int, balance: np.ndarray) -> np.ndarray:
    """Which of the payments (in the given order) each payer's balance covers.

    A payer pays while its running total stays within its balance.
    """
    if payers.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(payers, kind="stable")
    sorted_payers = payers[order]
    start = np.r_[True, sorted_payers[1:] != sorted_payers[:-1]]
    group = np.cumsum(start) - 1
    firsts = np.flatnonzero(start)
    rank = np.arange(payers.size) - firsts[group]
    ok_sorted = affordable(rank + 1, amount, balance[sorted_payers])
    ok = np.empty(payers.size, dtype=bool)
    ok[order] = ok_sorted
    return ok


# -- sellers ------------------------------------------------------------------------------------
def budget(cash: np.ndarray, share: float) -> np.ndarray:
    """A seller's marketing budget for a step: ``floor(share * max(cash, 0))`` cents."""
    return np.floor(np.maximum(cash, 0) * share).astype(np.int64)


def affordable_rate(p: float, budget: int, cost_at_one: float) -> float:
    """A per-buyer rate ``p``, lowered so that its expected cost ``rate * cost_at_one`` fits."""
    if cost_at_one <= 0:
        return p
    return min(p, max(budget, 0) / cost_at_one)


def paid_prefix(count: int, budget: int, unit_cost: int) -> int:
    """How many of ``count`` payments of ``unit_cost`` the budget covers, in order."""
    if unit_cost <= 0:
        return count
    return int(min(count, max(budget, 0) // unit_cost))


def adapt(offering: np.ndarray, target: np.ndarray, rate: float) -> np.ndarray:
    """Offering moved ``rate`` of the way toward the sensed expectation ``target``."""
    return offering + rate * (target - offering)


def adapt_cost(cost_per_buyer: float, n_buyers: int, moved: np.ndarray) -> np.ndarray:
    """Cents a seller pays to move its offering a distance ``moved``, rounded half to even."""
    return np.rint(cost_per_buyer * n_buyers * moved).astype(np.int64)
