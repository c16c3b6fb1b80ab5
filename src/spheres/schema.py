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
                        choices="network kinds", source='a choice')
    mean_degree: float = setting(10.0, "target mean degree of the buyer graph", low=0.0,
                                 low_open=True, high=1e6, symbol="⟨k⟩",
                                 source='assumption', tries=(4, 40))
    rewire: float = prob(0.1, "Watts–Strogatz rewiring probability", source='assumption')
    blocks: int = setting(4, "number of communities of the stochastic block model", low=1,
                          high=2**31 - 1, source='assumption', tries=(2, 20))
    mixing: float = prob(0.05, "stochastic block model: share of edges between communities",
                         source='assumption')
    path: str | None = setting(None, "edge-list file, for kind=edgelist (relative paths are read "
                                     "from the directory the command was started in)",
                               source='a choice')
    influencer_share: float = prob(0.01, "share of buyers made influencers at set-up",
                                   source='assumption', tries=(0.001, 0.05))
    influencer_selection: str = setting("degree", "how initial influencers are chosen",
                                        choices="selections", source='a choice')
    followers_per_influencer: int = setting(100, "followers of each initial influencer",
                                            unit="buyers", low=0, high=10**6,
                                            source='assumption', tries=(10, 1000))


@dataclass
class MarketConfig:
    """Market conditions: what the world does, outside any seller's control."""

    dims: int = setting(2, "dimensions of the expectation space", low=1, high=16, symbol="D",
                        source='assumption', tries=(1, 4))
    frontier_speed: float = setting(0.52, "distance the frontier moves along its direction in a "
                                          "year", unit="per year", low=0.0, high=52.0, symbol="v",
                                    per="speed", source='assumption', tries=(0, 2))
    frontier_noise: float = setting(0.0144, "s.d. of the frontier's random move over a year "
                                            "(a random walk: the s.d. of a step is this / √n)",
                                    unit="per √year", low=0.0, high=7.0, symbol="σ_F",
                                    per="spread", source='assumption')
    taste_spread: float = setting(0.3, "s.d. of tastes and initial offerings", low=0.0,
                                  high=10.0, symbol="σ_θ", source='assumption', tries=(0.1, 0.6))
    drift_rate: float = rate(5.48, "mean rate at which expectations follow frontier + taste",
                             "ρ", source='assumption', tries=(1, 20))
    drift_spread: float = setting(1.0, "s.d. of the log of buyers' own drift rates (0: all "
                                       "follow at ρ)", low=0.0, high=5.0, symbol="σ_ρ",
                                  source='assumption', tries=(0, 2))
    peer_pull: float = prob(0.2, "pull of expectations toward the most advanced contact's "
                                 "known frontier", "π", source='assumption', tries=(0, 0.5))
    initial_awareness: float = prob(0.05, "probability a buyer knows a seller at start or entry",
                                    "a_0",
                                    source=("assumption: a new brand known to 1 buyer in 20; "
                                            "at 0.1 influencers' first posts make reach jump "
                                            "(fitted Bass p about 0.15 a year, not 0.03 "
                                            "[SFL1990])"),
                                    tries=(0, 0.3))
    max_known: int = setting(0, "most sellers a buyer holds in mind, forgetting the one it "
                                "ranks lowest to learn another (0: no limit)", unit="sellers",
                             low=0, high=1000, symbol="M", source='a choice (0: no limit)')
    need_rate: float = setting(5.48, "mean number of needs a buyer has in a year: each step "
                                     "a Poisson count, each need a unit bought and "
                                     "`contacts` contacts asked", unit="per year", low=0.0,
                               high=365.0, symbol="λ_n", per="count", source='assumption',
                               tries=(1, 52))
    need_shape: float = setting(
        0.6, "gamma shape of buyers' need-rate multipliers (mean 1), as in the NBD model of "
             "purchase frequency: the lower, the more purchases come from heavy buyers "
             "(published: the top 20% of buyers make about 50–73% of purchases); 0: all buyers "
             "alike", low=0.0, high=1000.0, symbol="k_n",
        source=("NBD [Ehrenberg1959]; set so the top 20% of buyers make about 60% of purchases "
                "[SR2007], mean 73% [KSW2017]"),
        tries=(0.3, 2.0))
    contacts: int = setting(3, "contacts a buyer asks per need", unit="buyers", low=1,
                            high=100, symbol="K",
                            source=("assumption; 56 brand mentions a week per person "
                                    "[KellerFay2006]"),
                            tries=(1, 10))
    p_word_of_mouth: float = prob(0.04, "probability a contact makes the buyer aware of a seller "
                                        "it knows", "p_w",
                                  source=("Bass mean q 0.38 a year [SFL1990]: 0.023 with buyers "
                                          "alike (λ_n K p_w = q); 0.04 with need rates spread "
                                          "(most needs come from heavy buyers), fitted median "
                                          "q 0.32"),
                                  tries=(0.02, 0.1))
    peer_weight: float = prob(0.5, "weight of a contact's belief (× trust × reputation)", "ω_P",
                              source='assumption', tries=(0.1, 1))
    belief_prior: float = prob(0.5, "initial belief about every seller", "b_0", source='assumption')
    fit_width: float = setting(0.35, "width of the Gaussian fit", low=0.0, low_open=True,
                               high=100.0, symbol="w", source='assumption')
    choice_beta: float = setting(8.0, "logit sensitivity of the purchase choice", low=0.0,
                                 high=1000.0, symbol="β", source='assumption', tries=(2, 20))
    price_weight: float = setting(0.3, "weight of price in utility", low=0.0, high=100.0,
                                  symbol="λ", source='assumption', tries=(0, 1))
    reference_price: int = setting(1000, "price scale of utility", unit="cents", low=1,
                                   high=10**9, symbol="p̄", source='assumption (the price scale)')
    outside_option: float = setting(0.35, "utility of not buying (before β)", low=0.0,
                                    high=100.0, symbol="u_0", source='assumption', tries=(0, 0.6))
    experience_noise: float = setting(0.05, "s.d. of experienced fit noise", low=0.0, high=10.0,
                                      symbol="σ_x", source='assumption', tries=(0, 0.2))
    learning_rate: float = prob(0.5, "belief update toward the experienced fit", "α",
                                source='assumption', tries=(0.1, 0.9))
    satisfaction: float = prob(0.5, "experienced fit at or above which a buyer is satisfied",
                               "ψ", source='assumption', tries=(0.3, 0.7))
    trust_peers: float = prob(0.6, "initial trust in peers", "τ0_peer",
                              source=("'a person like yourself' credible to 60% [Edelman2017]; "
                                      "friends and family trusted by 83% [Nielsen2015]"),
                              tries=(0.5, 0.83))
    trust_influencers: float = prob(0.5, "initial trust in influencers", "τ0_infl",
                                    source=("assumption, between sellers and peers; online "
                                            "consumer opinions trusted by 66% [Nielsen2015]"),
                                    tries=(0.35, 0.66))
    trust_sellers: float = prob(0.4, "initial trust in sellers", "τ0_sell",
                                source=("CEOs credible to 37% [Edelman2017]; TV ads trusted by "
                                        "63%, branded websites by 70% [Nielsen2015]"),
                                tries=(0.35, 0.7))
    trust_rate: float = prob(1.0, "learning rate of trust: an experience moves trust τ in the "
                                  "kind of source whose claim it answers by γ τ(1−τ)(felt − "
                                  "claim), up or down alike; the logistic factor τ(1−τ) keeps "
                                  "trust in (0, 1)", "γ", source='assumption', tries=(0.2, 1))
    post_rate: float = setting(36.0, "posts an influencer (or a sponsored buyer) makes in a "
                                     "year: each step a Poisson count", unit="per year",
                               low=0.0, high=3650.0, symbol="λ_post", per="count",
                            source="assumption; influencers post about 2 a week [LaterFohr2019]",
                            tries=(26, 365))
    post_reach: float = prob(0.3, "probability a follower edge reads a post", "r",
                             source="assumption; organic reach of a page's post 2-12% [Ogilvy2014]",
                             tries=(0.02, 0.4))
    influencer_weight: float = prob(0.5, "weight of a post (× credibility × trust)", "ω_I",
                                    source='assumption', tries=(0.1, 1))
    credibility_rate: float = prob(0.02, "credibility update per advised purchase", "γ_κ",
                                   source='assumption')
    ad_rate: float = rate(0.03, "times in a year an advertiser reaches a buyer (while it can "
                                "pay)", "λ_ad",
                          source='Bass mean p 0.03 a year [SFL1990]', tries=(0.01, 1))
    ad_weight: float = prob(0.3, "weight of an ad (× trust in sellers)", "ω_A",
                            source='assumption', tries=(0.05, 0.6))
    spam_threshold: float = prob(0.5, "an ad's fit for its reader at which it is neither spam "
                                      "nor welcome", "φ_spam",
                                 source='assumption: the satisfaction level (market.satisfaction)',
                                 tries=(0.3, 0.7))
    spam_rate: float = prob(0.05, "learning rate of trust in sellers from ads: each moves it by "
                                  "ε τ(1−τ)(fit − φ_spam)", "ε",
                            source='assumption', tries=(0, 0.2))
    p_feedback: float = prob(0.3, "probability a customer gives the seller feedback", "p_f",
                             source='assumption', tries=(0.05, 0.5))
    p_exposure: float = prob(0.07, "probability a follower recognises an undisclosed sponsored "
                                   "post it reads as advertising, per read (0.07: 7% recognised "
                                   "native advertising as advertising, Wojdynski & Evans 2016, "
                                   "Journal of Advertising 45(2), study 1)", "p_x",
                             source=("7% recognised a native ad as advertising, 17% when looking "
                                     "[WE2016]; under 1 in 10 [AW2018]"),
                             tries=(0.07, 0.17))
    exposure_penalty: float = prob(0.1, "multiplicative loss of trust in influencers when found "
                                        "out", "ε_x", source='assumption', tries=(0, 0.3))
    credibility_loss: float = prob(0.02, "credibility an influencer loses each time it is found "
                                         "out", "κ_x", source='assumption', tries=(0, 0.1))
    audience_growth: float = setting(0.26, "new follow attempts in a year, as a share of buyers",
                                     unit="per year", low=0.0, high=52.0, symbol="g",
                                     per="speed", source='assumption', tries=(0, 1))
    follow_by: str = setting("reach", "whom new followers follow, in proportion to: reach "
                                      "(followers plus balance: preferential attachment, "
                                      "Barabási & Albert 1999), advice (satisfying advice "
                                      "given) or random (every buyer alike)",
                             choices="follow_by",
                             source=("reach: preferential attachment [BA1999]; the others are "
                                     "alternatives to compare"))
    promote_at: int = setting(8, "followers at which a buyer becomes an influencer",
                              unit="buyers", low=1, high=10**9, symbol="ν*",
                              source='assumption', tries=(4, 50))
    reputation_cap: float = setting(5.0, "cap of the reputation multiplier", low=1.0,
                                    high=1000.0, symbol="R_max", source='assumption')
    network_value_decay: float = prob(0.5, "weight per level of network value", "δ",
                                      source='assumption', tries=(0.25, 0.75))
    knowledge_share: float = prob(0.5, "reach share at which a seller counts as known "
                                        "(knowledge time)", source='a definition, not a parameter')


