"""The random draws of the buyer and influencer phases, made once per phase as arrays.

Both engines read the same draws: the vectorised engine reads whole arrays, the per-agent engine
reads the entries of its own row. All draws come from the model's one generator (``model.rng``)
in a fixed order, so the same seed gives the same run whatever the engine. The initial awareness
of a seller (at set-up and at an entry) is drawn here too. (Other market- and seller-level
draws - the frontier's noise, sensing noise, entry, random targets, free trials' noise - are
made where they are used, in ``spheres.model``, shared by both engines.)

Ties are broken by random keys (:func:`tie_keys`): wherever the model ranks buyers or sellers
and several are equal, the one with the lowest key goes first, never the lowest row. A key is
a keyed hash of what is being ranked (a counter-based draw): the run's tie seed, drawn once from
the model's generator at set-up, the purpose (:data:`TIES`), the step and the rows involved.
So a key is the same however many are asked for at once and in whatever order, and the
per-agent engine, which decides buyer by buyer in a shuffled order, gets exactly the numbers
the vectorised engine gets for all buyers at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spheres.model import rules
from spheres.model.market import Market


@dataclass
class ConversationDraws:
    """Who talks to whom and which word-of-mouth attempts would succeed."""

    rows: np.ndarray  # buyers with a need, ascending
    contacts: np.ndarray  # (n, C) int64 contact rows: ``contacts`` per need of the buyer, then
    #                       -1 (also where the buyer has no neighbour); C for the most needs
    lucky: np.ndarray  # (n, C, S) bool: contact k would pass seller s on (p_word_of_mouth),
    #                    drawn for the asked contacts and the sellers opened so far


@dataclass
class PostDraws:
    """Which influencers post, and which of their follower edges are read."""

    posters: np.ndarray  # influencer rows that post this step, ascending
    counts: np.ndarray  # how many posts each poster makes this step (all on one topic)
    followers: np.ndarray  # follower row of every read follower edge, grouped by poster
    owner: np.ndarray  # index into ``posters`` of every read follower edge (ascending)
    found: np.ndarray  # bool per read edge: the follower would find out a sponsored undisclosed
    #                    post (p_exposure)


@dataclass
class DecayDraws:
    """A uniform per buyer holding currency, rounding the points its balance loses."""

    rows: np.ndarray  # buyers with a balance, ascending
    u: np.ndarray  # one uniform each

    def at(self, rows: np.ndarray | int) -> np.ndarray:
        """The uniforms of ``rows`` (buyers that held a balance when drawn)."""
        return self.u[np.searchsorted(self.rows, rows)]


@dataclass
class AdDraws:
    """Buyers reached by each advertising seller."""

    sellers: list[int]
    reached: list[np.ndarray]  # ascending buyer rows, one array per seller


def bernoulli_positions(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Ascending positions in ``[0, n)``, each included independently with probability ``p``.

    Drawn as geometric gaps between successes: exactly a Bernoulli trial per position, at a cost
    proportional to the number of successes.
    """
    if p <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    chunks = []
    pos = -1
    while True:
        size = int(1.2 * (n - 1 - pos) * p) + 16
        # gaps beyond n end the scan; clipping them keeps the cumulative sum from overflowing
        cum = pos + np.cumsum(np.minimum(rng.geometric(p, size=size), n + 1))
        chunks.append(cum[cum < n])
        if cum[-1] >= n:
            return np.concatenate(chunks).astype(np.int64)
        pos = int(cum[-1])


