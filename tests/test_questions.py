"""The mechanisms that let the model answer its seven questions, each checked where it acts.

Directions are checked at clear settings across seeds (not published numbers): connections move
expectations faster, claims that outrun experience cost trust, undisclosed sponsorship found out
costs credibility, marketing is limited by cash, the score reads only what an outsider sees, and
at the defaults every flow of the currency cycle happens.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import spheres
from conftest import ADS, weekly_config
from spheres.model import rules
from spheres.model.currency import REASONS
from spheres.model.measures import OBSERVABLE, klout_score
from spheres.model.model import MarketModel
from spheres.model.strategies import STRATEGIES, build_strategy

QUIET = {"output.progress": False, "output.dashboard": False}


def simulate(**overrides: Any) -> spheres.Results:
    """One run with the given dotted overrides, quietly."""
    return spheres.simulate(weekly_config(**{**QUIET, **overrides}))


def mean_lag(**overrides: Any) -> float:
    """Mean lag of expectations behind the frontier over the second half of a run."""
    metrics = simulate(**overrides).metrics
    return float(metrics["expectation_lag"].iloc[len(metrics) // 2:].mean())


# -- Q1: connections accelerate expectations ---------------------------------------------------
SMALL = {"n_buyers": 1000, "steps": 100, "mechanisms.entry": False}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_more_contacts_shrink_the_lag_of_expectations(seed: int) -> None:
    """With drift on, expectations lag the frontier less when buyers ask more contacts, and most
    when the pull toward more advanced contacts is on at all."""
    few = mean_lag(**SMALL, seed=seed, **{"market.contacts": 1})
    many = mean_lag(**SMALL, seed=seed, **{"market.contacts": 10})
    off = mean_lag(**SMALL, seed=seed, **{"mechanisms.peer_pull": False})
    assert many < few < off


def test_the_pull_never_moves_a_buyer_backwards() -> None:
    """A buyer moves only toward a contact whose known frontier is further along, so the pull
    never lowers a buyer's position along the frontier's direction."""
    model = MarketModel(weekly_config(**QUIET, **SMALL, **{"market.need_rate": 0.5}))
    b = model.buyers_state
    for _ in range(10):
        model.step()
    before = rules.advance(b.expect - b.taste, model.direction)
    model.cfg.mechanisms.drift = False  # isolate the conversations' effect on expectations
    model.step()
    after = rules.advance(b.expect - b.taste, model.direction)
    assert (after >= before - 1e-12).all() and (after > before).any()


# -- Q1: sensing can be set with marketing held equal ------------------------------------------
def test_sensing_and_marketing_of_a_preset_can_be_replaced() -> None:
    """``sellers.sensing.<preset>`` and ``sellers.marketing.<preset>`` change one part only."""
    cfg = weekly_config(**{"sellers.sensing": {"broadcast": "conversations"},
                         "sellers.marketing": {"listen": "advertise"}})
    broadcast, listen = build_strategy("broadcast", cfg), build_strategy("listen", cfg)
    assert (broadcast.marketing.name, broadcast.sensing.name) == ("advertise", "conversations")
    assert (listen.marketing.name, listen.sensing.name) == ("advertise", "conversations")
    assert build_strategy("sponsor", cfg).sensing.name == STRATEGIES["sponsor"].sensing


def test_a_seller_that_never_senses_never_moves() -> None:
    """Broadcast sellers told to sense ``never`` keep their offering; listeners move."""
    res = simulate(n_buyers=500, steps=30, **{"sellers.mix": {"broadcast": 2, "listen": 2},
                                              "sellers.sensing": {"broadcast": "never"},
                                              "mechanisms.entry": False})
    s = res.sellers
    spread = s.groupby("seller_id")[["offering_0", "offering_1"]].agg(np.ptp).sum(axis=1)
    frozen = s.groupby("seller_id")["strategy"].first() == "broadcast"
    assert (spread[frozen] == 0).all() and (spread[~frozen] > 0).all()
    assert set(s.loc[s.strategy == "broadcast", "sensing"]) == {"never"}


def test_listeners_keep_their_niches_apart() -> None:
    """Listeners hear the talkers whose favourite they are: after 200 steps ten listeners'
    offerings are still spread out (median pairwise distance well above zero)."""
    from scipy.spatial.distance import pdist

    res = simulate(**{"sellers.mix": {"listen": 10}, "mechanisms.entry": False,
                      "mechanisms.exit": False})
    last = res.sellers[res.sellers.step == res.sellers.step.max()]
    assert np.median(pdist(last[["offering_0", "offering_1"]].to_numpy())) > 0.03


# -- Q2/Q7: claims meet experience; cash limits marketing --------------------------------------
def test_trust_moves_with_the_gap_both_ways() -> None:
    """The trust rule: an experience that beats the claim raises trust as much as one that falls
    short by the same amount lowers it, more the larger the gap."""
    small = rules.trust_after(0.5, 0.4, 0.5, 1.0)
    large = rules.trust_after(0.5, 0.1, 0.5, 1.0)
    better = rules.trust_after(0.5, 0.6, 0.5, 1.0)
    assert large < small < 0.5 < better
    assert better - 0.5 == pytest.approx(0.5 - small) == pytest.approx(0.025)


@pytest.mark.parametrize("seed", [0, 1])
def test_overclaiming_ads_cost_trust_in_sellers(seed: int) -> None:
    """All-broadcast markets: ads that overclaim leave buyers trusting sellers less."""
    common = {"n_buyers": 1000, "steps": 100, "seed": seed, "sellers.mix": {"broadcast": 10},
              "mechanisms.spam": False, **ADS}
    honest = simulate(**common, **{"sellers.ad_overclaim": 0.0}).summary["trust_final"]
    boast = simulate(**common, **{"sellers.ad_overclaim": 0.5}).summary["trust_final"]
    assert boast["sellers"] < honest["sellers"] - 0.02


def test_claims_depend_on_the_offering() -> None:
    """What a seller's ads claim is the fit it believes it has plus its overclaim, so sellers
    that believe different fits claim different things."""
    model = MarketModel(weekly_config(**QUIET, n_buyers=300, **{"sellers.mix": {"broadcast": 3}}))
    model.sellers_state.believed_fit[:3] = [0.2, 0.5, 0.95]
    assert model.seller_claim(np.arange(3)) == pytest.approx([0.3, 0.6, 1.0])


def test_trust_by_source_differs_between_broadcast_and_listen_markets() -> None:
    """Over a default-sized run with ads reaching each buyer about once a year, trust in sellers
    never moves under all-listen, where no seller claims anything or advertises, and moves
    visibly under all-broadcast."""
    broadcast = simulate(**ADS, **{"sellers.mix": {"broadcast": 10}}).summary["trust_final"]
    listen = simulate(**ADS, **{"sellers.mix": {"listen": 10}}).summary["trust_final"]
    assert listen["sellers"] == pytest.approx(0.4, abs=1e-12)
    assert abs(broadcast["sellers"] - listen["sellers"]) > 0.01


def test_marketing_never_spends_more_than_the_budget() -> None:
    """Each step a seller spends at most its budget share of its cash on marketing, and
    nothing once its cash is gone."""
    res = simulate(n_buyers=500, steps=60, **{
        "sellers.mix": {"broadcast": 2, "sponsor": 2, "cocreate": 2, "seed": 2},
        "sellers.initial_cash_per_buyer": 30, "mechanisms.exit": False,
        "sellers.campaign_period": 5, "sellers.trial_cost": 50})
    s = res.sellers.sort_values(["seller_id", "step"])
    cash_before = s.groupby("seller_id")["cash"].shift(1).fillna(30 * 500)
    budget = np.floor(np.maximum(cash_before, 0) * 0.1)
    assert (s["marketing"] <= budget).all()
    assert (s.loc[cash_before <= 0, "marketing"] == 0).all()
    assert (s["marketing"] > 0).any() and (cash_before <= 0).any()


def test_a_smaller_budget_reaches_fewer_buyers() -> None:
    """Advertising reach falls when the budget share cannot pay for ``ad_rate``."""
    def reach(share: float) -> int:
        return int(simulate(n_buyers=1000, steps=20, **ADS, **{
            "sellers.mix": {"broadcast": 4}, "sellers.marketing_budget": share,
            "sellers.ad_cost": 200}).sellers["marketing"].sum())
    assert reach(0.01) < reach(0.2)


# -- Q3: the currency cycle --------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_run() -> spheres.Results:
    """The default run (3,000 buyers, 624 weekly steps)."""
    return simulate()


def test_every_flow_happens_at_the_defaults(default_run: spheres.Results) -> None:
    """At the defaults every reason currency moves for has a non-zero total, and the flows
    table's sums by reason agree with the summary."""
    by_reason = default_run.summary["currency_by_reason"]
    assert set(by_reason) == set(REASONS)
    assert all(v > 0 for v in by_reason.values()), by_reason
    flows = default_run.flows.groupby("reason")["amount"].sum().to_dict()
    assert flows == by_reason
    kinds = default_run.flows.groupby(["reason", "source_type", "destination_type"]).size()
    assert ("follower_share", "influencer", "buyer") in kinds.index
    assert ("sponsorship", "seller", "influencer") in kinds.index
    assert ("cocreation", "seller", "buyer") in kinds.index
    assert ("perk", "buyer", "none") in kinds.index


