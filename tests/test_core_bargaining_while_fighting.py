"""Model v2: bargaining while fighting. Known answers and invariants (docs/model.md).

War pays its value in every round without a deal and a deal pays from its round on, both
discounted alike (Powell 2004; Slantchev 2003), so with complete information a deal comes at
once whenever one exists; private information makes the mediator screen (Fudenberg & Tirole
1983), which delays and loses deals.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import ROOT, make_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import AGREEMENT, NO_SUMMIT, EndReason
from negotiation_sim.core.preferences import utilities
from negotiation_sim.run.chunks import iter_chunks

UNIFORM = {"dist": "uniform", "low": 0.0, "high": 1.0}


def pie(information="complete", rounds=1, ra=UNIFORM, rb=UNIFORM, **extra):
    data = {"name": "pie", "issues": {"share": {"low": "all to b", "high": "all to a"}},
            "actors": {"a": {"role": "principal", "position": {"share": 1.0}, "reservation": ra},
                       "b": {"role": "principal", "position": {"share": 0.0}, "reservation": rb}},
            "protocol": {"kind": "mediated", "rounds": rounds, "information": information}}
    for key, value in extra.items():
        data[key] = value
    return data


def outcomes(sc, runs=100_000, seed=1, chunk_size=16_384):
    chunks = list(iter_chunks(sc, runs, seed=seed, chunk_size=chunk_size))
    cat = {k: np.concatenate([getattr(c, k) for c in chunks], axis=-1)
           for k in ("outcome", "end_round", "terms", "utility", "end_reason")}
    return cat


# -- the screening known answers ---------------------------------------------------------------


def test_complete_information_agrees_in_half_and_private_in_a_quarter():
    """Two principals on a pie, both values of war U(0, 1), one round. With complete
    information a deal exists (and comes) iff w_a + w_b <= 1: probability 1/2. With private
    information the mediator drafts the text most likely to pass, x maximising x (1 - x): the
    even split, accepted by both with probability 1/4."""
    full = outcomes(make_scenario(pie("complete")), 200_000)
    priv = outcomes(make_scenario(pie("private")), 200_000)
    assert (full["outcome"] == AGREEMENT).mean() == pytest.approx(0.5, abs=0.005)
    assert (priv["outcome"] == AGREEMENT).mean() == pytest.approx(0.25, abs=0.005)
    agreed = priv["outcome"] == AGREEMENT
    assert np.allclose(priv["terms"][0, agreed], 0.5)


def test_private_information_two_rounds_learns_from_the_answers():
    """Round 1 tables 1/2 (agreement 1/4). When a accepts and b rejects (probability 1/4), the
    beliefs become w_a <= 1/2 and w_b > 1/2: the text most likely to pass is the Nash text on
    the lower ends (0, 1/2), a's share 1/4, accepted with probability (1/2)(1/2); likewise the
    other way round; when both reject no text can pass. Agreement: 1/4 + 2 (1/4)(1/4) = 3/8."""
    res = outcomes(make_scenario(pie("private", rounds=2)), 200_000)
    assert (res["outcome"] == AGREEMENT).mean() == pytest.approx(3 / 8, abs=0.005)
    late = (res["outcome"] == AGREEMENT) & (res["end_round"] == 2)
    assert np.allclose(np.sort(np.unique(np.round(res["terms"][0, late], 9))), [0.25, 0.75])


def test_learning_approaches_complete_information():
    shares = [(outcomes(make_scenario(pie("private", rounds=r)), 50_000)["outcome"]
               == AGREEMENT).mean() for r in (1, 2, 4, 8)]
    assert shares == sorted(shares) and shares[-1] > 0.48


# -- delay is never bought by impatience -------------------------------------------------------


@pytest.mark.parametrize("patience", [0.5, 0.9, 1.0])
def test_patience_does_not_change_outcomes_under_complete_information(patience):
    """No deal zone in round 1 (0.6 + 0.5 > 1); US pressure lowers a's value of war by 0.05 a
    round, so the zone opens in round 3 (0.6 - 2 x 0.05 = 0.5). The deal comes then, on the
    same terms, however patient the sides are."""
    data = pie("complete", rounds=6, ra=0.6, rb=0.5)
    data["actors"]["a"]["patience"] = patience
    data["actors"]["b"]["patience"] = patience
    data["actors"]["us"] = {"role": "mediator", "pressure": {"a": 0.05}}
    m = SummitModel(make_scenario(data), 1).run()
    assert m.outcome[0] == AGREEMENT and m.end_round[0] == 3
    assert m.terms[0, 0] == pytest.approx(0.5, abs=1e-9)


def test_longer_deadlines_never_lose_deals_under_complete_information():
    base = pie("complete", rounds=4, ra=0.6, rb=0.5)
    base["actors"]["us"] = {"role": "mediator", "pressure": {"a": {"dist": "uniform", "low": 0,
                                                                   "high": 0.1}}}
    short = outcomes(make_scenario(base), 20_000)
    long_ = copy.deepcopy(base)
    long_["protocol"]["rounds"] = 12
    longer = outcomes(make_scenario(long_), 20_000)
    assert (longer["outcome"] == AGREEMENT).mean() >= (short["outcome"] == AGREEMENT).mean()
    both = short["outcome"] == AGREEMENT
    assert np.array_equal(short["terms"][:, both], longer["terms"][:, both])


# -- summits -----------------------------------------------------------------------------------


def test_zero_audience_costs_hold_every_summit_even_without_a_deal_zone():
    data = pie("complete", rounds=3, ra=0.7, rb=0.7)
    data["summit"] = {"formats": {"bilateral": ["a", "b"]}}
    data["actors"]["a"]["audience_cost"] = {"bilateral": 0.0}
    res = outcomes(make_scenario(data), 4096)
    assert not (res["outcome"] == NO_SUMMIT).any()


def test_an_audience_cost_above_the_gain_keeps_a_principal_away():
    """a's gain from the Nash split at values of war (0.2, 0.2) is 0.5 - 0.2 = 0.3."""
    for cost, held in ((0.29, True), (0.31, False)):
        data = pie("complete", rounds=3, ra=0.2, rb=0.2)
        data["summit"] = {"formats": {"bilateral": ["a", "b"]}}
        data["actors"]["a"]["audience_cost"] = {"bilateral": cost}
        m = SummitModel(make_scenario(data), 1).run()
        assert (m.outcome[0] != NO_SUMMIT) == held
        if not held:
            assert m.end_reason[0] == EndReason.NO_FORMAT


