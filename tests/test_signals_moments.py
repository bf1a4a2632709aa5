"""Signals at the awkward moments: a dask cluster's start-up, a sweep's last step, a finaliser.

SIGTERM while a dask ``LocalCluster`` starts ends the sweep with one line and 143, however far
the start-up went (no traceback from distributed's exit handler or from half-started workers);
SIGHUP while a process sweep summarises or draws its figures leaves the manifest
``interrupted`` with the command that finishes it; and an interrupt that lands in a finaliser
(where Python prints exceptions and drops them) is not printed and still ends the command with
the signal's code, so ``run`` never exits 0 after one.
Real subprocesses and signals; each waits for its moment with a bounded poll.
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
from test_sweep_signals import alive, descendants, experiment
from typer.testing import CliRunner

import negotiation_sim as ns
from negotiation_sim.cli import app
from negotiation_sim.results import lock
from negotiation_sim.run import sweep as sweeps
from negotiation_sim.run.signals import Interrupted

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

WAIT = 180  # the longest any moment may take to come on a loaded machine


def signal_at(proc: subprocess.Popen, moment, signum: int) -> tuple[str, set[int]]:
    """Wait until ``moment()`` holds, send ``signum``; stderr and the processes seen below."""
    deadline = time.monotonic() + WAIT
    seen: set[int] = set()
    while not moment():
        seen |= descendants(proc.pid)
        assert proc.poll() is None, f"ended before the moment: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.005)
    seen |= descendants(proc.pid)
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=WAIT)
    return err, seen


def one_line(proc: subprocess.Popen, err: str, signum: int) -> str:
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- a dask LocalCluster's start-up --------------------------------------------------------------


def _startup_moments(out: Path, proc: subprocess.Popen):
    held = lambda: lock.lock_path(out).exists()  # noqa: E731 - before distributed is imported
    first_child = lambda: len(descendants(proc.pid)) >= 1  # noqa: E731 - forkserver starting
    workers = lambda: len(descendants(proc.pid)) >= 3  # noqa: E731 - workers starting
    started = lambda: (out / "manifest.json").exists()  # noqa: E731 - cluster up, sweep on
    return {"lock": held, "first child": first_child, "workers": workers, "started": started}


@pytest.mark.parametrize("moment", ["lock", "first child", "workers", "started"])
def test_sigterm_during_a_dask_start_up_is_one_line(tmp_path, moment):
    pytest.importorskip("distributed")
    # far more work than a signal needs to arrive: an idle machine ran 4 points of 200,000
    # worlds to the end between the manifest appearing and the signal landing
    path = experiment(tmp_path, points=24, runs=200_000)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "negotiation_sim", "sweep", str(path),
                             "--out", str(out), "--executor", "dask", "--workers", "2",
                             "--quiet", "--no-plots"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err, seen = signal_at(proc, _startup_moments(out, proc)[moment], signal.SIGTERM)
    line = one_line(proc, err, signal.SIGTERM)
    assert line.startswith("error: interrupted (SIGTERM)"), line
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in seen):
        time.sleep(0.05)
    assert not [p for p in seen if alive(p)], "processes outlived the sweep"
    assert not lock.lock_path(out).exists()
    if (out / "manifest.json").exists():
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["status"] == "interrupted" and manifest["resume"].endswith("--resume")


# -- a process sweep's last step ------------------------------------------------------------------


def _parts_done(out: Path, total: int):
    def moment() -> bool:
        runs = out / "runs"
        return runs.is_dir() and len(list(runs.glob("part-*.parquet"))) == total
    return moment


@pytest.mark.parametrize("moment", ["summarising", "drawing"])
def test_sighup_while_a_process_sweep_summarises_or_draws_leaves_it_interrupted(tmp_path,
                                                                                moment):
    points = 24
    path = experiment(tmp_path, points=points)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "negotiation_sim", "sweep", str(path),
                             "--out", str(out), "--executor", "processes", "--workers", "2",
                             "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    when = (_parts_done(out, 2 * points) if moment == "summarising"
            else (lambda: (out / "summary.parquet").exists()))
    err, _ = signal_at(proc, when, signal.SIGHUP)
    line = one_line(proc, err, signal.SIGHUP)
    assert "interrupted (SIGHUP)" in line and "--resume" in line, line
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted", manifest["status"]
    assert manifest["resume"].endswith("--resume")
    assert manifest["sessions"][-1]["interrupted"] == "SIGHUP"
    res = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--resume", "-q"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["figures"]


def test_an_interrupt_while_summarising_in_process_marks_the_manifest(tmp_path, monkeypatch):
    path = experiment(tmp_path, points=2)
    out = tmp_path / "o"

    real, calls = sweeps.summarise, []

    def stop(*args, **kw):  # the first summary is interrupted, that of the points done is not
        calls.append(1)
        if len(calls) == 1:
            raise Interrupted(signal.SIGHUP)
        return real(*args, **kw)

    monkeypatch.setattr(sweeps, "summarise", stop)
    with pytest.raises(ns.SweepInterrupted):
        ns.sweep(path, out=out, plots=False)
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


@pytest.mark.parametrize("how", ["raised", "swallowed"])
def test_an_interrupt_while_drawing_in_process_marks_the_manifest(tmp_path, monkeypatch, how):
    """An interrupt while the figures are drawn leaves the manifest ``interrupted`` with the
    command that finishes the sweep, never 'complete': one raised there, and one whose
    interrupt was swallowed (a weakref callback of matplotlib's, where Python drops it, after
    the handler recorded the signal)."""
    from negotiation_sim.plots import figures
    from negotiation_sim.run import signals

    path = experiment(tmp_path, points=2)
    out = tmp_path / "o"
    real = figures.write_figures
    signum = signal.SIGTERM if how == "raised" else signal.SIGHUP

    def draw(*args, **kw):
        if how == "raised":
            raise Interrupted(signum)
        signals._RECEIVED.append(signum)  # what the handler records before its interrupt is lost
        return real(*args, **kw)

    monkeypatch.setattr(figures, "write_figures", draw)
    with pytest.raises(ns.SweepInterrupted, match="--resume"):
        ns.sweep(path, out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["sessions"][-1]["interrupted"] == signal.Signals(signum).name
    assert not signals._RECEIVED  # the block that took it forgets it as it ends


# -- run, and interrupts a finaliser drops --------------------------------------------------------


@pytest.mark.parametrize("moment", ["lock", "staging", "rows"])
def test_sighup_to_run_never_exits_0(tmp_path, moment):
    scenario = write_yaml(tmp_path / "small.yaml", SMALL)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "negotiation_sim", "run", str(scenario),
                             "--runs", "400000", "--out", str(out), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def staging(what: str):
        return [p for p in tmp_path.iterdir() if p.name.startswith(".o.negsim-")
                and (what == "dir" or (p / ".runs.parquet.tmp").exists())]

    when = {"lock": lambda: lock.lock_path(out).exists(),
            "staging": lambda: bool(staging("dir")),
            "rows": lambda: bool(staging("rows"))}[moment]
    err, _ = signal_at(proc, when, signal.SIGHUP)
    line = one_line(proc, err, signal.SIGHUP)
    assert line == "error: interrupted (SIGHUP)", line
    assert not out.exists() and not staging("dir")


# The end of both scripts: go on for a second (the signal arrives in there), say so, and leave
# with the interrupt's exit code.
GO_ON = """        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:
            pass
        print("went on")
