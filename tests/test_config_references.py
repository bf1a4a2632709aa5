"""References that validate but mean something else are refused, at the line of the repeat.

The class of defect: a list of references whose items must differ (an actor listed twice in a
format counted its pressure twice; a format tried twice in ``summit.order`` was reported as two
formats), ids that a dotted path or a red line cannot name, counts that overflow an index, and
sweep paths or values that overlap. Each list of references of the schema gets a repeat here;
repeats that are harmless by design (red lines, preconditions, choice values) must run exactly
as the list without the repeat.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from conftest import make_scenario, write_yaml
from hypothesis import given
from hypothesis import strategies as st

from negotiation_sim.config import limits
from negotiation_sim.config.experiment import load_experiment
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.config.yamlio import InputError, Problem, load_yaml
from negotiation_sim.run.chunks import iter_chunks


def problems_of(tmp_path, data, name="s.yaml"):
    path = write_yaml(tmp_path / name, data)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return path, info.value.problems


def assert_refused_at(tmp_path, data, loc, words):
    path, problems = problems_of(tmp_path, data)
    field = ".".join(map(str, loc))
    hits = [p for p in problems if p.field == field]
    assert hits, [str(p) for p in problems]
    assert hits[0].line == load_yaml(path).line_of(loc) and hits[0].line is not None
    assert words in hits[0].message, hits[0].message


# -- lists whose items must differ ----------------------------------------------------------------

# (where the list is, the item repeated): every list of references whose repeat would change
# what the scenario means.
UNIQUE_LISTS = {
    "format members": (("summit", "formats", "trilateral"), "us"),
    "format members (a principal)": (("summit", "formats", "bilateral"), "russia"),
    "summit order": (("summit", "order"), "bilateral"),
    "proposers' order": (("protocol", "order"), "ukraine"),
}


@pytest.mark.parametrize("case", sorted(UNIQUE_LISTS))
def test_a_repeated_reference_is_refused_at_the_repeat(tmp_path, small_data, case):
    loc, item = UNIQUE_LISTS[case]
    if loc == ("protocol", "order"):
        small_data["protocol"].update(kind="alternating_offers", order=["russia", "ukraine"])
    node = small_data
    for part in loc:
        node = node[part]
    node.append(item)
    first = node.index(item)
    assert_refused_at(tmp_path, small_data, (*loc, len(node) - 1),
                      f"'{item}' is listed twice (first as item {first})")


def test_the_defects_example_pressure_is_not_counted_twice(tmp_path, small_data):
    small_data["summit"]["formats"]["trilateral"] = ["russia", "ukraine", "us", "us"]
    assert_refused_at(tmp_path, small_data, ("summit", "formats", "trilateral", 3), "twice")


@pytest.mark.parametrize("field", ["red_lines", "preconditions"])
def test_repeated_bounds_are_harmless_and_accepted(small_data, field):
    once = copy.deepcopy(small_data)
    once["actors"]["ukraine"][field] = ["territory <= 0.9", "guarantees >= 0.1"]
    twice = copy.deepcopy(once)
    twice["actors"]["ukraine"][field] = once["actors"]["ukraine"][field] * 2
    a, b = make_scenario(once), make_scenario(twice)
    for x, y in zip(iter_chunks(a, 1024, seed=3), iter_chunks(b, 1024, seed=3)):
        assert np.array_equal(x.outcome, y.outcome)
        assert np.array_equal(x.terms, y.terms, equal_nan=True)


def test_repeated_choice_values_weigh_that_value_more(small_data):
    small_data["actors"]["ukraine"]["reservation"] = {"dist": "choice", "values": [0.2, 0.2, 0.4]}
    make_scenario(small_data)  # accepted: a repeat is a weight


# -- ids -------------------------------------------------------------------------------------------

ID_HOMES = {"issue": ("issues", "guarantees"), "actor": ("actors", "germany"),
            "format": ("summit", "formats", "trilateral")}


def _rename(data, kind, new):
    """Rename one issue, actor or format id everywhere it is referenced."""
    old = ID_HOMES[kind][-1]
    text = json.dumps(data)
    text = text.replace(f'"{old}"', json.dumps(new)).replace(f"{old} ", f"{new} ")
    return json.loads(text)


@pytest.mark.parametrize("kind", sorted(ID_HOMES))
@pytest.mark.parametrize("bad", ["a.b", "a b", "1st", "", "ü", "x\ny", "x" * (limits.MAX_ID_LENGTH + 1)])
def test_ids_that_a_path_or_red_line_cannot_name_are_refused(tmp_path, small_data, kind, bad):
    data = _rename(small_data, kind, bad)
    path, problems = problems_of(tmp_path, data)
    loc = (*ID_HOMES[kind][:-1], bad)
    hits = [p for p in problems if p.field == ".".join(loc)]
    assert hits and "id" in hits[0].message, [str(p) for p in problems]


@pytest.mark.parametrize("kind", sorted(ID_HOMES))
def test_ids_up_to_the_limit_are_accepted(small_data, kind):
    make_scenario(_rename(small_data, kind, "X_" + "y-" * ((limits.MAX_ID_LENGTH - 2) // 2)))


# -- counts that would overflow an index ----------------------------------------------------------


def _formats(n):
    return {f"f{i}": ["russia", "ukraine"] for i in range(n)}


def test_formats_beyond_the_limit_are_refused_before_validation(tmp_path, small_data):
    for actor in small_data["actors"].values():
        actor.pop("audience_cost", None)
    small_data["summit"] = {"formats": _formats(limits.MAX_FORMATS + 1)}
    path, problems = problems_of(tmp_path, small_data)
    assert len(problems) == 1 and problems[0].field == "summit.formats"
    assert f"limited to {limits.MAX_FORMATS}" in problems[0].message
    assert limits.MAX_FORMATS < 127  # the format held is an int8 index per world


def test_the_last_format_allowed_is_held_and_named(small_data):
    for actor in small_data["actors"].values():
        actor.pop("audience_cost", None)
    formats = _formats(limits.MAX_FORMATS)
    small_data["summit"] = {"formats": formats, "order": list(formats)[::-1]}
    sc = make_scenario(small_data)
    chunk = next(iter_chunks(sc, 1024, seed=0))
    assert chunk.held_format.max() < limits.MAX_FORMATS
    assert sc.formats()[0][0] == f"f{limits.MAX_FORMATS - 1}"


# -- experiments: values and paths ----------------------------------------------------------------


def experiment(tmp_path, small_data, text):
    write_yaml(tmp_path / "small.yaml", small_data)
    path = tmp_path / "exp.yaml"
    path.write_text("name: t\nscenario: small.yaml\nruns: 100\n" + text)
    return path


EXPERIMENT_REPEATS = {
    "grid value": ("sweep:\n  method: grid\n  parameters:\n    protocol.rounds:\n      - 4\n"
                   "      - 6\n      - 4\n", "sweep.parameters.protocol.rounds.2", "listed twice", 10),
    "grid distribution": ("sweep:\n  method: grid\n  parameters:\n    actors.ukraine.reservation:\n"
                          "      - {dist: uniform, low: 0.1, high: 0.2}\n"
                          "      - {high: 0.2, dist: uniform, low: 0.1}\n",
                          "sweep.parameters.actors.ukraine.reservation.1", "listed twice", 9),
    "list label": ("sweep:\n  method: list\n  points:\n    - {label: a, protocol.rounds: 4}\n"
                   "    - {label: a, protocol.rounds: 6}\n", "sweep.points.1.label", "used twice", 8),
    "nested sweep paths": ("sweep:\n  method: grid\n  parameters:\n"
                           "    actors.russia.reservation: [0.3]\n"
                           "    actors.russia.reservation.high: [0.5]\n",
                           "sweep.parameters.actors.russia.reservation.high", "lies inside", 8),
    "nested point paths": ("sweep:\n  method: list\n  points:\n"
                           "    - {actors.russia.reservation: 0.3, actors.russia.reservation.low: 0.1}\n",
                           "sweep.points.0.actors.russia.reservation.low", "lies inside", 7),
    "dead override": ("overrides:\n  actors.us.pressure.russia: 0.05\nsweep:\n  method: grid\n"
                      "  parameters:\n    actors.us.pressure: [{russia: 0.1}]\n",
                      "overrides.actors.us.pressure.russia", "replacing this override", 5),
    "dead override (list)": ("overrides:\n  protocol.rounds: 5\nsweep:\n  method: list\n  points:\n"
                             "    - {protocol.rounds: 4}\n    - {protocol.rounds: 6}\n",
                             "overrides.protocol.rounds", "replacing this override", 5),
}


@pytest.mark.parametrize("case", sorted(EXPERIMENT_REPEATS))
def test_experiment_repeats_and_overlaps_are_refused_at_their_line(tmp_path, small_data, case):
    text, field, words, line = EXPERIMENT_REPEATS[case]
    path = experiment(tmp_path, small_data, text)
    with pytest.raises(InputError) as info:
        load_experiment(path)
    hits = [p for p in info.value.problems if p.field == field]
    assert hits, [str(p) for p in info.value.problems]
    assert words in hits[0].message
    assert hits[0].line == line


def test_an_override_the_sweep_only_refines_is_kept(tmp_path, small_data):
    path = experiment(tmp_path, small_data, (
        "overrides:\n  actors.russia.reservation: {dist: uniform, low: 0.1, high: 0.3}\n"
        "sweep:\n  method: grid\n  parameters:\n    actors.russia.reservation.high: [0.4, 0.5]\n"))
    loaded = load_experiment(path)
    assert loaded.point_scenario(1).actors["russia"].reservation.high == 0.5
    assert loaded.point_scenario(1).actors["russia"].reservation.low == 0.1


@given(st.text(), st.text(), st.text())
def test_a_problem_is_one_visible_line_whatever_the_file_holds(file, field, message):
    """Keys and values reach messages verbatim: control and line-break characters are escaped."""
    text = str(Problem(file, 3, field, message))
    assert len(text.splitlines()) <= 1 and all(ch.isprintable() for ch in text)
