"""Expected-utility dynamics (Bueno de Mesquita), as Scholz, Calbert & Smith (2011) read them.

Every positioned actor (principals, and mediators or guarantors that state positions) holds a
stated position per issue, starting at its ideal point; each issue is played separately. Each
round every actor i computes, against every other actor j, its expected utility ``EU_ij`` of
challenging j (with risk exponents from its security level), challenges where that is
positive, and each challenged actor takes one challenge and moves by conflict (decided by the
win probability ``P_ij``), compromise or capitulation. A principal never moves its stated
position beyond its own red lines or to one it values below its current value of war: the
status quo of a war is the war going on, which it can always keep by refusing.

The text of round t is the forecast after ``min(t, rounds)`` rounds of dynamics: the weighted
median of the stated positions (the Condorcet winner of the capability x salience weighted
votes) moved into the box of red lines and caps. It is put to the principals every round;
each accepts when it is worth at least its value of war, a principal that refuses may walk out,
and the talks fail at the deadline ``max(rounds, 1)``.

A round is computed for each (issue, world) column in that column's order of positions, where
the win probabilities need O(A^2) work (``_midpoint_splits``); columns with equal inputs (every
world, where no position is drawn) are computed once, and the others in slices whose pairwise
arrays take about 1 MB. Only the current positions are kept between rounds, so memory does not
grow with ``rounds``. Every reading of an ambiguous point is stated at the function concerned
and in docs/protocols.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from negotiation_sim.core.agents import stacked
from negotiation_sim.core.preferences import FEASIBILITY_TOL, utilities, weighted_median
from negotiation_sim.core.protocols.base import Protocol, RoundResult
from negotiation_sim.core.state import TalksState

_TINY = 1e-12  # positions closer than this (as a share of the span) are the same point
# Zero, up to rounding, for the signs that decide the moves: an expected utility within this of
# 0 (EU lies in [-4, 4]) is indifference, a win probability within this of 1/2 an even contest.
# Sums taken in another order differ in the last digits; without these a permutation of the
# actors could turn an exact tie into a challenge.
_EU_TOL = 1e-12
_EVEN = 1e-9
_SLICE_BYTES = 2 ** 20  # one (A, A, columns) float array per slice: 1 MB (measured best)


# -- the forecast ------------------------------------------------------------------------------


def forecast(x: np.ndarray, weight: np.ndarray, lo: np.ndarray | None = None,
             hi: np.ndarray | None = None) -> np.ndarray:
    """The text the positions ``x`` (A, K, n) forecast: ``(K, n)``.

    The Condorcet winner of the capability x salience weighted pairwise votes
    ``sum_k w_k (|x_k - b| - |x_k - a|)`` is, on a line, the weighted median (the lower one on an
    exact tie; Black 1948, as Scholz et al. 2011 sec. 3.2 use it). Restricted to the texts every
    red line and cap allows, ``[lo, hi]`` per issue, the winner is the allowed point nearest the
    median, since every voter's preference is single-peaked: the median moved into the box.
    """
    mu = weighted_median(x, weight)
    if lo is None:
        return mu
    return np.clip(mu, lo, hi)


# -- win probabilities in O(A^2) ---------------------------------------------------------------


def _prefix(v: np.ndarray) -> np.ndarray:
    """``(A + 1, C)`` prefix sums over axis 0 (row 0 is zero).

    ``np.cumsum`` along a short leading axis runs one inner loop per column; for a few rows a
    loop of row additions is faster (measured: 2.5x at 6 rows, 0.6x at 30).
    """
    out = np.empty((v.shape[0] + 1,) + v.shape[1:], dtype=v.dtype)
    out[0] = 0
    if v.shape[0] > 10:
        np.cumsum(v, axis=0, out=out[1:])
        return out
    for a in range(v.shape[0]):
        np.add(out[a], v[a], out=out[a + 1])
    return out


def _midpoint_splits(y: np.ndarray) -> list[np.ndarray]:
    """For positions sorted along axis 0, ``y`` (A, C): the midpoint split of every pair.

    ``c[a, b] = a + 1 + #{k in (a, b): y_k < (y_a + y_b) / 2}`` splits the actors at the pair's
    midpoint (``y_k <= m`` below it, ``y_k >= m`` from it on). It is non-decreasing in a and in
    b, so for the pairs of gap g, ``c[a, a+g]`` lies in ``[c[a, a+g-1], c[a+1, a+g])`` and these
    intervals tile a run of actors without overlap: each actor is looked at once per gap, O(A)
    per gap and O(A^2) per round. Returns, for g = 1 .. A-1, ``c[a, a+g]`` as ``(A - g, C)``.
    """
    A, C = y.shape
    if A < 2:
        return []
    col = np.arange(C)
    flat = y.ravel()
    prev = np.broadcast_to(np.arange(1, A, dtype=np.intp)[:, None], (A - 1, C))  # gap 1: a + 1
    out = [prev]
    y2 = 2.0 * y
    for g in range(2, A):
        start, end = prev[:-1], prev[1:]  # (A - g, C)
        # owner[k]: the pair whose interval holds actor k (intervals tile, their ends ascend)
        counts = np.bincount((end * C + col).ravel(), minlength=A * C + C)[:A * C]
        owner = np.minimum(_prefix(counts.reshape(A, C))[1:], A - g - 1)
        base = owner * C + col
        below = y2 < flat.take(base) + flat.take(base + g * C)
        pre = _prefix(below.view(np.int8)).astype(np.intp).ravel()
        prev = start + pre.take(end * C + col) - pre.take(start * C + col)
        out.append(prev)
    return out


def _pair_probabilities(y: np.ndarray, w: np.ndarray):
    """Win probabilities of every pair a < b of positions sorted on axis 0, ``y``, ``w`` (A, C).

    Scholz et al. (2011, sec. 4, eq. 30): ``P_ij`` is the sum of the votes cast for i over j by
    those who prefer x_i, ``sum_{k: |x_k - x_i| < |x_k - x_j|} w_k (|x_k - x_j| - |x_k - x_i|)``,
    over the sum of the absolute votes of all actors (i and j included). With
    ``L(t) = sum_k w_k (t - y_k)^+`` (read off prefix sums at a split index) the votes for the
    lower actor a are ``2 (L(m) - L(y_a))`` and, as ``L(t) - R(t) = t W - Y`` for
    ``R(t) = sum_k w_k (y_k - t)^+``, those for the upper b are ``2 (R(m) - R(y_b))``, m the
    pair's midpoint: every pair costs O(1) once the midpoint splits are known.

    Returns ``(a, b, p_a, p_b)``: the pairs (ordered by gap) and ``P_ab``, ``P_ba`` (C,) each,
    which sum to 1, or both 0 where no vote is cast. (Where the actors coincide rounding may
    leave a vote of 1e-17: there is no contest between them, and callers mask those pairs.)
    """
    A, C = y.shape
    ia, ib = _pairs_by_gap(A)
    y, w = y.astype(float, copy=False), w.astype(float, copy=False)
    W, Y = _prefix(w), _prefix(w * y)
    Wt, Yt = W[-1], Y[-1]
    left = y * W[:-1] - Y[:-1]  # L(y_a)
    right = (Yt - Y[:-1]) - y * (Wt - W[:-1])  # R(y_b)
    split = np.concatenate(_midpoint_splits(y)) if A > 1 else np.zeros((0, C), np.intp)
    idx = split * C + np.arange(C)
    m = y[ia] + y[ib]
    m *= 0.5
    L = W.ravel().take(idx)
    L *= m
    L -= Y.ravel().take(idx)  # L(m)
    for_a = L - left[ia]
    for_b = L + Yt
    m *= Wt
    for_b -= m  # R(m)
    for_b -= right[ib]
    np.maximum(for_a, 0.0, out=for_a)  # rounding can leave -1e-17
    np.maximum(for_b, 0.0, out=for_b)
    tot = for_a + for_b
    ok = tot > 0
    np.divide(for_a, tot, out=for_a, where=ok)
    for_a *= ok
    return ia, ib, for_a, ok - for_a


def _win_probabilities_sorted(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``P[i, j]`` (A, A, C): i's chance of beating j, positions sorted on axis 0."""
    A, C = y.shape
    P = np.zeros((A, A, C))
    ia, ib, pa, pb = _pair_probabilities(y, w)
    apart = y[ib] > y[ia]
    P[ia, ib] = pa * apart
    P[ib, ia] = pb * apart
    return P