def default_mix() -> dict[str, int]:
    """The default initial sellers: two of each strategy that markets or listens, two inert."""
    return {"inert": 2, "broadcast": 2, "listen": 2, "sponsor": 2, "cocreate": 2}


@dataclass
class SellersConfig:
    """The seller population: the strategy mix (the levers) and seller economics."""

    mix: dict[str, int] = setting(  # noqa: RUF009 (a field with a default factory)
        default_mix, "initial sellers by strategy (a mix given replaces the default one "
                      "entirely)", unit="sellers", low=0, high=1000, choices="strategies",
        source='a choice')
    marketing: dict[str, str] = setting(  # noqa: RUF009 (a field with a default factory)
        dict, "marketing lever of a strategy, replacing its preset's", choices="strategies",
        values="marketing", source='a choice')
    sensing: dict[str, str] = setting(  # noqa: RUF009 (a field with a default factory)
        dict, "sensing method of a strategy, replacing its preset's", choices="strategies",
        values="sensing", source='a choice')
    price: int = setting(1000, "price of every seller", unit="cents", low=1, high=10**9,
                         symbol="p", source='assumption (the unit of money)')
    initial_cash_per_buyer: int = setting(1000, "initial cash = this × buyers", unit="cents",
                                          low=0, high=10**9,
                                          source=("assumption: 200 weeks of fixed costs, time to "
                                                  "become known at Bass speeds [SFL1990]"),
                                          tries=(200, 2000))
    fixed_cost_per_buyer: int = setting(260, "fixed cost in a year = this × buyers",
                                        unit="cents per year", low=0, high=10**9, per="cost",
                                        source='assumption', tries=(100, 520))
    adapt_rate: float = rate(11.6, "rate at which the offering closes the gap to what the seller "
                                   "sensed", "μ", source='assumption', tries=(2, 52))
    adapt_cost_per_buyer: int = setting(20, "adaptation cost = this × buyers × distance moved",
                                        unit="cents", low=0, high=10**9, symbol="k_A",
                                        source='assumption', tries=(0, 100))
    sense_delay: int = setting(8, "delay of sales-based sensing", unit="weeks", low=0,
                               high=10**5, symbol="L", per="duration",
                               source='assumption', tries=(1, 26))
    sense_noise: float = setting(0.05, "s.d. of sales-based sensing noise", low=0.0, high=10.0,
                                 symbol="σ_S", source='assumption', tries=(0, 0.2))
    listen_noise: float = setting(0.02, "s.d. of conversation-based sensing noise", low=0.0,
                                  high=10.0, symbol="σ_L", source='assumption', tries=(0, 0.2))
    marketing_budget: float = rate(5.48, "rate at which a seller may spend its cash on "
                                         "marketing (each step: 1 − exp(−m/n) of its cash)", "m",
                                   source='assumption', tries=(1, 20))
    ad_cost: int = setting(20, "cost per buyer reached by an ad", unit="cents", low=0,
                           high=10**9, source='assumption', tries=(5, 1000))
    ad_overclaim: float = setting(0.1, "what an ad adds to the fit the seller believes it has",
                                  low=-1.0, high=1.0, symbol="o_ad",
                                  source='assumption', tries=(-0.2, 0.3))
    sponsor_overclaim: float = setting(0.2, "what a sponsored post adds to the fit the sponsor "
                                            "believes it has", low=-1.0, high=1.0,
                                       symbol="o_sp", source='assumption', tries=(-0.2, 0.3))
    sponsor_k: int = setting(3, "buyers with an audience contracted per sponsoring seller",
                             unit="buyers", low=0, high=10**6, symbol="k_sp",
                             source='assumption', tries=(1, 10))
    sponsor_fee: int = setting(104000, "fee per contracted buyer in a year",
                               unit="cents per year", low=0, high=10**12, per="cost",
                               source='assumption', tries=(10000, 500000))
    campaign_period: int = setting(20, "time between sponsorship renewals and seeding rounds",
                                   unit="weeks", low=1, high=10**7, symbol="P", per="duration",
                                   source='assumption', tries=(4, 52))
    targeting: str = setting("score", "how sponsors and seeders choose buyers (sponsors among "
                                      "those with an audience, seeders among all)",
                             choices="targeting", source='a choice')
    seed_k: int = setting(30, "free trials per seeding seller and round", unit="buyers", low=0,
                          high=10**6, symbol="k_seed", source='assumption', tries=(5, 100))
    trial_cost: int = setting(500, "cost of a free trial", unit="cents", low=0, high=10**9,
                              source='assumption', tries=(0, 1000))
    disclose_sponsorship: bool = setting(False, "sponsored posts are disclosed", source='a choice')
    disclosure_discount: float = prob(0.5, "weight factor of a disclosed sponsored post", "ζ",
                                      source='assumption', tries=(0.2, 1))
    cocreate_reward: int = setting(5, "points a co-creating seller gives each customer who gives "
                                      "it feedback", unit="points", low=0, high=10**6,
                                   source='assumption', tries=(1, 20))
    entry_rate: float = rate(1.05, "entries in a year (while slots are left)", "λ_entry",
                             source='assumption', tries=(0, 5))
    max_entrants: int = setting(10, "maximum entries over the run", unit="sellers", low=0,
                                high=1000, source='assumption')
    entry_lead: float = setting(0.2, "how far ahead of the frontier entrants are placed",
                                low=0.0, high=10.0, symbol="ℓ", source='assumption', tries=(0, 0.5))
    entry_strategy: str = setting("listen", "strategy of entrants", choices="strategies",
                                  source='a choice')


