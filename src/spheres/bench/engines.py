"""Benchmark the engines: set-up time, time per step, ns per buyer-step and peak memory.

``spheres bench`` measures two jobs and prints a Markdown table of each:

- **Markets** of the default settings at each (buyers, sellers) configuration, with the vector
  and the agent engine. Many sellers are the default mix's presets scaled to the count (equal
  shares of inert, broadcast, listen, sponsor and cocreate sellers; 10 sellers is the default
  mix itself). The agent engine runs only up to ``--agent-max`` buyers.
- **The bare diffusion job**: one advertising seller (mix ``{broadcast: 1}``), every other
  mechanism off and buyers alike in their need rates (the switches and market of
  ``configs/experiment/diffusion.yaml``), an Erdős–Rényi graph of
  mean degree 10, the default ``ad_rate`` and ``p_word_of_mouth``, and a budget that always pays
  ``ad_rate``; beside it a plain numpy version of the same diffusion on the same graph
  (:func:`numpy_diffusion`).

Every run is a fresh Python process, so that the peak resident memory it reports belongs to that
run alone. The runs of one configuration alternate between the two versions (vector, agent,
vector, agent, ...), so that a change in the load of a shared machine falls on both; the ratio
column compares the two as measured in the same invocation. Step times are the process's CPU
time (``time.process_time``, single-threaded numpy), which other work on a shared machine
disturbs much less than wall time; set-up and totals are wall time. Each version is run
``--repeats`` times and the median of the per-run medians is reported.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from omegaconf import OmegaConf

from spheres.bench.graphs import graph_table, model_graph
from spheres.config import ConfigError, SellersConfig, SpheresConfig, make_config
from spheres.model.clock import RATE_CERTAIN, per_step
from spheres.model.model import MarketModel
from spheres.model.network import Graph
from spheres.paths import config_dir

DEFAULT_SIZES = "1000,10000,100000,1000000"
DEFAULT_SELLERS = "10"
DEFAULT_DIFFUSION = "1000000"
# Defaults of the options that --quick changes: (full run, quick run).
PRESETS: dict[str, tuple[Any, Any]] = {
    "sizes": (DEFAULT_SIZES, "300"),
    "sellers": (DEFAULT_SELLERS, "10,20"),
    "steps": (100, 3),
    "agent_budget": (120.0, 1.0),
    "repeats": (3, 1),
    "diffusion": (DEFAULT_DIFFUSION, "2000"),
    "diffusion_steps": (50, 5),
}
# Which version's row shows the ratio, and the ratio's numerator and denominator (CPU time).
RATIOS = {"market": ("vector", "agent", "vector"), "diffusion": ("spheres", "spheres", "numpy")}
RATIO_TITLE = {"market": "vector/agent", "diffusion": "spheres/numpy"}


# -- the two jobs' configurations ---------------------------------------------------------------


def scaled_mix(sellers: int) -> dict[str, int]:
    """The default seller mix's presets scaled to ``sellers`` sellers in all.

    Counts are shared by largest remainders; at its own size the default mix itself.
    """
    base = SellersConfig().mix
    total = sum(base.values())
    exact = {k: v * sellers / total for k, v in base.items()}
    counts = {k: int(e) for k, e in exact.items()}
    short = sellers - sum(counts.values())
    for k in sorted(base, key=lambda k: counts[k] - exact[k])[:short]:
        counts[k] += 1
    return {k: c for k, c in counts.items() if c > 0}


def market_config(n: int, sellers: int, engine: str, steps: int, seed: int, max_known: int = 0,
                  entrants: int = 0) -> SpheresConfig:
    """The default market with ``n`` buyers and ``sellers`` sellers (:func:`scaled_mix`).

    Each buyer holds up to ``max_known`` sellers in mind (0: all); with ``entrants``, entry is on
    with room for that many entrants.
    """
    entry = {"mechanisms.entry": True, "sellers.max_entrants": entrants} if entrants else {}
    return make_config({"sellers": {"mix": scaled_mix(sellers)}}, n_buyers=n, steps=steps,
                       seed=seed, engine=engine, **{"output.progress": False,
                                                    "market.max_known": max_known, **entry})


def diffusion_switches() -> dict[str, bool]:
    """The mechanism switches of the diffusion study, read from its experiment file."""
    node = OmegaConf.load(config_dir() / "experiment" / "diffusion.yaml")
    return {str(k): bool(v) for k, v in node["mechanisms"].items()}


def diffusion_market() -> dict[str, Any]:
    """The market settings of the diffusion study (buyers alike), read from its experiment file."""
    node = OmegaConf.load(config_dir() / "experiment" / "diffusion.yaml")
    return {str(k): v for k, v in node["market"].items()}


def diffusion_config(n: int, steps: int, seed: int, switches: dict[str, bool],
                     **market: Any) -> SpheresConfig:
    """The bare diffusion job's config.

    One broadcasting seller whose budget always pays ``ad_rate``, the given switches, the
    study's market (buyers alike, as in :func:`numpy_diffusion`), an Erdős–Rényi graph of mean
    degree 10; ``market`` overrides ``market.*`` settings.
    """
    return make_config({"sellers": {"mix": {"broadcast": 1}, "marketing_budget": RATE_CERTAIN,
                                     "fixed_cost_per_buyer": 0},
                        "mechanisms": switches, "market": {**diffusion_market(), **market},
                        "network": {"kind": "erdos_renyi", "mean_degree": 10.0}},
                       n_buyers=n, steps=steps, seed=seed, engine="vector",
                       **{"output.progress": False})


def numpy_diffusion(cfg: SpheresConfig, graph: Graph, rng: np.random.Generator
                    ) -> tuple[list[float], list[float]]:
    """A plain numpy version of the bare diffusion on ``graph``.

    Returns the CPU time of each step and the share of buyers aware after it.

    Each buyer starts aware with probability ``initial_awareness``. Each step, each buyer has a
    Poisson number of needs of mean ``need_rate`` per step and asks ``contacts`` neighbours
    drawn with replacement per need; it becomes aware if an aware contact tells it, each with
    probability ``p_word_of_mouth`` (from the awareness at the start of the step); then the ad
    reaches each buyer with the chance per step of ``ad_rate``.
    """
    mk = per_step(cfg).market
    indptr, indices = graph.indptr, graph.indices
    n = indptr.size - 1
    deg = np.diff(indptr)
    aware = rng.random(n) < mk.initial_awareness
    times, reach = [], []
    for _ in range(cfg.steps):
        t = time.process_time()
        rows = np.repeat(np.arange(n), rng.poisson(mk.need_rate, n))  # a row per need
        rows = rows[deg[rows] > 0]
        pick = (rng.random((rows.size, mk.contacts)) * deg[rows, None]).astype(np.int64)
        told = aware[indices[indptr[rows, None] + pick]]
        told &= rng.random(told.shape) < mk.p_word_of_mouth
        aware[rows[told.any(axis=1)]] = True
        aware[rng.random(n) < mk.ad_rate] = True
        reach.append(np.count_nonzero(aware) / n)
        times.append(time.process_time() - t)
    return times, reach


# -- one measured run (in its own process) ------------------------------------------------------


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Build one configuration and time its steps.

    ``spec`` has ``job`` (market or diffusion), ``n_buyers``, ``sellers``, ``engine`` (vector,
    agent; spheres or numpy), ``steps``, ``seed`` and, for a market, ``max_known`` and
    ``entrants``; for the diffusion, ``switches``.
    """
    n, steps, seed, engine = spec["n_buyers"], spec["steps"], spec["seed"], spec["engine"]
    if spec["job"] == "market":
        cfg = market_config(n, spec["sellers"], engine, steps, seed, spec["max_known"],
                            spec["entrants"])
    else:
        cfg = diffusion_config(n, steps, seed, spec["switches"])
    reach: list[float] = []
    t0 = time.perf_counter()
    if engine == "numpy":
        graph = model_graph(cfg)
        setup = time.perf_counter() - t0
        cpu, reach = numpy_diffusion(cfg, graph, np.random.default_rng(seed))
    else:
        model = MarketModel(cfg)
        setup = time.perf_counter() - t0
        cpu = []
        for _ in range(steps):
            t = time.process_time()
            model.step()
            cpu.append(time.process_time() - t)
            if spec["job"] == "diffusion":
                reach.append(float(model.sellers_state.aware_count[0]) / n)
    return {
        **{k: v for k, v in spec.items() if k != "switches"},
        "setup_s": setup,
        "step_s": cpu,
        "total_s": time.perf_counter() - t0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "reach": reach,
    }


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure ``spec`` (see :func:`measure`) in a fresh Python process; return its record."""
    cmd = [sys.executable, "-m", "spheres.bench.engines", "--child", json.dumps(spec)]
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run(cmd, capture_output=True, text=True, check=False,
                         env={**os.environ, **threads})
    if out.returncode != 0:
        raise RuntimeError(f"benchmark of {spec['engine']} at {spec['n_buyers']} buyers failed:"
                           f"\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _agent_steps(n: int, sellers: int, budget_s: float) -> int:
    """Steps of the agent engine that fit the time budget.

    Roughly 40 us per buyer-step at 10 sellers and 1 us more per seller.
    """
    per_step = n * 1e-6 * (30 + sellers)
    return max(2, min(20, int(budget_s / per_step)))


def interleaved(specs: list[dict[str, Any]], repeats: int) -> list[list[dict[str, Any]]]:
    """Run each spec ``repeats`` times, alternating between them (a, b, a, b, ...).

    Returns the runs of each spec, in the order of ``specs``.
    """
    runs: list[list[dict[str, Any]]] = [[] for _ in specs]
    for _ in range(repeats):
        for i, spec in enumerate(specs):
            runs[i].append(run_child(spec))
    return runs


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from repeated runs of a configuration and version.

    Medians of set-up, per-run median step time, total and final reach; the largest peak RSS.
    """
    row = dict(runs[0])
    row["repeats"] = len(runs)
    row["setup_s"] = statistics.median(r["setup_s"] for r in runs)
    row["step_s"] = [statistics.median(r["step_s"]) for r in runs]
    row["total_s"] = statistics.median(r["total_s"] for r in runs)
    row["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    if runs[0].get("reach"):
        row["reach_final"] = statistics.median(r["reach"][-1] for r in runs)
    return row


# -- tables -------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.2f}" if ms >= 1 else f"{ms:.3g}"


def _ratio(value: float) -> str:
    return f"{value:.1f}x" if value < 10 else f"{value:.0f}x"


def _config(row: dict[str, Any]) -> tuple[int, int, int, int]:
    """What identifies a row's configuration: buyers, sellers, cap of memory, entrants."""
    return (row["n_buyers"], row.get("sellers", 1), row.get("max_known", 0),
            row.get("entrants", 0))


def table(rows: list[dict[str, Any]]) -> str:
    """The rows of one job (all market or all diffusion) as a Markdown table.

    Its last column is the ratio of the two versions' median step times per configuration.
    """
    job = rows[0].get("job", "market")
    shown, num, den = RATIOS[job]
    median = {(*_config(r), r["engine"]): statistics.median(r["step_s"]) for r in rows}
    market = job == "market"
    if market:
        head = ("| buyers | sellers | held in mind | engine | steps | set-up (s) "
                "| median step (ms CPU) | ns per buyer-step | total (s) | peak RSS (MB) |")
        align = "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
    else:
        head = ("| nodes | version | steps | set-up (s) | median step (ms CPU) | ns per node-step "
                "| reach at end | total (s) | peak RSS (MB) |")
        align = "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
    lines = [f"{head} {RATIO_TITLE[job]} |", f"{align}---:|"]
    for r in rows:
        key, eng = _config(r), r["engine"]
        med = median[(*key, eng)]
        ratio = ""
        if eng == shown and (*key, num) in median and (*key, den) in median:
            ratio = _ratio(median[(*key, num)] / median[(*key, den)])
        n = r["n_buyers"]
        if market:
            entrants = f" + {r['entrants']} entrants" if r.get("entrants") else ""
            held = r.get("max_known") or "all"
            first = f"| {n:,} | {r['sellers']}{entrants} | {held} | {eng} |"
        else:
            first = f"| {n:,} | {eng} |"
        reach = "" if market else f" {r['reach_final']:.3f} |"
        lines.append(
            f"{first} {r['steps']} | {r['setup_s']:.2f} | {_ms(med)} | {med / n * 1e9:.0f} |"
            f"{reach} {r['total_s']:.1f} | {r['peak_rss_mb']:.0f} | {ratio} |")
    return "\n".join(lines)


# -- command line -------------------------------------------------------------------------------


def _counts(parser: argparse.ArgumentParser, option: str, text: str, low: int,
            none: bool = False) -> list[int]:
    """A comma-separated list of integers >= ``low`` (``none``: also the word none)."""
    if none and text.strip().lower() in ("none", "0", ""):
        return []
    try:
        values = [int(float(s)) for s in text.split(",") if s.strip()]
    except (ValueError, OverflowError):
        values = []
    if not values or min(values) < low:
        allowed = " (or none)" if none else ""
        parser.error(f"{option} must be comma-separated integers >= {low}{allowed}, "
                     f"got {text!r}")
    return values


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (and exit code 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message`` on one line and exit 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    full = {k: v[0] for k, v in PRESETS.items()}
    quick = {k: v[1] for k, v in PRESETS.items()}
    parser = _Parser(
        prog="spheres bench",
        description="Time the vector and agent engines on default markets at several numbers "
                    "of buyers and sellers (Barabási–Albert graph of mean degree 10), and the "
                    "bare diffusion job beside a plain numpy version of it; print Markdown "
                    "tables (progress on stderr).")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes that run in seconds (a check that the benchmark "
                             "works, not a measurement): "
                             + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in quick.items())
                             + "; options given as well take precedence")
    parser.add_argument("--sizes", help="comma-separated numbers of buyers of the markets "
                                        f"(default {full['sizes']})")
    parser.add_argument("--sellers", help="comma-separated numbers of sellers of the markets: "
                                          "the default mix's presets scaled to each count "
                                          f"(default {full['sellers']})")
    parser.add_argument("--max-known", default="0",
                        help="comma-separated caps of the sellers a buyer holds in mind "
                             "(market.max_known) of the markets; 0 is no cap (default 0)")
    parser.add_argument("--entrants", type=int, default=0,
                        help="turn entry on in the markets with room for this many entrants "
                             "(sellers.max_entrants; default 0: entry off)")
    parser.add_argument("--steps", type=int, help="steps of the vector engine per market "
                                                  f"(default {full['steps']})")
    parser.add_argument("--agent-max", type=int, default=10_000,
                        help="largest number of buyers run with the agent engine (default "
                             "10000; 0: never)")
    parser.add_argument("--agent-budget", type=float,
                        help="seconds of stepping allowed to the agent engine per market, over "
                             f"all repeats (default {full['agent_budget']:g}); sets its number "
                             "of steps")
    parser.add_argument("--diffusion", metavar="NODES",
                        help="comma-separated numbers of nodes of the bare diffusion job, or "
                             f"none (default {full['diffusion']})")
    parser.add_argument("--diffusion-steps", type=int,
                        help="steps of the diffusion job, both versions (default "
                             f"{full['diffusion_steps']})")
    parser.add_argument("--repeats", type=int,
                        help="runs of each configuration and version, alternating between the "
                             f"versions; the median is reported (default {full['repeats']})")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default 0)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw timings to FILE")
    parser.add_argument("--graphs", type=int, metavar="N", default=0,
                        help="also time building each network kind with N nodes and loading "
                             "an edge-list file of 10 N edges")
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fill defaults (full or quick) and refuse bad values with a one-line usage error."""
    for key, values in PRESETS.items():
        if getattr(args, key) is None:
            setattr(args, key, values[1] if args.quick else values[0])
    args.sizes = _counts(parser, "--sizes", args.sizes, 2)
    args.sellers = _counts(parser, "--sellers", args.sellers, 1)
    args.max_known = _counts(parser, "--max-known", args.max_known, 0)
    args.diffusion = _counts(parser, "--diffusion", args.diffusion, 2, none=True)
    for option, value, low in (("--steps", args.steps, 1), ("--repeats", args.repeats, 1),
                               ("--diffusion-steps", args.diffusion_steps, 1),
                               ("--agent-max", args.agent_max, 0),
                               ("--entrants", args.entrants, 0)):
        if value < low:
            parser.error(f"{option} must be an integer >= {low}, got {value}")
    if not (args.agent_budget > 0 and math.isfinite(args.agent_budget)):
        parser.error(f"--agent-budget must be a number of seconds > 0, got {args.agent_budget}")
    if args.graphs < 0 or args.graphs == 1:
        parser.error("--graphs must be an integer >= 2 (or 0 for none)")
    if args.json and not Path(args.json).resolve().parent.is_dir():
        parser.error(f"--json: the folder of {args.json!r} does not exist")


def _plan(parser: argparse.ArgumentParser, args: argparse.Namespace
          ) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every configuration to measure: a progress label and one run spec per version.

    Each configuration is validated first, so that a bad one stops the benchmark before it
    starts.
    """
    plan = []
    base = {"seed": args.seed}
    try:
        for n in args.sizes:
            for s in args.sellers:
                for held in args.max_known:
                    if held and held >= s + args.entrants:
                        print(f"skipped {n:,} buyers x {s} sellers, {held} held in mind: a "
                              "cap of at least every seller is no cap", file=sys.stderr)
                        continue
                    specs = [{"job": "market", "n_buyers": n, "sellers": s, "engine": "vector",
                              "steps": args.steps, "max_known": held,
                              "entrants": args.entrants, **base}]
                    if n <= args.agent_max:
                        steps = _agent_steps(n, s, args.agent_budget / args.repeats)
                        specs.append({**specs[0], "engine": "agent", "steps": steps})
                    market_config(n, s, "vector", args.steps, args.seed, held, args.entrants)
                    cap = f", {held} held in mind" if held else ""
                    plan.append((f"{n:,} buyers x {s} sellers{cap}", specs))
        if args.diffusion:
            switches = diffusion_switches()
        for n in args.diffusion:
            spec = {"job": "diffusion", "n_buyers": n, "sellers": 1, "engine": "spheres",
                    "steps": args.diffusion_steps, "switches": switches, **base}
            diffusion_config(n, args.diffusion_steps, args.seed, switches)
            plan.append((f"diffusion job, {n:,} nodes",
                         [spec, {**spec, "engine": "numpy"}]))
    except ConfigError as exc:
        parser.error(str(exc).splitlines()[0])
    return plan


