"""A run's dashboard: one figure of sellers alive, market shares, currency flows and trust.

Drawn with the style and colours of every other figure (:mod:`spheres.analysis.figures`): a
strategy, a kind of currency movement and a trust source have the same colour here as in the
reports, the studies, the notebooks and the classroom page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from spheres.analysis.figures import CURRENCY_KIND_COLORS, TRUST_COLORS, figure, strategy_colors
from spheres.model.currency import CURRENCY_LABELS
from spheres.model.currency import KINDS as CURRENCY_KINDS
from spheres.model.measures import TRUST_COLUMNS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from spheres.run.tables import Results


def dashboard(results: Results) -> Figure:
    """A 2x2 figure: sellers alive by strategy, market shares, currency flows, trust by source."""
    fig, axes = figure(4, width=6.0, height=4.0, cols=2)
    sellers = results.sellers
    names = sorted(sellers["strategy"].astype(str).unique()) if _has(sellers, "strategy") else []
    colors = strategy_colors(names)
    panels: list[tuple[Axes, Callable[[Axes], None]]] = [
        (axes[0], lambda ax: _plot_alive(ax, sellers, colors)),
        (axes[1], lambda ax: _plot_shares(ax, sellers, colors)),
        (axes[2], lambda ax: _plot_flows(ax, results.flows)),
        (axes[3], lambda ax: _plot_trust(ax, results.metrics)),
    ]
    for ax, plot in panels:
        plot(ax)
        ax.set_xlabel("step")
    cfg = results.config
    fig.suptitle(f"spheres: {cfg.n_buyers} buyers, {cfg.steps} steps, seed {cfg.seed}, "
                 f"engine {cfg.engine}")
    return fig


def _has(frame: pd.DataFrame, *columns: str) -> bool:
    return not frame.empty and all(c in frame.columns for c in columns)


def _no_data(ax: Axes, title: str) -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)


def _plot_alive(ax: Axes, sellers: pd.DataFrame, colors: dict[str, Any]) -> None:
    title = "sellers alive by strategy"
    if not _has(sellers, "step", "strategy", "alive"):
        _no_data(ax, title)
        return
    alive = (sellers.assign(strategy=sellers["strategy"].astype(str),
                            alive=sellers["alive"].astype(int))
             .pivot_table(index="step", columns="strategy", values="alive", aggfunc="sum",
                          fill_value=0))
    names = list(alive.columns)
    ax.stackplot(alive.index, *(alive[n].to_numpy() for n in names), labels=names,
                 colors=[colors.get(n, "grey") for n in names], step="post")
    ax.set_title(title)
    ax.set_ylabel("sellers alive (stacked)")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], fontsize="small", loc="lower left")


def _plot_shares(ax: Axes, sellers: pd.DataFrame, colors: dict[str, Any]) -> None:
    title = "market share by seller (coloured by strategy)"
    if not _has(sellers, "step", "seller_id", "strategy", "share"):
        _no_data(ax, title)
        return
    shares = sellers.pivot_table(index="step", columns="seller_id", values="share",
                                 aggfunc="sum", fill_value=0.0)
    strategy = sellers.groupby("seller_id")["strategy"].first().astype(str)
    order = sorted(shares.columns, key=lambda s: (strategy[s], s))
    fill, rank = [], {}
    for seller in order:
        name = strategy[seller]
        rank[name] = rank.get(name, -1) + 1
        r, g, b, _ = to_rgba(colors.get(name, "grey"))
        fill.append((r, g, b, 0.9 - 0.5 * ((rank[name] % 4) / 4)))
    ax.stackplot(shares.index, *(shares[s].to_numpy() for s in order), colors=fill,
                 edgecolor="white", linewidth=0.3)
    ax.set_title(title)
    ax.set_ylabel("share of purchases")
    ax.set_ylim(0, max(1.0, float(shares.sum(axis=1).max() or 0)))
    ax.legend(handles=[Patch(color=colors[n], label=n) for n in colors], fontsize="small",
              loc="upper right")


def _plot_flows(ax: Axes, flows: pd.DataFrame) -> None:
    title = "social currency flows by kind"
    if not _has(flows, "step", "kind", "amount"):
        _no_data(ax, title)
        return
    by_kind = flows.assign(kind=flows["kind"].astype(str)).pivot_table(
        index="step", columns="kind", values="amount", aggfunc="sum", fill_value=0)
    kinds = [k for k in CURRENCY_KINDS if k in by_kind.columns]
    kinds += [k for k in by_kind.columns if k not in kinds]
    for kind in kinds:
        ax.plot(by_kind.index, by_kind[kind], label=CURRENCY_LABELS.get(kind, kind),
                color=CURRENCY_KIND_COLORS.get(kind))
    ax.set_title(title)
    ax.set_ylabel("points per step")
    ax.legend(fontsize="small")


def _plot_trust(ax: Axes, metrics: pd.DataFrame) -> None:
    title = "mean trust by source type"
    present = {k: c for k, c in TRUST_COLUMNS.items() if _has(metrics, "step", c)}
    if not present:
        _no_data(ax, title)
        return
    for label, column in present.items():
        ax.plot(metrics["step"], metrics[column], label=label, color=TRUST_COLORS.get(label))
    ax.set_title(title)
    ax.set_ylabel("mean trust")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")
