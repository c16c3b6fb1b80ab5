"""The figure of an exploration: each sample's verdict over the two settings that matter most."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from spheres.analysis.figures import VERDICT_COLORS, figure
from spheres.explore import design as designs
from spheres.explore.analysis import Exploration
from spheres.explore.design import Dimension

UNDECIDED = "#bbbbbb"


def _axis(dim: Dimension, values: pd.Series) -> np.ndarray:
    """Positions of ``values`` on the dimension's axis (options at 0, 1, ... with a jitter)."""
    if not dim.categorical:
        return values.astype(float).to_numpy()
    index = {o: i for i, o in enumerate(dim.options)}
    codes = values.astype(str).map(index).to_numpy(dtype=float)
    # a fixed jitter, from each sample's position, so that the points of an option spread out
    return codes + (np.arange(len(codes)) % 7 - 3) * 0.06


def _label(ax: Axes, dim: Dimension, which: str) -> None:
    set_label, set_scale = ((ax.set_xlabel, ax.set_xscale) if which == "x"
                            else (ax.set_ylabel, ax.set_yscale))
    set_label(dim.key + (" (log scale)" if dim.log else ""))
    if dim.log:
        set_scale("log")
    if dim.categorical:
        ticks = ax.set_xticks if which == "x" else ax.set_yticks
        ticks(range(len(dim.options)), list(dim.options))


def _bounds(found: Exploration, key: str, dim: Dimension) -> tuple[float, float] | None:
    """The holds-box's limits on ``key`` as axis positions (None: not restricted)."""
    rows = found.boxes[(found.boxes["region"] == "holds") & (found.boxes["setting"] == key)]
    if rows.empty or not bool(rows["restricted"].iloc[0]):
        return None
    row = rows.iloc[0]
    if dim.categorical:
        chosen = [dim.options.index(o.strip()) for o in str(row["options"]).split(",")]
        return min(chosen) - 0.4, max(chosen) + 0.4
    low = dim.low if pd.isna(row["low"]) else float(row["low"])
    high = dim.high if pd.isna(row["high"]) else float(row["high"])
    return low, high


def verdict_figure(found: Exploration) -> Figure:
    """Each sample's verdict over the two settings that matter most, with the box where it holds.

    One setting only: the verdict against it (the vertical axis spreads the samples).
    """
    dims = {d.key: d for d in found.dims}
    keys = found.ranked()[:2]
    fig, (ax,) = figure(1, width=5.6, height=4.4)
    samples = found.samples
    x = _axis(dims[keys[0]], samples[keys[0]])
    y = (_axis(dims[keys[1]], samples[keys[1]]) if len(keys) > 1
         else samples["margin"].astype(float).to_numpy())
    holds = samples["holds"]
    decided = holds.dropna()
    if len(decided) and decided.nunique() == 1:  # one verdict everywhere: colour by the number
        shown = ax.scatter(x, y, s=18, c=samples["value"].astype(float), cmap="viridis",
                           linewidths=0)
        fig.colorbar(shown, ax=ax, label=designs.verdict_of(found.problem["experiment"]).measure)
        ax.set_title(f"it {'holds' if decided.iloc[0] else 'flips'} in all {len(decided)} "
                     "samples; colour: the number compared", fontsize="small")
    for label, mask, color in (() if len(decided) and decided.nunique() == 1 else (
            ("holds", holds.fillna(False).to_numpy(dtype=bool), VERDICT_COLORS["holds"]),
            ("flips", (~holds).fillna(False).to_numpy(dtype=bool), VERDICT_COLORS["flips"]),
            ("no verdict", holds.isna().to_numpy(), UNDECIDED))):
        if mask.any():
            ax.scatter(x[mask], y[mask], s=18, color=color, label=f"{label} ({mask.sum()})",
                       alpha=0.85, linewidths=0)
    _label(ax, dims[keys[0]], "x")
    if len(keys) > 1:
        _label(ax, dims[keys[1]], "y")
        bx, by = _bounds(found, keys[0], dims[keys[0]]), _bounds(found, keys[1], dims[keys[1]])
        if bx is not None or by is not None:
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            bx, by = bx or (x0, x1), by or (y0, y1)
            ax.add_patch(Rectangle((bx[0], by[0]), bx[1] - bx[0], by[1] - by[0], fill=False,
                                   edgecolor=VERDICT_COLORS["holds"], linewidth=1.5,
                                   linestyle="--", label="box where it holds (PRIM)"))
    else:
        ax.set_ylabel("margin (> 0: holds)")
        ax.axhline(0, color="#555555", linewidth=0.8)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle(textwrap.fill(f"{found.problem['experiment']}: {found.problem['statement']}",
                               80), fontsize="medium")
    return fig
