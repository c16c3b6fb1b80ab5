"""Every setting of a run, declared once, and the validation that follows from the declarations.

Each setting is a dataclass field made with :func:`setting`: its type (the annotation), default,
allowed range or registry of names, unit and a one-line meaning. From that one declaration come
the checks of :func:`validate` (type, finite numbers, range, registered names), the messages
(which name the setting and what is allowed), the list of ``spheres run --help`` and the parameter
table of the README and docs/ODD.md (:func:`settings_markdown`). Registries (network kinds,
strategies, targeting rules, engines, influencer selections) are the only lists of names: the
declarations point at them, and validation reads them when it runs.

The same names are used for model keyword arguments, config keys, web-app sliders and output
columns. Hydra composes YAML files over this schema (see ``configs/``); library users build a
config with :func:`make_config`, where a dotted key (``"sellers.mix"``) and the nested form
(``{"sellers": {"mix": ...}}``) mean the same thing.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import importlib
import json
import math
import numbers
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

# The largest amount of money (cents) or currency (points) a run may move: int64 headroom.
MONEY_LIMIT = 2**62


class ConfigError(ValueError):
    """A configuration value is not allowed; the message names the setting and what is allowed."""


# -- registries (imported when validation runs, so that this module stays light) ----------------
def _registry(module: str, name: str) -> Callable[[], Iterable[str]]:
    """The names of registry ``name`` in ``module``, read when asked for."""
    def names() -> Iterable[str]:
        return getattr(importlib.import_module(module), name)
    return names


_engines = _registry("spheres.model.model", "ENGINES")
_network_kinds = _registry("spheres.model.network", "KINDS")
_selections = _registry("spheres.model.network", "SELECTIONS")
_strategies = _registry("spheres.model.strategies", "STRATEGIES")
_targeting = _registry("spheres.model.sellers", "TARGETING")
_sensing = _registry("spheres.model.strategies", "SENSING")
_marketing = _registry("spheres.model.strategies", "MARKETING")


@dataclass(frozen=True)
class Spec:
    """What a setting allows and means; the metadata of its dataclass field."""

    meaning: str
    unit: str = ""
    low: float | None = None  # inclusive lower bound, unless low_open
    high: float | None = None  # inclusive upper bound
    low_open: bool = False
    choices: Callable[[], Iterable[str]] | None = None  # a registry of allowed names (keys)
    values: Callable[[], Iterable[str]] | None = None  # a registry of allowed values (a map)
    symbol: str = ""  # the symbol of docs/ODD.md's equations


def setting(default: Any, meaning: str, **spec: Any) -> Any:
    """Declare a setting: its default, its one-line meaning and what it allows (see :class:`Spec`).

    A mutable default (a dict) is given as a zero-argument callable.
    """
    meta = {"spec": Spec(meaning, **spec)}
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def prob(default: float, meaning: str, symbol: str = "") -> Any:
    """Declare a probability or share: a number from 0 to 1."""
    return setting(default, meaning, low=0.0, high=1.0, symbol=symbol)


@dataclass
class NetworkConfig:
    """The buyer graph and the influencers' audiences."""

    kind: str = setting("barabasi_albert", "graph generator, or an edge-list file",
                        choices=_network_kinds)
    mean_degree: float = setting(10.0, "target mean degree of the buyer graph", low=0.0,
                                 low_open=True, high=1e6, symbol="⟨k⟩")
    rewire: float = prob(0.1, "Watts–Strogatz rewiring probability")
    blocks: int = setting(4, "number of communities of the stochastic block model", low=1,
                          high=2**31 - 1)
    mixing: float = prob(0.05, "stochastic block model: share of edges between communities")
    path: str | None = setting(None, "edge-list file, for kind=edgelist (relative paths are read "
                                     "from the directory the command was started in)")
    influencer_share: float = prob(0.01, "share of buyers made influencers at set-up")
    influencer_selection: str = setting("degree", "how initial influencers are chosen",
                                        choices=_selections)
    followers_per_influencer: int = setting(100, "followers of each initial influencer",
                                            unit="buyers", low=0, high=10**6)


