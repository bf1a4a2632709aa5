"""The ``protocol`` section: one model per kind, so an option of another kind is refused.

The kinds and their options are read from the union's models (``PROTOCOL_MODELS``): a new kind,
or a new option of one, is tested here without a line added.
"""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
import yaml
from conftest import ROOT, SMALL, make_scenario, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.levers import set_paths
from negotiation_sim.config.paths import path_error, with_path
from negotiation_sim.config.protocols import (
    PROTOCOL_KINDS,
    PROTOCOL_MODELS,
    ProtocolOptions,
    options_of,
)
from negotiation_sim.config.scenario import json_schema, load_scenario, scenario_from_data
from negotiation_sim.config.yamlio import InputError, YamlDoc

SHARED = set(ProtocolOptions.model_fields)
ALL_OPTIONS = sorted(set().union(*(m.model_fields for m in PROTOCOL_MODELS)))
MISPLACED = [(kind, option) for kind, model in PROTOCOL_KINDS.items()
             for option in ALL_OPTIONS if option not in model.model_fields]
# A valid value of every option some kind has on its own, for SMALL (principals russia, ukraine).
OWN_VALUES = {"first_proposer": "ukraine", "order": ["ukraine", "russia"],
              "risk_exponents": {"us": 1.5}, "status_quo_belief": 0.5,
              "improvement_belief": 0.25}


def small(**protocol) -> dict:
    data = copy.deepcopy(SMALL)
    data["protocol"] = protocol
    return data


def test_every_option_some_kind_has_on_its_own_is_covered():
    assert set(OWN_VALUES) == set(ALL_OPTIONS) - SHARED
    assert all(kind in {k for k, _ in MISPLACED} for kind in PROTOCOL_KINDS)


@pytest.mark.parametrize(("kind", "option"), MISPLACED)
def test_an_option_of_another_kind_is_refused_at_its_line(tmp_path, kind, option):
    path = write_yaml(tmp_path / "s.yaml", small(kind=kind, rounds=3,
                                                  **{option: OWN_VALUES[option]}))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    (problem,) = err.value.problems
    lines = path.read_text().splitlines()
    start = lines.index("protocol:")
    line = next(i for i, text in enumerate(lines[start:], start + 1)
                if text.startswith(f"  {option}:"))
    assert (problem.file, problem.line, problem.field) == (str(path), line, f"protocol.{option}")
    assert problem.message == (f"not an option of protocol kind '{kind}' "
                               f"(options: {', '.join(options_of(kind))})")


@pytest.mark.parametrize("kind", list(PROTOCOL_KINDS))
def test_each_kind_takes_its_own_options(kind):
    own = {o: v for o, v in OWN_VALUES.items() if o in PROTOCOL_KINDS[kind].model_fields}
    sc = make_scenario(small(kind=kind, rounds=3, information="private", **own))
    assert type(sc.protocol) is PROTOCOL_KINDS[kind]
    assert not sc.reference_problems()
    assert {o: getattr(sc.protocol, o) for o in own} == own


def test_the_command_line_prints_the_misplaced_option_on_one_line(tmp_path):
    path = write_yaml(tmp_path / "s.yaml", small(kind="mediated", first_proposer="russia"))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"{path}:{path.read_text().splitlines().index('  first_proposer: russia') + 1}: "
        "protocol.first_proposer: not an option of protocol kind 'mediated' (options: "
        f"{', '.join(options_of('mediated'))})"]


def test_a_protocol_without_kind_is_mediated_and_an_unknown_kind_is_refused_at_its_line(tmp_path):
    assert type(make_scenario(small(rounds=3)).protocol) is PROTOCOL_KINDS["mediated"]
    path = write_yaml(tmp_path / "s.yaml", small(kind="auction", rounds=3))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    (problem,) = err.value.problems
    assert problem.field == "protocol.kind"
    assert problem.line == path.read_text().splitlines().index("  kind: auction") + 1
    assert problem.message == ("'auction' is not a valid kind (expected one of "
                               + ", ".join(f"'{k}'" for k in PROTOCOL_KINDS) + ")")


