"""The model's mechanisms, one at a time: word of mouth, advertising, diffusion, seller exit,
sponsorship, lagging sensing, and the measures (HHI, Gini, network value, scores)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from conftest import SWITCHES, weekly_config
from spheres import simulate
from spheres.config import SpheresConfig
from spheres.model import draws as dr
from spheres.model import rules
from spheres.model.currency import CONVERT_IN, REASON_NAMES
from spheres.model.measures import gini, hhi, klout_score, network_value
from spheres.model.model import MarketModel
from spheres.model.network import edges_to_csr
from spheres.model.state import AD, INFLUENCER_SRC, PEER
from spheres.run.tables import assemble

ALL_OFF = dict.fromkeys(SWITCHES, False)
DIFFUSION = {**ALL_OFF, "advertising": True}  # configs/experiment/diffusion.yaml


def config(mix: dict[str, int], mechanisms: dict[str, bool] | None = None,
           **dotted: Any) -> SpheresConfig:
    """A validated config with the given seller mix and switches; ``a__b=x`` sets ``a.b``."""
    nested: dict[str, Any] = {"sellers": {"mix": mix}}
    if mechanisms is not None:
        nested["mechanisms"] = mechanisms
    return weekly_config(nested, **dotted)


def assert_binomial(successes: int, trials: int, p: float, alpha: float = 1e-4) -> None:
    """``successes`` out of ``trials`` is consistent with probability ``p`` (two-sided test)."""
    result = stats.binomtest(int(successes), int(trials), p)
    assert result.pvalue > alpha, (
        f"{successes}/{trials} = {successes / trials:.4f} is not consistent with p = {p}")


def rejects(successes: int, trials: int, p: float, alpha: float = 1e-4) -> bool:
    """The observed rate is clearly not ``p``."""
    return stats.binomtest(int(successes), int(trials), p).pvalue < alpha


# -- 1. word of mouth ----------------------------------------------------------------------------


def word_of_mouth_trial(p: float, contacts: int, seed: int, engine: str = "vector",
                        n: int = 2000, knowers: int = 100) -> tuple[int, int]:
    """Buyers ``knowers..n-1`` each have one neighbour, a buyer that knows seller 0; everyone has
    one need. Returns (askers who became aware of seller 0, askers)."""
    cfg = config({"inert": 2}, ALL_OFF, n_buyers=n, seed=seed, engine=engine,
                 network__kind="erdos_renyi", market__contacts=contacts,
                 market__p_word_of_mouth=p, market__initial_awareness=0.0)
    model = MarketModel(cfg)
    askers = np.arange(knowers, n)
    model.graph, _ = edges_to_csr(n, askers, askers % knowers)
    b = model.buyers_state
    b.aware[:knowers, 0] = True
    b.need[:] = 1
    model.conversations()
    assert not b.aware[:, 1].any(), "nobody knows seller 1, so nobody can learn of it"
    learned = b.aware[askers, 0]
    assert np.all(b.intro_kind[askers[learned], 0] == PEER)
    assert np.array_equal(b.introducer[askers[learned], 0], askers[learned] % knowers)
    return int(learned.sum()), askers.size


@pytest.mark.parametrize("p", [0.3, 0.5])
def test_word_of_mouth_rate_per_contact(p: float) -> None:
    """The share of asker-contact pairs that pass on awareness is p_word_of_mouth."""
    runs = [word_of_mouth_trial(p, 1, seed) for seed in range(3)]
    hits, trials = sum(h for h, _ in runs), sum(t for _, t in runs)
    assert_binomial(hits, trials, p)
    other = 0.5 if p == 0.3 else 0.3
    assert rejects(hits, trials, other)


@pytest.mark.parametrize("k", [2, 3])
def test_word_of_mouth_from_k_knowing_contacts(k: int) -> None:
    """With k contacts who all know the seller, P(aware) = 1 - (1 - p)^k."""
    p = 0.3
    runs = [word_of_mouth_trial(p, k, seed) for seed in range(3)]
    hits, trials = sum(h for h, _ in runs), sum(t for _, t in runs)
    assert_binomial(hits, trials, 1 - (1 - p) ** k)
    assert rejects(hits, trials, p)


def test_word_of_mouth_agent_engine_same_rate() -> None:
    """The per-agent engine transmits at the same per-contact rate as the vectorised one."""
    vec = word_of_mouth_trial(0.3, 2, seed=5, n=600, knowers=30)
    agt = word_of_mouth_trial(0.3, 2, seed=5, engine="agent", n=600, knowers=30)
    assert vec == agt
    assert_binomial(agt[0], agt[1], 1 - 0.7**2)


def test_word_of_mouth_on_a_complete_graph_counts_knowing_contacts() -> None:
    """On a complete graph, an unaware asker with j knowing contacts (of 2) becomes aware with
    probability 1 - (1 - p)^j; with no knowing contact it never does."""
    p, n, knowers = 0.3, 400, 100
    counts = np.zeros((3, 2), dtype=np.int64)  # by j: (aware, askers)
    for seed in range(6):
        cfg = config({"inert": 1}, ALL_OFF, n_buyers=n, seed=seed, network__kind="complete",
                     market__contacts=2, market__p_word_of_mouth=p,
                     market__initial_awareness=0.0)
        model = MarketModel(cfg)
        b = model.buyers_state
        b.aware[:knowers, 0] = True
        b.need[:] = 1  # one need each: two contacts asked
        d = dr.conversations(model)
        model.engine.conversations(model, d)
        unaware = d.rows >= knowers
        j = (d.contacts[unaware] < knowers).sum(axis=1)
        aware = b.aware[d.rows[unaware], 0]
        for jj in range(3):
            counts[jj] += (int(aware[j == jj].sum()), int((j == jj).sum()))
    assert counts[0, 0] == 0
    assert_binomial(counts[1, 0], counts[1, 1], p)
    assert_binomial(counts[2, 0], counts[2, 1], 1 - (1 - p) ** 2)


# -- 2. advertising reach ------------------------------------------------------------------------


def advertising_phase(cfg: SpheresConfig) -> MarketModel:
    """A new model after one marketing phase, each seller's budget being that of a first step
    (``sellers.marketing_budget`` of its cash)."""
    model = MarketModel(cfg)
    m = model.sellers_state
    m.budget[:] = rules.budget(m.cash, model.cfg.sellers.marketing_budget)
    model.marketing()
    return model


@pytest.mark.parametrize("ad_rate", [0.02, 0.2, 0.7])
def test_advertising_reach(ad_rate: float) -> None:
    """After one advertising phase the share of buyers newly aware of an advertiser is ad_rate, in
    both halves of the buyer rows; non-advertisers gain nobody."""
    hits = first_half = trials = 0
    n = 2000
    for seed in range(3):
        cfg = config({"broadcast": 2, "inert": 1}, DIFFUSION, n_buyers=n, seed=seed,
                     market__ad_rate=ad_rate, market__initial_awareness=0.0,
                     sellers__marketing_budget=1.0)
        model = advertising_phase(cfg)
        b = model.buyers_state
        assert not b.aware[:, 2].any()
        for s in (0, 1):
            hits += int(b.aware[:, s].sum())
            first_half += int(b.aware[: n // 2, s].sum())
            trials += n
            assert np.all(b.intro_kind[b.aware[:, s], s] == AD)
            assert model.sellers_state.costs[s] == cfg.sellers.ad_cost * b.aware[:, s].sum()
    assert_binomial(hits, trials, ad_rate)
    assert_binomial(first_half, hits, 0.5)


@pytest.mark.parametrize("ad_rate", [0.0, 1.0])
def test_advertising_reach_extremes(ad_rate: float) -> None:
    """ad_rate = 0 reaches nobody and ad_rate = 1 reaches every buyer."""
    model = advertising_phase(config({"broadcast": 1}, DIFFUSION, n_buyers=500,
                                     market__ad_rate=ad_rate, market__initial_awareness=0.0,
                                     sellers__marketing_budget=1.0))
    assert model.buyers_state.aware[:, 0].sum() == round(ad_rate * 500)


@pytest.mark.parametrize("share", [0.0, 0.005, 0.02])
def test_advertising_reach_is_cut_to_what_the_budget_pays(share: float) -> None:
    """An advertiser whose budget (``marketing_budget`` of its cash) pays for fewer buyers than
    ad_rate would reach reaches about as many as it pays for, and never spends beyond its budget."""
    n, ad_rate = 2000, 0.5
    reached = paid = 0
    for seed in range(3):
        cfg = config({"broadcast": 1}, DIFFUSION, n_buyers=n, seed=seed, market__ad_rate=ad_rate,
                     market__initial_awareness=0.0, sellers__marketing_budget=share,
                     sellers__initial_cash_per_buyer=200)
        budget = int(share * cfg.sellers.initial_cash_per_buyer * n)
        model = advertising_phase(cfg)
        aware = int(model.buyers_state.aware[:, 0].sum())
        assert model.sellers_state.costs[0] == cfg.sellers.ad_cost * aware <= budget
        reached += aware
        paid += budget // cfg.sellers.ad_cost
    assert reached <= paid and (paid == 0 or reached > 0.9 * paid)


@pytest.mark.parametrize("p", [0.001, 0.05, 0.5, 0.999])
def test_bernoulli_positions_include_each_position_with_probability_p(p: float) -> None:
    """The geometric-gap sampler gives ascending, distinct positions in [0, n), each included
    with probability p, evenly over the range."""
    rng = np.random.default_rng(11)
    n, runs = 5000, 20
    hits = np.zeros(n, dtype=np.int64)
    for _ in range(runs):
        pos = dr.bernoulli_positions(rng, n, p)
        assert np.all(np.diff(pos) > 0) and (pos.size == 0 or (pos[0] >= 0 and pos[-1] < n))
        hits[pos] += 1
    assert_binomial(int(hits.sum()), n * runs, p)
    assert_binomial(int(hits[: n // 4].sum()), int(hits.sum()), 0.25)


@pytest.mark.parametrize("p", [1e-20, 1e-19])
def test_bernoulli_positions_with_a_tiny_probability(p: float) -> None:
    """A tiny but valid probability gives positions inside [0, n) (almost surely none)."""
    for seed in range(5):
        pos = dr.bernoulli_positions(np.random.default_rng(seed), 30, p)
        assert pos.size == 0 or (pos.min() >= 0 and pos.max() < 30)


@pytest.mark.parametrize("setting", ["market__p_word_of_mouth", "market__ad_rate"])
def test_a_tiny_probability_runs(setting: str) -> None:
    """A run with a valid but tiny probability completes."""
    res = simulate(weekly_config(n_buyers=30, steps=1, **{setting: 1e-20}))
    assert res.summary["steps"] == 1


# -- 3. innovation / imitation diffusion --------------------------------------------------------


def diffusion_reach(p_wom: float, seed: int, steps: int = 40, n: int = 2000) -> np.ndarray:
    """Reach of one broadcasting seller per step, with only advertising and word of mouth, among
    buyers alike (as in configs/experiment/diffusion.yaml); the seller's budget always pays for
    reaching each buyer with probability ad_rate."""
    cfg = config({"broadcast": 1}, DIFFUSION, n_buyers=n, steps=steps, seed=seed,
                 network__kind="erdos_renyi", market__need_rate=0.3, market__need_shape=0,
                 market__contacts=3,
                 market__ad_rate=0.02, market__p_word_of_mouth=p_wom, market__initial_awareness=0.0,
                 sellers__marketing_budget=1.0, sellers__fixed_cost_per_buyer=0)
    return simulate(cfg).sellers["reach"].to_numpy()


def test_diffusion_by_advertising_alone_follows_the_innovation_curve() -> None:
    """Without word of mouth, reach after t steps is 1 - (1 - ad_rate)^t, within 4 standard errors
    at every step."""
    n, ad_rate = 2000, 0.02
    reach = np.mean([diffusion_reach(0.0, seed) for seed in range(2)], axis=0)
    t = np.arange(1, reach.size + 1)
    expected = 1 - (1 - ad_rate) ** t
    se = np.sqrt(expected * (1 - expected) / (2 * n))
    assert np.all(np.abs(reach - expected) < 4 * se)


def test_diffusion_with_word_of_mouth_is_an_s_curve() -> None:
    """With imitation, reach never falls, adoption per step first accelerates then slows down,
    and reach saturates far above the advertising-only curve."""
    reach = diffusion_reach(0.3, seed=3)
    alone = diffusion_reach(0.0, seed=3)
    assert np.all(np.diff(reach) >= 0)
    new = np.diff(np.r_[0.0, reach])
    peak = int(np.argmax(np.convolve(new, np.ones(3) / 3, mode="same")))
    assert 3 <= peak <= 25
    assert new[5:12].mean() > 1.5 * new[:3].mean()
    assert new[-10:].mean() < 0.5 * new[5:12].mean()
    assert reach[-1] > 0.95
    assert np.all(reach[10:] > alone[10:] + 0.05)


# -- 5. exit -------------------------------------------------------------------------------------


def broke_sponsor_model(exit_on: bool) -> MarketModel:
    """Seller 0 sponsors influencers and can pay its first step's contracts, but the fixed cost
    leaves it deep in debt after that step; the other sellers are rich. Everyone knows every
    seller."""
    mech = dict.fromkeys(SWITCHES, True) | {"exit": exit_on, "entry": False}
    cfg = config({"sponsor": 1, "listen": 2}, mech, n_buyers=400, seed=4,
                 market__initial_awareness=1.0, market__need_rate=0.5, market__outside_option=0.0,
                 network__influencer_share=0.05, sellers__sponsor_k=3, sellers__campaign_period=2,
                 sellers__marketing_budget=1.0, sellers__fixed_cost_per_buyer=1000,
                 output__ledger_entries=True)
    model = MarketModel(cfg)
    m = model.sellers_state
    fee = model.cfg.sellers.sponsor_k * model.cfg.sellers.sponsor_fee
    m.cash[0] = fee + 1000  # pays step 1's contracts; revenue cannot cover 400 000 fixed cost
    m.cash[1:] = 10**9
    return model


def sponsorship_paid_by(model: MarketModel, seller: int) -> np.ndarray:
    """Ledger entries of sponsorship payments by ``seller``."""
    e = model.ledger.entries()
    sponsorship = REASON_NAMES.index("sponsorship")
    return e[(e[:, 1] == CONVERT_IN) & (e[:, 2] == sponsorship) & (e[:, 4] == seller)]


def test_a_seller_without_cash_exits() -> None:
    """A seller whose cash is negative after booking leaves: not alive, exit step set, no more
    sales, no new awareness, its sponsorship contracts end, and the summary counts the exit."""
    model = broke_sponsor_model(exit_on=True)
    model.step()
    m, b = model.sellers_state, model.buyers_state
    assert not m.alive[0] and m.exit_step[0] == 1 and m.sales[0] > 0
    assert m.alive[1:].all() and np.all(m.exit_step[1:] == -1)
    assert 0 not in model.contracts and not np.any(b.sponsor_of == 0)
    spent, aware = b.spend_by[:, 0].copy(), int(m.aware_count[0])
    for _ in range(5):
        model.step()
    res = assemble(model)
    later = res.sellers[(res.sellers.seller_id == 0) & (res.sellers.step > 1)]
    assert len(later) == 5 and not later.alive.any() and (later.sales == 0).all()
    assert res.sellers[(res.sellers.seller_id != 0) & (res.sellers.step > 1)].sales.sum() > 0
    assert np.array_equal(b.spend_by[:, 0], spent)
    assert m.aware_count[0] == aware
    assert 0 not in model.contracts and not np.any(b.sponsor_of == 0)
    paid = sponsorship_paid_by(model, 0)
    assert paid[:, 0].tolist() == [1] * model.cfg.sellers.sponsor_k
    assert res.summary["exits"] == 1 and res.metrics.exits.tolist() == [1, 0, 0, 0, 0, 0]
    assert res.summary["sellers_alive_by_strategy"]["sponsor"]["alive"] == 0
    assert res.summary["sellers_alive_by_strategy"]["sponsor"]["mean_survival_steps"] == 1


def test_without_exit_a_broke_seller_stays() -> None:
    """With mechanisms.exit off, the same seller stays alive with negative cash and still sells;
    with no marketing budget left it pays its influencers only in the first step, and its
    contracts lapse."""
    model = broke_sponsor_model(exit_on=False)
    for _ in range(6):
        model.step()
    m = model.sellers_state
    assert m.alive.all() and np.all(m.exit_step == -1) and m.cash[0] < 0
    res = assemble(model)
    assert res.summary["exits"] == 0
    assert res.sellers[res.sellers.seller_id == 0].sales.iloc[1:].sum() > 0
    paid = sponsorship_paid_by(model, 0)
    assert paid[:, 0].tolist() == [1] * model.cfg.sellers.sponsor_k
    assert model.contracts[0].size == 0 and not np.any(model.buyers_state.sponsor_of == 0)


def test_fixed_costs_above_cash_close_every_seller() -> None:
    """When the fixed cost of a step is far above the starting cash, every seller exits in step 1
    and nothing is bought afterwards."""
    cash = SpheresConfig().sellers.initial_cash_per_buyer
    cfg = config({"inert": 2, "listen": 1}, n_buyers=200, steps=4,
                 sellers__fixed_cost_per_buyer=3 * cash, mechanisms__entry=False)
    res = simulate(cfg)
    assert res.summary["exits"] == 3 and res.summary["sellers_alive"] == 0
    assert res.metrics.sellers_alive.tolist() == [0, 0, 0, 0]
    assert (res.metrics.purchases.iloc[1:] == 0).all()
    assert set(res.sellers[res.sellers.step == 4].alive) == {False}


# -- 6. sponsorship ------------------------------------------------------------------------------


@pytest.mark.parametrize(("fee", "cents_per_point", "k"), [(2000, 10, 3), (2005, 10, 4),
                                                          (999, 7, 2)])
def test_sponsorship_converts_money_at_the_stated_rate(fee: int, cents_per_point: int,
                                                       k: int) -> None:
    """Each step a sponsor buys fee // cents_per_point points for each of its k influencers,
    paying that many points times cents_per_point."""
    only_sponsorship = {"adaptation", "entry", "exit", "audience_growth", "advice_reward",
                        "thank_you", "follower_share", "perks", "cashout", "decay"}
    mech = {m: m not in only_sponsorship for m in SWITCHES}
    cfg = config({"sponsor": 1, "inert": 1}, mech, n_buyers=500, seed=2,
                 network__influencer_share=0.02, sellers__sponsor_k=k, sellers__sponsor_fee=fee,
                 sellers__marketing_budget=1.0, currency__cents_per_point=cents_per_point)
    model = MarketModel(cfg)
    model.step()
    pts = fee // cents_per_point
    fixed = model.cfg.sellers.fixed_cost_per_buyer * cfg.n_buyers
    assert model.ledger.totals[CONVERT_IN] == k * pts
    assert model.sellers_state.costs[0] == k * pts * cents_per_point + fixed
    assert model.sellers_state.costs[1] == fixed
    chosen = model.contracts[0]
    b = model.buyers_state
    assert chosen.size == k and b.is_influencer[chosen].all()
    assert np.all(b.currency[chosen] == pts)
    assert b.currency.sum() == k * pts
    assert np.all(b.sponsor_of[chosen] == 0) and (b.sponsor_of >= 0).sum() == k
    model.step()
    model.step()
    assert model.ledger.totals[CONVERT_IN] == 3 * k * pts
    assert np.all(b.currency[chosen] == 3 * pts)
    flows = assemble(model).flows
    row = flows[(flows.step == 1) & (flows.kind == "convert_in")]
    assert row[["source_type", "destination_type", "reason", "amount"]].values.tolist() == [
        ["seller", "influencer", "sponsorship", k * pts]]


# -- 7. lagging sensing --------------------------------------------------------------------------


def test_sales_sensing_lags_by_sense_delay() -> None:
    """After expectations jump, the listening seller moves toward them at the next step; the
    broadcasting seller, sensing its customers' expectations `sense_delay` steps late, keeps
    moving toward the old place until then, and reaches the customers of the jump step exactly
    `sense_delay` steps later."""
    d, t0 = 3, 10
    mech = {**ALL_OFF, "advertising": True, "adaptation": True}
    # a seed at which, at the jump, some buyers rate the listener above the broadcaster (whose
    # ads claim more than the prior while the fit it believes it has stays above it)
    cfg = config({"broadcast": 1, "listen": 1}, mech, n_buyers=600, seed=10, market__need_rate=1.0,
                 market__initial_awareness=1.0, market__outside_option=0.0,
                 market__learning_rate=0.0, sellers__sense_delay=d, sellers__sense_noise=0.0,
                 sellers__listen_noise=0.0, sellers__adapt_rate=0.2)
    model = MarketModel(cfg)
    m, b = model.sellers_state, model.buyers_state
    rate = model.cfg.sellers.adapt_rate
    for _ in range(t0 - 1):
        model.step()
    shift = np.array([2.0, -1.0])
    unit = shift / np.linalg.norm(shift)
    b.expect += shift
    b.taste += shift
    model.frontier = model.frontier + shift
    proj = [m.offering[:2] @ unit]
    jump_customers = None
    for t in range(t0, t0 + d + 1):
        before = m.offering.copy()
        model.step()
        assert model.steps == t
        proj.append(m.offering[:2] @ unit)
        if t == t0:
            rows, sellers = model.purchases
            # a customer counts once per unit bought
            mine = sellers == 0
            jump_customers = np.average(b.expect[rows[mine]], weights=model.units[mine], axis=0)
            # every buyer talks; the listener hears those whose favourite it is, after the jump
            assert m.talk_n[1] > 0
            target = m.talk_sum[1] / m.talk_n[1]
            assert np.allclose(m.offering[1], before[1] + rate * (target - before[1]))
        if t == t0 + d:
            assert np.allclose(m.offering[0], before[0] + rate * (jump_customers - before[0]))
    step = np.diff(np.array(proj), axis=0)  # rows: steps t0..t0+d; columns: sellers
    moved = rate * np.linalg.norm(shift) * 0.8
    assert step[0, 1] > moved
    assert np.all(np.abs(step[:d, 0]) < 0.1 * moved)
    assert step[d, 0] > moved


# -- 11. measures --------------------------------------------------------------------------------


def gini_reference(x: np.ndarray) -> float:
    """Mean absolute difference over twice the mean."""
    x = x.astype(float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


@pytest.mark.parametrize("value", [1, 7, 10_000])
def test_gini_of_equal_holdings_is_zero(value: int) -> None:
    """Equal balances give Gini 0 (bincount path for small values, sort path for large)."""
    assert gini(np.full(50, value, dtype=np.int64)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("value", [1, 3, 10_000])
@pytest.mark.parametrize("n", [2, 10, 101])
def test_gini_of_a_single_holder(value: int, n: int) -> None:
    """One holder among n gives Gini (n - 1) / n, whichever path computes it."""
    x = np.zeros(n, dtype=np.int64)
    x[n // 2] = value
    assert gini(x) == pytest.approx((n - 1) / n, rel=1e-12)


def test_gini_zero_and_empty() -> None:
    """No currency at all, or no holders, gives 0."""
    assert gini(np.zeros(5, dtype=np.int64)) == 0.0
    assert gini(np.zeros(0, dtype=np.int64)) == 0.0


@pytest.mark.parametrize("high", [5, 40, 100_000])
def test_gini_matches_the_mean_difference_formula(high: int) -> None:
    """Both computation paths agree with the mean-absolute-difference definition."""
    rng = np.random.default_rng(high)
    for _ in range(20):
        x = rng.integers(0, high, size=int(rng.integers(2, 60)))
        if x.sum() == 0:
            continue
        assert gini(x) == pytest.approx(gini_reference(x), rel=1e-9, abs=1e-12)


def test_hhi_of_known_shares() -> None:
    """HHI is the sum of squared shares: 1 for a monopoly, 1/n for n equal sellers."""
    assert hhi(np.array([1.0, 0.0, 0.0])) == 1.0
    assert hhi(np.full(4, 0.25)) == pytest.approx(0.25)
    assert hhi(np.zeros(3)) == 0.0


def test_hhi_of_a_run_lies_between_one_over_sellers_and_one() -> None:
    """In every step with sales, 1 / (sellers alive at the start of the step) <= HHI <= 1, and
    HHI equals the sum of the squared shares in the sellers table."""
    cfg = weekly_config(n_buyers=600, steps=40, seed=3, sellers__fixed_cost_per_buyer=12,
                      sellers__entry_rate=0.3)
    res = simulate(cfg)
    met = res.metrics
    with_sales = met[met.purchases > 0]
    assert len(with_sales) > 10
    at_start = with_sales.sellers_alive + with_sales.exits - with_sales.entries
    assert np.all(with_sales.hhi >= 1.0 / at_start - 1e-12)
    assert np.all(with_sales.hhi <= 1.0 + 1e-12)
    squares = (res.sellers.share**2).groupby(res.sellers.step).sum()
    assert np.allclose(met.set_index("step").hhi, squares.reindex(met.step, fill_value=0.0))


def chain_model() -> MarketModel:
    """Five buyers: A(0) made B(1) aware of seller 0, B made C(2) aware; D(3) learned of seller 0
    from its advertising; C spent 100, B 50, D 70, A 30."""
    model = MarketModel(config({"inert": 2}, ALL_OFF, n_buyers=5, network__kind="complete",
                               market__initial_awareness=0.0))
    b = model.buyers_state
    for row, parent, kind, when in ((1, 0, PEER, 13), (2, 1, PEER, 23), (3, 0, AD, 15)):
        b.aware[row, 0] = True
        b.introducer[row, 0] = parent
        b.intro_kind[row, 0] = kind
        b.aware_time[row, 0] = when
    b.spend_by[[0, 1, 2, 3], 0] = (30, 50, 100, 70)
    return model


@pytest.mark.parametrize("decay", [0.5, 0.2, 0.0])
def test_network_value_of_a_chain(decay: float) -> None:
    """A's network value is B's spend plus decay times C's; B's is C's spend; advertising is
    nobody's network value; lifetime value stays each buyer's own spend."""
    model = chain_model()
    model.cfg.market.network_value_decay = decay
    value = network_value(model)
    assert value.tolist() == pytest.approx([50 + decay * 100, 100, 0, 0, 0])


def test_network_value_counts_influencer_introductions_and_sellers_separately() -> None:
    """An influencer's introduction counts; spend at another seller does not flow up a chain
    that concerns a different seller."""
    model = chain_model()
    b = model.buyers_state
    b.aware[4, 1] = True
    b.introducer[4, 1] = 2
    b.intro_kind[4, 1] = INFLUENCER_SRC
    b.aware_time[4, 1] = 33
    b.spend_by[4, 1] = 40
    b.spend_by[2, 1] = 1000  # C's spend at seller 1 is its own, not advice of anyone
    value = network_value(model)
    assert value.tolist() == pytest.approx([100, 100, 40, 0, 0])


def test_scores_and_rank_correlation_ranges() -> None:
    """Klout-like scores lie in [0, 100] and use the whole range's top; the score-influence rank
    correlation lies in [-1, 1]; lifetime values sum to the sellers' revenue."""
    res = simulate(weekly_config(n_buyers=800, steps=25, seed=9))
    score = res.agents.score
    assert score.between(0.0, 100.0).all() and score.max() > 50
    rho = res.summary["score_influence_spearman"]
    assert -1.0 <= rho <= 1.0
    assert res.agents.lifetime_value.sum() == res.sellers.revenue.sum()


