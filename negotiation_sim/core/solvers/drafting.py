"""The mediator's text: the Nash text under complete information, the text most likely to be
accepted under private information; and a biased drafter's (``biased_complete_text``,
``biased_screening_text``: a chair with ``bias`` b > 0 values a settlement on x at
``(1 - b) + b u_M(x)``, docs/model.md section 9).

A principal accepts a text ``x`` when ``u_i(x) - e_i >= w_i(t)`` (``e_i`` what is left of a public
overstatement, 0 without posturing). Under complete information the mediator knows every
threshold ``theta_i = w_i(t) + e_i`` and drafts the generalised Nash text with them as
disagreement points (clouts as exponents), inside the box of red lines and caps (Raiffa 1982's
single negotiating text; Nash 1950; Roth 1979). Under private information it knows only the
public beliefs and drafts

    x* = argmax_x  prod_i  P_i( w_i(t) <= u_i(x) - e_i )        (screening: the text most likely
                                                                 to pass under its beliefs)

with ``P_i`` the belief CDF (a step at the true value for a known principal). Cases, each exact
where stated (docs/model.md section 6):

1. every text in some set is sure to pass (it gives every principal at least the top of its
   belief): the mediator drafts the Nash text on those sure thresholds, the top of each belief
   (the tie rule: among texts sure to pass, split what is left as Nash would);
2. no text can pass even the lowest thresholds the beliefs allow: the Nash text on the beliefs'
   means (it will be rejected; the rejection is informative);
3. one principal's value unknown, the other's known (two principals, linear utilities): the
   unknown side's best text that still meets the known side's threshold (exact: the
   probability rises with the unknown side's utility);
4. both unknown, two principals, linear utilities: uniform beliefs give the Nash text on the
   beliefs' lower ends with equal weights, capped where it would give a side more than the top of
   its belief (exact: the log of a uniform CDF is the Nash term); any other belief, a
   golden-section search of the log probability along the Pareto frontier (the objective is
   concave along it for log-concave beliefs: normal, uniform, triangular, beta with a, b >= 1);
5. three or more principals, or curved utilities: the Nash text on the lowest thresholds with
   weight 1 on unknown and 1e-4 on known principals (exact for uniform beliefs without caps; a
   stated approximation otherwise).
"""

from __future__ import annotations

import numpy as np

from negotiation_sim.core.beliefs import Beliefs, Prior
from negotiation_sim.core.columns import all_constant, constant
from negotiation_sim.core.preferences import FEASIBILITY_TOL, Preferences, accepts, utilities
from negotiation_sim.core.solvers.nash import NashSolver, nash_coordinate_ascent
from negotiation_sim.core.solvers.proposer import TwoLinearPlan, proposer_text

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
_GOLDEN_STEPS = 48  # interval shrinks to 0.618^48 ~ 1e-10 of the frontier's range
_KNOWN_WEIGHT = 1e-4  # weight of a known principal's Nash term in case 5 (a barrier)


