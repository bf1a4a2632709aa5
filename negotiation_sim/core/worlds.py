"""Drawing an ensemble of worlds from a scenario: every number as an array over worlds.

A chunk of worlds is a run of fixed-size *blocks*. Each block draws each uncertain input from its
own generator, seeded by ``SeedSequence(seed, spawn_key=(point, block, 0, crc32(path)))``, and
its in-run draws from ``(point, block, 1)``, so a world's draws depend only on the seed, the sweep
point, the world's index and the input's path, never on how worlds were split into chunks, which
worker ran them, or which other inputs the scenario has. This module owns that sampling and the stacked parameter arrays
(``WorldParams``) the model and protocols work on, worlds on the last axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from pydantic import BaseModel

from negotiation_sim.config.constraints import Constraint
from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.distributions import _Dist, draw_blocks
from negotiation_sim.config.events import Shock
from negotiation_sim.config.paths import not_drawn
from negotiation_sim.config.scenario import GUARANTOR, MEDIATOR, PowerUtility, Principal, Scenario
from negotiation_sim.core import columns
from negotiation_sim.core.columns import constant, on_column, stack
from negotiation_sim.core.preferences import Preferences
from negotiation_sim.core.seeds import input_generator


class Drawn:
    """One node of a scenario with every number drawn: the same fields, arrays over worlds.

    ``draw_scenario`` mirrors the validated scenario node by node: a pydantic model becomes a
    ``Drawn`` with the same field names, mappings stay mappings, lists stay lists, and every
    number or distribution becomes an ``(N,)`` array. Code reads a drawn scenario exactly as it
    reads the scenario itself (``drawn.actors["russia"].reservation``), so no dotted path is
    spelled outside ``config.paths``, which owns them.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None


