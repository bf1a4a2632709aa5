"""Figures: each plot function on a small real run, its axes, labels and bars, saving, closing."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from negotiation_sim import plots  # noqa: E402
from negotiation_sim.cli import app  # noqa: E402
from negotiation_sim.model import OUTCOMES  # noqa: E402

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
def results(run_dir) -> plots.RunResults:
    return plots.RunResults.load(run_dir)


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
    for kind in ("outcomes", "terms", "utilities", "formats"):
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
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
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
    # Ukraine's red line on territory (<= 0.85) and the status quo (0.8) are drawn as lines.
    xs = {round(line.get_xdata()[0], 3) for line in axes[0].lines if len(line.get_xdata()) == 2}
    assert {0.85, 0.8} <= xs
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    for word in ("red line", "ideal", "Status quo", "Nash point", "Agreed terms"):
        assert word in legend
    _check_caption(fig)
    _saves(fig, tmp_path)


def test_terms_without_scenario_draws_histograms_only(results):
    bare = plots.RunResults(results.runs, results.summary, {}, None)
    fig = plots.terms(bare, issues=["territory"])
    assert len(fig.axes) == 1 and fig.axes[0].patches
    plots.close(fig)


def test_scenario_marks_nash_point_inside_red_lines(results):
    marks = plots.scenario_marks(results.scenario)
    assert marks["territory"].nash <= 0.85 + 1e-9
    assert marks["guarantees"].nash <= 0.6 + 1e-9  # the guarantor's cap
    assert marks["territory"].status_quo == pytest.approx(0.8)
    assert marks["territory"].ideal["russia"][1] == pytest.approx(1.0)


def test_utilities_rows_per_actor(results, tmp_path):
    fig = plots.utilities(results)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ukraine", "Russia"]
    assert "Utility" in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Reservation (median)" in legend and "Agreement" in legend
    _check_caption(fig)
    _saves(fig, tmp_path)


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
        "formats.svg", "outcomes.svg", "terms.svg", "utilities.svg"]
    res = CliRunner().invoke(app, ["plot", str(run_dir), "--out", str(tmp_path / "k"),
                                   "--kind", "terms", "--format", "pdf"])
    assert res.exit_code == 0, res.output
    assert [p.name for p in (tmp_path / "k").iterdir()] == ["terms.pdf"]


def test_plot_command_bad_input(run_dir, tmp_path):
    res = CliRunner().invoke(app, ["plot", str(run_dir), "--kind", "nope"])
    assert res.exit_code == 2 and "available" in res.output
    res = CliRunner().invoke(app, ["plot", str(tmp_path)])
    assert res.exit_code == 1 and "not a results directory" in res.output