def test_preconditions_are_met_by_the_text_actually_tabled():
    """Russia sets ``guarantees <= 0.5`` as a precondition: the mediator drafts within it, so
    loosening Russia's red line above it no longer empties the summit."""
    sc = load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    data = sc.model_dump(mode="json", exclude_unset=True, warnings=False)
    data["actors"]["russia"]["red_lines"] = [r if not r.startswith("guarantees") else
                                             "guarantees <= 0.65"
                                             for r in data["actors"]["russia"]["red_lines"]]
    data["actors"]["russia"]["preconditions"] = ["guarantees <= 0.5"]
    loose = outcomes(make_scenario(data), 8192)
    strict = outcomes(sc, 8192)
    assert (loose["outcome"] == NO_SUMMIT).mean() <= (strict["outcome"] == NO_SUMMIT).mean() + 0.05
    agreed = loose["outcome"] == AGREEMENT
    assert (loose["terms"][sc.issue_ids.index("guarantees"), agreed] <= 0.5 + 1e-9).all()


# -- order of issues ---------------------------------------------------------------------------


def test_reversing_the_issues_changes_no_share_and_no_terms():
    sc = load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    data = sc.model_dump(mode="json", exclude_unset=True, warnings=False)
    data["issues"] = dict(reversed(list(data["issues"].items())))
    rev = make_scenario(data)
    a, b = outcomes(sc, 8192), outcomes(rev, 8192)
    assert np.array_equal(a["outcome"], b["outcome"])
    assert np.array_equal(a["end_round"], b["end_round"])
    agreed = a["outcome"] == AGREEMENT
    assert np.allclose(a["terms"][:, agreed], b["terms"][::-1, agreed], atol=1e-9)


