"""Tests of negotiation_sim.yamlio: safe loading, located problems, pydantic error mapping."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Annotated, Literal, Union

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from negotiation_sim.config import yamlio
from negotiation_sim.config.yamlio import (
    InputError,
    Problem,
    YamlDoc,
    format_problems,
    load_yaml,
    parse_yaml,
    problems_from_validation_error,
    validate_doc,
)

# -- helpers ------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "input.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def load(tmp_path: Path, text: str) -> YamlDoc:
    return load_yaml(write(tmp_path, text))


def load_error(tmp_path: Path, text: str, **kwargs) -> InputError:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_yaml(path, **kwargs)
    err = info.value
    assert err.problems, "an InputError always carries at least one problem"
    assert str(err) == str(err.problems[0])
    assert "\n" not in str(err)
    assert all(p.file == path for p in err.problems)
    return err


def only_problem(err: InputError) -> Problem:
    assert len(err.problems) == 1, err.problems
    return err.problems[0]


# -- Problem, InputError, format_problems ---------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (Problem("a.yaml", 3, "actors.x", "bad"), "a.yaml:3: actors.x: bad"),
        (Problem("a.yaml", None, "actors.x", "bad"), "a.yaml: actors.x: bad"),
        (Problem("a.yaml", 3, "", "bad"), "a.yaml:3: bad"),
        (Problem("a.yaml", None, "", "file not found"), "a.yaml: file not found"),
    ],
)
def test_problem_str(problem: Problem, text: str) -> None:
    assert str(problem) == text


def test_problem_is_frozen_and_hashable() -> None:
    problem = Problem("a.yaml", 1, "x", "m")
    with pytest.raises(AttributeError):
        problem.line = 2  # type: ignore[misc]
    assert len({problem, Problem("a.yaml", 1, "x", "m")}) == 1


def test_input_error_str_is_first_problem_and_survives_pickling() -> None:
    problems = [Problem("a.yaml", 1, "x", "first"), Problem("a.yaml", 2, "y", "second")]
    err = InputError(problems)
    assert str(err) == "a.yaml:1: x: first"
    assert err.problems == problems
    copy = pickle.loads(pickle.dumps(err))
    assert copy.problems == problems and str(copy) == str(err)


def test_format_problems_one_per_line() -> None:
    problems = [Problem("a.yaml", 1, "x", "first"), Problem("a.yaml", None, "", "second")]
    assert format_problems(problems) == "a.yaml:1: x: first\na.yaml: second"
    assert format_problems([]) == ""


# -- loading plain data ---------------------------------------------------------------------------

NESTED = """\
# a comment first
name: summit
actors:
  russia:
    salience:
      territory: 0.9
      sanctions: 0.4
  ukraine:
    red_lines:
      - territory
      - nato: [1, 2]
