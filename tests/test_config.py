"""Configuration: building and validating configs, refused values, and the mechanism switches."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from spheres.config import ConfigError, SpheresConfig, make_config, to_config, to_dict, validate
from spheres.model.model import MarketModel
from spheres.model.state import AD, INFLUENCER_SRC
from spheres.simulate import Results

# -- building ------------------------------------------------------------------------------------


def test_defaults_are_valid_and_round_trip() -> None:
    """The defaults validate, and a config survives to_dict / to_config unchanged."""
    cfg = make_config()
    assert cfg == SpheresConfig()
    assert to_config(to_dict(cfg)) == cfg


def test_nested_and_dotted_overrides() -> None:
    """Nested dicts and dotted keywords (``a.b`` or ``a__b``) set values; dotted keywords win."""
    cfg = make_config({"market": {"p_need": 0.2, "contacts": 4}}, n_buyers=500,
                      market__p_need=0.3, **{"sellers.price": 900})
    assert (cfg.n_buyers, cfg.market.p_need, cfg.market.contacts, cfg.sellers.price) == (
        500, 0.3, 4, 900)


def test_a_given_mix_replaces_the_default_mix() -> None:
    """A mix in the overrides is the whole mix, not added to the default one."""
    assert make_config({"sellers": {"mix": {"listen": 3}}}).sellers.mix == {"listen": 3}


def test_model_accepts_keyword_overrides() -> None:
    """``MarketModel(**overrides)`` builds and validates a config."""
    model = MarketModel(n_buyers=50, **{"sellers.price": 700})
    assert model.cfg.n_buyers == 50 and np.all(model.sellers_state.price[model.sellers_state.exists]
                                               == 700)
    with pytest.raises(ConfigError, match="n_buyers"):
        MarketModel(n_buyers=1)


def test_validate_checks_a_hand_built_config() -> None:
    """``validate`` refuses a dataclass built by hand with a bad value, and a model refuses it."""
    bad = dataclasses.replace(SpheresConfig(), steps=-3)
    with pytest.raises(ConfigError, match="steps"):
        validate(bad)
    with pytest.raises(ConfigError, match="steps"):
        MarketModel(bad)


def test_config_error_is_a_value_error() -> None:
    """Callers can catch a refused setting as a ValueError."""
    assert issubclass(ConfigError, ValueError)


# -- refused values ------------------------------------------------------------------------------

BAD_FLAT = [
    ({"n_buyers": 1}, "n_buyers", ">= 2"),
    ({"engine": "warp"}, "engine", "vector, agent"),
    ({"steps": 0}, "steps", ">= 1"),
    ({"seed": -1}, "seed", ">= 0"),
    ({"market.p_need": 1.5}, "market.p_need", "between 0 and 1"),
    ({"market.p_word_of_mouth": -0.1}, "market.p_word_of_mouth", "between 0 and 1"),
    ({"market.contacts": 0}, "market.contacts", "between 1 and 100"),
    ({"market.dims": 17}, "market.dims", "between 1 and 16"),
    ({"market.fit_width": 0.0}, "market.fit_width", "> 0"),
    ({"network.kind": "torus"}, "network.kind", "barabasi_albert"),
    ({"network.influencer_share": 2}, "network.influencer_share", "between 0 and 1"),
    ({"network.mean_degree": 5000.0}, "network.mean_degree", "< n_buyers"),
    ({"network.kind": "sbm", "network.blocks": 0}, "network.blocks", "between 1 and n_buyers"),
    ({"network.influencer_selection": "fame"}, "network.influencer_selection", "degree or random"),
    ({"sellers.sponsor_targeting": "vibes"}, "sellers.sponsor_targeting", "true_influence"),
    ({"sellers.price": 0}, "sellers.price", "> 0"),
    ({"sellers.sponsor_period": 0}, "sellers.sponsor_period", ">= 1"),
    ({"sellers.entry_strategy": "magic"}, "sellers.entry_strategy", "listen"),
    ({"sellers.max_entrants": 995}, "sellers.max_entrants", "1000"),
    ({"currency.cents_per_point": 0}, "currency.cents_per_point", ">= 1"),
    ({"currency.decay": 1.5}, "currency.decay", "between 0 and 1"),
    ({"currency.thank_you": -1}, "currency.thank_you", ">= 0"),
    ({"output.top": 0}, "output.top", ">= 1"),
    ({"n_buyers": "abc"}, "n_buyers", "Integer"),
    ({"market.p_need": "high"}, "market.p_need", "Float"),
    ({"mechanisms.drift": "maybe"}, "mechanisms.drift", "bool"),
    ({"market.nosuch": 1}, "market.nosuch", "not in 'MarketConfig'"),
]


@pytest.mark.parametrize(("flat", "setting", "allowed"), BAD_FLAT,
                         ids=[next(iter(f)) for f, _, _ in BAD_FLAT])
def test_bad_values_are_refused_naming_the_setting(flat: dict[str, Any], setting: str,
                                                   allowed: str) -> None:
    """The error names the setting and says what is allowed."""
    with pytest.raises(ConfigError) as err:
        make_config(**flat)
    message = str(err.value)
    assert message.startswith(setting)
    assert allowed in message


BAD_NESTED = [
    ({"sellers": {"mix": {"nonsense": 1}}}, "sellers.mix.nonsense", "one of broadcast"),
    ({"sellers": {"mix": {"listen": -1}}}, "sellers.mix.listen", ">= 0"),
    ({"sellers": {"mix": {"listen": 1.5}}}, "sellers.mix.listen", "Integer"),
    ({"sellers": {"mix": {}}}, "sellers.mix", "at least one strategy"),
    ({"sellers": {"mix": {"listen": 0, "inert": 0}}}, "sellers.mix", "between 1 and 1000"),
    ({"sellers": {"mix": {"listen": 1001}}}, "sellers.mix", "between 1 and 1000"),
    ({"market": {"nosuch": 1}}, "market.nosuch", "not in 'MarketConfig'"),
    ({"nosuch": 1}, "nosuch", "not in 'SpheresConfig'"),
    ({"network": {"kind": "edgelist"}}, "network.path", "edge-list file"),
]


@pytest.mark.parametrize(("nested", "setting", "allowed"), BAD_NESTED)
def test_bad_nested_values_are_refused_naming_the_setting(nested: dict[str, Any], setting: str,
                                                          allowed: str) -> None:
    """Mixes and unknown keys given as nested dicts are refused with a named setting."""
    with pytest.raises(ConfigError) as err:
        make_config(nested)
    message = str(err.value)
    assert message.startswith(setting)
    assert allowed in message


def test_boundary_values_are_accepted() -> None:
    """Probabilities 0 and 1, two buyers on a complete graph, one seller and one step are fine."""
    cfg = make_config({"sellers": {"mix": {"inert": 1}}}, n_buyers=2, steps=1,
                      network__kind="complete", network__blocks=1, market__p_need=1.0,
                      market__p_ad=0.0, market__contacts=100, currency__decay=1.0,
                      network__influencer_share=1.0)
    model = MarketModel(cfg)
    model.step()
    assert model.steps == 1


@pytest.mark.parametrize("kind", ["complete", "erdos_renyi"])
def test_blocks_only_matter_for_the_block_model(kind: str) -> None:
    """Three buyers on a non-block network are accepted whatever network.blocks says."""
    cfg = make_config(n_buyers=3, network__kind=kind, network__mean_degree=1.0)
    assert cfg.n_buyers == 3


@pytest.mark.parametrize("mean_degree", [1.0, 2.0])
def test_a_sparse_preferential_attachment_network_builds(mean_degree: float) -> None:
    """An accepted config with a Barabási–Albert mean degree below 3 builds a model."""
    cfg = make_config(n_buyers=50, network__kind="barabasi_albert",
                      network__mean_degree=mean_degree)
    assert MarketModel(cfg).graph.n_nodes == 50


# -- mechanism switches --------------------------------------------------------------------------

MECHANISMS = ("drift", "peer_pull", "influencers", "advertising", "currency", "reputation",
              "audience_growth", "trust", "spam_penalty", "adaptation", "exit", "entry")


def run(steps: int = 15, **switches: bool) -> tuple[MarketModel, Results]:
    """A small market with every strategy and every mechanism on except ``switches``.

    Sales-sensing sellers never adapt (their delay exceeds the run), entry is certain when on,
    and audiences grow a few followers per step.
    """
    cfg = make_config({"mechanisms": switches}, n_buyers=300, steps=steps, seed=7,
                      market__p_need=0.4, market__audience_growth=0.02, market__p_ad=0.1,
                      sellers__sense_delay=steps + 5, sellers__p_entry=1.0,
                      sellers__max_entrants=3, network__influencer_share=0.03)
    model = MarketModel(cfg)
    for _ in range(steps):
        model.step()
    return model, model.results()


@pytest.fixture(scope="module")
def everything_on() -> tuple[MarketModel, Results]:
    """The reference run, every mechanism on."""
    return run()


def strategy_rows(res: Results, name: str) -> Any:
    return res.sellers[res.sellers.strategy == name]


def advertising_effects(model: MarketModel, res: Results) -> bool:
    """Some buyer learned of a seller from an ad, or a broadcaster paid beyond its fixed cost."""
    fixed = model.cfg.sellers.fixed_cost_per_buyer * model.n_buyers
    paid = (strategy_rows(res, "broadcast").costs > fixed).any()
    return bool((model.buyers_state.intro_kind == AD).any() or paid)


def influencer_effects(model: MarketModel, res: Results) -> bool:
    """There are influencers, posts, awareness from posts or sponsorship contracts."""
    b = model.buyers_state
    return bool(b.is_influencer.any() or b.posts.any() or (b.intro_kind == INFLUENCER_SRC).any()
                or res.metrics.influencers.any() or (b.sponsor_of >= 0).any()
                or any(c.size for c in model.contracts.values()))


def currency_effects(model: MarketModel, res: Results) -> bool:
    """Any currency moved, is held, or was turned into money."""
    b = model.buyers_state
    return bool(model.ledger.totals.any() or b.currency.any() or b.money.any() or len(res.flows))


def drift_effects(model: MarketModel, res: Results) -> bool:
    """The frontier moved."""
    cols = [f"frontier_{d}" for d in range(model.dims)]
    return bool(np.any(model.frontier != 0) or res.metrics[cols].to_numpy().any())


def adaptation_effects(model: MarketModel, res: Results) -> bool:
    """Some offering differs from the seller's first recorded offering."""
    cols = [c for c in res.sellers.columns if c.startswith("offering_")]
    first = res.sellers.groupby("seller_id")[cols].transform("first")
    return bool((res.sellers[cols] != first).to_numpy().any())