def test_every_mechanism_is_at_work_at_the_defaults(default_run: spheres.Results) -> None:
    """Some exits, some entries, promotions recorded with their degree percentile, buyers' trust
    moved in every source (in sellers only for the few buyers an ad reached), influencers found
    out, expectations lagging the frontier."""
    s, m, a = default_run.summary, default_run.metrics, default_run.agents
    assert s["exits"] > 0 and s["entries"] > 0 and s["promotions"] > 0
    assert int((a["promoted_step"] >= 0).sum()) == s["promotions"]
    assert 0 < s["promoted_degree_percentile_median"] <= 1
    assert m["promoted_degree_percentile"].notna().sum() > 0
    start = {"peers": 0.6, "influencers": 0.5, "sellers": 0.4}
    # trust is learned symmetrically, so a mean may stay near its start while buyers' trust moves
    assert all((a[f"trust_{k}"] - v).abs().mean() > 0.02 for k, v in start.items()
               if k != "sellers")
    # only ads move trust in sellers, and at the published rate (0.03 a year) few buyers see one
    assert ((a["trust_sellers"] - start["sellers"]).abs() > 0.01).sum() > 0
    assert m["exposures"].sum() > 0 and s["credibility_final"] < 1.0
    assert (m["expectation_lag"].iloc[50:] > 0).all()


