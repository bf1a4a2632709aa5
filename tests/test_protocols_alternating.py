"""Alternating offers against bargaining theory: Rubinstein, Stahl, ultimatum games, trades.

Every expected value here is derived in the test itself (by hand or by a recursion written
independently of the engine's solver), never read back from the engine.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from negotiation_sim.core.preferences import utilities
from negotiation_sim.core.solvers.solutions import rubinstein_share, stahl_share
from tests.protocol_helpers import close, outcome, pie, principal, run, scenario

# -- Rubinstein (infinite horizon as the limit of long finite ones) ---------------------------


def test_rubinstein_equal_patience_first_proposer_gets_one_over_one_plus_delta():
    m = run(pie(0.9, 0.9, rounds=200))
    assert outcome(m) == "agreement" and m.end_round[0] == 1
    assert abs(m.terms[0, 0] - 1 / (1 + 0.9)) < 1e-6
    assert abs(m.utility[0, 0] - 1 / 1.9) < 1e-6 and abs(m.utility[1, 0] - 0.9 / 1.9) < 1e-6


@pytest.mark.parametrize("d1,d2", [(0.95, 0.8), (0.6, 0.9), (0.99, 0.99)])
def test_rubinstein_unequal_patience(d1, d2):
    # first proposer's share (1 - d2) / (1 - d1 d2): Rubinstein (1982), Osborne & Rubinstein (1990) 3.4
    expected = (1 - d2) / (1 - d1 * d2)
    m = run(pie(d1, d2, rounds=4000 if d1 == 0.99 else 400))
    assert abs(m.terms[0, 0] - expected) < 1e-6
    assert abs(float(rubinstein_share(d1, d2)) - expected) < 1e-12


def test_second_proposer_is_the_mirror_image():
    m = run(pie(0.9, 0.7, rounds=300, first="b"))
    b_share = (1 - 0.9) / (1 - 0.9 * 0.7)
    assert abs((1 - m.terms[0, 0]) - b_share) < 1e-6


# -- Stahl: finite horizons match backward induction exactly ---------------------------------


def stahl_table(d_a: float, d_b: float, T: int, first: str = "a") -> float:
    """a's share of the pie agreed in round 1 when round T is the last (independent recursion).

    Walk forward through the proposers, then backward: the round-T proposer takes everything
    (the responder's no-deal value is 0 and ties accept); in an earlier round the proposer
    leaves the responder exactly what the responder gets by proposing next round, discounted
    by its own patience.
    """
    proposers = [("a", "b")[(t + (first == "b")) % 2] for t in range(T)]
    a_share = 1.0 if proposers[-1] == "a" else 0.0
    for t in range(T - 2, -1, -1):
        if proposers[t] == "a":  # b must get d_b x its share next round
            a_share = 1.0 - d_b * (1.0 - a_share)
        else:  # a must get d_a x its share next round
            a_share = d_a * a_share
    return a_share


@pytest.mark.parametrize("T", [1, 2, 3, 4, 5, 8, 13])
@pytest.mark.parametrize("d_a,d_b", [(0.9, 0.9), (0.8, 0.5), (1.0, 0.6), (0.5, 1.0)])
@pytest.mark.parametrize("first", ["a", "b"])
def test_stahl_finite_horizon_table(T, d_a, d_b, first):
    expected = stahl_table(d_a, d_b, T, first)
    m = run(pie(d_a, d_b, rounds=T, first=first))
    assert outcome(m) == "agreement" and m.end_round[0] == 1
    assert abs(m.terms[0, 0] - expected) < 1e-9
    if first == "a":
        assert abs(stahl_share(d_a, d_b, T) - expected) < 1e-12


def test_stahl_hand_values():
    # written out: T = 1 ultimatum 1; T = 2: 1 - 0.9; T = 3: 1 - 0.9 (1 - 0.9)
    assert stahl_table(0.9, 0.9, 1) == 1.0
    assert abs(stahl_table(0.9, 0.9, 2) - 0.1) < 1e-15
    assert abs(stahl_table(0.9, 0.9, 3) - 0.91) < 1e-15


# -- reservations, deadlines, no deal ------------------------------------------------------


def test_ultimatum_with_reservations_leaves_the_responder_exactly_its_reservation():
    m = run(pie(0.9, 0.9, rounds=1, ra=0.2, rb=0.1))
    assert abs(m.terms[0, 0] - 0.9) < 1e-12  # b accepts 0.1 (ties accept)
    assert abs(m.utility[1, 0] - 0.1) < 1e-12


def test_two_rounds_with_reservations():
    # Values are per round: the war pays 0.2 (a) and 0.1 (b) in every round without a deal,
    # a deal pays its share from its round on, both discounted by 0.9. Round 2 (b proposes, the
    # last): rejecting is worth a's war for ever, 0.2, so b offers a 0.2 and keeps 0.8. Round 1
    # (a proposes): b's rejecting is worth 0.1 now and 0.8 from round 2,
    # (1 - 0.9) 0.1 + 0.9 0.8 = 0.73, so a keeps 0.27 (more than waiting, 0.2).
    m = run(pie(0.9, 0.9, rounds=2, ra=0.2, rb=0.1))
    assert abs(m.terms[0, 0] - 0.27) < 1e-12 and m.end_round[0] == 1


def test_no_zone_of_agreement_breaks_down_at_the_deadline():
    m = run(pie(0.9, 0.9, rounds=3, ra=0.6, rb=0.6))
    assert outcome(m) == "breakdown" and m.end_round[0] == 3
    assert close(m.utility[:, 0], [0.6, 0.6], 1e-12)


def test_proposer_prefers_waiting_for_its_ideal_when_patient_and_deadline_is_its_turn():
    # b is perfectly patient and proposes last (round 2); a is impatient. In round 1, a would
    # have to give b everything (b gets 1 by waiting), which a accepts too: agreement at 0.
    m = run(pie(0.5, 1.0, rounds=2))
    assert abs(m.terms[0, 0] - 0.0) < 1e-12


# -- red lines and caps -------------------------------------------------------------------


def test_red_line_binds_every_offer():
    sc = scenario({"a": principal({"pie": 1.0}, patience=0.9),
                   "b": principal({"pie": 0.0}, patience=0.9, red_lines=["pie <= 0.3"])},
                  kind="alternating_offers", rounds=50, first_proposer="a")
    m = run(sc)
    assert outcome(m) == "agreement" and m.terms[0, 0] <= 0.3 + 1e-12
    # a's best text under the red line is 0.3 whenever b's continuation allows it
    assert abs(m.terms[0, 0] - 0.3) < 1e-12


def test_guarantor_cap_binds_the_guarantees_issue():
    sc = scenario({"a": principal({"g": 1.0}, patience=0.9),
                   "b": principal({"g": 0.0}, patience=0.9),
                   "eu": {"role": "guarantor", "offer": {"g": 0.4}}},
                  issues=("g",), kind="alternating_offers", rounds=20, first_proposer="a")
    m = run(sc)
    assert m.terms[0, 0] <= 0.4 + 1e-12


# -- concave utilities --------------------------------------------------------------------


def power_table(p_a, p_b, d_a, d_b, T):
    """One-issue pie, utilities x^p_a and (1 - x)^p_b (power utility around ideals 1 and 0).

    Backward induction by inverting the utility of the responder in closed form.
    """
    x = 1.0 if T % 2 == 1 else 0.0  # round-T proposer takes all (a proposes odd rounds)
    for t in range(T - 1, 0, -1):
        if t % 2 == 1:  # a proposes, b needs (1 - x)^p_b >= d_b (1 - x_next)^p_b
            x = 1.0 - d_b ** (1 / p_b) * (1.0 - x)
        else:  # b proposes, a needs x^p_a >= d_a x_next^p_a
            x = d_a ** (1 / p_a) * x
    return x


@pytest.mark.parametrize("p_a,p_b", [(0.5, 0.5), (1.0, 0.3), (0.7, 1.0)])
@pytest.mark.parametrize("T", [1, 2, 3, 6])
def test_power_utilities_follow_backward_induction(p_a, p_b, T):
    sc = scenario({"a": principal({"pie": 1.0}, patience=0.9, utility={"power": p_a}),
                   "b": principal({"pie": 0.0}, patience=0.8, utility={"power": p_b})},
                  kind="alternating_offers", rounds=T, first_proposer="a")
    m = run(sc)
    assert abs(m.terms[0, 0] - power_table(p_a, p_b, 0.9, 0.8, T)) < 1e-9


def test_quadratic_ultimatum():
    # b needs 1 - x^2 >= 0.64, i.e. x <= 0.6
    sc = scenario({"a": principal({"pie": 1.0}, utility="quadratic"),
                   "b": principal({"pie": 0.0}, utility="quadratic", reservation=0.64)},
                  kind="alternating_offers", rounds=1, first_proposer="a")
    assert abs(run(sc).terms[0, 0] - 0.6) < 1e-9


# -- multi-issue trades -------------------------------------------------------------------


def two_issue(a_sal, b_sal, rb, utility="linear", rounds=1):
    return scenario({"a": principal({"x": 1.0, "y": 1.0}, salience=dict(zip("xy", a_sal)),
                                    utility=utility),
                     "b": principal({"x": 0.0, "y": 0.0}, salience=dict(zip("xy", b_sal)),
                                    reservation=rb, utility=utility)},
                    issues=("x", "y"), kind="alternating_offers", rounds=rounds,
                    first_proposer="a")


def test_proposer_trades_the_issue_the_responder_cares_less_about():
    # a values (x, y) as (0.7, 0.3), b as (0.2, 0.8); b must keep 0.5. Giving a the whole of x
    # costs b 0.2 (a gains 0.7): done first. b has 0.8 left; 0.3 more may go: y = 0.3/0.8.
    m = run(two_issue((0.7, 0.3), (0.2, 0.8), 0.5))
    assert close(m.terms[:, 0], [1.0, 0.375], 1e-12)
    assert abs(m.utility[1, 0] - 0.5) < 1e-12


def grid_best(sc_prefs, proposer, floors, steps=401):
    """Brute force over a grid of two-issue texts: the proposer's best under the floors."""
    g = np.linspace(0, 1, steps)
    X, Y = np.meshgrid(g, g, indexing="ij")
    x = np.stack([X.ravel(), Y.ravel()])
    from negotiation_sim.core.preferences import Preferences

    prefs = Preferences(*(np.repeat(a[..., :1], x.shape[1], axis=-1)
                          for a in (sc_prefs.position, sc_prefs.salience, sc_prefs.power)),
                        sc_prefs.quadratic)
    u = utilities(x, prefs)
    ok = np.ones(x.shape[1], bool)
    for j, f in floors.items():
        ok &= u[j] >= f
    return u[proposer][ok].max()


def test_concave_multi_issue_trade_matches_brute_force():
    sc = two_issue((0.7, 0.3), (0.2, 0.8), 0.5, utility="quadratic")
    m = run(sc)
    from negotiation_sim.core.worlds import sample_worlds

    prefs = sample_worlds(sc, 1).prefs
    best = grid_best(prefs, 0, {1: 0.5})
    assert m.utility[1, 0] >= 0.5 - 1e-9
    assert m.utility[0, 0] >= best - 1e-9  # at least as good as any grid point


# -- more than two principals -------------------------------------------------------------


def three(rounds, reservation=(0.0, 0.0, 0.0), patience=0.9, issues=("pie",),
          pos=(1.0, 0.5, 0.0)):
    return scenario({n: principal({k: p for k in issues}, reservation=r, patience=patience)
                     for n, p, r in zip("abc", pos, reservation)},
                    issues=issues, kind="alternating_offers", rounds=rounds, order=["a", "b", "c"])


def test_three_principals_unanimity_one_round():
    # b (at 0.5) accepts x in [0.1, 0.9]; c (at 0) accepts x <= 0.4: a proposes 0.4
    m = run(three(1, reservation=(0.0, 0.6, 0.6)))
    assert abs(m.terms[0, 0] - 0.4) < 1e-12


def test_three_principals_proposer_with_a_better_outside_option_lets_talks_fail():
    # a could get at most 0.4 but its reservation is 0.6: it prefers no deal
    m = run(three(1, reservation=(0.6, 0.6, 0.6)))
    assert outcome(m) == "breakdown"


def test_three_principals_rotating_proposers_backward_induction():
    # T = 3 (a, b, c propose in turn); everyone's reservation 0, patience 0.9.
    # Round 3: c proposes 0 (its ideal); values: a 0, b 0.5, c 1 (undiscounted).
    # Round 2: b proposes; a needs u_a >= 0.9 * 0 -> anything; c needs 1 - x >= 0.9 -> x <= 0.1.
    #   b's best in [0, 0.1] is 0.1. Values in round-2 terms: a 0.1, b 0.6, c 0.9.
    # Round 1: a proposes; b needs 1 - |x - 0.5| >= 0.9 * 0.6 -> x in [0.04, 0.96];
    #   c needs 1 - x >= 0.9 * 0.9 -> x <= 0.19. a takes 0.19.
    m = run(three(3))
    assert abs(m.terms[0, 0] - 0.19) < 1e-12 and m.end_round[0] == 1


def test_three_principals_two_issues_is_feasible_and_near_optimal():
    sc = scenario({"a": principal({"x": 1.0, "y": 1.0}, salience={"x": 0.6, "y": 0.4}),
                   "b": principal({"x": 0.0, "y": 0.5}, salience={"x": 0.3, "y": 0.7},
                                  reservation=0.6),
                   "c": principal({"x": 0.2, "y": 0.0}, salience={"x": 0.5, "y": 0.5},
                                  reservation=0.55)},
                  issues=("x", "y"), kind="alternating_offers", rounds=1, order=["a", "b", "c"])
    m = run(sc)
    assert outcome(m) == "agreement"
    assert m.utility[1, 0] >= 0.6 - 1e-9 and m.utility[2, 0] >= 0.55 - 1e-9
    from negotiation_sim.core.worlds import sample_worlds

    best = grid_best(sample_worlds(sc, 1).prefs, 0, {1: 0.6, 2: 0.55}, steps=801)
    assert m.utility[0, 0] >= best - 2e-3  # documented precision of the general method


# -- ensembles ------------------------------------------------------------------------------


def test_vectorised_worlds_match_one_by_one():
    sc = scenario({"a": principal({"x": 1.0, "y": 0.8},
                                  patience={"dist": "uniform", "low": 0.6, "high": 0.99},
                                  reservation={"dist": "uniform", "low": 0.0, "high": 0.3}),
                   "b": principal({"x": 0.0, "y": 0.1},
                                  salience={"x": {"dist": "uniform", "low": 0.1, "high": 1}, "y": 1},
                                  patience={"dist": "uniform", "low": 0.6, "high": 0.99},
                                  reservation={"dist": "uniform", "low": 0.0, "high": 0.3})},
                  issues=("x", "y"), kind="alternating_offers", rounds=6)
    from negotiation_sim.core.model import SummitModel

    many = SummitModel(sc, 40, seed=3).run()
    single = SummitModel(sc, 40, seed=3)
    for w in itertools.islice(range(40), 0, 40, 7):
        # the same worlds simulated alone (N = 1 slice of the same draws) agree
        one = SummitModel(sc, w + 1, seed=3).run()
        assert one.outcome[w] == many.outcome[w]
        assert close(one.terms[:, w], many.terms[:, w], 1e-12)
    assert single.params.n == 40


def test_plan_with_pressure_starts_at_round_one():
    # a mediator present presses b; the plan is remade in round 1 with that pressure and must
    # still count rounds from 1 (regression: it once started the horizon at round 2)
    sc = scenario({"a": principal({"pie": 1.0}, patience=0.9),
                   "b": principal({"pie": 0.0}, patience=0.9),
                   "m": {"role": "mediator", "pressure": {"b": 0.0001}}},
                  kind="alternating_offers", rounds=2, first_proposer="a")
    m = run(sc)
    # round 2: b takes all (a's reservation 0); round 1: a leaves b 0.9: a gets 0.1
    assert m.end_round[0] == 1 and abs(m.terms[0, 0] - 0.1) < 1e-12
