"""Reproducibility: the same seed gives the same outputs, and no phase depends on the order in
which agents (or buyer rows) are visited."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from spheres import Results, simulate
from spheres.config import SpheresConfig, make_config
from spheres.model import draws as dr
from spheres.model.agents import AgentEngine, Buyer
from spheres.model.model import MarketModel
from spheres.verify import compare, snapshot

TABLES = ("metrics", "sellers", "flows", "agents", "ledger_entries")


def small(engine: str = "vector", seed: int = 5, **dotted: Any) -> SpheresConfig:
    """A short run of a small market with every mechanism on and ledger entries kept."""
    n = 400 if engine == "vector" else 150
    return make_config(n_buyers=n, steps=12, seed=seed, engine=engine,
                       output__ledger_entries=True, market__need_rate=0.3,
                       market__audience_growth=0.02, sellers__entry_rate=0.2, **dotted)


def summary_text(res: Results) -> str:
    """The summary without its wall time, as canonical JSON (NaN compares equal to itself)."""
    s = {k: v for k, v in res.summary.items() if k != "wall_time_s"}
    return json.dumps(s, sort_keys=True, default=str)


@pytest.mark.parametrize("engine", ["vector", "agent"])
def test_same_seed_gives_identical_outputs(engine: str) -> None:
    """Two runs of one config give equal tables and summaries, and leave the config as it was."""
    cfg = small(engine)
    before = copy.deepcopy(cfg)
    a, b = simulate(cfg), simulate(cfg)
    assert cfg == before
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    assert summary_text(a) == summary_text(b)
    assert a.summary["wall_time_s"] >= 0


def test_a_different_seed_gives_different_metrics() -> None:
    """Changing only the seed changes the metrics and the agents."""
    a, b = simulate(small(seed=5)), simulate(small(seed=6))
    assert not a.metrics.equals(b.metrics)
    assert not a.agents.equals(b.agents)
    assert summary_text(a) != summary_text(b)


def test_a_model_built_twice_starts_identically() -> None:
    """Two models from one config have identical initial states and networks."""
    cfg = small()
    a, b = MarketModel(cfg), MarketModel(cfg)
    assert compare(snapshot(a), snapshot(b), atol=0.0) is None
    assert np.array_equal(a.graph.indptr, b.graph.indptr)
    assert np.array_equal(a.graph.indices, b.graph.indices)


# -- order of visits -----------------------------------------------------------------------------


def agent_run(cfg: SpheresConfig, order_seed: int | None, steps: int) -> MarketModel:
    """Run the per-agent engine; ``order_seed`` reseeds the stdlib RNG that shuffles visits
    (``None``: no shuffling, agents visited in row order)."""
    model = MarketModel(cfg)
    if order_seed is None:
        model.engine = AgentEngine(shuffle=False)
        model.engine.attach(model)
    else:
        assert isinstance(model.engine, AgentEngine) and model.engine.shuffle
        model.random.seed(order_seed)
    for _ in range(steps):
        model.step()
    return model


def test_agent_engine_results_do_not_depend_on_visiting_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-agent engine visits agents in different orders under different shuffle seeds,
    yet every state array is identical after several steps, also to an unshuffled run."""
    cfg = small("agent")
    orders: list[list[int]] = []
    feel_need = Buyer.feel_need

    def recording(self: Buyer, u: np.ndarray) -> None:
        orders[-1].append(self.row)
        feel_need(self, u)

    monkeypatch.setattr(Buyer, "feel_need", recording)
    states = []
    for order_seed in (1, 2, None):
        orders.append([])
        model = agent_run(cfg, order_seed, steps=6)
        states.append(snapshot(model))
    monkeypatch.undo()
    first_step = [o[: cfg.n_buyers] for o in orders]
    assert first_step[0] != first_step[1]
    assert first_step[2] == list(range(cfg.n_buyers))
    assert sorted(first_step[0]) == first_step[2]
    assert compare(states[0], states[1], atol=0.0) is None
    assert compare(states[0], states[2], atol=0.0) is None


def test_vector_conversations_do_not_depend_on_row_order() -> None:
    """Permuting the askers of the conversation phase (with their contacts and draws) gives
    the same state."""
    cfg = small(seed=8)
    models = [MarketModel(cfg), MarketModel(cfg)]
    for model in models:
        for _ in range(4):
            model.step()
        model.needs()
    draws = [dr.conversations(model) for model in models]
    assert draws[0].rows.size > 20
    perm = np.random.default_rng(0).permutation(draws[1].rows.size)
    d = draws[1]
    shuffled = dr.ConversationDraws(d.rows[perm], d.contacts[perm], d.lucky[perm])
    models[0].engine.conversations(models[0], draws[0])
    models[1].engine.conversations(models[1], shuffled)
    assert compare(snapshot(models[0]), snapshot(models[1]), atol=1e-12) is None
