"""Sweeps: the results directory, bit-identical results across executors, resume after kill -9,
failed tasks, and every shipped experiment at small size."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.experiment import load_experiment
from negotiation_sim.run.sweep import SweepError, run_sweep
from negotiation_sim.run import chunks as runner_module
from negotiation_sim.run.executors import make_executor
from negotiation_sim.run.executors.dask import DaskExecutor
from negotiation_sim.run.tasks import plan_tasks

cli = CliRunner()

GRID = """
sweep:
  method: grid
  parameters:
    actors.russia.reservation.high: [0.4, 0.6]
    actors.germany.offer.guarantees: [0.3, 0.7]
"""


def experiment(tmp_path: Path, data: dict, text: str = GRID, runs: int = 2100,
               chunk: int = 1024) -> Path:
    write_yaml(tmp_path / "small.yaml", data)
    path = tmp_path / "exp.yaml"
    path.write_text(f"name: t\nscenario: small.yaml\nruns: {runs}\nseed: 9\n"
                    f"chunk_size: {chunk}\n" + text)
    return path


def files(out: Path) -> dict[str, bytes]:
    """Every data file but the manifest (which holds timings and hosts), by relative path.

    Figures are left out: they are drawn from these files after the sweep (and a run made
    through the Python API, or with --no-plots, has none).
    """
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "manifest.json" and p.suffix != ".png"}


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       dashboard_address=":0")
    yield cluster
    cluster.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted serial sweep of the grid experiment (2 x 2 points, 3 chunks each)."""
    from conftest import SMALL

    tmp = tmp_path_factory.mktemp("reference")
    path = experiment(tmp, SMALL)
    report = run_sweep(load_experiment(path), tmp / "out", make_executor("serial"))
    assert report.ok and report.ran == 12
    return path, tmp / "out"


def test_results_directory_layout(reference):
    _, out = reference
    names = sorted(files(out))
    assert names == ["points.parquet", *(f"runs/part-{p:06d}-{c:05d}.parquet"
                                         for p in range(4) for c in range(3)), "scenario.json",
                     "summary.parquet"]
    points = pq.read_table(out / "points.parquet").to_pylist()
    assert [(p["actors.russia.reservation.high"], p["actors.germany.offer.guarantees"])
            for p in points] == [(0.4, 0.3), (0.4, 0.7), (0.6, 0.3), (0.6, 0.7)]
    runs = pq.read_table(out / "runs").to_pandas()
    assert len(runs) == 4 * 2100 and runs.groupby("point").size().tolist() == [2100] * 4
    # the swept offer (a distribution in the scenario) is a fixed input at every point; the
    # reservation, whose upper bound is swept, stays random
    assert set(runs["input.actors.germany.offer.guarantees"]) == {0.3, 0.7}
    assert runs["input.actors.russia.reservation"].between(0.2, 0.6).all()
    summary = pq.read_table(out / "summary.parquet").to_pandas()
    shares = summary[["agreement", "ceasefire", "breakdown", "no_summit"]].sum(axis=1)
    assert shares.to_numpy() == pytest.approx(1.0)
    counts = runs.groupby("point")["outcome"].apply(lambda s: (s == "agreement").mean())
    assert summary["agreement"].to_numpy() == pytest.approx(counts.to_numpy())
    assert (summary["agreement.lo"] <= summary["agreement"]).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["tasks"]["done"] == 12
    assert manifest["seeding"]["entropy"] == 9
    assert manifest["seeding"]["spawn_key_prefix"] == ["point", "block"]
    assert len(manifest["experiment_hash"]) == len(manifest["scenario_hash"]) == 64


def test_a_point_is_the_same_as_negsim_run_of_its_scenario(reference):
    """Point p of a sweep draws from spawn key (p, block): a single run is point 0."""
    path, out = reference
    loaded = load_experiment(path)
    sc = loaded.point_scenario(0)
    chunk = runner_module.simulate_chunk(sc, 1024, seed=9, point=0, first_world=1024)
    part = pq.read_table(out / "runs" / "part-000000-00001.parquet")
    assert part["outcome"].to_pylist() == [["agreement", "ceasefire", "breakdown", "no_summit"][i]
                                            for i in chunk.outcome]


def test_a_one_point_experiment_is_negsim_run(tmp_path):
    from conftest import SMALL

    path = experiment(tmp_path, SMALL, "", runs=2100)
    assert cli.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "s"), "-q"]).exit_code == 0
    res = cli.invoke(app, ["run", str(tmp_path / "small.yaml"), "--runs", "2100", "--seed", "9",
                           "--out", str(tmp_path / "r"), "--no-plots", "-q"])
    assert res.exit_code == 0, res.output
    run = pq.read_table(tmp_path / "r" / "runs.parquet")
    swept = pq.read_table(tmp_path / "s" / "runs").drop_columns(["point"])
    assert swept.select(run.column_names).equals(run)