def test_a_kind_left_out_is_the_default_and_a_written_kind_keeps_its_place():
    """Leaving ``kind`` out validates to the same protocol as writing the default; what a
    file sets (which its digest hashes) keeps ``kind`` first, as before the union."""
    left_out, written = make_scenario(small(rounds=3)), make_scenario(small(kind="mediated",
                                                                            rounds=3))
    assert left_out.protocol == written.protocol
    assert list(written.model_dump(exclude_unset=True)["protocol"]) == ["kind", "rounds"]


def test_rounds_below_a_kinds_minimum_are_refused():
    for kind, model in PROTOCOL_KINDS.items():
        problems = dict(make_scenario(small(kind=kind, rounds=0)).reference_problems())
        if model.min_rounds > 0:
            assert problems[("protocol", "rounds")] == f"protocol '{kind}' needs rounds >= 1"
        else:
            assert ("protocol", "rounds") not in problems


# -- the JSON Schema ------------------------------------------------------------------------------


def protocol_schema() -> dict:
    """The exported schema of the ``protocol`` section (with the definitions it refers to)."""
    schema = json_schema()
    return {"$defs": schema["$defs"], **schema["properties"]["protocol"]}


@pytest.mark.parametrize("kind", list(PROTOCOL_KINDS))
def test_the_json_schema_accepts_each_kind_with_its_options_and_refuses_another_kinds(kind):
    schema = protocol_schema()
    own = {o: v for o, v in OWN_VALUES.items() if o in PROTOCOL_KINDS[kind].model_fields}
    jsonschema.validate({"kind": kind, **own}, schema)
    for option in (o for k, o in MISPLACED if k == kind):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"kind": kind, option: OWN_VALUES[option]}, schema)


def test_the_json_schema_takes_a_protocol_without_kind_as_mediated():
    schema = protocol_schema()
    jsonschema.validate({"rounds": 3}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"rounds": 3, "order": ["russia"]}, schema)


SHIPPED = sorted([*(ROOT / "scenarios").rglob("*.yaml"), ROOT / "docs" / "tutorial" / "river.yaml",
                  ROOT / "tests" / "data" / "figures_summit.yaml"])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_scenario_validates_against_the_exported_schema(path):
    """An editor checking a file against ``negsim schema`` accepts what the engine accepts (a
    YAML 1.2 editor reads ``start: 2025-08-20`` as the string the schema's date format is)."""
    data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
    jsonschema.validate(data, json_schema())


# -- dotted paths ---------------------------------------------------------------------------------


def test_setting_the_kind_keeps_only_the_new_kinds_options():
    """A sweep over protocol.kind plays the same scenario under each kind: the options of the
    file's kind that another kind does not have go."""
    data = small(kind="alternating_offers", rounds=3, order=["ukraine", "russia"],
                 information="private")
    for kind in PROTOCOL_KINDS:
        changed = with_path(data, "protocol.kind", kind)
        sc = scenario_from_data(changed, YamlDoc("<test>", changed))
        assert sc.protocol.kind == kind and sc.protocol.information == "private"
        assert set(changed["protocol"]) <= set(options_of(kind))
    assert data["protocol"]["order"] == ["ukraine", "russia"]  # the file's data is untouched


def test_a_path_to_an_option_of_another_kind_is_a_path_and_validation_decides():
    sc = make_scenario(small(rounds=3))
    assert all(path_error(sc, f"protocol.{o}") is None for o in ALL_OPTIONS)
    both = set_paths(sc, {"protocol.kind": "alternating_offers",
                          "protocol.first_proposer": "ukraine"})
    assert both.protocol.first_proposer == "ukraine"
    with pytest.raises(InputError) as err:
        set_paths(sc, {"protocol.first_proposer": "ukraine"})
    assert err.value.problems[0].message.startswith(
        "not an option of protocol kind 'mediated'")


def test_as_kind_carries_the_shared_options_over():
    sc = make_scenario(small(kind="expected_utility", rounds=0, information="private",
                             risk_exponents={"us": 2.0}))
    for kind in PROTOCOL_KINDS:
        other = sc.protocol.as_kind(kind, rounds=4)
        assert type(other) is PROTOCOL_KINDS[kind]
        assert (other.rounds, other.information) == (4, "private")
        assert other.model_dump(exclude_unset=True).keys() <= set(options_of(kind))
