"""Expected-utility dynamics (Bueno de Mesquita) against a published data set, known answers
derived by hand from the equations of Scholz, Calbert & Smith (2011), and a scalar
re-implementation of one round written actor by actor, independently of the vectorised engine."""

from __future__ import annotations

import numpy as np
import pytest

from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.protocols.expected_utility import (
    _distinct_columns,
    _midpoint_splits,
    eu_round,
    forecast,
    position_span,
    win_probabilities,
)
from tests.protocol_helpers import outcome, principal, run, scenario

# Bueno de Mesquita (1994, "Political forecasting: an expected utility method", in Bueno de
# Mesquita & Stokman (eds.), European Community Decision Making, Yale UP), reproduced as Table 1
# of Scholz, Calbert & Smith (2011, "Unravelling Bueno de Mesquita's group decision model",
# J. Theoretical Politics 23(4)): the year by which emission standards for medium-sized cars
# apply. (capability, position in years, salience in %)
EC_EMISSIONS = {
    "netherlands": (8, 4, 80), "belgium": (8, 7, 40), "luxembourg": (3, 4, 20),
    "germany": (16, 4, 80), "france": (16, 10, 60), "italy": (16, 10, 60),
    "uk": (16, 10, 90), "ireland": (5, 7, 10), "denmark": (5, 4, 100), "greece": (8, 7, 70),
}


def ec_scenario(rounds: int, reservation: float = 0.0):
    # years 4..10 mapped onto [0, 1]
    actors = {a: principal({"year": (y - 4) / 6}, clout=c, salience={"year": s / 100},
                           reservation=reservation)
              for a, (c, y, s) in EC_EMISSIONS.items()}
    return scenario(actors, issues=("year",), kind="expected_utility", rounds=rounds)


def ec_arrays():
    c, y, s = (np.array(v, float) for v in zip(*EC_EMISSIONS.values()))
    x = ((y - 4) / 6)[:, None, None]
    return x, (c * s / 100)[:, None, None], (s / 100)[:, None, None]


def condorcet_winner(data) -> float:
    """The position that beats every other in the weighted pairwise votes (enumerated)."""
    positions = sorted({y for _, y, _ in data.values()})
    for a in positions:
        if all(sum(c * s * (abs(y - b) - abs(y - a)) for c, y, s in data.values()) >= 0
               for b in positions if b != a):
            return a
    raise AssertionError("no Condorcet winner")


# -- published example -------------------------------------------------------------------------


def test_rounds_zero_returns_the_weighted_median_of_the_published_example():
    assert condorcet_winner(EC_EMISSIONS) == 7
    m = run(ec_scenario(0))  # reservations 0: every principal accepts the forecast
    assert outcome(m) == "agreement" and m.end_round[0] == 1
    assert abs(4 + 6 * m.terms[0, 0] - 7) < 1e-12


def test_published_example_agrees_on_the_first_forecast_every_side_accepts():
    """With values of war 0 every member accepts the first text, the forecast after round 1;
    with values of war above the forecast's worth to each (0.99) none does and the talks end at
    the deadline, after exactly ``rounds`` rounds."""
    m = run(ec_scenario(10))
    x, w, s = ec_arrays()
    first, _ = eu_round(x, w, s, np.full(10, np.nan), span=position_span(x, w > 0))
    assert outcome(m) == "agreement" and m.end_round[0] == 1
    assert m.terms[0, 0] == pytest.approx(forecast(first, w)[0, 0], abs=1e-12)
    stuck = run(ec_scenario(10, reservation=0.99))
    assert outcome(stuck) == "breakdown" and stuck.end_round[0] == 10


def test_published_example_path_matches_the_scalar_reading_for_ten_rounds():
    x, w, s = ec_arrays()
    span = position_span(x, w > 0)
    xs = list(x[:, 0, 0])
    for _ in range(10):
        x, _ = eu_round(x, w, s, np.full(10, np.nan), span=span)
        xs = scalar_round(xs, list(w[:, 0, 0] / s[:, 0, 0]), list(s[:, 0, 0]), span[0, 0])
        assert np.allclose(x[:, 0, 0], xs, atol=1e-12)
        assert ((0.0 <= x) & (x <= 1.0)).all()


# -- known answers from the equations ----------------------------------------------------------


def two_actors(ca, sa, cb, sb):
    """a at 0, b at 1 (span 1) with risk exponents fixed at 1: for two actors eq. 30 gives
    ``P_ab = w_a / (w_a + w_b)`` (each votes its whole distance for itself) and, with Q = 1,
    ``EU_ab = 2 d (1 - 2 s_b (1 - P_ab))``."""
    x = np.array([0.0, 1.0])[:, None, None]
    c, s = np.array([ca, cb]), np.array([sa, sb])
    return x, (c * s)[:, None, None], s[:, None, None]


