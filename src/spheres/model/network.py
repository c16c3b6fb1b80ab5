"""Buyer social networks: build, load and store undirected graphs in CSR form.

A network is built by name from a registry of kinds (``complete``, ``erdos_renyi``,
``watts_strogatz``, ``barabasi_albert``, ``sbm``, ``edgelist``), reproducibly from an integer
seed, and returned as a :class:`Graph` (compressed sparse rows with sorted neighbour lists)
together with a dict of facts worth logging (dropped self-loops and duplicates, isolated
nodes, ...). Generation is vectorised (numpy) or compiled (rustworkx), so graphs with a
million nodes take seconds.

A new kind is one function registered by name::

    @register("ring")
    def _ring(params: NetworkParams) -> tuple[Graph, dict]:
        src = np.arange(params.n)
        return edges_to_csr(params.n, src, (src + 1) % params.n)

The module also picks influencers among the buyers and draws their follower edges.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rustworkx as rx
from scipy import sparse

__all__ = [
    "KINDS",
    "Graph",
    "NetworkError",
    "NetworkParams",
    "block_of",
    "build_network",
    "choose_influencers",
    "edges_to_csr",
    "follower_edges",
    "load_edge_list",
    "register",
]

MAX_NODES = 2**31 - 1  # neighbour ids are stored as int32
MAX_COMPLETE_NODES = 20_000


class NetworkError(ValueError):
    """Bad network input; the message names the setting/file and what is allowed."""


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


@dataclass(frozen=True)
class NetworkParams:
    """The settings a network builder receives (already checked by :func:`build_network`)."""

    n: int
    seed: int
    mean_degree: float = 10.0
    rewire: float = 0.1
    blocks: int = 4
    mixing: float = 0.05
    path: str | None = None


Builder = Callable[[NetworkParams], tuple[Graph, dict]]

KINDS: dict[str, Builder] = {}


def register(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering a builder ``fn(params) -> (Graph, facts)`` under ``name``."""

    def decorate(fn: Builder) -> Builder:
        if name in KINDS:
            raise ValueError(f"network kind {name!r} is already registered")
        KINDS[name] = fn
        return fn

    return decorate


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


