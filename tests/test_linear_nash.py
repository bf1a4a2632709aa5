"""The dual interior-point texts of three or more principals with linear utilities
(``core.solvers.linear_nash``), held to optimality certificates and to an independent LP solver."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from negotiation_sim.core.preferences import Preferences, utilities
from negotiation_sim.core.solvers.linear_nash import nash_linear, ray_text
from negotiation_sim.core.solvers.nash import nash_coordinate_ascent, nash_text
from negotiation_sim.core.solvers.proposer import kalai_smorodinsky_text, proposer_text
from tests.test_solutions import nash_objective, random_case


def _world(prefs, n):
    sl = slice(n, n + 1)
    return Preferences(prefs.position[..., sl], prefs.salience[..., sl], prefs.power[..., sl],
                       prefs.quadratic)


def kkt_violation(x, prefs, d, c, lo, hi):
    """How far ``x`` is from the Nash first-order conditions, per world: with weights
    ``lam_i = c_i / (u_i - d_i)`` no issue may move either way and raise the lam-weighted
    utility (the objective is concave and its directional derivative splits across issues,
    so this certifies the optimum)."""
    y = utilities(x, prefs) - d
    lam = c / y
    pos, sal = prefs.position, prefs.salience  # (P, K, N)
    up = np.where(x[None] < pos, sal, -sal)  # slope moving up from x
    down = np.where(x[None] > pos, sal, -sal)  # slope moving down
    g_up = (lam[:, None] * up).sum(axis=0)
    g_down = (lam[:, None] * down).sum(axis=0)
    g_up = np.where(x >= hi - 1e-12, 0.0, g_up)
    g_down = np.where(x <= lo + 1e-12, 0.0, g_down)
    scale = lam.sum(axis=0)
    return (np.maximum(np.maximum(g_up, g_down), 0.0) / scale).max(axis=0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), P=st.integers(3, 5), K=st.integers(1, 6),
       shrink=st.floats(0.2, 1.0))
def test_nash_text_meets_the_first_order_conditions(seed, P, K, shrink):
    prefs, d, c, lo, hi = random_case(np.random.default_rng(seed), P, K, 60)
    d = d * shrink
    x, ok = nash_linear(prefs, d, c, lo, hi)
    assert ok.any()
    assert np.all(x[:, ok] >= lo[:, ok] - 1e-12) and np.all(x[:, ok] <= hi[:, ok] + 1e-12)
    assert kkt_violation(x[:, ok], _sub(prefs, ok), d[:, ok], c[:, ok], lo[:, ok],
                         hi[:, ok]).max() < 1e-7


def _sub(prefs, mask):
    return Preferences(prefs.position[..., mask], prefs.salience[..., mask],
                       prefs.power[..., mask], prefs.quadratic)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), P=st.integers(3, 4), K=st.integers(1, 5))
def test_nash_text_is_at_least_as_good_as_coordinate_ascent(seed, P, K):
    prefs, d, c, lo, hi = random_case(np.random.default_rng(seed), P, K, 80)
    xa, fa = nash_linear(prefs, d, c, lo, hi)
    xb, fb = nash_coordinate_ascent(prefs, d, c, lo, hi)
    assert (fa == fb).all()
    oa, ob = nash_objective(xa, prefs, d, c)[fa], nash_objective(xb, prefs, d, c)[fa]
    assert np.all(oa >= ob - 1e-12)
    assert np.all(oa - ob < 1e-6)


def _lp_reach(prefs, d, r, lo, hi, n):
    """max t s.t. u >= d + t r over mixtures of candidates (the same set), by HiGHS."""
    P, K = prefs.position.shape[:2]
    q = np.clip(prefs.position[:, :, n].T, lo[:, n:n + 1], hi[:, n:n + 1])  # (K, J)
    A = np.zeros((P, K * P))
    for k in range(K):
        for j in range(P):
            A[:, k * P + j] = prefs.salience[:, k, n] * (1 - np.abs(q[k, j] - prefs.position[:, k, n]))
    eq = np.zeros((K, K * P + 1))
    for k in range(K):
        eq[k, k * P:(k + 1) * P] = 1
    res = linprog(np.r_[np.zeros(K * P), -1.0], A_ub=np.hstack([-A, r[:, n:n + 1]]),
                  b_ub=-d[:, n], A_eq=eq, b_eq=np.ones(K),
                  bounds=[(0, None)] * (K * P) + [(None, None)], method="highs")
    return -res.fun if res.status == 0 else None


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), P=st.integers(3, 5), K=st.integers(1, 5))
def test_ray_text_reaches_as_far_as_highs(seed, P, K):
    rng = np.random.default_rng(seed)
    prefs, d, _, lo, hi = random_case(rng, P, K, 12)
    d = d * 0.5
    r = rng.uniform(0.05, 1.0, size=d.shape)
    x, reach = ray_text(prefs, d, r, lo, hi)
    for n in range(d.shape[1]):
        t = _lp_reach(prefs, d, r, lo, hi, n)
        assert t is not None
        assert reach[n] == pytest.approx(t, abs=1e-9)


def test_infeasible_reservations_are_recognised():
    """Reservations no text can meet: the dual certificate stops the iterations and the
    text is reported infeasible (the utilitarian fallback is drafted instead), in exactly the
    worlds where HiGHS finds no text giving every principal its reservation."""
    prefs, d, c, lo, hi = random_case(np.random.default_rng(7), 3, 3, 120)
    d = np.full_like(d, 0.85)  # three principals each wanting 0.85 of their scale
    x, ok = nash_linear(prefs, d, c, lo, hi)
    feasible = np.array([_lp_reach(prefs, d, np.ones_like(d), lo, hi, n) >= -1e-9
                         for n in range(d.shape[1])])
    assert 0 < feasible.sum() < feasible.size - 50
    assert np.array_equal(ok, feasible)
    xs, oks = nash_text(prefs, d, c, lo, hi)
    assert np.array_equal(oks, feasible) and np.isfinite(xs).all()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), K=st.integers(2, 5))
def test_proposer_text_solves_its_linear_programme(seed, K):
    rng = np.random.default_rng(seed)
    prefs, d, _, lo, hi = random_case(rng, 3, K, 10)
    d = d * 0.5
    for i in range(3):
        x, ok = proposer_text(prefs, i, d, lo, hi)
        u = utilities(x, prefs)
        others = np.arange(3) != i
        assert np.all(u[others][:, ok] >= d[others][:, ok] - 1e-9)
        e = np.where(np.arange(3)[:, None] == i, 1.0, 0.0) * np.ones_like(d)
        floor = np.where(np.arange(3)[:, None] == i, 0.0, d)
        for n in np.flatnonzero(ok):
            assert u[i, n] == pytest.approx(_lp_reach(prefs, floor, e, lo, hi, n), abs=1e-9)


def test_kalai_smorodinsky_of_three_is_the_furthest_point_on_the_ray():
    prefs, d, _, lo, hi = random_case(np.random.default_rng(3), 3, 4, 30)
    d = d * 0.5
    x, ok = kalai_smorodinsky_text(prefs, d, lo, hi)
    assert ok.all()
    utopia = np.stack([utilities(proposer_text(prefs, a, d, lo, hi)[0], prefs)[a]
                       for a in range(3)])
    span = utopia - d
    ratio = (utilities(x, prefs) - d) / span
    for n in range(30):
        assert ratio[:, n].min() == pytest.approx(_lp_reach(prefs, d, span, lo, hi, n),
                                                  abs=1e-9)


def test_a_world_gets_the_same_text_alone_as_in_an_ensemble():
    prefs, d, c, lo, hi = random_case(np.random.default_rng(5), 4, 4, 50)
    x, ok = nash_linear(prefs, d, c, lo, hi)
    for n in (0, 17, 49):
        sl = slice(n, n + 1)
        xn, okn = nash_linear(_world(prefs, n), d[:, sl], c[:, sl], lo[:, sl], hi[:, sl])
        assert okn[0] == ok[n]
        assert np.array_equal(xn[:, 0], x[:, n], equal_nan=True)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31), P=st.sampled_from([2, 3]), K=st.integers(1, 10),
       m=st.integers(0, 30), added=st.integers(1, 30))
def test_a_solver_extended_by_rejoining_worlds_is_the_one_built_whole(seed, P, K, m, added):
    """Worlds that rejoin the talks (a broken text) get their solver pieces built alone and
    joined to those of the worlds already there (``NashSolver.extended``): the frontier, the
    fallback, the proposers' plans and every text solved are the same bits as a solver built
    for all of them at once."""
    from negotiation_sim.core.solvers.drafting import _proposer_plan
    from negotiation_sim.core.solvers.nash import NashSolver

    prefs, d, c, lo, hi = random_case(np.random.default_rng(seed), P, K, m + added)
    first = np.arange(m)
    old = NashSolver(prefs.take(first), c[:, :m], lo[:, :m], hi[:, :m])
    old.fallback()
    if P == 2:
        _proposer_plan(old, 0), _proposer_plan(old, 1)
    joined = old.extended(prefs, c, lo, hi)
    whole = NashSolver(prefs, c, lo, hi)
    whole.fallback()
    if P == 2:
        _proposer_plan(whole, 0), _proposer_plan(whole, 1)
        for f in whole.frontier.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(joined.frontier, f),
                                          getattr(whole.frontier, f))
        for key, plan in whole._plans.items():
            for f in plan.__dataclass_fields__:
                np.testing.assert_array_equal(getattr(joined._plans[key], f), getattr(plan, f))
    else:
        assert joined.frontier is None
    np.testing.assert_array_equal(joined.fallback(), whole.fallback())
    for a, b in zip(joined.solve(d), whole.solve(d)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("same", [True, False])
def test_a_solver_held_once_extended_by_worlds_with_its_numbers_stays_held_once(same):
    """Where the preferences, clouts and box are the same in every world (constants,
    ``core.columns``), worlds that rejoin with those numbers take the solver's own pieces
    (``NashSolver.extended``): no piece is built again or copied, and every piece and text is
    the bits of a solver built for all of them at once. Rejoining worlds with numbers of their
    own are built and joined as before."""
    from negotiation_sim.core import columns
    from negotiation_sim.core.solvers.drafting import _proposer_plan
    from negotiation_sim.core.solvers.nash import NashSolver

    prefs, d, c, lo, hi = random_case(np.random.default_rng(3), 2, 4, 2)
    m, n = 40, 45

    def held(a, k, col=0):
        return columns.constant(np.ascontiguousarray(a[..., col:col + 1]), k)

    def inputs(k, col=0):
        return (Preferences(held(prefs.position, k, col), held(prefs.salience, k, col),
                            held(prefs.power, k, col), prefs.quadratic),
                held(c, k, col), held(lo, k, col), held(hi, k, col))

    old = NashSolver(*inputs(m))
    old.fallback()
    _proposer_plan(old, 0), _proposer_plan(old, 1)
    assert old.constant
    built = []
    for key, build in list(old._builders.items()):
        old._builders[key] = lambda *a, _b=build, _k=key: built.append(_k) or _b(*a)
    new = inputs(n) if same else tuple(
        _joined_with(a, b) for a, b in zip(inputs(m), inputs(n - m, col=1)))
    joined = old.extended(*new)
    assert (built == []) == same  # a plan built again only for worlds of other numbers
    whole = NashSolver(*new)
    whole.fallback()
    _proposer_plan(whole, 0), _proposer_plan(whole, 1)
    assert joined.constant == same
    for f in whole.frontier.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(joined.frontier, f), getattr(whole.frontier, f))
    for key, plan in whole._plans.items():
        for f in plan.__dataclass_fields__:
            np.testing.assert_array_equal(getattr(joined._plans[key], f), getattr(plan, f))
    np.testing.assert_array_equal(joined.fallback(), whole.fallback())
    dn = np.repeat(d[:, :1], n, axis=1)
    for a, b in zip(joined.solve(dn), whole.solve(dn)):
        np.testing.assert_array_equal(a, b)


def _joined_with(a, b):
    """Two inputs of a solver (arrays or preferences over worlds) side by side."""
    from negotiation_sim.core import columns

    if isinstance(a, Preferences):
        return Preferences(columns.concat(a.position, b.position),
                           columns.concat(a.salience, b.salience),
                           columns.concat(a.power, b.power), a.quadratic)
    return columns.concat(a, b)