def _pairs_by_gap(A: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(a, b)`` of the pairs a < b, ordered by gap ``b - a`` then by a."""
    if A < 2:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    a = np.concatenate([np.arange(A - g) for g in range(1, A)]).astype(np.intp)
    g = np.concatenate([np.full(A - g, g) for g in range(1, A)]).astype(np.intp)
    return a, a + g


def win_probabilities(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``P[i, j]`` (A, A, K, n) in the actors' own order: i's chance of beating j (eq. 30)."""
    A = x.shape[0]
    order = np.argsort(x, axis=0, kind="stable").reshape(A, -1)
    y = np.take_along_axis(x.reshape(A, -1), order, axis=0)
    w = np.take_along_axis(weight.reshape(A, -1), order, axis=0)
    Ps = _win_probabilities_sorted(y, w)
    rank = np.argsort(order, axis=0)
    C = rank.shape[1]
    idx = (rank[:, None] * A + rank[None, :]) * C + np.arange(C)
    return Ps.ravel().take(idx).reshape((A, A) + x.shape[1:])


# -- one round of dynamics ---------------------------------------------------------------------


def risk_exponents(security: np.ndarray, active: np.ndarray) -> np.ndarray:
    """r_i from security levels (Scholz et al. 2011, sec. 5, eqs. 32-34), ``(A, C)``.

    ``S_i = sum_j EU_ji`` (what the others expect from challenging i, risk-neutral),
    ``R_i = (2 S_i - max S - min S) / (max S - min S)`` over the actors with a stake in the
    issue, ``r_i = (1 - R_i / 3) / (1 + R_i / 3)`` in [1/2, 2]; r = 1 where all S are equal.
    """
    hi = np.where(active, security, -np.inf).max(axis=0)
    lo = np.where(active, security, np.inf).min(axis=0)
    ok = hi - lo > _TINY  # False where no actor has a stake (inf - inf is never > 0 here)
    hi, lo = np.where(ok, hi, 0.0), np.where(ok, lo, 0.0)
    R = np.where(ok, (2.0 * security - hi - lo) / np.where(ok, hi - lo, 1.0), 0.0)
    R = np.clip(R, -1.0, 1.0)
    return (1.0 - R / 3.0) / (1.0 + R / 3.0)


def _sorted_round(y, w, s, act, inv_span, mu, fixed_r, q, t, risky=True):
    """One round in sorted order (every argument ``(A, C)`` except ``inv_span``, ``mu``: (C,),
    ``fixed_r``: (A, C) with NaN where r comes from security; ``risky``: False when every r is
    fixed at 1). Returns ``(new y, r)``. Every column is computed on its own."""
    A, C = y.shape
    d = y[:, None] - y[None, :]  # (i, j, C)
    np.abs(d, out=d)
    d *= inv_span
    contest = d > _TINY
    contest &= act[:, None]
    contest &= act[None, :]
    # lose[i, j] = s_j (1 - P_ij): j resists and i loses; win[i, j]: i is the favourite
    ia, ib, pa, pb = _pair_probabilities(y, w)
    lose = np.empty((A, A, C))
    lose[np.arange(A), np.arange(A)] = 0.0
    lose[ia, ib] = s[ib] * pb
    lose[ib, ia] = s[ia] * pa
    win = np.zeros((A, A, C), dtype=bool)
    win[ia, ib] = pa > 0.5 + _EVEN
    win[ib, ia] = pb > 0.5 + _EVEN
    ab = d + (np.abs(y - mu) * inv_span)[:, None] if q < 1.0 else None  # d_imu + d_ij
    # risk-neutral pass (r = 1): U^s = 2d, U^f = -2d, U^sq = 0, U^b = -U^w = d_imu + d_ij
    eu = lose * -4.0
    eu += 2.0
    eu *= d
    if q < 1.0:
        eu -= (1.0 - q) * (2.0 * t - 1.0) * ab
    eu *= contest
    r = risk_exponents(eu.sum(axis=0), act)
    r = np.where(np.isnan(fixed_r), r, fixed_r)
    if risky:
        eu = _risky_eu(d, ab, lose, r, q, t)
        eu *= contest
    return _moves(y, d, eu, win), r


def _risky_eu(d, ab, lose, r, q, t):
    """EU_ij with each challenger's own risk exponent (Scholz et al. 2011, eqs. 15-16, 22-25):

    ``EU = s_j [P U^s + (1 - P) U^f] + (1 - s_j) U^s - Q U^sq - (1 - Q) [T U^b + (1 - T) U^w]``
    with ``U = 2 - 4 z^r``: ``z = 0.5 -+ 0.5 d`` for success and failure, 0.5 for the status
    quo, ``0.5 -+ 0.25 (d_imu + d_ij)`` for better and worse.
    """
    ri = r[:, None]
    half = 0.5 * d
    em = 0.5 - half
    np.maximum(em, 0.0, out=em)  # d <= 1 up to rounding
    ep = half
    ep += 0.5
    with np.errstate(divide="ignore"):  # log 0 = -inf, and exp(-inf) = 0 = 0^r
        np.log(em, out=em)
        np.log(ep, out=ep)
    em *= ri
    np.exp(em, out=em)
    ep *= ri
    np.exp(ep, out=ep)
    # s_j (P U^s + (1-P) U^f) + (1-s_j) U^s = U^s - s_j (1-P) (U^s - U^f), U^s = 2 - 4 em
    eu = ep
    eu -= em
    eu *= lose
    eu += em
    eu *= -4.0
    eu += (2.0 - q * (2.0 - 4.0 * np.power(0.5, ri)))
    if q < 1.0:
        with np.errstate(divide="ignore"):
            eb = np.exp(ri * np.log(np.maximum(0.5 - 0.25 * ab, 0.0)))
            ew = np.exp(ri * np.log(0.5 + 0.25 * ab))
        eu -= (1.0 - q) * (t * (2.0 - 4.0 * eb) + (1.0 - t) * (2.0 - 4.0 * ew))
    return eu


def _moves(y, d, eu, win):
    """New positions: each challenged actor j takes one challenge and moves (positions of the
    round's start; Scholz et al. 2011, sec. 6). With ``e = EU_ij > 0`` (i challenges j) and
    ``b = EU_ji``:

    - ``b > 0``, conflict: j loses, and moves to x_i, when ``P_ij > 1/2`` (the win probability
      decides who wins, not a comparison of the two expected utilities); at ``P_ij = 1/2``
      neither moves;
    - ``b < 0``, ``|b| < e``: compromise, j moves ``|b| / e`` of the way to x_i (eq. 35);
    - ``b < 0``, ``|b| >= e``: capitulation, j moves to x_i;
    - ``b = 0``: the limit of a compromise, no move.

    Zero and 1/2 are taken up to rounding (``_EU_TOL``, ``_EVEN``).

    Which challenge j takes (sec. 6.2): players move the least they can, so the one that moves
    j least; among those (moves equal to 1e-12 of the span) the one whose challenger expects
    most, the largest ``EU_ij``; then the lower position (positions are sorted, so the actors'
    order in the file never matters).
    """
    A, C = y.shape
    back = np.swapaxes(eu, 0, 1)
    # eu = 0 makes frac infinite or NaN; such a pair never moves (``takes`` below), and the
    # products with it must not warn on the user's terminal.
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.divide(back, eu)
        np.negative(frac, out=frac)
        np.minimum(frac, 1.0, out=frac)
        np.copyto(frac, win, where=back > _EU_TOL)  # conflict: the favourite wins
        frac[np.abs(back) <= _EU_TOL] = 0.0  # indifference: no move (a product with inf is nan)
    takes = eu > _EU_TOL
    takes &= frac > 0
    if not takes.any():
        return y
    key = frac * d  # the move, as a share of the span
    key -= 1e-12 * eu
    key[~takes] = np.inf
    pick = np.argmin(key, axis=0)  # (j, C): the challenger taken
    idx = (pick * A + np.arange(A)[:, None]) * C + np.arange(C)
    moved = takes.ravel().take(idx)
    step = frac.ravel().take(idx) * (y.ravel().take(pick * C + np.arange(C)) - y)
    return np.where(moved, y + step, y)


def eu_round(x, weight, salience, fixed_r, q=1.0, t=1.0, span=None, lo=None, hi=None):
    """One round of the dynamics for positions ``x`` (A, K, n), without the principals' limits.

    ``weight`` = capability x salience and ``salience`` (A, K, n); ``fixed_r`` (A,) NaN where
    r comes from the security level; ``span`` (K, n) the distance scale (default: the span of
    the positions held by actors with a stake); ``lo``/``hi`` (K, n) the box the forecast mu of
    the no-challenge terms lies in. Returns ``(new positions, r)``, both (A, K, n).
    """
    x, weight, salience = (np.asarray(v, dtype=float) for v in (x, weight, salience))
    if span is None:
        span = position_span(x, weight > 0)
    mu = forecast(x, weight, lo, hi)
    return dynamics(x, weight, salience, span, mu, np.asarray(fixed_r, float), q, t)


def position_span(x: np.ndarray, active: np.ndarray) -> np.ndarray:
    """``(K, n)`` the span of the positions held by actors with a stake (1 where none differ).

    Distances are shares of it (Scholz et al. 2011, eq. 14: ``x_max - x_min``); the protocol
    fixes it at the ideal points, so it does not shrink as positions converge.
    """
    top = np.where(active, x, -np.inf).max(axis=0)
    bottom = np.where(active, x, np.inf).min(axis=0)
    gap = top - bottom
    return np.where(np.isfinite(gap) & (gap > _TINY), gap, 1.0)


def dynamics(x, weight, salience, span, mu, fixed_r, q, t):
    """One round of position change for every (issue, world) column of ``x`` (A, K, n).

    Each column's round depends only on that column's inputs (positions, weights, saliences,
    span and forecast), so columns whose inputs are equal, such as every world of a scenario
    whose positions are not drawn, are computed once (``_distinct_columns``). The distinct
    columns are computed in slices whose (A, A, slice) arrays take about ``_SLICE_BYTES``.
    Returns ``(new positions, r)``, both (A, K, n).
    """
    A = x.shape[0]
    shape = x.shape
    cols = [np.ascontiguousarray(v).reshape(A, -1) for v in (x, weight, salience)]
    cols += [np.reshape(span, (1, -1)), np.reshape(mu, (1, -1))]
    first, inverse = _distinct_columns(cols)
    if first.size == inverse.size:  # all distinct: no gathering
        first = inverse = np.arange(inverse.size)
        xu, wu, su = cols[:3]
        spu, muu = cols[3][0], cols[4][0]
    else:
        xu, wu, su = (c[:, first] for c in cols[:3])
        spu, muu = cols[3][0, first], cols[4][0, first]
    risky = not np.all(fixed_r == 1.0)
    fixed = np.broadcast_to(fixed_r[:, None], xu.shape)
    new, r = np.empty_like(xu), np.empty_like(xu)
    step = max(16, _SLICE_BYTES // (8 * A * A))  # 16 columns: a few MB at 200 actors
    for lo in range(0, first.size, step):
        part = slice(lo, lo + step)
        new[:, part], r[:, part] = _sorted_slice(xu[:, part], wu[:, part], su[:, part],
                                                 spu[part], muu[part], fixed[:, part], q, t,
                                                 risky)
    if first.size < inverse.size:
        new, r = new[:, inverse], r[:, inverse]
    return new.reshape(shape), r.reshape(shape)


def _distinct_columns(blocks: list[np.ndarray], weights: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` for the columns of the stacked ``blocks`` (each (R_b, C)): indices of
    the columns that stand for all equal ones, and for each column the one standing for it
    (``M[:, first][:, inverse] == M`` for ``M`` the blocks stacked).

    Columns are grouped by a fixed weighted sum of their entries (``weights``, one per row;
    default a fixed sequence), then compared entry by entry: a column whose sum matches
    another's without being equal to it stands for itself. Rows are read one at a time, so the
    extra memory is O(C) whatever the number of actors.
    """
    C = blocks[0].shape[1]
    if C < 2:
        return np.arange(C), np.arange(C)
    rows = [row for block in blocks for row in block]
    if weights is None:
        weights = np.modf(np.arange(1, len(rows) + 1) * 0.6180339887498949)[0] + 0.5
    key = np.zeros(C)
    for weight, row in zip(weights, rows):
        key += weight * row
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    rep = first[inverse]
    differs = np.zeros(C, dtype=bool)
    for row in rows:
        differs |= row != row[rep]
    alone = np.flatnonzero(differs)
    if alone.size:
        inverse[alone] = first.size + np.arange(alone.size)
        first = np.concatenate([first, alone])
    return first, inverse


def _sorted_slice(x, w, s, span, mu, fixed_r, q, t, risky):
    """One round for (A, C) columns, computed in each column's order of positions."""
    A, C = x.shape
    order = np.argsort(x, axis=0, kind="stable")
    gather = order * C + np.arange(C)  # flat index of sorted row a in the unsorted arrays

    def srt(v):
        return np.ascontiguousarray(v).ravel().take(gather)

    wt = srt(w)
    y_new, r = _sorted_round(srt(x), wt, srt(s), wt > 0, 1.0 / span, mu, srt(fixed_r), q, t,
                             risky)
    out_x, out_r = np.empty((A, C)), np.empty((A, C))
    out_x.ravel()[gather.ravel()] = y_new.ravel()
    out_r.ravel()[gather.ravel()] = r.ravel()
    return out_x, out_r


# -- the protocol ------------------------------------------------------------------------------


@dataclass
class ExpectedUtilityState(TalksState):
    """``TalksState`` plus the stated positions.

    Attributes:
        positions: ``(A, K, n)`` every positioned actor's stated position per issue now.
        span: ``(K, n)`` the distance scale per issue (the span of the ideal points).
        risk: ``(A, K, n)`` the risk exponents of the last round of dynamics (traces only).
    """

    positions: np.ndarray | None = None
    span: np.ndarray | None = None
    risk: np.ndarray | None = None


class ExpectedUtilityProtocol(Protocol):
    """Bueno de Mesquita's expected-utility model of position change; the forecast is the text."""

    State = ExpectedUtilityState

    def __init__(self, model) -> None:
        super().__init__(model)
        spec = model.spec
        self.actor_ids = list(spec.positioned)
        fixed = spec.protocol.risk_exponents or {}
        self.fixed_r = np.array([fixed.get(a, np.nan) for a in self.actor_ids], dtype=float)
        self.q = spec.protocol.status_quo_belief
        self.t = spec.protocol.improvement_belief
        self.rounds = spec.protocol.rounds
        self.done = 0  # rounds of dynamics played (worlds move in lockstep)

    def extra_state(self) -> dict[str, np.ndarray]:
        prm = self.model.params
        x = prm.positions.copy()
        act = self._weight() > 0
        return {"positions": x, "span": position_span(x, act)}

    def _weight(self) -> np.ndarray:
        prm = self.model.params
        return prm.capability[:, None, :] * prm.abs_salience

    # -- dynamics ----------------------------------------------------------------------------
    def advance(self) -> None:
        """Play one round of dynamics in every live world."""
        m, prm, state = self.model, self.model.params, self.model.state
        x = state.positions
        weight = self._weight()
        mu = forecast(x, weight, prm.lo, prm.hi)
        new, risk = dynamics(x, weight, prm.abs_salience, state.span, mu, self.fixed_r, self.q,
                             self.t)
        P = len(m.principals)
        # each principal keeps its stated position inside its acceptance set
        new[:P] = stacked(m.principals, "advocates", x[:P], new[:P])
        state.positions = new
        state.risk = risk if m.trace_enabled else None
        self.done += 1

    def _text(self) -> np.ndarray:
        prm = self.model.params
        return forecast(self.model.state.positions, self._weight(), prm.lo, prm.hi)

    # -- stages --------------------------------------------------------------------------------
    def opening_text(self) -> np.ndarray:
        """The text the talks table first: the forecast after the first round of dynamics.

        It depends on the drawn values of war (the principals' limits) but not on the format
        held: pressure first acts after round 1. The round is kept and not played again.
        """
        if self.rounds >= 1 and self.done == 0:
            self.advance()
        return self._text()

    def play_round(self, rnd: int) -> RoundResult:
        m, prm, state = self.model, self.model.params, self.model.state
        while self.done < min(rnd, self.rounds):
            self.advance()
        text = self._text()
        value = utilities(text, prm.prefs)
        tol = FEASIBILITY_TOL
        inside = ((text >= prm.lo - tol) & (text <= prm.hi + tol)).all(axis=0)
        accept = stacked(m.principals, "responds", value, state.reservation) & inside[None]
        agree = accept.all(axis=0) & prm.box_ok
        reject = ~accept & ~agree[None]
        walked, by = self.walks(reject)
        if m.trace_enabled:
            m.history.append({"stage": "eu_round", "round": rnd, "world": m.live.copy(),
                              "positions": state.positions.copy(), "text": text.copy(),
                              "decide": True, "value": value.copy(), "accept": accept.copy(),
                              "walked": walked.copy(), "actors": list(self.actor_ids),
                              "risk": None if state.risk is None or rnd > self.rounds
                              else state.risk.copy()})
        failed = (walked | self.deadline(rnd)) & ~agree
        return RoundResult(agreed=agree, text=text, value=value, failed=failed, walked=walked,
                           war=state.reservation, walked_by=by)

    def deadline(self, rnd: int) -> bool:
        """The talks fail in round ``max(rounds, 1)`` (``rounds: 0`` puts the median once)."""
        return rnd >= max(self.rounds, 1)
