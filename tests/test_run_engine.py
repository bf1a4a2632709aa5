"""The engine (run.engine): one run's chunks on any executor give the same bits as serial."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT, SMALL, make_scenario, write_yaml
from typer.testing import CliRunner

import negotiation_sim as ns
from negotiation_sim.cli import app
from negotiation_sim.run.engine import simulate
from negotiation_sim.run.executors import make_executor

RUNS, CHUNK = 2100, 1024  # three chunks, the last one short


def run_files(tmp_path, name: str, *extra: str) -> dict[str, bytes]:
    scenario = tmp_path / "s.yaml"
    if not scenario.exists():
        write_yaml(scenario, SMALL)
    out = tmp_path / name
    res = CliRunner().invoke(app, ["run", str(scenario), "--runs", str(RUNS), "--seed", "5",
                                   "--chunk-size", str(CHUNK), "--out", str(out), "--no-plots",
                                   "-q", *extra])
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"] == RUNS
    return {f: (out / f).read_bytes() for f in ("summary.json", "runs.parquet")}


def test_run_on_processes_and_dask_gives_the_serial_files_bit_for_bit(tmp_path):
    serial = run_files(tmp_path, "serial")
    assert run_files(tmp_path, "processes", "--executor", "processes", "--workers", "2") == serial
    pytest.importorskip("distributed")
    assert run_files(tmp_path, "dask", "--executor", "dask", "--workers", "1") == serial


def test_chunks_that_finish_out_of_order_are_folded_in_order():
    """A pool whose futures complete last-submitted first still gives the serial summary."""
    sc = make_scenario(SMALL)

    class Backwards:
        kind, workers = "backwards", 2

        def __init__(self):
            self.inner = make_executor("serial")

        def submit(self, fn, *args):
            return self.inner.submit(fn, *args)

        def wait_first(self, futures):
            return {max(futures, key=id)}  # one at a time, in no particular order

    seen = []
    got = simulate(sc, RUNS, seed=5, chunk_size=CHUNK, executor=Backwards(),
                   consumers=[lambda c: seen.append(c.first_world)])
    want = simulate(sc, RUNS, seed=5, chunk_size=CHUNK)
    assert seen == [0, 1024, 2048]
    assert got.summary("s", 5) == want.summary("s", 5)


def test_worker_processes_start_without_forking_a_multi_threaded_process(tmp_path):
    """A run on worker processes, in a fresh interpreter with every DeprecationWarning shown:
    Python never warns that fork() was called in a multi-threaded process (numpy's BLAS pool
    and pyarrow's allocator thread exist once the code is imported), neither here nor in the
    forkserver that starts the workers; and the files are the serial run's."""
    import subprocess
    import sys

    serial = run_files(tmp_path, "serial")
    out = tmp_path / "procs"
    proc = subprocess.run(
        [sys.executable, "-W", "always::DeprecationWarning", "-m", "negotiation_sim", "run",
         str(tmp_path / "s.yaml"), "--runs", str(RUNS), "--seed", "5", "--chunk-size",
         str(CHUNK), "--out", str(out), "--no-plots", "-q", "--executor", "processes",
         "--workers", "2"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "multi-threaded" not in proc.stderr and "fork()" not in proc.stderr, proc.stderr
    assert {f: (out / f).read_bytes() for f in serial} == serial


def test_single_threaded_libraries_restores_the_environment(monkeypatch):
    import os

    from negotiation_sim.run.executors.processes import (
        THREAD_POOL_VARIABLES,
        single_threaded_libraries,
    )

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with single_threaded_libraries():
        assert {k: os.environ[k] for k in THREAD_POOL_VARIABLES} == THREAD_POOL_VARIABLES
    assert os.environ["OMP_NUM_THREADS"] == "7" and "OPENBLAS_NUM_THREADS" not in os.environ


def test_compare_takes_an_executor_and_gives_the_serial_comparison(tmp_path):
    path = tmp_path / "s.yaml"
    write_yaml(path, SMALL)
    with make_executor("processes", workers=2) as ex:
        cmp = ns.compare([path, path], runs=1100, seed=1, chunk_size=CHUNK, executor=ex)
    serial = ns.compare([path, path], runs=1100, seed=1, chunk_size=CHUNK)
    assert cmp.as_dict() == serial.as_dict()


def test_a_scheduler_without_dask_is_bad_usage(tmp_path):
    path = tmp_path / "s.yaml"
    write_yaml(path, SMALL)
    res = CliRunner().invoke(app, ["run", str(path), "--scheduler", "tcp://127.0.0.1:1",
                                   "--executor", "processes"])
    assert res.exit_code == 2 and "--scheduler needs --executor dask" in res.output


def test_target_and_backtest_commands_take_an_executor(tmp_path):
    path = tmp_path / "s.yaml"
    write_yaml(path, SMALL)
    args = ["target", str(path), "--vary", "actors.ukraine.reservation=0:1", "--share", "0.9",
            "--runs", "1100", "--json"]
    serial = CliRunner().invoke(app, args)
    split = CliRunner().invoke(app, [*args, "--executor", "processes", "--workers", "2"])
    assert serial.exit_code == 0 and split.exit_code == 0, split.output
    assert json.loads(split.stdout) == json.loads(serial.stdout)


def test_results_do_not_depend_on_the_chunk_size_to_the_last_bit(tmp_path):
    """Chunk sizes 7, 100 and 2,000 (1,024-world chunks: 7 and 100 round up to one block, 2,000
    down) give the same files, byte for byte; the default chunk (one chunk of 3,000) gives the
    same summary and the same per-world rows."""
    import pyarrow.parquet as pq

    sc = ns.load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    files = {}
    for size in (7, 100, 2000):
        out = tmp_path / f"c{size}"
        ns.run(sc, runs=3000, seed=9, chunk_size=size, out=out, plots=False)
        files[size] = {f: (out / f).read_bytes() for f in ("summary.json", "runs.parquet")}
    assert files[7] == files[100] == files[2000]
    whole = ns.run(sc, runs=3000, seed=9, out=tmp_path / "whole", plots=False)
    assert json.loads(files[7]["summary.json"]) == whole.summary
    a, b = (pq.read_table(tmp_path / d / "runs.parquet").to_pandas() for d in ("c7", "whole"))
    assert list(a.columns) == list(b.columns)
    for column in a.columns:  # NaN where NaN, and every other value the same bits
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if x.dtype.kind == "f":
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), column
        else:
            assert (a[column].isna() == b[column].isna()).all(), column
            assert (a[column].dropna() == b[column].dropna()).all(), column


def test_the_sd_of_a_constant_term_is_zero_whatever_the_chunks():
    from negotiation_sim.core.outcomes import ChunkResult
    from negotiation_sim.results.summary import Accumulator

    def acc_of(sizes):
        acc = Accumulator(issues=["x"], formats=["f"], actors=["a"], max_round=3)
        first = 0
        for n in sizes:
            acc.add(ChunkResult(first, outcome=np.zeros(n, np.int8),
                                held_format=np.zeros(n, np.int8),
                                end_round=np.ones(n, np.int16), terms=np.full((1, n), 0.7),
                                utility=np.full((1, n), 0.3)))
            first += n
        return acc.summary("s", 0)

    one, split = acc_of([5000]), acc_of([1024, 2048, 1928])
    assert one["terms"]["x"]["sd"] == 0.0
    assert one == split
