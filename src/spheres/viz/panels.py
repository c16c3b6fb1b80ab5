"""What the classroom page draws from a running model: network view, live plots, headline numbers.

Everything here reads the model's own state (``buyers_state``, ``sellers_state``), the rows
it records each step (``metric_rows``, ``seller_rows``) and its ledger's flows by reason
(``ledger.flow_rows()``); nothing is computed that the model does
not already keep. The images are plain matplotlib figures (no pyplot, so they can be drawn from
the web server's threads), kept per model as a :class:`Board` that repaints only the data after
each step and returns PNG bytes. Colours are those of every other figure
(:mod:`spheres.analysis.figures`): a strategy's, a currency kind's.
"""

from __future__ import annotations

import io
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PIL import Image

from spheres.analysis.figures import CURRENCY_KIND_COLORS, strategy_color
from spheres.model.currency import CURRENCY_LABELS, KINDS, REASONS
from spheres.model.measures import TRUST_COLUMNS
from spheres.model.strategies import STRATEGIES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from spheres.model.model import MarketModel

SAMPLE_SIZE = 300  # nodes drawn in the network view
DPI = 90  # pixels per inch of the page's images
STEP_SPAN = 50  # the plots' time axis grows in steps of this many steps
GREY = to_rgba("#c8c8c8")
EXITED = to_rgba("#8c8c8c")
TRUST_SOURCES = tuple(TRUST_COLUMNS)  # peers, influencers, sellers


def code_color(code: int) -> tuple[float, float, float, float]:
    """Return the RGBA colour of a strategy by its code (its place in the strategy registry)."""
    return to_rgba(strategy_color(list(STRATEGIES)[code]))


def seller_colors(model: MarketModel) -> np.ndarray:
    """Return one RGBA colour per seller slot, in its strategy's hue.

    Each further seller of the same strategy gets a lighter or darker shade; a seller that has
    left the market is grey.
    """
    m = model.sellers_state
    colors = np.tile(np.array(GREY), (model.n_slots, 1))
    seen: dict[int, int] = {}
    for row in np.flatnonzero(m.exists):
        code = int(m.strategy[row])
        rank = seen.get(code, 0)
        seen[code] = rank + 1
        base = np.array(code_color(code))
        mix = (0.0, 0.45, -0.35, 0.25, -0.2)[rank % 5]
        target = np.ones(4) if mix > 0 else np.r_[0.0, 0.0, 0.0, 1.0]
        colors[row] = base + abs(mix) * (target - base)
        if not m.alive[row]:
            colors[row] = EXITED
    return colors


# -- the network view ------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkSample:
    """A fixed sample of buyers to draw: their rows, the edges among them and their positions."""

    rows: np.ndarray  # buyer rows drawn
    edges: np.ndarray  # (E, 2) positions in ``rows`` of the two ends of each edge
    xy: np.ndarray  # (len(rows), 2) layout positions


_SAMPLES: weakref.WeakKeyDictionary[Any, NetworkSample] = weakref.WeakKeyDictionary()


def network_sample(model: MarketModel, size: int = SAMPLE_SIZE) -> NetworkSample:
    """Sample up to ``size`` buyers around the best-connected one (breadth first).

    The spring layout is computed once per model and kept for later calls.
    """
    sample = _SAMPLES.get(model)
    if sample is None:
        sample = _build_sample(model, size)
        _SAMPLES[model] = sample
    return sample


