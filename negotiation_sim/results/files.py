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
  (``run.sweep``);
* anything else (files the engine did not write): refused, and nothing there is touched.
  Overwriting is refused too when the engine's directory holds files it did not write: the
  engine deletes only what it wrote.

A run is built in a staging directory beside its target (``staging_dir``: hidden, named after
the target and this process) and renamed into place when complete (``publish``), so a failed or
interrupted run leaves the old results as they were. A staging directory left by a process that
was killed (``kill -9``: nothing can be cleaned then) is removed by the next run into the same
target (``clean_stale``), once its process is gone.

Publishing never deletes what the engine did not write, even a file written into the target
while the run was going: the staging directory is renamed onto the target only when the target
is missing or empty (a rename cannot replace a directory that holds anything); otherwise the
old directory is renamed aside first, and what the engine did not write is moved from it into
the new one before the engine's old files are removed (``_keep_foreign``). One writer at a
time is ``results.lock``'s business.

Output paths are checked before any work (``check_out_path``): a name too long for the file
system (with room for the hidden names negsim puts beside it), a component that is a file or
cannot be searched, a parent that cannot be written, and a symbolic link as ``--out`` (a rename
would replace the link, not what it points to) are each one line. Directories and files are
created with the user's umask.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import stat
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
    written whole or not at all (an error of the operating system that names no file then names
    ``path``). Its directory must exist."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes it 0600
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if err.errno is not None and err.filename is None:  # a write's error names no file
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def umask() -> int:
    """This process's umask (the files and directories it makes honour it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    current = os.umask(0o022)  # elsewhere: read by setting it, at once put back
    os.umask(current)
    return current


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        json.dump(data, fh, indent=2, allow_nan=False)
        fh.write("\n")


@contextlib.contextmanager
def all_or_none() -> Iterator[list[Path]]:
    """Files a command writes together (each one whole, ``atomic_path``): the block appends
    each path once it is written, and on any exception (a full disk, an interrupt) every one is
    removed, so that no directory is left looking finished with part of its files."""
    written: list[Path] = []
    try:
        yield written
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                Path(path).unlink()
        raise


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


class RowsInMemory:
    """Keeps per-world rows as the Arrow table ``RunWriter`` would write, in memory (a run's
    ``keep_runs="memory"``: small runs read at once, as the explorer's reruns are)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._parts: list[Any] = []

    def add(self, chunk: ChunkResult) -> None:
        self._parts.append(chunk_table(chunk, self.scenario))

    def table(self):
        """Every chunk's rows in the order added (None before the first)."""
        import pyarrow as pa

        return pa.concat_tables(self._parts) if self._parts else None


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
    """The engine's manifest of ``directory``, checked (``results.manifest.parse_manifest``),
    or None when it has none, or a ``manifest.json`` that is not the engine's (one without
    ``versions`` and ``scenario_hash``).

    Raises:
        ManifestError: the engine's manifest, damaged (one line naming the field).
    """
    from negotiation_sim.results.manifest_schema import ManifestError, parse_manifest

    path = Path(directory) / MANIFEST_FILE
    try:
        return parse_manifest(path)
    except FileNotFoundError:
        return None
    except ManifestError:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        if isinstance(data, dict) and "versions" in data and "scenario_hash" in data:
            raise
        return None


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
    if path.is_symlink():
        raise OutDirError(_symlink(path))
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
        resume: (sweeps) finish the sweep there; ``run.sweep`` checks it is the same one.

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
    return _new_dir(target.parent, _staging_prefix(target), ".tmp")


def _new_dir(parent: Path, prefix: str, suffix: str) -> Path:
    """A new directory with a unique name, made with the user's umask (``mkdtemp`` makes
    0700, and the staging directory becomes the results directory)."""
    for _ in range(100):
        path = parent / f"{prefix}{os.urandom(4).hex()}{suffix}"
        try:
            os.mkdir(path, 0o777)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no unused name for a staging directory", str(parent))


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


def publish(staging: Path, target: Path, kind: str = RUN) -> None:
    """Rename a complete staging directory into place, replacing the engine's ``kind`` of
    results at ``target`` (``check_out`` allowed it) but nothing the engine did not write.

    A rename onto a missing or empty directory cannot delete anything, and onto one that holds
    anything it fails; then the old directory is renamed aside, the new one into place, and
    what the old one holds that the engine did not write (a file made while the run went on)
    is moved into the new one (``_keep_foreign``).
    """
    try:
        os.rename(staging, target)
        return
    except OSError as err:
        if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    old = read_manifest(target)
    aside = set_aside(target)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(aside, target)
        raise
    _keep_foreign(aside, target, kind, old)


def _own_entry(name: str, kind: str, manifest: dict[str, Any] | None) -> bool:
    """Whether ``name`` in a ``kind`` of results directory is the engine's to remove."""
    listed = set((manifest or {}).get("figures", []))
    return (name in OWN_FILES.get(kind, set()) or name in figure_names() or name in listed
            or _ours_tmp(name))


def _keep_foreign(aside: Path, target: Path, kind: str, manifest: dict[str, Any] | None) -> None:
    """Empty the set-aside old directory ``aside``: its engine's files are removed, anything
    else is moved into ``target``; ``aside`` itself goes when empty (``rmdir``, which never
    deletes anything). Something that cannot be moved (its name is taken) stays there, and a
    warning says where."""
    import warnings

    for _ in range(3):  # again if something appears in it meanwhile
        for entry in sorted(aside.iterdir()):
            if _own_entry(entry.name, kind, manifest) and (
                    entry.name != RUNS_DIR or _only_parts(entry)):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            elif not os.path.lexists(target / entry.name):
                os.rename(entry, target / entry.name)
        try:
            os.rmdir(aside)
            return
        except OSError:
            continue
    warnings.warn(f"files negsim did not write, whose names the new results took, were kept "
                  f"in {aside}", UserWarning, stacklevel=3)


def _only_parts(runs_dir: Path) -> bool:
    """Whether a sweep's ``runs/`` holds only the engine's parts (and their temporary files)."""
    return all(e.is_file() and (PART.fullmatch(e.name) or _ours_tmp(e.name))
               for e in runs_dir.iterdir())


@contextlib.contextmanager
def staged(target: str | Path, kind: str = RUN) -> Iterator[Path]:
    """Build a results directory in a staging directory, renamed to ``target`` on success and
    removed on any exception (an interrupt, a full disk): ``with staged(out) as tmp: ...``."""
    target = Path(target)
    staging = staging_dir(target)
    try:
        yield staging
        publish(staging, target, kind)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def remove_results(state: OutDir) -> None:
    """Remove the engine's results directory ``state`` describes (``check_out`` allowed it:
    nothing foreign in it), first renaming it out of the way so it is never left half-deleted;
    anything written into it since the check is kept (moved back into a new, empty one)."""
    if state.exists and not state.empty:
        aside = set_aside(state.path)
        os.mkdir(state.path, 0o777)
        _keep_foreign(aside, state.path, state.kind or RUN, state.manifest)


# -- output paths, checked before any work --------------------------------------------------------

NAME_ROOM = 32
"""Bytes a results directory's name leaves for the hidden names negsim puts beside it (its
staging directory ``.NAME.negsim-PID-XXXXXXXXXXXX.tmp``, its lock ``.NAME.negsim.lock``)."""


def check_out_path(path: str | Path, *, directory: bool = True) -> Path:
    """Whether an output path can be written, checked before any work: returns it, or raises
    ``OutDirError`` (one line) saying what keeps it from being written.

    Args:
        path: ``--out`` as given.
        directory: a directory of results (``run``, ``sweep``, ``plot``...), else one file
            (``report``, ``schema``).
    """
    path = Path(path)
    text = os.fsencode(path)
    if b"\0" in text:
        raise OutDirError(f"--out {path!r}: a path cannot hold a NUL character")
    name_max, path_max = _limits(path)
    if len(os.fsencode(os.path.abspath(path))) > path_max - NAME_ROOM:
        raise OutDirError(f"--out is too long: {len(text):,} bytes, and the file system takes "
                          f"paths of at most {path_max - NAME_ROOM:,} here")
    for part in path.parts:
        if len(os.fsencode(part)) > name_max:
            raise OutDirError(f"--out: the name {part[:40]!r}... is {len(os.fsencode(part)):,} "
                              f"bytes, longer than the file system takes ({name_max})")
    room = NAME_ROOM if directory else 16
    if path.name and len(os.fsencode(path.name)) > name_max - room:
        raise OutDirError(f"--out: the name {path.name[:40]!r}... is "
                          f"{len(os.fsencode(path.name)):,} bytes; at most {name_max - room} "
                          "leave room for the hidden names negsim writes beside it")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise OutDirError(_unusable(path, err)) from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise OutDirError(_symlink(path))
    if st is not None and directory and not stat.S_ISDIR(st.st_mode):
        raise OutDirError(f"--out must be a directory: {path} is a file")
    if st is not None and not directory and stat.S_ISDIR(st.st_mode):
        raise OutDirError(f"--out must be a file: {path} is a directory")
    _check_writable(path, st is not None and stat.S_ISDIR(st.st_mode))
    return path


def _limits(path: Path) -> tuple[int, int]:
    """(longest name, longest path) of the file system ``path`` would be on."""
    probe = Path(os.path.abspath(path))
    while not os.path.isdir(probe) and probe != probe.parent:  # isdir: False on any error
        probe = probe.parent
    try:
        return os.pathconf(probe, "PC_NAME_MAX"), os.pathconf(probe, "PC_PATH_MAX")
    except (OSError, ValueError):
        return 255, 4096


def _check_writable(path: Path, exists: bool) -> None:
    """The nearest existing ancestor of ``path`` (and ``path`` itself when it is a directory
    that exists) must be a directory this process can enter and write into."""
    full = Path(os.path.abspath(path))
    ancestor = full.parent
    while True:
        try:
            st = os.stat(ancestor)
        except FileNotFoundError:
            ancestor = ancestor.parent
            continue
        except OSError as err:
            raise OutDirError(_unusable(path, err)) from None
        break
    if not stat.S_ISDIR(st.st_mode):
        raise OutDirError(f"--out {path}: {ancestor} is a file, not a directory")
    for where in ([full] if exists else []) + [ancestor]:
        if not os.access(where, os.W_OK | os.X_OK):
            raise OutDirError(f"--out {path}: {where} is not writable by this user (negsim "
                              "writes its files and, beside the results, its lock and staging "
                              "directory there)")


def _unusable(path: Path, err: OSError) -> str:
    return f"--out {path}: {err.strerror or err} ({err.filename or path})"


def _symlink(path: Path) -> str:
    return (f"--out {path} is a symbolic link (to {os.readlink(path)}): give the directory "
            "itself; negsim replaces --out by a rename, which would replace the link, not "
            "what it points to")


def clean_temporary(directory: Path) -> None:
    """Remove the engine's own temporary files in ``directory`` (and its ``runs/``): what a
    write interrupted by a kill leaves behind."""
    for where in (directory, directory / RUNS_DIR):
        if where.is_dir():
            for entry in where.iterdir():
                if entry.is_file() and _ours_tmp(entry.name):
                    entry.unlink(missing_ok=True)
