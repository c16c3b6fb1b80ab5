"""Writing results: files, atomic summary, dashboard, and the printed summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import weekly_config
from spheres import Results
from spheres.model.currency import KINDS, REASONS
from spheres.run import files
from spheres.run.files import write_results
from spheres.run.text import format_summary

STRATEGIES = ("inert", "broadcast", "listen")


def small_results(dashboard: bool = False, ledger: bool = False, steps: int = 4) -> Results:
    """A hand-made Results with the columns of a real run, for writing tests."""
    config = weekly_config(steps=steps, n_buyers=20, **{"output.dashboard": dashboard})
    rng = np.random.default_rng(0)
    metrics = pd.DataFrame({
        "step": np.arange(1, steps + 1),
        "sellers_alive": [3] * steps,
        "hhi": rng.random(steps),
        "trust_peers": np.linspace(0.6, 0.7, steps),
        "trust_influencers": np.linspace(0.5, 0.4, steps),
        "trust_sellers": np.linspace(0.4, 0.2, steps),
    })
    rows = []
    for step in range(1, steps + 1):
        shares = rng.dirichlet(np.ones(len(STRATEGIES)))
        for seller, strategy in enumerate(STRATEGIES):
            rows.append({"step": step, "seller_id": seller, "strategy": strategy,
                         "alive": not (strategy == "inert" and step > 2),
                         "cash": 1000 - step, "revenue": 10, "costs": 5, "profit": 5,
                         "sales": 3, "share": float(shares[seller]), "sync": 0.1,
                         "sync_customers": 0.1, "reach": 0.5, "price": 1000})
    sellers = pd.DataFrame(rows)
    flows = pd.DataFrame([
        {"step": s, "source_type": "none", "destination_type": "buyer", "kind": KINDS[k],
         "reason": r, "amount": int(rng.integers(0, 100))}
        for s in range(1, steps + 1) for r, k in REASONS.items()
    ])
    agents = pd.DataFrame({
        "agent_id": np.arange(20), "agent_type": ["influencer"] + ["buyer"] * 19,
        "score": rng.random(20), "true_influence": rng.integers(0, 9, 20),
        "lifetime_value": rng.integers(0, 5000, 20), "network_value": rng.random(20),
        "currency": rng.integers(0, 50, 20),
    })
    summary = {
        "sellers_alive_by_strategy": {s: {"start": 1, "entered": int(s == "listen"),
                                          "alive": int(s != "inert") + int(s == "listen")}
                                      for s in STRATEGIES},
        "currency_by_kind": {"mint": 500, "transfer": 40, "convert_in": 30, "convert_out": 10,
                             "burn": 20},
        "score_influence_spearman": np.float64(0.25),
        "top_by_score": [{"agent_id": int(i), "agent_type": "buyer", "score": 1.0 / (i + 1),
                          "true_influence": 3} for i in range(5)],
        "top_by_true_influence": [{"agent_id": int(i), "agent_type": "influencer",
                                   "score": 0.5, "true_influence": 10 - i} for i in range(5)],
        "ledger_identity_holds": True,
        "gini": float("nan"),
        "trust_final": {"peers": 0.7, "influencers": 0.4, "sellers": 0.2},
        "credibility_final": 0.55,
        "promotions": 3,
    }
    entries = None
    if ledger:
        entries = pd.DataFrame({"step": [1, 1], "kind": ["mint", "burn"],
                                "reason": ["advice", "decay"], "source_type": ["none", "buyer"],
                                "source": [-1, 3], "destination_type": ["buyer", "none"],
                                "destination": [3, -1], "amount": [10, 1]})
    return Results(config=config, metrics=metrics, sellers=sellers, flows=flows, agents=agents,
                   summary=summary, ledger_entries=entries)


def test_write_results_writes_tables_and_summary(tmp_path: Path) -> None:
    results = small_results()
    written = write_results(results, tmp_path)
    assert set(written) == {"metrics", "sellers", "flows", "agents", "summary"}
    for name in ("metrics", "sellers", "flows", "agents"):
        frame = pd.read_parquet(written[name])
        pd.testing.assert_frame_equal(frame, getattr(results, name), check_dtype=False)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["currency_by_kind"]["mint"] == 500
    assert summary["score_influence_spearman"] == 0.25
    assert summary["gini"] is None  # NaN is not JSON
    assert not (tmp_path / "ledger.parquet").exists()
    assert not (tmp_path / "dashboard.png").exists()


def test_no_temporary_files_left(tmp_path: Path) -> None:
    write_results(small_results(dashboard=True, ledger=True), tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["agents.parquet", "dashboard.png", "flows.parquet", "ledger.parquet",
                     "metrics.parquet", "sellers.parquet", "summary.json"]


def test_dashboard_is_a_png(tmp_path: Path) -> None:
    written = write_results(small_results(dashboard=True), tmp_path)
    assert written["dashboard"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dashboard_with_empty_tables(tmp_path: Path) -> None:
    results = small_results(dashboard=True)
    results.flows = results.flows.iloc[0:0]
    results.metrics = results.metrics[["step"]]
    written = write_results(results, tmp_path)
    assert written["dashboard"].stat().st_size > 0


def test_failing_write_leaves_no_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_results(small_results(), tmp_path)  # an earlier complete write in the same directory
    assert (tmp_path / "summary.json").exists()

    real = files.write_parquet

    def failing(frame: pd.DataFrame, path: Path) -> Path:
        if path.name == "flows.parquet":
            raise OSError("disk full")
        return real(frame, path)

    monkeypatch.setattr(files, "write_parquet", failing)
    with pytest.raises(OSError, match="disk full"):
        write_results(small_results(), tmp_path)
    assert not (tmp_path / "summary.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_failing_parquet_write_leaves_no_partial_file(tmp_path: Path) -> None:
    results = small_results()
    results.agents = pd.DataFrame({"bad": [object()]})  # pyarrow cannot write this
    with pytest.raises(Exception):  # noqa: B017 - whatever pyarrow raises
        write_results(results, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["flows.parquet", "metrics.parquet", "sellers.parquet"]


def test_unserialisable_summary_leaves_no_summary(tmp_path: Path) -> None:
    results = small_results()
    results.summary["oops"] = object()
    with pytest.raises(TypeError):
        write_results(results, tmp_path)
    assert not (tmp_path / "summary.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_format_summary_is_compact_and_complete() -> None:
    text = format_summary(small_results().summary)
    lines = text.splitlines()
    assert len(lines) <= 25
    assert "inert 0/1" in text and "listen 2/2 (1 entered)" in text
    for word in ("minted 500", "transferred 40", "converted in 30", "converted out 10",
                 "burned 20"):
        assert word in text
    header = next(line for line in lines if line.startswith("top by score"))
    assert "top by true influence" in header
    assert "+0.250" in text
    assert "identities hold: currency ledger yes" in text
    assert ("trust at the end: peers 0.70, influencers 0.40, sellers 0.20; influencers' "
            "credibility 0.55; promotions to influencer 3") in text


def test_format_summary_tolerates_missing_parts() -> None:
    assert format_summary({}) == ""
    text = format_summary({"score_influence_spearman": math.nan})
    assert "n/a" in text


def test_dashboard_colours_each_strategy_as_every_other_figure() -> None:
    from matplotlib.colors import to_hex

    from spheres.analysis.figures import strategy_colors
    from spheres.run.dashboard import dashboard

    alive = dashboard(small_results()).axes[0]
    shown = {c.get_label(): to_hex(c.get_facecolor()[0]) for c in alive.collections}
    assert shown == strategy_colors(STRATEGIES)