def draw_scenario(scenario: Scenario, seed: int, point: int, blocks: range,
                  n_worlds: int) -> tuple[Drawn, dict[str, np.ndarray]]:
    """Draw every number of the scenario for worlds ``blocks.start * BLOCK`` onwards.

    Returns:
        ``(drawn, inputs)``: the scenario with an array of ``n_worlds`` values in place of each
        number, and the uncertain inputs (the distributions) by dotted path, in file order.
    """
    inputs: dict[str, np.ndarray] = {}

    def number(value: Any, path: str) -> np.ndarray:
        if not isinstance(value, _Dist):
            return constant(np.array([float(value)]), n_worlds)
        rngs = [input_generator(seed, point, b, path) for b in blocks]
        inputs[path] = draw_blocks(value, rngs, BLOCK)[:n_worlds]
        return inputs[path]

    def build(node: Any, path: tuple) -> Any:
        if isinstance(node, _Dist) or (isinstance(node, (int, float))
                                      and not isinstance(node, bool)):
            return number(node, ".".join(map(str, path)))
        if isinstance(node, BaseModel):
            raw = not_drawn(node)
            return Drawn({name: getattr(node, name) if name in raw
                          else build(getattr(node, name), (*path, name))
                          for name in type(node).model_fields})
        if isinstance(node, dict):
            return {k: build(v, (*path, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [build(v, (*path, i)) for i, v in enumerate(node)]
        return node

    return build(scenario, ()), inputs


@dataclass
class ScheduledValues:
    """The per-world numbers of one scheduled event, each ``(N,)``.

    Attributes:
        probability: the chance it happens in each world.
        set: the value of each of its ``set`` targets, in file order.
        add: the change of each of its ``add`` targets, in file order.
    """

    probability: np.ndarray
    set: tuple[np.ndarray, ...]
    add: tuple[np.ndarray, ...]

    def take(self, idx: np.ndarray) -> ScheduledValues:
        return ScheduledValues(columns.take(self.probability, idx),
                               tuple(columns.take(v, idx) for v in self.set),
                               tuple(columns.take(v, idx) for v in self.add))


@dataclass
class WorldParams:
    """The drawn parameters of N worlds, stacked; worlds on the last axis of every array.

    P principals, K issues, F formats, M mediators, G guarantors, A positioned actors
    (principals first). What the actors do with these numbers lives on the agents
    (``core.agents``); the bounds texts must respect are set by the model from the principals'
    red lines and the guarantors' caps (``SummitModel``).
    """

    world: np.ndarray  # (N,) index of each world within the run
    status_quo: np.ndarray  # (K, N)
    prefs: Preferences  # principals: (P, K, N)
    reservation: np.ndarray  # (P, N) value of the war going on before any pressure
    patience: np.ndarray  # (P, N)
    claim: np.ndarray  # (P, N) opening overstatement
    concession: np.ndarray  # (P, N)
    clout: np.ndarray  # (P, N)
    walkout: np.ndarray  # (P, N)
    red_lo: np.ndarray  # (K, N) lowest text every principal's red lines allow
    red_hi: np.ndarray  # (K, N) highest text every principal's red lines allow
    offers: np.ndarray  # (G, K, N) the most each guarantor backs per issue (1: no cap)
    audience: np.ndarray  # (P, F, N)
    pressure: np.ndarray  # (M, P, N) per-round fall in each principal's value of war
    backlash: np.ndarray  # (M, N) walk-out chance added per unit of that pressure
    blame_refuse: np.ndarray  # (M, N) pressure added on a principal that refuses a format
    blame_reject: np.ndarray  # (M, N) pressure added on one that rejects what all others accept
    blame_cap: np.ndarray  # (M, N) the most pressure blame can add on one principal
    bias: np.ndarray  # (M, N) weight of the drafter's own utility (0: unbiased)
    support: np.ndarray  # (G, P, N) per-round rise in each principal's value of war
    ceasefire_terms: np.ndarray | None  # (K, N) fallback package before guarantor caps
    others: Preferences | None  # positioned non-principals: (A - P, K, N)
    capability: np.ndarray  # (A, N) clout of every positioned actor, principals first
    abs_salience: np.ndarray  # (A, K, N) salience as written (BDM's absolute salience, in [0, 1])
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # uncertain inputs, (N,)
    events: tuple[ScheduledValues | None, ...] = ()  # per event of the file (None: a shock)
    breach: np.ndarray | None = None  # (P, N) what breaking a signed text costs each principal
    deterrence: np.ndarray | None = None  # (P, K, N) extra cost per unit of the text, per issue
    drift: np.ndarray | None = None  # (P, N) rise a round in the value of resuming the war
    jump_rate: np.ndarray | None = None  # (P, N) chance a round of a jump in it
    jump: np.ndarray | None = None  # (P, N) size of a jump
    # Set by the model from red lines and guarantor caps (SummitModel._bound_texts):
    lo: np.ndarray | None = None  # (K, N) lowest text allowed
    hi: np.ndarray | None = None  # (K, N) highest text allowed (at least lo)
    box_ok: np.ndarray | None = None  # (N,) whether red lines and caps leave any text
    pre_ok: np.ndarray | None = None  # (N,) whether some such text meets every precondition
    ceasefire: np.ndarray | None = None  # (K, N) fallback package under the guarantors' caps

    @property
    def n(self) -> int:
        return self.world.shape[0]

    @property
    def positions(self) -> np.ndarray:
        """``(A, K, N)`` ideal points of every positioned actor, principals first."""
        if self.others is None:
            return self.prefs.position
        return np.concatenate([self.prefs.position, self.others.position])

    def take(self, idx: np.ndarray) -> WorldParams:
        """The parameters of worlds ``idx`` only (contiguous copies; constants stay constants,
        ``core.columns``)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v = columns.take(v, idx)
            elif isinstance(v, Preferences):
                v = v.take(idx)
            elif isinstance(v, dict):
                v = {k: columns.take(a, idx) for k, a in v.items()}
            elif isinstance(v, tuple):
                v = tuple(None if x is None else x.take(idx) for x in v)
            out[f.name] = v
        return replace(self, **out)


def sample_worlds(scenario: Scenario, n_worlds: int, *, seed: int = 0, point: int = 0,
                  first_world: int = 0) -> WorldParams:
    """Draw ``n_worlds`` worlds, starting at world ``first_world`` (a multiple of ``BLOCK``)."""
    if first_world % BLOCK:
        raise ValueError(f"first_world must be a multiple of {BLOCK}")
    first = first_world // BLOCK
    blocks = range(first, first + -(-n_worlds // BLOCK))
    drawn, inputs = draw_scenario(scenario, seed, point, blocks, n_worlds)
    return _assemble(scenario, drawn, inputs, n_worlds, first_world)


def _assemble(sc: Scenario, d: Drawn, inputs: dict[str, np.ndarray], n: int,
              first_world: int) -> WorldParams:
    issues, principals = sc.issue_ids, sc.principals
    sq = stack([d.issues[k].status_quo for k in issues], n)

    def per(name: str, ids: list[str]) -> np.ndarray:
        return stack([getattr(d.actors[a], name) for a in ids], n)

    others = sc.positioned[len(principals):]
    mediators, guarantors = sc.ids(MEDIATOR), sc.ids(GUARANTOR)
    lo, hi = _red_line_box(sc, n)
    zeros, ones = constant(np.zeros(1), n), constant(np.ones(1), n)
    K, P = len(issues), len(principals)
    return WorldParams(
        world=np.arange(first_world, first_world + n),
        status_quo=sq,
        prefs=_preferences(sc, d, principals, n),
        reservation=per("reservation", principals),
        patience=per("patience", principals),
        claim=per("claim", principals),
        concession=per("concession", principals),
        clout=per("clout", principals),
        walkout=per("walkout", principals),
        red_lo=lo,
        red_hi=hi,
        offers=stack([stack([d.actors[g].offer.get(k, ones) for k in issues], n)
                      for g in guarantors], n) if guarantors else np.ones((0, K, n)),
        audience=stack([
            stack([d.actors[p].audience_cost.get(f, zeros) for f, _ in sc.formats()], n)
            for p in principals
        ], n),
        pressure=stack([stack([d.actors[m].pressure.get(p, zeros) for p in principals], n)
                        for m in mediators], n) if mediators else np.zeros((0, P, n)),
        backlash=per("backlash", mediators) if mediators else np.zeros((0, n)),
        blame_refuse=stack([d.actors[m].blame.refuse for m in mediators], n)
        if mediators else np.zeros((0, n)),
        blame_reject=stack([d.actors[m].blame.reject for m in mediators], n)
        if mediators else np.zeros((0, n)),
        blame_cap=stack([d.actors[m].blame.cap for m in mediators], n)
        if mediators else np.zeros((0, n)),
        bias=per("bias", mediators) if mediators else np.zeros((0, n)),
        support=stack([stack([d.actors[g].support.get(p, zeros) for p in principals], n)
                       for g in guarantors], n) if guarantors else np.zeros((0, P, n)),
        ceasefire_terms=_ceasefire(sc, d, sq, n),
        others=_preferences(sc, d, others, n) if others else None,
        capability=per("clout", principals + others),
        abs_salience=_absolute_salience(sc, d, principals + others, n),
        inputs=inputs,
        events=_event_values(sc, d),
        breach=stack([d.durability.breach_cost.get(p, zeros) for p in principals], n),
        deterrence=stack([stack([d.durability.deterrence.get(p, {}).get(k, zeros)
                                 for k in issues], n) for p in principals], n),
        **_shifts(sc, d, principals, n),
    )


def _shifts(sc: Scenario, d: Drawn, principals: list[str], n: int) -> dict[str, np.ndarray]:
    """Each principal's drift, jump rate and jump size while a text holds (0: none)."""
    zeros = constant(np.zeros(1), n)
    shifts = d.durability.shifts
    return {name: stack([getattr(shifts[p], name) if p in shifts else zeros
                         for p in principals], n)
            for name in ("drift", "jump_rate", "jump")}


def _event_values(sc: Scenario, d: Drawn) -> tuple[ScheduledValues | None, ...]:
    """Each scheduled event's per-world probability and values (None for a shock)."""
    out: list[ScheduledValues | None] = []
    for i, event in enumerate(sc.events):
        drawn = d.events[i]
        out.append(None if isinstance(event, Shock) else ScheduledValues(
            drawn.probability, tuple(drawn.set.values()), tuple(drawn.add.values())))
    return tuple(out)


def _preferences(sc: Scenario, d: Drawn, ids: list[str], n: int) -> Preferences:
    issues = sc.issue_ids
    K = len(issues)
    half, zero, one = (constant(np.array([v]), n) for v in (0.5, 0.0, 1.0))
    pos, sal, power = [], [], []
    quad = np.zeros(len(ids), dtype=bool)
    for a, aid in enumerate(ids):
        actor, drawn = sc.actors[aid], d.actors[aid]
        pos.append(stack([drawn.position[k] if k in actor.position else half for k in issues], n))
        if actor.salience is None:
            sal.append(stack([one if k in actor.position else zero for k in issues], n))
        else:
            sal.append(stack([drawn.salience[k] if k in actor.salience else zero
                              for k in issues], n))
        power.append(drawn.utility.power if isinstance(actor, Principal)
                     and isinstance(actor.utility, PowerUtility) else one)
        if isinstance(actor, Principal):
            quad[a] = actor.utility == "quadratic"

    def normalised(sal: np.ndarray) -> np.ndarray:
        total = sal.sum(axis=1, keepdims=True)
        return np.where(total > 0, sal / np.where(total > 0, total, 1.0), 1.0 / K)

    sal = on_column(normalised, n, stack(sal, n))
    return Preferences(stack(pos, n), sal, stack(power, n), quad)


def _absolute_salience(sc: Scenario, d: Drawn, ids: list[str], n: int) -> np.ndarray:
    """Saliences as written, clipped to [0, 1]: 1 on positioned issues when none are given."""
    zero, one = constant(np.zeros(1), n), constant(np.ones(1), n)
    rows = []
    for aid in ids:
        actor = sc.actors[aid]
        if actor.salience is not None:
            rows.append(stack([d.actors[aid].salience[k] if k in actor.salience else zero
                               for k in sc.issue_ids], n))
        else:
            rows.append(stack([one if k in actor.position else zero for k in sc.issue_ids], n))
    return on_column(lambda sal: np.clip(sal, 0.0, 1.0), n, stack(rows, n))


def combine_caps(caps: list[np.ndarray], offered: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``(K, N)`` the cap on texts from the guarantors' caps (each ``(K, N)``): on each issue
    the largest offer among the guarantors that make one (a coalition of the willing backs what
    its most willing member backs; docs/model.md section 4), 1 on issues nobody offers on.

    Args:
        caps: each guarantor's offers (1 where it offers nothing).
        offered: ``(G, K)`` whether each guarantor makes an offer on each issue.
        like: an array of shape ``(K, N)``.
    """
    def combine(like, *caps):
        best = np.full_like(like, -np.inf)
        for cap, named in zip(caps, offered):
            best = np.where(named[:, None], np.maximum(best, cap), best)
        return np.where(np.isfinite(best), best, 1.0)

    return on_column(combine, like.shape[-1], like, *caps)


def offered(scenario: Scenario) -> np.ndarray:
    """``(G, K)`` whether each guarantor (file order) makes an offer on each issue."""
    issues = scenario.issue_ids
    return np.array([[k in scenario.actors[g].offer for k in issues]
                     for g in scenario.ids(GUARANTOR)], dtype=bool).reshape(-1, len(issues))


def sample_bounded(scenario: Scenario, n_worlds: int, *, seed: int = 0) -> WorldParams:
    """``sample_worlds`` with the bounds on texts set as the model sets them (for reference
    marks drawn without running the model)."""
    prm = sample_worlds(scenario, n_worlds, seed=seed)
    caps = combine_caps(list(prm.offers), offered(scenario), prm.red_hi)
    pre = preconditions_box([scenario.actors[p].preconditions for p in scenario.principals],
                            scenario.issue_ids)
    bound_texts(prm, caps, pre)
    return prm


def preconditions_box(preconditions: list[list[Constraint]],
                      issues: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """``(lo, hi)`` of shape ``(K,)``: the texts every principal's preconditions allow (None
    when no principal sets any)."""
    if not any(preconditions):
        return None
    return constraint_box([c for cs in preconditions for c in cs], issues)


def bound_texts(params: WorldParams, caps: np.ndarray,
                pre: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Set ``params.lo``, ``hi``, ``box_ok``, ``pre_ok`` and ``ceasefire``.

    Texts lie inside every principal's red lines and under the guarantors' ``caps``
    (``box_ok``: whether any text does). A summit's texts also meet the preconditions ``pre``
    (a mediator that convenes a summit on a stated condition drafts within it); ``pre_ok`` says
    whether some text inside the red lines and caps meets them (where none does, no summit is
    held). The ceasefire package is capped too: guarantors back no more in a ceasefire than in
    any text.
    """
    def box(red_lo, red_hi, caps):
        lo, hi = red_lo, np.minimum(caps, red_hi)
        box_ok = (lo <= hi).all(axis=0)
        if pre is not None:
            plo, phi = np.maximum(lo, pre[0][:, None]), np.minimum(hi, pre[1][:, None])
            pre_ok = ~box_ok | (plo <= phi).all(axis=0)
            inside = box_ok & pre_ok
            lo, hi = np.where(inside, plo, lo), np.where(inside, phi, hi)
        else:
            pre_ok = np.ones(lo.shape[1], dtype=bool)
        return lo, np.maximum(hi, lo), box_ok, pre_ok

    params.lo, params.hi, params.box_ok, params.pre_ok = on_column(
        box, params.n, params.red_lo, params.red_hi, caps)
    params.ceasefire = (None if params.ceasefire_terms is None
                        else on_column(np.minimum, params.n, params.ceasefire_terms, caps))


def _red_line_box(sc: Scenario, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)``, each ``(K, N)``: the texts every principal's red lines allow."""
    issues = sc.issue_ids
    lo, hi = np.zeros((len(issues), 1)), np.ones((len(issues), 1))
    for actor in sc.actors.values():
        if isinstance(actor, Principal):
            for c in actor.red_lines:
                _tighten(lo, hi, issues.index(c.issue), c)
    return constant(lo, n), constant(hi, n)


def _tighten(lo: np.ndarray, hi: np.ndarray, k: int, c: Constraint) -> None:
    if c.upper:
        hi[k] = np.minimum(hi[k], c.bound)
    else:
        lo[k] = np.maximum(lo[k], c.bound)


def constraint_box(constraints: list[Constraint], issues: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) of shape (K,) for a list of constraints (preconditions)."""
    lo, hi = np.zeros((len(issues), 1)), np.ones((len(issues), 1))
    for c in constraints:
        _tighten(lo, hi, issues.index(c.issue), c)
    return lo[:, 0], hi[:, 0]


def _ceasefire(sc: Scenario, d: Drawn, sq: np.ndarray, n: int) -> np.ndarray | None:
    """The fallback package: the named terms, the status quo on every other issue."""
    if sc.ceasefire is None:
        return None
    return stack([sq[k] if sc.ceasefire.terms.get(issue, "status_quo") == "status_quo"
                  else d.ceasefire.terms[issue] for k, issue in enumerate(sc.issue_ids)], n)