except Interrupted as err:
    print("interrupted", err.signum)
    sys.exit(err.exit_code)
"""

# Both finaliser scripts: an object whose __del__ sends SIGHUP and goes on while it arrives.
DROPPER = """
import os, signal, sys, time, weakref
from negotiation_sim.run.signals import Interrupted, interruptible, stop_if_dropped

class Dropper:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGHUP)
        total = 0
        for i in range(100_000):  # the handler runs in here, where Python drops exceptions
            total += i
"""

FINALISER = DROPPER + """
try:
    with interruptible():
        Dropper()
""" + GO_ON


def test_an_interrupt_in_a_finaliser_is_not_printed_and_still_ends_the_block():
    proc = subprocess.run([sys.executable, "-c", FINALISER], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.split() == ["went", "on", "interrupted", str(int(signal.SIGHUP))], proc
    assert proc.returncode == 128 + signal.SIGHUP
    assert proc.stderr == "", proc.stderr


NESTED = DROPPER + """
class Held:
    pass

def callback(ref):  # a weakref's callback (as a WeakValueDictionary's clean-up): not a finaliser
    os.kill(os.getpid(), signal.SIGHUP)
    total = 0
    for i in range(100_000):  # the handler raises in here, and Python drops it
        total += i

try:
    with interruptible():  # the command line's block
        if sys.argv[1] == "__del__":
            Dropper()  # a finaliser while the command starts up takes the signal
        else:
            held = Held()
            ref = weakref.ref(held, callback)
            del held
        print("started")
        with interruptible():  # the command's own block, inside it
            for step in range(50):
                stop_if_dropped()  # long work polls between its steps
                time.sleep(0.02)
            print("ran to the end")
