"""Many simulations: running a sweep through Hydra's launchers, its progress, and collecting it.

``job`` runs one job of a sweep (skip, run, or record a failure), ``progress`` follows the sweep
from the ``spheres`` process and decides its exit code, ``collect`` turns a sweep directory into
``sweep.duckdb`` and Parquet tables, ``cli`` and ``bench`` are the ``spheres collect`` and
``spheres bench-sweep`` commands.
"""

from spheres.sweeps.collect import CollectError, collect

__all__ = ["CollectError", "collect"]
