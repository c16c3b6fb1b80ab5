"""The random draws of each phase, made once per phase as arrays indexed by agent.

Both engines read the same draws: the vectorised engine reads whole arrays, the per-agent engine
reads the entries of its own row. All draws come from the model's one generator (``model.rng``)
in a fixed order, so the same seed gives the same run whatever the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from spheres.model import MarketModel


@dataclass
class ConversationDraws:
    """Who talks to whom and which word-of-mouth attempts succeed."""

    rows: np.ndarray  # buyers with a need, ascending
    contacts: np.ndarray  # (n, K) int64 contact rows, -1 where the buyer has no neighbour
    u_wom: np.ndarray  # (n, K, S_used) float32 uniforms for word of mouth


@dataclass
class PostDraws:
    """Which influencers post, and which follower edges of the posters are read."""

    posters: np.ndarray  # influencer rows that post this step, ascending
    followers: np.ndarray  # follower row of every follower edge of the posters
    owner: np.ndarray  # index into ``posters`` of every follower edge
    u_reach: np.ndarray  # float32 uniforms, one per follower edge


@dataclass
class AdDraws:
    """Buyers reached by each advertising seller."""

    sellers: list[int]
    reached: list[np.ndarray]  # ascending buyer rows, one array per seller


def drift(model: MarketModel) -> np.ndarray:
    """Noise of the frontier's move: ``(D,)`` standard normals."""
    return model.rng.standard_normal(model.dims)


def needs(model: MarketModel) -> np.ndarray:
    """One uniform per buyer."""
    return model.rng.random(model.n_buyers)


def conversations(model: MarketModel) -> ConversationDraws:
    """Contacts of each buyer with a need, drawn from its neighbours with replacement."""
    g = model.graph
    rows = np.flatnonzero(model.buyers_state.need)
    k = model.cfg.market.contacts
    u = model.rng.random((rows.size, k))
    deg = g.indptr[rows + 1] - g.indptr[rows]
    pick = (u * deg[:, None]).astype(np.int64)
    contacts = g.indices[np.minimum(g.indptr[rows][:, None] + pick, g.indices.size - 1)]
    contacts = np.where(deg[:, None] > 0, contacts, -1).astype(np.int64)
    u_wom = model.rng.random((rows.size, k, model.n_used), dtype=np.float32)
    return ConversationDraws(rows, contacts, u_wom)


def posts(model: MarketModel) -> PostDraws:
    """Influencers post with probability ``p_post``; each follower edge gets one uniform."""
    infl = np.flatnonzero(model.buyers_state.is_influencer)
    u = model.rng.random(infl.size)
    posters = infl[u < model.cfg.market.p_post]
    followers, owner = model.follows.followers_of(posters)
    u_reach = model.rng.random(followers.size, dtype=np.float32)
    return PostDraws(posters, followers, owner, u_reach)


def advertising(model: MarketModel) -> AdDraws:
    """For each advertising seller, each buyer is reached with probability ``p_ad``.

    Reached rows are drawn as geometric gaps between successes, which is exactly a Bernoulli
    trial per buyer at a cost proportional to the number reached.
    """
    p = model.cfg.market.p_ad
    n = model.n_buyers
    sellers = [int(s) for s in model.advertisers()]
    reached = []
    for _ in sellers:
        if p <= 0:
            reached.append(np.zeros(0, dtype=np.int64))
            continue
        chunks = []
        pos = -1
        while True:
            size = max(16, int(1.2 * (n - pos) * p) + 16)
            gaps = model.rng.geometric(p, size=size)
            cum = pos + np.cumsum(gaps)
            chunks.append(cum[cum < n])
            if cum[-1] >= n:
                break
            pos = int(cum[-1])
        reached.append(np.concatenate(chunks).astype(np.int64))
    return AdDraws(sellers, reached)


def purchase(model: MarketModel, rows: np.ndarray) -> np.ndarray:
    """One uniform per buyer with a need."""
    return model.rng.random(rows.size)


def experience(model: MarketModel, n_purchases: int) -> np.ndarray:
    """One standard normal per purchase (experience noise), in buyer order."""
    return model.rng.standard_normal(n_purchases)


def audience_growth(model: MarketModel, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniforms choosing whom a new follower follows, and the new followers' rows."""
    return model.rng.random(count), model.rng.integers(0, model.n_buyers, size=count)
