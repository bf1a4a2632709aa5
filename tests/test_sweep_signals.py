"""Signals and half-finished sweeps (issue 13, class 6).

A real ``negsim sweep --executor processes`` is sent SIGTERM or SIGINT mid-run: its workers
exit with it, the manifest says ``interrupted`` with the command that finishes it, no temporary
file stays, and the report of the sweep (like that of a partly failed one) says it is not
complete instead of failing or staying silent. ``--resume`` then finishes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import SMALL, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.run import chunks

cli = CliRunner()


def experiment(tmp_path: Path, points: int = 24, runs: int = 2048) -> Path:
    write_yaml(tmp_path / "small.yaml", SMALL)
    values = "\n".join(f"      - {0.3 + 0.01 * i:.2f}" for i in range(points))
    path = tmp_path / "exp.yaml"
    path.write_text(f"name: t\nscenario: small.yaml\nruns: {runs}\nseed: 9\nchunk_size: 1024\n"
                    "sweep:\n  method: grid\n  parameters:\n"
                    f"    actors.russia.reservation.high:\n{values}\n")
    return path


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_process_sweep_workers_and_all(tmp_path, signum):
    path = experiment(tmp_path)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "negotiation_sim", "sweep", str(path),
                             "--out", str(out), "--executor", "processes", "--workers", "2",
                             "--quiet", "--no-plots"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        workers |= descendants(proc.pid)
        if (out / "runs").is_dir() and len(list((out / "runs").glob("part-*"))) >= 3:
            break
        time.sleep(0.01)
    workers |= descendants(proc.pid)
    assert proc.poll() is None, "the sweep ended before the signal"
    assert workers, "no worker processes seen"
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "--resume" in err and "interrupted" in err, err
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.05)
    assert not [p for p in workers if alive(p)], "workers outlived their sweep"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["resume"].endswith("--resume") and str(out) in manifest["resume"]
    assert manifest["sessions"][-1]["interrupted"] == signal.Signals(signum).name
    assert 3 <= manifest["tasks"]["done"] < 48
    # the message counts what the manifest counts: the parts on disk, which workers may have
    # finished after the main process last heard from them
    assert f": {manifest['tasks']['done']} of 48 tasks are done" in err, (err, manifest["tasks"])
    assert not list(tmp_path.rglob(".*")), "temporary files stayed"

    res = cli.invoke(app, ["report", str(out)])
    assert res.exit_code in (0, 1), res.output
    assert "interrupted" in res.stderr and "--resume" in res.stderr, res.output
    if res.exit_code == 0:  # some point was finished: the report shows them and says so
        assert "Not complete" in (out / "report.html").read_text()

    res = cli.invoke(app, ["sweep", str(path), "--out", str(out), "--resume", "-q",
                           "--no-plots"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_the_report_of_a_partly_failed_sweep_says_so(tmp_path, monkeypatch):
    path = experiment(tmp_path, points=3, runs=1100)
    out = tmp_path / "o"
    real = chunks.simulate_chunk

    def flaky(scenario, n, *, point, first_world, **kw):
        if point == 1:
            raise RuntimeError("solver exploded")
        return real(scenario, n, point=point, first_world=first_world, **kw)

    monkeypatch.setattr(chunks, "simulate_chunk", flaky)
    res = cli.invoke(app, ["sweep", str(path), "--out", str(out), "-q", "--no-plots"])
    assert res.exit_code == 1
    res = cli.invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    assert "incomplete" in res.stderr and "2 failed" in res.stderr and "--resume" in res.stderr
    html = (out / "report.html").read_text()
    assert "Not complete" in html and "solver exploded" in html and "2 of 3 points" in html
    res = cli.invoke(app, ["plot", str(out)])
    assert res.exit_code == 0 and "incomplete" in res.stderr, res.output


def test_the_report_of_a_sweep_without_a_finished_point_is_one_line(tmp_path, monkeypatch):
    path = experiment(tmp_path, points=2, runs=1100)
    out = tmp_path / "o"
    real, calls = chunks.simulate_chunk, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(chunks, "simulate_chunk", interrupted)
    res = cli.invoke(app, ["sweep", str(path), "--out", str(out), "-q", "--no-plots"])
    assert res.exit_code == 130 and "--resume" in res.stderr, res.output
    res = cli.invoke(app, ["report", str(out)])
    assert res.exit_code == 1 and len(res.stderr.strip().splitlines()) == 1, res.output
    assert "no point of the sweep is finished" in res.stderr
    assert "interrupted" in res.stderr and "1 of 4 tasks done" in res.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_signal_to_a_run_leaves_out_as_it_was(tmp_path):
    """SIGTERM to ``negsim run --out`` mid-run: exit 143, one line, the staging directory gone
    and ``--out`` never created."""
    write_yaml(tmp_path / "small.yaml", SMALL)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "negotiation_sim", "run",
                             str(tmp_path / "small.yaml"), "--runs", "400000", "--chunk-size",
                             "1024", "--out", str(out), "--quiet", "--no-plots"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        staging = [p for p in tmp_path.glob(".o.negsim-*") if (p / "runs.parquet").exists()
                   or any(p.iterdir())]
        if staging:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before the signal"
    time.sleep(0.2)  # a few chunks streamed
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except OSError:
        pass
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("wait", [0.0, 0.5], ids=["while-parsing", "while-running"])
def test_sigterm_stops_any_command_in_one_line(tmp_path, wait):
    """Every command, not only run and sweep, takes SIGTERM as Ctrl-C: one line, exit 143,
    whether it arrives as the command line is parsed or while the command works."""
    scenario = write_yaml(tmp_path / "small.yaml", SMALL)
    proc = subprocess.Popen([sys.executable, "-m", "negotiation_sim", "compare", str(scenario),
                             str(scenario), "--runs", "1000000", "--out", str(tmp_path / "c"),
                             "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None \
            and not catches(proc.pid, signal.SIGTERM):
        time.sleep(0.001)
    time.sleep(wait)
    assert proc.poll() is None
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip() == "error: interrupted (SIGTERM)", err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.yaml"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_sweep_killed_with_sigkill(tmp_path):
    """kill -9 runs no clean-up at all: the workers still exit (they asked the kernel to kill
    them with their parent), the report says the sweep may have been killed, and --resume
    finishes it."""
    path = experiment(tmp_path, points=12)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "negotiation_sim", "sweep", str(path),
                             "--out", str(out), "--executor", "processes", "--workers", "2",
                             "--quiet", "--no-plots"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        workers |= descendants(proc.pid)
        if (out / "runs").is_dir() and len(list((out / "runs").glob("part-*"))) >= 2:
            break
        time.sleep(0.01)
    workers |= descendants(proc.pid)
    assert proc.poll() is None and workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.05)
    assert not [p for p in workers if alive(p)], "workers outlived a killed sweep"
    res = cli.invoke(app, ["report", str(out)])
    assert "killed" in res.stderr and f"{out} --resume" in res.stderr, res.output
    res = cli.invoke(app, ["sweep", str(path), "--out", str(out), "--resume", "-q",
                           "--no-plots"])
    assert res.exit_code == 0, res.output
    assert not list(tmp_path.rglob(".*"))


def test_a_signal_dropped_in_a_finaliser_stops_long_work_at_its_next_step():
    """A signal that came inside a finaliser (where it cannot be raised; dask runs finalisers
    while it starts) is kept, and the sweep's loop raises it between tasks (``stop_if_dropped``)
    instead of running every task first; inside ``deferred()`` it waits for the block's end;
    entering an outermost ``interruptible()`` again forgets it."""
    import signal as _signal

    from negotiation_sim.run import signals

    signals.stop_if_dropped()  # nothing received: nothing raised
    signals._RECEIVED.append(_signal.SIGTERM)
    with signals.deferred():
        signals.stop_if_dropped()  # held: the deferred block's end raises it
    raised = []

    def task() -> None:  # a worker thread's task goes on: the main thread stops the work
        try:
            signals.stop_if_dropped()
        except signals.Interrupted as err:
            raised.append(err)

    worker = threading.Thread(target=task)
    worker.start()
    worker.join()
    assert raised == []
    with pytest.raises(signals.Interrupted) as caught:
        signals.stop_if_dropped()
    assert caught.value.exit_code == 128 + _signal.SIGTERM
    with signals.interruptible():
        signals.stop_if_dropped()  # cleared on entry


# -- interrupts at the moments that went wrong -----------------------------------------------
# Each script stops a pool the way a sweep does (an interrupt in the main thread, then
# ``abort``) at one moment, and must exit with nothing on stderr. In the wait and mid-result
# the pool's manager thread waited for ever and Python, which joins it at exit, hung after the
# command's one line; while a worker started, the pool lost it and it printed a traceback.

TASKS = '''
import gc, os, struct, time
from multiprocessing.queues import SimpleQueue

def wait(i):
    time.sleep(0.05)
    return i

def half_written(i):
    """Write the start of a result and never the rest, as a worker killed mid-write does."""
    results = next(o for o in gc.get_objects() if isinstance(o, SimpleQueue))
    os.write(results._writer.fileno(), struct.pack("!i", 1 << 20) + b"partial")
    open(f"written-{i}", "w").close()
    time.sleep(600)
'''

STOP_A_POOL = '''
import os, signal, sys, threading, time
import concurrent.futures._base as base
import tasks
from negotiation_sim.run.executors.base import imap_unordered
from negotiation_sim.run.executors.processes import ProcessExecutor
from negotiation_sim.run.signals import Interrupted, interruptible

if sys.argv[1] == "in_the_wait":  # a signal after cf.wait took the first future's lock
    real, calls = base._AcquireFutures.__enter__, []

    def enter(self):
        calls.append(1)
        if len(calls) != 20:
            return real(self)
        first, *others = sorted(self.futures, key=id)
        first._condition.acquire()
        os.kill(os.getpid(), signal.SIGINT)
        for f in others:
            f._condition.acquire()

    base._AcquireFutures.__enter__ = enter
    task, items = tasks.wait, range(10**6)
elif sys.argv[1] == "starting_a_worker":  # the first submit waits for the forkserver
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()  # so: a forkserver
    task, items = tasks.wait, range(10**6)
else:  # both workers have written part of their results when the signal comes
    def signal_once_written():
        while not all(os.path.exists(f"written-{i}") for i in range(2)):
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=signal_once_written, daemon=True).start()
    task, items = tasks.half_written, range(2)
ex = ProcessExecutor(2)
if sys.argv[1] == "starting_a_worker":  # it still imports the preloaded modules
    threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
try:
    with interruptible():
        try:
            for _, future in imap_unordered(ex, task, items, lambda i: (i,)):
                future.result()
        except BaseException:
            ex.abort()
            raise
except Interrupted:
    print("interrupted", flush=True)
'''


@pytest.mark.parametrize("moment", ["in_the_wait", "mid_result", "starting_a_worker"])
def test_an_interrupt_stops_a_process_pool_and_the_process_exits(tmp_path, moment):
    (tmp_path / "tasks.py").write_text(TASKS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path),
                                                         os.environ.get("PYTHONPATH", "")])}
    try:
        proc = subprocess.run([sys.executable, "-c", STOP_A_POOL, moment], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"the process hung after it was interrupted: {err.stdout!r}")
    assert proc.stdout == "interrupted\n", proc
    assert proc.returncode == 0, proc
    assert "leaked" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_an_aborted_pool_has_closed_its_manager_thread_before_abort_returns():
    # At exit Python wakes each pool's manager thread through a pipe that thread closes as it
    # ends, with no lock between the two (Python 3.13): a thread still ending then printed
    # "Bad file descriptor" after an interrupted command's one line. abort() waits for it.
    from negotiation_sim.run.executors.processes import ProcessExecutor

    ex = ProcessExecutor(2)
    futures = [ex.submit(time.sleep, 30) for _ in range(4)]
    while not ex.pids():
        time.sleep(0.01)
    manager = ex._pool._executor_manager_thread
    wakeup = ex._pool._executor_manager_thread_wakeup
    assert manager is not None and manager.is_alive()
    ex.abort()
    assert not manager.is_alive() and wakeup._closed
    assert all(f.done() for f in futures)


def test_an_interrupt_is_one_line_even_where_modules_are_half_imported(monkeypatch, capsys):
    """An interrupt that cut an import short leaves that module half made, and importing it
    again raises (``partially initialized module``). The command line reports the interrupt
    before any error clause that imports a module to name its errors, and writes its line
    plainly if rich itself cannot be imported: exit 128 + signal and one line, never a
    traceback and exit 1 (``negsim compare`` signalled while it started, seen once)."""
    import signal as _signal

    import typer

    from negotiation_sim.cli import common
    from negotiation_sim.run.signals import Interrupted

    def half_made(*args, **kw):
        raise AttributeError("partially initialized module 'yaml' has no attribute 'error'")

    monkeypatch.setattr(common, "REPORTED", [])
    monkeypatch.setattr(common, "_results_dir_errors", half_made)
    monkeypatch.setattr(common, "_scheduler_error", half_made)
    with pytest.raises(typer.Exit) as caught:
        with common.user_errors(debug=False):
            raise Interrupted(_signal.SIGTERM)
    assert caught.value.exit_code == 128 + _signal.SIGTERM
    assert capsys.readouterr().err.strip() == "error: interrupted (SIGTERM)"
    monkeypatch.setattr(common, "stderr", half_made)  # rich's console, half imported
    with pytest.raises(typer.Exit) as caught:
        with common.user_errors(debug=False):
            raise Interrupted(_signal.SIGHUP)
    assert caught.value.exit_code == 128 + _signal.SIGHUP
    assert capsys.readouterr().err == "error: interrupted (SIGHUP)\n"
    assert len(common.REPORTED) == 2
