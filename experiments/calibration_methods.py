"""Simulations each fitting method needs for a given posterior width, on the colour TV problem.

The problem is the README's worked example (``configs/calibrate/bass_colour_tv.yaml``: two
settings, ``market.ad_rate`` and ``market.p_word_of_mouth``, fitted to the colour TV series).
For a budget of simulations, each method's posterior 5-95% interval of each setting is printed as
a share of its prior range (smaller is sharper), with the posterior median.

- ``pyabc`` (ABC-SMC, what ``spheres calibrate`` uses): one calibration with ``--populations``
  generations; after each generation, the simulations so far and the widths of its particles'
  weighted 5-95% interval. Needs the ``[calibrate]`` extra.
- ``sbi`` (neural posterior estimation, NPE, in one round): for each budget, that many
  simulations drawn from the prior (uniform), a density estimator trained on them, and the
  widths of the 5-95% interval of 4,000 posterior draws at the observed series. Needs ``sbi``
  (and PyTorch), which spheres does not depend on: install it in an environment of its own.

    python experiments/calibration_methods.py pyabc --out outputs/methods/pyabc
    python experiments/calibration_methods.py sbi --budgets 250,500,1000,1500
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from spheres.calibrate.observed import read_observed, simulated
from spheres.calibrate.spec import base_config, load_spec, with_values
from spheres.run.simulate import simulate

SPEC = "bass_colour_tv"
LEVELS = (0.05, 0.5, 0.95)


def problem() -> tuple[object, object, list[tuple[str, float, float]]]:
    """The colour TV calibration: its spec, the observed series and the fitted ranges."""
    spec = load_spec(SPEC)
    steps_per_year = int(base_config(spec.overrides, 1).time.steps_per_year)
    observed = read_observed(spec.data, steps_per_year)
    ranges = [(p.key, p.low, p.high) for p in spec.fit]
    return spec, observed, ranges


def row(method: str, simulations: int, seconds: float, draws: np.ndarray,
        ranges: list[tuple[str, float, float]], weights: np.ndarray | None = None) -> dict:
    """Per setting: median and the 5-95% width as a share of the prior range."""
    found = {"method": method, "simulations": simulations, "seconds": round(seconds, 1)}
    for j, (key, low, high) in enumerate(ranges):
        q = weighted_quantiles(draws[:, j], weights)
        found[key] = {"median": q[1], "width": (q[2] - q[0]) / (high - low)}
    return found


def weighted_quantiles(values: np.ndarray, weights: np.ndarray | None) -> list[float]:
    """The 5%, 50% and 95% quantiles of ``values`` under ``weights`` (equal if None)."""
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(values)
    cdf = np.cumsum(w[order]) / w.sum()
    return [float(values[order][np.searchsorted(cdf, level)]) for level in LEVELS]


def run_pyabc(out: Path, ranges: list[tuple[str, float, float]]) -> list[dict]:
    """One spheres calibration; the widths after each generation, from its pyabc history."""
    import pyabc

    start = time.perf_counter()
    command = [str(Path(sys.executable).with_name("spheres")), "calibrate", "--spec", SPEC,
               "--out", str(out)]
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    history = pyabc.History(f"sqlite:///{out / 'abc.db'}")
    populations = history.get_all_populations()
    rows = []
    for t in range(history.max_t + 1):
        frame, weights = history.get_distribution(t=t)
        done = int(populations.loc[populations["t"] <= t, "samples"].sum())
        draws = np.column_stack([frame[f"p{j}"].to_numpy() for j in range(len(ranges))])
        rows.append(row("pyabc", done, seconds if t == history.max_t else float("nan"), draws,
                        ranges, weights))
    return rows


def simulate_one(args: tuple) -> np.ndarray:
    """One run of the colour TV market at the drawn settings; its series at the observed steps."""
    base, observed, keys, theta, seed = args
    config = with_values(base, {**dict(zip(keys, theta, strict=True)), "seed": seed})
    series = simulated(simulate(config), observed)
    # points not observed are NaN in every run: the same zero in every run and in the observed
    return np.nan_to_num(np.concatenate([series[c] for c in sorted(series)]), nan=0.0)


def run_sbi(budgets: list[int], procs: int, ranges: list[tuple[str, float, float]],
            spec: object, observed: object) -> list[dict]:
    """NPE in one round for each budget (simulations nested: the first N of one prior sample)."""
    import torch
    from sbi.inference import NPE
    from sbi.utils import BoxUniform

    torch.manual_seed(0)
    base = base_config(spec.overrides, observed.last_step)
    keys = [k for k, _, _ in ranges]
    rng = np.random.default_rng(0)
    lows = np.array([lo for _, lo, _ in ranges])
    highs = np.array([hi for _, _, hi in ranges])
    thetas = lows + rng.random((max(budgets), len(ranges))) * (highs - lows)
    start = time.perf_counter()
    with ProcessPoolExecutor(procs) as pool:
        xs = np.array(list(pool.map(simulate_one, [(base, observed, keys, t, i)
                                                   for i, t in enumerate(thetas)],
                                    chunksize=8)))
    sim_seconds = (time.perf_counter() - start) / max(budgets)
    x_o = np.concatenate([np.nan_to_num(observed.values[c], nan=0.0)
                          for c in sorted(observed.values)])
    prior = BoxUniform(low=torch.tensor(lows, dtype=torch.float32),
                       high=torch.tensor(highs, dtype=torch.float32))
    rows = []
    for n in budgets:
        began = time.perf_counter()
        inference = NPE(prior=prior)
        inference.append_simulations(torch.tensor(thetas[:n], dtype=torch.float32),
                                     torch.tensor(xs[:n], dtype=torch.float32))
        posterior = inference.build_posterior(inference.train())
        draws = posterior.sample((4000,), x=torch.tensor(x_o, dtype=torch.float32),
                                 show_progress_bars=False).numpy()
        rows.append(row("sbi (NPE)", n, sim_seconds * n + time.perf_counter() - began, draws,
                        ranges))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run one method and print its table (and write it as JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("method", choices=["pyabc", "sbi"])
    parser.add_argument("--out", type=Path, default=Path("outputs/methods/pyabc"),
                        help="pyabc: the calibration's output directory (must not exist)")
    parser.add_argument("--budgets", default="250,500,1000,1500",
                        help="sbi: comma-separated numbers of simulations")
    parser.add_argument("--procs", type=int, default=2, help="sbi: processes for the runs")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    spec, observed, ranges = problem()
    if args.method == "pyabc":
        rows = run_pyabc(args.out, ranges)
    else:
        rows = run_sbi([int(b) for b in args.budgets.split(",")], args.procs, ranges, spec,
                       observed)
    keys = [k for k, _, _ in ranges]
    print(f"{'method':<10} {'simulations':>11} {'seconds':>8} "
          + " ".join(f"{k + ' median':>26} {'width':>6}" for k in keys))
    for r in rows:
        print(f"{r['method']:<10} {r['simulations']:>11} {r['seconds']:>8} "
              + " ".join(f"{r[k]['median']:>26.4f} {r[k]['width']:>6.3f}" for k in keys))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
