"""The social-currency ledger: unit behaviour, and the currency and money identities of whole
runs over many seeds and configurations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import used_graph_settings
from spheres.config import make_config
from spheres.model.currency import (
    AGENT_TYPES,
    BURN,
    CONVERT_IN,
    CONVERT_OUT,
    KINDS,
    MINT,
    TRANSFER,
    Ledger,
    LedgerError,
)
from spheres.model.network import KINDS as NETWORK_KINDS
from spheres.model.strategies import STRATEGIES
from spheres.simulate import simulate

# -- unit tests ----------------------------------------------------------------------------------


def make_ledger(keep_entries: bool = False) -> Ledger:
    """Five buyers; buyer 4 is an influencer; all balances zero."""
    infl = np.array([False, False, False, False, True])
    return Ledger(np.zeros(5, dtype=np.int64), infl, keep_entries=keep_entries)


def identity(led: Ledger) -> int:
    t = led.totals
    return int(t[MINT] + t[CONVERT_IN] - t[BURN] - t[CONVERT_OUT])


def test_each_kind_updates_balances_and_totals() -> None:
    """Mint, transfer, convert in/out and burn change balances and their kind's total; the
    identity holds after each."""
    led = make_ledger()
    led.mint(np.array([0, 1, 1]), 10)
    assert led.balance.tolist() == [10, 20, 0, 0, 0]
    led.transfer(np.array([1]), np.array([4]), np.array([7]))
    assert led.balance.tolist() == [10, 13, 0, 0, 7]
    led.convert_in(np.array([2, 2]), np.array([3, 4]), np.array([5, 6]))
    assert led.balance.tolist() == [10, 13, 0, 5, 13]
    led.convert_out(np.array([4]), 3)
    assert led.balance.tolist() == [10, 13, 0, 5, 10]
    led.burn(np.array([0, 1]), np.array([1, 2]))
    assert led.balance.tolist() == [9, 11, 0, 5, 10]
    assert led.totals.tolist() == [30, 7, 11, 3, 3]
    assert led.identity_holds() and identity(led) == led.balance.sum() == 35


def test_kinds_and_types_are_named_in_order() -> None:
    """The integer codes index the documented names."""
    assert [KINDS[k] for k in (MINT, TRANSFER, CONVERT_IN, CONVERT_OUT, BURN)] == [
        "mint", "transfer", "convert_in", "convert_out", "burn"]
    assert AGENT_TYPES == ("none", "buyer", "influencer", "seller")


@pytest.mark.parametrize("move", ["mint", "transfer", "convert_in", "convert_out", "burn"])
def test_negative_amounts_are_refused(move: str) -> None:
    """A negative amount raises LedgerError for every kind."""
    led = make_ledger()
    led.mint(np.arange(5), 50)
    calls = {
        "mint": lambda: led.mint(np.array([0, 1]), np.array([3, -1])),
        "transfer": lambda: led.transfer(np.array([0]), np.array([1]), -2),
        "convert_in": lambda: led.convert_in(np.array([0]), np.array([1]), -2),
        "convert_out": lambda: led.convert_out(np.array([0]), -2),
        "burn": lambda: led.burn(np.array([0]), -2),
    }
    with pytest.raises(LedgerError, match=">= 0"):
        calls[move]()
    assert led.balance.tolist() == [50] * 5 and led.identity_holds()


@pytest.mark.parametrize("move", ["transfer", "convert_out", "burn"])
def test_overdrafts_are_refused(move: str) -> None:
    """Spending more than a balance (also through repeated rows) raises LedgerError."""
    led = make_ledger()
    led.mint(np.array([0]), 5)
    src = np.array([0, 0])
    calls = {
        "transfer": lambda: led.transfer(src, np.array([1, 2]), 3),
        "convert_out": lambda: led.convert_out(src, 3),
        "burn": lambda: led.burn(src, 3),
    }
    with pytest.raises(LedgerError, match="negative"):
        calls[move]()


@pytest.mark.parametrize("move", ["transfer", "convert_out", "burn"])
def test_a_refused_overdraft_leaves_the_ledger_unchanged(move: str) -> None:
    """After a refused movement the balances are as before and the identity still holds."""
    led = make_ledger()
    led.mint(np.array([0]), 5)
    calls = {
        "transfer": lambda: led.transfer(np.array([0]), np.array([1]), 6),
        "convert_out": lambda: led.convert_out(np.array([0]), 6),
        "burn": lambda: led.burn(np.array([0]), 6),
    }
    with pytest.raises(LedgerError):
        calls[move]()
    assert led.balance.tolist() == [5, 0, 0, 0, 0]
    assert led.identity_holds()


def test_transfers_are_allowed_to_empty_a_balance_exactly() -> None:
    """Spending a whole balance is allowed and leaves zero."""
    led = make_ledger()
    led.mint(np.array([2]), 4)
    led.transfer(np.array([2, 2]), np.array([0, 4]), np.array([1, 3]))
    assert led.balance.tolist() == [1, 0, 0, 0, 3]


def test_flow_rows_by_step_types_and_kind() -> None:
    """Each closed step stores one row per (source type, destination type, kind) with the summed
    amount; an empty step stores nothing; the open step's totals restart after closing."""
    led = make_ledger()
    led.mint(np.array([0, 4, 1]), np.array([2, 3, 4]))
    led.transfer(np.array([0, 1]), np.array([4, 0]), 1)
    led.convert_in(np.array([1, 1]), np.array([4, 4]), 5)
    assert led.step_total(MINT) == 9 and led.step_total(CONVERT_IN) == 10
    led.close_step(1)
    assert led.step == 2 and led.step_total(MINT) == 0
    led.close_step(2)
    led.convert_out(np.array([4]), 4)
    led.burn(np.array([0, 4]), 1)
    led.close_step(3)
    rows = sorted(led.flow_rows())
    assert rows == sorted([
        (1, "none", "buyer", "mint", 6),
        (1, "none", "influencer", "mint", 3),
        (1, "buyer", "influencer", "transfer", 1),
        (1, "buyer", "buyer", "transfer", 1),
        (1, "seller", "influencer", "convert_in", 10),
        (3, "influencer", "none", "convert_out", 4),
        (3, "buyer", "none", "burn", 1),
        (3, "influencer", "none", "burn", 1),
    ])