def _build_sample(model: MarketModel, size: int) -> NetworkSample:
    g = model.graph
    n = g.n_nodes
    order: list[int] = []
    picked = np.zeros(n, dtype=bool)
    for start in np.argsort(-g.degree(), kind="stable"):  # each component, biggest hubs first
        if len(order) >= size:
            break
        if picked[start]:
            continue
        frontier = [int(start)]
        picked[start] = True
        while frontier and len(order) < size:
            order.extend(frontier[: size - len(order)])
            nxt = np.concatenate([g.neighbours(v) for v in frontier])
            nxt = np.unique(nxt[~picked[nxt]])
            picked[nxt] = True
            frontier = nxt.tolist()
    rows = np.sort(np.asarray(order, dtype=np.int64))
    local = np.full(n, -1, dtype=np.int64)
    local[rows] = np.arange(rows.size)
    src = np.repeat(np.arange(n), g.degree())
    keep = (local[src] >= 0) & (local[g.indices] >= 0) & (src < g.indices)
    edges = np.column_stack([local[src[keep]], local[g.indices[keep]]])
    graph = nx.Graph()
    graph.add_nodes_from(range(rows.size))
    graph.add_edges_from(edges.tolist())
    pos = nx.spring_layout(graph, seed=0, iterations=60)
    xy = np.array([pos[i] for i in range(rows.size)])
    return NetworkSample(rows, edges, xy)


def preferred_sellers(model: MarketModel, rows: np.ndarray) -> np.ndarray:
    """Return, for each buyer in ``rows``, the alive seller it believes fits best.

    That is the seller it would most likely buy from among those it knows; -1 when it knows no
    seller in the market.
    """
    b, m = model.buyers_state, model.sellers_state
    width = model.n_used
    known = b.aware[rows] & m.alive[:width]
    best = np.argmax(np.where(known, b.belief_rows(rows, width), -np.inf), axis=1)
    return np.where(known.any(axis=1), best, -1)


class Board:
    """A figure kept for one model and repainted after every step.

    Axes, ticks, titles and legends are drawn once for each set of axis limits and kept as a
    background image; a repaint restores it and draws only the data (the artists added since the
    last repaint). Limits grow in coarse steps, so the background is rarely redrawn: building
    and drawing axes and tick labels is most of what a matplotlib figure costs.
    """

    def __init__(self, figure: Figure) -> None:
        """Keep ``figure`` on an Agg canvas of its own."""
        self.figure = figure
        self.canvas = FigureCanvasAgg(figure)
        self._limits: tuple[float, ...] | None = None
        self._background: Any = None

    def clear(self) -> None:
        """Remove the data of the last repaint (artists with the gid ``fixed`` stay)."""
        for ax in self.figure.axes:
            for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
                if artist.get_gid() != "fixed":
                    artist.remove()

    def png(self) -> bytes:
        """Return the figure as PNG bytes, with the data added since :meth:`clear`."""
        data = [(ax, artist) for ax in self.figure.axes
                for artist in [*ax.collections, *ax.lines, *ax.patches, *ax.texts]
                if artist.get_gid() != "fixed"]
        for _, artist in data:
            artist.set_animated(True)  # left out of the background
        limits = tuple(v for ax in self.figure.axes for v in (*ax.get_xlim(), *ax.get_ylim()))
        if limits != self._limits or self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._limits = limits
        else:
            self.canvas.restore_region(self._background)
        for ax, artist in data:
            ax.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw",
                                 "RGBA", 0, 1)
        out = io.BytesIO()
        image.save(out, format="png", compress_level=1)  # served on this machine: fast beats small
        return out.getvalue()


_BOARDS: weakref.WeakKeyDictionary[Any, dict[str, Board]] = weakref.WeakKeyDictionary()


def _board(model: MarketModel, name: str, build: Callable[[], Figure]) -> Board:
    """The board ``name`` of ``model``, built on first use."""
    boards = _BOARDS.setdefault(model, {})
    if name not in boards:
        boards[name] = Board(build())
    return boards[name]


def nice_ceiling(value: float) -> float:
    """Round ``value`` up to 1, 2, 2.5 or 5 times a power of ten (1 for ``value`` <= 0).

    An axis limit set this way changes rarely as the data grow.
    """
    if value <= 0:
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value))


