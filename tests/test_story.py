"""A traced world's story in words (``run.story``): ``negsim trace`` and the explorer tell each
round's invitations with the same lines, and each refusal with the reason the decision rule
gives (``PrincipalAgent.attends`` and ``signs``)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.explore.session import story_lines
from negotiation_sim.run.story import invitations_line
from negotiation_sim.run.trace import trace_world

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