# -- events ------------------------------------------------------------------------------------


def test_a_scheduled_event_fires_in_its_share_of_worlds():
    """No deal zone (0.7 + 0.7 > 1) until an event before round 2 sets a's value of war to 0
    in 30% of worlds: those worlds agree in round 2, the others never."""
    data = pie("complete", rounds=3, ra=0.7, rb=0.7)
    data["events"] = [{"name": "a collapses", "kind": "scheduled", "round": 2,
                       "probability": 0.3, "set": {"actors.a.reservation": 0.0}}]
    res = outcomes(make_scenario(data), 50_000)
    agreed = res["outcome"] == AGREEMENT
    assert agreed.mean() == pytest.approx(0.3, abs=0.01)
    assert (res["end_round"][agreed] == 2).all()


def test_a_shock_moves_values_of_war_every_round_and_is_public():
    data = pie("private", rounds=6, ra={"dist": "uniform", "low": 0.3, "high": 0.7},
               rb={"dist": "uniform", "low": 0.3, "high": 0.7})
    data["events"] = [{"name": "front line", "kind": "shock",
                       "draw": {"dist": "normal", "mean": 0.0, "sd": 0.05},
                       "effect": {"actors.a.reservation": 1.0, "actors.b.reservation": -1.0}}]
    sc = make_scenario(data)
    m = SummitModel(sc, 4096, seed=3)
    start = m.state.reservation.copy()
    m.step()
    m.step()
    moved = m.state.shift[:, :]
    assert np.allclose(moved[0], -moved[1]) and np.abs(moved).max() > 0
    w1 = m.params.reservation
    assert m.state.beliefs.true_value_inside(w1).all()
    assert start.shape[0] == 2


def test_events_do_not_depend_on_chunking():
    data = pie("private", rounds=6, ra={"dist": "uniform", "low": 0.3, "high": 0.7},
               rb={"dist": "uniform", "low": 0.3, "high": 0.7})
    data["events"] = [{"name": "front line", "kind": "shock",
                       "draw": {"dist": "normal", "mean": 0.0, "sd": 0.05},
                       "effect": {"actors.a.reservation": 1.0, "actors.b.reservation": -1.0}},
                      {"name": "b gives up", "kind": "scheduled", "round": 4, "probability": 0.2,
                       "add": {"actors.b.reservation": -0.3}}]
    sc = make_scenario(data)
    a = outcomes(sc, 5000, chunk_size=1024)
    b = outcomes(sc, 5000, chunk_size=4096)
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=True), k


# -- invariants --------------------------------------------------------------------------------


@st.composite
def private_scenarios(draw):
    K = draw(st.integers(1, 3))
    issues = ["a", "b", "c"][:K]
    unit = st.floats(0, 1)
    actors = {}
    for i in range(2):
        lo = draw(st.floats(0.0, 0.6))
        red = []
        for k in issues:
            if draw(st.booleans()):
                red.append(f"{k} {draw(st.sampled_from(['<=', '>=']))} {draw(unit):.3f}")
        actors[f"p{i}"] = {"role": "principal",
                           "position": {k: draw(unit) for k in issues},
                           "salience": {k: draw(st.floats(0.05, 1)) for k in issues},
                           "reservation": {"dist": "uniform", "low": lo,
                                           "high": lo + draw(st.floats(0.01, 0.4))},
                           "patience": draw(st.floats(0.7, 1.0)),
                           "walkout": draw(st.floats(0, 0.2)),
                           "red_lines": red}
    actors["med"] = {"role": "mediator", "pressure": {"p0": draw(st.floats(0.0, 0.05))},
                     "pressure_applies": draw(st.sampled_from(["always", "at_table"]))}
    actors["gua"] = {"role": "guarantor", "offer": {issues[-1]: draw(unit)}}
    data = {"name": "h", "issues": {k: {"status_quo": draw(unit)} for k in issues},
            "actors": actors,
            "protocol": {"rounds": draw(st.integers(1, 6)), "information": "private"}}
    if draw(st.booleans()):
        data["events"] = [{"name": "shock", "kind": "shock",
                           "draw": {"dist": "normal", "mean": 0.0, "sd": 0.03},
                           "effect": {"actors.p0.reservation": 1.0,
                                      "actors.p1.reservation": -1.0}}]
    if draw(st.booleans()):
        data["ceasefire"] = {"terms": {issues[0]: draw(unit)}}
    return make_scenario(data)


