"""Seller strategies: how a seller gets known and how it senses expectations, and presets.

Marketing levers and sensing methods are one small class each, combined into named presets; the
levers' actions of a step (:func:`trials`, :func:`settle`) ask them what to do.

A :class:`Strategy` is one seller's combination of a :class:`Marketing` lever, a :class:`Sensing`
method and the overclaim its claims add. The presets (``inert``, ``broadcast``, ``listen``,
``sponsor``, ``cocreate``, ``lagging``, ``seed``) name common combinations; the sensing of any
preset can be changed by configuration (``sellers.sensing.<preset>=<method>``), and so can its
marketing (``sellers.marketing.<preset>=<lever>``), so that one part can be compared with the
other held equal. A new lever or method is one small class registered
with :func:`marketing` or :func:`sensing`; a new preset is one :class:`Preset` registered with
:func:`preset`.

Marketing levers (each limited by the seller's marketing budget, a share of its cash):

- ``nothing``: known only through word of mouth, posts and initial awareness;
- ``advertise``: reaches each buyer with probability ``ad_rate`` (less when the budget is short),
  claiming its believed fit plus ``ad_overclaim`` (phase 5);
- ``sponsor``: contracts influencers with an audience, paying them in social currency; their
  posts claim the sponsor's believed fit plus ``sponsor_overclaim`` (phases 4 and 8);
- ``cocreate``: rewards in currency each customer who gives it feedback (phase 8);
- ``seed``: free trials (awareness and one experience) to ``seed_k`` chosen buyers every
  ``campaign_period`` steps (phase 5).

Sensing methods (phase 9): where a seller believes expectations are, and the fit it believes it
has, which its claims start from:

- ``never``: never senses, never adapts (the frog);
- ``lagging_sales``: its customers' mean expectation and experienced fit, booked ``sense_delay``
  steps ago, plus noise ``sense_noise``;
- ``conversations``: what this step's talking buyers say now about the seller that is their
  favourite (the known one they rate best): their mean expectation and mean belief about it,
  plus noise ``listen_noise``; a seller hears its own niche, so listeners stay apart;
- ``customers``: the expectations and experienced fit of this step's customers who gave it
  feedback (``p_feedback``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from spheres.model import draws as dr
from spheres.model import rules
from spheres.model.market import Market
from spheres.model.sellers import TARGETING, campaign_step, spend, top_k
from spheres.model.state import INFLUENCER_SRC

if TYPE_CHECKING:
    from spheres.schema import SpheresConfig


# -- sensing ------------------------------------------------------------------------------------
@dataclass
class Sensed:
    """What sellers sensed this step: the mean expectation, the evidence count and the mean fit.

    One row per seller; ``count == 0`` where nothing was sensed.
    """

    target: np.ndarray
    count: np.ndarray
    fit: np.ndarray


class Sensing:
    """A way of learning where expectations are. ``never`` senses nothing."""

    name: ClassVar[str] = "never"
    noise_setting: ClassVar[str] = ""  # the ``sellers`` setting of its noise; none: no noise

    def noise(self, cfg: SpheresConfig) -> float:
        """Standard deviation of the noise on the sensed expectation."""
        return getattr(cfg.sellers, self.noise_setting) if self.noise_setting else 0.0

    def sense(self, model: Market, rows: np.ndarray) -> Sensed:
        """Sums of the evidence for sellers ``rows``, already divided into means."""
        d = model.dims
        return Sensed(np.zeros((rows.size, d)), np.zeros(rows.size), np.zeros(rows.size))


SENSING: dict[str, type[Sensing]] = {}
MARKETING: dict[str, type[Marketing]] = {}
STRATEGIES: dict[str, type[Preset]] = {}


def _registrar[T](registry: dict[str, type[T]]) -> Callable[[type[T]], type[T]]:
    def register(cls: type[T]) -> type[T]:
        name = cls.name  # type: ignore[attr-defined]
        if not name:
            raise ValueError(f"{cls.__name__} needs a name")
        registry[name] = cls
        return cls
    return register


sensing = _registrar(SENSING)


def _means(sums: np.ndarray, count: np.ndarray, fit_sums: np.ndarray) -> Sensed:
    """Sums of expectations and of fits over ``count`` buyers per seller, as means (0 if none)."""
    n = np.maximum(count, 1)
    target = np.where(count[:, None] > 0, sums / n[:, None], 0.0)
    return Sensed(target, count, np.where(count > 0, fit_sums / n, 0.0))


sensing(Sensing)


@sensing
class LaggingSales(Sensing):
    """The customers booked ``sense_delay`` steps ago: a lagging measure."""

    name = "lagging_sales"
    noise_setting = "sense_noise"

    def sense(self, model: Market, rows: np.ndarray) -> Sensed:
        """Mean expectation and experienced fit of the customers of ``sense_delay`` steps ago."""
        m, delay = model.sellers_state, model.cfg.sellers.sense_delay
        late = model.steps - delay
        if late < 1:
            return super().sense(model, rows)
        slot = late % (delay + 1)
        n = m.hist_n[slot, rows].astype(float)
        return _means(m.hist_sum[slot, rows], n, m.hist_fit[slot, rows])


@sensing
class Conversations(Sensing):
    """Real-time listening: this step's talking buyers whose favourite the seller is."""

    name = "conversations"
    noise_setting = "listen_noise"

    def sense(self, model: Market, rows: np.ndarray) -> Sensed:
        """Mean expectation and mean belief of the talkers whose favourite it is."""
        m = model.sellers_state
        n = m.talk_n[rows].astype(float)
        return _means(m.talk_sum[rows], n, m.talk_w[rows])


