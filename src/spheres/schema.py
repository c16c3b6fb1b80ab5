"""Every setting of a run, declared once: type, default, allowed range or registry, unit, meaning.

Each setting is a dataclass field made with :func:`setting`: its type (the annotation), default,
allowed range or the name of a registry of allowed names, unit and a one-line meaning. From that
one declaration come the checks of :func:`spheres.config.validate` (type, finite numbers, range,
registered names), the messages (which name the setting and what is allowed), the list of
``spheres run --help`` and the parameter table of the README and docs/ODD.md
(:func:`spheres.config.help.settings_markdown`). Registries (network kinds, strategies, targeting
rules, engines, influencer selections) are the only lists of names; a declaration names its
registry, and validation looks it up.

The same names are used for model keyword arguments, config keys, web-app sliders and output
columns. Hydra composes YAML files over this schema (see ``configs/``); library users build a
config with :func:`spheres.config.make_config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The largest amount of money (cents) or currency (points) a run may move: int64 headroom.
MONEY_LIMIT = 2**62


@dataclass(frozen=True)
class Spec:
    """What a setting allows and means; the metadata of its dataclass field."""

    meaning: str
    unit: str = ""
    low: float | None = None  # inclusive lower bound, unless low_open
    high: float | None = None  # inclusive upper bound
    low_open: bool = False
    choices: str | None = None  # the registry of allowed names (keys)
    values: str | None = None  # the registry of allowed values (a map)
    symbol: str = ""  # the symbol of docs/ODD.md's equations
    per: str = ""  # how the value converts to one step (spheres.model.clock.CONVERSIONS)
    source: str = ""  # a published figure's reference (docs/ODD.md, References), or "assumption"
    tries: tuple[float, float] | None = None  # the range a user should try


def setting(default: Any, meaning: str, **spec: Any) -> Any:
    """Declare a setting: its default, its one-line meaning and what it allows (see :class:`Spec`).

    A mutable default (a dict) is given as a zero-argument callable.
    """
    meta = {"spec": Spec(meaning, **spec)}
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


def prob(default: float, meaning: str, symbol: str = "", **spec: Any) -> Any:
    """Declare a probability or share: a number from 0 to 1."""
    return setting(default, meaning, low=0.0, high=1.0, symbol=symbol, **spec)


def rate(default: float, meaning: str, symbol: str, high: float = 1e6, **spec: Any) -> Any:
    """Declare a rate per year (a hazard: events per year, at least 0); each step uses its share.

    A step of ``1/n`` years turns rate ``r`` into the probability ``1 - exp(-r / n)`` (the
    chance of at least one event in the step), so runs with different step lengths agree.
    """
    return setting(default, meaning, unit="per year", low=0.0, high=high, symbol=symbol,
                   per="rate", **spec)


@dataclass
class NetworkConfig:
    """The buyer graph and the influencers' audiences."""

    kind: str = setting("barabasi_albert", "graph generator, or an edge-list file",
                        choices="network kinds")
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
                                        choices="selections")
    followers_per_influencer: int = setting(100, "followers of each initial influencer",
                                            unit="buyers", low=0, high=10**6)


