"""Tests for spheres.model.network: graph kinds, CSR building, edge-list files and influencers."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import weekly_config
from spheres.config import ConfigError, NetworkConfig
from spheres.model.model import MarketModel
from spheres.model.network import (
    GRAPH_SETTINGS,
    KINDS,
    SELECTIONS,
    Graph,
    NetworkError,
    block_of,
    build_network,
    choose_influencers,
    edges_to_csr,
    follower_edges,
    load_edge_list,
    network_notes,
    relabel,
)

RANDOM_KINDS = ["erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm"]


def build(kind: str, n: int, seed: int = 0, **settings) -> tuple[Graph, dict]:
    """Check the settings as config validation does, then build the network."""
    net = NetworkConfig(kind=kind, **settings)
    KINDS[kind].check(net, n)
    return build_network(net, n, np.random.default_rng(seed))


def built_as_numbered(kind: str, n: int, seed: int = 0, **settings) -> tuple[Graph, dict]:
    """The kind's own graph, with the builder's node numbers (before any relabelling)."""
    net = NetworkConfig(kind=kind, **settings)
    KINDS[kind].check(net, n)
    return KINDS[kind].build(net, n, seed)


def refusal(kind: str, n: int, **settings) -> str:
    """The message of the ConfigError the kind's check raises for these settings."""
    with pytest.raises(ConfigError) as info:
        KINDS[kind].check(NetworkConfig(kind=kind, **settings), n)
    return str(info.value)


def assert_valid_csr(graph: Graph) -> None:
    """Symmetric CSR with sorted neighbour lists, no self-loops and no duplicates."""
    n = graph.n_nodes
    assert graph.indptr.dtype == np.int64 and graph.indptr.shape == (n + 1,)
    assert graph.indices.dtype == np.int32 and graph.indices.shape == (2 * graph.n_edges,)
    assert graph.indptr[0] == 0 and graph.indptr[-1] == graph.indices.size
    assert np.all(np.diff(graph.indptr) >= 0)
    rows = np.repeat(np.arange(n), graph.degree())
    cols = graph.indices.astype(np.int64)
    assert np.all((cols >= 0) & (cols < n))
    assert not np.any(rows == cols), "self-loop"
    same_row = rows[1:] == rows[:-1]
    assert np.all(cols[1:][same_row] > cols[:-1][same_row]), "unsorted or duplicate neighbours"
    forward = np.sort(rows * n + cols)
    backward = np.sort(cols * n + rows)
    assert np.array_equal(forward, backward), "not symmetric"


def write(tmp_path, text: str, name: str = "edges.txt") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --------------------------------------------------------------------------- Graph


def test_graph_accessors_and_read_only():
    graph, facts = edges_to_csr(4, np.array([0, 0, 2]), np.array([1, 2, 1]))
    assert graph.n_nodes == 4
    assert graph.n_edges == 3
    assert graph.degree().tolist() == [2, 2, 2, 0]
    assert graph.degree().dtype == np.int64
    assert graph.neighbours(1).tolist() == [0, 2]
    assert graph.neighbours(3).tolist() == []
    assert facts == {"self_loops_dropped": 0, "duplicates_dropped": 0}
    with pytest.raises(ValueError):
        graph.indices[0] = 3
    with pytest.raises(IndexError):
        graph.neighbours(4)


def test_kinds_registry_has_the_documented_names():
    assert set(KINDS) >= {
        "complete",
        "erdos_renyi",
        "watts_strogatz",
        "barabasi_albert",
        "sbm",
        "edgelist",
    }


