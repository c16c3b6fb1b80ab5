"""Collecting a sweep: every run directory of ``SWEEP_DIR`` into ``sweep.duckdb`` and Parquet.

A run directory (``SWEEP_DIR/<job>``, Hydra's ``${hydra.job.num}``) is a result only if its
``summary.json`` exists; a run whose job recorded an error (``error.json``) is ``failed``; any
other started run is ``incomplete``. ``collect`` writes the tables ``runs``, ``swept``,
``strategies``, ``steps``, ``sellers``, ``flows`` and ``agents`` (and ``sensitivity`` when a
Sobol sweep left ``sensitivity.parquet``; ``explore`` and ``boxes`` for an exploration, from
:mod:`spheres.explore.analysis`) into ``SWEEP_DIR/sweep.duckdb`` and as
``SWEEP_DIR/<table>.parquet``. The per-step tables are read by DuckDB straight from the runs'
Parquet files. The README's "Sweeps" section documents every column. ``spheres collect``
(:func:`collect_main`) does this for a sweep directory; every sweep does it when it ends.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser

from spheres.analysis.store import EXPERIMENT, SEED, Store
from spheres.errors import CollectError
from spheres.explore.analysis import explored
from spheres.paths import DATABASE, ERROR, SUMMARY

SENSITIVITY = "sensitivity.parquet"
# Tables read from each complete run's Parquet files: table name -> (file, sort columns).
RUN_TABLES = {
    "steps": ("metrics.parquet", ("step",)),
    "sellers": ("sellers.parquet", ("step", "seller_id")),
    "flows": ("flows.parquet", ("step", "source_type", "destination_type", "kind", "reason")),
    "agents": ("agents.parquet", ("agent_id",)),
}
# Dicts of scalars in summary.json flattened into runs columns: key -> column prefix.
FLATTENED = {"currency_by_kind": "currency_", "trust_final": "trust_final_",
             "network_facts": "network_"}
# Summary entries that are not outcomes of the run (or are columns of runs already).
NOT_OUTCOMES = {"seed", "wall_time_s", "config", "sellers_alive_by_strategy", "top_by_score",
                "top_by_true_influence"}
STRATEGY_COLUMNS = ("start", "entered", "alive", "mean_survival_steps", "final_share", "cash")


@dataclass
class Run:
    """One run directory of a sweep and what it recorded."""

    job: int
    path: Path
    overrides: dict[str, Any]
    status: str
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    wall_time_s: float | None = None


def run_dirs(sweep_dir: Path) -> list[tuple[int, Path]]:
    """The run directories of ``sweep_dir`` (named by job number), in job order."""
    found = [(int(p.name), p) for p in Path(sweep_dir).iterdir()
             if p.is_dir() and p.name.isdigit()]
    return sorted(found)


def parse_overrides(lines: list[str]) -> dict[str, Any]:
    """Hydra override strings (``key=value``) as a dict of typed values, keyed without ``+``."""
    parsed = OverridesParser.create().parse_overrides(list(lines))
    return {o.key_or_group: o.value() for o in parsed if not o.is_delete()}


def read_error(run_dir: Path) -> dict[str, Any] | None:
    """The failure a run recorded in ``error.json``, or ``None``."""
    try:
        return json.loads((run_dir / ERROR).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def read_run(job: int, path: Path) -> Run:
    """What a run directory holds: its overrides, status, summary or error."""
    overrides_file = path / ".hydra" / "overrides.yaml"
    lines = yaml.safe_load(overrides_file.read_text()) if overrides_file.is_file() else []
    run = Run(job, path, parse_overrides(lines or []), "incomplete")
    summary_file = path / SUMMARY
    if summary_file.is_file():
        run.summary = json.loads(summary_file.read_text(encoding="utf-8"))
        run.status = "ok"
        run.wall_time_s = run.summary.get("wall_time_s")
        return run
    failure = read_error(path)
    if failure is not None:
        run.status = "failed"
        run.error = failure.get("error")
        run.wall_time_s = failure.get("wall_time_s")
    return run


def swept_keys(sweep_dir: Path, runs: list[Run]) -> list[str]:
    """The swept override keys other than the seed, in the order they were given.

    A key is swept when the sweep's command gave it several values (``multirun.yaml``) or when
    its value differs between runs (as with a sampling sweeper).
    """
    keys: list[str] = []
    multirun = sweep_dir / "multirun.yaml"
    if multirun.is_file():
        task = yaml.safe_load(multirun.read_text())["hydra"]["overrides"]["task"] or []
        parsed = OverridesParser.create().parse_overrides(task)
        keys += [o.key_or_group for o in parsed if o.is_sweep_override()]
    for run in runs:
        for key in run.overrides:
            values = {repr(r.overrides.get(key)) for r in runs}
            if key not in keys and len(values) > 1:
                keys.append(key)
    return [k for k in keys if k != SEED]


def outcomes(summary: dict[str, Any]) -> dict[str, Any]:
    """The scalar outcomes of a summary, with dicts of scalars flattened into prefixed names."""
    row: dict[str, Any] = {}
    for key, value in summary.items():
        if key in NOT_OUTCOMES:
            continue
        if isinstance(value, dict):
            if all(_is_scalar(v) for v in value.values()):
                prefix = FLATTENED.get(key, f"{key}_")
                row.update({f"{prefix}{k}": v for k, v in value.items()})
        elif _is_scalar(value):
            row[key] = value
    return row


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _typed(values: list[Any]) -> pd.Series:
    """One swept column: numbers stay numbers (ints widened to floats if mixed), else text."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="Int64")
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series([None if v is None else str(v) for v in values], dtype="string")


