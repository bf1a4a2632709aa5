"""Conditioning on the record: forecasts from the simulated worlds that agree with what happened.

A scenario's ``history`` (``config.history``) lists what was observed, by date. Every simulated
world has a record of its own: the format held in each round (``session_log``, any members and
level) and the round a settlement or ceasefire first took effect (``settled_round``). A world
*agrees* with an observation when its record says the same thing for the same round(s).

**Method: approximate Bayesian computation by rejection, with importance weights.** The worlds
are draws from the prior (the scenario's distributions, then the events and choices of the
run); the record is data the simulator can produce but whose likelihood has no closed form. The
rejection algorithm (Pritchard, Seielstad, Perez-Lezaun & Feldman 1999, Mol. Biol. Evol. 16:
1791) keeps the simulated draws whose data match the observed data: the kept draws are a sample
of the posterior, exactly when the match is exact (as here: every observation is a yes or no for
given rounds). With many observations few worlds match all of them; Beaumont, Zhang & Balding
(2002, Genetics 162: 2025) weight each draw by a kernel of its distance to the data instead of
keeping or dropping it. Here the distance is the number ``d`` of observations a world disagrees
with and the weight ``mismatch ** d`` (``history.mismatch``; 0, the default, is rejection):
the likelihood of the record if each observation could have been recorded wrongly with odds
``mismatch``, which is the reading under which ABC is exact under model error (Wilkinson 2013,
Stat. Appl. Genet. Mol. Biol. 12: 129). A forecast is the weighted share of worlds where the
asked-about event happens, and an input's posterior its weighted distribution over the worlds.

**Effective sample size.** Kish's ``(sum w)^2 / sum w^2``: the number of equally weighted worlds
that would carry as much information (for rejection, the number kept). Below
``history.min_ess`` (or ``min_ess`` given) the forecast is refused with one line
(``TooFewWorlds``) rather than computed from a handful of worlds.

Everything is counted chunk by chunk (``run.engine.simulate``): the weights of a chunk are
computed and folded into sums, so memory stays that of a chunk, except for the inputs' draws
kept for their posterior quantiles (one float per input and world).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from negotiation_sim.config.defaults import DEFAULT_CHUNK
from negotiation_sim.config.history import History, Observation, round_of, rounds_through
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import AGREEMENT, CEASEFIRE, ChunkResult
from negotiation_sim.run.engine import simulate
from negotiation_sim.run.executors.base import Executor


class TooFewWorlds(ValueError):
    """The worlds that agree with the record are too few to forecast from."""


@dataclass(frozen=True)
class EventKind:
    """An event of the record or of a question, read from a world's per-round record.

    Attributes:
        kind: ``talks``, ``leaders``, ``settlement`` or ``ceasefire``.
        formats: ``(F,)`` bool, for talks and leaders: the formats whose session is the event.
    """

    kind: str
    formats: np.ndarray | None = None

    @classmethod
    def of(cls, scenario: Scenario, kind: str, members: Sequence[str] | None = None,
           level: str | None = None) -> EventKind:
        """The event ``kind`` (with ``members`` and ``level``, as ``config.history``) in
        ``scenario``'s formats."""
        if kind in ("settlement", "ceasefire"):
            return cls(kind)
        want = set(members) if members else set(scenario.principals)
        match = []
        for (_, seated), lvl in zip(scenario.formats(), scenario.levels()):
            if kind == "talks":
                ok = set(seated) == want and (level is None or lvl == level)
            else:  # leaders: a leaders' session seating every one of them
                ok = lvl == "leaders" and want <= set(seated)
            match.append(ok)
        return cls(kind, np.array(match, dtype=bool))

    def by_round(self, chunk: ChunkResult, rounds: int) -> np.ndarray:
        """``(rounds, n)`` bool: whether the event happened in each round 1..rounds."""
        n = chunk.n
        out = np.zeros((rounds, n), dtype=bool)
        if self.formats is not None:
            log = chunk.session_log
            have = 0 if log is None else min(rounds, log.shape[0])
            if have:
                held = log[:have].astype(np.int64)
                out[:have] = (held >= 0) & self.formats[np.maximum(held, 0)]
            return out
        settled = chunk.settled_round.astype(np.int64)
        if self.kind == "ceasefire":  # a ceasefire in force, also one before a settlement
            cease = (chunk.outcome == CEASEFIRE) | ((chunk.outcome == AGREEMENT)
                                                    & (settled < chunk.end_round))
            settled = np.where(cease, settled, -1)
        ok = (settled >= 1) & (settled <= rounds)
        out[settled[ok] - 1, np.flatnonzero(ok)] = True
        return out


