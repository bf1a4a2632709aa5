"""Dotted paths into a scenario: the one owner of ``actors.russia.reservation.high``.

Experiment overrides, sweep parameters and events address a scenario's numbers by dotted
path. This module lists every number of a validated scenario by path (``number_fields``),
checks a path against the scenario (an unknown path names the closest valid ones) and sets a
value at a path in a scenario's raw YAML data *before* validation, so a swept value can replace
a distribution with a fixed number or change one of a distribution's parameters.

The ``protocol`` section has one model per kind (``config.protocols``): a path to an option of
any kind is a path (an experiment may set ``protocol.kind`` and that kind's options together;
validating the changed scenario refuses an option its kind does not have), and setting
``protocol.kind`` keeps only the options the new kind has, so a sweep over kinds plays one
scenario under each.
"""

from __future__ import annotations

import copy
import difflib
import math
from typing import Any

from pydantic import BaseModel

from negotiation_sim.config.distributions import _Dist
from negotiation_sim.config.events import Shock
from negotiation_sim.config.protocols import PROTOCOL_KINDS, ProtocolOptions, options_of
from negotiation_sim.config.scenario import Principal, Scenario
from negotiation_sim.config.words import words_of

# Sections whose fields depend on a tag: where, the tag's field, the tag's values.
_TAGGED = {("protocol",): ("kind", PROTOCOL_KINDS)}


