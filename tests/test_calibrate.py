"""spheres calibrate: bad input refused before any simulation, a small fit end to end, the same
posterior with any number of processes, Ctrl-C leaving nothing, and recovery of known settings."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import spheres
from spheres import simulate
from spheres.calibrate.observed import read_observed, simulated
from spheres.calibrate.outputs import calibrated_config
from spheres.calibrate.spec import base_config, with_values
from spheres.errors import EXIT_INTERRUPTED, EXIT_USAGE
from test_cli import spheres_cli

# A small Bass-limit market: one advertiser, awareness by ads and word of mouth alone.
MARKET = ("experiment=diffusion", "sellers=all_broadcast", "sellers.mix.broadcast=1",
          "network=erdos_renyi", "network.mean_degree=10", "n_buyers=300",
          "time.steps_per_year=4", "market.initial_awareness=0.05", "market.need_rate=2",
          "market.contacts=3", "sellers.marketing_budget=1000000",
          "sellers.fixed_cost_per_buyer=0")
FIT = ("--fit", "market.ad_rate=0.01:0.6", "--fit", "market.p_word_of_mouth=0.005:0.15")
TRUE = {"market.ad_rate": 0.2, "market.p_word_of_mouth": 0.05}


def observed_csv(path: Path, values: dict[str, float], seed: int, years: int = 8) -> Path:
    """A series simulated by spheres at ``values``: the advertiser's reach at each year's end."""
    config = base_config(MARKET, steps=4 * years)
    res = simulate(with_values(config, {**values, "seed": seed}))
    reach = res.sellers.set_index("step")["reach"]
    steps = np.arange(4, 4 * years + 1, 4)
    pd.DataFrame({"year": steps / 4, "seller_0.reach": reach.loc[steps].to_numpy()}).to_csv(
        path, index=False)
    return path


def calibrate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``spheres calibrate`` with ``args``."""
    return spheres_cli("calibrate", *args, cwd=cwd)


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The advertiser's reach simulated at the true settings, 8 years."""
    return observed_csv(tmp_path_factory.mktemp("obs") / "obs.csv", TRUE, seed=7)


@pytest.mark.parametrize(("change", "message"), [
    ({"file": "missing.csv"}, "no such file"),
    ({"csv": "year,nonsense\n1,0.1\n2,0.2\n3,0.3\n"}, "not a model output"),
    ({"csv": "year,seller_0.reach\n1,0.1\n2,abc\n3,0.3\n"}, "'abc' is not a number"),
    ({"csv": "year,seller_4.reach\n1,0.1\n2,0.2\n3,0.3\n"}, "no seller 4"),
    ({"csv": "year,seller_0.reach\n1,0.1\n2,0.2\n"}, "at least 3"),
    ({"csv": "when,seller_0.reach\n1,0.1\n2,0.2\n3,0.3\n"}, "time column"),
    ({"csv": "year,seller_0.reach\n0,0.1\n2,0.2\n3,0.3\n"}, "year > 0"),
    ({"fit": ["--fit", "market.ad_rate=-1:0.5"]}, "market.ad_rate range [-1, 0.5]"),
    ({"fit": ["--fit", "market.p_word_of_mouth=0.1:2"]}, "market.p_word_of_mouth"),
    ({"fit": ["--fit", "market.nonsense=0:1"]}, "'market.nonsense' is not a setting"),
    ({"fit": ["--fit", "network.kind=0:1"]}, "not a number"),
    ({"fit": ["--fit", "market.ad_rate=0.5"]}, "SETTING=LOW:HIGH"),
    ({"fit": []}, "nothing to fit"),
    ({"extra": ["--population-size", "2"]}, "population_size = 2"),
    ({"extra": ["nonsense_key=3"]}, "overrides"),
    ({"extra": ["--spec", "no_such_spec"]}, "no such file"),
])
def test_bad_input_is_refused_before_any_simulation(tmp_path: Path, change: dict,
                                                     message: str) -> None:
    data = tmp_path / "obs.csv"
    data.write_text(change.get("csv", "year,seller_0.reach\n1,0.1\n2,0.2\n3,0.3\n"))
    path = str(tmp_path / change["file"]) if "file" in change else str(data)
    out = tmp_path / "out"
    done = calibrate(path, *MARKET, *change.get("fit", FIT), *change.get("extra", []),
                     "--out", str(out))
    assert done.returncode == EXIT_USAGE, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert not out.exists() and list(tmp_path.iterdir()) == [data]


