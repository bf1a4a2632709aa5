"""Strategic responders in the mediated protocol: the perfect Bayesian equilibrium against the
drafter, against closed forms derived here.

The pie: a gets x, b gets s = 1 - x; a's value of war known and 0; b's w_b ~ U(0, 1) private;
patience d for both; the chair has bias 1 and sits at a's ideal, so it values a settlement on x
at x and no settlement at 0, discounting the rounds at b's patience. Two rounds:

- round 2 (last), remaining types (k, 1]: a type accepts any s >= w_b; the drafter maximises
  (s - k) / (1 - k) (1 - s): s2 = (1 + k) / 2.
- round 1: the cutoff type k is indifferent between s1 now and waiting, paying its war this
  round and s2 from round 2 on: s1 = (1 - d) k + d s2(k) = (1 - d/2) k + d/2. The drafter
  maximises k (1 - s1) + d (s2 - k)(1 - s2) = k (1 - d/2)(1 - k) + d (1 - k)^2 / 4:
  (1 - d/2)(1 - 2k) - d (1 - k) / 2 = 0, so k = 2 (1 - d) / (4 - 3 d).
- so s1 = (1 - d/2) k + d/2, x1 = 1 - s1, x2 = 1 - s2 = (1 - k) / 2; types w_b <= k agree in
  round 1 (share k), k < w_b <= s2 in round 2 (share (1 - k) / 2). d = 0.9: k = 0.153846,
  s1 = 0.534615, s2 = 0.576923.

Sincere responders against the same drafter (one round at a time): round 1 offers s = 1/2
(the one-round monopoly offer, max s (1 - s)), round 2 (1 + 1/2) / 2 = 3/4: shares 1/2, 1/4.

Bias 0: the drafter values every settlement alike and tables b's best text that a accepts each
round; with values of war that do not move no later text is better, waiting never pays, and
strategic answers are sincere ones. Pressure on a that lowers its value by p a round makes the
next text better for b: with w_a = 0.5, p = 0.1, d = 0.9 and two rounds, type w waits for 0.6
(0.1 w + 0.54 > 0.5 for every w >= 0), so nobody agrees in round 1 and w_b <= 0.6 in round 2;
sincere: w_b <= 0.5 in round 1, (0.5, 0.6] in round 2.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.config.yamlio import InputError
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import AGREEMENT
from negotiation_sim.core.protocols.base import CAUSES
from tests.protocol_helpers import principal, scenario
from tests.test_protocols_alternating_private import skimming_closed_form

U01 = {"dist": "uniform", "low": 0.0, "high": 1.0}


def pie(responders, rounds=2, d=0.9, bias=1.0, ra=0.0, at=1.0, mediator=True, **extra):
    actors = {"a": principal({"pie": 1.0}, reservation=ra, patience=d),
              "b": principal({"pie": 0.0}, reservation=U01, patience=d)}
    if mediator:
        actors["us"] = {"role": "mediator", "position": {"pie": at}, "bias": bias, **extra}
    return scenario(actors, kind="mediated", rounds=rounds, information="private",
                    responders=responders)


def closed_form(d):
    k = 2 * (1 - d) / (4 - 3 * d)
    s1, s2 = (1 - d / 2) * k + d / 2, (1 + k) / 2
    return k, s1, s2


def plan(sc):
    """The drafter's plan when the calendar opens (round 1): offers to b (T,), cutoffs (T,)."""
    m = SummitModel(sc, 1, trace=True)
    m.step()
    h = next(h for h in m.history if h["stage"] == "screen")
    return h["offer"][:, 0], h["cutoff"][:, 0]


def run(sc, n=20_000, seed=3):
    m = SummitModel(sc, n, seed=seed).run()
    return m, m.inputs["actors.b.reservation"]


# -- the two-round closed form --------------------------------------------------------------------


def test_closed_form_numbers():
    k, s1, s2 = closed_form(0.9)
    assert (k, s1, s2) == pytest.approx((2 / 13, 0.5346153846, 0.5769230769), abs=1e-9)


