"""Invariants of the expected-utility protocol over random scenarios (hypothesis): every text,
the opening one included, lies inside every red line and cap; stated positions stay in [0, 1]
and principals' inside their own acceptance sets; the order of the actors in the file changes
nothing; ``rounds: 0`` puts the weighted median, moved into the box; and in the shipped baseline
the drawn values of war decide the outcome."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_sim.config.scenario import Scenario, load_scenario
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import AGREEMENT
from negotiation_sim.core.preferences import utilities, weighted_median
from negotiation_sim.core.protocols.expected_utility import eu_round

ISSUES = ("x", "y")
unit = st.floats(0.0, 1.0, allow_nan=False).map(lambda v: round(v, 2))


@st.composite
def documents(draw, rounds=None):
    """A scenario document: 2-3 principals, up to 3 other positioned actors, 1-2 issues."""
    K = draw(st.integers(1, 2))
    issues = ISSUES[:K]
    actors = {}
    for i in range(draw(st.integers(2, 3))):
        red = [f"{draw(st.sampled_from(issues))} {draw(st.sampled_from(['<=', '>=']))} "
               f"{draw(unit)}" for _ in range(draw(st.integers(0, 1)))]
        actors[f"p{i}"] = {
            "role": "principal",
            "position": {k: draw(unit) for k in issues},
            "salience": {k: draw(st.floats(0.05, 1.0)) for k in issues},
            "utility": draw(st.sampled_from(["linear", "quadratic", {"power": 0.5}])),
            "reservation": draw(st.floats(0.0, 0.9)),
            "clout": draw(st.floats(0.2, 3.0)),
            "red_lines": red,
        }
    for j in range(draw(st.integers(0, 3))):
        role = draw(st.sampled_from(["mediator", "guarantor"]))
        actor = {"role": role, "position": {k: draw(unit) for k in issues},
                 "clout": draw(st.floats(0.2, 3.0))}
        if role == "guarantor" and draw(st.booleans()):
            actor["offer"] = {issues[-1]: draw(unit)}
        if role == "mediator" and draw(st.booleans()):
            actor["pressure"] = {"p0": draw(st.floats(0.0, 0.05))}
        actors[f"o{j}"] = actor
    protocol = {"kind": "expected_utility",
                "rounds": draw(st.integers(0, 4)) if rounds is None else rounds}
    if draw(st.booleans()):
        protocol["status_quo_belief"] = draw(st.floats(0.0, 1.0))
        protocol["improvement_belief"] = draw(st.floats(0.0, 1.0))
    if draw(st.booleans()):
        protocol["risk_exponents"] = {"p0": draw(st.floats(0.5, 2.0))}
    return {"name": "h", "issues": {k: {} for k in issues}, "actors": actors,
            "protocol": protocol}


def build(doc) -> Scenario:
    sc = Scenario.model_validate(doc)
    assert not sc.reference_problems()
    return sc


def box(sc: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Every red line and cap of the scenario, as (lo, hi) per issue. The cap on an issue is
    the largest offer among the guarantors that make one (docs/model.md section 5:
    ``core.worlds.combine_caps``)."""
    K = len(sc.issue_ids)
    lo, hi = np.zeros(K), np.ones(K)
    cap = np.full(K, -np.inf)
    for actor in sc.actors.values():
        for c in getattr(actor, "red_lines", []):
            k = sc.issue_ids.index(c.issue)
            if c.upper:
                hi[k] = min(hi[k], c.bound)
            else:
                lo[k] = max(lo[k], c.bound)
        for issue, offer in getattr(actor, "offer", {}).items():
            k = sc.issue_ids.index(issue)
            cap[k] = max(cap[k], offer)
    return lo, np.minimum(hi, np.where(np.isfinite(cap), cap, 1.0))


@settings(max_examples=60, deadline=None)
@given(doc=documents())
def test_every_text_lies_inside_the_box_and_positions_inside_their_limits(doc):
    sc = build(doc)
    lo, hi = box(sc)
    m = SummitModel(sc, 1, trace=True).run()
    texts = [h["text"][:, 0] for h in m.history if h["stage"] == "formation"]
    texts += [h["text"][:, 0] for h in m.history if h["stage"] == "eu_round"]
    assert texts and m.outcome[0] >= 0
    if (lo <= hi).all():
        for x in texts:
            assert (x >= lo - 1e-9).all() and (x <= hi + 1e-9).all()
    prm = SummitModel(sc, 1).params
    P = len(sc.principals)
    for h in (h for h in m.history if h["stage"] == "eu_round"):
        pos = h["positions"]
        assert ((pos >= 0.0) & (pos <= 1.0)).all()
        ideal = prm.positions
        assert (pos >= ideal.min(axis=0) - 1e-12).all() and (pos <= ideal.max(axis=0) + 1e-12).all()
        for p, name in enumerate(sc.principals):
            own = pos[p]
            for c in sc.actors[name].red_lines:
                k = sc.issue_ids.index(c.issue)
                start = prm.prefs.position[p, k, 0]
                if c.upper:
                    assert own[k, 0] <= max(c.bound, start) + 1e-12
                else:
                    assert own[k, 0] >= min(c.bound, start) - 1e-12
        worth = np.array([utilities(pos[p], prm.prefs.subset([p]))[0, 0] for p in range(P)])
        war = np.array([sc.actors[a].reservation for a in sc.principals])
        pressure = np.zeros(P)
        for actor in sc.actors.values():
            if actor.role == "mediator":
                pressure[0] += actor.pressure.get("p0", 0.0)
        # a principal's stated position is worth at least its value of war in that round,
        # unless the war is worth more than its ideal (then it stays at its ideal)
        war_now = war - (h["round"] - 1) * pressure if h["round"] > 1 else war
        held = worth >= np.minimum(war_now, 1.0) - 1e-6
        assert held.all() or np.allclose(pos[:P][~held], prm.prefs.position[~held])