@sensing
class Customers(Sensing):
    """This step's own customers who gave feedback."""

    name = "customers"

    def sense(self, model: Market, rows: np.ndarray) -> Sensed:
        """Mean expectation and experienced fit of this step's customers who gave feedback."""
        m = model.sellers_state
        n = m.feedback_n[rows].astype(float)
        return _means(m.feedback_sum[rows], n, m.feedback_fit[rows])


# -- marketing ----------------------------------------------------------------------------------
class Marketing:
    """A way of getting known; the base class does nothing (``nothing``).

    A lever acts through three hooks, each called for the alive sellers that use it (rows in
    ascending order) and each spending from the sellers' budgets: ``reach`` (phase 5: the
    probability per buyer that an ad reaches it), ``trials`` (phase 5: free trials given) and
    ``settle`` (phase 8: payments in social currency). ``overclaim`` is what its claims add.
    """

    name: ClassVar[str] = "nothing"
    overclaim_setting: ClassVar[str] = ""  # the ``sellers`` setting of its overclaim; none: 0

    def overclaim(self, cfg: SpheresConfig) -> float:
        """What the lever's claims add to the fit the seller believes it has."""
        return getattr(cfg.sellers, self.overclaim_setting) if self.overclaim_setting else 0.0

    def reach(self, model: Market, row: int) -> float:
        """Probability that an ad of seller ``row`` reaches a given buyer this step."""
        return 0.0

    def trials(self, model: Market, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Free trials sellers ``rows`` give this step: (seller, buyers) pairs."""
        return []

    def settle(self, model: Market, rows: np.ndarray) -> None:
        """Phase-8 payments of sellers ``rows``."""


marketing = _registrar(MARKETING)
marketing(Marketing)


@marketing
class Advertise(Marketing):
    """Ads reach each buyer with probability ``ad_rate``, as far as the budget pays."""

    name = "advertise"
    overclaim_setting = "ad_overclaim"

    def reach(self, model: Market, row: int) -> float:
        """``ad_rate``, lowered so that the expected cost fits the seller's budget."""
        cfg = model.cfg
        if not cfg.mechanisms.advertising:
            return 0.0
        cost = cfg.sellers.ad_cost * model.n_buyers
        budget = int(model.sellers_state.budget[row])
        return rules.affordable_rate(cfg.market.ad_rate, budget, cost)


@marketing
class Sponsor(Marketing):
    """Pays influencers with an audience to post about it; they share with followers who buy."""

    name = "sponsor"
    overclaim_setting = "sponsor_overclaim"

    def settle(self, model: Market, rows: np.ndarray) -> None:
        """Contract influencers, pay them, and let them share with followers who bought.

        On campaign steps the sponsors, in a random order drawn for the round, each contract up
        to ``sponsor_k`` buyers with an audience not yet taken, by the targeting rule (equal
        keys in a random order); every step each pays its contracted influencers the fee in
        points, in the order it ranked them, as far as its budget pays (the unpaid, ranked
        lowest, leave the contract); then influencers share with followers who bought their
        sponsor.
        """
        cfg, b = model.cfg, model.buyers_state
        s, cpp = cfg.sellers, cfg.currency.cents_per_point
        pts = s.sponsor_fee // cpp
        if not cfg.mechanisms.sponsorship or pts <= 0 or s.sponsor_k == 0:
            return
        if campaign_step(model):
            b.sponsor_of[:] = -1
            model.contracts = {}
            free = b.n_followers > 0
            key = TARGETING[s.targeting](model)
            tie = dr.tie_keys(model, "sponsor_targets", np.arange(model.n_buyers))
            turns = rows[np.argsort(dr.tie_keys(model, "sponsor_turns", rows), kind="stable")]
            for seller in turns:
                chosen = top_k(key, tie, np.flatnonzero(free), s.sponsor_k)
                free[chosen] = False
                b.sponsor_of[chosen] = seller
                model.contracts[int(seller)] = chosen
        for seller in rows:
            chosen = model.contracts.get(int(seller), np.zeros(0, dtype=np.int64))
            fee = rules.cents(pts, cpp)
            paid = rules.paid_prefix(chosen.size, int(model.sellers_state.budget[seller]), fee)
            if paid < chosen.size:
                b.sponsor_of[chosen[paid:]] = -1
                model.contracts[int(seller)] = chosen = chosen[:paid]
            if chosen.size:
                model.ledger.convert_in(np.full(chosen.size, seller), chosen, pts, "sponsorship")
                spend(model, int(seller), fee * chosen.size)
        self.share_with_followers(model)

    @staticmethod
    def share_with_followers(model: Market) -> None:
        """Sponsored influencers share points with the followers who bought on their posts.

        A sponsored influencer passes ``follower_share`` points to each follower who bought its
        sponsor this step on its post, as far as its balance covers (followers in a random
        order).
        """
        cfg, b = model.cfg, model.buyers_state
        amount = cfg.currency.follower_share
        if not cfg.mechanisms.follower_share or amount <= 0:
            return
        rows, sellers = model.purchases
        cells = b.cells(rows, sellers)
        who = b.introducer.reshape(-1)[cells].astype(np.int64)
        by_post = (b.intro_kind.reshape(-1)[cells] == INFLUENCER_SRC) & (who >= 0)
        acted = by_post & (b.sponsor_of[np.maximum(who, 0)] == sellers)
        payers, takers = who[acted], rows[acted]
        order = np.argsort(dr.tie_keys(model, "follower_share", payers, takers), kind="stable")
        payers, takers = payers[order], takers[order]
        ok = rules.covered(payers, amount, b.currency)
        model.ledger.transfer(payers[ok], takers[ok], amount, "follower_share")


@marketing
class Cocreate(Marketing):
    """Rewards customers who give feedback, in social currency."""

    name = "cocreate"

    def settle(self, model: Market, rows: np.ndarray) -> None:
        """Reward this step's customers who gave feedback, as far as budgets pay.

        Each seller gives ``cocreate_reward`` points to each of them; when its budget pays
        fewer, to as many chosen at random.
        """
        cfg = model.cfg
        reward, cpp = cfg.sellers.cocreate_reward, cfg.currency.cents_per_point
        if not cfg.mechanisms.cocreation or reward <= 0:
            return
        buyers, sellers = model.purchases
        cost = rules.cents(reward, cpp)
        for seller in rows:
            contributors = buyers[(sellers == seller) & model.feedback]
            paid = rules.paid_prefix(contributors.size, int(model.sellers_state.budget[seller]),
                                     cost)
            if paid < contributors.size:
                contributors = dr.some_of(model, "cocreation_budget", contributors, paid,
                                          int(seller))
            if paid:
                model.ledger.convert_in(np.full(paid, seller), contributors[:paid], reward,
                                        "cocreation")
                spend(model, int(seller), cost * paid)


@marketing
class Seed(Marketing):
    """Gives free trials to chosen buyers."""

    name = "seed"

    def trials(self, model: Market, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Free trials of sellers ``rows``, on campaign steps.

        Each seller picks up to ``seed_k`` buyers not yet aware of it, by the targeting rule
        (equal keys in a random order), as far as its budget pays ``trial_cost`` each.
        """
        cfg, b = model.cfg, model.buyers_state
        if not (cfg.mechanisms.seeding and campaign_step(model)) or cfg.sellers.seed_k == 0:
            return []
        key = TARGETING[cfg.sellers.targeting](model)
        everyone = np.arange(model.n_buyers)
        out = []
        for s in rows:
            n = rules.paid_prefix(cfg.sellers.seed_k, int(model.sellers_state.budget[s]),
                                  cfg.sellers.trial_cost)
            tie = dr.tie_keys(model, "seed_targets", int(s), everyone)  # each seller its own
            chosen = top_k(key, tie, np.flatnonzero(~b.aware[:, s]), n)
            spend(model, int(s), cfg.sellers.trial_cost * chosen.size)
            out.append((int(s), chosen))
        return out


# -- strategies ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Strategy:
    """One seller's strategy: a marketing lever, a sensing method and an overclaim."""

    preset: str
    marketing: Marketing
    sensing: Sensing

    @property
    def name(self) -> str:
        """The preset's name."""
        return self.preset

    def overclaim(self, cfg: SpheresConfig) -> float:
        """What the seller's claims add to the fit it believes it has."""
        return self.marketing.overclaim(cfg)


class Preset:
    """A named combination of a marketing lever and a sensing method."""

    name: ClassVar[str] = ""
    marketing: ClassVar[str] = "nothing"
    sensing: ClassVar[str] = "never"
    doc: ClassVar[str] = ""


preset = _registrar(STRATEGIES)


def _preset(name: str, lever: str, method: str, doc: str) -> None:
    cls = type(name.title(), (Preset,), {"name": name, "marketing": lever, "sensing": method,
                                          "doc": doc})
    preset(cls)


_preset("inert", "nothing", "never", "no marketing, never senses: the frog")
_preset("broadcast", "advertise", "lagging_sales", "advertises; senses by lagging sales")
_preset("listen", "nothing", "conversations", "no marketing; listens to conversations")
_preset("sponsor", "sponsor", "lagging_sales", "sponsors influencers; senses by lagging sales")
_preset("cocreate", "cocreate", "customers", "rewards customers' feedback and adapts to it")
_preset("lagging", "nothing", "lagging_sales", "no marketing; senses by lagging sales")
_preset("seed", "seed", "lagging_sales", "gives free trials; senses by lagging sales")


def strategy_index(name: str) -> int:
    """Position of a preset in the registry (its integer code in the state arrays)."""
    return list(STRATEGIES).index(name)


def build_strategy(name: str, cfg: SpheresConfig) -> Strategy:
    """The strategy of a seller of preset ``name``.

    Its lever and sensing are those the config sets for the preset
    (``sellers.marketing.<name>``, ``sellers.sensing.<name>``), else the preset's own.
    """
    p = STRATEGIES[name]
    lever = cfg.sellers.marketing.get(name, p.marketing)
    method = cfg.sellers.sensing.get(name, p.sensing)
    return Strategy(name, MARKETING[lever](), SENSING[method]())


# -- the levers' actions of a step ----------------------------------------------------------------
@dataclass
class Trials:
    """Free trials of this step: the seller and the buyer of each, and one normal each."""

    sellers: np.ndarray
    buyers: np.ndarray
    noise: np.ndarray


def by_lever(model: Market) -> list[tuple[Marketing, np.ndarray]]:
    """The alive sellers grouped by marketing lever, with one lever object of each group.

    Groups come in the levers' registry order, rows ascending within a group.
    """
    groups: dict[str, list[int]] = {}
    for row in np.flatnonzero(model.sellers_state.alive):
        groups.setdefault(model.strategies[row].marketing.name, []).append(int(row))
    return [(model.strategies[groups[name][0]].marketing, np.array(groups[name]))
            for name in MARKETING if name in groups]


def trials(model: Market) -> Trials:
    """Phase 5: the free trials every lever gives this step, with one normal draw each."""
    given = [pair for lever, rows in by_lever(model) for pair in lever.trials(model, rows)]
    if not given:
        return Trials(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    sellers = np.concatenate([np.full(buyers.size, s) for s, buyers in given]).astype(np.int64)
    buyers = np.concatenate([buyers for _, buyers in given]).astype(np.int64)
    return Trials(sellers, buyers, model.rng.standard_normal(buyers.size))


def settle(model: Market) -> None:
    """Phase 8: each lever's payments in social currency, levers in registry order.

    Sponsorship and the shares it funds, co-creation rewards.
    """
    for lever, rows in by_lever(model):
        lever.settle(model, rows)