def test_perks_lower_the_price_and_cash_outs_fill_wallets(default_run: spheres.Results) -> None:
    """Points spent as a discount lower what buyers pay and sellers earn alike (the money
    identity holds) and reach no wallet; points cashed out become the buyers' money, spent on
    later purchases or held."""
    s, agents = default_run.summary, default_run.agents
    assert s["money_identity_holds"] and s["ledger_identity_holds"] and s["wallet_identity_holds"]
    cpp = s["config"]["currency"]["cents_per_point"]
    assert s["perk_cents"] == s["currency_by_reason"]["perk"] * cpp > 0
    cashed = s["currency_by_reason"]["cashout"] * cpp
    assert int(agents["money_from_points"].sum()) == cashed > 0
    assert int(agents["money"].sum()) + int(agents["wallet_spent"].sum()) == cashed
    assert s["buyer_spend"] + s["perk_cents"] == int(agents["purchases"].sum()) * s["config"][
        "sellers"]["price"]


# -- Q4: an observable score -------------------------------------------------------------------
class Observable:
    """A view of the buyer arrays that refuses every array an outside scorer could not see."""

    def __init__(self, state: Any) -> None:
        self._state = state

    def __getattr__(self, name: str) -> Any:
        if name not in OBSERVABLE:
            raise AssertionError(f"the score read buyers_state.{name}")
        return getattr(self._state, name)


def test_the_score_reads_only_what_an_outsider_sees() -> None:
    """``klout_score`` gives the same scores from a view that refuses the attribution arrays
    (who made whom aware, purchases caused, claims)."""
    model = MarketModel(weekly_config(**QUIET, n_buyers=300, steps=20))
    for _ in range(20):
        model.step()

    class Outside:
        degree = model.degree
        n_buyers = model.n_buyers
        buyers_state = Observable(model.buyers_state)

    assert np.array_equal(klout_score(Outside()), klout_score(model))  # type: ignore[arg-type]
    for hidden in ("informed", "caused", "introducer", "intro_kind", "spend_by"):
        with pytest.raises(AssertionError):
            getattr(Outside.buyers_state, hidden)