@dataclass(frozen=True)
class Check:
    """One observation compiled against a scenario: which rounds, which event, which answer."""

    event: EventKind
    first: int  # first round looked at (1-based)
    last: int  # last round looked at
    happened: bool

    @classmethod
    def of(cls, scenario: Scenario, history: History, obs: Observation) -> Check:
        days = scenario.protocol.round_days
        event = EventKind.of(scenario, obs.event, obs.members, obs.level)
        if obs.date is not None:
            r = round_of(obs.date, history.start, days)
            return cls(event, r, r, obs.happened)
        first = 1 if obs.since is None else max(1, round_of(obs.since, history.start, days))
        return cls(event, first, rounds_through(obs.day, history.start, days), obs.happened)

    def agrees(self, chunk: ChunkResult) -> np.ndarray:
        """``(n,)`` bool: the worlds whose record says what was observed."""
        seen = self.event.by_round(chunk, self.last)[self.first - 1:self.last].any(axis=0)
        return seen == self.happened


@dataclass(frozen=True)
class Window:
    """What a dated question counts: the event in rounds ``first..last``."""

    event: EventKind
    first: int
    last: int

    @property
    def rounds(self) -> int:
        """The last round counted (as ``run.backtest.Horizon.rounds``)."""
        return self.last

    def happened(self, chunk: ChunkResult) -> np.ndarray:
        """``(n,)`` bool: the worlds where the event happened in the window."""
        if self.last < self.first:
            return np.zeros(chunk.n, dtype=bool)
        return self.event.by_round(chunk, self.last)[max(self.first, 1) - 1:].any(axis=0)


def weights(checks: Sequence[Check], chunk: ChunkResult, mismatch: float) -> np.ndarray:
    """``(n,)`` each world's weight: ``mismatch ** (observations it disagrees with)``
    (``0 ** 0 = 1``: with rejection the agreeing worlds weigh 1, the others 0)."""
    misses = np.zeros(chunk.n, dtype=np.int64)
    for check in checks:
        misses += ~check.agrees(chunk)
    return np.power(float(mismatch), misses)


@dataclass
class Tally:
    """Running weighted sums of one asking day: the weights and each question's hits."""

    sum_w: float = 0.0
    sum_w2: float = 0.0
    worlds: int = 0
    hits: list[float] = field(default_factory=list)

    @property
    def ess(self) -> float:
        """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 when no world agrees)."""
        return self.sum_w ** 2 / self.sum_w2 if self.sum_w2 > 0 else 0.0

    def p(self, i: int) -> float:
        """The weighted share of worlds where question ``i``'s event happened."""
        return self.hits[i] / self.sum_w if self.sum_w > 0 else float("nan")


@dataclass
class Conditioned:
    """What a conditioned run returns.

    Attributes:
        tallies: per asking day (in the order asked), its sums.
        inputs: each drawn input's values over every world (``(runs,)``).
        weights: per asking day, every world's weight (``(runs,)``).
    """

    tallies: list[Tally]
    inputs: dict[str, np.ndarray]
    weights: list[np.ndarray]


