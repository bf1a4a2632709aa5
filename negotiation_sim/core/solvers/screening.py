"""One-sided screening under private information: the proposer's skimming plan.

Two principals, one proposer, the responder's value of war private: the proposer maximises its
expected discounted value over the remaining rounds given its beliefs, by backward induction
over the cutoff below which responder types have already accepted (skimming: Fudenberg & Tirole
1983; Sobel & Takahashi 1983). A sincere responder accepts any offer worth at least its value of
war now; a strategic one plays the perfect Bayesian equilibrium, accepting in round t iff the
offer is worth at least ``(1 - d_b) w_b(t) + d_b (its value of waiting)``. The states are
``CELLS`` cutoffs of the belief; each state's best cutoff is found among them exactly and
refined between them, and play follows the refined cutoffs (docs/protocols.md states what is
exact and the measured precision).

Plain functions over the worlds of a ``ScreeningProblem``; the alternating-offers protocol
(``core.protocols.alternating``) gathers the problem and follows the plan. The mediated
protocol's drafter plans the same way against a strategic informed principal, with its own value
of a text in place of a proposer's frontier (``drafter_frontier``, ``solve_drafter_plan``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from negotiation_sim.core.beliefs import Prior
from negotiation_sim.core.preferences import FEASIBILITY_TOL, Preferences, accepts, utilities
from negotiation_sim.core.solvers.nash import LinearFrontier
from negotiation_sim.core.solvers.drafting import NO_FLOOR, extended
from negotiation_sim.core.solvers.proposer import clipped_ideal, proposer_text

# Cells of equal prior mass that discretise the belief about the responder's value of war: the
# states of the backward induction (docs/protocols.md gives the error).
CELLS = 128
SPACING = 3.0  # cell m ends where the remaining mass is (1 - m / CELLS) ** SPACING
TABLE_POINTS = 129  # points of the tabulated frontier (curved utilities)
_BATCH = 4096  # groups planned together
_CACHE_GROUPS = 64  # a chunk with at most this many distinct plans looks them up in the cache
_CACHE_SIZE = 256
_PLAN_CACHE: dict[bytes, tuple[np.ndarray, np.ndarray, float]] = {}


def belief_quantile(prior: Prior, lo: np.ndarray, hi: np.ndarray, level: np.ndarray
                    ) -> np.ndarray:
    """The ``level`` quantile of the prior truncated to the belief ``(lo, hi]``."""
    F_lo, F_hi = prior.cdf(lo), prior.cdf(hi)
    c = prior.ppf(F_lo + level * (F_hi - F_lo))
    return np.clip(c, np.maximum(lo, prior.low), np.minimum(hi, prior.high))


def grid_level(s: np.ndarray | float, cells: int) -> np.ndarray:
    """The belief's CDF at the (fractional) state ``s``, in cells: the remaining mass is
    ``(1 - s / cells) ** SPACING``, so cells shrink toward the top, where a proposer who skims
    a share of what is left each round takes the talks."""
    return 1.0 - (1.0 - np.asarray(s, dtype=float) / cells) ** SPACING


def type_grid(prior: Prior, lo: np.ndarray, hi: np.ndarray, cells: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(c, F)``, each ``(cells + 1, g)``: the belief ``(lo, hi]`` about the responder's
    first-round value of war cut into cells (``grid_level``). ``c[m]`` is the top of cell m
    (``c[0]`` the bottom of the belief), ``F[m]`` the belief's CDF there (0 at ``c[0]``, 1 at
    the top). Masses are the prior's own, so a world whose value lies in cell m is there with
    exactly the probability the proposer counts."""
    level = grid_level(np.arange(cells + 1), cells)[:, None]
    c = belief_quantile(prior, lo[None], hi[None], level)
    c[0], c[-1] = np.maximum(lo, prior.low), np.minimum(hi, prior.high)
    F_lo, F_hi = prior.cdf(lo), prior.cdf(hi)
    mass = F_hi - F_lo
    F = (prior.cdf(c) - F_lo) / np.where(mass > 0, mass, 1.0)
    F = np.where(mass > 0, F, level)
    F[0], F[-1] = 0.0, 1.0
    return c, np.maximum.accumulate(np.clip(F, 0.0, 1.0), axis=0)


