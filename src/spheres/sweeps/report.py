"""The what-if report: one or several collected sweeps into ``report.html``, ``report.md`` and PNGs.

A *scenario* is one combination of the swept overrides other than ``seed`` (the ``swept`` table of
``sweep.duckdb``); its seeds are replicates. For every scenario the report gives the mean and a
95% bootstrap confidence interval across seeds (``scipy.stats.bootstrap``, percentile method,
fixed random state) of the main outcomes, the differences from a baseline scenario with their
intervals, and a plain-language sentence for each difference whose interval excludes zero. It
draws survival curves by strategy (Kaplan–Meier, ``scipy.stats.ecdf``), market share over time,
currency flows by kind and, when a Sobol sweep left ``sensitivity``, the Sobol indices. Failed
and incomplete runs are counted and named, never averaged in. The HTML embeds its figures as
base64 PNG and loads nothing from the network.
"""

from __future__ import annotations

import base64
import html
import math
import textwrap
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from spheres.analysis.store import SEED
from spheres.errors import ReportError
from spheres.paths import DATABASE

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95
MAX_SCENARIOS = 24  # beyond this the runs are a sampled design, not scenarios to compare


# -- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One outcome per run: its column, label, and how a difference reads in plain words.

    ``more`` and ``less`` are sentences with ``{d}`` (the size of the difference) and ``{ci}``
    (its interval), e.g. ``"listen sellers survive {d} steps longer ({ci})"``.
    """

    column: str
    label: str
    more: str
    less: str
    digits: int = 2


# Outcomes per strategy: column prefix, label, reading when higher, reading when lower, digits.
# "{s}" is "<strategy> sellers".
STRATEGY_OUTCOMES = [
    ("alive", "{s} alive at the end", "{d} more {s} are alive at the end {ci}",
     "{d} fewer {s} are alive at the end {ci}", 1),
    ("survival", "mean steps in the market of {s}", "{s} survive {d} steps longer {ci}",
     "{s} survive {d} steps less {ci}", 1),
    ("share", "final market share of {s}", "{s} hold a market share {d} higher {ci}",
     "{s} hold a market share {d} lower {ci}", 3),
    ("profit", "profit of {s} over the run (cents)", "{s} make {d} cents more profit {ci}",
     "{s} make {d} cents less profit {ci}", 0),
]


def _strategy_outcomes(strategy: str) -> list[Outcome]:
    def fill(text: str) -> str:
        return text.replace("{s}", f"{strategy} sellers")

    return [Outcome(f"{prefix}[{strategy}]", fill(label), fill(more), fill(less), digits)
            for prefix, label, more, less, digits in STRATEGY_OUTCOMES]


MARKET_OUTCOMES = [
    Outcome("sellers_alive", "sellers alive at the end",
            "{d} more sellers are alive at the end {ci}",
            "{d} fewer sellers are alive at the end {ci}", 1),
    Outcome("hhi", "market concentration at the end (HHI)",
            "the market is more concentrated: HHI {d} higher {ci}",
            "the market is less concentrated: HHI {d} lower {ci}", 3),
    Outcome("currency_mint", "social currency minted (points)",
            "buyers mint {d} more points of social currency {ci}",
            "buyers mint {d} fewer points of social currency {ci}", 0),
    Outcome("currency_convert_in", "money converted into currency (points)",
            "sellers convert {d} more points of money into social currency {ci}",
            "sellers convert {d} fewer points of money into social currency {ci}", 0),
    Outcome("currency_convert_out", "currency converted into money (points)",
            "agents convert {d} more points of social currency into money {ci}",
            "agents convert {d} fewer points of social currency into money {ci}", 0),
    Outcome("currency_gini", "Gini of currency balances at the end",
            "social currency is more unequally held: Gini {d} higher {ci}",
            "social currency is more evenly held: Gini {d} lower {ci}", 3),
    *[Outcome(f"trust_final_{source}", f"trust in {source} at the end",
              f"buyers end up trusting {source} more: {{d}} higher {{ci}}",
              f"buyers end up trusting {source} less: {{d}} lower {{ci}}", 3)
      for source in ("peers", "influencers", "sellers")],
    Outcome("score_influence_spearman", "rank correlation of score and true influence",
            "influence scores rank agents more like their true influence: "
            "Spearman {d} higher {ci}",
            "influence scores rank agents less like their true influence: "
            "Spearman {d} lower {ci}", 3),
]


# -- loading -------------------------------------------------------------------------------


@dataclass
class Sweep:
    """The tables of one or several collected sweeps, with scenarios named."""

    names: list[str]
    runs: pd.DataFrame  # one row per run: run, sweep, job, scenario, seed, status, error, ...
    keys: list[str]  # scenario columns
    outcomes: pd.DataFrame  # complete runs only: run, scenario + one column per outcome
    strategies: list[str]
    survival: pd.DataFrame  # run, scenario, strategy, steps_alive, exited
    shares: pd.DataFrame  # run, scenario, step, strategy, share
    flows: pd.DataFrame  # run, scenario, step, kind, amount
    sensitivity: pd.DataFrame  # outcome, parameter, S1, S1_conf, ST, ST_conf (+ sweep)
    scenarios: list[str] = field(default_factory=list)


def _sweep_names(dirs: Sequence[Path]) -> list[str]:
    """Short readable names of the sweep directories: the last path parts that tell them apart."""
    resolved = [d.resolve() for d in dirs]
    for depth in range(1, 8):
        names = ["/".join(d.parts[-depth:]) for d in resolved]
        if len(set(names)) == len(names):
            return names
    return [str(d) for d in resolved]


# What the report reads from each store beyond ``runs``: name -> (query, its columns).
PER_RUN_QUERIES = {
    "final": ("SELECT job, hhi, currency_gini FROM steps "
              "QUALIFY step = max(step) OVER (PARTITION BY job)", ["job", "hhi", "currency_gini"]),
    "strategies": ("SELECT job, strategy, alive, mean_survival_steps, final_share "
                   "FROM strategies",
                   ["job", "strategy", "alive", "mean_survival_steps", "final_share"]),
    "profit": ("SELECT job, strategy, sum(profit) AS profit FROM sellers GROUP BY ALL",
               ["job", "strategy", "profit"]),
    "survival": ("SELECT job, seller_id, any_value(strategy) AS strategy, "
                 "sum(CAST(alive AS INTEGER)) AS steps_alive, "
                 "NOT arg_max(alive, step) AS exited FROM sellers GROUP BY ALL",
                 ["job", "seller_id", "strategy", "steps_alive", "exited"]),
    "shares": ("SELECT job, step, strategy, sum(share) AS share FROM sellers GROUP BY ALL",
               ["job", "step", "strategy", "share"]),
    "flows": ("SELECT job, step, kind, sum(amount) AS amount FROM flows GROUP BY ALL",
              ["job", "step", "kind", "amount"]),
}


def _query(con: Any, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def _tables(con: Any) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
            .fetchall()}


def load(sweep_dirs: Sequence[Path | str]) -> Sweep:
    """Read the collected store of each sweep directory and name the scenarios."""
    import duckdb

    dirs = [Path(d) for d in sweep_dirs]
    if not dirs:
        raise ReportError("SWEEP_DIR: give at least one collected sweep directory")
    for d in dirs:
        if not (d / DATABASE).is_file():
            raise ReportError(f"SWEEP_DIR: {d} has no {DATABASE}; run `spheres collect {d}` "
                              "first")
    names = _sweep_names(dirs)
    parts: dict[str, list[pd.DataFrame]] = {t: [] for t in
                                            ("runs", "survival", "shares", "flows", "sens")}
    keys: list[str] = []
    for name, d in zip(names, dirs, strict=True):
        with duckdb.connect(str(d / DATABASE), read_only=True) as con:
            tables = _tables(con)
            swept = [k for k in _query(con, "SELECT key FROM swept")["key"] if k != SEED]
            keys += [k for k in swept if k not in keys]
            runs = _query(con, "SELECT * FROM runs")
            has_results = bool((runs["status"] == "ok").any())
            # Without a finished run the per-step tables hold only a job column.
            got = {table: (_query(con, sql) if has_results else pd.DataFrame(columns=columns))
                   for table, (sql, columns) in PER_RUN_QUERIES.items()}
            for table in ("survival", "shares", "flows"):
                parts[table].append(got[table].assign(sweep=name))
            if "sensitivity" in tables:
                parts["sens"].append(_query(con, "SELECT * FROM sensitivity")
                                     .assign(sweep=name))
        per_strategy = got["strategies"].merge(got["profit"], on=["job", "strategy"],
                                               how="left").pivot(
            index="job", columns="strategy",
            values=["alive", "mean_survival_steps", "final_share", "profit"])
        labels = {"alive": "alive", "mean_survival_steps": "survival", "final_share": "share",
                  "profit": "profit"}
        per_strategy.columns = [f"{labels[a]}[{s}]" for a, s in per_strategy.columns]
        runs = (runs.merge(got["final"], on="job", how="left")
                .merge(per_strategy.reset_index(), on="job", how="left").assign(sweep=name))
        parts["runs"].append(runs)

    runs = pd.concat(parts["runs"], ignore_index=True)
    if len(dirs) > 1:
        keys = ["sweep", *keys]
    runs["scenario"] = [scenario_name(r, keys) for r in runs[keys].to_dict("records")] if keys \
        else "all runs"
    runs["run"] = runs["sweep"] + ":" + runs["job"].astype(str)
    scenario_of = runs.set_index("run")["scenario"]

    def tag(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.assign(run=frame["sweep"] + ":" + frame["job"].astype(str))
        return frame.assign(scenario=frame["run"].map(scenario_of))

    ok = runs[runs["status"] == "ok"]
    strategies = sorted({c[c.index("[") + 1:-1] for c in runs.columns if c.startswith("alive[")})
    survival = tag(pd.concat(parts["survival"], ignore_index=True))
    return Sweep(
        names=names, runs=runs, keys=keys, outcomes=ok, strategies=strategies,
        survival=survival[survival["run"].isin(ok["run"])],
        shares=tag(pd.concat(parts["shares"], ignore_index=True)),
        flows=tag(pd.concat(parts["flows"], ignore_index=True)),
        sensitivity=(pd.concat(parts["sens"], ignore_index=True) if parts["sens"]
                     else pd.DataFrame()),
        scenarios=list(dict.fromkeys(runs["scenario"])),
    )


def scenario_name(values: dict[str, Any], keys: Sequence[str]) -> str:
    """``sellers=all_listen, market.p_ad=0.05``: the scenario's swept values, in key order."""
    return ", ".join(f"{k}={_value_text(values[k])}" for k in keys)


