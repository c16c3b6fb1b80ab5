"""Checking a config against its declarations, once per run, at the boundary (CLI or API).

:func:`validate` checks every setting against its declaration in :mod:`spheres.schema`
(type, finite numbers, range, a name of its registry), then the rules that join settings (sizes,
the chosen network's needs, 64-bit money totals) and the memory the run would need. A config
validated once and unchanged since is not checked again, so the model and the jobs that receive
a validated config trust it. The registries are the model's own: this module looks names up in
them, so a new strategy or network kind is allowed as soon as it is registered.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, get_type_hints

from spheres.errors import ConfigError
from spheres.model import clock
from spheres.model.audiences import FOLLOW_BY
from spheres.model.engine import ENGINES
from spheres.model.network import GRAPH_SETTINGS, KINDS, SELECTIONS
from spheres.model.sellers import TARGETING
from spheres.model.strategies import MARKETING, SENSING, STRATEGIES
from spheres.schema import (
    MONEY_LIMIT,
    NetworkConfig,
    Spec,
    SpheresConfig,
    is_validated,
    mark_validated,
)

# The registries a declaration may name (``Spec.choices``, ``Spec.values``).
REGISTRIES: dict[str, dict[str, Any]] = {
    "engines": ENGINES, "network kinds": KINDS, "selections": SELECTIONS,
    "strategies": STRATEGIES, "targeting": TARGETING, "sensing": SENSING,
    "marketing": MARKETING, "follow_by": FOLLOW_BY,
}


def names(registry: str | None) -> list[str]:
    """The names registered in ``registry``."""
    return list(REGISTRIES[registry]) if registry else []


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
            return "one of " + ", ".join(names(s.choices))
        if kind == "path":
            return "a file path, or null"
        if kind == "map":
            return (f"strategy names ({', '.join(names(s.choices))}) with one of "
                    f"{', '.join(names(s.values))}")
        if kind == "mix":
            return (f"strategy names ({', '.join(names(s.choices))}) with counts from "
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
            _check(value in names(spec.choices), s.name, s.allowed(), value)
        return value
    if kind == "map":
        _check(isinstance(value, dict), s.name, s.allowed(), value)
        keys, values = names(spec.choices), names(spec.values)
        for name, item in value.items():
            _check(name in keys, f"{s.name}.{name}",
                   f"a strategy name, one of {', '.join(keys)}", name)
            _check(item in values, f"{s.name}.{name}", f"one of {', '.join(values)}", item)
        return {str(name): str(item) for name, item in value.items()}
    if kind == "mix":
        _check(isinstance(value, dict), s.name, s.allowed(), value)
        known = names(spec.choices)
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


def check_settings(config: SpheresConfig) -> None:
    """Check every setting of ``config`` against its declaration, setting it in its declared type.

    Raises ``ConfigError`` naming the first bad setting and what is allowed.
    """
    for s in settings():
        _set(config, s.name, _check_setting(s, _get(config, s.name)))


def validate(config: SpheresConfig) -> SpheresConfig:
    """Check every setting against its declaration, then the rules that join settings.

    Raises ``ConfigError`` naming the first bad setting and what is allowed. A config validated
    once and unchanged since is not checked again.
    """
    if not isinstance(config, SpheresConfig):
        raise ConfigError(f"a config is a SpheresConfig; got {type(config).__name__}")
    if is_validated(config):
        return config
    check_settings(config)
    _check_rules(config)
    check_resources(config)
    mark_validated(config)
    return config


def _check_rules(c: SpheresConfig) -> None:
    """The rules that join settings: sizes against each other, the chosen network's needs."""
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
    s, k, n = clock.per_step(c).sellers, c.currency, c.n_buyers  # amounts per step
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
    buyers = n * (40 * d + 230)
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
    history = (clock.per_step(c).sellers.sense_delay + 1) * sellers * (d + 1) * 8
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
