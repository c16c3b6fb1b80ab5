"""The benchmark command: its tables, the alternation of versions, the sellers axis, the numpy
diffusion baseline, and its refusal of bad options."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ADS_ONCE_A_YEAR, weekly
from spheres import simulate
from spheres.bench import engines
from spheres.bench.engines import (
    combine,
    diffusion_config,
    diffusion_switches,
    numpy_diffusion,
    scaled_mix,
    table,
)
from spheres.bench.graphs import graph_table, model_graph
from spheres.config import MechanismsConfig, SellersConfig
from spheres.model.model import MarketModel

MARKET_COLUMNS = ["buyers", "sellers", "held in mind", "engine", "steps", "set-up (s)",
                  "median step (ms CPU)",
                  "ns per buyer-step", "total (s)", "peak RSS (MB)", "vector/agent"]
DIFFUSION_COLUMNS = ["nodes", "version", "steps", "set-up (s)", "median step (ms CPU)",
                     "ns per node-step", "reach at end", "total (s)", "peak RSS (MB)",
                     "spheres/numpy"]


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table in ``text``: its rows (the header first, the rule left out) as
    lists of cells."""
    tables: list[list[list[str]]] = []
    last = False
    for line in text.splitlines():
        is_row = line.startswith("|")
        if is_row and not line.startswith("|--"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not last:
                tables.append([])
            tables[-1].append(cells)
        last = is_row
    return tables


def number(cell: str) -> float:
    """A table cell as a number (thousands separators and a trailing x dropped)."""
    return float(cell.replace(",", "").removesuffix("x"))


def check_pair(rows: list[list[str]], version_col: int, ratio: tuple[str, str]) -> None:
    """Two versions' rows: every figure positive or zero and finite, the median step and ns per
    step positive, and the ratio (on the numerator's row) equal to the ratio of the printed
    median step times."""
    by_version = {r[version_col]: r for r in rows}
    assert set(by_version) == set(ratio) and len(rows) == 2
    step_col = version_col + 3
    for r in rows:
        figures = [number(c) for i, c in enumerate(r) if i > version_col and c]
        assert all(math.isfinite(f) and f >= 0 for f in figures)
        assert number(r[step_col]) > 0 and number(r[step_col + 1]) > 0
    step = {v: number(by_version[v][step_col]) for v in ratio}
    numerator, denominator = ratio
    shown_on = "vector" if "vector" in ratio else numerator
    assert by_version[next(v for v in ratio if v != shown_on)][-1] == ""
    shown = number(by_version[shown_on][-1])
    assert shown == pytest.approx(step[numerator] / step[denominator], rel=0.06, abs=0.06)


def test_quick_bench_runs_end_to_end(tmp_path: Path) -> None:
    """``spheres bench --quick`` measures two sellers counts with both engines and the diffusion
    job with both versions, each run in its own process, and prints consistent tables."""
    out = subprocess.run(
        [sys.executable, "-m", "spheres.cli", "bench", "--quick", "--json",
         str(tmp_path / "raw.json")], capture_output=True, text=True, check=True)
    markets, diffusion = markdown_tables(out.stdout)
    assert markets[0] == MARKET_COLUMNS and diffusion[0] == DIFFUSION_COLUMNS
    for sellers in ("10", "20"):
        rows = [r for r in markets[1:] if r[:2] == ["300", sellers]]
        assert all(r[2] == "all" for r in rows)  # no cap on memory
        check_pair(rows, version_col=3, ratio=("agent", "vector"))
    assert len(markets) == 5
    rows = [r for r in diffusion[1:] if r[0] == "2,000"]
    check_pair(rows, version_col=1, ratio=("spheres", "numpy"))
    assert all(0 < number(r[6]) <= 1 for r in rows)  # reach at the end
    assert "[1/3] measuring 300 buyers x 10 sellers" in out.stderr
    assert "[3/3] measuring diffusion job, 2,000 nodes" in out.stderr
    raw = json.loads((tmp_path / "raw.json").read_text())
    assert [(r["job"], r["engine"]) for r in raw] == [
        ("market", "vector"), ("market", "agent"), ("market", "vector"), ("market", "agent"),
        ("diffusion", "spheres"), ("diffusion", "numpy")]
    assert all(r["peak_rss_mb"] > 0 for r in raw)


def test_bench_with_a_memory_cap_and_entrants() -> None:
    """``--max-known`` and ``--entrants`` give a market row per cap, entry on with the room
    shown beside the sellers; a cap that holds every seller is skipped, saying so."""
    out = subprocess.run(
        [sys.executable, "-m", "spheres.cli", "bench", "--sizes", "300", "--sellers", "20",
         "--max-known", "0,4,23", "--entrants", "3", "--agent-max", "0", "--diffusion", "none",
         "--steps", "2", "--repeats", "1"], capture_output=True, text=True, check=True)
    (markets,) = markdown_tables(out.stdout)
    assert [r[:4] for r in markets[1:]] == [["300", "20 + 3 entrants", "all", "vector"],
                                            ["300", "20 + 3 entrants", "4", "vector"]]
    assert "measuring 300 buyers x 20 sellers, 4 held in mind" in out.stderr
    assert "skipped 300 buyers x 20 sellers, 23 held in mind" in out.stderr


def test_bench_refuses_bad_sizes_on_the_command_line() -> None:
    """A size that is not an integer >= 2 exits with a usage error, not a traceback."""
    out = subprocess.run([sys.executable, "-m", "spheres.cli", "bench", "--sizes", "1"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert out.stderr.strip() == ("spheres bench: error: --sizes must be comma-separated "
                                  "integers >= 2, got '1'")


@pytest.mark.parametrize(("argv", "named"), [
    (["--sellers", "0"], "--sellers"),
    (["--sellers", "ten"], "--sellers"),
    (["--diffusion", "1"], "--diffusion"),
    (["--repeats", "0"], "--repeats"),
    (["--diffusion-steps", "0"], "--diffusion-steps"),
    (["--agent-budget", "0"], "--agent-budget"),
    (["--agent-max", "-1"], "--agent-max"),
    (["--max-known", "-1"], "--max-known"),
    (["--entrants", "-1"], "--entrants"),
    (["--steps", "x"], "--steps"),
    (["--json", "/no/such/folder/raw.json"], "--json"),
    (["--sellers", "6000", "--diffusion", "none"], "sellers.mix"),
])
def test_bench_refuses_bad_options(argv: list[str], named: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A bad option value (or a configuration the model refuses) stops the benchmark before
    any run, with a one-line message naming it and exit code 2."""
    with pytest.raises(SystemExit) as stop:
        engines.main(["--quick", *argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("spheres bench: error:") and named in err


def test_versions_alternate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated runs alternate between the versions of a configuration: a, b, a, b, a, b."""
    order: list[str] = []

    def fake_child(spec: dict) -> dict:
        order.append(spec["engine"])
        return {"engine": spec["engine"], "run": len(order)}

    monkeypatch.setattr(engines, "run_child", fake_child)
    runs = engines.interleaved([{"engine": "vector"}, {"engine": "agent"}], repeats=3)
    assert order == ["vector", "agent"] * 3
    assert [[r["run"] for r in rs] for rs in runs] == [[1, 3, 5], [2, 4, 6]]


def test_sellers_scale_the_default_mix() -> None:
    """The default mix at its own size; other counts keep its presets in equal shares and add
    up to the count asked for."""
    default = SellersConfig().mix
    assert scaled_mix(sum(default.values())) == default
    assert scaled_mix(200) == dict.fromkeys(default, 40)
    for count in (1, 7, 13, 50):
        mix = scaled_mix(count)
        assert sum(mix.values()) == count
        assert max(mix.values()) - min(mix.values()) <= 1


def test_diffusion_job_switches_everything_off_but_advertising() -> None:
    """The diffusion job's switches are the study's: advertising on, every other off."""
    switches = diffusion_switches()
    names = [f.name for f in dataclasses.fields(MechanismsConfig)]
    assert switches == {name: name == "advertising" for name in names}


def test_numpy_baseline_runs_on_the_models_graph() -> None:
    """The numpy version's graph is the very graph the model builds for the same config."""
    cfg = diffusion_config(800, 2, 5, diffusion_switches())
    mine, models = model_graph(cfg), MarketModel(cfg).graph
    assert np.array_equal(mine.indptr, models.indptr)
    assert np.array_equal(mine.indices, models.indices)


def test_numpy_baseline_computes_the_same_diffusion() -> None:
    """The numpy version's awareness curve follows the spheres run's reach within 0.05 at every
    step, where the advertising-only curve is more than 0.3 away: the baseline really spreads
    awareness by word of mouth."""
    switches = diffusion_switches()
    need_rate = weekly(market__need_rate=0.3)["market.need_rate"]
    # a tenth aware at the start and ads about once a year: an early curve that noise hardly moves
    start = {"need_rate": need_rate, "initial_awareness": 0.1, "ad_rate": ADS_ONCE_A_YEAR}
    cfg = diffusion_config(5000, 30, 0, switches, **start, p_word_of_mouth=0.3)
    spheres = simulate(cfg).sellers["reach"].to_numpy()
    _, reach = numpy_diffusion(cfg, model_graph(cfg), np.random.default_rng(1))
    ads = diffusion_config(5000, 30, 0, switches, **start, p_word_of_mouth=0.0)
    _, ads_only = numpy_diffusion(ads, model_graph(ads), np.random.default_rng(1))
    assert spheres.size == len(reach) == 30
    assert np.abs(spheres - np.array(reach)).max() < 0.05
    assert np.abs(spheres - np.array(ads_only)).max() > 0.3
    assert np.all(np.diff(reach) >= 0)


def test_combine_takes_medians_of_repeated_runs() -> None:
    """Repeated runs combine into medians of set-up, per-run median step, total and final reach;
    the largest peak memory."""
    runs = [{"n_buyers": 10, "engine": "spheres", "steps": 3, "setup_s": s, "step_s": steps,
             "total_s": t, "peak_rss_mb": rss, "reach": [0.1, end]}
            for s, steps, t, rss, end in ((1.0, [1, 2, 3], 5.0, 10.0, 0.5),
                                          (3.0, [4, 5, 6], 9.0, 30.0, 0.7),
                                          (2.0, [7, 8, 9], 7.0, 20.0, 0.6))]
    row = combine(runs)
    assert (row["setup_s"], row["step_s"], row["total_s"]) == (2.0, [2, 5, 8], 7.0)
    assert (row["peak_rss_mb"], row["repeats"], row["reach_final"]) == (30.0, 3, 0.6)


def test_table_reports_median_ns_per_buyer_step_and_ratio() -> None:
    """The table's figures come from the medians of the step times, one ratio per
    (buyers, sellers, memory cap, entrants) configuration."""
    rows = [
        {"job": "market", "n_buyers": 1000, "sellers": 10, "engine": "vector", "steps": 3,
         "setup_s": 0.1, "step_s": [0.001, 0.002, 0.009], "total_s": 0.112, "peak_rss_mb": 100},
        {"job": "market", "n_buyers": 1000, "sellers": 10, "engine": "agent", "steps": 3,
         "setup_s": 0.2, "step_s": [0.2, 0.3, 0.4], "total_s": 1.1, "peak_rss_mb": 120.0},
        {"job": "market", "n_buyers": 1000, "sellers": 50, "engine": "vector", "steps": 3,
         "setup_s": 0.1, "step_s": [0.004], "total_s": 0.2, "peak_rss_mb": 150.0},
    ]
    rows.append({**rows[0], "max_known": 4, "entrants": 2, "step_s": [0.003]})
    text = table(rows)
    assert "| 1,000 | 10 | all | vector | 3 | 0.10 | 2.00 | 2000 | 0.1 | 100 | 150x |" in text
    assert "| 1,000 | 10 | all | agent | 3 | 0.20 | 300.00 | 300000 | 1.1 | 120 |  |" in text
    assert "| 1,000 | 50 | all | vector | 3 | 0.10 | 4.00 | 4000 | 0.2 | 150 |  |" in text
    # a capped market is its own configuration: no ratio with the uncapped agent run
    assert ("| 1,000 | 10 + 2 entrants | 4 | vector | 3 | 0.10 | 3.00 | 3000 | 0.1 | 100 |  |"
            in text)


def test_diffusion_table_reports_spheres_over_numpy() -> None:
    """The diffusion table's ratio is spheres' median step time over numpy's."""
    rows = [{"job": "diffusion", "n_buyers": 10_000, "sellers": 1, "engine": engine,
             "steps": 5, "setup_s": 0.5, "step_s": [t], "total_s": 1.0, "peak_rss_mb": 90.0,
             "reach_final": 0.25}
            for engine, t in (("spheres", 0.0021), ("numpy", 0.0003))]
    text = table(rows)
    assert "| 10,000 | spheres | 5 | 0.50 | 2.10 | 210 | 0.250 | 1.0 | 90 | 7.0x |" in text
    assert "| 10,000 | numpy | 5 | 0.50 | 0.3 | 30 | 0.250 | 1.0 | 90 |  |" in text


def test_graph_table_times_every_kind_and_an_edge_list() -> None:
    """The graph timing covers each generated kind and an edge-list file of 10 n lines."""
    text = graph_table(500, seed=1)
    for kind in ("erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm"):
        assert f"| {kind} | 500 |" in text
    assert "| edge-list file, 5,000 lines | 500 |" in text
