"""The named studies: for each question of ``configs/experiment/q*.yaml``, its analysis.

:data:`STUDIES` maps an experiment's name to its :class:`~spheres.studies.base.Study`; each study
is one small module (``q1_decline`` ... ``q7_trust``) that reads only its sweep store.
:func:`study_of` names the study of a sweep directory, from ``runs.experiment``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spheres.analysis.store import Store
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
from spheres.studies.base import Study

STUDIES: dict[str, Study] = {s.STUDY.name: s.STUDY for s in (
    q1_decline, q2_strategy, q3_currency, q4_scores, q5_network_value, q6_targeting, q7_trust)}


def study_of(sweep_dirs: Sequence[Path | str]) -> Study | None:
    """Return the study of a single sweep whose runs all name one experiment of ``STUDIES``."""
    if len(sweep_dirs) != 1:
        return None
    with Store(Path(sweep_dirs[0]) / DATABASE) as store:
        name = store.experiment()
    return STUDIES.get(name) if name is not None else None
