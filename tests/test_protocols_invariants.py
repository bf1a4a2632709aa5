"""Invariants every protocol keeps (hypothesis over random scenarios): agreements lie inside all
red lines and guarantor caps and give each principal at least its true reservation at the round
of agreement; outcomes are recorded for every world."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import AGREEMENT
from negotiation_sim.core.protocols import PROTOCOLS

ISSUES = ("x", "y")
unit = st.floats(0.0, 1.0, allow_nan=False).map(lambda v: round(v, 3))


@st.composite
def scenarios(draw):
    kind = draw(st.sampled_from(list(PROTOCOLS)))  # a new protocol is held to them too
    P = draw(st.integers(2, 3))
    K = draw(st.integers(1, 2))
    issues = ISSUES[:K]
    actors = {}
    for i in range(P):
        red = []
        if draw(st.booleans()):
            k = draw(st.sampled_from(issues))
            op = draw(st.sampled_from(["<=", ">="]))
            red.append(f"{k} {op} {draw(unit)}")
        actors[f"p{i}"] = {
            "role": "principal",
            "position": {k: draw(unit) for k in issues},
            "salience": {k: draw(st.floats(0.05, 1.0)) for k in issues},
            "utility": draw(st.sampled_from(["linear", "quadratic", {"power": 0.5}])),
            "reservation": draw(st.floats(0.0, 0.8)),
            "patience": draw(st.floats(0.5, 1.0)),
            "clout": draw(st.floats(0.2, 3.0)),
            "red_lines": red,
        }
    if draw(st.booleans()):
        actors["g"] = {"role": "guarantor", "offer": {issues[-1]: draw(unit)},
                       "position": {issues[-1]: draw(unit)}}
    if draw(st.booleans()):
        actors["m"] = {"role": "mediator", "pressure": {"p0": draw(st.floats(0.0, 0.05))}}
    rounds = draw(st.integers(0 if kind == "expected_utility" else 1, 4))
    sc = Scenario.model_validate({"name": "h", "issues": {k: {} for k in issues},
                                  "actors": actors, "protocol": {"kind": kind, "rounds": rounds}})
    assert not sc.reference_problems()
    return sc


@settings(max_examples=40, deadline=None)
@given(sc=scenarios())
def test_agreements_respect_red_lines_caps_and_reservations(sc):
    m = SummitModel(sc, 1).run()
    assert m.outcome[0] >= 0
    if m.outcome[0] != AGREEMENT:
        return
    x = m.terms[:, 0]
    for a in sc.principals:
        for c in sc.actors[a].red_lines:
            v = x[sc.issue_ids.index(c.issue)]
            assert (v <= c.bound + 1e-9) if c.upper else (v >= c.bound - 1e-9)
    for actor in sc.actors.values():
        if actor.role == "guarantor":
            for k, cap in actor.offer.items():
                assert x[sc.issue_ids.index(k)] <= cap + 1e-9
    t = int(m.end_round[0])
    pressure = np.zeros(len(sc.principals))
    if "m" in sc.actors:
        pressure[0] = sc.actors["m"].pressure["p0"]
    for i, a in enumerate(sc.principals):
        reservation_now = sc.actors[a].reservation - (t - 1) * pressure[i]
        assert m.utility[i, 0] >= reservation_now - 1e-9
