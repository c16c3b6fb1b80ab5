"""A run's results: the ``Results`` tables, and writing them as Parquet, a dashboard and a summary.

Every file is written under a temporary name in the run directory and renamed when complete, so
a file with its final name is always whole. ``summary.json`` is written last: its presence means
the run is complete.
"""

from __future__ import annotations

import json
import math
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from spheres.errors import RunDirError
from spheres.model.currency import AGENT_TYPES, CURRENCY_LABELS, KINDS, REASON_NAMES, REASONS
from spheres.model.currency import KINDS as CURRENCY_KINDS
from spheres.model.measures import TRUST_COLUMNS, klout_score, network_value
from spheres.model.strategies import STRATEGIES
from spheres.paths import SUMMARY, atomic_write

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from spheres.config import SpheresConfig
    from spheres.model.model import MarketModel

TABLES = ("metrics", "sellers", "flows", "agents")



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


def _strategy_names(codes: np.ndarray) -> np.ndarray:
    return np.asarray(list(STRATEGIES))[codes]


def assemble(model: MarketModel) -> Results:
    """Build a finished run's tables and summary from its model."""
    b, led = model.buyers_state, model.ledger
    metrics_df = pd.DataFrame(model.metric_rows)
    if model.seller_rows:
        cols = {k: np.concatenate([r[k] for r in model.seller_rows]) for k in model.seller_rows[0]}
    else:
        cols = {}
    sellers_df = pd.DataFrame(cols)
    if len(sellers_df):
        sellers_df = sellers_df[sellers_df.pop("exists")].reset_index(drop=True)
        sellers_df["strategy"] = _strategy_names(sellers_df["strategy"].to_numpy())
        sensing = {row: s.sensing.name for row, s in enumerate(model.strategies) if s}
        marketing = {row: s.marketing.name for row, s in enumerate(model.strategies) if s}
        sellers_df.insert(3, "marketing_lever", sellers_df["seller_id"].map(marketing))
        sellers_df.insert(4, "sensing", sellers_df["seller_id"].map(sensing))
    flows_df = pd.DataFrame(led.flow_rows(), columns=["step", "source_type", "destination_type",
                                                      "kind", "reason", "amount"])
    score = klout_score(model)
    agents_df = pd.DataFrame({
        "agent_id": np.arange(model.n_buyers),
        "agent_type": np.where(b.is_influencer, "influencer", "buyer"),
        "degree": model.degree,
        "degree_percentile": model.degree_percentile,
        "followers": b.n_followers,
        "promoted_step": b.promoted_step,
        "posts": b.posts,
        "replies": b.talks,
        "reads": b.reads,
        "mentions": b.thanks,
        "score": score,
        "made_aware": b.informed,
        "true_influence": b.caused,
        "caused_spend": b.caused_spend,
        "lifetime_value": b.spent.copy(),
        "network_value": network_value(model),
        "currency": b.currency,
        "money": b.money,
        "purchases": b.purchases,
        "credibility": np.where(b.is_influencer, b.credibility, np.nan),
        "found_out": b.exposed,
        "trust_peers": b.trust[:, 0],
        "trust_influencers": b.trust[:, 1],
        "trust_sellers": b.trust[:, 2],
    })
    entries = None
    if model.cfg.output.ledger_entries:
        entries = pd.DataFrame(led.entries(), columns=[
            "step", "kind", "reason", "source_type", "source", "destination_type", "destination",
            "amount"])
        entries["kind"] = np.asarray(KINDS)[entries["kind"].to_numpy()]
        entries["reason"] = np.asarray(REASON_NAMES)[entries["reason"].to_numpy()]
        for col in ("source_type", "destination_type"):
            entries[col] = np.asarray(AGENT_TYPES)[entries[col].to_numpy()]
    summary = _summary(model, agents_df, flows_df)
    return Results(model.cfg, metrics_df, sellers_df, flows_df, agents_df, summary, entries)


