"""One writer per results directory, with real concurrent processes.

Every command that writes into a results directory holds its lock (``results.lock``) for the
whole write: a second writer (a run and a sweep together, two dask sweeps, a ``plot``,
``report`` or ``export`` while a run replaces the directory) stops at once with one line naming
the first (its PID and command) and exit 1, and the directory holds one writer's results only.
Publishing a run never deletes a file the user wrote into ``--out`` while it ran.

Each test starts the first writer as a subprocess, waits (bounded) until it holds the lock,
then starts the second; a first writer that is not needed any more is stopped with SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SMALL, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.results import files, lock
from negotiation_sim.results.lock import ResultsBusy, results_lock

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock, /proc")

WAIT = 120  # seconds any one step may take on a loaded machine (the tests end far sooner)
EXPERIMENT = """name: locked
scenario: small.yaml
runs: {runs}
seed: {seed}
chunk_size: 1024
sweep:
  method: grid
  parameters:
    actors.germany.offer.guarantees: [0.3, 0.5, 0.7, 0.9]
"""


@pytest.fixture
def where(tmp_path):
    write_yaml(tmp_path / "small.yaml", SMALL)
    return tmp_path


def negsim(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "negotiation_sim", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)


def experiment(where: Path, name: str, runs: int, seed: int) -> Path:
    path = where / name
    path.write_text(EXPERIMENT.format(runs=runs, seed=seed))
    return path


def wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert proc.poll() is None, f"the first writer ended before {what}: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"no {what} after {WAIT} s"
        time.sleep(0.02)


def holds_lock(out: Path, proc: subprocess.Popen):
    path = lock.lock_path(out)

    def held() -> bool:
        try:
            return json.loads(path.read_text()).get("pid") == proc.pid
        except (OSError, ValueError):
            return False

    return held


def stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=WAIT)
    return err


def refused_by(proc: subprocess.Popen, err: str, first: subprocess.Popen, command: str) -> None:
    """The second writer's one line names the first: its PID and command."""
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"PID {first.pid}" in lines[0] and command in lines[0], err
    assert "is being written by" in lines[0], err


def test_a_run_and_a_sweep_into_one_out_the_second_is_one_line(where):
    out = where / "x"
    first = negsim("run", where / "small.yaml", "--runs", 5_000_000, "--out", out, "-q")
    wait_for(holds_lock(out, first), first, "lock")
    exp = experiment(where, "exp.yaml", 1100, 1)
    second = negsim("sweep", exp, "--out", out, "-q", "--no-plots")
    _, err = second.communicate(timeout=WAIT)
    refused_by(second, err, first, "negsim run")
    assert first.poll() is None, "the run should still be going"
    stop(first)
    assert not out.exists() or not any(out.iterdir()), "the sweep wrote into the run's --out"


def test_a_run_and_a_sweep_started_together_leave_one_writers_results(where):
    out = where / "x"
    exp = experiment(where, "exp.yaml", 1100, 1)
    procs = [negsim("run", where / "small.yaml", "--runs", 3000, "--out", out, "-q"),
             negsim("sweep", exp, "--out", out, "-q", "--no-plots")]
    errs = [p.communicate(timeout=WAIT)[1] for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], errs
    loser = errs[[p.returncode for p in procs].index(1)]
    assert len(loser.strip().splitlines()) == 1 and "Traceback" not in loser, loser
    kind = json.loads((out / "manifest.json").read_text())["kind"]
    names = {p.name for p in out.iterdir()}
    if kind == "run":
        assert {"runs.parquet", "summary.json"} <= names and "points.parquet" not in names
    else:
        assert {"points.parquet", "summary.parquet", "runs"} <= names
        assert "runs.parquet" not in names and "summary.json" not in names


def test_two_dask_sweeps_into_one_out_the_second_is_one_line(where):
    pytest.importorskip("distributed")
    out = where / "x"
    first = negsim("sweep", experiment(where, "a.yaml", 400_000, 1), "--out", out, "-q",
                   "--no-plots", "--executor", "dask", "--workers", 1)
    wait_for(holds_lock(out, first), first, "lock")
    second = negsim("sweep", experiment(where, "b.yaml", 1100, 2), "--out", out, "-q",
                    "--no-plots", "--executor", "dask", "--workers", 1)
    _, err = second.communicate(timeout=WAIT)
    refused_by(second, err, first, "negsim sweep")
    stop(first)
    if (out / "manifest.json").exists():  # the first got past its cluster's start-up
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["seed"] == 1 and manifest["status"] == "interrupted"
        assert all(s["pid"] == first.pid for s in manifest["sessions"])


