"""Figures: each plot function on a small real run, its axes, labels and bars, saving, closing."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from negotiation_sim.results.reader import RunResults, SweepResults

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from negotiation_sim import plots  # noqa: E402
from negotiation_sim.cli import app  # noqa: E402
from negotiation_sim.core.outcomes import OUTCOMES  # noqa: E402

DATA = Path(__file__).parent / "data"
SCENARIO = DATA / "figures_summit.yaml"
WORLDS = 2048


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    res = CliRunner().invoke(app, ["run", str(SCENARIO), "--runs", str(WORLDS), "--out", str(out),
                                   "--quiet"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def results(run_dir) -> RunResults:
    return RunResults.load(run_dir)


@pytest.fixture(autouse=True)
def no_figure_growth():
    """Every test must leave no figure open."""
    before = len(plt.get_fignums())
    yield
    assert len(plt.get_fignums()) == before


def _title(fig) -> str:
    texts = [fig._suptitle.get_text()] if fig._suptitle else []
    texts += [ax.get_title() for ax in fig.axes]
    return "\n".join(texts)


def _check_caption(fig) -> None:
    title = _title(fig)
    assert "figures-summit" in title
    assert f"{WORLDS:,} worlds" in title
    assert "seed 0" in title


def _saves(fig, tmp_path: Path) -> None:
    """The figure saves to PNG and SVG (and is closed after)."""
    fig.savefig(tmp_path / "f.svg")
    plots.save(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")


def test_run_writes_default_figures(run_dir):
    for kind in ("outcomes", "terms", "utilities", "formats", "meetings"):
        assert (run_dir / f"{kind}.png").stat().st_size > 1000


def test_results_find_their_scenario(results):
    assert results.scenario is not None and results.scenario.name == "figures-summit"
    assert results.issues == ["territory", "sovereignty", "guarantees"]
    assert results.principals == ["russia", "ukraine"]


def test_outcome_shares_bars(results, tmp_path):
    fig = plots.outcome_shares([results.summary, results.summary], labels=["a", "b"])
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * len(OUTCOMES)  # one segment per outcome and bar
    colours = {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}
    assert colours == set(plots.OUTCOME_COLOURS.values())
    assert "Share" in ax.get_ylabel() and ax.get_xlabel()
    # each bar's label, then (below it) the shares too thin to be written in their segment
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["a", "b"]
    assert f"{WORLDS:,} worlds" in ax.get_title()
    _saves(fig, tmp_path)


def test_outcome_shares_on_given_axes(results):
    fig, ax = plt.subplots()
    assert plots.outcome_shares(results.summary, ax=ax) is fig
    assert len(ax.patches) == len(OUTCOMES)
    plt.close(fig)


def test_terms_panels_and_marks(results, tmp_path):
    fig = plots.terms(results)
    axes = [ax for ax in fig.axes]
    assert len(axes) == 3
    sc = results.scenario
    for ax, issue in zip(axes, results.issues):
        assert ax.get_xlabel() == issue
        words = " ".join(t.get_text() for t in ax.texts)
        assert sc.issues[issue].low.split()[0] in words and sc.issues[issue].high.split()[0] in words
        assert ax.get_xlim()[0] < 0 < 1 < ax.get_xlim()[1]
        assert "% of worlds" in ax.get_ylabel()
    # Ukraine's red line on territory (<= 0.75) and the status quo (0.8) are drawn as lines.
    xs = {round(line.get_xdata()[0], 3) for line in axes[0].lines if len(line.get_xdata()) == 2}
    assert {0.75, 0.8} <= xs
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    for word in ("red line", "ideal", "Status quo", "Nash point", "Agreed terms"):
        assert word in legend
    _check_caption(fig)
    _saves(fig, tmp_path)


def test_terms_cap_labels_sit_on_their_own_line_and_an_uncertain_cap_is_a_range(tmp_path,
                                                                               small_data):
    """Two guarantors with caps close together (0.7, and 0.6 within 0.4-0.8): each name touches
    its own line, on the side away from the other; the uncertain offer's range is a band."""
    import copy

    from conftest import write_yaml

    data = copy.deepcopy(small_data)
    data["actors"]["france"] = {"role": "guarantor", "name": "France",
                                "offer": {"guarantees": 0.7}}
    data["actors"]["germany"]["name"] = "Germany"
    sc = write_yaml(tmp_path / "s.yaml", data)
    res = CliRunner().invoke(app, ["run", str(sc), "--runs", "512", "--out", str(tmp_path / "o"),
                                   "--quiet", "--no-plots"])
    assert res.exit_code == 0, res.output
    run = RunResults.load(tmp_path / "o")
    caps = {g: (mid, lo, hi) for g, mid, lo, hi in run.marks["guarantees"].caps}
    assert caps["france"] == (0.7, 0.7, 0.7)
    mid, lo, hi = caps["germany"]
    assert lo == pytest.approx(0.42, abs=0.02) and hi == pytest.approx(0.78, abs=0.02)
    fig = plots.terms(run, issues=["guarantees"])
    try:
        _check_cap_marks(fig, caps, lo, hi)
    finally:
        plt.close(fig)


