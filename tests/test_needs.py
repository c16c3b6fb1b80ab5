"""Buyers' needs, and how concentrated their purchases are.

``measures.top_share`` is the share of a total held by the top fifth (or any fraction) of
buyers; the run summary reports it for purchases (``purchase_concentration_top20``).
"""

from __future__ import annotations

import numpy as np
import pytest

from spheres.model import measures


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
