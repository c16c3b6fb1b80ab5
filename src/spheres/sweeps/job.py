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
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from spheres.config import SpheresConfig, to_dict, validate
from spheres.config.compose import from_hydra
from spheres.errors import SpheresError
from spheres.paths import ERROR, SUMMARY, atomic_write
from spheres.run.files import write_results
from spheres.run.task import run_in
from spheres.sweeps.collect import parse_overrides

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
            cwd: str | Path | None = None) -> str:
    """Run one job of a sweep into ``run_dir``; return ``'ok'``, ``'skipped'`` or ``'failed'``.

    ``cfg`` is the job's composed config and ``overrides`` its override strings; a relative
    ``network.path`` is read from ``cwd``. The config is validated once, as the sweep runs it.
    """
    t0 = time.perf_counter()
    (run_dir / ERROR).unlink(missing_ok=True)
    try:
        config = validate(sweep_config(from_hydra(cfg, cwd), overrides))
        if has_result(run_dir, config):
            log.info("skipped: %s already holds the result of this config", run_dir)
            return "skipped"
        (run_dir / SUMMARY).unlink(missing_ok=True)
        write_results(run_in(config, run_dir, console=False), run_dir)
    except Exception as err:
        (run_dir / SUMMARY).unlink(missing_ok=True)
        message = str(err) if isinstance(err, SpheresError) else f"{type(err).__name__}: {err}"
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
