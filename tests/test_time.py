"""Time has a unit: settings per year, runs of any step length telling the same yearly story."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from spheres import make_config, simulate
from spheres.model import clock
from spheres.paths import config_dir
from spheres.schema import SpheresConfig

# The Bass limit: awareness by advertising (p per year) and word of mouth alone, on a random
# graph; q = need_rate * contacts * p_word_of_mouth per year.
P, NEED, CONTACTS, WOM = 0.3, 2.0, 3, 0.2
Q = NEED * CONTACTS * WOM
YEARS = 5


def bass(t: np.ndarray, p: float, q: float) -> np.ndarray:
    """Share adopted at time t (years) in the Bass model."""
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


def yearly_reach(steps_per_year: int, seed: int) -> np.ndarray:
    """The advertiser's reach at the end of each year, in the Bass limit."""
    switches = yaml.safe_load((config_dir() / "experiment" / "diffusion.yaml").read_text())
    cfg = make_config({"mechanisms": switches["mechanisms"],
                       "sellers": {"mix": {"broadcast": 1}, "marketing_budget": clock.RATE_CERTAIN,
                                   "fixed_cost_per_buyer": 0},
                       "network": {"kind": "erdos_renyi", "mean_degree": 20.0}},
                      n_buyers=4000, steps=YEARS * steps_per_year, seed=seed,
                      **{"time.steps_per_year": steps_per_year, "market.initial_awareness": 0.0,
                         "market.ad_rate": P, "market.need_rate": NEED,
                         "market.contacts": CONTACTS, "market.p_word_of_mouth": WOM,
                         "market.need_shape": switches["market"]["need_shape"],
                         "output.progress": False})
    reach = simulate(cfg).sellers["reach"].to_numpy()
    return reach[steps_per_year - 1::steps_per_year]


def test_weekly_and_monthly_steps_give_the_same_yearly_bass_curve() -> None:
    """Weekly and monthly runs of the same yearly rates follow the Bass curve of those rates:
    within 0.05 of each other, and within 0.05 (weekly) and 0.08 (monthly) of the closed form at
    every year's end. The gap is the discreteness of a step: awareness is heard from the state
    at the start of the step."""
    weekly = np.mean([yearly_reach(52, seed) for seed in range(3)], axis=0)
    monthly = np.mean([yearly_reach(12, seed) for seed in range(3)], axis=0)
    exact = bass(np.arange(1, YEARS + 1), P, Q)
    assert np.abs(weekly - monthly).max() < 0.05
    assert np.abs(weekly - exact).max() < 0.05
    assert np.abs(monthly - exact).max() < 0.08
    # not a trivially saturated curve: the first year is well short of everyone
    assert weekly[0] < 0.5 < weekly[2]


# The market's yearly story at the defaults: what buyers buy and know and whom they trust, and how
# many sellers live. (The currency stock and the number of influencers are not in it: cash-outs
# halve a balance in a week, faster than a monthly step can show; see docs/ODD.md, time.)
STORY = ("purchases", "reach_mean", "trust_peers", "trust_influencers", "trust_sellers",
         "sellers_alive")
STORY_BUYERS, STORY_YEARS, STORY_SEEDS = 1500, 6, range(16)
# Differences small enough not to change a story, for measures whose noise the seeds estimate
# poorly (sellers alive moves by whole entries) or whose steps leave a trace (trust in
# influencers: posts read and promotions come in monthly batches; measured 0.005 lower monthly).
STORY_TOLERANCE = (0.15, 0.03, 0.01, 0.01, 0.01, 1.5)


def yearly_story(steps_per_year: int, seed: int) -> np.ndarray:
    """(measure, year): purchases per buyer in each year, the others at each year's end."""
    cfg = make_config(n_buyers=STORY_BUYERS, steps=STORY_YEARS * steps_per_year, seed=seed,
                      **{"time.steps_per_year": steps_per_year, "output.progress": False})
    m = simulate(cfg).metrics
    year = np.arange(len(m)) // steps_per_year
    bought = m.groupby(year)["purchases"].sum().to_numpy() / STORY_BUYERS
    ends = m.iloc[steps_per_year - 1::steps_per_year]
    return np.vstack([bought, *(ends[name].to_numpy() for name in STORY[1:])])


def test_weekly_and_monthly_steps_tell_the_same_yearly_story_at_the_defaults() -> None:
    """At the defaults, runs of weekly and of monthly steps (16 seeds each) agree on every
    measure of ``STORY`` at every year's end within noise: the difference of their means is less
    than 4.5 standard errors, or than the measure's ``STORY_TOLERANCE``. Each need is a unit
    bought and asks its own contacts, posts are Poisson counts, decay rounds at random: nothing
    is capped at one event per step. (With at most one need per step, monthly buyers made 2.3
    purchases a year where weekly ones made 3.5.)"""
    weekly = np.array([yearly_story(52, seed) for seed in STORY_SEEDS])
    monthly = np.array([yearly_story(12, seed) for seed in STORY_SEEDS])
    k = len(STORY_SEEDS)
    se = np.sqrt(weekly.var(axis=0, ddof=1) / k + monthly.var(axis=0, ddof=1) / k)
    diff = weekly.mean(axis=0) - monthly.mean(axis=0)
    z = diff / np.maximum(se, 1e-12)
    off = (np.abs(z) >= 4.5) & (np.abs(diff) >= np.array(STORY_TOLERANCE)[:, None])
    assert not off.any(), [(STORY[i], f"year {y + 1}", diff[i, y], z[i, y])
                           for i, y in zip(*np.nonzero(off), strict=True)]
    # the story moves: buyers learn of sellers over the years
    assert weekly[:, 1, -1].mean() > weekly[:, 1, 0].mean() + 0.15


@pytest.mark.parametrize("n", [1.0, 4.0, 12.0, 52.0, 365.0])
def test_each_conversion_is_undone_by_its_inverse(n: float) -> None:
    """Converting a setting to a step and back gives the setting (durations in whole steps)."""
    for name, per in clock.timed(SpheresConfig()):
        if per == "duration":
            value = 52  # a year of weeks: n whole steps
        elif per == "cost":
            value = 260 * n
        else:
            value = 0.37
        step = clock.CONVERSIONS[per](value, n)
        back = clock.per_year({name: step}, n)[name]
        assert math.isclose(back, value, rel_tol=1e-9), (name, per, n)


def test_a_rate_per_year_is_a_chance_per_step_that_compounds_to_it() -> None:
    """A chance per step of 1 - exp(-r/n) compounds over n steps to the yearly 1 - exp(-r)."""
    for n in (12, 52, 365):
        p = clock.CONVERSIONS["rate"](0.7, n)
        assert math.isclose(1 - (1 - p) ** n, 1 - math.exp(-0.7), rel_tol=1e-12)


def test_the_run_states_its_time_unit() -> None:
    cfg = make_config(steps=520, **{"time.steps_per_year": 52})
    assert clock.describe(cfg) == "520 steps of a week (10 years)"
    cfg = make_config(steps=30, **{"time.steps_per_year": 12})
    assert clock.describe(cfg) == "30 steps of a month (2.5 years)"
