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

import numpy as np

from negotiation_sim.config.constraints import Constraint
from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.distributions import _Dist, draw
from negotiation_sim.config.paths import number_fields
from negotiation_sim.config.scenario import GUARANTOR, PowerUtility, Principal, Scenario
from negotiation_sim.core.preferences import Preferences
from negotiation_sim.core.seeds import input_generator


def sample_numbers(scenario: Scenario, seed: int, point: int, blocks: range,
                   n_worlds: int) -> tuple[dict[str, np.ndarray], list[str]]:
    """Draw every number of the scenario for worlds ``blocks.start * BLOCK`` onwards.

    Returns:
        ``(values, random_paths)``: an array of ``n_worlds`` values per dotted path, and the
        paths that are distributions (the uncertain inputs recorded per world).
    """
    nums = number_fields(scenario)
    random_paths = [p for p, v in nums if isinstance(v, _Dist)]
    values = {p: np.full(n_worlds, float(v)) for p, v in nums if not isinstance(v, _Dist)}
    parts: dict[str, list[np.ndarray]] = {p: [] for p in random_paths}
    left = n_worlds
    for b in blocks:
        size = min(BLOCK, left)
        for p, v in nums:
            if isinstance(v, _Dist):
                parts[p].append(draw(v, input_generator(seed, point, b, p), BLOCK)[:size])
        left -= size
    for p in random_paths:
        values[p] = np.concatenate(parts[p]) if parts[p] else np.empty(0)
    return values, random_paths