@dataclass
class CurrencyConfig:
    """The social-currency economy, in integer points."""

    advice_reward: int = setting(10, "points minted for an advisor per unit of an advised "
                                     "purchase that satisfies", unit="points", low=0, high=10**6,
                                 source='assumption', tries=(1, 50))
    thank_you: int = setting(1, "points an asker transfers to each contact that introduced a "
                                "seller", unit="points", low=0, high=10**6,
                             source='assumption', tries=(0, 5))
    decay: float = rate(1.05, "rate at which balances are burned (each step 1 − exp(−d/n) of a "
                              "balance, rounded up with the chance of its fraction)", "d_c",
                        source='assumption', tries=(0, 5))
    cents_per_point: int = setting(10, "cents per point, for every conversion", unit="cents",
                                   low=1, high=10**6, symbol="χ",
                                   source='assumption (the unit of points)')
    cashout_threshold: int = setting(200, "balance at or above which a buyer cashes out",
                                     unit="points", low=0, high=10**12, symbol="H",
                                     source='assumption', tries=(50, 1000))
    cashout_rate: float = rate(36.0, "rate at which a balance at or above the threshold is "
                                     "cashed out (each step 1 − exp(−h/n) of it, rounded "
                                     "down)", "h", source='assumption (half a week)',
                               tries=(5, 365))
    follower_share: int = setting(2, "points a sponsored influencer passes to a follower who buys "
                                     "the sponsor on its post", unit="points", low=0,
                                  high=10**6, source='assumption', tries=(0, 10))
    perk_threshold: int = setting(20, "balance at or above which a buyer spends points on a "
                                      "purchase", unit="points", low=0, high=10**12,
                                  source='assumption', tries=(5, 100))
    perk_share: float = prob(0.2, "most of a price a buyer may pay in points (a discount the "
                                  "seller honours)", "q", source='assumption', tries=(0, 0.5))


