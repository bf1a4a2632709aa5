"""The levers of a scenario: the numbers an analyst turns to ask "what if...?".

A *lever* is one setting of a scenario, named by the dotted path experiment files use: a
mediator's pressure on a principal, a guarantor's offer, an audience cost, the bound of a red
line, the centre of a principal's value of war, the deadline, the information structure and
the protocol. ``levers(scenario)`` lists them in the scenario's own words with the range a
control may move them in; ``apply_levers`` sets values and returns the validated scenario,
built from the validated scenario's own data (``scenario_data``) with ``paths.with_path`` and
validated again, so what it returns, and what ``scenario_yaml`` writes, is a valid scenario by
construction.

A field that holds a distribution is moved as a whole, and the lever's value is the
distribution's mean. A quantity bounded on both sides (an offer, a value of war) is *shifted*:
every location parameter (``low``, ``high``, ``mean``, ``mode``, ``values``) moves by the same
amount, so the shape and spread stay those of the file. A quantity that starts at 0 (pressure,
an audience cost) is *scaled*: locations and spread are multiplied by the same factor, so the
lever reaches 0 (no pressure at all) without pushing any draw below it. A beta distribution has
no location to move; its lever replaces it with a fixed number.

The explorer (``negsim explore``) and ``negsim target`` use these; nothing here runs the model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from negotiation_sim.config.constraints import Constraint
from negotiation_sim.config.distributions import Beta, Choice, Normal, Triangular, Uniform, _Dist
from negotiation_sim.config.limits import MAX_ROUNDS
from negotiation_sim.config.paths import param_label, path_error, with_path
from negotiation_sim.config.protocols import PROTOCOL_KINDS, ProtocolOptions
from negotiation_sim.config.scenario import (
    Guarantor,
    Mediator,
    Principal,
    Scenario,
    scenario_from_data,
)
from negotiation_sim.config.yamlio import InputError, Problem, YamlDoc

Kind = Literal["float", "int", "choice"]

GROUPS = ("Mediator pressure", "Guarantor offers", "Audience costs", "Red lines",
          "Values of war", "Protocol", "After the signing")


def group_title(sc: Scenario, group: str) -> str:
    """A group's title as shown, in the scenario's words (``Values of war`` names the
    scenario's no-deal state: ``Values of dispute``)."""
    return f"Values of {sc.words.no_deal}" if group == GROUPS[4] else group


@dataclass(frozen=True)
class Lever:
    """One setting of a scenario a control can move.

    Attributes:
        path: the dotted path it sets (as in experiment files); for a red line, the list item
            (``actors.ukraine.red_lines.0``) whose bound it moves.
        group: which of ``GROUPS`` it belongs to.
        label: what it is, in the scenario's words.
        kind: ``float``, ``int`` or ``choice``.
        value: its value in the scenario (a distribution's mean).
        low, high, step: the range a control moves it in (numbers).
        choices: the values of a ``choice`` lever.
        moves: how a distribution moves with the lever: ``shift`` or ``scale`` (see the
            module's docstring); ``set`` for a plain value.
    """

    path: str
    group: str
    label: str
    kind: Kind
    value: Any
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = field(default=())
    moves: Literal["set", "shift", "scale"] = "set"


def scenario_data(sc: Scenario) -> dict[str, Any]:
    """The plain data of a validated scenario: what its file sets, in its order (fields left at
    their defaults out), ready for ``paths.with_path`` and validation again."""
    return sc.model_dump(mode="json", exclude_unset=True)


def centre(value: Any) -> float:
    """The mean of a fixed number or a distribution (a truncated normal: its ``mean``)."""
    if isinstance(value, Uniform):
        return (value.low + value.high) / 2
    if isinstance(value, Normal):
        return value.mean
    if isinstance(value, Triangular):
        return (value.low + value.mode + value.high) / 3
    if isinstance(value, Beta):
        return value.a / (value.a + value.b)
    if isinstance(value, Choice):
        w = value.weights or [1 / len(value.values)] * len(value.values)
        return sum(v * p for v, p in zip(value.values, w)) / sum(w)
    return float(value)


def _tidy(x: float) -> float:
    return float(f"{x:.12g}")


def moved(value: Any, target: float, how: str = "shift") -> Any:
    """``value`` (number or distribution) as plain data, moved so that its mean is ``target``:
    shifted by ``target - mean`` or, with ``how="scale"``, scaled by ``target / mean``."""
    c = centre(value)
    if not isinstance(value, _Dist) or isinstance(value, Beta) or (how == "scale" and c == 0):
        return _tidy(target)
    data = value.model_dump(mode="json", exclude_none=True)
    if how == "scale":
        f = target / c
        change = (lambda x: _tidy(x * f))
        if "sd" in data:
            data["sd"] = _tidy(data["sd"] * f)
    else:
        change = (lambda x: _tidy(x + target - c))
    for key in ("low", "high", "mean", "mode"):
        if key in data:
            data[key] = change(data[key])
    if "values" in data:
        data["values"] = [change(v) for v in data["values"]]
    return data


def _span(value: Any, lo: float, hi: float, how: str) -> tuple[float, float]:
    """The range of a lever's value (a distribution's mean) that keeps every value the field
    can take within [lo, hi], widened to hold what the scenario already has."""
    c = centre(value)
    if isinstance(value, _Dist) and not isinstance(value, Beta):
        s_lo, s_hi = value.support()
        s_lo, s_hi = (c if math.isinf(s_lo) else s_lo), (c if math.isinf(s_hi) else s_hi)
        if how == "scale" and c > 0 and s_lo >= 0:
            return 0.0, max(c, hi)
        return min(c, c - (s_lo - lo)), max(c, c + (hi - s_hi))
    return min(lo, c), max(hi, c)


def _number(path: str, group: str, label: str, value: Any, lo: float, hi: float,
            step: float, how: str = "shift") -> Lever:
    low, high = _span(value, lo, hi, how)
    moves = how if isinstance(value, _Dist) and not isinstance(value, Beta) else "set"
    return Lever(path, group, label, "float", _tidy(centre(value)), _tidy(low), _tidy(high),
                 step, moves=moves)


def _hi(value: Any, at_least: float) -> float:
    """An upper end for a control: ``at_least``, or twice the largest value the field takes."""
    top = value.support()[1] if isinstance(value, _Dist) else float(value)
    return max(at_least, 2 * top) if math.isfinite(top) else at_least


def _name(sc: Scenario, actor: str) -> str:
    return sc.actors[actor].display(actor)


def levers(sc: Scenario) -> list[Lever]:
    """Every lever of a scenario, grouped as ``GROUPS`` and in file order within a group."""
    out: list[Lever] = []
    for aid, actor in sc.actors.items():
        if isinstance(actor, Mediator):
            for p, v in actor.pressure.items():
                out.append(_number(f"actors.{aid}.pressure.{p}", GROUPS[0],
                                   param_label(f"actors.{aid}.pressure.{p}", sc), v, 0.0,
                                   _hi(v, 0.1), 0.001, "scale"))
            blame = actor.blame
            if "blame" in actor.model_fields_set:
                for field, what in (("refuse", "for each format a principal refuses"),
                                    ("cap", "at most, in all")):
                    v = getattr(blame, field)
                    out.append(_number(f"actors.{aid}.blame.{field}", GROUPS[0],
                                       f"{_name(sc, aid)}: pressure its blame adds a round "
                                       f"{what}", v, 0.0, _hi(v, 0.01), 0.0005, "scale"))
    for aid, actor in sc.actors.items():
        if isinstance(actor, Guarantor):
            for k, v in actor.offer.items():
                out.append(_number(f"actors.{aid}.offer.{k}", GROUPS[1],
                                   f"{_name(sc, aid)}: most it backs on {k} (0 = "
                                   f"{sc.issues[k].label('low')}; 1 = {sc.issues[k].label('high')})",
                                   v, 0.0, 1.0, 0.01))
            for p, v in actor.support.items():
                out.append(_number(f"actors.{aid}.support.{p}", GROUPS[1],
                                   f"{_name(sc, aid)}: rise it brings to {_name(sc, p)}'s value "
                                   "of war a round (arms and money)", v, 0.0, _hi(v, 0.01),
                                   0.0005, "scale"))
    for aid, actor in sc.actors.items():
        if isinstance(actor, Principal):
            for f, v in actor.audience_cost.items():
                lowest = v.support()[0] if isinstance(v, _Dist) else float(v)
                out.append(_number(f"actors.{aid}.audience_cost.{f}", GROUPS[2],
                                   param_label(f"actors.{aid}.audience_cost.{f}", sc), v,
                                   min(0.0, 2 * lowest), _hi(v, 0.3), 0.005,
                                   "scale" if lowest >= 0 else "shift"))
    for aid, actor in sc.actors.items():
        if isinstance(actor, Principal):
            for i, c in enumerate(actor.red_lines):
                issue = sc.issues[c.issue]
                out.append(Lever(f"actors.{aid}.red_lines.{i}", GROUPS[3],
                                 f"{_name(sc, aid)}'s red line: {c.issue} {c.op} x (0 = "
                                 f"{issue.label('low')}; 1 = {issue.label('high')})",
                                 "float", c.value, 0.0, 1.0, 0.01))
    for aid, actor in sc.actors.items():
        if isinstance(actor, Principal):
            out.append(_number(f"actors.{aid}.reservation", GROUPS[4],
                               f"{_name(sc, aid)}'s value of {sc.words.no_deal} per round (mean; 1 = its "
                               "ideal text)", actor.reservation, 0.0, 1.0, 0.005))
    p = sc.protocol
    out.append(Lever("protocol.rounds", GROUPS[5], f"horizon (rounds of {p.round_days:g} days)",
                     "int", p.rounds, 1, max(40, 2 * p.rounds) if p.rounds < MAX_ROUNDS // 2
                     else MAX_ROUNDS, 1))
    out.append(Lever("protocol.information", GROUPS[5],
                     f"information about values of {sc.words.no_deal}",
                     "choice", p.information,
                     choices=get_args(ProtocolOptions.model_fields["information"].annotation)))
    out.append(Lever("protocol.kind", GROUPS[5], "bargaining protocol", "choice", p.kind,
                     choices=tuple(PROTOCOL_KINDS)))
    if sc.durability.rounds > 0:
        out.extend(_durability_levers(sc))
    return out


def _durability_levers(sc: Scenario) -> list[Lever]:
    """What holds a signed text and what breaks it (``durability``): each principal's cost of
    breaking, the deterrence the scenario names, each shift's drift, and the leverage."""
    d, g = sc.durability, GROUPS[6]
    out: list[Lever] = []
    for p in sc.principals:
        v = d.breach_cost.get(p, 0.0)
        out.append(_number(f"durability.breach_cost.{p}", g, f"{_name(sc, p)}: what breaking a "
                           "signed text costs it a round", v, 0.0, _hi(v, 0.1), 0.005, "scale"))
    for p, by_issue in d.deterrence.items():
        for k, v in by_issue.items():
            out.append(_number(f"durability.deterrence.{p}.{k}", g, f"{_name(sc, p)}: cost of "
                               f"breaking added per unit of {k} signed", v, 0.0, _hi(v, 0.3),
                               0.01, "scale"))
    for p, shift in d.shifts.items():
        v = shift.drift
        top = _hi(v, 0.01)
        out.append(_number(f"durability.shifts.{p}.drift", g, f"{_name(sc, p)}: rise a round in "
                           "its value of resuming the war while a text holds", v, -top, top,
                           0.0005))
    out.append(Lever("durability.leverage", g, "mediators' pressure after the signing",
                     "choice", d.leverage, choices=("follows", "ends")))
    return out


def _field_value(sc: Scenario, path: str) -> Any:
    node: Any = sc
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else (
            node[part] if isinstance(node, dict) else getattr(node, part))
    return node


def set_lever(data: Any, sc: Scenario, lever: Lever, value: Any) -> Any:
    """A copy of scenario data (``scenario_data(sc)``) with ``lever`` at ``value``."""
    if lever.kind == "choice":
        if value not in lever.choices:
            raise ValueError(f"{lever.path}: {value!r} is not one of {', '.join(lever.choices)}")
        return with_path(data, lever.path, value)
    if lever.kind == "int":
        number = _as_float(value)
        if not math.isfinite(number):
            raise ValueError(f"{number} is not a finite number")
        return with_path(data, lever.path, int(round(number)))
    value = _as_float(value)
    if lever.group == GROUPS[3]:
        c = _field_value(sc, lever.path)
        return with_path(data, lever.path, Constraint(c.issue, c.op, value).canonical())
    how = "scale" if lever.moves == "scale" else "shift"
    return with_path(data, lever.path, moved(_current(sc, lever), value, how))


def _current(sc: Scenario, lever: Lever) -> Any:
    """The field's value in the scenario; for a lever whose field the file leaves to its
    default (a principal's cost of breaking that ``durability.breach_cost`` does not name),
    the default the lever shows."""
    try:
        return _field_value(sc, lever.path)
    except (KeyError, IndexError, AttributeError):
        return lever.value


def _as_float(value: Any) -> float:
    """``float(value)``, where an integer too large for a float (``10**400``) is a
    ``ValueError`` (one located input problem) instead of an ``OverflowError``."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"a number of {len(str(abs(int(value))))} digits is too large") \
            from None


def apply_levers(sc: Scenario, values: Mapping[str, Any], *,
                 source: str = "<levers>") -> Scenario:
    """The scenario with the given levers (path -> value) set, validated.

    Raises:
        InputError: a path that is no lever of ``sc``, or values that make it invalid (one
            located problem each, the field naming the setting's path).
    """
    by_path = {lever.path: lever for lever in levers(sc)}
    unknown = [p for p in values if p not in by_path]
    if unknown:
        raise InputError([Problem(source, None, p, f"not a lever of this scenario (levers: "
                                  f"{', '.join(by_path)})") for p in unknown])
    data = scenario_data(sc)
    for path, value in values.items():
        try:
            data = set_lever(data, sc, by_path[path], value)
        except (TypeError, ValueError) as err:
            raise InputError([Problem(source, None, path, str(err))]) from None
    return scenario_from_data(data, YamlDoc(source, data))


def set_paths(sc: Scenario, values: Mapping[str, Any], *, source: str = "<paths>") -> Scenario:
    """The scenario with any dotted paths set (a lever's path moves it as the lever does:
    a distribution by its mean, a red line by its bound), validated.

    Raises:
        InputError: a path that addresses nothing, or values that make the scenario invalid.
    """
    by_path = {lever.path: lever for lever in levers(sc)}
    data = scenario_data(sc)
    for path, value in values.items():
        if path in by_path:
            data = set_lever(data, sc, by_path[path], value)
            continue
        if (msg := path_error(sc, path)) is not None:
            raise InputError([Problem(source, None, path, msg)])
        data = with_path(data, path, value)
    return scenario_from_data(data, YamlDoc(source, data))


def lever_value(sc: Scenario, path: str) -> Any:
    """The value a lever (or any numeric path) has in ``sc``: a distribution's mean."""
    for lever in levers(sc):
        if lever.path == path:
            return lever.value
    return centre(_field_value(sc, path))


def scenario_yaml(sc: Scenario, *, header: str | None = None) -> str:
    """A validated scenario as YAML text that loads back to the same scenario."""
    import yaml

    text = yaml.safe_dump(scenario_data(sc), sort_keys=False, allow_unicode=True, width=100)
    if header:
        text = "".join(f"# {line}\n" for line in header.splitlines()) + text
    return text
