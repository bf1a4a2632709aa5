"""Events between rounds: the ``events:`` list of a scenario file.

Two kinds, applied before every round from round 2 on, in file order, in every world still
negotiating (``core.events`` carries them out):

- ``shock``: every ``every`` rounds (before rounds 1 + every, 1 + 2 every, ...), one draw per world
  from ``draw``; each target moves by its loading times the draw (``effect``). A battlefield
  shock loads +1 on one side's value of war and -1 on the other's.
- ``scheduled``: once, before round ``round``, in a share ``probability`` of the worlds: ``set``
  gives each target a value, ``add`` adds to it (a US disengagement sets its pressure to 0).

Targets are dotted paths, as in experiment files, to the per-world numbers that can change while
talks go on (``TARGETS``); any other path is a validation error with its file and line.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field

from negotiation_sim.config.distributions import STRICT, Finite, Num, Unit, at_most
from negotiation_sim.config.limits import MAX_ROUNDS

# What an event may change, by the role of the actor a path names: path pattern -> meaning.
TARGETS = {
    "actors.<principal>.reservation": "the principal's value of the war going on",
    "actors.<principal>.walkout": "its chance of leaving after a rejection",
    "actors.<principal>.concession": "how fast it gives up an overstated claim",
    "actors.<mediator>.pressure.<principal>": "the mediator's per-round pressure on a principal",
    "actors.<mediator>.backlash": "the walk-out chance its pressure provokes",
    "actors.<guarantor>.offer.<issue>": "the most the guarantor backs on an issue",
    "ceasefire.terms.<issue>": "the fallback package's term on an issue",
}


class _Event(BaseModel):
    model_config = STRICT
    name: str = Field(min_length=1, description="Label for traces and plots.")


class Shock(_Event):
    """A shock drawn anew in every world each time it fires."""

    kind: Literal["shock"]
    every: Annotated[int, *at_most(MAX_ROUNDS, "the rounds between firings")] = Field(
        1, ge=1, description="Fires every k rounds (default 1).")
    draw: Num = Field(description="The distribution of one draw (per world, per firing).")
    effect: dict[str, Finite] = Field(
        min_length=1, description="Loading per target path: the target moves by loading x draw.")


class Scheduled(_Event):
    """An event that happens once, before a given round, in a share of the worlds."""

    kind: Literal["scheduled"]
    round: Annotated[int, *at_most(MAX_ROUNDS, "the round of a scheduled event")] = Field(
        ge=2, description="Fires once, before this round.")
    probability: Unit = Field(1.0, description="Share of worlds it happens in (default 1).")
    set: dict[str, Num] = Field(default_factory=dict, description="Target path -> new value.")
    add: dict[str, Num] = Field(default_factory=dict, description="Target path -> change.")


Event = Annotated[Union[Shock, Scheduled], Field(discriminator="kind")]


def event_targets(event: Shock | Scheduled) -> list[tuple[str, str]]:
    """``(field, path)`` of every target an event names, in file order."""
    if isinstance(event, Shock):
        return [("effect", p) for p in event.effect]
    return [("set", p) for p in event.set] + [("add", p) for p in event.add]


def target_error(path: str, roles: dict[str, str], issues: list[str]) -> str | None:
    """Why ``path`` is not something an event can change, or None when it is.

    Args:
        path: the dotted path.
        roles: actor id -> role.
        issues: the scenario's issue ids.
    """
    parts = path.split(".")
    if parts[0] == "ceasefire":
        if len(parts) == 3 and parts[1] == "terms" and parts[2] in issues:
            return None
    elif parts[0] == "actors" and len(parts) >= 3:
        role = roles.get(parts[1])
        if role is None:
            return f"unknown actor '{parts[1]}' (known: {', '.join(roles)})"
        field = parts[2:]
        principals = [a for a, r in roles.items() if r == "principal"]
        if role == "principal" and field in (["reservation"], ["walkout"], ["concession"]):
            return None
        if role == "mediator" and (field == ["backlash"] or (
                len(field) == 2 and field[0] == "pressure" and field[1] in principals)):
            return None
        if role == "guarantor" and len(field) == 2 and field[0] == "offer" and field[1] in issues:
            return None
    allowed = "; ".join(TARGETS)
    return (f"'{path}' is not a per-world number an event can change (events can change: "
            f"{allowed})")
