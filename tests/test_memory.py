"""A buyer's memory of sellers: capped at ``market.max_known``, consistent, ranked as documented.

Without a cap every seller has a memory cell and cell ``j`` is seller ``j``; with one, a buyer
holds at most ``max_known`` sellers, and the arrays of what it holds about them have that many
columns. (The two engines agree under a cap: see the ``memory-*`` cases of test_engines.py.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conftest import weekly_config
from spheres import simulate
from spheres.config import ConfigError
from spheres.model.model import MarketModel
from spheres.model.state import NO_SOURCE
from spheres.run.tables import assemble

SMALL: dict[str, Any] = {"n_buyers": 200, "steps": 30, "seed": 3, "output.progress": False,
                         "market.p_word_of_mouth": 0.4, "market.need_rate": 0.4}


def check_memory(model: MarketModel) -> None:
    """The memory index, the cells and the counts of aware buyers agree with ``aware``."""
    b, m, k = model.buyers_state, model.sellers_state, model.buyers_state.k
    assert b.slot is not None and b.held is not None
    assert np.all(b.aware.sum(axis=1) <= k)
    r, s = np.nonzero(b.aware)
    col = b.slot[r, s].astype(np.int64)
    assert np.all(col >= 0) and np.array_equal(b.held[r, col], s)
    assert np.count_nonzero(b.slot >= 0) == r.size == np.count_nonzero(b.held >= 0)
    assert np.array_equal(m.aware_count, b.aware.sum(axis=0))
    assert np.all(b.aware_time.reshape(-1)[b.cells(r, s)] >= 0)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_memory_stays_consistent_under_a_cap(k: int) -> None:
    """With a cap, after every step no buyer knows more than ``k`` sellers, the index and the
    cells agree, and the cells have ``k`` columns."""
    model = MarketModel(weekly_config(**SMALL, **{"market.max_known": k,
                                                "mechanisms.entry": True,
                                                "sellers.entry_rate": 0.3,
                                                "sellers.max_entrants": 5}))
    assert model.buyers_state.belief.shape == (200, k)
    forgot = False
    for _ in range(30):
        before = model.buyers_state.aware.copy()
        model.step()
        check_memory(model)
        forgot |= bool((before & ~model.buyers_state.aware).any())
    assert forgot  # the cap was reached and sellers were forgotten
    assert model.buyers_state.aware.sum(axis=1).max() == k


def test_no_cap_and_a_cap_no_buyer_reaches_are_the_same_run() -> None:
    """A cap of the most sellers any buyer knows during the run changes nothing: same tables
    (the capped memory is used, and never forgets)."""
    model = MarketModel(weekly_config(**SMALL))
    most = 0
    for _ in range(SMALL["steps"]):
        model.step()
        most = max(most, int(model.buyers_state.aware.sum(axis=1).max()))
    assert most < model.n_slots  # so the cap makes a capped memory
    free = simulate(weekly_config(**SMALL))
    roomy = simulate(weekly_config(**SMALL, **{"market.max_known": most}))
    assert roomy.summary["config"]["market"]["max_known"] == most
    for name in ("metrics", "sellers", "flows", "agents"):
        a, b = getattr(free, name), getattr(roomy, name)
        assert a.equals(b), name


def test_a_cap_changes_the_market() -> None:
    """A cap of one seller is a different market: buyers know fewer sellers."""
    free = MarketModel(weekly_config(**SMALL))
    one = MarketModel(weekly_config(**SMALL, **{"market.max_known": 1}))
    for _ in range(10):
        free.step()
        one.step()
    assert one.buyers_state.aware.sum(axis=1).max() == 1
    assert free.buyers_state.aware.sum(axis=1).max() > 1


def full_buyer(beliefs: list[float], alive: list[bool] | None = None,
               seed: int = SMALL["seed"]) -> MarketModel:
    """A model whose buyer 0 holds sellers 0..k-1 (k = len(beliefs)) with these beliefs,
    learned at time 0, and knows nothing else."""
    k = len(beliefs)
    model = MarketModel(weekly_config(**{**SMALL, "market.max_known": k, "seed": seed,
                                       "market.initial_awareness": 0.0}))
    b = model.buyers_state
    assert not b.aware.any()
    model.memory.make_aware(np.zeros(k, dtype=np.int64), np.arange(k), np.int32(-1), NO_SOURCE,
                            phase=0, belief=np.array(beliefs))
    if alive is not None:
        model.sellers_state.alive[:k] = alive
    return model


def known(model: MarketModel) -> list[int]:
    """The sellers buyer 0 knows."""
    return np.flatnonzero(model.buyers_state.aware[0]).tolist()


def learn(model: MarketModel, sellers: list[int], beliefs: list[float]) -> None:
    """Buyer 0 learns of ``sellers`` with these beliefs, one step after what it holds."""
    model.memory.step = 1  # learned after the sellers it holds
    model.memory.make_aware(np.zeros(len(sellers), dtype=np.int64), np.array(sellers),
                            np.int32(-1), NO_SOURCE, phase=3, belief=np.array(beliefs))


def test_a_full_buyer_forgets_the_seller_it_rates_lowest() -> None:
    """Learning of a seller it rates above its lowest, a full buyer forgets the lowest; rating
    it below all, it does not keep the newcomer."""
    model = full_buyer([0.6, 0.2, 0.8])
    learn(model, [5], [0.5])
    assert known(model) == [0, 2, 5]
    assert model.buyers_state.belief_at(np.array([0]), np.array([5]))[0] == 0.5
    assert model.buyers_state.belief_at(np.array([0]), np.array([1]))[0] == 0.5  # the prior
    learn(model, [7], [0.1])
    assert known(model) == [0, 2, 5]
    check_memory(model)


def test_forgetting_order_gone_then_belief_then_older_then_at_random() -> None:
    """A seller that left goes first whatever its belief; on equal beliefs the newcomer is
    kept over an older one, and of two newcomers one chosen at random."""
    model = full_buyer([0.9, 0.4, 0.4], alive=[False, True, True])
    learn(model, [6], [0.1])
    assert known(model) == [1, 2, 6]
    kept = []
    for seed in range(40):
        model = full_buyer([0.7, 0.4, 0.7], seed=seed)
        learn(model, [8, 9], [0.4, 0.4])  # ties with seller 1; both newer: one of them stays
        held = known(model)
        assert held[:2] == [0, 2] and len(held) == 3
        kept.append(held[2])
        check_memory(model)
    assert 10 < kept.count(8) < 30 and kept.count(8) + kept.count(9) == 40


def test_lifetime_value_counts_spend_at_forgotten_sellers() -> None:
    """A buyer's lifetime value is all it spent, also at sellers it no longer holds in mind."""
    model = MarketModel(weekly_config(**SMALL, **{"market.max_known": 1}))
    for _ in range(30):
        model.step()
    b = model.buyers_state
    assert np.all(b.spent >= b.spend_by.sum(axis=1))
    assert np.any(b.spent > b.spend_by.sum(axis=1))  # some spend was at a forgotten seller
    assert b.spent.sum() == model.revenue_total > 0
    res = assemble(model)
    assert np.array_equal(res.agents["lifetime_value"].to_numpy(), b.spent)


@pytest.mark.parametrize("value", [-1, 1.5, "two"])
def test_a_bad_cap_is_refused(value: Any) -> None:
    """A cap that is not a whole number of sellers from 0 is refused, naming the setting."""
    with pytest.raises(ConfigError, match=r"market\.max_known"):
        weekly_config(**{"market.max_known": value})


def test_ranking_in_chunks_gives_the_same_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranking overflowing buyers a few at a time (as large phases do) gives the same run as
    ranking them all at once."""
    from spheres.model import memory

    cfg = weekly_config(**SMALL, **{"market.max_known": 2})
    whole = simulate(cfg)
    monkeypatch.setattr(memory, "ROWS_AT_ONCE", 3)
    chunked = simulate(cfg)
    for name in ("metrics", "sellers", "flows", "agents"):
        assert getattr(whole, name).equals(getattr(chunked, name)), name