@dataclass
class MarketConfig:
    """Market conditions: what the world does, outside any seller's control."""

    dims: int = setting(2, "dimensions of the expectation space", low=1, high=16, symbol="D")
    frontier_speed: float = setting(0.01, "frontier step along its direction per step", low=0.0,
                                    high=1.0, symbol="v")
    frontier_noise: float = setting(0.002, "s.d. of the frontier's random move", low=0.0,
                                    high=1.0, symbol="σ_F")
    taste_spread: float = setting(0.3, "s.d. of tastes and initial offerings", low=0.0,
                                  high=10.0, symbol="σ_θ")
    drift_rate: float = prob(0.1, "mean rate at which expectations follow frontier + taste",
                             "ρ")
    drift_spread: float = setting(1.0, "s.d. of the log of buyers' own drift rates (0: all "
                                       "follow at ρ)", low=0.0, high=5.0, symbol="σ_ρ")
    peer_pull: float = prob(0.2, "pull of expectations toward the most advanced contact's "
                                 "known frontier", "π")
    initial_awareness: float = prob(0.1, "probability a buyer knows a seller at start or entry",
                                    "a_0")
    max_known: int = setting(0, "most sellers a buyer holds in mind, forgetting the one it "
                                "ranks lowest to learn another (0: no limit)", unit="sellers",
                             low=0, high=1000, symbol="M")
    p_need: float = prob(0.1, "probability of a need per step", "p_n")
    contacts: int = setting(3, "contacts asked per buyer with a need", unit="buyers", low=1,
                            high=100, symbol="K")
    p_word_of_mouth: float = prob(0.1, "probability a contact makes the buyer aware of a seller "
                                       "it knows", "p_w")
    peer_weight: float = prob(0.5, "weight of a contact's belief (× trust × reputation)", "ω_P")
    belief_prior: float = prob(0.5, "initial belief about every seller", "b_0")
    fit_width: float = setting(0.35, "width of the Gaussian fit", low=0.0, low_open=True,
                               high=100.0, symbol="w")
    choice_beta: float = setting(8.0, "logit sensitivity of the purchase choice", low=0.0,
                                 high=1000.0, symbol="β")
    price_weight: float = setting(0.3, "weight of price in utility", low=0.0, high=100.0,
                                  symbol="λ")
    reference_price: int = setting(1000, "price scale of utility", unit="cents", low=1,
                                   high=10**9, symbol="p̄")
    outside_option: float = setting(0.35, "utility of not buying (before β)", low=0.0,
                                    high=100.0, symbol="u_0")
    experience_noise: float = setting(0.05, "s.d. of experienced fit noise", low=0.0, high=10.0,
                                      symbol="σ_x")
    learning_rate: float = prob(0.5, "belief update toward the experienced fit", "α")
    satisfaction: float = prob(0.5, "experienced fit at or above which a buyer is satisfied",
                               "ψ")
    trust_peers: float = prob(0.6, "initial trust in peers", "τ0_peer")
    trust_influencers: float = prob(0.5, "initial trust in influencers", "τ0_infl")
    trust_sellers: float = prob(0.4, "initial trust in sellers", "τ0_sell")
    trust_rate: float = prob(0.05, "trust update toward the outcome", "γ")
    p_post: float = prob(0.5, "probability an influencer (or a sponsored buyer) posts per step",
                         "p_post")
    post_reach: float = prob(0.3, "probability a follower edge reads a post", "r")
    influencer_weight: float = prob(0.5, "weight of a post (× credibility × trust)", "ω_I")
    credibility_rate: float = prob(0.02, "credibility update per advised purchase", "γ_κ")
    p_ad: float = prob(0.02, "probability an advertiser reaches a buyer per step", "p_ad")
    ad_weight: float = prob(0.3, "weight of an ad (× trust in sellers)", "ω_A")
    spam_threshold: float = prob(0.3, "an ad whose true fit for the buyer is below this is spam",
                                 "φ_spam")
    spam_penalty: float = prob(0.05, "multiplicative loss of trust in sellers per spam ad", "ε")
    claim_penalty: float = prob(0.3, "loss of trust in a source per unit its claim exceeded the "
                                     "experience", "γ_c")
    p_feedback: float = prob(0.3, "probability a customer gives the seller feedback", "p_f")
    p_exposure: float = prob(0.05, "probability a follower finds out an undisclosed sponsored "
                                   "post it reads", "p_x")
    exposure_penalty: float = prob(0.1, "multiplicative loss of trust in influencers when found "
                                        "out", "ε_x")
    credibility_loss: float = prob(0.02, "credibility an influencer loses each time it is found "
                                         "out", "κ_x")
    audience_growth: float = prob(0.005, "new follow attempts per step, as a share of buyers",
                                  "g")
    promote_at: int = setting(8, "followers at which a buyer becomes an influencer",
                              unit="buyers", low=1, high=10**9, symbol="ν*")
    reputation_cap: float = setting(5.0, "cap of the reputation multiplier", low=1.0,
                                    high=1000.0, symbol="R_max")
    network_value_decay: float = prob(0.5, "weight per level of network value", "δ")
    knowledge_share: float = prob(0.5, "reach share at which a seller counts as known "
                                        "(knowledge time)")


