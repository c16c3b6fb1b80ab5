"""Many simulations: running a sweep through Hydra's launchers, its progress, and collecting it.

``job`` runs one job of a sweep (skip, run, or record a failure), ``progress`` follows the sweep
from the ``spheres`` process and decides its exit code, ``collect`` turns a sweep directory into
``sweep.duckdb`` and Parquet tables, ``cli`` is the ``spheres collect`` command (the sweep
benchmark is ``spheres.bench.sweeps``). The default sweeper of ``spheres run -m``, which composes a
sweep's config once per group choice, is the Hydra plugin ``hydra_plugins.spheres_sweeper``.
"""

from spheres.sweeps.collect import CollectError, collect

__all__ = ["CollectError", "collect"]
