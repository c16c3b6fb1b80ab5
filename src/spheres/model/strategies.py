"""Seller strategies: what a seller does to be known and to keep up, one small class each.

A strategy declares its levers (advertise, sponsor influencers, co-create with customers) and its
sensing method (how it learns where expectations are). Add a strategy by subclassing
:class:`Strategy` and decorating it with :func:`register`; nothing else changes.

Sensing methods:

- ``none``: never senses, never adapts;
- ``sales``: the mean expectation of the seller's own customers, booked ``sense_delay`` steps ago,
  plus noise (a lagging measure);
- ``conversations``: the mean expectation of this step's talking buyers (those with a need) who
  know the seller, plus a small noise (real-time listening);
- ``customers``: the mean expectation of this step's own customers (co-creation).
"""

from __future__ import annotations

from typing import ClassVar

SENSING = ("none", "sales", "conversations", "customers")


class Strategy:
    """Base class: a seller that does nothing (subclasses switch levers on)."""

    name: ClassVar[str] = ""
    sensing: ClassVar[str] = "none"
    advertises: ClassVar[bool] = False
    sponsors: ClassVar[bool] = False
    cocreates: ClassVar[bool] = False


STRATEGIES: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Register a strategy class under its ``name``."""
    if not cls.name:
        raise ValueError(f"strategy class {cls.__name__} needs a name")
    if cls.sensing not in SENSING:
        raise ValueError(f"strategy {cls.name}: sensing must be one of {SENSING}")
    STRATEGIES[cls.name] = cls
    return cls


def strategy_index(name: str) -> int:
    """Position of a strategy in the registry (its integer code in the state arrays)."""
    return list(STRATEGIES).index(name)


@register
class Inert(Strategy):
    """Never adapts, no marketing: the frog."""

    name = "inert"


@register
class Broadcast(Strategy):
    """Pays for advertising every step; adapts only by lagging sales."""

    name = "broadcast"
    sensing = "sales"
    advertises = True


@register
class Listen(Strategy):
    """Senses conversations in real time and adapts the offering toward them."""

    name = "listen"
    sensing = "conversations"


@register
class Sponsor(Strategy):
    """Pays influencers (money into social currency) to post about it; adapts by lagging sales."""

    name = "sponsor"
    sensing = "sales"
    sponsors = True


@register
class Cocreate(Strategy):
    """Adapts toward its customers' expectations and rewards them in social currency."""

    name = "cocreate"
    sensing = "customers"
    cocreates = True