class Conditioner:
    """Folds chunks of worlds into each asking day's weighted sums (a ``simulate`` consumer).

    Args:
        checks: per asking day, the observations known that day (``Check``).
        windows: per asking day, the windows of its questions.
        mismatch: ``history.mismatch``.
        keep_inputs: keep each drawn input and each day's weights per world (for posteriors).
    """

    def __init__(self, checks: Sequence[Sequence[Check]], windows: Sequence[Sequence[Window]],
                 mismatch: float, keep_inputs: bool = True) -> None:
        self.checks, self.windows, self.mismatch = checks, windows, mismatch
        self.keep_inputs = keep_inputs
        self.tallies = [Tally(hits=[0.0] * len(w)) for w in windows]
        self._inputs: dict[str, list[np.ndarray]] = {}
        self._weights: list[list[np.ndarray]] = [[] for _ in checks]

    def __call__(self, chunk: ChunkResult) -> None:
        for k, (day_checks, tally) in enumerate(zip(self.checks, self.tallies)):
            w = weights(day_checks, chunk, self.mismatch)
            tally.sum_w += float(w.sum())
            tally.sum_w2 += float((w * w).sum())
            tally.worlds += chunk.n
            for i, window in enumerate(self.windows[k]):
                tally.hits[i] += float(w[window.happened(chunk)].sum())
            if self.keep_inputs:
                self._weights[k].append(w)
        if self.keep_inputs:
            for path, values in chunk.inputs.items():
                self._inputs.setdefault(path, []).append(np.asarray(values, dtype=float))

    def result(self) -> Conditioned:
        """The sums per day, and the inputs and weights per world (when kept)."""
        return Conditioned(self.tallies, {k: np.concatenate(v) for k, v in self._inputs.items()},
                           [np.concatenate(w) if w else np.zeros(0) for w in self._weights])


def condition(scenario: Scenario, history: History, days: Sequence[dt.date],
              windows: Sequence[Sequence[Window]], runs: int, *, seed: int = 0,
              chunk_size: int = DEFAULT_CHUNK, keep_inputs: bool = True,
              on_chunk: Callable[[int], None] | None = None,
              executor: Executor | None = None) -> Conditioned:
    """Simulate ``scenario`` once and condition its worlds on the record known on each day.

    Args:
        scenario: the scenario (its calendar starts on ``history.start``).
        history: the record.
        days: the asking days; each is conditioned on ``history.known_on(day)``.
        windows: per day, the windows of its questions.
        runs: worlds to simulate.
        seed: the run's seed.
        chunk_size: worlds simulated together (results do not depend on it).
        keep_inputs: keep each drawn input and each day's weights per world (for posteriors).
        on_chunk: called with the number of worlds of each chunk done (progress).
        executor: where the chunks run (None: this process).

    Returns:
        The sums per day, and (with ``keep_inputs``) the inputs and weights per world.
    """
    checks = [[Check.of(scenario, history, o) for o in history.known_on(d)] for d in days]
    fold = Conditioner(checks, windows, history.mismatch, keep_inputs)
    simulate(scenario, runs, seed=seed, chunk_size=chunk_size, executor=executor,
             consumers=[fold], on_chunk=on_chunk, solutions=False)
    return fold.result()


def require_ess(tally: Tally, min_ess: float, day: dt.date) -> None:
    """Refuse (``TooFewWorlds``, one line) when fewer than ``min_ess`` effective worlds agree
    with the record known on ``day``."""
    if tally.ess < min_ess:
        raise TooFewWorlds(
            f"only {tally.ess:,.1f} effective worlds of {tally.worlds:,} agree with the record "
            f"known on {day} (at least {min_ess:g} needed): run more worlds, raise "
            f"history.mismatch, or lower history.min_ess / --min-ess")


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Quantiles of ``x`` under weights ``w`` (the inverse of the weighted empirical CDF at the
    midpoints of each world's weight)."""
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.size == 0:
        return [float("nan")] * len(qs)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return [float(np.interp(q, cdf, x)) for q in qs]


def posterior_table(inputs: dict[str, np.ndarray], w: np.ndarray,
                    qs: Sequence[float] = (0.05, 0.5, 0.95)) -> list[dict]:
    """Per drawn input (those that vary), its prior and posterior mean, sd and quantiles."""
    rows = []
    ones = np.ones_like(w)
    for path, x in inputs.items():
        if x.size == 0 or np.all(x == x[0]):
            continue
        row: dict = {"input": path}
        for name, ww in (("prior", ones), ("posterior", w)):
            total = ww.sum()
            mean = float((ww * x).sum() / total) if total > 0 else float("nan")
            var = float((ww * (x - mean) ** 2).sum() / total) if total > 0 else float("nan")
            row[name] = {"mean": mean, "sd": var ** 0.5,
                         "q": weighted_quantiles(x, ww, qs)}
        rows.append(row)
    return rows