flow: {a: 1, b: [x, y]}
"""


def test_loads_plain_data_and_keeps_the_path_as_given(tmp_path: Path) -> None:
    path = Path(write(tmp_path, NESTED))
    doc = load_yaml(path)
    assert doc.path == str(path)
    assert doc.data == {
        "name": "summit",
        "actors": {
            "russia": {"salience": {"territory": 0.9, "sanctions": 0.4}},
            "ukraine": {"red_lines": ["territory", {"nato": [1, 2]}]},
        },
        "flow": {"a": 1, "b": ["x", "y"]},
    }


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        ((), 2),  # the top-level mapping starts at its first key
        (("name",), 2),
        (("actors",), 3),
        (("actors", "russia"), 4),
        (("actors", "russia", "salience", "sanctions"), 7),
        (("actors", "ukraine", "red_lines"), 9),
        (("actors", "ukraine", "red_lines", 0), 10),
        (("actors", "ukraine", "red_lines", 1), 11),
        (("actors", "ukraine", "red_lines", 1, "nato", 1), 11),
        (("flow", "b", 1), 12),
        # deeper than the document: the deepest existing ancestor
        (("actors", "russia", "salience", "missing"), 5),
        (("actors", "russia", "missing", "deeper", 3), 4),
        (("missing",), 2),
        (("actors", "ukraine", "red_lines", 7), 9),
        (("name", "not", "a", "mapping"), 2),
        (("actors", "ukraine", "red_lines", "0"), 9),  # a list has no key "0"
    ],
)
def test_line_of(tmp_path: Path, loc: tuple, line: int) -> None:
    assert load(tmp_path, NESTED).line_of(loc) == line


def test_line_of_block_value_is_the_key_line_and_items_their_own(tmp_path: Path) -> None:
    doc = load(tmp_path, "a:\n\n  - 1\n  -\n    b: 2\n")
    assert doc.line_of(("a",)) == 1
    assert doc.line_of(("a", 0)) == 3
    assert doc.line_of(("a", 1, "b")) == 5


def test_line_of_an_integer_finds_a_numeric_key(tmp_path: Path) -> None:
    doc = load(tmp_path, "years:\n  1990: a\n  2000: b\n")
    assert doc.data == {"years": {"1990": "a", "2000": "b"}}
    assert doc.line_of(("years", 2000)) == 3


def test_line_of_without_line_information_is_none() -> None:
    assert YamlDoc("mem.yaml", {"a": 1}).line_of(("a",)) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", 1e-3),
        ("5e4", 5e4),
        ("-2E+2", -200.0),
        ("1.5e3", 1500.0),
        ("1.0e5", 1e5),
        (".5e-1", 0.05),
        ("+1_000e2", 1e5),
        ("0.25", 0.25),
        ("1.0e-05", 1e-5),
    ],
)
def test_floats_written_without_a_dot_or_exponent_sign_are_floats(
    tmp_path: Path, text: str, value: float
) -> None:
    loaded = load(tmp_path, f"x: {text}\n").data["x"]
    assert type(loaded) is float and loaded == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e", "1e"),
        ("e5", "e5"),
        ("1.2.3", "1.2.3"),
        ("'1e-3'", "1e-3"),
        ("12", 12),
        ("0x1F", 31),
        ("1_000", 1000),
        ("yes", True),
        ("off", False),
        ("~", None),
        ("2024-01-31", "2024-01-31"),  # timestamps stay text
        ("=", "="),
    ],
)
def test_other_scalars_resolve_as_pyyaml_safe_load(tmp_path: Path, text: str, value) -> None:
    loaded = load(tmp_path, f"x: {text}\n").data["x"]
    assert type(loaded) is type(value) and loaded == value


def test_nan_and_inf_load_as_floats(tmp_path: Path) -> None:
    data = load(tmp_path, "a: .nan\nb: .inf\nc: -.Inf\n").data
    assert data["a"] != data["a"]
    assert data["b"] == float("inf") and data["c"] == float("-inf")


def test_scalar_keys_keep_their_source_text(tmp_path: Path) -> None:
    data = load(tmp_path, "1: a\nyes: b\n1.5: c\n1e3: d\n~: e\n'2': f\n").data
    assert data == {"1": "a", "yes": "b", "1.5": "c", "1e3": "d", None: "e", "2": "f"}


def test_explicit_standard_tags_are_plain_data(tmp_path: Path) -> None:
    data = load(tmp_path, "a: !!str 12\nb: !!float 1\nc: !!int '7'\nd: !!map {x: 1}\n").data
    assert data == {"a": "12", "b": 1.0, "c": 7, "d": {"x": 1}}
    assert type(data["b"]) is float


def test_merge_keys_work_and_explicit_keys_win(tmp_path: Path) -> None:
    text = (
        "base: &base {x: 1, y: 2}\n"
        "more: &more {y: 3, z: 4}\n"
        "one:\n  <<: *base\n  y: 9\n"
        "many:\n  <<: [*base, *more]\n"
    )
    doc = load(tmp_path, text)
    assert doc.data["one"] == {"x": 1, "y": 9}
    assert doc.data["many"] == {"x": 1, "y": 2, "z": 4}  # earlier mappings win, as in PyYAML
    assert doc.line_of(("one", "y")) == 5
    assert doc.line_of(("one", "x")) == 1  # a merged key is located where it is written


def test_aliases_expand_to_independent_copies(tmp_path: Path) -> None:
    data = load(tmp_path, "a: &a {x: [1]}\nb: *a\n").data
    assert data["a"] == data["b"]
    data["a"]["x"].append(2)
    assert data["b"] == {"x": [1]}


# -- reading problems -----------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.yaml")
    with pytest.raises(InputError) as info:
        load_yaml(path)
    assert str(info.value) == f"{path}: file not found"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_yaml(tmp_path)
    problem = only_problem(info.value)
    assert problem.file == str(tmp_path) and problem.line is None
    assert "directory" in problem.message


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a: 1\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(yamlio, "open", refuse, raising=False)  # works even when run as root
    with pytest.raises(InputError) as info:
        load_yaml(path)
    assert str(info.value) == f"{path}: permission denied"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nb: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_yaml(path)
    problem = only_problem(info.value)
    assert problem.line == 2 and "UTF-8" in problem.message


def test_utf16_is_refused_and_utf8_bom_accepted(tmp_path: Path) -> None:
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes("a: 1\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        load_yaml(utf16)
    bom = tmp_path / "bom.yaml"
    bom.write_bytes("a: caf\u00e9\n".encode("utf-8-sig"))
    assert load_yaml(bom).data == {"a": "caf\u00e9"}


# -- YAML problems --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("a: 1\nb: c: d\n", 2, "mapping values are not allowed"),
        ("a:\n  - x\n b: 2\n", 3, "check the indentation near line 3"),
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "flow sequence started at line 2"),
        ("a: 1\nb: 'x\n", 3, "end of stream"),
        ("a: 1\nb: *nope\n", 2, "undefined alias 'nope'"),
        ("a: 1\n\tb: 2\n", 2, "not tabs"),
        ("a: 1\nb: @x\n", 2, "'@'"),
        ("a: 1\nb: 2\nc: \x07\n", 3, "#x0007"),
    ],
)
def test_syntax_error_names_the_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    problem = only_problem(load_error(tmp_path, text))
    assert problem.line == line and problem.field == ""
    assert problem.message.startswith("invalid YAML: ") and words in problem.message


INDENTED = """\
name: demo
actors:
  russia:
    role: principal
    # a comment between fields
    position:
      territory: 1.0
      guarantees: 0.0
    salience:
      territory: 0.6
      guarantees: 0.4
    red_lines:
      - "territory >= 0.5"
      - "guarantees <= 0.6"
  ukraine:
    role: principal