def test_klout_score_is_100_for_the_top_agent_in_every_part() -> None:
    """An agent with the largest audience (friends + followers), activity (posts + replies) and
    engagement (reads + mentions) scores 100; an agent with none of them scores 0; each part
    counts; who made whom aware and which purchases advice caused (not observable) do not change
    the score."""
    model = MarketModel(config({"inert": 1}, ALL_OFF, n_buyers=20, network__kind="complete"))
    spokes = np.arange(1, 15)
    model.graph, _ = edges_to_csr(20, np.zeros(spokes.size, dtype=np.int64), spokes)
    model.degree = model.graph.degree()  # a star around 0; buyers 15..19 have no friends
    b = model.buyers_state
    b.n_followers[0] = 50
    b.posts[0], b.talks[0], b.reads[0], b.thanks[0] = 2, 9, 30, 4
    b.n_followers[15], b.talks[16], b.thanks[17], b.posts[18] = 1, 1, 1, 1
    score = klout_score(model)
    assert score[0] == pytest.approx(100.0)
    assert np.all((score >= 0) & (score <= 100))
    assert score[19] == 0 and np.all(score[15:19] > 0)
    b.informed[:], b.caused[:], b.caused_spend[:] = 7, 3, 900
    assert np.array_equal(klout_score(model), score)
