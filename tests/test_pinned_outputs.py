"""The outputs are pinned: runs, sweeps and reports write what the reference says, byte for byte.

``tests/pinned/reference.json`` holds a digest of every table, summary and report file of a fixed
set of commands (the default run; the per-agent engine; every experiment at a small size; a
Sobol sweep; the reports), written by ``python tests/pinned/outputs.py``. A change to the code
that is meant to change no result must leave every digest as it is; a change to the model that
is meant to change results rewrites the reference in the same commit, saying why.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "pinned"))
from outputs import CASES, FAST, REFERENCE, run_case

EXPECTED = json.loads(REFERENCE.read_text())


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.name, marks=() if c.name in FAST else pytest.mark.slow) for c in CASES],
)
def test_outputs_match_the_reference(case, tmp_path: Path) -> None:
    """Every file the case writes has the reference digest, and no file is missing or new."""
    got = run_case(case, tmp_path)
    want = EXPECTED[case.name]
    assert sorted(got) == sorted(want), "the set of files written changed"
    changed = sorted(name for name in want if got[name] != want[name])
    assert not changed, f"{case.name}: content changed in {changed}"


def test_every_case_has_a_reference() -> None:
    """The reference covers exactly the pinned cases, each with summaries and tables."""
    assert sorted(EXPECTED) == sorted(c.name for c in CASES)
    for case in CASES:
        files = EXPECTED[case.name]
        assert any(name.endswith("summary.json") for name in files)
        assert any(name.endswith("metrics.parquet") for name in files)
