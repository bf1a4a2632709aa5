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


def timed(fn, repeat: int, warm: bool = True) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs after one warm-up (``warm``: False
    for a large run whose code a smaller one has just warmed up)."""
    if warm:
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


def run_ensemble(sc, n: int, seed: int = 0, solutions: bool = True) -> None:
    """``n`` worlds into a summary, by the engine every command uses (in this process)."""
    from negotiation_sim.run.engine import simulate

    simulate(sc, n, seed=seed, solutions=solutions)


def run_one_at_a_time(sc, n: int) -> None:
    """What a conventional per-world Mesa run does: one model per world, in a loop."""
    from negotiation_sim.core.model import SummitModel

    for w in range(n):
        SummitModel(sc, 1, seed=0, point=w).run()


# -- a hand-written reference kernel -------------------------------------------------------------

def hand_kernel(n: int, seed: int = 0, chunk: int = 16_384) -> np.ndarray:
    """A simpler summit model written straight in numpy: the yardstick of the engine's speed.

    Model v1 on the baseline's numbers: two principals with linear utilities on the four
    issues, complete information, the Nash text on the values of war in the box of red lines
    and caps (the closed form on the piecewise-linear Pareto frontier, built once), one round
    after another with pressure, walk-outs and a ceasefire package at the end, ended worlds
    compacted out with ``take``. No formats, audience costs, private information, events or
    durability; its own random numbers. It does per world what any ensemble engine must do at
    least (draw, solve, answer, compact), with no Python per round beyond a dozen numpy calls
    per array. Returns the outcome counts ``(agreement, ceasefire, breakdown)``.
    """
    # the baseline's principals (Russia, Ukraine), its box and its ceasefire package
    p1 = np.array([1.0, 1.0, 0.2, 1.0]); s1 = np.array([0.4, 0.3, 0.15, 0.15])
    p2 = np.array([0.0, 0.0, 1.0, 0.0]); s2 = np.array([0.4, 0.2, 0.3, 0.1])
    lo = np.array([0.7, 0.5, 0.0, 0.0]); hi = np.array([0.8, 0.55, 0.5, 0.5])
    cease = np.array([0.75, 0.2, 0.5, 0.0])
    a1, a2 = np.clip(p1, lo, hi), np.clip(p2, lo, hi)
    g1 = s1 * (np.abs(a2 - p1) - np.abs(a1 - p1))
    g2 = s2 * (np.abs(a1 - p2) - np.abs(a2 - p2))
    order = np.argsort(np.where(g1 + g2 > 0, g2 / np.maximum(g1 + g2, 1e-300), 0.0),
                       kind="stable")
    a1, a2, g1, g2 = a1[order], a2[order], g1[order], g2[order]
    start1 = (s1[order] * (1 - np.abs(a2 - p1[order]))).sum() + np.cumsum(g1) - g1
    start2 = (s2[order] * (1 - np.abs(a2 - p2[order]))).sum() - (np.cumsum(g2) - g2)
    c1, c2 = 1.3, 1.0
    u_cease = np.array([(s1 * (1 - np.abs(cease - p1))).sum(),
                        (s2 * (1 - np.abs(cease - p2))).sum()])
    counts = np.zeros(3, dtype=np.int64)
    rng = np.random.default_rng(seed)
    K = len(p1)
    col = np.arange(K)[:, None]
    for first in range(0, n, chunk):
        m = min(chunk, n - first)
        w = np.stack([rng.uniform(0.45, 0.78, m), rng.uniform(0.3, 0.5, m)])
        walk = np.stack([rng.uniform(0.03, 0.1, m), rng.uniform(0.01, 0.05, m)])
        press = np.stack([rng.triangular(0.0, 0.008, 0.025, m), rng.uniform(0.0, 0.004, m)])
        for rnd in range(1, 11):
            y1 = start1[:, None] - w[0]  # (K, m) surpluses at the segments' starts
            y2 = start2[:, None] - w[1]
            with np.errstate(divide="ignore", invalid="ignore"):
                t_lo = np.where(g1[:, None] > 0, np.maximum(0.0, -y1 / g1[:, None]),
                                np.where(y1 >= -1e-9, 0.0, np.inf))
                t_hi = np.where(g2[:, None] > 0, np.minimum(1.0, y2 / g2[:, None]),
                                np.where(y2 >= -1e-9, 1.0, -np.inf))
                t = (c1 * g1[:, None] * y2 - c2 * g2[:, None] * y1) / (
                    (c1 + c2) * g1[:, None] * g2[:, None])
                t = np.clip(np.clip(t, t_lo, np.maximum(t_lo, t_hi)), 0.0, 1.0)
                value = (c1 * np.log(np.maximum(y1 + t * g1[:, None], 1e-300))
                         + c2 * np.log(np.maximum(y2 - t * g2[:, None], 1e-300)))
            ok = t_lo <= t_hi + 1e-9
            best = np.argmax(np.where(ok, value, -np.inf), axis=0)
            tb = np.take_along_axis(t, best[None], axis=0)[0]
            frac = np.where(col < best, 1.0, np.where(col == best, tb, 0.0))
            text = a2[:, None] + frac * (a1 - a2)[:, None]
            u = np.stack([(s1[order][:, None] * (1 - np.abs(text - p1[order][:, None]))).sum(0),
                          (s2[order][:, None] * (1 - np.abs(text - p2[order][:, None]))).sum(0)])
            accept = u >= w - 1e-9
            agree = accept.all(axis=0) & ok.any(axis=0)
            walked = (~accept & (rng.random((2, m)) < walk)).any(axis=0) & ~agree
            failed = walked | (rnd == 10) & ~agree
            cease_ok = (u_cease[:, None] >= w - 1e-9).all(axis=0)
            counts += (int(agree.sum()), int((failed & cease_ok).sum()),
                       int((failed & ~cease_ok).sum()))
            w = w - press
            keep = np.flatnonzero(~(agree | failed))
            w, walk, press = w.take(keep, axis=1), walk.take(keep, axis=1), press.take(keep, axis=1)
            m = keep.size
            if m == 0:
                break
    return counts


def paired(fn_a, fn_b, repeat: int) -> tuple[float, float, float]:
    """Median times of ``fn_a`` and ``fn_b`` run in turns (after one warm-up each) and the
    median of their per-pair ratios ``t_b / t_a``: the machine's load moves both alike."""
    fn_a(), fn_b()
    ta, tb = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        fn_a()
        ta.append(time.perf_counter() - t)
        t = time.perf_counter()
        fn_b()
        tb.append(time.perf_counter() - t)
    return (statistics.median(ta), statistics.median(tb),
            statistics.median([b / a for a, b in zip(ta, tb)]))


