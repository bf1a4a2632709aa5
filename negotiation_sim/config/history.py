"""A scenario's history: what was observed of the talks, by date, for conditioning on the record.

A scenario may carry a ``history:`` section: the day its calendar starts (``start``, which is
``protocol.start``) and a list of ``observed`` events, each on a date (``date``: it happened, or
did not, in the round that holds that day) or up to a date (``through``: it happened at least once,
or never, in the rounds from round 1, or from the round holding ``since``, to the round that
holds that day). Event kinds:

* ``talks``: a session of a format whose members are exactly ``members`` (every principal when
  omitted), at ``level`` (either level when omitted);
* ``leaders``: a leaders' session whose members include every one of ``members`` (every
  principal when omitted): the leaders of those members met;
* ``settlement``: a settlement or a ceasefire took effect (``settled_round``);
* ``ceasefire``: a ceasefire took effect (one in force, or one before a settlement).

**Dates and rounds.** Round r covers the days ``start + (r - 1) * round_days`` up to (not
including) ``start + r * round_days``; a day d falls in round ``floor((d - start) / round_days) +
1`` (``round_of``). A forecast asked on day D knows the observations dated on or before D and
counts an event as happening "from D by day C" when it happens in a round that starts on or
after D and on or before C (``first_round_from``, ``rounds_through``): what happened in the part
of a round before D is the record's to say, so the round holding D counts only when it starts
on D.

This module owns the schema and those date conventions; the conditioning is ``run.condition``'s.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EventKind = Literal["talks", "leaders", "settlement", "ceasefire"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Observation(BaseModel):
    """One observed fact of the record: an event on a day, or up to a day."""

    model_config = _STRICT
    date: dt.date | None = Field(None, description="The day it happened (or did not): the "
                                 "round that holds this day.")
    through: dt.date | None = Field(None, description="Up to this day: at least once (happened: "
                                    "true) or never (false) in rounds 1 to the one holding it.")
    since: dt.date | None = Field(None, description="With through: look from the round holding "
                                  "this day instead of round 1.")
    event: EventKind = Field(description="talks | leaders | settlement | ceasefire.")
    level: Literal["leaders", "delegation"] | None = Field(
        None, description="talks only: the level of the session (either when omitted).")
    members: list[str] | None = Field(
        None, min_length=1, description="talks: the format's members, exactly; leaders: actors "
        "whose leaders met (default: every principal).")
    happened: bool = Field(description="Whether it happened.")

    @model_validator(mode="after")
    def _one_day(self) -> Observation:
        if (self.date is None) == (self.through is None):
            raise ValueError("give exactly one of date (on that day) or through (up to that day)")
        if self.since is not None and (self.through is None or self.since > self.through):
            raise ValueError("since needs through, on or after it")
        if self.level is not None and self.event != "talks":
            raise ValueError("level is only for event: talks")
        if self.members is not None and self.event not in ("talks", "leaders"):
            raise ValueError("members is only for event: talks or leaders")
        return self

    @property
    def day(self) -> dt.date:
        """The day it is dated by (``date`` or ``through``)."""
        return self.date if self.date is not None else self.through  # type: ignore[return-value]


class History(BaseModel):
    """What was observed, from the day the calendar starts."""

    model_config = _STRICT
    start: dt.date = Field(description="The day round 1 starts (protocol.start is set to it).")
    observed: list[Observation] = Field(default_factory=list,
                                        description="The observed record, each by date.")
    min_ess: float = Field(200.0, gt=0, description="Refuse to forecast when the effective "
                           "sample size of the worlds that agree with the record is below this.")
    mismatch: float = Field(0.0, ge=0.0, lt=1.0, description="Weight factor per observation a "
                            "world disagrees with (0: rejection, only agreeing worlds count).")

    @model_validator(mode="after")
    def _consistent(self) -> History:
        seen: dict[tuple, tuple[int, bool]] = {}
        for i, o in enumerate(self.observed):
            key = (o.date, o.through, o.since, o.event, o.level,
                   None if o.members is None else tuple(sorted(o.members)))
            if key in seen and seen[key][1] != o.happened:
                raise ValueError(f"observed.{i} says the same event as observed.{seen[key][0]} "
                                 f"{'happened' if o.happened else 'did not happen'}: the "
                                 "record contradicts itself")
            seen.setdefault(key, (i, o.happened))
        return self

    def known_on(self, day: dt.date) -> list[Observation]:
        """The observations a forecast made on ``day`` knows: those dated on or before it, and
        of a ``through`` that it did not happen, the part up to ``day`` (never up to a later day
        implies never up to ``day``; an "at least once" by a later day says nothing earlier)."""
        out = []
        for o in self.observed:
            if o.day <= day:
                out.append(o)
            elif o.through is not None and not o.happened and (o.since or self.start) <= day:
                out.append(o.model_copy(update={"through": day}))
        return out


def round_of(day: dt.date, start: dt.date, round_days: float) -> int:
    """The round that holds ``day``: ``floor((day - start) / round_days) + 1`` (0 or less for a
    day before the calendar starts)."""
    return math.floor((day - start).days / round_days + 1e-9) + 1


def rounds_through(day: dt.date, start: dt.date, round_days: float) -> int:
    """How many rounds start on or before ``day`` (``round_of``, never below 0)."""
    return max(0, round_of(day, start, round_days))


def first_round_from(day: dt.date, start: dt.date, round_days: float) -> int:
    """The first round that starts on or after ``day`` (1 for a day on or before ``start``)."""
    return max(1, math.ceil((day - start).days / round_days - 1e-9) + 1)
