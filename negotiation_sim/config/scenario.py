"""The scenario file: what users write, validated into typed, frozen pydantic models.

A scenario names the *issues* under negotiation (each a dimension scaled to [0, 1]) and the
*actors*: principals who sign or refuse, mediators who draft and press, guarantors who back a
level of security guarantee. Any number may be a distribution (see ``distributions``).

This module owns the schema (the pydantic models are the single source of truth; ``negsim
schema`` exports it as JSON Schema; the ``protocol`` section's models, one per kind, live in
``protocols``, the ``events`` list's in ``events`` and the ``words`` section's in ``words``),
the constraint mini-language of red lines and preconditions (``"territory <= 0.2"``), the
cross-reference checks that pydantic cannot do field by field (unknown or repeated issue, actor
and format ids), the size limits of a scenario (``limits``; counted on the raw data before
validation, and the working memory a world needs, ``world_bytes``), the scenario's ``digest``,
and ``load_scenario``, which turns every mistake into a one-line ``FILE:LINE: field: message``
problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
)

from negotiation_sim.config import limits
from negotiation_sim.config.constraints import ID_PATTERN, ConstraintField
from negotiation_sim.config.distributions import (
    STRICT,
    Discount,
    Distribution,
    Finite,
    NonNeg,
    Positive,
    Unit,
    at_most,
    support,
)
from negotiation_sim.config.events import (
    Event,
    Scheduled,
    event_targets,
    placeholder_ids,
    target_error,
    target_of,
)
from negotiation_sim.config.history import History
from negotiation_sim.config.protocols import Mediated, Protocol
from negotiation_sim.config.protocols import repeats as _repeats
from negotiation_sim.config.protocols import unknown as _unknown
from negotiation_sim.config.words import Words
from negotiation_sim.config.yamlio import (
    InputError,
    Problem,
    YamlDoc,
    load_yaml,
    problems_from_validation_error,
)

_STRICT = STRICT


PRINCIPAL, MEDIATOR, GUARANTOR = "principal", "mediator", "guarantor"


IMPLICIT_FORMAT = "direct"  # the format name used when a scenario has no ``summit`` section


class Issue(BaseModel):
    """One dimension of the negotiation, scaled to [0, 1]."""

    model_config = _STRICT
    low: str | None = Field(None, description="What 0 means on this issue.")
    high: str | None = Field(None, description="What 1 means on this issue.")
    status_quo: Unit = Field(0.5, description="Where things stand if nothing is agreed.")

    def label(self, end: Literal["low", "high"]) -> str:
        """Words for one end of the scale, or the number when the scenario gives none."""
        text = self.low if end == "low" else self.high
        return text or ("0" if end == "low" else "1")


class PowerUtility(BaseModel):
    """Utility ``sum_k s_k (1 - |x_k - p_k|)^a``; a < 1 is risk-averse.

    With a > 1 (risk-seeking) utilities are not concave, so the Nash text the solvers find is a
    local optimum (docs/model.md).
    """

    model_config = _STRICT
    power: Positive


UtilityShape = Union[Literal["linear", "quadratic"], PowerUtility]


class _Actor(BaseModel):
    model_config = _STRICT
    name: str | None = Field(None, description="Display name.")
    leader: str | None = Field(None, description="Who speaks for the actor.")
    position: dict[str, Unit] = Field(default_factory=dict, description="Ideal point per issue.")
    salience: dict[str, NonNeg] | None = Field(
        None, description="Weight per issue (default equal); normalised to sum 1 in utilities."
    )
    clout: Positive = Field(1.0, description="Bargaining weight / capability.")

    def display(self, actor_id: str) -> str:
        return self.name or actor_id


class Principal(_Actor):
    """A party that signs or refuses (Russia, Ukraine)."""

    role: Literal["principal"]
    utility: UtilityShape = "linear"
    reservation: Finite = Field(
        0.0, description="Value of the war going on, per round, on the utility scale of texts.")
    belief: Distribution | None = Field(
        None, description="Under private information, what the others believe about its value "
        "of war before talks open (default: the distribution of reservation). Its range must "
        "hold every value reservation can take; set it to keep a prior when a sweep fixes "
        "reservation.")
    patience: Discount = Field(1.0, description="Per-round discount factor in (0, 1].")
    claim: NonNeg = Field(0.0, description="Overstatement of the reservation when talks open.")
    concession: Unit = Field(0.0, description="Share of remaining overstatement dropped per rejection.")
    walkout: Unit = Field(0.0, description="Per-round probability of leaving after rejecting.")
    red_lines: list[ConstraintField] = Field(default_factory=list)
    audience_cost: dict[str, Finite] = Field(default_factory=dict)
    preconditions: list[ConstraintField] = Field(default_factory=list)


class Blame(BaseModel):
    """What the mediator does to a principal that blocks its talks (docs/model.md section 8):
    from the next round on, its pressure on that principal rises by ``refuse`` a round for each
    format it refused, and by ``reject`` for each text it alone (or with others, but not
    everyone) rejected after every other principal accepted it."""

    model_config = _STRICT
    refuse: NonNeg = Field(0.0, description="Rise in the per-round pressure on a principal "
                           "that refuses the format the mediator convenes.")
    reject: NonNeg = Field(0.0, description="Rise in the per-round pressure on a principal "
                           "that rejects a text every other principal accepted.")
    cap: NonNeg = Field(0.1, description="The most per-round pressure blame can bring on one "
                        "principal, on top of the pressure it starts with.")


class Mediator(_Actor):
    """A party that invites, drafts texts and applies pressure (the US)."""

    role: Literal["mediator"]
    pressure: dict[str, Finite] = Field(
        default_factory=dict, description="Per-round fall in that principal's reservation."
    )
    backlash: NonNeg = Field(0.0, description="Walk-out chance added per unit of pressure.")
    pressure_applies: Literal["always", "at_table"] = Field(
        "at_table", description="at_table: pressure bites only in worlds whose summit format "
        "the mediator sits in; always: sanctions bite whether or not it attends.")
    blame: Blame = Field(default_factory=Blame, description="Pressure it adds on a principal "
                         "that refuses its format or rejects a text every other principal "
                         "accepted (an announced threat the principals weigh).")
    bias: Unit = Field(0.0, description="How much the drafter weighs its own utility of a "
                       "text (its position) against the chance every principal accepts it; 0: "
                       "an unbiased drafter.")


class Guarantor(_Actor):
    """A party that backs a level of guarantee on some issues (European states)."""

    role: Literal["guarantor"]
    offer: dict[str, Unit] = Field(
        default_factory=dict, description="The most it will back on that issue (a cap)."
    )
    support: dict[str, Finite] = Field(
        default_factory=dict, description="Principal -> per-round rise in its value of war "
        "(arms and money) while no settlement is in force.")


LEVELS = ("leaders", "delegation")


class Format(BaseModel):
    """A format the mediator can convene: who sits at the table, at which level."""

    model_config = _STRICT
    members: list[str] = Field(min_length=1, description="Actor ids invited.")
    level: Literal["leaders", "delegation"] = Field(
        "leaders", description="leaders: a summit, where a settlement can be signed; "
        "delegation: talks that can agree a text (signed later by the leaders) or a ceasefire.")


Actor = Annotated[Union[Principal, Mediator, Guarantor], Field(discriminator="role")]


class Summit(BaseModel):
    """Which summit formats the mediator can propose, and in which order."""

    model_config = _STRICT
    formats: dict[str, Union[list[str], Format]] = Field(
        min_length=1, description="Format id -> its members (a leaders' meeting), or "
        "{members, level}.")
    order: list[str] | None = None

    def ordered(self) -> list[str]:
        return list(self.order) if self.order is not None else list(self.formats)

    def members(self, name: str) -> list[str]:
        spec = self.formats[name]
        return list(spec.members if isinstance(spec, Format) else spec)

    def level(self, name: str) -> str:
        spec = self.formats[name]
        return spec.level if isinstance(spec, Format) else "leaders"


class Ceasefire(BaseModel):
    """The fallback package when talks fail: unnamed issues stay at the status quo."""

    model_config = _STRICT
    terms: dict[str, Union[Literal["status_quo"], Unit]] = Field(default_factory=dict)


class Shift(BaseModel):
    """How a principal's value of resuming the war moves while a signed text holds (the
    fighting has stopped, so the battlefield's shocks do not): a drift a round (rearmament,
    aid, mobilisation) and jumps (a partner stepping back, a change of government), each round
    with probability ``jump_rate`` (docs/model.md section 11)."""

    model_config = _STRICT
    drift: Finite = Field(0.0, description="Change in the value of resuming the war a round "
                          "while a text holds (utility scale; negative: it falls).")
    jump_rate: Unit = Field(0.0, description="Chance a round of a jump.")
    jump: Finite = Field(0.0, description="Size of a jump in the value of resuming the war "
                         "(utility scale; negative: it falls).")


class Durability(BaseModel):
    """Following signed texts after the signing: when does a side break one?"""

    model_config = _STRICT
    rounds: Annotated[int, *at_most(limits.MAX_ROUNDS, "the number of followed rounds")] = Field(
        0, ge=0, description="Follow every signed text this many "
                        "rounds after its signing round (0: not followed).")
    breach_cost: dict[str, NonNeg] = Field(
        default_factory=dict, description="Principal -> what breaking a signed text costs it, "
        "per round on the utility scale (default 0).")
    deterrence: dict[str, dict[str, NonNeg]] = Field(
        default_factory=dict, description="Principal -> issue -> extra cost of breaking per unit "
        "of the signed text's value on that issue (guarantees and peacekeepers act here).")
    shifts: dict[str, Shift] = Field(
        default_factory=dict, description="Principal -> how its value of resuming the war "
        "moves while a text holds (drift and jumps; default none).")
    leverage: Literal["follows", "ends"] = Field(
        "follows", description="The mediators' pressure once the talks end in a text (a "
        "settlement signed, or a ceasefire in force at the horizon): `follows` the text (keeps "
        "biting, as sanctions kept in force), or `ends` (lifted, as sanctions relief and a "
        "mediator who leaves: what it had taken off a side's value of war comes back).")


class Scenario(BaseModel):
    """A whole scenario file."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    description: str | None = None
    issues: dict[str, Issue] = Field(min_length=1)
    actors: dict[str, Actor] = Field(min_length=1)
    summit: Summit | None = None
    ceasefire: Ceasefire | None = None
    protocol: Protocol = Mediated()
    events: list[Event] = Field(
        default_factory=list, description="Events between rounds (shocks and scheduled "
        "events), applied before every round from round 2 on, in file order.")
    durability: Durability = Field(
        default_factory=Durability, description="Follow signed texts after the signing: a side "
        "breaks one when its value of war exceeds the text's worth plus the cost of breaking.")
    history: History | None = Field(
        None, description="What was observed, by date, from the day the calendar starts: "
        "forecasts condition on it (run.condition; docs/model.md, conditioning on the record).")
    words: Words = Field(
        default_factory=Words, description="What tables, figures, reports and stories call "
        "the outcomes, the state without a deal and a meeting (default: agreement, ceasefire, "
        "breakdown, no summit; war; summit).")

    # -- convenient views -------------------------------------------------------------------
    def ids(self, role: str) -> list[str]:
        """Actor ids with the given role, in file order."""
        return [a for a, actor in self.actors.items() if actor.role == role]

    @property
    def principals(self) -> list[str]:
        return self.ids(PRINCIPAL)

    @property
    def issue_ids(self) -> list[str]:
        return list(self.issues)

    @property
    def positioned(self) -> list[str]:
        """Actors with ideal points, whose utility is reported: principals first (file order),
        then mediators and guarantors that state a position (file order)."""
        principals = self.principals
        return principals + [a for a, s in self.actors.items()
                             if s.role != PRINCIPAL and s.position]

    def formats(self) -> list[tuple[str, list[str]]]:
        """(name, members) in the order the mediator tries them."""
        if self.summit is None:
            return [(IMPLICIT_FORMAT, list(self.actors))]
        return [(f, self.summit.members(f)) for f in self.summit.ordered()]

    def levels(self) -> list[str]:
        """Each format's level (``leaders`` or ``delegation``), in the order of ``formats()``;
        without a summit section the principals meet as leaders."""
        if self.summit is None:
            return ["leaders"]
        return [self.summit.level(f) for f in self.summit.ordered()]

    def digest(self) -> str:
        """SHA-256 of what the file sets, validated, in the file's order.

        Stable across formatting and comments, but not across reordering: the order of issues,
        actors, formats and every list is part of the scenario (it fixes the formats tried,
        the proposers' turns, the rows of every array and the columns of the results), so two
        files that differ only in order hash differently. Fields left at their defaults are not
        hashed, so a later version that adds fields keeps the hashes of existing files (the
        manifest records the engine versions that ran them).
        """
        return digest_of(self.model_dump(mode="json", exclude_unset=True))

    # -- checks across fields -------------------------------------------------------------
    def reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(loc, message) for every id that refers to nothing, and other whole-file rules."""
        return list(_references(self))


def digest_of(data: Any) -> str:
    """SHA-256 of plain data as JSON with every mapping in its own order (none sorted)."""
    blob = json.dumps(data, ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def world_bytes(sc: Scenario) -> tuple[int, tuple[str, ...]]:
    """Working memory one world of ``sc`` needs, estimated from its shape, and the location of
    what drives it (for the problem when it exceeds ``limits.MAX_WORLD_BYTES``).

    Measured on the engine with tracemalloc (tests/test_config_limits.py checks that the
    estimate stays above the measured peak): per world, about 128 bytes per actor x issue and
    32 per format x principal, plus what the protocol's kind adds (``world_bytes`` of its
    model: 4 per round x principal for alternating offers, the plan of backward induction).
    """
    A, K, P = len(sc.actors), len(sc.issues), len(sc.principals)
    F = 1 if sc.summit is None else len(sc.summit.ordered())
    parts = {("actors",): 1024 + 128 * A * K + 32 * F * P}
    if own := sc.protocol.world_bytes(P):
        parts[("protocol", "rounds")] = own
    return sum(parts.values()), max(parts, key=parts.get)


_ID_RE = re.compile(ID_PATTERN)
_COUNTED = (("issues",), "issues", limits.MAX_ISSUES), (("actors",), "actors", limits.MAX_ACTORS), \
    (("summit", "formats"), "summit formats", limits.MAX_FORMATS)


def size_problems(data: Any) -> list[tuple[tuple, str]]:
    """(loc, message) for every count of the raw scenario data beyond its limit.

    Checked before validation, so a file that asks for a million actors is refused at once
    instead of after validating them all.
    """
    out = []
    for loc, what, limit in _COUNTED:
        node = data
        for part in loc:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, (dict, list)) and len(node) > limit:
            out.append((loc, limits.limit_text(f"the number of {what}", limit, len(node))))
    return out


def _id_problems(sc: Scenario) -> Iterator[tuple[tuple, str]]:
    """Ids name things in dotted paths, red lines and columns: one plain word each."""
    groups = [(("issues",), sc.issues, "issue"), (("actors",), sc.actors, "actor")]
    if sc.summit is not None:
        groups.append((("summit", "formats"), sc.summit.formats, "format"))
    for loc, ids, kind in groups:
        for key in ids:
            if len(key) > limits.MAX_ID_LENGTH:
                yield (*loc, key), limits.limit_text(f"the length of an {kind} id",
                                                     limits.MAX_ID_LENGTH, len(key))
            elif not _ID_RE.fullmatch(key):
                yield (*loc, key), (
                    f"{kind} id {key!r} must start with a letter or _ and hold only ASCII "
                    "letters, digits, _ and - (ids appear in dotted paths and red lines)")


def _check_keys(loc: tuple, keys, known: list[str], kind: str) -> Iterator[tuple[tuple, str]]:
    for key in keys:
        if key not in known:
            yield (*loc, key), _unknown(kind, key, known)


def _references(sc: Scenario) -> Iterator[tuple[tuple, str]]:
    issues, actors, principals = sc.issue_ids, list(sc.actors), sc.principals
    yield from _id_problems(sc)
    if not principals:
        yield ("actors",), "a scenario needs at least one actor with role: principal"
    formats = list(sc.summit.formats) if sc.summit else []
    for aid, actor in sc.actors.items():
        base = ("actors", aid)
        yield from _check_keys((*base, "position"), actor.position, issues, "issue")
        if actor.salience is not None:
            yield from _check_keys((*base, "salience"), actor.salience, issues, "issue")
        if isinstance(actor, Principal):
            yield from _principal_refs(base, actor, issues, formats, sc.summit is not None)
        elif isinstance(actor, Mediator):
            yield from _check_keys((*base, "pressure"), actor.pressure, principals, "principal")
            if support(actor.bias)[1] > 0 and not actor.position:
                yield (*base, "bias"), ("a biased mediator needs a position (the text it "
                                        "pulls towards)")
        else:
            yield from _check_keys((*base, "offer"), actor.offer, issues, "issue")
            yield from _check_keys((*base, "support"), actor.support, principals, "principal")
    if sc.summit is not None:
        yield from _summit_refs(sc.summit, actors, principals)
    if sc.ceasefire is not None:
        yield from _check_keys(("ceasefire", "terms"), sc.ceasefire.terms, issues, "issue")
    for loc, msg in sc.protocol.reference_problems(principals, actors, sc):
        yield ("protocol", *loc), msg
    yield from _event_refs(sc)
    d = sc.durability
    yield from _check_keys(("durability", "breach_cost"), d.breach_cost, principals, "principal")
    yield from _check_keys(("durability", "deterrence"), d.deterrence, principals, "principal")
    for p, by_issue in d.deterrence.items():
        yield from _check_keys(("durability", "deterrence", p), by_issue, issues, "issue")
    yield from _check_keys(("durability", "shifts"), d.shifts, principals, "principal")

    if sc.history is not None:
        yield from _history_refs(sc, actors, principals)

    need, loc = world_bytes(sc)
    if need > limits.MAX_WORLD_BYTES:
        yield loc, (f"this scenario needs an estimated {need / 1024:,.0f} KiB of working memory "
                    f"per simulated world ({len(sc.actors)} actors, {len(sc.issues)} issues, "
                    f"{sc.protocol.rounds} rounds of {sc.protocol.kind}); "
                    + limits.limit_text("memory per world in KiB",
                                        limits.MAX_WORLD_BYTES // 1024))


def _history_refs(sc: Scenario, actors, principals):
    """The record's dates start with the calendar and its members name actors."""
    h = sc.history
    start = sc.protocol.start
    if start is not None and start != h.start:
        yield ("history", "start"), (f"history.start ({h.start}) differs from protocol.start "
                                     f"({start}); the calendar has one start")
    for i, o in enumerate(h.observed):
        if o.day < h.start:
            yield ("history", "observed", i), f"{o.day} is before history.start ({h.start})"
        if o.members is not None:
            yield from _check_keys(("history", "observed", i, "members"),
                                   dict.fromkeys(o.members), actors, "actor")
    if sc.summit is None and any(o.event == "talks" and o.members for o in h.observed):
        yield ("history", "observed"), ("talks with members need a summit: section (without "
                                        "one the only format seats every actor)")


