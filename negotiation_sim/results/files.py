"""Writing results files and directories so that nothing is ever half-written, mixed or lost.

Files: every file is written to a hidden temporary file beside its target and renamed into place,
so a file exists whole or not at all; on any exception the temporary file is removed.
``RunWriter`` streams per-world rows to ``runs.parquet`` the same way.

Directories: ``check_out`` decides whether a run or a sweep may write into a directory, by what
the directory holds (``inspect_out``):

* nothing (or it does not exist): yes;
* the engine's own results, recognised by their ``manifest.json`` (which says ``kind``): a run
  is refused beside a run's results unless ``overwrite`` replaces them whole, and a run is never
  written into a sweep's directory nor a sweep into a run's; sweeps add ``resume``
  (``results.sweep``);
* anything else (files the engine did not write): refused, and nothing there is touched.
  Overwriting is refused too when the engine's directory holds files it did not write: the
  engine deletes only what it wrote.

A run is built in a staging directory beside its target (``staging_dir``: hidden, named after
the target and this process) and renamed into place when complete (``publish``), so a failed or
interrupted run leaves the old results as they were. A staging directory left by a process that
was killed (``kill -9``: nothing can be cleaned then) is removed by the next run into the same
target (``clean_stale``), once its process is gone.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import ChunkResult
from negotiation_sim.results.schema import (
    COMPARISON_FIGURE,
    COMPARISON_FILE,
    MANIFEST_FILE,
    POINTS_FILE,
    REPORT_FILE,
    RUNS_DIR,
    RUNS_FILE,
    SCENARIO_FILE,
    SENSITIVITY_FILE,
    SENSITIVITY_TABLE_FILE,
    SUMMARY_FILE,
    SWEEP_SUMMARY_FILE,
    TRACE_FILE,
    Figure,
)
from negotiation_sim.results.tables import chunk_table

RUN, SWEEP = "run", "sweep"
FIGURE_FORMATS = ("png", "svg", "pdf")


class OutDirError(Exception):
    """A results directory that cannot be used as asked; the message says why and what to do."""


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A hidden temporary file beside ``path`` to write to: renamed into place (mode 644) when
    the block completes, removed on any exception (a full disk, an interrupt), so ``path`` is
    written whole or not at all. Its directory must exist."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(data, fh, indent=2, allow_nan=False)
        fh.write("\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write text to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


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
        try:
            if self._writer is None:
                self._writer = pq.ParquetWriter(self._tmp, table.schema, compression="zstd")
            self._writer.write_table(table)
        except BaseException:
            self.abort()
            raise

    def close(self) -> Path:
        target = self.out_dir / RUNS_FILE
        if self._writer is not None:
            try:
                self._writer.close()
                os.replace(self._tmp, target)
            except BaseException:
                self.abort()
                raise
            self._writer = None
        return target

    def abort(self) -> None:
        """Drop the rows written so far (an exception, an interrupt): no temporary file stays."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self._tmp.unlink(missing_ok=True)


