"""After the signing: a side breaks a signed text when the war is worth more than the text plus
the cost of breaking it (Fearon 1995; Powell 2006 on commitment; Walter 2002 and Fortna 2004 on
guarantees and peacekeepers raising that cost)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_scenario

from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import AGREEMENT, CEASEFIRE
from negotiation_sim.run.chunks import iter_chunks

STEP = 0.02


def walk_scenario(rounds=10, breach=0.0, deterrence=None, with_ceasefire=False):
    """A pie agreed in round 1 at 0.5 (values of war 0.4 and 0.4, complete information), then
    a symmetric random walk of +-0.02 a round on a's value of war."""
    data = {
        "name": "walk", "issues": {"share": {"low": "all to b", "high": "all to a"}},
        "actors": {"a": {"role": "principal", "position": {"share": 1.0}, "reservation": 0.4},
                   "b": {"role": "principal", "position": {"share": 0.0}, "reservation": 0.4}},
        "protocol": {"rounds": 3},
        "events": [{"name": "front", "kind": "shock",
                    "draw": {"dist": "choice", "values": [-STEP, STEP]},
                    "effect": {"actors.a.reservation": 1.0}}],
        "durability": {"rounds": rounds, "breach_cost": {"a": breach}},
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


def run(sc, n=100_000, seed=3):
    chunks = list(iter_chunks(sc, n, seed=seed))
    return {k: np.concatenate([getattr(c, k) for c in chunks])
            for k in ("outcome", "end_round", "broken_round", "broken_by")}


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


def test_ceasefires_are_followed_too():
    data = {
        "name": "cf", "issues": {"share": {}, "other": {"status_quo": 0.5}},
        "actors": {"a": {"role": "principal", "position": {"share": 1.0, "other": 0.5},
                         "reservation": 0.6},
                   "b": {"role": "principal", "position": {"share": 0.0, "other": 0.5},
                         "reservation": 0.6}},
        # Delegations only: nothing is signed, the ceasefire agreed in round 1 is followed.
        "summit": {"formats": {"talks": {"members": ["a", "b"], "level": "delegation"}}},
        "ceasefire": {"terms": {"share": 0.5}},
        "protocol": {"rounds": 2},
        "events": [{"name": "front", "kind": "shock", "draw": {"dist": "choice",
                                                              "values": [-STEP, STEP]},
                    "effect": {"actors.a.reservation": 1.0}}],
        "durability": {"rounds": 8},
    }
    m = SummitModel(make_scenario(data), 2048, seed=2).run()
    assert (m.outcome == CEASEFIRE).all()
    assert (m.broken_round >= 0).any() and (m.broken_round < 0).any()


def test_the_summary_and_the_runs_table_report_durability(tmp_path):
    import negotiation_sim as ns

    res = ns.run(walk_scenario(rounds=10), runs=20_000, seed=3, out=tmp_path / "r")
    d = res.summary["durability"]
    assert d["ceasefire"] is None and d["agreement"]["signed"] == 20_000
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
