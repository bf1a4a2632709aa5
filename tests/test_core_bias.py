"""A biased drafter (``mediator.bias``) in the mediated protocol, against closed forms.

The drafter values a settlement on text x at (1 - b) + b u_M(x) and no settlement at 0
(docs/model.md section 9). On the unit pie (a gets x, b gets 1 - x; a's ideal 1, b's 0):

- complete information, thresholds w_a, w_b, clouts 1 and a mediator at position 1
  (u_M = x, worst text in the box x = 0, so d_M = -1): the text maximises
  (1 - b) / 2 [log(x - w_a) + log(1 - w_b - x)] + b log(x + 1), the root in (w_a, 1 - w_b) of
  (1 - b) / 2 [1 / (x - w_a) - 1 / (1 - w_b - x)] + b / (1 + x) = 0; b = 1 gives 1 - w_b.
- private information, a known (w_a = 0), b's value U(0, 1), bias 1: the drafter maximises
  u_M(x) P(1 - x >= w_b) = u_M(x) (1 - x), Fudenberg & Tirole 1983's one-round offer: x = 1/2
  for a mediator at a's ideal; x = 3/8 for a mediator at 0.75 (max (1 - x)(1/4 + x)).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outputs import NAMES
from negotiation_sim.core.preferences import FEASIBILITY_TOL, utilities
from tests.protocol_helpers import principal, scenario

U01 = {"dist": "uniform", "low": 0.0, "high": 1.0}


def mediator(position, bias=None, **kw):
    spec = {"role": "mediator", "position": position, **kw}
    if bias is not None:
        spec["bias"] = bias
    return spec


def pie(bias=None, info="complete", ra=0.2, rb=0.3, at=1.0, rounds=1, **protocol):
    return scenario({"a": principal({"pie": 1.0}, reservation=ra),
                     "b": principal({"pie": 0.0}, reservation=rb),
                     "us": mediator({"pie": at}, bias)},
                    kind="mediated", rounds=rounds, information=info, **protocol)


def first_text(sc, n=1, seed=0):
    """The round-1 text the chair drafts (the trace's first round)."""
    m = SummitModel(sc, n, seed=seed, trace=True)
    m.step()
    return next(h for h in m.history if h["stage"] == "round")["text"]


def complete_closed_form(b, wa, wb):
    """The root of the first-order condition (module docstring), by bisection to 1e-15."""
    if b == 1.0:
        return 1.0 - wb
    lo, hi = wa, 1.0 - wb
    for _ in range(200):
        x = 0.5 * (lo + hi)
        slope = (1 - b) / 2 * (1 / (x - wa) - 1 / (1 - wb - x)) + b / (1 + x)
        lo, hi = (x, hi) if slope > 0 else (lo, x)
    return 0.5 * (lo + hi)


def complete_closed_form_at(b, at, wa=0.2, wb=0.3):
    """The mediator at ``at`` = 0.5 right of the text: u_M = 1 - (at - x), its worst text in the
    box is 0.5 away (d_M = -0.5), so u_M - d_M = 1 + x: the root of
    (1 - b)/2 [1/(x - w_a) - 1/(1 - w_b - x)] + b/(1 + x) below ``at``."""
    lo, hi = wa, at
    for _ in range(200):
        x = 0.5 * (lo + hi)
        slope = (1 - b) / 2 * (1 / (x - wa) - 1 / (1 - wb - x)) + b / (1 + x)
        lo, hi = (x, hi) if slope > 0 else (lo, x)
    return 0.5 * (lo + hi)


# -- bias 0 is today's drafter --------------------------------------------------------------------


@pytest.mark.parametrize("info", ["complete", "private"])
@pytest.mark.parametrize("kind", ["mediated", "alternating_offers"])
def test_bias_zero_is_the_drafter_without_a_bias_field(info, kind):
    def build(bias):
        return scenario({"a": principal({"pie": 1.0, "x": 0.2}, reservation=U01, claim=0.05,
                                        concession=0.5),
                         "b": principal({"pie": 0.0, "x": 0.9}, reservation=U01),
                         "us": mediator({"pie": 0.7, "x": 0.1}, bias)},
                        issues=("pie", "x"), kind=kind, rounds=4, information=info)

    plain = SummitModel(build(None), 3000, seed=4).run()
    zero = SummitModel(build(0.0), 3000, seed=4).run()
    for name in NAMES:
        a, b = getattr(plain, name), getattr(zero, name)
        assert np.array_equal(a, b, equal_nan=True), name


# -- complete information -------------------------------------------------------------------------


@pytest.mark.parametrize("wa,wb", [(0.2, 0.3), (0.0, 0.0), (0.45, 0.1)])
def test_complete_information_text_is_the_closed_form_and_moves_toward_the_mediator(wa, wb):
    biases = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0]
    texts = [first_text(pie(b, ra=wa, rb=wb))[0, 0] for b in biases]
    want = [complete_closed_form(b, wa, wb) for b in biases]
    assert np.allclose(texts, want, atol=1e-9, rtol=0)
    assert np.all(np.diff(texts) > 0)  # toward the mediator at 1, strictly
    assert wa - 1e-12 <= min(texts) and max(texts) <= 1.0 - wb + 1e-12
    m = SummitModel(pie(0.6, ra=wa, rb=wb), 1).run()
    assert m.outcome[0] == 0 and m.end_round[0] == 1  # accepted at once


