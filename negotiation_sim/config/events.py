"""Events between rounds: the ``events:`` list of a scenario file.

Two kinds, applied before every round from round 2 on, in file order, in every world still
negotiating (``core.events`` carries them out):

- ``shock``: every ``every`` rounds (before rounds 1 + every, 1 + 2 every, ...), one draw per world
  from ``draw``; each target moves by its loading times the draw (``effect``). A battlefield
  shock loads +1 on one side's value of war and -1 on the other's.
- ``scheduled``: once, before round ``round``, in a share ``probability`` of the worlds: ``set``
  gives each target a value, ``add`` adds to it (a US disengagement sets its pressure to 0).

Targets are dotted paths, as in experiment files, to the per-world numbers that can change while
talks go on. ``TARGETS`` is the one list of them: each ``EventTarget`` says which paths it
covers (a pattern such as ``actors.<mediator>.pressure.<principal>``), which per-world array it
changes and how, and whether it moves a signed text's fate. Validation
(``target_error``), the compilation of events to rows of arrays (``EventTarget.rows``, read by
``core.events``) and the follow-up of signed texts (``core.durability``) all read it, so a new
target is one entry here. Any other path is a validation error with its file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field

from negotiation_sim.config.distributions import STRICT, Finite, Num, Unit, at_most
from negotiation_sim.config.limits import MAX_ROUNDS

# The placeholders of a pattern: the ids of one role's actors, or of the issues.
PLACEHOLDERS = ("principal", "mediator", "guarantor", "issue")


@dataclass(frozen=True)
class EventTarget:
    """One kind of number an event may change.

    Attributes:
        pattern: the paths it covers; ``<role>`` stands for an actor of that role, ``<issue>``
            for an issue (``actors.<guarantor>.offer.<issue>``).
        meaning: what it is, in words (docs/scenario.md lists it).
        array: the per-world parameter array it changes (a field of
            ``core.worlds.WorldParams``), indexed by the placeholders' rows in pattern order
            and then worlds: ``pressure[mediator, principal, world]``.
        changes: ``value_of_war``: a principal's value of war, moved in public (pressure and
            beliefs see it; ``core.state.Ensemble.move_values``); ``parameter``: the array
            itself.
        low, high: the range a changed parameter is clipped to (None: unbounded).
        then: what must be recomputed after a change: ``sum_pressure`` (the mediators'
            pressure and backlash on each principal), ``bound_texts`` (the bounds on texts and
            the ceasefire package under the caps), or None.
        followed: whether it moves what a signed text's fate depends on (the value of war,
            the pressure): events change every target in the signed texts being followed too,
            since a broken text's world rejoins the talks, but only these matter before then.
        section: the optional scenario section the target needs (``ceasefire``), or None.
    """

    pattern: str
    meaning: str
    array: str
    changes: Literal["value_of_war", "parameter"] = "parameter"
    low: float | None = None
    high: float | None = None
    then: Literal["sum_pressure", "bound_texts"] | None = None
    followed: bool = False
    section: str | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.pattern.split("."))

    def rows(self, path: str, ids: Mapping[str, list[str]]) -> tuple[int, ...] | None:
        """The array rows ``path`` names (one per placeholder, in order), or None when it is
        not one of this target's paths.

        Args:
            path: a dotted path.
            ids: placeholder (``PLACEHOLDERS``) -> the scenario's ids of it, in file order.
        """
        parts = path.split(".")
        if len(parts) != len(self.parts):
            return None
        rows = []
        for part, want in zip(parts, self.parts):
            if want.startswith("<"):
                known = ids.get(want[1:-1], [])
                if part not in known:
                    return None
                rows.append(known.index(part))
            elif part != want:
                return None
        return tuple(rows)


TARGETS: tuple[EventTarget, ...] = (
    EventTarget("actors.<principal>.reservation", "the principal's value of the war going on",
                "reservation", changes="value_of_war", followed=True),
    EventTarget("actors.<principal>.walkout", "its chance of leaving after a rejection",
                "walkout", low=0.0, high=1.0),
    EventTarget("actors.<principal>.concession", "how fast it gives up an overstated claim",
                "concession", low=0.0, high=1.0),
    EventTarget("actors.<mediator>.pressure.<principal>",
                "the mediator's per-round pressure on a principal", "pressure", then="sum_pressure",
                followed=True),
    EventTarget("actors.<mediator>.backlash", "the walk-out chance its pressure provokes",
                "backlash", low=0.0, then="sum_pressure", followed=True),
    EventTarget("actors.<guarantor>.offer.<issue>", "the most the guarantor backs on an issue",
                "offers", low=0.0, high=1.0, then="bound_texts"),
    EventTarget("ceasefire.terms.<issue>", "the fallback package's term on an issue",
                "ceasefire_terms", low=0.0, high=1.0, then="bound_texts", section="ceasefire"),
)
"""What an event may change: every target, in the order docs and messages list them."""


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


def target_of(path: str, ids: Mapping[str, list[str]]
              ) -> tuple[EventTarget, tuple[int, ...]] | None:
    """The target ``path`` names and its rows (``EventTarget.rows``), or None."""
    for target in TARGETS:
        if (rows := target.rows(path, ids)) is not None:
            return target, rows
    return None


def target_error(path: str, roles: dict[str, str], issues: list[str]) -> str | None:
    """Why ``path`` is not something an event can change, or None when it is.

    Args:
        path: the dotted path.
        roles: actor id -> role.
        issues: the scenario's issue ids.
    """
    parts = path.split(".")
    if parts[0] == "actors" and len(parts) >= 3 and parts[1] not in roles:
        return f"unknown actor '{parts[1]}' (known: {', '.join(roles)})"
    if target_of(path, placeholder_ids(roles, issues)) is not None:
        return None
    allowed = "; ".join(t.pattern for t in TARGETS)
    return (f"'{path}' is not a per-world number an event can change (events can change: "
            f"{allowed})")


def placeholder_ids(roles: dict[str, str], issues: list[str]) -> dict[str, list[str]]:
    """Placeholder -> the ids it stands for, in file order (``roles``: actor id -> role)."""
    out = {p: [a for a, r in roles.items() if r == p] for p in PLACEHOLDERS if p != "issue"}
    return {**out, "issue": list(issues)}