def _check_cap_marks(fig, caps, lo, hi):
    import matplotlib.patches as mpatches

    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_text().startswith("cap:")]
    assert sorted(t.get_text() for t in labels) == ["cap: France", "cap: Germany"]
    fig.canvas.draw()
    render = fig.canvas.get_renderer()
    for t in labels:
        x = t.xy[0]
        # The label's text touches its line: its nearer edge is within 3 points (4 px) of it.
        box = t.get_window_extent(render)
        line_px = ax.transData.transform((x, 0))[0]
        assert min(abs(box.x1 - line_px), abs(box.x0 - line_px)) < 6
        # ... and it lies nearer its own line than any other cap's.
        others = [c[0] for g, c in caps.items() if c[0] != x]
        centre = ax.transData.inverted().transform(((box.x0 + box.x1) / 2, 0))[0]
        assert all(abs(centre - x) < abs(centre - o) for o in others)
    bands = [p for p in ax.patches if isinstance(p, mpatches.Polygon | mpatches.Rectangle)
             and p.get_hatch()]
    assert len(bands) == 1
    band = bands[0]
    xs = (band.get_xy()[:, 0] if isinstance(band, mpatches.Polygon)
          else [band.get_x(), band.get_x() + band.get_width()])
    assert min(xs) == pytest.approx(lo) and max(xs) == pytest.approx(hi)


def test_terms_cap_labels_sit_above_the_bars_and_the_legend_keys_the_hatch_only_when_drawn(
        results, tmp_path, small_data):
    """Cap names are written in the band above the tallest bar (never over a bar); the legend
    has a hatched key exactly when some offer is uncertain (a band is hatched)."""
    import copy

    from matplotlib.patches import Patch

    from conftest import write_yaml

    fig = plots.terms(results)
    try:
        fig.canvas.draw()
        for ax in fig.axes:
            tallest = max((p.get_path().vertices[:, 1].max() for p in ax.patches
                           if not p.get_hatch() and p.get_path().vertices.size), default=0)
            top_px = ax.transData.transform((0, tallest))[1]
            for t in ax.texts:
                if t.get_text().startswith("cap:"):
                    assert t.get_window_extent().y0 > top_px, (t.get_text(), ax.get_xlabel())
        legend = fig.legends[0]
        assert not any(isinstance(h, Patch) and h.get_hatch() for h in legend.legend_handles)
        assert "Guarantor cap" in [t.get_text() for t in legend.get_texts()]
    finally:
        plt.close(fig)
    data = copy.deepcopy(small_data)  # Germany's offer is uniform on 0.4-0.8
    sc = write_yaml(tmp_path / "s.yaml", data)
    res = CliRunner().invoke(app, ["run", str(sc), "--runs", "300", "--out", str(tmp_path / "o"),
                                   "--quiet", "--no-plots"])
    assert res.exit_code == 0, res.output
    fig = plots.terms(RunResults.load(tmp_path / "o"), issues=["guarantees"])
    try:
        legend = fig.legends[0]
        keyed = [t.get_text() for h, t in zip(legend.legend_handles, legend.get_texts())
                 if isinstance(h, Patch) and h.get_hatch()]
        assert keyed == ["Uncertain cap: 5-95% of offers"]
    finally:
        plt.close(fig)


