"""The measures of the market, as small named functions.

Per step (:func:`observe`) and at the end (scores, network value). Assembling a run's tables is
``spheres.run.tables.assemble``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spheres.model import rules
from spheres.model.currency import BURN, CONVERT_IN, CONVERT_OUT, MINT, TRANSFER
from spheres.model.market import Market


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative integers (0 = equal, towards 1 = concentrated)."""
    total = int(values.sum())
    n = values.size
    if total == 0 or n == 0:
        return 0.0
    top = int(values.max())
    if top <= 4 * n:
        counts = np.bincount(values)
        levels = np.flatnonzero(counts)
        c = counts[levels].astype(float)
        start = np.cumsum(c) - c
        ranks = c * (2 * start + c + 1) / 2.0  # sum of 1-based ranks of each level
        weighted = float((levels * ranks).sum())
    else:
        x = np.sort(values).astype(float)
        weighted = float((np.arange(1, n + 1) * x).sum())
    return 2.0 * weighted / (n * total) - (n + 1.0) / n


def top_share(values: np.ndarray, fraction: float = 0.2) -> float:
    """Share of the total held by the ``fraction`` of entries with the largest values.

    The point of the Lorenz curve at ``1 - fraction``: the sum of the largest ``fraction * n``
    values (a part of the next one when that is not a whole number) over the total, NaN if the
    total is 0. It reads only the sorted values, so ties at the boundary give the same share
    whichever of the tied entries stand inside it, and row order plays no part.
    """
    n = values.size
    total = float(values.sum())
    if n == 0 or total == 0:
        return float("nan")
    top = np.sort(values)[::-1].astype(float)
    whole = int(fraction * n + 1e-9)  # 0.2 * 3000 is 600, not 599.99...
    part = max(fraction * n - whole, 0.0)
    held = top[:whole].sum() + (part * top[whole] if whole < n else 0.0)
    return float(held / total)


def column_means(x: np.ndarray) -> np.ndarray:
    """Mean of each column of a tall 2-D array (a matrix-vector product: fast for many rows)."""
    return np.ones(x.shape[0]) @ x / x.shape[0]


# The mechanisms that can change each per-buyer array whose column means are measured; with all of
# them switched off the array stays as it was built, and its means are computed once.
CHANGED_BY: dict[str, tuple[str, ...]] = {
    "taste": (),
    "expect": ("drift", "peer_pull"),
    "trust": ("trust", "spam", "exposure"),
}


def buyer_means(model: Market, name: str) -> np.ndarray:
    """Column means of the per-buyer array ``name`` (a key of :data:`CHANGED_BY`).

    They are kept from the first call while no mechanism that changes the array is switched on.
    """
    kept = model.kept_means.get(name)
    if kept is not None:
        return kept
    means = column_means(getattr(model.buyers_state, name))
    mech = model.cfg.mechanisms
    if not any(getattr(mech, switch) for switch in CHANGED_BY[name]):
        model.kept_means[name] = means
    return means


def hhi(shares: np.ndarray) -> float:
    """Herfindahl-Hirschman index of market shares (fractions summing to 1, or all zero)."""
    return float((shares * shares).sum())


# The metrics column of mean trust in each kind of source.
TRUST_COLUMNS = {"peers": "trust_peers", "influencers": "trust_influencers",
                 "sellers": "trust_sellers"}
# What an outside scoring service can see of a buyer: never who made whom aware or which purchases
# advice caused (the attribution from which true influence is counted).
OBSERVABLE = ("n_followers", "talks", "posts", "reads", "thanks")


# How settling is judged: a rolling mean over half a year of weekly steps, and a band around its
# final value narrower than one answered claim of 0.1 moves trust at tau = 0.4 (0.024).
SETTLE_WINDOW = 26  # steps
SETTLE_BAND = 0.01  # trust


def settle_step(values: np.ndarray, window: int = SETTLE_WINDOW, band: float = SETTLE_BAND
                ) -> int | None:
    """The step after which a per-step series has settled, or None if it has not in the run.

    ``values[t - 1]`` is the value at step ``t``. The series has settled at the first step ``t``
    from which its trailing ``window``-step mean stays within ``band`` of that mean at the last
    step; it must then stay so for at least ``window`` more steps, else it has not settled.
    """
    values = np.asarray(values, dtype=float)
    if values.size < 2 * window:
        return None
    sums = np.cumsum(values)
    rolling = (sums[window - 1:] - np.r_[0.0, sums[:-window]]) / window  # steps window..T
    away = np.flatnonzero(np.abs(rolling - rolling[-1]) > band)
    first = 0 if away.size == 0 else int(away[-1]) + 1  # index into rolling
    step = first + window
    return step if step <= values.size - window else None


def klout_score(model: Market) -> np.ndarray:
    """A Klout-like score in [0, 100] per buyer, from what an outside service could see.

    audience = friends + followers, activity = posts + replies (times it answered a contact),
    engagement = reads of its posts + mentions (thank-yous it received); each enters as
    ``log(1 + x) / log(1 + max x)`` with equal weight. It reads only :data:`OBSERVABLE` arrays
    and the graph's degrees.
    """
    b = model.buyers_state
    parts = (model.degree + b.n_followers, b.posts + b.talks, b.reads + b.thanks)
    score = np.zeros(model.n_buyers)
    for x in parts:
        top = np.log1p(x.max()) if x.size else 0.0
        if top > 0:
            score += np.log1p(x) / top
    return 100.0 * score / len(parts)


