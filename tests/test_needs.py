"""Buyers' needs, and how concentrated their purchases are.

Each buyer has its own mean number of needs per step, the market's mean times a Gamma(k, 1/k)
factor (``market.need_shape`` k; 0: all alike), and a Poisson number of needs each step.
``measures.top_share`` is the share of a total held by the top fifth (or any fraction) of buyers;
the run summary reports it for purchases (``purchase_concentration_top20``).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from conftest import weekly_config
from spheres import simulate
from spheres.model import draws as dr
from spheres.model import measures
from spheres.model.model import MarketModel
from test_engines import assert_engines_equal
from test_engines import config as engines_config


def test_top_share_of_equal_values_is_the_fraction() -> None:
    """Buyers who all bought alike: the top fifth made a fifth of the purchases."""
    assert measures.top_share(np.full(50, 3), 0.2) == pytest.approx(0.2)


def test_top_share_sums_the_largest_values_with_a_part_of_the_next() -> None:
    """0.2 of 7 buyers is 1.4 buyers: the largest count and 0.4 of the second largest."""
    values = np.array([1, 9, 0, 4, 2, 2, 2])
    assert measures.top_share(values, 0.2) == pytest.approx((9 + 0.4 * 4) / 20)
    assert measures.top_share(values, 1.0) == pytest.approx(1.0)


def test_top_share_does_not_depend_on_row_order_or_on_ties() -> None:
    """Ties straddling the boundary, in any row order, give one share."""
    values = np.array([5, 5, 5, 1, 1, 0, 0, 0, 0, 3])
    rng = np.random.default_rng(0)
    shares = {measures.top_share(rng.permutation(values), 0.2) for _ in range(20)}
    assert len(shares) == 1
    assert measures.top_share(values, 0.2) == pytest.approx(10 / 20)


def test_top_share_of_nothing_is_nan() -> None:
    """No purchases at all: no share to report."""
    assert np.isnan(measures.top_share(np.zeros(10, dtype=np.int64), 0.2))
    assert np.isnan(measures.top_share(np.zeros(0, dtype=np.int64), 0.2))


# -- buyers' own need rates ------------------------------------------------------------------------


def model_with(shape: float, n_buyers: int, mean: float = 0.1, **flat: Any) -> MarketModel:
    """A model set up with ``need_shape`` and ``mean`` needs per weekly step on average."""
    return MarketModel(weekly_config(n_buyers=n_buyers, steps=1, **{
        "market.need_rate": mean, "market.need_shape": shape, **flat}))


def test_alike_buyers_have_needs_where_one_bernoulli_array_falls() -> None:
    """With shape 0 every buyer's mean is ``need_rate``'s per step, and who has any need is
    one Bernoulli array of the chance of at least one, ``1 - exp(-mean)``."""
    model = model_with(0.0, 2000)
    mean = model.cfg.market.need_rate
    assert mean == pytest.approx(0.1)
    assert (model.buyers_state.need_mean == mean).all()
    state = model.rng.bit_generator.state
    drawn = dr.needs(model)
    model.rng.bit_generator.state = state
    assert np.array_equal(drawn > 0, dr.bernoulli_mask(model.rng, model.n_buyers,
                                                       -np.expm1(-mean)))


@pytest.mark.parametrize("mean", [0.05, 0.7, 3.0, 40.0])
def test_counts_of_those_with_a_need_are_zero_truncated_poisson(mean: float) -> None:
    """Counts known to be at least 1 follow the Poisson law given at least one: the observed
    frequencies of 1, 2, ... match it (chi-square test at the 0.1% level)."""
    from scipy import stats

    counts = dr.more_than_none(np.random.default_rng(5), np.full(40_000, mean))
    assert counts.min() >= 1
    law = stats.poisson(mean)
    top = max(2, int(law.ppf(0.999)))
    ks = np.arange(1, top + 1)
    expected = law.pmf(ks) / law.sf(0) * counts.size
    expected[-1] += (law.sf(top) / law.sf(0)) * counts.size  # the tail counted at the top
    observed = np.bincount(np.minimum(counts, top), minlength=top + 1)[1:]
    keep = expected >= 5
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    if expected[-1] == 0:
        observed, expected = observed[:-1], expected[:-1]
    assert stats.chisquare(observed, expected).pvalue > 0.001


@pytest.mark.parametrize("shape", [0.3, 0.6, 1.0, 2.0, 5.0])
def test_buyers_differ_around_the_mean_need_rate(shape: float) -> None:
    """Each buyer's mean is the market's times a Gamma(k, 1/k) factor: the factors average 1
    and vary by 1/k (within sampling error), so the mean rate is kept; the needs drawn over many
    steps add up to the buyers' means (Poisson: variance = mean)."""
    n = 20_000
    model = model_with(shape, n)
    mean = model.buyers_state.need_mean
    factor = mean / model.cfg.market.need_rate
    assert abs(factor.mean() - 1.0) < 4.0 / np.sqrt(shape * n)
    spread = np.sqrt((2.0 + 6.0 / shape) / n) / shape  # s.d. of the sample variance
    assert abs(factor.var() - 1.0 / shape) < 4.0 * spread
    steps = 50
    needs = sum(int(dr.needs(model).sum()) for _ in range(steps))
    expected = steps * mean.sum()
    assert abs(needs - expected) < 4.0 * np.sqrt(expected)


def test_purchases_concentrate_more_as_the_shape_falls() -> None:
    """From buyers alike to k = 2, 1 and 0.5, the top 20% of buyers make a larger share of all
    purchases."""
    shares = [simulate(weekly_config(n_buyers=1000, steps=100, seed=3, **{
        "market.need_shape": shape, "output.progress": False, "output.dashboard": False,
    })).summary["purchase_concentration_top20"] for shape in (0.0, 2.0, 1.0, 0.5)]
    assert all(a < b for a, b in pairwise(shares)), shares


@pytest.mark.parametrize("shape", [0.0, 0.3, 3.0])
def test_engines_equal_whether_buyers_differ_or_not(shape: float) -> None:
    """Both engines give the same state at every step, with buyers alike and with need rates
    more and less spread than the default's."""
    cfg = engines_config(**{"market.need_shape": shape})
    assert_engines_equal(cfg)
    mean = MarketModel(cfg).buyers_state.need_mean
    assert (np.ptp(mean) > 0) == (shape > 0)