def test_terms_when_nothing_is_agreed_has_distinct_tick_labels(results):
    """No agreement and no ceasefire: the count axis is 0-100% with distinct labels, not a
    sliver around zero labelled "0%, 0%, 0%"; small shares keep their decimals."""
    from negotiation_sim.plots.style import headroom

    runs = results.runs.copy()
    runs["outcome"] = "breakdown"
    bare = RunResults(results.summary, scenario=results.scenario, marks=results.marks, runs=runs)
    fig = plots.terms(bare, issues=["territory"])
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(set(labels)) == len(labels) >= 2, labels
        assert ax.get_ylim() == (0, 100)
        assert "no world reached agreement" in ax.get_title(loc="left")
    finally:
        plt.close(fig)
    fig, ax = plt.subplots()
    try:
        ax.bar([0.1, 0.2], [0.3, 0.1])
        headroom(ax, 2.0)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(set(labels)) == len(labels) >= 2 and labels[0] != labels[1], labels
    finally:
        plt.close(fig)


def test_terms_without_scenario_draws_histograms_only(results):
    bare = RunResults(results.summary, runs=results.runs)
    fig = plots.terms(bare, issues=["territory"])
    assert len(fig.axes) == 1 and fig.axes[0].patches
    assert not fig.axes[0].lines  # no marks without them
    plots.close(fig)


def test_utilities_rows_per_actor(results, tmp_path):
    fig = plots.utilities(results)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ukraine", "Russia"]
    assert "Utility" in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Value of war at the end (median)" in legend and "Agreement" in legend
    _check_caption(fig)
    _saves(fig, tmp_path)


def test_utilities_marks_the_value_of_war_after_pressure(results):
    """The median line of a principal's band is its value of war at the end (war.<actor>, after
    pressure and events), not the drawn reservation (before them)."""
    fig = plots.utilities(results)
    try:
        ax = fig.axes[0]
        medians = {round(line.get_xdata()[0], 9) for line in ax.lines
                   if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]}
    finally:
        plt.close(fig)
    runs = results.sample
    for actor in results.principals:
        after = float(np.quantile(runs[f"war.{actor}"].dropna(), 0.5))
        assert round(after, 9) in medians
        before = runs.get(f"input.actors.{actor}.reservation")
        if before is not None and abs(float(np.quantile(before, 0.5)) - after) > 1e-6:
            assert round(float(np.quantile(before, 0.5)), 9) not in medians


def test_formats_bars_add_to_all_worlds(results, tmp_path):
    fig = plots.formats(results)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["trilateral", "bilateral", "no summit"]
    heights = np.zeros(3)
    for patch in ax.patches:
        heights[round(patch.get_x() + patch.get_width() / 2)] += patch.get_height()
    assert heights.sum() == pytest.approx(100.0)
    _check_caption(fig)
    _saves(fig, tmp_path)


