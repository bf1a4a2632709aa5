"""Model v3: talks as a process on a calendar. Known answers (docs/model.md sections 8 and 10).

Each round the mediator convenes the first format, in its order, whose invited principals all
attend; a principal attends when what the session is expected to add a round, plus the blame a
refusal would bring, covers its audience cost for the format (per-round accounting on the flow
payoffs of section 3: Powell 2004's bargaining while fighting; Zartman 2000's ripeness: a side
comes to the table when the war's value has fallen far enough for the talks to pay). Attending
to avoid blame with no deal in sight is Richmond 1998's "devious objective".
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_scenario

from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import AGREEMENT, BREAKDOWN, CEASEFIRE, NO_SUMMIT


def pie(wa, wb, rounds=6, information="complete", **extra):
    data = {"name": "calendar", "issues": {"share": {"low": "all to b", "high": "all to a"}},
            "actors": {"a": {"role": "principal", "position": {"share": 1.0}, "reservation": wa},
                       "b": {"role": "principal", "position": {"share": 0.0},
                             "reservation": wb}},
            "protocol": {"kind": "mediated", "rounds": rounds, "information": information}}
    data.update(extra)
    return data


def us(pressure=None, blame=None, applies="always"):
    spec = {"role": "mediator", "pressure": pressure or {}, "pressure_applies": applies}
    if blame is not None:
        spec["blame"] = blame
    return spec


def run(data, n=200, seed=0, trace=False):
    return SummitModel(make_scenario(data), n, seed=seed, trace=trace).run()


def ripeness(pressure):
    data = pie(0.7, 0.3, rounds=8)
    data["actors"]["us"] = us({"a": pressure} if pressure else {})
    data["actors"]["a"]["audience_cost"] = {"summit": 0.045}
    data["summit"] = {"formats": {"summit": ["a", "b", "us"]}}
    return data


def test_without_pressure_the_side_that_pays_to_attend_never_comes():
    """w_a + w_b = 1: the only text every side accepts gives a nothing above its war, less than
    its audience cost of 0.045 a round. No session is ever held."""
    m = run(ripeness(0.0))
    assert (m.outcome == NO_SUMMIT).all()
    assert (m.sessions == 0).all() and (m.talks_round == -1).all()


def test_pressure_brings_a_to_the_table_in_round_three_and_it_signs():
    """US pressure of 0.05 a round on a, applied always: a's value of war is 0.70, 0.65, 0.60
    in rounds 1, 2, 3. The Nash text on the values of war splits the surplus evenly, so a
    expects 0, 0.025 and 0.05 a round: it first covers the audience cost (0.045) in round 3,
    where a attends and both sign the Nash text x = 0.65 at once (complete information)."""
    m = run(ripeness(0.05))
    assert (m.outcome == AGREEMENT).all()
    assert (m.talks_round == 3).all() and (m.leaders_round == 3).all()
    assert (m.settled_round == 3).all() and (m.end_round == 3).all()
    assert (m.sessions == 1).all()
    assert m.terms[0] == pytest.approx(0.65)


def blamed_delegations(refuse):
    data = pie(0.9, 0.3, rounds=5)
    data["actors"]["us"] = us(blame={"refuse": refuse})
    data["actors"]["a"]["audience_cost"] = {"talks": 0.02}
    data["summit"] = {"formats": {"talks": {"members": ["a", "b", "us"],
                                            "level": "delegation"}}}
    return data


def test_blame_brings_a_side_to_talks_it_does_not_expect_to_gain_from():
    """w_a = 0.9, w_b = 0.3: no text both accept. Attending delegation talks costs a 0.02 a
    round; refusing would raise US pressure on it by 0.05 a round. It attends in every round
    from round 1 ("devious objectives": at the table to avoid blame), and nothing is agreed."""
    m = run(blamed_delegations(0.05))
    assert (m.talks_round == 1).all() and (m.sessions == 5).all()
    assert (m.leaders_round == -1).all()
    assert (m.outcome == BREAKDOWN).all()


def test_without_blame_there_are_no_talks():
    m = run(blamed_delegations(0.0))
    assert (m.outcome == NO_SUMMIT).all() and (m.sessions == 0).all()


def test_refusing_is_blamed_from_the_next_round_on():
    """w_a = 0.7, w_b = 0.3 (no surplus); the talks cost a 0.08 a round, refusing brings 0.05
    more pressure a round. Round 1: 0 + 0.05 < 0.08, a refuses and is blamed. Round 2: w_a =
    0.65, the even split gives a 0.025; 0.025 + 0.05 < 0.08, refused again, blame 0.10 a round.
    Round 3: w_a = 0.55, a expects 0.075; 0.075 + 0.05 >= 0.08: it attends. (With blame capped
    at 0.10 a round, the threat is spent in round 3 and a comes in round 4 instead.)"""
    data = blamed_delegations(0.05)
    data["actors"]["us"]["blame"]["cap"] = 0.5
    data["actors"]["a"]["reservation"] = 0.7
    data["actors"]["a"]["audience_cost"] = {"talks": 0.08}
    m = run(data, n=10, trace=True)
    assert (m.talks_round == 3).all()
    gains = [h["gain"][0, 0] for h in m.history if h["stage"] == "convene"][:3]
    assert gains == pytest.approx([0.0, 0.025, 0.075])
    data["actors"]["us"]["blame"]["cap"] = 0.1
    assert (run(data, n=10).talks_round == 4).all()


def test_a_ceasefire_both_prefer_to_war_is_agreed_without_any_leaders_format():
    """The scenario has no leaders' format, so nothing can be signed; a ceasefire package both
    value above their war is agreed at the first delegation session, and holds to the
    horizon."""
    data = pie(0.45, 0.45, rounds=4)
    data["summit"] = {"formats": {"talks": {"members": ["a", "b"], "level": "delegation"}}}
    data["ceasefire"] = {"terms": {"share": 0.5}}
    m = run(data)
    assert (m.outcome == CEASEFIRE).all()
    assert (m.settled_round == 1).all() and (m.talks_round == 1).all()
    assert (m.leaders_round == -1).all()


def test_a_text_agreed_by_delegations_waits_for_the_leaders():
    """Delegations agree the text in round 1; the leaders' format costs a 0.02 a round, below
    what the text is worth to it: the leaders sign it in round 2."""
    data = pie(0.3, 0.3, rounds=4)
    data["actors"]["a"]["audience_cost"] = {"talks": 0.0, "summit": 0.02}
    data["summit"] = {"formats": {"talks": {"members": ["a", "b"], "level": "delegation"},
                                  "summit": {"members": ["a", "b"], "level": "leaders"}},
                      "order": ["talks", "summit"]}
    m = run(data)
    assert (m.outcome == AGREEMENT).all()
    assert (m.talks_round == 1).all() and (m.leaders_round == 2).all()
    assert (m.settled_round == 2).all() and (m.sessions == 2).all()


def test_delegations_alone_never_settle():
    """Delegations agree a text in round 1; without a leaders' format it waits to the horizon
    unsigned (no session renegotiates an agreed text)."""
    data = pie(0.3, 0.3, rounds=3)
    data["summit"] = {"formats": {"talks": {"members": ["a", "b"], "level": "delegation"}}}
    m = run(data)
    assert (m.outcome == BREAKDOWN).all() and (m.sessions == 1).all()
    assert (m.settled_round == -1).all()


def test_a_format_without_a_principal_cannot_settle_and_is_no_summit():
    """The mediator meets a alone: sessions are held, nothing is agreed, and talks of every
    principal never happen."""
    data = pie(0.3, 0.3, rounds=3)
    data["actors"]["us"] = us()
    data["summit"] = {"formats": {"channel": ["a", "us"]}}
    m = run(data)
    assert (m.outcome == NO_SUMMIT).all()
    assert (m.sessions == 3).all() and (m.talks_round == -1).all()


def test_support_raises_a_value_of_war_a_round():
    """Europe supports b by 0.1 a round: the zone (w_a = 0.5, w_b = 0.3 + 0.1 (t - 1)) closes
    by round 3, and b's audience cost (0.05) keeps it away until the text stops paying."""
    data = pie(0.5, 0.3, rounds=3)
    data["actors"]["eu"] = {"role": "guarantor", "support": {"b": 0.1}}
    data["actors"]["b"]["audience_cost"] = {"summit": 0.15}
    data["summit"] = {"formats": {"summit": ["a", "b"]}}
    m = run(data)
    assert (m.outcome == NO_SUMMIT).all()
    data["actors"]["eu"]["support"] = {"b": 0.0}
    data["actors"]["a"]["reservation"] = 0.3
    m = run(data)
    assert (m.outcome == AGREEMENT).all()


def test_attending_is_informative_and_the_truth_stays_inside_the_beliefs():
    """Under private information, attending a format with an audience cost reveals that the
    value of war is low enough; the true values stay inside the updated beliefs."""
    data = pie({"dist": "uniform", "low": 0.2, "high": 0.8},
               {"dist": "uniform", "low": 0.1, "high": 0.5}, rounds=6, information="private")
    data["actors"]["a"]["audience_cost"] = {"summit": 0.05}
    data["summit"] = {"formats": {"summit": ["a", "b"]}}
    model = SummitModel(make_scenario(data), 2000, seed=3)
    w1 = model.params.reservation.copy()
    while model.running:
        model.step()
        if model.params.n:
            inside = model.state.beliefs.true_value_inside(w1[:, model.live])
            assert inside.all()
    assert np.isin(model.outcome, [AGREEMENT, BREAKDOWN, NO_SUMMIT]).all()
