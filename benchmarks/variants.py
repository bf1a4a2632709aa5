"""The scenario family of the scaling table: the baseline grown along one dimension at a time.

Each builder returns a validated ``Scenario``: the baseline (``scenarios/summit_baseline.yaml``)
with more guarantors, issues, rounds, principals or expected-utility actors, and nothing else
changed, so that worlds per second along a dimension measure what that dimension costs.
"""

from __future__ import annotations

import copy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "summit_baseline.yaml"


def _data() -> dict:
    from negotiation_sim.config.scenario import load_scenario

    return load_scenario(BASELINE).model_dump(mode="json", warnings=False, exclude_unset=True)


def _validate(data: dict):
    from negotiation_sim.config.scenario import Scenario

    return Scenario.model_validate(data)


def guarantors(g: int):
    """The baseline with ``g`` guarantors: the three of the baseline, then copies of them in
    turn (each with its own name; offers, positions and clout as the original's)."""
    data = _data()
    base = [a for a, s in data["actors"].items() if s.get("role") == "guarantor"]
    for i in range(g - len(base)):
        src = base[i % len(base)]
        data["actors"][f"{src}_{i:02d}"] = copy.deepcopy(data["actors"][src])
    if g < len(base):
        for a in base[g:]:
            del data["actors"][a]
        for f, members in data["summit"]["formats"].items():
            data["summit"]["formats"][f] = [m for m in members if m in data["actors"]]
    return _validate(data)


def issues(k: int):
    """The baseline with ``k`` issues: the four of the baseline, then copies of them in turn
    (``territory_01`` ...) with the same ideal points, saliences, red lines, offers and
    ceasefire terms; every actor's saliences are scaled to keep their sum."""
    data = _data()
    names = list(data["issues"])
    extra = [(names[i % len(names)], f"{names[i % len(names)]}_{i:02d}")
             for i in range(k - len(names))]
    for src, new in extra:
        data["issues"][new] = copy.deepcopy(data["issues"][src])
    scale = len(names) / k
    for actor in data["actors"].values():
        for field in ("position", "offer"):
            for src, new in extra:
                if src in actor.get(field, {}):
                    actor[field][new] = actor[field][src]
        if "salience" in actor:
            for src, new in extra:
                actor["salience"][new] = actor["salience"][src]
            actor["salience"] = {i: round(v * scale, 6) for i, v in actor["salience"].items()}
        for field in ("red_lines", "preconditions"):  # "ISSUE <= BOUND" constraints
            if field in actor:
                rules = actor[field]
                actor[field] = rules + [r.replace(src, new, 1) for src, new in extra
                                        for r in rules if r.split()[0] == src]
    terms = data.get("ceasefire", {}).get("terms", {})
    for src, new in extra:
        if src in terms:
            terms[new] = copy.deepcopy(terms[src])
    return _validate(data)


def rounds(r: int):
    """The baseline with a deadline of ``r`` rounds."""
    data = _data()
    data["protocol"]["rounds"] = r
    return _validate(data)


def principals(p: int):
    """The baseline with ``p`` principals: Russia and Ukraine, then third parties to the
    settlement placed between them (ideal points at evenly spaced shares of the way from
    Ukraine's to Russia's, Ukraine's saliences, patience, walk-out and audience costs, a value
    of war drawn uniformly in [0.3, 0.5], no red lines), each a member of every format."""
    data = _data()
    ua, ru = data["actors"]["ukraine"], data["actors"]["russia"]
    extra = p - 2
    for i in range(extra):
        t = (i + 1) / (extra + 1)
        name = f"party_{i:02d}"
        actor = copy.deepcopy(ua)
        actor.pop("red_lines", None)
        actor["name"] = f"Party {i}"
        actor.pop("leader", None)
        actor["position"] = {k: round((1 - t) * ua["position"][k] + t * ru["position"][k], 4)
                             for k in ua["position"]}
        actor["reservation"] = {"dist": "uniform", "low": 0.3, "high": 0.5}
        data["actors"][name] = actor
        for fmt in data["summit"]["formats"].values():
            members = fmt["members"] if isinstance(fmt, dict) else fmt
            members.insert(2, name)
    return _validate(data)


def expected_utility(actors: int, deadlock: bool = False):
    """The baseline under expected utility with ``actors`` positioned actors (the six of the
    baseline plus guarantors without offers, placed evenly between Ukraine's and Russia's ideal
    points, clout 0.5, equal saliences). ``deadlock``: every world plays all ``rounds`` rounds of
    dynamics on its own inputs (no summit block, values of war 0.99, no walk-outs, and every
    ideal point drawn uniformly within 0.05 of the baseline's, so that no two worlds share their
    inputs)."""
    data = _data()
    data["protocol"] = {**data.get("protocol", {}), "kind": "expected_utility"}
    names = list(data["issues"])
    ua, ru = data["actors"]["ukraine"]["position"], data["actors"]["russia"]["position"]
    extra = actors - 6
    for i in range(extra):
        t = (i + 1) / (extra + 1)
        data["actors"][f"extra_{i:02d}"] = {
            "role": "guarantor", "clout": 0.5,
            "position": {k: round((1 - t) * ua[k] + t * ru[k], 4) for k in names},
            "salience": {k: 1.0 / len(names) for k in names}}
    if deadlock:
        data.pop("summit", None)
        for a in ("russia", "ukraine"):
            data["actors"][a].update(reservation=0.99, walkout=0.0)
            data["actors"][a].pop("audience_cost", None)  # they need a summit block
            data["actors"][a].pop("preconditions", None)
        for actor in data["actors"].values():
            actor["position"] = {k: {"dist": "uniform", "low": max(0.0, v - 0.05),
                                     "high": min(1.0, v + 0.05)}
                                 for k, v in actor.get("position", {}).items()}
    return _validate(data)


FAMILY = {"guarantors": guarantors, "issues": issues, "rounds": rounds,
          "principals": principals, "expected-utility actors": expected_utility}
