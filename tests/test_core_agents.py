"""The agents: results placed by identity, never by the order an ``AgentSet`` iterates in.

Mesa users shuffle and sort agent sets as a matter of course (``AgentSet.shuffle``, ``sort``);
the model places every agent's answer by its row ``index`` (``core.agents.rows``), so doing so
in place, before formation or between rounds, changes no number. Each protocol of the registry
(``core.protocols.PROTOCOLS``) is held to it with three principals, two mediators (one pressing
from outside the table), two guarantors, a ceasefire, events and a follow-up of signed texts, under
complete and private information, and with the shipped two-principal baseline.
"""

from __future__ import annotations


import numpy as np
import pytest
from conftest import ROOT, make_scenario

from negotiation_sim.api import load_scenario
from negotiation_sim.core.agents import in_rows, rows, stacked
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.preferences import FEASIBILITY_TOL, accepts
from negotiation_sim.core.protocols import PROTOCOLS
from negotiation_sim.results.summary import Accumulator

N = 48


def three_principals(kind: str, information: str):
    """Three principals with drawn values of war, two mediators, two guarantors, events."""
    actors = {
        "a": {"role": "principal", "position": {"x": 1.0, "y": 0.9},
              "salience": {"x": 0.7, "y": 0.3}, "reservation": {"dist": "uniform", "low": 0.3,
                                                                 "high": 0.75},
              "patience": 0.93, "claim": 0.05, "concession": 0.4, "walkout": 0.05, "clout": 1.3},
        "b": {"role": "principal", "position": {"x": 0.0, "y": 0.2},
              "salience": {"x": 0.4, "y": 0.6}, "reservation": {"dist": "uniform", "low": 0.3,
                                                                 "high": 0.7},
              "patience": 0.9, "walkout": 0.08, "red_lines": ["x <= 0.8"]},
        "c": {"role": "principal", "position": {"x": 0.4, "y": 0.0},
              "reservation": {"dist": "triangular", "low": 0.2, "mode": 0.5, "high": 0.8},
              "patience": 0.95, "walkout": 0.03,
              "audience_cost": {"full": {"dist": "uniform", "low": 0.0, "high": 0.2},
                                "bare": 0.01}},
        "m1": {"role": "mediator", "pressure": {"a": 0.02, "b": 0.01}, "backlash": 0.5},
        "m2": {"role": "mediator", "pressure": {"c": 0.015, "a": -0.005},
               "pressure_applies": "always"},
        "g1": {"role": "guarantor", "offer": {"y": 0.7}},
        "g2": {"role": "guarantor", "offer": {"y": 0.5, "x": 0.9}},
    }
    protocol = {"kind": kind, "rounds": 5, "information": information}
    if kind == "alternating_offers":
        protocol["order"] = ["b", "c", "a"]
    data = {"name": "three", "issues": {"x": {"status_quo": 0.6}, "y": {"status_quo": 0.3}},
            "actors": actors, "protocol": protocol,
            "summit": {"formats": {"full": ["a", "b", "c", "m1", "m2"], "bare": ["a", "b", "c"]}},
            "ceasefire": {"terms": {"x": 0.6}},
            "events": [{"name": "front", "kind": "shock", "draw": {"dist": "normal", "mean": 0.0,
                                                                    "sd": 0.05},
                        "effect": {"actors.a.reservation": 1.0, "actors.b.reservation": -0.5}}],
            "durability": {"rounds": 3, "breach_cost": {"a": 0.02}}}
    return make_scenario(data)


def cases():
    for kind in PROTOCOLS:
        for information in ("complete", "private"):
            yield pytest.param(lambda k=kind, i=information: three_principals(k, i),
                               id=f"three-{kind}-{information}")
        yield pytest.param(lambda k=kind: _baseline(k), id=f"baseline-{kind}")


def _baseline(kind: str):
    sc = load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    data = sc.model_dump(mode="json", exclude_none=True, warnings=False)
    data["protocol"] = {"kind": kind, "rounds": 6}
    return type(sc).model_validate(data)


def _sets(model: SummitModel):
    return [model.principals, model.mediators, model.guarantors, model.agents]


class Reversed(SummitModel):
    """Every agent set in reverse row order from before formation on, and shuffled each round."""

    def _init_agents(self) -> None:
        super()._init_agents()
        for agents in _sets(self):
            agents.sort(lambda a: (a.role, a.index), ascending=False, inplace=True)

    def step(self) -> None:
        for agents in _sets(self):
            agents.shuffle(inplace=True)
        super().step()


def _outputs(model: SummitModel, sc) -> tuple[dict, dict]:
    result = model.result()
    arrays = {**result.outputs(), "inputs": result.inputs, "solutions": result.solutions,
              "by_round": result.by_round}
    acc = Accumulator.for_scenario(sc)
    acc.add(result)
    return arrays, acc.summary(sc.name, 7)


def _same(a, b, path="") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    else:
        assert (a == b) or (a != a and b != b), (path, a, b)  # NaN equals NaN here


@pytest.mark.parametrize("build", list(cases()))
def test_reordering_every_agent_set_in_place_changes_no_number(build):
    sc = build()
    plain = SummitModel(sc, N, seed=7, solutions=True).run()
    moved = Reversed(sc, N, seed=7, solutions=True)
    assert [a.index for a in moved.principals] == list(range(len(moved.principals)))[::-1]
    moved.run()
    assert plain.steps == moved.steps
    _same(_outputs(plain, sc), _outputs(moved, sc))


def test_rows_place_answers_by_index_not_by_iteration_order():
    sc = three_principals("mediated", "complete")
    m = SummitModel(sc, 4, seed=1)
    m.principals.shuffle(inplace=True)
    m.principals.sort(lambda a: a.index, ascending=False, inplace=True)
    assert [a.index for a in in_rows(m.principals)] == [0, 1, 2]
    assert rows(m.principals, "__repr__") == ["PrincipalAgent('a')", "PrincipalAgent('b')",
                                              "PrincipalAgent('c')"]
    value = np.array([[0.5], [0.2], [0.9]])
    demand = np.array([[0.5 + FEASIBILITY_TOL / 2], [0.3], [0.1]])
    np.testing.assert_array_equal(stacked(m.principals, "responds", value, demand),
                                  [[True], [False], [True]])


def test_the_acceptance_rule_lets_ties_accept_within_the_tolerance():
    assert accepts(np.float64(0.4), np.float64(0.4))
    assert accepts(np.float64(0.4 - FEASIBILITY_TOL / 2), np.float64(0.4))
    assert not accepts(np.float64(0.4 - 2 * FEASIBILITY_TOL), np.float64(0.4))
