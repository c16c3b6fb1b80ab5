"""A run's tables and summary: ``Results``, assembled from a finished model.

``assemble(model)`` builds the four tables every run writes (``metrics``, ``sellers``,
``flows``, ``agents``; the README documents their columns), the optional ledger entries and the
summary (``summary.json``) from the arrays and rows the model kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from spheres.config import to_dict
from spheres.model import clock
from spheres.model.currency import AGENT_TYPES, KINDS, REASON_NAMES, REASONS
from spheres.model.measures import (
    TRUST_COLUMNS,
    klout_score,
    network_value,
    settle_step,
    top_share,
)
from spheres.model.strategies import STRATEGIES

if TYPE_CHECKING:
    from spheres.config import SpheresConfig
    from spheres.model.model import MarketModel

TABLES = ("metrics", "sellers", "flows", "agents")  # the tables every run writes


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
        "money_from_points": b.money_in,
        "wallet_spent": b.wallet_spent,
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
    summary = _summary(model, agents_df, flows_df, metrics_df)
    return Results(model.config, metrics_df, sellers_df, flows_df, agents_df, summary, entries)


def _top(agents: pd.DataFrame, column: str, k: int) -> list[dict[str, Any]]:
    top = agents.sort_values([column, "agent_id"], ascending=[False, True]).head(k)
    return [
        {"agent_id": int(r.agent_id), "agent_type": str(r.agent_type),
         "score": round(float(r.score), 3), "true_influence": int(r.true_influence)}
        for r in top.itertuples()
    ]


def _summary(model: MarketModel, agents: pd.DataFrame, flows: pd.DataFrame,
             metrics: pd.DataFrame) -> dict[str, Any]:
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
    wallet_spent, held, from_points = (int(b.wallet_spent.sum()), int(b.money.sum()),
                                       int(b.money_in.sum()))
    promoted = b.promoted_step >= 0
    by_reason = flows.groupby("reason")["amount"].sum() if len(flows) else pd.Series(dtype=int)
    chi = model.cfg.currency.cents_per_point
    return {
        "steps": model.steps,
        "steps_per_year": model.config.time.steps_per_year,
        "time": clock.describe(model.config),
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
        "income_spent": model.income_spent,
        "wallet_spent": wallet_spent,
        "money_identity_holds": spend == model.revenue_total == model.income_spent + wallet_spent,
        "money_from_points": from_points,
        "cashout_cents": int(by_reason.get("cashout", 0)) * chi,
        "perk_cents": int(by_reason.get("perk", 0)) * chi,
        "wallet_held": held,
        "wallet_identity_holds": (int(by_reason.get("cashout", 0)) * chi == from_points
                                  == wallet_spent + held),
        "purchase_concentration_top20": top_share(b.purchases, 0.2),
        "score_influence_spearman": rho,
        "top_by_score": _top(agents, "score", k),
        "top_by_true_influence": _top(agents, "true_influence", k),
        "trust_final": {
            "peers": float(b.trust[:, 0].mean()),
            "influencers": float(b.trust[:, 1].mean()),
            "sellers": float(b.trust[:, 2].mean()),
        },
        "trust_settle_steps": {source: (settle_step(metrics[column].to_numpy())
                                        if len(metrics) else None)
                               for source, column in TRUST_COLUMNS.items()},
        "credibility_final": (float(b.credibility[b.is_influencer].mean())
                              if b.is_influencer.any() else float("nan")),
        "network_facts": dict(model.network_facts),
        "config": to_dict(model.config),
    }
