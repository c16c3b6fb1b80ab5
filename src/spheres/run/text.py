"""A run's summary as a short text block, as ``spheres run`` prints it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spheres.model.currency import CURRENCY_LABELS
from spheres.model.currency import KINDS as CURRENCY_KINDS


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a short text block, as ``spheres run`` prints it.

    Sellers alive by strategy, currency totals, trust, credibility and promotions, the top
    agents by score and by true influence, and the Spearman correlation of the two.
    """
    lines: list[str] = []
    if "n_buyers" in summary and "steps" in summary:
        steps = summary.get("time") or f"{summary['steps']} steps"
        head = f"{summary['n_buyers']} buyers, {steps}"
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
                                 ("money_identity_holds", "money"),
                                 ("wallet_identity_holds", "wallets")) if key in summary]
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
