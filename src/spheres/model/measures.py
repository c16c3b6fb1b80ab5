"""The measures of the market, as small named functions, and the collection of a run's results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from spheres.model.currency import AGENT_TYPES, BURN, CONVERT_IN, CONVERT_OUT, KINDS, MINT, TRANSFER
from spheres.model.state import INFLUENCER_SRC, PEER
from spheres.model.strategies import STRATEGIES

if TYPE_CHECKING:
    from spheres.model.model import MarketModel
    from spheres.results import Results


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative integers (0 = equal, towards 1 = concentrated)."""
    total = int(values.sum())
    n = values.size
    if total == 0 or n == 0:
        return 0.0
    top = int(values.max())
    if top <= 4 * n:
        counts = np.bincount(values)
        levels = np.flatnonzero(counts)
        c = counts[levels].astype(float)
        start = np.cumsum(c) - c
        ranks = c * (2 * start + c + 1) / 2.0  # sum of 1-based ranks of each level
        weighted = float((levels * ranks).sum())
    else:
        x = np.sort(values).astype(float)
        weighted = float((np.arange(1, n + 1) * x).sum())
    return 2.0 * weighted / (n * total) - (n + 1.0) / n


def column_means(x: np.ndarray) -> np.ndarray:
    """Mean of each column of a tall 2-D array (a matrix-vector product: fast for many rows)."""
    return np.ones(x.shape[0]) @ x / x.shape[0]


def hhi(shares: np.ndarray) -> float:
    """Herfindahl-Hirschman index of market shares (fractions summing to 1, or all zero)."""
    return float((shares * shares).sum())


def klout_score(model: MarketModel) -> np.ndarray:
    """A Klout-like score in [0, 100] per buyer from audience, activity and engagement.

    audience = friends + followers, activity = times asked + posts, engagement = awareness its
    messages created; each enters as ``log(1 + x) / log(1 + max x)`` with equal weight.
    """
    b = model.buyers_state
    parts = (model.degree + b.n_followers, b.talks + b.posts, b.informed)
    score = np.zeros(model.n_buyers)
    for x in parts:
        top = np.log1p(x.max()) if x.size else 0.0
        if top > 0:
            score += np.log1p(x) / top
    return 100.0 * score / len(parts)


def network_value(model: MarketModel) -> np.ndarray:
    """Spend that each buyer's advice caused in others, recursively (cents, float).

    Each buyer's awareness of a seller has one source; the sources form a forest per seller. A
    buyer's network value sums, over everyone it made aware, their spend at that seller plus
    ``network_value_decay`` times the same sum one level further down, and so on.
    """
    b = model.buyers_state
    decay = model.cfg.market.network_value_decay
    acc = b.spend_by.astype(float)
    kid_r, kid_s = np.nonzero((b.intro_kind == PEER) | (b.intro_kind == INFLUENCER_SRC))
    parent = b.introducer[kid_r, kid_s].astype(np.int64)
    when = b.aware_time[kid_r, kid_s]
    order = np.argsort(-when, kind="stable")
    kid_r, kid_s, parent, when = kid_r[order], kid_s[order], parent[order], when[order]
    bounds = np.flatnonzero(np.diff(when)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, when.size], strict=True):
        np.add.at(acc, (parent[lo:hi], kid_s[lo:hi]), decay * acc[kid_r[lo:hi], kid_s[lo:hi]])
    value = np.zeros(model.n_buyers)
    np.add.at(value, parent, acc[kid_r, kid_s])
    return value


