"""Time: rates are set per year and durations in weeks; a run converts them to its step.

Each time-dependent setting declares how it converts (``per`` in its schema declaration); the
conversions are :data:`CONVERSIONS`. :func:`per_step` turns a validated config into the one the
phases read, whose values are per step, so that no phase knows the step's length and a run with
weekly steps tells the same yearly story as one with monthly steps.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable

from spheres.model import rules
from spheres.schema import WEEKS_PER_YEAR, SpheresConfig

# How a setting's value becomes its value for one step of 1/n years.
CONVERSIONS: dict[str, Callable[[float, float], float]] = {
    "rate": rules.step_chance,  # events per year -> chance per step
    "count": rules.step_share,  # events per year -> mean number per step (a Poisson count)
    "speed": rules.step_share,  # an amount per year -> its share of a step
    "spread": rules.step_spread,  # s.d. of a random walk over a year -> s.d. of a step
    "cost": rules.step_cents,  # cents per year -> whole cents per step
    "duration": lambda weeks, n: rules.step_count(weeks, n, WEEKS_PER_YEAR),  # weeks -> steps
}
# The fewest steps a duration may become: campaigns need a period of one step at least.
LEAST_STEPS = {"sellers.campaign_period": 1}


def timed(config: SpheresConfig) -> list[tuple[str, str]]:
    """The time-dependent settings, as (dotted name, conversion)."""
    out = []
    for section in dataclasses.fields(config):
        part = getattr(config, section.name)
        if not dataclasses.is_dataclass(part):
            continue
        for f in dataclasses.fields(part):
            spec = f.metadata.get("spec")
            if spec is not None and spec.per:
                out.append((f"{section.name}.{f.name}", spec.per))
    return out


# A rate per year at which an event is certain in every step (its chance rounds to 1).
RATE_CERTAIN = 1e6
# The inverse of each conversion: the setting that gives a value per step.
INVERSES: dict[str, Callable[[float, float], float]] = {
    "rate": lambda p, n: -math.log1p(-p) * n if p < 1 else RATE_CERTAIN,
    "count": lambda x, n: x * n,
    "speed": lambda x, n: x * n,
    "spread": lambda x, n: x * math.sqrt(n),
    "cost": lambda x, n: round(x * n),
    "duration": lambda steps, n: round(steps * WEEKS_PER_YEAR / n),
}


def per_year(values: dict[str, float], steps_per_year: float = 52.0) -> dict[str, float]:
    """The settings that give these values per step (dotted names); other names pass unchanged.

    ``per_year({"market.ad_rate": 0.1})`` is ``{"market.ad_rate": 5.48...}``: the yearly
    rate whose chance per weekly step is 0.1.
    """
    kinds = dict(timed(SpheresConfig()))

    def convert(name: str, value: object) -> object:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if name not in kinds or not number or not math.isfinite(value):
            return value  # not a number: left for validation to refuse by name
        return INVERSES[kinds[name]](value, steps_per_year)

    return {name: convert(name, value) for name, value in values.items()}


def per_step(config: SpheresConfig) -> SpheresConfig:
    """A copy of ``config`` whose time-dependent values are those of one step."""
    n = config.time.steps_per_year
    out = copy.deepcopy(config)
    for name, per in timed(config):
        section, key = name.split(".")
        part = getattr(out, section)
        value = CONVERSIONS[per](getattr(part, key), n)
        object.__setattr__(part, key, max(value, LEAST_STEPS.get(name, value)))
    return out


def describe(config: SpheresConfig) -> str:
    """The time unit in words: ``200 steps of a week (3.8 years)``."""
    n = config.time.steps_per_year
    names = {52.0: "a week", 12.0: "a month", 365.0: "a day", 4.0: "a quarter", 1.0: "a year"}
    step = names.get(float(n), f"1/{n:g} of a year")
    return f"{config.steps} steps of {step} ({config.steps / n:.3g} years)"