def write_parquet_atomic(table, path: Path) -> None:
    """Write a table to a temporary file beside ``path``, then rename it into place."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def copy_atomic(source: Path, path: Path) -> None:
    """Copy a file to a temporary file beside ``path``, then rename it into place."""
    import shutil

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        shutil.copyfile(source, tmp)


# -- results directories --------------------------------------------------------------------------


@functools.cache
def figure_names() -> frozenset[str]:
    """Every figure file the engine may write into a results directory."""
    kinds = [*(k.value for k in Figure), COMPARISON_FIGURE]
    return frozenset(f"{k}.{fmt}" for k in kinds for fmt in FIGURE_FORMATS)


OWN_FILES = {  # what the engine writes into a directory of each kind, figures aside
    RUN: {RUNS_FILE, SUMMARY_FILE, MANIFEST_FILE, SCENARIO_FILE, REPORT_FILE, COMPARISON_FILE},
    SWEEP: {POINTS_FILE, RUNS_DIR, SWEEP_SUMMARY_FILE, MANIFEST_FILE, SCENARIO_FILE,
            SENSITIVITY_FILE, SENSITIVITY_TABLE_FILE, REPORT_FILE, COMPARISON_FILE, TRACE_FILE},
}
PART = re.compile(r"part-\d{6}-\d{5}\.parquet")
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[^.]+\.tmp")  # write_*_atomic's .NAME.XXXXXXXX.tmp


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The engine's manifest of ``directory``, or None when it has none (or not the engine's)."""
    try:
        data = json.loads((directory / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("versions"), dict) \
            or "scenario_hash" not in data:
        return None
    return data


def manifest_kind(manifest: dict[str, Any]) -> str:
    """``run`` or ``sweep``: what a manifest describes (manifests before ``kind`` say it by
    their fields)."""
    kind = manifest.get("kind")
    if kind in (RUN, SWEEP):
        return kind
    return SWEEP if "design" in manifest or "experiment" in manifest else RUN


@dataclass
class OutDir:
    """What a results directory holds (``inspect_out``).

    Attributes:
        path: the directory.
        exists: whether it exists (as a directory).
        kind: ``run`` or ``sweep`` when it holds the engine's results (its manifest says), else
            None.
        manifest: that manifest.
        foreign: entries the engine did not write (names relative to ``path``), sorted.
    """

    path: Path
    exists: bool = False
    kind: str | None = None
    manifest: dict[str, Any] | None = None
    foreign: list[str] = field(default_factory=list)
    entries: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.entries


def inspect_out(path: str | Path) -> OutDir:
    """What ``path`` holds, for ``check_out``.

    Raises:
        OutDirError: ``path`` exists and is not a directory.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutDirError(f"--out must be a directory: {path} is a file")
    if not path.exists():
        return OutDir(path)
    entries = sorted(p.name for p in path.iterdir())
    manifest = read_manifest(path)
    kind = None if manifest is None else manifest_kind(manifest)
    own = OWN_FILES.get(kind, set()) | figure_names() | set((manifest or {}).get("figures", []))
    foreign = [] if kind is None else [e for e in entries if e not in own and not _ours_tmp(e)]
    if kind == SWEEP and (path / RUNS_DIR).is_dir():
        foreign += [f"{RUNS_DIR}/{p.name}" for p in sorted((path / RUNS_DIR).iterdir())
                    if not (PART.fullmatch(p.name) or _ours_tmp(p.name)) or not p.is_file()]
    if kind is None:
        foreign = list(entries)
    return OutDir(path, True, kind, manifest, foreign, entries)


def _ours_tmp(name: str) -> bool:
    """A temporary file of ``write_*_atomic`` (``.NAME.XXXXXXXX.tmp``, NAME one of the engine's
    files) or ``RunWriter`` (``.runs.parquet.tmp``)."""
    if name == f".{RUNS_FILE}.tmp":
        return True
    m = _TEMPORARY.fullmatch(name)
    if m is None:
        return False
    own = m["name"]
    return (own in OWN_FILES[RUN] or own in OWN_FILES[SWEEP] or own in figure_names()
            or bool(PART.fullmatch(own)))


def _what(kind: str) -> str:
    return "a run's" if kind == RUN else "a sweep's"


def check_out(path: str | Path, kind: str, *, overwrite: bool = False,
              resume: bool = False) -> OutDir:
    """Whether a ``kind`` of results may be written to ``path``; what it holds if so.

    Args:
        path: the results directory asked for.
        kind: ``run`` or ``sweep``.
        overwrite: replace the engine's results of that kind there, whole.
        resume: (sweeps) finish the sweep there; ``results.sweep`` checks it is the same one.

    Raises:
        OutDirError: the directory is a file, holds files the engine did not write, holds the
            other kind of results, or holds results of this kind and neither ``overwrite`` nor
            ``resume`` was asked for.
    """
    state = inspect_out(path)
    path = state.path
    if not state.exists or state.empty:
        return state
    if state.kind is None:
        raise OutDirError(
            f"{path} holds files negsim did not write ({_some(state.foreign)}): choose another "
            "--out (negsim writes only into an empty directory or its own results, and never "
            "deletes what it did not write)")
    if state.kind != kind:
        raise OutDirError(
            f"{path} holds {_what(state.kind)} results: {_what(kind)[:-2]} is never written "
            f"into {_what(state.kind)[:-2]}'s directory; choose another --out")
    if resume:
        return state
    if not overwrite:
        more = " or --resume to finish it," if kind == SWEEP else ""
        raise OutDirError(
            f"{path} already holds {_what(kind)} results: add --overwrite to replace them,"
            f"{more} or choose another --out")
    if state.foreign:
        raise OutDirError(
            f"{path} holds {_what(kind)} results and files negsim did not write "
            f"({_some(state.foreign)}): --overwrite replaces a results directory whole and "
            "never deletes what negsim did not write; move those files out or choose another "
            "--out")
    return state


def _some(names: list[str], n: int = 3) -> str:
    shown = ", ".join(names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


# -- staging: build a directory beside its target, rename it into place -------------------------

_STAGING = ".negsim-"


def _staging_prefix(target: Path) -> str:
    return f".{target.name}{_STAGING}{os.getpid()}-"


def staging_dir(target: str | Path) -> Path:
    """A new, hidden, empty directory beside ``target`` (same file system, so ``publish`` is a
    rename), named after the target and this process; stale ones of dead processes are removed
    first (``clean_stale``)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    return Path(tempfile.mkdtemp(prefix=_staging_prefix(target), suffix=".tmp",
                                 dir=target.parent))


def clean_stale(target: str | Path) -> list[Path]:
    """Remove the staging (and set-aside) directories of ``target`` whose process is gone
    (killed with ``kill -9`` mid-run); returns what was removed."""
    target = Path(target)
    pattern = re.compile(re.escape(f".{target.name}{_STAGING}") + r"(?P<pid>\d+)-[^/]*\.(tmp|old)")
    removed = []
    if not target.parent.is_dir():
        return removed
    for entry in target.parent.iterdir():
        m = pattern.fullmatch(entry.name)
        if m and entry.is_dir() and not _alive(int(m["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this process left it behind in an earlier, failed attempt
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def set_aside(target: Path) -> Path:
    """Rename an existing directory out of the way (hidden, beside it, removed afterwards)."""
    aside = Path(tempfile.mkdtemp(prefix=_staging_prefix(target), suffix=".old",
                                  dir=target.parent))
    os.replace(target, aside)  # an empty directory is replaced by a rename
    return aside


def publish(staging: Path, target: Path) -> None:
    """Rename a complete staging directory into place; an existing ``target`` (already checked
    by ``check_out``: empty, or the engine's results to overwrite) is replaced whole."""
    aside = None
    if target.exists() and any(target.iterdir()):
        aside = set_aside(target)
    try:
        os.replace(staging, target)
    except BaseException:
        if aside is not None:
            os.replace(aside, target)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def staged(target: str | Path) -> Iterator[Path]:
    """Build a results directory in a staging directory, renamed to ``target`` on success and
    removed on any exception (an interrupt, a full disk): ``with staged(out) as tmp: ...``."""
    target = Path(target)
    staging = staging_dir(target)
    try:
        yield staging
        publish(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def remove_results(state: OutDir) -> None:
    """Remove the engine's results directory ``state`` describes (``check_out`` allowed it:
    nothing foreign in it), first renaming it out of the way so it is never left half-deleted."""
    if state.exists and not state.empty:
        shutil.rmtree(set_aside(state.path), ignore_errors=True)


def clean_temporary(directory: Path) -> None:
    """Remove the engine's own temporary files in ``directory`` (and its ``runs/``): what a
    write interrupted by a kill leaves behind."""
    for where in (directory, directory / RUNS_DIR):
        if where.is_dir():
            for entry in where.iterdir():
                if entry.is_file() and _ours_tmp(entry.name):
                    entry.unlink(missing_ok=True)