def bench_explore(runs, repeat, out):
    """The explorer's rerun in this process (``explore.session.Session.run``: ``runs`` worlds
    of the baseline with one lever moved, into a summary, the traced world's story and the
    settings' warnings), as the browser asks for it: the median of its own ``seconds``."""
    from negotiation_sim.explore.session import Session

    session = Session.open(BASELINE, runs=runs)
    session.set("actors.us.pressure.russia", 0.05)
    session.run()
    times = [session.run().seconds for _ in range(repeat)]
    out.append({"bench": "explore", "worlds": runs, "seconds": statistics.median(times),
                "min_seconds": min(times), "max_seconds": max(times)})


def bench_reference(n, repeat, out):
    """The engine on the baseline against the hand-written kernel, paired in this process."""
    sc = load()
    t_hand, t_engine, ratio = paired(lambda: hand_kernel(n), lambda: run_ensemble(sc, n),
                                     repeat)
    out.append({"bench": "reference", "worlds": n, "hand_worlds_per_s": n / t_hand,
                "engine_worlds_per_s": n / t_engine, "ratio": 1.0 / ratio})


def chunk_cost(sizes, times) -> tuple[float, float]:
    """``(fixed seconds, seconds a world)``: the least-squares line through a chunk's CPU
    seconds at each size."""
    slope, intercept = np.polyfit(np.asarray(sizes, float), np.asarray(times, float), 1)
    return float(intercept), float(slope)


def bench_chunk_cost(sizes, repeat, out):
    """One chunk of the baseline at each of ``sizes`` (CPU seconds, the least of ``repeat``
    after a warm-up), and the line through them: what a chunk costs whatever its size (the
    Python of its steps) and what each world adds (the array work)."""
    from negotiation_sim.run.chunks import simulate_chunk

    sc = load()
    simulate_chunk(sc, min(sizes), seed=0)
    times = []
    for n in sizes:
        best = float("inf")
        for _ in range(repeat):
            t = time.process_time()
            simulate_chunk(sc, n, seed=0)
            best = min(best, time.process_time() - t)
        times.append(best)
    fixed, per_world = chunk_cost(sizes, times)
    out.append({"bench": "chunk_cost", "sizes": list(sizes), "cpu_seconds": times,
                "fixed_seconds": fixed, "seconds_per_world": per_world,
                "fixed_share_at_largest": fixed / times[-1]})


# -- scaling ----------------------------------------------------------------------------------