def draw_network(model: MarketModel, ax: Axes) -> None:
    """Draw the sampled buyers coloured by the seller they prefer (grey when they know none).

    Influencers are drawn larger, with a black ring.
    """
    sample = network_sample(model)
    b = model.buyers_state
    if not ax.collections:
        edges = LineCollection(sample.xy[sample.edges], colors="#b0b0b0", linewidths=0.3,
                               zorder=1)
        edges.set_gid("fixed")
        ax.add_collection(edges)
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.update_datalim(sample.xy)
        ax.autoscale_view()
    colors = seller_colors(model)
    prefer = preferred_sellers(model, sample.rows)
    face = np.where(prefer[:, None] >= 0, colors[np.maximum(prefer, 0)], np.array(GREY))
    influencer = b.is_influencer[sample.rows]
    ax.scatter(*sample.xy[~influencer].T, s=16, c=face[~influencer], linewidths=0, zorder=2)
    ax.scatter(*sample.xy[influencer].T, s=120, c=face[influencer], edgecolors="black",
               linewidths=1.2, zorder=3)
    shown = sample.rows.size
    ax.set_title(f"{shown} of {model.n_buyers} buyers" if shown < model.n_buyers
                 else f"all {shown} buyers", fontsize=9)


def network_png(model: MarketModel) -> bytes:
    """The network view at the model's current step, as PNG."""
    board = _board(model, "network", _new_network_figure)
    board.clear()
    draw_network(model, board.figure.axes[0])
    return board.png()


def _new_network_figure() -> Figure:
    fig = Figure(figsize=(5.0, 4.4), dpi=DPI)
    fig.add_axes((0.0, 0.0, 1.0, 0.94))
    return fig


def seller_legend(model: MarketModel) -> list[tuple[str, str, bool]]:
    """Return the network view's legend: (label, CSS colour, still in the market) per seller.

    The last item stands for the buyers who know no seller.
    """
    m = model.sellers_state
    colors = seller_colors(model)
    names = list(STRATEGIES)
    items = []
    for row in np.flatnonzero(m.exists):
        label = f"seller {row}: {names[int(m.strategy[row])]}"
        if not m.alive[row]:
            label += f" (left at step {int(m.exit_step[row])})"
        items.append((label, to_hex(colors[row]), bool(m.alive[row])))
    items.append(("knows no seller in the market", to_hex(GREY), True))
    return items


def strategy_legend(model: MarketModel) -> list[tuple[str, str]]:
    """Return the plots' legend: (label, CSS colour) for each strategy in the market.

    The label is ``strategy (marketing lever + sensing method)``, with the parts its sellers
    were built with.
    """
    m = model.sellers_state
    names = list(STRATEGIES)
    items = []
    for code in np.unique(m.strategy[m.exists]):
        row = int(np.flatnonzero(m.exists & (m.strategy == code))[0])
        parts = model.strategies[row]
        label = f"{names[code]} ({parts.marketing.name} + {parts.sensing.name})"
        items.append((label, to_hex(code_color(int(code)))))
    return items


# -- the live plots --------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """The per-step rows the model has recorded, as arrays (one row per step)."""

    steps: np.ndarray  # (T,)
    sellers: dict[str, np.ndarray]  # name -> (T, S): alive, share, sync, ...
    metrics: dict[str, np.ndarray]  # name -> (T,)
    flows: dict[str, np.ndarray]  # currency reason -> (T,) points moved for it per step


def history(model: MarketModel) -> History:
    """Stack the model's ``seller_rows`` and ``metric_rows`` into arrays, with flows by reason.

    The flows are the ledger's, summed by reason per step.
    """
    # Both lists as long as the shorter: with Mesa's "Use Threads" the model may be stepping
    # while the page reads them.
    count = min(len(model.metric_rows), len(model.seller_rows))
    metric_rows, seller_rows = model.metric_rows[:count], model.seller_rows[:count]
    steps = np.array([r["step"] for r in metric_rows], dtype=np.int64)
    if steps.size == 0:
        return History(steps, {}, {}, {})
    sellers = {k: np.stack([r[k] for r in seller_rows]) for k in ("alive", "share", "sync")}
    metrics = {k: np.array([r[k] for r in metric_rows]) for k in TRUST_COLUMNS.values()}
    flows = {reason: np.zeros(steps.size, dtype=np.int64) for reason in REASONS}
    first = int(steps[0])
    for step, _, _, _, reason, amount in model.ledger.flow_rows():
        if first <= step <= steps[-1]:  # steps closed after the rows were read are left out
            flows[reason][step - first] += amount
    return History(steps, sellers, metrics, flows)


