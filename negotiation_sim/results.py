"""Results: streaming summaries, tidy per-world tables, and the files a run writes.

``Accumulator`` folds chunk results into counts, sums and fixed-bin histograms, so a summary of
any number of worlds (outcome shares with Wilson intervals, formats, quantiles of agreed terms,
rounds, mean utilities) costs constant memory, and accumulators of chunks or workers merge.
``chunk_table`` makes one Parquet row per world. ``RunWriter`` streams those rows to
``runs.parquet`` and writes ``summary.json`` and ``manifest.json`` atomically.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from negotiation_sim.model import AGREEMENT, OUTCOMES
from negotiation_sim.runner import ChunkResult, actor_ids
from negotiation_sim.scenario import Scenario

Z95 = 1.959963984540054
SOLUTIONS = ("nash", "kalai_smorodinsky", "weighted_mean", "weighted_median")
TERM_BINS = 20_000  # histogram bins on [0, 1] for terms: quantiles to within 5e-5


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial share (Wilson 1927); (0, 0) when n is 0."""
    if n <= 0:
        return 0.0, 0.0
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return lo, hi


def _hist_quantile(hist: np.ndarray, q: float, lo: float = 0.0, hi: float = 1.0) -> float:
    """Quantile from a fixed-bin histogram on [lo, hi] (linear within the bin)."""
    total = hist.sum()
    cum = np.cumsum(hist)
    target = q * total
    i = int(np.searchsorted(cum, target, side="left"))
    i = min(i, hist.size - 1)
    before = cum[i] - hist[i]
    frac = 0.0 if hist[i] == 0 else (target - before) / hist[i]
    width = (hi - lo) / hist.size
    return float(lo + (i + min(max(frac, 0.0), 1.0)) * width)


