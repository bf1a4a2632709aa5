"""The ``protocol:`` section of a scenario: one model per protocol kind.

Every kind shares the deadline, the calendar, the information structure and the responders
(``ProtocolOptions``); each kind adds the options only it reads, in its own frozen model, and
the section is a union of those models on ``kind`` (``Protocol``). A file that sets an option of
another kind (``first_proposer`` in a ``mediated`` protocol) is refused at that option's line,
naming the kind and its options, instead of validating and being ignored. ``kind`` may be left
out: it defaults to ``mediated``.

Each kind's model also says what only it knows about a scenario: the smallest deadline it
plays (``min_rounds``), the ids its options must name (``reference_problems``) and the
working memory per world it adds (``world_bytes``), so a new protocol adds one model here and
touches nothing else of the configuration.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import BaseModel, Discriminator, Field, Tag

from negotiation_sim.config import limits
from negotiation_sim.config.distributions import STRICT, Real, at_most

DEFAULT_KIND = "mediated"

Loc = tuple[str | int, ...]


class ProtocolOptions(BaseModel):
    """What every protocol kind is played with (the fields of every kind's model)."""

    model_config = STRICT
    kind: str = DEFAULT_KIND
    rounds: Annotated[int, *at_most(limits.MAX_ROUNDS, "the number of rounds")] = Field(
        10, ge=0, description="The horizon: the last round in which anything can be agreed.")
    information: Literal["complete", "private"] = Field(
        "complete", description="complete: every value of war is common knowledge; private: "
        "each principal knows its own, the others hold the scenario's distribution of it as "
        "their prior and update it by Bayes' rule on every answer.")
    responders: Literal["sincere", "strategic"] = Field(
        "sincere", description="sincere: accept any text worth at least the value of war; "
        "strategic: answer as in the perfect Bayesian equilibrium where it is computed "
        "(alternating offers; mediated with one private value of war, refused where not "
        "computed; expected_utility answers sincerely; docs/protocols.md).")
    round_days: float = Field(
        14.0, gt=0, le=3660, allow_inf_nan=False,
        description="Calendar length of one round, in days (reported with rounds).")
    start: datetime.date | None = Field(
        None, description="The date round 1 opens (figures and traces then give dates).")

    min_rounds: ClassVar[int] = 1  # the shortest deadline the kind can play

    def reference_problems(self, principals: list[str], actors: list[str],
                           scenario: Any = None) -> Iterator[tuple[Loc, str]]:
        """(loc, message) for every option that names an unknown id or breaks a rule of the
        kind (``loc`` below ``protocol``); ``scenario``, the whole validated scenario, for the
        rules that read other sections."""
        if self.rounds < self.min_rounds:
            yield ("rounds",), f"protocol '{self.kind}' needs rounds >= {self.min_rounds}"

    def world_bytes(self, principals: int) -> int:
        """Working memory per world the kind adds to what every protocol needs."""
        return 0

    def as_kind(self, kind: str, **update: Any) -> ProtocolOptions:
        """This protocol played as ``kind``: the options every kind shares carry over (as set
        or left at their defaults), the options of this kind only do not (they do not apply to
        another kind), and ``update`` sets any option of ``kind``.

        Raises:
            pydantic.ValidationError: ``update`` sets an option ``kind`` does not have.
        """
        shared = self.model_dump(include=set(ProtocolOptions.model_fields) - {"kind"},
                                 exclude_unset=True)
        return PROTOCOL_KINDS[kind].model_validate({"kind": kind, **shared, **update})


class Mediated(ProtocolOptions):
    """The mediator drafts one negotiating text per round; every principal answers it.

    Strategic responders are computed in one configuration (``core.solvers.screening``):
    private information with exactly one principal's value of war private, linear utilities, no
    posture, no events, no ceasefire package, no blame for rejecting and no guarantor support
    (these make waiting pay in ways the drafter's plan does not foresee). Any other is refused
    at ``responders`` with the reason, rather than answered sincerely in silence.
    """

    kind: Literal["mediated"] = "mediated"

    def reference_problems(self, principals: list[str], actors: list[str],
                           scenario: Any = None) -> Iterator[tuple[Loc, str]]:
        if self.responders == "strategic" and scenario is not None:
            for reason in strategic_limits(self, scenario):
                yield ("responders",), (f"strategic responders in the mediated protocol need "
                                        f"{reason} (docs/protocols.md)")
                break
        yield from super().reference_problems(principals, actors, scenario)


def strategic_limits(protocol: ProtocolOptions, sc: Any) -> Iterator[str]:
    """Why the mediated protocol cannot compute strategic answers for scenario ``sc`` (nothing:
    it can), most basic reason first."""
    from negotiation_sim.config.distributions import is_random, support

    if protocol.information != "private":
        yield f"information: private (this scenario has {protocol.information})"
        return
    who = [p for p in sc.principals if is_random(
        sc.actors[p].belief if sc.actors[p].belief is not None else sc.actors[p].reservation)]
    if len(who) != 1:
        yield (f"exactly one principal whose value of war is private, the others' known "
               f"(private here: {', '.join(who) or 'none'})")
    for p in sc.principals:
        actor = sc.actors[p]
        shape = actor.utility
        if not (shape == "linear" or (getattr(shape, "power", None) is not None
                                      and support(shape.power) == (1.0, 1.0))):
            yield f"linear utilities ('{p}' has another utility)"
        if support(actor.claim)[1] > 0:
            yield f"no posture ('{p}' has a claim above its value of war)"
    if sc.events:
        yield "no events (the drafter's plan does not foresee them)"
    if sc.ceasefire is not None:
        yield "no ceasefire package"
    for aid, actor in sc.actors.items():
        if actor.role == "mediator" and support(actor.blame.reject)[1] > 0:
            yield f"no blame for rejecting ('{aid}' has blame.reject)"
        if actor.role == "guarantor" and any(support(v) != (0.0, 0.0)
                                             for v in actor.support.values()):
            yield f"no guarantor support ('{aid}' supports a principal)"


class AlternatingOffers(ProtocolOptions):
    """Principals propose in turn; the others answer (Rubinstein 1982, Stahl 1972)."""

    kind: Literal["alternating_offers"]
    first_proposer: str | None = Field(
        None, description="The principal proposing in round 1.")
    order: list[str] | None = Field(
        None, description="The proposers' rotation (default: file order).")

    def reference_problems(self, principals: list[str], actors: list[str],
                           scenario: Any = None) -> Iterator[tuple[Loc, str]]:
        if self.first_proposer is not None and self.first_proposer not in principals:
            yield ("first_proposer",), unknown("principal", self.first_proposer, principals)
        for i, p in enumerate(self.order or []):
            if p not in principals:
                yield ("order", i), unknown("principal", p, principals)
        yield from repeats(("order",), list(self.order or []), "principal")
        yield from super().reference_problems(principals, actors, scenario)

    def world_bytes(self, principals: int) -> int:
        """The plan of backward induction: 4 bytes per round (and round 0) and principal."""
        return 4 * (self.rounds + 1) * principals


class ExpectedUtility(ProtocolOptions):
    """Expected-utility dynamics (Bueno de Mesquita; Scholz, Calbert & Smith 2011).

    Its pairwise challenges are computed a slice of worlds at a time and only the current
    positions are kept, so it adds no memory per world (``world_bytes`` is 0).
    """

    kind: Literal["expected_utility"]
    risk_exponents: dict[str, Real] | None = Field(
        None, description="Fixed risk exponent r > 0 per actor id; actors not named get r "
        "from their security level each round (Scholz et al. 2011, sec. 5).")
    status_quo_belief: float = Field(
        1.0, ge=0.0, le=1.0, description="Q, the probability an actor assigns to the status "
        "quo persisting when it does not challenge.")
    improvement_belief: float = Field(
        1.0, ge=0.0, le=1.0, description="T, the probability that, absent a challenge, things "
        "change for the better.")

    min_rounds: ClassVar[int] = 0  # rounds: 0 puts the initial forecast once

    def reference_problems(self, principals: list[str], actors: list[str],
                           scenario: Any = None) -> Iterator[tuple[Loc, str]]:
        for a, r in (self.risk_exponents or {}).items():
            if a not in actors:
                yield ("risk_exponents", a), unknown("actor", a, actors)
            elif not r > 0:
                yield ("risk_exponents", a), f"risk exponent must be > 0, got {r:g}"
        yield from super().reference_problems(principals, actors, scenario)


PROTOCOL_MODELS: tuple[type[ProtocolOptions], ...] = (Mediated, AlternatingOffers, ExpectedUtility)
"""Every protocol kind's model; ``Protocol`` is their union."""

PROTOCOL_KINDS: dict[str, type[ProtocolOptions]] = {
    get_args(m.model_fields["kind"].annotation)[0]: m for m in PROTOCOL_MODELS}
"""Kind -> its model, in the order ``negsim schema`` and levers list them."""


def _defaulted_tag(field: str, default: str) -> Callable[[Any], str]:
    """The discriminator of a union whose tag field may be left out: the tag as written, or
    ``default``.

    The function is named after the field, so a tag that names no member is reported at that
    field (``config.yamlio`` reads the name from pydantic's error). Anything not a mapping goes
    to the default's model, which reports it as the wrong type.
    """
    def tag(value: Any) -> str:
        if isinstance(value, dict):
            found = value.get(field, default)
            return found if isinstance(found, str) else repr(found)
        return getattr(value, field, default)

    tag.__name__ = tag.__qualname__ = field
    return tag


Protocol = Annotated[
    Union[tuple(Annotated[m, Tag(k)] for k, m in PROTOCOL_KINDS.items())],  # type: ignore[misc]
    Discriminator(_defaulted_tag("kind", DEFAULT_KIND)),
    Field(description="How the negotiation is played; each kind has its own options."),
]
"""The ``protocol:`` section: one of ``PROTOCOL_MODELS``, chosen by ``kind``."""


def options_of(kind: str) -> list[str]:
    """The fields a protocol of ``kind`` may set (every field of its model)."""
    return list(PROTOCOL_KINDS[kind].model_fields)


def unknown(kind: str, name: str, known: list[str]) -> str:
    """The message for a reference to an id that names nothing."""
    return f"unknown {kind} '{name}' (known: {', '.join(known) or 'none'})"


def repeats(loc: Loc, names: list[str], what: str) -> Iterator[tuple[Loc, str]]:
    """A problem at every repeat of a name in a list whose items must differ."""
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in first:
            yield (*loc, i), f"{what} '{name}' is listed twice (first as item {first[name]})"
        else:
            first[name] = i
