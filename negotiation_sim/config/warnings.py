"""Sanity checks of a valid scenario: what is allowed but probably not what the author meant.

A scenario can validate and still say something its author did not mean: a value of war of 62
(a percentage where a utility is meant), red lines that leave no text both sides could sign, a
summit format no leader can ever afford to attend (``core.checks``), a guarantor cap below what exists today. Each
check here takes the validated scenario and its YAML document and returns located warnings
(``yamlio.Problem``: ``FILE:LINE: field: message``), which ``negsim validate`` prints (exit 0;
``--no-warn`` silences them) and ``negsim run`` prints on stderr.

Checks that need the model's own computations (what the best possible text and the ceasefire
package are worth to each side) live a layer up, in ``core.checks``, which adds them to these.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from negotiation_sim.config.distributions import _Dist
from negotiation_sim.config.distributions import support as support_of
from negotiation_sim.config.scenario import GUARANTOR, Guarantor, Mediator, Principal, Scenario
from negotiation_sim.config.yamlio import Problem, YamlDoc

UTILITY = (0.0, 1.0)
SIGNIFICANT_MASS = 0.01
"""A distribution with more than this share of its draws outside a field's range is flagged."""


def scale_warnings(sc: Scenario) -> Iterator[tuple[tuple, str]]:
    """(loc, message): values that look like percentages, or lie off the utility scale."""
    war = sc.words.no_deal
    for aid, actor in sc.actors.items():
        base = ("actors", aid)
        if isinstance(actor, Principal):
            yield from _on_scale((*base, "reservation"), actor.reservation,
                                 f"a value of {war} (per round, on the texts' utility scale)")
            if actor.belief is not None:
                yield from _on_scale((*base, "belief"), actor.belief, "a prior over the value "
                                     f"of {war}")
            yield from _on_scale((*base, "claim"), actor.claim, "an overstatement of the value "
                                 f"of {war}")
            for f, cost in actor.audience_cost.items():
                # Negative: a benefit of appearing (docs/model.md section 8).
                found = list(_percent((*base, "audience_cost", f), cost))
                yield from found
                if not found:
                    yield from _mass((*base, "audience_cost", f), cost, (-1.0, 1.0),
                                     "an audience cost (per round, on the utility scale)")
        elif isinstance(actor, Mediator):
            rounds = max(sc.protocol.rounds, 1)
            for p, v in actor.pressure.items():
                loc = (*base, "pressure", p)
                yield from _percent(loc, v)
                yield from _mass(loc, v, (0.0, 1.0), "a per-round pressure")
                hi = support_of(v)[1]
                if 1.0 >= hi > 0 and hi * rounds > 1.0:
                    yield loc, (f"pressure up to {hi:g} a round takes up to {hi * rounds:g} off "
                                f"{p}'s value of {war} over the {rounds} rounds, more than the "
                                "whole utility scale: pressure is the fall per round")
    d = sc.durability
    for p, cost in d.breach_cost.items():
        yield from _on_scale(("durability", "breach_cost", p), cost, "a cost of breaking")


def _on_scale(loc: tuple, value: Any, what: str) -> Iterator[tuple[tuple, str]]:
    found = list(_percent(loc, value))
    yield from found
    if not found:
        yield from _mass(loc, value, UTILITY, what)


def _percent(loc: tuple, value: Any) -> Iterator[tuple[tuple, str]]:
    lo, hi = support_of(value)
    if not isinstance(value, _Dist) and 1 < float(value) <= 100:
        yield loc, (f"{float(value):g} looks like a percentage; utilities run from 0 to 1 "
                    f"(did you mean {float(value) / 100:g}?)")
    elif isinstance(value, _Dist) and 1 < hi <= 100 and lo >= 1:
        yield loc, (f"the distribution's range [{lo:g}, {hi:g}] looks like percentages; "
                    "utilities run from 0 to 1")


def _mass(loc: tuple, value: Any, rng: tuple[float, float], what: str
          ) -> Iterator[tuple[tuple, str]]:
    lo, hi = rng
    if not isinstance(value, _Dist):
        v = float(value)
        if not lo <= v <= hi:
            yield loc, (f"{v:g} lies outside [{lo:g}, {hi:g}], the range where {what} means "
                        "something")
        return
    outside = mass_outside(value, lo, hi)
    if outside > SIGNIFICANT_MASS:
        yield loc, (f"the distribution puts {outside:.0%} of its draws outside [{lo:g}, {hi:g}],"
                    f" the range where {what} means something")


