"""A run's results: the ``Results`` tables, and writing them as Parquet, a dashboard and a summary.

Every file is written under a temporary name in the run directory and renamed when complete, so
a file with its final name is always whole. ``summary.json`` is written last: its presence means
the run is complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spheres.model.currency import KINDS as CURRENCY_KINDS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from spheres.config import SpheresConfig

TABLES = ("metrics", "sellers", "flows", "agents")
SUMMARY = "summary.json"
TRUST_COLUMNS = {"peers": "trust_peers", "influencers": "trust_influencers",
                 "sellers": "trust_sellers"}
CURRENCY_LABELS = {"mint": "minted", "transfer": "transferred", "convert_in": "converted in",
                   "convert_out": "converted out", "burn": "burned"}



@dataclass
class Results:
    """The tables and summary of one run (columns are documented in the README)."""

    config: SpheresConfig
    metrics: pd.DataFrame
    sellers: pd.DataFrame
    flows: pd.DataFrame
    agents: pd.DataFrame
    summary: dict[str, Any]
    ledger_entries: pd.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)


RESULT_FILES = (SUMMARY, *(f"{t}.parquet" for t in TABLES), "ledger.parquet", "dashboard.png")


class RunDirError(OSError):
    """The run directory cannot take the run's files; the message names it and why."""


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
        written[name] = _write_parquet(getattr(results, name), run_dir / f"{name}.parquet")
    if results.ledger_entries is not None:
        written["ledger"] = _write_parquet(results.ledger_entries, run_dir / "ledger.parquet")
    if results.config.output.dashboard:
        figure = dashboard(results)
        path = run_dir / "dashboard.png"
        with atomic_write(path) as tmp:
            figure.savefig(tmp, format="png", dpi=110)
        written["dashboard"] = path

    text = json.dumps(_jsonable(results.summary), indent=2, allow_nan=False) + "\n"
    with atomic_write(summary_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    written["summary"] = summary_path
    return written


def _write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    with atomic_write(path) as tmp:
        frame.to_parquet(tmp, engine="pyarrow", index=False)
    return path


@contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays made plain and non-finite floats made ``None``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


# -- dashboard -------------------------------------------------------------------------------


def dashboard(results: Results) -> Figure:
    """A 2x2 figure: sellers alive by strategy, market shares, currency flows, trust by source."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    colors = _strategy_colors(results.sellers)
    panels: list[tuple[Axes, Callable[[Axes], None]]] = [
        (axes[0, 0], lambda ax: _plot_alive(ax, results.sellers, colors)),
        (axes[0, 1], lambda ax: _plot_shares(ax, results.sellers, colors)),
        (axes[1, 0], lambda ax: _plot_flows(ax, results.flows)),
        (axes[1, 1], lambda ax: _plot_trust(ax, results.metrics)),
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


def _strategy_colors(sellers: pd.DataFrame) -> dict[str, Any]:
    from matplotlib import colormaps

    names = sorted(sellers["strategy"].astype(str).unique()) if _has(sellers, "strategy") else []
    cmap = colormaps["tab10"]
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def _plot_alive(ax: Axes, sellers: pd.DataFrame, colors: dict[str, Any]) -> None:
    from matplotlib.ticker import MaxNLocator

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
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

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
        ax.plot(by_kind.index, by_kind[kind], label=CURRENCY_LABELS.get(kind, kind))
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
        ax.plot(metrics["step"], metrics[column], label=label)
    ax.set_title(title)
    ax.set_ylabel("mean trust")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")


# -- text summary ----------------------------------------------------------------------------


def format_summary(summary: dict[str, Any]) -> str:
    """A short text block: sellers alive by strategy, currency totals, top agents, Spearman."""
    lines: list[str] = []
    if "n_buyers" in summary and "steps" in summary:
        head = f"{summary['n_buyers']} buyers, {summary['steps']} steps"
        if "seed" in summary:
            head += f", seed {summary['seed']}"
        if "engine" in summary:
            head += f", engine {summary['engine']}"
        if "wall_time_s" in summary:
            head += f": {float(summary['wall_time_s']):.2f} s"
        lines.append(head)
    alive = summary.get("sellers_alive_by_strategy") or {}
    if alive:
        parts = []
        for name, v in alive.items():
            entered = v.get("entered", 0)
            parts.append(f"{name} {v.get('alive', 0)}/{v.get('start', 0) + entered}"
                         + (f" ({entered} entered)" if entered else ""))
        total_alive = sum(v.get("alive", 0) for v in alive.values())
        total = sum(v.get("start", 0) + v.get("entered", 0) for v in alive.values())
        lines.append(f"sellers alive/started: {', '.join(parts)}; all {total_alive}/{total}")
    currency = summary.get("currency_by_kind") or {}
    if currency:
        parts = [f"{CURRENCY_LABELS.get(k, k)} {_num(currency.get(k, 0))}"
                 for k in CURRENCY_KINDS if k in currency]
        lines.append(f"social currency: {', '.join(parts)}")
    checks = [f"{label} {'yes' if summary[key] else 'NO'}"
              for key, label in (("ledger_identity_holds", "currency ledger"),
                                 ("money_identity_holds", "money")) if key in summary]
    if checks:
        lines.append(f"identities hold: {', '.join(checks)}")

    by_score = summary.get("top_by_score") or []
    by_true = summary.get("top_by_true_influence") or []
    if by_score or by_true:
        left = [_agent(i, a, "score") for i, a in enumerate(by_score, 1)]
        right = [_agent(i, a, "true_influence") for i, a in enumerate(by_true, 1)]
        width = max([len("top by score")] + [len(s) for s in left]) + 3
        lines.append(f"{'top by score':<{width}}top by true influence")
        for i in range(min(max(len(left), len(right)), 10)):
            a = left[i] if i < len(left) else ""
            b = right[i] if i < len(right) else ""
            lines.append(f"{a:<{width}}{b}".rstrip())
    if "score_influence_spearman" in summary:
        rho = summary["score_influence_spearman"]
        rho_text = "n/a" if rho is None or _isnan(rho) else f"{float(rho):+.3f}"
        lines.append(f"Spearman rank correlation, score vs true influence: {rho_text}")
    return "\n".join(lines)


def _agent(rank: int, agent: dict[str, Any], key: str) -> str:
    value = agent.get(key)
    shown = "?" if value is None else _num(value)
    kind = str(agent.get("agent_type", "agent"))
    return f"{rank:>2}. {kind} {agent.get('agent_id', '?')}: {shown}"


def _num(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
    return str(value)


def _isnan(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True