def observe(model: MarketModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The step's market-level measures and the per-seller measures."""
    b, m, led = model.buyers_state, model.sellers_state, model.ledger
    n = model.n_buyers
    mean_expect = column_means(b.expect)
    total_sales = int(m.sales.sum())
    share = m.sales / total_sales if total_sales else np.zeros(model.n_slots)
    sync = np.linalg.norm(m.offering - mean_expect, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cust_mean = m.cust_sum / m.sales[:, None]
    sync_customers = np.linalg.norm(m.offering - cust_mean, axis=1)
    stock = int(b.currency.sum())
    moved = led.step_total(TRANSFER) + led.step_total(CONVERT_OUT)
    trust = column_means(b.trust)
    alive = m.alive[m.exists]
    known = m.knowledge_step[m.exists]
    entered = m.entry_step[m.exists]
    ks = known >= 0
    row: dict[str, Any] = {
        "step": model.steps,
        "sellers_alive": int(alive.sum()),
        "exits": model.step_counts["exits"],
        "entries": model.step_counts["entries"],
        "buyers_with_need": int(b.need.sum()),
        "purchases": total_sales,
        "revenue": int(m.revenue.sum()),
        "hhi": hhi(share),
        "sync_mean": float(sync[m.alive].mean()) if m.alive.any() else float("nan"),
        "reach_mean": float((m.aware_count[m.alive] / n).mean()) if m.alive.any() else 0.0,
        "frontier_distance": float(np.linalg.norm(mean_expect - model.frontier)),
        "currency_minted": led.step_total(MINT),
        "currency_transferred": led.step_total(TRANSFER),
        "currency_converted_in": led.step_total(CONVERT_IN),
        "currency_converted_out": led.step_total(CONVERT_OUT),
        "currency_burned": led.step_total(BURN),
        "currency_stock": stock,
        "currency_gini": gini(b.currency),
        "currency_velocity": moved / stock if stock else 0.0,
        "trust_peers": float(trust[0]),
        "trust_influencers": float(trust[1]),
        "trust_sellers": float(trust[2]),
        "influencers": int(b.is_influencer.sum()),
        "promotions": model.step_counts["promotions"],
        "knowledge_time_mean": float((known[ks] - entered[ks]).mean()) if ks.any() else np.nan,
    }
    for dim in range(model.dims):
        row[f"frontier_{dim}"] = float(model.frontier[dim])
    sellers = {
        "step": np.full(model.n_slots, model.steps),
        "seller_id": np.arange(model.n_slots),
        "exists": m.exists.copy(),
        "strategy": m.strategy.copy(),
        "alive": m.alive.copy(),
        "cash": m.cash.copy(),
        "revenue": m.revenue.copy(),
        "costs": m.costs.copy(),
        "profit": m.revenue - m.costs,
        "sales": m.sales.copy(),
        "share": share,
        "sync": sync,
        "sync_customers": sync_customers,
        "reach": m.aware_count / n,
        "price": m.price.copy(),
    }
    for dim in range(model.dims):
        sellers[f"offering_{dim}"] = m.offering[:, dim].copy()
    return row, sellers


def _strategy_names(codes: np.ndarray) -> np.ndarray:
    return np.asarray(list(STRATEGIES))[codes]


def collect(model: MarketModel) -> Results:
    """Build the run's tables and summary."""
    from spheres.results import Results

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
    flows_df = pd.DataFrame(led.flow_rows(),
                            columns=["step", "source_type", "destination_type", "kind", "amount"])
    score = klout_score(model)
    agents_df = pd.DataFrame({
        "agent_id": np.arange(model.n_buyers),
        "agent_type": np.where(b.is_influencer, "influencer", "buyer"),
        "degree": model.degree,
        "followers": b.n_followers,
        "score": score,
        "true_influence": b.caused,
        "caused_spend": b.caused_spend,
        "lifetime_value": b.spend_by.sum(axis=1),
        "network_value": network_value(model),
        "currency": b.currency,
        "money": b.money,
        "purchases": b.purchases,
        "trust_peers": b.trust[:, 0],
        "trust_influencers": b.trust[:, 1],
        "trust_sellers": b.trust[:, 2],
    })
    entries = None
    if model.cfg.output.ledger_entries:
        entries = pd.DataFrame(led.entries(), columns=[
            "step", "kind", "source_type", "source", "destination_type", "destination", "amount"])
        entries["kind"] = np.asarray(KINDS)[entries["kind"].to_numpy()]
        for col in ("source_type", "destination_type"):
            entries[col] = np.asarray(AGENT_TYPES)[entries[col].to_numpy()]
    summary = _summary(model, agents_df)
    return Results(model.cfg, metrics_df, sellers_df, flows_df, agents_df, summary, entries)


def _top(agents: pd.DataFrame, column: str, k: int) -> list[dict[str, Any]]:
    top = agents.sort_values([column, "agent_id"], ascending=[False, True]).head(k)
    return [
        {"agent_id": int(r.agent_id), "agent_type": str(r.agent_type),
         "score": round(float(r.score), 3), "true_influence": int(r.true_influence)}
        for r in top.itertuples()
    ]


def _summary(model: MarketModel, agents: pd.DataFrame) -> dict[str, Any]:
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
    spend = int(b.spend_by.sum())
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
        "currency_by_kind": {kind: int(v) for kind, v in zip(KINDS, led.totals, strict=True)},
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
        "network_facts": dict(model.network_facts),
        "config": to_dict(model.cfg),
    }
