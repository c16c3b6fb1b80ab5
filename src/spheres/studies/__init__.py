"""The named studies: for each question of ``configs/experiment/q*.yaml``, the analysis that
answers it from the study's sweep store.

``STUDIES`` is the one registry (experiment name -> :class:`~spheres.studies.base.Study`); each
study is one small module (``q1_decline`` ... ``q7_trust``) that reads only ``sweep.duckdb``.
:func:`study_of` names the study of a sweep directory (from ``runs.experiment``), and
:func:`section` turns its findings into the report's opening section and the content of
``study.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from spheres.analysis.store import EXPERIMENT
from spheres.paths import DATABASE
from spheres.studies import (
    q1_decline,
    q2_strategy,
    q3_currency,
    q4_scores,
    q5_network_value,
    q6_targeting,
    q7_trust,
)
from spheres.studies.base import Findings, Number, Store, Study, header
from spheres.sweeps.report import Doc, _format_estimate

STUDIES: dict[str, Study] = {s.STUDY.name: s.STUDY for s in (
    q1_decline, q2_strategy, q3_currency, q4_scores, q5_network_value, q6_targeting, q7_trust)}
STUDY_JSON = "study.json"

__all__ = ["STUDIES", "STUDY_JSON", "Findings", "Number", "Store", "Study", "section",
           "study_of"]


def study_of(sweep_dirs: Sequence[Path | str]) -> Study | None:
    """The study of a single sweep whose runs all name one experiment in ``STUDIES``; else None."""
    import duckdb

    if len(sweep_dirs) != 1:
        return None
    with duckdb.connect(str(Path(sweep_dirs[0]) / DATABASE), read_only=True) as con:
        columns = {r[0] for r in con.execute("DESCRIBE runs").fetchall()}
        if EXPERIMENT not in columns:
            return None
        names = [r[0] for r in con.execute(f"SELECT DISTINCT {EXPERIMENT} FROM runs").fetchall()]
    return STUDIES.get(names[0]) if len(names) == 1 else None


def section(study: Study, sweep_dir: Path | str) -> tuple[Doc, dict[str, Any]]:
    """The study's report section (question, hypothesis, sweep, readings, numbers, figures) and
    the content of ``study.json``."""
    store = Store(Path(sweep_dir) / DATABASE)
    try:
        found = study.analyse(store)
        sizes = store.sizes()
    finally:
        store.close()
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
    """Key numbers as a table: a row per label and a column per scenario, or the other way
    round when there are more scenarios than labels."""
    cells = pd.DataFrame({"label": [n.label for n in numbers],
                          "scenario": [n.scenario for n in numbers],
                          "value": [_format_estimate(n.estimate, n.digits) for n in numbers]})
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