def runs_frame(sweep_dir: Path, runs: list[Run]) -> tuple[pd.DataFrame, list[str]]:
    """The ``runs`` table as a frame, and the swept keys that are its scenario columns."""
    keys = swept_keys(sweep_dir, runs)
    columns: dict[str, Any] = {
        "job": pd.Series([r.job for r in runs], dtype="Int64"),
        "run_dir": pd.Series([r.path.name for r in runs], dtype="string"),
    }
    for key in keys:
        columns[key] = _typed([r.overrides.get(key) for r in runs])
    columns[SEED] = pd.Series([_seed(r) for r in runs], dtype="Int64")
    if EXPERIMENT not in keys:
        columns[EXPERIMENT] = pd.Series([r.overrides.get(EXPERIMENT) for r in runs],
                                        dtype="string")
    columns["status"] = pd.Series([r.status for r in runs], dtype="string")
    columns["error"] = pd.Series([r.error for r in runs], dtype="string")
    columns["wall_time_s"] = pd.Series([r.wall_time_s for r in runs], dtype="Float64")
    head = pd.DataFrame(columns)
    rest = pd.DataFrame([outcomes(r.summary) for r in runs], index=head.index)
    rest = rest.drop(columns=[c for c in rest.columns if c in head.columns]).convert_dtypes()
    empty = [c for c in rest.columns if rest[c].isna().all()]
    rest[empty] = rest[empty].astype("Float64")  # a measure no run could give (NaN written null)
    return pd.concat([head, rest], axis=1), keys


def _seed(run: Run) -> int | None:
    if SEED in run.overrides:
        return int(run.overrides[SEED])
    if SEED in run.summary:
        return int(run.summary[SEED])
    config = run.path / ".hydra" / "config.yaml"
    if config.is_file():
        try:  # a job killed while Hydra wrote it leaves the file empty or cut short
            composed = yaml.safe_load(config.read_text())
        except yaml.YAMLError:
            return None
        return int(composed.get(SEED, 0)) if isinstance(composed, dict) else None
    return None


