"""The Sobol sweeper (``hydra/sweeper=sobol``): known indices, saved design, blocks, errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import spheres
from spheres.sweeps import sensitivity as sens
from spheres.sweeps.collect import collect
from test_cli import SMALL, spheres_cli

PI = "3.141592653589793"
ISHIGAMI_RANGES = [f"+x{i}=interval(-{PI},{PI})" for i in (1, 2, 3)]
# Analytic Ishigami indices (a=7, b=0.1): Saltelli et al. (2010); Sobol' and Levitan (1999).
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}

ISHIGAMI_APP = '''
import json, math
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig


@hydra.main(config_path=None, config_name=None, version_base="1.3")
def main(cfg):
    if cfg.get("fail_above") is not None and cfg.x1 > cfg.fail_above:
        raise RuntimeError("x1 too large")
    y = math.sin(cfg.x1) + 7 * math.sin(cfg.x2) ** 2 + 0.1 * cfg.x3 ** 4 * math.sin(cfg.x1)
    out = Path(HydraConfig.get().runtime.output_dir)
    (out / "summary.json").write_text(json.dumps({"y": y, "nested": {"y2": y * y}}))


if __name__ == "__main__":
    main()
'''


def ishigami(tmp_path: Path, *overrides: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the Ishigami function as a tiny Hydra app through the Sobol sweeper."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = tmp_path / "ishigami_app.py"
    app.write_text(textwrap.dedent(ISHIGAMI_APP))
    sweep_dir = tmp_path / "sweep"
    env = dict(os.environ)
    src = str(Path(spheres.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    env.pop("HYDRA_FULL_ERROR", None)
    done = subprocess.run(
        [sys.executable, str(app), "-m", "hydra/sweeper=sobol", *ISHIGAMI_RANGES,
         "hydra.sweeper.outcomes=[y,nested.y2]", f"hydra.sweep.dir={sweep_dir}", *overrides],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    return done, sweep_dir


def indices(sweep_dir: Path, outcome: str = "y") -> pd.DataFrame:
    frame = pd.read_parquet(sweep_dir / sens.INDICES)
    assert list(frame.columns) == sens.INDEX_COLUMNS
    return frame[frame["outcome"] == outcome].set_index("parameter")


@pytest.mark.slow
def test_ishigami_design_saved_and_blocks_equal_single_jobs(tmp_path: Path) -> None:
    blocked, blocked_dir = ishigami(tmp_path / "a", "hydra.sweeper.n=8", "hydra.sweeper.block=16")
    assert blocked.returncode == 0, blocked.stderr
    single, single_dir = ishigami(tmp_path / "b", "hydra.sweeper.n=8")
    assert single.returncode == 0, single.stderr
    design = pd.read_parquet(blocked_dir / "sobol" / sens.DESIGN)
    assert len(design) == 8 * (3 + 2) and list(design.columns) == ["row", "x1", "x2", "x3"]
    problem = json.loads((blocked_dir / "sobol" / sens.PROBLEM).read_text())
    assert problem["problem"]["names"] == ["x1", "x2", "x3"]
    assert problem["settings"]["block"] == 16
    runs = pd.read_parquet(blocked_dir / "sobol" / sens.RUNS)
    assert (runs["status"] == "ok").all() and runs["row"].tolist() == list(range(40))
    # every row has its own run directory, numbered by row, with Hydra's record of it
    for row in (0, 17, 39):
        assert (blocked_dir / str(row) / "summary.json").is_file()
        overrides = (blocked_dir / str(row) / ".hydra" / "overrides.yaml").read_text()
        assert f"+x1={design['x1'][row].item()!r}" in overrides
    # a block of rows gives exactly what one job per row gives
    pd.testing.assert_frame_equal(runs.drop(columns="run_dir"),
                                  pd.read_parquet(single_dir / "sobol" / sens.RUNS)
                                  .drop(columns="run_dir"))
    pd.testing.assert_frame_equal(pd.read_parquet(blocked_dir / sens.INDICES),
                                  pd.read_parquet(single_dir / sens.INDICES))
    # nested outcomes are read through dots
    assert runs["nested.y2"].to_numpy() == pytest.approx(runs["y"].to_numpy() ** 2)


@pytest.mark.slow
def test_ishigami_indices_match_the_known_values(tmp_path: Path) -> None:
    import numpy as np
    from SALib.analyze import sobol
    from SALib.test_functions import Ishigami

    done, sweep_dir = ishigami(tmp_path, "hydra.sweeper.n=128", "hydra.sweeper.block=320")
    assert done.returncode == 0, done.stderr
    found = indices(sweep_dir)
    for name in ("x1", "x2", "x3"):
        assert found.loc[name, "S1"] == pytest.approx(ISHIGAMI_S1[name], abs=0.05)
        assert found.loc[name, "ST"] == pytest.approx(ISHIGAMI_ST[name], abs=0.08)
        assert 0 < found.loc[name, "ST_conf"] < 0.2
    # the same as SALib's own analysis of the function on the saved design
    design = pd.read_parquet(sweep_dir / "sobol" / sens.DESIGN)
    problem = json.loads((sweep_dir / "sobol" / sens.PROBLEM).read_text())["problem"]
    direct = sobol.analyze(problem, Ishigami.evaluate(design[["x1", "x2", "x3"]].to_numpy()),
                           calc_second_order=False, seed=np.random.default_rng(0))
    assert found["S1"].to_numpy() == pytest.approx(direct["S1"], abs=1e-9)
    assert found["ST_conf"].to_numpy() == pytest.approx(direct["ST_conf"], abs=1e-9)


def test_failed_job_keeps_design_and_statuses(tmp_path: Path) -> None:
    done, sweep_dir = ishigami(tmp_path, "hydra.sweeper.n=4", "hydra.sweeper.block=10",
                               "+fail_above=2.0")
    assert_failed_rows(done, sweep_dir, "x1", 2.0, "x1 too large")


def assert_failed_rows(done: subprocess.CompletedProcess[str], sweep_dir: Path, column: str,
                       above: float, error: str) -> None:
    """The rows with ``column > above`` failed with ``error``; design kept, nothing analysed."""
    assert done.returncode == 1
    assert "Sobol runs failed" in done.stderr and "Traceback" not in done.stderr
    design = pd.read_parquet(sweep_dir / "sobol" / sens.DESIGN)
    runs = pd.read_parquet(sweep_dir / "sobol" / sens.RUNS)
    failed = runs[runs["status"] == "failed"]
    assert set(failed["row"]) == set(design.loc[design[column] > above, "row"]) != set()
    assert failed["error"].str.contains(error).all()
    assert not (sweep_dir / sens.INDICES).exists()


@pytest.mark.parametrize(("overrides", "message"), [
    (["hydra.sweeper.n=100"], "hydra.sweeper.n = 100 is not allowed: a power of 2"),
    (["hydra.sweeper.block=0"], "hydra.sweeper.block = 0 is not allowed"),
    (["+x4=1,2"], "+x4=1,2: hydra/sweeper=sobol varies settings over ranges only"),
    (["+x4=interval(2,1)"], "the lower bound must be below the upper bound"),
])
def test_bad_settings_are_refused_in_one_line(tmp_path: Path, overrides: list[str],
                                              message: str) -> None:
    done, sweep_dir = ishigami(tmp_path, *overrides)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (sweep_dir / sens.SOBOL_DIR / sens.DESIGN).exists()


def test_an_outcome_is_a_key_or_the_difference_of_two() -> None:
    summary = {"a": {"x": 0.75}, "b": 2, "flag": True}
    assert sens.outcome_value(summary, "a.x") == 0.75
    assert sens.outcome_value(summary, "a.x - b") == -1.25
    assert sens.outcome_value(summary, "b - a.x") == 1.25
    assert math.isnan(sens.outcome_value(summary, "b - missing"))
    assert math.isnan(sens.outcome_value(summary, "flag"))


@pytest.mark.parametrize("outcome", ["a - b - c", "a - ", " - b"])
def test_an_outcome_of_more_than_two_keys_is_refused(outcome: str) -> None:
    settings = sens.Settings(n=4, outcomes=(outcome,))
    with pytest.raises(sens.SensitivityError, match="the difference of two"):
        sens.check_settings(settings, [sens.Parameter("x", 0.0, 1.0)])


@pytest.mark.slow
def test_spheres_sobol_sweep_end_to_end(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sobol"
    done = spheres_cli("run", "-m", "hydra/sweeper=sobol", *SMALL, "output.dashboard=false",
                       "market.ad_rate=interval(0,0.1)", "sellers.sense_delay=interval(1,20)",
                       "hydra.sweeper.n=4", "hydra.sweeper.block=8",
                       "hydra.sweeper.outcomes=[sellers_alive,trust_final.sellers]",
                       f"hydra.sweep.dir={sweep_dir}")
    assert done.returncode == 0, done.stderr
    assert "integer settings rounded to the nearest integer: sellers.sense_delay" in done.stdout
    design = pd.read_parquet(sweep_dir / "sobol" / sens.DESIGN)
    assert design["sellers.sense_delay"].dtype == "int64"
    assert design["sellers.sense_delay"].between(1, 20).all()
    summary = json.loads((sweep_dir / "5" / "summary.json").read_text())
    assert summary["config"]["market"]["ad_rate"] == design["market.ad_rate"][5]
    assert summary["config"]["sellers"]["sense_delay"] == design["sellers.sense_delay"][5]
    found = pd.read_parquet(sweep_dir / sens.INDICES)
    assert set(found["outcome"]) == {"sellers_alive", "trust_final.sellers"}
    assert set(found["parameter"]) == {"market.ad_rate", "sellers.sense_delay"}
    # the store loads the indices; the Sobol bookkeeping directory is not taken for a run
    import duckdb

    with duckdb.connect(str(collect(sweep_dir)), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM sensitivity").fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM runs WHERE status = 'ok'").fetchone()[0] == 16
    # its report shows the indices instead of comparing 16 sampled points one by one
    done = spheres_cli("report", str(sweep_dir))
    assert done.returncode == 0, done.stderr
    text = (sweep_dir / "report.md").read_text()
    assert "a sampled design rather than scenarios" in text and "## Main differences" not in text
    assert "## Global sensitivity (Sobol indices)" in text and "trust_final.sellers" in text
    assert (sweep_dir / "sensitivity.png").is_file()


def test_spheres_runs_that_fail_are_recorded_and_not_analysed(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sobol"
    done = spheres_cli("run", "-m", "hydra/sweeper=sobol", "hydra/launcher=basic", *SMALL,
                       "market.need_rate=interval(0.5,1.5)", "hydra.sweeper.n=2",
                       "hydra.sweeper.block=6", f"hydra.sweep.dir={sweep_dir}")
    assert_failed_rows(done, sweep_dir, "market.need_rate", 1.0, "market.need_rate")
    # the sweep is still collected, with the failed runs named
    assert (sweep_dir / "sweep.duckdb").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(("launcher", "block"), [("ray", 6), ("submitit_local", 4)])
def test_the_same_design_gives_the_same_indices_on_every_launcher(
        launcher: str, block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_launchers import LAUNCHERS

    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    design = ["hydra/sweeper=sobol", *SMALL, "market.ad_rate=interval(0,0.1)", "hydra.sweeper.n=4"]
    done = spheres_cli("run", "-m", *design, f"hydra.sweep.dir={tmp_path / 'joblib'}")
    assert done.returncode == 0, done.stderr
    done = spheres_cli("run", "-m", *design, *LAUNCHERS[launcher], f"hydra.sweeper.block={block}",
                       f"hydra.sweep.dir={tmp_path / launcher}")
    assert done.returncode == 0, done.stderr
    for name in (f"sobol/{sens.RUNS}", sens.INDICES):
        here, there = (pd.read_parquet(tmp_path / d / name) for d in ("joblib", launcher))
        pd.testing.assert_frame_equal(here.drop(columns="run_dir", errors="ignore"),
                                      there.drop(columns="run_dir", errors="ignore"))
