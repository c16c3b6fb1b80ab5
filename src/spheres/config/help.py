"""The settings in words: ``spheres run --help``, ``spheres settings`` and the docs' tables."""

from __future__ import annotations

from collections.abc import Iterator

from spheres.config.validate import Setting, settings

SECTIONS = {
    "": "Run", "time": "Time", "network": "Network", "market": "Market", "sellers": "Sellers",
    "currency": "Currency", "mechanisms": "Mechanisms", "output": "Output",
}


def _by_section() -> Iterator[tuple[str | None, Setting]]:
    """Every setting, with the title of its section where a new section starts (else None)."""
    current = None
    for s in settings():
        section = s.name.split(".")[0] if "." in s.name else ""
        yield (SECTIONS[section] if section != current else None), s
        current = section


def _default_text(s: Setting) -> str:
    if s.kind in ("mix", "map"):
        return ", ".join(f"{k}: {v}" for k, v in s.default.items()) or "{}"
    if s.kind == "bool":
        return str(s.default).lower()
    if s.default is None:
        return "null"
    return f"{s.default:g}" if isinstance(s.default, float) else str(s.default)


def _tries(s: Setting) -> str:
    """The range a user should try, ``low–high``, or nothing."""
    if s.spec.tries is None:
        return ""
    low, high = s.spec.tries
    return f"{low:g}–{high:g}"


def settings_markdown() -> str:
    """The parameter tables of the README and docs/ODD.md, one per section, from the declarations.

    ``spheres settings`` prints them; a test checks that both documents hold exactly this text.
    """
    out: list[str] = []
    for title, s in _by_section():
        if title is not None:
            if out:
                out.append("")
            out += [f"**{title}**", "",
                    "| setting | default | allowed | unit | symbol | meaning | source | try |",
                    "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        allowed = s.allowed().replace("|", "\\|")
        out.append(f"| `{s.name}` | {_default_text(s)} | {allowed} | {s.spec.unit} | "
                   f"{s.spec.symbol} | {s.spec.meaning} | {s.spec.source} | {_tries(s)} |")
    return "\n".join(out) + "\n"


def settings_text(width: int = 100) -> str:
    """The settings as plain text for ``spheres run --help``: name, default, allowed, meaning."""
    out: list[str] = []
    for title, s in _by_section():
        if title is not None:
            out.append(f"\n{title}:")
        unit = f" ({s.spec.unit})" if s.spec.unit else ""
        out.append(f"  {s.name}={_default_text(s)}{unit}")
        out.append(f"      {s.spec.meaning}; {s.allowed()}")
    return "\n".join(out).lstrip("\n") + "\n"