def mass_outside(d: _Dist, lo: float, hi: float) -> float:
    """The probability that a draw of ``d`` falls outside [lo, hi] (the distribution's own CDF,
    its mass at ``lo`` counted inside)."""
    inside = float(d.cdf(hi)) - float(d.cdf(np.nextafter(lo, -np.inf)))
    return max(0.0, 1.0 - inside)


def _caps(sc: Scenario) -> dict[str, tuple[float, str]]:
    """Issue -> (the coalition's highest possible cap, the guarantor that offers it)."""
    out: dict[str, tuple[float, str]] = {}
    for gid in sc.ids(GUARANTOR):
        g = sc.actors[gid]
        assert isinstance(g, Guarantor)
        for k, v in g.offer.items():
            hi = support_of(v)[1]
            if k not in out or hi > out[k][0]:
                out[k] = (hi, gid)
    return out


def red_line_warnings(sc: Scenario) -> Iterator[tuple[tuple, str]]:
    """(loc, message): red lines (with the guarantors' caps) that leave no text on an issue."""
    caps = _caps(sc)
    for k in sc.issue_ids:
        lows, highs = [], []
        for aid in sc.principals:
            actor = sc.actors[aid]
            for i, c in enumerate(actor.red_lines):
                if c.issue == k:
                    (highs if c.upper else lows).append((c.bound, aid, i))
        if k in caps:
            highs.append((caps[k][0], caps[k][1], None))
        if not lows or not highs:
            continue
        floor, who_lo, i_lo = max(lows)
        ceiling, who_hi, i_hi = min(highs)
        if floor > ceiling:
            a, b = sc.actors[who_lo].display(who_lo), sc.actors[who_hi].display(who_hi)
            why = (f"{b}'s red line caps it at {ceiling:g}" if i_hi is not None else
                   f"the guarantors' cap ({b}'s offer) is at most {ceiling:g}")
            yield (("actors", who_lo, "red_lines", i_lo),
                   f"no text can be agreed: on {k}, {a}'s red line needs at least {floor:g} but "
                   f"{why}; every world ends without an agreement")


def cap_warnings(sc: Scenario) -> Iterator[tuple[tuple, str]]:
    """(loc, message): a coalition cap below the issue's status quo."""
    for k, (cap, gid) in _caps(sc).items():
        sq_lo = support_of(sc.issues[k].status_quo)[0]
        if cap < sq_lo:
            yield (("actors", gid, "offer", k),
                   f"the guarantors back at most {cap:g} on {k}, below the status quo "
                   f"({sq_lo:g}): every text and the ceasefire package must promise less than "
                   "exists today")


def event_warnings(sc: Scenario) -> Iterator[tuple[tuple, str]]:
    """(loc, message): events that can never fire: a scheduled event before a round no world
    plays, a shock whose interval is longer than every world's calendar. The last round any
    world plays is the horizon, or later by ``durability.rounds`` where a signed text is
    followed (events act on followed texts too)."""
    horizon = max(sc.protocol.rounds, 1)
    follow = sc.durability.rounds
    last = horizon + follow
    span = f"round {last} (the horizon, {horizon}" + (
        f", and {follow} rounds of following a text signed there)" if follow else ")")
    for i, event in enumerate(sc.events):
        if event.kind == "scheduled" and event.round > last:
            yield (("events", i, "round"),
                   f"before round {event.round}: no world plays past {span}, so it never fires")
        elif event.kind == "shock" and 1 + event.every > last:
            yield (("events", i, "every"),
                   f"every {event.every} rounds: the first firing, before round "
                   f"{1 + event.every}, comes after {span}, so it never fires")


def located(sc_doc: YamlDoc, items: Iterator[tuple[tuple, str]]) -> list[Problem]:
    return [Problem(sc_doc.path, sc_doc.line_of(loc), ".".join(map(str, loc)), msg)
            for loc, msg in items]


def config_warnings(sc: Scenario, doc: YamlDoc) -> list[Problem]:
    """Every warning this module finds, located in ``doc``, in the order of the checks."""
    out: list[Problem] = []
    for check in (scale_warnings, red_line_warnings, cap_warnings, event_warnings):
        out += located(doc, check(sc))
    return out