def _event_refs(sc: Scenario):
    roles = {a: actor.role for a, actor in sc.actors.items()}
    for i, event in enumerate(sc.events):
        if isinstance(event, Scheduled):
            if not event.set and not event.add:
                yield ("events", i), "a scheduled event needs set or add (what it changes)"
            for path in set(event.set) & set(event.add):
                yield ("events", i, "add", path), f"'{path}' is both set and added"
        for field, path in event_targets(event):
            if (msg := target_error(path, roles, sc.issue_ids)) is not None:
                yield ("events", i, field, path), msg
                continue
            target, _ = target_of(path, placeholder_ids(roles, sc.issue_ids))
            if target.section is not None and getattr(sc, target.section) is None:
                yield ("events", i, field, path), f"the scenario has no {target.section} section"


def _principal_refs(base, actor: Principal, issues, formats, has_summit):
    if actor.belief is not None:
        lo, hi = support(actor.reservation)
        b_lo, b_hi = actor.belief.support()
        if lo < b_lo or hi > b_hi:
            yield (*base, "belief"), (
                f"the belief's range [{b_lo:g}, {b_hi:g}] must hold every value reservation can "
                f"take ([{lo:g}, {hi:g}]): a prior that excludes the true value cannot be updated")
    missing = [k for k in issues if k not in actor.position]
    if missing:
        yield (*base, "position"), f"a principal needs a position on every issue (missing: {', '.join(missing)})"
    if actor.salience is not None and sum(_mean_of(v) for v in actor.salience.values()) <= 0:
        yield (*base, "salience"), "saliences must not all be zero"
    for field in ("red_lines", "preconditions"):
        for i, c in enumerate(getattr(actor, field)):
            if c.issue not in issues:
                yield (*base, field, i), _unknown("issue", c.issue, issues)
    if has_summit:
        yield from _check_keys((*base, "audience_cost"), actor.audience_cost, formats, "summit format")
    else:
        for field in ("audience_cost", "preconditions"):
            if getattr(actor, field):
                yield (*base, field), (
                    f"{field} needs a summit section (without one the principals meet "
                    "unconditionally)")


