"""What a calibration leaves in its directory, and the table it prints.

- ``posterior.parquet``: the last generation's particles, one column per fitted setting and a
  ``weight`` column (the weights sum to 1);
- ``summary.json``: per setting the weighted median and 5–95% interval, the distance of the best
  fit, the generations (distance threshold, simulations, seconds) and what was asked;
- ``predictive.png``: the observed points over the band of 5–95% of runs drawn from the posterior;
- ``calibrated.yaml``: a config for ``spheres run`` (and sweeps) with the market's overrides and
  each fitted setting at its posterior median:
  ``spheres run --config-dir DIR --config-name calibrated``;
- ``abc.db``: pyabc's history of every generation (SQLite; ``pyabc.History``).

Everything is written into a temporary directory beside the output directory, which is renamed
into place only when the calibration has finished.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from spheres.analysis.figures import PALETTE, figure, panel_title, png
from spheres.calibrate.observed import Observed
from spheres.paths import config_dir

POSTERIOR = "posterior.parquet"
SUMMARY = "summary.json"
FIGURE = "predictive.png"
CALIBRATED = "calibrated.yaml"
HISTORY = "abc.db"


def table_text(table: pd.DataFrame, best_distance: float) -> str:
    """The printed table: median and 90% interval per setting, and the best fit's distance."""
    width = max(len("setting"), *(len(s) for s in table["setting"]))
    lines = [f"{'setting':<{width}}  {'median':>10}  {'90% interval':>23}"]
    for row in table.itertuples():
        interval = f"{row._3:.4g} to {row._4:.4g}"
        lines.append(f"{row.setting:<{width}}  {row.median:>10.4g}  {interval:>23}")
    lines.append(f"distance of the best fit: {best_distance:.4g} (root of summed squared "
                 "differences over the observed points)")
    return "\n".join(lines)


def calibrated_config(overrides: Sequence[str], values: dict[str, Any]) -> str:
    """A primary Hydra config: ``config``, the overrides' choices and settings, fitted values."""
    defaults: list[Any] = ["config"]
    settings: dict[str, Any] = {}
    for text in overrides:
        key, _, value = text.partition("=")
        key = key.lstrip("+")
        if (config_dir() / key).is_dir():  # a config group (hydra/launcher too): its option
            defaults.append({f"override {key}": value})
        else:
            settings[key] = yaml.safe_load(value)
    settings.update(values)
    nested: dict[str, Any] = {}
    for key, value in settings.items():
        node = nested
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    defaults.append("_self_")
    header = ("# Settings fitted by spheres calibrate (posterior medians) over the market it was\n"
              "# fitted in. Run it: spheres run --config-dir THIS_DIR --config-name calibrated\n")
    return header + yaml.safe_dump({"defaults": defaults, **nested}, sort_keys=False)


def predictive_figure(observed: Observed, series: dict[str, np.ndarray], steps_per_year: int,
                      path: Path) -> None:
    """Observed points over the 5–95% band (and median) of the posterior's runs, per column."""
    names = list(observed.values)
    fig, axes = figure(len(names), width=5.0, height=3.4, cols=2)
    years = observed.steps / steps_per_year
    for ax, name in zip(axes, names, strict=True):
        runs = series[name]
        low, mid, high = np.nanpercentile(runs, [5, 50, 95], axis=0)
        ax.fill_between(years, low, high, color=PALETTE[0], alpha=0.25,
                        label="model, 5–95% of runs from the posterior")
        ax.plot(years, mid, color=PALETTE[0], label="model, median")
        seen = np.isfinite(observed.values[name])
        ax.plot(years[seen], observed.values[name][seen], "o", color=PALETTE[1], ms=4,
                label="observed")
        ax.set_xlabel("years from the run's start")
        ax.set_ylabel(name)
        panel_title(ax, f"{name}: observed and fitted")
        ax.legend(fontsize="small", frameon=False)
    path.write_bytes(png(fig))


def write_summary(path: Path, table: pd.DataFrame, best: dict[str, Any], best_distance: float,
                  generations: list[dict[str, Any]], asked: dict[str, Any]) -> None:
    """``summary.json``: the fitted settings, the best fit, the generations and what was asked."""
    data = {"settings": table.to_dict(orient="records"),
            "best_fit": {"settings": best, "distance": best_distance},
            "generations": generations, "asked": asked}
    path.write_text(json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
