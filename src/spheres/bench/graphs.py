"""Benchmark the buyer graph: building each network kind and loading an edge-list file.

``spheres bench --graphs N`` prints :func:`graph_table`; :func:`model_graph` is the graph a model
builds, on which the engine benchmark's numpy baseline runs.
"""

from __future__ import annotations

import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from spheres.config import NetworkConfig, SpheresConfig
from spheres.model.network import Graph, build_network


def model_graph(cfg: SpheresConfig) -> Graph:
    """The buyer graph a ``MarketModel`` of ``cfg`` builds (from the model's first draws)."""
    return build_network(cfg.network, cfg.n_buyers, np.random.default_rng(cfg.seed))[0]


def graph_table(n: int, seed: int) -> str:
    """Time building every generated network kind and loading an edge list; a Markdown table.

    Each kind has ``n`` nodes (mean degree 10), its nodes renamed at random as a model's are;
    the edge-list file has ``10 n`` lines.
    """
    lines = ["| network | nodes | edges | seconds |", "|---|---:|---:|---:|"]
    for kind in ("erdos_renyi", "watts_strogatz", "barabasi_albert", "sbm"):
        t = time.perf_counter()
        graph, _ = build_network(NetworkConfig(kind=kind, mean_degree=10.0), n,
                                 np.random.default_rng(seed))
        lines.append(f"| {kind} | {n:,} | {graph.n_edges:,} | {time.perf_counter() - t:.2f} |")
    rng = np.random.default_rng(seed)
    m = 10 * n
    edges = pa.table({"a": rng.integers(0, n, m), "b": rng.integers(0, n, m)})
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/edges.csv"
        pacsv.write_csv(edges, path, pacsv.WriteOptions(include_header=False))
        t = time.perf_counter()
        graph, _ = build_network(NetworkConfig(kind="edgelist", path=path), n,
                                 np.random.default_rng(seed))
        lines.append(f"| edge-list file, {m:,} lines | {n:,} | {graph.n_edges:,} "
                     f"| {time.perf_counter() - t:.2f} |")
    return "\n".join(lines)
