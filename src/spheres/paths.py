"""Where things live: the Hydra config tree, and the names and writing of output files."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SUMMARY = "summary.json"  # a run's summary; written last: its presence means the run is complete
ERROR = "error.json"  # a failed run's error, written instead of the summary
DATABASE = "sweep.duckdb"  # a collected sweep's store


def config_dir() -> Path:
    """The Hydra config tree: the copy shipped in the package, else the source checkout's."""
    here = Path(__file__).resolve().parent
    packaged = here / "configs"
    if packaged.is_dir():
        return packaged
    return here.parents[1] / "configs"


@contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` if the block succeeds."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
