"""The what-if report: statistics, plain-language readings, files, and refused arguments."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from spheres.analysis.estimate import (
    MISSING,
    Estimate,
    difference_ci,
    error_bars,
    format_estimate,
    format_number,
    mean_ci,
    middle_band,
)
from spheres.analysis.figures import (
    PALETTE,
    figure,
    png,
    series_colors,
    strategy_color,
    strategy_colors,
)
from spheres.analysis.store import Store
from spheres.errors import ReportError
from spheres.paths import DATABASE
from spheres.report.cli import write_report
from spheres.report.figures import share_by_strategy, survival_by_strategy
from spheres.report.sweep import load, pick_baseline
from spheres.sweeps.collect import collect
from test_cli import SMALL, spheres_cli

STEPS = 100
FIGURES = ("outcomes.png", "survival.png", "market_share.png", "currency_flows.png")
BASELINE_SURVIVAL = {1: 39, 2: 40, 3: 41, 4: 40}  # listen sellers' steps alive by seed


def make_store(sweep_dir: Path, seeds_per_scenario: int = 4) -> Path:
    """A collected store as the contract describes it, with known differences.

    Scenario ``market.ad_rate=0.01`` (the baseline): listen sellers exit after 39–41 steps;
    ``market.ad_rate=0.05``: after 79–81 steps (40 more). Job 8 failed, job 9 is incomplete.
    """
    sweep_dir.mkdir(parents=True)
    runs, strategies, steps, sellers, flows = [], [], [], [], []
    job = 0
    for ad_rate, extra in ((0.01, 0), (0.05, 40)):
        for seed in range(1, seeds_per_scenario + 1):
            life = BASELINE_SURVIVAL[seed] + extra
            runs.append({"job": job, "run_dir": str(job), "market.ad_rate": ad_rate, "seed": seed,
                         "status": "ok", "error": None, "wall_time_s": 1.0,
                         "sellers_alive": 2, "currency_mint": 1000 + seed,
                         "currency_convert_in": 0, "currency_convert_out": 10 * seed,
                         "trust_final_peers": 0.6, "trust_final_influencers": 0.5,
                         "trust_final_sellers": 0.4 - ad_rate + 0.001 * seed,
                         "score_influence_spearman": 0.5})
            strategies += [
                {"job": job, "strategy": "listen", "start": 2, "entered": 0, "alive": 0,
                 "mean_survival_steps": float(life), "final_share": 0.0, "cash": 0},
                {"job": job, "strategy": "broadcast", "start": 2, "entered": 0, "alive": 2,
                 "mean_survival_steps": float(STEPS), "final_share": 1.0, "cash": 100}]
            for step in range(1, STEPS + 1):
                steps.append({"job": job, "step": step, "hhi": 0.5, "currency_gini": 0.3})
                for seller, strategy in enumerate(("listen", "listen", "broadcast",
                                                   "broadcast")):
                    alive = strategy == "broadcast" or step < life
                    share = (0.25 if step < life else 0.5) if strategy == "broadcast" else (
                        0.25 if alive else 0.0)
                    sellers.append({"job": job, "step": step, "seller_id": seller,
                                    "strategy": strategy, "alive": alive, "share": share,
                                    "profit": 10 if alive else 0})
                for kind, amount in (("mint", 10), ("burn", 2)):
                    flows.append({"job": job, "step": step, "source_type": "none",
                                  "destination_type": "buyer", "kind": kind, "amount": amount})
            job += 1
    runs.append({**runs[0], "job": job, "run_dir": str(job), "seed": 9, "status": "failed",
                 "error": "RuntimeError: boom", "sellers_alive": None})
    runs.append({**runs[0], "job": job + 1, "run_dir": str(job + 1), "seed": 10,
                 "status": "incomplete", "sellers_alive": None})
    frames = {"runs": pd.DataFrame(runs), "strategies": pd.DataFrame(strategies),
              "steps": pd.DataFrame(steps), "sellers": pd.DataFrame(sellers),
              "flows": pd.DataFrame(flows),
              "swept": pd.DataFrame({"key": ["market.ad_rate"], "type": ["DOUBLE"]})}
    with duckdb.connect(str(sweep_dir / DATABASE)) as con:
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    return sweep_dir


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("report") / "sweep")


@pytest.fixture(scope="module")
def report(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    write_report([store], out=out)
    return out


def test_mean_and_difference_intervals() -> None:
    e = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert e.value == 2.5 and e.low < 2.5 < e.high and e.n == 4
    assert mean_ci([1.0, 2.0, 3.0, 4.0]) == e  # a fixed random state: reproducible
    one = mean_ci([5.0])
    assert one.value == 5.0 and not one.has_interval
    d = difference_ci([80.0, 79.0, 81.0], [40.0, 39.0, 41.0])
    assert d.value == pytest.approx(40.0) and 38 < d.low < 40 < d.high < 42 and d.clear
    noisy = difference_ci([1.0, 9.0, 5.0], [2.0, 8.0, 4.0])
    assert noisy.low < 0 < noisy.high and not noisy.clear
    assert not difference_ci([80.0], [40.0]).clear  # one seed: never clear
    assert np.isnan(mean_ci([]).value)


def test_estimates_are_written_and_drawn_one_way() -> None:
    assert format_number(-1234.5, 1) == "-1,234.5" and format_number(float("nan"), 2) == "–"
    assert format_estimate(Estimate(2.5, 1.25, 3.75, 4), 2) == "2.50 (1.25 to 3.75)"
    assert format_estimate(Estimate(5.0, float("nan"), float("nan"), 1), 1) == "5.0"
    values, below, above = error_bars([Estimate(2.0, 1.5, 3.0, 4), MISSING,
                                       Estimate(5.0, float("nan"), float("nan"), 1)])
    assert below.tolist() == [0.5, 0.0, 0.0] and above.tolist() == [1.0, 0.0, 0.0]
    assert values[0] == 2.0 and np.isnan(values[1])
    wide = pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 3.0], "c": [2.0, 5.0]}, index=[1, 2])
    mean, low, high = middle_band(wide)
    assert mean.tolist() == [1.0, 3.0] and (low < mean).all() and (mean < high).all()
    assert np.isnan(middle_band(wide[["a"]])[1]).all()  # one run: no band


def test_a_strategy_has_one_colour_whatever_else_is_drawn() -> None:
    assert strategy_colors(["listen", "broadcast"]) == {
        "listen": strategy_color("listen"), "broadcast": strategy_color("broadcast")}
    assert strategy_colors(["inert"])["inert"] == PALETTE[0]
    # Names the registry does not hold get colours apart from the registry's, and from each other.
    odd = strategy_colors(["listen", "unknown_a", "unknown_b"])
    assert len(set(odd.values())) == 3 and odd["listen"] == strategy_color("listen")
    assert series_colors(["x", "y", "x"]) == {"x": PALETTE[0], "y": PALETTE[1]}
    fig, axes = figure(4, cols=3)
    assert len(axes) == 4 and len(fig.axes) == 6 and not fig.axes[5].get_visible()
    assert not axes[0].spines["top"].get_visible()  # the one style
    assert png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_draws_strategies_in_their_colours(store: Path) -> None:
    sweep = load([store])
    for fig in (survival_by_strategy(sweep), share_by_strategy(sweep)):
        drawn = {line.get_label().split(" ")[0]: to_hex(line.get_color())
                 for ax in fig.axes for line in ax.lines}
        assert drawn == {"broadcast": strategy_color("broadcast"),
                         "listen": strategy_color("listen")}


def test_a_store_is_opened_read_only_and_closed(store: Path) -> None:
    with Store(store / DATABASE) as opened:
        assert opened.keys == ["market.ad_rate"]
        assert opened.scenarios == ["market.ad_rate=0.01", "market.ad_rate=0.05"]
        assert len(opened.runs) == 8 and opened.experiment() is None
        assert {"runs", "swept", "sellers"} <= opened.tables()
        with pytest.raises(duckdb.Error):
            opened.con.execute("DELETE FROM runs")
    with pytest.raises(duckdb.Error):
        opened.df("SELECT 1")


def test_scenarios_and_baseline_choice(store: Path) -> None:
    sweep = load([store])
    assert sweep.scenarios == ["market.ad_rate=0.01", "market.ad_rate=0.05"]
    assert pick_baseline(sweep.scenarios, None) == "market.ad_rate=0.01"
    assert pick_baseline(sweep.scenarios, "0.05") == "market.ad_rate=0.05"
    with pytest.raises(ReportError, match="matches 2 scenarios"):
        pick_baseline(sweep.scenarios, "ad_rate")
    with pytest.raises(ReportError, match=r"matches no scenario; the scenarios are: "
                                          r"market.ad_rate=0.01; market.ad_rate=0.05"):
        pick_baseline(sweep.scenarios, "ad_rate=0.2")
    # failed and incomplete runs are kept for naming, never among the outcomes
    assert set(sweep.runs["status"]) == {"ok", "failed", "incomplete"}
    assert len(sweep.outcomes) == 8 and (sweep.outcomes["status"] == "ok").all()


def test_report_reads_the_known_difference(report: Path) -> None:
    text = (report / "report.md").read_text()
    top = text[:text.index("## How to read")]
    assert "## What this sweep compared" in top and "## Main differences" in top
    assert "market.ad_rate=0.01 (baseline)" in top and "market.ad_rate=0.05" in top
    assert re.search(r"Listen sellers survive 40\.0 steps longer \(95% CI 3\d\.\d–4\d\.\d\) "
                     r"than in the baseline\.", top)
    assert "Buyers end up trusting sellers less" in top
    # equal outcomes are not read out as differences
    assert "peers" not in top and "concentrated" not in top
    assert "10 runs in 2 scenarios" in top and "1 failed and 1 did not finish" in top


def test_report_names_failed_runs_and_leaves_them_out(report: Path) -> None:
    text = (report / "report.md").read_text()
    failures = text[text.index("## Failed and incomplete runs"):]
    assert "failed — run sweep:8" in failures and "RuntimeError: boom" in failures
    assert "incomplete — run sweep:9" in failures
    assert "| 4 |" in text  # four finished seeds per scenario, not five or six


def without_images(page: str) -> str:
    """The page without its embedded images, whose base64 can spell "http" by chance."""
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)


def test_report_files_are_self_contained(report: Path) -> None:
    page = (report / "report.html").read_text()
    assert "http" not in without_images(page).lower()
    assert page.count('src="data:image/png;base64,') == len(FIGURES)
    for name in FIGURES:
        assert (report / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in (report / "report.md").read_text()
    assert "Listen sellers survive 40.0 steps longer" in page


def test_one_seed_gives_means_without_intervals(tmp_path: Path) -> None:
    store = make_store(tmp_path / "one", seeds_per_scenario=1)
    write_report([store], out=tmp_path / "out")
    text = (tmp_path / "out" / "report.md").read_text()
    assert "No difference from the baseline is clearly larger than its 95% interval" in text
    assert "Some scenarios here have a single seed" in text
    assert "| mean steps in the market of listen sellers | 39.0 | 79.0 |" in text
    assert "| mean steps in the market of listen sellers | 40.0 |" in text  # no interval, no *


def test_several_sweeps_and_sensitivity(store: Path, tmp_path: Path) -> None:
    other = make_store(tmp_path / "other")
    with duckdb.connect(str(other / DATABASE)) as con:
        con.execute("CREATE TABLE sensitivity AS SELECT * FROM (VALUES "
                    "('sellers_alive', 'market.ad_rate', 0.7, 0.05, 0.8, 0.04)) "
                    "t(outcome, parameter, S1, S1_conf, ST, ST_conf)")
    write_report([store, other], out=tmp_path / "out", baseline="sweep, market.ad_rate=0.05")
    text = (tmp_path / "out" / "report.md").read_text()
    assert "sweep=sweep, market.ad_rate=0.05 (baseline)" in text
    assert "sweep=other, market.ad_rate=0.01" in text
    assert "## Global sensitivity (Sobol indices)" in text
    assert (tmp_path / "out" / "sensitivity.png").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["{missing}"], "has no sweep.duckdb; run `spheres collect"),
    (["{store}", "--baseline", "ad_rate=0.3"], "--baseline 'ad_rate=0.3' matches no scenario"),
    (["{store}", "--baseline", "market"], "--baseline 'market' matches 2 scenarios"),
])
def test_bad_arguments_give_one_line_and_exit_2(store: Path, tmp_path: Path, args: list[str],
                                               message: str) -> None:
    out = tmp_path / "out"
    filled = [a.format(missing=tmp_path / "nowhere", store=store) for a in args]
    done = spheres_cli("report", *filled, "--out", str(out))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
def test_report_of_a_real_sweep(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    done = spheres_cli("run", "-m", *SMALL, "steps=40", "output.dashboard=false",
                       "sellers=listen_vs_broadcast", "seed=1,2,3", "market.ad_rate=0.0,0.2",
                       f"hydra.sweep.dir={sweep_dir}")
    assert done.returncode == 0, done.stderr
    collect(sweep_dir)
    done = spheres_cli("report", str(sweep_dir))
    assert done.returncode == 0, done.stderr
    text = (sweep_dir / "report.md").read_text()
    assert "6 runs in 2 scenarios" in text
    assert "market.ad_rate=0 (baseline)" in text and "market.ad_rate=0.2" in text
    # advertising that misses what buyers want lowers their trust in sellers
    assert "Buyers end up trusting sellers less" in text
    page = (sweep_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(FIGURES)
    assert "http" not in without_images(page).lower()


def test_no_finished_run_is_said_plainly(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "failed"
    sweep_dir.mkdir()
    with duckdb.connect(str(sweep_dir / DATABASE)) as con:
        con.execute("CREATE TABLE runs AS SELECT * FROM (VALUES (0, '0', 0.01, 1, 'failed', "
                    "'ConfigError: market.need_rate = 2.0 is not allowed', 0.1)) "
                    "t(job, run_dir, \"market.ad_rate\", seed, status, error, wall_time_s)")
        con.execute("CREATE TABLE swept AS SELECT 'market.ad_rate' AS key, 'DOUBLE' AS type")
        con.execute("CREATE TABLE strategies (job INTEGER, strategy VARCHAR, start BIGINT, "
                    "entered BIGINT, alive BIGINT, mean_survival_steps DOUBLE, "
                    "final_share DOUBLE, cash BIGINT)")
        for table in ("steps", "sellers", "flows"):
            con.execute(f"CREATE TABLE {table} (job INTEGER)")
    write_report([sweep_dir], out=tmp_path / "out")
    text = (tmp_path / "out" / "report.md").read_text()
    assert "No run finished, so there is nothing to compare." in text
    assert "ConfigError: market.need_rate = 2.0 is not allowed" in text
