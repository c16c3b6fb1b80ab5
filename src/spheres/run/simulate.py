"""Run one simulation from a config and return its results as tables: plain Python, no Hydra."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from spheres.config import SpheresConfig, make_config, validate
from spheres.model.model import MarketModel
from spheres.run.tables import Results, assemble


def simulate(
    config: SpheresConfig | dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """Build the model from ``config``, run all steps and collect the results.

    ``config`` is a ``SpheresConfig`` (checked here unless it was validated and has not changed
    since), a dict of overrides for :func:`spheres.config.make_config`, or ``None`` for the
    defaults. ``progress(step, steps)`` is called after every step when given.
    """
    if config is None:
        cfg = make_config()
    elif isinstance(config, SpheresConfig):
        cfg = validate(config)
    else:
        cfg = make_config(config)
    t0 = time.perf_counter()
    model = MarketModel(cfg)
    t1 = time.perf_counter()
    for _ in range(cfg.steps):
        model.step()
        if progress is not None:
            progress(model.steps, cfg.steps)
    t2 = time.perf_counter()
    results = assemble(model)
    results.timings = {"setup_s": t1 - t0, "run_s": t2 - t1, "collect_s": time.perf_counter() - t2}
    results.summary["wall_time_s"] = round(time.perf_counter() - t0, 3)
    return results
