"""Benchmark suite of negotiation_sim: throughput, ensemble vs one-at-a-time, memory, sweeps, start-up.

Run with ``make bench`` (or ``python benchmarks/run.py``); ``--quick`` runs every benchmark at a
tiny size (the test suite does this to check the suite still runs). Each figure is the median of
``--repeat`` repetitions after one warm-up. Results go to ``benchmarks/results.json`` and a
markdown table on stdout. Speed is compared as ratios measured in the same run, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "summit_baseline.yaml"


def timed(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def load(path: Path = BASELINE, **protocol):
    from negotiation_sim.config.scenario import Scenario, load_scenario

    sc = load_scenario(path)
    if protocol:
        data = sc.model_dump(mode="json", warnings=False, exclude_unset=True)
        data["protocol"] = {**data.get("protocol", {}), **protocol}
        sc = Scenario.model_validate(data)
    return sc


def run_ensemble(sc, n: int, seed: int = 0) -> None:
    from negotiation_sim.results.summary import Accumulator
    from negotiation_sim.run.chunks import iter_chunks

    acc = Accumulator.for_scenario(sc)
    for chunk in iter_chunks(sc, n, seed=seed):
        acc.add(chunk)


def run_one_at_a_time(sc, n: int) -> None:
    """What a conventional per-world Mesa run does: one model per world, in a loop."""
    from negotiation_sim.core.model import SummitModel

    for w in range(n):
        SummitModel(sc, 1, seed=0, point=w).run()


def bench_throughput(sizes, protocol_n, repeat, out):
    sc = load()
    for n in sizes:
        t = timed(lambda: run_ensemble(sc, n), repeat if n < 1_000_000 else 1)
        out.append({"bench": "throughput", "protocol": "mediated", "worlds": n,
                    "seconds": t, "worlds_per_s": n / t})
    for kind in ("alternating_offers", "expected_utility"):
        try:
            other = load(kind=kind)
        except Exception as err:  # protocol not available in this build
            out.append({"bench": "throughput", "protocol": kind, "error": str(err)})
            continue
        t = timed(lambda: run_ensemble(other, protocol_n), repeat)
        out.append({"bench": "throughput", "protocol": kind, "worlds": protocol_n,
                    "seconds": t, "worlds_per_s": protocol_n / t})


def _eu_variant(actors: int = 6, deadlock: bool = False):
    """The baseline under expected utility, with ``actors`` positioned actors (the six of the
    baseline plus guarantors without offers, placed evenly between Ukraine's and Russia's
    ideal points, clout 0.5, equal saliences). ``deadlock``: every world plays all ``rounds``
    rounds of dynamics on its own inputs (no summit block, values of war 0.99, no walk-outs,
    and every ideal point drawn uniformly within 0.05 of the baseline's, so that no two worlds
    share their inputs)."""
    from negotiation_sim.config.scenario import Scenario

    data = load().model_dump(mode="json", warnings=False, exclude_unset=True)
    data["protocol"] = {**data.get("protocol", {}), "kind": "expected_utility"}
    issues = list(data["issues"])
    ua, ru = data["actors"]["ukraine"]["position"], data["actors"]["russia"]["position"]
    extra = actors - 6
    for i in range(extra):
        t = (i + 1) / (extra + 1)
        data["actors"][f"extra_{i:02d}"] = {
            "role": "guarantor", "clout": 0.5,
            "position": {k: round((1 - t) * ua[k] + t * ru[k], 4) for k in issues},
            "salience": {k: 1.0 / len(issues) for k in issues}}
    if deadlock:
        data.pop("summit", None)
        for a in ("russia", "ukraine"):
            data["actors"][a].update(reservation=0.99, walkout=0.0)
            data["actors"][a].pop("audience_cost", None)  # they need a summit block
            data["actors"][a].pop("preconditions", None)
        for actor in data["actors"].values():
            actor["position"] = {k: {"dist": "uniform", "low": max(0.0, v - 0.05),
                                     "high": min(1.0, v + 0.05)}
                                 for k, v in actor.get("position", {}).items()}
    return Scenario.model_validate(data)


def _dump_scenario(sc, path: Path) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(sc.model_dump(mode="json", warnings=False,
                                                 exclude_unset=True), sort_keys=False))
    return path


def bench_expected_utility(n6, n30, repeat, out, rss_worlds=100_000):
    """Expected utility in one process: the baseline at 6 and 30 positioned actors as
    worlds/s and as a ratio to the mediated baseline timed in the same run (the machine-speed
    reference); the dynamics on inputs drawn in every world (all 10 rounds in every world) as
    world-rounds/s; peak memory at 10 and at 10,000 rounds in every world."""
    ref = load()
    t_ref = timed(lambda: run_ensemble(ref, n6), repeat)
    out.append({"bench": "expected_utility", "setting": "mediated baseline (reference)",
                "worlds": n6, "worlds_per_s": n6 / t_ref})
    for actors, n in ((6, n6), (30, n30)):
        sc = _eu_variant(actors)
        t = timed(lambda: run_ensemble(sc, n), repeat)
        out.append({"bench": "expected_utility", "setting": f"baseline, {actors} actors",
                    "worlds": n, "worlds_per_s": n / t,
                    "ratio_to_mediated": (n / t) / (n6 / t_ref)})
    for actors, n in ((6, n6 // 10), (30, n30 // 20)):
        dead = _eu_variant(actors, deadlock=True)
        rounds = dead.protocol.rounds
        t = timed(lambda: run_ensemble(dead, n), repeat)
        out.append({"bench": "expected_utility",
                    "setting": f"drawn ideal points, all {rounds} rounds in every world, "
                    f"{actors} actors", "worlds": n, "worlds_per_s": n / t,
                    "world_rounds_per_s": n * rounds / t})
    with tempfile.TemporaryDirectory() as tmp:
        for rounds, n in ((10, rss_worlds), (10_000, 100)):
            sc = _eu_variant(6, deadlock=True)
            sc = sc.model_copy(update={"protocol": sc.protocol.model_copy(
                update={"rounds": rounds})})
            path = _dump_scenario(sc, Path(tmp) / f"eu_{rounds}.yaml")
            res = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(path), str(n)],
                                 capture_output=True, text=True, check=True)
            out.append({"bench": "expected_utility", "setting": f"peak memory, drawn ideal "
                        f"points, {rounds:,} rounds in every world", "worlds": n,
                        "peak_rss_mb": int(res.stdout.strip()) / 1024.0})


def bench_one_at_a_time(n_single, n_ensemble, repeat, out):
    sc = load()
    t1 = timed(lambda: run_one_at_a_time(sc, n_single), max(1, repeat // 2))
    te = timed(lambda: run_ensemble(sc, n_ensemble), repeat)
    single, ensemble = n_single / t1, n_ensemble / te
    out.append({"bench": "one_at_a_time", "worlds": n_single, "worlds_per_s": single,
                "ensemble_worlds": n_ensemble, "ensemble_worlds_per_s": ensemble,
                "ratio": ensemble / single})


_MEMORY_SCRIPT = """
import resource, sys
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.results.summary import Accumulator
from negotiation_sim.run.chunks import iter_chunks
sc = load_scenario(sys.argv[1]); n = int(sys.argv[2])
acc = Accumulator.for_scenario(sc)
for chunk in iter_chunks(sc, n, seed=0):
    acc.add(chunk)