def test_complete_information_mediator_between_the_sides_pulls_to_its_position():
    """A mediator at 0.5 inside the zone [0.2, 0.7]: bias 1 drafts its ideal, 0.5."""
    assert first_text(pie(1.0, at=0.5))[0, 0] == pytest.approx(0.5, abs=1e-12)
    # bias 0 is the Nash text 0.45; the mediator at 0.5 pulls it up, never past 0.5. Its
    # utility has a kink there (d_M = 0.5 - 1): the text reaches 0.5 once its slope b / 1.5
    # outweighs the principals' (1 - b) / 2 (1 / 0.3 - 1 / 0.2), from b = 5/9 on
    texts = [first_text(pie(b, at=0.5))[0, 0] for b in (0.0, 0.3, 0.5, 0.56, 0.95)]
    assert texts[0] == pytest.approx(0.45, abs=1e-12)
    assert texts[1] == pytest.approx(complete_closed_form_at(0.3, 0.5), abs=1e-9)
    assert 0.45 < texts[1] < texts[2] < 0.5
    assert texts[3] == pytest.approx(0.5, abs=1e-9) and texts[4] == pytest.approx(0.5, abs=1e-9)


def test_no_zone_keeps_the_unbiased_text():
    """w_a + w_b > 1: no text every principal accepts; the biased drafter drafts what the
    unbiased one does (the rejection is the same)."""
    assert np.array_equal(first_text(pie(0.8, ra=0.7, rb=0.5)), first_text(pie(None, ra=0.7,
                                                                                  rb=0.5)))


# -- private information ---------------------------------------------------------------------------


@pytest.mark.parametrize("at,want", [(1.0, 0.5), (0.75, 0.375)])
def test_private_information_bias_one_is_the_one_round_monopoly_offer(at, want):
    sc = pie(1.0, info="private", ra=0.0, rb=U01, at=at)
    x = first_text(sc, 4)
    assert np.allclose(x, want, atol=1e-9, rtol=0)
    # with b accepting iff 1 - x >= w_b, the share agreeing in round 1 is 1 - x
    n = 40_000
    m = SummitModel(sc, n, seed=5).run()
    w = m.inputs["actors.b.reservation"]
    assert np.array_equal(m.outcome == 0, w <= 1.0 - want + FEASIBILITY_TOL)


def test_private_information_partial_bias_trades_acceptance_for_the_mediator():
    """Bias b, mediator at a's ideal: maximise v ((1 - b) + b (1 - v)), v = 1 - x b's share:
    v* = 1/(2b) for b > 1/2 (else 1, b's best text, as with no bias)."""
    for b in (0.3, 0.5, 0.6, 0.8):
        v = min(1.0, 1.0 / (2.0 * b))
        x = first_text(pie(b, info="private", ra=0.0, rb=U01), 2)
        assert np.allclose(x, 1.0 - v, atol=1e-9, rtol=0)


# -- invariants -------------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6),
       st.lists(st.floats(0.05, 1.0), min_size=6, max_size=6),
       st.floats(0.0, 1.0), st.sampled_from(["complete", "private"]),
       st.floats(0.0, 0.5), st.floats(0.5, 1.0))
def test_biased_texts_lie_in_the_box_and_pass_under_complete_information(pos, sal, bias, info,
                                                                        red_lo, cap):
    issues = ("t", "s")

    def actor(k, **kw):
        return {"position": dict(zip(issues, pos[2 * k:2 * k + 2])),
                "salience": dict(zip(issues, sal[2 * k:2 * k + 2])), **kw}

    sc = scenario({"a": {"role": "principal", **actor(0), "reservation": {
                        "dist": "uniform", "low": 0.0, "high": 0.6},
                         "red_lines": [f"t >= {red_lo!r}"]},
                   "b": {"role": "principal", **actor(1), "reservation": {
                        "dist": "uniform", "low": 0.0, "high": 0.6},
                         "red_lines": [f"s <= {cap!r}"]},
                   "us": {"role": "mediator", **actor(2), "bias": bias}},
                  issues=issues, kind="mediated", rounds=1, information=info)
    m = SummitModel(sc, 256, seed=2, trace=True)
    prm, w = m.params, m.state.reservation
    zone = m.solver.solve(w)[1]  # some text every principal accepts
    m.step()
    x = next(h for h in m.history if h["stage"] == "round")["text"]
    assert np.all(x >= prm.lo - 1e-12) and np.all(x <= prm.hi + 1e-12)
    if info == "complete":
        u = utilities(x, prm.prefs)
        assert np.all((u >= w - FEASIBILITY_TOL).all(axis=0) | ~zone)


def test_private_biased_texts_do_not_depend_on_the_other_worlds():
    """Worlds with the same public inputs are drafted once: a world's talks are the same
    whichever other worlds run beside it (two unknown values, three rounds of learning)."""
    sc = scenario({"a": principal({"pie": 1.0, "x": 0.3}, reservation=U01),
                   "b": principal({"pie": 0.0, "x": 0.8}, reservation=U01),
                   "us": mediator({"pie": 0.7, "x": 0.5}, 0.4)},
                  issues=("pie", "x"), kind="mediated", rounds=3, information="private")
    big, small = SummitModel(sc, 900, seed=3).run(), SummitModel(sc, 250, seed=3).run()
    assert np.array_equal(big.outcome[:250], small.outcome)
    assert np.array_equal(big.end_round[:250], small.end_round)
    assert np.allclose(big.terms[:, :250], small.terms, atol=1e-9, equal_nan=True)
