"""A traced world's story in words (``run.story``): ``negsim trace`` and the explorer tell each
round's invitations with the same lines, and each refusal with the reason the decision rule
gives (``PrincipalAgent.attends`` and ``signs``)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.explore.session import story_lines
from negotiation_sim.core.outcomes import EndReason
from negotiation_sim.run.story import invitations_line, outcome_line, refusal
from negotiation_sim.run.trace import _why_none, trace_world

BASELINE = "scenarios/summit_baseline.yaml"


def _round(signing=False, gain=0.01, blame=0.0, cost=0.05, met=True, attend=False):
    return {"round": 4, "signing": signing, "held": None,
            "gain": {"russia": gain, "ukraine": 0.2},
            "blame_threat": {"russia": blame, "ukraine": 0.0},
            "preconditions_met": {"russia": met, "ukraine": True},
            "tried": [{"format": "trilateral", "level": "leaders",
                       "attend": {"russia": attend, "ukraine": True},
                       "cost": {"russia": cost, "ukraine": 0.0}}]}


def test_a_refusal_is_told_by_the_reason_that_made_it():
    sc = load_scenario(BASELINE)
    russia = sc.actors["russia"].display("russia")
    head = "Round 4 invitations: no session; trilateral (leaders) refused by "
    assert invitations_line(sc, _round()) == (
        head + f"{russia} (gain 0.010 + blame 0.000 < cost 0.050)")
    # preconditions that the round's text does not meet: whatever the accounting says
    assert invitations_line(sc, _round(gain=0.5, met=False)) == (
        head + f"{russia} (the text does not meet its preconditions)")
    # signing a text agreed by delegations that war is now worth more than, blame or not
    signing = invitations_line(sc, _round(signing=True, gain=-0.02, blame=0.1, cost=0.0))
    assert signing == ("Round 4 invitations: signing, no session; trilateral (leaders) "
                       f"refused by {russia} (the agreed text is worth 0.020 less than the "
                       f"{sc.words.no_deal} to it)")
    # a principal that attended is not named
    assert invitations_line(sc, _round(attend=True)) == (
        "Round 4 invitations: no session")


def test_the_cli_and_the_explorer_tell_the_same_calendar():
    sc = load_scenario(BASELINE)
    story = trace_world(sc, seed=0, world=3)
    assert story["calendar"]
    told = [line for line in story_lines(sc, story) if " invitations: " in line]
    assert len(told) == len(story["calendar"]) and "refused by" in " ".join(told)
    res = CliRunner().invoke(app, ["trace", BASELINE, "--world", "3"],
                             env={"COLUMNS": "10000"})
    assert res.exit_code == 0, res.output
    printed = [line.strip() for line in res.stdout.splitlines()
               if re.match(r"\s*Round \d+ invitations: ", line)]
    assert printed == told
    meetings = [line for line in story_lines(sc, story) if line.startswith("Talks of every")]
    assert meetings and meetings[0] in res.stdout


def test_a_format_without_every_principal_offers_no_gain_in_the_told_accounting():
    # attends() counts no gain in a format that leaves a principal out (it cannot settle):
    # the line says so, whatever the round's gain in a session of every principal
    sc = load_scenario(BASELINE)
    partial = next(f for f in sc.summit.formats
                   if not set(sc.principals) <= set(sc.summit.members(f)))
    r = _round(gain=0.5, blame=0.01, cost=0.05)
    r["tried"][0]["format"] = partial
    kind, words = refusal(sc, r, r["tried"][0], "russia")
    assert kind == "short"
    assert words == "no gain without every principal + blame 0.010 < cost 0.050"
    # the same numbers in a format of every principal would have attended
    assert refusal(sc, _round(gain=0.5, blame=0.01, cost=0.05),
                   _round()["tried"][0], "russia")[0] == "other"


def test_no_summit_is_explained_by_the_reasons_of_the_refusals():
    sc = load_scenario(BASELINE)
    russia, ukraine = (sc.actors[p].display(p) for p in ("russia", "ukraine"))
    story = {"calendar": [_round(met=False, gain=0.5), _round(), _round()],
             "formation": {"gain": {"russia": 0.01, "ukraine": 0.2}}}
    story["calendar"][2]["tried"][0]["attend"]["ukraine"] = False
    story["calendar"][2]["tried"][0]["cost"]["ukraine"] = 0.3
    why = _why_none(story, EndReason.NO_FORMAT, sc)
    assert why.startswith(f"{sc.words.outcome('no_summit')}: in none of the 3 rounds")
    assert (f"{russia} refused 3 invitations (1 because the round's text missed its "
            "preconditions, 2 because its expected gain plus the blame it would bear did not "
            "cover its audience cost)") in why
    assert f"{ukraine} refused 1 invitation, because its expected gain" in why


def test_the_cli_and_the_explorer_tell_the_same_outcome():
    sc = load_scenario(BASELINE)
    for world in (0, 3):  # a world without talks, one that agreed
        story = trace_world(sc, seed=0, world=world)
        line = "".join(outcome_line(sc, story["outcome"]))
        assert line in story_lines(sc, story)
        res = CliRunner().invoke(app, ["trace", BASELINE, "--world", str(world)],
                                 env={"COLUMNS": "10000"})
        assert line in [ln.strip() for ln in res.stdout.splitlines()]
        if story["outcome"]["outcome"] == "no_summit":
            days = sc.protocol.rounds * sc.protocol.round_days
            assert line == (f"Outcome: {sc.words.in_sentence('no_summit')} by the horizon "
                            f"(round {sc.protocol.rounds}, day {days:g})")
