"""Small builders shared by the protocol tests: scenarios as dicts, run as one ensemble."""

from __future__ import annotations

from typing import Any

import numpy as np

from negotiation_sim.config.scenario import Scenario
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import OUTCOMES


def principal(pos: dict[str, float], **kw: Any) -> dict[str, Any]:
    return {"role": "principal", "position": pos, **kw}


def scenario(actors: dict, issues=("pie",), **protocol: Any) -> Scenario:
    data = {"name": "t", "issues": {k: {} for k in issues}, "actors": actors,
            "protocol": protocol}
    sc = Scenario.model_validate(data)
    assert not sc.reference_problems(), sc.reference_problems()
    return sc


def run(sc: Scenario, n: int = 1, seed: int = 0) -> SummitModel:
    return SummitModel(sc, n, seed=seed).run()


def outcome(model: SummitModel, w: int = 0) -> str:
    return OUTCOMES[model.outcome[w]]


def pie(a_patience=0.9, b_patience=0.9, rounds=200, first="a", ra=0.0, rb=0.0,
        **extra) -> Scenario:
    return scenario({"a": principal({"pie": 1.0}, patience=a_patience, reservation=ra, **extra),
                     "b": principal({"pie": 0.0}, patience=b_patience, reservation=rb)},
                    kind="alternating_offers", rounds=rounds, first_proposer=first)


def close(a, b, tol):
    return np.allclose(np.asarray(a, float), np.asarray(b, float), atol=tol, rtol=0)