def _by_strategy(model: MarketModel, values: np.ndarray) -> dict[int, np.ndarray]:
    """Per-step sums of ``values`` (T, S) over the sellers of each strategy present."""
    m = model.sellers_state
    return {int(code): values[:, m.exists & (m.strategy == code)].sum(axis=1)
            for code in np.unique(m.strategy[m.exists])}


def draw_alive(model: MarketModel, h: History, ax: Axes) -> None:
    """Sellers alive by strategy, stacked (the top edge is all sellers alive)."""
    alive = _by_strategy(model, h.sellers["alive"].astype(int))
    ax.stackplot(h.steps, *alive.values(), colors=[code_color(c) for c in alive], step="post")
    top = int(model.sellers_state.exists.sum())  # grows only when a seller enters
    ax.set_ylim(0, top + 0.5)
    ax.set_title("sellers alive by strategy (stacked)", fontsize=9)


def draw_share(model: MarketModel, h: History, ax: Axes) -> None:
    """Market share of this step's purchases by strategy, stacked."""
    shares = _by_strategy(model, h.sellers["share"])
    ax.stackplot(h.steps, *shares.values(), colors=[code_color(c) for c in shares])
    ax.set_ylim(0, 1)
    ax.set_title("market share by strategy", fontsize=9)


def draw_sync(model: MarketModel, h: History, ax: Axes) -> None:
    """Draw each seller's sync: the distance from its offering to buyers' mean expectation.

    The frog's water temperature; a line stops when the seller leaves the market.
    """
    colors = seller_colors(model)
    m = model.sellers_state
    sync = np.where(h.sellers["alive"], h.sellers["sync"], np.nan)
    for row in np.flatnonzero(m.exists):
        ax.plot(h.steps, sync[:, row], color=colors[row], linewidth=1.2)
    top = np.nanmax(sync) if np.isfinite(sync).any() else 1.0
    ax.set_ylim(0, nice_ceiling(1.05 * top))
    ax.set_title("each seller's sync: distance from offering to buyers' expectations "
                 "(the frog's water)", fontsize=9)


def _flow_styles() -> dict[str, dict[str, Any]]:
    """Return one line style per currency reason, in its kind's colour.

    A kind's first reason is drawn solid, its second dashed.
    """
    styles: dict[str, dict[str, Any]] = {}
    seen: set[int] = set()
    for reason, kind in REASONS.items():
        styles[reason] = {"color": CURRENCY_KIND_COLORS[KINDS[kind]], "linewidth": 1,
                          "linestyle": "--" if kind in seen else "-"}
        seen.add(kind)
    return styles


FLOW_STYLES = _flow_styles()


def flow_kind_legend() -> list[tuple[str, str]]:
    """The currency plot's colours: (kind, CSS colour) for each kind of movement."""
    return [(CURRENCY_LABELS[kind], to_hex(color)) for kind, color in CURRENCY_KIND_COLORS.items()]
TRUST_STYLES = {source: {"color": "black", "linestyle": style, "linewidth": 1}
                for source, style in zip(TRUST_SOURCES, ("-", "--", ":"), strict=True)}


def draw_flows(h: History, ax: Axes) -> None:
    """Social currency moved per step, one line per reason (the ledger's ``reason``)."""
    top = 1
    for reason, values in h.flows.items():
        ax.plot(h.steps, values, **FLOW_STYLES[reason])
        top = max(top, int(values.max()))
    ax.set_ylim(0, nice_ceiling(1.6 * top))  # room for the legend
    ax.set_title("currency flows by reason (points per step)", fontsize=9)


def draw_trust(h: History, ax: Axes) -> None:
    """Mean trust in peers, influencers and sellers."""
    for source in TRUST_SOURCES:
        ax.plot(h.steps, h.metrics[TRUST_COLUMNS[source]], **TRUST_STYLES[source])
    ax.set_ylim(0, 1)
    ax.set_title("mean trust by source", fontsize=9)