def reorder(doc, order):
    out = dict(doc)
    out["actors"] = {a: doc["actors"][a] for a in order}
    return out


@settings(max_examples=40, deadline=None)
@given(doc=documents(), data=st.data())
def test_the_order_of_the_actors_changes_nothing(doc, data):
    names = list(doc["actors"])
    order = data.draw(st.permutations(names))
    a, b = build(doc), build(reorder(doc, order))
    ma, mb = SummitModel(a, 1).run(), SummitModel(b, 1).run()
    assert ma.outcome[0] == mb.outcome[0] and ma.end_round[0] == mb.end_round[0]
    assert np.allclose(ma.terms, mb.terms, atol=1e-9, equal_nan=True)
    rows = [b.positioned.index(x) for x in a.positioned]
    assert np.allclose(ma.utility[:, 0], mb.utility[rows, 0], atol=1e-9, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(doc=documents(rounds=0))
def test_rounds_zero_puts_the_weighted_median_moved_into_the_box(doc):
    sc = build(doc)
    m = SummitModel(sc, 1)
    prm = m.params
    weight = prm.capability[:, None, :] * prm.abs_salience
    median = weighted_median(prm.positions, weight)
    expected = np.clip(median, prm.lo, prm.hi)
    assert np.allclose(m.protocol.opening_text(), expected, atol=1e-12)
    if not (prm.lo > 0).any() and not (prm.hi < 1).any():
        assert np.allclose(m.protocol.opening_text(), median, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2 ** 16), A=st.integers(2, 9))
def test_one_round_is_equivariant_under_permutations_of_the_actors(seed, A):
    rng = np.random.default_rng(seed)
    x = rng.choice(np.linspace(0, 1, 6), (A, 2, 5))
    w = rng.uniform(0.0, 2.0, (A, 2, 5)) * (rng.uniform(size=(A, 2, 5)) > 0.1)
    s = rng.uniform(0.1, 1.0, (A, 2, 5))
    fixed = np.where(rng.uniform(size=A) < 0.3, 1.5, np.nan)
    perm = rng.permutation(A)
    new, r = eu_round(x, w, s, fixed, 0.7, 0.4)
    new_p, r_p = eu_round(x[perm], w[perm], s[perm], fixed[perm], 0.7, 0.4)
    assert np.allclose(new[perm], new_p, atol=1e-12) and np.allclose(r[perm], r_p, atol=1e-12)
    assert ((new >= 0) & (new <= 1)).all()


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    sc = load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    proto = sc.protocol.as_kind("expected_utility")
    return sc.model_copy(update={"protocol": proto})


def test_in_the_shipped_baseline_the_drawn_values_of_war_decide_the_outcome(baseline):
    """Under expected utility the baseline's first text is the same in every world (the
    mediator and guarantors hold the median; docs/protocols.md), so the drawn values of war
    decide: no world whose value of war exceeds the text's worth to it agrees in round 1 (it
    can later, once pressure and the front line have moved its value of war), and those worlds
    agree far less often than the others."""
    m = SummitModel(baseline, 3000, seed=0, trace=True)
    m.step()  # round 1: the text every principal decides to attend on
    text = next(h for h in m.history if h["stage"] == "convene")["text"]
    assert np.allclose(text, text[:, :1])
    war = np.stack([m.inputs[f"actors.{a}.reservation"] for a in baseline.principals])
    worth = utilities(text[:, :1], m.params.prefs.take(np.arange(1)))  # positions are fixed
    m.run()
    agreed = m.outcome == AGREEMENT
    above = (war > worth + 1e-9).any(axis=0)
    assert above.any() and (~above).any()
    assert not (agreed & above & (m.end_round == 1)).any()
    assert agreed[~above].mean() > 2 * agreed[above].mean()


def test_in_the_shipped_baseline_the_drawn_value_of_war_limits_the_stated_positions(baseline):
    """Every world holds talks when the scenario has no summit block. Russia's stated position
    after round 1 is worth at least its drawn value of war in every world, and exactly that
    where the value of war binds, so the position path differs across worlds."""
    sc = baseline.model_copy(update={"summit": None})
    m = SummitModel(sc, 2000, seed=0)
    m.protocol.opening_text()  # the first round of dynamics
    war = m.params.reservation[0]
    pos = m.state.positions[:1]
    worth = utilities(pos[0], m.params.prefs.subset([0]))[0]
    assert (worth >= war - 1e-6).all()
    binds = np.abs(worth - war) < 1e-6
    assert 0 < binds.mean() < 1  # both kinds of world occur (71% bind under the v3 prior)
    assert np.unique(np.round(pos[0][:, binds], 6), axis=1).shape[1] > 10
    assert np.unique(np.round(pos[0][:, ~binds], 6), axis=1).shape[1] == 1