def _value_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def pick_baseline(scenarios: Sequence[str], wanted: str | None) -> str:
    """The scenario named ``wanted`` (exactly, or as its one unique substring); else the first."""
    if wanted is None:
        return scenarios[0]
    if wanted in scenarios:
        return wanted
    matches = [s for s in scenarios if wanted in s]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(scenarios)
    if not matches:
        raise ReportError(f"--baseline {wanted!r} matches no scenario; the scenarios are: "
                          f"{listing}")
    raise ReportError(f"--baseline {wanted!r} matches {len(matches)} scenarios "
                      f"({'; '.join(matches)}); give one of: {listing}")


# -- statistics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A mean (or difference of means) across seeds with its 95% interval (NaN with one seed)."""

    value: float
    low: float
    high: float
    n: int

    @property
    def has_interval(self) -> bool:
        """True when the interval could be computed (at least two seeds on each side)."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def clear(self) -> bool:
        """True when the interval excludes zero: a difference clearly larger than its noise."""
        return self.has_interval and (self.low > 0 or self.high < 0)


MISSING = Estimate(math.nan, math.nan, math.nan, 0)


def _bootstrap(samples: tuple[np.ndarray, ...],
               statistic: Callable[..., np.ndarray]) -> tuple[float, float]:
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(samples, statistic, n_resamples=BOOTSTRAP_RESAMPLES,
                                 confidence_level=CONFIDENCE, method="percentile",
                                 rng=np.random.default_rng(BOOTSTRAP_SEED))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def mean_ci(values: Sequence[float]) -> Estimate:
    """Mean across seeds and its 95% bootstrap interval (no interval with fewer than 2 seeds)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return MISSING
    if len(x) < 2:
        return Estimate(float(x.mean()), math.nan, math.nan, len(x))
    return Estimate(float(x.mean()), *_bootstrap((x,), _mean), len(x))


