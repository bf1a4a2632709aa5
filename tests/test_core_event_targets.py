"""Event targets: every entry of the one registry (``config.events.TARGETS``) is validated,
compiled and carried into the follow-up of signed texts as it says.

The targets tested are read from the registry, so a new target is tested here without a line
added: a path of it validates and a path with a wrong id is refused at its line; a scheduled
event sets and adds to it in the talks, within its range; and the signed texts being followed
carry it (and an event changes it there) exactly when it says they do.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SMALL, write_yaml

from negotiation_sim.config.events import PLACEHOLDERS, TARGETS, EventTarget, placeholder_ids
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.config.yamlio import InputError
from negotiation_sim.core.durability import FollowUp, followed
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.worlds import WorldParams

# One id of each placeholder in SMALL, and one of the wrong kind for it.
IDS = {"principal": "russia", "mediator": "us", "guarantor": "germany", "issue": "guarantees"}
WRONG = {"principal": "us", "mediator": "germany", "guarantor": "russia", "issue": "russia"}


def path_of(target: EventTarget, wrong: str | None = None) -> str:
    """A path of ``target`` in SMALL (``wrong``: that placeholder given an id of another kind)."""
    parts = [(WRONG if p[1:-1] == wrong else IDS)[p[1:-1]] if p.startswith("<") else p
             for p in target.parts]
    return ".".join(parts)


def placeholders(target: EventTarget) -> list[str]:
    return [p[1:-1] for p in target.parts if p.startswith("<")]


def scheduled(path: str, value: float, how: str = "set", probability: float = 1.0) -> dict:
    return {"name": "change", "kind": "scheduled", "round": 2, "probability": probability,
            how: {path: value}}


def small_with(*events, **sections) -> dict:
    data = copy.deepcopy(SMALL)
    data["events"] = list(events)
    data["durability"] = {"rounds": 3}
    data.update(sections)
    return data


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def by_pattern(targets=TARGETS):
    return pytest.mark.parametrize("target", targets, ids=[t.pattern for t in targets])


# -- the registry ---------------------------------------------------------------------------------


def test_the_registry_is_well_formed():
    arrays = {f.name for f in fields(WorldParams)}
    assert len({t.pattern for t in TARGETS}) == len(TARGETS)
    for t in TARGETS:
        assert set(placeholders(t)) <= set(PLACEHOLDERS), t.pattern
        assert t.array in arrays, t.pattern
        # Texts are drafted in the talks only: what rebounds them cannot follow a signed text.
        assert not (t.then == "bound_texts" and t.followed), t.pattern
        if t.changes == "value_of_war":
            assert placeholders(t) == ["principal"], t.pattern


def test_the_registry_is_the_only_place_targets_are_listed():
    """No other module spells a target's pattern, and the compilation of events names no array:
    it takes every array from the registry."""
    package = ROOT / "negotiation_sim"
    registry = package / "config" / "events.py"
    arrays = {t.array for t in TARGETS if t.changes == "parameter"}
    for module in package.rglob("*.py"):
        strings = {node.value for node in ast.walk(ast.parse(module.read_text()))
                   if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        if module != registry:
            spelled = [s for s in strings if "actors.<" in s or "ceasefire.terms.<" in s
                       or any(t.pattern in s for t in TARGETS)]
            assert not spelled, f"{module.relative_to(ROOT)} lists targets: {spelled}"
        if module.relative_to(package).as_posix() == "core/events.py":
            named = sorted(strings & arrays)
            assert not named, f"{module.relative_to(ROOT)} names arrays: {named}"


def test_the_scenario_reference_lists_every_target_as_the_registry_says():
    lines = (ROOT / "docs" / "scenario.md").read_text().splitlines()
    for t in TARGETS:
        low, high = (0, 1) if t.changes == "value_of_war" else (t.low, t.high)
        kept = ("any" if low is None and high is None else f"≥ {low:g}" if high is None
                else f"≤ {high:g}" if low is None else f"[{low:g}, {high:g}]")
        row = f"| `{t.pattern}` | {t.meaning} | {kept} | {'yes' if t.followed else 'no'} |"
        assert row in lines, row


# -- validation -----------------------------------------------------------------------------------


@by_pattern()
def test_a_path_of_each_target_validates(tmp_path, target):
    file = write_yaml(tmp_path / "s.yaml", small_with(scheduled(path_of(target), 0.3)))
    assert load_scenario(file).events[0].set == {path_of(target): 0.3}


@by_pattern()
def test_each_placeholder_given_an_id_of_another_kind_is_refused_at_its_line(tmp_path, target):
    for wrong in placeholders(target):
        path = path_of(target, wrong)
        file = write_yaml(tmp_path / "s.yaml", small_with(scheduled(path, 0.3)))
        with pytest.raises(InputError) as err:
            load_scenario(file)
        (problem,) = err.value.problems
        assert (problem.line, problem.field) == (line_of(file, path), f"events.0.set.{path}")
        assert "is not a per-world number an event can change" in problem.message


@by_pattern([t for t in TARGETS if t.section is not None])
def test_a_target_in_a_missing_section_is_refused(tmp_path, target):
    data = small_with(scheduled(path_of(target), 0.3))
    del data[target.section]
    file = write_yaml(tmp_path / "s.yaml", data)
    with pytest.raises(InputError) as err:
        load_scenario(file)
    assert err.value.problems[0].message == f"the scenario has no {target.section} section"


# -- compilation: the change in the talks ---------------------------------------------------------


def model_with(tmp: Path, target: EventTarget, value: float, how: str = "set") -> SummitModel:
    """SMALL with one scheduled event on ``target`` before round 2, formed (not yet played)."""
    data = small_with(scheduled(path_of(target), value, how))
    return SummitModel(load_scenario(write_yaml(tmp / "s.yaml", data)), 64, seed=5)


def talks_after(tmp: Path, target: EventTarget, value: float, how: str) -> tuple:
    """``(before, after)`` the target's values over the talks' worlds, around its event."""
    m = model_with(tmp, target, value, how)
    before = read(target, m.talks, m)
    m.between_rounds(2, m.talks, m.follow)
    return before, read(target, m.talks, m)


def read(target: EventTarget, ensemble, m: SummitModel) -> np.ndarray:
    roles = {a: actor.role for a, actor in m.spec.actors.items()}
    rows = target.rows(path_of(target), placeholder_ids(roles, m.spec.issue_ids))
    if target.changes == "value_of_war":
        return ensemble.state.reservation[rows].copy()
    return np.array(getattr(ensemble.params, target.array)[rows])


@by_pattern()
@pytest.mark.parametrize("value", [0.37, 5.0, -5.0])
def test_a_scheduled_set_gives_the_target_its_value_within_its_range(tmp_path, target, value):
    _, after = talks_after(tmp_path, target, value, "set")
    low, high = (0.0, 1.0) if target.changes == "value_of_war" else (target.low, target.high)
    expected = min(max(value, -np.inf if low is None else low), np.inf if high is None else high)
    assert after.size > 0 and np.allclose(after, expected, rtol=0, atol=1e-12)


@by_pattern()
def test_a_scheduled_add_moves_the_target_by_its_value(tmp_path, target):
    before, after = talks_after(tmp_path, target, 0.01, "add")
    assert np.allclose(after, before + 0.01, rtol=0, atol=1e-15)
    assert after.shape == before.shape and after.size > 0


# -- follow-up of signed texts --------------------------------------------------------------------


@by_pattern()
def test_signed_texts_carry_every_target(tmp_path, target):
    """Every talks' world is followed as if signed; the event changes the target there too (a
    broken text's world rejoins the talks as they are now), and the values of war and the
    pressure move alike."""
    m = model_with(tmp_path, target, 0.37)
    n, P = m.params.n, len(m.spec.principals)
    follow = FollowUp(*followed(m.params, m.state, np.arange(n)), np.full((P, n), np.inf),
                      np.zeros(n, np.int64))
    m.events.apply(2, m.talks, follow)
    talks = read(target, m.talks, m)
    assert np.array_equal(read(target, follow, m), talks)
    assert np.array_equal(follow.state.pressure, m.state.pressure)
    assert np.array_equal(follow.state.reservation, m.state.reservation)
