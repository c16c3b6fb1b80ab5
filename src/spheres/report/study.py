"""The opening section of a named study's report, and the content of its ``study.json``.

The section says the study's question, hypothesis and sweep (from the header of its
``configs/experiment/<name>.yaml``), the size of the store, the study's readings, its key numbers
as a table and its figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from spheres.analysis.estimate import format_estimate
from spheres.analysis.store import Store
from spheres.paths import DATABASE
from spheres.report.writers import Doc
from spheres.studies.base import Number, Study, header

STUDY_JSON = "study.json"  # a study's findings, beside its report


def section(study: Study, sweep_dir: Path | str) -> tuple[Doc, dict[str, Any]]:
    """Compose the study's report section and the content of ``study.json``.

    The section holds the question, hypothesis, sweep, readings, key numbers and figures.
    """
    with Store(Path(sweep_dir) / DATABASE) as store:
        found = study.analyse(store)
        sizes = store.sizes()
    about = header(study.name)
    doc = Doc()
    doc.heading(f"{study.title}")
    doc.para(f"Question: {about['question']}")
    doc.para(f"Hypothesis tested: {about['hypothesis']}")
    doc.para(f"What was swept: {about['swept']}")
    seeds = sizes["seeds"]
    doc.para(f"This store: {sizes['runs']} complete runs in {sizes['scenarios']} scenarios, "
             f"at least {sizes['seeds_per_scenario']} seeds per scenario (seeds "
             f"{_span(seeds)}), {_values(sizes['buyers'])} buyers, {_values(sizes['steps'])} "
             "steps. Numbers are means over seeds with their 95% bootstrap interval; a reading "
             "names a direction only when the interval excludes zero.")
    doc.heading("Reading", 3)
    doc.bullets(found.readings)
    doc.heading("Key numbers", 3)
    doc.table(numbers_table(found.numbers))
    doc.heading("Figures", 3)
    for name, data, caption in found.figures:
        doc.figure(name, data, caption)
    summary = {"study": study.name, "title": study.title, "question": about["question"],
               "hypothesis": about["hypothesis"], "swept": about["swept"], **sizes,
               "numbers": [n.as_json() for n in found.numbers], "readings": found.readings,
               "figures": [name for name, _, _ in found.figures]}
    return doc, summary


def numbers_table(numbers: Sequence[Number]) -> pd.DataFrame:
    """Lay out key numbers as a table: a row per label and a column per scenario.

    With more scenarios than labels, the table is turned: a row per scenario.
    """
    cells = pd.DataFrame({"label": [n.label for n in numbers],
                          "scenario": [n.scenario for n in numbers],
                          "value": [format_estimate(n.estimate, n.digits) for n in numbers]})
    labels = list(dict.fromkeys(cells["label"]))
    scenarios = list(dict.fromkeys(cells["scenario"]))
    if len(scenarios) > len(labels):
        wide = cells.pivot(index="scenario", columns="label", values="value")
        return wide.reindex(index=scenarios, columns=labels).fillna("").reset_index()
    wide = cells.pivot(index="label", columns="scenario", values="value")
    return wide.reindex(index=labels, columns=scenarios).fillna("").reset_index()


def _span(values: Sequence[int]) -> str:
    if not values:
        return "none"
    if list(values) == list(range(values[0], values[-1] + 1)) and len(values) > 2:
        return f"{values[0]}–{values[-1]}"
    return ", ".join(map(str, values))


def _values(values: Sequence[int]) -> str:
    return " or ".join(f"{v:,}" for v in values) if values else "no"