protocol:
  kind: mediated
  rounds: 8
"""


@pytest.mark.parametrize(
    ("line", "indent"),
    [
        (6, 2),  # a nested key moved left: its children parse, the parser complains 3 lines on
        (6, 3),
        (6, 6),
        (10, 4),  # a child moved left: the next child is where the parser stops
        (10, 0),
        (4, 5),
        (13, 8),
        (13, 2),
        (18, 4),  # over-indented: the next field at the right depth is the complaint
    ],
)
def test_indentation_errors_name_the_line_to_fix(tmp_path: Path, line: int, indent: int) -> None:
    lines = INDENTED.splitlines()
    lines[line - 1] = " " * indent + lines[line - 1].lstrip()
    problem = only_problem(load_error(tmp_path, "\n".join(lines) + "\n"))
    assert problem.line == line, problem
    assert problem.message == (f"invalid YAML: check the indentation near line {line} (YAML nests "
                               "fields by how far they are indented, in spaces)")


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object:os.system {}", "!!python/object:os.system"),
        ("!!python/object/apply:os.system ['echo hi']", "!!python/object/apply:os.system"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!!python/tuple [1, 2]", "!!python/tuple"),
        ("!Ref other", "!Ref"),
        ("!include other.yaml", "!include"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!set {a, b}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
    ],
)
def test_tags_that_are_not_plain_data_are_refused(tmp_path: Path, value: str, tag: str) -> None:
    problem = only_problem(load_error(tmp_path, f"ok: 1\nlist:\n  - 0\n  - {value}\n"))
    assert problem.message == f"YAML tag '{tag}' is not allowed"
    assert (problem.line, problem.field) == (4, "list.1")


def test_python_tag_does_not_run_anything(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    load_error(tmp_path, text)
    assert not marker.exists()


def test_tag_on_a_key_and_a_bad_explicit_value_are_reported(tmp_path: Path) -> None:
    err = load_error(tmp_path, "!Key a: 1\nb: !!int many\nc: !!str {x: 1}\n")
    assert [(p.line, p.field, p.message) for p in err.problems] == [
        (1, "", "YAML tag '!Key' is not allowed"),
        (2, "b", "invalid integer 'many'"),
        (3, "c", "YAML tag '!!str' cannot be used on a mapping"),
    ]


def test_duplicate_key_is_reported_at_its_line(tmp_path: Path) -> None:
    text = "actors:\n  russia:\n    bias: 1\n    role: principal\n    bias: 2\n"
    problem = only_problem(load_error(tmp_path, text))
    assert (problem.line, problem.field) == (5, "actors.russia")
    assert problem.message == "duplicate key 'bias'"


def test_numeric_and_quoted_keys_collide(tmp_path: Path) -> None:
    problem = only_problem(load_error(tmp_path, "1: a\n'1': b\n"))
    assert (problem.line, problem.message) == (2, "duplicate key '1'")


def test_every_duplicate_is_reported(tmp_path: Path) -> None:
    err = load_error(tmp_path, "a: 1\nb: 2\na: 3\nb: 4\n")
    assert [(p.line, p.message) for p in err.problems] == [
        (3, "duplicate key 'a'"),
        (4, "duplicate key 'b'"),
    ]


def test_complex_key_is_refused(tmp_path: Path) -> None:
    problem = only_problem(load_error(tmp_path, "a: 1\n? [x, y]\n: 2\n"))
    assert problem.line == 2 and "key" in problem.message


def laughs(levels: int = 9, width: int = 9) -> str:
    """The classic 'billion laughs': level i is a list of `width` aliases to level i-1."""
    lines = ["lol0: &lol0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    # 9 levels of 9: 9**10 strings once expanded; a naive expander would hang here.
    problem = only_problem(load_error(tmp_path, laughs()))
    assert "aliases" in problem.message
    assert problem.message == "document expands to more than 100000 nodes through aliases"
    assert problem.line is not None and 1 <= problem.line <= 10


def test_alias_limit_follows_max_nodes(tmp_path: Path) -> None:
    text = "x: &a [1, 2, 3, 4, 5]\ny: [*a, *a, *a]\n"
    assert load(tmp_path, text).data["y"] == [[1, 2, 3, 4, 5]] * 3
    problem = only_problem(load_error(tmp_path, text, max_nodes=15))
    assert problem.message == "document expands to more than 15 nodes through aliases"


def test_big_document_without_aliases_is_not_blamed_on_aliases(tmp_path: Path) -> None:
    text = "x: [" + ", ".join(["1"] * 30) + "]\n"
    problem = only_problem(load_error(tmp_path, text, max_nodes=15))
    assert problem.message == "document has more than 15 nodes"


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    problem = only_problem(load_error(tmp_path, "a: 1\nb: &loop\n  self: *loop\n"))
    assert problem.line == 2 and "recursive" in problem.message  # where the anchor is


@pytest.mark.parametrize("depth", [150, 2000])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int) -> None:
    problem = only_problem(load_error(tmp_path, "a: " + "[" * depth + "]" * depth + "\n"))
    assert "nest" in problem.message  # "nested too deeply" / "maximum nesting depth"


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("- a\n- b\n", 1, "a list"),
        ("\n\njust text\n", 3, "a single value"),
        ("42\n", 1, "a number"),
    ],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, line: int, what: str) -> None:
    problem = only_problem(load_error(tmp_path, text))
    assert problem.line == line
    assert problem.message == f"top level must be a mapping of field: value pairs, not {what}"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
def test_empty_document(tmp_path: Path, text: str) -> None:
    problem = only_problem(load_error(tmp_path, text))
    assert problem.message.startswith("file is empty")


def test_more_than_one_document(tmp_path: Path) -> None:
    problem = only_problem(load_error(tmp_path, "a: 1\nb: 2\n---\nc: 3\n"))
    assert problem.line == 3 and "more than one YAML document" in problem.message


def test_parse_yaml_names_the_document() -> None:
    assert parse_yaml("a: 1\n").data == {"a": 1}
    with pytest.raises(InputError, match=r"^inline\.yaml:1: "):
        parse_yaml("a: !Ref x\n", "inline.yaml")


# -- properties -----------------------------------------------------------------------------------

EXP_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+")
KEYS = st.from_regex(r"k_[a-z]{1,5}", fullmatch=True)
TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12
).filter(lambda s: not EXP_FLOAT.fullmatch(s))  # the one place this loader differs on purpose
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)
DOCS = st.dictionaries(KEYS, VALUES, min_size=1, max_size=5)


def key_paths(value, prefix=()):
    """Every (path to a key, key) in the data."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key), key
            yield from key_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from key_paths(child, (*prefix, index))