def plots_png(model: MarketModel) -> bytes:
    """Draw the live plots at the model's current step, as PNG.

    Sellers alive, market share, each seller's sync (wide), currency flows, trust.
    """
    board = _board(model, "plots", _new_plots_figure)
    board.clear()
    h = history(model)
    alive, share, sync, flows, trust = board.figure.axes
    panels = [(alive, lambda ax: draw_alive(model, h, ax)),
              (share, lambda ax: draw_share(model, h, ax)),
              (sync, lambda ax: draw_sync(model, h, ax)),
              (flows, lambda ax: draw_flows(h, ax)),
              (trust, lambda ax: draw_trust(h, ax))]
    span = STEP_SPAN * int(np.ceil(max(int(h.steps[-1]) if h.steps.size else 1, 1) / STEP_SPAN))
    for ax, draw in panels:
        ax.set_xlim(0, span)
        if h.steps.size:
            draw(ax)
        else:
            ax.text(0.5, 0.5, "press Step or Play", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8, color="grey")
    return board.png()


def _new_plots_figure() -> Figure:
    fig = Figure(figsize=(6.4, 6.4), dpi=DPI)
    grid = fig.add_gridspec(3, 2, left=0.08, right=0.98, top=0.95, bottom=0.06, hspace=0.5,
                            wspace=0.22)
    for spec in (grid[0, 0], grid[0, 1], grid[1, :], grid[2, 0], grid[2, 1]):
        ax = fig.add_subplot(spec)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("step", fontsize=7)
        # Few ticks: tick marks and their labels are most of the drawing time.
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(4, integer=spec == grid[0, 0]))
        ax.spines[["top", "right"]].set_visible(False)
    _, _, _, flows, trust = fig.axes
    # The legends never change: drawn once, from stand-in lines.
    flows.legend(handles=[Line2D([], [], label=reason, **style)
                          for reason, style in FLOW_STYLES.items()],
                 fontsize=6, loc="upper left", ncols=3, columnspacing=0.8, handlelength=1.6)
    trust.legend(handles=[Line2D([], [], label=s, **TRUST_STYLES[s]) for s in TRUST_SOURCES],
                 fontsize=6, loc="lower left")
    return fig


# -- the headline ----------------------------------------------------------------------------


def headline(model: MarketModel) -> list[str]:
    """This step's headline numbers: a title line (``step N · ...``), then one line each."""
    m = model.sellers_state
    names = list(STRATEGIES)
    alive = [f"{names[c]} {int((m.alive & (m.strategy == c)).sum())}"
             f"/{int((m.exists & (m.strategy == c)).sum())}"
             for c in np.unique(m.strategy[m.exists])]
    lines = [f"step {model.steps}",
             f"{model.n_buyers} buyers · seed {model.cfg.seed} · "
             f"{int(model.buyers_state.is_influencer.sum())} influencers",
             f"sellers alive: {int(m.alive.sum())} of {int(m.exists.sum())} "
             f"({', '.join(alive)}); exits {model.events['exits']}, "
             f"entries {model.events['entries']}"]
    if not model.metric_rows:
        return [*lines, "press Step or Play to start"]
    r = model.metric_rows[-1]
    return [
        *lines,
        f"this step: {r['purchases']} purchases by {r['buyers_with_need']} buyers with a need; "
        f"concentration (HHI) {r['hhi']:.2f}",
        f"mean sync {r['sync_mean']:.3f}; mean reach {r['reach_mean']:.0%}; expectations lag "
        f"the frontier by {r['expectation_lag']:.3f}",
        f"social currency: {r['currency_stock']:,} points held (Gini {r['currency_gini']:.2f}), "
        f"{r['currency_minted']:,} minted this step",
        f"trust: peers {r['trust_peers']:.2f}, influencers {r['trust_influencers']:.2f}, "
        f"sellers {r['trust_sellers']:.2f}; sponsored posts found out this step "
        f"{r['exposures']}",
    ]
