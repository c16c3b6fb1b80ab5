"""Money cashed out for points goes back to the buyer and is spent again.

A cash-out (phase 8) credits the buyer's wallet (``money``); a later purchase (phase 6) is paid
from the wallet first and from income for the rest (``rules.paid_from_wallet``); a perk lowers
the price only. The run summary accounts for every cent: income spent plus wallet spent is what
buyers spent and sellers booked (``money_identity_holds``), and the money from points (all of it
from cash-outs) is either spent from the wallet or still held there (``wallet_identity_holds``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from spheres import Results, simulate
from spheres.model import rules
from spheres.model.model import MarketModel
from spheres.verify import first_difference
from test_engines import config


def test_the_wallet_pays_what_it_holds_up_to_the_price() -> None:
    """The rule: all the wallet holds when that is less than the price, else the price."""
    wallet = np.array([0, 300, 1000, 5000])
    assert rules.paid_from_wallet(wallet, 1000).tolist() == [0, 300, 1000, 1000]
    assert rules.paid_from_wallet(wallet, np.array([800, 800, 800, 0])).tolist() == [0, 300,
                                                                                    800, 0]


def test_cashed_out_money_is_spent_in_later_purchases() -> None:
    """Step by step: a buyer who buys pays from the wallet it had at the start of the step, as
    much as it holds up to the price paid; what a step's cash-outs credit waits for a later
    purchase; and over the run some cashed-out money is spent."""
    model = MarketModel(config(steps=25))
    b = model.buyers_state
    for _ in range(model.config.steps):
        wallet, spent, credited = b.money.copy(), b.wallet_spent.copy(), b.money_in.copy()
        model.step()
        rows = model.purchases[0]
        paid_from_wallet = b.wallet_spent - spent
        assert paid_from_wallet[rows].tolist() == np.minimum(wallet[rows], model.paid).tolist()
        others = np.setdiff1d(np.arange(model.n_buyers), rows)
        assert not paid_from_wallet[others].any()
        assert np.array_equal(b.money, wallet - paid_from_wallet + (b.money_in - credited))
    assert b.wallet_spent.sum() > 0 and (b.money >= 0).all()


def assert_money_accounts(res: Results) -> None:
    """Every cent in the summary and the agents table adds up (see the module's docstring)."""
    s, agents = res.summary, res.agents
    chi = res.config.currency.cents_per_point
    assert s["income_spent"] + s["wallet_spent"] == s["buyer_spend"] == s["seller_revenue"]
    assert s["money_from_points"] == s["cashout_cents"] == s["currency_by_reason"]["cashout"] * chi
    assert s["money_from_points"] == s["wallet_spent"] + s["wallet_held"]
    assert s["perk_cents"] == s["currency_by_reason"]["perk"] * chi
    assert s["money_identity_holds"] and s["wallet_identity_holds"]
    assert int(agents.money.sum()) == s["wallet_held"]
    assert int(agents.wallet_spent.sum()) == s["wallet_spent"]
    assert (agents.money_from_points == agents.wallet_spent + agents.money).all()
    assert (agents.money >= 0).all() and (agents.wallet_spent <= agents.lifetime_value).all()
    # every seller asks the same fixed price: what buyers paid and the perks' discounts add up
    # to the list price of every purchase
    price = res.config.sellers.price
    assert s["buyer_spend"] + s["perk_cents"] == int(agents.purchases.sum()) * price


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_identities_hold_at_several_seeds(seed: int) -> None:
    """Income and wallet spending make up the buyers' spend; money from points is spent or
    held; cash-outs were made and spent again."""
    res = simulate(config(seed=seed))
    assert_money_accounts(res)
    assert res.summary["wallet_spent"] > 0 and res.summary["perk_cents"] > 0


def test_both_engines_spend_wallets_alike() -> None:
    """The two engines keep the same wallets at every step, and their summaries' money figures
    are equal."""
    cfg = config(seed=2)
    assert first_difference(cfg) is None
    keys = ("income_spent", "wallet_spent", "wallet_held", "money_from_points", "cashout_cents",
            "perk_cents", "buyer_spend", "money_identity_holds", "wallet_identity_holds")
    summaries = []
    for engine in ("vector", "agent"):
        res = simulate(dataclasses.replace(cfg, engine=engine))
        assert_money_accounts(res)
        summaries.append({key: res.summary[key] for key in keys})
    assert summaries[0] == summaries[1]


@pytest.mark.parametrize(("switches", "wallets"), [
    pytest.param({"mechanisms.cashout": False}, False, id="no-cashout"),
    pytest.param({"mechanisms.perks": False}, True, id="no-perks"),
])
def test_only_cash_outs_fill_wallets(switches: dict[str, Any], wallets: bool) -> None:
    """Without cash-outs no money reaches a wallet, whatever perks do (they lower the price
    only); without perks buyers pay full price and cash-outs still fill wallets."""
    res = simulate(config(seed=2, **switches))
    assert_money_accounts(res)
    s = res.summary
    assert (s["money_from_points"] > 0) == wallets
    assert (s["perk_cents"] > 0) == switches.get("mechanisms.perks", True)
    if not wallets:
        assert s["wallet_spent"] == s["wallet_held"] == 0 and not res.agents.money.any()