@settings(max_examples=60, deadline=None)
@given(DOCS)
def test_round_trip_and_every_key_is_on_its_line(data: dict) -> None:
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    doc = parse_yaml(text, "prop.yaml")
    assert doc.data == data
    lines = text.split("\n")
    for path, key in key_paths(data):
        line = doc.line_of(path)
        content = lines[line - 1].strip()
        while content.startswith("- "):
            content = content[2:]
        assert content.startswith(f"{key}:"), (path, line, text)
        assert doc.line_of((*path, "k_missing_child")) == line


# -- pydantic validation errors -------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class YioPrincipal(_Strict):
    role: Literal["principal"]
    salience: dict[str, float]
    red_lines: list[str] = []


class YioMediator(_Strict):
    role: Literal["mediator"]
    bias: float

    @field_validator("bias")
    @classmethod
    def _bias_in_range(cls, value: float) -> float:
        if not -1 <= value <= 1:
            raise ValueError("bias must be in [-1, 1]")
        return value


class YioSummit(_Strict):
    rounds: int = 1
    host: str | None = None


class YioScenario(_Strict):
    name: str
    actors: dict[str, Annotated[Union[YioPrincipal, YioMediator], Field(discriminator="role")]]
    summit: YioSummit = YioSummit()
    weights: list[float] = []