def test_agent_types_are_read_when_the_movement_happens() -> None:
    """A buyer promoted to influencer is typed as an influencer from then on."""
    led = make_ledger()
    led.mint(np.array([1]), 2)
    led.is_influencer[1] = True
    led.mint(np.array([1]), 3)
    led.close_step(1)
    assert sorted(led.flow_rows()) == [(1, "none", "buyer", "mint", 2),
                                       (1, "none", "influencer", "mint", 3)]


def test_entries_are_kept_only_on_request() -> None:
    """With keep_entries every movement is a row (step, kind, source type, source, destination
    type, destination, amount), -1 standing for the outside; without, there are none."""
    plain = make_ledger()
    plain.mint(np.array([0]), 1)
    assert plain.entries().shape == (0, 7)
    led = make_ledger(keep_entries=True)
    assert led.entries().shape == (0, 7)
    led.step = 4
    led.mint(np.array([0, 4]), 3)
    led.transfer(np.array([4]), np.array([1]), 2)
    led.convert_in(np.array([7]), np.array([2]), 9)
    led.close_step(4)
    led.convert_out(np.array([2]), 4)
    led.burn(np.array([0]), 1)
    e = led.entries()
    assert e.dtype == np.int64
    assert e.tolist() == [
        [4, MINT, 0, -1, 1, 0, 3],
        [4, MINT, 0, -1, 2, 4, 3],
        [4, TRANSFER, 2, 4, 1, 1, 2],
        [4, CONVERT_IN, 3, 7, 1, 2, 9],
        [5, CONVERT_OUT, 1, 2, 0, -1, 4],
        [5, BURN, 1, 0, 0, -1, 1],
    ]
    per_kind = np.bincount(e[:, 1], weights=e[:, 6], minlength=len(KINDS))
    assert per_kind.tolist() == led.totals.tolist()


def test_empty_movements_record_nothing() -> None:
    """Movements of no rows change nothing and store no flow rows or entries."""
    led = make_ledger(keep_entries=True)
    empty = np.zeros(0, dtype=np.int64)
    led.mint(empty, 5)
    led.transfer(empty, empty, empty)
    led.burn(empty, 1)
    led.close_step(1)
    assert led.totals.tolist() == [0] * 5 and led.flow_rows() == [] and led.entries().size == 0


# -- identities of whole runs --------------------------------------------------------------------

KINDS_OF_NETWORK = [kind for kind, spec in NETWORK_KINDS.items() if "path" not in spec.uses]
MECHANISMS = ("drift", "peer_pull", "influencers", "advertising", "currency", "reputation",
              "audience_growth", "trust", "spam_penalty", "adaptation", "exit", "entry")


