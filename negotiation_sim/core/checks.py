"""Sanity checks that need the model's own numbers, added to those of ``config.warnings``.

A summit format is never attended when a principal's audience cost for it exceeds the most
any text inside the red lines and caps can give it over its value of war (nothing, in a format
that leaves a principal out) plus the most blame a refusal can bring. The ceasefire package is accepted by a principal when it is worth at least its value of war (at
the end of talks); a package worth less to some principal than every value of war it can have
can never be signed. What the package is worth comes from the engine itself: worlds drawn as a
run draws them (``core.worlds.sample_bounded``), the package capped as the model caps it, and
its utility as the model computes it (``core.preferences.utilities``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from negotiation_sim.config.distributions import support
from negotiation_sim.config.scenario import Scenario, scenario_from_data
from negotiation_sim.config.warnings import config_warnings, located
from negotiation_sim.config.words import indefinite
from negotiation_sim.config.yamlio import Problem, YamlDoc, load_yaml
from negotiation_sim.core.preferences import utilities
from negotiation_sim.core.worlds import WorldParams, sample_bounded

WORLDS = 2048


def _push(sc: Scenario, aid: str) -> float:
    """The most the mediators' pressure (with all the blame it can add) can take off ``aid``'s
    value of war over the horizon."""
    rounds = max(sc.protocol.rounds, 1)
    total = 0.0
    for m in sc.ids("mediator"):
        mediator = sc.actors[m]
        blame = mediator.blame
        blames = max(support(blame.refuse)[1], support(blame.reject)[1]) > 0
        total += max(support(mediator.pressure.get(aid, 0.0))[1], 0.0)
        total += support(blame.cap)[1] if blames else 0.0
    return total * rounds


def _blame(sc: Scenario) -> float:
    """The most blame a refusal can bring in one round, from every mediator."""
    return sum(support(sc.actors[m].blame.refuse)[1] for m in sc.ids("mediator"))


def _lowest_war(sc: Scenario, aid: str) -> float:
    """The lowest value of war ``aid`` can have at the end of talks, after all pressure."""
    return support(sc.actors[aid].reservation)[0] - _push(sc, aid)


def format_warnings(sc: Scenario, doc: YamlDoc, prm: WorldParams) -> list[Problem]:
    """A warning per (principal, format) that no draw of its audience cost lets it attend.

    A principal attends when its expected gain from the talks covers its audience cost. No gain
    is larger than the worth of its best text inside everyone's red lines and the guarantors'
    caps (its ideal point clipped to that box, which is best for any utility that falls with the
    distance on each issue) less its lowest value of war after all pressure; a format whose
    lowest audience cost is above that is never attended, in any world.
    """
    if sc.summit is None:
        return []
    ok = prm.box_ok
    if not ok.any():
        return []  # red_line_warnings says why
    best_text = np.clip(prm.prefs.position, prm.lo[None], prm.hi[None])  # (P, K, N)
    out = []
    for i, aid in enumerate(sc.principals):
        actor = sc.actors[aid]
        if support(actor.reservation)[0] > 1.0:
            continue  # off the scale: scale_warnings has said it, and every cost would follow
        worth = utilities(best_text[i], prm.prefs)[i]
        full_gain = float(np.max(worth[ok])) - _lowest_war(sc, aid)
        for f, cost in actor.audience_cost.items():
            lowest = support(cost)[0]
            full = all(p in sc.summit.members(f) for p in sc.principals)
            gain = (full_gain if full else 0.0) + _blame(sc)
            if 1.0 >= lowest > gain:  # above 1 the scale check has said it
                what = (f"the most any text can give it over its value of {sc.words.no_deal}, "
                        "plus the blame a refusal brings" if full else "the blame a refusal "
                        "brings (a format that leaves a principal out settles nothing)")
                out.append((("actors", aid, "audience_cost", f),
                            f"{actor.display(aid)} never attends the {f} format: its audience "
                            f"cost (at least {lowest:.3g}) exceeds {what} (at most {gain:.3g}, "
                            "after pressure)"))
    return located(doc, iter(out))


def ceasefire_warnings(sc: Scenario, doc: YamlDoc, prm: WorldParams) -> list[Problem]:
    """A warning per principal to whom the ceasefire package is worth less than every value of
    war it can have, even after the mediators' pressure over the whole deadline."""
    if sc.ceasefire is None or prm.ceasefire is None:
        return []
    worth = utilities(prm.ceasefire, prm.prefs)  # (P, N)
    out = []
    cease, war = sc.words.in_sentence("ceasefire"), sc.words.no_deal
    for i, aid in enumerate(sc.principals):
        actor = sc.actors[aid]
        lowest = _lowest_war(sc, aid)
        best = float(np.max(worth[i]))
        if best < lowest and support(actor.reservation)[0] <= 1.0:
            out.append((("ceasefire", "terms"),
                        f"the {cease} package is worth at most {best:.3g} to "
                        f"{actor.display(aid)}, below every value of {war} it can have (at "
                        f"least {lowest:.3g}, after pressure): no world can end in "
                        f"{indefinite(cease)}"))
    return located(doc, iter(out))


def scenario_warnings(sc: Scenario, doc: YamlDoc) -> list[Problem]:
    """Every sanity warning of a valid scenario, located in its file."""
    prm = sample_bounded(sc, WORLDS, seed=0)
    return (config_warnings(sc, doc) + format_warnings(sc, doc, prm)
            + ceasefire_warnings(sc, doc, prm))


def file_warnings(path: str | Path) -> list[Problem]:
    """The warnings of a scenario file (raises ``InputError`` if it is not valid)."""
    doc = load_yaml(path)
    return scenario_warnings(scenario_from_data(doc.data, doc), doc)
