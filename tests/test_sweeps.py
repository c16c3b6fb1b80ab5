"""Sweeps through Hydra: the joblib default, progress, failures, resume and exit codes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from omegaconf import DictConfig

import spheres
from spheres.paths import DATABASE, ERROR
from spheres.sweeps.progress import Watcher, sweep_size, tally
from test_cli import composed, spheres_cli

TABLES = ("runs", "strategies", "steps", "sellers", "flows")
# Runs of a sweep whose launcher is not what a test is about: tiny, and run one after another in
# the sweep's own process by Hydra's basic launcher (the same job code, no workers to start).
# Parallel joblib sweeps: test_cli; Ray, submitit and a killed joblib sweep: the slow tests.
TINY = ["n_buyers=100", "steps=3"]
IN_PROCESS = "hydra/launcher=basic"


def tables(sweep_dir: Path) -> dict[str, pd.DataFrame]:
    """Every collected table of a sweep, without wall times, in a fixed row order."""
    with duckdb.connect(str(sweep_dir / DATABASE), read_only=True) as con:
        frames = {t: con.execute(f"SELECT * FROM {t}").df() for t in TABLES}
    frames["runs"] = frames["runs"].drop(columns=["wall_time_s", "run_dir"])
    return {t: f.sort_values(list(f.columns)).reset_index(drop=True) for t, f in frames.items()}


def assert_same_tables(a: Path, b: Path) -> None:
    mine, theirs = tables(a), tables(b)
    for table in TABLES:
        pd.testing.assert_frame_equal(mine[table], theirs[table], obj=table)


def mtimes(sweep_dir: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in sweep_dir.glob("*/summary.json")}


# -- configuration and progress, without running anything ------------------------------------


def test_sweeps_run_through_joblib_on_all_cores_by_default() -> None:
    with_hydra = composed_with_hydra()
    assert with_hydra.hydra.launcher._target_.endswith("JoblibLauncher")
    assert with_hydra.hydra.launcher.n_jobs == -1
    assert "SweepCallback" in with_hydra.hydra.callbacks.sweep._target_


def composed_with_hydra(*overrides: str) -> DictConfig:
    """The composed config with its ``hydra`` node (launcher, callbacks)."""
    from hydra import compose, initialize_config_dir

    from spheres.config.compose import register
    from spheres.paths import config_dir

    register()
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides),
                       return_hydra_config=True)


@pytest.mark.parametrize(
    ("overrides", "size"),
    [(["seed=range(0,20)"], 20), (["seed=range(0,20)", "market.ad_rate=0.01,0.02"], 40),
     (["seed=3,5,8", "market=default,fast_drift", "steps=10"], 6), (["steps=10"], 1)],
)
def test_sweep_size_counts_the_jobs(overrides: list[str], size: int) -> None:
    config = composed_with_hydra()
    config.hydra.overrides.task = overrides
    assert sweep_size(config) == size


def test_launcher_configs_keep_ray_quiet_and_slurm_takes_partition_and_time() -> None:
    ray = composed_with_hydra("hydra/launcher=ray").hydra.launcher
    assert ray.ray.init.include_dashboard is False
    assert ray.ray.init.address is None
    slurm = composed_with_hydra("hydra/launcher=submitit_slurm").hydra.launcher
    assert slurm._target_.endswith("SlurmLauncher")
    assert (slurm.partition, slurm.timeout_min, slurm.cpus_per_task) == (None, 60, 1)
    set_ = composed_with_hydra("hydra/launcher=submitit_slurm", "hydra.launcher.partition=cpu",
                               "hydra.launcher.timeout_min=30").hydra.launcher
    assert (set_.partition, set_.timeout_min) == ("cpu", 30)
    assert composed().steps == 624  # launcher files leave the task config alone


def spheres_sweeper(*overrides: str) -> Any:
    """The default sweeper, set up as ``spheres run -m`` sets it up, without launching."""
    from hydra._internal.callbacks import Callbacks
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.utils import create_config_search_path
    from hydra.core.plugins import Plugins
    from hydra.types import HydraContext, RunMode

    from spheres.config.compose import register
    from spheres.paths import config_dir

    register()
    loader = ConfigLoaderImpl(create_config_search_path(str(config_dir())))
    config = loader.load_configuration("config", list(overrides), RunMode.MULTIRUN)
    return Plugins.instance().instantiate_sweeper(
        hydra_context=HydraContext(config_loader=loader, callbacks=Callbacks()),
        task_function=lambda cfg: None, config=config)


def test_jobs_are_composed_once_per_group_choice_into_hydras_own_config(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.errors import ConfigCompositionException
    from omegaconf import OmegaConf

    sweeper = spheres_sweeper("hydra.sweep.dir=/tmp/sweep", "hydra/launcher=basic")
    assert type(sweeper).__name__ == "SpheresSweeper"
    loader = sweeper.hydra_context.config_loader
    composed: list[list[str]] = []
    load = ConfigLoaderImpl.load_sweep_config

    def counting(self: ConfigLoaderImpl, master: DictConfig, overrides: list[str]) -> DictConfig:
        composed.append(list(overrides))
        return load(self, master, overrides)

    monkeypatch.setattr(ConfigLoaderImpl, "load_sweep_config", counting)
    jobs = [[f"market.ad_rate={p}", f"market={m}", f"seed={s}", "sellers=all_listen",
             "+sellers.mix.cocreate=1"]
            for m in ("default", "fast_drift") for p in (0.01, 0.05) for s in range(5)]
    sweeper.validate_batch_is_legal(jobs)
    assert composed == [["market=default", "sellers=all_listen"],
                        ["market=fast_drift", "sellers=all_listen"]]
    # Each job's config is the one Hydra's own composition of all its overrides gives.
    for job in (jobs[0], jobs[-1]):
        mine = loader.load_sweep_config(sweeper.config, job)
        hydras = load(loader, sweeper.config, job)
        assert mine.hydra.overrides.task == job
        assert (OmegaConf.to_container(mine, resolve=False)
                == OmegaConf.to_container(hydras, resolve=False))
    assert len(composed) == 2
    for bad in ("market.nosuch=1", "n_buyers=abc", "market=nosuch", "+sellers.mix=3"):
        with pytest.raises(ConfigCompositionException):
            sweeper.validate_batch_is_legal([["seed=1"], ["seed=2", bad]])


def fake_run(sweep_dir: Path, job: int, *files: str) -> Path:
    run_dir = sweep_dir / str(job)
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "overrides.yaml").write_text(f"- seed={job}\n")
    for name in files:
        (run_dir / name).write_text("{}")
    return run_dir


def test_progress_counts_finished_and_failed_runs_of_this_sweep(tmp_path: Path) -> None:
    old = fake_run(tmp_path, 0, "summary.json")
    long_ago = time.time() - 3600
    os.utime(old / ".hydra" / "overrides.yaml", (long_ago, long_ago))
    stream = io.StringIO()
    watcher = Watcher(tmp_path, total=4, stream=stream)
    fake_run(tmp_path, 1, "summary.json")
    fake_run(tmp_path, 2, ERROR)
    fake_run(tmp_path, 3)  # started, not finished
    counts = tally(tmp_path, watcher.since)
    assert (counts.done, counts.failed) == (2, 1)
    final = watcher.stop()
    assert (final.done, final.failed) == (2, 1)
    shown = stream.getvalue()
    assert "2/4 runs, 1 failed" in shown
    assert "elapsed" in shown and "left" in shown


# -- sweeps through the command --------------------------------------------------------------


def test_failed_runs_are_recorded_listed_and_collected(tmp_path: Path) -> None:
    done = spheres_cli("run", "-m", *TINY, "n_buyers=-5,100", "seed=1,2", IN_PROCESS,
                       f"hydra.sweep.dir={tmp_path}")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("failed: job")]
    assert lines == [
        f"failed: job {job} (n_buyers=-5 steps=3 seed={seed}): error: n_buyers = -5 "
        "is not allowed: an integer from 2 to 2^31-1"
        for job, seed in ((0, 1), (1, 2))
    ]
    assert "4/4 runs, 2 failed" in done.stderr
    for job in (0, 1):
        record = json.loads((tmp_path / str(job) / ERROR).read_text())
        assert record["overrides"] == ["n_buyers=-5", "steps=3", f"seed={job + 1}"]
        assert "Traceback" in (tmp_path / str(job) / "spheres.log").read_text()
        assert not (tmp_path / str(job) / "summary.json").exists()
    assert "collected 4 runs: 2 ok, 2 failed" in done.stdout
    with duckdb.connect(str(tmp_path / DATABASE), read_only=True) as con:
        runs = con.execute("SELECT job, n_buyers, seed, status, error FROM runs ORDER BY job").df()
        steps = con.execute("SELECT DISTINCT job FROM steps ORDER BY job").df()
    assert runs["status"].tolist() == ["failed", "failed", "ok", "ok"]
    assert runs["n_buyers"].tolist() == [-5, -5, 100, 100]
    assert runs["error"].iloc[0].startswith("n_buyers = -5")
    assert steps["job"].tolist() == [2, 3]


def test_rerun_skips_runs_of_the_same_config_and_redoes_the_rest(tmp_path: Path) -> None:
    sweep = ["run", "-m", *TINY, "seed=1,2,3", IN_PROCESS, f"hydra.sweep.dir={tmp_path}"]
    assert spheres_cli(*sweep).returncode == 0
    assert not list(tmp_path.glob("*/dashboard.png"))  # no per-run dashboards in a sweep
    first = mtimes(tmp_path)
    (tmp_path / "1" / "summary.json").unlink()  # as a run killed before its summary
    # A summary of another resolved config (as after a change of the command) is stale.
    stale = tmp_path / "2" / "summary.json"
    summary = json.loads(stale.read_text())
    summary["config"]["steps"] = 12
    stale.write_text(json.dumps(summary))
    again = spheres_cli(*sweep)
    assert again.returncode == 0, again.stderr
    second = mtimes(tmp_path)
    assert second["0"] == first["0"]
    assert second["1"] != first["1"] and second["2"] != first["2"]
    assert json.loads(stale.read_text())["config"]["steps"] == 3
    assert "collected 3 runs: 3 ok" in again.stdout


def test_a_failing_rerun_leaves_no_stale_result(tmp_path: Path) -> None:
    ok = spheres_cli("run", "-m", *TINY, "seed=4", "output.dashboard=true", IN_PROCESS,
                     f"hydra.sweep.dir={tmp_path}")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "0" / "dashboard.png").is_file()  # asked for explicitly
    bad = spheres_cli("run", "-m", *TINY, "seed=4", "market.need_rate=-1", IN_PROCESS,
                      f"hydra.sweep.dir={tmp_path}")
    assert bad.returncode == 1
    assert not (tmp_path / "0" / "summary.json").exists()
    assert "market.need_rate" in json.loads((tmp_path / "0" / ERROR).read_text())["error"]
    with duckdb.connect(str(tmp_path / DATABASE), read_only=True) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("failed",)]


# Unknown keys and more bad values, checked without a process each: the sweeper test above.
@pytest.mark.parametrize("override", ["market=nosuch,default", "n_buyers=abc,100",
                                      "seed=range(a)", "hydra/launcher=nosuch"])
def test_a_misconfigured_sweep_exits_2(tmp_path: Path, override: str) -> None:
    done = spheres_cli("run", "-m", *TINY, override, f"hydra.sweep.dir={tmp_path}")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: ") or "error: " in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / DATABASE).exists()
    assert not list(tmp_path.glob("*/summary.json"))


# -- interrupted and resumed -----------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_sweep_resumed_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    overrides = ["n_buyers=400", "steps=40", "seed=range(0,8)", "market.ad_rate=0.01,0.05",
                 "hydra.launcher.n_jobs=2"]
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert spheres_cli("run", "-m", *overrides, f"hydra.sweep.dir={whole}").returncode == 0

    env = dict(os.environ)
    src = str(Path(spheres.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen([sys.executable, "-m", "spheres.cli", "run", "-m", *overrides,
                             f"hydra.sweep.dir={resumed}"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while len(list(resumed.glob("*/summary.json"))) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(resumed.glob("*/summary.json")))
    assert 3 <= finished < 16
    assert not (resumed / DATABASE).exists()

    partial = spheres_cli("collect", str(resumed))
    assert partial.returncode == 0, partial.stderr
    assert f"{finished} ok" in partial.stdout

    before = mtimes(resumed)
    again = spheres_cli("run", "-m", *overrides, f"hydra.sweep.dir={resumed}")
    assert again.returncode == 0, again.stderr
    after = mtimes(resumed)
    assert all(after[job] == t for job, t in before.items())  # finished runs were skipped
    assert len(after) == 16
    assert_same_tables(whole, resumed)


# -- the benchmark's arithmetic (the benchmark itself is run by hand: spheres bench-sweep) -----


def test_bench_sweep_table_gives_speed_up_and_overhead_per_run() -> None:
    from spheres.bench.sweeps import SETUPS, Timing, format_table, main

    serial = Timing(SETUPS[0], wall_s=30.0, simulate_s=20.0, runs=20)
    parallel = Timing(SETUPS[1], wall_s=15.0, simulate_s=24.0, runs=20)
    assert serial.overhead_per_run_s(20.0) == pytest.approx(0.5)
    assert parallel.overhead_per_run_s(20.0) == pytest.approx(0.5)
    lines = format_table([serial, parallel]).splitlines()
    assert lines[1].split()[-4:] == ["30.0", "1.00x", "1.000", "0.500"]
    assert lines[2].split()[-4:] == ["15.0", "2.00x", "1.200", "0.500"]
    assert main(["--runs", "0"]) == 2


# -- the default sweeper's own pieces against Hydra's basic sweeper and config loader ----------

GRIDS = [
    ["seed=range(0,4)"],
    ["seed=3,5,8", "market=default,fast_drift", "steps=10"],
    # a key given twice
    ["market.ad_rate=0.01,0.05", "seed=range(0,3)", "market.ad_rate=0.2,0.3,0.4"],
    ["+sellers.mix.cocreate=1,2", "sellers=all_listen", "~output.top", "n_buyers=100"],
    ["hydra/launcher=basic", "seed=choice(1,2)", "market.need_rate=range(0.1,0.3,0.1)"],
    ["steps=10"],
    [],
]


def parsed(overrides: list[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(overrides)


@pytest.mark.parametrize("overrides", GRIDS, ids=[" ".join(g) or "none" for g in GRIDS])
def test_the_grid_is_the_basic_sweepers(overrides: list[str]) -> None:
    """Jobs, their order, override strings and batches are those of Hydra's basic sweeper."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    from spheres.sweeps import grid

    jobs = grid.job_overrides(parsed(overrides))
    assert grid.batches(jobs, None) == BasicSweeper.split_arguments(parsed(overrides), None)
    for size in (1, 2, 5):
        assert grid.batches(jobs, size) == BasicSweeper.split_arguments(parsed(overrides), size)


