"""What a results directory's ``manifest.json`` may hold, checked before anything reads it.

A manifest read back is not trusted: ``parse_manifest`` checks it against a strict schema
(``Manifest``: every field the engine reads has its type (no number for a string, no string
for a list, no ``true`` for a count), numbers are finite (JSON's ``NaN`` and ``Infinity`` are
refused), figures are plain file names, so a path read from a manifest always lies inside its
directory) and a manifest that fails is one ``ManifestError`` line naming the file and the
field, never a traceback further on. Fields the schema does not know (a newer engine's) are
kept and never read. The manifest's ``scenario_file`` is the one path that may lie outside: it
names the scenario file a run was made from, which is only ever read, as a scenario (for results
written before ``scenario.json`` existed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from negotiation_sim.results.schema import MANIFEST_FILE

MANIFEST_BYTES = 64 << 20  # a manifest is kilobytes (a failed task's error each); never more


class ManifestError(ValueError):
    """A manifest that is not the engine's valid JSON (one line: the file, the field, why)."""


_KNOWN = ConfigDict(strict=True, extra="allow", allow_inf_nan=False)
_CLOSED = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)

FileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$")]
"""A plain file name in the directory: no separator, no ``..``, nothing hidden or absolute."""
Count = Annotated[int, Field(ge=0)]
Number = float | int


class Failure(BaseModel):
    """A task that raised (``tasks.failed``)."""

    model_config = _CLOSED
    point: Count
    chunk: Count
    first_world: Count
    worlds: Count
    error: str


class Tasks(BaseModel):
    """A sweep's tasks: how many, the chunks, how many are done, which failed."""

    model_config = _CLOSED
    total: Count
    points: Count
    chunks: list[Annotated[list[Count], Field(min_length=2, max_length=2)]]
    done: Count = 0
    failed: list[Failure] = []


class Session(BaseModel):
    """One session of a sweep (informative: shown, never acted on)."""

    model_config = _KNOWN
    started: str = None
    finished: str = None
    command: list[str] = None
    host: str = None
    pid: int = None
    executor: str = None
    workers: int = None
    scheduler: str = None
    hosts: list[str] = None
    start_method: str = None
    seconds: Number = None
    tasks_run: int = None
    worlds: int = None
    worlds_per_second: Number = None
    failed: int = None
    interrupted: str = None
    error: str = None  # what stopped the session, when it was not an interrupt


class Design(BaseModel):
    """A sweep's design: its method, points, parameters, bounds (and the method's options)."""

    model_config = _KNOWN
    method: str
    points: Count
    parameters: list[str]
    bounds: list[Annotated[list[Number], Field(min_length=2, max_length=2)]] | None = None


class Seeding(BaseModel):
    model_config = _KNOWN
    entropy: Count
    common_random_numbers: bool
    spawn_key_prefix: list[str] = []
    block_size: Count = None
    note: str = None


class Manifest(BaseModel):
    """What a results directory's ``manifest.json`` may hold (runs and sweeps). Fields older
    manifests lack may be absent; present, each has its type (``null`` only where the engine
    writes it: a scenario or experiment given as an object has no file)."""

    model_config = _KNOWN
    kind: Literal["run", "sweep"] = None
    format_version: int = None
    engine_version: str = None
    scenario: str = None
    scenario_file: str | None = None
    scenario_hash: str
    seed: Count = None
    runs: Count = None
    chunk_size: Count = None
    protocol: str = None
    versions: dict[str, str]
    command: list[str] = None
    platform: str = None
    seconds: Number = None
    figures: list[FileName] = []
    status: Literal["running", "interrupted", "complete", "incomplete"] = None
    resume: str = None
    tasks: Tasks = None
    sessions: list[Session] = []
    experiment: str = None
    experiment_file: str | None = None
    experiment_data: dict[str, Any] = None
    design: Design = None
    seeding: Seeding = None
    design_hash: str = None
    experiment_hash: str = None


def parse_manifest(path: Path) -> dict[str, Any]:
    """``path`` (a ``manifest.json``) read and checked against ``Manifest``; the JSON as it is.

    Raises:
        ManifestError: unreadable, too large, not JSON (NaN included), or failing the schema:
            one line naming the file and the first field that fails.
        FileNotFoundError: there is no such file.
    """
    from negotiation_sim.config.names import printable

    try:
        if path.stat().st_size > MANIFEST_BYTES:
            raise ManifestError(f"{path}: larger than {MANIFEST_BYTES:,} bytes: not a manifest "
                                "negsim wrote")
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        if isinstance(err, ManifestError):
            raise
        raise ManifestError(printable(f"{path}: not a readable manifest ({err})",
                                      newlines=False)) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: not a manifest (a JSON {type(data).__name__}, not an "
                            "object)")
    try:
        Manifest.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ManifestError(printable(
            f"{path}: {where}: {first['msg']}: the manifest is damaged (negsim never writes "
            "this); restore it, or run again into another --out", newlines=False)) from None
    from negotiation_sim.results.schema import FORMAT_VERSION

    version = data.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ManifestError(f"{path}: format_version: results of format {version}, written by "
                            f"a newer negsim (this one reads format {FORMAT_VERSION} and "
                            "older): read them with that version")
    return data


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a manifest holds")


def load_manifest(directory: str | Path) -> dict[str, Any]:
    """The checked manifest of a results directory, or ``{}`` when it has none (older or
    foreign results); see ``parse_manifest`` for what raises."""
    try:
        return parse_manifest(Path(directory) / MANIFEST_FILE)
    except FileNotFoundError:
        return {}