# VmHWM is this process's own peak (ru_maxrss would carry over the peak of the benchmark
# process it was forked from, since Linux keeps it across exec).
try:
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
except OSError:
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(hwm)
"""


def peak_rss_mb(n: int) -> float:
    res = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(BASELINE), str(n)],
                         capture_output=True, text=True, check=True)
    return int(res.stdout.strip()) / 1024.0  # KiB


def bench_memory(sizes, out):
    from negotiation_sim.config.defaults import DEFAULT_CHUNK
    from negotiation_sim.core.model import SummitModel

    base = peak_rss_mb(1)
    for n in sizes:
        out.append({"bench": "memory", "worlds": n, "peak_rss_mb": peak_rss_mb(n),
                    "baseline_rss_mb": base})
    m = SummitModel(load(), DEFAULT_CHUNK, seed=0)
    nbytes = _nbytes(m.params) + _nbytes(m.state)
    out.append({"bench": "memory", "state_bytes_per_world": nbytes / m.params.n})


def _nbytes(obj) -> int:
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, dict):
        return sum(_nbytes(v) for v in obj.values())
    if hasattr(obj, "__dataclass_fields__"):
        return sum(_nbytes(getattr(obj, f)) for f in obj.__dataclass_fields__)
    return 0


_EXPERIMENT = """name: bench-sweep
scenario: {scenario}
runs: {runs}
seed: 1
sweep:
  method: grid
  parameters:
    actors.us.pressure.russia: [0.0, 0.03, 0.06]
    actors.germany.offer.guarantees: [0.2, 0.5, 0.8]