def strategies_frame(runs: list[Run]) -> pd.DataFrame:
    """The ``strategies`` table: one row per complete run and strategy."""
    rows = [{"job": r.job, "strategy": name, **{c: v.get(c) for c in STRATEGY_COLUMNS}}
            for r in runs if r.status == "ok"
            for name, v in r.summary.get("sellers_alive_by_strategy", {}).items()]
    frame = pd.DataFrame(rows, columns=["job", "strategy", *STRATEGY_COLUMNS])
    return frame.astype({"job": "int64", "strategy": "string", "start": "int64",
                         "entered": "int64", "alive": "int64",
                         "mean_survival_steps": "float64", "final_share": "float64",
                         "cash": "int64"})


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def collect(sweep_dir: Path | str) -> Path:
    """Write ``sweep.duckdb`` and ``<table>.parquet`` for every run in ``sweep_dir``.

    Works on partial, failed and resumed sweeps alike: failed and incomplete runs appear in
    ``runs`` with their status; only complete runs contribute rows to the other tables. Every
    file is written under a temporary name and renamed when complete. Returns the database path.
    """
    sweep = Path(sweep_dir)
    if not sweep.is_dir():
        raise CollectError(f"SWEEP_DIR: {sweep} is not a directory")
    found = run_dirs(sweep)
    if not found:
        raise CollectError(f"SWEEP_DIR: {sweep} holds no run directories (0/, 1/, ...)")
    runs = [read_run(job, path) for job, path in found]
    runs_df, keys = runs_frame(sweep, runs)
    strategies_df = strategies_frame(runs)

    tag = uuid.uuid4().hex[:12]
    db_tmp = sweep / f".{DATABASE}.{tag}.tmp"
    written: list[tuple[Path, Path]] = []
    try:
        with duckdb.connect(str(db_tmp)) as con:
            con.register("runs_df", runs_df)
            con.execute("CREATE TABLE runs AS SELECT * REPLACE (CAST(job AS INTEGER) AS job, "
                        "CAST(seed AS INTEGER) AS seed) FROM runs_df ORDER BY job")
            con.execute("CREATE TABLE swept AS SELECT column_name AS key, data_type AS type "
                        "FROM information_schema.columns WHERE table_name = 'runs' "
                        "AND list_contains($keys, column_name) ORDER BY ordinal_position",
                        {"keys": keys})
            con.register("strategies_df", strategies_df)
            con.execute("CREATE TABLE strategies AS SELECT * REPLACE (CAST(job AS INTEGER) "
                        "AS job) FROM strategies_df ORDER BY job, strategy")
            any_ok = any(r.status == "ok" for r in runs)
            for table, (name, order) in RUN_TABLES.items():
                if not any_ok:
                    con.execute(f"CREATE TABLE {table} (job INTEGER)")
                    continue
                pattern = _sql_string(str(sweep / "*" / name))
                con.execute(
                    f"CREATE TABLE {table} AS SELECT * EXCLUDE (filename) FROM ("
                    "SELECT CAST(regexp_extract(filename, '([0-9]+)[/\\\\][^/\\\\]+$', 1) "
                    f"AS INTEGER) AS job, * FROM read_parquet({pattern}, union_by_name=true, "
                    "filename=true)) WHERE job IN (SELECT job FROM runs WHERE status = 'ok') "
                    f"ORDER BY job, {', '.join(order)}")
            tables = ["runs", "swept", "strategies", *RUN_TABLES]
            if (sweep / SENSITIVITY).is_file():
                con.execute("CREATE TABLE sensitivity AS SELECT * FROM read_parquet("
                            f"{_sql_string(str(sweep / SENSITIVITY))})")
            for table in tables:
                final = sweep / f"{table}.parquet"
                tmp = sweep / f".{table}.parquet.{tag}.tmp"
                con.execute(f"COPY {table} TO {_sql_string(str(tmp))} (FORMAT parquet)")
                written.append((tmp, final))
            con.execute("CHECKPOINT")
        written += _add_exploration(sweep, db_tmp, tag)
        for tmp, final in written:
            os.replace(tmp, final)
        database = sweep / DATABASE
        os.replace(db_tmp, database)
    finally:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        db_tmp.unlink(missing_ok=True)
        Path(f"{db_tmp}.wal").unlink(missing_ok=True)
    return database


def _add_exploration(sweep: Path, db_tmp: Path, tag: str) -> list[tuple[Path, Path]]:
    """Add an exploration's tables ``explore`` and ``boxes`` to the store being written.

    Nothing for a sweep that is not an exploration. Returns the Parquet files written (under
    temporary names) with their final names.
    """
    with Store(db_tmp) as store:
        found = explored(store, sweep)
    if found is None:
        return []
    written = []
    with duckdb.connect(str(db_tmp)) as con:
        for table, frame in (("explore", found.samples), ("boxes", found.boxes)):
            con.register(f"{table}_df", frame)
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM {table}_df")
            tmp = sweep / f".{table}.parquet.{tag}.tmp"
            con.execute(f"COPY {table} TO {_sql_string(str(tmp))} (FORMAT parquet)")
            written.append((tmp, sweep / f"{table}.parquet"))
        con.execute("CHECKPOINT")
    return written


def status_counts(database: Path) -> dict[str, int]:
    """How many runs of a collected sweep are ``ok``, ``failed`` and ``incomplete``."""
    with Store(database) as store:
        found = store.df("SELECT status, count(*) AS n FROM runs GROUP BY status")
    counts = dict(zip(found["status"], found["n"], strict=True))
    return {status: int(counts.get(status, 0)) for status in ("ok", "failed", "incomplete")}


def format_counts(counts: dict[str, int]) -> str:
    """``'20 runs: 18 ok, 1 failed, 1 incomplete'`` (statuses with no runs left out)."""
    total = sum(counts.values())
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    return f"{total} runs: {', '.join(parts) or 'none'}"


def collect_main(argv: list[str]) -> int:
    """``spheres collect SWEEP_DIR``: write the sweep's store (``CollectError``: not a sweep)."""
    parser = argparse.ArgumentParser(
        prog="spheres collect",
        description="Gather every run of a sweep directory (complete, failed or incomplete) "
                    "into SWEEP_DIR/sweep.duckdb and SWEEP_DIR/<table>.parquet. Safe to run on "
                    "a partial, failed or resumed sweep, and again after more runs finished.")
    parser.add_argument("sweep_dir", metavar="SWEEP_DIR", type=Path,
                        help="a sweep directory (hydra.sweep.dir), holding run directories "
                             "0/, 1/, ...")
    args = parser.parse_args(argv)
    database = collect(args.sweep_dir)
    print(f"collected {format_counts(status_counts(database))} into {database}")
    return 0
