"""Many simulations: running a sweep through Hydra's launchers, its progress, and collecting it.

``collect`` turns a sweep directory into ``sweep.duckdb`` and Parquet tables.
"""

from spheres.sweeps.collect import CollectError, collect

__all__ = ["CollectError", "collect"]