except Interrupted as err:
    print("interrupted", err.signum)
    sys.exit(err.exit_code)
"""


@pytest.mark.parametrize("where", ["__del__", "weakref callback"])
def test_a_signal_a_finaliser_dropped_stops_the_command_that_starts_after_it(where):
    """A signal dropped by a finaliser before a command's own ``interruptible()`` block (while
    the command line started up) stops that block at once: the block used to forget it, the
    work ran to the end, and only the exit code said it had been interrupted (a dask sweep
    signalled as it took its lock finished every task and wrote 'complete'). The same for a
    weakref's callback, which Python drops the exception of through ``sys.unraisablehook``
    (the record long work polls missed it: twice in one CI run)."""
    proc = subprocess.run([sys.executable, "-c", NESTED, where], capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.split() == ["started", "interrupted", str(int(signal.SIGHUP))], proc
    assert proc.returncode == 128 + signal.SIGHUP
    assert proc.stderr == "", proc.stderr


SWALLOWED = """
import os, signal, sys, time
from negotiation_sim.run.signals import Interrupted, interruptible, stop_if_dropped

def swallow():  # a library that catches everything, and goes on
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        total = 0
        for i in range(100_000):  # the handler raises in here
            total += i
    except BaseException:
        pass
    print("swallowed")

try:
    with interruptible():  # the command line's block
        if sys.argv[1] == "as an inner block opens":
            swallow()
            with interruptible():  # the command's own
                print("ran the command")
        else:
            with interruptible():
                swallow()
                if sys.argv[1] == "at the next step":
                    for step in range(50):
                        stop_if_dropped()  # long work polls between its steps
                        time.sleep(0.02)
                print("ran to the end")
            print("went on after it")
except Interrupted as err:
    print("interrupted", err.signum)
    sys.exit(err.exit_code)
"""


@pytest.mark.parametrize("where", ["at the next step", "as an inner block opens",
                                   "at the block's end"])
def test_a_signal_whose_interrupt_was_swallowed_still_stops_the_command(where):
    """Code that catches the interrupt and goes on (a library's ``except BaseException``)
    cannot make a signal forgotten: long work stops at its next step, a block opened after it
    stops as it opens, and a block that ends without an exception ends with the signal, a
    command's own inside the command line's too (a sweep's figures drawn after a signal that
    a weakref callback dropped then left the manifest 'complete'). A dask
    sweep signalled as it took its lock once ran all 24 of its points and wrote 'complete'
    after every finaliser path had been closed: only the exit code said it was interrupted."""
    proc = subprocess.run([sys.executable, "-c", SWALLOWED, where], capture_output=True,
                          text=True, timeout=60)
    expected = {"at the next step": ["swallowed"], "as an inner block opens": ["swallowed"],
                "at the block's end": ["swallowed", "ran", "to", "the", "end"]}[where]
    assert proc.stdout.split() == [*expected, "interrupted", str(int(signal.SIGTERM))], proc
    assert proc.returncode == 128 + signal.SIGTERM
    assert proc.stderr == "", proc.stderr


CALLBACK = """
import multiprocessing.util, os, signal, sys, time, weakref
from negotiation_sim.run.signals import Interrupted, interruptible

class Held:
    pass

def cleanup():  # as a pool's semaphore is unlinked, then the resource tracker told
    os.kill(os.getpid(), signal.SIGHUP)
    total = 0
    for i in range(100_000):  # the handler runs in here
        total += i
    print("cleaned")

try:
    with interruptible():
        held = Held()
        if sys.argv[1] == "multiprocessing":
            multiprocessing.util.Finalize(held, cleanup, exitpriority=0)
        else:
            weakref.finalize(held, cleanup)
        del held
""" + GO_ON


@pytest.mark.parametrize("kind", ["multiprocessing", "weakref"])
def test_an_interrupt_in_a_finaliser_callback_lets_it_finish(kind):
    """A process pool's semaphores are unlinked by a ``Finalize`` callback when the garbage
    collector takes the pool: an interrupt raised in there stops the callback before it tells
    the resource tracker, which then warns of a leaked semaphore after the one line (seen
    once in a sweep's drawing). The callback finishes; the interrupt ends the block."""
    proc = subprocess.run([sys.executable, "-c", CALLBACK, kind], capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.split() == ["cleaned", "went", "on", "interrupted",
                                   str(int(signal.SIGHUP))], proc
    assert proc.returncode == 128 + signal.SIGHUP
    assert proc.stderr == "", proc.stderr