def _default_mix() -> dict[str, int]:
    return {"inert": 2, "broadcast": 2, "listen": 2, "sponsor": 2, "cocreate": 2}


@dataclass
class SellersConfig:
    """The seller population: the strategy mix (the levers) and seller economics."""

    mix: dict[str, int] = setting(  # noqa: RUF009 (a field with a default factory)
        _default_mix, "initial sellers by strategy (a mix given replaces the default one "
                      "entirely)", unit="sellers", low=0, high=1000, choices=_strategies)
    marketing: dict[str, str] = setting(  # noqa: RUF009 (a field with a default factory)
        dict, "marketing lever of a strategy, replacing its preset's", choices=_strategies,
        values=_marketing)
    sensing: dict[str, str] = setting(  # noqa: RUF009 (a field with a default factory)
        dict, "sensing method of a strategy, replacing its preset's", choices=_strategies,
        values=_sensing)
    price: int = setting(1000, "price of every seller", unit="cents", low=1, high=10**9,
                         symbol="p")
    initial_cash_per_buyer: int = setting(200, "initial cash = this × buyers", unit="cents",
                                          low=0, high=10**9)
    fixed_cost_per_buyer: int = setting(5, "fixed cost per step = this × buyers", unit="cents",
                                        low=0, high=10**9)
    adapt_rate: float = prob(0.2, "partial adjustment of the offering per step", "μ")
    adapt_cost_per_buyer: int = setting(20, "adaptation cost = this × buyers × distance moved",
                                        unit="cents", low=0, high=10**9, symbol="k_A")
    sense_delay: int = setting(8, "delay of sales-based sensing", unit="steps", low=0,
                               high=10**5, symbol="L")
    sense_noise: float = setting(0.05, "s.d. of sales-based sensing noise", low=0.0, high=10.0,
                                 symbol="σ_S")
    listen_noise: float = setting(0.02, "s.d. of conversation-based sensing noise", low=0.0,
                                  high=10.0, symbol="σ_L")
    marketing_budget: float = prob(0.1, "share of its cash a seller may spend on marketing per "
                                        "step", "m")
    ad_cost: int = setting(20, "cost per buyer reached by an ad", unit="cents", low=0,
                           high=10**9)
    ad_overclaim: float = setting(0.1, "what an ad adds to the fit the seller believes it has",
                                  low=-1.0, high=1.0, symbol="o_ad")
    sponsor_overclaim: float = setting(0.2, "what a sponsored post adds to the fit the sponsor "
                                            "believes it has", low=-1.0, high=1.0,
                                       symbol="o_sp")
    sponsor_k: int = setting(3, "buyers with an audience contracted per sponsoring seller",
                             unit="buyers", low=0, high=10**6, symbol="k_sp")
    sponsor_fee: int = setting(2000, "fee per contracted buyer per step", unit="cents",
                               low=0, high=10**12)
    campaign_period: int = setting(20, "steps between sponsorship renewals and seeding rounds",
                                   unit="steps", low=1, high=10**7, symbol="P")
    targeting: str = setting("score", "how sponsors and seeders choose buyers (sponsors among "
                                      "those with an audience, seeders among all)",
                             choices=_targeting)
    seed_k: int = setting(30, "free trials per seeding seller and round", unit="buyers", low=0,
                          high=10**6, symbol="k_seed")
    trial_cost: int = setting(500, "cost of a free trial", unit="cents", low=0, high=10**9)
    disclose_sponsorship: bool = setting(False, "sponsored posts are disclosed")
    disclosure_discount: float = prob(0.5, "weight factor of a disclosed sponsored post", "ζ")
    cocreate_reward: int = setting(5, "points a co-creating seller gives each customer who gives "
                                      "it feedback", unit="points", low=0, high=10**6)
    p_entry: float = prob(0.02, "probability of an entry per step", "p_entry")
    max_entrants: int = setting(10, "maximum entries over the run", unit="sellers", low=0,
                                high=1000)
    entry_lead: float = setting(0.2, "how far ahead of the frontier entrants are placed",
                                low=0.0, high=10.0, symbol="ℓ")
    entry_strategy: str = setting("listen", "strategy of entrants", choices=_strategies)


