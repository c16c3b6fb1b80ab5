"""Many simulations: a sweep through Hydra's launchers, its jobs, its progress, its store.

- ``progress``: launching a sweep from the ``spheres`` process (``run_sweep``), its progress
  across all runs and, at the end, its collection and the list of failed runs.
- ``job``: one job of a sweep (skip a run already done, else run it; record a failure).
- ``collect``: a sweep directory into ``sweep.duckdb`` and Parquet tables (``spheres collect``).
- ``grid``: the jobs of a grid sweep and their configs, as Hydra's basic sweeper makes them:
  the parts the default sweeper (``hydra_plugins.spheres_sweeper``) shares.
- ``sensitivity``: Sobol designs and indices, shared with ``hydra_plugins.spheres_sobol_sweeper``.

This package's ``__init__`` imports nothing, so that its modules can import each other.
"""