def test_two_actor_probabilities_and_capitulation():
    # w = (3, 1): P_ab = 3/4; EU_ab = 2 (1 - 2 * 1/4) = 1, EU_ba = 2 (1 - 2 * 3/4) = -1:
    # b's |EU_ba| >= EU_ab, it capitulates to a's position; a is not challenged.
    x, w, s = two_actors(3, 1, 1, 1)
    P = win_probabilities(x, w)[..., 0, 0]
    assert np.allclose(P, [[0, 0.75], [0.25, 0]])
    new, r = eu_round(x, w, s, np.ones(2))
    assert np.allclose(new[:, 0, 0], [0.0, 0.0]) and np.allclose(r, 1.0)


def test_two_actor_compromise_moves_the_ratio_of_the_expected_utilities():
    # w = (1.5, 1), s = (1, 1/2): P_ab = 0.6, EU_ab = 2 (1 - 2 * 0.5 * 0.4) = 1.2,
    # EU_ba = 2 (1 - 2 * 1 * 0.6) = -0.4: compromise, b moves 0.4 / 1.2 = 1/3 of the way (eq. 35).
    x, w, s = two_actors(1.5, 1.0, 2.0, 0.5)
    new, _ = eu_round(x, w, s, np.ones(2))
    assert np.allclose(new[:, 0, 0], [0.0, 1.0 - 1.0 / 3.0])


def test_a_conflict_is_won_by_the_favourite_not_by_the_larger_expected_utility():
    """c = (12, 1), s = (0.1, 0.4): w = (1.2, 0.4), P_ab = 3/4, EU_ab = 2 (1 - 2 * 0.4 * 1/4) =
    1.6 and EU_ba = 2 (1 - 2 * 0.1 * 3/4) = 1.7. Both expect to gain: a conflict, which b, the
    side that expects more from it, loses with probability 3/4. b moves to a; comparing the
    expected utilities instead would have moved a to b."""
    x, w, s = two_actors(12, 0.1, 1, 0.4)
    new, _ = eu_round(x, w, s, np.ones(2))
    assert np.allclose(new[:, 0, 0], [0.0, 0.0])
    sc = scenario({"a": principal({"pie": 0.0}, clout=12, salience={"pie": 0.1}),
                   "b": principal({"pie": 1.0}, clout=1, salience={"pie": 0.4})},
                  kind="expected_utility", rounds=1, risk_exponents={"a": 1, "b": 1})
    m = run(sc)
    assert outcome(m) == "agreement" and m.terms[0, 0] == 0.0


def test_an_even_conflict_moves_no_one():
    # w = (1, 1), s = (0.2, 0.2): P = 1/2 each way, EU = 2 (1 - 2 * 0.2 * 0.5) = 1.6 > 0 both.
    x, w, s = two_actors(1, 0.2, 1, 0.2)
    new, _ = eu_round(x, w, s, np.ones(2))
    assert np.allclose(new[:, 0, 0], [0.0, 1.0])


def test_the_forecast_is_the_median_moved_into_the_box_of_red_lines():
    """a (clout 3) at 1 and b at 0 with the red line pie <= 0.4: the Condorcet winner among the
    texts b's red line allows is the allowed text nearest the median, 0.4, and both accept it."""
    sc = scenario({"a": principal({"pie": 1.0}, clout=3),
                   "b": principal({"pie": 0.0}, red_lines=["pie <= 0.4"])},
                  kind="expected_utility", rounds=0)
    m = run(sc)
    assert outcome(m) == "agreement" and m.terms[0, 0] == pytest.approx(0.4)


def test_forecast_below_a_value_of_war_breaks_down_and_above_agrees():
    for rb, expected in ((0.5, "breakdown"), (0.0, "agreement")):
        sc = scenario({"a": principal({"pie": 1.0}, clout=3),
                       "b": principal({"pie": 0.0}, reservation=rb)},
                      kind="expected_utility", rounds=0)
        assert outcome(run(sc)) == expected


def mediated_pie(rb: float, rounds: int = 1):
    """a at 0 and b at 1 (principals), m at 0.5 (a mediator), clout 1 each, r fixed at 1.
    Eq. 30: P_mb = (0.5 + 0.5) / (0.5 + 0.5 + 0.5) = 2/3, so EU_mb = 2 * 0.5 (1 - 2/3) = 1/3 and
    EU_bm = 2 * 0.5 (1 - 4/3) = -1/3: b capitulates to 0.5, and a likewise (by symmetry)."""
    return scenario({"a": principal({"pie": 0.0}),
                     "b": principal({"pie": 1.0}, reservation=rb),
                     "m": {"role": "mediator", "position": {"pie": 0.5}}},
                    kind="expected_utility", rounds=rounds,
                    risk_exponents={"a": 1, "b": 1, "m": 1})


