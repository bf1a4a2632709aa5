"""The benchmark suite still runs: its in-process benchmarks at a few hundred worlds, and its
tables. Speed itself is never asserted here (benchmarks/ reports it as ratios)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))  # run.py imports variants from there
    spec = importlib.util.spec_from_file_location("negsim_bench", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.path.remove(str(ROOT / "benchmarks"))


def test_the_in_process_benchmarks_run_and_make_their_tables(bench):
    out: list[dict] = []
    bench.bench_throughput([300], 200, 1, out)
    bench.bench_one_at_a_time(3, 300, 1, out)
    bench.bench_reference(300, 1, out)
    bench.bench_limits(1, out)
    bench.bench_chunk_cost([64, 128], 1, out)
    errors = [r for r in out if "error" in r]
    assert not errors, errors
    benches = {r["bench"] for r in out}
    assert benches == {"throughput", "one_at_a_time", "reference", "limits", "chunk_cost"}
    assert all(r["worlds_per_s"] > 0 for r in out if r["bench"] == "throughput")
    text = bench.table(out)
    assert "| worlds per second |" in text and "| limits |" in text
    assert "| cost of one chunk |" in text
    assert len(text.splitlines()) == 2 + len(out)


def test_the_hand_kernel_counts_every_world_once(bench):
    counts = bench.hand_kernel(500, seed=1, chunk=128)
    assert counts.sum() == 500 and (counts >= 0).all()


def test_a_chunks_cost_is_the_line_through_its_times(bench):
    # 0.1 s a chunk plus 40 us a world, read back from the times it gives
    sizes = [2_048, 4_096, 8_192, 16_384]
    fixed, per_world = bench.chunk_cost(sizes, [0.1 + 40e-6 * n for n in sizes])
    assert fixed == pytest.approx(0.1) and per_world == pytest.approx(40e-6)
