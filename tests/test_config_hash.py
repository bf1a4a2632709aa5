"""Digests of scenarios and experiments cover everything that changes results, in order.

The class of defect: a hash that misses something that changes results lets ``--resume`` mix
parts of two different models in one sweep. Order changes results (formats are tried in order,
actors and issues are the rows of every array, overrides apply in order, the order of a sweep's
points fixes their seeds), so the tests below reorder every ordered thing of the shipped files
and require the digest to move; and they change things that do not change results (formatting,
comments, new optional fields) and require it to stay.
"""

from __future__ import annotations

import copy
import json
import numpy as np
import pytest
import yaml
from conftest import ROOT, SCENARIOS, make_scenario, write_yaml

from pydantic import BaseModel

from negotiation_sim.config.experiment import Experiment, load_experiment
from negotiation_sim.config.scenario import Scenario, scenario_from_data
from negotiation_sim.config.yamlio import InputError, YamlDoc, load_yaml
from negotiation_sim.run.chunks import iter_chunks


def _valid(data) -> Scenario | None:
    try:
        return scenario_from_data(data, YamlDoc("<test>", data))
    except InputError:
        return None


def _collections(node, model, loc=()):
    """Every mapping of ids and every list with two entries or more, by location.

    A mapping that the validated scenario holds as a model is a set of fields, whose order the
    schema fixes (not the file): it is walked into but not reordered.
    """
    if isinstance(node, dict):
        if len(node) >= 2 and not isinstance(model, BaseModel):
            yield loc
        for k, v in node.items():
            child = getattr(model, k, None) if isinstance(model, BaseModel) else model.get(k)
            yield from _collections(v, child, (*loc, k))
    elif isinstance(node, list):
        if len(node) >= 2:
            yield loc
        for i, v in enumerate(node):
            yield from _collections(v, model[i] if isinstance(model, list) else None, (*loc, i))


def _reversed_at(data, loc):
    out = copy.deepcopy(data)
    parent = out
    for part in loc[:-1]:
        parent = parent[part]
    target = parent[loc[-1]] if loc else out
    flipped = dict(reversed(list(target.items()))) if isinstance(target, dict) else target[::-1]
    if not loc:
        return flipped
    parent[loc[-1]] = flipped
    return out


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_reordering_anything_of_a_shipped_scenario_changes_its_digest(path):
    data = load_yaml(path).data
    base = _valid(data).digest()
    checked = 0
    for loc in _collections(data, _valid(data)):
        flipped = _reversed_at(data, loc)
        sc = _valid(flipped)
        if sc is None or json.dumps(flipped) == json.dumps(data):  # e.g. equal list items
            continue
        checked += 1
        assert sc.digest() != base, f"reversing {'.'.join(map(str, loc)) or 'the top level'}"
    assert checked >= 10


def test_reordered_formats_change_results_and_so_the_digest(small_data):
    """The defect's own example: resume must not accept a scenario whose formats moved."""
    flipped = copy.deepcopy(small_data)
    flipped["summit"]["order"] = flipped["summit"]["order"][::-1]
    a, b = make_scenario(small_data), make_scenario(flipped)
    assert a.digest() != b.digest()
    held = []
    for sc in (a, b):
        names = np.array([f for f, _ in sc.formats()] + ["none"])
        index = np.concatenate([c.held_format for c in iter_chunks(sc, 2048, seed=0)])
        held.append(names[index])  # -1, no summit, is the last name
    assert not np.array_equal(held[0], held[1])


def test_formatting_comments_and_key_style_do_not_change_the_digest(tmp_path):
    src = ROOT / "scenarios" / "summit_baseline.yaml"
    data = load_yaml(src).data
    flow = tmp_path / "flow.yaml"
    flow.write_text(yaml.safe_dump(data, default_flow_style=True, width=60, sort_keys=False))
    block = tmp_path / "block.yaml"
    block.write_text("# a comment\n" + yaml.safe_dump(data, sort_keys=False, indent=4))
    digests = {_valid(load_yaml(p).data).digest() for p in (src, flow, block)}
    assert len(digests) == 1


