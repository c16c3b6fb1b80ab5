"""A collected sweep's store (``sweep.duckdb``), opened read-only and queried in one place.

A *scenario* is one combination of the swept settings other than the seed (the keys of the
store's ``swept`` table); the runs of a scenario differ only by their seed. :class:`Store` opens
a store, names the scenarios of its complete runs and runs queries on it, for the studies, the
what-if report and the notebooks alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb
import numpy as np
import pandas as pd

SEED = "seed"  # the runs column of each run's seed
# The config group whose choice names a study (``experiment=q1_decline``): a column of runs.
EXPERIMENT = "experiment"
ALL_RUNS = "all runs"  # the one scenario of a store that swept nothing but the seed


def value_text(value: Any) -> str:
    """A swept value as a scenario names it: floats in short form, a missing value as ``–``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    return str(value)


def scenario_name(values: dict[str, Any], keys: Sequence[str]) -> str:
    """Name a scenario by its swept values, in key order: ``sellers=all_listen, market.ad_rate=0.05``.

    ``values`` maps each key to its value (a run's row).
    """
    return ", ".join(f"{k}={value_text(values[k])}" for k in keys)


def scenario_names(runs: pd.DataFrame, keys: Sequence[str]) -> list[str] | str:
    """Name the scenario of each row of ``runs`` by its ``keys`` columns (one name without keys)."""
    if not keys:
        return ALL_RUNS
    return [scenario_name(r, keys) for r in runs[list(keys)].to_dict("records")]


class Store:
    """A sweep store opened read-only: its swept keys, complete runs and their scenarios.

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: Path | str) -> None:
        """Open the store at ``path`` (a ``sweep.duckdb`` file) read-only."""
        self.path = Path(path)
        self.con = duckdb.connect(str(self.path), read_only=True)
        try:
            self.keys: list[str] = [k for k in self.df("SELECT key FROM swept")["key"]
                                    if k != SEED]
        except Exception:
            self.con.close()
            raise

    def __enter__(self) -> Self:
        """Return the open store."""
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        """Close the connection."""
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def df(self, sql: str) -> pd.DataFrame:
        """Run a query and return its result as a frame."""
        return self.con.execute(sql).df()

    def tables(self) -> set[str]:
        """Return the names of the store's tables."""
        return {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}

    def experiment(self) -> str | None:
        """Return the experiment every run names, or None (none named, or several)."""
        columns = {r[0] for r in self.con.execute("DESCRIBE runs").fetchall()}
        if EXPERIMENT not in columns:
            return None
        names = [r[0] for r in self.con.execute(
            f"SELECT DISTINCT {EXPERIMENT} FROM runs").fetchall()]
        return names[0] if len(names) == 1 else None

    @cached_property
    def runs(self) -> pd.DataFrame:
        """The complete runs in job order, with a ``scenario`` column."""
        runs = self.df("SELECT * FROM runs WHERE status = 'ok' ORDER BY job")
        runs["scenario"] = scenario_names(runs, self.keys)
        return runs

    @cached_property
    def scenarios(self) -> list[str]:
        """The scenarios of the complete runs, in the order of their first run."""
        return list(dict.fromkeys(self.runs["scenario"]))

    def per_run(self, sql: str) -> pd.DataFrame:
        """Run a query with a ``job`` column and :meth:`tag` its result."""
        return self.tag(self.df(sql))

    def tag(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Limit ``frame`` (with a ``job`` column) to complete runs, adding scenario, keys, seed."""
        cols = ["job", "scenario", SEED, *self.keys]
        return frame.merge(self.runs[cols], on="job", how="inner")

    def lowest_seed_agents(self, columns: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return each scenario's run with the lowest seed, and those runs' ``agents`` rows.

        The rows hold ``job`` and ``columns`` (an SQL column list).
        """
        first = (self.runs.sort_values([SEED, "job"], kind="stable").drop_duplicates("scenario")
                 .set_index("scenario").loc[self.scenarios].reset_index())
        jobs = ", ".join(str(int(j)) for j in first["job"]) or "NULL"
        return first, self.df(f"SELECT job, {columns} FROM agents WHERE job IN ({jobs})")

    def scenario(self, **values: Any) -> str:
        """Name the scenario with these swept values (keys as in ``runs``)."""
        return scenario_name(values, self.keys)

    def sizes(self) -> dict[str, Any]:
        """Count the complete runs, scenarios and seeds per scenario; list buyers and steps."""
        per_scenario = self.runs.groupby("scenario")["job"].count()
        return {"runs": len(self.runs), "scenarios": len(self.scenarios),
                "seeds": sorted(int(s) for s in self.runs[SEED].unique()),
                "seeds_per_scenario": int(per_scenario.min()) if len(per_scenario) else 0,
                "buyers": sorted(int(b) for b in self.runs["n_buyers"].unique()),
                "steps": sorted(int(s) for s in self.runs["steps"].unique())}
