"""The vector engine's shortcuts give what the plain rules give.

The choice among known sellers, the state kept for entrants, the word-of-mouth draw over the
sellers opened so far and the measures computed once when nothing can change them are faster
forms of the model's rules; these tests hold them to the plain forms.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spheres.config import make_config
from spheres.model import draws as dr
from spheres.model import measures
from spheres.model.model import MarketModel
from spheres.model.rules import choose, choose_known


def choose_by_loop(util: np.ndarray, avail: np.ndarray, outside: float, u: float) -> int:
    """The logit choice of one buyer, written as the model describes it."""
    options = [s for s in range(util.size) if avail[s]]
    top = max([outside, *(util[s] for s in options)])
    weights = [np.exp(util[s] - top) for s in options]
    cum = np.exp(outside - top)
    x = u * (cum + sum(weights))
    if x < cum:
        return -1
    for s, w in zip(options, weights, strict=True):
        cum += w
        if x < cum:
            return s
    return -1


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 9),
       st.floats(-3.0, 3.0))
def test_choice_among_known_sellers_is_the_logit_rule(seed: int, buyers: int, sellers: int,
                                                      outside: float) -> None:
    """Every buyer's choice (vectorised over buyers, and one buyer at a time) is the one the
    rule gives, including buyers who know no seller."""
    rng = np.random.default_rng(seed)
    util = rng.normal(0, 2, (buyers, sellers))
    avail = rng.random((buyers, sellers)) < 0.5
    u = rng.random(buyers)
    expected = [choose_by_loop(util[i], avail[i], outside, u[i]) for i in range(buyers)]
    who, seller = np.nonzero(avail)
    assert choose_known(who, seller, util[who, seller], outside, u).tolist() == expected
    assert choose(util, avail, outside, u).tolist() == expected
    assert [int(choose(util[i], avail[i], outside, np.float64(u[i])))
            for i in range(buyers)] == expected


def test_entry_opens_a_reserved_column_without_copying_the_state() -> None:
    """The per-(buyer, seller) arrays have a column for every slot from the start; an entrant
    opens one: the arrays stay the same objects, and the entrant's column starts unknown to all
    but its initial awareness, at the prior belief."""
    cfg = make_config(n_buyers=300, steps=6, seed=2, **{"sellers.entry_rate": 1.0,
                                                        "sellers.max_entrants": 3})
    model = MarketModel(cfg)
    b = model.buyers_state
    start = model.n_start_sellers
    assert b.aware.shape[1] == model.n_used == start + 3
    assert model.n_opened == start
    arrays = {name: getattr(b, name) for name in ("aware", "belief", "introducer", "spend_by")}
    for _ in range(cfg.steps):
        model.step()
    assert model.events["entries"] == 3 and model.n_opened == start + 3
    for name, array in arrays.items():
        assert getattr(b, name) is array, f"{name} was reallocated"


def test_word_of_mouth_is_drawn_over_opened_sellers_only() -> None:
    """Slots not yet opened are never passed on, and the draw over the opened ones is the one
    an array of their width alone would get (the same generator state after it)."""
    cfg = make_config(n_buyers=400, steps=1, seed=4, **{"market.need_rate": 0.5,
                                                        "market.p_word_of_mouth": 0.5,
                                                        "sellers.max_entrants": 5})
    model = MarketModel(cfg)
    model.buyers_state.need[:] = model.rng.random(model.n_buyers) < 0.5
    state = model.rng.bit_generator.state
    d = dr.conversations(model)
    opened = model.n_opened
    assert opened < model.n_used
    assert not d.lucky[:, :, opened:].any()
    model.rng.bit_generator.state = state
    rows = np.flatnonzero(model.buyers_state.need)
    k = cfg.market.contacts
    model.rng.random((rows.size, k))
    narrow = np.zeros((rows.size, k, opened), dtype=bool)
    narrow.reshape(-1)[dr.bernoulli_positions(model.rng, narrow.size, 0.5)] = True
    assert np.array_equal(d.lucky[:, :, :opened], narrow)


def test_means_of_unchanging_arrays_are_kept_only_while_nothing_changes_them() -> None:
    """With every mechanism that moves expectations or trust off, their means are computed once;
    with drift on, the mean expectation is recomputed every step and follows the drift."""
    off = {f"mechanisms.{name}": False for names in measures.CHANGED_BY.values()
           for name in names}
    still = MarketModel(make_config(n_buyers=200, steps=3, seed=1, **off))
    for _ in range(3):
        still.step()
    assert set(still.kept_means) == {"taste", "expect", "trust"}
    moving = MarketModel(make_config(n_buyers=200, steps=3, seed=1))
    for _ in range(3):
        moving.step()
    assert set(moving.kept_means) == {"taste"}
    assert np.array_equal(measures.buyer_means(moving, "expect"),
                          measures.column_means(moving.buyers_state.expect))
