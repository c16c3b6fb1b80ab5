"""Buyer social networks: build, load and store undirected graphs in CSR form.

A network is built by name from a registry of kinds (``complete``, ``erdos_renyi``,
``watts_strogatz``, ``barabasi_albert``, ``sbm``, ``edgelist``), reproducibly from a random
generator, and returned as a :class:`Graph` (compressed sparse rows with sorted neighbour lists)
together with a dict of facts worth logging (dropped self-loops and duplicates, isolated
nodes, ...). Generation is vectorised (numpy) or compiled (rustworkx), so graphs with a
million nodes take seconds.

A generator's node ids record how it built the graph: the first nodes of a Barabási–Albert graph
are its hubs, a ring lattice's neighbours have nearby ids, a block model's communities are runs
of ids. So that a buyer's row says nothing of its place in the network, :func:`build_network`
renames the nodes of every kind registered with ``relabel=True`` (all but ``complete``, where
every naming gives the same graph, and ``edgelist``, whose ids are the user's) by a random
permutation (:func:`relabel`).

Each kind declares which graph settings of :class:`~spheres.config.NetworkConfig` it uses
(``uses``, out of :data:`GRAPH_SETTINGS`) and a ``check(net, n)`` that raises
:class:`~spheres.config.ConfigError` when the kind cannot honour the settings exactly, so that
nothing is coerced silently; config validation runs it once and builders trust their input.
A new kind is one function registered by name::

    @register("ring", uses=())
    def _ring(net: NetworkConfig, n: int, seed: int) -> tuple[Graph, dict]:
        src = np.arange(n)
        return edges_to_csr(n, src, (src + 1) % n)

Edge-list files (kind ``edgelist``) hold one edge per line: two node ids separated by a comma
and/or whitespace; blank lines and ``#`` comments are skipped. Ids are tokens. If every id is a
non-negative integer, buyer rows follow the ascending numeric order of the distinct ids (a file
using 0..n-1 maps to itself); otherwise ids are names and rows follow their order of first
appearance in the file. The file must have at least ``n_buyers`` distinct ids; with more, the
first ``n_buyers`` ids in that order are kept and edges touching the others are dropped.
:func:`network_notes` says on the console how ids were mapped and what was dropped.

The module also picks influencers among the buyers (:data:`SELECTIONS`) and draws their follower
edges.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import rustworkx as rx
from scipy import sparse

from spheres.errors import ConfigError, NetworkError
from spheres.model import rules
from spheres.schema import NetworkConfig

__all__ = [
    "GRAPH_SETTINGS",
    "KINDS",
    "SELECTIONS",
    "Graph",
    "Kind",
    "NetworkError",
    "block_of",
    "build_network",
    "choose_influencers",
    "edges_to_csr",
    "follower_edges",
    "load_edge_list",
    "network_notes",
    "register",
    "relabel",
]

GRAPH_SETTINGS = ("mean_degree", "rewire", "blocks", "mixing", "path")
"""The settings of ``NetworkConfig`` that shape the graph; each kind uses some of them."""

MAX_NODES = 2**31 - 1  # neighbour ids are stored as int32
MAX_COMPLETE_NODES = 20_000


@dataclass(frozen=True, eq=False)
class Graph:
    """An undirected graph in CSR form.

    The neighbours of node ``i`` are ``indices[indptr[i]:indptr[i + 1]]``, sorted ascending,
    without self-loops or duplicates; every edge appears once in each direction. The arrays
    are made read-only.
    """

    indptr: np.ndarray
    indices: np.ndarray

    def __post_init__(self) -> None:
        """Check the arrays' shapes and keep them contiguous and read-only."""
        indptr = np.ascontiguousarray(self.indptr, dtype=np.int64).view()
        indices = np.ascontiguousarray(self.indices, dtype=np.int32).view()
        if indptr.ndim != 1 or indptr.size < 1 or indices.ndim != 1:
            raise ValueError("Graph: indptr must be 1-D with n+1 entries and indices 1-D")
        if indptr[0] != 0 or indptr[-1] != indices.size:
            raise ValueError("Graph: indptr must start at 0 and end at len(indices)")
        indptr.flags.writeable = False
        indices.flags.writeable = False
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "indices", indices)

    @property
    def n_nodes(self) -> int:
        """Number of nodes n."""
        return int(self.indptr.size - 1)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges m."""
        return int(self.indices.size // 2)

    def degree(self) -> np.ndarray:
        """Degree of every node, int64 of shape (n,)."""
        return np.diff(self.indptr)

    def neighbours(self, i: int) -> np.ndarray:
        """Sorted neighbour ids of node ``i`` (a read-only view)."""
        if not 0 <= i < self.n_nodes:
            raise IndexError(f"node {i} out of range for a graph of {self.n_nodes} nodes")
        return self.indices[self.indptr[i] : self.indptr[i + 1]]


Builder = Callable[[NetworkConfig, int, int], tuple[Graph, dict]]
Check = Callable[[NetworkConfig, int], None]


def _no_check(net: NetworkConfig, n: int) -> None:
    """A kind whose settings are always honoured."""


@dataclass(frozen=True)
class Kind:
    """A registered network kind: its builder, the graph settings it uses and its check.

    ``build(net, n, seed)`` returns the graph and its facts; ``uses`` names the members of
    :data:`GRAPH_SETTINGS` it reads; ``check(net, n)`` raises ``ConfigError`` naming the
    setting when the kind cannot honour the settings exactly for ``n`` buyers; ``relabel`` says
    whether :func:`build_network` renames the builder's nodes by a random permutation (the ids
    of a generated graph carry the order in which it was built).
    """

    build: Builder
    uses: tuple[str, ...]
    check: Check
    relabel: bool = True


KINDS: dict[str, Kind] = {}


def register(
    name: str, uses: tuple[str, ...] = (), check: Check = _no_check, relabel: bool = True
) -> Callable[[Builder], Builder]:
    """Decorator registering a builder ``fn(net, n, seed) -> (Graph, facts)`` under ``name``.

    With ``relabel`` (the default, for generators) the built graph's nodes are renamed at random.
    """
    unknown = set(uses) - set(GRAPH_SETTINGS)
    if unknown:
        raise ValueError(f"network kind {name!r} uses unknown settings {sorted(unknown)}")

    def decorate(fn: Builder) -> Builder:
        if name in KINDS:
            raise ValueError(f"network kind {name!r} is already registered")
        KINDS[name] = Kind(fn, tuple(uses), check, relabel)
        return fn

    return decorate


def _refuse(setting: str, value: object, allowed: str) -> ConfigError:
    """The error for ``network.<setting> = value``, saying what is allowed and why."""
    return ConfigError(f"network.{setting} = {value!r} is not allowed: {allowed}")


# --------------------------------------------------------------------------- CSR


def edges_to_csr(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[Graph, dict]:
    """Build a sorted, symmetric CSR graph on ``n`` nodes from an edge list.

    Edges may be given in either direction. Self-loops and duplicate edges (in either
    direction) are dropped; the facts dict counts them as ``self_loops_dropped`` and
    ``duplicates_dropped`` (the number of input edges that repeat an earlier pair).
    """
    if not 0 <= n <= MAX_NODES:
        raise NetworkError(f"edges_to_csr: n must be between 0 and {MAX_NODES}; got {n}")
    src = np.asarray(src)
    dst = np.asarray(dst)
    if src.ndim != 1 or src.shape != dst.shape:
        raise NetworkError("edges_to_csr: src and dst must be 1-D arrays of the same length")
    if src.size:
        if src.dtype.kind not in "iu" or dst.dtype.kind not in "iu":
            raise NetworkError("edges_to_csr: src and dst must hold integer node ids")
        lo = min(int(src.min()), int(dst.min()))
        hi = max(int(src.max()), int(dst.max()))
        if lo < 0 or hi >= n:
            raise NetworkError(
                f"edges_to_csr: node ids must lie in [0, {n}); got ids from {lo} to {hi}"
            )
    loops = src == dst
    n_loops = int(np.count_nonzero(loops))
    if n_loops:
        keep = ~loops
        src = src[keep]
        dst = dst[keep]
    s = src.astype(np.int32)
    d = dst.astype(np.int32)

    # scipy's COO -> CSR conversion is a compiled counting sort by row; sum_duplicates then
    # sorts each row and merges repeated entries (the data counts how often each appeared).
    rows = np.concatenate((s, d))
    cols = np.concatenate((d, s))
    ones = np.ones(rows.size, dtype=np.int32)
    matrix = sparse.csr_array((ones, (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    indptr = matrix.indptr.astype(np.int64)
    indices = matrix.indices.astype(np.int32, copy=False)
    n_dups = s.size - indices.size // 2
    return Graph(indptr, indices), {"self_loops_dropped": n_loops, "duplicates_dropped": n_dups}


# --------------------------------------------------------------------------- building


def build_network(net: NetworkConfig, n: int, rng: np.random.Generator) -> tuple[Graph, dict]:
    """Build the buyer graph of kind ``net.kind`` on ``n`` nodes from the generator ``rng``.

    One integer in [0, 2**62) drawn from ``rng`` seeds the kind's builder; for a kind registered
    with ``relabel``, a permutation of the ``n`` rows drawn next renames its nodes
    (:func:`relabel`). ``net`` is taken as validated (``spheres.config.validate`` runs the
    kind's check); only the contents of an edge-list file are checked here. Returns the graph
    and a dict of facts for the log: always ``kind``, ``n_nodes``, ``n_edges``,
    ``mean_degree_observed``, ``isolated_nodes``, ``self_loops_dropped``,
    ``duplicates_dropped`` and ``relabelled``, plus facts particular to the kind (see
    :func:`network_notes` for the ones a user must see).
    """
    kind = KINDS[net.kind]
    graph, kind_facts = kind.build(net, int(n), int(rng.integers(2**62)))
    if kind.relabel:
        graph = relabel(graph, rng.permutation(graph.n_nodes))
    deg = graph.degree()
    facts: dict = {
        "kind": net.kind,
        "n_nodes": graph.n_nodes,
        "n_edges": graph.n_edges,
        "mean_degree_observed": 2.0 * graph.n_edges / graph.n_nodes,
        "isolated_nodes": int(np.count_nonzero(deg == 0)),
        "self_loops_dropped": 0,
        "duplicates_dropped": 0,
        "relabelled": kind.relabel,
    }
    facts.update(kind_facts)
    return graph, facts


def relabel(graph: Graph, order: np.ndarray) -> Graph:
    """The same graph with node ``i`` renamed ``order[i]`` (``order`` a permutation of 0..n-1).

    Row ``order[i]`` of the result holds the renamed neighbours of node ``i``, sorted.
    """
    order = np.asarray(order, dtype=np.int64)
    n = graph.n_nodes
    if order.shape != (n,) or (n and (order.min() < 0 or order.max() >= n
                                      or np.count_nonzero(np.bincount(order)) != n)):
        raise NetworkError(f"relabel: order must be a permutation of 0..{n - 1}")
    was = np.empty(n, dtype=np.int64)
    was[order] = np.arange(n)  # the old name of each new row
    deg = graph.degree()[was]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    # the entries of old row was[r], moved to new row r, in one gather
    take = np.arange(indptr[-1], dtype=np.int64) + np.repeat(graph.indptr[was] - indptr[:-1], deg)
    indices = order[graph.indices[take]].astype(np.int32)
    matrix = sparse.csr_array((np.ones(indices.size, dtype=np.int8), indices, indptr),
                              shape=(n, n))
    matrix.sort_indices()  # compiled, row by row
    return Graph(indptr, matrix.indices)


def _rx_edges(graph: rx.PyGraph) -> tuple[np.ndarray, np.ndarray]:
    edges = np.asarray(graph.edge_list())
    if edges.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return edges[:, 0], edges[:, 1]


def _check_degree_below_n(net: NetworkConfig, n: int) -> None:
    """A buyer can link to at most every other buyer: mean_degree <= n - 1."""
    if not net.mean_degree <= n - 1:
        raise _refuse(
            "mean_degree",
            net.mean_degree,
            f"at most n_buyers - 1 ({n - 1}) for network.kind={net.kind}: "
            "a buyer can link to at most every other buyer",
        )


def _check_even_degree(why: str) -> Check:
    """A check requiring an even integer mean_degree from 2 to n - 1, for the reason ``why``."""

    def check(net: NetworkConfig, n: int) -> None:
        d = net.mean_degree
        if not (float(d).is_integer() and d % 2 == 0 and 2 <= d <= n - 1):
            top = (n - 1) - (n - 1) % 2
            allowed = f"an even integer from 2 to {top}" if top >= 2 else "none (needs 3 buyers)"
            raise _refuse(
                "mean_degree",
                d,
                f"{allowed} (below n_buyers = {n}) for network.kind={net.kind}: {why}",
            )

    return check


def _check_complete(net: NetworkConfig, n: int) -> None:
    if n > MAX_COMPLETE_NODES:
        raise ConfigError(
            f"n_buyers = {n} is not allowed with network.kind=complete: at most "
            f"{MAX_COMPLETE_NODES} (a complete graph has n_buyers * (n_buyers - 1) / 2 links)"
        )


@register("complete", uses=(), check=_check_complete, relabel=False)
def _complete(net: NetworkConfig, n: int, seed: int) -> tuple[Graph, dict]:
    """Every pair of buyers connected (every naming of the nodes gives this graph)."""
    cols = np.arange(n - 1, dtype=np.int32)[None, :]
    rows = np.arange(n, dtype=np.int32)[:, None]
    indices = (cols + (cols >= rows)).ravel()
    indptr = np.arange(n + 1, dtype=np.int64) * (n - 1)
    return Graph(indptr, indices), {}


@register("erdos_renyi", uses=("mean_degree",), check=_check_degree_below_n)
def _erdos_renyi(net: NetworkConfig, n: int, seed: int) -> tuple[Graph, dict]:
    """G(n, m) with m = round(n * mean_degree / 2) edges."""
    m = round(n * net.mean_degree / 2)
    g = rx.undirected_gnm_random_graph(n, m, seed=seed)
    graph, facts = edges_to_csr(n, *_rx_edges(g))
    facts["edges_target"] = m
    facts["edges_rule"] = "round(n_buyers * mean_degree / 2) random pairs"
    return graph, facts


@register(
    "watts_strogatz",
    uses=("mean_degree", "rewire"),
    check=_check_even_degree("the ring lattice links each buyer to mean_degree / 2 "
                             "neighbours on each side"),
)
def _watts_strogatz(net: NetworkConfig, n: int, seed: int) -> tuple[Graph, dict]:
    """Ring lattice of even degree k = mean_degree, far ends rewired with probability rewire.

    A rewired edge gets a uniform random far end other than its near end; edges that become
    duplicates are dropped, so the mean degree can come out slightly below k.
    """
    k = int(net.mean_degree)
    half = k // 2
    rng = np.random.default_rng(seed)
    src = np.repeat(np.arange(n, dtype=np.int64), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewired = rng.random(src.size) < net.rewire
    n_rewired = int(np.count_nonzero(rewired))
    if n_rewired:
        near = src[rewired]
        far = rng.integers(0, n - 1, size=n_rewired, dtype=np.int64)
        far += far >= near
        dst[rewired] = far
    graph, facts = edges_to_csr(n, src, dst)
    facts.update({"k": k, "rewired_edges": n_rewired, "edges_target": n * half,
                  "edges_rule": f"{half} links to each side of every buyer on a ring"})
    return graph, facts


@register(
    "barabasi_albert",
    uses=("mean_degree",),
    check=_check_even_degree("each new buyer brings m = mean_degree / 2 links"),
)
def _barabasi_albert(net: NetworkConfig, n: int, seed: int) -> tuple[Graph, dict]:
    """Preferential attachment: each new node links to m = mean_degree / 2 earlier nodes.

    The growth starts from a star of m nodes (one edge of two nodes when m = 1), so the mean
    degree is about mean_degree * (1 - m / n): below mean_degree when m is not small next to n.
    """
    m = int(net.mean_degree) // 2
    # rustworkx needs a seed graph for m = 1 (its default start panics): start from one edge.
    start = None
    start_nodes, start_edges = m, m - 1  # rustworkx's default start: a star of m nodes
    if m == 1:
        start = rx.PyGraph()
        start.add_nodes_from(range(2))
        start.add_edge(0, 1, None)
        start_nodes, start_edges = 2, 1
    g = rx.barabasi_albert_graph(n, m, seed=seed, initial_graph=start)
    graph, facts = edges_to_csr(n, *_rx_edges(g))
    facts["m"] = m
    facts["edges_target"] = start_edges + m * (n - start_nodes)
    facts["edges_rule"] = (f"m = {m} links from each buyer after a first star of {start_nodes}; "
                           f"the mean degree is about 2m(1 - m/n_buyers)")
    return graph, facts


def block_of(n: int, blocks: int) -> np.ndarray:
    """Block (community) of every node, numbered as the ``sbm`` builder numbers them.

    Node i is in block ``i * blocks // n`` (int64, (n,)); :func:`build_network` then renames the
    nodes at random.
    """
    if n < 1 or not 1 <= blocks <= n:
        raise ValueError(f"network.blocks must be from 1 to n_buyers ({n}); got {blocks}")
    return np.arange(n, dtype=np.int64) * blocks // n


def _block_starts(n: int, blocks: int) -> np.ndarray:
    """First node of each block, plus n at the end (int64, (blocks+1,))."""
    return (np.arange(blocks + 1, dtype=np.int64) * n + blocks - 1) // blocks


def _sbm_counts(net: NetworkConfig, n: int) -> tuple[int, int]:
    """Numbers of within-block and between-block edges the SBM draws: (within, between)."""
    total = round(n * net.mean_degree / 2)
    between = round(total * net.mixing) if net.blocks > 1 else 0
    return total - between, between


def _check_sbm(net: NetworkConfig, n: int) -> None:
    b, mixing = net.blocks, net.mixing
    if b == 1 and mixing > 0:
        raise _refuse("mixing", mixing, "0 when network.blocks = 1: with one block there is "
                      "no other block to link to (raise network.blocks for mixing)")
    within, between = _sbm_counts(net, n)
    if within > 0 and b > n // 2:
        raise _refuse("blocks", b, f"at most n_buyers // 2 ({n // 2}) when network.mixing < 1: "
                      "every block needs at least 2 buyers to hold within-block links")
    if b > n:
        raise _refuse("blocks", b, f"at most n_buyers ({n})")
    sizes = np.diff(_block_starts(n, b))
    pairs_within = int(np.sum(sizes * (sizes - 1) // 2))
    pairs_between = n * (n - 1) // 2 - pairs_within
    if within > pairs_within or between > pairs_between:
        limits = []
        if mixing < 1:
            limits.append(2 * pairs_within / (n * (1 - mixing)))
        if mixing > 0 and b > 1:
            limits.append(2 * pairs_between / (n * mixing))
        raise _refuse(
            "mean_degree", net.mean_degree,
            f"at most about {min(limits):.4g} with {b} blocks of about {n // b} buyers and "
            f"network.mixing = {mixing}: the blocks hold {pairs_within:,} within-block pairs and "
            f"{pairs_between:,} pairs across blocks, and the links asked for must fit in them",
        )


@register("sbm", uses=("mean_degree", "blocks", "mixing"), check=_check_sbm)
def _sbm(net: NetworkConfig, n: int, seed: int) -> tuple[Graph, dict]:
    """Stochastic block model with ``blocks`` equal communities.

    n * mean_degree / 2 edges are drawn as uniform random pairs, a fraction ``mixing`` of
    them between different blocks and the rest within blocks (shared among blocks in
    proportion to their number of node pairs). Duplicate pairs are dropped.
    """
    b = net.blocks
    rng = np.random.default_rng(seed)
    starts = _block_starts(n, b)
    sizes = np.diff(starts)
    within, between = _sbm_counts(net, n)
    pair_weights = (sizes * (sizes - 1) // 2).astype(np.float64)

    parts_src, parts_dst = [], []
    if within:
        counts = rng.multinomial(within, pair_weights / pair_weights.sum())
        blk = np.repeat(np.arange(b, dtype=np.int64), counts)
        lo, size = starts[blk], sizes[blk]
        u = rng.integers(0, size)
        v = rng.integers(0, size - 1)
        v += v >= u
        parts_src.append(lo + u)
        parts_dst.append(lo + v)
    if between:
        u = rng.integers(0, n, size=between, dtype=np.int64)
        bu = u * b // n
        su = sizes[bu]
        v = rng.integers(0, n - su)
        v += (v >= starts[bu]) * su
        parts_src.append(u)
        parts_dst.append(v)
    src = np.concatenate(parts_src) if parts_src else np.empty(0, dtype=np.int64)
    dst = np.concatenate(parts_dst) if parts_dst else np.empty(0, dtype=np.int64)
    graph, facts = edges_to_csr(n, src, dst)

    rows = np.repeat(np.arange(n, dtype=np.int64), graph.degree())
    cross = int(np.count_nonzero(rows * b // n != graph.indices.astype(np.int64) * b // n)) // 2
    facts.update(
        {
            "blocks": b,
            "between_block_edges": cross,
            "mixing_observed": cross / graph.n_edges if graph.n_edges else 0.0,
            "edges_target": within + between,
            "edges_rule": "round(n_buyers * mean_degree / 2) random pairs",
        }
    )
    return graph, facts


def _check_edgelist(net: NetworkConfig, n: int) -> None:
    if net.path is None or str(net.path) == "":
        raise _refuse("path", net.path, "the path of an edge-list file when network.kind=edgelist")


@register("edgelist", uses=("path",), check=_check_edgelist, relabel=False)
def _edgelist(net: NetworkConfig, n: int, seed: int) -> tuple[Graph, dict]:
    """Read the graph from the edge-list file at ``path`` (its ids keep the rows they map to)."""
    return load_edge_list(str(net.path), n)


# --------------------------------------------------------------------------- edge-list files

_SEPARATORS = re.compile(rb"[,\s]+")
_COMMENT = re.compile(rb"#[^\n]*")
_BLANKS = re.compile(rb"[ \t\r\v\f,]+")
_EDGE_SPACES = re.compile(rb"^ | $", re.MULTILINE)
_EMPTY_LINES = re.compile(rb"\n+")


def load_edge_list(path: str, n: int) -> tuple[Graph, dict]:
    """Load an undirected edge list from a text file as a graph on ``n`` nodes.

    Each line holds two node ids separated by a comma and/or whitespace; blank lines, ``#``
    comment lines and trailing ``# comments`` are ignored. Ids are mapped to rows as the module
    docstring says (ascending integers, else names in order of first appearance); the file
    must have at least ``n`` distinct ids, and edges touching ids beyond the first ``n`` are
    dropped. Self-loops and duplicate edges are dropped and counted.
    """
    file = Path(path)
    if not file.exists():
        raise NetworkError(f"network.path: file not found: {path}")
    if not file.is_file():
        raise NetworkError(f"network.path: not a file: {path}")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise NetworkError(f"network.path: cannot read {path}: {exc}") from exc

    rows, facts = _edge_rows(data, path)
    src, dst = rows[:, 0], rows[:, 1]
    n_loops_all = int(np.count_nonzero(src == dst))
    if src.size - n_loops_all == 0:
        raise NetworkError(
            f"network.path: the edge list {path} has no edges "
            "(after dropping blank lines, comments and self-loops)"
        )
    file_ids = facts["file_ids"]
    if file_ids < n:
        raise NetworkError(
            f"network.path: the edge list {path} has {file_ids} distinct node ids but n_buyers "
            f"is {n}; lower n_buyers or use a bigger graph"
        )
    facts["file_edges"] = int(src.size)
    facts["ids_renumbered"] = facts["first_gap"] < n  # the rows kept are not ids 0..n-1
    if file_ids > n:
        keep = (src < n) & (dst < n)
        facts["ids_beyond_n_buyers_dropped"] = file_ids - n
        facts["edges_beyond_n_buyers_dropped"] = int(src.size - np.count_nonzero(keep))
        src, dst = src[keep], dst[keep]
        if np.count_nonzero(src != dst) == 0:
            raise NetworkError(
                f"network.path: the edge list {path} has no edges among its first {n} node ids "
                f"(n_buyers); raise n_buyers or use a different graph"
            )
    graph, csr_facts = edges_to_csr(n, src, dst)
    facts.update(csr_facts)
    facts["path"] = path
    return graph, facts


def _edge_rows(data: bytes, path: str) -> tuple[np.ndarray, dict]:
    """Parse edge-list bytes into an (E, 2) int64 array of rows, and facts about the ids.

    The facts are ``file_ids`` (distinct ids), ``ids`` (``"integers"`` or ``"names"``),
    ``first_gap`` (the smallest non-negative integer that is not an id; 0 for names) and, for
    names, ``first_name`` and ``first_non_integer``.
    """
    text = data.replace(b",", b" ") if b"," in data else data
    pairs = _read_pairs(text, integers=True)
    if pairs is not None and pairs.min() >= 0:
        return _integer_rows(pairs)
    # Plain "a b" lines of names need no clean-up; '#' may start a comment inside a line.
    tokens = _read_pairs(text, integers=False) if b"#" not in text else None
    if tokens is None:
        text = _normalise(data)
        if not text:
            return _integer_rows(np.empty((0, 2), dtype=np.int64))
        pairs = _read_pairs(text, integers=True)
        if pairs is not None and pairs.min() >= 0:
            return _integer_rows(pairs)
        tokens = _read_pairs(text, integers=False)
    if tokens is None:
        _raise_first_bad_line(data, path)
        raise NetworkError(f"network.path: cannot parse the edge list {path}")
    return _name_rows(tokens)


def _normalise(data: bytes) -> bytes:
    """Edge-list bytes with comments, blank lines and extra separators removed: ``a b`` lines."""
    text = _COMMENT.sub(b"", data)
    text = _BLANKS.sub(b" ", text)
    text = _EDGE_SPACES.sub(b"", text)
    return _EMPTY_LINES.sub(b"\n", text).strip(b"\n")


def _integer_rows(pairs: np.ndarray) -> tuple[np.ndarray, dict]:
    """Rows for non-negative integer ids: the rank of each id among the distinct ids."""
    if pairs.size == 0:
        return pairs.reshape(0, 2), {"file_ids": 0, "ids": "integers", "first_gap": 0}
    top = int(pairs.max())
    if top < 4 * pairs.size + 1024:  # ids dense enough for a presence table
        present = np.zeros(top + 1, dtype=bool)
        present[pairs.ravel()] = True
        distinct = int(np.count_nonzero(present))
        if distinct == top + 1:
            rows, gap = pairs, distinct
        else:
            rows, gap = np.cumsum(present, dtype=np.int64)[pairs] - 1, int(np.argmin(present))
    else:  # hash the ids, then sort only the distinct ones
        encoded = pa.array(pairs.ravel()).dictionary_encode()
        values = encoded.dictionary.to_numpy()
        order = np.argsort(values)
        distinct = int(values.size)
        rank = np.empty(distinct, dtype=np.int64)
        rank[order] = np.arange(distinct)
        rows = rank[encoded.indices.to_numpy()].reshape(pairs.shape)
        uniq = values[order]
        gap = int(np.count_nonzero(uniq == np.arange(distinct)))  # uniq[i] == i for a prefix
    return rows, {"file_ids": distinct, "ids": "integers", "first_gap": gap}


def _name_rows(tokens: tuple) -> tuple[np.ndarray, dict]:
    """Rows for ids that are names: the order of first appearance, line by line."""
    first, second = tokens
    count = len(first)
    both = pa.concat_arrays([c.cast(pa.large_string()) for c in first.chunks + second.chunks])
    line_order = np.empty(2 * count, dtype=np.int64)  # a, b of line 1, a, b of line 2, ...
    line_order[0::2] = np.arange(count)
    line_order[1::2] = np.arange(count, 2 * count)
    # Dictionary encoding numbers the names by first appearance in the order given.
    encoded = both.take(pa.array(line_order)).dictionary_encode()
    rows = encoded.indices.to_numpy()
    ordered = encoded.dictionary
    is_int = pc.match_substring_regex(ordered, r"^[0-9]+$").to_numpy(zero_copy_only=False)
    facts = {
        "file_ids": len(ordered),
        "ids": "names",
        "first_gap": 0,
        "first_name": ordered[0].as_py(),
        "first_non_integer": ordered[int(np.argmin(is_int))].as_py(),
    }
    return rows.astype(np.int64).reshape(-1, 2), facts


def _read_pairs(text: bytes, integers: bool) -> np.ndarray | tuple | None:
    """Read lines that are exactly ``a b`` with pyarrow's CSV reader.

    With ``integers`` returns an (E, 2) int64 array, else the two string columns; returns None
    when the text is anything else (comments, tabs, repeated spaces, a wrong number of
    fields, non-integer ids when integers are asked for, ...).
    """
    kind = pa.int64() if integers else pa.string()
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text),
            read_options=pa_csv.ReadOptions(column_names=["a", "b"]),
            parse_options=pa_csv.ParseOptions(delimiter=" ", quote_char=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={"a": kind, "b": kind},
                null_values=[],
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows == 0 or any(col.null_count for col in table.columns):
        return None
    if not integers:
        return table.column("a"), table.column("b")
    pairs = np.empty((table.num_rows, 2), dtype=np.int64)
    for j, column in enumerate(table.columns):
        row = 0
        for chunk in column.chunks:  # read the int64 buffers directly
            size = len(chunk)
            values = chunk.buffers()[1]
            pairs[row : row + size, j] = np.frombuffer(
                values, dtype=np.int64, count=size, offset=chunk.offset * 8
            )
            row += size
    return pairs


def _raise_first_bad_line(data: bytes, path: str) -> None:
    """Raise a NetworkError naming the first line that does not hold exactly two ids."""
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        body = raw.split(b"#", 1)[0]
        tokens = [t for t in _SEPARATORS.split(body) if t]
        if not tokens or len(tokens) == 2:
            continue
        shown = raw.rstrip(b"\r").decode("utf-8", errors="replace")
        if len(shown) > 80:
            shown = shown[:77] + "..."
        raise NetworkError(
            f"network.path: {path} line {lineno}: expected two node ids separated by a comma "
            f"or whitespace; got {shown!r}"
        )


# --------------------------------------------------------------------------- console notes


def _count(k: int, noun: str) -> str:
    """``k`` and the noun, plural unless ``k`` is 1: ``"1 id"``, ``"3 ids"``."""
    return f"{k:,} {noun}" if k == 1 else f"{k:,} {noun}s"


def network_notes(facts: dict, net: NetworkConfig, n: int) -> list[str]:
    """The lines about a built network a user must see on the console.

    The realised mean degree when it differs from ``net.mean_degree`` by more than 5% (for
    kinds that use it), the number of isolated buyers when there are any, and how edge-list
    ids were mapped to buyer rows and what was dropped, when ids were not already 0..n-1.
    """
    notes = []
    observed = facts["mean_degree_observed"]
    asked = net.mean_degree
    if "mean_degree" in KINDS[net.kind].uses and abs(observed - asked) > 0.05 * asked:
        why = []
        if "edges_target" in facts:
            target = facts["edges_target"]
            why.append(f"{net.kind} makes {target:,} links ({facts['edges_rule']}), "
                       f"a mean degree of {2 * target / n:.4g}")
        if facts.get("duplicates_dropped"):
            why.append(f"{facts['duplicates_dropped']:,} links drawn at random repeated "
                       "another link and were dropped")
        notes.append(f"network.mean_degree: the graph has a mean degree of {observed:.4g}, not "
                     f"the {asked:g} asked for: " + "; ".join(why))
    isolated = facts.get("isolated_nodes", 0)
    if isolated:
        notes.append(f"network: {isolated:,} of {n:,} buyers have no neighbours (isolated); "
                     "they hear only from influencers and sellers")
    if facts.get("ids") == "names":
        notes.append(
            f"network.path: the ids in {facts['path']} are names ({facts['first_non_integer']!r} "
            "is not a non-negative integer below 2**63): buyer rows follow their order of first "
            f"appearance ({facts['first_name']!r} is row 0)"
        )
    elif facts.get("ids_renumbered"):
        notes.append(
            f"network.path: the integer ids in {facts['path']} do not include every id from 0 to "
            f"{n - 1:,} (n_buyers - 1; {facts['first_gap']:,} is missing): buyer rows follow the "
            "ascending order of the ids"
        )
    if facts.get("ids_beyond_n_buyers_dropped"):
        notes.append(
            f"network.path: {facts['path']} has {facts['file_ids']:,} distinct ids; only the "
            f"first {n:,} (n_buyers) are used: {_count(facts['ids_beyond_n_buyers_dropped'], 'id')}"
            f" and {_count(facts['edges_beyond_n_buyers_dropped'], 'edge')} touching them were "
            "dropped"
        )
    return notes


# --------------------------------------------------------------------------- influencers


def _by_degree(graph: Graph, count: int, rng: np.random.Generator) -> np.ndarray:
    """The ``count`` buyers of highest degree; equal degrees at the cut are chosen at random.

    Equals are ordered by one uniform per buyer drawn from ``rng``.
    """
    return rules.top_k(graph.degree(), rng.random(graph.n_nodes), count)


def _at_random(graph: Graph, count: int, rng: np.random.Generator) -> np.ndarray:
    """A uniform sample of ``count`` buyers without replacement."""
    return rng.choice(graph.n_nodes, size=count, replace=False)


SELECTIONS: dict[str, Callable[[Graph, int, np.random.Generator], np.ndarray]] = {
    "degree": _by_degree,
    "random": _at_random,
}
"""How influencers are chosen (``network.influencer_selection``): name -> fn(graph, count, rng)."""


def choose_influencers(
    graph: Graph, share: float, how: str, rng: np.random.Generator
) -> np.ndarray:
    """Rows of the influencers, sorted ascending (int64).

    ``round(share * n)`` buyers are chosen by ``SELECTIONS[how]`` (``share`` and ``how`` are
    validated with the config as ``network.influencer_share`` and
    ``network.influencer_selection``).
    """
    count = round(float(share) * graph.n_nodes)
    if count == 0:
        return np.empty(0, dtype=np.int64)
    chosen = SELECTIONS[how](graph, count, rng)
    return np.sort(chosen).astype(np.int64, copy=False)


def follower_edges(
    n: int, influencers: np.ndarray, followers_per_influencer: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Directed follower edges (influencer -> follower) as int32 ``(src, dst)``.

    Every influencer gets exactly ``min(followers_per_influencer, n - 1)`` distinct followers,
    a uniform sample of the other buyers (``network.followers_per_influencer`` is validated
    with the config). Edges are sorted by src, then dst.
    """
    inf = np.asarray(influencers, dtype=np.int64).ravel()
    if inf.size and (inf.min() < 0 or inf.max() >= n):
        raise NetworkError(f"follower_edges: influencer ids must lie in [0, {n})")
    inf = np.sort(inf)
    if inf.size > 1 and np.any(inf[1:] == inf[:-1]):
        raise NetworkError("follower_edges: influencer ids must be distinct")
    k = min(int(followers_per_influencer), n - 1)
    if k == 0 or inf.size == 0:
        empty = np.empty(0, dtype=np.int32)
        return empty, empty.copy()

    others = n - 1  # followers are drawn from 0..n-2, then shifted past the influencer itself
    if k == others:
        picks = np.tile(np.arange(others, dtype=np.int64), (inf.size, 1))
    elif 4 * k >= others:
        # Dense: the k smallest of iid random keys form a uniform k-subset.
        keys = rng.random((inf.size, others), dtype=np.float32)
        picks = np.argpartition(keys, k - 1, axis=1)[:, :k].astype(np.int64)
    else:
        picks = _first_distinct(rng, inf.size, k, others)
    picks.sort(axis=1)
    picks += picks >= inf[:, None]
    src = np.repeat(inf, k).astype(np.int32)
    return src, picks.ravel().astype(np.int32)


def _first_distinct(rng: np.random.Generator, rows: int, k: int, others: int) -> np.ndarray:
    """A (rows, k) array; each row is k distinct uniform draws from [0, others).

    Draws with replacement (with a margin for repeats) and keeps the first k distinct values
    of each row in draw order; the rare row left short is redrawn without replacement.
    """
    width = k + math.ceil(2 * k * k / others) + 8
    draws = rng.integers(0, others, size=(rows, width), dtype=np.int32)
    order = np.argsort(draws, axis=1, kind="stable")
    ordered = np.take_along_axis(draws, order, axis=1)
    first_sorted = np.ones(ordered.shape, dtype=bool)
    np.not_equal(ordered[:, 1:], ordered[:, :-1], out=first_sorted[:, 1:])
    first = np.empty_like(first_sorted)
    np.put_along_axis(first, order, first_sorted, axis=1)
    keep = first & (np.cumsum(first, axis=1, dtype=np.int32) <= k)
    got = keep.sum(axis=1)
    out = np.empty((rows, k), dtype=np.int64)
    full = got == k
    out[full] = draws[full][keep[full]].reshape(-1, k)
    for r in np.flatnonzero(~full):
        out[r] = rng.choice(others, size=k, replace=False)
    return out