class Frontier:
    """What the proposer (actor 0 of ``pair``) can keep while leaving the responder (actor 1)
    at least ``v``: ``A(v)``, concave and falling on ``[v_min, v_max]``.

    Linear utilities: the Pareto frontier is a chain of segments (``core.solvers.nash.LinearFrontier``)
    and ``A`` the minimum of their lines, exactly. Otherwise ``A`` is tabulated at
    ``TABLE_POINTS`` values with ``proposer_text`` and interpolated linearly.
    """

    def __init__(self, pair: Preferences, lo: np.ndarray, hi: np.ndarray) -> None:
        own = utilities(clipped_ideal(pair, 0, lo, hi), pair)
        self.a_max, self.v_min = own[0], own[1]
        self.v_max = utilities(clipped_ideal(pair, 1, lo, hi), pair)[1]
        self.table = None
        if pair.linear:
            fr = LinearFrontier.build(pair, lo, hi)
            steep = fr.g2 > 0
            self.slope = np.where(steep, fr.g1 / np.where(steep, fr.g2, 1.0), 0.0)
            self.base = np.where(steep, fr.start1 + self.slope * fr.start2, np.inf)
        else:
            self.table = self._tabulate(pair, lo, hi)

    @classmethod
    def tabulated(cls, table: np.ndarray, v_min: np.ndarray, v_max: np.ndarray,
                  a_max: np.ndarray) -> Frontier:
        """A frontier given by its values ``table`` ``(TABLE_POINTS, g)`` at evenly spaced
        offers from ``v_min`` to ``v_max`` (``a_max`` below ``v_min``)."""
        fr = cls.__new__(cls)
        fr.table, fr.v_min, fr.v_max, fr.a_max = table, v_min, v_max, a_max
        return fr

    def _tabulate(self, pair: Preferences, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        g = lo.shape[1]
        v = self.v_min + (self.v_max - self.v_min) * np.linspace(0, 1, TABLE_POINTS)[:, None]
        cols = np.tile(np.arange(g), TABLE_POINTS)
        floor = np.stack([np.zeros(cols.size), v.ravel()])
        x, _ = proposer_text(pair.take(cols), 0, floor, lo[:, cols], hi[:, cols])
        return utilities(x, pair.take(cols))[0].reshape(TABLE_POINTS, g)

    def value(self, v: np.ndarray) -> np.ndarray:
        """``A(v)`` for offers ``v`` ``(M, g)`` (``a_max`` below ``v_min``)."""
        if self.table is None:
            lines = self.base[:, None] - self.slope[:, None] * v[None]
            return np.minimum(self.a_max, lines.min(axis=0))
        span = self.v_max - self.v_min
        t = np.clip((v - self.v_min) / np.where(span > 0, span, 1.0), 0.0, 1.0)
        t = t * (TABLE_POINTS - 1)
        k = np.minimum(np.floor(t).astype(np.int64), TABLE_POINTS - 2)
        lo = np.take_along_axis(self.table, k, axis=0)
        up = np.take_along_axis(self.table, k + 1, axis=0)
        return np.where(span > 0, lo + (t - k) * (up - lo), self.a_max)


@dataclass
class ScreeningProblem:
    """One-sided screening in some worlds: everything the plan reads, worlds last.

    Attributes:
        pair: the two principals' preferences, proposer first.
        lo, hi, box_ok: the box of feasible texts.
        war_a: ``(Tn, n)`` the proposer's value of war in each remaining round (projected).
        shift_b: ``(Tn, n)`` the public shift of the responder's value of war then.
        da, db: ``(n,)`` patience of proposer and responder; ``q`` the responder's walk-out
            chance after rejecting.
        lo_b, hi_b: ``(n,)`` the belief ``(lo_b, hi_b]`` about the responder's first-round
            value of war.
        cease: ``(2, n)`` the ceasefire package's worth to proposer and responder, or None.
    """

    pair: Preferences
    lo: np.ndarray
    hi: np.ndarray
    box_ok: np.ndarray
    war_a: np.ndarray
    shift_b: np.ndarray
    da: np.ndarray
    db: np.ndarray
    q: np.ndarray
    lo_b: np.ndarray
    hi_b: np.ndarray
    cease: np.ndarray | None

    def take(self, idx: np.ndarray) -> ScreeningProblem:
        out = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            if isinstance(v, np.ndarray):
                v = v.take(idx, axis=-1)
            elif v is not None:
                v = v.take(idx)
            out[name] = v
        return ScreeningProblem(**out)

    def features(self) -> np.ndarray:
        """``(n, F)`` one row per world: worlds with equal rows have the same plan."""
        n = self.box_ok.shape[0]
        parts = [self.pair.position.reshape(-1, n), self.pair.salience.reshape(-1, n),
                 self.pair.power, self.lo, self.hi, self.box_ok[None].astype(float),
                 self.war_a, self.shift_b, self.da[None], self.db[None], self.q[None],
                 self.lo_b[None], self.hi_b[None]]
        if self.cease is not None:
            parts.append(self.cease)
        return np.ascontiguousarray(np.concatenate(parts).T)


def solve_screening(problem: ScreeningProblem, prior: Prior, strategic: bool
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The screening plan of every world of ``problem``: ``(offer (Tn, n), cut (Tn, n),
    value (n,))`` on the path of rejections (offer NaN: none that round; cut: the highest
    first-round value of war that accepts), and the proposer's expected value.

    Worlds with the same common-knowledge inputs share one computation (``np.unique`` on
    ``problem.features``). A chunk with few distinct plans (the scenario draws nothing the plan
    reads) looks them up in a cache keyed by those inputs, so a run computes each once; the
    cache only saves time, every plan is computed alike.
    """
    feat = problem.features()
    _, first, inverse = np.unique(feat, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    Tn, g = problem.war_a.shape[0], first.size
    offer, cut, value = np.empty((Tn, g)), np.empty((Tn, g)), np.empty(g)
    tag = repr((CELLS, strategic, prior.dist, problem.pair.quadratic.tolist())).encode()
    keys = [tag + feat[k].tobytes() for k in first] if g <= _CACHE_GROUPS else None
    todo = [k for k in range(g) if keys is None or keys[k] not in _PLAN_CACHE]
    for s in range(0, len(todo), _BATCH):
        sl = np.asarray(todo[s:s + _BATCH])
        offer[:, sl], cut[:, sl], value[sl] = plan_groups(problem.take(first[sl]), prior,
                                                           strategic)
    if keys is not None:
        for k in range(g):
            if k in todo:
                if len(_PLAN_CACHE) >= _CACHE_SIZE:
                    _PLAN_CACHE.pop(next(iter(_PLAN_CACHE)))
                _PLAN_CACHE[keys[k]] = (offer[:, k].copy(), cut[:, k].copy(), float(value[k]))
            else:
                offer[:, k], cut[:, k], value[k] = _PLAN_CACHE[keys[k]]
    return offer[:, inverse], cut[:, inverse], value[inverse]


def plan_groups(sub: ScreeningProblem, prior: Prior, strategic: bool,
                 fr: Frontier | list[Frontier] | None = None):
    """Solve, then follow the path of rejections from the current belief (state 0). ``fr``:
    what the proposer keeps (``Frontier``, or one per remaining round); by default the
    proposer's own frontier against the responder."""
    c, F = type_grid(prior, sub.lo_b, sub.hi_b, CELLS)
    fr = Frontier(sub.pair, sub.lo, sub.hi) if fr is None else fr
    rho, omega, S = backward_induction(sub, c, F, fr, strategic)
    Tn, _, g = rho.shape
    level = np.zeros(g)
    path_offer, path_cut = np.empty((Tn, g)), np.empty((Tn, g))
    for t in range(Tn):
        nxt, v = policy_at(rho[t], omega[t], F, level)
        path_offer[t] = v
        path_cut[t] = np.where(nxt >= 1.0, c[-1], belief_quantile(prior, sub.lo_b, sub.hi_b, nxt))
        level = nxt
    return path_offer, path_cut, S[0]


def policy_at(rho: np.ndarray, omega: np.ndarray, F: np.ndarray, s: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(next state, offer)`` at states ``s`` ``(g,)`` between the grid's (states are the
    belief's CDF at the cutoff): linear between the policies of the two nearest states where
    both make offers and their cutoffs lie within two cells (the policy is smooth there), else
    the nearest state's. No offer: the state stays."""
    G1, g = rho.shape
    cols = np.arange(g)
    j = np.clip((F <= s[None] + 1e-15).sum(axis=0) - 1, 0, G1 - 2)
    F0, F1 = F[j, cols], F[j + 1, cols]
    f = np.clip((s - F0) / np.where(F1 > F0, F1 - F0, 1.0), 0.0, 1.0)
    r0, r1 = rho[j, cols], rho[j + 1, cols]
    o0, o1 = omega[j, cols], omega[j + 1, cols]
    near = np.where(f < 0.5, j, j + 1)
    cells = np.abs(cell_of(r1) - cell_of(r0))
    smooth = ~np.isnan(o0) & ~np.isnan(o1) & (cells <= 2.0)
    r = np.where(smooth, (1.0 - f) * r0 + f * r1, rho[near, cols])
    o = np.where(smooth, (1.0 - f) * o0 + f * o1, omega[near, cols])
    made = ~np.isnan(o) & (r > s + 1e-12)
    return np.where(made, r, s), np.where(made, o, np.nan)


def cell_of(level: np.ndarray, cells: int = CELLS) -> np.ndarray:
    """The (fractional) cell at which the belief's CDF reaches ``level`` (``grid_level``'s
    inverse)."""
    return cells * (1.0 - np.clip(1.0 - level, 0.0, 1.0) ** (1.0 / SPACING))


def backward_induction(sub: ScreeningProblem, c: np.ndarray, F: np.ndarray,
                       frontier: Frontier | list[Frontier], strategic: bool):
    """Backward induction over the cutoff (the state: cells ``1..j`` have accepted).

    Per round t, from the deadline back (docs/protocols.md, "Screening"), for every state j:
    ``R(e)`` the worth of rejecting to the type at cutoff e when the state will be e;
    ``tau(e)`` the offer that type accepts (``w_b(t)`` sincere, ``max(R, w_b(t))`` strategic);
    the proposer's value ``S(j) = max(keep(j), max_{e > j} (F_e - F_j) A(tau_e) + keep(e))``
    with ``keep(e)`` the worth of the remaining types rejecting; ``U(j)`` the worth of the talks
    to the type at the cutoff j. The best cutoff is found among the cell tops
    (``hull_envelope``), then refined between cells (``_refine``). Returns ``(rho (Tn, G+1, g),
    omega (Tn, G+1, g), S (G+1, g))``: at each state the next state as the belief's CDF at the
    cutoff (``F_j`` itself: no offer), the offer's worth to the responder (NaN: none), and the
    proposer's value at the first round. ``frontier``: what the proposer keeps, the same in
    every round or one per remaining round (a drafter facing thresholds that move).
    """
    G1, g = c.shape
    Tn = sub.war_a.shape[0]
    cells = np.arange(G1)[:, None]
    mass = np.diff(F, axis=0)
    rho, omega = np.empty((Tn, G1, g)), np.empty((Tn, G1, g))
    fa, fb = _failure(c, sub.war_a[-1], sub.shift_b[-1], sub.cease)
    S, U = _tail(mass, fa), fb
    for t in range(Tn - 1, -1, -1):
        fr = frontier[t] if isinstance(frontier, list) else frontier
        wa, db, da, q = sub.war_a[t], sub.db, sub.da, sub.q
        wb = np.clip(c + sub.shift_b[t], 0.0, 1.0)
        fa, fb = _failure(c, wa, sub.shift_b[t], sub.cease)
        R = (1.0 - db) * wb + db * ((1.0 - q) * U + q * fb)
        tau = np.maximum.accumulate(np.maximum(R, wb) if strategic else wb, axis=0)
        v, eff = _offers(tau, fr.v_min)
        A = np.minimum.accumulate(fr.value(v), axis=0)
        usable = (sub.box_ok & (v <= fr.v_max + FEASIBILITY_TOL)
                  & accepts(A, wa) & (eff == cells))
        keep = (1.0 - da) * wa * (1.0 - F) + da * ((1.0 - q) * S + q * _tail(mass, fa))
        alpha = np.take_along_axis(F, eff, axis=0) * A + np.take_along_axis(keep, eff, axis=0)
        best, e = hull_envelope(alpha, A, usable, F)
        line = best >= keep
        e = np.where(line, e, cells)
        value, worth, level = _refine(alpha, A, usable, F, v, e, best)
        S = np.where(line, value, keep)
        U = np.where(line, worth, R)
        rho[t] = np.where(line, level, F)
        omega[t] = np.where(line, worth, np.nan)
    return rho, omega, S


def _refine(alpha, A, usable, F, v, e, best):
    """The proposer's optimum between cells: the vertex of the parabola (in the belief's CDF)
    through the values of the best cutoff and its two neighbours, the value there and the offer
    (linear in the CDF between theirs): ``(value, worth, level)`` with ``level`` the CDF at the
    refined cutoff.

    Without it the offers of the next round are a staircase in the state (one step per cell):
    the proposer of the round before then picks the cutoff where waiting looks cheapest, and
    the error grows like the square root of the cell size and compounds over rounds. The
    parabola is exact where the proposer's value is quadratic in the CDF (a uniform belief and
    a linear frontier).
    """
    G1 = alpha.shape[0]
    e = np.maximum(e, 0)
    lo, hi = np.maximum(e - 1, 0), np.minimum(e + 1, G1 - 1)

    def at(k):
        val = np.take_along_axis(alpha, k, axis=0) - F * np.take_along_axis(A, k, axis=0)
        ok = np.take_along_axis(usable, k, axis=0) & (k > np.arange(G1)[:, None])
        return np.where(ok, val, np.nan), np.take_along_axis(F, k, axis=0)

    (fm, xm), (fp, xp) = at(lo), at(hi)
    x0 = np.take_along_axis(F, e, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dm, dp = x0 - xm, xp - x0
        sm, sp = (best - fm) / dm, (fp - best) / dp  # slopes of the two chords
        curv = (sp - sm) / (dm + dp)  # half the second derivative
        ok = (e > 0) & (e < G1 - 1) & np.isfinite(curv) & (curv < 0) & (dm > 0) & (dp > 0)
        b = sm + curv * dm  # the parabola's slope at x0
        shift = np.where(ok, np.clip(-b / (2.0 * np.where(ok, curv, -1.0)), -dm, dp), 0.0)
    value = np.where(ok, best + b * shift + curv * shift * shift, best)
    v0 = np.take_along_axis(v, e, axis=0)
    vm, vp = np.take_along_axis(v, lo, axis=0), np.take_along_axis(v, hi, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        side = np.where(shift > 0, (vp - v0) / dp, (v0 - vm) / dm)
    worth = np.where(ok, v0 + shift * side, v0)
    return value, worth, x0 + shift


def _failure(c, wa, shift_b, cease):
    """``(F_a, F_b)``, each ``(G+1, g)``: what failing is worth per round to the proposer and
    to the type at each cutoff (the package if both take it, else the war)."""
    wb = np.clip(c + shift_b, 0.0, 1.0)
    fa = np.broadcast_to(wa, c.shape)
    if cease is None:
        return fa, wb
    both = accepts(cease[0], wa) & accepts(cease[1], wb)
    return np.where(both, cease[0], fa), np.where(both, cease[1], wb)


def _tail(mass, per_type):
    """``(G+1, g)``: at each state j, the sum over the cells above j of mass x value (of the
    cell's top type)."""
    rev = np.cumsum((mass * per_type[1:])[::-1], axis=0)[::-1]
    return np.concatenate([rev, np.zeros((1, mass.shape[1]))])


def _offers(tau, v_min):
    """``(v, eff)``: the offer that makes the type at each cutoff e accept (at least the
    responder's worth of the proposer's ideal, ``v_min``) and the cutoff it actually reaches
    (every type whose ``tau`` is at most the offer accepts: ties accept)."""
    G1 = tau.shape[0]
    cells = np.arange(G1)[:, None]
    v = np.maximum(tau, v_min)
    end = np.ones(tau.shape, dtype=bool)
    end[:-1] = tau[1:] != tau[:-1]
    plateau = np.minimum.accumulate(np.where(end, cells, G1 - 1)[::-1], axis=0)[::-1]
    lowest = (tau <= v_min).sum(axis=0) - 1
    return v, np.where(tau < v_min, lowest, plateau)


def hull_envelope(alpha, A, usable, F):
    """``(best, e)``, each ``(G+1, g)``: at each state j the largest ``alpha_e - F_j A_e`` over
    usable lines ``e > j`` (-inf and -1 where none), by the convex-hull trick.

    States are visited from the top down; the lines ``e > j`` are added as they become
    available (their slopes ``-A_e`` fall as e falls) and the queries ``F_j`` fall too, so a
    deque of the upper envelope answers each in amortised constant time: ``O(G)`` lock-step
    steps over all groups, against ``(G+1)^2`` for evaluating every pair.
    """
    G1, g = alpha.shape
    cols = np.arange(g)
    # the deque of each group: line indices and their intercepts and slopes, kept side by side
    # so that reading a line is one gather
    idx, sa, sA = (np.zeros(G1 * g, dtype=np.int64), np.zeros(G1 * g), np.zeros(G1 * g))
    bot, top = np.zeros(g, dtype=np.int64), np.full(g, -1, dtype=np.int64)
    best, arg = np.full((G1, g), -np.inf), np.full((G1, g), -1, dtype=np.int64)

    def at(pos):
        k = np.clip(pos, 0, G1 - 1) * g + cols
        return sa[k], sA[k]

    for j in range(G1 - 2, -1, -1):
        new = j + 1
        add = usable[new].copy()
        a3, A3 = alpha[new], A[new]
        while add.any():
            size = top - bot + 1
            a2, A2 = at(top)
            a1, A1 = at(top - 1)
            same = add & (size >= 1) & (A2 == A3)
            hidden = (add & ~same & (size >= 2)
                      & ((a3 - a2) * (A2 - A1) >= (a2 - a1) * (A3 - A2)))
            add &= ~(same & (a3 <= a2))
            pop = (same & (a3 > a2)) | hidden
            if not pop.any():
                break
            top = top - pop
        top = top + add
        k = (top * g + cols)[add]
        idx[k], sa[k], sA[k] = new, a3[add], A3[add]
        x = F[j]
        a0, A0 = at(bot)
        while True:
            a1, A1 = at(bot + 1)
            step = (top > bot) & (a1 - x * A1 > a0 - x * A0)
            if not step.any():
                break
            bot = bot + step
            a0, A0 = np.where(step, a1, a0), np.where(step, A1, A0)
        some = top >= bot
        best[j] = np.where(some, a0 - x * A0, -np.inf)
        arg[j] = np.where(some, idx[np.clip(bot, 0, G1 - 1) * g + cols], -1)
    return best, arg


# -- myopic screening: one round, any number of principals ------------------------------------

MYOPIC_LEVELS = (32, 8)  # acceptance levels a myopic proposer tries (two, more principals)


def myopic_text(prefs: Preferences, lo: np.ndarray, hi: np.ndarray, box_ok: np.ndarray,
                war: np.ndarray, shift: np.ndarray, beliefs, priors: list[Prior | None],
                proposer: int) -> tuple[np.ndarray, np.ndarray]:
    """One-round screening: among texts leaving every unknown responder the value of war of one
    level (quantile) of its belief and every known one its value of war, the text maximising
    ``p u_i + (1 - p) w_i`` (``p``: the chance all accept under the beliefs).

    Args:
        prefs, lo, hi, box_ok: the principals' preferences and the box of texts, per world.
        war: ``(P, n)`` values of war now; ``shift`` ``(P, n)`` their public change since round 1.
        beliefs: the public beliefs (``core.beliefs.Beliefs``); ``priors`` each principal's.
        proposer: the proposing principal, i.

    Returns:
        ``(text (K, n), made (n,))``: the best text (the proposer's ideal where none is worth
        offering) and whether it is an offer.
    """
    i, P = proposer, war.shape[0]
    n = war.shape[1]
    best = np.full(n, -np.inf)
    x_best = clipped_ideal(prefs, i, lo, hi)
    levels = MYOPIC_LEVELS[0] if P == 2 else MYOPIC_LEVELS[1]
    for level in np.arange(1, levels + 1) / levels:
        floor = level_floors(level, beliefs, priors, war, shift, i)
        x, ok = proposer_text(prefs, i, floor, lo, hi)
        u = utilities(x, prefs)
        p = np.ones(n)
        for r in range(P):
            if r != i:
                p = p * beliefs.accept_probability(priors, r, u[r], shift[r], war[r])
        e = p * u[i] + (1.0 - p) * war[i]
        good = ok & box_ok & accepts(u[i], war[i]) & (p > 0) & (e >= best)
        best, x_best = np.where(good, e, best), np.where(good[None], x, x_best)
    return x_best, np.isfinite(best)


def level_floors(level: float, beliefs, priors: list[Prior | None], war: np.ndarray,
                 shift: np.ndarray, proposer: int) -> np.ndarray:
    """``(P, n)`` each responder's floor at one level of its belief: the value of war of the
    ``level`` quantile where unknown, its value of war where known."""
    floor = war.copy()
    for r, prior in enumerate(priors):
        if r == proposer or prior is None:
            continue
        c = belief_quantile(prior, beliefs.lo[r], beliefs.hi[r], np.asarray(level))
        floor[r] = np.where(beliefs.known[r], war[r], np.clip(c + shift[r], 0.0, 1.0))
    return floor


# -- the mediator's plan against a strategic informed principal ------------------------------
#
# One principal j holds its value of war privately; the others' values are common knowledge. The
# drafter (the chair, bias b) values a settlement on text x at (1 - b) + b u_M(x) and a failure at
# 0, and discounts the rounds at j's patience (the clock of the talks). The known principals
# accept any text worth their value of war (the drafter knows them and never offers them less;
# waiting brings them no more), and j plays the perfect Bayesian equilibrium: it accepts in round
# t iff the text is worth at least (1 - d_j) w_j(t) + d_j x (its value of the talks going on), so
# types below a cutoff accept and a rejection tells that j's first-round value lies above it.
#
# This is the screening problem above with the drafter as the proposer: given the worth v of the
# text to j, the drafter's best text is its own best text leaving j v and every known principal
# its value of war that round (``proposer_text`` with the drafter as one more actor), worth
# A_t(v) = (1 - b) + b u_M to it, tabulated at TABLE_POINTS values of v per round and interpolated
# linearly (exact where it is linear: a drafter at one side's ideal on a pie). A drafter of bias 0
# values every settlement alike (A = 1) and tables j's best text each round: with values of war
# that do not move, waiting never pays and strategic answers are sincere ones (docs/protocols.md).


def drafter_text(prefs: Preferences, drafter: Preferences, bias: np.ndarray, j: int,
                 floor: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The drafter's text leaving j at least ``v`` (``(n,)``, -inf: nothing) and every other
    principal its ``floor`` (``(P, n)``): ``(text (K, n), feasible (n,))``.

    Bias > 0: the drafter's best such text. Bias 0: j's best text meeting the floors (the
    unbiased drafter's text with one side unknown, ``core.solvers.drafting`` case 3).
    """
    P, n = floor.shape
    fl = floor.copy()
    fl[j] = -np.inf
    own, ok = proposer_text(prefs, j, fl, lo, hi)
    if not (bias > 0).any():
        return own, ok
    fl[j] = np.maximum(v, NO_FLOOR)
    ext = extended(prefs, drafter)
    x, ok_b = proposer_text(ext, P, np.concatenate([fl, np.full((1, n), -np.inf)]), lo, hi)
    biased = bias > 0
    return np.where(biased[None], x, own), np.where(biased, ok_b, ok)


def drafter_frontier(prefs: Preferences, drafter: Preferences, bias: np.ndarray, j: int,
                     floor: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Frontier:
    """What the drafter keeps, ``A(v)``, on one round's floors (``Frontier``'s interface):
    from ``v_min`` (j's worth of the drafter's best text) to ``v_max`` (j's best text).
    Where no text meets the known floors, ``v_max = -1``: no offer can be made."""
    P, g = floor.shape
    none = np.full(g, -np.inf)
    top, ok = drafter_text(prefs, drafter, np.zeros(g), j, floor, none, lo, hi)
    own, _ = drafter_text(prefs, drafter, bias, j, floor, none, lo, hi)
    v_max = np.where(ok, utilities(top, prefs)[j], -1.0)
    # bias 0: every text is worth 1 to the drafter, and it offers j's best (v_min = v_max)
    v_min = np.where(bias > 0, np.minimum(utilities(own, prefs)[j], v_max), v_max)
    v = v_min + (v_max - v_min) * np.linspace(0.0, 1.0, TABLE_POINTS)[:, None]
    cols = np.tile(np.arange(g), TABLE_POINTS)
    x, _ = drafter_text(prefs.take(cols), drafter.take(cols), bias[cols], j, floor[:, cols],
                        v.ravel(), lo[:, cols], hi[:, cols])
    worth = (1.0 - bias[cols]) + bias[cols] * utilities(x, drafter.take(cols))[0]
    return Frontier.tabulated(worth.reshape(TABLE_POINTS, g), v_min, v_max,
                              (1.0 - bias) + bias * utilities(own, drafter)[0])


def solve_drafter_plan(problem: ScreeningProblem, prior: Prior, strategic: bool,
                       frontiers: Callable[[np.ndarray], list[Frontier]], extra: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The drafter's plan in every world of ``problem``: ``(offer (Tn, n), cut (Tn, n),
    value (n,))`` as ``screening.solve_screening``. Worlds with the same inputs (the problem's
    and ``extra`` ``(n, E)``: the known floors, the bias, the drafter's preferences) share one
    computation; ``frontiers(idx)`` builds the per-round frontiers of worlds ``idx``."""
    feat = np.ascontiguousarray(np.concatenate([problem.features(), extra], axis=1))
    _, first, inverse = np.unique(feat, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    offer, cut, value = plan_groups(problem.take(first), prior, strategic, frontiers(first))
    return offer[:, inverse], cut[:, inverse], value[inverse]