def test_a_principal_never_states_a_position_worth_less_than_its_value_of_war():
    """With a value of war of 0.7, b's capitulation to 0.5 (worth 0.5 to it) is cut back to the
    position worth exactly 0.7, 1 - 0.3; with 0 it capitulates all the way."""
    free = SummitModel(mediated_pie(0.0), 1)
    held = SummitModel(mediated_pie(0.7), 1)
    free.protocol.opening_text(), held.protocol.opening_text()  # the first round of dynamics
    assert free.state.positions[:, 0, 0] == pytest.approx([0.5, 0.5, 0.5])
    assert held.state.positions[:, 0, 0] == pytest.approx([0.5, 0.7, 0.5], abs=1e-6)
    # the text (the median, 0.5) is worth 0.5 to b: it refuses until the deadline
    assert outcome(held.run()) == "breakdown" and outcome(free.run()) == "agreement"


def test_a_principal_never_moves_beyond_its_own_red_line():
    sc = scenario({"a": principal({"pie": 0.0}),
                   "b": principal({"pie": 1.0}, red_lines=["pie >= 0.6"]),
                   "m": {"role": "mediator", "position": {"pie": 0.5}}},
                  kind="expected_utility", rounds=1, risk_exponents={"a": 1, "b": 1, "m": 1})
    m = SummitModel(sc, 1)
    assert m.protocol.opening_text()[0, 0] == pytest.approx(0.6)  # the median, into the box
    assert m.state.positions[:, 0, 0] == pytest.approx([0.5, 0.6, 0.5])


def test_actors_without_a_stake_in_an_issue_neither_challenge_nor_move():
    x, w, s = two_actors(3, 1, 1, 1)
    w, s = w.copy(), s.copy()
    w[1] = s[1] = 0.0
    new, _ = eu_round(x, w, s, np.ones(2))
    assert np.allclose(new[:, 0, 0], [0.0, 1.0])


def state_bytes(m) -> int:
    return sum(v.nbytes for v in vars(m.state).values() if isinstance(v, np.ndarray))


def test_the_state_does_not_grow_with_the_number_of_rounds():
    """Only the current positions are kept: after 100 rounds in which no side accepts (values
    of war 0.99) the state is as large as after one, and the talks end at the deadline."""
    m = SummitModel(ec_scenario(150, reservation=0.99), 3)
    m.step()
    first = state_bytes(m)
    for _ in range(99):
        m.step()
    assert state_bytes(m) == first and m.protocol.done == 100
    m.run()
    assert (m.end_round == 150).all() and (m.outcome == m.outcome[0]).all()


# -- the scalar reading ------------------------------------------------------------------------


def scalar_round(x, c, s, span, q=1.0, t=1.0, fixed=None, lo=0.0, hi=1.0):
    """One round by the formulas of Scholz et al. (2011), actor by actor, no arrays, with the
    readings of docs/protocols.md (span fixed by the caller, conflicts won by P_ij > 1/2, the
    least move taken, then the largest EU_ij, then the lower position)."""
    n = len(x)
    w = [c[k] * s[k] for k in range(n)]
    stake = [w[k] > 0 for k in range(n)]

    def median(xs):
        order = sorted(range(n), key=lambda i: xs[i])
        total, cum = sum(w), 0.0
        for i in order:
            cum += w[i]
            if cum >= total / 2 - 1e-12 * max(total, 1):
                return xs[i]

    mu = min(max(median(x), lo), hi)

    def prob(i, j):
        votes = [w[k] * (abs(x[k] - x[j]) - abs(x[k] - x[i])) for k in range(n)]
        tot = sum(abs(v) for v in votes)
        return sum(v for v in votes if v > 0) / tot if tot > 0 else 0.0

    def contest(i, j):
        return i != j and stake[i] and stake[j] and abs(x[i] - x[j]) / span > 1e-12

    def eu(i, j, r):
        if not contest(i, j):
            return 0.0
        d, dm = abs(x[i] - x[j]) / span, abs(x[i] - mu) / span
        U = lambda z: 2 - 4 * max(z, 0.0) ** r[i]  # noqa: E731
        us, uf = U(0.5 - 0.5 * d), U(0.5 + 0.5 * d)
        ub, uw, usq = U(0.5 - 0.25 * (dm + d)), U(0.5 + 0.25 * (dm + d)), U(0.5)
        p = prob(i, j)
        return (s[j] * (p * us + (1 - p) * uf) + (1 - s[j]) * us
                - q * usq - (1 - q) * (t * ub + (1 - t) * uw))

    ones = [1.0] * n
    S = [sum(eu(j, i, ones) for j in range(n)) for i in range(n)]
    held = [S[i] for i in range(n) if stake[i]]
    top, bottom = (max(held), min(held)) if held else (0.0, 0.0)
    R = [(2 * S[i] - top - bottom) / (top - bottom) if top - bottom > 1e-12 else 0.0
         for i in range(n)]
    r = [(1 - R[i] / 3) / (1 + R[i] / 3) for i in range(n)]
    if fixed is not None:
        r = [r[i] if np.isnan(fixed[i]) else fixed[i] for i in range(n)]
    E = [[eu(i, j, r) for j in range(n)] for i in range(n)]
    new = list(x)
    for j in range(n):
        options = []
        for i in range(n):
            if E[i][j] <= 1e-12:  # zero up to rounding: indifference
                continue
            back = E[j][i]
            if back > 1e-12:
                f = 1.0 if prob(i, j) > 0.5 + 1e-9 else 0.0
            elif back < -1e-12:
                f = min(-back / E[i][j], 1.0)
            else:
                f = 0.0
            if f > 0:
                key = f * abs(x[i] - x[j]) / span - 1e-12 * E[i][j]
                options.append((key, x[i], x[j] + f * (x[i] - x[j])))
        if options:
            new[j] = min(options)[2]
    return new


