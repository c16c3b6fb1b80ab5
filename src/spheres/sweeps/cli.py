"""The sweep commands' argument parsing and output: ``spheres collect``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spheres.sweeps.collect import CollectError, collect, status_counts


def collect_main(argv: list[str]) -> int:
    """``spheres collect SWEEP_DIR``: write the sweep's store; 2 when SWEEP_DIR is not a sweep."""
    parser = argparse.ArgumentParser(
        prog="spheres collect",
        description="Gather every run of a sweep directory (complete, failed or incomplete) "
                    "into SWEEP_DIR/sweep.duckdb and SWEEP_DIR/<table>.parquet. Safe to run on "
                    "a partial, failed or resumed sweep, and again after more runs finished.")
    parser.add_argument("sweep_dir", metavar="SWEEP_DIR", type=Path,
                        help="a sweep directory (hydra.sweep.dir), holding run directories "
                             "0/, 1/, ...")
    args = parser.parse_args(argv)
    try:
        database = collect(args.sweep_dir)
    except CollectError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"collected {format_counts(status_counts(database))} into {database}")
    return 0


def format_counts(counts: dict[str, int]) -> str:
    """``'20 runs: 18 ok, 1 failed, 1 incomplete'`` (statuses with no runs left out)."""
    total = sum(counts.values())
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    return f"{total} runs: {', '.join(parts) or 'none'}"
