"""The classroom market: which settings the page's sliders move, and the model it builds from them.

Each slider is named by its config setting (``market.ad_rate``, ``sellers.mix.listen``, ...), so a
value read on the page can be typed into ``spheres run`` or ``make_config`` as it is. The page
builds its model with :func:`spheres.make_config` and :class:`spheres.MarketModel`; nothing here
changes what the model does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spheres.config import ConfigError, SpheresConfig, make_config
from spheres.model.model import MarketModel
from spheres.model.strategies import STRATEGIES

CLASSROOM_BUYERS = 300  # small enough that a step and its redraw take well under a second


@dataclass(frozen=True)
class Slider:
    """A slider over one numeric setting: its range, step and what it means."""

    setting: str
    low: float
    high: float
    step: float
    meaning: str


def _sliders() -> tuple[Slider, ...]:
    main = [
        Slider("n_buyers", 50, 2000, 50, "buyers in the market (influencers included)"),
        Slider("network.influencer_share", 0.0, 0.1, 0.005,
               "share of buyers who start as influencers, with an audience of followers"),
    ]
    mix = [Slider(f"sellers.mix.{name}", 0, 5, 1,
                  f"{name} sellers at the start (marketing: {preset.marketing}; "
                  f"sensing: {preset.sensing})")
           for name, preset in STRATEGIES.items()]
    market = [
        Slider("market.frontier_speed", 0.0, 0.05, 0.0025,
               "drift speed: how far the frontier of expectations moves per step"),
        Slider("market.ad_rate", 0.0, 0.2, 0.005,
               "advertising reach: chance an advertiser reaches a given buyer per step"),
        Slider("market.p_word_of_mouth", 0.0, 0.5, 0.01,
               "word of mouth: chance a contact who knows a seller tells the asking buyer"),
        Slider("market.peer_pull", 0.0, 1.0, 0.05,
               "connections accelerate expectations: how far a buyer's expectation moves "
               "toward its most advanced contact's per conversation"),
        Slider("market.p_exposure", 0.0, 0.5, 0.01,
               "undisclosed sponsorship found out: chance a follower who reads a sponsored post "
               "sees that it was paid for"),
        Slider("market.trust_sellers", 0.0, 1.0, 0.05,
               "trust in sellers at the start: the weight buyers give to sellers' claims"),
    ]
    return (*main, *mix, *market)


SLIDERS: tuple[Slider, ...] = _sliders()
SEED = "seed"


def default_value(setting: str, config: SpheresConfig | None = None) -> Any:
    """The value of a dotted ``setting`` in ``config`` (the classroom defaults when omitted)."""
    node: Any = config if config is not None else classroom_config({})
    for part in setting.split("."):
        # The only dict is the strategy mix: a strategy it does not list has no sellers.
        node = node.get(part, 0) if isinstance(node, dict) else getattr(node, part)
    return node


def classroom_config(settings: dict[str, Any]) -> SpheresConfig:
    """Build the config of a classroom market from slider values.

    The package defaults with ``CLASSROOM_BUYERS`` buyers, overridden by ``settings`` (dotted
    setting names; ``seed`` may be text from the seed field).

    Raises ``ConfigError`` naming the setting when a value is not allowed.
    """
    values = {"n_buyers": CLASSROOM_BUYERS, **settings}
    if SEED in values:
        values[SEED] = parse_seed(values[SEED])
    return make_config(**values)


def parse_seed(text: Any) -> int:
    """The seed typed into the seed field as an integer >= 0, else ``ConfigError``."""
    try:
        seed = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"seed = {text!r} is not allowed: an integer >= 0") from None
    if seed < 0:
        raise ConfigError(f"seed = {text!r} is not allowed: an integer >= 0")
    return seed


class ClassroomModel(MarketModel):
    """The market the page shows, built from slider values named by their settings.

    ``ClassroomModel(**{"market.ad_rate": 0.05, "seed": "3"})``. Values that are not allowed are
    refused with the config's one-line message (kept in :attr:`refused` for the page to show),
    and the market is then built from the classroom defaults, so the page stays usable.
    """

    def __init__(self, **settings: Any) -> None:
        """Build the market from ``settings``, or from the defaults if they are refused."""
        # Mesa's Reset also passes a default ``scenario``; the seed comes from the seed field.
        settings.pop("scenario", None)
        try:
            config, refused = classroom_config(settings), None
        except ConfigError as err:
            config, refused = classroom_config({}), str(err)
        super().__init__(config)
        self.refused: str | None = refused


def model_params() -> dict[str, dict[str, Any]]:
    """Return Mesa ``SolaraViz`` model parameters: the seed field and a slider per setting.

    The sliders are those of :data:`SLIDERS`.
    """
    config = classroom_config({})
    params: dict[str, dict[str, Any]] = {
        SEED: {"type": "InputText", "value": str(config.seed), "label": SEED},
    }
    for s in SLIDERS:
        value = default_value(s.setting, config)
        if isinstance(value, int):  # the setting's type picks the slider's
            params[s.setting] = {"type": "SliderInt", "value": int(value), "label": s.setting,
                                 "min": int(s.low), "max": int(s.high), "step": int(s.step)}
        else:
            params[s.setting] = {"type": "SliderFloat", "value": float(value),
                                 "label": s.setting, "min": s.low, "max": s.high,
                                 "step": s.step}
    return params
