"""The explorer's logic without a browser (explore.session) and the command's checks."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT
from typer.testing import CliRunner

from negotiation_sim import api
from negotiation_sim.cli import app
from negotiation_sim.config.levers import apply_levers
from negotiation_sim.explore.session import (
    Reruns,
    Session,
    Shown,
    placed_report,
    slider_position,
    typed_value,
)

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


def test_a_rerun_shows_the_meetings_beside_the_outcomes(session, monkeypatch):
    """With chosen calendar outputs (``meeting_helpers``: talks in 3 worlds of 4, a third of
    them in each of rounds 1-3; leaders in 1 of 4, round 2; settled in 1 of 8, round 3; w % 4
    sessions) the explorer shows those shares with intervals, and by round."""
    from meeting_helpers import choose_calendar

    from negotiation_sim.results.summary import wilson_interval

    choose_calendar(monkeypatch)
    session.reset()
    shown = Session(session.base, runs=1504, seed=4).run()  # 1504 = 8 x 188 worlds
    rows = shown.meetings()
    assert [r[0] for r in rows] == ["talks", "leaders", "settled"]
    talks = rows[0]
    assert talks[2:5] == (0.75, *wilson_interval(1128, 1504))
    protocol = session.base.protocol

    def when(r: int) -> str:  # the end of round r, and its date when the scenario has a start
        day = r * protocol.round_days
        date = protocol.start and protocol.start + datetime.timedelta(days=day)
        return f"round {r}, day {day:g}" + (f" ({date})" if date else "")

    assert talks[5] == when(2)
    assert [r[2] for r in rows[1:]] == [0.25, 0.125] and rows[2][5] == when(3)
    assert shown.sessions() == 1.5
    heads, series = shown.meetings_by_round(columns=100)  # every round
    rounds = protocol.rounds
    assert [h.split(" (")[0] for h in heads] == [f"round {r}" for r in range(1, rounds + 1)]
    assert dict(series)["talks"][:4] == [0.25, 0.5, 0.75, 0.75]
    assert dict(series)["leaders"][-1] == 0.25
    heads, series = shown.meetings_by_round(columns=4)  # fewer columns than rounds
    assert heads[-1].startswith(f"round {rounds}") and len(heads) == 4
    assert heads[0].startswith(f"round {-(-rounds // 4)}")
    assert dict(series)["settled"][-1] == 0.125


def test_meetings_by_round_are_dated_when_the_scenario_starts_on_a_date():
    from negotiation_sim.explore.session import Explored
    from negotiation_sim.results.summary import Accumulator

    acc = Accumulator(issues=["x"], formats=["f"], actors=["a"], max_round=26,
                      start=datetime.date(2025, 8, 20))
    shown = Explored(None, acc.summary("s", 0), None, {}, 0.0)
    heads, series = shown.meetings_by_round()
    assert heads[0] == "round 3 (2025-10-01)" and heads[-1] == "round 26 (2026-08-19)"
    assert len(heads) == 10 and [name for name, _ in series] == ["talks", "leaders", "settled"]


def test_the_story_tells_a_calendar_round_by_round(session):
    """A traced calendar (the trace's ``calendar`` records, built by hand here): each round's
    invitations, who refused which format and why, and when the world first met."""
    from negotiation_sim.explore.session import story_lines

    def tried(fmt, attend, cost):
        return {"format": fmt, "level": "leaders", "attend": attend, "cost": cost}

    no_blame = {"russia": 0.0, "ukraine": 0.0}
    story = {"world": 5, "seed": 0, "protocol": "mediated", "inputs": {}, "events": [],
             "rounds": [], "formation": None, "calendar": [
                 {"round": 1, "signing": False, "gain": {"russia": 0.01, "ukraine": 0.02},
                  "blame_threat": {"russia": 0.004, "ukraine": 0.0}, "held": None,
                  "tried": [tried("trilateral", {"russia": False, "ukraine": True},
                                  {"russia": 0.05, "ukraine": 0.0})]},
                 {"round": 2, "signing": True, "gain": {"russia": 0.09, "ukraine": 0.02},
                  "blame_threat": no_blame, "held": "trilateral",
                  "tried": [tried("trilateral", {"russia": True, "ukraine": True}, {})]}],
             "outcome": {"outcome": "agreement", "round": 2, "days": 28.0,
                         "format": "trilateral", "walked_out_by": None, "terms": None,
                         "talks_round": 2, "leaders_round": 2, "settled_round": 2,
                         "sessions": 1}}
    lines = story_lines(session.base, story)
    russia = session.base.actors["russia"].display("russia")
    assert lines[1] == ("Round 1 invitations: no session; trilateral (leaders) refused by "
                        f"{russia} (gain 0.010 + blame 0.004 < cost 0.050)")
    assert lines[2] == "Round 2 invitations: signing, trilateral held"
    assert "Talks of every principal: round 2; leaders: round 2; settled: round 2; " \
           "1 sessions" in lines
    assert lines[-1].startswith("Outcome: agreement in round 2")
    story["outcome"].update(talks_round=None, leaders_round=None, settled_round=None)
    assert "Talks of every principal: never; leaders: never; settled: never; 1 sessions" \
        in story_lines(session.base, story)


def test_the_saved_yaml_runs_as_the_explorer_showed(session, tmp_path):
    session.reset()
    session.set("actors.ukraine.red_lines.0", 0.9)
    session.set("protocol.information", "complete")
    shown = session.run()
    path = session.save("changed.yaml", tmp_path)
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


def test_reruns_run_the_newest_request_and_skip_the_ones_between():
    gate, started = threading.Event(), threading.Event()
    ran, published = [], []

    def run(key):
        ran.append(key)
        if key == "first":
            started.set()
            gate.wait(30)  # held until the later requests are in
        return f"result of {key}"

    reruns = Reruns(run, published.append)
    assert reruns.request("first") == 1
    started.wait(30)
    for key in ("second", "third", "last"):  # while the first runs
        reruns.request(key)
    assert reruns.busy()
    gate.set()
    assert reruns.wait(30)
    assert ran == ["first", "last"]
    assert [(s.generation, s.key, s.outcome) for s in published] == [
        (1, "first", "result of first"), (4, "last", "result of last")]
    assert not reruns.busy()


def test_a_failed_rerun_is_published_and_the_next_one_runs():
    published = []

    def run(key):
        if key == "bad":
            raise RuntimeError("no")
        return key

    reruns = Reruns(run, published.append)
    reruns.request("bad")
    assert reruns.wait(30)
    reruns.request("good")
    assert reruns.wait(30)
    assert isinstance(published[0].outcome, RuntimeError) and published[1].outcome == "good"


def test_what_is_shown_says_whether_it_is_the_levers_as_they_are():
    shown = Shown(3, ({"a": 1}, 0), "numbers")
    assert shown.state(({"a": 1}, 0), requested=3) == "current"
    assert shown.state(({"a": 1}, 0), requested=5) == "current"
    assert shown.state(({"a": 2}, 0), requested=4) == "running"
    assert shown.state(({"a": 1}, 1), requested=4) == "running"
    assert shown.state(({"a": 2}, 0), requested=3) == "stale"  # moved, no rerun asked for


@pytest.mark.parametrize("name", ["../escaped.yaml", "/tmp/escaped.yaml", "sub/escaped.yaml",
                                  "..", ".", "", ".hidden.yaml", "escaped.txt", "a b.yaml",
                                  "e\x1b[31m.yaml", "C:\\escaped.yaml", "..\\escaped.yaml"])
def test_save_refuses_names_that_are_not_a_file_in_its_folder(session, tmp_path, name):
    folder = tmp_path / "here"
    folder.mkdir()
    with pytest.raises(ValueError):
        session.save(name, folder)
    assert [p.name for p in tmp_path.rglob("*")] == ["here"]


def test_save_neither_follows_links_nor_overwrites_the_scenario(session, tmp_path):
    folder, outside = tmp_path / "here", tmp_path / "outside.yaml"
    folder.mkdir()
    outside.write_text("kept: true\n")
    (folder / "link.yaml").symlink_to(outside)
    with pytest.raises(ValueError, match="symbolic link"):
        session.save("link.yaml", folder)
    assert outside.read_text() == "kept: true\n"
    scenario = folder / "mine.yaml"
    scenario.write_text(BASE.read_text())
    mine = Session.open(scenario, runs=100)
    with pytest.raises(ValueError, match="scenario being explored"):
        mine.save("mine.yaml", folder)
    assert scenario.read_text() == BASE.read_text()
    (folder / "dir.yaml").mkdir()
    with pytest.raises(ValueError, match="not a regular file"):
        session.save("dir.yaml", folder)
    session.reset()
    written = session.save("changed.yml", folder)
    assert written == folder / "changed.yml" and written.is_file()
    assert sorted(p.name for p in folder.iterdir()) == [
        "changed.yml", "dir.yaml", "link.yaml", "mine.yaml"]  # no temporary file left


@pytest.mark.parametrize(("path", "value", "says"), [
    ("actors.us.pressure.russia", 10**400, "401 digits is too large"),
    ("protocol.rounds", 10**400, "401 digits is too large"),
    ("protocol.rounds", float("inf"), "not a finite number"),
    ("actors.us.pressure.russia", float("inf"), "finite number"),
])
def test_a_lever_value_beyond_any_float_is_a_located_input_problem(session, path, value, says):
    session.reset()
    session.set(path, value)
    with pytest.raises(api.InputError) as err:
        session.run()
    assert err.value.problems[0].field.startswith(path) and says in str(err.value.problems[0])
    session.reset()


@pytest.mark.parametrize(("old", "new", "field"), [  # old: the first match is replaced
    (r"rounds: \d+", "rounds: .inf", "protocol.rounds"),  # the horizon, whatever its length
    (r"rounds: \d+", "rounds: 1" + "0" * 400, "protocol.rounds"),
    (r"backlash: 1\.0", "backlash: 1" + "0" * 400, "actors.us.backlash"),
])
def test_run_and_explore_refuse_numbers_beyond_any_float_in_one_line(tmp_path, old, new, field):
    import re

    bad = tmp_path / "big.yaml"
    text = BASE.read_text()
    assert re.search(old, text)
    bad.write_text(re.sub(old, new, text, count=1))
    for command in (["run", str(bad), "--runs", "100"], ["explore", str(bad), "--no-browser"]):
        out = CliRunner().invoke(app, command)
        assert out.exit_code == 1, out.output
        assert "big.yaml:" in out.output and field in out.output
        assert "Traceback" not in out.output and len(out.output.strip().splitlines()) == 1


def _scope(kind: str, host: str | None, origin: str | None) -> dict:
    headers = [(b"host", host.encode())] if host else []
    headers += [(b"origin", origin.encode())] if origin else []
    return {"type": kind, "path": "/", "headers": headers}


def test_only_the_explorers_own_pages_pass():
    pytest.importorskip("uvicorn")
    from negotiation_sim.explore.server import LocalOnly

    guard = LocalOnly(None, 8765)
    own, other = "http://localhost:8765", "http://evil.example"
    assert guard.allowed(_scope("websocket", "localhost:8765", own))
    assert guard.allowed(_scope("websocket", "127.0.0.1:8765", "http://127.0.0.1:8765"))
    assert not guard.allowed(_scope("websocket", "localhost:8765", other))
    assert not guard.allowed(_scope("websocket", "localhost:8765", None))
    assert not guard.allowed(_scope("websocket", "localhost:8765", "http://localhost:8766"))
    assert not guard.allowed(_scope("websocket", "evil.example:8765", "http://evil.example:8765"))
    assert guard.allowed(_scope("http", "localhost:8765", None))  # a page load sends no Origin
    assert not guard.allowed(_scope("http", "localhost:8765", other))
    assert not guard.allowed(_scope("http", "evil.example:8765", None))
    assert not guard.allowed(_scope("http", None, None))


def _explore_then(signum: int, tmp_path) -> subprocess.CompletedProcess:
    """Start ``negsim explore`` for real, wait until it serves, send ``signum``."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    negsim = Path(sys.executable).with_name("negsim")
    proc = subprocess.Popen([str(negsim), "explore", str(BASE), "--port", str(port),
                             "--no-browser", "--runs", "200"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NO_COLOR": "1"})
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://localhost:{port}/", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_explore_stops_on_a_signal_with_one_line_and_its_exit_code(tmp_path, signum, code):
    pytest.importorskip("solara")
    done = _explore_then(signum, tmp_path)
    assert done.returncode == code, done.stderr
    name = signal.Signals(signum).name
    lines = [ln for ln in done.stderr.splitlines() if not ln.startswith("negsim explore:")]
    assert lines == [f"error: interrupted ({name})"], done.stderr


def test_a_reruns_warnings_are_what_validate_says_of_its_scenario(session):
    """The warnings beside a rerun are ``negsim validate``'s for the scenario with the levers
    applied (read without writing it out as YAML: the page names fields, not lines)."""
    from negotiation_sim.config.levers import scenario_yaml
    from negotiation_sim.config.yamlio import parse_yaml
    from negotiation_sim.core.checks import scenario_warnings

    session.reset()
    session.set("actors.us.pressure.russia", 0.1)
    session.set("actors.ukraine.reservation", 0.9)
    sc = session.scenario()
    found = scenario_warnings(sc, parse_yaml(scenario_yaml(sc), session.source))
    assert found and all(p.line for p in found)
    assert session.warnings(sc) == [f"{p.field}: {p.message}" if p.field else p.message
                                    for p in found]
    session.reset()


def test_a_rerun_answers_what_a_run_answers(session):
    """Beside the outcomes: will it hold, why worlds ended and the reference solutions (the
    tables negsim run prints), the validate warnings of the settings, what changed against
    the file and the last run, and every table as CSV with the exact shares."""
    import csv
    import io

    from negotiation_sim.report import tables

    session.reset()
    first = session.run()
    assert first.warnings == [] and session.changed_words() == []
    titles = [t.title for t in first.tables()]
    assert titles == [tables.durability(first.summary).title, "Why worlds ended",
                      tables.solutions(first.summary).title]
    session.set("actors.us.pressure.russia", 0.1)  # the slider's top: off the utility scale
    moved = session.run()
    assert any(w.startswith("actors.us.pressure.russia: ") for w in moved.warnings)
    assert session.changed_words()[0].endswith("-> 0.1")
    deltas = moved.changes(first)
    assert [o for o, _, _ in deltas] == ["agreement", "ceasefire", "breakdown", "no_summit"]
    assert sum(d for _, _, d in deltas) == pytest.approx(0, abs=1e-9)
    assert deltas[0][2] == pytest.approx(100 * (moved.summary["outcomes"]["agreement"]["share"]
                                                - first.summary["outcomes"]["agreement"]["share"]))
    assert moved.changes(None) == []
    rows = list(csv.reader(io.StringIO(moved.csv())))
    shares = {r[0]: float(r[1]) for r in rows[2:6]}
    assert shares == {o: v["share"] for o, v in moved.summary["outcomes"].items()}
    assert ["Why worlds ended"] in rows and ["reason", "share of worlds"] in rows
    session.reset()


def test_the_slider_position_of_a_value_off_its_grid_is_not_a_move(session):
    """The slider rounds a placed value to its grid (from ``low``, halves up, to the step's
    decimals) and reports that position back: that report is told from a user's move."""
    support = session.lever("actors.france.support.ukraine")  # 0.00025 on a grid of 0.0005
    assert (support.value, support.step) == (0.00025, 0.0005)
    assert slider_position(support.value, support) == 0.0005  # Math.round: halves go up
    assert placed_report(0.0005, support.value, support)
    assert not placed_report(0.0, support.value, support)  # a step down is a move
    assert not placed_report(0.001, support.value, support)
    us_russia = session.lever("actors.russia.audience_cost.us_russia")  # on its grid from -0.075
    assert slider_position(us_russia.value, us_russia) == us_russia.value == -0.025
    assert not placed_report(-0.025, us_russia.value, us_russia)
    pressure = session.lever("actors.us.pressure.russia")  # a distribution's mean
    assert slider_position(pressure.value, pressure) == 0.004
    assert slider_position(5.0, pressure) == pressure.high  # clamped to the range
    assert placed_report(0.004, pressure.value, pressure)


@pytest.mark.parametrize("text, says", [
    ("abc", "'abc' is not a number"), ("", "'' is not a number"),
    ("nan", "'nan' is not a finite number"), ("0.5", "0.5 is outside the range 0 – 0.1"),
    ("-0.001", "-0.001 is outside the range 0 – 0.1")])
def test_a_typed_value_is_refused_saying_why(session, text, says):
    with pytest.raises(ValueError) as refused:
        typed_value(session.lever("actors.us.pressure.russia"), text)
    assert str(refused.value) == says


def test_a_typed_value_is_the_number_written(session):
    assert typed_value(session.lever("actors.us.pressure.russia"), " 0.0123 ") == 0.0123
    assert typed_value(session.lever("actors.us.pressure.russia"), "0,02") == 0.02
    rounds = session.lever("protocol.rounds")
    assert typed_value(rounds, "30") == 30 and isinstance(typed_value(rounds, "30.0"), int)
    with pytest.raises(ValueError, match="not a whole number"):
        typed_value(rounds, "30.5")


def test_the_levers_moved_read_back_from_their_query_string():
    s = Session.open(BASE)
    assert s.query() == "" and s.from_query("") == (s.values, [])
    s.set("actors.us.pressure.russia", 0.0123)
    s.set("protocol.rounds", 30)
    s.set("protocol.kind", "alternating_offers")
    assert s.query() == ("actors.us.pressure.russia=0.0123&protocol.rounds=30"
                         "&protocol.kind=alternating_offers")
    assert s.from_query(s.query()) == (s.values, [])
    values, problems = s.from_query("x=1&actors.us.pressure.russia=abc&protocol.kind=zzz"
                                    "&protocol.rounds=1e9&actors.us.pressure.ukraine=0.02")
    assert problems == ["'x' is not a lever of this scenario",
                        "actors.us.pressure.russia: 'abc' is not a number",
                        "protocol.kind: 'zzz' is not one of mediated, alternating_offers, "
                        "expected_utility",
                        "protocol.rounds: 1e9 is outside the range 1 – 52"]
    s.reset()
    assert values == {**s.values, "actors.us.pressure.ukraine": 0.02}  # the rest: the file's


def _comments(text: str) -> list[str]:
    """Every comment of a YAML text (``#`` to the end of a line, outside quotes)."""
    import re

    return [m.group(1) for line in text.splitlines()
            if (m := re.search(r"""^(?:[^"'#]|"[^"]*"|'[^']*')*?(#.*)$""", line))]


def test_the_saved_yaml_keeps_every_comment_of_the_file(session, tmp_path):
    """Three levers moved (a distribution, a number, a red line): the saved file is the
    scenario file's own text with those values written in, so every comment (the dated
    sources) survives, and it loads back to the scenario the levers make."""
    from negotiation_sim.config.scenario import load_scenario

    session.reset()
    session.set("actors.us.pressure.russia", 0.0123)
    session.set("actors.france.support.ukraine", 0.001)
    session.set("actors.ukraine.red_lines.0", 0.65)
    text = session.yaml()
    original = BASE.read_text()
    kept = _comments(text)
    assert len(_comments(original)) > 200
    assert [c for c in _comments(original) if c not in kept] == []
    assert "written anew" not in text
    assert '      - "territory <= 0.65"    # no de jure recognition' in text
    saved = session.save("three.yaml", tmp_path)
    assert load_scenario(saved) == session.scenario()
    assert len(text.splitlines()) == len(original.splitlines()) + 4  # the header's lines
    session.reset()


def test_a_field_the_file_does_not_write_is_added_with_a_comment(tmp_path):
    """A value for a field the file leaves at its default gets a line of its own, saying so,
    in the block it belongs to; a file that no longer holds the scenario opened (changed
    since) falls back to a dump that says its comments are lost."""
    import copy

    from negotiation_sim.config.levers import scenario_data
    from negotiation_sim.config.scenario import load_scenario
    from negotiation_sim.config.yamlio import parse_yaml
    from negotiation_sim.explore.yamltext import NOTE, patched_text

    text = BASE.read_text()
    cut = "    # Kyiv depends on Western money and arms (Aug 2025); being seen to break a signed"
    start = text.index(cut)
    end = text.index("ukraine: 0.02\n", start) + len("ukraine: 0.02\n")
    text = text[:start] + text[end:]
    old = scenario_data(load_scenario(BASE))
    del old["durability"]["breach_cost"]["ukraine"]
    new = copy.deepcopy(old)
    new["durability"]["breach_cost"]["ukraine"] = 0.05
    new["durability"]["shifts"]["russia"]["drift"] = 0.003  # a distribution made a number
    paths = ["durability.breach_cost.ukraine", "durability.shifts.russia.drift"]
    out = patched_text(text, old, new, paths)
    assert f"    ukraine: 0.05  # {NOTE} (not in the file)\n  deterrence:" in out
    back = parse_yaml(out).data["durability"]
    assert back["breach_cost"] == new["durability"]["breach_cost"]
    assert back["shifts"]["russia"]["drift"] == 0.003
    assert f"      drift: 0.003  # {NOTE} (the file had another shape)\n" in out
    path = tmp_path / "changed_since.yaml"
    path.write_text(BASE.read_text())
    s = Session.open(path)
    s.set("actors.us.pressure.russia", 0.02)
    path.write_text(BASE.read_text().replace("rounds: 26", "rounds: 27"))
    assert "written anew: the comments of" in s.yaml()
    assert load_scenario(s.save("anew.yaml", tmp_path)) == s.scenario()


def test_formats_and_terms_carry_their_intervals_and_flags(session):
    """Formats with Wilson intervals like the outcome shares; each agreed term's median and
    5–95% range as ``negsim run`` has them, and the share of agreements on each red line and
    at the guarantors' cap, counted from the worlds themselves."""
    import numpy as np

    from negotiation_sim.results.summary import wilson_interval

    session.reset()
    shown = session.run()
    n = shown.summary["runs"]
    for _, v, lo, hi in shown.formats_with_intervals():
        assert (lo, hi) == wilson_interval(round(v * n), n) and lo <= v <= hi
    rows = {t.issue: t for t in shown.terms()}
    runs = shown.results.sample
    agreed = runs[runs["outcome"] == "agreement"]
    territory = rows["territory"]
    assert territory.agreements == len(agreed)
    t = shown.summary["terms"]["territory"]
    assert (territory.median, territory.p05, territory.p95) == (t["p50"], t["p05"], t["p95"])
    on_kyiv = float(np.mean(np.abs(agreed["terms.territory"] - 0.8) <= 1e-3))
    assert ("Ukraine's red line (territory <= 0.8)", on_kyiv) in territory.flags
    assert on_kyiv > 0
    # sanctions: every guarantor offers at most 0.5, and that cap binds
    on_cap = float(np.mean(np.abs(agreed["terms.sanctions"] - 0.5) <= 1e-3))
    assert rows["sanctions"].flags == [("the guarantors' cap", on_cap)] and on_cap > 0.5
    assert "issue,agreed median,p05,p95,agreements,sits on" in shown.csv()


def test_levers_have_short_labels(session):
    from negotiation_sim.explore.session import short_label

    labels = {lv.path: short_label(session.base, lv) for lv in session.levers}
    assert labels["actors.us.pressure.russia"] == "United States pressure on Russia"
    assert labels["actors.ukraine.red_lines.0"] == "Ukraine red line on territory"
    assert labels["durability.breach_cost.russia"] == "Russia cost of breaking"
    assert all(len(v) <= 45 for v in labels.values()), labels
    assert all(len(session.lever(p).label) >= len(v) for p, v in labels.items())


def test_the_explorer_speaks_the_scenarios_words():
    """A river treaty's explorer names its outcomes, meetings and no-deal state as its file
    does (``words:``): no 'war' or 'summit' in the shares, meetings, lever labels, story or
    CSV (whose rows keep the outcomes' codes, as summary.json does); the Russia-Ukraine
    baseline keeps the default words."""
    import re

    from negotiation_sim.config.levers import group_title
    from negotiation_sim.explore.session import short_label

    forbidden = re.compile(r"\bwar\b|summit", re.IGNORECASE)
    river = Session.open(ROOT / "docs" / "tutorial" / "river.yaml", runs=400, seed=1, world=0)
    shown = river.run()
    words = river.base.words
    assert [w for _, w, *_ in shown.shares()] == [words.outcome(o) for o in
                                                  ("agreement", "ceasefire", "breakdown",
                                                   "no_summit")]
    assert [w for _, w, *_ in shown.shares()][0] != "Agreement"
    text = "\n".join([*(w for _, w, *_ in shown.shares()), *(w for _, w, *_ in shown.meetings()),
                      *(short_label(river.base, lv) for lv in river.levers),
                      *(lv.label for lv in river.levers),
                      *(group_title(river.base, g) for g, _ in river.groups()),
                      *shown.story_lines(), shown.csv().replace("no_summit,", "")])
    assert not forbidden.search(text), forbidden.findall(text)
    baseline = Session.open(BASE, runs=200, seed=1, world=0).run()
    assert [w for _, w, *_ in baseline.shares()] == ["Agreement", "Ceasefire", "Breakdown",
                                                    "No summit"]