@pytest.mark.parametrize("seed", range(8))
def test_one_round_matches_the_scalar_reading(seed):
    rng = np.random.default_rng(seed)
    n = 6
    x = list(rng.choice(np.linspace(0, 1, 11), n))
    c = list(rng.uniform(1, 10, n))
    s = list(rng.uniform(0.1, 1, n))
    q, t = (1.0, 1.0) if seed < 4 else (0.5, float(rng.uniform()))
    fixed = np.where(rng.uniform(size=n) < 0.3, rng.uniform(0.5, 2.0, n), np.nan)
    span = max(x) - min(x) or 1.0
    expected = scalar_round(x, c, s, span, q, t, fixed)
    X = np.array(x)[:, None, None]
    W = (np.array(c) * np.array(s))[:, None, None]
    got, _ = eu_round(X, W, np.array(s)[:, None, None], fixed, q, t,
                      span=np.full((1, 1), span))
    assert np.allclose(got[:, 0, 0], expected, atol=1e-12)


def test_midpoint_splits_and_win_probabilities_match_brute_force():
    rng = np.random.default_rng(3)
    for A in (2, 3, 7, 16):
        x = np.sort(rng.choice(np.linspace(0, 1, 9), (A, 40)), axis=0)
        w = rng.uniform(0.1, 1, (A, 40))
        for g, split in enumerate(_midpoint_splits(x), start=1):
            for a in range(A - g):
                m = 0.5 * (x[a] + x[a + g])
                assert (split[a] == a + 1 + (x[a + 1:a + g] < m).sum(axis=0)).all()
        P = win_probabilities(x[:, None], w[:, None])[:, :, 0]
        for i in range(A):
            for j in range(A):
                v = w * (np.abs(x - x[j]) - np.abs(x - x[i]))
                tot = np.abs(v).sum(axis=0)
                ref = np.where(tot > 0, np.clip(v, 0, None).sum(axis=0) / np.where(tot > 0, tot, 1),
                               0.0)
                assert np.allclose(np.where(x[i] == x[j], 0.0, ref), P[i, j], atol=1e-12)


def test_equal_columns_are_computed_once_and_give_what_each_gives_alone():
    rng = np.random.default_rng(5)
    A, n = 7, 40
    base = rng.choice(np.linspace(0, 1, 5), (A, 2, 4))
    pick = rng.integers(0, 4, n)  # 40 worlds drawn from 4 distinct ones
    x = base[..., pick]
    w = rng.uniform(0.5, 2, (A, 2, 4))[..., pick]
    s = rng.uniform(0.2, 1, (A, 2, 4))[..., pick]
    new, r = eu_round(x, w, s, np.full(A, np.nan), 0.6, 0.3)
    for k in range(n):
        alone, ra = eu_round(x[..., k:k + 1], w[..., k:k + 1], s[..., k:k + 1],
                             np.full(A, np.nan), 0.6, 0.3)
        assert np.array_equal(new[..., k:k + 1], alone) and np.array_equal(r[..., k:k + 1], ra)
    M = rng.integers(0, 3, (3, 50)).astype(float)
    for weights in (None, np.zeros(3)):  # zero weights: every column's key collides
        first, inverse = _distinct_columns([M[:2], M[2:]], weights)
        assert np.array_equal(M[:, first][:, inverse], M)
        assert len(first) == len(np.unique(M, axis=1).T) or weights is not None