@dataclass
class CurrencyConfig:
    """The social-currency economy, in integer points."""

    advice_reward: int = setting(10, "points minted for an advisor when an advised purchase "
                                     "satisfies", unit="points", low=0, high=10**6)
    thank_you: int = setting(1, "points an asker transfers to each contact that introduced a "
                                "seller", unit="points", low=0, high=10**6)
    decay: float = prob(0.02, "share of a balance burned per step (rounded up)", "d_c")
    cents_per_point: int = setting(10, "cents per point, for every conversion", unit="cents",
                                   low=1, high=10**6, symbol="χ")
    cashout_threshold: int = setting(200, "balance at or above which a buyer cashes out",
                                     unit="points", low=0, high=10**12, symbol="H")
    cashout_share: float = prob(0.5, "share of the balance cashed out (rounded down)", "h")
    follower_share: int = setting(2, "points a sponsored influencer passes to a follower who buys "
                                     "the sponsor on its post", unit="points", low=0,
                                  high=10**6)
    perk_threshold: int = setting(20, "balance at or above which a buyer spends points on a "
                                      "purchase", unit="points", low=0, high=10**12)
    perk_share: float = prob(0.2, "most of a price a buyer may pay in points (a discount the "
                                  "seller honours)", "q")


@dataclass
class MechanismsConfig:
    """Switches: each mechanism can be turned off so that the others can be studied alone."""

    drift: bool = setting(True, "the frontier moves and expectations follow it (phase 1)")
    peer_pull: bool = setting(True, "expectations move toward more advanced contacts' (phase 3)")
    influencers: bool = setting(True, "influencers and sponsored buyers post to their "
                                      "followers (phase 4)")
    audience_growth: bool = setting(True, "new followers attach to attention; promotions "
                                          "(phase 8)")
    advertising: bool = setting(True, "the advertise lever's ads (phase 5)")
    seeding: bool = setting(True, "the seed lever's free trials (phase 5)")
    sponsorship: bool = setting(True, "the sponsor lever's contracts, payments and sponsored "
                                      "posts (phases 4, 8)")
    cocreation: bool = setting(True, "the cocreate lever's rewards for feedback (phase 8)")
    advice_reward: bool = setting(True, "currency minted for advice that helped (phase 7)")
    thank_you: bool = setting(True, "askers pay thank-yous to contacts that helped (phase 3)")
    follower_share: bool = setting(True, "sponsored influencers share with followers who buy "
                                         "(phase 8)")
    perks: bool = setting(True, "buyers pay part of a price in points (phase 6)")
    cashout: bool = setting(True, "balances above a threshold are converted into money "
                                  "(phase 8)")
    decay: bool = setting(True, "balances fade: currency burned (phase 8)")
    reputation: bool = setting(True, "advice weighted by the adviser's balance (phase 3)")
    trust: bool = setting(True, "trust moves toward the outcome of claimed purchases (phase 7)")
    claims: bool = setting(True, "trust falls with the gap between claim and experience "
                                 "(phase 7)")
    spam_penalty: bool = setting(True, "ads that miss lower trust in sellers (phase 5)")
    exposure: bool = setting(True, "undisclosed sponsored posts can be found out (phase 4)")
    adaptation: bool = setting(True, "sellers sense and adapt their offering (phase 9)")
    exit: bool = setting(True, "sellers with negative cash leave (phase 9)")
    entry: bool = setting(True, "new sellers may enter (phase 9)")


@dataclass
class OutputConfig:
    """What a run writes and shows besides the tables that are always written."""

    dashboard: bool = setting(True, "write dashboard.png")
    progress: bool = setting(True, "show progress: a bar on a terminal, log lines otherwise")
    progress_every: float = setting(30.0, "seconds between progress lines when stderr is not a "
                                          "terminal", unit="seconds", low=0.1, high=86400.0)
    ledger_entries: bool = setting(False, "write every ledger entry (ledger.parquet)")
    top: int = setting(5, "agents listed in the summary's top lists", unit="agents", low=1,
                       high=1000)