def test_plot_command_default_set_and_formats(run_dir, tmp_path):
    res = CliRunner().invoke(app, ["plot", str(run_dir), "--out", str(tmp_path), "--format", "svg"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "formats.svg", "meetings.svg", "outcomes.svg", "terms.svg", "utilities.svg"]
    res = CliRunner().invoke(app, ["plot", str(run_dir), "--out", str(tmp_path / "k"),
                                   "--kind", "terms", "--format", "pdf"])
    assert res.exit_code == 0, res.output
    assert [p.name for p in (tmp_path / "k").iterdir()] == ["terms.pdf"]


def test_plot_command_bad_input(run_dir, tmp_path):
    res = CliRunner().invoke(app, ["plot", str(run_dir), "--kind", "nope"])
    assert res.exit_code == 2 and "available" in res.output
    res = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert res.exit_code == 1 and "not a results directory" in res.output


# -- sweeps -----------------------------------------------------------------------------------


GRID = """
name: figures-grid
scenario: {scenario}
runs: 1024
seed: 3
sweep:
  method: grid
  parameters:
    actors.europe.offer.guarantees: [0.2, 0.6, 1.0]
    actors.us.pressure.russia: [0.0, 0.05]
    actors.ukraine.red_lines.0: ["territory <= 0.8", "territory <= 0.9"]
"""


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    from negotiation_sim.config.experiment import load_experiment
    from negotiation_sim.run.sweep import run_sweep
    from negotiation_sim.run.executors.serial import SerialExecutor

    root = tmp_path_factory.mktemp("sweep")
    exp = root / "grid.yaml"
    exp.write_text(GRID.format(scenario=SCENARIO.resolve()))
    out = root / "out"
    run_sweep(load_experiment(exp), out, SerialExecutor())
    return out


@pytest.fixture(scope="module")
def sweep(sweep_dir) -> SweepResults:
    return SweepResults.load(sweep_dir)


def test_sweep_results_read_back(sweep):
    assert sweep.params == ["actors.europe.offer.guarantees", "actors.us.pressure.russia",
                            "actors.ukraine.red_lines.0"]
    assert len(sweep.summary) == 12
    assert sweep.label("actors.us.pressure.russia") == (
        "United States' pressure on Russia (fall in reservation per round)")


def test_sweep_outcomes_one_bar_per_point(sweep, tmp_path):
    fig = plots.sweep_outcomes(sweep)
    assert len(fig.axes[0].patches) == 12 * len(OUTCOMES)
    assert "1,024 worlds" in fig.axes[0].get_title()
    _saves(fig, tmp_path)


def test_sweep_outcomes_of_many_values_name_points_by_index_sorted_by_a_lever(sweep):
    """Three parameters (12 points): bars are the points' indices sorted by the first numeric
    parameter, not rotated tuples of every value; the values stay in the sweep's table."""
    fig = plots.sweep_outcomes(sweep)
    ticks = [t.get_text().split("\n")[0] for t in fig.axes[0].get_xticklabels()]
    assert all(t.startswith("#") for t in ticks) and len(ticks) == 12
    first = sweep.summary.set_index("point")["actors.europe.offer.guarantees"]
    values = [first[int(t[1:])] for t in ticks]
    assert values == sorted(values)
    assert "sorted by" in fig.axes[0].get_xlabel()
    plt.close(fig)


def test_outcome_shares_name_the_thin_segments_under_their_bar():
    """A share too thin to carry its label inside its segment (0.9% ceasefire) is named under
    the bar, so no outcome is left unlabelled."""
    summary = {"scenario": "s", "runs": 1000, "seed": 0, "outcomes": {
        "agreement": {"share": 0.62, "ci95": [0.59, 0.65]},
        "ceasefire": {"share": 0.009, "ci95": [0.005, 0.017]},
        "breakdown": {"share": 0.371, "ci95": [0.34, 0.40]},
        "no_summit": {"share": 0.0, "ci95": [0.0, 0.004]}}}
    fig = plots.outcome_shares(summary)
    tick = fig.axes[0].get_xticklabels()[0].get_text()
    assert "ceasefire 0.9%" in tick and "no summit" not in tick
    plt.close(fig)


def test_plot_param_chooses_the_sweep_lines_axis_and_a_trace_keeps_files(sweep_dir, tmp_path):
    res = CliRunner().invoke(app, ["plot", str(sweep_dir), "--out", str(tmp_path / "a"),
                                   "--kind", "sweep-line", "--param",
                                   "actors.us.pressure.russia"])
    assert res.exit_code == 0, res.output
    bad = CliRunner().invoke(app, ["plot", str(sweep_dir), "--param", "actors.nobody.x"])
    assert bad.exit_code == 2 and "is not a numeric parameter this sweep varies" in bad.output
    trace = tmp_path / "t.json"
    trace.write_text(CliRunner().invoke(app, ["trace", str(SCENARIO), "--json"]).stdout)
    assert CliRunner().invoke(app, ["plot", str(trace), "-q"]).exit_code == 0
    before = (tmp_path / "trajectory.png").read_bytes()
    again = CliRunner().invoke(app, ["plot", str(trace), "-q"])
    assert again.exit_code == 1 and "exists: pass --overwrite" in again.output
    assert (tmp_path / "trajectory.png").read_bytes() == before
    assert CliRunner().invoke(app, ["plot", str(trace), "-q", "--overwrite"]).exit_code == 0


def test_sweep_line_one_line_per_outcome_with_bands(sweep, tmp_path):
    fig = plots.sweep_line(sweep, "actors.europe.offer.guarantees")
    ax = fig.axes[0]
    lines = [line for line in ax.lines if line.get_label() in plots.OUTCOME_LABELS.values()]
    assert len(lines) == 4
    assert all(len(line.get_xdata()) == 3 for line in lines)  # pooled over the others
    assert len(ax.collections) == 4  # one interval band per outcome
    assert "offer on guarantees" in ax.get_xlabel() and "Share" in ax.get_ylabel()
    assert "pooled over" in ax.get_title() and "seed 3" in ax.get_title()
    colours = {matplotlib.colors.to_hex(line.get_color()) for line in lines}
    assert colours == set(plots.OUTCOME_COLOURS.values())
    _saves(fig, tmp_path)


def test_sweep_line_where_fixes_other_parameters(sweep):
    fig = plots.sweep_line(sweep, "actors.us.pressure.russia", outcomes=["agreement"],
                           where={"actors.europe.offer.guarantees": 0.6,
                                  "actors.ukraine.red_lines.0": "territory <= 0.8"})
    line = fig.axes[0].lines[0]
    assert list(line.get_xdata()) == [0.0, 0.05]
    plots.close(fig)


def test_sweep_heatmap_small_multiples(sweep, tmp_path):
    fig = plots.sweep_heatmap(sweep, "actors.europe.offer.guarantees", "actors.us.pressure.russia")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2  # one per value of Ukraine's red line
    assert panels[0].images[0].get_array().shape == (2, 3)
    assert all("red line" in ax.get_title() for ax in panels)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in panels)
    colourbar = [ax for ax in fig.axes if not ax.images and ax.get_visible()]
    assert "Agreement share" in colourbar[0].get_ylabel()
    _saves(fig, tmp_path)


