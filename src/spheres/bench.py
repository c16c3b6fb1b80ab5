"""Benchmark the two engines: set-up time, time per step, ns per buyer-step and peak memory.

``spheres bench`` measures each (buyers, engine) pair in fresh Python processes, so that the
peak resident memory it reports belongs to that run alone, and prints a Markdown table. Step
times are the process's CPU time (``time.process_time``, single-threaded numpy), which other
work on a shared machine disturbs much less than wall time; set-up and totals are wall time.
Each pair is measured ``--repeats`` times and the median of the per-run medians is reported.
The vector/agent speed ratio compares the two engines measured in the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

DEFAULT_SIZES = "1000,10000,100000,1000000"


def measure(n_buyers: int, engine: str, steps: int, seed: int) -> dict[str, Any]:
    """Build one default market of ``n_buyers`` and time ``steps`` steps with ``engine``."""
    from spheres.config import make_config
    from spheres.model.model import MarketModel

    cfg = make_config(n_buyers=n_buyers, steps=steps, seed=seed, engine=engine,
                      **{"output.progress": False})
    t0 = time.perf_counter()
    model = MarketModel(cfg)
    setup = time.perf_counter() - t0
    cpu = []
    for _ in range(steps):
        t = time.process_time()
        model.step()
        cpu.append(time.process_time() - t)
    return {
        "n_buyers": n_buyers,
        "engine": engine,
        "steps": steps,
        "setup_s": setup,
        "step_s": cpu,
        "total_s": time.perf_counter() - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_child(n: int, engine: str, steps: int, seed: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "spheres.bench", "--child", str(n), engine, str(steps), str(seed)]
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run(cmd, capture_output=True, text=True, check=False,
                         env={**os.environ, **threads})
    if out.returncode != 0:
        raise RuntimeError(f"benchmark of {engine} at {n} buyers failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agent_steps(n: int, budget_s: float) -> int:
    """Steps of the agent engine that fit the time budget (roughly 40 us per buyer-step)."""
    return max(2, min(20, int(budget_s / (n * 40e-6))))


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from repeated runs of a (size, engine) pair: medians of set-up, per-run median
    step time and total; the largest peak RSS."""
    row = dict(runs[0])
    row["repeats"] = len(runs)
    row["setup_s"] = statistics.median(r["setup_s"] for r in runs)
    row["step_s"] = [statistics.median(r["step_s"]) for r in runs]
    row["total_s"] = statistics.median(r["total_s"] for r in runs)
    row["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return row


def table(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table, with the vector/agent ratio per size."""
    median = {(r["n_buyers"], r["engine"]): statistics.median(r["step_s"]) for r in rows}
    lines = [
        "| buyers | engine | steps | set-up (s) | median step (ms CPU) | ns per buyer-step "
        "| total (s) | peak RSS (MB) | vector/agent |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        n, eng = r["n_buyers"], r["engine"]
        med = median[(n, eng)]
        ratio = ""
        if eng == "vector" and (n, "agent") in median:
            ratio = f"{median[(n, 'agent')] / med:.0f}x"
        lines.append(
            f"| {n:,} | {eng} | {r['steps']} | {r['setup_s']:.2f} | {med * 1e3:.2f} "
            f"| {med / n * 1e9:.0f} | {r['total_s']:.1f} | {r['peak_rss_mb']:.0f} | {ratio} |")
    return "\n".join(lines)


def graph_table(n: int, seed: int) -> str:
    """Time every generated network kind at ``n`` nodes (mean degree 10) and the loading of an
    edge-list file of ``10 n`` edges; a Markdown table."""
    import tempfile

    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from spheres.config import NetworkConfig
    from spheres.model.network import build_network

    lines = ["| network | nodes | edges | seconds |", "|---|---:|---:|---:|"]
    for kind in ("erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm"):
        t = time.perf_counter()
        graph, _ = build_network(NetworkConfig(kind=kind, mean_degree=10.0), n, seed)
        lines.append(f"| {kind} | {n:,} | {graph.n_edges:,} | {time.perf_counter() - t:.2f} |")
    rng = np.random.default_rng(seed)
    m = 10 * n
    edges = pa.table({"a": rng.integers(0, n, m), "b": rng.integers(0, n, m)})
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/edges.csv"
        pacsv.write_csv(edges, path, pacsv.WriteOptions(include_header=False))
        t = time.perf_counter()
        graph, _ = build_network(NetworkConfig(kind="edgelist", path=path), n, seed)
        lines.append(f"| edge-list file, {m:,} lines | {n:,} | {graph.n_edges:,} "
                     f"| {time.perf_counter() - t:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``spheres bench``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        n, engine, steps, seed = argv[1:5]
        print(json.dumps(measure(int(n), engine, int(steps), int(seed))))
        return 0
    parser = argparse.ArgumentParser(
        prog="spheres bench",
        description="Time both engines on the default market (10 sellers, Barabási–Albert "
                    "graph of mean degree 10) at several numbers of buyers.")
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"comma-separated numbers of buyers (default {DEFAULT_SIZES})")
    parser.add_argument("--steps", type=int, default=100,
                        help="steps of the vector engine per size (default 100)")
    parser.add_argument("--agent-max", type=int, default=100_000,
                        help="largest size run with the agent engine (default 100000)")
    parser.add_argument("--agent-budget", type=float, default=120.0,
                        help="seconds of stepping allowed to the agent engine per size, over "
                             "all repeats (default 120); sets its number of steps")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each size and engine; the median is reported (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default 0)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw timings to FILE")
    parser.add_argument("--graphs", type=int, metavar="N", default=0,
                        help="also time building each network kind with N nodes and loading "
                             "an edge-list file of 10 N edges")
    args = parser.parse_args(argv)
    try:
        sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if not sizes or min(sizes) < 2:
        parser.error("--sizes: every size must be an integer >= 2")
    if args.steps < 1:
        parser.error("--steps must be >= 1")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.graphs < 0 or args.graphs == 1:
        parser.error("--graphs must be an integer >= 2 (or 0 for none)")
    rows = []
    for n in sizes:
        runs = [("vector", args.steps)]
        if n <= args.agent_max:
            runs.append(("agent", _agent_steps(n, args.agent_budget / args.repeats)))
        for engine, steps in runs:
            print(f"measuring {engine} engine, {n:,} buyers, {steps} steps, "
                  f"{args.repeats} runs ...", file=sys.stderr, flush=True)
            rows.append(combine([_run_child(n, engine, steps, args.seed)
                                 for _ in range(args.repeats)]))
    print(f"spheres bench on {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}; seed {args.seed}; median of {args.repeats} runs each\n")
    print(table(rows))
    if args.graphs:
        print(f"\n{graph_table(args.graphs, args.seed)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