# -- Q6: targeting and seeding from all buyers -------------------------------------------------
def test_seeding_by_degree_picks_the_best_connected_unaware_buyers() -> None:
    """On a campaign step a seeding seller gives trials to the ``seed_k`` highest-degree buyers
    that do not know it yet; at random, to buyers of every degree."""
    def seeded(how: str) -> np.ndarray:
        model = MarketModel(weekly_config(**QUIET, n_buyers=1000, steps=1, **{
            "sellers.mix": {"seed": 1}, "sellers.targeting": how, "sellers.seed_k": 40,
            "market.initial_awareness": 0.0, "market.need_rate": 0.0,
            "mechanisms.influencers": False}))
        model.step()
        return np.flatnonzero(model.buyers_state.aware[:, 0])

    top = seeded("degree")
    assert top.size == 40
    assert model_degree_rank(top).min() >= 1000 - 40 - 5  # ties at the cut
    spread = seeded("random")
    assert spread.size == 40 and np.median(model_degree_rank(spread)) < 800


def model_degree_rank(rows: np.ndarray) -> np.ndarray:
    """Degree rank (0 = lowest) of buyers in the default 1,000-buyer network of seed 0."""
    model = MarketModel(weekly_config(**QUIET, n_buyers=1000, **{"sellers.mix": {"seed": 1},
                                                                 "mechanisms.influencers": False}))
    ranks = np.argsort(np.argsort(model.degree, kind="stable"), kind="stable")
    return ranks[rows]


def test_sponsors_contract_buyers_with_an_audience() -> None:
    """Sponsorship targets come from every buyer with followers (promoted ones included), by
    the targeting rule."""
    model = MarketModel(weekly_config(**QUIET, n_buyers=800, **{
        "sellers.mix": {"sponsor": 2}, "sellers.targeting": "followers", "sellers.sponsor_k": 3,
        "sellers.campaign_period": 5}))
    for _ in range(6):
        model.step()
    b = model.buyers_state
    chosen = np.concatenate(list(model.contracts.values()))
    assert chosen.size == 6 and (b.n_followers[chosen] > 0).all()
    others = np.setdiff1d(np.flatnonzero(b.n_followers > 0), chosen)
    assert b.n_followers[chosen].min() >= b.n_followers[others].max() - 1


# -- Q7: undisclosed sponsorship found out -----------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_being_found_out_costs_credibility_and_trust(seed: int) -> None:
    """Sponsors only: when followers can find out undisclosed sponsorship, influencers end with
    less credibility and buyers trust influencers less than when they cannot."""
    common = {"n_buyers": 1500, "steps": 100, "seed": seed, "sellers.mix": {"sponsor": 6}}
    hidden = simulate(**common, **{"market.p_exposure": 0.2}).summary
    safe = simulate(**common, **{"market.p_exposure": 0.0}).summary
    assert hidden["credibility_final"] < safe["credibility_final"] - 0.02
    assert hidden["trust_final"]["influencers"] < safe["trust_final"]["influencers"] - 0.02


def test_disclosed_sponsorship_is_never_found_out() -> None:
    """Disclosed sponsored posts are weighed less but cannot be found out."""
    res = simulate(n_buyers=800, steps=40, **{"sellers.mix": {"sponsor": 4},
                                              "sellers.disclose_sponsorship": True,
                                              "market.p_exposure": 1.0})
    assert res.metrics["exposures"].sum() == 0
    assert (res.agents["found_out"] == 0).all()


def test_a_sponsored_buyer_with_followers_posts() -> None:
    """A buyer contracted for its audience posts about its sponsor even before it is counted an
    influencer: sponsors never pay for posts that cannot happen."""
    model = MarketModel(weekly_config(**QUIET, n_buyers=800, **{
        "sellers.mix": {"sponsor": 3}, "sellers.targeting": "random", "sellers.sponsor_k": 10,
        "sellers.campaign_period": 30, "market.audience_growth": 0.02,
        "market.post_rate": 1.0}))
    b = model.buyers_state
    for _ in range(31):  # audiences grow; contracts are signed at step 31
        model.step()
    ordinary = np.flatnonzero((b.sponsor_of >= 0) & ~b.is_influencer)
    assert ordinary.size > 0
    before = b.posts[ordinary].copy()
    model.step()
    assert (b.posts[ordinary] > before).any()
