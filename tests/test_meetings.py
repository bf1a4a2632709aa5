"""The meetings over the calendar, as every output reports them: summary.json, the run table,
the meetings figure, the HTML report and a sweep's summary rows. The calendar outputs are
chosen (``meeting_helpers``), so these tests check the reporting, not the model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from meeting_helpers import choose_calendar
from typer.testing import CliRunner

from negotiation_sim import plots
from negotiation_sim.cli import app
from negotiation_sim.report.html import sweep_table_html
from negotiation_sim.results.reader import SweepResults
from negotiation_sim.results.summary import wilson_interval

DATA = Path(__file__).parent / "data"
WORLDS = 1000  # a multiple of 8: the chosen shares are exact


@pytest.fixture
def dated(tmp_path) -> Path:
    """figures_summit.yaml with round 1 opening on 16 May 2025 (rounds of 14 days)."""
    text = (DATA / "figures_summit.yaml").read_text()
    path = tmp_path / "dated.yaml"
    path.write_text(text.replace("  rounds: 8", "  rounds: 8\n  start: 2025-05-16"))
    return path


def test_a_run_reports_its_meetings_in_summary_table_figure_and_report(dated, tmp_path,
                                                                        monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # output as piped: whole cells
    choose_calendar(monkeypatch)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(dated), "--runs", str(WORLDS), "--out", str(out),
                                   "--no-solutions"])
    assert res.exit_code == 0, res.output
    m = json.loads((out / "summary.json").read_text())["meetings"]
    assert m["talks"] == {"share": 0.75, "ci95": list(wilson_interval(750, WORLDS)),
                          "worlds": 750, "median_round": 2, "median_day": 28.0,
                          "median_date": "2025-06-13"}
    assert (m["leaders"]["share"], m["leaders"]["median_round"]) == (0.25, 2)
    assert (m["settled"]["share"], m["settled"]["median_round"]) == (0.125, 3)
    assert m["by_round"]["talks"] == [0.25, 0.5, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75]
    assert m["by_round"]["settled"][1:3] == [0.0, 0.125]
    assert m["sessions"]["mean"] == 1.5 and m["start"] == "2025-05-16"
    # the sessions by format come from the model's own per-round log (the calendar outputs
    # chosen here are not in it): one entry per format of the scenario
    assert set(m["sessions"]["by_format"]) == {"bilateral", "trilateral"}
    # the table: each meeting's share, interval and when half had met
    table = res.stdout[res.stdout.index("Meetings over the calendar"):]
    lo, hi = wilson_interval(750, WORLDS)
    assert f"75.0% │ {lo:.1%} – {hi:.1%} │ round 2, day 28 (2025-06-13)" in table
    assert "12.5%" in table and "round 3, day 42 (2025-06-27)" in table
    assert "1.50 sessions per world" in table
    assert (out / "meetings.png").stat().st_size > 1000
    res = CliRunner().invoke(app, ["report", str(out), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text()
    meetings = html[html.index("<table id='meetings'>"):]
    meetings = meetings[:meetings.index("</table>")]
    assert meetings.count("<tr data-meeting=") == 3
    assert "75.0%" in meetings and "round 2, day 28 (2025-06-13)" in meetings
    assert f"{lo:.1%} – {hi:.1%}" in meetings
    assert "1.50 sessions per world" in html and 'id="figure-meetings"' in html
    # the scenario in words: each format's level, the calendar's length and start
    assert "<b>trilateral</b> (leaders level)" in html
    assert "8 rounds of 14 days, round 1 opening on 2025-05-16" in html


def test_a_sweep_row_carries_the_talks_and_leaders_shares(tmp_path, monkeypatch):
    choose_calendar(monkeypatch)
    (tmp_path / "s.yaml").write_text((DATA / "figures_summit.yaml").read_text())
    (tmp_path / "e.yaml").write_text(
        "name: meet\nscenario: s.yaml\nruns: 400\nseed: 1\nsweep:\n  method: grid\n"
        "  parameters: {actors.us.pressure.russia: [0.0, 0.05], "
        "actors.us.pressure.ukraine: [0.0, 0.01]}\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["sweep", str(tmp_path / "e.yaml"), "--out", str(out),
                                   "--no-plots", "--quiet"])
    assert res.exit_code == 0, res.output
    rows = pd.read_parquet(out / "summary.parquet")
    # read back from the part files (runs/), as a resumed sweep reads them
    assert rows["talks"].tolist() == [0.75] * 4 and rows["leaders"].tolist() == [0.25] * 4
    assert rows["talks.lo"].tolist() == [wilson_interval(300, 400)[0]] * 4
    assert rows["sessions"].tolist() == [1.5] * 4
    sweep = SweepResults.load(out)
    assert sweep.params == ["actors.us.pressure.russia", "actors.us.pressure.ukraine"]
    table = sweep_table_html(sweep)
    assert "Talks (a session of every principal)" in table and "75.0%" in table
    # the sweep's figures take a meeting where they take an outcome
    fig = plots.sweep_line(sweep, "actors.us.pressure.russia", outcomes=["talks", "leaders"])
    lines = [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in lines] == [plots.MEETING_LABELS["talks"],
                                                   plots.MEETING_LABELS["leaders"]]
    assert lines[0].get_ydata().tolist() == [75.0, 75.0]  # pooled over Ukraine's pressure
    plots.close(fig)
    fig = plots.sweep_heatmap(sweep, outcome="leaders")
    assert fig.axes[0].get_images()[0].get_array().tolist() == [[25.0, 25.0], [25.0, 25.0]]
    plots.close(fig)
