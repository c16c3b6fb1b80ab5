"""A collected sweep's store (``sweep.duckdb``): the names of its columns."""

from __future__ import annotations

SEED = "seed"  # the runs column of each run's seed
# The config group whose choice names a study (``experiment=q1_decline``): a column of runs.
EXPERIMENT = "experiment"