def test_common_random_numbers_give_every_point_the_same_worlds(tmp_path):
    from conftest import SMALL

    text = """
sweep:
  method: list
  points:
    - {label: a, protocol.rounds: 8}
    - {label: b, protocol.rounds: 8}
    - {label: c, actors.russia.walkout: 0.3}
"""
    for crn in (False, True):
        path = experiment(tmp_path, SMALL, text.replace("sweep:", f"common_random_numbers: {crn}\nsweep:"),
                          runs=1024)
        run_sweep(load_experiment(path), tmp_path / str(crn), make_executor("serial"))
        runs = pq.read_table(tmp_path / str(crn) / "runs").to_pandas()
        a, b, c = (runs[runs.point == p].reset_index(drop=True) for p in range(3))
        assert a["input.actors.russia.reservation"].equals(b["input.actors.russia.reservation"]) == crn
        # another input changed: the reservation draws stay common all the same
        assert a["input.actors.russia.reservation"].equals(c["input.actors.russia.reservation"]) == crn


def test_processes_and_dask_give_identical_files(reference, dask_cluster, tmp_path):
    path, ref = reference
    loaded = load_experiment(path)
    with make_executor("processes", workers=2) as ex:
        run_sweep(loaded, tmp_path / "proc", ex)
    with DaskExecutor(scheduler=dask_cluster.scheduler_address) as ex:
        assert ex.workers == 2
        run_sweep(loaded, tmp_path / "dask", ex)
    assert files(tmp_path / "proc") == files(ref)
    assert files(tmp_path / "dask") == files(ref)


def test_cli_sweep_on_a_dask_scheduler_file(reference, dask_cluster, tmp_path):
    """--scheduler takes a scheduler file too (how SLURM jobs find their scheduler)."""
    path, ref = reference
    sfile = tmp_path / "scheduler.json"
    sfile.write_text(json.dumps({"address": dask_cluster.scheduler_address}))
    res = cli.invoke(app, ["sweep", str(path), "--scheduler", str(sfile),
                           "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "agreement" in res.stdout.lower() or "Agreement" in res.stdout
    assert files(tmp_path / "o") == files(ref)
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["sessions"][-1]["executor"] == "dask"


def test_resume_after_kill_9_gives_identical_files(tmp_path):
    """Kill a real sweep process mid-run, then --resume: the files equal an uninterrupted run."""
    from conftest import SMALL

    points = "\n".join(f"      - {0.3 + 0.01 * i:.2f}" for i in range(48))
    text = f"""
sweep:
  method: grid
  parameters:
    actors.russia.reservation.high:
{points}
"""
    path = experiment(tmp_path, SMALL, text, runs=1024)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "negotiation_sim", "sweep", str(path),
                             "--out", str(out), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / "runs").glob("part-*.parquet"))) >= 5 if (out / "runs").exists() else False:
            break
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    done = len(list((out / "runs").glob("part-*.parquet")))
    assert 5 <= done < 48, "the sweep was not interrupted mid-run"
    assert not (out / "summary.parquet").exists()

    res = cli.invoke(app, ["sweep", str(path), "--out", str(out)])  # without --resume: refused
    assert res.exit_code == 1 and "--resume" in res.stderr
    res = cli.invoke(app, ["sweep", str(path), "--out", str(out), "--resume", "--quiet"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["sessions"]) == 2
    assert manifest["sessions"][-1]["tasks_run"] == 48 - done

    fresh = tmp_path / "fresh"
    run_sweep(load_experiment(path), fresh, make_executor("serial"))
    assert files(out) == files(fresh)


def test_resume_refuses_a_changed_experiment(reference, tmp_path):
    path, _ = reference
    out = tmp_path / "o"
    run_sweep(load_experiment(path), out, make_executor("serial"))
    path.write_text(path.read_text().replace("seed: 9", "seed: 10"))
    try:
        with pytest.raises(SweepError, match="seed differs"):
            run_sweep(load_experiment(path), out, make_executor("serial"), resume=True)
    finally:
        path.write_text(path.read_text().replace("seed: 10", "seed: 9"))


def test_a_failing_task_is_recorded_and_the_rest_go_on(reference, tmp_path, monkeypatch):
    path, ref = reference
    real = runner_module.simulate_chunk

    def flaky(scenario, n, *, point, first_world, **kw):
        if point == 2 and first_world == 1024:
            raise RuntimeError("solver exploded")
        return real(scenario, n, point=point, first_world=first_world, **kw)

    monkeypatch.setattr(runner_module, "simulate_chunk", flaky)
    out = tmp_path / "o"
    res = cli.invoke(app, ["sweep", str(path), "--out", str(out), "--quiet"])
    assert res.exit_code == 1
    assert "1 of 12 tasks failed" in res.stderr
    assert "point 2 chunk 1: RuntimeError: solver exploded" in res.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    assert manifest["tasks"]["failed"][0]["point"] == 2
    summary = pq.read_table(out / "summary.parquet")
    assert summary["point"].to_pylist() == [0, 1, 3]  # only complete points are summarised

    monkeypatch.setattr(runner_module, "simulate_chunk", real)
    res = cli.invoke(app, ["sweep", str(path), "--out", str(out), "--resume", "--quiet"])
    assert res.exit_code == 0, res.output
    assert files(out) == files(ref)


def test_memory_is_bounded_by_the_window_of_tasks_in_flight():
    """imap_unordered never holds more than ``window`` submitted tasks."""
    from negotiation_sim.run.executors.base import imap_unordered
    from negotiation_sim.run.executors.serial import SerialExecutor

    live, peak = 0, 0

    class Counting(SerialExecutor):
        def submit(self, fn, *args):
            nonlocal live, peak
            live += 1
            peak = max(peak, live)
            return super().submit(fn, *args)

    seen = []
    for _item, fut in imap_unordered(Counting(), lambda x: x * x, range(100), lambda x: (x,),
                                    window=3):
        live -= 1
        seen.append(fut.result())
    assert peak == 3 and sorted(seen) == [x * x for x in range(100)]
    assert len(plan_tasks(3, 5000, 2048)) == 9


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_experiments_run_at_small_size(path, tmp_path):
    data = yaml.safe_load(path.read_text())
    data["scenario"] = str((path.parent / data["scenario"]).resolve())
    data["runs"] = 64
    sweep = data["sweep"]
    if sweep["method"] in ("sobol", "morris", "lhs"):
        sweep["samples"] = 2
    small = write_yaml(tmp_path / path.name, data)
    res = cli.invoke(app, ["sweep", str(small), "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0, res.output
    n = len(load_experiment(small).design)
    assert pq.read_table(tmp_path / "o" / "summary.parquet").num_rows == n


def test_sweep_writes_its_figures_unless_told_not_to(tmp_path):
    from conftest import SMALL

    path = experiment(tmp_path, SMALL, runs=1024)
    res = cli.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "a"), "-q"])
    assert res.exit_code == 0, res.output
    pngs = sorted(p.name for p in (tmp_path / "a").glob("*.png"))
    assert "outcomes.png" in pngs and len(pngs) >= 2
    res = cli.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "b"), "-q", "--no-plots"])
    assert res.exit_code == 0 and not list((tmp_path / "b").glob("*.png"))