def entry_effects(model: MarketModel, res: Results) -> bool:
    """A seller entered."""
    return bool(res.summary["entries"] > 0 or model.n_used > model.n_start_sellers)


def audience_effects(model: MarketModel, res: Results) -> bool:
    """Follower counts changed from the initial audiences."""
    start = MarketModel(model.cfg)
    return bool(not np.array_equal(model.follows.keys, start.follows.keys)
                or not np.array_equal(model.buyers_state.n_followers,
                                      start.buyers_state.n_followers))


def trust_in_people_effects(model: MarketModel, res: Results) -> bool:
    """Trust in peers or in influencers changed."""
    cfg = model.cfg.market
    t = model.buyers_state.trust
    return bool(np.any(t[:, 0] != cfg.trust_peers) or np.any(t[:, 1] != cfg.trust_influencers))


SWITCHES = [
    ("advertising", advertising_effects),
    ("influencers", influencer_effects),
    ("currency", currency_effects),
    ("drift", drift_effects),
    ("adaptation", adaptation_effects),
    ("entry", entry_effects),
    ("audience_growth", audience_effects),
    ("trust", trust_in_people_effects),
]


@pytest.mark.parametrize(("mechanism", "effects"), SWITCHES, ids=[m for m, _ in SWITCHES])
def test_switching_a_mechanism_off_removes_its_effect(mechanism: str, effects: Any,
                                                      everything_on: tuple[MarketModel, Results]
                                                      ) -> None:
    """The effect is present with every mechanism on and absent with this one off."""
    assert effects(*everything_on)
    assert not effects(*run(**{mechanism: False}))