@dataclass
class SpheresConfig:
    """One simulation: sizes, engine, seed and the parts above."""

    seed: int = setting(0, "seed of the model's random generator", low=0, high=2**63 - 1)
    engine: str = setting("vector", "engine: the same results, by arrays or per agent",
                          choices=_engines)
    steps: int = setting(200, "number of steps (one step is one period, a week by default)",
                         unit="steps", low=1, high=10**7, symbol="T")
    n_buyers: int = setting(3000, "number of buyers", unit="buyers", low=2, high=2**31 - 1,
                            symbol="N")
    network: NetworkConfig = field(default_factory=NetworkConfig)
    market: MarketConfig = field(default_factory=MarketConfig)
    sellers: SellersConfig = field(default_factory=SellersConfig)
    currency: CurrencyConfig = field(default_factory=CurrencyConfig)
    mechanisms: MechanismsConfig = field(default_factory=MechanismsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


# -- the declarations, walked -------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """One declared setting: its dotted name, type, default and spec."""

    name: str
    type: Any
    default: Any
    spec: Spec

    @property
    def kind(self) -> str:
        """``int``, ``float``, ``bool``, ``str``, ``path`` (a str or none) or ``mix``."""
        if self.spec.values is not None:
            return "map"
        return {int: "int", float: "float", bool: "bool", str: "str"}.get(self.type) or (
            "path" if self.type == (str | None) else "mix")

    def allowed(self) -> str:
        """What the setting allows, in words."""
        s, kind = self.spec, self.kind
        if kind == "bool":
            return "true or false"
        if s.choices is not None and kind == "str":
            return "one of " + ", ".join(s.choices())
        if kind == "path":
            return "a file path, or null"
        if kind == "map":
            return (f"strategy names ({', '.join(s.choices())}) with one of "
                    f"{', '.join(s.values())}")
        if kind == "mix":
            return (f"strategy names ({', '.join(s.choices())}) with counts from "
                    f"{_num(s.low)} to {_num(s.high)}")
        what = "an integer" if kind == "int" else "a number"
        if s.low == 0.0 and s.high == 1.0 and kind == "float":
            return "a number from 0 to 1"
        if s.low_open:
            return f"{what} > {_num(s.low)} and <= {_num(s.high)}"
        return f"{what} from {_num(s.low)} to {_num(s.high)}"


def _num(x: float | None) -> str:
    if x is None:
        return "?"
    if float(x).is_integer() and abs(x) >= 10**5:
        power = math.log10(abs(x))
        if power.is_integer():
            return f"10^{int(power)}"
        if x == 2**31 - 1:
            return "2^31-1"
        if x == 2**63 - 1:
            return "2^63-1"
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def settings(cls: type = SpheresConfig, prefix: str = "") -> Iterator[Setting]:
    """Every declared setting, in declaration order, with its dotted name."""
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            yield from settings(hint, f"{prefix}{f.name}.")
            continue
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default
        yield Setting(f"{prefix}{f.name}", hint, default, f.metadata["spec"])


SECTIONS = {
    "": "Run", "network": "Network", "market": "Market", "sellers": "Sellers",
    "currency": "Currency", "mechanisms": "Mechanisms", "output": "Output",
}


def _section(name: str) -> str:
    return name.split(".")[0] if "." in name else ""


def _default_text(s: Setting) -> str:
    if s.kind in ("mix", "map"):
        return ", ".join(f"{k}: {v}" for k, v in s.default.items()) or "{}"
    if s.kind == "bool":
        return str(s.default).lower()
    if s.default is None:
        return "null"
    return f"{s.default:g}" if isinstance(s.default, float) else str(s.default)


def settings_markdown() -> str:
    """The parameter tables of the README and docs/ODD.md, one per section, from the declarations.

    ``spheres settings`` prints them; a test checks that both documents hold exactly this text.
    """
    out: list[str] = []
    current = None
    for s in settings():
        section = _section(s.name)
        if section != current:
            current = section
            if out:
                out.append("")
            out += [f"**{SECTIONS[section]}**", "",
                    "| setting | default | allowed | unit | symbol | meaning |",
                    "| --- | --- | --- | --- | --- | --- |"]
        allowed = s.allowed().replace("|", "\\|")
        out.append(f"| `{s.name}` | {_default_text(s)} | {allowed} | {s.spec.unit} | "
                   f"{s.spec.symbol} | {s.spec.meaning} |")
    return "\n".join(out) + "\n"


def settings_text(width: int = 100) -> str:
    """The settings as plain text for ``spheres run --help``: name, default, allowed, meaning."""
    out: list[str] = []
    current = None
    for s in settings():
        section = _section(s.name)
        if section != current:
            current = section
            out.append(f"\n{SECTIONS[section]}:")
        unit = f" ({s.spec.unit})" if s.spec.unit else ""
        out.append(f"  {s.name}={_default_text(s)}{unit}")
        out.append(f"      {s.spec.meaning}; {s.allowed()}")
    return "\n".join(out).lstrip("\n") + "\n"


# -- building a config --------------------------------------------------------------------------
def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """Turn dotted keys (``"market.p_need"``, or ``market__p_need``) into nested dicts."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = str(key).replace("__", ".").split(".")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key}: {'.'.join(parts[:-1])} is not a group of settings")
            node = child
        last = parts[-1]
        if isinstance(value, dict) and isinstance(node.get(last), dict) and last != "mix":
            node[last] = {**node[last], **nest(value)}
        else:
            node[last] = nest(value) if isinstance(value, dict) and last != "mix" else value
    return out


def make_config(overrides: dict[str, Any] | None = None, **flat: Any) -> SpheresConfig:
    """Build a validated config from defaults, a (nested or dotted) dict and keyword overrides.

    ``make_config({"market": {"p_need": 0.2}}, n_buyers=500, **{"sellers.price": 900})``.
    A given ``sellers.mix`` replaces the default mix, in either form; ``sellers.mix.<strategy>``
    changes one count, as on the command line.
    """
    given = {**(overrides or {}), **flat}
    counts = {key: given.pop(key) for key in list(given)
              if str(key).replace("__", ".").startswith("sellers.mix.")}
    nested = nest(given)
    if counts:  # one strategy's count: changed within the mix given, or else the default mix
        sellers = nested.setdefault("sellers", {})
        mix = dict(sellers.get("mix") or _default_mix())
        mix.update({str(k).replace("__", ".").removeprefix("sellers.mix."): v
                    for k, v in counts.items()})
        sellers["mix"] = mix
    return validate(to_config(nested))


def to_config(cfg: Any) -> SpheresConfig:
    """Turn an OmegaConf node or a plain nested dict into a ``SpheresConfig``.

    Unknown settings are refused (naming the closest declared one); types are checked by
    :func:`validate`.
    """
    if isinstance(cfg, SpheresConfig):
        return cfg
    data = OmegaConf.to_container(cfg) if OmegaConf.is_config(cfg) else cfg
    if not isinstance(data, dict):
        raise ConfigError(f"a config is a mapping of settings; got {type(data).__name__}")
    check_keys(data)
    return _build(SpheresConfig, data, "")


def check_keys(data: dict[str, Any], cls: type = SpheresConfig, prefix: str = "") -> None:
    """Refuse a key that is not a declared setting, suggesting the closest name."""
    hints = get_type_hints(cls)
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in hints:
            close = difflib.get_close_matches(str(key), list(hints), n=1, cutoff=0.75)
            hint = f"; did you mean {prefix}{close[0]}?" if close else ""
            raise ConfigError(f"{name}: no such setting{hint} (`spheres run --help` lists them)")
        if dataclasses.is_dataclass(hints[key]):
            if not isinstance(value, dict):
                raise ConfigError(f"{name} = {value!r} is not allowed: a group of settings "
                                  f"such as {name}.{next(iter(get_type_hints(hints[key])))}=...")
            check_keys(value, hints[key], f"{name}.")


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        kwargs[key] = (_build(hints[key], value, f"{prefix}{key}.")
                       if dataclasses.is_dataclass(hints[key]) else value)
    return cls(**kwargs)


def to_dict(config: SpheresConfig) -> dict[str, Any]:
    """The config as a plain nested dict."""
    return dataclasses.asdict(config)


def config_hash(config: SpheresConfig) -> str:
    """A short hash of every setting: equal configs, equal hashes."""
    text = json.dumps(to_dict(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def omegaconf_message(err: OmegaConfBaseException) -> str:
    """One line from an OmegaConf error, naming the key when it has one."""
    key = getattr(err, "full_key", None)
    msg = str(err).splitlines()[0]
    return f"{key}: {msg}" if key else msg


def one_line(err: BaseException) -> str:
    """An error of composing a config (Hydra's or OmegaConf's) as one line naming the setting.

    An unknown key gets the closest declared name; a cause from OmegaConf is appended.
    """
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError
    cause = err.__cause__
    key = getattr(cause, "full_key", None)
    if isinstance(cause, ConfigKeyError | ConfigAttributeError) and key:
        try:
            check_keys(nest({key: None}))
        except ConfigError as unknown:
            return str(unknown)
    text = " ".join(str(err).split("Config search path")[0].split())
    taken = re.match(r"Multiple values for (\S+)\. To override a value use 'override \1: (\S+)'",
                     text)
    if taken:  # a group that has a slot in the defaults was added with +
        group, option = taken.groups()
        return (f"{group} already has a slot in the defaults: select it with {group}={option} "
                f"(without +)")
    if isinstance(cause, OmegaConfBaseException):
        text += f": {' '.join(str(cause).split('full_key')[0].split())}"
        if key and key not in text:
            text += f" ({key})"
    return text.replace("Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack "
                        "trace.", "").strip()


# -- validation ---------------------------------------------------------------------------------
def _refuse(setting: str, value: Any, allowed: str) -> None:
    raise ConfigError(f"{setting} = {value!r} is not allowed: {allowed}")


def _check(ok: bool, setting: str, allowed: str, value: Any) -> None:
    if not ok:
        _refuse(setting, value, allowed)


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _in_range(v: float, spec: Spec) -> bool:
    low_ok = spec.low is None or (v > spec.low if spec.low_open else v >= spec.low)
    return low_ok and (spec.high is None or v <= spec.high)


def _get(config: SpheresConfig, name: str) -> Any:
    node: Any = config
    for part in name.split("."):
        node = getattr(node, part)
    return node


def _set(config: SpheresConfig, name: str, value: Any) -> None:
    *parents, last = name.split(".")
    node: Any = config
    for part in parents:
        node = getattr(node, part)
    setattr(node, last, value)


def _check_setting(s: Setting, value: Any) -> Any:
    """Check one value against its declaration; return it in its declared type."""
    kind, spec = s.kind, s.spec
    if kind == "bool":
        _check(isinstance(value, bool), s.name, s.allowed(), value)
        return value
    if kind in ("str", "path"):
        if kind == "path" and value is None:
            return None
        _check(isinstance(value, str), s.name, s.allowed(), value)
        if spec.choices is not None:
            _check(value in spec.choices(), s.name, s.allowed(), value)
        return value
    if kind == "map":
        _check(isinstance(value, dict), s.name, s.allowed(), value)
        keys, values = list(spec.choices()), list(spec.values())
        for name, item in value.items():
            _check(name in keys, f"{s.name}.{name}",
                   f"a strategy name, one of {', '.join(keys)}", name)
            _check(item in values, f"{s.name}.{name}", f"one of {', '.join(values)}", item)
        return {str(name): str(item) for name, item in value.items()}
    if kind == "mix":
        _check(isinstance(value, dict), s.name, s.allowed(), value)
        known = spec.choices()
        for name, count in value.items():
            _check(name in known, f"{s.name}.{name}",
                   f"a strategy name, one of {', '.join(known)}", name)
            _check(_is_int(count) and _in_range(count, spec), f"{s.name}.{name}",
                   f"an integer from {_num(spec.low)} to {_num(spec.high)}", count)
        return {name: int(count) for name, count in value.items()}
    if kind == "int":
        if _is_number(value) and not _is_int(value) and float(value).is_integer():
            value = int(value)  # 5.0 is the integer 5; 5.5 is refused below
        _check(_is_int(value), s.name, s.allowed(), value)
        _check(_in_range(value, spec), s.name, s.allowed(), value)
        return int(value)
    _check(_is_number(value), s.name, s.allowed(), value)
    _check(math.isfinite(value), s.name, f"a finite number; {s.allowed()}", value)
    _check(_in_range(value, spec), s.name, s.allowed(), value)
    return float(value)


def _fingerprint(config: SpheresConfig) -> str:
    return repr(config)


def validate(config: SpheresConfig) -> SpheresConfig:
    """Check every setting against its declaration, then the rules that join settings.

    Raises ``ConfigError`` naming the first bad setting and what is allowed. A config validated
    once and unchanged since is not checked again.
    """
    if not isinstance(config, SpheresConfig):
        raise ConfigError(f"a config is a SpheresConfig; got {type(config).__name__}")
    if getattr(config, "_validated", None) == _fingerprint(config):
        return config
    for s in settings():
        _set(config, s.name, _check_setting(s, _get(config, s.name)))
    _check_rules(config)
    check_resources(config)
    object.__setattr__(config, "_validated", _fingerprint(config))
    return config


def _check_rules(c: SpheresConfig) -> None:
    """The rules that join settings: sizes against each other, the chosen network's needs."""
    from spheres.model.network import GRAPH_SETTINGS, KINDS

    n = c.network
    kind = KINDS[n.kind]
    defaults = NetworkConfig()
    for name in GRAPH_SETTINGS:
        value = getattr(n, name)
        if name not in kind.uses and value != getattr(defaults, name):
            used = ", ".join(f"network.{u}" for u in kind.uses) or "no graph setting"
            _refuse(f"network.{name}", value,
                    f"network.kind={n.kind} does not use it (it uses {used})")
    kind.check(n, c.n_buyers)

    s = c.sellers
    total = sum(s.mix.values())
    _check(1 <= total <= 1000, "sellers.mix", "between 1 and 1000 sellers in all", s.mix)
    _check(total + s.max_entrants <= 1000, "sellers.max_entrants",
           f"at most 1000 sellers in all, with the {total} of sellers.mix", s.max_entrants)
    _check_money(c)


def _check_money(c: SpheresConfig) -> None:
    """Refuse sizes and amounts whose money or currency totals could overflow 64-bit integers."""
    s, k, n = c.sellers, c.currency, c.n_buyers
    sellers = sum(s.mix.values()) + s.max_entrants
    per_buyer_step = (s.price + s.fixed_cost_per_buyer + s.adapt_cost_per_buyer + s.ad_cost
                      + s.trial_cost
                      + k.cents_per_point * (k.advice_reward + s.cocreate_reward
                                             + k.follower_share
                                             + c.market.contacts * k.thank_you))
    bound = (n * s.initial_cash_per_buyer * sellers + c.steps * (n * per_buyer_step * sellers
             + sellers * s.sponsor_k * s.sponsor_fee))
    if bound >= MONEY_LIMIT:
        raise ConfigError(
            f"n_buyers, steps and the money settings (sellers.price, sellers.*_cost*, "
            f"sellers.initial_cash_per_buyer, sellers.sponsor_fee, currency.cents_per_point, "
            f"currency rewards) allow totals up to about {bound:.2e} cents, beyond the "
            f"{MONEY_LIMIT:.2e} that exact 64-bit accounting can hold; lower them")


# -- resources ----------------------------------------------------------------------------------
def estimate_memory(c: SpheresConfig) -> int:
    """An upper estimate of a run's peak memory in bytes, from its sizes.

    Counts the buyer arrays, the buyer x seller arrays and the buyers' memory cells (initial
    sellers plus entrants, and the temporaries of a phase), the graph and its building,
    the followers, the sales history kept for sensing (``sellers.sense_delay``), the rows kept
    every step, and the per-agent engine's agents.
    """
    n, d = c.n_buyers, c.market.dims
    sellers = sum(c.sellers.mix.values()) + (c.sellers.max_entrants if c.mechanisms.entry else 0)
    degree = n - 1 if c.network.kind == "complete" else min(c.network.mean_degree, n - 1)
    base = 300 * 2**20  # interpreter, numpy, pandas, mesa
    buyers = n * (40 * d + 200)
    # per (buyer, seller): aware (1 B), and with a cap the memory index (1-2 B); per memory cell:
    # belief, claim, spend (8 B each), introducer, aware time (4 B each), the two kinds (1 B
    # each), and with a cap the seller held (2 B); half as much again for a phase's temporaries
    k = c.market.max_known
    capped = 0 < k < sellers
    held = k if capped else sellers
    index = (1 if k <= 127 else 2) if capped else 0
    cells = int(1.5 * n * (sellers * (1 + index) + held * (34 + 2 * capped)))
    graph = int(n * degree * 40)
    followers = int(n * c.network.influencer_share * c.network.followers_per_influencer * 24)
    history = (c.sellers.sense_delay + 1) * sellers * (d + 1) * 8
    rows = c.steps * (6_000 + sellers * (d + 20) * 16)
    agents = n * 2_000 if c.engine == "agent" else 0
    return int(base + buyers + cells + graph + followers + history + rows + agents)


def available_memory() -> int:
    """Bytes of memory available to a new run (``MemAvailable``), or the physical memory."""
    limit = os.environ.get("SPHERES_MEMORY_LIMIT")
    if limit:
        return int(float(limit))
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_resources(c: SpheresConfig) -> None:
    """Refuse a run whose estimated memory exceeds what the machine has available."""
    need, have = estimate_memory(c), available_memory()
    if need > have:
        sellers = sum(c.sellers.mix.values()) + c.sellers.max_entrants
        raise ConfigError(
            f"n_buyers={c.n_buyers}, sellers (mix + max_entrants = {sellers}), steps={c.steps}, "
            f"sellers.sense_delay={c.sellers.sense_delay}: the run needs about "
            f"{need / 2**30:.1f} GiB of memory, more than the {have / 2**30:.1f} GiB available; "
            f"lower these settings")