def test_sensitivity_bars_with_intervals(tmp_path):
    salib = {"names": ["actors.us.pressure.russia", "actors.europe.offer.guarantees"],
             "S1": [0.1, 0.6], "S1_conf": [0.05, 0.1], "ST": [0.2, 0.7], "ST_conf": [0.05, 0.1]}
    fig = plots.sensitivity(salib)
    ax = fig.axes[0]
    assert len(ax.patches) == 4  # S1 and ST per parameter
    assert "Sobol" in ax.get_xlabel()
    assert ax.get_yticklabels()[-1].get_text().startswith("europe")  # largest ST on top
    _saves(fig, tmp_path)
    morris = [{"parameter": "actors.russia.walkout", "mu_star": 0.3, "mu_star_conf": 0.1,
               "sigma": 0.2}]
    fig = plots.sensitivity(morris)
    assert "Morris" in fig.axes[0].get_xlabel()
    plots.close(fig)


def test_plot_command_on_a_sweep(sweep_dir, tmp_path):
    res = CliRunner().invoke(app, ["plot", str(sweep_dir), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "heatmap.png", "outcomes.png", "sweep-line.png"]


# -- trajectory -------------------------------------------------------------------------------


def trace_of(scenario, seed: int) -> dict:
    """A trace in the shape ``plots.trajectory`` documents, from a one-world model's history."""
    from negotiation_sim.core.model import SummitModel

    m = SummitModel(scenario, 1, seed=seed, trace=True)
    m.run()
    principals = scenario.principals
    rounds = []
    for h in m.history:
        if h["stage"] != "round" or 0 not in list(h["world"]):
            continue
        i = list(h["world"]).index(0)
        rounds.append({
            "round": h["round"],
            "text": {k: float(h["text"][j, i]) for j, k in enumerate(scenario.issue_ids)},
            "accept": {p: bool(h["accept"][j, i]) for j, p in enumerate(principals)},
            "claim": {p: float(h["claim"][j, i]) for j, p in enumerate(principals)},
            "value": {p: float(h["value"][j, i]) for j, p in enumerate(principals)},
            "walked": bool(h["walked"][i])})
    fmt = int(m.held_format[0])
    return {
        "scenario": scenario.name, "seed": seed, "world": 0, "protocol": scenario.protocol.kind,
        "issues": {k: {"low": v.label("low"), "high": v.label("high"),
                       "status_quo": float(v.status_quo)} for k, v in scenario.issues.items()},
        "actors": {a: {"name": s.display(a), "role": s.role,
                       "position": {k: float(x) for k, x in s.position.items()}}
                   for a, s in scenario.actors.items()},
        "format": None if fmt < 0 else m.formats[fmt][0],
        "outcome": OUTCOMES[int(m.outcome[0])], "end_round": int(m.end_round[0]),
        "rounds": rounds}


@pytest.fixture(scope="module")
def long_trace(results) -> dict:
    for seed in range(200):
        trace = trace_of(results.scenario, seed)
        if len(trace["rounds"]) >= 3:
            return trace
    pytest.fail("no world of the test scenario negotiates for three rounds in 200 seeds: the "
                "trajectory tests need one (the scenario or the model changed)")


def test_trajectory_panels_marks_and_outcome(long_trace, tmp_path):
    fig = plots.trajectory(long_trace)
    axes = fig.axes
    assert len(axes) == 3 + 1  # one per issue, then the value panel
    n = len(long_trace["rounds"])
    text_line = axes[0].lines[2]  # after the two principals' positions
    assert len(text_line.get_xdata()) == n
    marks = sum(len(line.get_xdata()) for line in axes[0].lines if line.get_marker() in "ox")
    assert marks == 2 * n  # every principal answers every round: accept or reject
    assert axes[-1].get_xlabel() == "Round" and axes[-1].get_ylabel() == "utility"
    assert [ax.get_ylabel() for ax in axes[:3]] == ["territory", "sovereignty", "guarantees"]
    assert any("Ukraine's 1991 borders" in t.get_text() for t in axes[0].texts)
    title = fig._suptitle.get_text()
    assert plots.OUTCOME_LABELS[long_trace["outcome"]] in title and "seed" in title
    _saves(fig, tmp_path)


def test_trajectory_draws_a_traced_calendar_of_sessions(long_trace, results, tmp_path):
    """A trace with ``calendar`` records (built by hand here, in the trace's shape) gets a
    sessions panel: the format held each round by level, and the formats refused."""
    def tried(fmt, level, attend):
        return {"format": fmt, "level": level, "attend": attend, "cost": {}}

    both = {"russia": True, "ukraine": True}
    calendar = [
        {"round": 1, "held": None, "tried": [
            tried("trilateral", "leaders", {"russia": False, "ukraine": True}),
            tried("bilateral", "delegation", {"russia": True, "ukraine": False})]},
        {"round": 2, "held": "bilateral", "tried": [
            tried("trilateral", "leaders", {"russia": False, "ukraine": True}),
            tried("bilateral", "delegation", both)]},
        {"round": 3, "held": "trilateral", "tried": [tried("trilateral", "leaders", both)]}]
    fig = plots.trajectory({**long_trace, "calendar": calendar}, scenario=results.scenario)
    strip = fig.axes[-1]
    assert len(fig.axes) == 3 + 1 + 1 and strip.get_xlabel() == "Round"
    assert [t.get_text() for t in strip.get_yticklabels()] == ["trilateral", "bilateral"]
    held = [(line.get_xdata()[0], line.get_ydata()[0], line.get_markerfacecolor())
            for line in strip.lines if line.get_marker() == "s"]
    assert [(x, y) for x, y, _ in held] == [(2, 1), (3, 0)]  # bilateral, then trilateral
    assert held[0][2] == "white" and held[1][2] != "white"  # delegation open, leaders filled
    refused = sorted((line.get_xdata()[0], line.get_ydata()[0]) for line in strip.lines
                     if line.get_marker() == "x")
    assert refused == [(1, 0), (1, 1), (2, 0)]
    assert strip.get_xlim() == fig.axes[0].get_xlim()
    _saves(fig, tmp_path)


def test_trajectory_of_a_world_without_summit(results):
    trace = {**trace_of(results.scenario, 0), "rounds": [], "outcome": "no_summit",
             "end_round": 0}
    fig = plots.trajectory(trace)
    assert "No summit" in fig._suptitle.get_text()
    plots.close(fig)


def test_plot_command_on_a_trace_file(long_trace, tmp_path):
    import json

    path = tmp_path / "trace.json"
    path.write_text(json.dumps(long_trace))
    res = CliRunner().invoke(app, ["plot", str(path), "--format", "svg"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "trajectory.svg").exists()


def test_a_failing_plot_leaves_no_figure_open(sweep):
    with pytest.raises((ValueError, TypeError)):
        plots.sweep_line(sweep, "actors.ukraine.red_lines.0")  # not a number: fails mid-figure


def test_report_of_a_sweep(sweep_dir, tmp_path):
    from negotiation_sim import report

    text = report.build_report(sweep_dir)
    assert text.count("data:image/png;base64,") == len(plots.sweep_figures(
        SweepResults.load(sweep_dir)))
    assert "figures-grid" in text and "experiment_hash" in text
    every = text[text.index("<details><summary>All 12 points"):]
    every = every[:every.index("</details>")]
    assert every.count("<tr><td class='num'>") == 12  # one row per point, collapsed


def test_plot_reads_negsim_trace_output(results, tmp_path):
    """``negsim trace --json`` nests the outcome and leaves out the issues' words: the
    scenario given with --scenario supplies them."""
    import json

    from negotiation_sim.run import trace as cli_trace

    story = next(s for s in (cli_trace.trace_world(results.scenario, seed=0, world=w)
                             for w in range(64)) if len(s["rounds"]) >= 2)
    path = tmp_path / "story.json"
    path.write_text(json.dumps(story))
    res = CliRunner().invoke(app, ["plot", str(path), "--scenario", str(SCENARIO)])
    assert res.exit_code == 0, res.output
    fig = plots.trajectory(story, scenario=results.scenario)
    assert [ax.get_ylabel() for ax in fig.axes[:3]] == ["territory", "sovereignty", "guarantees"]
    assert plots.OUTCOME_LABELS[story["outcome"]["outcome"]] in fig._suptitle.get_text()
    plots.close(fig)


def test_figures_read_a_bounded_systematic_sample_of_a_large_run(tmp_path):
    """A run of millions is drawn from every k-th world, in bounded memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from negotiation_sim.results.reader import read_runs_sample

    n = 10_000
    table = pa.table({"world": pa.array(range(n)), "outcome": pa.array(["agreement"] * n),
                      "terms.a": pa.array([i / n for i in range(n)]),
                      "input.actors.x.claim": pa.array([0.0] * n)})
    path = tmp_path / "runs.parquet"
    pq.write_table(table, path, row_group_size=3_333)
    full = read_runs_sample(path, max_rows=n)
    assert len(full) == n and "input.actors.x.claim" not in full  # only the columns figures use
    sample = read_runs_sample(path, max_rows=1_000)
    assert sample["world"].tolist() == list(range(0, n, 10))


def test_a_figure_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """An interrupt or a full disk while a figure is drawn leaves no half image and no
    temporary file; a good save replaces the old file."""
    import matplotlib.figure

    from negotiation_sim.plots.style import save

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    target = tmp_path / "terms.png"
    save(fig, target)
    good = target.read_bytes()
    assert good.startswith(b"\x89PNG") and sorted(p.name for p in tmp_path.iterdir()) == \
        ["terms.png"]
    real = matplotlib.figure.Figure.savefig

    for error in (KeyboardInterrupt(), OSError(28, "No space left on device")):
        def half(self, fname, *args, **kwargs):
            with open(fname, "wb") as fh:
                fh.write(b"\x89PNG half")
            raise error

        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half)
        fig, _ = plt.subplots()
        with pytest.raises(type(error)):
            save(fig, target)
        assert target.read_bytes() == good
        assert sorted(p.name for p in tmp_path.iterdir()) == ["terms.png"]
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", real)
    fig, _ = plt.subplots()
    save(fig, tmp_path / "x.svg")
    assert (tmp_path / "x.svg").read_text().lstrip().startswith("<?xml")


def _calendar_summary(start=None):
    """A summary whose meetings are chosen (the model's calendar is not what is drawn here):
    1,000 worlds over 5 rounds of 10 days."""
    import datetime

    from negotiation_sim.core.outcomes import ChunkResult
    from negotiation_sim.results.summary import Accumulator

    acc = Accumulator(issues=["x"], formats=["f"], actors=["a"], max_round=5, round_days=10.0,
                      start=None if start is None else datetime.date.fromisoformat(start))
    n = 1000
    talks = np.repeat([1, 2, 3, -1], [300, 200, 100, 400]).astype(np.int16)
    leaders = np.where(np.arange(n) < 250, 4, -1).astype(np.int16)
    settled = np.where(np.arange(n) < 100, 5, -1).astype(np.int16)
    acc.add(ChunkResult(0, outcome=np.full(n, 3, np.int8), held_format=np.full(n, -1, np.int8),
                        end_round=np.zeros(n, np.int16), terms=np.full((1, n), np.nan),
                        utility=np.full((1, n), 0.3), talks_round=talks,
                        leaders_round=leaders, settled_round=settled,
                        sessions=np.full(n, 3, np.int16)))
    return acc.summary("calendar", 0)


def test_meetings_figure_draws_the_cumulative_shares_by_round(tmp_path):
    fig = plots.meetings(_calendar_summary())
    ax = fig.axes[0]
    lines = {line.get_label().split(":")[0]: line for line in ax.get_lines()}
    assert set(lines) == set(plots.MEETING_LABELS.values())
    talks = lines[plots.MEETING_LABELS["talks"]]
    # 0 at the start, then 30%, 50%, 60% by the end of rounds 1-3, held to the horizon
    assert talks.get_ydata().tolist() == pytest.approx([0, 30, 50, 60, 60, 60, 60])
    assert talks.get_xdata().tolist() == [0, 1, 2, 3, 4, 5, 5.5]
    assert lines[plots.MEETING_LABELS["leaders"]].get_ydata()[4] == pytest.approx(25)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith(plots.MEETING_LABELS["talks"]) and "60.0%" in t for t in legend)
    assert "Round" in ax.get_xlabel() and "10 days" in ax.get_xlabel()
    assert "Share" in ax.get_ylabel() and ax.get_ylim() == (0, 100)
    assert ax.yaxis.get_major_formatter()(50, 0) == "50%"
    assert "3.00 sessions per world" in ax.get_title() and "1,000 worlds" in ax.get_title()
    assert len(ax.collections) == 3  # one 95% band per curve
    _saves(fig, tmp_path)


def test_meetings_figure_has_dates_when_the_scenario_starts_on_one():
    import datetime

    fig = plots.meetings(_calendar_summary(start="2025-05-16"))
    ax = fig.axes[0]
    assert "Date" in ax.get_xlabel() and "2025-05-16" in ax.get_xlabel()
    x = ax.get_lines()[0].get_xdata()
    assert x[0] == datetime.date(2025, 5, 16) and x[1] == datetime.date(2025, 5, 26)
    plt.close(fig)


def test_meetings_figure_is_drawn_by_a_run_and_left_out_for_older_results(results, run_dir):
    assert (run_dir / "meetings.png").stat().st_size > 1000
    assert "meetings" in plots.run_figures(results)
    older = RunResults({k: v for k, v in results.summary.items() if k != "meetings"})
    assert "meetings" not in plots.run_figures(older)
    with pytest.raises(ValueError, match="no meetings"):
        plots.meetings(older)
