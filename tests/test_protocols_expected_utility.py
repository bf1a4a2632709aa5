"""Expected-utility dynamics (Bueno de Mesquita) against a published data set and a scalar
re-implementation of one round written from Scholz, Calbert & Smith (2011) independently of the
vectorised engine."""

from __future__ import annotations

import numpy as np
import pytest

from negotiation_sim.core.protocols.expected_utility import eu_round
from tests.protocol_helpers import outcome, principal, run, scenario

# Bueno de Mesquita (1994, "Political forecasting: an expected utility method", in Bueno de
# Mesquita & Stokman (eds.), European Community Decision Making, Yale UP, p. 78), reproduced as
# Table 1 of Scholz, Calbert & Smith (2011, "Unravelling Bueno de Mesquita's group decision
# model", J. Theoretical Politics 23(4)): the year by which emission standards for medium-sized
# cars apply. (capability, position in years, salience in %)
EC_EMISSIONS = {
    "netherlands": (8, 4, 80), "belgium": (8, 7, 40), "luxembourg": (3, 4, 20),
    "germany": (16, 4, 80), "france": (16, 10, 60), "italy": (16, 10, 60),
    "uk": (16, 10, 90), "ireland": (5, 7, 10), "denmark": (5, 4, 100), "greece": (8, 7, 70),
}


def ec_scenario(rounds: int):
    # years 4..10 mapped onto [0, 1]
    actors = {a: principal({"year": (y - 4) / 6}, clout=c, salience={"year": s / 100})
              for a, (c, y, s) in EC_EMISSIONS.items()}
    return scenario(actors, issues=("year",), kind="expected_utility", rounds=rounds)


def condorcet_winner(data) -> float:
    """The position that beats every other in the weighted pairwise votes (enumerated)."""
    positions = sorted({y for _, y, _ in data.values()})
    for a in positions:
        if all(sum(c * s * (abs(y - b) - abs(y - a)) for c, y, s in data.values()) >= 0
               for b in positions if b != a):
            return a
    raise AssertionError("no Condorcet winner")


def test_rounds_zero_returns_the_weighted_median_of_the_published_example():
    assert condorcet_winner(EC_EMISSIONS) == 7
    m = run(ec_scenario(0))  # reservations 0: every principal accepts the forecast
    assert outcome(m) == "agreement" and m.end_round[0] == 1
    assert abs(4 + 6 * m.terms[0, 0] - 7) < 1e-12


def scalar_round(x, c, s, q=1.0, t=1.0):
    """One round by the formulas of Scholz et al. (2011), actor by actor, no arrays."""
    n = len(x)
    span = max(x) - min(x)
    w = [c[k] * s[k] for k in range(n)]

    def median(xs):
        order = sorted(range(n), key=lambda i: xs[i])
        total, cum = sum(w), 0.0
        for i in order:
            cum += w[i]
            if cum >= total / 2 - 1e-12 * max(total, 1):
                return xs[i]

    mu = median(x)

    def prob(i, j):
        votes = [w[k] * (abs(x[k] - x[j]) - abs(x[k] - x[i])) / span for k in range(n)]
        tot = sum(abs(v) for v in votes)
        return sum(v for v in votes if v > 0) / tot if tot > 0 else 0.0

    def eu(i, j, r):
        if i == j or abs(x[i] - x[j]) <= 1e-12:
            return 0.0
        d, dm = abs(x[i] - x[j]) / span, abs(x[i] - mu) / span
        U = lambda z: 2 - 4 * max(z, 0.0) ** r[i]  # noqa: E731
        us, uf = U(0.5 - 0.5 * d), U(0.5 + 0.5 * d)
        ub, uw, usq = U(0.5 - 0.25 * (dm + d)), U(0.5 + 0.25 * (dm + d)), U(0.5)
        p = prob(i, j)
        return s[j] * (p * us + (1 - p) * uf) + (1 - s[j]) * us - q * usq - (1 - q) * (t * ub + (1 - t) * uw)

    ones = [1.0] * n
    S = [sum(eu(j, i, ones) for j in range(n)) for i in range(n)]
    hi, lo = max(S), min(S)
    R = [(2 * S[i] - hi - lo) / (hi - lo) if hi - lo > 1e-12 else 0.0 for i in range(n)]
    r = [(1 - R[i] / 3) / (1 + R[i] / 3) for i in range(n)]
    E = [[eu(i, j, r) for j in range(n)] for i in range(n)]
    new = list(x)
    for j in range(n):
        options = []
        for i in range(n):
            if E[i][j] <= 0:
                continue
            back = E[j][i]
            if 0 < back < E[i][j]:
                target = x[i]
            elif back < 0 and abs(back) < E[i][j]:
                target = x[j] + (x[i] - x[j]) * abs(back / E[i][j])
            elif back < 0 or back == 0:
                target = x[i]
            else:
                continue
            options.append((abs(target - x[j]), -E[i][j], target))
        if options:
            new[j] = min(options)[2]
    return new


@pytest.mark.parametrize("seed", range(6))
def test_one_round_matches_a_scalar_reading_of_the_paper(seed):
    rng = np.random.default_rng(seed)
    n = 5
    x = list(rng.choice(np.linspace(0, 1, 11), n))
    c = list(rng.uniform(1, 10, n))
    s = list(rng.uniform(0.1, 1, n))
    expected = scalar_round(x, c, s)
    X = np.array(x)[:, None, None]
    W = (np.array(c) * np.array(s))[:, None, None]
    got, _, _ = eu_round(X, W, np.array(s)[:, None, None], np.full(n, np.nan), 1.0, 1.0)
    assert np.allclose(got[:, 0, 0], expected, atol=1e-12)


def test_published_example_runs_ten_rounds_and_stays_in_range():
    m = run(ec_scenario(10))
    assert m.end_round[0] == 10
    if outcome(m) == "agreement":
        assert 0 <= m.terms[0, 0] <= 1


def test_forecast_outside_a_red_line_breaks_down():
    sc = scenario({"a": principal({"pie": 1.0}, clout=3),
                   "b": principal({"pie": 0.0}, red_lines=["pie <= 0.4"])},
                  kind="expected_utility", rounds=0)
    m = run(sc)
    assert outcome(m) == "breakdown"  # the forecast is a's position, beyond b's red line


def test_forecast_below_a_reservation_breaks_down_and_above_agrees():
    for rb, expected in ((0.5, "breakdown"), (0.0, "agreement")):
        sc = scenario({"a": principal({"pie": 1.0}, clout=3),
                       "b": principal({"pie": 0.0}, reservation=rb)},
                      kind="expected_utility", rounds=0)
        assert outcome(run(sc)) == expected