SCENARIO = """\
name: summit
actors:
  russia:
    role: principal
    salience:
      territory: 0.9
    red_lines: [no_nato]
  un:
    role: mediator
    bias: 0.2
summit:
  rounds: 3
weights: [1, 2]
"""


def scenario_problems(tmp_path: Path, text: str, **kwargs) -> list[tuple[int | None, str, str]]:
    doc = load(tmp_path, text)
    with pytest.raises(ValidationError) as info:
        YioScenario.model_validate(doc.data)
    problems = problems_from_validation_error(info.value, doc, **kwargs)
    assert all(p.file == doc.path and "\n" not in str(p) for p in problems)
    return [(p.line, p.field, p.message) for p in problems]


def edit(old: str, new: str) -> str:
    assert old in SCENARIO
    return SCENARIO.replace(old, new)


def test_the_sample_scenario_is_valid(tmp_path: Path) -> None:
    scenario = validate_doc(load(tmp_path, SCENARIO), YioScenario)
    assert scenario.actors["un"].bias == 0.2


def test_missing_field(tmp_path: Path) -> None:
    problems = scenario_problems(tmp_path, edit("name: summit\n", ""))
    assert problems == [(1, "name", "field required")]


def test_missing_field_inside_a_union_member_is_located_at_its_mapping(tmp_path: Path) -> None:
    problems = scenario_problems(tmp_path, edit("    bias: 0.2\n", ""))
    assert problems == [(8, "actors.un.bias", "field required")]