def build_network(
    kind: str,
    n: int,
    seed: int,
    *,
    mean_degree: float = 10.0,
    rewire: float = 0.1,
    blocks: int = 4,
    mixing: float = 0.05,
    path: str | None = None,
) -> tuple[Graph, dict]:
    """Build the buyer graph; returns the graph and a dict of facts for the log.

    The facts always include ``kind``, ``n_nodes``, ``n_edges``, ``mean_degree_observed``,
    ``isolated_nodes``, ``self_loops_dropped`` and ``duplicates_dropped``, plus facts
    particular to the kind. Settings that a kind does not use are range-checked but
    otherwise ignored; checks against ``n`` (``mean_degree < n``, ``blocks <= n``) apply
    only to the kinds that use the setting.
    """
    if kind not in KINDS:
        known = ", ".join(sorted(KINDS))
        raise NetworkError(f"network.kind: unknown kind {kind!r}; known kinds are: {known}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= MAX_NODES:
        raise NetworkError(f"n_buyers must be an integer from 2 to {MAX_NODES}; got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise NetworkError(f"seed must be a non-negative integer below 2**64; got {seed!r}")
    if not _is_real(mean_degree) or not mean_degree > 0:
        raise NetworkError(f"network.mean_degree must be > 0; got {mean_degree!r}")
    if not _is_real(rewire) or not 0 <= rewire <= 1:
        raise NetworkError(f"network.rewire must be in [0, 1]; got {rewire!r}")
    if not _is_real(mixing) or not 0 <= mixing <= 1:
        raise NetworkError(f"network.mixing must be in [0, 1]; got {mixing!r}")
    if isinstance(blocks, bool) or not isinstance(blocks, (int, np.integer)) or blocks < 1:
        raise NetworkError(f"network.blocks must be an integer >= 1; got {blocks!r}")

    params = NetworkParams(
        n=int(n),
        seed=int(seed),
        mean_degree=float(mean_degree),
        rewire=float(rewire),
        blocks=int(blocks),
        mixing=float(mixing),
        path=path,
    )
    graph, kind_facts = KINDS[kind](params)
    deg = graph.degree()
    facts: dict = {
        "kind": kind,
        "n_nodes": graph.n_nodes,
        "n_edges": graph.n_edges,
        "mean_degree_observed": 2.0 * graph.n_edges / graph.n_nodes,
        "isolated_nodes": int(np.count_nonzero(deg == 0)),
        "self_loops_dropped": 0,
        "duplicates_dropped": 0,
    }
    facts.update(kind_facts)
    return graph, facts


def _is_real(x: object) -> bool:
    return (
        isinstance(x, (int, float, np.integer, np.floating))
        and not isinstance(x, bool)
        and math.isfinite(x)
    )


def _check_mean_degree(p: NetworkParams) -> None:
    if not p.mean_degree < p.n:
        raise NetworkError(
            f"network.mean_degree must be > 0 and < n_buyers ({p.n}); got {p.mean_degree}"
        )


def _rx_edges(graph: rx.PyGraph) -> tuple[np.ndarray, np.ndarray]:
    edges = np.asarray(graph.edge_list())
    if edges.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    return edges[:, 0], edges[:, 1]


@register("complete")
def _complete(p: NetworkParams) -> tuple[Graph, dict]:
    """Every pair of buyers connected."""
    n = p.n
    if n > MAX_COMPLETE_NODES:
        raise NetworkError(
            f"network.kind 'complete' is only for small graphs: n_buyers must be at most "
            f"{MAX_COMPLETE_NODES} (it has n*(n-1)/2 edges); got {n}"
        )
    cols = np.arange(n - 1, dtype=np.int32)[None, :]
    rows = np.arange(n, dtype=np.int32)[:, None]
    indices = (cols + (cols >= rows)).ravel()
    indptr = np.arange(n + 1, dtype=np.int64) * (n - 1)
    return Graph(indptr, indices), {}


@register("erdos_renyi")
def _erdos_renyi(p: NetworkParams) -> tuple[Graph, dict]:
    """G(n, m) with m = round(n * mean_degree / 2) edges (capped at n(n-1)/2)."""
    _check_mean_degree(p)
    m = min(round(p.n * p.mean_degree / 2), p.n * (p.n - 1) // 2)
    g = rx.undirected_gnm_random_graph(p.n, m, seed=p.seed)
    graph, facts = edges_to_csr(p.n, *_rx_edges(g))
    facts["edges_requested"] = m
    return graph, facts


@register("watts_strogatz")
def _watts_strogatz(p: NetworkParams) -> tuple[Graph, dict]:
    """Ring lattice of even degree k = round(mean_degree), far ends rewired with prob. rewire.

    k is lowered to an even number (at least 2, at most n-1 where possible). A rewired edge
    gets a uniform random far end other than its near end; edges that become duplicates are
    dropped, so the mean degree can come out slightly below k.
    """
    _check_mean_degree(p)
    n = p.n
    k = round(p.mean_degree)
    k = min(k, n - 1)
    k -= k % 2
    k = max(k, 2)
    half = k // 2
    rng = np.random.default_rng(p.seed)
    src = np.repeat(np.arange(n, dtype=np.int64), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewired = rng.random(src.size) < p.rewire
    n_rewired = int(np.count_nonzero(rewired))
    if n_rewired:
        near = src[rewired]
        far = rng.integers(0, n - 1, size=n_rewired, dtype=np.int64)
        far += far >= near
        dst[rewired] = far
    graph, facts = edges_to_csr(n, src, dst)
    facts.update({"k": k, "rewired_edges": n_rewired})
    return graph, facts


@register("barabasi_albert")
def _barabasi_albert(p: NetworkParams) -> tuple[Graph, dict]:
    """Preferential attachment: each new node links to m = max(1, round(mean_degree/2)) nodes."""
    _check_mean_degree(p)
    m = max(1, round(p.mean_degree / 2))
    # rustworkx needs a seed graph for m = 1 (its default start panics): start from one edge.
    start = None
    if m == 1:
        start = rx.PyGraph()
        start.add_nodes_from(range(2))
        start.add_edge(0, 1, None)
    g = rx.barabasi_albert_graph(p.n, m, seed=p.seed, initial_graph=start)
    graph, facts = edges_to_csr(p.n, *_rx_edges(g))
    facts["m"] = m
    return graph, facts


def block_of(n: int, blocks: int) -> np.ndarray:
    """Block (community) of every node: node i is in block ``i * blocks // n`` (int64, (n,))."""
    if n < 1 or not 1 <= blocks <= n:
        raise NetworkError(f"network.blocks must be from 1 to n_buyers ({n}); got {blocks}")
    return np.arange(n, dtype=np.int64) * blocks // n


def _block_starts(n: int, blocks: int) -> np.ndarray:
    """First node of each block, plus n at the end (int64, (blocks+1,))."""
    return (np.arange(blocks + 1, dtype=np.int64) * n + blocks - 1) // blocks


@register("sbm")
def _sbm(p: NetworkParams) -> tuple[Graph, dict]:
    """Stochastic block model with ``blocks`` equal communities.

    n * mean_degree / 2 edges are drawn as uniform random pairs, a fraction ``mixing`` of
    them between different blocks and the rest within blocks (shared among blocks in
    proportion to their number of node pairs). Duplicate pairs are dropped.
    """
    _check_mean_degree(p)
    n, b = p.n, p.blocks
    if b > n:
        raise NetworkError(f"network.blocks must be from 1 to n_buyers ({n}); got {b}")
    rng = np.random.default_rng(p.seed)
    starts = _block_starts(n, b)
    sizes = np.diff(starts)
    total = round(n * p.mean_degree / 2)
    between = round(total * p.mixing) if b > 1 else 0
    pair_weights = (sizes * (sizes - 1) // 2).astype(np.float64)
    if pair_weights.sum() == 0:  # every block is a single node: no within-block pair exists
        between = total
    within = total - between

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
        }
    )
    return graph, facts


@register("edgelist")
def _edgelist(p: NetworkParams) -> tuple[Graph, dict]:
    """Read the graph from the edge-list file at ``path``."""
    if p.path is None or str(p.path) == "":
        raise NetworkError(
            "network.path must name an edge-list file when network.kind is 'edgelist'"
        )
    return load_edge_list(str(p.path), p.n)


# --------------------------------------------------------------------------- edge-list files

_SEPARATORS = re.compile(rb"[,\s]+")
_NON_NEGATIVE_INT = re.compile(rb"\+?[0-9]+")


def load_edge_list(path: str, n: int) -> tuple[Graph, dict]:
    """Load an undirected edge list from a text file as a graph on the first ``n`` nodes.

    Each line holds two non-negative integer node ids (0-based) separated by a comma and/or
    whitespace; blank lines, ``#`` comment lines and trailing ``# comments`` are ignored.
    Self-loops and duplicate edges are dropped and counted. The file must mention at least
    ``n`` nodes (max id + 1); when it has more, only edges among ids below ``n`` are kept.
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

    pairs = _parse_edge_bytes(data, path)
    src, dst = pairs[:, 0], pairs[:, 1]
    n_loops_all = int(np.count_nonzero(src == dst))
    if src.size - n_loops_all == 0:
        raise NetworkError(
            f"network.path: the edge list {path} has no edges "
            "(after dropping blank lines, comments and self-loops)"
        )
    file_nodes = int(max(src.max(), dst.max())) + 1
    if file_nodes < n:
        raise NetworkError(
            f"network.path: the edge list {path} has {file_nodes} nodes but n_buyers is {n}; "
            "lower n_buyers or use a bigger graph"
        )
    facts: dict = {"file_nodes": file_nodes, "file_edges": int(src.size)}
    if file_nodes > n:
        keep = (src < n) & (dst < n)
        facts["nodes_beyond_n_buyers_ignored"] = file_nodes - n
        facts["edges_beyond_n_buyers_dropped"] = int(src.size - np.count_nonzero(keep))
        src, dst = src[keep], dst[keep]
        if np.count_nonzero(src != dst) == 0:
            raise NetworkError(
                f"network.path: the edge list {path} has no edges among its first {n} nodes "
                f"(n_buyers); raise n_buyers or use a different graph"
            )
    graph, csr_facts = edges_to_csr(n, src, dst)
    facts.update(csr_facts)
    return graph, facts


def _parse_edge_bytes(data: bytes, path: str) -> np.ndarray:
    """Parse edge-list bytes into an (E, 2) int64 array, or raise naming the first bad line."""
    text = data.replace(b",", b" ") if b"," in data else data
    pairs = _parse_single_spaced(text)
    error = ""
    if pairs is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # loadtxt warns on input without data
                pairs = np.loadtxt(io.BytesIO(text), dtype=np.int64, comments="#", ndmin=2)
        except (ValueError, UnicodeDecodeError) as exc:
            error = str(exc)
    if pairs is not None:
        if pairs.size == 0:
            return np.empty((0, 2), dtype=np.int64)
        if pairs.shape[1] == 2 and pairs.min() >= 0:
            return pairs
    _raise_first_bad_line(data, path)
    raise NetworkError(f"network.path: cannot parse the edge list {path}: {error}")


def _parse_single_spaced(text: bytes) -> np.ndarray | None:
    """Fast path for files whose lines are exactly ``a b`` (or blank), via pyarrow's CSV reader.

    Returns None when pyarrow is missing or the text is anything else (comments, tabs,
    repeated spaces, a wrong number of fields, ...), leaving it to the general parser.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
    except ImportError:
        return None
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text),
            read_options=pa_csv.ReadOptions(column_names=["a", "b"]),
            parse_options=pa_csv.ParseOptions(delimiter=" ", quote_char=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={"a": pa.int64(), "b": pa.int64()},
                null_values=[],
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows == 0 or any(col.null_count for col in table.columns):
        return None
    pairs = np.empty((table.num_rows, 2), dtype=np.int64)
    for j, column in enumerate(table.columns):
        row = 0
        for chunk in column.chunks:  # read the int64 buffers directly (to_numpy imports pandas)
            size = len(chunk)
            values = chunk.buffers()[1]
            pairs[row : row + size, j] = np.frombuffer(
                values, dtype=np.int64, count=size, offset=chunk.offset * 8
            )
            row += size
    return pairs


def _raise_first_bad_line(data: bytes, path: str) -> None:
    """Raise a NetworkError naming the first line that is not two non-negative integers."""
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        body = raw.split(b"#", 1)[0]
        tokens = [t for t in _SEPARATORS.split(body) if t]
        if not tokens:
            continue
        if len(tokens) == 2 and all(
            _NON_NEGATIVE_INT.fullmatch(t) and int(t) < 2**63 for t in tokens
        ):
            continue
        shown = raw.rstrip(b"\r").decode("utf-8", errors="replace")
        if len(shown) > 80:
            shown = shown[:77] + "..."
        raise NetworkError(
            f"network.path: {path} line {lineno}: expected two non-negative integer node ids "
            f"separated by a comma or whitespace; got {shown!r}"
        )


# --------------------------------------------------------------------------- influencers


def choose_influencers(
    graph: Graph, share: float, how: str, rng: np.random.Generator
) -> np.ndarray:
    """Rows of the influencers, sorted ascending (int64).

    ``round(share * n)`` buyers are chosen: with ``how="degree"`` those of highest degree
    (ties go to the lower id), with ``how="random"`` a uniform sample without replacement.
    """
    if how not in ("degree", "random"):
        raise NetworkError(f"influencers.how must be 'degree' or 'random'; got {how!r}")
    if not _is_real(share) or not 0 <= share <= 1:
        raise NetworkError(f"influencers.share must be in [0, 1]; got {share!r}")
    n = graph.n_nodes
    count = round(float(share) * n)
    if count == 0:
        return np.empty(0, dtype=np.int64)
    if how == "degree":
        chosen = np.argsort(-graph.degree(), kind="stable")[:count]
    else:
        chosen = rng.choice(n, size=count, replace=False)
    return np.sort(chosen).astype(np.int64, copy=False)


def follower_edges(
    n: int, influencers: np.ndarray, followers_per_influencer: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Directed follower edges (influencer -> follower) as int32 ``(src, dst)``.

    Every influencer gets exactly ``min(followers_per_influencer, n - 1)`` distinct followers,
    a uniform sample of the other buyers. Edges are sorted by src, then dst.
    """
    if followers_per_influencer < 0:
        raise NetworkError(f"influencers.followers must be >= 0; got {followers_per_influencer}")
    inf = np.asarray(influencers, dtype=np.int64).ravel()
    if inf.size and (inf.min() < 0 or inf.max() >= n):
        raise NetworkError(f"follower_edges: influencer ids must lie in [0, {n})")
    inf = np.sort(inf)
    if inf.size > 1 and np.any(inf[1:] == inf[:-1]):
        raise NetworkError("follower_edges: influencer ids must be distinct")
    k = max(0, min(int(followers_per_influencer), n - 1))
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
