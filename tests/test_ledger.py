"""The social-currency ledger: unit behaviour, and the currency and money identities of whole
runs over many seeds and configurations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REASON_SWITCH, SWITCHES, used_graph_settings, weekly_config
from spheres import Results, simulate
from spheres.model.currency import (
    AGENT_TYPES,
    BURN,
    CONVERT_IN,
    CONVERT_OUT,
    KINDS,
    MINT,
    REASON_NAMES,
    REASONS,
    TRANSFER,
    Ledger,
    LedgerError,
)
from spheres.model.network import KINDS as NETWORK_KINDS
from spheres.model.sellers import TARGETING
from spheres.model.strategies import STRATEGIES

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


def test_flow_rows_by_step_types_kind_and_reason() -> None:
    """Each closed step stores one row per (source type, destination type, reason) with its kind
    and the summed amount; an empty step stores nothing; the open step's totals restart after
    closing."""
    led = make_ledger()
    led.mint(np.array([0, 4, 1]), np.array([2, 3, 4]), "advice")
    led.transfer(np.array([0, 1]), np.array([4, 0]), 1, "thank_you")
    led.transfer(np.array([4]), np.array([1]), 2, "follower_share")
    led.convert_in(np.array([1, 1]), np.array([4, 4]), 5, "sponsorship")
    led.convert_in(np.array([2]), np.array([4]), 1, "cocreation")
    assert led.step_total(MINT) == 9 and led.step_total(CONVERT_IN) == 11
    assert led.step_reason_total("sponsorship") == 10 and led.step_reason_total("perk") == 0
    led.close_step(1)
    assert led.step == 2 and led.step_total(MINT) == 0
    assert led.step_reason_total("sponsorship") == 0
    led.close_step(2)
    led.convert_out(np.array([4]), 4, "cashout")
    led.convert_out(np.array([4]), 2, "perk")
    led.burn(np.array([0, 4]), 1, "decay")
    led.close_step(3)
    rows = sorted(led.flow_rows())
    assert rows == sorted([
        (1, "none", "buyer", "mint", "advice", 6),
        (1, "none", "influencer", "mint", "advice", 3),
        (1, "buyer", "influencer", "transfer", "thank_you", 1),
        (1, "buyer", "buyer", "transfer", "thank_you", 1),
        (1, "influencer", "buyer", "transfer", "follower_share", 2),
        (1, "seller", "influencer", "convert_in", "sponsorship", 10),
        (1, "seller", "influencer", "convert_in", "cocreation", 1),
        (3, "influencer", "none", "convert_out", "cashout", 4),
        (3, "influencer", "none", "convert_out", "perk", 2),
        (3, "buyer", "none", "burn", "decay", 1),
        (3, "influencer", "none", "burn", "decay", 1),
    ])


def test_flows_summed_by_reason_give_the_totals_by_kind() -> None:
    """Summing the flow rows of each kind's reasons gives that kind's ledger total."""
    led = make_ledger()
    led.mint(np.arange(5), 30)
    for step, reason in enumerate(REASONS, start=1):
        ids = np.array([step % 5, (step + 2) % 5])
        amount = np.array([step, 2 * step])
        kind = REASONS[reason]
        if kind == TRANSFER:
            led.transfer(ids, ids[::-1], amount, reason)
        elif kind == CONVERT_IN:
            led.convert_in(np.array([0, 1]), ids, amount, reason)
        else:
            move = {MINT: led.mint, CONVERT_OUT: led.convert_out, BURN: led.burn}[kind]
            move(ids, amount, reason)
        led.close_step(step)
    by_reason: dict[str, int] = {}
    for *_, reason, amount in led.flow_rows():
        by_reason[reason] = by_reason.get(reason, 0) + amount
    assert set(by_reason) == set(REASONS)
    for kind, name in enumerate(KINDS):
        assert sum(v for r, v in by_reason.items() if REASONS[r] == kind) == led.totals[kind], name
    assert led.identity_holds()


def moves_with_reason(led: Ledger) -> dict[int, Any]:
    """One small movement of each kind (buyer 0 pays or receives 1 point), taking a reason."""
    return {
        MINT: lambda r: led.mint(np.array([0]), 1, r),
        TRANSFER: lambda r: led.transfer(np.array([0]), np.array([1]), 1, r),
        CONVERT_IN: lambda r: led.convert_in(np.array([0]), np.array([1]), 1, r),
        CONVERT_OUT: lambda r: led.convert_out(np.array([0]), 1, r),
        BURN: lambda r: led.burn(np.array([0]), 1, r),
    }


@pytest.mark.parametrize("reason", list(REASONS))
def test_a_reason_of_another_kind_is_refused(reason: str) -> None:
    """Each movement accepts only the reasons of its own kind, and no unknown reason."""
    led = make_ledger()
    led.mint(np.arange(5), 10)
    moves = moves_with_reason(led)
    for kind, move in moves.items():
        if kind != REASONS[reason]:
            with pytest.raises(LedgerError, match=f"reason '{reason}' is not a {KINDS[kind]}"):
                move(reason)
        with pytest.raises(LedgerError, match="'no_such_reason' is not a"):
            move("no_such_reason")
    before = led.totals[REASONS[reason]]
    moves[REASONS[reason]](reason)
    assert led.totals[REASONS[reason]] == before + 1


@pytest.mark.parametrize("kind", [MINT, TRANSFER, CONVERT_IN, CONVERT_OUT, BURN])
def test_a_movement_refused_for_its_reason_changes_nothing(kind: int) -> None:
    """Like a refused overdraft, a movement refused for its reason leaves balances, totals and
    the identity as they were."""
    led = make_ledger()
    led.mint(np.arange(5), 10)
    wrong = next(r for r, k in REASONS.items() if k != kind)
    with pytest.raises(LedgerError):
        moves_with_reason(led)[kind](wrong)
    assert led.balance.tolist() == [10] * 5 and led.totals.tolist() == [50, 0, 0, 0, 0]
    assert led.identity_holds()


def test_agent_types_are_read_when_the_movement_happens() -> None:
    """A buyer promoted to influencer is typed as an influencer from then on."""
    led = make_ledger()
    led.mint(np.array([1]), 2)
    led.is_influencer[1] = True
    led.mint(np.array([1]), 3)
    led.close_step(1)
    assert sorted(led.flow_rows()) == [(1, "none", "buyer", "mint", "advice", 2),
                                       (1, "none", "influencer", "mint", "advice", 3)]


def test_entries_are_kept_only_on_request() -> None:
    """With keep_entries every movement is a row (step, kind, reason, source type, source,
    destination type, destination, amount), -1 standing for the outside; without, there are
    none."""
    plain = make_ledger()
    plain.mint(np.array([0]), 1)
    assert plain.entries().shape == (0, 8)
    led = make_ledger(keep_entries=True)
    assert led.entries().shape == (0, 8)
    led.step = 4
    led.mint(np.array([0, 4]), 3, "advice")
    led.transfer(np.array([4]), np.array([1]), 2, "follower_share")
    led.convert_in(np.array([7]), np.array([2]), 9, "cocreation")
    led.close_step(4)
    led.convert_out(np.array([2]), 4, "perk")
    led.burn(np.array([0]), 1, "decay")
    e = led.entries()
    assert e.dtype == np.int64
    code = {name: REASON_NAMES.index(name) for name in REASONS}
    assert e.tolist() == [
        [4, MINT, code["advice"], 0, -1, 1, 0, 3],
        [4, MINT, code["advice"], 0, -1, 2, 4, 3],
        [4, TRANSFER, code["follower_share"], 2, 4, 1, 1, 2],
        [4, CONVERT_IN, code["cocreation"], 3, 7, 1, 2, 9],
        [5, CONVERT_OUT, code["perk"], 1, 2, 0, -1, 4],
        [5, BURN, code["decay"], 1, 0, 0, -1, 1],
    ]
    per_kind = np.bincount(e[:, 1], weights=e[:, 7], minlength=len(KINDS))
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


# Probabilities below about 1e-18 break the geometric-gap draws (see test_mechanisms.py).
PROBABILITY = st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-3, 1.0))


@st.composite
def run_configs(draw: st.DrawFn, max_buyers: int = 300, max_steps: int = 30) -> dict[str, Any]:
    """A small but varied run: sizes, strategy mix, network, currency and switches."""
    names = sorted(STRATEGIES)
    mix = draw(st.dictionaries(st.sampled_from(names), st.integers(0, 3), min_size=1))
    if sum(mix.values()) == 0:
        mix[draw(st.sampled_from(names))] = 1
    n_buyers = draw(st.integers(30, max_buyers))
    return {
        "seed": draw(st.integers(0, 2**31)),
        "n_buyers": n_buyers,
        "steps": draw(st.integers(1, max_steps)),
        "engine": draw(st.sampled_from(["vector", "vector", "agent"])),
        "network": {
            key.removeprefix("network."): value for key, value in used_graph_settings({
                "network.kind": draw(st.sampled_from(KINDS_OF_NETWORK)),
                "network.mean_degree": float(draw(st.sampled_from([4, 6, 8, 10, 12]))),
                "network.influencer_share": draw(st.sampled_from([0.0, 0.02, 0.1])),
                "network.followers_per_influencer": draw(st.integers(0, 60)),
                # blocks of at least 14 buyers hold a mean degree of 12
                "network.blocks": draw(st.integers(2, max(2, min(5, n_buyers // 14)))),
            }).items()
        },
        "market": {
            "need_rate": draw(st.floats(0.05, 1.0)),
            "post_reach": draw(PROBABILITY),
            "contacts": draw(st.integers(1, 5)),
            "p_word_of_mouth": draw(PROBABILITY),
            "initial_awareness": draw(st.floats(0.0, 1.0)),
            "audience_growth": draw(st.sampled_from([0.0, 0.01, 0.05])),
            "promote_at": draw(st.integers(1, 30)),
            "ad_rate": draw(st.sampled_from([0.0, 0.05, 0.5])),
            "p_feedback": draw(PROBABILITY),
            "p_exposure": draw(PROBABILITY),
        },
        "sellers": {
            "mix": mix,
            "fixed_cost_per_buyer": draw(st.sampled_from([0, 5, 40])),
            "marketing_budget": draw(PROBABILITY),
            "sponsor_k": draw(st.integers(0, 4)),
            "sponsor_fee": draw(st.integers(0, 5000)),
            "campaign_period": draw(st.integers(1, 10)),
            "targeting": draw(st.sampled_from(sorted(TARGETING))),
            "seed_k": draw(st.integers(0, 40)),
            "trial_cost": draw(st.sampled_from([0, 50, 500])),
            "cocreate_reward": draw(st.integers(0, 20)),
            "sense_delay": draw(st.integers(0, 10)),
            "entry_rate": draw(st.sampled_from([0.0, 0.2, 1.0])),
            "max_entrants": draw(st.integers(0, 4)),
        },
        "currency": {
            "advice_reward": draw(st.integers(0, 50)),
            "thank_you": draw(st.integers(0, 5)),
            "follower_share": draw(st.integers(0, 5)),
            "decay": draw(st.floats(0.0, 1.0)),
            "cents_per_point": draw(st.integers(1, 50)),
            "cashout_threshold": draw(st.integers(0, 400)),
            "cashout_rate": draw(st.floats(0.0, 1.0)),
            "perk_threshold": draw(st.integers(0, 100)),
            "perk_share": draw(st.floats(0.0, 1.0)),
        },
        "mechanisms": {m: draw(st.booleans()) for m in SWITCHES},
        "output": {"ledger_entries": draw(st.booleans())},
    }


def assert_identities(res: Results) -> None:
    """Balances equal mint + convert_in - burn - convert_out exactly; no balance is negative;
    the flows table sums to the totals by kind, and by reason to the totals of each reason's
    kind; buyers' spend equals sellers' revenue and what buyers paid from income and from their
    wallets, and the sellers' booked revenue equals the buyers' lifetime values; the money from
    points (cash-outs) is spent from the wallets or still held there, buyer by buyer."""
    s, agents = res.summary, res.agents
    by_kind, by_reason = s["currency_by_kind"], s["currency_by_reason"]
    stock = int(agents.currency.sum())
    assert stock == s["currency_stock"]
    assert stock == by_kind["mint"] + by_kind["convert_in"] - by_kind["burn"] - by_kind[
        "convert_out"]
    assert s["ledger_identity_holds"] and (agents.currency >= 0).all()
    flows = res.flows.groupby("kind").amount.sum()
    assert {k: int(flows.get(k, 0)) for k in KINDS} == by_kind
    reasons = res.flows.groupby("reason").amount.sum()
    assert {r: int(reasons.get(r, 0)) for r in REASONS} == by_reason
    assert {k: sum(v for r, v in by_reason.items() if KINDS[REASONS[r]] == k)
            for k in KINDS} == by_kind
    if res.ledger_entries is not None:
        e = res.ledger_entries
        assert {k: int(e.amount[e.kind == k].sum()) for k in KINDS} == by_kind
        assert {r: int(e.amount[e.reason == r].sum()) for r in REASONS} == by_reason
        assert (e.amount >= 0).all()
    assert s["buyer_spend"] == s["seller_revenue"] and s["money_identity_holds"]
    assert s["income_spent"] + s["wallet_spent"] == s["buyer_spend"]
    assert int(res.sellers.revenue.sum()) == int(agents.lifetime_value.sum()) == s["buyer_spend"]
    assert int(res.metrics.revenue.sum()) == s["seller_revenue"]
    chi = res.config.currency.cents_per_point
    assert s["money_from_points"] == s["cashout_cents"] == by_reason["cashout"] * chi
    assert s["perk_cents"] == by_reason["perk"] * chi
    assert s["money_from_points"] == s["wallet_spent"] + s["wallet_held"]
    assert s["wallet_identity_holds"] and int(agents.money.sum()) == s["wallet_held"]
    assert (agents.money_from_points == agents.wallet_spent + agents.money).all()
    assert (agents.money >= 0).all() and (agents.wallet_spent <= agents.lifetime_value).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_configs())
def test_currency_and_money_identities_hold_in_every_run(overrides: dict[str, Any]) -> None:
    """The currency and money identities hold exactly in varied runs (see assert_identities)."""
    assert_identities(simulate(weekly_config(overrides)))


def test_every_reason_has_a_switch() -> None:
    """Each reason currency moves for is turned off by one mechanism switch."""
    assert set(REASON_SWITCH) == set(REASONS)
    assert set(REASON_SWITCH.values()) <= set(SWITCHES)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run_configs(max_buyers=150, max_steps=15))
def test_a_switched_off_mechanism_moves_no_currency(overrides: dict[str, Any]) -> None:
    """With random switches on and off, both identities hold, and every reason whose switch is
    off has a total of zero (in the summary, the flows and the metrics)."""
    res = simulate(weekly_config(overrides))
    assert res.summary["ledger_identity_holds"] and res.summary["money_identity_holds"]
    assert res.summary["wallet_identity_holds"]
    assert_identities(res)
    on = overrides["mechanisms"]
    off = [reason for reason, switch in REASON_SWITCH.items() if not on[switch]]
    by_reason = res.summary["currency_by_reason"]
    assert {reason: by_reason[reason] for reason in off} == dict.fromkeys(off, 0)
    assert not res.flows.reason.isin(off).any()
    if "perk" in off:
        assert (res.metrics.currency_perks == 0).all()
    if "follower_share" in off:
        assert (res.metrics.currency_follower_share == 0).all()
    if "cashout" in off:  # only cash-outs fill wallets; a perk lowers the price only
        assert (res.agents.money == 0).all() and res.summary["money_from_points"] == 0
        assert res.summary["wallet_spent"] == 0
    if "perk" in off and "cashout" in off:
        assert res.summary["currency_by_kind"]["convert_out"] == 0