# For each dimension: the values, and the worlds run at each (fewer where a world costs more).
# A dimension named "..., no reference texts" runs its family without the reference solution
# concepts (``negsim run --no-solutions``).
SCALING = {
    "guarantors": ([3, 9, 27], [10_000, 10_000, 10_000]),
    "issues": ([4, 8, 12], [10_000, 10_000, 10_000]),
    "rounds": ([10, 20, 40], [10_000, 10_000, 10_000]),
    "principals": ([2, 3, 4], [2_000, 2_000, 2_000]),
    "principals, no reference texts": ([2, 3, 4], [5_000, 5_000, 5_000]),
    "expected-utility actors": ([6, 12, 30], [4_000, 2_000, 1_000]),
}


def fitted_exponent(sizes, rates) -> float:
    """Slope of log(seconds per world) on log(size), least squares (``rates``: worlds/s, or
    any multiple of them such as ratios to the first)."""
    x, y = np.log(np.asarray(sizes, float)), -np.log(np.asarray(rates, float))
    return float(np.polyfit(x, y, 1)[0])


def bench_scaling(repeat, out, quick=False):
    """Worlds/s along each dimension of ``variants.FAMILY``; each value is timed in turns with
    the dimension's first value, and its ratio to it is the median of the pairs' ratios."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import variants

    for dim, (values, sizes) in SCALING.items():
        if quick:  # two values of each at a tiny size
            values, sizes = values[:2], [200] * 2
        family, sol = dim.removesuffix(", no reference texts"), "no reference" not in dim
        first, n0 = variants.FAMILY[family](values[0]), sizes[0]
        rates = []
        for v, n in zip(values, sizes):
            sc = variants.FAMILY[family](v)
            reps = repeat if n >= 1_000 else 1  # a slow point: one pair
            if v == values[0]:
                t = timed(lambda: run_ensemble(sc, n, solutions=sol), reps)
                rate, ratio = n / t, 1.0
            else:
                t0, t, r = paired(lambda: run_ensemble(first, n0, solutions=sol),
                                  lambda: run_ensemble(sc, n, solutions=sol), reps)
                rate, ratio = n / t, (n / n0) / r
            rates.append(rate)
            out.append({"bench": "scaling", "dimension": dim, "value": v, "worlds": n,
                        "worlds_per_s": rate, "ratio_to_first": ratio})
        ratios = [r["ratio_to_first"] for r in out[-len(values):]]
        out.append({"bench": "scaling_fit", "dimension": dim,  # on the paired ratios
                    "exponent": fitted_exponent(values, ratios)})


def bench_throughput(sizes, protocol_n, repeat, out):
    """Worlds/s of the baseline at each of ``sizes`` (the largest: one run, warmed up by the
    others) and of the other two protocols at ``protocol_n``."""
    sc = load()
    for n in sizes:
        last = n == max(sizes) and len(sizes) > 1
        t = timed(lambda: run_ensemble(sc, n), 1 if last else repeat, warm=not last)
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
    """``variants.expected_utility``: the baseline under expected utility with ``actors``."""
    import variants

    return variants.expected_utility(actors, deadlock=deadlock)


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
        for rounds, n in ((10, rss_worlds), (1_000, 100)):
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
from negotiation_sim.run.engine import simulate
sc = load_scenario(sys.argv[1]); n = int(sys.argv[2])
simulate(sc, n, seed=0)
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


_CHILD_PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def command_peak_mb(cmd: list[str]) -> float:
    """Peak resident memory of ``cmd``, in MiB: the largest child of a small wrapper process
    (a child forked from this benchmark process would carry its peak over)."""
    res = subprocess.run([sys.executable, "-c", _CHILD_PEAK, *cmd], capture_output=True,
                         text=True, check=True)
    return int(res.stdout.strip().splitlines()[-1]) / 1024.0


def bench_memory(sizes, out):
    from negotiation_sim.config.defaults import DEFAULT_CHUNK
    from negotiation_sim.core.model import SummitModel

    base = peak_rss_mb(1)
    for n in sizes:
        out.append({"bench": "memory", "worlds": n, "peak_rss_mb": peak_rss_mb(n),
                    "baseline_rss_mb": base})
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            cmd = [sys.executable, "-m", "negotiation_sim", "run", str(BASELINE), "--runs",
                   str(n), "--out", str(Path(tmp) / f"run_{n}"), "--quiet"]
            out.append({"bench": "memory", "worlds": n, "out_peak_rss_mb": command_peak_mb(cmd)})
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


RUN_EXECUTORS = (("serial", []),
                 ("processes-2", ["--executor", "processes", "--workers", "2"]))


def bench_run_executors(runs, out, executors=RUN_EXECUTORS):
    """One ``negsim run`` of the baseline split over executors: the whole command's time and
    its speed-up over serial (the summaries must be the same bits: checked, not timed)."""
    times, summaries = {}, {}
    for label, args in executors:
        t = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "negotiation_sim", "run", str(BASELINE),
                              "--runs", str(runs), "--json", "--quiet", *args],
                             capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if res.returncode != 0:
            out.append({"bench": "run_executor", "executor": label,
                        "error": (res.stderr.strip().splitlines() or ["?"])[-1]})
            continue
        times[label], summaries[label] = elapsed, res.stdout
        out.append({"bench": "run_executor", "executor": label, "worlds": runs,
                    "seconds": elapsed,
                    "same_summary": res.stdout == summaries.get("serial", res.stdout)})
    for label in times:
        if label != "serial" and "serial" in times:
            out.append({"bench": "run_executor_speedup", "executor": label,
                        "speedup": times["serial"] / times[label]})


def bench_limits(repeat, out):
    """How long the size limits take to act (docs/limits.md), each as a ratio to loading the
    baseline scenario timed in the same run: a document of too many nodes refused before it is
    built, and an experiment of exactly ``MAX_POINTS`` points validated."""
    from negotiation_sim.config import limits
    from negotiation_sim.config.experiment import load_experiment
    from negotiation_sim.config.scenario import load_scenario
    from negotiation_sim.config.yamlio import InputError, load_yaml

    t_load = timed(lambda: load_scenario(BASELINE), repeat)
    out.append({"bench": "limits", "case": "load the baseline scenario (reference)",
                "seconds": t_load, "ratio": 1.0})
    with tempfile.TemporaryDirectory() as tmp:
        many = Path(tmp) / "many.yaml"
        many.write_text("a: [" + "1," * (limits.MAX_FILE_BYTES // 2 - 8) + "]\n")

        def refuse():
            try:
                load_yaml(many)
            except InputError:
                return
            raise AssertionError("a document of too many nodes was read")

        exp = Path(tmp) / "exp.yaml"
        exp.write_text(f"name: t\nscenario: {BASELINE}\nruns: 10\nsweep:\n  method: grid\n"
                       "  parameters:\n"
                       "    actors.us.pressure.russia: {low: 0, high: 0.1, num: 128}\n"
                       "    actors.russia.walkout: {low: 0, high: 0.1, num: 256}\n")
        for case, fn in ((f"refuse a document of more than {limits.MAX_NODES:,} nodes", refuse),
                         (f"validate a design of {limits.MAX_POINTS:,} points",
                          lambda: load_experiment(exp))):
            t = timed(fn, 1)
            out.append({"bench": "limits", "case": case, "seconds": t, "ratio": t / t_load})


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
        elif b == "memory" and "out_peak_rss_mb" in r:
            rows.append(f"| peak resident memory | `negsim run --out`, figures, N = "
                        f"{r['worlds']:,} | {r['out_peak_rss_mb']:.0f} MB |")
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
        elif b == "limits":
            rows.append(f"| limits | {r['case']} | {r['seconds']:.2f} s "
                        f"({r['ratio']:.1f}x loading the baseline) |")
        elif b == "run_executor":
            rows.append(f"| `negsim run` N = {r['worlds']:,} | {r['executor']} | "
                        f"{r['seconds']:.1f} s (summary "
                        f"{'identical to serial' if r['same_summary'] else 'DIFFERS'}) |")
        elif b == "run_executor_speedup":
            rows.append(f"| `negsim run` speed-up vs serial | {r['executor']} | "
                        f"{r['speedup']:.2f}x |")
        elif b == "reference":
            rows.append(f"| against the hand kernel | N = {r['worlds']:,}, paired | engine "
                        f"{r['engine_worlds_per_s']:,.0f}/s, kernel {r['hand_worlds_per_s']:,.0f}/s"
                        f" = **{r['ratio']:.3f}x** |")
        elif b == "chunk_cost":
            rows.append(f"| cost of one chunk | baseline, {r['sizes'][0]:,} to "
                        f"{r['sizes'][-1]:,} worlds, CPU, fitted line | "
                        f"{r['fixed_seconds']:.3f} s a chunk + "
                        f"{1e6 * r['seconds_per_world']:.1f} us a world (fixed: "
                        f"{r['fixed_share_at_largest']:.0%} at {r['sizes'][-1]:,}) |")
        elif b == "explore":
            rows.append(f"| explorer rerun | N = {r['worlds']:,}, in-process | median "
                        f"{r['seconds']:.2f} s (min {r['min_seconds']:.2f}, max "
                        f"{r['max_seconds']:.2f}) |")
        elif b in ("scaling", "scaling_fit"):
            continue  # a table of its own (scaling_table)
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


def scaling_table(results) -> str:
    """Worlds/s along each dimension, with the ratio to its first value and the exponent."""
    rows = ["| dimension | value | worlds | worlds/s | ratio to the first | fitted exponent |",
            "| --- | --- | --- | --- | --- | --- |"]
    fits = {r["dimension"]: r["exponent"] for r in results if r["bench"] == "scaling_fit"}
    for r in results:
        if r["bench"] == "scaling":
            d = r["dimension"]
            rows.append(f"| {d} | {r['value']} | {r['worlds']:,} | {r['worlds_per_s']:,.0f} | "
                        f"{r['ratio_to_first']:.2f}x | {fits.get(d, float('nan')):+.2f} |")
    return "\n".join(rows)


def write_readme(results, meta, path: Path) -> None:
    """Replace the generated blocks of ``path`` (between ``<!-- NAME:begin -->`` and
    ``<!-- NAME:end -->``) with this run's tables."""
    if not path.exists():
        return
    text = path.read_text()
    stamp = (f"_Generated by `make bench` on {meta['date']} ({meta['cpus']} cores, "
             f"{meta['machine']}, Python {meta['python']})._\n\n")
    blocks = {"results": table([r for r in results if r["bench"] not in
                                ("scaling", "scaling_fit")]),
              "scaling": scaling_table(results)}
    for name, body in blocks.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        if begin in text and end in text and body.count("\n") > 1:
            head, rest = text.split(begin, 1)
            text = head + begin + "\n" + stamp + body + "\n" + end + rest.split(end, 1)[1]
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks the suite runs")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions per figure (median)")
    ap.add_argument("--only", nargs="*", default=None,
                    help="run only these: throughput one_at_a_time memory sweep run_executors "
                    "limits startup expected_utility reference explore chunk_cost scaling")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    ap.add_argument("--readme", type=Path, default=None,
                    help="write the tables into this README's generated blocks (make bench: "
                    "benchmarks/README.md); never with --quick")
    args = ap.parse_args(argv)
    q = args.quick
    repeat = 1 if q else args.repeat
    plan = {
        # Sizes (benchmarks/README.md): each figure at the smallest size that still measures
        # what it claims (several chunks of 16,384 where a rate is claimed at scale), so that
        # the whole suite stays under ~8 minutes on 2 shared cores.
        "throughput": lambda o: bench_throughput(
            [1_000, 5_000] if q else [1_000, 10_000, 100_000, 200_000], 500 if q else 5_000,
            min(repeat, 3), o),
        "one_at_a_time": lambda o: bench_one_at_a_time(10 if q else 100,
                                                       2_000 if q else 20_000, repeat, o),
        "memory": lambda o: bench_memory([2_000, 20_000] if q else [100_000, 300_000], o),
        "sweep": lambda o: bench_sweep(1_000 if q else 20_000, o,
                                       EXECUTORS[:2] if q else EXECUTORS),
        "run_executors": lambda o: bench_run_executors(2_000 if q else 100_000, o),
        "limits": lambda o: bench_limits(1 if q else repeat, o),
        "startup": lambda o: bench_startup(1 if q else repeat, o),
        "reference": lambda o: bench_reference(5_000 if q else 200_000,
                                               1 if q else min(repeat, 3), o),
        "explore": lambda o: bench_explore(500 if q else 5_000, 1 if q else repeat, o),
        "chunk_cost": lambda o: bench_chunk_cost([256, 512, 1_024] if q else
                                                 [2_048, 4_096, 8_192, 16_384],
                                                 1 if q else min(repeat, 3), o),
        "scaling": lambda o: bench_scaling(1 if q else 2, o, quick=q),
        "expected_utility": lambda o: bench_expected_utility(
            2_000 if q else 10_000, 500 if q else 2_000, min(repeat, 3), o,
            rss_worlds=2_000 if q else 20_000),
    }
    results: list[dict] = []
    for name, fn in plan.items():
        if args.only is None or name in args.only:
            print(f"running {name} ...", file=sys.stderr, flush=True)
            t = time.perf_counter()
            fn(results)
            print(f"  {name}: {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    meta = {"quick": q, "repeat": repeat, "python": platform.python_version(),
            "machine": platform.machine(), "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    os.replace(tmp, args.out)
    print(table(results))
    if any(r["bench"] == "scaling" for r in results):
        print()
        print(scaling_table(results))
    if args.readme is not None and not q:
        write_readme(results, meta, args.readme)
    return 0


if __name__ == "__main__":
    sys.exit(main())
