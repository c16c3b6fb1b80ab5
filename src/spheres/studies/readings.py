"""The sentences a study's readings are made of: a number, an interval, a difference, a level.

A reading names a direction only when the 95% interval of the difference excludes zero;
otherwise it says "no clear difference", and with fewer than two seeds that no interval could be
computed.
"""

from __future__ import annotations

from spheres.analysis.estimate import Estimate, format_number
from spheres.analysis.store import Store


def fmt(value: float, digits: int) -> str:
    """Write a number for a sentence: thousands separated, a true minus sign, '–' if missing."""
    return format_number(value, digits).replace("-", "−")


def interval(e: Estimate, digits: int) -> str:
    """Write an estimate's interval for a sentence: ``95% CI low to high``."""
    return f"95% CI {fmt(e.low, digits)} to {fmt(e.high, digits)}"


def at_scenario(store: Store, scenario: str) -> str:
    """Name a scenario as a reading opens: ``At market.contacts=3, market.frontier_speed=0``."""
    return f"At {scenario}" if store.keys else "Over all runs"


def read_difference(where: str, measure: str, first: str, second: str, diff: Estimate,
                    digits: int = 2, unit: str = "") -> str:
    """Say ``first`` minus ``second`` in ``measure`` in one sentence.

    It names the direction only when the 95% interval excludes zero; otherwise it says "no clear
    difference", and with fewer than two seeds that no interval could be computed.
    """
    unit = f" {unit}" if unit else ""
    if diff.n == 0:
        return f"{where}: no run gives {measure} of both {first} and {second}."
    if not diff.has_interval:
        return (f"{where}: {first} minus {second} in {measure} is {fmt(diff.value, digits)}"
                f"{unit}, with too few seeds for an interval, so no clear difference can be told.")
    if diff.clear:
        word = "higher" if diff.value > 0 else "lower"
        return (f"{where}: {measure} is {fmt(abs(diff.value), digits)}{unit} {word} for "
                f"{first} than for {second} ({interval(diff, digits)}).")
    return (f"{where}: no clear difference in {measure} between {first} and {second} "
            f"({first} minus {second}: {fmt(diff.value, digits)}{unit}, "
            f"{interval(diff, digits)}, the interval includes zero).")


def read_level(where: str, measure: str, e: Estimate, digits: int = 2, unit: str = "") -> str:
    """Say a mean with its interval in one sentence."""
    unit = f" {unit}" if unit else ""
    ci = f" ({interval(e, digits)})" if e.has_interval else " (too few seeds for an interval)"
    return f"{where}: {measure} is {fmt(e.value, digits)}{unit}{ci}."