@pytest.mark.parametrize("d", [0.3, 0.6, 0.9, 0.95])
def test_two_rounds_match_the_closed_form(d):
    k, s1, s2 = closed_form(d)
    offers, cuts = plan(pie("strategic", d=d))
    assert np.allclose(offers, [s1, s2], atol=1e-9, rtol=0)
    assert np.allclose(cuts, [k, s2], atol=1e-9, rtol=0)
    m, w = run(pie("strategic", d=d))
    agreed = m.outcome == AGREEMENT
    # exactly the types the closed form says, in the round it says, on the texts it says
    assert np.array_equal(agreed & (m.end_round == 1), w <= k)
    assert np.array_equal(agreed & (m.end_round == 2), (w > k) & (w <= s2))
    assert np.allclose(m.terms[0, agreed & (m.end_round == 1)], 1 - s1, atol=1e-9, rtol=0)
    assert np.allclose(m.terms[0, agreed & (m.end_round == 2)], (1 - k) / 2, atol=1e-9, rtol=0)


@pytest.mark.parametrize("T", [3, 5])
def test_longer_horizons_follow_the_skimming_recursion(T):
    """The drafter at a's ideal with bias 1 is the proposer of one-sided screening (patience
    d for both): the recursion of tests/test_protocols_alternating_private.py."""
    offers, cuts, _ = skimming_closed_form(T, 0.9, 0.9, True)
    got_offers, got_cuts = plan(pie("strategic", rounds=T))
    assert np.allclose(got_offers, offers, atol=1e-7) and np.allclose(got_cuts, cuts, atol=1e-7)


# -- sincere and strategic ---------------------------------------------------------------------------


def test_sincere_and_strategic_differ_where_waiting_pays():
    k, s1, s2 = closed_form(0.9)
    sincere, w = run(pie("sincere"))
    strategic, w2 = run(pie("strategic"))
    assert np.array_equal(w, w2)
    first = sincere.outcome == AGREEMENT
    assert np.array_equal(first & (sincere.end_round == 1), w <= 0.5)
    assert np.array_equal(first & (sincere.end_round == 2), (w > 0.5) & (w <= 0.75))
    # a strategic b rejects texts it prefers to war: the trace says why
    m = SummitModel(pie("strategic"), 512, seed=1, trace=True)
    m.run()
    r1 = next(h for h in m.history if h["stage"] == "round" and h["round"] == 1)
    value, war = r1["value"][1], r1["reservation"][1]
    waits = ~r1["accept"][1] & (value >= war)
    assert waits.any() and np.all(r1["cause"][1][waits] == CAUSES.index("strategic wait"))


@pytest.mark.parametrize("ra", [0.0, 0.3])
def test_bias_zero_strategic_is_sincere(ra):
    for mediator in (True, False):
        sincere, _ = run(pie("sincere", rounds=3, bias=0.0, ra=ra, mediator=mediator))
        strategic, w = run(pie("strategic", rounds=3, bias=0.0, ra=ra, mediator=mediator))
        assert np.array_equal(sincere.outcome, strategic.outcome)
        assert np.array_equal(sincere.end_round, strategic.end_round)
        assert np.allclose(sincere.terms, strategic.terms, atol=1e-12, equal_nan=True)
        assert np.array_equal(strategic.outcome == AGREEMENT, w <= 1.0 - ra)


def test_bias_zero_with_pressure_waiting_pays():
    sc = {r: pie(r, bias=0.0, ra=0.5, pressure={"a": 0.1}) for r in ("sincere", "strategic")}
    sincere, w = run(sc["sincere"])
    strategic, _ = run(sc["strategic"])
    agreed_s, agreed_t = sincere.outcome == AGREEMENT, strategic.outcome == AGREEMENT
    assert np.array_equal(agreed_s & (sincere.end_round == 1), w <= 0.5)
    assert np.array_equal(agreed_s & (sincere.end_round == 2), (w > 0.5) & (w <= 0.6 + 1e-12))
    assert not (agreed_t & (strategic.end_round == 1)).any()
    assert np.array_equal(agreed_t & (strategic.end_round == 2), w <= 0.6 + 1e-12)


def test_tiny_patience_runs_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        m, w = run(pie("strategic", rounds=4, d=1e-300), n=512)
    # the future is worth nothing to anyone: each round is a one-round monopoly offer on what
    # is left, 1/2, 3/4, 7/8, 15/16, taken by every type it is worth its war to
    agreed = m.outcome == AGREEMENT
    for r, share in enumerate((0.5, 0.75, 0.875, 0.9375), start=1):
        assert np.array_equal(agreed & (m.end_round <= r), w <= share + 1e-9)


# -- configurations refused ------------------------------------------------------------------------

