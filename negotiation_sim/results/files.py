"""Writing results files atomically: a file exists whole or not at all.

Every file is written to a hidden temporary file beside its target and renamed into place;
``RunWriter`` streams per-world rows to ``runs.parquet`` the same way.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import ChunkResult
from negotiation_sim.results.schema import RUNS_FILE
from negotiation_sim.results.tables import chunk_table


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, allow_nan=False)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


class RunWriter:
    """Streams per-world rows to ``DIR/runs.parquet`` (renamed into place on ``close``)."""

    # the hidden file rows stream into; renamed to RUNS_FILE when complete

    def __init__(self, out_dir: Path, scenario: Scenario) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.scenario = scenario
        self._tmp = self.out_dir / f".{RUNS_FILE}.tmp"
        self._writer = None

    def add(self, chunk: ChunkResult) -> None:
        import pyarrow.parquet as pq

        table = chunk_table(chunk, self.scenario)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema, compression="zstd")
        self._writer.write_table(table)

    def close(self) -> Path:
        target = self.out_dir / RUNS_FILE
        if self._writer is not None:
            self._writer.close()
            os.replace(self._tmp, target)
        return target


def write_parquet_atomic(table, path: Path) -> None:
    """Write a table to a temporary file beside ``path``, then rename it into place."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_atomic(source: Path, path: Path) -> None:
    """Copy a file to a temporary file beside ``path``, then rename it into place."""
    import shutil

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