@dataclass
class Accumulator:
    """Mergeable running totals of a run's outcomes (constant memory in the number of worlds)."""

    issues: list[str]
    formats: list[str]
    actors: list[str]
    max_round: int
    n: int = 0
    outcomes: np.ndarray = field(init=False)  # (4,)
    format_outcomes: np.ndarray = field(init=False)  # (F + 1, 4): last row is "no format"
    term_sum: np.ndarray = field(init=False)  # (K,)
    term_sq: np.ndarray = field(init=False)
    term_hist: np.ndarray = field(init=False)  # (K, TERM_BINS)
    term_min: np.ndarray = field(init=False)  # (K,) quantiles are clipped to the seen range
    term_max: np.ndarray = field(init=False)
    round_hist: np.ndarray = field(init=False)  # (max_round + 1,) over agreements
    util_sum: np.ndarray = field(init=False)  # (A,)
    util_n: np.ndarray = field(init=False)
    sol_sum: np.ndarray = field(init=False)  # (len(SOLUTIONS), K) over worlds where defined
    sol_n: np.ndarray = field(init=False)
    nash_dist: np.ndarray = field(init=False)  # [sum, count] of |terms - nash| over agreements

    def __post_init__(self) -> None:
        K, A = len(self.issues), len(self.actors)
        self.outcomes = np.zeros(len(OUTCOMES), dtype=np.int64)
        self.format_outcomes = np.zeros((len(self.formats) + 1, len(OUTCOMES)), dtype=np.int64)
        self.term_sum = np.zeros(K)
        self.term_sq = np.zeros(K)
        self.term_hist = np.zeros((K, TERM_BINS), dtype=np.int64)
        self.term_min = np.full(K, np.inf)
        self.term_max = np.full(K, -np.inf)
        self.round_hist = np.zeros(self.max_round + 1, dtype=np.int64)
        self.util_sum = np.zeros(A)
        self.util_n = np.zeros(A, dtype=np.int64)
        self.sol_sum = np.zeros((len(SOLUTIONS), K))
        self.sol_n = np.zeros((len(SOLUTIONS), K), dtype=np.int64)
        self.nash_dist = np.zeros(2)

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> Accumulator:
        return cls(
            issues=scenario.issue_ids,
            formats=[f for f, _ in scenario.formats()],
            actors=actor_ids(scenario),
            max_round=scenario.protocol.rounds,
        )

    def add(self, chunk: ChunkResult) -> None:
        """Fold one chunk's worlds into the totals."""
        self.n += chunk.n
        self.outcomes += np.bincount(chunk.outcome, minlength=len(OUTCOMES))
        fmt = np.where(chunk.held_format < 0, len(self.formats), chunk.held_format)
        np.add.at(self.format_outcomes, (fmt, chunk.outcome), 1)
        agreed = chunk.outcome == AGREEMENT
        terms = chunk.terms[:, agreed]
        self.term_sum += terms.sum(axis=1)
        self.term_sq += (terms * terms).sum(axis=1)
        if terms.size:
            self.term_min = np.minimum(self.term_min, terms.min(axis=1))
            self.term_max = np.maximum(self.term_max, terms.max(axis=1))
        bins = np.minimum((terms * TERM_BINS).astype(np.int64), TERM_BINS - 1)
        for k in range(len(self.issues)):
            self.term_hist[k] += np.bincount(bins[k], minlength=TERM_BINS)
        rounds = np.minimum(chunk.end_round[agreed], self.max_round)
        self.round_hist += np.bincount(rounds, minlength=self.max_round + 1)
        ok = ~np.isnan(chunk.utility)
        self.util_sum += np.where(ok, chunk.utility, 0.0).sum(axis=1)
        self.util_n += ok.sum(axis=1)
        self._add_solutions(chunk, agreed)

    def _add_solutions(self, chunk: ChunkResult, agreed: np.ndarray) -> None:
        if not chunk.solutions:
            return
        for s, name in enumerate(SOLUTIONS):
            x = chunk.solutions[name]
            ok = ~np.isnan(x)
            self.sol_sum[s] += np.where(ok, x, 0.0).sum(axis=1)
            self.sol_n[s] += ok.sum(axis=1)
        gap = chunk.terms[:, agreed] - chunk.solutions["nash"][:, agreed]
        dist = np.sqrt((gap * gap).sum(axis=0))
        dist = dist[~np.isnan(dist)]
        self.nash_dist += (dist.sum(), dist.size)

    def merge(self, other: Accumulator) -> None:
        """Add another accumulator's totals (from another chunk, point or worker)."""
        self.n += other.n
        for name in ("outcomes", "format_outcomes", "term_sum", "term_sq", "term_hist",
                     "round_hist", "util_sum", "util_n", "sol_sum", "sol_n", "nash_dist"):
            getattr(self, name).__iadd__(getattr(other, name))
        self.term_min = np.minimum(self.term_min, other.term_min)
        self.term_max = np.maximum(self.term_max, other.term_max)

    def summary(self, scenario_name: str, seed: int) -> dict[str, Any]:
        """The run summary in the ``negsim run --json`` shape."""
        n = max(self.n, 1)
        agreements = int(self.outcomes[AGREEMENT])
        return {
            "scenario": scenario_name,
            "runs": int(self.n),
            "seed": int(seed),
            "outcomes": {
                name: {"share": float(self.outcomes[i] / n),
                       "ci95": list(wilson_interval(float(self.outcomes[i]), self.n))}
                for i, name in enumerate(OUTCOMES)
            },
            "formats": {f: float(self.format_outcomes[i].sum() / n)
                        for i, f in enumerate(self.formats)},
            "terms": {k: self._term_stats(i, agreements) for i, k in enumerate(self.issues)},
            "rounds": self._round_stats(agreements),
            "utilities": {
                a: {"mean": float(self.util_sum[i] / self.util_n[i]) if self.util_n[i] else None}
                for i, a in enumerate(self.actors)
            },
            "solutions": self._solution_stats(),
        }

    def _solution_stats(self) -> dict[str, Any]:
        """Mean solution texts per issue (None where undefined in every world)."""
        out: dict[str, Any] = {
            name: {k: (float(self.sol_sum[s, i] / self.sol_n[s, i]) if self.sol_n[s, i] else None)
                   for i, k in enumerate(self.issues)}
            for s, name in enumerate(SOLUTIONS)
        }
        total, count = self.nash_dist
        out["distance_to_nash"] = float(total / count) if count else None
        return out

    def _term_stats(self, k: int, count: int) -> dict[str, float] | None:
        if count == 0:
            return None
        mean = self.term_sum[k] / count
        var = max(self.term_sq[k] / count - mean * mean, 0.0)
        h, lo, hi = self.term_hist[k], self.term_min[k], self.term_max[k]

        def q(p: float) -> float:
            return float(min(max(_hist_quantile(h, p), lo), hi))

        return {"mean": float(mean), "sd": float(math.sqrt(var)),
                "p05": q(0.05), "p50": q(0.5), "p95": q(0.95)}

    def _round_stats(self, count: int) -> dict[str, float] | None:
        if count == 0:
            return None
        r = np.arange(self.round_hist.size)
        cum = np.cumsum(self.round_hist)
        return {"mean": float((r * self.round_hist).sum() / count),
                "p50": float(np.searchsorted(cum, 0.5 * count, side="left"))}


