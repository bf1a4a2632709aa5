"""The model's side of a backtest: how often each dated question's event happens in simulated
worlds.

For each question the model's probability is the share of simulated worlds of the question's
scenario in which the asked-about event happens in a round that ends by the day the question
closes (round r ends ``asked + r * protocol.round_days``; ``config.backtest.rounds_by``):

* ``summit``: the leaders of every principal met (``leaders_round``) by ``closes``;
* ``agreement``: signed by the leaders in a round by ``closes``; ``ceasefire``: one in force by
  then (``settled_round``; also one later followed by a settlement); ``settlement``: a settlement
  or a ceasefire took effect by then (``settled_round``);
* ``holds``: a settlement signed in a round that ends by ``closes`` and not broken in the
  ``ceil(holds_days / round_days)`` follow-up rounds after its signing (``core.durability``;
  a text broken in follow-up round s lasted ``s - signed - 1`` whole rounds).

Each scenario is simulated once by the engine (``run.engine``), and every question on it is
counted from the same worlds chunk by chunk, so memory stays flat however many worlds are run.

**Conditioned questions** (a file with one ``scenario:`` that has a ``history:``): the scenario
runs once from ``history.start`` and each asking day's questions are answered from its worlds
weighted by their agreement with the record known that day (``run.condition``). A question
counts its event in the rounds that start on or after ``asked`` and on or before ``closes``
(``config.history``), except ``agreement`` and ``holds``, counted by the
close (``Horizon``; the record says whether one came before). The scores of these probabilities
are ``analysis.backtest``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import datetime as dt

from negotiation_sim.config.backtest import LoadedBacktest, Question, holds_rounds, rounds_by
from negotiation_sim.config.defaults import DEFAULT_CHUNK
from negotiation_sim.config.history import first_round_from, rounds_through
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.outcomes import AGREEMENT, CEASEFIRE, ChunkResult
from negotiation_sim.results.summary import wilson_interval
from negotiation_sim.run.condition import (
    EventKind,
    Window,
    condition,
    posterior_table,
    require_ess,
)
from negotiation_sim.run.engine import simulate
from negotiation_sim.run.executors.base import Executor


@dataclass(frozen=True)
class Horizon:
    """What a question counts in its scenario's worlds.

    Attributes:
        event: the question's event.
        rounds: rounds that end by ``closes`` (``config.backtest.rounds_by``).
        hold: follow-up rounds a signed text must survive (``holds`` only).
    """

    event: str
    rounds: int
    hold: int = 0

    @classmethod
    def of(cls, question: Question, round_days: float) -> Horizon:
        return cls(question.event, rounds_by(question, round_days),
                   holds_rounds(question, round_days))

    def happened(self, chunk: ChunkResult) -> np.ndarray:
        """``(n,)`` bool: the worlds of ``chunk`` where the event happened in time."""
        if self.event == "summit":  # the leaders of every principal met, by the close
            met = chunk.leaders_round
            return (met >= 1) & (met <= self.rounds)
        outcome, end = chunk.outcome, chunk.end_round
        settled = chunk.settled_round  # the first settlement or ceasefire to take effect
        if self.event == "agreement":
            signed = (outcome == AGREEMENT) & (end >= 1) & (end <= self.rounds)
        elif self.event == "ceasefire":  # one in force by the close (also before a settlement)
            cease = (outcome == CEASEFIRE) | ((outcome == AGREEMENT) & (settled < end))
            signed = cease & (settled >= 1) & (settled <= self.rounds)
        elif self.event == "settlement":
            signed = (settled >= 1) & (settled <= self.rounds)
        else:  # holds: what is signed is followed from the round the world ends in
            kind = (outcome == AGREEMENT) | (outcome == CEASEFIRE)
            signed = kind & (end >= 1) & (end <= self.rounds)
        if self.event != "holds":
            return signed
        broken = chunk.broken_round
        if broken is None:
            raise ValueError("a holds question needs the chunk's broken_round")
        held = (broken < 0) | (broken.astype(np.int64) - end > self.hold)
        return signed & held


def count_events(scenario: Scenario, horizons: list[Horizon], runs: int, *, seed: int = 0,
                 chunk_size: int = DEFAULT_CHUNK,
                 on_chunk: Callable[[int], None] | None = None,
                 executor: Executor | None = None) -> list[int]:
    """Run ``scenario`` for ``runs`` worlds and count, for each horizon, the worlds where its
    event happened in time (one pass over the chunks; memory flat).

    Args:
        scenario: the question's scenario.
        horizons: what each question counts.
        runs: worlds to simulate.
        seed: the run's seed.
        chunk_size: worlds simulated together (counts do not depend on it).
        on_chunk: called with the number of worlds of each chunk done (progress).
        executor: where the chunks run (None: this process).

    Returns:
        The count of worlds per horizon, in order.
    """
    counts = [0] * len(horizons)

    def count(chunk: ChunkResult) -> None:
        for i, h in enumerate(horizons):
            counts[i] += int(h.happened(chunk).sum())

    simulate(scenario, runs, seed=seed, chunk_size=chunk_size, executor=executor,
             consumers=[count], on_chunk=on_chunk)
    return counts


def model_probabilities(loaded: LoadedBacktest, runs: int, *, seed: int = 0,
                        chunk_size: int = DEFAULT_CHUNK,
                        on_chunk: Callable[[int], None] | None = None,
                        executor: Executor | None = None,
                        ) -> list[tuple[float, list[float], int]]:
    """``(p, ci95, rounds)`` of every question, in file order; each scenario runs once
    (arguments as ``count_events``)."""
    by_path: dict[str, list[int]] = {}
    for i, path in enumerate(loaded.paths):
        if not loaded.is_conditioned(i):
            by_path.setdefault(path, []).append(i)
    out: list[Any] = [None] * len(loaded.questions)
    for path, idx in by_path.items():
        sc = loaded.scenarios[path]
        horizons = [Horizon.of(loaded.questions[i], sc.protocol.round_days) for i in idx]
        counts = count_events(sc, horizons, runs, seed=seed, chunk_size=chunk_size,
                              on_chunk=on_chunk, executor=executor)
        for i, h, k in zip(idx, horizons, counts):
            lo, hi = wilson_interval(k, runs)
            out[i] = (k / runs, [lo, hi], h.rounds)
    return out


def question_window(question: Question, scenario: Scenario):
    """What a conditioned question counts in its scenario's calendar (``Window``, or a
    ``Horizon`` by the close for ``agreement`` and ``holds``)."""
    start, days = scenario.history.start, scenario.protocol.round_days
    last = rounds_through(question.closes, start, days)
    if question.event in ("agreement", "holds"):
        return Horizon(question.event, last, holds_rounds(question, days))
    kind = "leaders" if question.event == "summit" else question.event
    event = EventKind.of(scenario, kind, question.members, question.level)
    return Window(event, first_round_from(question.asked, start, days), last)


def conditioned_probabilities(loaded: LoadedBacktest, runs: int, *, seed: int = 0,
                              chunk_size: int = DEFAULT_CHUNK,
                              on_chunk: Callable[[int], None] | None = None,
                              executor: Executor | None = None, min_ess: float | None = None,
                              ) -> tuple[dict[int, tuple[float, list[float], int]], dict]:
    """The conditioned questions' ``(p, ci95, rounds)`` by index, and what conditioning did.

    The file's scenario runs once; each asking day is conditioned on the record known that day.
    ``ci95`` is the Wilson interval of ``p`` on the effective sample size (Monte Carlo error
    only). Raises ``run.condition.TooFewWorlds`` when a day's effective sample is below
    ``min_ess`` (given, else the file's, else the history's).

    Returns:
        ``{index: (p, ci95, rounds)}`` and ``{"days": [{day, observations, ess, worlds}],
        "posterior": posterior_table on the last day}``.
    """
    sc = loaded.scenarios[loaded.conditioned]
    history = sc.history
    idx = [i for i in range(len(loaded.questions)) if loaded.is_conditioned(i)]
    days = sorted({loaded.questions[i].asked for i in idx})
    by_day: dict[dt.date, list[int]] = {d: [] for d in days}
    for i in idx:
        by_day[loaded.questions[i].asked].append(i)
    windows = [[question_window(loaded.questions[i], sc) for i in by_day[d]] for d in days]
    got = condition(sc, history, days, windows, runs, seed=seed, chunk_size=chunk_size,
                    on_chunk=on_chunk, executor=executor)
    min_ess = min_ess or loaded.backtest.min_ess or history.min_ess
    out: dict[int, tuple[float, list[float], int]] = {}
    info: dict[str, Any] = {"scenario": loaded.conditioned, "mismatch": history.mismatch,
                            "min_ess": min_ess, "days": []}
    for d, tally, ws in zip(days, got.tallies, windows):
        require_ess(tally, min_ess, d)
        info["days"].append({"day": d.isoformat(), "observations": len(history.known_on(d)),
                             "ess": tally.ess, "worlds": tally.worlds})
        n_eff = max(int(round(tally.ess)), 1)
        for j, (i, w) in enumerate(zip(by_day[d], ws)):
            p = tally.p(j)
            lo, hi = wilson_interval(int(round(p * n_eff)), n_eff)
            out[i] = (p, [lo, hi], w.rounds)
    if days:
        info["posterior"] = posterior_table(got.inputs, got.weights[-1])
        info["posterior_day"] = days[-1].isoformat()
    return out, info