@settings(max_examples=25, deadline=None)
@given(sc=private_scenarios())
def test_beliefs_never_exclude_the_true_value_and_agreements_respect_every_bound(sc):
    m = SummitModel(sc, 256, seed=5)
    while m.running:
        assert m.state.beliefs.true_value_inside(m.params.reservation).all()
        m.step()
    agreed = m.outcome == AGREEMENT
    P = len(sc.principals)
    assert (m.utility[:P, agreed] >= m.war[:, agreed] - 1e-9).all()
    lo, hi = _red_line_box(sc)
    x = m.terms[:, agreed]
    assert (x >= lo[:, None] - 1e-9).all() and (x <= hi[:, None] + 1e-9).all()
    assert not np.isnan(m.war).any()
    shares = np.bincount(m.outcome, minlength=4) / m.n_worlds
    assert shares.sum() == pytest.approx(1.0)


def _red_line_box(sc):
    lo, hi = np.zeros(len(sc.issues)), np.ones(len(sc.issues))
    for actor in sc.actors.values():
        for c in getattr(actor, "red_lines", []):
            k = sc.issue_ids.index(c.issue)
            lo[k], hi[k] = (lo[k], min(hi[k], c.value)) if c.upper else (max(lo[k], c.value), hi[k])
    return lo, hi


def test_values_of_war_stay_on_the_utility_scale():
    data = pie("complete", rounds=8, ra=0.1, rb=0.9)
    data["actors"]["us"] = {"role": "mediator", "pressure": {"a": 0.2, "b": -0.2},
                            "pressure_applies": "always"}
    m = SummitModel(make_scenario(data), 1)
    for _ in range(4):
        m.step()
        if not m.running:
            break
        assert (m.state.reservation >= 0).all() and (m.state.reservation <= 1).all()


def test_a_ceasefire_is_accepted_by_the_rule_texts_are():
    """Delegations meet but no leaders' format exists, so nothing can be signed; the package
    (share 0.5, the other issue at both ideals) is worth 0.75 to each, above 0.6: agreed at the
    first session, a ceasefire at the deadline, worth its undiscounted utility (no discount on
    a settlement)."""
    data = pie("complete", rounds=3, ra=0.6, rb=0.6)
    data["issues"]["other"] = {"status_quo": 0.5}
    data["actors"]["a"]["position"]["other"] = 0.5
    data["actors"]["b"]["position"]["other"] = 0.5
    data["actors"]["a"]["patience"] = 0.5
    data["summit"] = {"formats": {"talks": {"members": ["a", "b"], "level": "delegation"}}}
    data["ceasefire"] = {"terms": {"share": 0.5}}
    m = SummitModel(make_scenario(data), 1).run()
    assert m.end_reason[0] == EndReason.DEADLINE and m.settled_round[0] == 1
    u = utilities(m.terms[:, :1], m_prefs(data))
    assert np.allclose(m.utility[:2, 0], u[:, 0])


def test_a_ceasefire_outside_a_red_line_is_refused():
    """The same package, but a's red line (share >= 0.9) excludes it: no ceasefire, breakdown
    at the deadline with the package refused."""
    data = pie("complete", rounds=3, ra=0.6, rb=0.6)
    data["issues"]["other"] = {"status_quo": 0.5}
    data["actors"]["a"]["position"]["other"] = 0.5
    data["actors"]["b"]["position"]["other"] = 0.5
    data["actors"]["a"]["red_lines"] = ["share >= 0.9"]
    data["actors"]["b"]["red_lines"] = ["share <= 0.1"]
    data["ceasefire"] = {"terms": {"share": 0.5}}
    m = SummitModel(make_scenario(data), 1).run()
    assert m.end_reason[0] == EndReason.CEASEFIRE_REFUSED and m.settled_round[0] == -1


def m_prefs(data):
    return SummitModel(make_scenario(data), 1).params.prefs
