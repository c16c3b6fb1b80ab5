"""A run's files: checking the run directory, writing the results, clearing an earlier run's.

Every file is written under a temporary name in the run directory and renamed when complete, so
a file with its final name is always whole. ``summary.json`` is written last: its presence means
the run is complete.
"""

from __future__ import annotations

import json
import math
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spheres.errors import RunDirError
from spheres.paths import SUMMARY, atomic_write
from spheres.run.dashboard import dashboard
from spheres.run.tables import TABLES, Results

if TYPE_CHECKING:
    from spheres.config import SpheresConfig

# Every file a run may write, the summary first: what clearing a run directory removes.
RESULT_FILES = (SUMMARY, *(f"{t}.parquet" for t in TABLES), "ledger.parquet", "dashboard.png")


def clear_results(run_dir: Path) -> list[str]:
    """Remove a run's result files from ``run_dir``, ``summary.json`` first; return their names.

    Also removes temporary files an interrupted write left behind. Nothing else is touched.
    """
    run_dir = Path(run_dir)
    removed = []
    for name in RESULT_FILES:
        path = run_dir / name
        if path.is_file():
            path.unlink()
            removed.append(name)
    for tmp in run_dir.glob(".*.tmp") if run_dir.is_dir() else ():
        tmp.unlink(missing_ok=True)
    return removed


def estimate_output_bytes(config: SpheresConfig) -> int:
    """An upper estimate of the bytes a run writes (uncompressed tables, dashboard, summary)."""
    sellers = sum(config.sellers.mix.values()) + config.sellers.max_entrants
    rows = config.steps * (60 + sellers * (config.market.dims + 20)) * 8
    agents = config.n_buyers * 16 * 8
    ledger = config.steps * config.n_buyers * 56 if config.output.ledger_entries else 0
    return rows + agents + ledger + 2 * 2**20


def check_run_dir(run_dir: Path, need_bytes: int) -> None:
    """Check before any work that ``run_dir`` can be created and written, with room for the run.

    Raises :class:`RunDirError` naming the directory and the problem.
    """
    run_dir = Path(run_dir)
    for parent in (run_dir, *run_dir.parents):
        if parent.exists() and not parent.is_dir():
            raise RunDirError(f"run directory {run_dir}: {parent} is a file, not a directory")
        if parent.exists():
            break
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / f".write-probe.{uuid.uuid4().hex[:12]}.tmp"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as err:
        raise RunDirError(f"run directory {run_dir} is not writable: {err.strerror or err}") \
            from None
    free = shutil.disk_usage(run_dir).free
    if free < need_bytes:
        raise RunDirError(f"run directory {run_dir}: {free / 2**20:.0f} MB free, but the run's "
                          f"files need about {need_bytes / 2**20:.0f} MB")


def write_results(results: Results, run_dir: Path) -> dict[str, Path]:
    """Write the tables, the optional ledger and dashboard, then ``summary.json``, into ``run_dir``.

    Returns the written paths by name (``metrics``, ``sellers``, ``flows``, ``agents``, and
    ``ledger``, ``dashboard`` when written, and ``summary``).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    summary_path = run_dir / SUMMARY
    # A summary left by an earlier write would claim completeness for files about to be replaced.
    summary_path.unlink(missing_ok=True)

    written: dict[str, Path] = {}
    for name in TABLES:
        written[name] = write_parquet(getattr(results, name), run_dir / f"{name}.parquet")
    if results.ledger_entries is not None:
        written["ledger"] = write_parquet(results.ledger_entries, run_dir / "ledger.parquet")
    if results.config.output.dashboard:
        figure = dashboard(results)
        path = run_dir / "dashboard.png"
        with atomic_write(path) as tmp:
            figure.savefig(tmp, format="png", dpi=110)
        written["dashboard"] = path

    text = json.dumps(jsonable(results.summary), indent=2, allow_nan=False) + "\n"
    with atomic_write(summary_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    written["summary"] = summary_path
    return written


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as a Parquet table at ``path``, whole or not at all."""
    with atomic_write(path) as tmp:
        frame.to_parquet(tmp, engine="pyarrow", index=False)
    return path


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays made plain and non-finite floats made ``None``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