# -- per-world tables ------------------------------------------------------------------------


def chunk_table(chunk: ChunkResult, scenario: Scenario, *, point: int | None = None):
    """One row per world: sampled inputs, outcome, format, round, terms, utilities (pyarrow)."""
    import pyarrow as pa

    formats = [f for f, _ in scenario.formats()]
    cols: dict[str, Any] = {}
    if point is not None:
        cols["point"] = pa.array(np.full(chunk.n, point, dtype=np.int32))
    cols["world"] = pa.array(np.arange(chunk.first_world, chunk.first_world + chunk.n))
    for path, values in chunk.inputs.items():
        cols[f"input.{path}"] = pa.array(values)
    cols["outcome"] = pa.DictionaryArray.from_arrays(
        pa.array(chunk.outcome.astype(np.int8)), pa.array(list(OUTCOMES)))
    no_summit = chunk.held_format < 0
    cols["format"] = pa.DictionaryArray.from_arrays(
        pa.array(np.maximum(chunk.held_format, 0).astype(np.int8), mask=no_summit),
        pa.array(formats, type=pa.string()))
    cols["round"] = pa.array(chunk.end_round)
    cols["walked_out"] = pa.array(chunk.walked_out)
    for k, issue in enumerate(scenario.issue_ids):
        cols[f"terms.{issue}"] = pa.array(chunk.terms[k])
    for a, actor in enumerate(actor_ids(scenario)):
        cols[f"utility.{actor}"] = pa.array(chunk.utility[a])
    return pa.table(cols)


# -- files -------------------------------------------------------------------------------------


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2, allow_nan=False)
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def versions() -> dict[str, str]:
    """Versions of the interpreter and the libraries that shape results."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("negotiation_sim", "numpy", "scipy", "mesa", "pydantic", "pyarrow"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def manifest(scenario: Scenario, source: str | None, *, seed: int, runs: int,
             chunk_size: int, **extra: Any) -> dict[str, Any]:
    """Provenance of a run: what was run, with which seed, by which versions and command."""
    return {
        "scenario": scenario.name,
        "scenario_file": source,
        "scenario_hash": scenario.digest(),
        "seed": seed,
        "runs": runs,
        "chunk_size": chunk_size,
        "protocol": scenario.protocol.kind,
        "versions": versions(),
        "command": sys.argv,
        "platform": platform.platform(),
        **extra,
    }


class RunWriter:
    """Streams per-world rows to ``DIR/runs.parquet`` (renamed into place on ``close``)."""

    def __init__(self, out_dir: Path, scenario: Scenario) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.scenario = scenario
        self._tmp = self.out_dir / ".runs.parquet.tmp"
        self._writer = None

    def add(self, chunk: ChunkResult) -> None:
        import pyarrow.parquet as pq

        table = chunk_table(chunk, self.scenario)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, table.schema, compression="zstd")
        self._writer.write_table(table)

    def close(self) -> Path:
        target = self.out_dir / "runs.parquet"
        if self._writer is not None:
            self._writer.close()
            os.replace(self._tmp, target)
        return target
