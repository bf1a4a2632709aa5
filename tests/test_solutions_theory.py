"""Solution concepts against known answers, and the proposer solvers against each other."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_sim.core.preferences import Preferences, utilities, weighted_mean, weighted_median
from negotiation_sim.core.solvers.nash import nash_text
from negotiation_sim.core.solvers.proposer import (
    _proposer_two_frontier,
    _proposer_two_linear,
    kalai_smorodinsky_text,
    proposer_text,
)
from negotiation_sim.core.solvers.solutions import rubinstein_share, stahl_share


def prefs(pos, sal, power=None, quad=None, n=1):
    pos = np.asarray(pos, float)[..., None] * np.ones(n)
    sal = np.asarray(sal, float)[..., None] * np.ones(n)
    P = pos.shape[0]
    power = np.ones((P, n)) if power is None else np.asarray(power, float)[:, None] * np.ones(n)
    quad = np.zeros(P, bool) if quad is None else np.asarray(quad)
    return Preferences(pos, sal, power, quad)


def box(K, n=1):
    return np.zeros((K, n)), np.ones((K, n))


PIE = prefs([[1.0], [0.0]], [[1.0], [1.0]])


def test_nash_symmetric_pie_splits_in_half():
    x, ok = nash_text(PIE, np.zeros((2, 1)), np.ones((2, 1)), *box(1))
    assert ok[0] and abs(x[0, 0] - 0.5) < 1e-9


def test_nash_with_reservations():
    # d1 + (1 - d1 - d2) / 2 = 0.2 + 0.35
    x, _ = nash_text(PIE, np.array([[0.2], [0.1]]), np.ones((2, 1)), *box(1))
    assert abs(x[0, 0] - 0.55) < 1e-9


def test_kalai_smorodinsky_symmetric_and_with_reservations():
    x, ok = kalai_smorodinsky_text(PIE, np.zeros((2, 1)), *box(1))
    assert ok[0] and abs(x[0, 0] - 0.5) < 1e-9
    # utopia (0.9, 0.8); equal shares of (0.7, 0.7) give x = 0.55 as well on a linear pie
    x, _ = kalai_smorodinsky_text(PIE, np.array([[0.2], [0.1]]), *box(1))
    assert abs(x[0, 0] - 0.55) < 1e-9


def test_kalai_smorodinsky_differs_from_nash_with_a_concave_responder():
    # u_a = x, u_b = sqrt(1 - x): KS solves x = sqrt(1 - x), x = (sqrt 5 - 1) / 2;
    # Nash maximises x sqrt(1 - x), x = 2 / 3.
    p = prefs([[1.0], [0.0]], [[1.0], [1.0]], power=[1.0, 0.5])
    ks, _ = kalai_smorodinsky_text(p, np.zeros((2, 1)), *box(1))
    nash, _ = nash_text(p, np.zeros((2, 1)), np.ones((2, 1)), *box(1))
    assert abs(ks[0, 0] - (5 ** 0.5 - 1) / 2) < 1e-7
    assert abs(nash[0, 0] - 2 / 3) < 1e-7


def test_kalai_smorodinsky_two_issues_concave():
    # symmetric two-issue problem with quadratic utilities: KS is the symmetric point
    p = prefs([[1.0, 1.0], [0.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]], quad=[True, True])
    ks, ok = kalai_smorodinsky_text(p, np.zeros((2, 1)), *box(2))
    u = utilities(ks, p)
    assert ok[0] and abs(u[0, 0] - u[1, 0]) < 1e-7


def test_weighted_median_and_mean():
    v = np.array([[4.0], [7.0], [10.0]])
    w = np.array([[2480.0], [930.0], [3360.0]])
    assert weighted_median(v, w)[0] == 7.0
    assert abs(weighted_mean(v, w)[0] - 50030 / 6770) < 1e-12


def test_rubinstein_closed_form_and_stahl_limit():
    assert abs(rubinstein_share(0.9, 0.9) - 1 / 1.9) < 1e-15
    assert rubinstein_share(1.0, 1.0) == 0.5
    assert abs(stahl_share(0.9, 0.8, 500) - rubinstein_share(0.9, 0.8)) < 1e-12
    assert stahl_share(0.9, 0.8, 1) == 1.0 and abs(stahl_share(0.9, 0.8, 2) - 0.2) < 1e-15


# -- the proposer's problem: the exact and the general methods agree -------------------------

unit = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(K=st.integers(2, 4), data=st.data())
def test_linear_knapsack_matches_frontier_bisection(K, data):
    pos = np.array([[data.draw(unit) for _ in range(K)] for _ in range(2)])
    sal = np.array([[data.draw(st.floats(0.01, 1.0)) for _ in range(K)] for _ in range(2)])
    sal /= sal.sum(axis=1, keepdims=True)
    p = prefs(pos, sal)
    lo = np.array([[data.draw(st.floats(0.0, 0.4))] for _ in range(K)])
    hi = np.maximum(lo, np.array([[data.draw(st.floats(0.6, 1.0))] for _ in range(K)]))
    floor = np.array([[0.0], [data.draw(st.floats(0.0, 1.0))]])
    x1, f1 = _proposer_two_linear(p, 0, floor[1], lo, hi)
    x2, f2 = _proposer_two_frontier(p, 0, floor[1], lo, hi)
    assert f1[0] == f2[0]
    if f1[0]:
        u1, u2 = utilities(x1, p), utilities(x2, p)
        assert u1[1, 0] >= floor[1, 0] - 1e-9 and u2[1, 0] >= floor[1, 0] - 1e-9
        assert abs(u1[0, 0] - u2[0, 0]) < 1e-7
        assert np.all(x1 >= lo - 1e-12) and np.all(x1 <= hi + 1e-12)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_one_issue_exact_method_beats_a_fine_grid(data):
    P = data.draw(st.integers(2, 4))
    pos = np.array([[data.draw(unit)] for _ in range(P)])
    power = [data.draw(st.sampled_from([0.5, 1.0, 2.0])) for _ in range(P)]
    quad = np.array([data.draw(st.booleans()) for _ in range(P)])
    p = prefs(pos, np.ones((P, 1)), power=power, quad=quad)
    floor = np.array([[data.draw(st.floats(0.0, 1.0))] for _ in range(P)])
    x, ok = proposer_text(p, 0, floor, *box(1))
    grid = np.linspace(0, 1, 20001)[None]
    pg = Preferences(*(np.repeat(a, grid.shape[1], axis=-1) for a in (p.position, p.salience, p.power)),
                     p.quadratic)
    ug = utilities(grid, pg)
    feasible = (ug[1:] >= floor[1:]).all(axis=0)
    if feasible.any():
        assert ok[0]
        u = utilities(x, p)
        assert (u[1:, 0] >= floor[1:, 0] - 1e-9).all()
        assert u[0, 0] >= ug[0][feasible].max() - 1e-9
    elif ok[0]:  # a feasible set thinner than the grid step
        u = utilities(x, p)
        assert (u[1:, 0] >= floor[1:, 0] - 1e-9).all()


# -- the run summary --------------------------------------------------------------------------


def test_json_summary_reports_solutions(tmp_path):
    import json

    from typer.testing import CliRunner

    from negotiation_sim.cli import app

    f = tmp_path / "pie.yaml"
    f.write_text("""name: pie
issues: {pie: {}}
actors:
  a: {role: principal, position: {pie: 1.0}, reservation: 0.2, patience: 0.9}
  b: {role: principal, position: {pie: 0.0}, reservation: 0.1, patience: 0.9}
protocol: {kind: alternating_offers, rounds: 1, first_proposer: a}
""")
    res = CliRunner().invoke(app, ["run", str(f), "--runs", "3", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    for key in ("scenario", "runs", "seed", "outcomes", "formats", "terms", "rounds", "utilities"):
        assert key in out  # the contract's keys stay
    sol = out["solutions"]
    assert abs(sol["nash"]["pie"] - 0.55) < 1e-9
    assert abs(sol["kalai_smorodinsky"]["pie"] - 0.55) < 1e-6
    assert sol["weighted_mean"]["pie"] == 0.5 and sol["weighted_median"]["pie"] == 0.5
    # the ultimatum gives a 0.9: 0.35 from the Nash text
    assert abs(sol["distance_to_nash"] - 0.35) < 1e-9
