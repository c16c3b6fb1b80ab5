"""``spheres collect``: a sweep directory into ``sweep.duckdb`` and Parquet tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from spheres.paths import DATABASE
from spheres.sweeps.collect import collect
from test_cli import spheres_cli
from test_sweeps import IN_PROCESS, TINY

TABLES = ("runs", "swept", "strategies", "steps", "sellers", "flows", "agents")


def query(database: Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` on a collected store and return the result as a frame."""
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2 x 2 sweep (two values of market.ad_rate, two seeds)."""
    sweep_dir = tmp_path_factory.mktemp("sweep")
    done = spheres_cli("run", "-m", *TINY, "seed=1,2", "market.ad_rate=0.01,0.05", IN_PROCESS,
                       f"hydra.sweep.dir={sweep_dir}")
    assert done.returncode == 0, done.stderr
    return sweep_dir


def test_collect_writes_every_table(sweep: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sweep, copy)
    done = spheres_cli("collect", str(copy))
    assert done.returncode == 0, done.stderr
    assert "4 runs: 4 ok" in done.stdout
    database = copy / DATABASE
    assert database.is_file()
    assert not [p for p in copy.iterdir() if p.name.endswith(".tmp")]
    for table in TABLES:
        parquet = f"read_parquet('{copy / table}.parquet')"
        counts = query(database, f"SELECT (SELECT count(*) FROM {table}) AS n, "
                                 f"(SELECT count(*) FROM {parquet}) AS m, "
                                 f"(SELECT count(*) FROM (SELECT * FROM {parquet} EXCEPT ALL "
                                 f"SELECT * FROM {table})) AS extra")
        n, m, extra = counts.iloc[0].tolist()
        assert n == m and n > 0 and extra == 0, table


def test_runs_table_has_swept_columns_seed_status_and_outcomes(sweep: Path) -> None:
    database = collect(sweep)
    runs = query(database, 'SELECT * FROM runs ORDER BY job')
    assert runs["job"].tolist() == [0, 1, 2, 3]
    assert runs["market.ad_rate"].tolist() == [0.01, 0.05, 0.01, 0.05]
    assert runs["seed"].tolist() == [1, 1, 2, 2]
    assert set(runs["status"]) == {"ok"}
    assert runs["error"].isna().all()
    for job in range(4):
        summary = json.loads((sweep / str(job) / "summary.json").read_text())
        row = runs.iloc[job]
        assert row["sellers_alive"] == summary["sellers_alive"]
        assert row["currency_stock"] == summary["currency_stock"]
        assert row["trust_final_sellers"] == summary["trust_final"]["sellers"]
        for kind, total in summary["currency_by_kind"].items():
            assert row[f"currency_{kind}"] == total
        for reason, total in summary["currency_by_reason"].items():
            assert row[f"currency_by_reason_{reason}"] == total
    types = query(database, "SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 'runs'")
    types = dict(zip(types["column_name"], types["data_type"], strict=True))
    assert (types["job"], types["seed"], types["market.ad_rate"]) == ("INTEGER", "INTEGER", "DOUBLE")
    swept = query(database, "SELECT * FROM swept")
    assert swept.to_dict("records") == [{"key": "market.ad_rate", "type": "DOUBLE"}]


def test_per_step_tables_equal_the_runs_files(sweep: Path) -> None:
    database = collect(sweep)
    for table, name in (("steps", "metrics"), ("sellers", "sellers"), ("flows", "flows"),
                        ("agents", "agents")):
        stored = query(database, f"SELECT * FROM {table} WHERE job = 2")
        own = pd.read_parquet(sweep / "2" / f"{name}.parquet")
        sort = list(own.columns)
        pd.testing.assert_frame_equal(
            stored.drop(columns="job").sort_values(sort).reset_index(drop=True),
            own.sort_values(sort).reset_index(drop=True), check_dtype=False)
    key = "job, step, source_type, destination_type, kind, reason"
    twice = query(database, f"SELECT {key} FROM flows GROUP BY ALL HAVING count(*) > 1")
    assert len(twice) == 0  # the order the store is written in is fully determined
    strategies = query(database, "SELECT * FROM strategies WHERE job = 0")
    summary = json.loads((sweep / "0" / "summary.json").read_text())
    assert set(strategies["strategy"]) == set(summary["sellers_alive_by_strategy"])


def test_collect_refuses_a_directory_without_runs(tmp_path: Path) -> None:
    done = spheres_cli("collect", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("error: SWEEP_DIR")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / DATABASE).exists()


@pytest.mark.parametrize("text", ["", "seed: [unclosed\n"])
def test_a_job_killed_while_its_config_was_written_is_incomplete(sweep: Path, tmp_path: Path,
                                                                 text: str) -> None:
    """A job directory whose ``.hydra/config.yaml`` was left empty or cut short (the job was
    killed while Hydra wrote it) is collected as an incomplete run, not a crash."""
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy, ignore=shutil.ignore_patterns(DATABASE))
    killed = copy / "4" / ".hydra"
    killed.mkdir(parents=True)
    (killed / "config.yaml").write_text(text)
    done = spheres_cli("collect", str(copy))
    assert done.returncode == 0, done.stderr
    runs = query(copy / DATABASE, "SELECT job, status, seed FROM runs ORDER BY job")
    row = runs[runs["job"] == 4].iloc[0]
    assert row["status"] == "incomplete" and pd.isna(row["seed"])
    assert (runs.loc[runs["job"] != 4, "status"] == "ok").all()
