"""The sweep driver: tasks of (point, chunk of worlds), the results directory, resuming.

A sweep of P points with R worlds each is cut into tasks: point ``p``, chunk ``c`` of
``run.chunks.chunk_bounds(R, chunk_size)``. Every random number of a task comes from
``SeedSequence(seed, spawn_key=(p, block, ...))`` (see ``core.seeds``), so a task's result depends
only on the experiment, never on the executor, the number of workers or the order in which tasks
finish. With ``common_random_numbers: true`` every point uses ``p = 0``: all points see the same
worlds, which sharpens differences between points (the core draws each uncertain input from its
own stream, so changing one input leaves the others' draws alone). Workers simulate and, when
they see the results directory, write their own part files; this process writes every other
file:

    DIR/points.parquet    one row per point: id, label, parameter values, scenario hash
    DIR/scenario.json     the base scenario as validated (figures' labels, reports)
    DIR/runs/part-PPPPPP-CCCCC.parquet
                          one file per task, one row per world (as ``negsim run``), written to a
                          temporary file and renamed, so a part exists whole or not at all
    DIR/summary.parquet   one row per point: outcome shares with 95% Wilson intervals, formats,
                          mean terms, mean round, mean utilities (built from the parts, in order)
    DIR/manifest.json     hashes, seed and seeding scheme, versions, command, tasks done and
                          failed, one entry per session with its executor, hosts and timings

Everything that varies between sessions (times, hosts, executor) lives in the manifest only, so
after ``kill -9`` and ``--resume`` the other files are byte-for-byte those of an uninterrupted
run. A task that raises is recorded with its error and the sweep goes on.

The directory is the engine's once its manifest exists, and the manifest is written first
(``results.files`` recognises the engine's directories by it). A sweep starts only in an empty
directory, resumes only its own sweep (same experiment, scenario in order, seed, runs, chunks and
engine version; parts it did not write in ``runs/`` are refused, never deleted; its own parts
that no longer read back, truncated or damaged, are named, removed and computed again) and
``overwrite`` replaces a sweep's directory whole. An interrupt (Ctrl-C, SIGTERM: see
``run.signals``) ends the session with ``status: interrupted`` in the manifest and the command
that finishes it (``SweepInterrupted``), at any moment from the first manifest to the last
(while the summary is made, the workers stop or the figures are drawn too: ``mark_interrupted``);
figures drawn in an earlier session, from fewer points, are removed when a session starts, and
those drawn after it are listed in the manifest. One process at a time writes the directory
(``results.lock``, held by ``api.sweep``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import shlex
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.experiment import LABEL, LoadedExperiment
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.results.files import (
    SWEEP,
    OutDir,
    OutDirError,
    check_out,
    clean_temporary,
    remove_results,
    write_json_atomic,
    write_parquet_atomic,
)
from negotiation_sim.results.manifest import engine_version, manifest
from negotiation_sim.results.marks import scenario_record
from negotiation_sim.results.schema import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    POINTS_FILE,
    RUNS_DIR,
    SCENARIO_FILE,
    SWEEP_SUMMARY_FILE,
)
from negotiation_sim.results.summary import Accumulator, summary_row
from negotiation_sim.results.tables import Layout, chunk_from_table, output_columns
from negotiation_sim.run.executors.base import Executor, imap_unordered
from negotiation_sim.run.signals import Interrupted, stop_if_dropped
from negotiation_sim.run.tasks import Task, plan_tasks, run_task


class SweepError(Exception):
    """A sweep that cannot start or resume (the message says why and what to do)."""


class SweepInterrupted(Interrupted):
    """A signal stopped the sweep; the manifest says ``interrupted`` and ``message`` how to
    finish it.

    Attributes:
        report: what the session did before it stopped.
        resume: the command that finishes the sweep.
    """

    def __init__(self, signum: int, report: SweepReport, resume: str,
                 done: int | None = None) -> None:
        super().__init__(signum)
        self.report, self.resume = report, resume
        if done is None:  # the tasks this session saw finish, and those found done before
            done = report.resumed + report.ran
        self.message = (f"interrupted ({self.args[0]}): {done} of {report.tasks} tasks are done "
                        f"in {report.out}; finish the sweep with: {resume}")

    def __str__(self) -> str:
        return self.message


def run_and_write_task(scenario: Scenario, seed: int, key: int, first_world: int, n: int,
                       layout: Layout, point: int, path: Path) -> int:
    """Simulate one task and write its part file atomically, in the worker.

    Only the count of worlds travels back, so the parent neither unpickles nor compresses
    per-world rows: with local workers (which share the results directory) the parent stays
    idle and the sweep scales with the workers.
    """
    chunk = run_task(scenario, seed, key, first_world, n)
    write_parquet_atomic(layout.table(chunk, scenario, point), path)
    return n


def _encode(values: list[Any]):
    """A parameter column: numbers as float64, strings as strings, anything else as JSON."""
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.array([math.nan if v is None else float(v) for v in values], pa.float64())
    if all(isinstance(v, str) for v in present):
        return pa.array(values, pa.string())
    return pa.array([None if v is None else json.dumps(v) for v in values], pa.string())


def points_table(loaded: LoadedExperiment, scenarios: list[Scenario]):
    """One row per point: id, label (list designs), scenario hash, parameter values."""
    import pyarrow as pa

    design = loaded.design
    cols: dict[str, Any] = {"point": pa.array(np.arange(len(design), dtype=np.int32))}
    if any(label is not None for label in design.labels):
        cols[LABEL] = pa.array(design.labels, pa.string())
    cols["scenario_hash"] = pa.array([sc.digest() for sc in scenarios], pa.string())
    for name in design.names:
        cols[name] = _encode([p.get(name) for p in design.points])
    return pa.table(cols)


def summarise(out: Path, tasks: list[Task], scenarios: list[Scenario], points, seed: int):
    """summary.parquet's table, from the part files in (point, chunk) order.

    Only points whose every task is done get a row. Reading the parts back (one at a time)
    rather than keeping running totals makes the summary independent of completion order and
    of how many sessions the sweep took.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    by_point: dict[int, list[Task]] = {}
    for t in tasks:
        by_point.setdefault(t.point, []).append(t)
    keep = [c for c in points.column_names if c != "scenario_hash"]
    rows = []
    for p, ptasks in by_point.items():
        parts = [out / RUNS_DIR / t.part for t in ptasks]
        if not all(path.exists() for path in parts):
            continue
        sc = scenarios[p]
        acc = Accumulator.for_scenario(sc)
        cols = ["world", *output_columns(sc, summarised=True)]
        for path in parts:
            try:
                with pq.ParquetFile(path) as f:
                    have = [c for c in cols if c in f.schema_arrow.names]
                    table = f.read(columns=have)
            except Exception as err:  # noqa: BLE001 - a part damaged after it was written
                raise DamagedPart(path, f"{type(err).__name__}: "
                                  f"{str(err).splitlines()[0] if str(err) else ''}") from None
            acc.add(chunk_from_table(table, sc))
        row = {c: points[c][p].as_py() for c in keep}
        rows.append({**row, **summary_row(acc, sc, seed)})
    if not rows:
        return None
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    columns = {}
    for name in names:
        values = [r.get(name) for r in rows]
        if name == "point":
            columns[name] = pa.array(values, pa.int32())
        elif name == "runs":
            columns[name] = pa.array(values, pa.int64())
        elif name in points.column_names:
            columns[name] = pa.array(values, points.schema.field(name).type)
        else:
            columns[name] = pa.array([math.nan if v is None else v for v in values], pa.float64())
    return pa.table(columns)