# Probabilities below about 1e-18 break the geometric-gap draws (see test_mechanisms.py).
PROBABILITY = st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-3, 1.0))


@st.composite
def run_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A small but varied run: sizes, strategy mix, network, currency and switches."""
    names = sorted(STRATEGIES)
    mix = draw(st.dictionaries(st.sampled_from(names), st.integers(0, 3), min_size=1))
    if sum(mix.values()) == 0:
        mix[draw(st.sampled_from(names))] = 1
    return {
        "seed": draw(st.integers(0, 2**31)),
        "n_buyers": draw(st.integers(30, 300)),
        "steps": draw(st.integers(1, 30)),
        "engine": draw(st.sampled_from(["vector", "vector", "agent"])),
        "network": {
            key.removeprefix("network."): value for key, value in used_graph_settings({
                "network.kind": draw(st.sampled_from(KINDS_OF_NETWORK)),
                "network.mean_degree": float(draw(st.sampled_from([4, 6, 8, 10, 12]))),
                "network.influencer_share": draw(st.sampled_from([0.0, 0.02, 0.1])),
                "network.followers_per_influencer": draw(st.integers(0, 60)),
                "network.blocks": draw(st.integers(2, 5)),
            }).items()
        },
        "market": {
            "p_need": draw(st.floats(0.05, 1.0)),
            "post_reach": draw(PROBABILITY),
            "contacts": draw(st.integers(1, 5)),
            "p_word_of_mouth": draw(PROBABILITY),
            "initial_awareness": draw(st.floats(0.0, 1.0)),
            "audience_growth": draw(st.sampled_from([0.0, 0.01, 0.05])),
            "promote_at": draw(st.integers(1, 30)),
            "p_ad": draw(st.sampled_from([0.0, 0.05, 0.5])),
        },
        "sellers": {
            "mix": mix,
            "fixed_cost_per_buyer": draw(st.sampled_from([0, 5, 40])),
            "sponsor_k": draw(st.integers(0, 4)),
            "sponsor_fee": draw(st.integers(0, 5000)),
            "sponsor_period": draw(st.integers(1, 10)),
            "sponsor_targeting": draw(st.sampled_from(["score", "degree", "random",
                                                       "true_influence"])),
            "cocreate_reward": draw(st.integers(0, 20)),
            "sense_delay": draw(st.integers(0, 10)),
            "p_entry": draw(st.sampled_from([0.0, 0.2, 1.0])),
            "max_entrants": draw(st.integers(0, 4)),
        },
        "currency": {
            "advice_reward": draw(st.integers(0, 50)),
            "thank_you": draw(st.integers(0, 5)),
            "decay": draw(st.floats(0.0, 1.0)),
            "cents_per_point": draw(st.integers(1, 50)),
            "cashout_threshold": draw(st.integers(0, 400)),
            "cashout_share": draw(st.floats(0.0, 1.0)),
        },
        "mechanisms": {m: draw(st.booleans()) for m in MECHANISMS},
        "output": {"ledger_entries": draw(st.booleans())},
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_configs())
def test_currency_and_money_identities_hold_in_every_run(overrides: dict[str, Any]) -> None:
    """Balances equal mint + convert_in - burn - convert_out exactly; no balance is negative;
    the flows table sums to the totals; buyers' spend equals sellers' revenue, and the sellers'
    booked revenue equals the buyers' lifetime values."""
    res = simulate(make_config(overrides))
    s, agents = res.summary, res.agents
    by_kind = s["currency_by_kind"]
    stock = int(agents.currency.sum())
    assert stock == s["currency_stock"]
    assert stock == by_kind["mint"] + by_kind["convert_in"] - by_kind["burn"] - by_kind[
        "convert_out"]
    assert s["ledger_identity_holds"] and (agents.currency >= 0).all()
    flows = res.flows.groupby("kind").amount.sum()
    assert {k: int(flows.get(k, 0)) for k in KINDS} == by_kind
    if res.ledger_entries is not None:
        e = res.ledger_entries
        assert {k: int(e.amount[e.kind == k].sum()) for k in KINDS} == by_kind
        assert (e.amount >= 0).all()
    assert s["buyer_spend"] == s["seller_revenue"] and s["money_identity_holds"]
    assert int(res.sellers.revenue.sum()) == int(agents.lifetime_value.sum()) == s["buyer_spend"]
    assert int(res.metrics.revenue.sum()) == s["seller_revenue"]
    if not overrides["mechanisms"]["currency"]:
        assert set(by_kind.values()) == {0}