def test_the_grid_refuses_what_the_basic_sweeper_refuses() -> None:
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.errors import HydraException

    from spheres.sweeps import grid

    with pytest.raises(HydraException):
        BasicSweeper.split_arguments(parsed(["market.ad_rate=interval(0,1)"]), None)
    with pytest.raises(HydraException, match="interval"):
        grid.job_overrides(parsed(["market.ad_rate=interval(0,1)"]))
    with pytest.raises(HydraException, match="max_batch_size"):
        grid.batches([["seed=1"]], 0)


@pytest.mark.parametrize(("exclude", "item_sep", "kv_sep"),
                         [([], ",", "="), (["seed"], "__", ":"), (["seed", "market"], "/", "-")])
def test_override_dirname_is_hydras(exclude: list[str], item_sep: str, kv_sep: str) -> None:
    from hydra._internal.config_loader_impl import get_overrides_dirname

    from spheres.sweeps import grid

    overrides = parsed(["seed=3", "market=fast_drift", "+sellers.mix.cocreate=1", "steps=10",
                        "~output.top", "++n_buyers=50"])
    assert grid.override_dirname(overrides, exclude, item_sep, kv_sep) == get_overrides_dirname(
        overrides=overrides, exclude_keys=exclude, item_sep=item_sep, kv_sep=kv_sep)


