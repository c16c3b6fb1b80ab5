"""Whom buyers follow (``market.follow_by``): each rule runs in both engines alike, and the rule,
not the market alone, decides where the promoted come from."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from spheres import make_config, simulate
from spheres.model.audiences import FOLLOW_BY
from spheres.model.model import MarketModel
from test_engines import assert_engines_equal, config


@pytest.mark.parametrize("rule", list(FOLLOW_BY))
def test_every_rule_gives_the_same_run_in_both_engines(rule: str) -> None:
    """Each rule of following, per agent and vectorised: the same state after every step, and
    promotions happen."""
    assert_engines_equal(config(**{"market.follow_by": rule}))


def test_the_default_rule_is_reach() -> None:
    """Runs that do not choose a rule follow by reach, the rule before the setting existed."""
    assert make_config().market.follow_by == "reach"
    assert list(FOLLOW_BY) == ["reach", "advice", "random"]


# Many follow attempts (0.02 of buyers a weekly step) and few followers to be promoted: audiences
# grow fast.
GROWTH: dict[str, Any] = {"n_buyers": 1000, "steps": 100, "market.audience_growth": 1.04,
                          "market.promote_at": 3, "output.progress": False,
                          "output.dashboard": False}


# Twice the default follow attempts and half the followers to be promoted: random following
# promotes a few dozen buyers a run, as reach does.
PROMOTING: dict[str, Any] = {"n_buyers": 1000, "steps": 150, "market.audience_growth": 0.52,
                             "market.promote_at": 4, "output.progress": False,
                             "output.dashboard": False}


def promoted_percentile(rule: str, seed: int) -> float:
    """Mean degree percentile of the buyers promoted over a run following by ``rule``."""
    agents = simulate({**PROMOTING, "seed": seed, "market.follow_by": rule}).agents
    promoted = agents[agents["promoted_step"] >= 0]
    assert len(promoted) >= 15
    return float(promoted["degree_percentile"].mean())


def test_random_following_promotes_buyers_of_every_degree_and_reach_promotes_hubs() -> None:
    """Followed at random, the promoted sit near the 50th degree percentile on average; followed
    by reach, well above (heavy buyers, who ask and help more often, also earn reach: with need
    rates spread the mean is about 0.73)."""
    seeds = range(3)
    random = np.mean([promoted_percentile("random", seed) for seed in seeds])
    reach = np.mean([promoted_percentile("reach", seed) for seed in seeds])
    assert abs(random - 0.5) < 0.05
    assert reach - random > 0.15


def test_following_by_advice_follows_only_buyers_whose_advice_helped() -> None:
    """Under ``advice`` every follower gained after set-up went to a buyer whose advice caused a
    satisfying purchase."""
    cfg = make_config({**GROWTH, "seed": 1, "market.follow_by": "advice"})
    start = MarketModel(cfg).buyers_state.n_followers.copy()
    model = MarketModel(cfg)
    for _ in range(cfg.steps):
        model.step()
    b = model.buyers_state
    gained = b.n_followers > start
    assert gained.sum() > 20
    assert (b.helped[gained] > 0).all()