def test_kinds_declare_the_graph_settings_they_use():
    assert GRAPH_SETTINGS == ("mean_degree", "rewire", "blocks", "mixing", "path")
    uses = {name: kind.uses for name, kind in KINDS.items()}
    assert uses["complete"] == ()
    assert uses["erdos_renyi"] == ("mean_degree",)
    assert uses["watts_strogatz"] == ("mean_degree", "rewire")
    assert uses["barabasi_albert"] == ("mean_degree",)
    assert uses["sbm"] == ("mean_degree", "blocks", "mixing")
    assert uses["edgelist"] == ("path",)
    for kind in KINDS.values():
        assert set(kind.uses) <= set(GRAPH_SETTINGS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_default_settings_pass_every_check(kind):
    path = "edges.txt" if kind == "edgelist" else None
    KINDS[kind].check(NetworkConfig(kind=kind, path=path), 300)


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize("kind", ["complete", *RANDOM_KINDS])
def test_every_kind_gives_a_valid_csr(kind):
    graph, facts = build(kind, 300, seed=3, mean_degree=6)
    assert_valid_csr(graph)
    assert graph.n_nodes == 300
    assert facts["kind"] == kind
    assert facts["n_edges"] == graph.n_edges
    assert facts["isolated_nodes"] == int(np.sum(graph.degree() == 0))
    assert {"self_loops_dropped", "duplicates_dropped"} <= set(facts)


def test_complete_graph_has_every_pair():
    n = 40
    graph, facts = build("complete", n, seed=0)
    assert graph.n_edges == n * (n - 1) // 2
    assert np.all(graph.degree() == n - 1)
    assert graph.neighbours(5).tolist() == [i for i in range(n) if i != 5]
    assert facts["isolated_nodes"] == 0


def test_complete_graph_refuses_large_n():
    message = refusal("complete", 20_001)
    assert message.startswith("n_buyers = 20001 is not allowed")
    assert "at most 20000" in message


def test_erdos_renyi_has_exactly_m_edges():
    graph, facts = build("erdos_renyi", 1000, seed=1, mean_degree=8)
    assert graph.n_edges == 4000
    assert facts["duplicates_dropped"] == 0


def test_watts_strogatz_without_rewiring_is_a_ring_lattice():
    n = 50
    graph, facts = built_as_numbered("watts_strogatz", n, seed=0, mean_degree=6, rewire=0.0)
    assert facts["k"] == 6
    assert np.all(graph.degree() == 6)
    assert graph.neighbours(0).tolist() == [1, 2, 3, 47, 48, 49]


@pytest.mark.parametrize(
    ("kind", "why"),
    [("watts_strogatz", "neighbours on each side"), ("barabasi_albert", "m = mean_degree / 2")],
)
@pytest.mark.parametrize("mean_degree", [5, 299, 297.0, 7.4, 1, 2.6, 0.1, 300, 302, 6.000001])
def test_lattice_and_attachment_refuse_a_degree_they_cannot_make(kind, why, mean_degree):
    message = refusal(kind, 300, mean_degree=mean_degree)
    assert message.startswith(f"network.mean_degree = {mean_degree!r} is not allowed")
    assert "an even integer from 2 to 298" in message
    assert why in message


def test_two_buyers_cannot_form_a_lattice_or_grow_by_attachment():
    for kind in ("watts_strogatz", "barabasi_albert"):
        assert "none (needs 3 buyers)" in refusal(kind, 2, mean_degree=2)


@pytest.mark.parametrize(("n", "mean_degree"), [(100, 2), (100, 98.0), (3, 2), (100, 10.0)])
def test_watts_strogatz_accepts_even_degrees_below_n(n, mean_degree):
    graph, facts = build("watts_strogatz", n, mean_degree=mean_degree, rewire=0)
    assert facts["k"] == mean_degree
    assert np.all(graph.degree() == mean_degree)


def test_watts_strogatz_rewiring_keeps_the_mean_degree_near_k():
    n = 2000
    graph, facts = build("watts_strogatz", n, seed=4, mean_degree=10, rewire=0.3)
    assert_valid_csr(graph)
    assert 0.25 * n * 5 < facts["rewired_edges"] < 0.35 * n * 5
    assert graph.n_edges + facts["duplicates_dropped"] == n * 5
    assert 9.9 <= graph.degree().mean() <= 10.0
    assert graph.degree().std() > 0.5  # no longer a lattice


def test_barabasi_albert_adds_m_edges_per_new_node():
    n, m = 500, 3
    graph, facts = build("barabasi_albert", n, seed=2, mean_degree=2 * m)
    assert facts["m"] == m
    assert m * (n - m) <= graph.n_edges <= m * (n - m) + m * (m - 1) // 2
    assert graph.degree().max() > 5 * m  # hubs appear
    assert facts["isolated_nodes"] == 0


def test_barabasi_albert_reports_a_realised_degree_far_below_the_setting():
    net = NetworkConfig(kind="barabasi_albert", mean_degree=298)
    KINDS["barabasi_albert"].check(net, 300)
    graph, facts = build_network(net, 300, np.random.default_rng(1))
    assert facts["m"] == 149
    notes = network_notes(facts, net, 300)
    assert len(notes) == 1
    observed = f"{graph.degree().mean():.4g}"
    assert notes[0].startswith(f"network.mean_degree: the graph has a mean degree of {observed}, "
                               "not the 298 asked for")
    assert "m = 149 links from each buyer" in notes[0]


def test_block_of_gives_equal_contiguous_blocks():
    assert block_of(10, 3).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert np.bincount(block_of(1001, 4)).tolist() == [251, 250, 250, 250]
    with pytest.raises(ValueError, match="blocks"):
        block_of(5, 6)


@pytest.mark.parametrize("mixing", [0.0, 0.2, 0.6])
def test_sbm_mixing_fraction(mixing):
    n, blocks = 4000, 4
    graph, facts = built_as_numbered("sbm", n, seed=5, mean_degree=10, blocks=blocks,
                                     mixing=mixing)
    assert_valid_csr(graph)
    rows = np.repeat(np.arange(n), graph.degree())
    block = block_of(n, blocks)
    between = int(np.sum(block[rows] != block[graph.indices])) // 2
    assert between == facts["between_block_edges"]
    assert abs(between / graph.n_edges - mixing) < 0.02
    assert graph.n_edges + facts["duplicates_dropped"] == n * 5


def test_sbm_single_block_has_no_between_edges():
    graph, facts = build("sbm", 500, seed=1, blocks=1, mixing=0.0)
    assert facts["between_block_edges"] == 0
    assert graph.n_edges > 2400


def test_sbm_refuses_mixing_with_a_single_block():
    message = refusal("sbm", 500, blocks=1, mixing=0.5)
    assert message.startswith("network.mixing = 0.5 is not allowed: 0 when network.blocks = 1")


@pytest.mark.parametrize("blocks", [300, 151, 200])
def test_sbm_refuses_blocks_of_a_single_buyer(blocks):
    message = refusal("sbm", 300, mean_degree=4, blocks=blocks, mixing=0.05)
    assert message.startswith(f"network.blocks = {blocks} is not allowed: at most n_buyers // 2 "
                              "(150)")
    assert "at least 2 buyers" in message


def test_sbm_blocks_of_two_buyers_hold_within_links():
    graph, facts = build("sbm", 300, seed=2, mean_degree=1, blocks=150, mixing=0.0)
    assert facts["between_block_edges"] == 0
    assert graph.n_edges > 0


def test_sbm_with_only_between_links_allows_single_buyer_blocks():
    graph, facts = build("sbm", 300, seed=2, mean_degree=4, blocks=300, mixing=1.0)
    assert facts["between_block_edges"] == graph.n_edges > 500


@pytest.mark.parametrize(("mean_degree", "mixing"), [(40, 0.05), (299, 0.5), (280, 1.0)])
def test_sbm_refuses_a_degree_the_blocks_cannot_hold(mean_degree, mixing):
    # 10 blocks of 30: within-block pairs 4,350 (at most 29 within-block neighbours each),
    # pairs across blocks 40,500 (at most 270 each).
    message = refusal("sbm", 300, mean_degree=mean_degree, blocks=10, mixing=mixing)
    assert message.startswith(f"network.mean_degree = {mean_degree} is not allowed: at most about")
    assert "4,350 within-block pairs" in message and "40,500 pairs across blocks" in message


def test_sbm_accepts_a_degree_the_blocks_hold():
    KINDS["sbm"].check(NetworkConfig(kind="sbm", mean_degree=29, blocks=10, mixing=0.0), 300)


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_same_seed_same_graph_other_seed_other_graph(kind):
    a, _ = build(kind, 400, seed=11, mean_degree=6)
    b, _ = build(kind, 400, seed=11, mean_degree=6)
    c, _ = build(kind, 400, seed=12, mean_degree=6)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices))