APPLIED = [["seed=4", "market.ad_rate=0.05"], ["+sellers.mix.cocreate=1"], ["++seed=9"],
           ["++market.new_key=1"], ["~output.top"], ["~output.top=5"], ["+market={a: 1}"],
           ["n_buyers=abc"], ["market.nosuch=1"], ["+seed=3"], ["~output.top=7"],
           ["~market.nosuch"], ["sellers.mix={listen: 3}"]]


@pytest.mark.parametrize("overrides", APPLIED, ids=[" ".join(a) for a in APPLIED])
def test_value_overrides_apply_as_hydras(overrides: list[str]) -> None:
    """The same config, or the same error, as Hydra's own application of value overrides."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from omegaconf import OmegaConf

    from spheres.sweeps import grid

    def apply(function: Any) -> tuple[str, Any]:
        config = composed_with_hydra()
        OmegaConf.set_struct(config, True)
        try:
            function(parsed(overrides), config)
        except Exception as err:
            cause = type(err.__cause__).__name__ if err.__cause__ else None
            return "error", (type(err).__name__, str(err), cause)
        return "ok", OmegaConf.to_container(config, resolve=False)

    mine = apply(grid.apply_overrides)
    assert mine == apply(ConfigLoaderImpl._apply_overrides_to_config)
    if overrides[0] in ("n_buyers=abc", "market.nosuch=1", "+seed=3"):
        assert mine[0] == "error"


def hydra_job_files(sweep_dir: Path) -> dict[str, Any]:
    """What Hydra recorded of each job: its overrides, override_dirname, number and config."""
    import yaml

    jobs = {}
    for run_dir in sorted(p for p in sweep_dir.iterdir() if p.name.isdigit()):
        hydra = yaml.safe_load((run_dir / ".hydra" / "hydra.yaml").read_text())["hydra"]
        jobs[run_dir.name] = {
            "overrides": yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text()),
            "task": hydra["overrides"]["task"],
            "override_dirname": hydra["job"]["override_dirname"],
            "num": hydra["job"]["num"],
            "choices": hydra["runtime"]["choices"],
            "config": yaml.safe_load((run_dir / ".hydra" / "config.yaml").read_text()),
        }
    return jobs


def test_a_sweep_runs_the_jobs_of_hydras_basic_sweeper(tmp_path: Path) -> None:
    """The same jobs, numbers, overrides, override_dirname, configs and results as the same
    multirun through ``hydra/sweeper=basic``."""
    sweep = ["run", "-m", *TINY, "seed=1,2", "market=default,fast_drift", "+sellers.mix.seed=1",
             "market.ad_rate=0.05", IN_PROCESS]
    basic, mine = tmp_path / "basic", tmp_path / "spheres"
    done = spheres_cli(*sweep, "hydra/sweeper=basic", f"hydra.sweep.dir={basic}")
    assert done.returncode == 0, done.stderr
    assert "4/4 runs" in done.stderr  # the basic sweeper's runs are counted too
    done = spheres_cli(*sweep, f"hydra.sweep.dir={mine}")
    assert done.returncode == 0, done.stderr
    assert "4/4 runs" in done.stderr
    theirs, ours = hydra_job_files(basic), hydra_job_files(mine)
    assert sorted(ours) == ["0", "1", "2", "3"]
    for job in ours:
        ours[job]["choices"].pop("hydra/sweeper")
        theirs[job]["choices"].pop("hydra/sweeper")
    assert ours == theirs
    assert ours["3"]["overrides"] == ["n_buyers=100", "steps=3", "seed=2", "market=fast_drift",
                                      "+sellers.mix.seed=1", "market.ad_rate=0.05"]
    assert_same_tables(basic, mine)


def test_sweep_size_knows_the_basic_and_sobol_sweepers_and_no_other() -> None:
    config = composed_with_hydra("hydra/sweeper=basic")
    config.hydra.overrides.task = ["seed=range(0,3)", "market=default,fast_drift"]
    assert sweep_size(config) == 6
    sobol = composed_with_hydra("hydra/sweeper=sobol", "hydra.sweeper.n=8")
    sobol.hydra.overrides.task = ["market.ad_rate=interval(0,0.1)", "market.contacts=interval(1,5)"]
    assert sweep_size(sobol) == 8 * (2 + 2)
    sobol.hydra.sweeper.calc_second_order = True
    assert sweep_size(sobol) == 8 * (2 * 2 + 2)
    other = composed_with_hydra()
    other.hydra.sweeper._target_ = "somewhere.else.Sweeper"
    assert sweep_size(other) is None
    refused = composed_with_hydra()
    refused.hydra.overrides.task = ["seed=interval(0,1)"]
    assert sweep_size(refused) is None