def test_a_file_written_into_out_while_a_run_goes_on_survives_its_publishing(where):
    out = where / "x"
    out.mkdir()
    first = negsim("run", where / "small.yaml", "--runs", 60_000, "--out", out, "-q")
    wait_for(lambda: any(p.name.startswith(".x.negsim-") for p in where.iterdir()), first,
             "staging directory")
    (out / "notes.txt").write_text("mine")
    err = first.communicate(timeout=WAIT)[1]
    assert first.returncode == 0, err
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "runs.parquet").is_file() and (out / "manifest.json").is_file()
    assert not [p for p in where.iterdir() if p.name.startswith(".x.")], "left beside --out"


def test_a_file_written_into_out_while_overwrite_goes_on_survives(where):
    out = where / "x"
    res = CliRunner().invoke(app, ["run", str(where / "small.yaml"), "--runs", 500, "--out",
                                   str(out), "-q", "--no-plots"])
    assert res.exit_code == 0, res.output
    first = negsim("run", where / "small.yaml", "--runs", 60_000, "--out", out, "-q",
                   "--overwrite", "--seed", 5)
    wait_for(lambda: any(p.name.startswith(".x.negsim-") for p in where.iterdir()), first,
             "staging directory")
    (out / "notes.txt").write_text("mine")
    err = first.communicate(timeout=WAIT)[1]
    assert first.returncode == 0, err
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    assert not [p for p in where.iterdir() if p.name.startswith(".x.")], "left beside --out"


@pytest.mark.parametrize("command", [["plot"], ["report"], ["export", "--format", "csv"]])
def test_a_reader_that_writes_while_overwrite_replaces_out_is_one_line(where, command):
    out = where / "x"
    res = CliRunner().invoke(app, ["run", str(where / "small.yaml"), "--runs", 500, "--out",
                                   str(out), "-q"])
    assert res.exit_code == 0, res.output
    first = negsim("run", where / "small.yaml", "--runs", 5_000_000, "--out", out, "-q",
                   "--overwrite", "--seed", 5)
    wait_for(holds_lock(out, first), first, "lock")
    second = negsim(command[0], out, *command[1:], "-q")
    _, err = second.communicate(timeout=WAIT)
    refused_by(second, err, first, "negsim run")
    stop(first)
    manifest = json.loads((out / "manifest.json").read_text())
    assert all((out / f).is_file() for f in manifest["figures"])
    assert json.loads((out / "summary.json").read_text())["seed"] == 0, "the old run stays"


def test_the_lock_is_released_and_removed_and_taken_again(tmp_path):
    out = tmp_path / "x"
    with results_lock(out) as path:
        assert path == tmp_path / ".x.negsim.lock" and path.exists()
        with results_lock(out):  # the same process again: it holds it already
            pass
        assert path.exists()
    assert not path.exists()
    with results_lock(out):
        pass
    with results_lock(tmp_path / "new" / "deeper" / "x") as path:  # parents made, as a run does
        assert path.parent.is_dir()


def test_a_lock_held_by_another_process_is_refused_naming_it(tmp_path):
    out = tmp_path / "x"
    code = ("import sys, time\nfrom negotiation_sim.results.lock import results_lock\n"
            f"with results_lock({str(out)!r}):\n    print('held', flush=True)\n"
            "    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ResultsBusy, match=f"PID {holder.pid}") as err:
            with results_lock(out):
                pass
        assert isinstance(err.value, files.OutDirError)
    finally:
        holder.kill()
        holder.wait()
    with results_lock(out):  # the kernel dropped the killed holder's lock
        pass


def test_a_results_directory_honours_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        out = tmp_path / "x"
        with files.staged(out) as stage:
            (stage / "manifest.json").write_text("{}")
        files.write_text_atomic(out / "summary.json", "{}")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o750
    assert (out / "summary.json").stat().st_mode & 0o777 == 0o640
