"""After the signing: a side breaks a signed text when the war is worth more than the text plus
the cost of breaking it (Fearon 1995; Powell 2006 on commitment; Walter 2002 and Fortna 2004 on
guarantees and peacekeepers raising that cost)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_scenario

from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import AGREEMENT, BREAKDOWN, CEASEFIRE
from negotiation_sim.run.chunks import iter_chunks

STEP = 0.02


def walk(step=STEP):
    """A symmetric walk of +-step a round, as a shift while a text holds: a drift of -step plus
    a jump of 2 step with probability 1/2."""
    return {"drift": -step, "jump_rate": 0.5, "jump": 2 * step}


def walk_scenario(rounds=10, breach=0.0, deterrence=None, with_ceasefire=False):
    """A pie agreed in round 1 at 0.5 (values of war 0.4 and 0.4, complete information), then
    a symmetric random walk of +-0.02 a round on a's value of resuming the war while it holds
    (horizon 3: every break comes after it, so none resumes the war)."""
    data = {
        "name": "walk", "issues": {"share": {"low": "all to b", "high": "all to a"}},
        "actors": {"a": {"role": "principal", "position": {"share": 1.0}, "reservation": 0.4},
                   "b": {"role": "principal", "position": {"share": 0.0}, "reservation": 0.4}},
        "protocol": {"rounds": 3},
        "durability": {"rounds": rounds, "breach_cost": {"a": breach}, "shifts": {"a": walk()}},
    }
    if deterrence is not None:
        data["durability"]["deterrence"] = {"a": {"share": deterrence}}
    return make_scenario(data)


def exact_hold_probability(steps: int, limit: int) -> float:
    """P(a simple symmetric random walk stays at or below ``limit`` for ``steps`` steps), by
    dynamic programming over its position (independent of the engine)."""
    p = {0: 1.0}
    for _ in range(steps):
        q: dict[int, float] = {}
        for k, v in p.items():
            for d in (-1, 1):
                if k + d <= limit:
                    q[k + d] = q.get(k + d, 0.0) + 0.5 * v
        p = q
    return sum(p.values())


KEYS = ("outcome", "end_round", "broken_round", "broken_by", "settled_round", "settled_kind",
        "signings", "resumed", "end_reason")


def run(sc, n=100_000, seed=3):
    chunks = list(iter_chunks(sc, n, seed=seed))
    return {k: np.concatenate([getattr(c, k) for c in chunks]) for k in KEYS}


def test_a_deal_holds_while_the_random_walk_stays_below_its_margin():
    """a signs at 0.5 with a value of war of 0.4: margin 0.1, i.e. five steps of 0.02. It breaks
    in the first follow-up round its value of war exceeds 0.5: the walk reaches six steps."""
    res = run(walk_scenario(rounds=10))
    assert (res["outcome"] == AGREEMENT).all() and (res["end_round"] == 1).all()
    held = (res["broken_round"] < 0).mean()
    assert held == pytest.approx(exact_hold_probability(10, 5), abs=0.005)
    assert set(np.unique(res["broken_by"][res["broken_round"] >= 0])) == {0}


def test_breach_costs_and_deterrence_raise_the_margin():
    """A breach cost of 0.04 adds two steps; deterrence 0.08 per unit of a signed share of 0.5
    adds 0.04 too."""
    expected = exact_hold_probability(10, 7)
    for sc in (walk_scenario(breach=0.04), walk_scenario(deterrence=0.08)):
        res = run(sc)
        assert (res["broken_round"] < 0).mean() == pytest.approx(expected, abs=0.005)


def test_breaks_happen_inside_the_followed_rounds():
    res = run(walk_scenario(rounds=6), 20_000)
    broke = res["broken_round"] >= 0
    gap = res["broken_round"][broke] - res["end_round"][broke]
    # six steps up are needed to break: the earliest break is six rounds after the signing, the
    # latest the last followed round
    assert gap.min() == 6 and gap.max() == 6


def test_not_followed_without_durability_rounds():
    res = run(walk_scenario(rounds=0), 4096)
    assert (res["broken_round"] == -1).all()


def test_following_does_not_depend_on_chunking():
    sc = walk_scenario(rounds=12)
    a = [c for c in iter_chunks(sc, 5000, seed=1, chunk_size=1024)]
    b = [c for c in iter_chunks(sc, 5000, seed=1, chunk_size=4096)]
    for key in ("outcome", "broken_round", "broken_by"):
        assert np.array_equal(np.concatenate([getattr(c, key) for c in a]),
                              np.concatenate([getattr(c, key) for c in b]))


def ceasefire_scenario(shifts=None, shock_sd=0.0, rounds=2):
    """Delegations only: nothing is signed; the ceasefire agreed in round 1 holds in the talks
    to the horizon, then is followed."""
    data = {
        "name": "cf", "issues": {"share": {}, "other": {"status_quo": 0.5}},
        "actors": {"a": {"role": "principal", "position": {"share": 1.0, "other": 0.5},
                         "reservation": 0.6},
                   "b": {"role": "principal", "position": {"share": 0.0, "other": 0.5},
                         "reservation": 0.6}},
        "summit": {"formats": {"talks": {"members": ["a", "b"], "level": "delegation"}}},
        "ceasefire": {"terms": {"share": 0.5}},
        "protocol": {"rounds": rounds},
        "durability": {"rounds": 8, "shifts": shifts or {}},
    }
    if shock_sd:
        data["events"] = [{"name": "front", "kind": "shock",
                           "draw": {"dist": "normal", "mean": 0.0, "sd": shock_sd},
                           "effect": {"actors.a.reservation": 1.0,
                                      "actors.b.reservation": -1.0}}]
    return make_scenario(data)


def test_ceasefires_are_followed_too():
    m = SummitModel(ceasefire_scenario({"a": walk()}), 2048, seed=2).run()
    assert (m.settled_kind == CEASEFIRE).all() and (m.settled_round == 1).all()
    assert (m.broken_round >= 0).any() and (m.broken_round < 0).any()


@pytest.mark.parametrize("sd", [0.01, 0.3, 5.0])
def test_shocks_of_any_size_leave_a_ceasefire_standing_without_shifts(sd):
    """While a ceasefire holds nobody fights: the battlefield's shocks do not fire, so without
    shifts in power it survives every round, in the talks and after the horizon."""
    for rounds in (2, 6):
        m = SummitModel(ceasefire_scenario(shock_sd=sd, rounds=rounds), 4096, seed=5).run()
        assert (m.outcome == CEASEFIRE).all()
        assert (m.broken_round == -1).all() and not m.resumed.any()


def test_a_steady_rise_breaks_the_text_in_the_round_the_timing_gives():
    """Known answer. a signs in round 1 a text worth 0.5 to it; its value of resuming the war
    starts at 0.40 and rises 0.02 a round; breaking costs it 0.03; no deterrence, no shocks.
    Timing: the shifts move values of war between rounds, before round s (from s = 2), and a
    side breaks in round s if then w(s) > u(x) + b. After k shifts w = 0.40 + 0.02 k, so the
    first k with 0.40 + 0.02 k > 0.53 is k = 7: the text breaks in round 1 + 7 = 8."""
    sc = walk_scenario(rounds=12, breach=0.03)
    data = sc.model_dump(mode="json", exclude_unset=True)
    data["durability"]["shifts"] = {"a": {"drift": 0.02}}
    res = run(make_scenario(data), 2048)
    assert (res["settled_round"] == 1).all() and (res["broken_round"] == 8).all()
    assert (res["broken_by"] == 0).all()
    assert not res["resumed"].any()  # round 8 is past the horizon (3): nothing resumes


def reopening_scenario(rate, horizon):
    """a (0.4) and b (0.3) split a pie: the Nash text gives a 0.55 in round 1. While a text
    holds, a's value of war jumps by 0.2 with probability ``rate`` a round: 0.6 breaks the
    first text, and the zone is still open (0.6 + 0.3 < 1), so the talks reconvene and sign a
    second (0.65 to a) the round after; the next jump (0.8) breaks it and shuts the zone."""
    return make_scenario({
        "name": "reopen", "issues": {"share": {"low": "all to b", "high": "all to a"}},
        "actors": {"a": {"role": "principal", "position": {"share": 1.0}, "reservation": 0.4},
                   "b": {"role": "principal", "position": {"share": 0.0}, "reservation": 0.3}},
        "protocol": {"rounds": horizon},
        "durability": {"rounds": 4, "shifts": {"a": {"jump_rate": rate, "jump": 0.2}}},
    })


def test_a_break_resumes_the_war_and_a_second_text_can_be_signed():
    """Hand count. A jump before round r (r = 2..H) breaks the first text in round r; it
    resumes the war if r < H, and the second text is signed in round r + 1 <= H. So two
    signings happen exactly when the first jump comes before some round 2..H-1:
    P = 1 - (1-p)^(H-2). The second text breaks before the horizon (the war resumes, the zone
    is shut: breakdown) when a second jump comes before a round r + 2 .. H - 1; else it is in
    force at the horizon (agreement)."""
    p, H, n = 0.2, 6, 100_000
    res = run(reopening_scenario(p, H), n, seed=11)
    two = res["signings"] == 2
    assert set(np.unique(res["signings"])) == {1, 2}
    assert two.mean() == pytest.approx(1 - (1 - p) ** (H - 2), abs=0.006)
    assert np.array_equal(res["resumed"], two | (res["outcome"] == BREAKDOWN))
    # Every world's first text is a settlement signed in round 1, broken by a.
    assert (res["settled_round"] == 1).all() and (res["settled_kind"] == AGREEMENT).all()
    assert set(np.unique(res["broken_by"][res["broken_round"] >= 0])) == {0}
    # The second text (signed in round r + 1) is in force at the horizon unless a jump breaks
    # it before the horizon, in rounds r + 2 .. H - 1 (a break in round H resumes nothing):
    # sum over r of P(first jump before round r) P(no jump in those max(H - r - 2, 0) rounds).
    hold = sum(p * (1 - p) ** (r - 2) * (1 - p) ** max(H - r - 2, 0) for r in range(2, H))
    assert (two & (res["outcome"] == AGREEMENT)).mean() == pytest.approx(hold, abs=0.006)
    assert (res["outcome"] == BREAKDOWN).mean() == pytest.approx(
        1 - (1 - p) ** (H - 2) - hold, abs=0.006)


def test_deterrence_of_both_sides_changes_who_breaks():
    """Both sides' values of resuming the war jump alike; without deterrence both break texts
    (a first where both cross in the same round); a guarantee that deters b too leaves only a
    breaking."""
    def sc(deter_b):
        data = {
            "name": "both", "issues": {"share": {"low": "all to b", "high": "all to a"}},
            "actors": {"a": {"role": "principal", "position": {"share": 1.0},
                             "reservation": 0.4},
                       "b": {"role": "principal", "position": {"share": 0.0},
                             "reservation": 0.4}},
            "protocol": {"rounds": 2},
            "durability": {"rounds": 10, "shifts": {"a": walk(), "b": walk()},
                           "deterrence": {"b": {"share": deter_b}}},
        }
        return make_scenario(data)
    free = run(sc(0.0), 20_000)
    by = free["broken_by"][free["broken_round"] >= 0]
    assert set(np.unique(by)) == {0, 1}
    # b's cost of breaking rises by 0.5 x 0.5 = 0.25: more than ten steps of 0.02
    deterred = run(sc(0.5), 20_000)
    by = deterred["broken_by"][deterred["broken_round"] >= 0]
    assert set(np.unique(by)) == {0}
    assert (deterred["broken_round"] >= 0).mean() < (free["broken_round"] >= 0).mean()


def test_lifting_the_pressure_at_the_signing_gives_back_what_it_took():
    """``leverage: ends``: a deal bought by pressure breaks once the pressure is lifted (the
    value of war comes back above the text's worth); with ``follows`` it holds."""
    def sc(leverage):
        return make_scenario({
            "name": "lev", "issues": {"share": {"low": "all to b", "high": "all to a"}},
            "actors": {"a": {"role": "principal", "position": {"share": 1.0},
                             "reservation": 0.62},
                       "b": {"role": "principal", "position": {"share": 0.0},
                             "reservation": 0.45},
                       "m": {"role": "mediator", "pressure": {"a": 0.05},
                             "pressure_applies": "always"}},
            "protocol": {"rounds": 6},
            "durability": {"rounds": 6, "leverage": leverage},
        })
    kept = run(sc("follows"), 1024)
    lifted = run(sc("ends"), 1024)
    assert (kept["settled_kind"] == AGREEMENT).all() and (kept["broken_round"] < 0).all()
    assert (lifted["broken_round"] >= 0).all() and (lifted["broken_by"] == 0).all()
    assert lifted["resumed"].all()  # before the horizon: the war resumes


def test_the_summary_and_the_runs_table_report_durability(tmp_path):
    import negotiation_sim as ns

    res = ns.run(walk_scenario(rounds=10), runs=20_000, seed=3, out=tmp_path / "r")
    d = res.summary["durability"]
    assert d["ceasefire"] is None and d["agreement"]["signed"] == 20_000
    assert d["agreement"]["broken_by"] == {"a": 1.0, "b": 0.0}
    assert d["agreement"]["resumed"] == 0.0
    ci = d["agreement"]["holding_ci95"]
    assert all(lo <= h <= hi for h, (lo, hi) in zip(d["agreement"]["holding"], ci))
    assert res.summary["in_force"]["share"] == 1.0
    share = d["agreement"]["holds"]["share"]
    lo, hi = d["agreement"]["holds"]["ci95"]
    assert lo <= share <= hi and share == pytest.approx(exact_hold_probability(10, 5), abs=0.01)
    holding = d["agreement"]["holding"]
    assert holding[0] == 1.0 and holding == sorted(holding, reverse=True) and len(holding) == 11
    assert holding[:6] == [1.0] * 6  # six steps up are needed to break
    assert d["agreement"]["median_rounds"] is None  # more than half hold
    runs = res.runs
    broke = runs["broken_round"].notna()
    assert (broke.mean() == pytest.approx(1 - share, abs=1e-12))
    assert set(runs.loc[broke, "broken_by"]) == {"a"}
    assert set(runs["end_reason"]) == {"agreed"}
    assert res.summary["end_reasons"]["agreed"] == 1.0
    assert (tmp_path / "r" / "durability.png").exists()


def test_the_runs_table_leaves_the_first_text_null_where_nothing_took_effect():
    """``settled_kind`` is coded as an outcome but is null where no text took effect (unlike
    ``outcome``, which every world has), and round-trips through the part files."""
    import negotiation_sim as ns
    from conftest import ROOT

    res = ns.run(ROOT / "scenarios" / "summit_baseline.yaml", runs=2048, seed=0)
    runs = res.runs
    none = runs["settled_round"].isna()
    assert none.any() and (~none).any()
    assert runs["settled_kind"].isna().equals(none)
    assert set(runs.loc[~none, "settled_kind"]) <= {"agreement", "ceasefire"}