def test_relabel_renames_the_nodes_and_keeps_the_graph():
    graph, _ = built_as_numbered("barabasi_albert", 300, seed=4, mean_degree=6)
    order = np.random.default_rng(0).permutation(300)
    renamed = relabel(graph, order)
    assert_valid_csr(renamed)
    assert np.array_equal(renamed.degree()[order], graph.degree())
    for i in (0, 1, 17, 299):
        assert renamed.neighbours(int(order[i])).tolist() == sorted(order[graph.neighbours(i)])
    assert np.array_equal(relabel(graph, np.arange(300)).indices, graph.indices)
    with pytest.raises(NetworkError, match="permutation"):
        relabel(graph, np.zeros(300, dtype=np.int64))


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_generated_kinds_are_relabelled_by_the_generator_after_their_seed(kind):
    n = 400
    rng = np.random.default_rng(7)
    graph, facts = build(kind, n, seed=7, mean_degree=6)
    numbered, _ = built_as_numbered(kind, n, seed=int(rng.integers(2**62)), mean_degree=6)
    renamed = relabel(numbered, rng.permutation(n))
    assert KINDS[kind].relabel and facts["relabelled"] is True
    assert np.array_equal(graph.indptr, renamed.indptr)
    assert np.array_equal(graph.indices, renamed.indices)


