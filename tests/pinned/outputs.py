"""Fingerprints of what a fixed set of runs, sweeps and reports write, to pin the outputs.

The cases: the default run; the per-agent engine; every experiment at a small size with its
report; a Sobol sweep with its report; every sellers preset with entry; a memory cap with entry
in both engines. Every case runs the real ``spheres`` command into a fresh directory; every
table, summary and report it leaves is reduced to a SHA-256 of its content. Only what changes
from one identical run to the next is left out: the wall times, the resolved Hydra files and
logs (they hold paths and clocks), the DuckDB file (its bytes hold a creation time; its tables
are written as Parquet beside it, and those are compared) and the PNG figures (drawings, not
numbers).

``python tests/pinned/outputs.py`` writes ``reference.json`` beside this file; the test
``tests/test_pinned_outputs.py`` runs the same cases and compares.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.json"
TINY = ("n_buyers=200", "steps=25")
STUDIES = ("q1_decline", "q2_strategy", "q3_currency", "q4_scores", "q5_network_value",
           "q6_targeting", "q7_trust")
# Columns that hold a clock, not a result.
VOLATILE_COLUMNS = {"wall_time_s"}
WALL_TIME = re.compile(rb'"wall_time_s": [-0-9.eE+naNIfity]+')


# Every sellers preset (configs/sellers), swept in one case.
PRESETS = ("all_broadcast", "all_cocreate", "all_inert", "all_lagging", "all_listen", "all_seed",
           "all_sponsor", "lagging_vs_listening", "listen_vs_broadcast", "mixed", "seed_vs_sponsor")
ENTRY = ("mechanisms.entry=true", "sellers.entry_rate=0.2")


@dataclass(frozen=True)
class Case:
    """One pinned command: a run (``sweep`` false) or a sweep, and whether it gets a report."""

    name: str
    overrides: tuple[str, ...]
    sweep: bool = False
    report: bool = False


CASES = (
    Case("default", ()),
    Case("agent", ("engine=agent", "n_buyers=500", "steps=60")),
    Case("diffusion", ("experiment=diffusion", *TINY)),
    *(Case(study, (f"experiment={study}", "size=tiny"), sweep=True, report=True)
      for study in STUDIES),
    Case("sensitivity_q1", ("experiment=sensitivity_q1", *TINY, "hydra.sweeper.n=4"),
         sweep=True, report=True),
    Case("presets", (f"sellers={','.join(PRESETS)}", "n_buyers=300", "steps=40",
                     *ENTRY), sweep=True),
    Case("memory_cap", ("n_buyers=600", "steps=80", "market.max_known=2", *ENTRY)),
    Case("agent_memory_cap", ("engine=agent", "n_buyers=300", "steps=40", "market.max_known=2",
                              *ENTRY)),
)
# The cases the default test run checks; the others are marked slow.
FAST = ("default", "q6_targeting")


def table_digest(path: Path, where: Path) -> str:
    """SHA-256 of a Parquet table's column names, types and values, in row order (paths under
    ``where``, the case's temporary directory, are written relative to it)."""
    table = pq.read_table(path)
    keep = [name for name in table.column_names if name not in VOLATILE_COLUMNS]
    table = table.select(keep).replace_schema_metadata(None)
    for i, name in enumerate(table.column_names):
        if pa.types.is_string(table.schema.field(i).type) or pa.types.is_large_string(
                table.schema.field(i).type):
            column = pc.replace_substring(table.column(i), str(where), "<tmp>")
            table = table.set_column(i, name, column)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def text_digest(path: Path, where: Path) -> str:
    """SHA-256 of a file's bytes, with a JSON wall time and ``where`` masked."""
    data = WALL_TIME.sub(b'"wall_time_s": 0', path.read_bytes())
    return hashlib.sha256(data.replace(str(where).encode(), b"<tmp>")).hexdigest()


def fingerprint(root: Path, where: Path) -> dict[str, str]:
    """Digest of every table, summary and report file below ``root``, by relative path."""
    digests: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or ".hydra" in path.parts:
            continue
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".parquet":
            digests[rel] = table_digest(path, where)
        elif path.suffix in {".json", ".md", ".csv"}:
            digests[rel] = text_digest(path, where)
    return digests


def run_case(case: Case, where: Path) -> dict[str, str]:
    """Run one case with the current ``spheres`` into ``where`` and fingerprint what it wrote."""
    out = where / "out"
    if case.sweep:
        args = ["run", "-m", *case.overrides, f"hydra.sweep.dir={out}"]
    else:
        args = ["run", *case.overrides, f"hydra.run.dir={out}"]
    done = subprocess.run([sys.executable, "-m", "spheres.cli", *args], capture_output=True,
                          text=True, cwd=where)
    if done.returncode != 0:
        raise RuntimeError(f"{case.name}: spheres {' '.join(args)} failed:\n{done.stderr}")
    digests = fingerprint(out, where)
    if case.report:
        report = where / "report"
        done = subprocess.run([sys.executable, "-m", "spheres.cli", "report", str(out),
                               "--out", str(report)], capture_output=True, text=True, cwd=where)
        if done.returncode != 0:
            raise RuntimeError(f"{case.name}: spheres report failed:\n{done.stderr}")
        digests.update({f"report/{k}": v for k, v in fingerprint(report, where).items()})
    return digests


def main() -> None:
    """Write reference.json from the current checkout (every case; a few minutes)."""
    reference = {}
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            reference[case.name] = run_case(case, Path(tmp))
        print(f"{case.name}: {len(reference[case.name])} files", flush=True)
    REFERENCE.write_text(json.dumps(reference, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