def test_a_task_carries_only_its_own_points_values():
    """Thousands of points must not ship all their fixed values with every task."""
    import pickle

    from negotiation_sim.results.tables import Layout

    fixed = {p: {f"actors.a.n{i}": float(i) for i in range(60)} for p in range(4000)}
    layout = Layout(["x"], ["k"], ["a"], fixed)
    one = layout.for_point(7)
    assert one.fixed == {7: fixed[7]}
    assert len(pickle.dumps(one)) < len(pickle.dumps(layout)) / 1000


@pytest.mark.parametrize("content, says", [
    ("{}", 'no "address"'), ("[]", "a JSON list"), ("null", "a JSON NoneType"),
    ('{"address": 5}', "address 5"), ('{"address": "tcp://"}', "address 'tcp://'"),
    ("not json", "JSONDecodeError"), (b"\xff\xfe", "UnicodeDecodeError"),
], ids=["empty", "list", "null", "number", "no-host", "not-json", "not-utf8"])
def test_a_scheduler_file_that_is_not_one_is_one_line(reference, tmp_path, content, says):
    pytest.importorskip("distributed")
    path, _ = reference
    sched = tmp_path / "scheduler.json"
    sched.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "o"
    res = cli.invoke(app, ["sweep", str(path), "--executor", "dask", "--scheduler", str(sched),
                           "--out", str(out)])
    assert res.exit_code == 1, res.output
    line = res.stderr.strip()
    assert "\n" not in line and "Traceback" not in res.output
    assert "not a dask scheduler file" in line and says in line, line
    assert not out.exists()


@pytest.mark.parametrize("address", ["no-such-file.json", "garbage", "."])
def test_a_scheduler_that_is_neither_an_address_nor_a_file_is_one_line(reference, tmp_path,
                                                                      address):
    pytest.importorskip("distributed")
    path, _ = reference
    res = cli.invoke(app, ["sweep", str(path), "--executor", "dask", "--scheduler", address,
                           "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert len(res.stderr.strip().splitlines()) == 1
    assert "scheduler" in res.stderr