def test_complete_graphs_and_edge_lists_keep_their_ids(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("0 1\n1 2\n2 3\n")
    net = NetworkConfig(kind="edgelist", path=str(path))
    graph, facts = build_network(net, 4, np.random.default_rng(0))
    assert facts["relabelled"] is False and not KINDS["edgelist"].relabel
    assert graph.neighbours(0).tolist() == [1] and graph.neighbours(3).tolist() == [2]
    assert not KINDS["complete"].relabel


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("kind", RANDOM_KINDS)
@pytest.mark.parametrize("mean_degree", [10, 12, 9.5])
def test_mean_degree_must_be_below_n(kind, mean_degree):
    message = refusal(kind, 10, mean_degree=mean_degree, blocks=1, mixing=0.0)
    assert message.startswith(f"network.mean_degree = {mean_degree!r} is not allowed")


def test_erdos_renyi_allows_every_pair_and_no_more():
    graph, _ = build("erdos_renyi", 10, mean_degree=9)
    assert graph.n_edges == 45
    assert "at most n_buyers - 1 (9)" in refusal("erdos_renyi", 10, mean_degree=9.2)


def test_network_error_is_a_value_error():
    assert issubclass(NetworkError, ValueError)


# --------------------------------------------------------------------------- edge lists


@pytest.mark.parametrize(
    "text",
    [
        "0,1\n1,2\n2,3\n3,0\n",
        "0 1\n1 2\n2 3\n3 0",
        "0\t1\n1  2\n  2 3  \n3 0\n",
        "0, 1\n1 ,2\n2\t,\t3\r\n3 0\r\n",
        "# a square\n\n0 1   # first\n1,2#second\n\n# more\n2 3\n3, 0\n\n",
    ],
    ids=["commas", "spaces", "whitespace", "mixed", "comments"],
)
def test_edge_list_formats(tmp_path, text):
    graph, facts = load_edge_list(write(tmp_path, text), 4)
    assert_valid_csr(graph)
    assert graph.n_edges == 4
    assert graph.neighbours(0).tolist() == [1, 3]
    assert graph.neighbours(2).tolist() == [1, 3]
    assert facts["file_ids"] == 4 and facts["ids"] == "integers"
    assert not facts["ids_renumbered"]
    assert facts["self_loops_dropped"] == 0 and facts["duplicates_dropped"] == 0


def test_edge_list_fast_and_general_parsers_agree(tmp_path):
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 300, size=(2000, 2))
    plain = "".join(f"{a} {b}\n" for a, b in pairs)
    fancy = "# header\n" + "".join(f"{a},\t{b}  # c\n" for a, b in pairs)
    g1, f1 = load_edge_list(write(tmp_path, plain, "plain.txt"), 300)
    g2, f2 = load_edge_list(write(tmp_path, fancy, "fancy.txt"), 300)
    assert np.array_equal(g1.indptr, g2.indptr) and np.array_equal(g1.indices, g2.indices)
    assert f1.pop("path").endswith("plain.txt") and f2.pop("path").endswith("fancy.txt")
    assert f1 == f2


