"""A scenario's own words for its outcomes, its no-deal state and its meetings (``words:``).

The tutorial's river treaty names them (a treaty, talks, the dispute): its run table, trace
story, report and figures must say its words and never "war" or "summit"; a scenario without
``words:`` keeps today's words; a bad ``words:`` field is one located error line.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from tests.conftest import ROOT, SMALL, write_yaml

RIVER = ROOT / "docs" / "tutorial" / "river.yaml"
BASELINE = ROOT / "scenarios" / "summit_baseline.yaml"

# Words the river scenario must never print: the engine's words for a war.
FORBIDDEN = re.compile(r"\bwar\b|summit", re.IGNORECASE)
# Its own words, each of which its outputs must show somewhere.
RIVER_WORDS = ("Treaty", "Interim arrangement", "Talks failed", "No talks")


@pytest.fixture(autouse=True)
def _wide(monkeypatch):
    """Whole lines, as a reader piping the output to a file sees them (pytest-xdist's workers
    set COLUMNS=80, which would wrap the checked phrases)."""
    monkeypatch.setenv("COLUMNS", "250")


def _river_data(**extra) -> dict:
    data = yaml.safe_load(RIVER.read_text())
    data.update(extra)
    return data


def _forbidden(text: str) -> list[str]:
    """Each forbidden word in ``text`` with some context, for a readable failure."""
    return [text[max(m.start() - 40, 0):m.end() + 40] for m in FORBIDDEN.finditer(text)]


def _figure_text(fig) -> str:
    """Every text a figure shows (titles, labels, ticks, legends, annotations), drawn first so
    tick labels hold what they show."""
    from matplotlib.text import Text

    fig.canvas.draw()
    return "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_visible())


def _visible_html(page: str) -> str:
    """The report's text as a reader sees it, up to the provenance section (which quotes the
    command line and file paths as they are)."""
    body = page.split('<h2 id="provenance">')[0]
    body = re.sub(r"<style>.*?</style>", " ", body, flags=re.S)
    body = re.sub(r"<img[^>]*>", " ", body)
    return re.sub(r"<[^>]+>", " ", body)


@pytest.fixture(scope="module")
def river_run(tmp_path_factory) -> Path:
    """The river scenario, with signed texts followed (so the durability table and figure are
    drawn too), run into a results directory with its figures."""
    tmp = tmp_path_factory.mktemp("river")
    scenario = write_yaml(tmp / "river.yaml", _river_data(durability={"rounds": 6}))
    out = tmp / "run"
    res = CliRunner().invoke(app, ["run", str(scenario), "-n", "600", "--out", str(out),
                                   "--no-warn"])
    assert res.exit_code == 0, res.output
    return out


def test_the_river_run_table_speaks_its_words(river_run):
    res = CliRunner().invoke(app, ["run", str(river_run.parent / "river.yaml"), "-n", "600",
                                   "--no-warn"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert not _forbidden(res.output)
    for word in (*RIVER_WORDS, "Talks formats held", "value of dispute",
                 "preferred the dispute to the interim arrangement"):
        assert word in res.output


def test_the_river_summary_keeps_its_words_and_the_baseline_summary_has_none(river_run):
    summary = json.loads((river_run / "summary.json").read_text())
    assert summary["words"] == {
        "outcomes": {"agreement": "Treaty", "ceasefire": "Interim arrangement",
                     "breakdown": "Talks failed", "no_summit": "No talks"},
        "no_deal": "dispute", "meeting": "talks"}
    # the contract: outcome keys do not change with the words
    assert list(summary["outcomes"]) == ["agreement", "ceasefire", "breakdown", "no_summit"]
    res = CliRunner().invoke(app, ["run", str(BASELINE), "-n", "200", "--json", "--no-warn"])
    assert res.exit_code == 0, res.output
    assert "words" not in json.loads(res.output)


def test_the_river_trace_story_speaks_its_words():
    runner = CliRunner()
    outcomes, whys = set(), []
    for world in range(8):  # treaties, talks that failed at the deadline and by a walk-out
        text = runner.invoke(app, ["trace", str(RIVER), "--world", str(world)],
                             terminal_width=200)
        assert text.exit_code == 0, text.output
        assert not _forbidden(text.output), _forbidden(text.output)
        story = json.loads(runner.invoke(app, ["trace", str(RIVER), "--world", str(world),
                                               "--json"]).output)
        outcomes.add(story["outcome"]["outcome"])
        whys.append(story["why"])
        answers = [a for r in story["rounds"] for a in (r.get("answers") or {}).values()]
        assert not _forbidden(" ".join([story["why"], *answers]))
        assert story["words"]["no_deal"] == "dispute"
    assert {"agreement", "breakdown"} <= outcomes
    assert any("value of dispute" in w for w in whys)
    assert any("the interim arrangement package was refused" in w for w in whys)


def _drawn_text(makers) -> dict[str, str]:
    """Each figure of ``makers`` drawn, as its text; none says 'war' or 'summit'."""
    from negotiation_sim import plots

    out = {}
    for kind, make in makers.items():
        fig = make()
        try:
            out[kind] = _figure_text(fig)
        finally:
            plots.close(fig)
        assert not _forbidden(out[kind]), (kind, _forbidden(out[kind]))
    return out


def test_the_river_figures_speak_its_words(river_run):
    from negotiation_sim import plots
    from negotiation_sim.results.reader import load_results

    makers = plots.run_figures(load_results(river_run))
    assert {"outcomes", "terms", "utilities", "formats", "meetings", "durability"} <= set(makers)
    shown = "".join(_drawn_text(makers).values())
    for word in (*RIVER_WORDS, "Talks outcomes", "Talks format held", "no talks",
                 "Value of dispute at the end", "Interim arrangement package",
                 "Settlement or interim arrangement took effect"):
        assert word in shown


def test_a_stored_run_without_its_scenario_is_drawn_in_its_words(river_run):
    from negotiation_sim import plots
    from negotiation_sim.results.reader import RunResults

    # without its scenario, only summary.json can say the words
    results = RunResults(json.loads((river_run / "summary.json").read_text()), scenario=None,
                         runs_file=river_run / "runs.parquet", path=river_run)
    makers = plots.run_figures(results)
    for kind, word in (("outcomes", "Talks failed"), ("formats", "Talks format held"),
                       ("utilities", "Value of dispute"), ("meetings", "interim arrangement")):
        fig = makers[kind]()
        try:
            text = _figure_text(fig)
        finally:
            plots.close(fig)
        assert not _forbidden(text) and word in text, kind


def test_the_river_report_speaks_its_words(river_run, tmp_path):
    res = CliRunner().invoke(app, ["report", str(river_run), "--out",
                                   str(tmp_path / "report.html")])
    assert res.exit_code == 0, res.output
    seen = _visible_html((tmp_path / "report.html").read_text())
    assert not _forbidden(seen), _forbidden(seen)
    for word in (*RIVER_WORDS, "Talks formats held", "value of dispute",
                 "an interim arrangement package", "Settlement or interim arrangement"):
        assert word in seen


def test_a_trace_figure_of_a_stored_story_speaks_its_words():
    from negotiation_sim import api, plots

    sc = api.load_scenario(RIVER)
    story = api.trace(sc, world=0)
    for scenario in (sc, None):  # drawn beside its scenario, and from the story alone
        fig = plots.trace_figures(story, scenario)["trajectory"]()
        try:
            text = _figure_text(fig)
        finally:
            plots.close(fig)
        assert not _forbidden(text)
        assert story["outcome"]["outcome"] == "breakdown" and "Ended: Talks failed" in text


def test_a_river_sweep_and_comparison_speak_its_words(tmp_path):
    from negotiation_sim import plots
    from negotiation_sim.results.reader import load_results

    write_yaml(tmp_path / "river.yaml", _river_data())
    write_yaml(tmp_path / "exp.yaml", {
        "name": "river-pressure", "scenario": "river.yaml", "runs": 200, "seed": 1,
        "sweep": {"method": "grid",
                  "parameters": {"actors.mediator.pressure.upstream": [0.0, 0.01, 0.02]}}})
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(tmp_path / "exp.yaml"), "--out",
                              str(tmp_path / "sweep"), "--no-plots"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert not _forbidden(res.output) and "Talks failed" in res.output
    sweep = load_results(tmp_path / "sweep")
    for text in _drawn_text(plots.sweep_figures(sweep)).values():
        assert "Treaty" in text or "Talks failed" in text
    res = runner.invoke(app, ["report", str(tmp_path / "sweep")])
    assert res.exit_code == 0, res.output
    seen = _visible_html((tmp_path / "sweep" / "report.html").read_text())
    assert not _forbidden(seen) and "No talks" in seen
    res = runner.invoke(app, ["compare", str(tmp_path / "river.yaml"),
                              str(tmp_path / "river.yaml"), "--runs", "300", "--out",
                              str(tmp_path / "compare.png")], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert not _forbidden(res.output) and "Interim arrangement" in res.output


def test_default_words_are_todays():
    from negotiation_sim.config.words import DEFAULT, words_of
    from negotiation_sim.plots.style import OUTCOME_LABELS, meeting_labels
    from negotiation_sim.report.tables import REASON_WORDS

    from negotiation_sim.core.outcomes import OUTCOMES

    assert OUTCOME_LABELS == {"agreement": "Agreement", "ceasefire": "Ceasefire",
                              "breakdown": "Breakdown", "no_summit": "No summit"}
    assert tuple(OUTCOME_LABELS) == tuple(OUTCOMES)  # the words follow the codes' order
    assert (DEFAULT.no_deal, DEFAULT.meeting, DEFAULT.Meeting) == ("war", "summit", "Summit")
    assert meeting_labels()["settled"] == "Settlement or ceasefire took effect"
    assert REASON_WORDS["ceasefire_refused"] == ("talks failed and a principal preferred the "
                                                 "war to the ceasefire")
    assert REASON_WORDS["no_format"] == "no summit: no format every principal attends"
    assert DEFAULT.stored() is None and words_of({"runs": 1}) is DEFAULT
    # a scenario without words: keeps today's words and its hash
    from negotiation_sim import load_scenario

    sc = load_scenario(BASELINE)
    assert sc.words == DEFAULT and "words" not in sc.model_dump(exclude_unset=True)


def test_some_words_named_the_others_default():
    from negotiation_sim.config.scenario import Scenario
    from negotiation_sim.config.words import words_of

    data = copy.deepcopy(SMALL)
    data["words"] = {"outcomes": {"no_summit": "No meeting"}}
    w = words_of(Scenario.model_validate(data))
    assert w.labels() == {"agreement": "Agreement", "ceasefire": "Ceasefire",
                          "breakdown": "Breakdown", "no_summit": "No meeting"}
    assert (w.no_deal, w.meeting) == ("war", "summit")
    assert w.stored() == {"outcomes": {"no_summit": "No meeting"}}
    assert w.shown("no_summit") == "no meeting" and w.shown("agreement") == "agreement"


@pytest.mark.parametrize(("words", "field", "message"), [
    ({"outcome": {"agreement": "Deal"}}, "words.outcome", "unknown field"),
    ({"outcomes": {"deal": "Deal"}}, "words.outcomes.deal", "unknown field"),
    ({"outcomes": {"agreement": ""}}, "words.outcomes.agreement", "must not be empty"),
    ({"no_deal": "   "}, "words.no_deal", "must not be empty"),
    ({"meeting": 3}, "words.meeting", "valid string"),
    ({"meeting": ["talks"]}, "words.meeting", "valid string"),
    ({"no_deal": "the\ndispute"}, "words.no_deal", "one line"),
    ({"no_deal": "the\u2028dispute"}, "words.no_deal", "one line"),
    ({"meeting": "\u202etalks"}, "words.meeting", "formatting characters"),
    ({"no_deal": " dispute"}, "words.no_deal", "start or end with a space"),
    ({"meeting": "x" * 61}, "words.meeting", "at most 60"),
])
def test_a_bad_words_field_is_one_located_line(tmp_path, words, field, message):
    data = copy.deepcopy(SMALL)
    data["words"] = words
    path = write_yaml(tmp_path / "bad.yaml", data)
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if field in ln]
    assert len(lines) == 1, res.output
    line = lines[0]
    assert re.match(rf"^(error: )?{re.escape(str(path))}:\d+: {re.escape(field)}: ", line), line
    assert message in line.lower() or message in line
    assert "Traceback" not in res.output


def test_the_variance_table_sensitivity_figure_and_warnings_speak_its_words(tmp_path):
    import pandas as pd
    from rich.console import Console

    from negotiation_sim import api, plots
    from negotiation_sim.cli.run import variance_table
    from negotiation_sim.plots.sweep import sensitivity

    sc = api.load_scenario(RIVER)
    split = {"runs": 100, "inputs": ["a"], "shares": {
        "agreement": {"mean": 0.3, "variance": 0.2, "inputs": 0.5, "process": 0.5},
        "no_summit": None, "talks": None}}
    con = Console(width=200, record=True)
    con.print(variance_table(split, sc))
    printed = con.export_text()
    assert "treaty" in printed and "no talks" in printed and not _forbidden(printed)
    con = Console(width=200, record=True)
    con.print(variance_table(split))  # without words: the codes, as before
    assert "no_summit" in con.export_text()

    indices = pd.DataFrame({"parameter": ["actors.mediator.pressure.upstream"], "S1": [0.4],
                            "ST": [0.5], "S1_conf": [0.1], "ST_conf": [0.1]})
    fig = sensitivity(indices, metric="no_summit", scenario=sc)
    try:
        text = _figure_text(fig)
    finally:
        plots.close(fig)
    assert "the no talks share" in text and not _forbidden(text)

    data = _river_data()
    data["actors"]["mediator"]["pressure"]["downstream"] = 0.2  # 2.4 over twelve rounds
    res = CliRunner().invoke(app, ["validate", str(write_yaml(tmp_path / "r.yaml", data))],
                             terminal_width=200)
    assert "value of dispute over the 12 rounds" in res.output and not _forbidden(res.output)
