"""A traced world's story (``run.trace.trace_world``) in words: the lines ``negsim trace`` and
the explorer both print, written once so that the two tell a calendar alike.

Only words: nothing here runs a model.
"""

from __future__ import annotations

from typing import Any

from negotiation_sim.core.preferences import FEASIBILITY_TOL as TOL  # the decisions' tie rule


def values_text(d: dict | None, digits: int = 3) -> str:
    """``{name: value}`` as 'name value, ...' (numbers to ``digits`` places, yes/no for
    truth values, '–' for none)."""
    if not d:
        return "–"
    out = []
    for k, v in d.items():
        if v is None:
            out.append(f"{k} –")
        elif isinstance(v, bool):
            out.append(f"{k} {'yes' if v else 'no'}")
        elif isinstance(v, (int, float)):
            out.append(f"{k} {v:.{digits}f}")
        else:
            out.append(f"{k} {v}")
    return ", ".join(out)


def invitations_line(sc, r: dict[str, Any]) -> str:
    """One round of a traced calendar (a record of the story's ``calendar``): the session held,
    or none (``signing``: a text agreed at delegation level waits for the leaders), and each
    format refused before it, by whom and why: preconditions the round's text does not meet, or
    what the side weighed (its expected gain a round, or what signing adds, plus the blame a
    refusal brings, against its audience cost for the format)."""
    refused = []
    for t in r["tried"]:
        away = [p for p, ok in t["attend"].items() if not ok]
        if away:
            why = ", ".join(f"{_name(sc, p)} ({refusal(sc, r, t, p)[1]})" for p in away)
            refused.append(f"{t['format']} ({t['level']}) refused by {why}")
    held = "no session" if r["held"] is None else f"{r['held']} held"
    return (f"Round {r['round']} invitations: {'signing, ' if r['signing'] else ''}{held}"
            + "".join(f"; {x}" for x in refused))


def meetings_line(o: dict[str, Any]) -> str:
    """When the traced world (its ``outcome`` record) first had talks, a leaders' meeting and
    a settlement, and how many sessions it held."""
    def when(r: int | None) -> str:
        return "never" if r is None else f"round {r}"

    return (f"Talks of every principal: {when(o['talks_round'])}; leaders: "
            f"{when(o['leaders_round'])}; settled: {when(o['settled_round'])}; "
            f"{o['sessions']} sessions")


def _name(sc, p: str) -> str:
    return sc.actors[p].display(p) if p in sc.actors else p


def refusal(sc, r: dict[str, Any], t: dict[str, Any], p: str) -> tuple[str, str]:
    """Why principal ``p`` refused format ``t`` in round ``r`` (``PrincipalAgent.attends`` and
    ``signs``), as ``(kind, words)``; ``kind`` is ``preconditions`` (the round's text misses
    them), ``worth`` (signing: the agreed text is now worth less than the war to it) or
    ``short`` (its gain plus blame fell short of its audience cost; a format without every
    principal cannot settle, so it offers no gain) or ``other`` (none of these shows in the
    recorded numbers)."""
    if not r.get("preconditions_met", {}).get(p, True) and not r["signing"]:
        return "preconditions", "the text does not meet its preconditions"
    full = _full(sc, t["format"])
    gain = r["gain"][p] if full or r["signing"] else 0.0
    blame, cost = r["blame_threat"][p], t["cost"].get(p, 0.0)
    numbers = (f"gain {gain:.3f} + blame {blame:.3f}" if full or r["signing"] else
               f"no gain without every principal + blame {blame:.3f}")
    if gain + blame - cost < -TOL:
        return "short", f"{numbers} < cost {cost:.3f}"
    if r["signing"] and gain < -TOL:  # signing: ``gain`` is what the agreed text adds to the war
        return "worth", (f"the agreed text is worth {-gain:.3f} less than the "
                         f"{sc.words.no_deal} to it")
    return "other", f"{numbers}, cost {cost:.3f}"


def outcome_line(sc, o: dict[str, Any]) -> tuple[str, str]:
    """The traced world's outcome (its ``outcome`` record) as ``(head, rest)`` of one line:
    the outcome in the scenario's words and when it ended; a world without a session of every
    principal ended at the horizon."""
    if o["round"] > 0:
        rest = f" in round {o['round']} (day {o['days']:g})"
    else:
        rounds = sc.protocol.rounds
        rest = f" by the horizon (round {rounds}, day {rounds * sc.protocol.round_days:g})"
    if o["format"]:
        rest += f", format {o['format']}"
    if o.get("walked_out_by"):
        rest += f", walk-out by {_name(sc, o['walked_out_by'])}"
    return f"Outcome: {sc.words.in_sentence(o['outcome'])}", rest


def _full(sc, fmt: str) -> bool:
    """Whether format ``fmt`` has every principal among its members."""
    if sc.summit is None or fmt not in sc.summit.formats:
        return True
    return set(sc.principals) <= set(sc.summit.members(fmt))
