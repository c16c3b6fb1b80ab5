"""Whom buyers follow: the rules by which audiences grow (phase 8), registered by name.

Each step ``round(market.audience_growth * N)`` follow attempts are made. A follower is drawn
uniformly among all buyers and follows a buyer drawn in proportion to a weight, which the rule
named by ``market.follow_by`` (registry :data:`FOLLOW_BY`) gives:

- ``reach``: what a buyer's voice has reached so far, its followers plus its social-currency
  balance (the attention it has earned): preferential attachment (Barabási & Albert 1999), the
  rule of every run before the setting existed;
- ``advice``: the satisfying advice it has given, the purchases its advice caused that satisfied
  the buyer (followers come for advice that helped);
- ``random``: every buyer alike.

The weights are integers, so the draw is exact; both engines share this code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from spheres.model import draws as dr
from spheres.model.market import Market

Weights = Callable[[Market], np.ndarray]


def by_reach(model: Market) -> np.ndarray:
    """Followers plus balance: the audience and the attention a buyer has earned."""
    b = model.buyers_state
    return b.currency + b.n_followers


def by_advice(model: Market) -> np.ndarray:
    """Satisfying purchases a buyer's advice caused (``helped``)."""
    return model.buyers_state.helped


def at_random(model: Market) -> np.ndarray:
    """The same weight for every buyer."""
    return np.ones(model.n_buyers, dtype=np.int64)


FOLLOW_BY: dict[str, Weights] = {"reach": by_reach, "advice": by_advice, "random": at_random}


def grow(model: Market) -> np.ndarray:
    """Make this step's follow attempts; returns the buyers who gained a follower, one per edge.

    Nothing is drawn when the mechanism is off, no attempt is due, or every weight is zero.
    Self-follows and edges that exist already are skipped (``Follows.add``).
    """
    b, mk = model.buyers_state, model.cfg.market
    count = round(mk.audience_growth * model.n_buyers)
    if not model.cfg.mechanisms.audience_growth or count == 0:
        return np.zeros(0, dtype=np.int64)
    weight = FOLLOW_BY[mk.follow_by](model)
    total = int(weight.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    u, followers = dr.audience_growth(model, count)
    targets = np.searchsorted(np.cumsum(weight), u * total, side="right")
    followed = model.follows.add(targets, followers)
    np.add.at(b.n_followers, followed, 1)
    return followed
