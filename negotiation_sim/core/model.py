"""The ensemble summit model: N independent worlds simulated at once as one Mesa model.

``SummitModel`` draws N worlds from a scenario, forms the summit in each (stage 1), then each
``step()`` plays one negotiation round in every world still negotiating (stage 2) under the
scenario's protocol, and records each world's outcome when it ends (stage 3). Parameters live in
numpy arrays with worlds on the last axis; worlds that have ended are compacted out of the
working arrays (``take``), so later rounds cost only what is still live. A single traced world
is N = 1: there is no other implementation.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.scenario import PRINCIPAL, Scenario
from negotiation_sim.core.agents import PrincipalAgent, StateAgent, make_agent
from negotiation_sim.core.nash import NashSolver
from negotiation_sim.core.outcomes import AGREEMENT, BREAKDOWN, CEASEFIRE, OUTCOMES
from negotiation_sim.core.preferences import utilities
from negotiation_sim.core.protocols import make_protocol
from negotiation_sim.core.seeds import block_generator
from negotiation_sim.core.solutions import reference_texts
from negotiation_sim.core.worlds import WorldParams, sample_worlds


class SummitModel(mesa.Model):
    """N worlds of one scenario, negotiated in lockstep.

    Args:
        scenario: a validated scenario (kept as ``spec``: Mesa reserves ``Model.scenario``).
        n_worlds: how many worlds to simulate.
        seed: the run's seed; with ``point`` and the world index it fixes every draw.
        point: index of the sweep point (0 for a single run).
        first_world: index of this chunk's first world within the run (a multiple of
            ``worlds.BLOCK``), so chunks of one run draw disjoint, reproducible worlds.
        trace: keep a per-round record of texts, claims and answers (for ``negsim trace``).
        solutions: compute the reference solution concepts of every world (``solutions``).

    Attributes (per world of the chunk, filled when the world ends):
        outcome: ``(N,)`` int8 index into ``OUTCOMES``.
        held_format: ``(N,)`` int8 index into ``scenario.formats()``, -1 for no summit.
        end_round: ``(N,)`` round the world ended in (0: no summit).
        terms: ``(K, N)`` the agreed text or the ceasefire package, NaN otherwise.
        utility: ``(A, N)`` each positioned actor's utility at the outcome (principals first).
        walked_out: ``(N,)`` whether talks ended by a walk-out.

    Randomness: inputs come from per-block, per-input streams (``worlds``) and in-run draws from
    per-block streams (``walk_draws``). ``self.rng`` (Mesa's) is seeded per chunk; protocols must
    not draw from it, or results would depend on how worlds were chunked.
    """

    def __init__(self, scenario: Scenario, n_worlds: int = 1, *, seed: int = 0, point: int = 0,
                 first_world: int = 0, trace: bool = False, solutions: bool = False) -> None:
        ss = np.random.SeedSequence(seed, spawn_key=(point, first_world // BLOCK, 2))
        super().__init__(rng=np.random.Generator(np.random.PCG64(ss)))
        self.spec = scenario
        self.issues = scenario.issue_ids
        self.formats = scenario.formats()
        self.params: WorldParams = sample_worlds(
            scenario, n_worlds, seed=seed, point=point, first_world=first_world
        )
        self.solver = NashSolver(self.params.prefs, self.params.clout, self.params.lo,
                                 self.params.hi)
        self.n_worlds = n_worlds
        # Every world's uncertain inputs, kept aside: the working arrays need not carry them.
        self.inputs = self.params.inputs
        self.params.inputs = {}
        # Reference solution concepts of every world, before formation compacts any away.
        self.solutions = self._reference_solutions() if solutions else {}
        self._init_outputs()
        self._init_agents()
        self.first_world = first_world
        self.open = np.ones(n_worlds, dtype=bool)  # working worlds that have not ended yet
        self.state: dict[str, np.ndarray] = {
            "reservation": self.params.reservation.copy(),
            "excess": self.params.claim.copy(),
        }
        self.round = 0
        self.trace_enabled = trace
        self.history: list[dict[str, Any]] = []
        self._walk_rngs = self._walk_generators(seed, point, first_world)
        self.datacollector = mesa.DataCollector(
            model_reporters={k: k for k in ("negotiating", *OUTCOMES[:3])}
        )
        self.protocol = make_protocol(scenario.protocol.kind, self)
        self.protocol.form()
        self.compact()
        self.running = self.params.n > 0
        self.datacollector.collect(self)

    # -- set-up ---------------------------------------------------------------------------
    def _init_outputs(self) -> None:
        n, K = self.n_worlds, len(self.issues)
        self.outcome = np.full(n, -1, dtype=np.int8)
        self.held_format = np.full(n, -1, dtype=np.int8)
        self.end_round = np.zeros(n, dtype=np.int16)
        self.terms = np.full((K, n), np.nan)
        self.walked_out = np.zeros(n, dtype=bool)
        n_others = 0 if self.params.others is None else self.params.others.position.shape[0]
        self.utility = np.full((len(self.spec.principals) + n_others, n), np.nan)

    def _init_agents(self) -> None:
        principals = self.spec.principals
        for aid, spec in self.spec.actors.items():
            index = principals.index(aid) if spec.role == PRINCIPAL else None
            make_agent(self, aid, spec, index)
        self.principals: list[PrincipalAgent] = sorted(
            self.agents_by_type.get(PrincipalAgent, []), key=lambda a: a.index
        )
        self.positioned_ids = self.spec.positioned

    def _walk_generators(self, seed: int, point: int, first_world: int) -> list[np.random.Generator]:
        first = first_world // BLOCK
        n_blocks = -(-self.n_worlds // BLOCK)
        return [block_generator(seed, point, b, stream=1) for b in range(first, first + n_blocks)]

    def _reference_solutions(self) -> dict[str, np.ndarray]:
        """Nash, Kalai-Smorodinsky, weighted mean and median texts, each ``(K, N)``."""
        prm = self.params
        weights = prm.capability[:, None, :] * prm.abs_salience
        return reference_texts(prm.prefs, prm.reservation, prm.clout, prm.lo, prm.hi,
                               prm.positions, weights, solver=self.solver)

    # -- working state ---------------------------------------------------------------------
    @property
    def reservation(self) -> np.ndarray:
        """True reservation values now, ``(P, live)``."""
        return self.state["reservation"]

    @property
    def excess(self) -> np.ndarray:
        """What is left of each principal's overstatement, ``(P, live)``."""
        return self.state["excess"]

    @property
    def live(self) -> np.ndarray:
        """Indices (within this chunk) of the worlds in the working arrays."""
        return self.params.world - self.first_world

    @property
    def negotiating(self) -> int:
        return int(self.open.sum())

    @property
    def agreement(self) -> int:
        return int((self.outcome == AGREEMENT).sum())

    @property
    def ceasefire(self) -> int:
        return int((self.outcome == CEASEFIRE).sum())

    @property
    def breakdown(self) -> int:
        return int((self.outcome == BREAKDOWN).sum())

    def agent(self, actor_id: str) -> StateAgent:
        """The agent of a scenario actor."""
        return next(a for a in self.agents if a.actor_id == actor_id)

    # -- running ---------------------------------------------------------------------------
    def step(self) -> None:
        """One negotiation round in every world still negotiating."""
        self.round += 1
        self.protocol.play_round(self.round)
        self.compact()
        self.datacollector.collect(self)
        if self.params.n == 0:
            self.running = False

    def run(self) -> SummitModel:
        """Play rounds until every world has ended; returns the model."""
        while self.running:
            self.step()
        return self

    def release(self) -> None:
        """Drop every array of a finished run, outputs included (take them first).

        Mesa keeps the model in reference cycles (its scenario and event objects point back to
        it), so a dropped model waits for the cyclic garbage collector; without its arrays it
        waits at almost no cost, and memory stays flat chunk after chunk.
        """
        self.remove_all_agents()
        self.principals = []
        self.protocol = None
        self.params = self.solver = None
        self.state = {}
        self._walk_rngs = []
        self.history = []
        self.inputs = self.solutions = {}
        self.outcome = self.held_format = self.end_round = None
        self.terms = self.utility = self.walked_out = None

    def walk_draws(self) -> np.ndarray:
        """This round's uniforms for walk-out decisions, ``(P, live)``.

        Every block draws for all its worlds every round, so a world's draws do not depend on
        which other worlds are still live or how worlds were chunked.
        """
        P = len(self.principals)
        full = np.concatenate([g.random((P, BLOCK)) for g in self._walk_rngs], axis=1)
        return full[:, self.live]

    def discount(self, rnd: int) -> np.ndarray:
        """``patience ** (round - 1)`` per principal and live world, ``(P, live)``."""
        return self.params.patience ** (rnd - 1)

    # -- ending worlds -----------------------------------------------------------------------
    def finish(self, mask: np.ndarray, outcome: int | np.ndarray, rnd: int,
               text: np.ndarray | None = None, value: np.ndarray | None = None) -> None:
        """Record the end of the working worlds in ``mask`` (those already ended are skipped).

        Args:
            mask: ``(n,)`` over the working arrays: which worlds end now.
            outcome: an outcome code, or ``(n,)`` codes.
            rnd: the round they end in.
            text: ``(K, n)`` the agreed text or ceasefire package, if any.
            value: ``(P, n)`` principals' utilities at the outcome.
        """
        mask = mask & self.open
        if not mask.any():
            return
        idx = self.params.world[mask] - self.first_world
        out = np.broadcast_to(np.asarray(outcome, dtype=np.int8), mask.shape)
        self.outcome[idx] = out[mask]
        self.end_round[idx] = rnd
        P = len(self.principals)
        if value is not None:
            self.utility[:P, idx] = value[:, mask]
        if text is not None:
            self.terms[:, idx] = text[:, mask]
            if self.params.others is not None:
                others = self.params.others.take(np.flatnonzero(mask))
                self.utility[P:, idx] = utilities(text[:, mask], others)
        self.open = self.open & ~mask

    def compact(self) -> None:
        """Drop ended worlds from the working arrays (``take`` keeps them contiguous)."""
        if self.open.all():
            return
        keep = np.flatnonzero(self.open)
        self.params = self.params.take(keep)
        self.solver = self.solver.take(keep)
        self.state = {k: v.take(keep, axis=-1) for k, v in self.state.items()}
        self.open = np.ones(keep.size, dtype=bool)