def test_extra_field_lists_the_allowed_ones(tmp_path: Path) -> None:
    problems = scenario_problems(tmp_path, edit("  rounds: 3\n", "  rounds: 3\n  rouds: 4\n"))
    assert problems == [(13, "summit.rouds", "unknown field (allowed: rounds, host)")]
    # the model is found by name when not given, and can be given explicitly
    assert scenario_problems(
        tmp_path, edit("  rounds: 3\n", "  rounds: 3\n  rouds: 4\n"), model=YioScenario
    ) == problems


def test_extra_field_inside_a_discriminated_union_member(tmp_path: Path) -> None:
    text = edit("    bias: 0.2\n", "    bias: 0.2\n    weight: 1\n")
    problems = scenario_problems(tmp_path, text)
    assert problems == [(11, "actors.un.weight", "unknown field (allowed: role, bias)")]


def test_extra_field_without_a_known_model_says_only_unknown(tmp_path: Path) -> None:
    class Twin(_Strict):
        a: int = 0

    class Other(_Strict):  # a second model with the same name makes the lookup ambiguous
        b: int = 0

    Other.__name__ = "Twin"
    doc = load(tmp_path, "a: 1\nzz: 2\n")
    with pytest.raises(ValidationError) as info:
        Twin.model_validate(doc.data)
    problems = problems_from_validation_error(info.value, doc)
    assert [(p.line, p.field, p.message) for p in problems] == [(2, "zz", "unknown field")]


def test_wrong_type_shows_what_was_written(tmp_path: Path) -> None:
    [(line, field, message)] = scenario_problems(tmp_path, edit("rounds: 3", "rounds: many"))
    assert (line, field) == (12, "summit.rounds")
    assert message.startswith("input should be a valid integer")
    assert message.endswith("(got 'many')")


def test_value_error_from_a_validator(tmp_path: Path) -> None:
    problems = scenario_problems(tmp_path, edit("bias: 0.2", "bias: 3"))
    assert problems == [(10, "actors.un.bias", "bias must be in [-1, 1]")]


def test_error_inside_a_discriminated_union_member_and_a_dict_value(tmp_path: Path) -> None:
    text = edit("territory: 0.9", "territory: high")
    [(line, field, message)] = scenario_problems(tmp_path, text)
    assert (line, field) == (6, "actors.russia.salience.territory")  # no 'principal' tag part
    assert "valid number" in message


def test_error_in_a_list_item(tmp_path: Path) -> None:
    text = edit("red_lines: [no_nato]", "red_lines:\n      - {x: 1}")
    problems = scenario_problems(tmp_path, text)
    assert [(line, field) for line, field, _ in problems] == [(8, "actors.russia.red_lines.0")]
    assert scenario_problems(tmp_path, edit("[1, 2]", "[1, x]"))[0][:2] == (13, "weights.1")


def test_unknown_and_missing_discriminator_point_at_the_tag(tmp_path: Path) -> None:
    problems = scenario_problems(tmp_path, edit("role: mediator", "role: observer"))
    assert problems == [
        (
            9,
            "actors.un.role",
            "'observer' is not a valid role (expected one of 'principal', 'mediator')",
        )
    ]
    problems = scenario_problems(tmp_path, edit("    role: mediator\n", ""))
    assert problems == [(8, "actors.un.role", "field required")]


