"""The formulas of the model, in one place: both engines call these.

Each works on numbers and on numpy arrays alike (element by element), so the vectorised engine
passes whole arrays and the per-agent engine passes one buyer's values; the two engines then
differ only in how they iterate and commit. docs/ODD.md gives the same formulas as equations.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray | float


def fit(expect: np.ndarray, offering: np.ndarray, width: float) -> np.ndarray:
    """True fit ``exp(-|e - o|^2 / (2 w^2))`` of offerings for buyers (broadcast, last axis D)."""
    diff = expect - offering
    return np.exp(-(diff * diff).sum(axis=-1) / (2.0 * width * width))


def utility(belief: Array, price: Array, beta: float, price_weight: float,
            reference_price: float) -> Array:
    """Logit utility of a seller: ``beta * (belief - price_weight * price / reference_price)``."""
    return beta * (belief - price_weight * price / reference_price)


def blend(belief: Array, num: Array, den: Array) -> Array:
    """Belief after hearing claims: ``(b + sum w x) / (1 + sum w)``."""
    return (belief + num) / (1.0 + den)


def learn(belief: Array, felt: Array, rate: float) -> Array:
    """Belief after an experience: ``b + alpha (felt - b)``."""
    return belief + rate * (felt - belief)


def claim(believed_fit: Array, overclaim: float) -> Array:
    """What a seller's ad or sponsored post claims: believed fit plus overclaim, in [0, 1]."""
    return np.clip(believed_fit + overclaim, 0.0, 1.0)


def trust_after(trust: Array, satisfied: Array, gap: Array, rate: float, gap_rate: float
                ) -> Array:
    """Trust in the source of a claim after the experience it led to.

    ``t + rate (satisfied - t) - gap_rate max(0, claim - felt)``, in [0, 1]: trust moves toward
    the outcome and falls further the more the experience fell short of the claim.
    """
    return np.clip(trust + rate * (satisfied - trust) - gap_rate * np.maximum(gap, 0.0),
                   0.0, 1.0)


def shrink(value: Array, penalty: float, count: Array) -> Array:
    """``value (1 - penalty)^count``: a multiplicative loss per event (spam, being found out)."""
    return value * (1.0 - penalty) ** count


def credibility_after(credibility: Array, delta: Array, rate: float) -> Array:
    """Credibility after advised purchases: ``clip(c + rate * sum(satisfied - c), 0, 1)``."""
    return np.clip(credibility + rate * delta, 0.0, 1.0)


def pull(expect: np.ndarray, gap: np.ndarray, rate: float) -> np.ndarray:
    """Expectation moved by ``rate`` of the gap to a more advanced contact's known frontier."""
    return expect + rate * gap


def drift(expect: np.ndarray, target: np.ndarray, rate: Array) -> np.ndarray:
    """Expectation moved toward frontier + taste at the buyer's own rate."""
    return expect + rate * (target - expect)


def cashout_points(balance: Array, threshold: int, share: float) -> Array:
    """Points converted into money: ``floor(share * balance)`` at or above the threshold."""
    return np.where(balance >= max(threshold, 1),
                    np.floor(balance * share), 0).astype(np.int64)


def burn_points(balance: Array, decay: float) -> Array:
    """Points burned by decay: ``ceil(decay * balance)``."""
    return np.ceil(np.asarray(balance) * decay).astype(np.int64)


def perk_points(balance: Array, price: Array, cents_per_point: int, share: float,
                threshold: int) -> Array:
    """Points a buyer spends as a discount on a purchase: at most ``share`` of the price, at most
    its balance, and only at or above the threshold."""
    most = np.floor(np.asarray(price) * share / cents_per_point).astype(np.int64)
    return np.where(balance >= max(threshold, 1), np.minimum(balance, most), 0).astype(np.int64)


def affordable_rate(p: float, budget: int, cost_at_one: float) -> float:
    """A per-buyer rate ``p``, lowered so that its expected cost ``rate * cost_at_one`` fits the
    budget."""
    if cost_at_one <= 0:
        return p
    return min(p, max(budget, 0) / cost_at_one)


def budget(cash: np.ndarray, share: float) -> np.ndarray:
    """A seller's marketing budget for a step: ``floor(share * max(cash, 0))`` cents."""
    return np.floor(np.maximum(cash, 0) * share).astype(np.int64)


def paid_prefix(count: int, budget: int, unit_cost: int) -> int:
    """How many of ``count`` payments of ``unit_cost`` the budget covers, in order."""
    if unit_cost <= 0:
        return count
    return int(min(count, max(budget, 0) // unit_cost))


def covered(payers: np.ndarray, amount: int, balance: np.ndarray) -> np.ndarray:
    """Which of the payments (in the given order) each payer's balance covers: a payer pays
    while its running total stays within its balance."""
    if payers.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(payers, kind="stable")
    sorted_payers = payers[order]
    start = np.r_[True, sorted_payers[1:] != sorted_payers[:-1]]
    group = np.cumsum(start) - 1
    firsts = np.flatnonzero(start)
    rank = np.arange(payers.size) - firsts[group]
    ok_sorted = (rank + 1) * amount <= balance[sorted_payers]
    ok = np.empty(payers.size, dtype=bool)
    ok[order] = ok_sorted
    return ok


def advance(known: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """How far along the frontier's direction a known frontier (expectation minus taste) is."""
    return (known * direction).sum(axis=-1)