def test_edge_list_drops_and_counts_self_loops_and_duplicates(tmp_path):
    text = "0 1\n1 0\n0 1\n2 2\n1 2\n3 3\n2 3\n"
    graph, facts = load_edge_list(write(tmp_path, text), 4)
    assert graph.n_edges == 3
    assert facts["self_loops_dropped"] == 2
    assert facts["duplicates_dropped"] == 2


def test_edge_list_through_build_network(tmp_path):
    path = write(tmp_path, "0 1\n3 4\n1 3\n2 2\n")
    net = NetworkConfig(kind="edgelist", path=path)
    graph, facts = build_network(net, 5, np.random.default_rng(0))
    assert graph.n_edges == 3
    assert facts["kind"] == "edgelist"
    assert facts["isolated_nodes"] == 1
    assert facts["file_ids"] == 5
    assert network_notes(facts, net, 5) == [
        "network: 1 of 5 buyers have no neighbours (isolated); they hear only from influencers "
        "and sellers"
    ]


def test_edge_list_sparse_integer_ids_map_to_rows_in_ascending_order(tmp_path):
    path = write(tmp_path, "1000000000000 7\n7 3\n3 1000000000000\n40 7\n")
    net = NetworkConfig(kind="edgelist", path=path)
    graph, facts = build_network(net, 4, np.random.default_rng(0))
    # ids 3, 7, 40, 10**12 become rows 0, 1, 2, 3
    assert [graph.neighbours(i).tolist() for i in range(4)] == [[1, 3], [0, 2, 3], [1], [0, 1]]
    assert facts["ids"] == "integers" and facts["ids_renumbered"]
    assert facts["isolated_nodes"] == 0
    notes = network_notes(facts, net, 4)
    assert notes == [
        f"network.path: the integer ids in {path} do not include every id from 0 to 3 "
        "(n_buyers - 1; 0 is missing): buyer rows follow the ascending order of the ids"
    ]


@pytest.mark.parametrize("top", [1000, 10**6, 10**15])  # a presence table, then hashing
def test_edge_list_sparse_integer_ids_map_by_rank(tmp_path, top):
    rng = np.random.default_rng(3)
    ids = rng.choice(top, size=50, replace=False)
    pairs = rng.integers(0, 50, size=(200, 2))
    text = "".join(f"{ids[a]} {ids[b]}\n" for a, b in pairs)
    rank = np.argsort(np.argsort(ids))  # row of each id: its rank among the ids
    expected, _ = edges_to_csr(50, rank[pairs[:, 0]], rank[pairs[:, 1]])
    graph, facts = load_edge_list(write(tmp_path, text), 50)
    assert np.array_equal(graph.indptr, expected.indptr)
    assert np.array_equal(graph.indices, expected.indices)
    assert facts["file_ids"] == 50 and facts["ids_renumbered"]