"""


EXECUTORS = (("serial", ["--executor", "serial"]),
             ("processes-2", ["--executor", "processes", "--workers", "2"]),
             ("dask-2", ["--executor", "dask", "--workers", "2"]))


def bench_sweep(runs, out, executors=EXECUTORS):
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "bench.yaml"
        exp.write_text(_EXPERIMENT.format(scenario=BASELINE, runs=runs))
        times = {}
        for label, args in executors:
            t = time.perf_counter()
            res = subprocess.run([sys.executable, "-m", "negotiation_sim", "sweep", str(exp),
                                  "--out", str(Path(tmp) / label), "--quiet", "--no-plots",
                                  *args],
                                 capture_output=True, text=True)
            elapsed = time.perf_counter() - t
            if res.returncode != 0:
                out.append({"bench": "sweep", "executor": label,
                            "error": (res.stderr.strip().splitlines() or ["?"])[-1]})
                continue
            manifest = json.loads((Path(tmp) / label / "manifest.json").read_text())
            phase = manifest["sessions"][-1]["seconds"]  # the tasks alone, without start-up
            times[label] = (elapsed, phase)
            out.append({"bench": "sweep", "executor": label, "points": 9, "worlds": 9 * runs,
                        "seconds": elapsed, "sweep_seconds": phase})
        for label in ("processes-2", "dask-2"):
            if "serial" in times and label in times:
                speedup = times["serial"][0] / times[label][0]
                phase_speedup = times["serial"][1] / times[label][1]
                out.append({"bench": "sweep_efficiency", "executor": label, "speedup": speedup,
                            "parallel_efficiency": speedup / 2,
                            "phase_speedup": phase_speedup,
                            "phase_efficiency": phase_speedup / 2})


def bench_startup(repeat, out):
    cmds = {"negsim --help": [sys.executable, "-m", "negotiation_sim", "--help"],
            "negsim run -n 1": [sys.executable, "-m", "negotiation_sim", "run", str(BASELINE),
                                "--runs", "1", "--json"]}
    for label, cmd in cmds.items():
        t = timed(lambda: subprocess.run(cmd, capture_output=True, check=True), repeat)
        out.append({"bench": "startup", "command": label, "seconds": t})


def table(results) -> str:
    rows = ["| benchmark | setting | result |", "| --- | --- | --- |"]
    for r in results:
        b = r["bench"]
        if "error" in r:
            rows.append(f"| {b} | {r.get('protocol') or r.get('executor')} | not run: {r['error']} |")
        elif b == "throughput":
            rows.append(f"| worlds per second | {r['protocol']}, N = {r['worlds']:,} | "
                        f"{r['worlds_per_s']:,.0f} ({r['seconds']:.3f} s) |")
        elif b == "one_at_a_time":
            rows.append(f"| one world per model | {r['worlds']:,} worlds | {r['worlds_per_s']:,.0f}/s; "
                        f"ensemble {r['ensemble_worlds_per_s']:,.0f}/s = **{r['ratio']:.0f}x** |")
        elif b == "memory" and "peak_rss_mb" in r:
            rows.append(f"| peak resident memory | N = {r['worlds']:,} | {r['peak_rss_mb']:.0f} MB "
                        f"(interpreter + libraries alone: {r['baseline_rss_mb']:.0f} MB) |")
        elif b == "memory":
            rows.append(f"| state per world | one chunk | {r['state_bytes_per_world']:,.0f} bytes |")
        elif b == "sweep":
            rows.append(f"| sweep 9 points x {r['worlds'] // 9:,} | {r['executor']} | "
                        f"{r['seconds']:.1f} s command, {r['sweep_seconds']:.1f} s of tasks |")
        elif b == "sweep_efficiency":
            rows.append(f"| sweep speed-up vs serial | {r['executor']} | tasks "
                        f"{r['phase_speedup']:.2f}x (efficiency {r['phase_efficiency']:.0%}); "
                        f"whole command {r['speedup']:.2f}x |")
        elif b == "startup":
            rows.append(f"| start-up | `{r['command']}` | {r['seconds']:.2f} s |")
        elif b == "expected_utility" and "peak_rss_mb" in r:
            rows.append(f"| expected utility | {r['setting']}, N = {r['worlds']:,} | "
                        f"{r['peak_rss_mb']:.0f} MB |")
        elif b == "expected_utility":
            extra = (f"; {r['world_rounds_per_s']:,.0f} world-rounds/s"
                     if "world_rounds_per_s" in r else "")
            extra += (f"; **{r['ratio_to_mediated']:.2f}x** the mediated baseline"
                      if "ratio_to_mediated" in r else "")
            rows.append(f"| expected utility | {r['setting']}, N = {r['worlds']:,} | "
                        f"{r['worlds_per_s']:,.0f} worlds/s{extra} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks the suite runs")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions per figure (median)")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run only these: throughput one_at_a_time memory sweep startup "
                    "expected_utility")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = ap.parse_args(argv)
    q = args.quick
    repeat = 1 if q else args.repeat
    plan = {
        "throughput": lambda o: bench_throughput(
            [1_000, 5_000] if q else [1_000, 10_000, 100_000, 1_000_000], 2_000 if q else 100_000,
            repeat, o),
        "one_at_a_time": lambda o: bench_one_at_a_time(20 if q else 2_000,
                                                       2_000 if q else 100_000, repeat, o),
        "memory": lambda o: bench_memory([2_000, 20_000] if q else [100_000, 10_000_000], o),
        "sweep": lambda o: bench_sweep(1_000 if q else 100_000, o,
                                       EXECUTORS[:2] if q else EXECUTORS),
        "startup": lambda o: bench_startup(1 if q else repeat, o),
        "expected_utility": lambda o: bench_expected_utility(
            2_000 if q else 100_000, 500 if q else 20_000, repeat, o,
            rss_worlds=2_000 if q else 100_000),
    }
    results: list[dict] = []
    for name, fn in plan.items():
        if args.only is None or name in args.only:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            fn(results)
    meta = {"quick": q, "repeat": repeat, "python": platform.python_version(),
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    os.replace(tmp, args.out)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