@dataclass
class MechanismsConfig:
    """Switches: each mechanism can be turned off so that the others can be studied alone."""

    drift: bool = setting(True, "the frontier moves and expectations follow it (phase 1)",
                          source='a choice')
    peer_pull: bool = setting(True, "expectations move toward more advanced contacts' (phase 3)",
                              source='a choice')
    influencers: bool = setting(True, "influencers and sponsored buyers post to their "
                                      "followers (phase 4)", source='a choice')
    audience_growth: bool = setting(True, "new followers attach by market.follow_by; "
                                          "promotions (phase 8)", source='a choice')
    advertising: bool = setting(True, "the advertise lever's ads (phase 5)", source='a choice')
    seeding: bool = setting(True, "the seed lever's free trials (phase 5)", source='a choice')
    sponsorship: bool = setting(True, "the sponsor lever's contracts, payments and sponsored "
                                      "posts (phases 4, 8)", source='a choice')
    cocreation: bool = setting(True, "the cocreate lever's rewards for feedback (phase 8)",
                               source='a choice')
    advice_reward: bool = setting(True, "currency minted for advice that helped (phase 7)",
                                  source='a choice')
    thank_you: bool = setting(True, "askers pay thank-yous to contacts that helped (phase 3)",
                              source='a choice')
    follower_share: bool = setting(True, "sponsored influencers share with followers who buy "
                                         "(phase 8)", source='a choice')
    perks: bool = setting(True, "buyers pay part of a price in points (phase 6)", source='a choice')
    cashout: bool = setting(True, "balances above a threshold are cashed out into buyers' "
                                  "wallets, spent on later purchases (phase 8)",
                            source='a choice')
    decay: bool = setting(True, "balances fade: currency burned (phase 8)", source='a choice')
    reputation: bool = setting(True, "advice weighted by the adviser's balance (phase 3)",
                               source='a choice')
    trust: bool = setting(True, "trust moves with the gap between experience and claim "
                                "(phase 7)", source='a choice')
    spam: bool = setting(True, "ads move trust in sellers with their fit for the reader "
                               "(phase 5)", source='a choice')
    exposure: bool = setting(True, "undisclosed sponsored posts can be found out (phase 4)",
                             source='a choice')
    adaptation: bool = setting(True, "sellers sense and adapt their offering (phase 9)",
                               source='a choice')
    exit: bool = setting(True, "sellers with negative cash leave (phase 9)", source='a choice')
    entry: bool = setting(True, "new sellers may enter (phase 9)", source='a choice')


