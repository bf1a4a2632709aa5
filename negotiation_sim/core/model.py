"""The ensemble summit model: N independent worlds simulated at once as one Mesa model.

``SummitModel`` draws N worlds from a scenario. Talks are a calendar (docs/model.md section 8):
each ``step()`` (Mesa's, counted by ``model.steps``) is one round in every world still open, in
explicit phases:

1. between-round changes: the scenario's events (``core.events``), in the talks and in the
   signed texts being followed (shocks skip worlds where a text holds), then the shifts in power
   where a text holds (``durability.shifts``);
2. convening (``convene``): every invited principal decides whether to attend each format on the
   round's text, its audience cost and the mediators' blame; the chair convenes the first format
   all invited attend and blames the refusals; the beliefs learn from the decisions;
3. the session (``session``): the protocol's round (texts, answers, walk-outs), standing only
   where principals sat; leaders sign, delegations' texts wait for them; the ceasefire is
   answered at sessions of every principal; then the signed texts a side breaks
   (``core.durability``): a break before the horizon sends the world back to the talks;
4. pressure and support: each mediator presses where its pressure bites, plus its blame; each
   guarantor supports;
5. at the horizon (``protocol.rounds``), every world still open ends (``end_at_horizon``).

The talks (``talks``) and the signed texts being followed (``follow``) are two ensembles
(``core.state.Ensemble``): each phase is handed the ensemble it acts on.

Parameters live in numpy arrays with worlds on the last axis; worlds that have ended are
compacted out of the working arrays (``take``), so later rounds cost only what is still live. A
single traced world is N = 1: there is no other implementation.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.agents import (
    GuarantorAgent,
    MediatorAgent,
    PrincipalAgent,
    ceasefire_worth,
    chair,
    first_attended,
    in_rows,
    kept,
    make_agent,
    rows,
    stacked,
)
from negotiation_sim.core.beliefs import priors_of
from negotiation_sim.core.durability import (
    JUMP_STREAM,
    FollowUp,
    concat,
    followed,
    lift_pressure,
    shift_values,
    threshold,
)
from negotiation_sim.core.events import EventRunner
from negotiation_sim.core.outcomes import (
    AGREEMENT,
    BREAKDOWN,
    CEASEFIRE,
    NO_SUMMIT,
    OUTCOMES,
    ChunkResult,
    EndReason,
)
from negotiation_sim.core.outputs import BY_NAME
from negotiation_sim.core.outputs import NAMES as OUTPUT_NAMES
from negotiation_sim.core.outputs import allocate
from negotiation_sim.core.preferences import (
    FEASIBILITY_TOL,
    accepts,
    utilities,
    utilities_where,
)
from negotiation_sim.core.protocols import make_protocol
from negotiation_sim.core.seeds import block_generator
from negotiation_sim.core.solvers.nash import NashSolver
from negotiation_sim.core.solvers.solutions import reference_texts
from negotiation_sim.core.state import Ensemble, keep_where, snapshot
from negotiation_sim.core.worlds import (
    WorldParams,
    bound_texts,
    combine_caps,
    offered,
    preconditions_box,
    sample_worlds,
)

# Per-round aggregates the DataCollector keeps (``model.rounds_table()``), in column order.
REPORTERS = ("negotiating", *OUTCOMES[:3])


class SummitModel(mesa.Model):
    """N worlds of one scenario, negotiated in lockstep.

    Args:
        scenario: a validated scenario (kept as ``spec``: Mesa reserves ``Model.scenario``).
        n_worlds: how many worlds to simulate.
        seed: the run's seed; with ``point`` and the world index it fixes every draw.
        point: index of the sweep point (0 for a single run).
        first_world: index of this chunk's first world within the run (a multiple of
            ``config.defaults.BLOCK``), so chunks of one run draw disjoint, reproducible worlds.
        trace: keep a per-round record of texts, claims and answers (for ``negsim trace``).
        solutions: compute the reference solution concepts of every world (``solutions``).

    Attributes (per world of the chunk, filled when the world ends): one array per output
    declared in ``core.outputs`` (``outcome``, ``held_format``, ``end_round``, ``terms``,
    ``utility``, ``war``, ...), worlds on the last axis; ``result()`` hands them back.

    Agents: ``principals``, ``mediators`` and ``guarantors`` are Mesa ``AgentSet``s
    (``agents_by_type``); the protocols act through them. Each agent's row ``index`` places its
    answers (``core.agents.rows``), so the order a set is in (shuffled, sorted) changes nothing.

    Randomness: inputs come from per-block, per-input streams (``core.seeds``) and in-run draws
    from per-block streams (``walk_draws``). Mesa's own generators (``self.rng``,
    ``self.random``) are seeded with the run's seed and never drawn from: results would
    otherwise depend on how worlds were chunked.
    """

    def __init__(self, scenario: Scenario, n_worlds: int = 1, *, seed: int = 0, point: int = 0,
                 first_world: int = 0, trace: bool = False, solutions: bool = False) -> None:
        super().__init__(rng=seed)
        self.spec = scenario
        self.issues = scenario.issue_ids
        self.formats = scenario.formats()
        self.n_worlds = n_worlds
        self.first_world = first_world
        self.trace_enabled = trace
        self.history: list[dict[str, Any]] = []
        self.params: WorldParams = sample_worlds(
            scenario, n_worlds, seed=seed, point=point, first_world=first_world
        )
        # Every world's uncertain inputs, kept aside: the working arrays need not carry them.
        self.inputs = self.params.inputs
        self.params.inputs = {}
        self.priors = priors_of(scenario, scenario.protocol.information)
        self._init_agents()
        self._bound_texts()
        self.solver = NashSolver(self.params.prefs, self.params.clout, self.params.lo,
                                 self.params.hi)
        # Reference solution concepts of every world, before any world ends and is compacted.
        self.solutions = self._reference_solutions() if solutions else {}
        self._init_outputs()
        self.open = np.ones(n_worlds, dtype=bool)  # working worlds that have not ended yet
        self._walk_rngs = self._walk_generators(seed, point, first_world)
        self._jump_rngs = (self._walk_generators(seed, point, first_world, JUMP_STREAM)
                           if self._jumps_possible() else [])
        self.datacollector = mesa.DataCollector(model_reporters={k: k for k in REPORTERS})
        self.protocol = make_protocol(scenario.protocol.kind, self)
        self.state = self.protocol.initial_state()
        self.events = EventRunner(self, seed, point)
        self.follow = FollowUp(*followed(self.params, self.state, np.arange(0)),
                               np.zeros((len(self.spec.principals), 0)), np.zeros(0, np.int64))
        self.horizon = max(scenario.protocol.rounds, 1)  # the last round anything can be agreed
        self.refresh_pressure()
        self.running = self.params.n > 0
        self.datacollector.collect(self)

    # -- set-up ---------------------------------------------------------------------------
    def _init_outputs(self) -> None:
        """Every declared output's array (``core.outputs``), before any world ends."""
        sizes = {"issues": len(self.issues), "actors": len(self.spec.positioned),
                 "principals": len(self.spec.principals)}
        for name, values in allocate(self.n_worlds, sizes).items():
            setattr(self, name, values)

    def _init_agents(self) -> None:
        seen: dict[str, int] = {}
        for aid, spec in self.spec.actors.items():
            make_agent(self, aid, spec, seen.setdefault(spec.role, 0))
            seen[spec.role] += 1
        empty = AgentSet([], random=self.random)
        self.principals = self.agents_by_type.get(PrincipalAgent, empty)
        self.mediators = self.agents_by_type.get(MediatorAgent, empty)
        self.guarantors = self.agents_by_type.get(GuarantorAgent, empty)
        firsts = in_rows(self.principals)
        self.pre_box = preconditions_box([a.spec.preconditions for a in firsts], self.issues)
        self.offered = offered(self.spec)
        ids = [m.actor_id for m in in_rows(self.mediators)]
        F = len(self.formats)
        self.format_members = np.array([[m in members for m in ids]
                                        for _, members in self.formats], dtype=bool)
        self.format_members = self.format_members.reshape(F, len(ids))
        # Which principals each format invites, whether it seats them all (only such a
        # session can agree anything), whether it is the leaders', and whether it can sign.
        self.format_principals = np.array([[p in members for p in self.spec.principals]
                                           for _, members in self.formats], dtype=bool)
        self.format_full = self.format_principals.all(axis=1)
        self.format_leaders = np.array([lv == "leaders" for lv in self.spec.levels()])
        self.format_signs = self.format_full & self.format_leaders
        # The issues the ceasefire package names: its red lines bind only there.
        terms = self.spec.ceasefire.terms if self.spec.ceasefire is not None else {}
        self.ceasefire_named = np.array([k in terms for k in self.issues], dtype=bool)

    def _bound_texts(self) -> None:
        """Every text must lie inside all principals' red lines and under the guarantors' caps
        on the issues they back (``core.worlds.combine_caps``); a summit's texts also meet
        every principal's preconditions for attending (``core.worlds.bound_texts``)."""
        prm = self.params
        caps = combine_caps(rows(self.guarantors, "caps"), self.offered, prm.red_hi)
        bound_texts(prm, caps, self.pre_box)

    def rebound(self) -> None:
        """Recompute the bounds on texts of the talks (an event changed an offer or the
        ceasefire package; signed texts are fixed)."""
        self._bound_texts()
        prm = self.params
        self.solver = NashSolver(prm.prefs, prm.clout, prm.lo, prm.hi)

    def _walk_generators(self, seed: int, point: int, first_world: int,
                         stream: int = 1) -> list[np.random.Generator]:
        first = first_world // BLOCK
        n_blocks = -(-self.n_worlds // BLOCK)
        return [block_generator(seed, point, b, stream=stream)
                for b in range(first, first + n_blocks)]

    def _jumps_possible(self) -> bool:
        """Whether some principal's value of resuming the war can jump while a text holds."""
        return any(s.jump_rate != 0 and s.jump != 0
                   for s in self.spec.durability.shifts.values())

    def _reference_solutions(self) -> dict[str, np.ndarray]:
        """Nash, Kalai-Smorodinsky, weighted mean and median texts, each ``(K, N)``."""
        prm = self.params
        others = None if prm.others is None else prm.others.position
        return reference_texts(prm.prefs, prm.reservation, prm.clout, prm.lo, prm.hi,
                               (prm.prefs.position, others), (prm.capability, prm.abs_salience),
                               solver=self.solver)

    # -- the calendar: who comes to the table ------------------------------------------------
    def convene(self, rnd: int) -> tuple[np.ndarray, np.ndarray]:
        """Phase 2 of round ``rnd``: the session each world holds, and who sits at it.

        Each invited principal decides whether to attend each format
        (``PrincipalAgent.attends``) on the round's text, the talks' expected gain, its audience
        cost and the mediators' announced blame; where a text agreed at delegation level waits
        for signing, only the leaders' formats of every principal are convened, to sign it
        (``PrincipalAgent.signs``), and the text falls if war became worth more to a side than
        it. The chair convenes the first format, in its order, every invited principal attends
        (``MediatorAgent.convenes``); the principals that refused a format tried before it are
        blamed (``MediatorAgent.blames``). Attending is public: the beliefs about each
        principal learn what its decisions reveal (``PrincipalAgent.attend_cutoff``).

        Returns:
            ``(held (n,), sitting (P, n))``: the format index held (-1: none), and which
            principals sit at it.
        """
        prm, state = self.params, self.state
        for principal in self.principals:
            principal._terms = None  # set by ``expects`` when the protocol's gain is its rule
        text = self.protocol.opening_text()
        gain = self.protocol.expected_gain(text)  # (P, n)
        pre_ok = stacked(self.principals, "meets_preconditions", text) & prm.pre_ok[None]
        threat = sum(rows(self.mediators, "threat", self.talks), np.zeros_like(state.reservation))
        attend = stacked(self.principals, "attends", gain, pre_ok, threat, axis=1)  # (F, P, n)
        pending = ~np.isnan(state.pending[0])
        if pending.any():
            value = utilities_where(state.pending, prm.prefs, pending)  # read there only
            falls = pending & ~accepts(value, state.reservation).all(axis=0)
            if falls.any():
                state.pending = np.where(falls[None], np.nan, state.pending)
                pending &= ~falls
            signs = stacked(self.principals, "signs", value, threat, axis=1)
            attend = np.where(pending[None, None], signs, attend)
            gain = np.where(pending[None], value - state.reservation, gain)  # what signing adds
        invited = self.format_principals[:, :, None]
        yes = attend | ~invited
        convener = chair(self.mediators)
        held = convener.convenes(yes) if convener is not None else first_attended(yes)
        F = len(self.formats)
        tried = (np.arange(F)[:, None] < held[None]) | (held[None] < 0)  # (F, n)
        refused = (tried[:, None] & invited & ~attend).sum(axis=0)  # (P, n)
        self._blame(refused, np.zeros_like(refused, dtype=bool))
        asked = (tried | (np.arange(F)[:, None] == held[None])) & ~pending[None]
        self._learn_from_attending(attend, asked[:, None] & invited & pre_ok[None], threat)
        sitting = np.where(held >= 0, self.format_principals[np.maximum(held, 0)].T, False)
        present = rows(self.mediators, "present", held)
        state.present = np.stack(present) if present else np.zeros((0, prm.n), dtype=bool)
        self.refresh_pressure()  # the pressure of this round's session, as protocols plan with
        self._record_sessions(rnd, held)
        if self.trace_enabled:
            self.history.append({"stage": "convene", "round": rnd, "world": self.live.copy(),
                                 "text": text.copy(), "gain": gain.copy(), "threat": threat.copy(),
                                 "cost": prm.audience.copy() if prm.audience.ndim == 3 else None,
                                 "preconditions": pre_ok.copy(), "attend": attend.copy(),
                                 "invited": invited[:, :, 0].copy(), "pending": pending.copy(),
                                 "held": held.copy()})
        return held, sitting

    def _blame(self, refused: np.ndarray, rejected: np.ndarray) -> None:
        if refused.any() or rejected.any():
            rows(self.mediators, "blames", self.talks, refused, rejected)

    def _learn_from_attending(self, attend: np.ndarray, asked: np.ndarray,
                              threat: np.ndarray) -> None:
        """Bayes' rule on the public decisions to attend or refuse (``asked``: ``(F, P, n)``
        the formats each principal was asked to, its preconditions met): attending a format
        reveals the value of war lies at or below the principal's cutoff for it, refusing that
        it lies above (``PrincipalAgent.learn_from``)."""
        if self.state.beliefs.known.all():
            return
        for principal in in_rows(self.principals):
            principal.learn_from(attend, asked, threat)

    def _record_sessions(self, rnd: int, held: np.ndarray) -> None:
        """Count the sessions and date the first talks and leaders' meeting of every
        principal; the format of the last session of every principal is the one held; log the
        format held in every round (``session_log``, of any members)."""
        idx = self.live
        met = held >= 0
        self.sessions[idx[met]] += 1
        full = met & self.format_full[np.maximum(held, 0)]
        leaders = full & self.format_leaders[np.maximum(held, 0)]
        for out, mask in ((self.talks_round, full), (self.leaders_round, leaders)):
            first = idx[mask]
            first = first[out[first] < 0]
            out[first] = rnd
        self.held_format[idx[full]] = held[full]
        self.state.met = self.state.met | full
        # The per-round log grows as rounds are played: its rows are the rounds there were.
        if self.session_log.shape[0] < rnd:
            grown = np.full((max(rnd, self.horizon), self.n_worlds), -1, dtype=np.int8)
            grown[:self.session_log.shape[0]] = self.session_log
            self.session_log = grown
        self.session_log[rnd - 1, idx] = held

    def refresh_pressure(self, ensemble: Ensemble | None = None) -> None:
        """Sum each mediator's pressure and backlash over the worlds it presses in, in
        ``ensemble`` (None: the talks)."""
        ensemble = self.talks if ensemble is None else ensemble
        state = ensemble.state
        reach = rows(self.mediators, "reach", ensemble)
        state.pressure = self._summed("pressure_on", reach, ensemble)
        state.backlash = self._summed("backlash_on", reach, ensemble)

    def _summed(self, method: str, present: list[np.ndarray], ensemble: Ensemble) -> np.ndarray:
        """``(P, n)`` the sum over mediators, in row order, of ``mediator.method(its presence,
        ensemble)``."""
        total = np.zeros_like(ensemble.state.reservation)
        for mediator, here in zip(in_rows(self.mediators), present):
            total = total + getattr(mediator, method)(here, ensemble)
        return total

    # -- working state ---------------------------------------------------------------------
    @property
    def talks(self) -> Ensemble:
        """The worlds still negotiating: the working arrays (``params``, ``state``) as an
        ensemble, sharing them (a change made through it is a change of the talks)."""
        return Ensemble(self.params, self.state)

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

    def rounds_table(self) -> np.ndarray:
        """``(rounds + 1, 4)`` the DataCollector's per-round counts, one row per collection
        (after formation, then after each round): worlds still negotiating, and worlds ended
        in agreement, ceasefire and breakdown so far (``REPORTERS``)."""
        data = self.datacollector.model_vars
        return np.array([data[k] for k in REPORTERS], dtype=np.int64).T.reshape(-1, len(REPORTERS))

    # -- running ---------------------------------------------------------------------------
    def step(self) -> None:
        """One round of the calendar in every world still open (Mesa counts ``steps``)."""
        rnd = self.steps
        self.between_rounds(rnd, self.talks, self.follow)
        self.protocol.tabled = None
        if self.params.n:
            self.ceasefire_holds(rnd)
            held, sitting = self.convene(rnd)
            self.session(rnd, held, sitting)
        self.follow = self.check_signed(rnd, self.follow)
        rows(self.mediators, "presses", self.talks)
        rows(self.guarantors, "supports", self.talks)
        if self.follow.n and self.spec.durability.leverage == "follows":
            rows(self.mediators, "presses", self.follow)
        if self.params.n and self.protocol.deadline(rnd):
            self.end_at_horizon(rnd)
        self.protocol.tabled = None
        self.compact()
        self.datacollector.collect(self)
        if self.params.n == 0 and self.follow.n == 0:
            self.running = False

    def session(self, rnd: int, held: np.ndarray, sitting: np.ndarray) -> None:
        """Phase 3: the sessions held in round ``rnd`` (``held``, ``sitting``: ``convene``).

        The protocol plays its round (drawn in every world, so a world's draws do not depend
        on the others'); what it does stands only where principals sat (``state.keep_where``):
        a session of every principal can agree a text, one that leaves a principal out lets
        the mediator learn from the answers of those present. A text agreed by the leaders is
        signed; one agreed by delegations waits for the leaders (``convene``); a waiting text
        is signed when its leaders' session is held. Where no settlement was signed, every
        principal at a session of all of them answers the ceasefire package. A walk-out ends
        the talks; a principal that rejects a text every other principal accepted is blamed.
        """
        prm, state = self.params, self.state
        full = (held >= 0) & self.format_full[np.maximum(held, 0)]
        leaders = full & self.format_leaders[np.maximum(held, 0)]
        pending = ~np.isnan(state.pending[0])
        signing = pending & leaders
        talking = sitting & ~pending[None]
        before = snapshot(state)
        result = self.protocol.play_round(rnd)
        keep_where(state, before, talking)
        agreed = np.zeros(prm.n, dtype=bool) if result.agreed is None else result.agreed
        agreed = agreed & full & ~pending
        waits = agreed & ~leaders
        if waits.any():
            state.pending = np.where(waits[None], result.text, state.pending)
        if result.accept is not None:
            others = (result.accept | ~talking).sum(axis=0)[None] - result.accept
            alone = full[None] & ~result.accept & (others == result.accept.shape[0] - 1)
            self._blame(np.zeros(alone.shape, dtype=np.int64), alone & ~pending[None])
        signed_now = agreed & leaders
        text = result.text if result.text is not None else state.pending
        if signing.any():
            text = np.where(signing[None], state.pending, text)  # a number where signing
            signed_now = signed_now | signing
        if signed_now.any():
            value = utilities_where(text, prm.prefs, signed_now)  # finish reads those
            self._settled(rnd, signed_now, AGREEMENT)
            self.record_reason(signed_now, EndReason.AGREED)
            self.finish(signed_now, AGREEMENT, rnd, text=text, value=value, war=state.reservation)
        walked = (np.zeros(prm.n, dtype=bool) if result.walked is None else result.walked)
        walked = walked & full & ~pending & ~signed_now & self.open
        if walked.any():
            self.end_talks(walked, rnd, walked, state.reservation, result.walked_by)
        self.agree_ceasefire(rnd, full & self.open)

    def agree_ceasefire(self, rnd: int, full: np.ndarray) -> None:
        """At a session of every principal (``full``) with no ceasefire in force, every
        principal answers the ceasefire package by the rule it answers texts with; a package
        outside some principal's red lines is refused (``params.red_ok``). It takes effect in
        the worlds where every principal accepts it (docs/model.md section 10)."""
        state = self.state
        if self.params.ceasefire is None:
            return
        new = full & ~state.cease
        if not new.any():
            return
        _, taken = self.protocol.ceasefire_value(rnd, state.reservation)
        new = new & taken & self._ceasefire_allowed()
        if new.any():
            state.cease = state.cease | new
            self._settled(rnd, new, CEASEFIRE)

    def _ceasefire_allowed(self) -> np.ndarray:
        """``(n,)`` whether the ceasefire package lies inside every principal's red lines on
        the issues it names: a ceasefire settles only those; the issues it leaves at the status
        quo are deferred, not conceded (docs/model.md section 10)."""
        prm = self.params
        c = prm.ceasefire

        def allowed() -> np.ndarray:
            inside = (c >= prm.red_lo - FEASIBILITY_TOL) & (c <= prm.red_hi + FEASIBILITY_TOL)
            return (inside | ~self.ceasefire_named[:, None]).all(axis=0)

        # read twice a round: kept while the package and red lines are the same arrays
        return kept(self, "ceasefire_allowed", (c, prm.red_lo, prm.red_hi), allowed)

    def ceasefire_holds(self, rnd: int) -> None:
        """A ceasefire in force falls where some principal's value of war climbs above the
        package's worth plus its cost of breaking (each principal's ``breaks``, the rule signed
        texts are held to, ``core.durability``); the fighting, and its shocks, resume."""
        state, prm = self.state, self.params
        if prm.ceasefire is None or not state.cease.any():
            return
        value = ceasefire_worth(self)
        limit = threshold(prm, np.arange(prm.n), value, prm.ceasefire)
        over = stacked(self.principals, "breaks", self.talks, limit)
        falls = state.cease & over.any(axis=0)
        if falls.any():
            state.cease = state.cease & ~falls
            idx = self.live[falls]
            self._record_break(idx, rnd, np.argmax(over, axis=0)[falls])
            self.resumed[idx] = True

    def _settled(self, rnd: int, mask: np.ndarray, kind: int) -> None:
        """A text of ``kind`` (agreement, ceasefire) takes effect in the worlds ``mask``: count
        it, and date the first spell of peace and say what began it."""
        idx = self.live[mask]
        self.signings[idx] += 1
        idx = idx[self.settled_round[idx] < 0]
        self.settled_round[idx] = rnd
        self.settled_kind[idx] = kind

    def end_at_horizon(self, rnd: int) -> None:
        """The horizon: every world still open ends, as a ceasefire where one is in force, a
        breakdown where talks of every principal were held, else no summit."""
        prm, state = self.params, self.state
        open_ = self.open.copy()
        cease = open_ & state.cease
        if cease.any():
            value = ceasefire_worth(self)
            self.record_reason(cease, EndReason.DEADLINE)
            self.finish(cease, CEASEFIRE, rnd, text=prm.ceasefire, value=value,
                        war=state.reservation)
        talked = open_ & ~cease & state.met
        reason = EndReason.CEASEFIRE_REFUSED if prm.ceasefire is not None else EndReason.DEADLINE
        self.record_reason(talked, reason)
        self.finish(talked, BREAKDOWN, rnd, value=state.reservation, war=state.reservation)
        none = open_ & ~cease & ~state.met
        self.record_reason(none, np.where(prm.pre_ok, EndReason.NO_FORMAT,
                                          EndReason.PRECONDITIONS))
        self.finish(none, NO_SUMMIT, 0, value=state.reservation, war=state.reservation)

    def between_rounds(self, rnd: int, talks: Ensemble, signed: FollowUp) -> None:
        """Phase 1: the scenario's events between rounds, before round ``rnd`` (from round 2),
        in the worlds of ``talks`` and in the ``signed`` texts being followed; then, where a
        text holds (a ceasefire in force in the talks, every signed text followed), the shifts
        in power that move the values of resuming the war (``durability.shifts``)."""
        if rnd < 2:
            return
        self.events.apply(rnd, talks, signed if signed.n else None)
        if not self.spec.durability.shifts:
            return
        jumps = self.jump_draws()
        if talks.n and talks.state.cease.any():
            shift_values(talks, talks.state.cease, jumps[:, self.live])
        if signed.n:
            shift_values(signed, None, jumps[:, signed.params.world - self.first_world])

    def jump_draws(self) -> np.ndarray:
        """This round's uniforms for the jumps in the values of resuming the war, ``(P, chunk)``
        (every block draws for all its worlds every round, as ``walk_draws``; ones where no
        jump is possible)."""
        if not self._jump_rngs:
            return np.ones((len(self.principals), self.n_worlds))
        return self._block_uniforms(self._jump_rngs)[:, :self.n_worlds]

    def _block_uniforms(self, rngs: list[np.random.Generator]) -> np.ndarray:
        """``(P, blocks x BLOCK)`` one uniform per principal and world of every block, whether
        or not its worlds are still live (so a world's draws never depend on the others')."""
        P = len(self.principals)
        return np.concatenate([g.random((P, BLOCK)) for g in rngs], axis=1)

    def check_signed(self, rnd: int, follow: FollowUp) -> FollowUp:
        """Phase 3 for the signed texts ``follow``: a principal breaks a text in the first
        round after its signing in which its value of war exceeds the text's worth plus the
        cost of breaking (``core.durability``). A break before the horizon resumes the war and
        sends the world back to the talks (``resume``); a text is followed until the later of
        the horizon and ``durability.rounds`` rounds after its signing. Records the breaks;
        returns the texts still followed."""
        if follow.n == 0:
            return follow
        broken, by = follow.breaks(self.principals)
        broken &= follow.signed < rnd
        idx = follow.params.world - self.first_world
        self._record_break(idx[broken], rnd, by[broken])
        back = broken & (rnd < self.horizon)
        if back.any():
            self.resume(follow.take(np.flatnonzero(back)))
        until = np.maximum(self.horizon, follow.signed + self.spec.durability.rounds)
        done = broken | (rnd >= until)
        return follow.take(np.flatnonzero(~done)) if done.any() else follow

    def _record_break(self, idx: np.ndarray, rnd: int, by: np.ndarray) -> None:
        """Date the end of the first spell of peace (``settled_round`` to ``broken_round``) in
        the chunk's worlds ``idx``, and who ended it (``by``); later breaks are not recorded."""
        first = self.broken_round[idx] < 0
        self.broken_round[idx[first]] = rnd
        self.broken_by[idx[first]] = by[first]

    def resume(self, back: FollowUp) -> None:
        """The war resumes in the worlds of ``back`` (their texts broke before the horizon):
        they rejoin the talks with their values of war, beliefs, blame and pressure as the
        follow-up left them, and what their signing had recorded is undone (they end again,
        at a later signing or at the horizon)."""
        idx = back.params.world - self.first_world
        self.resumed[idx] = True
        for name in ("outcome", "end_reason", "end_round", "terms", "utility", "war"):
            array = getattr(self, name)
            array[..., idx] = BY_NAME[name].fill
        self.params = concat(self.params, back.params)
        self.state = concat(self.state, back.state)
        self.open = np.concatenate([self.open, np.ones(back.n, dtype=bool)])
        # The bounds an event may have moved while the text held; the solver's pieces are
        # built for the rejoining worlds only (events change no preference or clout, and one
        # that moves an offer rebounds the talks at once: the others' pieces are current).
        self._bound_texts()
        prm = self.params
        self.solver = self.solver.extended(prm.prefs, prm.clout, prm.lo, prm.hi)

    def run(self) -> SummitModel:
        """Play rounds until every world has ended (Mesa's ``run_model``); returns the model."""
        self.run_model()
        return self

    def release(self) -> None:
        """Drop every array of a finished run, outputs included (take them first).

        Mesa keeps the model in reference cycles (its scenario and event objects point back to
        it), so a dropped model waits for the cyclic garbage collector; without its arrays it
        waits at almost no cost, and memory stays flat chunk after chunk.
        """
        self.remove_all_agents()
        self.principals = self.mediators = self.guarantors = None
        self.protocol = None
        self.params = self.solver = self.state = None
        self._walk_rngs = []
        self.history = []
        self.inputs = self.solutions = {}
        for name in OUTPUT_NAMES:
            setattr(self, name, None)
        self.events = self.follow = None

    def result(self) -> ChunkResult:
        """What the chunk hands back once every world has ended."""
        return ChunkResult(self.first_world, inputs=self.inputs, solutions=self.solutions,
                           by_round=self.rounds_table(),
                           **{name: getattr(self, name) for name in OUTPUT_NAMES})

    def walk_draws(self) -> np.ndarray:
        """This round's uniforms for walk-out decisions, ``(P, live)``.

        Every block draws for all its worlds every round, so a world's draws do not depend on
        which other worlds are still live or how worlds were chunked.
        """
        return self._block_uniforms(self._walk_rngs)[:, self.live]

    # -- ending worlds ------------------------------------------------------------------------
    def end_talks(self, mask: np.ndarray, rnd: int, walked: np.ndarray, war: np.ndarray,
                  walked_by: np.ndarray | None = None) -> None:
        """Worlds in ``mask`` end their talks in round ``rnd`` by a walk-out (``walked_by``:
        the first principal to leave, -1 for none): a ceasefire where one is in force, else
        breakdown (``war``: each principal's value of war in that round)."""
        prm, state = self.params, self.state
        mask = mask & self.open
        if not mask.any():
            return
        idx = prm.world[mask & walked] - self.first_world
        self.walked_out[idx] = True
        if walked_by is not None:
            self.walked_out_by[idx] = walked_by[mask & walked]
        self.record_reason(mask, EndReason.WALK_OUT)
        cease = mask & state.cease
        if cease.any():
            value = ceasefire_worth(self)
            self.finish(cease, CEASEFIRE, rnd, text=prm.ceasefire, value=value, war=war)
        self.finish(mask, BREAKDOWN, rnd, value=war, war=war)

    def record_reason(self, mask: np.ndarray, reason) -> None:
        """Record why the open worlds in ``mask`` end (before ``finish`` closes them)."""
        mask = mask & self.open
        if mask.any():
            reason = np.broadcast_to(np.asarray(reason, dtype=np.int8), mask.shape)
            self.end_reason[self.params.world[mask] - self.first_world] = reason[mask]

    def finish(self, mask: np.ndarray, outcome: int | np.ndarray, rnd: int,
               text: np.ndarray | None = None, value: np.ndarray | None = None,
               war: np.ndarray | None = None) -> None:
        """Record the end of the working worlds in ``mask`` (those already ended are skipped).

        Args:
            mask: ``(n,)`` over the working arrays: which worlds end now.
            outcome: an outcome code, or ``(n,)`` codes.
            rnd: the round they end in.
            text: ``(K, n)`` the agreed text or ceasefire package, if any.
            value: ``(P, n)`` principals' utilities at the outcome.
            war: ``(P, n)`` their values of war in the round they end in.
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
        if war is not None:
            self.war[:, idx] = war[:, mask]
        if text is not None:
            self.terms[:, idx] = text[:, mask]
            if self.params.others is not None:
                others = self.params.others.take(np.flatnonzero(mask))
                self.utility[P:, idx] = utilities(text[:, mask], others)
            if value is not None and self.spec.durability.rounds > 0:
                self._sign(np.flatnonzero(mask), text, value, rnd)
        self.open = self.open & ~mask

    def _sign(self, where: np.ndarray, text: np.ndarray, value: np.ndarray, rnd: int) -> None:
        """Start following the texts signed in the working worlds ``where`` in round ``rnd``
        (a settlement signed, or a ceasefire at the end of the talks). The mediation ends here,
        so with ``durability.leverage: ends`` its pressure is lifted (and the follow-up is not
        pressed, ``step``)."""
        params, state = followed(self.params, self.state, where)
        lift = self.spec.durability.leverage == "ends"
        new = FollowUp(params, state,
                       threshold(self.params, where, value[:, where], text[:, where]),
                       np.full(where.size, rnd, dtype=np.int64))
        if lift:
            lift_pressure(new)
        self.follow = new.join(self.follow)

    def compact(self) -> None:
        """Drop ended worlds from the working arrays (``take`` keeps them contiguous)."""
        if self.open.all():
            return
        keep = np.flatnonzero(self.open)
        self.params = self.params.take(keep)
        self.solver = self.solver.take(keep)
        self.state = self.state.take(keep)
        self.open = np.ones(keep.size, dtype=bool)