def _measure_plan(plan: list[tuple[str, list[dict[str, Any]]]], repeats: int
                  ) -> list[dict[str, Any]]:
    """Measure every configuration of the plan, printing a line before and after each."""
    rows = []
    for i, (label, specs) in enumerate(plan, 1):
        versions = ", ".join(f"{s['engine']} {s['steps']} steps" for s in specs)
        print(f"[{i}/{len(plan)}] measuring {label}: {versions}; {repeats} runs each, "
              "alternating ...", file=sys.stderr, flush=True)
        done = [combine(runs) for runs in interleaved(specs, repeats)]
        print("    " + ", ".join(f"{r['engine']} {_ms(statistics.median(r['step_s']))} ms "
                                 f"per step, peak {r['peak_rss_mb']:.0f} MB" for r in done),
              file=sys.stderr, flush=True)
        rows.extend(done)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point of ``spheres bench``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(measure(json.loads(argv[1]))))
        return 0
    parser = _parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    plan = _plan(parser, args)
    try:
        rows = _measure_plan(plan, args.repeats)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    presets = ", ".join(SellersConfig().mix)
    print(f"spheres bench on {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}; seed {args.seed}; median of {args.repeats} runs each, "
          "the versions alternating; CPU time per step\n")
    markets = [r for r in rows if r["job"] == "market"]
    if markets:
        print("Markets: default settings, Barabási–Albert graph of mean degree 10; sellers = "
              f"the default mix's presets in equal shares ({presets}), scaled to the "
              "count\n")
        print(table(markets))
    diffusion = [r for r in rows if r["job"] == "diffusion"]
    if diffusion:
        print("\nBare diffusion: one broadcasting seller (its budget always pays ad_rate), every "
              "other mechanism off (configs/experiment/diffusion.yaml), Erdős–Rényi graph of "
              "mean degree 10; numpy = a plain numpy version of the same diffusion on the same "
              "graph\n")
        print(table(diffusion))
    if args.graphs:
        print(f"\n{graph_table(args.graphs, args.seed)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