def complete_text(solver: NashSolver, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Nash text on the thresholds (complete information): ``(text, feasible)``."""
    return solver.solve(threshold)


def screening_text(solver: NashSolver, excess: np.ndarray, beliefs: Beliefs,
                   priors: list[Prior | None], shift: np.ndarray,
                   value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The text most likely to be accepted under the beliefs, ``(text (K, n), p (n,))`` with
    ``p`` the mediator's probability that every principal accepts it.

    Args:
        solver: the model's Nash solver (preferences, clouts and box of the live worlds).
        excess: ``(P, n)`` public overstatements (0 without posturing).
        beliefs: the public beliefs; ``priors`` each principal's prior (None: known).
        shift: ``(P, n)`` public changes to the values of war since round 1.
        value: ``(P, n)`` the true values of war now (used only where they are known).
    """
    n = value.shape[-1]
    if (n > 2 and beliefs.public_constant and all_constant(excess, shift) and solver.constant):
        # Every world drafts from the same public information (before any answer or change):
        # the text is the same in all of them, drafted once (on two columns, laid out as full
        # arrays are, so every sum adds in the same order).
        text, p = screening_text(solver.head(2), np.ascontiguousarray(excess[:, :2]),
                                 beliefs.head(2), priors, np.ascontiguousarray(shift[:, :2]),
                                 np.ascontiguousarray(value[:, :2]))
        return constant(text[:, :1], n), constant(p[:1], n)
    prefs = solver.prefs
    low, high = beliefs.bounds(priors, shift, value)
    th_lo, th_hi = excess + low, excess + high
    text, sure = _sure_text(solver, th_hi, beliefs.known.all(axis=0))
    todo = ~sure & ~beliefs.known.all(axis=0)
    if todo.any():
        text = np.where(todo[None], _unsure_text(solver, excess, beliefs, priors, shift, value,
                                                 th_lo, th_hi), text)
    p = acceptance(prefs, text, excess, beliefs, priors, shift, value)
    return text, p


def _sure_text(solver: NashSolver, th_hi: np.ndarray, known: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """``solver.solve(th_hi)`` (case 1, and complete information) where it is read: in the
    worlds where some text is sure to pass or every value is known (``known``); the others'
    columns are left at 0 (the unsure text replaces them). Most worlds are unsure once the
    talks start, and whether a text is sure costs a fraction of the text."""
    sure = solver.feasible(th_hi)
    need = sure | known
    if need.all():
        return solver.solve(th_hi)[0], sure
    text = np.zeros(solver.lo.shape)
    idx = np.flatnonzero(need)
    if idx.size:
        text[:, idx] = solver.take(idx, plans=False).solve(
            np.ascontiguousarray(th_hi[:, idx]))[0]
    return text, sure


def acceptance(prefs, text, excess, beliefs, priors, shift, value) -> np.ndarray:
    """``(n,)`` the probability under the beliefs that every principal accepts ``text``."""
    margin = utilities(text, prefs) - excess
    p = np.ones(text.shape[1])
    for i in range(margin.shape[0]):
        p = p * beliefs.accept_probability(priors, i, margin[i], shift[i], value[i])
    return p


def _unsure_text(solver, excess, beliefs, priors, shift, value, th_lo, th_hi) -> np.ndarray:
    prefs, lo, hi = solver.prefs, solver.lo, solver.hi
    P, n = value.shape
    ones = np.ones((P, n))
    known = beliefs.known
    weight = np.where(known, _KNOWN_WEIGHT, 1.0)  # case 5's weights
    if solver.frontier is None and prefs.linear:  # case 5, solved exactly (core.solvers.linear_nash)
        # Whether any text meets the lowest thresholds does not depend on the weights, and
        # the exact solver proves it either way: one solve gives the text and the case.
        text, possible = solver.solve(th_lo, clout=weight)
        if not possible.all():  # case 2, in the worlds where no text can pass
            idx = np.flatnonzero(~possible)
            fallback, _ = solver.take(idx, plans=False).solve(
                _means_at(excess, beliefs, priors, shift, value, idx))
            text[:, idx] = fallback
        return text
    lowest, possible = solver.solve(th_lo, clout=ones)
    fallback = lowest.copy()  # case 2, drafted only where no text can pass
    if not possible.all():
        idx = np.flatnonzero(~possible)
        fallback[:, idx] = solver.take(idx, plans=False).solve(
            _means_at(excess, beliefs, priors, shift, value, idx))[0]
    if solver.frontier is None or P != 2:  # case 5
        text, _ = solver.solve(th_lo, clout=weight)
        return np.where(possible[None], text, fallback)
    text = lowest
    # case 3: one side known: the unknown side's best text meeting the known side's threshold
    for i in (0, 1):
        one = ~known[i] & known[1 - i]
        if one.any():
            best, ok = proposer_text(prefs, i, th_lo, lo, hi)
            text = np.where((one & ok)[None], best, text)
    # case 4: both unknown
    both = ~known.all(axis=0) & ~known.any(axis=0)
    if both.any():
        uniform = all(p is not None and p.uniform for p in priors)
        if uniform:
            text = np.where(both[None], _capped(solver, lowest, th_hi), text)
        else:
            found = _frontier_search(solver.frontier, excess, beliefs, priors, shift, value,
                                     th_lo)
            text = np.where(both[None], found, text)
    return np.where(possible[None], text, fallback)


def _means_at(excess, beliefs, priors, shift, value, idx) -> np.ndarray:
    """``(P, len(idx))`` the thresholds at the beliefs' means in the worlds ``idx`` (case 2:
    few worlds), worked out in those worlds only; one world of many adds up its quadrature in
    another order than a column of a larger array (a pairwise sum), so it is read off them all."""
    if idx.size < 2 <= value.shape[1]:
        return np.ascontiguousarray((excess + beliefs.means(priors, shift, value))[:, idx])
    return excess[:, idx] + beliefs.take(idx).means(priors, shift[:, idx], value[:, idx])


def _capped(solver, x, th_hi) -> np.ndarray:
    """Uniform beliefs: where the Nash text on the lower ends gives a side more than the top
    of its belief (it accepts for sure), give that side exactly the top and the other the rest."""
    prefs, lo, hi = solver.prefs, solver.lo, solver.hi
    u = utilities(x, prefs)
    x = np.array(x, copy=True)
    for i in (0, 1):
        over = u[i] > th_hi[i] + FEASIBILITY_TOL
        if over.any():
            # Only the worlds where the side is over the top of its belief (each world's text is
            # its own column: solving a subset gives the same numbers).
            w = np.flatnonzero(over)
            if w.size > 1 and lo.shape[0] > 1:
                # the other side's order of issues, worked out once for the solver's worlds
                # (numpy sums one world's issues in another order: it is solved on its own);
                # solving reads each world's column alone, so where the side is over in many
                # worlds, solving them all and reading those is cheaper than copying them out
                plan = _proposer_plan(solver, 1 - i)
                if 4 * w.size >= over.size:
                    best, ok = plan.solve(th_hi[i])
                    best, ok = best[:, w], ok[w]
                else:
                    best, ok = plan.take(w).solve(th_hi[i, w])
            else:
                floor = np.where(np.arange(2)[:, None] == i, th_hi[:, w], -np.inf)
                best, ok = proposer_text(prefs.take(w), 1 - i, floor,
                                         np.ascontiguousarray(lo[:, w]),
                                         np.ascontiguousarray(hi[:, w]))
            x[:, w[ok]] = best[:, ok]
    return x


def _proposer_plan(solver, i: int) -> TwoLinearPlan:
    """Principal ``i``'s ``TwoLinearPlan`` of the solver's worlds, built once."""
    return solver.plan(("proposer", i), lambda prefs, lo, hi: TwoLinearPlan.build(prefs, i, lo,
                                                                                  hi))


def _frontier_search(fr, excess, beliefs, priors, shift, value, th_lo) -> np.ndarray:
    """Golden-section search of ``sum_i log P_i`` along the two-principal linear frontier,
    parametrised by principal 1's utility (the frontier is ``u2 = f(u1)``, concave, the minimum
    of its segments' lines)."""
    moving = fr.g1 > 0
    slope = np.where(moving, fr.g2 / np.where(moving, fr.g1, 1.0), 0.0)
    u_start = fr.start1[0]
    u_end = u_start + fr.g1.sum(axis=0)

    def f(u1):
        lines = np.where(moving, fr.start2 - (u1[None] - fr.start1) * slope, np.inf)
        return lines.min(axis=0)

    steep = moving & (fr.g2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(steep, fr.start1 + (fr.start2 - th_lo[1]) / np.where(steep, slope, 1.0),
                         np.inf)
    a = np.maximum(u_start, th_lo[0])
    b = np.minimum(u_end, reach.min(axis=0))
    b = np.maximum(a, b)

    def logp(u1):
        u2 = f(u1)
        p0 = beliefs.accept_probability(priors, 0, u1 - excess[0], shift[0], value[0])
        p1 = beliefs.accept_probability(priors, 1, u2 - excess[1], shift[1], value[1])
        with np.errstate(divide="ignore"):
            return np.log(p0) + np.log(p1)

    x1 = b - _GOLDEN * (b - a)
    x2 = a + _GOLDEN * (b - a)
    f1, f2 = logp(x1), logp(x2)
    for _ in range(_GOLDEN_STEPS):
        left = f1 >= f2  # the maximum lies in [a, x2]
        a, b = np.where(left, a, x1), np.where(left, x2, b)
        x2n = np.where(left, x1, a + _GOLDEN * (b - a))
        x1n = np.where(left, b - _GOLDEN * (b - a), x2)
        new = np.where(left, x1n, x2n)
        fnew = logp(new)
        f1, f2 = np.where(left, fnew, f2), np.where(left, f1, fnew)
        x1, x2 = x1n, x2n
    u1 = 0.5 * (a + b)
    inside = moving & (fr.start1 <= u1[None] + 1e-12) & (u1[None] <= fr.start1 + fr.g1 + 1e-12)
    seg = np.argmax(inside, axis=0)
    s1 = np.take_along_axis(fr.start1, seg[None], axis=0)[0]
    g1 = np.take_along_axis(fr.g1, seg[None], axis=0)[0]
    t = np.clip(np.where(g1 > 0, (u1 - s1) / np.where(g1 > 0, g1, 1.0), 0.0), 0.0, 1.0)
    return fr.text(seg, t)


# -- a biased drafter ----------------------------------------------------------------------------
#
# The drafter values a settlement on text x at (1 - b) + b u_M(x) and no settlement at 0 (b its
# bias, u_M its utility of the text from its position; docs/model.md section 9). Bias 0 never
# reaches this code: the drafter's text is then the unbiased one above, bit for bit.

_BIAS_ONE = 1.0 - 1e-9  # at or above: the mediator's best text inside the acceptance set
# A responder's floor that never binds (utilities lie in [0, 1]); finite, as the barrier method
# of curved utilities takes logs of the slack above it.
NO_FLOOR = -1.0


def extended(prefs: Preferences, drafter: Preferences) -> Preferences:
    """The principals' preferences with the drafter's (one actor) appended as the last row."""
    return Preferences(np.concatenate([prefs.position, drafter.position]),
                       np.concatenate([prefs.salience, drafter.salience]),
                       np.concatenate([prefs.power, drafter.power]),
                       np.concatenate([prefs.quadratic, drafter.quadratic]))


def worst_utility(drafter: Preferences, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``(n,)`` the drafter's utility of its worst text in the box: on every issue the end of
    the box farthest from its position (utilities fall with the distance, issue by issue)."""
    pos = drafter.position[0]
    far = np.where(np.abs(lo - pos) >= np.abs(hi - pos), lo, hi)
    return utilities(far, drafter)[0]


def biased_complete_text(solver: NashSolver, threshold: np.ndarray, drafter: Preferences,
                         bias: np.ndarray, unbiased: np.ndarray) -> np.ndarray:
    """The biased drafter's text under complete information, ``(K, n)``, in worlds where some
    text meets every threshold (``theta``, ``(P, n)``).

    Among the texts every principal accepts it maximises the generalised Nash product with the
    drafter as one more party: ``sum_i c_i log(u_i - theta_i) + W log(u_M - d_M)`` with weight
    ``W = b / (1 - b) sum_i c_i`` and disagreement point ``d_M`` one unit below its worst text in
    the box (so its term is finite on every text). Dividing by ``sum_i c_i / (1 - b)`` shows the
    objective as a convex combination: ``(1 - b)`` the unbiased Nash product (clouts
    normalised), ``b`` the drafter's own log-utility; solved in that form by coordinate ascent
    with exact line solves (``nash_coordinate_ascent``: utilities are separable and the logs
    smooth, so a point no issue improves is the optimum, linear utilities included; the
    interior-point method of ``linear_nash`` fails at weight ratios of about 100). Bias 1: its
    best text inside the acceptance set (``proposer_text``, exact). A text a principal would
    not accept (the last digits of the ascent) is replaced by the unbiased text (``unbiased``,
    ``(K, n)``).
    """
    prefs, lo, hi = solver.prefs, solver.lo, solver.hi
    P, n = threshold.shape
    ext = extended(prefs, drafter)
    full = bias >= _BIAS_ONE
    floor = np.concatenate([threshold, np.full((1, n), -np.inf)])
    text, _ = proposer_text(ext, P, floor, lo, hi) if full.any() else (None, None)
    part = ~full
    if part.any():
        c = np.broadcast_to(solver.clout, (P, n))
        c = np.concatenate([(1.0 - bias) * c / c.sum(axis=0), bias[None]])
        d = np.concatenate([threshold, (worst_utility(drafter, lo, hi) - 1.0)[None]])
        nash, _ = nash_coordinate_ascent(ext, d, c, lo, hi)
        text = nash if text is None else np.where(part[None], nash, text)
    ok = accepts(utilities(text, prefs), threshold).all(axis=0)
    return np.where(ok[None], text, unbiased)


def biased_screening_text(solver: NashSolver, excess: np.ndarray, beliefs: Beliefs,
                          priors: list[Prior | None], shift: np.ndarray, value: np.ndarray,
                          drafter: Preferences, bias: np.ndarray, unbiased: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """The biased drafter's text under private information, ``(text (K, n), p (n,))``:

        x* = argmax_x  P(every principal accepts x) ((1 - b) + b u_M(x))

    With b = 1 and a drafter at one side's ideal this is the uninformed seller's one-round
    offer of Fudenberg & Tirole 1983 (its profit times the chance of a sale).

    - One principal's value unknown, the others known (any number of principals and issues):
      exact. Along ``v``, the unknown side's utility, the best text for the drafter is its own
      best text giving that side ``v`` and the known sides their thresholds
      (``proposer_text``); the objective ``P_j(v - e_j) A(v)`` has a concave log for a
      log-concave belief (``A``, the value of a linear programme in ``v``, is concave), so a
      golden-section search over ``[v at the drafter's best text, the unknown side's best]``
      finds it to ``_GOLDEN_STEPS``.
    - Two or more unknown: the Nash text on the lowest thresholds with weight 1 on unknown
      principals, ``_KNOWN_WEIGHT`` on known ones and the drafter as one more party of weight 1
      with disagreement point ``-(1 - b) / b`` (exact for uniform beliefs where no text gives a
      side more than the top of its belief: the log of a uniform CDF is the Nash term); kept only
      where it serves the objective better than ``unbiased``.

    Worlds where the objective is 0 at its best (no text can pass) keep ``unbiased``. Worlds
    with the same public inputs (answers are yes or no, so few histories of them: at most a few
    hundred distinct beliefs however many worlds) are drafted once.
    """
    P, n = value.shape
    prefs = solver.prefs
    inputs = (beliefs.lo, beliefs.hi, beliefs.known, excess, shift,
              np.where(beliefs.known, value, 0.0),  # an unknown value is never read
              prefs.position, prefs.salience, prefs.power, np.broadcast_to(solver.clout, (P, n)),
              solver.lo, solver.hi, drafter.position, drafter.salience, drafter.power,
              bias[None], unbiased)
    feat = np.concatenate([np.reshape(a, (-1, n)) for a in inputs]).T
    _, first, inverse = np.unique(feat, axis=0, return_index=True, return_inverse=True)
    if first.size < n:
        text, p = _biased_screening(solver.take(first), excess[:, first], beliefs.take(first),
                                    priors, shift[:, first], value[:, first],
                                    drafter.take(first), bias[first], unbiased[:, first])
        inverse = inverse.reshape(-1)
        return text[:, inverse], p[inverse]
    return _biased_screening(solver, excess, beliefs, priors, shift, value, drafter, bias,
                             unbiased)


def _biased_screening(solver, excess, beliefs, priors, shift, value, drafter, bias, unbiased):
    """``biased_screening_text`` in every world given."""
    prefs = solver.prefs
    P, n = value.shape
    unknown = ~beliefs.known & np.array([p is not None for p in priors])[:, None]
    count = unknown.sum(axis=0)
    text = unbiased.copy()
    for j in range(P):
        idx = np.flatnonzero(unknown[j] & (count == 1))
        if idx.size:
            text[:, idx] = _one_unknown(solver.take(idx), j, excess[:, idx], beliefs.take(idx),
                                        priors, shift[:, idx], value[:, idx],
                                        drafter.take(idx), bias[idx], unbiased[:, idx])
    idx = np.flatnonzero(count >= 2)
    if idx.size:
        text[:, idx] = _many_unknown(solver.take(idx), excess[:, idx], beliefs.take(idx),
                                     priors, shift[:, idx], value[:, idx], drafter.take(idx),
                                     bias[idx], unbiased[:, idx])
    return text, acceptance(prefs, text, excess, beliefs, priors, shift, value)


def drafter_value(prefs, text, excess, beliefs, priors, shift, value, drafter, bias
                  ) -> np.ndarray:
    """``(n,)`` the biased drafter's objective ``P(all accept) ((1 - b) + b u_M)`` of a text."""
    p = acceptance(prefs, text, excess, beliefs, priors, shift, value)
    return p * ((1.0 - bias) + bias * utilities(text, drafter)[0])


def _one_unknown(solver, j, excess, beliefs, priors, shift, value, drafter, bias, unbiased):
    """Golden-section search along the unknown side's utility (``biased_screening_text``)."""
    prefs, lo, hi = solver.prefs, solver.lo, solver.hi
    P, n = value.shape
    ext = extended(prefs, drafter)
    floor = np.concatenate([excess + value, np.full((1, n), -np.inf)])
    floor[j] = NO_FLOOR
    top, ok = proposer_text(prefs, j, floor[:P], lo, hi)
    own, _ = proposer_text(ext, P, floor, lo, hi)
    a, b = utilities(own, prefs)[j], utilities(top, prefs)[j]
    a = np.minimum(a, b)
    lower, upper = a.copy(), b.copy()

    def at(v):
        fl = floor.copy()
        fl[j] = v
        x, _ = proposer_text(ext, P, fl, lo, hi)
        return x, drafter_value(prefs, x, excess, beliefs, priors, shift, value, drafter, bias)

    x1, x2 = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    f1, f2 = at(x1)[1], at(x2)[1]
    for _ in range(_GOLDEN_STEPS):
        # nothing passes at either point: the optimum lies to the right (more for side j)
        left = (f1 >= f2) & (f1 > 0)
        a, b = np.where(left, a, x1), np.where(left, x2, b)
        x2n = np.where(left, x1, a + _GOLDEN * (b - a))
        x1n = np.where(left, b - _GOLDEN * (b - a), x2)
        fnew = at(np.where(left, x1n, x2n))[1]
        f1, f2 = np.where(left, fnew, f2), np.where(left, f1, fnew)
        x1, x2 = x1n, x2n
    best, f = _vertex(at, 0.5 * (a + b), lower, upper)
    base = drafter_value(prefs, unbiased, excess, beliefs, priors, shift, value, drafter, bias)
    keep = ok & (f > 0) & (f >= base)
    return np.where(keep[None], best, unbiased)


def _many_unknown(solver, excess, beliefs, priors, shift, value, drafter, bias, unbiased):
    """The Nash approximation with the drafter as one more party (``biased_screening_text``)."""
    prefs, lo, hi = solver.prefs, solver.lo, solver.hi
    P, n = value.shape
    low, _ = beliefs.bounds(priors, shift, value)
    weight = np.where(beliefs.known, _KNOWN_WEIGHT, 1.0)
    d = np.concatenate([excess + low, (-(1.0 - bias) / bias)[None]])
    c = np.concatenate([weight, np.ones((1, n))])
    text, possible = nash_coordinate_ascent(extended(prefs, drafter), d, c, lo, hi)
    f = drafter_value(prefs, text, excess, beliefs, priors, shift, value, drafter, bias)
    base = drafter_value(prefs, unbiased, excess, beliefs, priors, shift, value, drafter, bias)
    keep = possible & (f > base)
    return np.where(keep[None], text, unbiased)


_VERTEX_SPAN = 1e-3  # of the search interval: the half-width of the parabola's three points


def _vertex(at, v, lower, upper):
    """Golden-section search is exact only to the square root of the rounding error (the
    objective is flat at its top): refine ``v`` by the vertex of the parabola through the
    objective at ``v`` and ``v +- h``, kept only where it scores at least as well. Exact where the
    objective is quadratic around its optimum (a uniform belief and a drafter's value linear in
    ``v`` there: the pie's closed forms); never worse elsewhere. Returns ``(text, objective)``."""
    h = _VERTEX_SPAN * (upper - lower)
    vm, vp = np.maximum(v - h, lower), np.minimum(v + h, upper)
    (x0, f0), fm, fp = at(v), at(vm)[1], at(vp)[1]
    even = (vp - v == v - vm) & (h > 0)
    curv = fm - 2.0 * f0 + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(even & (curv < 0), h * (fm - fp) / (2.0 * curv), 0.0)
    shift = np.clip(np.nan_to_num(shift), -h, h)
    x1, f1 = at(v + shift)
    better = f1 >= f0
    return np.where(better[None], x1, x0), np.where(better, f1, f0)
