"""The report's document as blocks, written as Markdown, as a self-contained HTML page, as files.

The HTML embeds its figures as base64 PNG and loads nothing from the network; the Markdown links
to the PNG files written beside it. Every file is written under a temporary name and renamed
when complete.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from spheres.paths import atomic_write

MARKDOWN = "report.md"
HTML = "report.html"
STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
         "line-height:1.45}table{border-collapse:collapse;font-size:0.85em;margin:1em 0}"
         "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}"
         "img{max-width:100%}figcaption{font-style:italic;font-size:0.9em}")


@dataclass
class Doc:
    """The report as blocks, rendered to both Markdown and self-contained HTML."""

    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        """Add a heading."""
        self.blocks.append(("heading", (level, text)))

    def para(self, text: str) -> None:
        """Add a paragraph."""
        self.blocks.append(("para", text))

    def bullets(self, items: Sequence[str]) -> None:
        """Add a bulleted list."""
        self.blocks.append(("bullets", list(items)))

    def table(self, frame: pd.DataFrame) -> None:
        """Add a table (the frame's columns and rows, as text)."""
        self.blocks.append(("table", frame.astype(str)))

    def figure(self, name: str, png: bytes, caption: str) -> None:
        """Add a figure written as ``name`` beside the report."""
        self.blocks.append(("figure", (name, png, caption)))

    def figures(self) -> list[tuple[str, bytes]]:
        """Return each figure's file name and PNG bytes, in order."""
        return [(value[0], value[1]) for kind, value in self.blocks if kind == "figure"]

    def markdown(self) -> str:
        """Render the report as Markdown, figures linked to their PNG files."""
        out: list[str] = []
        for kind, value in self.blocks:
            if kind == "heading":
                out.append(f"{'#' * value[0]} {value[1]}")
            elif kind == "para":
                out.append(value)
            elif kind == "bullets":
                out.append("\n".join(f"- {item}" for item in value))
            elif kind == "table":
                cells = [list(value.columns), *value.to_numpy().tolist()]
                rows = ["| " + " | ".join(c.replace("|", "\\|") for c in map(str, r)) + " |"
                        for r in cells]
                rows.insert(1, "|" + "---|" * len(value.columns))
                out.append("\n".join(rows))
            elif kind == "figure":
                out.append(f"![{value[2]}]({value[0]})\n\n*{value[2]}*")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        """Render the report as one HTML page, figures embedded as base64 PNG."""
        e = html.escape
        out: list[str] = []
        for kind, value in self.blocks:
            if kind == "heading":
                out.append(f"<h{value[0]}>{e(value[1])}</h{value[0]}>")
            elif kind == "para":
                out.append(f"<p>{e(value)}</p>")
            elif kind == "bullets":
                out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in value) + "</ul>")
            elif kind == "table":
                out.append(value.to_html(index=False, escape=True, border=0))
            elif kind == "figure":
                data = base64.b64encode(value[1]).decode("ascii")
                out.append(f'<figure><img alt="{e(value[2])}" '
                           f'src="data:image/png;base64,{data}"><figcaption>{e(value[2])}'
                           "</figcaption></figure>")
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{e(title)}</title><style>{STYLE}</style></head><body>\n"
                + "\n".join(out) + "\n</body></html>\n")


def write_json(path: Path, content: Any) -> None:
    """Write ``content`` as indented UTF-8 JSON, under a temporary name first."""
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n",
                       encoding="utf-8")


def write_doc(doc: Doc, title: str, target: Path) -> Path:
    """Write the document's PNG figures, ``report.md`` and ``report.html`` into ``target``.

    Returns the path of the HTML page.
    """
    target.mkdir(parents=True, exist_ok=True)
    for name, data in doc.figures():
        with atomic_write(target / name) as tmp:
            tmp.write_bytes(data)
    with atomic_write(target / MARKDOWN) as tmp:
        tmp.write_text(doc.markdown(), encoding="utf-8")
    with atomic_write(target / HTML) as tmp:
        tmp.write_text(doc.html(title), encoding="utf-8")
    return target / HTML