def test_an_existing_output_directory_is_refused(tmp_path: Path, series: Path) -> None:
    (tmp_path / "out").mkdir()
    done = calibrate(str(series), *MARKET, *FIT, "--out", str(tmp_path / "out"))
    assert done.returncode == EXIT_USAGE and "exists" in done.stderr


def test_observed_years_become_steps_and_runs_give_the_same_columns(tmp_path: Path) -> None:
    data = tmp_path / "obs.csv"
    data.write_text("year,seller_0.reach,trust_peers\n0.5,0.1,\n1,0.2,0.6\n2.25,0.3,0.55\n")
    observed = read_observed(data, steps_per_year=4)
    assert observed.steps.tolist() == [2, 4, 9] and observed.points() == 5
    res = simulate(base_config(MARKET, steps=observed.last_step))
    got = simulated(res, observed)
    assert np.isnan(got["trust_peers"][0]) and np.isfinite(got["trust_peers"][1:]).all()
    reach = res.sellers.set_index("step")["reach"]
    assert got["seller_0.reach"].tolist() == reach.loc[[2, 4, 9]].tolist()


def test_the_calibrated_config_keeps_group_choices_apart_from_settings() -> None:
    text = calibrated_config(["sellers=mixed", "hydra/launcher=joblib", "n_buyers=500",
                              "+market.contacts=4"], {"market.ad_rate": 0.1})
    config = yaml.safe_load(text)
    assert config["defaults"] == ["config", {"override sellers": "mixed"},
                                  {"override hydra/launcher": "joblib"}, "_self_"]
    assert config["n_buyers"] == 500
    assert config["market"] == {"contacts": 4, "ad_rate": 0.1}


def small_fit(series: Path, out: Path, procs: int) -> subprocess.CompletedProcess[str]:
    """Two generations of 8 particles."""
    return calibrate(str(series), *MARKET, *FIT, "--populations", "2", "--population-size",
                     "8", "--predictive", "4", "--procs", str(procs), "--out", str(out))


