"""The explorer's logic without a browser (explore.session) and the command's checks."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from negotiation_sim import api
from negotiation_sim.cli import app
from negotiation_sim.config.levers import apply_levers
from negotiation_sim.explore.session import Session

BASE = ROOT / "scenarios" / "summit_baseline.yaml"


@pytest.fixture(scope="module")
def session():
    return Session.open(BASE, runs=1500, seed=4, world=2)


def test_a_rerun_is_negsim_run_of_the_changed_scenario(session):
    session.reset()
    session.set("actors.us.pressure.russia", 0.05)
    session.set("actors.russia.audience_cost.trilateral", 0.0)
    shown = session.run()
    expected = apply_levers(session.base, session.changed())
    assert shown.summary == api.run(expected, runs=1500, seed=4, keep_runs=False).summary
    assert shown.story == api.trace(expected, seed=4, world=2)
    base = Session(session.base, runs=1500, seed=4).run()
    assert shown.shares() != base.shares()
    assert [o for o, *_ in shown.shares()] == ["agreement", "ceasefire", "breakdown",
                                               "no_summit"]
    for _, _, share, lo, hi in shown.shares():
        assert lo <= share <= hi
    lines = shown.story_lines()
    assert lines[0].startswith("World 2") and any(ln.startswith("Outcome:") for ln in lines)
    import matplotlib.pyplot as plt

    fig = shown.terms_figure()
    assert len(fig.axes) >= len(session.base.issues)
    plt.close(fig)


def test_the_saved_yaml_runs_as_the_explorer_showed(session, tmp_path):
    session.reset()
    session.set("actors.ukraine.red_lines.0", 0.9)
    session.set("protocol.information", "complete")
    shown = session.run()
    path = session.save(tmp_path / "changed.yaml")
    assert "actors.ukraine.red_lines.0: 0.9" in path.read_text()  # the header says what moved
    out = CliRunner().invoke(app, ["run", str(path), "--runs", "1500", "--seed", "4", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["outcomes"] == shown.summary["outcomes"]


def test_invalid_settings_raise_located_problems(session):
    session.reset()
    session.set("actors.germany.offer.guarantees", 2.0)
    with pytest.raises(api.InputError) as err:
        session.run()
    assert err.value.problems[0].field == "actors.germany.offer.guarantees"
    with pytest.raises(KeyError):
        session.set("actors.us.clout", 1.0)
    session.reset()
    assert session.changed() == {}


def test_explore_refuses_a_bad_scenario_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.read_text().replace("patience: 0.97", "patience: 1.5"))
    out = CliRunner().invoke(app, ["explore", str(bad), "--no-browser"])
    assert out.exit_code == 1
    assert "bad.yaml:" in out.output and "actors.russia.patience" in out.output
    assert "Traceback" not in out.output
