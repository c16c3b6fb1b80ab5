"""Compare a diffusion run's awareness curves with the mean-field innovation/imitation model.

Run the study, then this script on its run directory:

    spheres run experiment=diffusion sellers=all_broadcast network=erdos_renyi steps=60
    python experiments/diffusion_curve.py outputs/runs/<date>/<time>

With everything switched off except advertising and word of mouth, a buyer who does not know an
advertising seller learns of it in one step with probability

    1 - (1 - ad_rate) * (1 - need_rate * (1 - (1 - p_word_of_mouth * a)^contacts))

where ``a`` is the share of buyers who already know it (a mean-field approximation: contacts are
treated as random buyers). The script prints the simulated reach (mean over sellers) beside that
recursion, step by step.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import yaml


def mean_field(a0: float, steps: int, ad_rate: float, need_rate: float, p_wom: float,
               contacts: int) -> list[float]:
    """Share of buyers aware of one advertiser after each step, by the mean-field recursion."""
    out, a = [], a0
    for _ in range(steps):
        learn = 1.0 - (1.0 - ad_rate) * (1.0 - need_rate * (1.0 - (1.0 - p_wom * a) ** contacts))
        a = a + (1.0 - a) * learn
        out.append(a)
    return out


def main(argv: list[str] | None = None) -> int:
    """Print simulated and mean-field reach for a finished diffusion run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run directory of the diffusion study")
    args = parser.parse_args(argv)
    summary, sellers = args.run_dir / "summary.json", args.run_dir / "sellers.parquet"
    if not summary.exists() or not sellers.exists():
        print(f"error: {args.run_dir} is not a complete run directory (no summary.json)",
              file=sys.stderr)
        return 2
    cfg = yaml.safe_load((args.run_dir / ".hydra" / "config.yaml").read_text())
    mk = cfg["market"]
    table = pd.read_parquet(sellers)
    ads = table[table["strategy"] == "broadcast"]
    if ads.empty:
        print("error: the run has no broadcast (advertising) seller; use sellers=all_broadcast",
              file=sys.stderr)
        return 2
    reach = ads.groupby("step")["reach"].mean()
    model = mean_field(mk["initial_awareness"], int(reach.index.max()), mk["ad_rate"],
                       mk["need_rate"], mk["p_word_of_mouth"], mk["contacts"])
    print(f"{'step':>5} {'simulated':>10} {'mean-field':>11}")
    for step, value in reach.items():
        print(f"{step:>5} {value:>10.4f} {model[step - 1]:>11.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
