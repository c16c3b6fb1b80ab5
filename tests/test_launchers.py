"""The same sweep through Ray (a local instance) and submitit (local) equals the joblib sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from test_cli import spheres_cli
from test_sweeps import assert_same_tables

# Four runs, two of which fail (market.need_rate=2 is refused): failures must travel too.
SWEEP = ["n_buyers=300", "steps=15", "seed=1,2", "market.need_rate=0.2,2"]
LAUNCHERS = {
    "ray": ["hydra/launcher=ray", "hydra.launcher.ray.init.num_cpus=2",
            "hydra.launcher.ray.init.include_dashboard=false"],
    "submitit_local": ["hydra/launcher=submitit_local"],
}


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sweep_dir = tmp_path_factory.mktemp("joblib")
    done = spheres_cli("run", "-m", *SWEEP, f"hydra.sweep.dir={sweep_dir}")
    assert done.returncode == 1, done.stderr
    return sweep_dir


@pytest.mark.slow
@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_launcher_collects_the_same_results_as_joblib(
        launcher: str, joblib_sweep: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    done = spheres_cli("run", "-m", *SWEEP, *LAUNCHERS[launcher], f"hydra.sweep.dir={tmp_path}")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("failed: job")]
    assert len(failed) == 2 and all("market.need_rate" in line for line in failed)
    assert "collected 4 runs: 2 ok, 2 failed" in done.stdout
    assert_same_tables(joblib_sweep, tmp_path)