def test_edge_list_names_map_to_rows_in_order_of_first_appearance(tmp_path):
    path = write(tmp_path, "# who knows whom\ncarol,alice\nalice  bob # friends\n\ndave\tcarol\n")
    net = NetworkConfig(kind="edgelist", path=path)
    graph, facts = build_network(net, 4, np.random.default_rng(0))
    # carol 0, alice 1, bob 2, dave 3
    assert [graph.neighbours(i).tolist() for i in range(4)] == [[1, 3], [0, 2], [1], [0]]
    assert facts["ids"] == "names" and facts["file_ids"] == 4
    assert network_notes(facts, net, 4) == [
        f"network.path: the ids in {path} are names ('carol' is not a non-negative integer below "
        "2**63): buyer rows follow their order of first appearance ('carol' is row 0)"
    ]


@pytest.mark.parametrize(
    ("text", "token"),
    [("0 1\n1 2\n3 x\n", "x"), ("0 1\n1 -2\n", "-2"), ("0 1\n1.5 2\n", "1.5")],
)
def test_edge_list_with_any_non_integer_id_reads_names(tmp_path, text, token):
    graph, facts = load_edge_list(write(tmp_path, text), 3)
    assert facts["ids"] == "names" and facts["first_non_integer"] == token
    assert facts["first_name"] == "0"
    assert graph.neighbours(0).tolist() == [1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=80))
def test_edge_list_names_follow_first_appearance(tmp_path_factory, pairs):
    text = "".join(f"n{a} n{b}\n" for a, b in pairs)
    path = write(tmp_path_factory.mktemp("names"), text)
    order: dict[str, int] = {}
    for a, b in pairs:
        for name in (f"n{a}", f"n{b}"):
            order.setdefault(name, len(order))
    n = len(order)
    src = np.array([order[f"n{a}"] for a, _ in pairs])
    dst = np.array([order[f"n{b}"] for _, b in pairs])
    if np.all(src == dst):
        return
    expected, _ = edges_to_csr(n, src, dst)
    graph, facts = load_edge_list(path, n)
    assert facts["file_ids"] == n
    assert np.array_equal(graph.indptr, expected.indptr)
    assert np.array_equal(graph.indices, expected.indices)


def test_edge_list_with_more_nodes_keeps_the_first_n(tmp_path):
    path = write(tmp_path, "0 1\n1 2\n2 3\n3 9\n8 9\n")
    net = NetworkConfig(kind="edgelist", path=path)
    graph, facts = build_network(net, 4, np.random.default_rng(0))
    assert graph.n_nodes == 4
    assert graph.n_edges == 3
    assert facts["file_ids"] == 6
    assert facts["ids_beyond_n_buyers_dropped"] == 2
    assert facts["edges_beyond_n_buyers_dropped"] == 2
    assert network_notes(facts, net, 4) == [
        f"network.path: {path} has 6 distinct ids; only the first 4 (n_buyers) are used: 2 ids "
        "and 2 edges touching them were dropped"
    ]


