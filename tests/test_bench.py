"""The benchmark command prints a table for both engines and refuses bad options."""

from __future__ import annotations

import subprocess
import sys

from spheres.bench import combine, graph_table, table


def test_bench_prints_both_engines_and_their_ratio() -> None:
    """``spheres bench`` at a tiny size times both engines, each in its own process."""
    out = subprocess.run(
        [sys.executable, "-m", "spheres.cli", "bench", "--sizes", "300", "--steps", "3",
         "--agent-max", "300", "--agent-budget", "1", "--repeats", "2"],
        capture_output=True, text=True, check=True)
    rows = [line for line in out.stdout.splitlines() if line.startswith("| 300 |")]
    assert [r.split("|")[2].strip() for r in rows] == ["vector", "agent"]
    assert rows[0].rstrip("| ").endswith("x")  # the vector/agent ratio
    assert "measuring agent engine, 300 buyers" in out.stderr
    assert "median of 2 runs each" in out.stdout


def test_bench_refuses_bad_sizes() -> None:
    """A size that is not an integer >= 2 exits with a usage error, not a traceback."""
    out = subprocess.run([sys.executable, "-m", "spheres.cli", "bench", "--sizes", "1"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 2
    assert "--sizes" in out.stderr and "Traceback" not in out.stderr


def test_combine_takes_medians_of_repeated_runs() -> None:
    """Repeated runs combine into medians of set-up, per-run median step and total."""
    runs = [{"n_buyers": 10, "engine": "vector", "steps": 3, "setup_s": s, "step_s": steps,
             "total_s": t, "peak_rss_mb": rss}
            for s, steps, t, rss in ((1.0, [1, 2, 3], 5.0, 10.0), (3.0, [4, 5, 6], 9.0, 30.0),
                                     (2.0, [7, 8, 9], 7.0, 20.0))]
    row = combine(runs)
    assert (row["setup_s"], row["step_s"], row["total_s"]) == (2.0, [2, 5, 8], 7.0)
    assert (row["peak_rss_mb"], row["repeats"]) == (30.0, 3)


def test_table_reports_median_ns_per_buyer_step_and_ratio() -> None:
    """The table's figures come from the medians of the step times."""
    rows = [
        {"n_buyers": 1000, "engine": "vector", "steps": 3, "setup_s": 0.1,
         "step_s": [0.001, 0.002, 0.009], "total_s": 0.112, "peak_rss_mb": 100.0},
        {"n_buyers": 1000, "engine": "agent", "steps": 3, "setup_s": 0.2,
         "step_s": [0.2, 0.3, 0.4], "total_s": 1.1, "peak_rss_mb": 120.0},
    ]
    text = table(rows)
    assert "| 1,000 | vector | 3 | 0.10 | 2.00 | 2000 | 0.1 | 100 | 150x |" in text
    assert "| 1,000 | agent | 3 | 0.20 | 300.00 | 300000 | 1.1 | 120 |  |" in text


def test_graph_table_times_every_kind_and_an_edge_list() -> None:
    """The graph timing covers each generated kind and an edge-list file of 10 n lines."""
    text = graph_table(500, seed=1)
    for kind in ("erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm"):
        assert f"| {kind} | 500 |" in text
    assert "| edge-list file, 5,000 lines | 500 |" in text