def _children(node: Any) -> dict[str, Any] | None:
    """The addressable children of a validated scenario node, or None for a leaf (an option
    of another protocol kind is a child left unset)."""
    if isinstance(node, BaseModel):
        kids = {name: getattr(node, name) for name in type(node).model_fields}
        if isinstance(node, ProtocolOptions):
            for model in PROTOCOL_KINDS.values():
                kids.update({name: None for name in model.model_fields if name not in kids})
        return kids
    if isinstance(node, dict):
        return {str(k): v for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return {str(i): v for i, v in enumerate(node)}
    return None


def all_paths(node: Any, prefix: str = "") -> list[str]:
    """Every dotted path inside a validated scenario (fields left at defaults included)."""
    out: list[str] = []
    for key, child in (_children(node) or {}).items():
        path = f"{prefix}.{key}" if prefix else key
        out.append(path)
        out += all_paths(child, path)
    return out


def path_error(scenario: Scenario, path: str) -> str | None:
    """Why ``path`` addresses nothing in ``scenario``, or None when it is valid.

    A path is valid when it leads to a field of the schema (set in the file or left at its
    default), or adds a key to a mapping of numbers (``actors.us.pressure.ukraine``). Values
    are checked later, by validating the changed scenario.
    """
    parts = path.split(".")
    node: Any = scenario
    for i, part in enumerate(parts):
        if node is None:  # an optional section left out: its schema decides, at validation
            return None
        kids = _children(node)
        if kids is None:
            where = ".".join(parts[:i])
            return _unknown_path(scenario, path, f"'{where}' is a single value, not a section")
        if part in kids:
            node = kids[part]
            continue
        last = i == len(parts) - 1
        opens_map = isinstance(node, dict) and not any(
            isinstance(v, BaseModel) for v in node.values())
        if last and opens_map:
            return None
        return _unknown_path(scenario, path)
    return None


def _unknown_path(scenario: Scenario, path: str, why: str | None = None) -> str:
    candidates = all_paths(scenario)
    close = difflib.get_close_matches(path, candidates, n=3, cutoff=0.6)
    if not close:  # e.g. a long path with a wrong actor id: compare the last parts
        tail = path.split(".")[-1]
        close = [c for c in candidates if c.endswith("." + tail)][:3]
    msg = f"unknown path '{path}'" + (f" ({why})" if why else "")
    return msg + (f"; closest valid paths: {', '.join(close)}" if close else "")


def set_path(data: dict, path: str, value: Any) -> None:
    """Set ``value`` at a dotted path in raw scenario data, creating missing sections."""
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        if isinstance(node, list):
            node = node[int(part)]
            continue
        if not isinstance(node.get(part), (dict, list)):
            node[part] = {}
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = copy.deepcopy(value)
    else:
        node[last] = copy.deepcopy(value)
        _retag(node, parts, value)


def not_drawn(node: Any) -> tuple[str, ...]:
    """Fields of a scenario node that hold a distribution but are not drawn once per world: a
    shock's ``draw`` (drawn each time it fires) and a principal's ``belief`` (a prior)."""
    if isinstance(node, Shock):
        return ("draw",)
    if isinstance(node, Principal):
        return ("belief",)
    return ()


def with_path(data: Any, path: str, value: Any) -> Any:
    """A copy of raw scenario data with ``value`` set at a dotted path, as ``set_path`` would.

    Only the mappings and lists along the path are copied; everything else is shared with
    ``data``, which stays as it was. Making a sweep's points this way costs what the path
    costs, not what the whole scenario does.
    """
    parts = path.split(".")
    root = _copied(data) if isinstance(data, (dict, list)) else {}
    node = root
    for part in parts[:-1]:
        key: Any = int(part) if isinstance(node, list) else part
        child = node[key] if isinstance(node, list) else node.get(part)
        child = _copied(child) if isinstance(child, (dict, list)) else {}
        node[key] = child
        node = child
    last = parts[-1]
    node[int(last) if isinstance(node, list) else last] = copy.deepcopy(value)
    if isinstance(node, dict):
        _retag(node, parts, value)
    return root


def _retag(section: dict, parts: list[str], value: Any) -> None:
    """After ``value`` was set at ``parts`` in ``section``: when it is the tag of a tagged
    section (``protocol.kind``), drop the fields the new tag's model does not have."""
    tag = _TAGGED.get(tuple(parts[:-1]))
    if tag is None or parts[-1] != tag[0] or not isinstance(value, str) or value not in tag[1]:
        return
    keep = set(options_of(value))
    for key in [k for k in section if k not in keep]:
        del section[key]


def _copied(node: dict | list) -> dict | list:
    return dict(node) if isinstance(node, dict) else list(node)


def number_fields(obj: Any, path: tuple = ()) -> list[tuple[str, Any]]:
    """Every number or distribution a scenario draws once per world, as (dotted path, value),
    in file order (``not_drawn`` fields left out)."""
    out: list[tuple[str, Any]] = []
    if isinstance(obj, _Dist) or (isinstance(obj, (int, float)) and not isinstance(obj, bool)):
        return [(".".join(map(str, path)), obj)]
    if isinstance(obj, BaseModel):
        skip = not_drawn(obj)
        for name in type(obj).model_fields:
            if name not in skip:
                out += number_fields(getattr(obj, name), (*path, name))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += number_fields(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += number_fields(v, (*path, i))
    return out


_FIELD_WORDS = {
    "reservation": "reservation (utility of no deal)",
    "claim": "overstated claim (utility)",
    "concession": "concession (share of overstatement dropped per rejection)",
    "walkout": "walk-out chance per rejecting round",
    "patience": "patience (discount per round)",
    "clout": "clout (bargaining weight)",
    "backlash": "backlash (walk-out chance per unit of pressure)",
}


def field_range(scenario: Scenario, path: str) -> tuple[float, float] | None:
    """The range a scenario field's value must lie in (its ``in_range`` constraint), or None
    when the field has none or an open-ended one (a value of war's [0, 1] is one; a clout's
    (0, inf) is not). An open end is moved in by a millionth of the range, so every value of
    the returned interval is valid."""
    *head, last = path.split(".")
    node: Any = scenario
    for part in head:
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
        if node is None:
            return None
    info = getattr(type(node), "model_fields", {}).get(last)
    for meta in getattr(info, "metadata", []):
        bounds = getattr(getattr(meta, "func", None), "bounds", None)
        if bounds is None:
            continue
        lo, hi, lo_open, hi_open = bounds
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        nudge = (hi - lo) * 1e-6
        return lo + nudge * lo_open, hi - nudge * hi_open
    return None


def param_label(path: str, scenario: Scenario | None = None, *, units: bool = True) -> str:
    """Words and units for a swept dotted path (``actors.us.pressure.russia`` ->
    "United States' pressure on Russia (fall in reservation per round)"); ``units=False``
    leaves out the parenthesised unit, for titles."""
    import re

    text = _param_words(path, scenario)
    return text if units else re.sub(r" \([^()]*\)$", "", text)


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _param_words(path: str, scenario: Scenario | None) -> str:
    parts = path.split(".")
    dist = ""
    if parts[-1] in ("low", "high", "mean", "sd", "mode", "a", "b") and len(parts) > 2:
        dist, parts = f" (distribution's {parts[-1]})", parts[:-1]

    def name(actor: str) -> str:
        if scenario is not None and actor in scenario.actors:
            return scenario.actors[actor].display(actor)
        return actor

    text = path
    if parts[0] == "actors" and len(parts) >= 3:
        who, fld, rest = _possessive(name(parts[1])), parts[2], parts[3:]
        if fld == "pressure" and rest:
            text = f"{who} pressure on {name(rest[0])} (fall in reservation per round)"
        elif fld == "offer" and rest:
            text = f"{who} offer on {rest[0]} (cap, 0-1 issue scale)"
        elif fld == "position" and rest:
            text = f"{who} ideal point on {rest[0]} (0-1 issue scale)"
        elif fld == "salience" and rest:
            text = f"{who} salience of {rest[0]}"
        elif fld == "audience_cost" and rest:
            text = f"{who} audience cost of a {rest[0]} {words_of(scenario).meeting} (utility)"
        elif fld == "red_lines":
            text = f"{who} red line"
        elif fld in _FIELD_WORDS:
            text = f"{who} {_FIELD_WORDS[fld]}"
        else:
            text = f"{who} {'.'.join(parts[2:])}"
    elif parts[0] == "issues" and len(parts) == 3 and parts[2] == "status_quo":
        text = f"status quo on {parts[1]} (0-1 issue scale)"
    elif path == "protocol.rounds":
        text = "deadline (rounds)"
    if dist:  # the unit belongs to the value, the distribution's part comes last
        return text + dist
    return text