def network_value(model: Market) -> np.ndarray:
    """Spend that each buyer's advice caused in others, recursively (cents, float).

    Each buyer's awareness of a seller has one source; the sources form a forest per seller. A
    buyer's network value sums, over everyone it made aware, their spend at that seller plus
    ``network_value_decay`` times the same sum one level further down, and so on.
    """
    b = model.buyers_state
    decay = model.cfg.market.network_value_decay
    acc = b.spend_by.astype(float).reshape(-1)
    kind = b.intro_kind.reshape(-1)
    kid = np.flatnonzero(rules.advised(kind))  # memory cells
    parent = b.introducer.reshape(-1)[kid].astype(np.int64)
    when = b.aware_time.reshape(-1)[kid]
    order = np.argsort(-when, kind="stable")
    kid, parent, when = kid[order], parent[order], when[order]
    seller = b.sellers_of(kid)
    # the parent's own cell of the seller, where it still holds the seller in mind
    up = np.flatnonzero(b.aware[parent, seller])
    parent_cell = np.full(kid.size, -1, dtype=np.int64)
    parent_cell[up] = b.cells(parent[up], seller[up])
    bounds = np.flatnonzero(np.diff(when)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, when.size], strict=True):
        go = parent_cell[lo:hi] >= 0
        np.add.at(acc, parent_cell[lo:hi][go], decay * acc[kid[lo:hi][go]])
    value = np.zeros(model.n_buyers)
    np.add.at(value, parent, acc[kid])
    return value


def observe(model: Market) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The step's market-level measures and the per-seller measures."""
    b, m, led = model.buyers_state, model.sellers_state, model.ledger
    n = model.n_buyers
    mean_expect = buyer_means(model, "expect")
    total_sales = int(m.sales.sum())
    share = m.sales / total_sales if total_sales else np.zeros(model.n_slots)
    sync = np.linalg.norm(m.offering - mean_expect, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cust_mean = m.cust_sum / m.sales[:, None]
    sync_customers = np.linalg.norm(m.offering - cust_mean, axis=1)
    stock = int(b.currency.sum())
    moved = led.step_total(TRANSFER) + led.step_total(CONVERT_OUT)
    trust = buyer_means(model, "trust")
    infl = b.is_influencer
    known_frontier = rules.known_frontier(mean_expect, buyer_means(model, "taste"))  # their mean
    promoted = model.promoted_now
    alive = m.alive[m.exists]
    known = m.knowledge_step[m.exists]
    entered = m.entry_step[m.exists]
    ks = known >= 0
    row: dict[str, Any] = {
        "step": model.steps,
        "sellers_alive": int(alive.sum()),
        "exits": model.step_counts["exits"],
        "entries": model.step_counts["entries"],
        "buyers_with_need": int(np.count_nonzero(b.need)),
        "purchases": total_sales,
        "revenue": int(m.revenue.sum()),
        "hhi": hhi(share),
        "sync_mean": float(sync[m.alive].mean()) if m.alive.any() else float("nan"),
        "reach_mean": float((m.aware_count[m.alive] / n).mean()) if m.alive.any() else 0.0,
        "frontier_distance": float(np.linalg.norm(mean_expect - model.frontier)),
        "expectation_lag": float((model.frontier - known_frontier) @ model.direction),
        "currency_minted": led.step_total(MINT),
        "currency_transferred": led.step_total(TRANSFER),
        "currency_converted_in": led.step_total(CONVERT_IN),
        "currency_converted_out": led.step_total(CONVERT_OUT),
        "currency_burned": led.step_total(BURN),
        "currency_perks": led.step_reason_total("perk"),
        "currency_follower_share": led.step_reason_total("follower_share"),
        "currency_stock": stock,
        "currency_gini": gini(b.currency),
        "currency_velocity": moved / stock if stock else 0.0,
        "trust_peers": float(trust[0]),
        "trust_influencers": float(trust[1]),
        "trust_sellers": float(trust[2]),
        "influencers": int(infl.sum()),
        "credibility_mean": float(b.credibility[infl].mean()) if infl.any() else float("nan"),
        "exposures": model.step_counts["exposures"],
        "promotions": model.step_counts["promotions"],
        "promoted_degree_percentile": (float(model.degree_percentile[promoted].mean())
                                       if promoted.size else float("nan")),
        "trials": model.step_counts["trials"],
        "marketing_spend": int(m.marketing.sum()),
        "knowledge_time_mean": float((known[ks] - entered[ks]).mean()) if ks.any() else np.nan,
    }
    for dim in range(model.dims):
        row[f"frontier_{dim}"] = float(model.frontier[dim])
    sellers = {
        "step": np.full(model.n_slots, model.steps),
        "seller_id": np.arange(model.n_slots),
        "exists": m.exists.copy(),
        "strategy": m.strategy.copy(),
        "alive": m.alive.copy(),
        "cash": m.cash.copy(),
        "revenue": m.revenue.copy(),
        "costs": m.costs.copy(),
        "profit": m.revenue - m.costs,
        "sales": m.sales.copy(),
        "share": share,
        "sync": sync,
        "sync_customers": sync_customers,
        "reach": m.aware_count / n,
        "price": m.price.copy(),
        "marketing": m.marketing.copy(),
        "believed_fit": m.believed_fit.copy(),
    }
    for dim in range(model.dims):
        sellers[f"offering_{dim}"] = m.offering[:, dim].copy()
    return row, sellers