def test_a_small_calibration_writes_everything_and_its_config_runs(tmp_path: Path,
                                                                   series: Path) -> None:
    out = tmp_path / "fit"
    done = small_fit(series, out, procs=2)
    assert done.returncode == 0, done.stderr
    assert "generation 2/2" in done.stderr and "market.ad_rate" in done.stdout
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == ["market.ad_rate", "market.p_word_of_mouth", "weight"]
    assert len(posterior) == 8 and posterior["weight"].sum() == pytest.approx(1)
    assert posterior["market.ad_rate"].between(0.01, 0.6).all()
    summary = json.loads((out / "summary.json").read_text())
    assert [s["setting"] for s in summary["settings"]] == list(posterior.columns[:2])
    assert all(s["low_5%"] <= s["median"] <= s["high_95%"] for s in summary["settings"])
    assert (out / "predictive.png").read_bytes()[:4] == b"\x89PNG"
    config = yaml.safe_load((out / "calibrated.yaml").read_text())
    assert config["market"]["ad_rate"] == pytest.approx(summary["settings"][0]["median"])
    assert {"override experiment": "diffusion"} in config["defaults"]
    ran = spheres_cli("run", "--config-dir", str(out), "--config-name", "calibrated", "steps=4",
                      f"hydra.run.dir={tmp_path / 'run'}")
    assert ran.returncode == 0, ran.stderr
    assert "300 buyers, 4 steps" in ran.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_the_posterior_does_not_depend_on_the_number_of_processes(tmp_path: Path,
                                                                    series: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert small_fit(series, one, procs=1).returncode == 0
    assert small_fit(series, two, procs=2).returncode == 0
    pd.testing.assert_frame_equal(pd.read_parquet(one / "posterior.parquet"),
                                  pd.read_parquet(two / "posterior.parquet"))


def test_ctrl_c_leaves_no_calibration(tmp_path: Path, series: Path) -> None:
    out = tmp_path / "fit"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(spheres.__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, "-m", "spheres.cli", "calibrate", str(series),
                             *MARKET, *FIT, "--populations", "50", "--population-size", "20",
                             "--procs", "1", "--out", str(out)],
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    assert proc.stderr.readline().startswith("fitting")
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("one Ctrl-C did not stop the calibration") from None
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert "no calibration written" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_calibration_recovers_known_settings() -> None:
    """Series simulated at known settings are fitted; the 90% interval of each setting holds
    the true value in at least 17 of 20 repetitions (each its own seed of the series)."""
    hits = {key: 0 for key in TRUE}
    for rep in range(20):
        with tempfile.TemporaryDirectory() as tmp:
            data = observed_csv(Path(tmp) / "obs.csv", TRUE, seed=100 + rep)
            done = calibrate(str(data), *MARKET, *FIT, "--populations", "4",
                             "--population-size", "40", "--predictive", "2", "--seed", str(rep),
                             "--out", str(Path(tmp) / "fit"))
            assert done.returncode == 0, done.stderr
            summary = json.loads((Path(tmp) / "fit" / "summary.json").read_text())
        for row in summary["settings"]:
            hits[row["setting"]] += row["low_5%"] <= TRUE[row["setting"]] <= row["high_95%"]
    assert all(h >= 17 for h in hits.values()), hits


@pytest.mark.slow
def test_the_colour_tv_series_gives_the_standard_bass_estimates(tmp_path: Path) -> None:
    """The README's worked example, smaller: colour TV in US households fitted in the Bass
    limit. The standard Bass least-squares fit of the series (m free) gives p = 0.0359 and
    q = 0.180 a year; the calibration's 90% intervals hold them and its medians are within a
    factor 1.5 (q = need_rate x contacts x p_word_of_mouth = 6 p_word_of_mouth)."""
    done = calibrate("--spec", "bass_colour_tv", "--populations", "4", "--population-size",
                     "60", "--predictive", "4", "--out", str(tmp_path / "fit"))
    assert done.returncode == 0, done.stderr
    rows = {r["setting"]: r for r in
            json.loads((tmp_path / "fit" / "summary.json").read_text())["settings"]}
    p, wom = rows["market.ad_rate"], rows["market.p_word_of_mouth"]
    assert p["low_5%"] <= 0.0359 <= p["high_95%"]
    assert 6 * wom["low_5%"] <= 0.180 <= 6 * wom["high_95%"]
    assert 0.0359 / 1.5 <= p["median"] <= 0.0359 * 1.5
    assert 0.180 / 1.5 <= 6 * wom["median"] <= 0.180 * 1.5


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_posterior(tmp_path: Path, series: Path) -> None:
    """--scheduler runs the simulations on a Dask cluster (here a local one of two worker
    processes); the posterior is the one of a single process."""
    from distributed import LocalCluster

    local = tmp_path / "local"
    assert small_fit(series, local, procs=1).returncode == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        done = calibrate(str(series), *MARKET, *FIT, "--populations", "2", "--population-size",
                         "8", "--predictive", "4", "--scheduler", cluster.scheduler_address,
                         "--out", str(tmp_path / "dask"))
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(local / "posterior.parquet"),
                                  pd.read_parquet(tmp_path / "dask" / "posterior.parquet"))