def bernoulli_mask(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """``n`` booleans, each true independently with probability ``p``."""
    mask = np.zeros(n, dtype=bool)
    mask[bernoulli_positions(rng, n, p)] = True
    return mask


def initial_awareness(model: Market, shape: int | tuple[int, ...]) -> np.ndarray:
    """Which buyers know a seller from its start (``initial_awareness``): float32 uniforms.

    At set-up one row per buyer and a column per initial seller; at an entry one per buyer.
    """
    return model.rng.random(shape, dtype=np.float32) < model.cfg.market.initial_awareness


def drift(model: Market) -> np.ndarray:
    """Noise of the frontier's move: ``(D,)`` standard normals."""
    return model.rng.standard_normal(model.dims)


def needs(model: Market) -> np.ndarray:
    """Each buyer's number of needs this step: a Poisson count of its own mean ``need_mean``.

    First who has any: buyers all alike (``need_shape`` 0) share one chance, drawn as one
    Bernoulli array (geometric gaps, as cheap as the needs are few); buyers who differ draw a
    uniform each. Then how many, for those who have any (:func:`more_than_none`).
    """
    mean = model.buyers_state.need_mean
    some = -np.expm1(-mean)  # the chance of at least one
    if model.cfg.market.need_shape == 0:
        rows = bernoulli_positions(model.rng, model.n_buyers, float(some[0]) if mean.size else 0)
    else:
        rows = np.flatnonzero(model.rng.random(model.n_buyers) < some)
    counts = np.zeros(model.n_buyers, dtype=np.int64)
    counts[rows] = more_than_none(model.rng, mean[rows])
    return counts


def more_than_none(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Poisson counts of the given means, each known to be at least 1 (zero-truncated).

    The first event of a Poisson process of rate ``mean`` over the step, given that there is
    one, comes at a time ``t`` drawn by inverting its truncated exponential law; the events
    after it are Poisson of mean ``mean * (1 - t)``.
    """
    if mean.size == 0:
        return np.zeros(0, dtype=np.int64)
    v = rng.random(mean.size)
    t = -np.log1p(-v * -np.expm1(-mean)) / mean
    return 1 + rng.poisson(mean * np.clip(1.0 - t, 0.0, 1.0))


def conversations(model: Market) -> ConversationDraws:
    """Contacts of each buyer with a need, and whether word of mouth would pass.

    A buyer asks ``contacts`` contacts per need, drawn from its neighbours with replacement;
    word of mouth is drawn for every (buyer, asked contact, opened seller).
    """
    g = model.graph
    need = model.buyers_state.need
    rows = np.flatnonzero(need)
    asked = need[rows] * model.cfg.market.contacts  # contacts each buyer asks
    width_k = int(asked.max()) if rows.size else 0
    start = np.cumsum(asked) - asked
    slot = np.arange(int(asked.sum()))  # one per asked contact, buyer by buyer
    owner = np.repeat(np.arange(rows.size), asked)
    col = slot - start[owner]
    u = model.rng.random(slot.size)
    r = rows[owner]
    deg = g.indptr[r + 1] - g.indptr[r]
    at = np.minimum(g.indptr[r] + (u * deg).astype(np.int64), g.indices.size - 1)
    contacts = np.full((rows.size, width_k), -1, dtype=np.int64)
    contacts[owner, col] = np.where(deg > 0, g.indices[at], -1)
    opened, width = model.n_opened, model.n_used
    lucky = np.zeros((rows.size, width_k, width), dtype=bool)
    hits = bernoulli_positions(model.rng, slot.size * opened, model.cfg.market.p_word_of_mouth)
    which, seller = np.divmod(hits, opened)
    lucky[owner[which], col[which], seller] = True
    return ConversationDraws(rows, contacts, lucky)


def posts(model: Market) -> PostDraws:
    """Who posts this step, how often, and which of their follower edges read each post.

    Influencers, and buyers under a sponsorship contract, make a Poisson number of posts of mean
    ``post_rate`` per step: first who posts at all (a uniform each), then how many
    (:func:`more_than_none`). Each follower edge reads each post with probability
    ``post_reach``.
    """
    b, mk = model.buyers_state, model.cfg.market
    infl = np.flatnonzero(b.is_influencer | (b.sponsor_of >= 0))
    u = model.rng.random(infl.size)
    posters = infl[u < -np.expm1(-mk.post_rate)]
    counts = more_than_none(model.rng, np.full(posters.size, mk.post_rate))
    lo, hi = model.follows.ranges(posters)
    size = np.repeat(hi - lo, counts)  # follower edges of each post, posts poster by poster
    of_post = np.repeat(np.arange(posters.size), counts)
    ends = np.cumsum(size)
    read = bernoulli_positions(model.rng, int(ends[-1]) if ends.size else 0, mk.post_reach)
    post = np.searchsorted(ends, read, side="right")
    owner = of_post[post]
    key_pos = lo[owner] + read - (ends[post] - size[post])
    found = bernoulli_mask(model.rng, read.size, mk.p_exposure)
    return PostDraws(posters, counts, model.follows.targets_at(key_pos), owner, found)


def advertising(model: Market) -> AdDraws:
    """The buyers each alive seller's ads reach this step.

    For each alive seller whose marketing reaches buyers, each buyer is reached with the
    lever's probability (``ad_rate``, lowered to what the budget pays).
    """
    m = model.sellers_state
    sellers, reached = [], []
    for s in np.flatnonzero(m.alive):
        p = model.strategies[s].marketing.reach(model, int(s))
        if p > 0:
            sellers.append(int(s))
            reached.append(bernoulli_positions(model.rng, model.n_buyers, p))
    return AdDraws(sellers, reached)


def purchase(model: Market, rows: np.ndarray) -> np.ndarray:
    """One uniform per buyer with a need."""
    return model.rng.random(rows.size)


def experience(model: Market, n_purchases: int) -> np.ndarray:
    """One standard normal per purchase (experience noise), in buyer order."""
    return model.rng.standard_normal(n_purchases)


def feedback(model: Market, n_purchases: int) -> np.ndarray:
    """Which purchases' buyers give the seller feedback (``p_feedback``), in buyer order."""
    return bernoulli_mask(model.rng, n_purchases, model.cfg.market.p_feedback)


def decay(model: Market) -> DecayDraws:
    """A uniform per buyer holding currency before cash-outs (none drawn if decay is off)."""
    rows = np.flatnonzero(model.buyers_state.currency > 0) if model.cfg.mechanisms.decay else (
        np.zeros(0, dtype=np.int64))
    return DecayDraws(rows, model.rng.random(rows.size))


def drift_rates(model: Market) -> np.ndarray:
    """Each buyer's own drift rate per step: the mean's hazard times a lognormal factor.

    The factor has mean 1 and log s.d. ``drift_spread``, so buyers follow at ``drift_rate`` per
    year on average.
    """
    mk = model.cfg.market
    z = model.rng.standard_normal(model.n_buyers)
    sd = mk.drift_spread
    return rules.hazard_scaled(mk.drift_rate, np.exp(sd * z - 0.5 * sd * sd))


def need_means(model: Market) -> np.ndarray:
    """Each buyer's own mean number of needs per step: the market's mean times a gamma factor.

    The factor is Gamma(k, 1/k) (``need_shape`` k: mean 1, variance 1/k), so buyers have needs
    at ``need_rate`` per year on average and, their counts being Poisson, a buyer's count over
    any period follows the negative binomial (NBD) model of purchase frequency, whatever the
    step's length. With k = 0 every factor is 1 and nothing is drawn.
    """
    mk = model.cfg.market
    k = mk.need_shape
    if k == 0:
        return np.full(model.n_buyers, mk.need_rate)
    return mk.need_rate * model.rng.gamma(k, 1.0 / k, size=model.n_buyers)


def audience_growth(model: Market, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniforms choosing whom a new follower follows, and the new followers' rows."""
    return model.rng.random(count), model.rng.integers(0, model.n_buyers, size=count)


# -- random keys that break ties ------------------------------------------------------------------
TIES = ("sponsor_targets", "sponsor_turns", "seed_targets", "post_topic", "post_credit",
        "favourite", "forgetting", "ad_budget", "cocreation_budget", "follower_share")
"""What random keys break ties of (each purpose has keys of its own)."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))


def tie_seed(model: Market) -> int:
    """The run's key of every random tie-break: one integer drawn from the model's generator."""
    return int(model.rng.integers(2**63))


def random_keys(seed: int, *ids: np.ndarray | int) -> np.ndarray:
    """A uniform number in [0, 1) for each combination of the integer ``ids`` (broadcast).

    A keyed hash: each id in turn is mixed into the state by SplitMix64's finaliser, a bijection
    of 64-bit integers that spreads every input bit over the output, starting from ``seed``.
    The same seed and ids always give the same number; different ids give unrelated ones.
    """
    parts = np.broadcast_arrays(*(np.asarray(i, dtype=np.int64) for i in ids))
    h = np.full(parts[0].shape if parts else (), seed, dtype=np.uint64).reshape(-1)
    for part in parts:
        h ^= part.reshape(-1).astype(np.uint64) * _GOLDEN
        h ^= h >> _SHIFTS[0]
        h *= _MIX[0]
        h ^= h >> _SHIFTS[1]
        h *= _MIX[1]
        h ^= h >> _SHIFTS[2]
    keys = (h >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return keys.reshape(parts[0].shape if parts else ())


def tie_keys(model: Market, purpose: str, *ids: np.ndarray | int) -> np.ndarray:
    """The random keys of ``purpose`` (one of :data:`TIES`) at this step, one per ``ids``.

    One key per combination of ``ids`` (broadcast); among equals the lower key goes first.
    """
    return random_keys(model.tie_seed, TIES.index(purpose), model.steps, *ids)


def some_of(model: Market, purpose: str, rows: np.ndarray, k: int, *ids: int) -> np.ndarray:
    """``k`` of ``rows`` chosen at random, ascending.

    Those of lowest keys for ``purpose``, ``ids`` and the row.
    """
    keys = tie_keys(model, purpose, *ids, rows)
    return np.sort(rows[np.argsort(keys, kind="stable")[:k]])
