"""Alternating offers under private information: one-sided screening against bargaining theory.

a proposes every round (``order: [a]``); b's value of war is private, drawn from the prior
everyone holds. Every expected value is derived here (closed forms of the skimming recursion for
a uniform belief and a unit pie, or a brute-force program written independently of the engine),
never read back from the engine.

The derivations, for a unit pie (a's ideal 1, b's 0), w_a = 0, b's value of war U(0, 1), values
per round, no ceasefire, b's share v:

- last round, remaining types (k, 1]: a offers v = (1 + k) / 2 (max (1 - v)(v - k)); a's
  unnormalised value (1 - k)^2 / 4, the marginal type k gets (1 + k) / 2.
- earlier rounds: with a's value S(k) = sigma (1 - k)^2 and the marginal type's offer
  k + beta (1 - k) next round, a chooses y = 1 - k' (k' the new cutoff) to maximise
  (r - y) y c + d_a sigma y^2 with r = 1 - k, c = 1 (sincere: the cutoff type takes any offer
  worth its war) or c = 1 - d_b beta (strategic: type k' takes v iff
  v >= (1 - d_b) k' + d_b (k' + beta (1 - k'))). Hence gamma = y / r = c / (2 (c - d_a sigma)),
  sigma <- c^2 / (4 (c - d_a sigma)), beta <- 1 - gamma c, the offer 1 - gamma c r.
- two rounds, d_a = d_b = d: sincere v1 = (2 - d) / (4 - d), v2 = (1 + v1) / 2; strategic cutoff
  k = 2 (1 - d) / (4 - 3 d), v1 = (1 - d/2) k + d/2, v2 = (1 + k) / 2 (d = 0.9: 0.3548, 0.6774;
  0.1538, 0.5346, 0.5769).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import negotiation_sim.core.protocols.alternating as alt
import negotiation_sim.core.solvers.screening as screening
from negotiation_sim.core.protocols.base import CAUSES
from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import AGREEMENT, NO_SUMMIT
from negotiation_sim.run.chunks import iter_chunks
from negotiation_sim.run.trace import trace_world
from tests.protocol_helpers import principal, scenario

U01 = {"dist": "uniform", "low": 0.0, "high": 1.0}
KINDS = ("sincere", "strategic")


def one_sided(rounds, responders, da=0.9, db=0.9, rb=U01, ra=0.0, **extra):
    return scenario({"a": principal({"pie": 1.0}, patience=da, reservation=ra),
                     "b": principal({"pie": 0.0}, patience=db, reservation=rb, **extra)},
                    kind="alternating_offers", rounds=rounds, order=["a"],
                    information="private", responders=responders)


def screen_plan(sc, n=1, seed=0):
    """The screening plan recorded at formation: ``(offers (T,), cutoffs (T,), a's value)``."""
    m = SummitModel(sc, n, seed=seed, trace=True)
    m.step()  # the plan is made when the calendar opens, in round 1
    h = next(h for h in m.history if h["stage"] == "screen")
    return h["offer"][:, 0], h["cutoff"][:, 0], h["value"][0]


def skimming_closed_form(T, da, db, strategic):
    """Offers and cutoffs on the path of rejections, and a's value (module docstring)."""
    beta = sigma = 0.0
    steps = []
    for _ in range(T):
        c = 1.0 - db * beta if strategic else 1.0
        gamma = c / (2.0 * (c - da * sigma))
        sigma = c * c / (4.0 * (c - da * sigma))
        beta = 1.0 - gamma * c
        steps.append((gamma, c))
    k, offers, cuts = 0.0, [], []
    for gamma, c in reversed(steps):
        r = 1.0 - k
        offers.append(1.0 - gamma * c * r)
        k = 1.0 - gamma * r
        cuts.append(k)
    return np.array(offers), np.array(cuts), sigma


def shares(sc, runs, seed=1):
    out = [np.array([]), np.array([])]
    for c in iter_chunks(sc, runs, seed=seed):
        out[0] = np.concatenate([out[0], c.outcome])
        out[1] = np.concatenate([out[1], c.end_round])
    return out


def mc_tol(p, n):
    return 4.0 * np.sqrt(p * (1.0 - p) / n) + 1e-12


# -- known answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("responders", KINDS)
def test_one_round_offers_half_and_half_the_worlds_agree(responders):
    sc = one_sided(1, responders)
    offers, cuts, value = screen_plan(sc)
    assert offers[0] == pytest.approx(0.5, abs=1e-9) and cuts[0] == pytest.approx(0.5, abs=1e-9)
    assert value == pytest.approx(0.25, abs=1e-9)  # max v (1 - v)
    n = 100_000
    outcome, _ = shares(sc, n)
    assert (outcome == AGREEMENT).mean() == pytest.approx(0.5, abs=mc_tol(0.5, n))
    m = SummitModel(sc, 4096, seed=2).run()
    w = m.inputs["actors.b.reservation"]
    assert np.array_equal(m.outcome == AGREEMENT, w <= 0.5)
    assert np.allclose(m.terms[0, m.outcome == AGREEMENT], 0.5)


@pytest.mark.parametrize("responders", KINDS)
def test_two_rounds_match_the_derivation(responders):
    d = 0.9
    if responders == "sincere":
        v1 = (2 - d) / (4 - d)
        k1, v2 = v1, (1 + v1) / 2
    else:
        k1 = 2 * (1 - d) / (4 - 3 * d)
        v1, v2 = (1 - d / 2) * k1 + d / 2, (1 + k1) / 2
    assert (v1, v2) == pytest.approx((0.3548, 0.6774) if responders == "sincere"
                                     else (0.5346, 0.5769), abs=1e-4)
    sc = one_sided(2, responders, d, d)
    offers, cuts, _ = screen_plan(sc)
    # a uniform belief and a unit pie make a's value quadratic in the belief's CDF, where the
    # refined optimum is exact: the plan agrees with theory to rounding
    assert np.allclose(offers, [v1, v2], atol=1e-9) and np.allclose(cuts, [k1, v2], atol=1e-9)
    n = 100_000
    outcome, rnd = shares(sc, n)
    first = (outcome == AGREEMENT) & (rnd == 1)
    second = (outcome == AGREEMENT) & (rnd == 2)
    assert first.mean() == pytest.approx(k1, abs=mc_tol(k1, n))
    assert second.mean() == pytest.approx(v2 - k1, abs=mc_tol(v2 - k1, n))


@pytest.mark.parametrize("responders", KINDS)
@pytest.mark.parametrize("T,da,db", [(2, 0.8, 0.95), (3, 0.9, 0.9), (5, 0.9, 0.7),
                                     (6, 0.95, 0.95)])
def test_longer_horizons_follow_the_skimming_recursion(responders, T, da, db):
    offers, cuts, sigma = skimming_closed_form(T, da, db, responders == "strategic")
    got_offers, got_cuts, value = screen_plan(one_sided(T, responders, da, db))
    assert np.allclose(got_offers, offers, atol=1e-7)
    assert np.allclose(got_cuts, cuts, atol=1e-7)
    assert value == pytest.approx(sigma, abs=1e-9)


def test_strategic_responders_wait_and_agreement_comes_later():
    """A strategic responder that expects a better offer rejects one it prefers to war:
    fewer agree in round 1, the first offer is higher, and some reject a text above their
    value of war (the trace's cause 'strategic wait')."""
    sincere = screen_plan(one_sided(2, "sincere"))
    strategic = screen_plan(one_sided(2, "strategic"))
    assert strategic[1][0] < sincere[1][0] and strategic[0][0] > sincere[0][0]
    m = SummitModel(one_sided(2, "strategic"), 2048, seed=3, trace=True).run()
    first = next(h for h in m.history if h.get("stage") == "round" and h["round"] == 1)
    wait = CAUSES.index("strategic wait")
    assert (first["cause"][1] == wait).any()
    assert (first["value"][1][first["cause"][1] == wait]
            >= first["reservation"][1][first["cause"][1] == wait]).all()


def brute_force_sincere(F, T, d, grid=4001):
    """Sincere responder, a's war 0, unit pie, any prior CDF ``F`` on [0, 1], T <= 2: a's
    optimal offers by exhaustive search on a fine grid (last round first)."""
    v = np.linspace(0.0, 1.0, grid)
    Fv = F(v)

    def last(k):  # a's unnormalised value and offer from state k
        val = np.where(v[None] >= k[:, None], (Fv[None] - F(k)[:, None]) * (1 - v[None]),
                       -np.inf)
        i = np.argmax(val, axis=1)
        return val[np.arange(k.size), i], v[i]

    if T == 1:
        return [last(np.array([0.0]))[1][0]]
    cont, _ = last(v)
    total = Fv * (1 - v) + d * cont
    v1 = v[np.argmax(total)]
    return [v1, last(np.array([v1]))[1][0]]


@pytest.mark.parametrize("T", [1, 2])
def test_sincere_screening_of_a_normal_belief_matches_brute_force(T):
    prior = {"dist": "normal", "mean": 0.4, "sd": 0.15, "low": 0.0, "high": 1.0}
    from scipy.special import ndtr

    a, b = ndtr((0 - 0.4) / 0.15), ndtr((1 - 0.4) / 0.15)

    def F(y):
        return (ndtr((np.clip(y, 0, 1) - 0.4) / 0.15) - a) / (b - a)

    expected = brute_force_sincere(F, T, 0.9)
    offers, _, _ = screen_plan(one_sided(T, "sincere", rb=prior))
    # stated precision of 128 cells on a smooth belief (docs/protocols.md): 1e-3; the brute
    # force's own grid adds 2.5e-4
    assert np.allclose(offers, expected, atol=1e-3)


# -- regimes --------------------------------------------------------------------------------


def test_fixed_values_under_private_information_play_the_complete_information_plan():
    """With every value of war a fixed number nothing is private: the private path must give
    exactly the subgame-perfect outcomes (Stahl's finite horizon)."""
    for T in (1, 2, 5):
        complete = scenario({"a": principal({"pie": 1.0}, patience=0.9),
                             "b": principal({"pie": 0.0}, patience=0.8)},
                            kind="alternating_offers", rounds=T, first_proposer="a")
        data = complete.model_dump(mode="json", exclude_unset=True)
        data["protocol"]["information"] = "private"
        private = Scenario.model_validate(data)
        a, b = SummitModel(complete, 1).run(), SummitModel(private, 1).run()
        assert np.array_equal(a.outcome, b.outcome) and np.allclose(a.terms, b.terms)


def test_two_proposers_make_myopic_screening_offers():
    """order [a, b], b private: round 1's text is a's one-round screening offer, max v(1 - v):
    1/2 (the myopic rule, exact in a single round)."""
    sc = scenario({"a": principal({"pie": 1.0}), "b": principal({"pie": 0.0}, reservation=U01)},
                  kind="alternating_offers", rounds=1, order=["a", "b"], information="private")
    m = SummitModel(sc, 4096, seed=1).run()
    agreed = m.outcome == AGREEMENT
    assert np.allclose(m.terms[0, agreed], 0.5, atol=1.0 / 32)
    assert agreed.mean() == pytest.approx(1 - m.terms[0, agreed][0], abs=mc_tol(0.5, 4096))


def test_an_event_that_reveals_the_value_switches_to_complete_information():
    data = one_sided(4, "strategic").model_dump(mode="json", exclude_unset=True)
    data["events"] = [{"name": "revealed", "kind": "scheduled", "round": 2,
                       "set": {"actors.b.reservation": 0.3}}]
    m = SummitModel(Scenario.model_validate(data), 2048, seed=4).run()
    late = m.end_round >= 2
    assert late.any() and (m.outcome[late] == AGREEMENT).all()
    # complete information from round 2: a gives b exactly what rejecting is worth (0.3 now,
    # then b's war at 0.3 for ever: 0.3), in round 2
    assert np.allclose(m.terms[0, late], 0.7, atol=1e-9) and (m.end_round[late] == 2).all()


# -- invariants -------------------------------------------------------------------------------


@st.composite
def screening_scenarios(draw):
    K = draw(st.integers(1, 2))
    issues = ["x", "y"][:K]
    unit = st.floats(0, 1).map(lambda v: round(v, 3))
    lo = draw(st.floats(0.0, 0.5))
    actors = {
        "a": {"role": "principal", "position": {k: draw(unit) for k in issues},
              "salience": {k: draw(st.floats(0.1, 1)) for k in issues},
              "utility": draw(st.sampled_from(["linear", "quadratic"])),
              "reservation": draw(st.floats(0.0, 0.5)), "patience": draw(st.floats(0.6, 1.0))},
        "b": {"role": "principal", "position": {k: draw(unit) for k in issues},
              "salience": {k: draw(st.floats(0.1, 1)) for k in issues},
              "reservation": draw(st.sampled_from([
                  {"dist": "uniform", "low": lo, "high": lo + draw(st.floats(0.05, 0.5))},
                  {"dist": "normal", "mean": lo + 0.2, "sd": 0.1},
                  {"dist": "beta", "a": 2.0, "b": 3.0}])),
              "patience": draw(st.floats(0.6, 1.0)), "walkout": draw(st.floats(0, 0.2)),
              "red_lines": [f"{issues[0]} <= {draw(st.floats(0.3, 1)):.3f}"]
              if draw(st.booleans()) else []},
    }
    if draw(st.booleans()):
        actors["m"] = {"role": "mediator",
                       "pressure": {"b": draw(st.floats(0.0, 0.05))},
                       "pressure_applies": "always"}
    data = {"name": "h", "issues": {k: {"status_quo": draw(unit)} for k in issues},
            "actors": actors,
            "protocol": {"kind": "alternating_offers", "rounds": draw(st.integers(1, 5)),
                         "order": ["a"], "information": "private",
                         "responders": draw(st.sampled_from(KINDS))}}
    if draw(st.booleans()):
        data["ceasefire"] = {"terms": {issues[0]: draw(unit)}}
    if draw(st.booleans()):
        data["events"] = [{"name": "front", "kind": "shock",
                           "draw": {"dist": "normal", "mean": 0.0, "sd": 0.03},
                           "effect": {"actors.b.reservation": -1.0}}]
    return Scenario.model_validate(data)


@settings(max_examples=25, deadline=None)
@given(sc=screening_scenarios())
def test_screening_keeps_beliefs_true_and_agreements_worth_the_war(sc):
    m = SummitModel(sc, 256, seed=5, trace=True)
    while m.running:
        assert m.state.beliefs.true_value_inside(m.params.reservation).all()
        m.step()
    agreed = m.outcome == AGREEMENT
    # sincere responders by their rule, strategic ones by the signing floor, and the proposer
    # signs only a text worth its value of war now
    assert (m.utility[:2, agreed] >= m.war[:, agreed] - 1e-9).all()
    assert np.bincount(m.outcome, minlength=4).sum() == m.n_worlds
    strategic = sc.protocol.responders == "strategic"
    for h in m.history:
        if h.get("stage") != "round":
            continue
        offered = h["offer"] & (h["regime"] == alt.SCREEN)
        w1 = m.inputs["actors.b.reservation"][h["world"]]
        if strategic:  # an offer is taken exactly by the types at or below the cutoff
            assert np.array_equal(h["accept"][1][offered], (w1 <= h["cutoff"])[offered]
                                  & (h["value"][1] >= h["reservation"][1] - 1e-9)[offered])
        else:  # a sincere responder takes every offer worth its value of war now
            assert np.array_equal(h["accept"][1][offered],
                                  (h["value"][1] >= h["reservation"][1] - 1e-9)[offered])


def test_chunking_does_not_change_results():
    """Per-world plans (walk-out drawn, shocks) and shared ones (cached) alike."""
    drawn = one_sided(4, "strategic", walkout={"dist": "uniform", "low": 0.0, "high": 0.2},
                      rb={"dist": "normal", "mean": 0.4, "sd": 0.2, "low": 0.0, "high": 1.0})
    data = drawn.model_dump(mode="json", exclude_unset=True)
    data["events"] = [{"name": "front", "kind": "shock",
                       "draw": {"dist": "normal", "mean": 0.0, "sd": 0.02},
                       "effect": {"actors.b.reservation": 1.0}}]
    shocked = Scenario.model_validate(data)
    for sc in (drawn, shocked, one_sided(3, "sincere")):
        runs = []
        for size in (1024, 2048):
            screening._PLAN_CACHE.clear()
            chunks = list(iter_chunks(sc, 2500, seed=7, chunk_size=size))
            runs.append({k: np.concatenate([getattr(c, k) for c in chunks], axis=-1)
                         for k in ("outcome", "end_round", "terms", "utility")})
        for k in runs[0]:
            assert np.array_equal(runs[0][k], runs[1][k], equal_nan=True), k


# -- the pieces ---------------------------------------------------------------------------------


def test_hull_envelope_equals_evaluating_every_pair():
    rng = np.random.default_rng(0)
    G1, g = 40, 50
    A = -np.sort(-rng.random((G1, g)), axis=0)  # falling in e, as offers rise
    A[rng.random((G1, g)) < 0.2] = np.nan
    A = np.where(np.isnan(A), np.roll(A, 1, axis=0), A)
    A = np.minimum.accumulate(np.nan_to_num(A, nan=0.5), axis=0)
    alpha = rng.random((G1, g))
    F = np.sort(rng.random((G1, g)), axis=0)
    usable = rng.random((G1, g)) < 0.7
    best, arg = screening.hull_envelope(alpha, A, usable, F)
    val = alpha[None, :, :] - F[:, None, :] * A[None, :, :]  # (j, e, g)
    ok = usable[None] & (np.arange(G1)[None, :, None] > np.arange(G1)[:, None, None])
    val = np.where(ok, val, -np.inf)
    assert np.allclose(best, val.max(axis=1))
    some = np.isfinite(best)
    chosen = np.take_along_axis(val, np.maximum(arg, 0)[:, None, :], axis=1)[:, 0]
    assert np.allclose(chosen[some], best[some]) and (arg[~some] == -1).all()


@pytest.mark.parametrize("dist", [U01, {"dist": "normal", "mean": 0.3, "sd": 0.2},
                                  {"dist": "beta", "a": 2.0, "b": 5.0},
                                  {"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.9},
                                  {"dist": "choice", "values": [0.2, 0.5, 0.7],
                                   "weights": [0.5, 0.3, 0.2]}])
def test_quantile_inverts_the_prior(dist):
    from negotiation_sim.core.beliefs import Prior

    sc = one_sided(1, "sincere", rb=dist)
    prior = Prior(sc.actors["b"].reservation)
    z = np.linspace(0.01, 0.99, 99)
    q = prior.ppf(z)  # the distribution's own quantile function
    assert (prior.cdf(q) >= z - 1e-9).all()  # the smallest value reaching z ...
    assert (prior.cdf(q - 1e-6) <= z + 1e-6).all()  # ... and no smaller one


def test_linear_frontier_is_what_the_proposer_keeps():
    sc = scenario({"a": principal({"x": 1.0, "y": 1.0}, salience={"x": 0.7, "y": 0.3}),
                   "b": principal({"x": 0.0, "y": 0.0}, salience={"x": 0.2, "y": 0.8})},
                  issues=("x", "y"), kind="alternating_offers", rounds=1, order=["a"])
    m = SummitModel(sc, 1)
    prm = m.params
    fr = screening.Frontier(prm.prefs, prm.lo, prm.hi)
    v = np.linspace(fr.v_min[0], fr.v_max[0], 11)[:, None]
    from negotiation_sim.core.preferences import utilities
    from negotiation_sim.core.solvers.proposer import proposer_text

    for vi, Ai in zip(v[:, 0], fr.value(v)[:, 0]):
        x, _ = proposer_text(prm.prefs, 0, np.array([[0.0], [vi]]), prm.lo, prm.hi)
        assert Ai == pytest.approx(utilities(x, prm.prefs)[0, 0], abs=1e-12)


# -- summits and traces -------------------------------------------------------------------------


def test_formation_gains_are_the_plan_values_and_attending_is_free():
    """One round: a expects v (1 - v) = 1/4 above its war (0); type w of b expects
    max(1/2 - w, 0). With no audience cost every summit is held."""
    data = one_sided(1, "strategic").model_dump(mode="json", exclude_unset=True)
    data["summit"] = {"formats": {"bilateral": ["a", "b"]}}
    m = SummitModel(Scenario.model_validate(data), 2048, seed=8, trace=True)
    m.step()  # the calendar opens: round 1's invitations are decided on the plan's values
    gain = next(h for h in m.history if h["stage"] == "convene")["gain"]
    w = m.inputs["actors.b.reservation"]
    assert np.allclose(gain[0], 0.25, atol=1e-9)
    assert np.allclose(gain[1], np.maximum(0.5 - w, 0.0), atol=1e-9)
    m.run()
    assert not (m.outcome == NO_SUMMIT).any()


def test_negsim_trace_reads_a_screening_world():
    story = trace_world(one_sided(3, "strategic"), seed=0, world=5)
    assert story["rounds"] and {"text", "value", "accept", "proposer"} <= set(story["rounds"][0])