def difference_ci(values: Sequence[float], baseline: Sequence[float]) -> Estimate:
    """Mean of ``values`` minus mean of ``baseline``, with a 95% bootstrap interval."""
    x = np.asarray(values, dtype=float)
    y = np.asarray(baseline, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) == 0 or len(y) == 0:
        return MISSING
    value = float(x.mean() - y.mean())
    if len(x) < 2 or len(y) < 2:
        return Estimate(value, math.nan, math.nan, min(len(x), len(y)))
    return Estimate(value, *_bootstrap((x, y), _mean_difference), min(len(x), len(y)))


def outcome_list(sweep: Sweep) -> list[Outcome]:
    """The outcomes present in the sweep: market-level ones, then each strategy's."""
    found = [o for o in MARKET_OUTCOMES if o.column in sweep.outcomes.columns]
    for strategy in sweep.strategies:
        found += [o for o in _strategy_outcomes(strategy) if o.column in sweep.outcomes.columns]
    return found


def estimates(sweep: Sweep, outcomes: Sequence[Outcome]) -> dict[tuple[str, str], Estimate]:
    """(scenario, outcome column) -> mean and interval across the scenario's complete runs."""
    out: dict[tuple[str, str], Estimate] = {}
    for scenario, group in sweep.outcomes.groupby("scenario", sort=False):
        for o in outcomes:
            out[str(scenario), o.column] = mean_ci(group[o.column].to_numpy(dtype=float))
    return out


