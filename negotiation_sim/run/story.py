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
            why = ", ".join(f"{_name(sc, p)} ({_why_refused(sc, r, t, p)})" for p in away)
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


def _why_refused(sc, r: dict[str, Any], t: dict[str, Any], p: str) -> str:
    """Why principal ``p`` refused format ``t`` in round ``r`` (``PrincipalAgent.attends`` and
    ``signs``): its preconditions, the text it would sign, or its accounting."""
    if not r.get("preconditions_met", {}).get(p, True) and not r["signing"]:
        return "the text does not meet its preconditions"
    gain, blame, cost = r["gain"][p], r["blame_threat"][p], t["cost"].get(p, 0.0)
    numbers = f"gain {gain:.3f} + blame {blame:.3f}"
    if gain + blame - cost < -TOL:
        return f"{numbers} < cost {cost:.3f}"
    if r["signing"] and gain < -TOL:  # signing: ``gain`` is what the agreed text adds to the war
        return f"the agreed text is worth {-gain:.3f} less than the {sc.words.no_deal} to it"
    return f"{numbers}, cost {cost:.3f}"