def _table_hash(table) -> str:
    blob = json.dumps(table.to_pylist(), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class SweepReport:
    """What a session did."""

    out: Path
    tasks: int
    resumed: int  # tasks already done when this session started
    ran: int  # tasks finished (successfully) in this session
    failed: list[dict[str, Any]] = field(default_factory=list)
    worlds: int = 0
    seconds: float = 0.0
    summary: Any = None  # pyarrow Table of summary.parquet, or None
    figures: list[Path] = field(default_factory=list)  # figure files written after the sweep

    @property
    def ok(self) -> bool:
        return not self.failed


ProgressFn = Callable[[Task, bool], None]


def prepare(loaded: LoadedExperiment, out: Path, *, resume: bool, overwrite: bool = False):
    """Scenarios, points, tasks, identity and the previous manifest (resuming) of a sweep into
    ``out``, once ``out`` is checked (``check_dir``); nothing is written yet."""
    exp = loaded.experiment
    scenarios = loaded.point_scenarios()
    points = points_table(loaded, scenarios)
    tasks = plan_tasks(len(scenarios), exp.runs, exp.chunk_size)
    identity = {  # what must not change for --resume; most telling difference first
        "format_version": FORMAT_VERSION,
        "seed": exp.seed,
        "runs": exp.runs,
        "chunk_size": exp.chunk_size,
        "scenario_hash": loaded.base.digest(),
        "design_hash": _table_hash(points),
        "experiment_hash": exp.digest(),
    }
    previous = check_dir(out, identity, resume=resume, overwrite=overwrite)
    if isinstance(previous, dict):
        drop_damaged_parts(out, tasks)
    return scenarios, points, tasks, identity, previous


class DamagedPart(SweepError):
    """A part file that cannot be read back (truncated, corrupted): named, removed, and run
    again by ``--resume``."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: damaged ({why})")
        self.path = path


def part_problem(path: Path, worlds: int) -> str | None:
    """Why the part file ``path`` of a task of ``worlds`` worlds is damaged, or None.

    Reads the footer only (row count and schema), so checking every part of a large sweep on
    resume costs milliseconds a part.
    """
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as f:
            rows = f.metadata.num_rows
    except Exception as err:  # noqa: BLE001 - whatever pyarrow says, the part is unreadable
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    if rows != worlds:
        return f"{rows:,} rows where the task has {worlds:,} worlds"
    return None


def drop_damaged_parts(out: Path, tasks: list[Task]) -> list[str]:
    """Remove the parts of ``out`` that cannot be read back, so that this session runs their
    tasks again; each is named in a warning. Returns their names."""
    import warnings

    dropped = []
    for t in tasks:
        path = out / RUNS_DIR / t.part
        if path.is_file() and (why := part_problem(path, t.n)) is not None:
            path.unlink()
            dropped.append(t.part)
            warnings.warn(f"{path}: damaged ({why}); removed, its task runs again",
                          UserWarning, stacklevel=2)
    return dropped


def check_dir(out: Path, identity: dict[str, Any], *, resume: bool,
              overwrite: bool = False) -> dict | OutDir | None:
    """What a sweep into ``out`` starts from: None (an empty or new directory), the previous
    manifest (resuming the same sweep) or the directory to replace (``overwrite``).

    Raises:
        SweepError: ``out`` is a file, holds a run, files negsim did not write (parts in
            ``runs/`` too), a sweep without ``resume`` or ``overwrite``, or a different sweep
            (or one by another engine version) to resume.
    """
    if resume and overwrite:
        raise SweepError("--resume finishes the sweep in --out and --overwrite replaces it: "
                         "choose one")
    try:
        state = check_out(out, SWEEP, overwrite=overwrite, resume=resume)
    except OutDirError as err:
        raise SweepError(str(err)) from None
    if not state.exists or state.empty:
        return None
    if overwrite:
        return state
    previous = state.manifest or {}
    if state.foreign and any(name.startswith(f"{RUNS_DIR}/") for name in state.foreign):
        raise SweepError(
            f"cannot resume into {out}: {out / RUNS_DIR} holds files negsim did not write "
            f"({', '.join(n for n in state.foreign if n.startswith(RUNS_DIR))[:200]}); move "
            "them out (negsim never deletes them) and resume")
    was = previous.get("engine_version") or previous.get("versions", {}).get("negotiation_sim")
    if was != engine_version():
        raise SweepError(
            f"cannot resume into {out}: its sweep was started by negotiation_sim {was} and this "
            f"is {engine_version()}, whose parts may differ; resume with {was}, or start again "
            "with --overwrite (or another --out)")
    for key, value in identity.items():
        if previous.get(key) != value:
            was, now = (str(v)[:12] if key.endswith("hash") else v
                        for v in (previous.get(key), value))
            raise SweepError(
                f"cannot resume into {out}: the {key.replace('_', ' ')} differs from the "
                f"sweep's ({was} there, {now} now); resume with the experiment and scenario "
                "it was started with, or choose another --out")
    return previous


def run_sweep(loaded: LoadedExperiment, out: Path, executor: Executor, *, resume: bool = False,
              progress: ProgressFn | None = None, prepared=None,
              workers_write: bool = True) -> SweepReport:
    """Run (or finish) an experiment's sweep into ``out``; see the module docstring.

    ``workers_write``: workers write their own part files (they must see ``out``: true for
    local processes and a LocalCluster, and for a cluster on a shared file system); False
    sends every task's rows back to this process, which writes them.
    """
    out = Path(out)
    exp = loaded.experiment
    scenarios, points, tasks, identity, previous = prepared or prepare(loaded, out, resume=resume)
    if isinstance(previous, OutDir):  # overwrite: the old sweep goes, whole
        remove_results(previous)
        previous = None
    runs_dir = out / RUNS_DIR
    out.mkdir(parents=True, exist_ok=True)
    clean_temporary(out)  # what a kill mid-write left behind
    for name in (previous or {}).get("figures", []):  # drawn from fewer points
        (out / name).unlink(missing_ok=True)
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    sessions = list((previous or {}).get("sessions", []))
    session = {"started": started.isoformat(timespec="seconds"), "command": sys.argv,
               "host": socket.gethostname(), "pid": os.getpid(), **executor.describe()}
    base = _manifest(loaded, identity, tasks, points)
    report = SweepReport(out, len(tasks), 0, 0)
    stopped: KeyboardInterrupt | None = None
    broke: Exception | None = None
    try:  # from here on, an interrupt at any moment leaves the manifest "interrupted"
        # the manifest first: from now on the directory is recognisably the engine's
        write_json_atomic(out / MANIFEST_FILE, {  # "resume": what finishes it if it is killed
            **base, "status": "running", "resume": resume_command(loaded, out),
            "tasks": {**base["tasks"], **_done(previous)}, "sessions": [*sessions, session]})
        runs_dir.mkdir(exist_ok=True)
        write_parquet_atomic(points, out / POINTS_FILE)
        write_json_atomic(out / SCENARIO_FILE, scenario_record(loaded.base))
        todo = [t for t in tasks if not (runs_dir / t.part).exists()]
        report.resumed = len(tasks) - len(todo)
        _run_tasks(loaded, scenarios, todo, runs_dir, executor, report, progress,
                   workers_write)
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP under run.signals
        stopped = err
    except Exception as err:  # a full disk, a worker that died: raised below
        broke = err
    finally:
        report.seconds = time.perf_counter() - clock
        session.update(finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                       seconds=round(report.seconds, 3), tasks_run=report.ran,
                       worlds=report.worlds,
                       worlds_per_second=round(report.worlds / max(report.seconds, 1e-9)))
        if report.failed:
            session["failed"] = len(report.failed)
    seed = exp.seed

    def stopped_by(err: Exception) -> None:
        # not "running" any more: the parts written stay, and --resume runs the others (on a
        # full disk the manifest may not be written either: it then says "running", which
        # readers take for a sweep that was killed)
        with contextlib.suppress(OSError):
            write_json_atomic(out / MANIFEST_FILE, {
                **base, "status": "incomplete", "resume": resume_command(loaded, out),
                "tasks": {**base["tasks"], "done": sum((runs_dir / t.part).exists()
                                                       for t in tasks),
                          "failed": report.failed},
                "sessions": [*sessions, {**session, "error": f"{type(err).__name__}: "
                                                              f"{err}"[:500]}]})

    if broke is not None:
        stopped_by(broke)
        raise broke
    if stopped is None:
        try:
            stop_if_dropped()
            report.summary = summarise(out, tasks, scenarios, points, seed)
            if report.summary is not None:
                write_parquet_atomic(report.summary, out / SWEEP_SUMMARY_FILE)
            done = sum((runs_dir / t.part).exists() for t in tasks)
            complete = done == len(tasks)
            write_json_atomic(out / MANIFEST_FILE, {
                **base,
                "status": "complete" if complete else "incomplete",
                **({} if complete else {"resume": resume_command(loaded, out)}),
                "tasks": {**base["tasks"], "done": done, "failed": report.failed},
                "sessions": [*sessions, session],
            })
            return report
        except KeyboardInterrupt as err:  # while summarising: the sweep is not finished
            stopped = err
        except DamagedPart as err:  # removed: --resume runs its task again
            err.path.unlink(missing_ok=True)
            resume_with = resume_command(loaded, out)
            write_json_atomic(out / MANIFEST_FILE, {
                **base, "status": "incomplete", "resume": resume_with,
                "tasks": {**base["tasks"], "done": sum((runs_dir / t.part).exists()
                                                       for t in tasks),
                          "failed": report.failed},
                "sessions": [*sessions, session]})
            raise SweepError(f"{err}; removed: finish the sweep with: {resume_with}") from None
        except Exception as err:  # summarising failed (a full disk): the sweep is not finished
            stopped_by(err)
            raise
    resume_with = resume_command(loaded, out)
    session["interrupted"] = (stopped.args[0] if stopped.args else None) or "SIGINT"
    # the manifest first, so that the directory says what it is even if the summary of
    # the points done is cut short (a second signal ends the process at once)
    # the parts on disk, which workers may have finished after the main process last heard
    # from them: the manifest and the message say the same count
    done = sum((runs_dir / t.part).exists() for t in tasks)
    write_json_atomic(out / MANIFEST_FILE, {
        **base, "status": "interrupted", "resume": resume_with,
        "tasks": {**base["tasks"], "done": done, "failed": report.failed},
        "sessions": [*sessions, session]})
    _summarise_so_far(out, tasks, scenarios, points, seed)
    raise SweepInterrupted(getattr(stopped, "signum", 2), report, resume_with, done) from None


def _run_tasks(loaded: LoadedExperiment, scenarios: list[Scenario], todo: list[Task],
               runs_dir: Path, executor: Executor, report: SweepReport,
               progress: ProgressFn | None, workers_write: bool) -> None:
    """Run the tasks to do, writing each one's part; failures are recorded in ``report``."""
    exp = loaded.experiment
    layout = Layout.of(scenarios, loaded.base)
    seed, crn = exp.seed, exp.common_random_numbers

    def args(t: Task) -> tuple:
        common = (scenarios[t.point], seed, 0 if crn else t.point, t.first_world, t.n)
        if workers_write:
            return (*common, layout.for_point(t.point), t.point, runs_dir / t.part)
        return common

    fn = run_and_write_task if workers_write else run_task
    for task, future in imap_unordered(executor, fn, todo, args):
        try:
            result = future.result()
            if not workers_write:
                write_parquet_atomic(layout.table(result, scenarios[task.point], task.point),
                                     runs_dir / task.part)
        except Exception as err:  # one bad task must not stop the sweep
            report.failed.append(_failure(task, err))
            ok = False
        else:
            report.ran += 1
            report.worlds += task.n
            ok = True
        if progress is not None:
            progress(task, ok)
        stop_if_dropped()  # a signal a finaliser swallowed stops the sweep here


def mark_interrupted(loaded: LoadedExperiment, out: Path, err: KeyboardInterrupt,
                     report: SweepReport) -> SweepInterrupted:
    """A signal after the sweep's last task and summary (while its figures or indices were
    drawn): the manifest says ``interrupted`` with the command that finishes the sweep (which
    redraws them); returns the exception to raise."""
    from negotiation_sim.results.files import read_manifest

    resume_with = resume_command(loaded, out)
    data = read_manifest(out)
    if data is not None:
        sessions = list(data.get("sessions") or [{}])
        sessions[-1] = {**sessions[-1], "interrupted": (err.args[0] if err.args else None)
                        or "SIGINT"}
        write_json_atomic(out / MANIFEST_FILE, {**data, "status": "interrupted",
                                                "resume": resume_with, "sessions": sessions})
    return SweepInterrupted(getattr(err, "signum", 2), report, resume_with)


def _summarise_so_far(out: Path, tasks: list[Task], scenarios: list[Scenario], points,
                      seed: int) -> None:
    """The summary of the points an interrupted sweep finished (none: no summary file), so
    that its report shows them and says the sweep is interrupted."""
    summary = summarise(out, tasks, scenarios, points, seed)
    if summary is None:
        (out / SWEEP_SUMMARY_FILE).unlink(missing_ok=True)
    else:
        write_parquet_atomic(summary, out / SWEEP_SUMMARY_FILE)


def resume_command(loaded: LoadedExperiment, out: Path) -> str:
    """The command that finishes the sweep in ``out``."""
    return (f"negsim sweep {shlex.quote(str(loaded.path or 'EXPERIMENT'))} --out "
            f"{shlex.quote(str(out))} --resume")


def _done(previous: dict | None) -> dict[str, Any]:
    """The previous session's count of tasks done (shown until this session ends)."""
    tasks = (previous or {}).get("tasks") or {}
    return {"done": tasks.get("done", 0)} if tasks else {}


def _failure(task: Task, err: BaseException) -> dict[str, Any]:
    lines = traceback.format_exception_only(type(err), err)
    return {"point": task.point, "chunk": task.chunk, "first_world": task.first_world,
            "worlds": task.n, "error": "".join(lines).strip()}


def _manifest(loaded: LoadedExperiment, identity: dict[str, Any], tasks: list[Task],
              points) -> dict[str, Any]:
    exp, design = loaded.experiment, loaded.design
    chunks = sorted({(t.first_world, t.n) for t in tasks})
    info = manifest(loaded.base, loaded.scenario_path, seed=exp.seed, runs=exp.runs,
                    chunk_size=exp.chunk_size, kind=SWEEP)
    return {
        **info,
        **identity,
        "experiment": exp.name,
        "experiment_file": loaded.path,
        "experiment_data": exp.model_dump(mode="json"),
        "design": {
            "method": design.method,
            "points": len(design),
            "parameters": design.names,
            "bounds": None if design.space is None else [list(b) for b in design.space.bounds],
            **design.options,
        },
        "seeding": {
            "entropy": exp.seed,
            "common_random_numbers": exp.common_random_numbers,
            "spawn_key_prefix": ["point", "block"],
            "block_size": BLOCK,
            "note": "task (point p, chunk c) simulates the blocks first_world // block_size "
                    "onwards of its chunk; each block draws from SeedSequence(entropy, "
                    "spawn_key=(p, block, ...)) with one stream per uncertain input, one for "
                    "in-run draws and one for the model (see negotiation_sim.core.seeds); with "
                    "common_random_numbers every point uses p = 0",
        },
        "tasks": {"total": len(tasks), "points": len(points), "chunks": [list(c) for c in chunks],
                  "done": 0, "failed": []},
        "platform": platform.platform(),
    }