@dataclass
class MarketConfig:
    """Market conditions: what the world does, outside any seller's control."""

    dims: int = setting(2, "dimensions of the expectation space", low=1, high=16, symbol="D")
    frontier_speed: float = setting(0.52, "distance the frontier moves along its direction in a "
                                          "year", unit="per year", low=0.0, high=52.0, symbol="v",
                                    per="speed")
    frontier_noise: float = setting(0.0144, "s.d. of the frontier's random move over a year "
                                            "(a random walk: the s.d. of a step is this / √n)",
                                    unit="per √year", low=0.0, high=7.0, symbol="σ_F",
                                    per="spread")
    taste_spread: float = setting(0.3, "s.d. of tastes and initial offerings", low=0.0,
                                  high=10.0, symbol="σ_θ")
    drift_rate: float = rate(5.48, "mean rate at which expectations follow frontier + taste",
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
    need_rate: float = rate(5.48, "mean number of needs a buyer has in a year", "λ_n")
    need_shape: float = setting(
        0.6, "gamma shape of buyers' need-rate multipliers (mean 1), as in the NBD model of "
             "purchase frequency: the lower, the more purchases come from heavy buyers "
             "(published: the top 20% of buyers make about 50–73% of purchases); 0: all buyers "
             "alike", low=0.0, high=1000.0, symbol="k_n",
        source="NBD: Ehrenberg 1959; Goodhardt, Ehrenberg & Chatfield 1984; set to the top-20% "
               "share of Sharp, Romaniuk & Graham 2019 and Kim, Singh & Winer 2017",
        tries=(0.3, 2.0))
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
    post_rate: float = rate(36.0, "posts an influencer (or a sponsored buyer) makes in a year",
                            "λ_post")
    post_reach: float = prob(0.3, "probability a follower edge reads a post", "r")
    influencer_weight: float = prob(0.5, "weight of a post (× credibility × trust)", "ω_I")
    credibility_rate: float = prob(0.02, "credibility update per advised purchase", "γ_κ")
    ad_rate: float = rate(1.05, "times in a year an advertiser reaches a buyer (while it can "
                                "pay)", "λ_ad")
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
    audience_growth: float = setting(0.26, "new follow attempts in a year, as a share of buyers",
                                     unit="per year", low=0.0, high=52.0, symbol="g",
                                     per="speed")
    promote_at: int = setting(8, "followers at which a buyer becomes an influencer",
                              unit="buyers", low=1, high=10**9, symbol="ν*")
    reputation_cap: float = setting(5.0, "cap of the reputation multiplier", low=1.0,
                                    high=1000.0, symbol="R_max")
    network_value_decay: float = prob(0.5, "weight per level of network value", "δ")
    knowledge_share: float = prob(0.5, "reach share at which a seller counts as known "
                                        "(knowledge time)")


def default_mix() -> dict[str, int]:
    """The default initial sellers: two of each strategy that markets or listens, two inert."""
    return {"inert": 2, "broadcast": 2, "listen": 2, "sponsor": 2, "cocreate": 2}


@dataclass
class SellersConfig:
    """The seller population: the strategy mix (the levers) and seller economics."""

    mix: dict[str, int] = setting(  # noqa: RUF009 (a field with a default factory)
        default_mix, "initial sellers by strategy (a mix given replaces the default one "
                      "entirely)", unit="sellers", low=0, high=1000, choices="strategies")
    marketing: dict[str, str] = setting(  # noqa: RUF009 (a field with a default factory)
        dict, "marketing lever of a strategy, replacing its preset's", choices="strategies",
        values="marketing")
    sensing: dict[str, str] = setting(  # noqa: RUF009 (a field with a default factory)
        dict, "sensing method of a strategy, replacing its preset's", choices="strategies",
        values="sensing")
    price: int = setting(1000, "price of every seller", unit="cents", low=1, high=10**9,
                         symbol="p")
    initial_cash_per_buyer: int = setting(200, "initial cash = this × buyers", unit="cents",
                                          low=0, high=10**9)
    fixed_cost_per_buyer: int = setting(260, "fixed cost in a year = this × buyers",
                                        unit="cents per year", low=0, high=10**9, per="cost")
    adapt_rate: float = rate(11.6, "rate at which the offering closes the gap to what the seller "
                                   "sensed", "μ")
    adapt_cost_per_buyer: int = setting(20, "adaptation cost = this × buyers × distance moved",
                                        unit="cents", low=0, high=10**9, symbol="k_A")
    sense_delay: int = setting(8, "delay of sales-based sensing", unit="weeks", low=0,
                               high=10**5, symbol="L", per="duration")
    sense_noise: float = setting(0.05, "s.d. of sales-based sensing noise", low=0.0, high=10.0,
                                 symbol="σ_S")
    listen_noise: float = setting(0.02, "s.d. of conversation-based sensing noise", low=0.0,
                                  high=10.0, symbol="σ_L")
    marketing_budget: float = rate(5.48, "rate at which a seller may spend its cash on "
                                         "marketing (each step: 1 − exp(−m/n) of its cash)", "m")
    ad_cost: int = setting(20, "cost per buyer reached by an ad", unit="cents", low=0,
                           high=10**9)
    ad_overclaim: float = setting(0.1, "what an ad adds to the fit the seller believes it has",
                                  low=-1.0, high=1.0, symbol="o_ad")
    sponsor_overclaim: float = setting(0.2, "what a sponsored post adds to the fit the sponsor "
                                            "believes it has", low=-1.0, high=1.0,
                                       symbol="o_sp")
    sponsor_k: int = setting(3, "buyers with an audience contracted per sponsoring seller",
                             unit="buyers", low=0, high=10**6, symbol="k_sp")
    sponsor_fee: int = setting(104000, "fee per contracted buyer in a year",
                               unit="cents per year", low=0, high=10**12, per="cost")
    campaign_period: int = setting(20, "time between sponsorship renewals and seeding rounds",
                                   unit="weeks", low=1, high=10**7, symbol="P", per="duration")
    targeting: str = setting("score", "how sponsors and seeders choose buyers (sponsors among "
                                      "those with an audience, seeders among all)",
                             choices="targeting")
    seed_k: int = setting(30, "free trials per seeding seller and round", unit="buyers", low=0,
                          high=10**6, symbol="k_seed")
    trial_cost: int = setting(500, "cost of a free trial", unit="cents", low=0, high=10**9)
    disclose_sponsorship: bool = setting(False, "sponsored posts are disclosed")
    disclosure_discount: float = prob(0.5, "weight factor of a disclosed sponsored post", "ζ")
    cocreate_reward: int = setting(5, "points a co-creating seller gives each customer who gives "
                                      "it feedback", unit="points", low=0, high=10**6)
    entry_rate: float = rate(1.05, "entries in a year (while slots are left)", "λ_entry")
    max_entrants: int = setting(10, "maximum entries over the run", unit="sellers", low=0,
                                high=1000)
    entry_lead: float = setting(0.2, "how far ahead of the frontier entrants are placed",
                                low=0.0, high=10.0, symbol="ℓ")
    entry_strategy: str = setting("listen", "strategy of entrants", choices="strategies")


@dataclass
class CurrencyConfig:
    """The social-currency economy, in integer points."""

    advice_reward: int = setting(10, "points minted for an advisor when an advised purchase "
                                     "satisfies", unit="points", low=0, high=10**6)
    thank_you: int = setting(1, "points an asker transfers to each contact that introduced a "
                                "seller", unit="points", low=0, high=10**6)
    decay: float = rate(1.05, "rate at which balances are burned (each step 1 − exp(−d/n) of a "
                              "balance, rounded up)", "d_c")
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
    cashout: bool = setting(True, "balances above a threshold are cashed out into buyers' "
                                  "wallets, spent on later purchases (phase 8)")
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


# A year of 52 weeks: durations are set in weeks, and weekly steps count them exactly.
WEEKS_PER_YEAR = 52


@dataclass
class TimeConfig:
    """The length of a step: rates are set per year and durations in weeks, and each converts."""

    steps_per_year: float = setting(52.0, "steps in a year (52: a step is a week; 12: a month)",
                                    unit="steps per year", low=1.0, high=365.0 * 24,
                                    symbol="n_y")


@dataclass
class SpheresConfig:
    """One simulation: sizes, engine, seed and the parts above."""

    seed: int = setting(0, "seed of the model's random generator", low=0, high=2**63 - 1)
    engine: str = setting("vector", "engine: the same results, by arrays or per agent",
                          choices="engines")
    steps: int = setting(200, "number of steps (time.steps_per_year of them make a year)",
                         unit="steps", low=1, high=10**7, symbol="T")
    n_buyers: int = setting(3000, "number of buyers", unit="buyers", low=2, high=2**31 - 1,
                            symbol="N")
    time: TimeConfig = field(default_factory=TimeConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    market: MarketConfig = field(default_factory=MarketConfig)
    sellers: SellersConfig = field(default_factory=SellersConfig)
    currency: CurrencyConfig = field(default_factory=CurrencyConfig)
    mechanisms: MechanismsConfig = field(default_factory=MechanismsConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


def mark_validated(config: SpheresConfig) -> None:
    """Record that ``config``, as it is now, passed validation."""
    object.__setattr__(config, "_validated", repr(config))


def is_validated(config: SpheresConfig) -> bool:
    """Whether ``config`` passed validation and has not changed since."""
    return getattr(config, "_validated", None) == repr(config)