BASE = """name: t
issues: {pie: {}}
actors:
  a: {role: principal, position: {pie: 1.0}%(a)s}
  b: {role: principal, position: {pie: 0.0}, reservation: {dist: uniform, low: 0, high: 1}}
  us: {role: mediator, position: {pie: 1.0}, bias: 1%(us)s}
%(more)sprotocol:
  kind: mediated
  information: %(info)s
  responders: strategic
"""

REFUSED = {
    "complete information": (dict(info="complete"), "information: private"),
    "two private values": (dict(a=", reservation: {dist: uniform, low: 0, high: 0.3}"),
                           "exactly one principal whose value of war is private"),
    "a curved utility": (dict(a=", utility: quadratic"), "linear utilities ('a'"),
    "posture": (dict(a=", claim: 0.1"), "no posture ('a'"),
    "events": (dict(more="events:\n  - {name: s, kind: shock, draw: 0.1, effect: "
                         "{actors.a.reservation: 1}}\n"), "no events"),
    "a ceasefire": (dict(more="ceasefire: {terms: {pie: 0.5}}\n"), "no ceasefire package"),
    "blame for rejecting": (dict(us=", blame: {reject: 0.05}"), "no blame for rejecting"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_is_not_computed_is_refused_at_responders(tmp_path, case):
    fields, message = REFUSED[case]
    text = BASE % {"a": "", "us": "", "more": "", "info": "private", **fields}
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    (problem,) = err.value.problems
    line = text.splitlines().index("  responders: strategic") + 1
    assert (problem.file, problem.line, problem.field) == (str(path), line,
                                                           "protocol.responders")
    assert problem.message.startswith("strategic responders in the mediated protocol need "
                                      + message)
    assert "\n" not in str(err.value)


def test_guarantor_support_is_refused(tmp_path):
    text = BASE % {"a": "", "us": "", "info": "private",
                   "more": "  eu: {role: guarantor, support: {b: 0.02}}\n"}
    lines = text.splitlines()
    # the guarantor belongs among the actors: move its line above ``protocol:``
    eu = lines.pop(lines.index("  eu: {role: guarantor, support: {b: 0.02}}"))
    lines.insert(lines.index("  us: {role: mediator, position: {pie: 1.0}, bias: 1}") + 1, eu)
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    (problem,) = err.value.problems
    assert problem.field == "protocol.responders"
    assert "no guarantor support ('eu'" in problem.message


def test_the_computed_configuration_validates(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE % {"a": ", walkout: 0.1", "us": ", pressure: {a: 0.02}", "more": "",
                            "info": "private"})
    sc = load_scenario(path)
    m = SummitModel(sc, 256, seed=0).run()
    assert (m.outcome == AGREEMENT).any()


@pytest.mark.parametrize("bias", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("prior", [U01, {"dist": "normal", "mean": 0.3, "sd": 0.15, "low": 0.0,
                                         "high": 0.8}])
def test_three_principals_two_issues_walkouts_and_pressure(bias, prior):
    """Known principals r and k, informed u: every agreement is worth its war to each side
    (nobody accepts below it), the true value always lies inside the public belief, and answers
    are monotone: if a type takes a text, every lower type in the same world would too."""
    actors = {"r": principal({"t": 1.0, "g": 0.0}, reservation=0.2, walkout=0.05,
                             red_lines=["t >= 0.3"]),
              "u": principal({"t": 0.0, "g": 1.0}, salience={"t": 0.7, "g": 0.3},
                             reservation=prior, patience=0.9, walkout=0.05),
              "k": principal({"t": 0.5, "g": 0.5}, reservation=0.3),
              "us": {"role": "mediator", "position": {"t": 0.7, "g": 0.4}, "bias": bias,
                     "pressure": {"r": 0.02}, "backlash": 0.5}}
    sc = scenario(actors, issues=("t", "g"), kind="mediated", rounds=5, information="private",
                  responders="strategic")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        m = SummitModel(sc, 600, seed=7, trace=True).run()
    agreed = m.outcome == AGREEMENT
    assert agreed.any()
    assert np.all(m.utility[:3, agreed] >= m.war[:, agreed] - 1e-9)
    w1 = m.inputs["actors.u.reservation"]
    for h in (h for h in m.history if h["stage"] == "round"):
        low, high = h["belief"]
        w = h["reservation"][1]
        assert np.all((low[1] <= w + 1e-9) & (w <= high[1] + 1e-9))
        cut = h["cutoff"]
        took = h["accept"][1]
        made = ~np.isnan(cut)
        assert np.all(~took[made] | (w1[h["world"]][made] <= cut[made] + 1e-9))