def test_edge_list_missing_file(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(NetworkError, match=r"network\.path: file not found") as info:
        load_edge_list(missing, 10)
    assert missing in str(info.value)
    with pytest.raises(NetworkError, match="not a file"):
        load_edge_list(str(tmp_path), 10)


def test_edgelist_kind_needs_a_path():
    for path in (None, ""):
        message = refusal("edgelist", 10, path=path)
        assert message.startswith(f"network.path = {path!r} is not allowed")


@pytest.mark.parametrize(
    ("text", "lineno", "shown"),
    [
        ("0 1\n1 2\n\n3 x\n4\n", 5, "4"),
        ("# c\n0 1\n1 2 3\n", 3, "1 2 3"),
        ("0 1\n5\n", 2, "5"),
        ("a b\nc d e\n", 2, "c d e"),
        ("0\t1\n1 2\n2 3 # ok\n1 2 3 # bad\n", 4, "1 2 3 # bad"),
    ],
)
def test_edge_list_malformed_line(tmp_path, text, lineno, shown):
    path = write(tmp_path, text)
    with pytest.raises(NetworkError) as info:
        load_edge_list(path, 2)
    message = str(info.value)
    assert message.startswith("network.path:")
    assert path in message
    assert f"line {lineno}:" in message
    assert repr(shown) in message


@pytest.mark.parametrize("text", ["", "# nothing here\n\n", "0 0\n1 1\n"])
def test_edge_list_without_edges(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(NetworkError, match="has no edges") as info:
        load_edge_list(path, 2)
    assert path in str(info.value)


@pytest.mark.parametrize("text", ["0 1\n1 119\n", "0 1\n2 1000000000000\n", "a b\nb c\n"])
def test_edge_list_with_fewer_ids_than_buyers(tmp_path, text):
    path = write(tmp_path, text)
    distinct = len(set(text.split()))
    with pytest.raises(NetworkError) as info:
        load_edge_list(path, 300)
    assert str(info.value) == (
        f"network.path: the edge list {path} has {distinct} distinct node ids but n_buyers is "
        "300; lower n_buyers or use a bigger graph"
    )


def test_edge_list_without_edges_among_the_first_n(tmp_path):
    path = write(tmp_path, "0 7\n1 8\n2 9\n")
    with pytest.raises(NetworkError, match="no edges among its first 3 node ids"):
        load_edge_list(path, 3)


def test_model_shows_network_notes_as_warnings(tmp_path, caplog):
    ring = "".join(f"n{i} n{(i + 1) % 11}\n" for i in range(11))
    path = write(tmp_path, ring + "n11 n12\n")  # 13 names
    settings = {"network.kind": "edgelist", "network.path": path}
    with pytest.raises(NetworkError, match="has 13 distinct node ids but n_buyers is 14"):
        MarketModel(weekly_config(n_buyers=14, steps=1, **settings))
    config = weekly_config(n_buyers=12, steps=1, **settings)
    with caplog.at_level(logging.INFO, logger="spheres.model.model"):
        model = MarketModel(config)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == network_notes(model.network_facts, config.network, 12)
    assert len(warnings) == 3
    assert "1 of 12 buyers have no neighbours" in warnings[0]  # n11 lost its link to n12
    assert "are names ('n0' is not" in warnings[1]
    assert "1 id and 1 edge touching them were dropped" in warnings[2]


def test_default_network_has_no_notes():
    net = NetworkConfig()
    _, facts = build("barabasi_albert", 300, 5, mean_degree=net.mean_degree)
    assert network_notes(facts, net, 300) == []


# --------------------------------------------------------------------------- edges_to_csr

edge_lists = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=0, max_size=60),
    )
)


@settings(max_examples=150, deadline=None)
@given(edge_lists)
def test_edges_to_csr_properties(case):
    n, pairs = case
    src = np.array([a for a, _ in pairs], dtype=np.int64)
    dst = np.array([b for _, b in pairs], dtype=np.int64)
    graph, facts = edges_to_csr(n, src, dst)
    assert_valid_csr(graph)
    expected = {(min(a, b), max(a, b)) for a, b in pairs if a != b}
    rows = np.repeat(np.arange(n), graph.degree())
    got = {(int(a), int(b)) for a, b in zip(rows, graph.indices, strict=True) if a < b}
    assert got == expected
    assert facts["self_loops_dropped"] == sum(a == b for a, b in pairs)
    dropped = facts["self_loops_dropped"] + facts["duplicates_dropped"]
    assert dropped == len(pairs) - graph.n_edges


def test_edges_to_csr_rejects_ids_out_of_range():
    with pytest.raises(NetworkError, match=r"\[0, 3\)"):
        edges_to_csr(3, np.array([0, 1]), np.array([1, 3]))
    with pytest.raises(NetworkError, match="same length"):
        edges_to_csr(3, np.array([0, 1]), np.array([1]))


