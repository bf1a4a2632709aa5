"""Known answers of bargaining theory and agreement between the exact and general solvers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_sim.core.preferences import Preferences, utilities, weighted_median
from negotiation_sim.core.solvers.nash import nash_coordinate_ascent, nash_text
from negotiation_sim.core.solvers.proposer import kalai_smorodinsky_text


def pie_prefs(n: int = 1) -> Preferences:
    pos = np.zeros((2, 1, n))
    pos[0] = 1.0
    return Preferences(pos, np.ones((2, 1, n)), np.ones((2, n)), np.zeros(2, bool))


def solve_pie(d1, d2, c1=1.0, c2=1.0):
    d = np.array([[d1], [d2]], dtype=float)
    c = np.array([[c1], [c2]], dtype=float)
    x, ok = nash_text(pie_prefs(), d, c, np.zeros((1, 1)), np.ones((1, 1)))
    return float(x[0, 0]), bool(ok[0])


def test_symmetric_pie_splits_in_half():
    assert solve_pie(0.0, 0.0) == pytest.approx((0.5, True), abs=1e-12)


def test_nash_with_reservations():
    x, ok = solve_pie(0.2, 0.1)
    assert ok and x == pytest.approx(0.55, abs=1e-12)


@given(d1=st.floats(0, 0.5), d2=st.floats(0, 0.5), c1=st.floats(0.1, 10), c2=st.floats(0.1, 10))
def test_asymmetric_nash_split(d1, d2, c1, c2):
    """Generalised Nash on a pie: principal 1 gets d1 + a (1 - d1 - d2), a = c1 / (c1 + c2)."""
    x, ok = solve_pie(d1, d2, c1, c2)
    a = c1 / (c1 + c2)
    assert ok
    assert x == pytest.approx(d1 + a * (1 - d1 - d2), abs=1e-9)


@given(d1=st.floats(0.3, 1.0), excess=st.floats(1e-6, 0.5))
def test_no_text_when_reservations_exceed_the_pie(d1, excess):
    _, ok = solve_pie(d1, 1.0 - d1 + excess)
    assert not ok


def test_reservations_summing_to_one_exactly_are_a_tie_that_accepts():
    x, ok = solve_pie(0.6, 0.4)
    assert ok and x == pytest.approx(0.6)


def random_case(rng, P, K, N, linear=True):
    pos = rng.uniform(size=(P, K, N))
    sal = rng.uniform(0.05, 1, size=(P, K, N))
    sal /= sal.sum(axis=1, keepdims=True)
    power = np.ones((P, N)) if linear else rng.uniform(0.4, 1.0, size=(P, N))
    prefs = Preferences(pos, sal, power, np.zeros(P, bool))
    d = rng.uniform(0, 0.4, size=(P, N))
    c = rng.uniform(0.5, 2, size=(P, N))
    lo = rng.uniform(0, 0.3, size=(K, N))
    hi = rng.uniform(0.7, 1, size=(K, N))
    return prefs, d, c, lo, hi


def nash_objective(x, prefs, d, c):
    u = utilities(x, prefs)
    return (c * np.log(np.maximum(u - d, 1e-300))).sum(axis=0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), K=st.integers(1, 4))
def test_exact_and_general_solvers_agree(seed, K):
    """The closed-form frontier walk and coordinate ascent find the same Nash text."""
    prefs, d, c, lo, hi = random_case(np.random.default_rng(seed), 2, K, 200)
    xa, fa = nash_text(prefs, d, c, lo, hi)
    xb, fb = nash_coordinate_ascent(prefs, d, c, lo, hi)
    assert (fa == fb).all()
    oa, ob = nash_objective(xa, prefs, d, c)[fa], nash_objective(xb, prefs, d, c)[fa]
    assert np.all(ob <= oa + 1e-9), "the exact solver must be at least as good"
    assert np.all(oa - ob < 1e-7)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_general_solver_beats_a_grid_for_three_principals(seed):
    """On one issue with three principals, no point of a fine grid beats the solver's text."""
    rng = np.random.default_rng(seed)
    prefs, d, c, lo, hi = random_case(rng, 3, 1, 50)
    d *= 0.3
    x, ok = nash_text(prefs, d, c, lo, hi)
    grid = np.linspace(0, 1, 2001)[:, None] * (hi - lo) + lo  # (G, N)
    best = np.max([nash_objective(g[None], prefs, d, c) for g in grid], axis=0)
    got = nash_objective(x, prefs, d, c)
    assert np.all(got[ok] >= best[ok] - 1e-6)


def test_texts_stay_inside_the_box():
    prefs, d, c, lo, hi = random_case(np.random.default_rng(3), 2, 3, 500)
    for solver in (nash_text, nash_coordinate_ascent):
        x, _ = solver(prefs, d, c, lo, hi)
        assert np.all(x >= lo - 1e-12) and np.all(x <= hi + 1e-12)


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0.01, 5)), min_size=1, max_size=7))
def test_weighted_median_minimises_weighted_distance(points):
    v = np.array([p for p, _ in points])[:, None]
    w = np.array([q for _, q in points])[:, None]
    med = weighted_median(v, w)[0]
    cost = lambda m: float((w[:, 0] * np.abs(v[:, 0] - m)).sum())  # noqa: E731
    assert cost(med) <= min(cost(m) for m in v[:, 0]) + 1e-9


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), K=st.integers(1, 4))
def test_exact_kalai_smorodinsky_matches_the_frontier_bisection(seed, K):
    """The closed-form KS point on the linear frontier equals the general bisection's."""
    
    prefs, d, _, lo, hi = random_case(np.random.default_rng(seed), 2, K, 100)
    xa, fa = kalai_smorodinsky_text(prefs, d, lo, hi)
    original = Preferences.linear
    Preferences.linear = property(lambda self: False)  # force the general path
    try:
        xb, fb = kalai_smorodinsky_text(prefs, d, lo, hi)
    finally:
        Preferences.linear = original
    assert (fa == fb).all()
    ua = utilities(np.nan_to_num(xa), prefs)[:, fa]
    ub = utilities(np.nan_to_num(xb), prefs)[:, fa]
    assert np.abs(ua - ub).max(initial=0.0) < 1e-7


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 5)), min_size=2, max_size=2),
       st.sampled_from(["low", "mid"]))
def test_two_actor_weighted_median_matches_the_general_rule(points, ties):
    """The closed form for two actors agrees with the sort-and-accumulate rule it replaces."""
    from negotiation_sim.core.preferences import _weighted_median_two

    v = np.array([p for p, _ in points])[:, None]
    w = np.array([q for _, q in points])[:, None]
    # the general rule, written out: sort, accumulate, first reaching half (midpoint on ties)
    order = np.argsort(v[:, 0], kind="stable")
    vs, ws = v[order, 0], w[order, 0]
    total = ws.sum()
    if total == 0:
        expected = v.mean()
    else:
        cum = np.cumsum(ws)
        i = int(np.argmax(cum >= 0.5 * total - 1e-12 * total))
        expected = vs[i]
        if ties == "mid" and abs(cum[i] - 0.5 * total) <= 1e-12 * total and i + 1 < 2:
            expected = 0.5 * (vs[i] + vs[i + 1])
    assert _weighted_median_two(v, w, ties)[0] == pytest.approx(expected)
