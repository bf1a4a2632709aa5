"""One world's negotiation as plain data: the model's own history, picked out for world K.

The story is read from ``SummitModel.history`` of the ordinary model (``trace=True``): there is no
second implementation. To give world K exactly the draws it gets in ``negsim run`` with the same
seed, the model simulates K's block of worlds from its first world up to K (every draw is made
per block of worlds and does not depend on the other worlds simulated) and the story of world K
is picked out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from negotiation_sim.config.defaults import BLOCK
from negotiation_sim.config.words import indefinite
from negotiation_sim.core.model import SummitModel
from negotiation_sim.core.outcomes import END_REASONS, OUTCOMES, EndReason
from negotiation_sim.core.protocols.base import cause_words
from negotiation_sim.run.story import refusal


def _drawn(model, w: int, path: str, value) -> float:
    """This world's value of a scenario number: its draw if uncertain, else the number."""
    if path in model.inputs:
        return float(model.inputs[path][w])
    return float(value)


def trace_world(scenario, *, seed: int = 0, world: int = 0, point: int = 0) -> dict[str, Any]:
    """The story of one world as plain data (the ``--json`` shape of ``negsim trace``)."""
    first = (world // BLOCK) * BLOCK
    w = world - first
    m = SummitModel(scenario, w + 1, seed=seed, point=point, first_world=first, trace=True)
    m.run()
    principals = scenario.principals
    issues = scenario.issue_ids
    formats = [f for f, _ in scenario.formats()]
    causes = cause_words(scenario.words.no_deal)

    def text(x, col):
        return {k: float(x[i, col]) for i, k in enumerate(issues)}

    def per(arr, col, ids=principals):
        return {a: _py(arr[i, col]) for i, a in enumerate(ids)}

    story: dict[str, Any] = {
        "scenario": scenario.name, "seed": seed, "world": world,
        "protocol": scenario.protocol.kind,
        "inputs": {p: float(v[w]) for p, v in m.inputs.items()},
        "issues": {k: {"low": v.label("low"), "high": v.label("high"),
                       "status_quo": _drawn(m, w, f"issues.{k}.status_quo", v.status_quo)}
                   for k, v in scenario.issues.items()},
        "actors": {a: {"name": s.display(a), "role": s.role,
                       "position": {k: _drawn(m, w, f"actors.{a}.position.{k}", x)
                                    for k, x in s.position.items()}}
                   for a, s in scenario.actors.items()},
        "formation": None, "calendar": [], "events": [], "rounds": [],
    }
    for h in m.history:
        stage = h["stage"]
        live = list(h.get("world", []))
        if w not in live:
            continue
        col = live.index(w)
        if stage == "convene":
            session = _convened(h, col, formats, principals, text, scenario)
            story["calendar"].append(session)
            if story["formation"] is None:
                story["formation"] = session
            continue
        if stage == "plan":
            continue  # the plan's numbers appear round by round below as thresholds
        if stage == "event":
            if h["fired"][col]:
                story["events"].append({"round": h["round"], "event": h["event"],
                                        "value_of_war": per(h["reservation"], col)})
            continue
        entry: dict[str, Any] = {"round": h["round"], "text": text(h["text"], col)}
        if stage == "round" and "proposer" in h:
            entry["proposer"] = principals[h["proposer"]]
        if "claim" in h:
            entry["claim"] = per(h["claim"], col)
        if "value" in h:
            entry["value"] = per(h["value"], col)
        if "accept" in h:
            entry["accept"] = per(h["accept"], col)
        if "walked" in h:
            entry["walked_out"] = bool(h["walked"][col])
        if "reservation" in h:
            entry["value_of_war"] = per(h["reservation"], col)
        if "cause" in h:
            entry["answers"] = {p: causes[int(h["cause"][i, col])]
                                for i, p in enumerate(principals)}
        if "chance" in h:
            entry["chance"] = float(h["chance"][col])
        if "belief" in h:
            low, high = h["belief"]
            entry["belief"] = {p: [float(low[i, col]), float(high[i, col])]
                               for i, p in enumerate(principals)}
        if stage == "eu_round":
            entry["positions"] = {a: text(h["positions"][i], col)
                                  for i, a in enumerate(h["actors"])}
            entry["decision"] = bool(h["decide"])
        story["rounds"].append(entry)
    out = int(m.outcome[w])
    fmt = int(m.held_format[w])
    by = int(m.walked_out_by[w])
    story["outcome"] = {
        "outcome": OUTCOMES[out], "format": formats[fmt] if fmt >= 0 else None,
        "round": int(m.end_round[w]),
        "days": float(m.end_round[w] * scenario.protocol.round_days),
        "walked_out": bool(m.walked_out[w]),
        "walked_out_by": principals[by] if by >= 0 else None,
        "end_reason": END_REASONS[int(m.end_reason[w])],
        "talks_round": _round(m.talks_round[w]),
        "leaders_round": _round(m.leaders_round[w]),
        "settled_round": _round(m.settled_round[w]),
        "sessions": int(m.sessions[w]),
        "terms": None if np.isnan(m.terms[:, w]).all() else text(m.terms, w),
        "utilities": per(m.utility, w, scenario.positioned),
        "value_of_war": per(m.war, w),
        "durability": _durability(m, w, out, scenario),
    }
    story["why"] = explain(story, scenario)
    if (words := scenario.words.stored()) is not None:
        story["words"] = words  # a stored trace is drawn in the scenario's words
    return story


def _durability(m, w: int, out: int, scenario) -> dict[str, Any] | None:
    """What became of the world's first text in force (``core.durability``): None when nothing
    took effect or signed texts are not followed; else whether it held the followed rounds, or
    who broke it in which round, whether the war then resumed, and how many texts took
    effect."""
    rounds = scenario.durability.rounds
    first = int(m.settled_round[w])
    if first < 0 or rounds == 0:
        return None
    broken = int(m.broken_round[w])
    by = int(m.broken_by[w])
    days = scenario.protocol.round_days
    return {"followed_rounds": rounds, "held": broken < 0,
            "first_text": OUTCOMES[int(m.settled_kind[w])], "took_effect_round": first,
            "broken_round": broken if broken >= 0 else None,
            "broken_day": float(broken * days) if broken >= 0 else None,
            "broken_by": scenario.principals[by] if by >= 0 else None,
            "resumed": bool(m.resumed[w]), "signings": int(m.signings[w])}


def explain(story: dict[str, Any], scenario) -> str:
    """Why the world ended as it did, from its story: one sentence, and one more on what became
    of a signed text when signed texts are followed."""
    why = _why_it_ended(story, scenario)
    d = story["outcome"].get("durability")
    if d is None:
        return why
    name = scenario.actors
    days = scenario.protocol.round_days
    war = scenario.words.no_deal
    first = (scenario.words.in_sentence("ceasefire") if d["first_text"] == "ceasefire"
             else "settlement")
    if d["held"]:
        return (f"{why} The {first} that took effect in round {d['took_effect_round']} held "
                f"while followed (at least {d['followed_rounds']} rounds, "
                f"{d['followed_rounds'] * days:g} days): no principal's value of resuming the "
                f"{war} rose above its worth plus the cost of breaking it.")
    then = (f" The {war} resumed and {d['signings']} texts took effect in all." if d["resumed"]
            and d["signings"] > 1 else f" The {war} resumed." if d["resumed"] else "")
    return (f"{why} {name[d['broken_by']].display(d['broken_by'])} broke the {first} that "
            f"took effect in round {d['took_effect_round']} in round {d['broken_round']} (day "
            f"{d['broken_day']:g}): its value of resuming the {war} rose above the text's worth "
            f"to it plus its cost of breaking it.{then}")


def _why_it_ended(story: dict[str, Any], scenario) -> str:
    """One sentence on why the talks ended as they did, in the scenario's words."""
    o = story["outcome"]
    w = scenario.words
    name = {a: scenario.actors[a].display(a) for a in scenario.actors}
    reason = EndReason[o["end_reason"].upper()]
    war = o["value_of_war"]
    if reason is EndReason.AGREED:
        return (f"Agreed in round {o['round']} (day {o['days']:g}): every principal valued the "
                f"text at least at its value of {w.no_deal}.")
    if reason in (EndReason.NO_FORMAT, EndReason.PRECONDITIONS):
        return _why_none(story, reason, scenario)
    how = (f"{name[o['walked_out_by']]} walked out in round {o['round']}"
           if o["walked_out_by"] else f"the deadline (round {o['round']}) passed")
    cease, broke = w.in_sentence("ceasefire"), w.in_sentence("breakdown")
    if o["outcome"] == "ceasefire":
        return (f"Talks failed ({how}) and every principal preferred the {cease} package to "
                f"the {w.no_deal}: {indefinite(cease)}.")
    if reason is EndReason.CEASEFIRE_REFUSED:
        return (f"Talks failed ({how}); the {cease} package was refused by a principal that "
                f"values the {w.no_deal} more: {broke} (values of {w.no_deal} "
                + ", ".join(f"{name[p]} {v:.3f}" for p, v in war.items()) + ").")
    return f"Talks failed ({how}) and there is no {cease} package: {broke}."


def _why_none(story: dict[str, Any], reason: EndReason, scenario) -> str:
    """Why no session of every principal was held: preconditions no text meets, or, round by
    round, the refusals of those who stayed away, counted by the reason each was made
    (``run.story.refusal``: the round's text missed its preconditions, or its expected gain
    plus blame did not cover its audience cost)."""
    w = scenario.words
    name = {a: scenario.actors[a].display(a) for a in scenario.actors}
    none = w.outcome("no_summit")
    if reason is EndReason.PRECONDITIONS:
        return f"{none}: no text inside the red lines and caps meets every principal's " \
               "preconditions."
    calendar = story.get("calendar", [])
    counts: dict[str, dict[str, int]] = {}
    for r in calendar:
        for t in r["tried"]:
            for p, ok in t["attend"].items():
                if not ok:
                    kind = refusal(scenario, r, t, p)[0]
                    tally = counts.setdefault(p, {})
                    tally[kind] = tally.get(kind, 0) + 1
    words = {"preconditions": "the round's text missed its preconditions",
             "short": "its expected gain plus the blame it would bear did not cover its "
                      "audience cost",
             "worth": f"the agreed text was worth less than the {w.no_deal} to it",
             "other": "a reason the trace does not record"}

    def refusals(c: dict[str, int]) -> str:
        total = sum(c.values())
        if len(c) == 1:
            kind = next(iter(c))
            return ("1 invitation, because " if total == 1 else
                    f"{total} invitations, each because ") + words[kind]
        return f"{total} invitations (" + ", ".join(
            f"{k} because {words[kind]}" for kind, k in c.items()) + ")"

    told = "; ".join(f"{name[p]} refused {refusals(c)}" for p, c in counts.items())
    met = sum(r["held"] is not None for r in calendar)
    gains = (story.get("formation") or {}).get("gain", {})
    return (f"{none}: in none of the {len(calendar)} rounds did every principal attend one "
            f"session. {told or 'No principal refused'}. {met} session{'' if met == 1 else 's'} "
            "left a principal out; "
            "expected gains in round 1: "
            + ", ".join(f"{name[p]} {g:.3f}" for p, g in gains.items()) + ".")


def _convened(h, col, formats, principals, text, scenario) -> dict[str, Any]:
    """One round's invitations in one world: each format tried, who attended or refused it and
    why (expected gain a round, audience cost, the blame a refusal brings), and what was held."""
    held = int(h["held"][col])
    levels = scenario.levels()
    signing = bool(h["pending"][col])
    tried = []
    for f, name in enumerate(formats):
        if signing and not (levels[f] == "leaders" and h["invited"][f].all()):
            continue  # a waiting text is signed by the leaders of every principal only
        invited = [p for i, p in enumerate(principals) if h["invited"][f, i]]
        tried.append({
            "format": name, "level": levels[f],
            "attend": {p: bool(h["attend"][f, i, col]) for i, p in enumerate(principals)
                       if p in invited},
            "cost": {p: float(h["cost"][i, f, col]) for i, p in enumerate(principals)
                     if p in invited} if h["cost"] is not None else {},
        })
        if f == held:
            break
    return {
        "round": h["round"],
        "signing": signing,
        "expected_text": text(h["text"], col),
        "gain": {p: float(h["gain"][i, col]) for i, p in enumerate(principals)},
        "blame_threat": {p: float(h["threat"][i, col]) for i, p in enumerate(principals)},
        "preconditions_met": {p: bool(h["preconditions"][i, col])
                              for i, p in enumerate(principals)},
        "tried": tried,
        "held": formats[held] if held >= 0 else None,
    }


def _round(v) -> int | None:
    return int(v) if v > 0 else None


def _py(v):
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    f = float(v)
    return None if np.isnan(f) else f