def test_edges_to_csr_accepts_unsigned_ids_and_empty_input():
    graph, _ = edges_to_csr(3, np.array([2], dtype=np.uint64), np.array([0], dtype=np.uint64))
    assert graph.neighbours(0).tolist() == [2]
    empty, facts = edges_to_csr(3, np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    assert empty.n_edges == 0 and empty.degree().tolist() == [0, 0, 0]
    assert facts == {"self_loops_dropped": 0, "duplicates_dropped": 0}


# --------------------------------------------------------------------------- influencers


def test_choose_influencers_by_degree_picks_the_highest_degrees():
    graph, _ = build("barabasi_albert", 1000, seed=3, mean_degree=4)
    chosen = choose_influencers(graph, 0.05, "degree", np.random.default_rng(0))
    assert chosen.dtype == np.int64 and chosen.size == 50
    assert np.all(np.diff(chosen) > 0)
    degree = graph.degree()
    rest = np.setdiff1d(np.arange(1000), chosen)
    assert degree[chosen].min() >= degree[rest].max()


def test_choose_influencers_breaks_ties_at_random():
    graph, _ = edges_to_csr(7, np.array([0, 2, 4, 0]), np.array([1, 3, 5, 6]))  # 0 leads
    picks = np.zeros(7, dtype=int)
    for seed in range(600):
        chosen = choose_influencers(graph, 3 / 7, "degree", np.random.default_rng(seed))
        assert chosen.size == 3 and 0 in chosen
        picks[chosen] += 1
    assert picks[0] == 600
    assert np.all(np.abs(picks[1:] - 200) < 50)  # each of the six of degree 1: 2 in 6
    again = choose_influencers(graph, 3 / 7, "degree", np.random.default_rng(5))
    assert np.array_equal(again, choose_influencers(graph, 3 / 7, "degree",
                                                    np.random.default_rng(5)))


def test_choose_influencers_random_and_edge_cases():
    graph, _ = build("erdos_renyi", 200, seed=0, mean_degree=4)
    rng = np.random.default_rng(1)
    chosen = choose_influencers(graph, 0.1, "random", rng)
    assert chosen.size == 20 and np.all(np.diff(chosen) > 0)
    again = choose_influencers(graph, 0.1, "random", np.random.default_rng(1))
    assert np.array_equal(chosen, again)
    none = choose_influencers(graph, 0.0, "degree", rng)
    assert none.dtype == np.int64 and none.size == 0
    assert set(SELECTIONS) == {"degree", "random"}


@pytest.mark.parametrize(("n", "per"), [(5000, 40), (60, 50), (10, 100), (300, 120)])
def test_follower_edges(n, per):
    influencers = np.array([3, 7, 9], dtype=np.int64)
    src, dst = follower_edges(n, influencers, per, np.random.default_rng(2))
    k = min(per, n - 1)
    assert src.dtype == np.int32 and dst.dtype == np.int32
    assert not np.any(src == dst)
    assert np.all((dst >= 0) & (dst < n))
    assert np.bincount(src, minlength=10)[[3, 7, 9]].tolist() == [k, k, k]
    order = np.lexsort((dst, src))
    assert np.array_equal(order, np.arange(src.size)), "not sorted by src then dst"
    keys = src.astype(np.int64) * n + dst
    assert np.unique(keys).size == keys.size, "duplicate follower"


def test_follower_edges_are_uniform_and_reproducible():
    n = 50
    influencers = np.arange(0, 50, 5)
    src, dst = follower_edges(n, influencers, 10, np.random.default_rng(7))
    src2, dst2 = follower_edges(n, influencers, 10, np.random.default_rng(7))
    assert np.array_equal(src, src2) and np.array_equal(dst, dst2)
    counts = np.zeros(n)
    for seed in range(200):
        _, d = follower_edges(n, np.array([0]), 5, np.random.default_rng(seed))
        counts[d] += 1
    assert counts[0] == 0
    assert counts[1:].min() > 5 and counts[1:].max() < 40  # expected 1000/49 ~ 20 each


def test_follower_edges_edge_cases():
    rng = np.random.default_rng(0)
    src, dst = follower_edges(10, np.array([], dtype=np.int64), 5, rng)
    assert src.size == 0 and dst.size == 0
    src, dst = follower_edges(10, np.array([1]), 0, rng)
    assert src.size == 0
    with pytest.raises(NetworkError):
        follower_edges(10, np.array([10]), 3, rng)