@dataclass
class WorldParams:
    """The parameters of N worlds, stacked; worlds on the last axis of every array.

    P principals, K issues, F formats, A positioned actors (principals first).
    """

    world: np.ndarray  # (N,) index of each world within the run
    status_quo: np.ndarray  # (K, N)
    prefs: Preferences  # principals: (P, K, N)
    reservation: np.ndarray  # (P, N) true value of no deal before any pressure
    patience: np.ndarray  # (P, N)
    claim: np.ndarray  # (P, N) opening overstatement
    concession: np.ndarray  # (P, N)
    clout: np.ndarray  # (P, N)
    walkout: np.ndarray  # (P, N)
    lo: np.ndarray  # (K, N) lowest text all red lines allow
    hi: np.ndarray  # (K, N) highest text all red lines and guarantor caps allow
    box_ok: np.ndarray  # (N,) whether the red lines and caps leave any text at all
    audience: np.ndarray  # (P, F, N)
    pressure: np.ndarray  # (F, P, N) per-round fall in reservation from mediators present
    backlash: np.ndarray  # (F, P, N) walk-out chance added by that pressure
    ceasefire: np.ndarray | None  # (K, N) fallback package
    others: Preferences | None  # positioned non-principals: (A - P, K, N)
    capability: np.ndarray  # (A, N) clout of every positioned actor, principals first
    abs_salience: np.ndarray  # (A, K, N) salience as written (BDM's absolute salience, in [0, 1])
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # uncertain inputs, (N,)

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
        """The parameters of worlds ``idx`` only (contiguous copies)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v = v.take(idx, axis=-1)
            elif isinstance(v, Preferences):
                v = v.take(idx)
            elif isinstance(v, dict):
                v = {k: a.take(idx, axis=-1) for k, a in v.items()}
            out[f.name] = v
        return replace(self, **out)


def sample_worlds(scenario: Scenario, n_worlds: int, *, seed: int = 0, point: int = 0,
                  first_world: int = 0) -> WorldParams:
    """Draw ``n_worlds`` worlds, starting at world ``first_world`` (a multiple of ``BLOCK``)."""
    if first_world % BLOCK:
        raise ValueError(f"first_world must be a multiple of {BLOCK}")
    first = first_world // BLOCK
    blocks = range(first, first + -(-n_worlds // BLOCK))
    v, random_paths = sample_numbers(scenario, seed, point, blocks, n_worlds)
    return _assemble(scenario, v, random_paths, n_worlds, first_world)


def _assemble(sc: Scenario, v: dict[str, np.ndarray], random_paths: list[str], n: int,
              first_world: int) -> WorldParams:
    issues, principals = sc.issue_ids, sc.principals
    sq = np.stack([v[f"issues.{k}.status_quo"] for k in issues])

    def per(field_: str, ids: list[str]) -> np.ndarray:
        return np.stack([v[f"actors.{a}.{field_}"] for a in ids])

    lo, hi, caps = _box(sc, v, n)
    others = sc.positioned[len(principals):]
    formats = sc.formats()
    return WorldParams(
        world=np.arange(first_world, first_world + n),
        status_quo=sq,
        prefs=_preferences(sc, principals, v, n),
        reservation=per("reservation", principals),
        patience=per("patience", principals),
        claim=per("claim", principals),
        concession=per("concession", principals),
        clout=per("clout", principals),
        walkout=per("walkout", principals),
        lo=lo,
        hi=np.maximum(hi, lo),
        box_ok=(lo <= hi).all(axis=0),
        audience=np.stack([
            np.stack([v.get(f"actors.{p}.audience_cost.{f}", np.zeros(n)) for f, _ in formats])
            for p in principals
        ]),
        pressure=_pressure(sc, v, n, formats, backlash=False),
        backlash=_pressure(sc, v, n, formats, backlash=True),
        ceasefire=_ceasefire(sc, v, sq, caps),
        others=_preferences(sc, others, v, n) if others else None,
        capability=np.stack([v[f"actors.{a}.clout"] for a in principals + others]),
        abs_salience=_absolute_salience(sc, principals + others, v, n),
        inputs={p: v[p] for p in random_paths},
    )


def _preferences(sc: Scenario, ids: list[str], v: dict, n: int) -> Preferences:
    issues = sc.issue_ids
    K = len(issues)
    pos = np.full((len(ids), K, n), 0.5)
    sal = np.zeros((len(ids), K, n))
    power = np.ones((len(ids), n))
    quad = np.zeros(len(ids), dtype=bool)
    for a, aid in enumerate(ids):
        actor = sc.actors[aid]
        for k, issue in enumerate(issues):
            if issue in actor.position:
                pos[a, k] = v[f"actors.{aid}.position.{issue}"]
            if actor.salience is None:
                sal[a, k] = 1.0 if issue in actor.position else 0.0
            elif issue in actor.salience:
                sal[a, k] = v[f"actors.{aid}.salience.{issue}"]
        if isinstance(actor, Principal):
            if isinstance(actor.utility, PowerUtility):
                power[a] = v[f"actors.{aid}.utility.power"]
            quad[a] = actor.utility == "quadratic"
    total = sal.sum(axis=1, keepdims=True)
    sal = np.where(total > 0, sal / np.where(total > 0, total, 1.0), 1.0 / K)
    return Preferences(pos, sal, power, quad)


def _absolute_salience(sc: Scenario, ids: list[str], v: dict, n: int) -> np.ndarray:
    """Saliences as written, clipped to [0, 1]: 1 on positioned issues when none are given."""
    issues = sc.issue_ids
    sal = np.zeros((len(ids), len(issues), n))
    for a, aid in enumerate(ids):
        actor = sc.actors[aid]
        for k, issue in enumerate(issues):
            if actor.salience is not None:
                if issue in actor.salience:
                    sal[a, k] = v[f"actors.{aid}.salience.{issue}"]
            elif issue in actor.position:
                sal[a, k] = 1.0
    return np.clip(sal, 0.0, 1.0)


def _box(sc: Scenario, v: dict, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounds every text must respect: all principals' red lines and all guarantor offers.

    Returns ``(lo, hi, caps)``, each ``(K, N)``; ``caps`` holds the guarantor offers alone.
    """
    issues = sc.issue_ids
    lo = np.zeros((len(issues), n))
    caps = np.ones((len(issues), n))
    for aid, actor in sc.actors.items():
        if actor.role == GUARANTOR:
            for issue in actor.offer:
                k = issues.index(issue)
                caps[k] = np.minimum(caps[k], v[f"actors.{aid}.offer.{issue}"])
    hi = caps.copy()
    for actor in sc.actors.values():
        if isinstance(actor, Principal):
            for c in actor.red_lines:
                _tighten(lo, hi, issues.index(c.issue), c)
    return lo, hi, caps


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


def _pressure(sc: Scenario, v: dict, n: int, formats, *, backlash: bool) -> np.ndarray:
    principals = sc.principals
    out = np.zeros((len(formats), len(principals), n))
    for f, (_, members) in enumerate(formats):
        for m in members:
            actor = sc.actors[m]
            if actor.role != "mediator":
                continue
            for p in actor.pressure:
                push = v[f"actors.{m}.pressure.{p}"]
                if backlash:
                    push = v[f"actors.{m}.backlash"] * np.maximum(push, 0.0)
                out[f, principals.index(p)] += push
    return out


def _ceasefire(sc: Scenario, v: dict, sq: np.ndarray, cap: np.ndarray) -> np.ndarray | None:
    if sc.ceasefire is None:
        return None
    terms = sq.copy()
    for k, issue in enumerate(sc.issue_ids):
        value = sc.ceasefire.terms.get(issue, "status_quo")
        if value != "status_quo":
            terms[k] = v[f"ceasefire.terms.{issue}"]
    # Guarantors back no more in a ceasefire than they would in any text.
    return np.minimum(terms, cap)