def _summit_refs(summit: Summit, actors, principals):
    for name, spec in summit.formats.items():
        members = summit.members(name)
        loc = ("summit", "formats", name) + (() if isinstance(spec, list) else ("members",))
        for i, m in enumerate(members):
            if m not in actors:
                yield (*loc, i), _unknown("actor", m, actors)
        # A member listed twice would count its pressure (and its part in the text) twice.
        yield from _repeats(loc, members, "actor")
        # A format may leave a principal out (it then cannot settle: docs/model.md section 8),
        # but a format with no principal is no negotiation.
        if not any(p in members for p in principals):
            yield loc, (f"format '{name}' needs at least one principal "
                        f"(principals: {', '.join(principals)})")
    if summit.order is not None:
        if not summit.order:
            yield ("summit", "order"), "order must name at least one format"
        for i, f in enumerate(summit.order):
            if f not in summit.formats:
                yield ("summit", "order", i), _unknown("summit format", f, list(summit.formats))
        # A format tried twice would be reported as two formats of one name.
        yield from _repeats(("summit", "order"), summit.order, "format")


def _mean_of(value) -> float:
    from negotiation_sim.config.distributions import support

    lo, hi = support(value)
    return hi  # a distribution that can be positive counts as possibly positive


def scenario_from_data(data: Any, doc: YamlDoc, *, prefix: tuple = ()) -> Scenario:
    """Validate already-loaded YAML data; every problem becomes a located ``Problem``."""
    sized = [Problem(doc.path, doc.line_of((*prefix, *loc)), _dotted((*prefix, *loc)), msg)
             for loc, msg in size_problems(data)]
    if sized:
        raise InputError(sized)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError(problems_from_validation_error(err, doc, prefix=prefix)) from None
    problems = [
        Problem(doc.path, doc.line_of((*prefix, *loc)), _dotted((*prefix, *loc)), msg)
        for loc, msg in sc.reference_problems()
    ]
    if problems:
        raise InputError(problems)
    return sc


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file.

    Raises:
        InputError: with one located problem per mistake (``str(err)`` is the first one).
    """
    doc = load_yaml(path)
    return scenario_from_data(doc.data, doc)


def _dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def json_schema() -> Mapping[str, Any]:
    """The JSON Schema of scenario files, for editors that complete YAML."""
    return Scenario.model_json_schema()