@dataclass
class OutputConfig:
    """What a run writes and shows besides the tables that are always written."""

    dashboard: bool = setting(True, "write dashboard.png", source='a choice')
    progress: bool = setting(True, "show progress: a bar on a terminal, log lines otherwise",
                             source='a choice')
    progress_every: float = setting(30.0, "seconds between progress lines when stderr is not a "
                                          "terminal", unit="seconds", low=0.1, high=86400.0,
                                    source='a choice')
    ledger_entries: bool = setting(False, "write every ledger entry (ledger.parquet)",
                                   source='a choice')
    top: int = setting(5, "agents listed in the summary's top lists", unit="agents", low=1,
                       high=1000, source='a choice')


# A year of 52 weeks: durations are set in weeks, and weekly steps count them exactly.
WEEKS_PER_YEAR = 52


@dataclass
class TimeConfig:
    """The length of a step: rates are set per year and durations in weeks, and each converts."""

    steps_per_year: float = setting(52.0, "steps in a year (52: a step is a week; 12: a month)",
                                    unit="steps per year", low=1.0, high=365.0 * 24,
                                    symbol="n_y",
                                    source='the unit of a step, not a parameter', tries=(12, 365))


@dataclass
class SpheresConfig:
    """One simulation: sizes, engine, seed and the parts above."""

    seed: int = setting(0, "seed of the model's random generator", low=0, high=2**63 - 1,
                        source='a choice')
    engine: str = setting("vector", "engine: the same results, by arrays or per agent",
                          choices="engines", source='a choice')
    steps: int = setting(624, "number of steps (time.steps_per_year of them make a year)",
                         unit="steps", low=1, high=10**7, symbol="T",
                         source=("a choice: 12 years at weekly steps, about twice the Bass peak "
                                 "ln(q/p)/(p+q) = 6.2 years at p 0.03, q 0.38 [SFL1990]"))
    n_buyers: int = setting(3000, "number of buyers", unit="buyers", low=2, high=2**31 - 1,
                            symbol="N", source='a choice')
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
