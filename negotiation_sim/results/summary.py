"""Streaming summaries of a run: outcome shares with Wilson intervals, formats, terms, rounds,
and the calendar's meetings (talks, leaders' meetings, settlements, by round).

``Accumulator`` folds chunk results into counts, sums and fixed-bin histograms, so a summary of
any number of worlds costs constant memory. Chunks are folded in chunk order whoever simulated
them (``run.engine``), so a summary does not depend on the executor; and sums of floating-point
numbers are taken block by block of worlds (``config.defaults.BLOCK``, the unit of seeding),
each block's sum added in world order, so neither does it depend on the chunk size, to the last
bit. Variances are merged block by block too (Chan, Golub and LeVeque's pairwise update of
counts, means and sums of squared deviations), never as ``E[x^2] - E[x]^2``, which loses every
digit for a constant column. ``Accumulator.summary`` is the ``negsim run --json`` shape; ``summary_row`` flattens it
to one row of a sweep's ``summary.parquet``.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import AGREEMENT, CEASEFIRE, END_REASONS, OUTCOMES, ChunkResult

Z95 = 1.959963984540054


SOLUTIONS = ("nash", "kalai_smorodinsky", "weighted_mean", "weighted_median")


MEETINGS = ("talks", "leaders", "settled")
"""The calendar's milestones under ``summary["meetings"]``, each read from the output
``<name>_round`` (``core.outputs``): the first round with a session of every principal, the
first leaders' session of every principal, the round a settlement or ceasefire took effect."""


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
    """Running totals of a run's outcomes (constant memory in the number of worlds)."""

    issues: list[str]
    formats: list[str]
    actors: list[str]
    max_round: int
    principals: list[str] = field(default_factory=list)
    round_days: float = 14.0
    follow_rounds: int = 0  # durability.rounds: how long signed texts are followed
    start: datetime.date | None = None  # protocol.start: the date round 1 opens
    words: dict[str, Any] | None = None  # the scenario's own words (config.words), if any
    n: int = 0
    outcomes: np.ndarray = field(init=False)  # (4,)
    format_outcomes: np.ndarray = field(init=False)  # (F + 1, 4): last row is "no format"
    term_sum: np.ndarray = field(init=False)  # (K,)
    term_n: np.ndarray = field(init=False)  # (K,) agreements folded into the variance
    term_mean: np.ndarray = field(init=False)  # (K,) their running mean (Chan's update)
    term_m2: np.ndarray = field(init=False)  # (K,) their sum of squared deviations from it
    term_hist: np.ndarray = field(init=False)  # (K, TERM_BINS)
    term_min: np.ndarray = field(init=False)  # (K,) quantiles are clipped to the seen range
    term_max: np.ndarray = field(init=False)
    round_hist: np.ndarray = field(init=False)  # (max_round + 1,) over agreements
    util_sum: np.ndarray = field(init=False)  # (A,)
    util_n: np.ndarray = field(init=False)
    sol_sum: np.ndarray = field(init=False)  # (len(SOLUTIONS), K) over worlds where defined
    sol_n: np.ndarray = field(init=False)
    nash_dist: np.ndarray = field(init=False)  # [sum, count] of |terms - nash| over agreements
    reasons: np.ndarray = field(init=False)  # (len(END_REASONS),) worlds per end reason
    # per kind of first text in force (agreement, ceasefire): first spells of peace, their
    # breaks by rounds since the text took effect, by the principal that broke it, and how many
    # broke before the horizon (the war resumed)
    signed: np.ndarray = field(init=False)  # (2,)
    broke_after: np.ndarray = field(init=False)  # (2, follow_rounds + 1)
    broke_by: np.ndarray = field(init=False)  # (2, P)
    resumed: np.ndarray = field(init=False)  # (2,)
    repeat: int = field(init=False)  # worlds where two or more texts took effect
    # per milestone (MEETINGS): worlds by the round it first came (column 0 unused)
    met: np.ndarray = field(init=False)  # (3, max_round + 1)
    sessions: int = field(init=False)  # sessions held, summed over worlds (an exact integer)
    # per format, from the chunks' per-round session logs (any members, any level): worlds that
    # held it at least once and its sessions; ``logged`` the worlds whose chunk had a log (a
    # sweep's summary is read back from part files, which keep no log)
    format_met: np.ndarray = field(init=False)  # (F,)
    format_sessions: np.ndarray = field(init=False)  # (F,)
    logged: int = field(init=False)

    def __post_init__(self) -> None:
        K, A = len(self.issues), len(self.actors)
        self.outcomes = np.zeros(len(OUTCOMES), dtype=np.int64)
        self.format_outcomes = np.zeros((len(self.formats) + 1, len(OUTCOMES)), dtype=np.int64)
        self.term_sum = np.zeros(K)
        self.term_n = np.zeros(K, dtype=np.int64)
        self.term_mean = np.zeros(K)
        self.term_m2 = np.zeros(K)
        self.term_hist = np.zeros((K, TERM_BINS), dtype=np.int64)
        self.term_min = np.full(K, np.inf)
        self.term_max = np.full(K, -np.inf)
        self.round_hist = np.zeros(self.max_round + 1, dtype=np.int64)
        self.util_sum = np.zeros(A)
        self.util_n = np.zeros(A, dtype=np.int64)
        self.sol_sum = np.zeros((len(SOLUTIONS), K))
        self.sol_n = np.zeros((len(SOLUTIONS), K), dtype=np.int64)
        self.nash_dist = np.zeros(2)
        self.reasons = np.zeros(len(END_REASONS), dtype=np.int64)
        self.signed = np.zeros(2, dtype=np.int64)
        self.broke_after = np.zeros((2, self.follow_rounds + 1), dtype=np.int64)
        self.broke_by = np.zeros((2, len(self.principals)), dtype=np.int64)
        self.resumed = np.zeros(2, dtype=np.int64)
        self.repeat = 0
        self.met = np.zeros((len(MEETINGS), self.max_round + 1), dtype=np.int64)
        self.sessions = 0
        self.format_met = np.zeros(len(self.formats), dtype=np.int64)
        self.format_sessions = np.zeros(len(self.formats), dtype=np.int64)
        self.logged = 0

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> Accumulator:
        return cls(
            issues=scenario.issue_ids,
            formats=[f for f, _ in scenario.formats()],
            actors=scenario.positioned,
            max_round=max(scenario.protocol.rounds, 1),  # the horizon (core.model)
            principals=scenario.principals,
            round_days=scenario.protocol.round_days,
            follow_rounds=scenario.durability.rounds,
            start=scenario.protocol.start,
            words=scenario.words.stored(),
        )

    def add(self, chunk: ChunkResult) -> None:
        """Fold one chunk's worlds into the totals (counts at once, sums block by block)."""
        self.n += chunk.n
        self.outcomes += np.bincount(chunk.outcome, minlength=len(OUTCOMES))
        fmt = np.where(chunk.held_format < 0, len(self.formats), chunk.held_format)
        np.add.at(self.format_outcomes, (fmt, chunk.outcome), 1)
        agreed = chunk.outcome == AGREEMENT
        terms = chunk.terms[:, agreed]
        if terms.size:
            self.term_min = np.minimum(self.term_min, terms.min(axis=1))
            self.term_max = np.maximum(self.term_max, terms.max(axis=1))
        bins = np.minimum((terms * TERM_BINS).astype(np.int64), TERM_BINS - 1)
        for k in range(len(self.issues)):
            self.term_hist[k] += np.bincount(bins[k], minlength=TERM_BINS)
        rounds = np.minimum(chunk.end_round[agreed], self.max_round)
        self.round_hist += np.bincount(rounds, minlength=self.max_round + 1)
        self.util_n += (~np.isnan(chunk.utility)).sum(axis=1)
        for a, b in blocks(chunk.first_world, chunk.n):
            self._add_block(chunk, slice(a, b), agreed[a:b])
        if chunk.end_reason is not None:
            self.reasons += np.bincount(chunk.end_reason[chunk.end_reason >= 0],
                                        minlength=len(END_REASONS))
        if self.follow_rounds and chunk.settled_kind is not None:
            self._add_spells(chunk)
        self._add_meetings(chunk)
        self._add_format_sessions(chunk)

    def _add_format_sessions(self, chunk: ChunkResult) -> None:
        """Count, per format, the worlds that held it at least once and its sessions, from the
        chunk's per-round log of the format held (``session_log``, of any members and level:
        the formats that leave a principal out too, which the last session of every principal,
        ``held_format``, never names)."""
        log = getattr(chunk, "session_log", None)
        if log is None:
            return
        self.logged += chunk.n
        for f in range(len(self.formats)):
            held = log == f
            self.format_met[f] += int(held.any(axis=0).sum())
            self.format_sessions[f] += int(held.sum())

    def _add_spells(self, chunk: ChunkResult) -> None:
        """Count the first spells of peace (``settled_round`` to ``broken_round``) by what began
        them, their breaks by rounds since the text took effect (up to ``follow_rounds``: every
        first text is followed at least that long), who broke them and whether the war resumed
        before the horizon."""
        for j, code in enumerate((AGREEMENT, CEASEFIRE)):
            here = chunk.settled_kind == code
            self.signed[j] += int(here.sum())
            broke = here & (chunk.broken_round >= 0)
            after = chunk.broken_round[broke] - chunk.settled_round[broke]
            after = after[after <= self.follow_rounds].astype(np.int64)
            self.broke_after[j] += np.bincount(after, minlength=self.follow_rounds + 1)
            by = chunk.broken_by[broke]
            self.broke_by[j] += np.bincount(by[by >= 0], minlength=len(self.principals))
            self.resumed[j] += int((here & chunk.resumed).sum())
        self.repeat += int((chunk.signings >= 2).sum())

    def _add_meetings(self, chunk: ChunkResult) -> None:
        """Count each milestone's worlds by the round it came (a later round than the horizon,
        which the model never writes, would count in the last). An output the chunk lacks (a
        part file written before it existed) counts as none, as ``results.tables`` reads it."""
        for j, name in enumerate(MEETINGS):
            first = getattr(chunk, f"{name}_round")
            if first is None:
                continue
            first = np.minimum(first[first >= 1], self.max_round).astype(np.int64)
            self.met[j] += np.bincount(first, minlength=self.max_round + 1)
        if chunk.sessions is not None:
            self.sessions += int(chunk.sessions.sum(dtype=np.int64))

    def _add_block(self, chunk: ChunkResult, worlds: slice, agreed: np.ndarray) -> None:
        """Add one block's sums: each a function of the block's worlds alone (fresh C-ordered
        arrays of the block), added to the totals in world order."""
        terms = chunk.terms[:, worlds][:, agreed]
        if terms.size:
            self.term_sum += terms.sum(axis=1)
            self._merge_variance(terms)
        utility = chunk.utility[:, worlds]
        self.util_sum += np.where(np.isnan(utility), 0.0, utility).sum(axis=1)
        if not chunk.solutions:
            return
        for s, name in enumerate(SOLUTIONS):
            x = chunk.solutions[name][:, worlds]
            ok = ~np.isnan(x)
            self.sol_sum[s] += np.where(ok, x, 0.0).sum(axis=1)
            self.sol_n[s] += ok.sum(axis=1)
        gap = terms - chunk.solutions["nash"][:, worlds][:, agreed]
        dist = np.sqrt((gap * gap).sum(axis=0))
        dist = dist[~np.isnan(dist)]
        self.nash_dist += (dist.sum(), dist.size)

    def _merge_variance(self, terms: np.ndarray) -> None:
        """Chan et al.'s update of (count, mean, sum of squared deviations) with one block's
        terms ``(K, m)``, whose own mean is refined once (so a constant block has exactly its
        value as mean and 0 as deviations)."""
        m = terms.shape[1]
        mean = terms.sum(axis=1) / m
        mean = mean + (terms - mean[:, None]).sum(axis=1) / m
        m2 = ((terms - mean[:, None]) ** 2).sum(axis=1)
        n = self.term_n + m
        delta = mean - self.term_mean
        self.term_mean = self.term_mean + delta * (m / n)
        self.term_m2 = self.term_m2 + m2 + delta * delta * (self.term_n * m / n)
        self.term_n = n

    def summary(self, scenario_name: str, seed: int) -> dict[str, Any]:
        """The run summary in the ``negsim run --json`` shape; ``words`` (what the outputs call
        the outcomes, ``config.words``) only when the scenario names its own, so the summary of
        a scenario that does not reads as before."""
        out = self._summary(scenario_name, seed)
        if self.words:
            out["words"] = self.words
        return out

    def _summary(self, scenario_name: str, seed: int) -> dict[str, Any]:
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
            "end_reasons": {r: float(self.reasons[i] / n) for i, r in enumerate(END_REASONS)},
            "durability": self._durability() if self.follow_rounds else None,
            "in_force": self._in_force(),
            "meetings": self._meetings(),
        }

    def _meetings(self) -> dict[str, Any]:
        """Per milestone (``MEETINGS``): the share of worlds that reached it in the horizon with
        its Wilson interval, how many, and the round by which half of those had (in days after
        the start and as a date when ``start`` is set); the mean sessions per world; and the
        cumulative share of all worlds by the end of each round 1..max_round (``by_round``,
        whose last value is the share)."""
        n = max(self.n, 1)
        out: dict[str, Any] = {}
        by_round: dict[str, list[float]] = {}
        for j, name in enumerate(MEETINGS):
            cum = np.cumsum(self.met[j, 1:])
            worlds = int(cum[-1])
            median = int(np.flatnonzero(cum >= 0.5 * worlds)[0]) + 1 if worlds else None
            out[name] = {"share": float(worlds / n),
                         "ci95": list(wilson_interval(float(worlds), self.n)),
                         "worlds": worlds, **self._when(median)}
            by_round[name] = [float(c / n) for c in cum]
        out["sessions"] = {"mean": float(self.sessions / n), "by_format": self._by_format()}
        out["by_round"] = by_round
        out["round_days"] = float(self.round_days)
        out["start"] = None if self.start is None else self.start.isoformat()
        return out

    def _by_format(self) -> dict[str, Any] | None:
        """Per format (any members, any level): the share of worlds that held it at least once,
        with its Wilson interval, and its mean sessions per world; None where the chunks had no
        session log (a summary read back from a sweep's part files)."""
        if self.logged == 0:
            return None
        return {f: {"share": float(self.format_met[i] / self.logged),
                    "ci95": list(wilson_interval(float(self.format_met[i]), self.logged)),
                    "mean": float(self.format_sessions[i] / self.logged)}
                for i, f in enumerate(self.formats)}

    def _when(self, rounds: int | None) -> dict[str, Any]:
        """``median_round`` and the day it ends (``median_day``: rounds x round_days after the
        start) and, with a start date, that date (``median_date``, ISO)."""
        if rounds is None:
            return {"median_round": None, "median_day": None, "median_date": None}
        day = rounds * self.round_days
        date = (None if self.start is None else
                (self.start + datetime.timedelta(days=day)).isoformat())
        return {"median_round": rounds, "median_day": float(day), "median_date": date}

    def _durability(self) -> dict[str, Any]:
        """Per kind of the first text in force (a settlement: ``agreement``; a ``ceasefire``):
        how many worlds began a spell of peace with one (``signed``), the share whose spell was
        unbroken through the followed rounds (``holds``, with its Wilson interval), the
        followed round by which half had broken (None if more than half held), the share still
        unbroken after each followed round with its interval (``holding``, ``holding_ci95``),
        the share of the breaks each principal made (``broken_by``), and the share of spells
        that broke before the horizon, so the war resumed (``resumed``)."""
        out: dict[str, Any] = {}
        for j, name in enumerate(("agreement", "ceasefire")):
            n = int(self.signed[j])
            if n == 0:
                out[name] = None
                continue
            broke = np.cumsum(self.broke_after[j])
            holding = 1.0 - broke / n
            half = np.flatnonzero(broke >= 0.5 * n)
            median = int(half[0]) if half.size else None
            breaks = int(self.broke_by[j].sum())
            out[name] = {
                "signed": n,
                "holds": {"share": float(holding[-1]),
                          "ci95": list(wilson_interval(float(n - broke[-1]), n))},
                "median_rounds": median,
                "median_days": None if median is None else float(median * self.round_days),
                "followed_rounds": self.follow_rounds,
                "holding": [float(h) for h in holding],
                "holding_ci95": [list(wilson_interval(float(n - b), n)) for b in broke],
                "broken_by": {p: (float(self.broke_by[j, i] / breaks) if breaks else None)
                              for i, p in enumerate(self.principals)},
                "resumed": float(self.resumed[j] / n),
            }
        return out

    def _in_force(self) -> dict[str, Any]:
        """A text in force at the horizon (a settlement signed and unbroken, or a ceasefire
        holding), over all worlds, with its Wilson interval; and the share of worlds where two
        or more texts took effect (a break resumed the war and talks reconvened)."""
        k = int(self.outcomes[AGREEMENT] + self.outcomes[CEASEFIRE])
        n = max(self.n, 1)
        return {"share": float(k / n), "ci95": list(wilson_interval(float(k), self.n)),
                "repeat_signings": float(self.repeat / n)}

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
        var = self.term_m2[k] / self.term_n[k] if self.term_n[k] else 0.0
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
        mean = float((r * self.round_hist).sum() / count)
        return {"mean": mean, "p50": float(np.searchsorted(cum, 0.5 * count, side="left")),
                "round_days": float(self.round_days), "mean_days": mean * self.round_days}


