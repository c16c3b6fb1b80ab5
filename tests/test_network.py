"""Tests for spheres.model.network: graph kinds, CSR building, edge-list files and influencers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spheres.model.network import (
    KINDS,
    Graph,
    NetworkError,
    block_of,
    build_network,
    choose_influencers,
    edges_to_csr,
    follower_edges,
    load_edge_list,
)

RANDOM_KINDS = ["erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm"]


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


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize("kind", ["complete", *RANDOM_KINDS])
def test_every_kind_gives_a_valid_csr(kind):
    graph, facts = build_network(kind, 300, seed=3, mean_degree=6)
    assert_valid_csr(graph)
    assert graph.n_nodes == 300
    assert facts["kind"] == kind
    assert facts["n_edges"] == graph.n_edges
    assert facts["isolated_nodes"] == int(np.sum(graph.degree() == 0))
    assert {"self_loops_dropped", "duplicates_dropped"} <= set(facts)


def test_complete_graph_has_every_pair():
    n = 40
    graph, facts = build_network("complete", n, seed=0)
    assert graph.n_edges == n * (n - 1) // 2
    assert np.all(graph.degree() == n - 1)
    assert graph.neighbours(5).tolist() == [i for i in range(n) if i != 5]
    assert facts["isolated_nodes"] == 0


def test_complete_graph_refuses_large_n():
    with pytest.raises(NetworkError, match="20000"):
        build_network("complete", 20_001, seed=0)


def test_erdos_renyi_has_exactly_m_edges():
    graph, facts = build_network("erdos_renyi", 1000, seed=1, mean_degree=8)
    assert graph.n_edges == 4000
    assert facts["duplicates_dropped"] == 0


def test_watts_strogatz_without_rewiring_is_a_ring_lattice():
    n = 50
    graph, facts = build_network("watts_strogatz", n, seed=0, mean_degree=6, rewire=0.0)
    assert facts["k"] == 6
    assert np.all(graph.degree() == 6)
    assert graph.neighbours(0).tolist() == [1, 2, 3, 47, 48, 49]


@pytest.mark.parametrize(("mean_degree", "k"), [(5, 4), (7.4, 6), (1, 2), (2.6, 2)])
def test_watts_strogatz_uses_an_even_k(mean_degree, k):
    graph, facts = build_network("watts_strogatz", 100, seed=0, mean_degree=mean_degree, rewire=0)
    assert facts["k"] == k
    assert np.all(graph.degree() == k)


def test_watts_strogatz_rewiring_keeps_the_mean_degree_near_k():
    n = 2000
    graph, facts = build_network("watts_strogatz", n, seed=4, mean_degree=10, rewire=0.3)
    assert_valid_csr(graph)
    assert 0.25 * n * 5 < facts["rewired_edges"] < 0.35 * n * 5
    assert graph.n_edges + facts["duplicates_dropped"] == n * 5
    assert 9.9 <= graph.degree().mean() <= 10.0
    assert graph.degree().std() > 0.5  # no longer a lattice


def test_barabasi_albert_adds_m_edges_per_new_node():
    n, m = 500, 3
    graph, facts = build_network("barabasi_albert", n, seed=2, mean_degree=2 * m)
    assert facts["m"] == m
    assert m * (n - m) <= graph.n_edges <= m * (n - m) + m * (m - 1) // 2
    assert graph.degree().max() > 5 * m  # hubs appear
    assert facts["isolated_nodes"] == 0


def test_block_of_gives_equal_contiguous_blocks():
    assert block_of(10, 3).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert np.bincount(block_of(1001, 4)).tolist() == [251, 250, 250, 250]
    with pytest.raises(NetworkError, match="blocks"):
        block_of(5, 6)


@pytest.mark.parametrize("mixing", [0.0, 0.2, 0.6])
def test_sbm_mixing_fraction(mixing):
    n, blocks = 4000, 4
    graph, facts = build_network("sbm", n, seed=5, mean_degree=10, blocks=blocks, mixing=mixing)
    assert_valid_csr(graph)
    rows = np.repeat(np.arange(n), graph.degree())
    block = block_of(n, blocks)
    between = int(np.sum(block[rows] != block[graph.indices])) // 2
    assert between == facts["between_block_edges"]
    assert abs(between / graph.n_edges - mixing) < 0.02
    assert graph.n_edges + facts["duplicates_dropped"] == n * 5


def test_sbm_single_block_has_no_between_edges():
    graph, facts = build_network("sbm", 500, seed=1, blocks=1, mixing=0.5)
    assert facts["between_block_edges"] == 0
    assert graph.n_edges > 2400


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_same_seed_same_graph_other_seed_other_graph(kind):
    a, _ = build_network(kind, 400, seed=11, mean_degree=6)
    b, _ = build_network(kind, 400, seed=11, mean_degree=6)
    c, _ = build_network(kind, 400, seed=12, mean_degree=6)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert not (np.array_equal(a.indptr, c.indptr) and np.array_equal(a.indices, c.indices))


# --------------------------------------------------------------------------- validation


def test_unknown_kind_lists_the_known_ones():
    with pytest.raises(NetworkError, match="small_world") as info:
        build_network("small_world", 100, seed=0)
    for kind in KINDS:
        assert kind in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"n": 1}, "n_buyers"),
        ({"mean_degree": 0}, "mean_degree"),
        ({"mean_degree": -2}, "mean_degree"),
        ({"mean_degree": 100}, "mean_degree"),
        ({"mean_degree": float("nan")}, "mean_degree"),
        ({"rewire": 1.5}, "rewire"),
        ({"rewire": -0.1}, "rewire"),
        ({"mixing": -0.1}, "mixing"),
        ({"mixing": 2}, "mixing"),
        ({"blocks": 0}, "blocks"),
        ({"blocks": 101}, "blocks"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_settings_raise(kwargs, setting):
    args = {"kind": "sbm", "n": 100, "seed": 0} | kwargs
    with pytest.raises(NetworkError, match=setting):
        build_network(**args)


@pytest.mark.parametrize("kind", RANDOM_KINDS)
def test_mean_degree_must_be_below_n(kind):
    with pytest.raises(NetworkError, match=r"mean_degree .*< n_buyers \(10\)"):
        build_network(kind, 10, seed=0, mean_degree=10)


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
    assert facts["file_nodes"] == 4
    assert facts["self_loops_dropped"] == 0 and facts["duplicates_dropped"] == 0


def test_edge_list_fast_and_general_parsers_agree(tmp_path):
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 300, size=(2000, 2))
    plain = "".join(f"{a} {b}\n" for a, b in pairs)
    fancy = "# header\n" + "".join(f"{a},\t{b}  # c\n" for a, b in pairs)
    g1, f1 = load_edge_list(write(tmp_path, plain, "plain.txt"), 300)
    g2, f2 = load_edge_list(write(tmp_path, fancy, "fancy.txt"), 300)
    assert np.array_equal(g1.indptr, g2.indptr) and np.array_equal(g1.indices, g2.indices)
    assert f1 == f2


def test_edge_list_drops_and_counts_self_loops_and_duplicates(tmp_path):
    text = "0 1\n1 0\n0 1\n2 2\n1 2\n3 3\n2 3\n"
    graph, facts = load_edge_list(write(tmp_path, text), 4)
    assert graph.n_edges == 3
    assert facts["self_loops_dropped"] == 2
    assert facts["duplicates_dropped"] == 2


def test_edge_list_through_build_network(tmp_path):
    path = write(tmp_path, "0 1\n3 4\n1 3\n")
    graph, facts = build_network("edgelist", 5, seed=0, path=path)
    assert graph.n_edges == 3
    assert facts["kind"] == "edgelist"
    assert facts["isolated_nodes"] == 1
    assert facts["file_nodes"] == 5


def test_edge_list_with_more_nodes_keeps_the_first_n(tmp_path):
    path = write(tmp_path, "0 1\n1 2\n2 3\n3 9\n8 9\n")
    graph, facts = load_edge_list(path, 4)
    assert graph.n_nodes == 4
    assert graph.n_edges == 3
    assert facts["file_nodes"] == 10
    assert facts["nodes_beyond_n_buyers_ignored"] == 6
    assert facts["edges_beyond_n_buyers_dropped"] == 2


def test_edge_list_missing_file(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(NetworkError, match=r"network\.path: file not found") as info:
        load_edge_list(missing, 10)
    assert missing in str(info.value)
    with pytest.raises(NetworkError, match="not a file"):
        load_edge_list(str(tmp_path), 10)


def test_edgelist_kind_needs_a_path():
    with pytest.raises(NetworkError, match=r"network\.path"):
        build_network("edgelist", 10, seed=0)


@pytest.mark.parametrize(
    ("text", "lineno", "shown"),
    [
        ("0 1\n1 2\n\n3 x\n4 5\n", 4, "3 x"),
        ("# c\n0 1\n1 2 3\n", 3, "1 2 3"),
        ("0 1\n5\n", 2, "5"),
        ("0 1\n1 -2\n", 2, "1 -2"),
        ("0 1\n1.5 2\n", 2, "1.5 2"),
        ("0 1\n1; 2\n", 2, "1; 2"),
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


def test_edge_list_with_fewer_nodes_than_buyers(tmp_path):
    path = write(tmp_path, "0 1\n1 119\n")
    with pytest.raises(NetworkError) as info:
        load_edge_list(path, 3000)
    assert str(info.value) == (
        f"network.path: the edge list {path} has 120 nodes but n_buyers is 3000; "
        "lower n_buyers or use a bigger graph"
    )


def test_edge_list_without_edges_among_the_first_n(tmp_path):
    path = write(tmp_path, "5 6\n7 8\n")
    with pytest.raises(NetworkError, match="no edges among its first 3 nodes"):
        load_edge_list(path, 3)


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
    graph, _ = build_network("barabasi_albert", 1000, seed=3, mean_degree=4)
    chosen = choose_influencers(graph, 0.05, "degree", np.random.default_rng(0))
    assert chosen.dtype == np.int64 and chosen.size == 50
    assert np.all(np.diff(chosen) > 0)
    degree = graph.degree()
    rest = np.setdiff1d(np.arange(1000), chosen)
    assert degree[chosen].min() >= degree[rest].max()


def test_choose_influencers_breaks_ties_by_lower_id():
    graph, _ = edges_to_csr(6, np.array([0, 2, 4]), np.array([1, 3, 5]))  # all degree 1
    chosen = choose_influencers(graph, 0.5, "degree", np.random.default_rng(0))
    assert chosen.tolist() == [0, 1, 2]


def test_choose_influencers_random_and_edge_cases():
    graph, _ = build_network("erdos_renyi", 200, seed=0, mean_degree=4)
    rng = np.random.default_rng(1)
    chosen = choose_influencers(graph, 0.1, "random", rng)
    assert chosen.size == 20 and np.all(np.diff(chosen) > 0)
    again = choose_influencers(graph, 0.1, "random", np.random.default_rng(1))
    assert np.array_equal(chosen, again)
    none = choose_influencers(graph, 0.0, "degree", rng)
    assert none.dtype == np.int64 and none.size == 0
    with pytest.raises(NetworkError, match="'degree' or 'random'"):
        choose_influencers(graph, 0.1, "pagerank", rng)
    with pytest.raises(NetworkError, match="share"):
        choose_influencers(graph, 1.5, "random", rng)


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
    with pytest.raises(NetworkError):
        follower_edges(10, np.array([1]), -1, rng)