def test_advertising_off_costs_nothing_beyond_fixed_costs() -> None:
    """With advertising off a broadcaster that never adapts pays exactly its fixed cost."""
    model, res = run(advertising=False)
    fixed = model.cfg.sellers.fixed_cost_per_buyer * model.n_buyers
    assert (strategy_rows(res, "broadcast").costs == fixed).all()


def test_currency_off_leaves_all_ledger_totals_zero() -> None:
    """With currency off nothing is minted, moved, converted or burned, even by sponsors."""
    model, res = run(currency=False)
    assert model.ledger.totals.tolist() == [0, 0, 0, 0, 0]
    assert set(res.summary["currency_by_kind"].values()) == {0}
    assert model.ledger.identity_holds()
    fixed = model.cfg.sellers.fixed_cost_per_buyer * model.n_buyers
    assert (strategy_rows(res, "sponsor").costs == fixed).all()


def test_drift_and_peer_pull_off_freeze_expectations() -> None:
    """With drift and peer pull off every expectation stays at its start; with only drift off
    peer pull still moves them."""
    model, _ = run(drift=False, peer_pull=False)
    start = MarketModel(model.cfg)
    assert np.array_equal(model.buyers_state.expect, start.buyers_state.expect)
    model, _ = run(drift=False)
    assert not np.array_equal(model.buyers_state.expect, start.buyers_state.expect)
    assert np.all(model.frontier == 0)


