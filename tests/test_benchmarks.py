"""The benchmark suite still runs (at a tiny size); speed itself is never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_benchmark_suite_runs_quickly_and_writes_results(tmp_path):
    out = tmp_path / "results.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                          "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    benches = {r["bench"] for r in data["results"]}
    assert benches >= {"throughput", "one_at_a_time", "memory", "sweep", "startup"}
    errors = [r for r in data["results"] if "error" in r]
    assert not errors, errors
    assert all(r["worlds_per_s"] > 0 for r in data["results"] if r["bench"] == "throughput")
    assert "| worlds per second |" in res.stdout