def differences(sweep: Sweep, outcomes: Sequence[Outcome],
                baseline: str) -> dict[tuple[str, str], Estimate]:
    """(scenario, outcome column) -> difference from the baseline with its interval."""
    base = sweep.outcomes[sweep.outcomes["scenario"] == baseline]
    out: dict[tuple[str, str], Estimate] = {}
    for scenario, group in sweep.outcomes.groupby("scenario", sort=False):
        if scenario == baseline:
            continue
        for o in outcomes:
            out[str(scenario), o.column] = difference_ci(group[o.column].to_numpy(dtype=float),
                                                         base[o.column].to_numpy(dtype=float))
    return out


def _num(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return "–"
    return f"{value:,.{digits}f}"


def reading(outcome: Outcome, diff: Estimate) -> str:
    """One plain-language sentence for a difference from the baseline."""
    d = abs(diff.value)
    low, high = sorted((abs(diff.low), abs(diff.high)))
    ci = f"(95% CI {_num(low, outcome.digits)}–{_num(high, outcome.digits)})"
    template = outcome.more if diff.value > 0 else outcome.less
    return template.format(d=_num(d, outcome.digits), ci=ci) + " than in the baseline"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _format_estimate(e: Estimate, digits: int) -> str:
    if not e.has_interval:
        return _num(e.value, digits)
    return f"{_num(e.value, digits)} ({_num(e.low, digits)} to {_num(e.high, digits)})"


# -- figures -------------------------------------------------------------------------------


def _figure(n_panels: int, width: float = 4.2, height: float = 3.2,
            cols: int = 3) -> tuple[Figure, list[Any]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cols = min(n_panels, cols)
    rows = math.ceil(n_panels / cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _colors(names: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def kaplan_meier(times: np.ndarray, exited: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan–Meier survival curve (steps, share surviving) from 0 to the longest time.

    ``times`` are steps alive; ``exited`` marks an event, the others are censored
    (``scipy.stats.ecdf`` on ``CensoredData``). Plot with ``where="post"``.
    """
    from scipy import stats

    end = float(times.max())
    if not exited.any():
        return np.array([0.0, end]), np.array([1.0, 1.0])
    sf = stats.ecdf(stats.CensoredData(uncensored=times[exited], right=times[~exited])).sf
    return (np.concatenate([[0.0], sf.quantiles, [end]]),
            np.concatenate([[1.0], sf.probabilities, [sf.probabilities[-1]]]))


def survival_figure(sweep: Sweep) -> Figure:
    """Kaplan–Meier survival of sellers by strategy, one panel per scenario.

    A seller's time is its steps alive; an exit is an event, a seller alive at the end is
    censored (``scipy.stats.ecdf`` on ``CensoredData``).
    """
    colors = _colors(sweep.strategies)
    fig, axes = _figure(len(sweep.scenarios))
    for ax, scenario in zip(axes, sweep.scenarios, strict=True):
        data = sweep.survival[sweep.survival["scenario"] == scenario]
        for strategy, group in data.groupby("strategy"):
            x, y = kaplan_meier(group["steps_alive"].to_numpy(dtype=float),
                                group["exited"].to_numpy(dtype=bool))
            ax.step(x, y, where="post", color=colors[str(strategy)],
                    label=f"{strategy} ({len(group)})")
        ax.set_title(scenario, fontsize="small", wrap=True)
        ax.set_xlabel("steps alive")
        ax.set_ylabel("share of sellers still in the market")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize="x-small", title="strategy (sellers)", title_fontsize="x-small")
    fig.suptitle("Seller survival by strategy (Kaplan–Meier; sellers alive at the end censored)")
    return fig


def share_figure(sweep: Sweep) -> Figure:
    """Market share by strategy over time: mean across seeds, band = middle 95% of runs."""
    colors = _colors(sweep.strategies)
    fig, axes = _figure(len(sweep.scenarios))
    for ax, scenario in zip(axes, sweep.scenarios, strict=True):
        data = sweep.shares[(sweep.shares["scenario"] == scenario)
                            & sweep.shares["run"].isin(sweep.outcomes["run"])]
        for strategy, group in data.groupby("strategy"):
            wide = group.pivot_table(index="step", columns="run", values="share", fill_value=0.0)
            ax.plot(wide.index, wide.mean(axis=1), color=colors[str(strategy)], label=strategy)
            if wide.shape[1] > 1:
                ax.fill_between(wide.index, wide.quantile(0.025, axis=1),
                                wide.quantile(0.975, axis=1), color=colors[str(strategy)],
                                alpha=0.2, linewidth=0)
        ax.set_title(scenario, fontsize="small", wrap=True)
        ax.set_xlabel("step")
        ax.set_ylabel("share of purchases")
        ax.set_ylim(0, 1)
        ax.legend(fontsize="x-small")
    fig.suptitle("Market share by strategy (line: mean across seeds; band: middle 95% of runs)")
    return fig


def flows_figure(sweep: Sweep) -> Figure:
    """Social currency moved per step by kind, mean across seeds, one panel per scenario."""
    from spheres.model.currency import CURRENCY_LABELS, KINDS

    fig, axes = _figure(len(sweep.scenarios))
    ok = sweep.flows[sweep.flows["run"].isin(sweep.outcomes["run"])]
    for ax, scenario in zip(axes, sweep.scenarios, strict=True):
        data = ok[ok["scenario"] == scenario]
        runs = max(data["run"].nunique(), 1)
        by_kind = data.pivot_table(index="step", columns="kind", values="amount", aggfunc="sum",
                                   fill_value=0) / runs
        for kind in [k for k in KINDS if k in by_kind.columns]:
            ax.plot(by_kind.index, by_kind[kind], label=CURRENCY_LABELS.get(kind, kind))
        ax.set_title(scenario, fontsize="small", wrap=True)
        ax.set_xlabel("step")
        ax.set_ylabel("points per step (mean over seeds)")
        if len(by_kind.columns):
            ax.legend(fontsize="x-small")
    fig.suptitle("Social currency flows by kind")
    return fig


def outcomes_figure(sweep: Sweep, outcomes: Sequence[Outcome],
                    found: dict[tuple[str, str], Estimate]) -> Figure:
    """Each outcome's mean per scenario with its 95% interval."""
    fig, axes = _figure(len(outcomes), width=4.2, height=0.6 + 0.35 * len(sweep.scenarios))
    positions = np.arange(len(sweep.scenarios))
    for ax, o in zip(axes, outcomes, strict=True):
        est = [found.get((s, o.column), MISSING) for s in sweep.scenarios]
        values = np.array([e.value for e in est])
        low = np.array([e.value - e.low if e.has_interval else 0.0 for e in est])
        high = np.array([e.high - e.value if e.has_interval else 0.0 for e in est])
        ax.errorbar(values, positions, xerr=[low, high], fmt="o", capsize=3)
        ax.set_yticks(positions, [f"S{i + 1}" for i in positions], fontsize="small")
        ax.invert_yaxis()
        ax.set_title(o.label, fontsize="small", wrap=True)
    fig.suptitle("Main outcomes by scenario (mean across seeds, 95% interval; S1.. as in the "
                 "scenario table)")
    return fig


def sensitivity_figure(indices: pd.DataFrame) -> Figure:
    """Bars of first-order (S1) and total (ST) Sobol indices per outcome, with intervals."""
    groups = list(indices.groupby(["sweep", "outcome"], sort=False))
    fig, axes = _figure(len(groups), width=4.6)
    for ax, ((sweep, outcome), group) in zip(axes, groups, strict=True):
        x = np.arange(len(group))
        ax.bar(x - 0.2, group["S1"], 0.4, yerr=group["S1_conf"], capsize=3, label="S1 (alone)")
        ax.bar(x + 0.2, group["ST"], 0.4, yerr=group["ST_conf"], capsize=3,
               label="ST (with interactions)")
        ax.set_xticks(x, group["parameter"], rotation=20, ha="right", fontsize="small")
        ax.axhline(0, color="black", linewidth=0.5)
        title = f"{outcome}" + (f" ({sweep})" if indices["sweep"].nunique() > 1 else "")
        # Long outcome keys (a difference of two nested keys) wrap instead of overlapping.
        ax.set_title("\n".join(textwrap.wrap(title, 48, break_long_words=True)),
                     fontsize="small")
        ax.set_ylabel("Sobol index")
        if group[["S1", "ST"]].isna().all().all():
            ax.text(0.5, 0.5, "no index: the outcome did not vary\n(or a run did not give it)",
                    transform=ax.transAxes, ha="center", va="center", fontsize="small")
        else:
            ax.legend(fontsize="x-small")
    fig.suptitle("Global sensitivity: share of each outcome's variance due to each parameter")
    return fig


# -- the document --------------------------------------------------------------------------


@dataclass
class Doc:
    """The report as blocks, rendered to both Markdown and self-contained HTML."""

    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> None:
        """Add a heading."""
        self.blocks.append(("heading", (level, text)))

    def para(self, text: str) -> None:
        """Add a paragraph."""
        self.blocks.append(("para", text))

    def bullets(self, items: Sequence[str]) -> None:
        """Add a bulleted list."""
        self.blocks.append(("bullets", list(items)))

    def table(self, frame: pd.DataFrame) -> None:
        """Add a table (the frame's columns and rows, as text)."""
        self.blocks.append(("table", frame.astype(str)))

    def figure(self, name: str, png: bytes, caption: str) -> None:
        """Add a figure written as ``name`` beside the report."""
        self.blocks.append(("figure", (name, png, caption)))

    def markdown(self) -> str:
        """The report as Markdown, figures linked to their PNG files."""
        out: list[str] = []
        for kind, value in self.blocks:
            if kind == "heading":
                out.append(f"{'#' * value[0]} {value[1]}")
            elif kind == "para":
                out.append(value)
            elif kind == "bullets":
                out.append("\n".join(f"- {item}" for item in value))
            elif kind == "table":
                cells = [list(value.columns), *value.to_numpy().tolist()]
                rows = ["| " + " | ".join(c.replace("|", "\\|") for c in map(str, r)) + " |"
                        for r in cells]
                rows.insert(1, "|" + "---|" * len(value.columns))
                out.append("\n".join(rows))
            elif kind == "figure":
                out.append(f"![{value[2]}]({value[0]})\n\n*{value[2]}*")
        return "\n\n".join(out) + "\n"

    def html(self, title: str) -> str:
        """The report as one HTML page, figures embedded as base64 PNG."""
        e = html.escape
        out: list[str] = []
        for kind, value in self.blocks:
            if kind == "heading":
                out.append(f"<h{value[0]}>{e(value[1])}</h{value[0]}>")
            elif kind == "para":
                out.append(f"<p>{e(value)}</p>")
            elif kind == "bullets":
                out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in value) + "</ul>")
            elif kind == "table":
                out.append(value.to_html(index=False, escape=True, border=0))
            elif kind == "figure":
                data = base64.b64encode(value[1]).decode("ascii")
                out.append(f'<figure><img alt="{e(value[2])}" '
                           f'src="data:image/png;base64,{data}"><figcaption>{e(value[2])}'
                           "</figcaption></figure>")
        style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
                 "line-height:1.45}table{border-collapse:collapse;font-size:0.85em;margin:1em 0}"
                 "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}"
                 "img{max-width:100%}figcaption{font-style:italic;font-size:0.9em}")
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{e(title)}</title><style>{style}</style></head><body>\n"
                + "\n".join(out) + "\n</body></html>\n")


def _png(fig: Figure) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _status_lines(sweep: Sweep) -> list[str]:
    bad = sweep.runs[sweep.runs["status"] != "ok"]
    lines = []
    for r in bad.itertuples():
        error = f": {r.error}" if isinstance(r.error, str) and r.error else ""
        lines.append(f"{r.status} — run {r.run} (scenario {r.scenario}, seed "
                     f"{_value_text(r.seed)}){error}")
    return lines


def build(sweep: Sweep, baseline: str | None = None) -> tuple[Doc, str]:
    """The report's document and its title."""
    title = "What-if report: " + ", ".join(sweep.names)
    doc = Doc()
    doc.heading(title, 1)
    counts = sweep.runs["status"].value_counts()
    ok, total = int(counts.get("ok", 0)), len(sweep.runs)
    n_failed, n_incomplete = int(counts.get("failed", 0)), int(counts.get("incomplete", 0))
    per_scenario = sweep.runs.groupby("scenario")["run"].count()
    # A Sobol sweep's runs (one per sampled point) are a design, not scenarios to compare.
    too_many = len(sweep.scenarios) > MAX_SCENARIOS or (
        not sweep.sensitivity.empty and len(sweep.scenarios) > 1 and per_scenario.max() == 1)

    doc.heading("What this sweep compared")
    swept = ("the values of " + ", ".join(sweep.keys)) if sweep.keys else \
        "nothing but the seed"
    doc.para(f"{_count(total, 'run')} in {_count(len(sweep.scenarios), 'scenario')}. "
             f"A scenario is one combination of {swept}; within a scenario the runs differ "
             "only by their random seed. "
             f"{ok} runs finished; {n_failed} failed and {n_incomplete} did not finish — those "
             "are listed at the end and left out of every number.")
    if ok == 0:
        doc.para("No run finished, so there is nothing to compare.")
    elif too_many:
        doc.para(f"With {len(sweep.scenarios)} scenarios the runs are a sampled design rather "
                 "than scenarios to compare one by one; see the sensitivity section.")
    else:
        base = pick_baseline(sweep.scenarios, baseline)
        seeds = sweep.outcomes.groupby("scenario")["run"].count()
        doc.table(pd.DataFrame({
            "": [f"S{i + 1}" for i in range(len(sweep.scenarios))],
            "scenario": [s + (" (baseline)" if s == base else "") for s in sweep.scenarios],
            "finished runs (seeds)": [int(seeds.get(s, 0)) for s in sweep.scenarios],
        }))
        _comparison(doc, sweep, base)
    _sensitivity(doc, sweep)
    doc.heading("Failed and incomplete runs")
    lines = _status_lines(sweep)
    doc.bullets(lines) if lines else doc.para("None: every run finished.")
    return doc, title


def _comparison(doc: Doc, sweep: Sweep, base: str) -> None:
    outcomes = outcome_list(sweep)
    found = estimates(sweep, outcomes)
    diffs = differences(sweep, outcomes, base)
    clear = [(s, o, diffs[s, o.column]) for s in sweep.scenarios if s != base
             for o in outcomes if (s, o.column) in diffs and diffs[s, o.column].clear]
    single = sweep.outcomes.groupby("scenario")["run"].count().min() < 2

    doc.heading("Main differences")
    if clear:
        doc.para(f"Compared with the baseline ({base}), the differences whose 95% interval "
                 "excludes zero:")
        for scenario in dict.fromkeys(s for s, _, _ in clear):
            doc.heading(scenario, 3)
            doc.bullets([_sentence(reading(o, d)) for s, o, d in clear if s == scenario])
    elif len(sweep.scenarios) == 1:
        doc.para("Only one scenario: there is nothing to compare it with.")
    else:
        doc.para("No difference from the baseline is clearly larger than its 95% interval.")
    doc.heading("How to read the numbers")
    doc.para(f"Each number is the mean over a scenario's seeds, followed by its {CONFIDENCE:.0%} "
             "confidence interval (bootstrap over seeds: scipy.stats.bootstrap, percentile "
             f"method, {BOOTSTRAP_RESAMPLES} resamples, random state {BOOTSTRAP_SEED}, so the "
             "report is reproducible). A difference is scenario minus baseline; it is read out "
             "above only when its interval excludes zero. With few seeds the intervals are "
             "rough; with one seed a scenario gets a mean but no interval, and its differences "
             "are never called clear." + (" Some scenarios here have a single seed." if single
                                          else ""))
    doc.heading("Outcomes by scenario")
    table = pd.DataFrame({"outcome": [o.label for o in outcomes]})
    for i, s in enumerate(sweep.scenarios):
        table[f"S{i + 1}"] = [_format_estimate(found.get((s, o.column), MISSING), o.digits)
                              for o in outcomes]
    doc.table(table)
    if len(sweep.scenarios) > 1:
        doc.heading("Differences from the baseline")
        diff_table = pd.DataFrame({"outcome": [o.label for o in outcomes]})
        for i, s in enumerate(sweep.scenarios):
            if s != base:
                diff_table[f"S{i + 1} − baseline"] = [
                    _format_estimate(diffs[s, o.column], o.digits)
                    + (" *" if diffs[s, o.column].clear else "") for o in outcomes]
        doc.table(diff_table)
        doc.para("* the interval excludes zero.")
    shown = [o for o in outcomes if o in MARKET_OUTCOMES or o.column.startswith("survival[")]
    doc.figure("outcomes.png", _png(outcomes_figure(sweep, shown, found)),
               "Main outcomes by scenario, mean and 95% interval")
    doc.heading("Seller survival by strategy")
    doc.figure("survival.png", _png(survival_figure(sweep)),
               "Share of sellers of each strategy still in the market after a number of steps "
               "(Kaplan–Meier over all seeds of a scenario; sellers alive at the end censored)")
    doc.heading("Market share over time")
    doc.figure("market_share.png", _png(share_figure(sweep)),
               "Market share by strategy: mean across seeds, band: middle 95% of runs")
    doc.heading("Social currency flows")
    doc.figure("currency_flows.png", _png(flows_figure(sweep)),
               "Social currency minted, transferred, converted and burned per step")


def _sensitivity(doc: Doc, sweep: Sweep) -> None:
    if sweep.sensitivity.empty:
        return
    doc.heading("Global sensitivity (Sobol indices)")
    doc.para("S1 is the share of an outcome's variance caused by a parameter alone; ST adds its "
             "interactions with the others. Intervals are SALib's bootstrap confidence "
             "intervals. Parameters with ST near zero hardly matter for that outcome.")
    table = sweep.sensitivity.copy()
    for c in ("S1", "S1_conf", "ST", "ST_conf"):
        table[c] = table[c].map(lambda v: _num(float(v), 3))
    doc.table(table[["sweep", "outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"]])
    doc.figure("sensitivity.png", _png(sensitivity_figure(sweep.sensitivity)),
               "Sobol indices S1 and ST per outcome, with their intervals")


def write_report(sweep_dirs: Sequence[Path | str], out: Path | str | None = None,
                 baseline: str | None = None) -> Path:
    """Write ``report.html``, ``report.md`` and the PNG figures into ``out``; return the HTML.

    A single sweep of a named study (``runs.experiment`` in ``spheres.studies.STUDIES``) opens
    with the study's section and also gets ``study.json``. ``out`` defaults to the first sweep
    directory. Every file is written under a temporary name and renamed when complete.
    """
    import json

    from spheres.paths import atomic_write
    from spheres.studies import STUDY_JSON, section, study_of

    sweep = load(sweep_dirs)
    doc, title = build(sweep, baseline)
    study = study_of(sweep_dirs)
    summary = None
    if study is not None:  # a named study: its section opens the report, after the title
        opening, summary = section(study, sweep_dirs[0])
        doc.blocks[1:1] = opening.blocks
        title = f"{study.title} — {title}"
        doc.blocks[0] = ("heading", (1, title))
    target = Path(out) if out is not None else Path(sweep_dirs[0])
    target.mkdir(parents=True, exist_ok=True)
    if summary is not None:
        with atomic_write(target / STUDY_JSON) as tmp:
            tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    else:  # an earlier study's findings must not pass for this report's
        (target / STUDY_JSON).unlink(missing_ok=True)
    for kind, value in doc.blocks:
        if kind == "figure":
            with atomic_write(target / value[0]) as tmp:
                tmp.write_bytes(value[1])
    with atomic_write(target / "report.md") as tmp:
        tmp.write_text(doc.markdown(), encoding="utf-8")
    with atomic_write(target / "report.html") as tmp:
        tmp.write_text(doc.html(title), encoding="utf-8")
    return target / "report.html"


def report_main(argv: Sequence[str]) -> int:
    """``spheres report SWEEP_DIR [SWEEP_DIR ...] [--baseline NAME] [--out DIR]``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="spheres report",
        description="Write a what-if report of one or several collected sweeps (run `spheres "
                    "collect SWEEP_DIR` first): report.html (self-contained, figures embedded), "
                    "report.md and its PNG figures. Scenarios are the combinations of swept "
                    "overrides other than seed; each is compared with the baseline scenario "
                    "(mean and 95% bootstrap interval across seeds). The sweep of a named study "
                    "(spheres run -m experiment=q1_decline ...) opens with the study's section "
                    "(question, readings, key numbers, figures) and also gets study.json.")
    parser.add_argument("sweep_dirs", metavar="SWEEP_DIR", nargs="+", type=Path,
                        help="a sweep directory holding sweep.duckdb")
    parser.add_argument("--baseline", metavar="NAME",
                        help="the baseline scenario: its name (e.g. 'market=fast_drift') or a "
                             "substring of exactly one name; default: the first scenario")
    parser.add_argument("--out", metavar="DIR", type=Path,
                        help="where to write the report (default: the first SWEEP_DIR)")
    args = parser.parse_args(list(argv))
    try:
        path = write_report(args.sweep_dirs, out=args.out, baseline=args.baseline)
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"report: {path} (and report.md, PNG figures)")
    return 0
