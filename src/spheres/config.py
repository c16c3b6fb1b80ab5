"""The configuration schema (dataclasses) and its semantic validation.

The same names are used for model keyword arguments, config keys, web-app sliders and output
columns. Every field has a default that gives a meaningful run. Hydra composes YAML files over this
schema (see ``configs/``); library users build a config with :func:`make_config`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

ENGINES = ("vector", "agent")
NETWORK_KINDS = ("complete", "erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm", "edgelist")
TARGETING = ("score", "degree", "random", "true_influence")


class ConfigError(ValueError):
    """A configuration value is not allowed; the message names the setting and what is allowed."""


@dataclass
class NetworkConfig:
    """The buyer graph and the influencers' audiences."""

    kind: str = "barabasi_albert"
    mean_degree: float = 10.0
    rewire: float = 0.1
    blocks: int = 4
    mixing: float = 0.05
    path: str | None = None
    influencer_share: float = 0.01
    influencer_selection: str = "degree"
    followers_per_influencer: int = 100


@dataclass
class MarketConfig:
    """Market conditions: what the world does, outside any seller's control."""

    dims: int = 2
    frontier_speed: float = 0.01
    frontier_noise: float = 0.002
    taste_spread: float = 0.3
    drift_rate: float = 0.1
    peer_pull: float = 0.05
    initial_awareness: float = 0.1
    p_need: float = 0.1
    contacts: int = 3
    p_word_of_mouth: float = 0.1
    peer_weight: float = 0.5
    belief_prior: float = 0.5
    fit_width: float = 0.35
    choice_beta: float = 8.0
    price_weight: float = 0.3
    reference_price: int = 1000
    outside_option: float = 0.35
    experience_noise: float = 0.05
    learning_rate: float = 0.5
    satisfaction: float = 0.5
    trust_peers: float = 0.6
    trust_influencers: float = 0.5
    trust_sellers: float = 0.4
    trust_rate: float = 0.05
    p_post: float = 0.5
    post_reach: float = 0.3
    influencer_weight: float = 0.5
    credibility_rate: float = 0.02
    p_ad: float = 0.02
    ad_claim: float = 0.8
    ad_weight: float = 0.3
    spam_threshold: float = 0.3
    spam_penalty: float = 0.05
    audience_growth: float = 0.001
    promote_at: int = 20
    reputation_cap: float = 5.0
    network_value_decay: float = 0.5
    knowledge_share: float = 0.5


@dataclass
class SellersConfig:
    """The seller population: the strategy mix (the levers) and seller economics."""

    mix: dict[str, int] = field(
        default_factory=lambda: {
            "inert": 2,
            "broadcast": 2,
            "listen": 2,
            "sponsor": 2,
            "cocreate": 2,
        }
    )
    price: int = 1000
    initial_cash_per_buyer: int = 200
    fixed_cost_per_buyer: int = 5
    adapt_rate: float = 0.2
    adapt_cost_per_buyer: int = 20
    sense_delay: int = 8
    sense_noise: float = 0.05
    listen_noise: float = 0.02
    ad_cost: int = 20
    sponsor_k: int = 3
    sponsor_fee: int = 2000
    sponsor_period: int = 20
    sponsor_targeting: str = "score"
    sponsored_claim: float = 0.9
    disclose_sponsorship: bool = False
    disclosure_discount: float = 0.5
    cocreate_reward: int = 5
    p_entry: float = 0.02
    max_entrants: int = 10
    entry_lead: float = 0.2
    entry_strategy: str = "listen"


@dataclass
class CurrencyConfig:
    """The social-currency economy, in integer points."""

    advice_reward: int = 10
    thank_you: int = 1
    decay: float = 0.02
    cents_per_point: int = 10
    cashout_threshold: int = 200
    cashout_share: float = 0.5


@dataclass
class MechanismsConfig:
    """Switches: each mechanism can be turned off so that the others can be studied alone."""

    drift: bool = True
    peer_pull: bool = True
    influencers: bool = True
    advertising: bool = True
    currency: bool = True
    reputation: bool = True
    audience_growth: bool = True
    trust: bool = True
    spam_penalty: bool = True
    adaptation: bool = True
    exit: bool = True
    entry: bool = True


