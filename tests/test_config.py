"""Configuration: building and validating configs, refused values, and the mechanism switches."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from spheres.config import (
    ConfigError,
    MarketConfig,
    Setting,
    SpheresConfig,
    make_config,
    settings,
    to_config,
    to_dict,
    validate,
)
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

def _bad_values(s: Setting) -> list[Any]:
    """Values the declaration of ``s`` refuses: wrong types, out of range, non-finite, unknown."""
    kind, spec = s.kind, s.spec
    if kind == "bool":
        return ["maybe", 1]
    if kind == "str":
        return ["no-such-name", 3]
    if kind == "path":
        return [3]
    if kind == "mix":
        return [{"no-such-strategy": 1}, {"listen": -1}, {"listen": 1.5}, "listen"]
    out: list[Any] = ["abc", True]
    if spec.low is not None:
        out.append(spec.low - 1 if not spec.low_open else spec.low)
    if spec.high is not None:
        out.append(spec.high * 10 + 1)
    if kind == "int":
        out += [2.5, float("nan")]
    else:
        out += [float("inf"), float("nan"), -float("inf")]
    return out


CATALOGUE = [(s.name, v) for s in settings() for v in _bad_values(s)]


@pytest.mark.parametrize(("name", "value"), CATALOGUE,
                         ids=[f"{n}={v!r}" for n, v in CATALOGUE])
def test_every_declared_setting_refuses_what_it_does_not_allow(name: str, value: Any) -> None:
    """From the declarations: each bad value is refused by name, through the API."""
    with pytest.raises(ConfigError) as err:
        make_config(**{name: value})
    assert str(err.value).startswith(name), str(err.value)
    assert "not allowed" in str(err.value)


BAD_RULES = [
    ({"network.mean_degree": 5000.0}, "network.mean_degree", "n_buyers"),
    ({"network.kind": "sbm", "network.blocks": 0}, "network.blocks", "from 1"),
    ({"sellers.max_entrants": 995}, "sellers.max_entrants", "1000"),
    ({"market.nosuch": 1}, "market.nosuch", "no such setting"),
    ({"market.pneed": 0.5}, "market.pneed", "did you mean market.p_need"),
    ({"network.rewire": 0.3}, "network.rewire", "does not use it"),
    ({"network.path": "x.txt"}, "network.path", "does not use it"),
    ({"sellers.mix": {}}, "sellers.mix", "between 1 and 1000"),
    ({"n_buyers": 2_000_000_000}, "n_buyers", "GiB of memory"),
    ({"steps": 10**7, "n_buyers": 10**6}, "n_buyers", "GiB of memory"),
    ({"sellers.price": 10**9, "n_buyers": 10**6, "steps": 10**5}, "n_buyers", "64-bit"),
]


@pytest.mark.parametrize(("flat", "setting", "allowed"), BAD_RULES,
                         ids=[next(iter(f)) for f, _, _ in BAD_RULES])
def test_bad_values_are_refused_naming_the_setting(flat: dict[str, Any], setting: str,
                                                   allowed: str) -> None:
    """The rules that join settings: the error names the setting and says what is allowed."""
    with pytest.raises(ConfigError) as err:
        make_config(**flat)
    message = str(err.value)
    assert message.startswith(setting)
    assert allowed in message


BAD_NESTED = [
    ({"sellers": {"mix": {"nonsense": 1}}}, "sellers.mix.nonsense", "one of inert, broadcast"),
    ({"sellers": {"mix": {"listen": -1}}}, "sellers.mix.listen", "from 0 to 1000"),
    ({"sellers": {"mix": {"listen": 1.5}}}, "sellers.mix.listen", "an integer"),
    ({"sellers": {"mix": {}}}, "sellers.mix", "between 1 and 1000"),
    ({"sellers": {"mix": {"listen": 0, "inert": 0}}}, "sellers.mix", "between 1 and 1000"),
    ({"sellers": {"mix": {"listen": 1000, "inert": 1}}}, "sellers.mix", "between 1 and 1000"),
    ({"market": {"nosuch": 1}}, "market.nosuch", "no such setting"),
    ({"nosuch": 1}, "nosuch", "no such setting"),
    ({"market": 3}, "market", "a group of settings"),
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
                      network__kind="complete", market__p_need=1.0,
                      market__p_ad=0.0, market__contacts=100, currency__decay=1.0,
                      network__influencer_share=1.0)
    model = MarketModel(cfg)
    model.step()
    assert model.steps == 1


@pytest.mark.parametrize(("kind", "setting", "value"), [
    ("complete", "network.mean_degree", 4.0),
    ("complete", "network.blocks", 2),
    ("erdos_renyi", "network.blocks", 2),
    ("erdos_renyi", "network.mixing", 0.5),
    ("barabasi_albert", "network.rewire", 0.5),
])
def test_a_setting_the_network_kind_ignores_is_refused(kind: str, setting: str,
                                                       value: Any) -> None:
    """A graph setting changed from its default but unused by the chosen kind is refused."""
    with pytest.raises(ConfigError, match=f"{setting} = .* does not use it"):
        make_config(n_buyers=30, **{"network.kind": kind, setting: value})
    assert make_config(n_buyers=3, network__kind=kind, network__mean_degree=2.0
                       if kind != "complete" else 10.0).n_buyers == 3


def test_dotted_and_nested_forms_mean_the_same() -> None:
    """``{"sellers.mix": ...}`` and ``{"sellers": {"mix": ...}}`` give the same config."""
    dotted = make_config(**{"sellers.mix": {"listen": 10}, "market.p_need": 0.2})
    nested = make_config({"sellers": {"mix": {"listen": 10}}, "market": {"p_need": 0.2}})
    assert dotted == nested and dotted.sellers.mix == {"listen": 10}
    assert make_config({"sellers.mix": {"listen": 3}}).sellers.mix == {"listen": 3}
    one_count = make_config(**{"sellers.mix.listen": 4}).sellers.mix
    assert one_count == {**SpheresConfig().sellers.mix, "listen": 4}
    with pytest.raises(ConfigError, match=r"sellers\.mix"):
        make_config({"sellers.mix": {}})


@pytest.mark.parametrize(("field", "value"), [("n_buyers", "300"), ("steps", 5.5),
                                              ("seed", None)])
def test_a_hand_built_config_with_a_wrong_type_names_the_setting(field: str, value: Any) -> None:
    """A dataclass built by hand with a wrong type gets a ConfigError, not a bare TypeError."""
    bad = dataclasses.replace(SpheresConfig(), **{field: value})
    with pytest.raises(ConfigError, match=f"^{field} = "):
        validate(bad)
    with pytest.raises(ConfigError, match=r"market\.contacts = 2\.5"):
        validate(SpheresConfig(market=MarketConfig(contacts=2.5)))  # type: ignore[arg-type]


def test_validation_runs_once_per_state_of_a_config() -> None:
    """A validated config is not checked again until it changes."""
    cfg = make_config(n_buyers=100)
    assert validate(cfg) is cfg
    cfg.market.p_need = 3.0
    with pytest.raises(ConfigError, match=r"market\.p_need"):
        validate(cfg)


@pytest.mark.parametrize("mean_degree", [1.0, 3.0])
def test_a_preferential_attachment_mean_degree_must_be_even(mean_degree: float) -> None:
    """Barabási–Albert links m = mean_degree/2 per new buyer: an odd degree is refused."""
    with pytest.raises(ConfigError, match=r"^network\.mean_degree = .*even"):
        make_config(n_buyers=50, network__kind="barabasi_albert", network__mean_degree=mean_degree)
    cfg = make_config(n_buyers=50, network__kind="barabasi_albert", network__mean_degree=2.0)
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