def blocks(first_world: int, n: int) -> list[tuple[int, int]]:
    """(start, stop) within a chunk of ``n`` worlds from ``first_world`` of the blocks of
    worlds it holds (cut where the world's index is a multiple of ``BLOCK``)."""
    cuts = [0, *range((-first_world) % BLOCK or BLOCK, n, BLOCK), n]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


MEETING_COLUMNS = ("talks", "leaders")
"""The meetings a sweep's summary row carries as shares (``talks``, ``talks.lo``, ``talks.hi``,
...), beside the outcomes'; ``sessions`` is the mean sessions per world."""


def summary_row(acc: Accumulator, scenario: Scenario, seed: int) -> dict[str, Any]:
    """A point's summary flattened to columns (NaN where no world qualifies)."""
    s = acc.summary(scenario.name, seed)
    row: dict[str, Any] = {"runs": s["runs"]}
    for name, o in s["outcomes"].items():
        row[name] = o["share"]
        row[f"{name}.lo"], row[f"{name}.hi"] = o["ci95"]
    for f, share in s["formats"].items():
        row[f"format.{f}"] = share
    for k, t in s["terms"].items():
        row[f"terms.{k}"] = math.nan if t is None else t["mean"]
    row["rounds"] = math.nan if s["rounds"] is None else s["rounds"]["mean"]
    for a, u in s["utilities"].items():
        row[f"utility.{a}"] = math.nan if u["mean"] is None else u["mean"]
    for r, share in s["end_reasons"].items():
        row[f"end_reason.{r}"] = share
    for name, d in (s["durability"] or {}).items():
        row[f"holds.{name}"] = math.nan if d is None else d["holds"]["share"]
    meetings = s["meetings"]
    for name in MEETING_COLUMNS:
        row[name] = meetings[name]["share"]
        row[f"{name}.lo"], row[f"{name}.hi"] = meetings[name]["ci95"]
    row["sessions"] = meetings["sessions"]["mean"]
    return row