@dataclass
class OutputConfig:
    """What a run writes besides the tables that are always written."""

    dashboard: bool = True
    progress: bool = True
    ledger_entries: bool = False
    top: int = 5


@dataclass
class SpheresConfig:
    """One simulation: sizes, engine, seed and the parts above."""

    seed: int = 0
    engine: str = "vector"
    steps: int = 200
    n_buyers: int = 3000
    network: NetworkConfig = field(default_factory=NetworkConfig)
    market: MarketConfig = field(default_factory=MarketConfig)
    sellers: SellersConfig = field(default_factory=SellersConfig)
    currency: CurrencyConfig = field(default_factory=CurrencyConfig)
    mechanisms: MechanismsConfig = field(default_factory=MechanismsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


def make_config(overrides: dict[str, Any] | None = None, **flat: Any) -> SpheresConfig:
    """Build a validated config from defaults, a nested dict and dotted keyword overrides.

    ``make_config({"market": {"p_need": 0.2}}, n_buyers=500, **{"sellers.price": 900})``.
    """
    nested: dict[str, Any] = dict(overrides or {})
    try:
        cfg = OmegaConf.merge(_schema_for(nested), nested)
        for key, value in flat.items():
            OmegaConf.update(cfg, key.replace("__", "."), value, merge=True, force_add=False)
    except OmegaConfBaseException as err:
        raise ConfigError(_omegaconf_message(err)) from None
    return validate(to_config(cfg))


def to_config(cfg: Any) -> SpheresConfig:
    """Turn an OmegaConf node or a plain nested dict into a ``SpheresConfig`` (type-checked)."""
    if isinstance(cfg, SpheresConfig):
        return cfg
    try:
        merged = OmegaConf.merge(_schema_for(cfg), cfg)
        obj = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ConfigError(_omegaconf_message(err)) from None
    assert isinstance(obj, SpheresConfig)
    return obj


def _schema_for(data: Any) -> Any:
    """The schema to merge ``data`` over: a given ``sellers.mix`` replaces the default mix."""
    base = OmegaConf.structured(SpheresConfig)
    sellers = data.get("sellers") if hasattr(data, "get") else None
    if sellers is not None and hasattr(sellers, "get") and sellers.get("mix") is not None:
        base.sellers.mix = {}
    return base


def to_dict(config: SpheresConfig) -> dict[str, Any]:
    """The config as a plain nested dict."""
    return dataclasses.asdict(config)


def _omegaconf_message(err: OmegaConfBaseException) -> str:
    key = getattr(err, "full_key", None)
    msg = str(err).splitlines()[0]
    return f"{key}: {msg}" if key else msg


def _check(ok: bool, setting: str, allowed: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"{setting} = {value!r} is not allowed: {allowed}")


def _prob(value: float, setting: str) -> None:
    _check(0.0 <= value <= 1.0, setting, "a probability between 0 and 1", value)


def _nonneg(value: float, setting: str) -> None:
    _check(value >= 0, setting, "a number >= 0", value)


def validate(config: SpheresConfig) -> SpheresConfig:
    """Check ranges and cross-field rules; raise ``ConfigError`` naming the first bad setting."""
    from spheres.model.strategies import STRATEGIES

    c = config
    _check(c.engine in ENGINES, "engine", f"one of {', '.join(ENGINES)}", c.engine)
    _check(c.steps >= 1, "steps", "an integer >= 1", c.steps)
    _check(c.n_buyers >= 2, "n_buyers", "an integer >= 2", c.n_buyers)
    _check(c.seed >= 0, "seed", "an integer >= 0", c.seed)

    n = c.network
    _check(n.kind in NETWORK_KINDS, "network.kind", f"one of {', '.join(NETWORK_KINDS)}", n.kind)
    if n.kind == "edgelist":
        _check(bool(n.path), "network.path",
               "a path to an edge-list file when network.kind=edgelist", n.path)
    if n.kind != "complete":
        _check(0 < n.mean_degree < c.n_buyers, "network.mean_degree",
               f"a number > 0 and < n_buyers ({c.n_buyers})", n.mean_degree)
    _prob(n.rewire, "network.rewire")
    _prob(n.mixing, "network.mixing")
    if n.kind == "sbm":
        _check(1 <= n.blocks <= c.n_buyers, "network.blocks", "an integer between 1 and n_buyers",
               n.blocks)
    _prob(n.influencer_share, "network.influencer_share")
    _check(round(n.influencer_share * c.n_buyers) <= c.n_buyers, "network.influencer_share",
           "at most all buyers", n.influencer_share)
    _check(n.influencer_selection in ("degree", "random"), "network.influencer_selection",
           "degree or random", n.influencer_selection)
    _check(n.followers_per_influencer >= 0, "network.followers_per_influencer", "an integer >= 0",
           n.followers_per_influencer)

    m = c.market
    _check(1 <= m.dims <= 16, "market.dims", "an integer between 1 and 16", m.dims)
    for name in ("initial_awareness", "p_need", "p_word_of_mouth", "drift_rate", "peer_pull",
                 "peer_weight", "belief_prior", "learning_rate", "satisfaction", "trust_peers",
                 "trust_influencers", "trust_sellers", "trust_rate", "p_post", "post_reach",
                 "influencer_weight", "credibility_rate", "p_ad", "ad_claim", "ad_weight",
                 "spam_threshold", "spam_penalty", "audience_growth", "network_value_decay",
                 "knowledge_share"):
        _prob(getattr(m, name), f"market.{name}")
    _check(1 <= m.contacts <= 100, "market.contacts", "an integer between 1 and 100", m.contacts)
    for name in ("frontier_speed", "frontier_noise", "taste_spread", "choice_beta", "price_weight",
                 "outside_option", "experience_noise"):
        _nonneg(getattr(m, name), f"market.{name}")
    _check(m.fit_width > 0, "market.fit_width", "a number > 0", m.fit_width)
    _check(m.reference_price > 0, "market.reference_price", "an integer > 0 (cents)",
           m.reference_price)
    _check(m.promote_at >= 1, "market.promote_at", "an integer >= 1", m.promote_at)
    _check(m.reputation_cap >= 1, "market.reputation_cap", "a number >= 1", m.reputation_cap)

    s = c.sellers
    _check(len(s.mix) > 0, "sellers.mix", "at least one strategy with a count", s.mix)
    for name, count in s.mix.items():
        _check(name in STRATEGIES, f"sellers.mix.{name}",
               f"a strategy name, one of {', '.join(sorted(STRATEGIES))}", name)
        _check(isinstance(count, int) and count >= 0, f"sellers.mix.{name}", "an integer >= 0",
               count)
    total = sum(s.mix.values())
    _check(1 <= total <= 1000, "sellers.mix", "between 1 and 1000 sellers in all", total)
    _check(s.entry_strategy in STRATEGIES, "sellers.entry_strategy",
           f"one of {', '.join(sorted(STRATEGIES))}", s.entry_strategy)
    for name in ("price", "initial_cash_per_buyer", "fixed_cost_per_buyer", "adapt_cost_per_buyer",
                 "ad_cost", "sponsor_fee", "cocreate_reward", "max_entrants", "sense_delay",
                 "sponsor_k"):
        _nonneg(getattr(s, name), f"sellers.{name}")
    _check(s.price > 0, "sellers.price", "an integer > 0 (cents)", s.price)
    _check(s.sponsor_period >= 1, "sellers.sponsor_period", "an integer >= 1", s.sponsor_period)
    _check(s.sponsor_targeting in TARGETING, "sellers.sponsor_targeting",
           f"one of {', '.join(TARGETING)}", s.sponsor_targeting)
    for name in ("adapt_rate", "p_entry", "sponsored_claim", "disclosure_discount"):
        _prob(getattr(s, name), f"sellers.{name}")
    for name in ("sense_noise", "listen_noise", "entry_lead"):
        _nonneg(getattr(s, name), f"sellers.{name}")
    _check(total + s.max_entrants <= 1000, "sellers.max_entrants",
           "at most 1000 sellers in all, with the mix", s.max_entrants)

    k = c.currency
    for name in ("advice_reward", "thank_you", "cashout_threshold"):
        _nonneg(getattr(k, name), f"currency.{name}")
    _check(k.cents_per_point >= 1, "currency.cents_per_point", "an integer >= 1",
           k.cents_per_point)
    _prob(k.decay, "currency.decay")
    _prob(k.cashout_share, "currency.cashout_share")
    _check(c.output.top >= 1, "output.top", "an integer >= 1", c.output.top)
    return c