def test_wrong_shape_of_a_mapping(tmp_path: Path) -> None:
    problems = scenario_problems(tmp_path, edit("summit:\n  rounds: 3\n", "summit: yearly\n"))
    assert problems == [(11, "summit", "expected a mapping of field: value pairs (got 'yearly')")]


def test_several_errors_each_located(tmp_path: Path) -> None:
    text = edit("name: summit\n", "").replace("bias: 0.2", "bias: 3").replace("[1, 2]", "[a, 2]")
    assert [(line, field) for line, field, _ in scenario_problems(tmp_path, text)] == [
        (1, "name"),
        (9, "actors.un.bias"),
        (12, "weights.0"),
    ]


def test_prefix_locates_a_section(tmp_path: Path) -> None:
    text = "experiment: x\nscenario:\n" + "".join(f"  {line}\n" for line in SCENARIO.splitlines())
    doc = load(tmp_path, text.replace("bias: 0.2", "bias: 3"))
    with pytest.raises(InputError) as info:
        validate_doc(doc, YioScenario, prefix=("scenario",))
    assert [(p.line, p.field, p.message) for p in info.value.problems] == [
        (12, "scenario.actors.un.bias", "bias must be in [-1, 1]")
    ]
    with pytest.raises(InputError, match=r":1: nowhere: field required$"):
        validate_doc(doc, YioScenario, prefix=("nowhere",))


class YioA(_Strict):
    x: int


class YioB(_Strict):
    x: int
    y: str = ""


class YioHolder(_Strict):
    v: Union[YioA, YioB]


def test_identical_problems_are_reported_once(tmp_path: Path) -> None:
    doc = load(tmp_path, "v: {}\n")
    with pytest.raises(ValidationError) as info:
        YioHolder.model_validate(doc.data)
    assert len(info.value.errors()) > 1  # one per union member
    problems = problems_from_validation_error(info.value, doc)
    assert [(p.line, p.field, p.message) for p in problems] == [(1, "v.x", "field required")]


def test_multi_line_validator_message_becomes_one_line(tmp_path: Path) -> None:
    class Multi(_Strict):
        a: int

        @field_validator("a")
        @classmethod
        def _check(cls, value: int) -> int:
            raise ValueError("first line\n  second line")

    doc = load(tmp_path, "a: 1\n")
    with pytest.raises(InputError) as info:
        validate_doc(doc, Multi)
    assert str(info.value) == f"{doc.path}:1: a: first line second line"


@pytest.mark.parametrize("encoding,bom", [("utf-32-le", "\ufeff"), ("utf-32-be", "\ufeff"),
                                          ("utf-32", "")])
def test_utf32_is_named_utf32_not_utf16(tmp_path: Path, encoding: str, bom: str) -> None:
    path = tmp_path / "utf32.yaml"
    path.write_bytes((bom + "a: 1\n").encode(encoding))
    with pytest.raises(InputError, match="UTF-32") as err:
        load_yaml(path)
    assert "UTF-16" not in str(err.value)


@pytest.mark.parametrize("text", ["1:30", "-1:30", "1:30:00", "190:20:30.15"])
def test_yaml_1_1_base_60_numbers_are_text(tmp_path: Path, text: str) -> None:
    assert load(tmp_path, f"x: {text}\n").data["x"] == text


def test_a_value_that_fails_every_member_of_a_union_is_one_problem(tmp_path):
    """``utility: lineer`` is neither a shape's name nor a mapping: one located problem that
    says both, not one per member of the union (which reads as two mistakes)."""
    import copy

    from conftest import SMALL, write_yaml

    from negotiation_sim.config.scenario import load_scenario

    data = copy.deepcopy(SMALL)
    actor = next(iter(data["actors"]))
    data["actors"][actor]["utility"] = "lineer"
    path = write_yaml(tmp_path / "s.yaml", data)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.field == f"actors.{actor}.utility"
    assert problem.message == ("input should be 'linear' or 'quadratic' or a mapping of field: "
                               "value pairs (got 'lineer')"), problem.message
