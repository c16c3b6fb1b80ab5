"""The opening section of an exploration's report (verdict first), and its ``explore.json``.

An exploration (``spheres explore``) is a sampled design: its report says the study's verdict,
how often it holds over the samples, the box where it holds and the box where it flips (PRIM:
coverage, density), which settings matter most, and draws the verdict over the two that matter
most.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from spheres.analysis.figures import png
from spheres.analysis.store import Store
from spheres.explore.analysis import REGIONS, Exploration, from_store
from spheres.explore.figures import verdict_figure
from spheres.paths import DATABASE
from spheres.report.writers import Doc
from spheres.studies.registry import STUDIES

EXPLORE_JSON = "explore.json"  # an exploration's verdict and boxes, beside its report
FIGURE = "holds_where.png"


def exploration(sweep_dir: Path | str) -> Exploration | None:
    """The collected exploration of ``sweep_dir``, or ``None`` if the sweep is not one."""
    with Store(Path(sweep_dir) / DATABASE) as store:
        return from_store(store, Path(sweep_dir))


def section(found: Exploration) -> tuple[Doc, dict[str, Any]]:
    """The report's opening section, verdict first, and the content of ``explore.json``."""
    study = STUDIES[found.problem["experiment"]]
    doc = Doc()
    doc.heading(f"Where the answer holds: {study.title}")
    lines = found.lines()
    doc.bullets(lines)
    doc.para("How it was made: each sample draws the settings of the study's verdict from their "
             "ranges to try (a Latin hypercube; the ranges of docs/ODD.md's sources table) and "
             "runs once per arm with its own seed, so the noise of one run is part of the "
             "verdict. PRIM (EMA Workbench) finds the box of settings where the verdict holds: "
             "coverage is the share of all samples where it holds that fall in the box, density "
             "the share of the box's samples where it holds. Importance is each setting's "
             "extra-trees feature score.")
    if not found.boxes.empty:
        table = found.boxes[found.boxes["restricted"].fillna(False).astype(bool)]
        shown = table[["region", "setting", "low", "high", "options", "coverage", "density",
                       "mass"]].reset_index(drop=True).astype(object)
        for column in ("low", "high", "coverage", "density", "mass"):
            shown[column] = [f"{v:.3g}" if pd.notna(v) else "" for v in shown[column]]
        doc.table(shown.fillna(""))
    doc.figure(FIGURE, png(verdict_figure(found)),
               "Each sample's verdict over the two settings that matter most; the dashed box "
               "is PRIM's box where the verdict holds, seen on these two settings (it may also "
               "limit others)")
    summary = {"study": study.name, "statement": found.problem["statement"],
               "samples": len(found.samples), "decided": len(found.decided),
               "share_holds": found.share(),
               "boxes": {region: found.box_text(region) for region in REGIONS},
               "importance": found.importance, "lines": lines,
               "dimensions": [d.describe() for d in found.dims]}
    return doc, summary