def test_trust_and_spam_penalty_off_keep_every_trust_constant(
        everything_on: tuple[MarketModel, Results]) -> None:
    """Trust in sellers falls only through experience or spam; with both off all trust is
    constant, with only trust off the spam penalty still lowers trust in sellers."""
    cfg = everything_on[0].cfg.market
    start = [cfg.trust_peers, cfg.trust_influencers, cfg.trust_sellers]
    _, res = run(trust=False, spam_penalty=False)
    cols = ["trust_peers", "trust_influencers", "trust_sellers"]
    assert np.allclose(res.metrics[cols].to_numpy(), start, rtol=0, atol=1e-12)
    _, res = run(trust=False)
    assert res.metrics.trust_sellers.iloc[-1] < cfg.trust_sellers
    assert np.allclose(res.metrics[cols[:2]].to_numpy(), start[:2], rtol=0, atol=1e-12)


def test_reputation_off_gives_every_adviser_weight_one(
        everything_on: tuple[MarketModel, Results]) -> None:
    """With reputation on, advice weight follows currency balances; off, it is 1 for all."""
    model = everything_on[0]
    rows = np.arange(model.n_buyers)
    assert model.buyers_state.currency.any()
    rep = model.reputation_of(rows)
    assert not np.allclose(rep, 1.0)
    assert rep.max() <= model.cfg.market.reputation_cap
    off, _ = run(reputation=False)
    assert off.buyers_state.currency.any()
    assert np.all(off.reputation_of(rows) == 1.0)


def test_exit_off_keeps_broke_sellers() -> None:
    """With exit off, sellers whose fixed costs exceed their cash stay in the market."""
    cfg = make_config(n_buyers=100, steps=3, sellers__fixed_cost_per_buyer=1000,
                      mechanisms__exit=False, mechanisms__entry=False)
    model = MarketModel(cfg)
    for _ in range(3):
        model.step()
    m = model.sellers_state
    assert m.alive[m.exists].all() and (m.cash[m.exists] < 0).all()
    assert model.events["exits"] == 0


def test_every_mechanism_has_a_switch() -> None:
    """The documented mechanisms are exactly the switches of the schema, all on by default."""
    switches = to_dict(make_config())["mechanisms"]
    assert set(switches) == set(MECHANISMS)
    assert all(switches.values())
