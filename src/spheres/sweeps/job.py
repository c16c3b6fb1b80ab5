"""One job of a sweep: skip it if its result is already there, else run it and record failures.

A job never raises: a run that fails writes ``error.json`` (its overrides, a one-line error and
its wall time) and logs the traceback to its run directory's ``spheres.log``, so the launcher
goes on with the other jobs and the sweep ends cleanly. A job whose ``summary.json`` belongs to
the same resolved config is skipped (resume); any other earlier result is removed first.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spheres.config import to_dict
from spheres.paths import ERROR, SUMMARY, atomic_write
from spheres.run.files import write_results
from spheres.sweeps.collect import parse_overrides

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from spheres.config import SpheresConfig
    from spheres.run.tables import Results

log = logging.getLogger("spheres.sweep")


def sweep_config(config: SpheresConfig, overrides: list[str]) -> SpheresConfig:
    """The config as a sweep runs it: no per-run progress bar, no dashboard unless asked for."""
    config.output.progress = False
    if "output.dashboard" not in parse_overrides(overrides):
        config.output.dashboard = False
    return config


def has_result(run_dir: Path, config: SpheresConfig) -> bool:
    """Whether ``run_dir`` holds a complete result of exactly this resolved ``config``."""
    try:
        summary = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    return summary.get("config") == json.loads(json.dumps(to_dict(config), default=str))


def run_job(cfg: DictConfig, run_dir: Path, overrides: list[str],
            load: Callable[[DictConfig], SpheresConfig],
            simulate: Callable[[SpheresConfig], Results],
            user_errors: tuple[type[Exception], ...] = ()) -> str:
    """Run one job of a sweep into ``run_dir``; return ``'ok'``, ``'skipped'`` or ``'failed'``."""
    t0 = time.perf_counter()
    (run_dir / ERROR).unlink(missing_ok=True)
    try:
        config = sweep_config(load(cfg), overrides)
        if has_result(run_dir, config):
            log.info("skipped: %s already holds the result of this config", run_dir)
            return "skipped"
        (run_dir / SUMMARY).unlink(missing_ok=True)
        write_results(simulate(config), run_dir)
    except Exception as err:
        (run_dir / SUMMARY).unlink(missing_ok=True)
        message = str(err) if isinstance(err, user_errors) else f"{type(err).__name__}: {err}"
        message = " ".join(message.split())
        log.info("failed: %s", message, exc_info=True)
        record_failure(run_dir, overrides, message, time.perf_counter() - t0)
        return "failed"
    log.info("finished in %.2f s", time.perf_counter() - t0)
    return "ok"


def record_failure(run_dir: Path, overrides: list[str], message: str, wall_time_s: float) -> None:
    """Write ``error.json``: the job's overrides, its one-line error and its wall time."""

    record: dict[str, Any] = {"overrides": overrides, "error": message,
                              "wall_time_s": round(wall_time_s, 3)}
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_write(run_dir / ERROR) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