def _top(agents: pd.DataFrame, column: str, k: int) -> list[dict[str, Any]]:
    top = agents.sort_values([column, "agent_id"], ascending=[False, True]).head(k)
    return [
        {"agent_id": int(r.agent_id), "agent_type": str(r.agent_type),
         "score": round(float(r.score), 3), "true_influence": int(r.true_influence)}
        for r in top.itertuples()
    ]


def _summary(model: MarketModel, agents: pd.DataFrame, flows: pd.DataFrame) -> dict[str, Any]:
    from spheres.config import to_dict

    b, m, led = model.buyers_state, model.sellers_state, model.ledger
    names = _strategy_names(m.strategy)
    by_strategy: dict[str, dict[str, Any]] = {}
    for name in STRATEGIES:
        mine = m.exists & (names == name)
        if not mine.any():
            continue
        initial = mine & (m.entry_step == 0)
        ends = np.where(m.alive, model.steps, m.exit_step)
        by_strategy[name] = {
            "start": int(initial.sum()),
            "entered": int((mine & ~initial).sum()),
            "alive": int((mine & m.alive).sum()),
            "mean_survival_steps": float((ends[mine] - m.entry_step[mine]).mean()),
            "final_share": float(m.sales[mine].sum() / max(int(m.sales.sum()), 1)),
            "cash": int(m.cash[mine].sum()),
        }
    if agents["score"].nunique() > 1 and agents["true_influence"].nunique() > 1:
        rho = float(stats.spearmanr(agents["score"], agents["true_influence"]).statistic)
    else:
        rho = float("nan")
    k = model.cfg.output.top
    spend = int(b.spent.sum())
    promoted = b.promoted_step >= 0
    by_reason = flows.groupby("reason")["amount"].sum() if len(flows) else pd.Series(dtype=int)
    return {
        "steps": model.steps,
        "n_buyers": model.n_buyers,
        "seed": model.cfg.seed,
        "engine": model.cfg.engine,
        "sellers_alive": int(m.alive.sum()),
        "sellers_alive_by_strategy": by_strategy,
        "exits": model.events["exits"],
        "entries": model.events["entries"],
        "promotions": model.events["promotions"],
        "promoted_degree_percentile_median": (
            float(np.median(model.degree_percentile[promoted])) if promoted.any()
            else float("nan")),
        "currency_by_kind": {kind: int(v) for kind, v in zip(KINDS, led.totals, strict=True)},
        "currency_by_reason": {reason: int(by_reason.get(reason, 0)) for reason in REASONS},
        "currency_stock": int(b.currency.sum()),
        "ledger_identity_holds": led.identity_holds(),
        "buyer_spend": spend,
        "seller_revenue": model.revenue_total,
        "money_identity_holds": spend == model.revenue_total,
        "score_influence_spearman": rho,
        "top_by_score": _top(agents, "score", k),
        "top_by_true_influence": _top(agents, "true_influence", k),
        "trust_final": {
            "peers": float(b.trust[:, 0].mean()),
            "influencers": float(b.trust[:, 1].mean()),
            "sellers": float(b.trust[:, 2].mean()),
        },
        "credibility_final": (float(b.credibility[b.is_influencer].mean())
                              if b.is_influencer.any() else float("nan")),
        "network_facts": dict(model.network_facts),
        "config": to_dict(model.cfg),
    }


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
    """A short text block: sellers alive by strategy, currency totals, trust, credibility and
    promotions, top agents, Spearman."""
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
    trust = summary.get("trust_final") or {}
    if trust:
        text = ", ".join(f"{k} {float(v):.2f}" for k, v in trust.items())
        cred = summary.get("credibility_final")
        if cred is not None and cred == cred:
            text += f"; influencers' credibility {float(cred):.2f}"
        if "promotions" in summary:
            text += f"; promotions to influencer {summary['promotions']}"
        lines.append(f"trust at the end: {text}")
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