def test_the_order_of_fields_within_a_mapping_of_fields_does_not_matter(pie_data):
    """Field order inside one model is the schema's, not the file's: it changes nothing."""
    moved = {k: pie_data[k] for k in reversed(list(pie_data))}
    moved["actors"] = {a: dict(reversed(list(v.items()))) for a, v in pie_data["actors"].items()}
    assert make_scenario(moved).digest() == make_scenario(pie_data).digest()


def test_a_new_optional_field_keeps_existing_digests(small_data):
    class Later(Scenario):  # a later version of the schema with one more optional field
        notes: str | None = None

    assert Later.model_validate(small_data).digest() == make_scenario(small_data).digest()
    assert Later.model_validate({**small_data, "notes": "x"}).digest() != \
        make_scenario(small_data).digest()


@pytest.mark.parametrize("change", [
    ("actors", "ukraine", "red_lines", 0, "territory <= 0.9000001"),
    ("actors", "russia", "reservation", "high", 0.5000000001),
    ("protocol", "rounds", 9),
    ("summit", "formats", "trilateral", 2, "germany"),
])
def test_every_change_of_a_value_changes_the_digest(small_data, change):
    *loc, value = change
    data = copy.deepcopy(small_data)
    node = data
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = value
    assert make_scenario(data).digest() != make_scenario(small_data).digest()


def _experiment_data():
    return {"name": "e", "scenario": "s.yaml", "runs": 100,
            "overrides": {"actors.russia.reservation": 0.4, "actors.russia.reservation.high": 0.6},
            "sweep": {"method": "grid", "parameters": {
                "actors.us.pressure.russia": [0.0, 0.1], "protocol.rounds": [4, 8]}}}


@pytest.mark.parametrize("loc", [("overrides",), ("sweep", "parameters"),
                                 ("sweep", "parameters", "protocol.rounds")])
def test_reordering_an_experiment_changes_its_digest(loc):
    data = _experiment_data()
    flipped = _reversed_at(data, loc)
    assert Experiment.model_validate(flipped).digest() != \
        Experiment.model_validate(data).digest()


def test_an_experiment_digest_skips_fields_left_at_their_defaults():
    data = _experiment_data()
    assert Experiment.model_validate(data).digest() != \
        Experiment.model_validate({**data, "chunk_size": 16384}).digest()

    class Later(Experiment):
        notes: str | None = None

    assert Later.model_validate(data).digest() == Experiment.model_validate(data).digest()


def test_a_point_scenario_hashes_as_the_same_scenario_written_out(tmp_path, small_data):
    write_yaml(tmp_path / "small.yaml", small_data)
    exp = tmp_path / "exp.yaml"
    exp.write_text("name: t\nscenario: small.yaml\nruns: 10\nsweep:\n  method: grid\n"
                   "  parameters:\n    actors.us.pressure.russia: [0.05]\n")
    point = load_experiment(exp).point_scenario(0)
    written = copy.deepcopy(small_data)
    written["actors"]["us"]["pressure"]["russia"] = 0.05
    assert point.digest() == make_scenario(written).digest()
    assert load_yaml(tmp_path / "small.yaml").data == small_data  # the file's data is untouched


@pytest.mark.parametrize("path", [*SCENARIOS, ROOT / "docs" / "tutorial" / "river.yaml"],
                         ids=lambda p: p.name)
def test_a_scenario_serialises_without_warnings_and_round_trips(path):
    """A distribution where a number may stand is serialised as the distribution it is, with no
    'Expected float' warning from pydantic (the tag of a number-or-distribution read a model as
    a number), and the dump validates back to the same scenario."""
    import warnings

    from negotiation_sim.config.scenario import load_scenario

    sc = load_scenario(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = sc.model_dump(mode="json")
        sc.model_dump()
    assert Scenario.model_validate(data) == sc
