"""Configuration: building and validating configs, refused values, and the mechanism switches."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest

from conftest import REASON_SWITCH, SWITCHES
from spheres import Results
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
from spheres.model.state import INFLUENCER_SRC
from spheres.model.strategies import STRATEGIES
from spheres.run.tables import assemble

# -- building ------------------------------------------------------------------------------------


def test_defaults_are_valid_and_round_trip() -> None:
    """The defaults validate, and a config survives to_dict / to_config unchanged."""
    cfg = make_config()
    assert cfg == SpheresConfig()
    assert to_config(to_dict(cfg)) == cfg


def test_nested_and_dotted_overrides() -> None:
    """Nested dicts and dotted keywords (``a.b`` or ``a__b``) set values; dotted keywords win."""
    cfg = make_config({"market": {"need_rate": 0.2, "contacts": 4}}, n_buyers=500,
                      market__need_rate=0.3, **{"sellers.price": 900})
    assert (cfg.n_buyers, cfg.market.need_rate, cfg.market.contacts, cfg.sellers.price) == (
        500, 0.3, 4, 900)


def test_a_given_mix_replaces_the_default_mix() -> None:
    """A mix in the overrides is the whole mix, not added to the default one."""
    assert make_config({"sellers": {"mix": {"listen": 3}}}).sellers.mix == {"listen": 3}


def test_model_takes_a_validated_config() -> None:
    """``MarketModel`` runs the validated config it is given and refuses one never validated,
    or changed since it was (the model does not check settings itself)."""
    model = MarketModel(make_config(n_buyers=50, **{"sellers.price": 700}))
    assert model.cfg.n_buyers == 50 and np.all(model.sellers_state.price[model.sellers_state.exists]
                                               == 700)
    with pytest.raises(ConfigError, match="validated config"):
        MarketModel(SpheresConfig())
    changed = make_config(n_buyers=50)
    changed.n_buyers = 1
    with pytest.raises(ConfigError, match="validated config"):
        MarketModel(changed)


def test_validate_checks_a_hand_built_config() -> None:
    """``validate`` refuses a dataclass built by hand with a bad value, and a model refuses it."""
    bad = dataclasses.replace(SpheresConfig(), steps=-3)
    with pytest.raises(ConfigError, match="steps"):
        validate(bad)
    with pytest.raises(ConfigError, match="validated config"):
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
    ({"market.pneed": 0.5}, "market.pneed", "did you mean market.need_rate"),
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
                      network__kind="complete", market__need_rate=1.0,
                      market__ad_rate=0.0, market__contacts=100, currency__decay=1.0,
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
    dotted = make_config(**{"sellers.mix": {"listen": 10}, "market.need_rate": 0.2})
    nested = make_config({"sellers": {"mix": {"listen": 10}}, "market": {"need_rate": 0.2}})
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
    cfg.market.need_rate = 3.0
    with pytest.raises(ConfigError, match=r"market\.need_rate"):
        validate(cfg)


@pytest.mark.parametrize("mean_degree", [1.0, 3.0])
def test_a_preferential_attachment_mean_degree_must_be_even(mean_degree: float) -> None:
    """Barabási–Albert links m = mean_degree/2 per new buyer: an odd degree is refused."""
    with pytest.raises(ConfigError, match=r"^network\.mean_degree = .*even"):
        make_config(n_buyers=50, network__kind="barabasi_albert", network__mean_degree=mean_degree)
    cfg = make_config(n_buyers=50, network__kind="barabasi_albert", network__mean_degree=2.0)
    assert MarketModel(cfg).graph.n_nodes == 50


# -- mechanism switches --------------------------------------------------------------------------


@cache
def _run(steps: int, switches: tuple[tuple[str, bool], ...]) -> tuple[MarketModel, Results]:
    cfg = make_config({"mechanisms": dict(switches),
                       "sellers": {"mix": dict.fromkeys(STRATEGIES, 2)}},
                      n_buyers=300, steps=steps, seed=7, market__need_rate=0.4,
                      market__audience_growth=0.02, market__ad_rate=0.1,
                      sellers__sense_delay=steps + 5, sellers__entry_rate=1.0,
                      sellers__max_entrants=3, network__influencer_share=0.03,
                      currency__cashout_threshold=40)
    model = MarketModel(cfg)
    model.sellers_state.cash[0] = -(10**6)
    for _ in range(steps):
        model.step()
    return model, assemble(model)


def run(steps: int = 15, **switches: bool) -> tuple[MarketModel, Results]:
    """A small market with two sellers of every strategy and every mechanism on except
    ``switches`` (runs are cached: do not change them).

    Seller 0 starts in debt (so that exit has a seller to remove), sales-sensing sellers never
    adapt (their delay exceeds the run), entry is certain when on, audiences grow a few followers
    per step, and ordinary buyers' balances reach the cash-out threshold.
    """
    return _run(steps, tuple(sorted(switches.items())))


def strategy_rows(res: Results, name: str) -> Any:
    return res.sellers[res.sellers.strategy == name]


def currency_moved_for(reason: str) -> Callable[[MarketModel, Results], bool]:
    """The effect of a currency mechanism: currency moved for its reason."""
    def effect(model: MarketModel, res: Results) -> bool:
        return res.summary["currency_by_reason"][reason] > 0
    effect.__doc__ = f"Currency moved for {reason}."
    return effect


def lever_spent(lever: str) -> Callable[[MarketModel, Results], bool]:
    """The effect of a marketing lever: sellers with that lever spent on marketing."""
    def effect(model: MarketModel, res: Results) -> bool:
        return bool((res.sellers.marketing[res.sellers.marketing_lever == lever] > 0).any())
    effect.__doc__ = f"Sellers whose lever is {lever} spent on marketing."
    return effect


def drift_effects(model: MarketModel, res: Results) -> bool:
    """The frontier moved."""
    cols = [f"frontier_{d}" for d in range(model.dims)]
    return bool(np.any(model.frontier != 0) or res.metrics[cols].to_numpy().any())


def pull_effects(model: MarketModel, res: Results) -> bool:
    """Some buyer's known frontier (expectation minus taste) is not where following the recorded
    frontier at its own drift rate alone would have put it."""
    b = model.buyers_state
    known = np.zeros_like(b.expect)
    for frontier in res.metrics[[f"frontier_{d}" for d in range(model.dims)]].to_numpy():
        known += b.drift_rate[:, None] * (frontier - known)
    return not np.allclose(b.expect - b.taste, known, rtol=0, atol=1e-9)


def influencer_effects(model: MarketModel, res: Results) -> bool:
    """Influencers posted, their posts were read, or a post made a buyer aware."""
    b = model.buyers_state
    return bool(b.posts.any() or b.reads.any() or (b.intro_kind == INFLUENCER_SRC).any())


def audience_effects(model: MarketModel, res: Results) -> bool:
    """Follower counts changed from the initial audiences."""
    start = MarketModel(model.cfg)
    return bool(not np.array_equal(model.follows.keys, start.follows.keys)
                or not np.array_equal(model.buyers_state.n_followers,
                                      start.buyers_state.n_followers))


def reputation_effects(model: MarketModel, res: Results) -> bool:
    """Advice weights differ from 1 (they follow the advisers' balances)."""
    return not np.all(model.reputation_of(np.arange(model.n_buyers)) == 1.0)


def initial_trust(model: MarketModel) -> np.ndarray:
    m = model.cfg.market
    return np.array([m.trust_peers, m.trust_influencers, m.trust_sellers])


def trust_effects(model: MarketModel, res: Results) -> bool:
    """Some trust rose above its start (only experiences that satisfy raise trust)."""
    return bool((model.buyers_state.trust > initial_trust(model)).any())


def claim_effects(model: MarketModel, res: Results) -> bool:
    """Trust in peers fell (without the trust update, only claims that exceed the experience
    lower it)."""
    return bool((model.buyers_state.trust[:, 0] < initial_trust(model)[0]).any())


def spam_effects(model: MarketModel, res: Results) -> bool:
    """Trust in sellers fell (without the trust update and claims, only spam lowers it)."""
    return bool((model.buyers_state.trust[:, 2] < initial_trust(model)[2]).any())


def exposure_effects(model: MarketModel, res: Results) -> bool:
    """A follower found out an undisclosed sponsored post."""
    return bool(res.metrics.exposures.sum() > 0 or model.buyers_state.exposed.any())


def adaptation_effects(model: MarketModel, res: Results) -> bool:
    """Some offering differs from the seller's first recorded offering."""
    cols = [c for c in res.sellers.columns if c.startswith("offering_")]
    first = res.sellers.groupby("seller_id")[cols].transform("first")
    return bool((res.sellers[cols] != first).to_numpy().any())


def exit_effects(model: MarketModel, res: Results) -> bool:
    """A seller left."""
    return bool(res.summary["exits"] > 0 or (model.sellers_state.exit_step >= 0).any())


def entry_effects(model: MarketModel, res: Results) -> bool:
    """A seller entered."""
    return bool(res.summary["entries"] > 0 or model.n_opened > model.n_start_sellers)


@dataclasses.dataclass(frozen=True)
class Effect:
    """What a switch does: ``present`` in a run where it is on (with the ``given`` switches off,
    where other mechanisms would hide it); the effects of the switches in ``carries`` depend on
    this one and may vanish with it."""

    present: Callable[[MarketModel, Results], bool]
    given: tuple[str, ...] = ()
    carries: tuple[str, ...] = ()


EFFECTS = {
    "drift": Effect(drift_effects, carries=("peer_pull",)),  # nobody gets ahead of the others
    "peer_pull": Effect(pull_effects),
    # no initial audience to sponsor at the campaign step, no posts to share on or find out
    "influencers": Effect(influencer_effects,
                          carries=("sponsorship", "follower_share", "exposure")),
    "audience_growth": Effect(audience_effects),
    "advertising": Effect(lever_spent("advertise")),
    "seeding": Effect(lever_spent("seed")),
    "sponsorship": Effect(currency_moved_for("sponsorship"),
                          carries=("follower_share", "exposure")),  # only sponsored posts
    "cocreation": Effect(currency_moved_for("cocreation")),
    "advice_reward": Effect(currency_moved_for("advice")),
    "thank_you": Effect(currency_moved_for("thank_you")),
    "follower_share": Effect(currency_moved_for("follower_share")),
    "perks": Effect(currency_moved_for("perk")),
    "cashout": Effect(currency_moved_for("cashout")),
    "decay": Effect(currency_moved_for("decay")),
    "reputation": Effect(reputation_effects),
    "trust": Effect(trust_effects),
    "claims": Effect(claim_effects, given=("trust",)),
    "spam_penalty": Effect(spam_effects, given=("trust", "claims")),
    "exposure": Effect(exposure_effects),
    "adaptation": Effect(adaptation_effects),
    "exit": Effect(exit_effects),
    "entry": Effect(entry_effects),
}


@pytest.mark.parametrize("mechanism", SWITCHES)
def test_switching_a_mechanism_off_removes_exactly_its_effect(mechanism: str) -> None:
    """Each switch's effect is present with it on and absent with it off; with it off, the
    effects of every other switch (except those that depend on it) are still there."""
    assert mechanism in EFFECTS, f"mechanisms.{mechanism} has no effect to test"
    effect = EFFECTS[mechanism]
    given = dict.fromkeys(effect.given, False)
    assert effect.present(*run(**given))
    off = run(**given, **{mechanism: False})
    assert not effect.present(*off)
    if given:
        return
    for other, e in EFFECTS.items():
        if other != mechanism and not e.given and other not in effect.carries:
            assert e.present(*off), f"{mechanism}=false removed the effect of {other}"


def test_advertising_off_costs_nothing_beyond_fixed_costs() -> None:
    """With advertising off a broadcaster that never adapts pays exactly its fixed cost."""
    model, res = run(advertising=False)
    fixed = model.cfg.sellers.fixed_cost_per_buyer * model.n_buyers
    assert (strategy_rows(res, "broadcast").costs == fixed).all()


CURRENCY_SWITCHES = dict.fromkeys(REASON_SWITCH.values(), False)


def test_currency_mechanisms_off_leave_all_ledger_totals_zero() -> None:
    """With every currency mechanism off nothing is minted, moved, converted or burned, sponsors
    (which never adapt) pay only their fixed costs, co-creators spend nothing on marketing, and
    buyers hold no points and no money."""
    model, res = run(**CURRENCY_SWITCHES)
    assert model.ledger.totals.tolist() == [0, 0, 0, 0, 0]
    assert set(res.summary["currency_by_kind"].values()) == {0}
    assert set(res.summary["currency_by_reason"].values()) == {0}
    assert len(res.flows) == 0 and model.ledger.identity_holds()
    fixed = model.cfg.sellers.fixed_cost_per_buyer * model.n_buyers
    assert (strategy_rows(res, "sponsor").costs == fixed).all()
    assert (strategy_rows(res, "cocreate").marketing == 0).all()
    assert not model.buyers_state.currency.any() and not model.buyers_state.money.any()


def test_drift_and_peer_pull_off_freeze_expectations() -> None:
    """With drift and peer pull off every expectation stays at its start; with only drift off
    they stay too (nobody is ahead of a frontier that does not move); with only peer pull off
    they follow the frontier."""
    model, _ = run(drift=False, peer_pull=False)
    start = MarketModel(model.cfg)
    assert np.array_equal(model.buyers_state.expect, start.buyers_state.expect)
    model, _ = run(drift=False)
    assert np.array_equal(model.buyers_state.expect, start.buyers_state.expect)
    assert np.all(model.frontier == 0)
    model, _ = run(peer_pull=False)
    assert not np.array_equal(model.buyers_state.expect, start.buyers_state.expect)


TRUST_MOVERS = {"trust": False, "claims": False, "spam_penalty": False, "exposure": False}


def test_trust_claims_spam_and_exposure_off_keep_every_trust_constant() -> None:
    """Trust moves only through experiences (trust, claims), spam and being found out; with all
    four off every trust is constant; with only spam or only exposure on, only trust in sellers
    or only trust in influencers falls."""
    cols = ["trust_peers", "trust_influencers", "trust_sellers"]
    model, res = run(**TRUST_MOVERS)
    start = initial_trust(model)
    assert np.allclose(res.metrics[cols].to_numpy(), start, rtol=0, atol=1e-12)
    assert np.all(model.buyers_state.trust == start)
    for on, col in (("spam_penalty", 2), ("exposure", 1)):
        _, res = run(**{**TRUST_MOVERS, on: True})
        trust = res.metrics[cols].to_numpy()
        assert trust[-1, col] < start[col]
        others = [c for c in range(3) if c != col]
        assert np.allclose(trust[:, others], start[others], rtol=0, atol=1e-12)


def test_reputation_off_gives_every_adviser_weight_one() -> None:
    """With reputation on, advice weight follows currency balances; off, it is 1 for all."""
    model = run()[0]
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


def test_every_mechanism_has_a_switch_on_by_default() -> None:
    """Every switch of the schema is on by default and has an effect tested above."""
    switches = to_dict(make_config())["mechanisms"]
    assert set(switches) == set(SWITCHES) == set(EFFECTS)
    assert all(switches.values())
