"""The settings in words: ``spheres run --help``, ``spheres settings`` and the docs' tables."""

from __future__ import annotations

from spheres.config.validate import Setting, settings

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
