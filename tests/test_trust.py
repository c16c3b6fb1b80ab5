"""Trust meets experience symmetrically: a source whose claims match experience on average keeps
trust on average, one that claims too much loses it, one that claims too little does not.

The rule is ``rules.trust_after`` (docs/ODD.md §7.7); ads move trust in sellers by the same rule
with their fit for the reader (§7.5). Runs are 260 weekly steps (five years) of the default market
unless a test says otherwise.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

from conftest import ADS
from spheres import simulate
from spheres.model import rules
from spheres.model.measures import SETTLE_WINDOW, settle_step

SEEDS = (0, 1, 2)
FIVE_YEARS: dict[str, Any] = {"steps": 260, "output.progress": False, "output.dashboard": False}
START = {"peers": 0.6, "influencers": 0.5, "sellers": 0.4}


# -- the rule ----------------------------------------------------------------------------------
@pytest.mark.parametrize("trust", [0.1, 0.4, 0.6, 0.9])
@pytest.mark.parametrize("gap", [0.05, 0.3, 0.9])
def test_beating_a_claim_raises_trust_as_much_as_falling_short_lowers_it(trust: float,
                                                                        gap: float) -> None:
    """The same gap either way moves trust by the same amount, ``gamma tau (1 - tau) gap``."""
    up = rules.trust_after(trust, 0.5 + gap, 0.5, 1.0) - trust
    down = rules.trust_after(trust, 0.5 - gap, 0.5, 1.0) - trust
    assert up == pytest.approx(-down) == pytest.approx(trust * (1 - trust) * gap)


def test_honest_claims_keep_trust_on_average_whatever_the_noise() -> None:
    """Claims equal to the expected experience, experiences noisy: mean trust of many buyers
    after 260 answered claims is where it started (it is a martingale), at any start."""
    rng = np.random.default_rng(0)
    for start in (0.3, 0.6):
        trust = np.full(20_000, start)
        for _ in range(260):
            claim = rng.random(trust.size)
            felt = claim + 0.3 * rng.standard_normal(trust.size)
            trust = rules.trust_after(trust, felt, claim, 1.0)
        assert trust.mean() == pytest.approx(start, abs=0.005)


def test_the_logistic_factor_keeps_trust_inside_zero_and_one() -> None:
    """With a learning rate up to 1 and gaps under 1, trust never reaches 0 or 1."""
    trust = np.linspace(0.001, 0.999, 999)
    for gap in (-0.999, 0.999):
        after = rules.trust_moved(trust, gap, 1.0)
        assert ((after > 0) & (after < 1)).all()


# -- claims in a market ------------------------------------------------------------------------
@cache
def broadcast_trust(overclaim: float, seed: int) -> dict[str, float]:
    """Trust at the end of five years of ten advertisers claiming ``overclaim`` above the fit
    they believe they have; the ads' own move of trust (spam) is off, so that claims alone move
    trust in sellers."""
    return simulate({**FIVE_YEARS, **ADS, "seed": seed, "sellers.mix": {"broadcast": 10},
                     "sellers.ad_overclaim": overclaim,
                     "mechanisms.spam": False}).summary["trust_final"]


def mean_trust(source: str, overclaim: float) -> float:
    return float(np.mean([broadcast_trust(overclaim, seed)[source] for seed in SEEDS]))


def test_honest_ads_keep_trust_in_sellers() -> None:
    """Ads that claim the fit the seller believes it has: trust in sellers ends within 0.02 of
    its start, on average over seeds."""
    assert mean_trust("sellers", 0.0) == pytest.approx(START["sellers"], abs=0.02)


def test_overclaiming_ads_lower_trust_in_sellers() -> None:
    """Ads that claim 0.2 more than the seller believes: trust in sellers falls."""
    assert mean_trust("sellers", 0.2) < START["sellers"] - 0.02


def test_underclaiming_ads_do_not_lower_trust_in_sellers() -> None:
    """Ads that claim 0.2 less than the seller believes: trust in sellers does not fall."""
    assert mean_trust("sellers", -0.2) >= START["sellers"]


def test_honest_advice_keeps_trust_in_peers() -> None:
    """Where no seller claims anything or advertises (all listen), peers pass on what they
    believe from their own experience: trust in peers ends within 0.02 of its start, on average
    over seeds (buyers whose tastes differ from their contacts' learn to trust them less, and
    the others more)."""
    ends = [simulate({**FIVE_YEARS, "seed": seed, "sellers.mix": {"listen": 10}}
                     ).summary["trust_final"]["peers"] for seed in SEEDS]
    assert np.mean(ends) >= START["peers"] - 0.02


# -- ads: spam and relevance -------------------------------------------------------------------
@pytest.mark.parametrize(("threshold", "direction"), [(0.0, 1), (1.0, -1)])
def test_ads_move_trust_in_sellers_by_their_fit_both_ways(threshold: float,
                                                          direction: int) -> None:
    """With only the ads moving trust: every ad fits above a threshold of 0 (trust in sellers
    rises) and below a threshold of 1 (it falls)."""
    res = simulate({**FIVE_YEARS, **ADS, "steps": 40, "n_buyers": 500, "seed": 0,
                    "sellers.mix": {"broadcast": 4}, "mechanisms.trust": False,
                    "market.spam_threshold": threshold})
    moved = res.summary["trust_final"]["sellers"] - START["sellers"]
    assert direction * moved > 0.005


# -- how long trust takes to settle ------------------------------------------------------------
def test_settle_step_of_a_flat_series_is_its_first_window() -> None:
    """A series that never moves has settled as soon as its rolling mean exists."""
    assert settle_step(np.full(100, 0.4)) == SETTLE_WINDOW


def test_settle_step_follows_a_change_of_level() -> None:
    """A step from 0.4 to 0.5 at step 60 settles once the rolling mean has passed it."""
    values = np.r_[np.full(59, 0.4), np.full(141, 0.5)]
    step = settle_step(values)
    assert step is not None and 59 < step <= 59 + SETTLE_WINDOW


def test_a_series_still_drifting_at_the_end_has_not_settled() -> None:
    """A steady drift never stays in a band around its end for a window: None."""
    assert settle_step(np.linspace(0.4, 0.2, 200)) is None
    assert settle_step(np.full(SETTLE_WINDOW, 0.4)) is None  # too short to tell


def test_the_summary_reports_when_trust_settled() -> None:
    """``trust_settle_steps`` per source: a step within the run or None; trust in sellers in an
    all-listen market never moves, so it settles at once."""
    summary = simulate({**FIVE_YEARS, "steps": 120, "n_buyers": 500,
                        "sellers.mix": {"listen": 4}}).summary
    settle = summary["trust_settle_steps"]
    assert set(settle) == set(START)
    assert all(v is None or SETTLE_WINDOW <= v <= 120 - SETTLE_WINDOW for v in settle.values())
    assert settle["sellers"] == SETTLE_WINDOW
