"""A buyer's row is only a name: it says nothing of its place in the network, and wins no tie.

Generated networks are relabelled by a random permutation of the rows (``network.relabel``), so
row and degree are uncorrelated and neighbours have unrelated rows; the Q6 targeting outcomes
are the same in distribution whatever the naming. Wherever the model ranks equal buyers or
sellers, each of the equals is chosen about equally often (``draws.tie_keys``), never the lowest
row. Edge lists keep their rows (the user's ids), so the tie tests run on edge-list rings, where
every buyer has the same degree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

import spheres.model.model as model_module
from conftest import SWITCHES, used_graph_settings, weekly_config
from spheres.config import SpheresConfig
from spheres.model.model import MarketModel
from spheres.model.network import Graph, edges_to_csr

QUIET = {"output.progress": False, "output.dashboard": False}
ALL_OFF = dict.fromkeys(SWITCHES, False)


def config(mix: dict[str, int] | None = None, mechanisms: dict[str, bool] | None = None,
           **dotted: Any) -> SpheresConfig:
    """A validated quiet config with the given seller mix and switches and dotted settings."""
    nested: dict[str, Any] = {}
    if mix is not None:
        nested["sellers"] = {"mix": mix}
    if mechanisms is not None:
        nested["mechanisms"] = mechanisms
    return weekly_config(nested or None, **used_graph_settings({**QUIET, **dotted}))


def ring(tmp_path: Path, n: int) -> str:
    """An edge-list file of a ring on ``n`` buyers: every buyer has degree 2."""
    path = tmp_path / "ring.txt"
    path.write_text("".join(f"{i} {(i + 1) % n}\n" for i in range(n)))
    return str(path)


def uniform(counts: np.ndarray) -> bool:
    """Whether counts are consistent with every cell being equally likely (chi-square, 0.1%)."""
    return stats.chisquare(counts).pvalue > 1e-3


# -- the rows of a generated network --------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_rows_are_not_correlated_with_degree(seed: int) -> None:
    """In the default network (Barabási–Albert, 3,000 buyers) |Spearman(agent_id, degree)| is
    below 0.05 (the first rows were the hubs: -0.82)."""
    model = MarketModel(config(seed=seed))
    rho = stats.spearmanr(np.arange(model.n_buyers), model.degree).statistic
    assert abs(rho) < 0.05


@pytest.mark.parametrize("kind", ["erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm"])
def test_neighbours_have_unrelated_rows(kind: str) -> None:
    """Across the edges of every generated kind, |row - neighbour's row| averages n / 3, as for
    two rows drawn at random (a ring lattice's neighbours had nearby rows, a block model's
    communities were runs of rows, a Barabási–Albert graph's links went to low rows)."""
    n = 3000
    graph = MarketModel(config(n_buyers=n, **{"network.kind": kind, "network.mean_degree": 6,
                                              "network.mixing": 0.05})).graph
    rows = np.repeat(np.arange(n), graph.degree())
    gap = np.abs(rows - graph.indices).mean()
    assert abs(gap / (n / 3) - 1) < 0.03


def test_equal_degrees_have_equal_percentiles(tmp_path: Path) -> None:
    """On a ring every buyer has degree 2 and the degree percentile (N + 1) / (2 N)."""
    model = MarketModel(config(n_buyers=30, **{"network.kind": "edgelist",
                                               "network.path": ring(tmp_path, 30)}))
    assert np.all(model.degree_percentile == (30 + 1) / (2 * 30))


# -- Q6: targeting does not depend on how the buyers are named ------------------------------------
Q6 = {"n_buyers": 200, "steps": 25, "network.kind": "barabasi_albert", "mechanisms.entry": False}
Q6_MIX = {"seed": 4, "sponsor": 4, "lagging": 2}  # configs/sellers/seed_vs_sponsor.yaml
Q6_SEEDS = range(16)


def renamed(graph: Graph, seed: int) -> Graph:
    """The graph with its nodes renamed by a permutation of its own (not the model's)."""
    order = np.random.default_rng([seed, 6]).permutation(graph.n_nodes)
    rows = np.repeat(np.arange(graph.n_nodes), graph.degree())
    keep = rows < graph.indices
    return edges_to_csr(graph.n_nodes, order[rows[keep]], order[graph.indices[keep]])[0]


def seeders_sales(targeting: str, seed: int, rename: bool,
                  monkeypatch: pytest.MonkeyPatch) -> float:
    """Sales per seeding seller over a small Q6 run, its network's nodes renamed or not."""
    build = model_module.build_network

    def build_renamed(*args: Any) -> tuple[Graph, dict]:
        graph, facts = build(*args)
        return renamed(graph, seed), facts

    with monkeypatch.context() as patch:
        if rename:
            patch.setattr(model_module, "build_network", build_renamed)
        model = MarketModel(config(Q6_MIX, seed=seed, **Q6, **{"sellers.targeting": targeting}))
        sales = np.zeros(model.n_slots)
        for _ in range(model.cfg.steps):
            model.step()
            sales += model.sellers_state.sales
    return float(sales[: Q6_MIX["seed"]].mean())  # the seeders are the first sellers of the mix


@pytest.mark.parametrize("targeting", ["true_influence", "degree"])
def test_q6_outcomes_do_not_depend_on_the_naming(targeting: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeders' sales under the true-influence oracle and under degree targeting have the same
    mean, within three standard errors, whether or not the network's nodes are renamed once more
    (the oracle's ties at zero went to the first rows, the hubs: its sales fell by a third when
    the nodes were renamed)."""
    built = np.array([seeders_sales(targeting, s, False, monkeypatch) for s in Q6_SEEDS])
    other = np.array([seeders_sales(targeting, s, True, monkeypatch) for s in Q6_SEEDS])
    se = np.sqrt(built.var(ddof=1) / built.size + other.var(ddof=1) / other.size)
    assert abs(built.mean() - other.mean()) < 3 * se, (built.mean(), other.mean(), se)


# -- ties -----------------------------------------------------------------------------------------
RING = 40
SEEDS = range(200)


# sellers rich enough to pay for every trial and contract they choose
RICH = {"sellers.initial_cash_per_buyer": 100_000, "sellers.trial_cost": 0}


def ring_config(tmp_path: Path, seed: int, **dotted: Any) -> SpheresConfig:
    """One step on a ring of ``RING`` buyers (all of degree 2), nobody aware of anyone."""
    return config(**{"n_buyers": RING, "steps": 1, "seed": seed, "network.kind": "edgelist",
                     "network.path": ring(tmp_path, RING), "market.initial_awareness": 0.0,
                     "market.need_rate": 0.0, **RICH, **dotted})


def test_influencers_of_equal_degree_are_chosen_at_random(tmp_path: Path) -> None:
    """Influencers by degree on a ring (all tied): each buyer is chosen about as often."""
    counts = np.zeros(RING)
    for seed in SEEDS:
        model = MarketModel(ring_config(tmp_path, seed, **{"network.influencer_share": 0.1}))
        counts += model.buyers_state.is_influencer
    assert counts.sum() == 4 * len(SEEDS) and uniform(counts)


def test_seeding_by_degree_picks_equal_buyers_at_random(tmp_path: Path) -> None:
    """Free trials by degree on a ring (all tied): each buyer gets one about as often."""
    counts = np.zeros(RING)
    for seed in SEEDS:
        model = MarketModel(ring_config(tmp_path, seed, **{
            "sellers.mix": {"seed": 1}, "sellers.targeting": "degree", "sellers.seed_k": 5,
            "mechanisms.influencers": False}))
        model.step()
        counts += model.buyers_state.aware[:, 0]
    assert counts.sum() == 5 * len(SEEDS) and uniform(counts)


def test_sponsoring_by_true_influence_picks_equal_buyers_at_random(tmp_path: Path) -> None:
    """At the first renewal nobody has caused a purchase yet: a sponsor choosing by true
    influence takes its 2 of the 8 influencers about equally often by their rank of row."""
    counts = np.zeros(8)
    for seed in SEEDS:
        model = MarketModel(ring_config(tmp_path, seed, **{
            "sellers.mix": {"sponsor": 1}, "sellers.targeting": "true_influence",
            "sellers.sponsor_k": 2, "network.influencer_share": 0.2,
            "network.influencer_selection": "random"}))
        model.step()
        influencers = np.flatnonzero(model.buyers_state.is_influencer)
        counts += np.isin(influencers, model.contracts[0])
    assert counts.sum() == 2 * len(SEEDS) and uniform(counts)


def test_sponsors_take_turns_in_a_random_order(tmp_path: Path) -> None:
    """Two sponsors want the one best-connected influencer (the hub of a star with a tail):
    each gets it about half the time."""
    path = tmp_path / "star.txt"
    path.write_text("".join(f"0 {i}\n" for i in range(1, 10)) + "".join(
        f"{i} {i + 1}\n" for i in range(10, RING - 1)) + "1 10\n")
    first = 0
    for seed in SEEDS:
        model = MarketModel(config({"sponsor": 2}, n_buyers=RING, steps=1, seed=seed, **{
            "network.kind": "edgelist", "network.path": str(path), "market.need_rate": 0.0,
            "sellers.targeting": "degree", "sellers.sponsor_k": 1,
            "network.influencer_share": 0.1, **RICH}))
        model.step()
        first += int(model.contracts[0][0] == 0)
        assert 0 in np.concatenate(list(model.contracts.values()))
    assert stats.binomtest(first, len(SEEDS)).pvalue > 1e-3


def test_a_poster_picks_among_equally_rated_sellers_at_random(tmp_path: Path) -> None:
    """An influencer knowing three sellers it rates equally posts about each about as often."""
    counts = np.zeros(3)
    for seed in SEEDS:
        model = MarketModel(ring_config(tmp_path, seed, **{
            "sellers.mix": {"lagging": 3}, "market.initial_awareness": 1.0}))
        topic = model.post_topics(np.arange(RING))[0]
        counts += np.bincount(topic, minlength=3)
    assert uniform(counts)


def test_talkers_name_one_of_equally_rated_sellers_at_random(tmp_path: Path) -> None:
    """Talkers who know two listening sellers at the same belief name each as their favourite
    about half the time: the listeners hear as many talkers."""
    heard, talkers = np.zeros(2), 0
    for seed in range(20):
        model = MarketModel(config({"listen": 2}, {**ALL_OFF, "adaptation": True},
                                   n_buyers=200, steps=1, seed=seed,
                                   **{"market.initial_awareness": 1.0, "market.need_rate": 3.0,
                                      "market.need_shape": 0}))
        model.step()
        heard += model.sellers_state.talk_n[:2]
        talkers += np.count_nonzero(model.buyers_state.need)
    assert heard.sum() == talkers > 0.9 * 20 * 200 and uniform(heard)
