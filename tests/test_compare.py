"""negsim compare: differences in outcome shares, their intervals, and the chi-square test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from negotiation_sim.analysis import compare as cmp  # noqa: E402
from negotiation_sim.cli import app  # noqa: E402
from negotiation_sim.plots.compare import figure as comparison_figure  # noqa: E402

SCENARIO = Path(__file__).parent / "data" / "figures_summit.yaml"


@pytest.fixture(scope="module")
def hardline(tmp_path_factory) -> Path:
    """A very different scenario: both sides value the war above any text, so no summit."""
    text = SCENARIO.read_text().replace("name: figures-summit", "name: figures-hardline")
    text = re.sub(r"reservation: \{dist: uniform, low: [0-9.]+, high: [0-9.]+\}", "reservation: 0.75",
                  text)
    path = tmp_path_factory.mktemp("sc") / "hardline.yaml"
    path.write_text(text)
    return path


def test_newcombe_interval_known_values():
    # Newcombe (1998) table II, example (a): 56/70 vs 48/80 -> difference 0.2, (0.0524, 0.3339).
    lo, hi = cmp.newcombe_interval(48, 80, 56, 70)
    assert lo == pytest.approx(0.0524, abs=5e-4)
    assert hi == pytest.approx(0.3339, abs=5e-4)


def test_chi_square_drops_empty_outcomes_and_handles_degenerate_tables():
    same = cmp.chi_square(np.array([[10, 0, 5, 0], [10, 0, 5, 0]]))
    assert same.statistic == 0 and same.dof == 1 and not same.significant
    one_outcome = cmp.chi_square(np.array([[0, 0, 0, 9], [0, 0, 0, 9]]))
    assert one_outcome.p_value == 1.0


def test_identical_scenarios_not_significant_and_different_ones_are(tmp_path, hardline):
    out = tmp_path / "cmp"
    res = CliRunner().invoke(app, ["compare", str(SCENARIO), str(SCENARIO), str(hardline),
                                   "--runs", "1024", "--json", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    same, different = data["differences"]
    assert not same["chi_square"]["significant"] and same["chi_square"]["p_value"] > 0.5
    assert different["chi_square"]["significant"] and different["chi_square"]["p_value"] < 1e-6
    assert data["chi_square"]["significant"]
    for d in same["outcomes"].values():
        assert d["difference"] == 0 and d["ci95"][0] <= 0 <= d["ci95"][1]
    hard = data["scenarios"][2]["outcomes"]["no_summit"]["share"]
    base = data["scenarios"][0]["outcomes"]["no_summit"]["share"]
    assert hard == 1.0 and different["outcomes"]["no_summit"]["difference"] == 1.0 - base
    labels = [s["label"] for s in data["scenarios"]]
    assert len(set(labels)) == 3  # the same file twice gets two labels
    assert all(s["runs"] == 1024 and s["seed"] == 0 for s in data["scenarios"])
    assert json.loads((out / "comparison.json").read_text()) == data
    assert (out / "comparison.png").stat().st_size > 1000


def test_compare_reads_results_directories(tmp_path):
    run = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", str(SCENARIO), "--runs", "1024", "--out", str(run),
                                   "--quiet", "--no-plots"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["compare", str(SCENARIO), str(run), "--runs", "1024"])
    assert res.exit_code == 0, res.output
    assert "no significant difference" in res.stdout
    assert "Difference from" in res.stdout


def test_compare_needs_two(tmp_path):
    res = CliRunner().invoke(app, ["compare", str(SCENARIO)])
    assert res.exit_code == 2


def test_figure_is_closed_by_save(tmp_path, hardline):
    import negotiation_sim as ns

    comparison = ns.compare([SCENARIO, hardline], runs=1024, seed=0)
    before = len(plt.get_fignums())
    fig = comparison_figure(comparison)
    assert len(fig.axes) == 2
    assert "chi-square" in fig.axes[1].get_title()
    fig.savefig(tmp_path / "c.svg")
    from negotiation_sim.plots.style import save

    save(fig, tmp_path / "c.png")
    assert len(plt.get_fignums()) == before


def test_the_comparison_figure_and_analysis_load_no_model():
    """Comparing is data only: its analysis and figure load neither Mesa nor the run layer."""
    import subprocess
    import sys

    code = ("import sys, negotiation_sim.plots.compare, negotiation_sim.analysis.compare\n"
            "loaded = [m for m in sys.modules if m == 'mesa' or m.startswith(("
            "'negotiation_sim.run', 'negotiation_sim.core.model', 'negotiation_sim.core.worlds'))]\n"
            "sys.exit(str(loaded) if loaded else 0)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_compare_labels_are_scenario_names_wrapped_at_word_boundaries(tmp_path, small_data):
    import copy

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from conftest import write_yaml

    from negotiation_sim import api
    from negotiation_sim.plots.compare import figure as draw
    from negotiation_sim.plots.style import wrap_words

    a = copy.deepcopy(small_data)
    a["name"] = "small with strong guarantees for everyone"
    b = copy.deepcopy(small_data)
    b["name"] = "small_without_us_pressure_variant"
    fa = write_yaml(tmp_path / "file_a.yaml", a)
    fb = write_yaml(tmp_path / "file_b.yaml", b)
    result = api.compare([fa, fb], runs=256)
    assert [arm.label for arm in result.arms] == [a["name"], b["name"]]
    fig = draw(result)
    try:
        ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    finally:
        plt.close(fig)
    for tick, name in zip(ticks, (a["name"], b["name"])):
        lines = tick.split("\n")
        assert len(lines) > 1 and "".join(lines).replace(" ", "") == name.replace(" ", "")
        for line in lines[:-1]:  # every break falls after a space, '-' or '_'
            rest = name[name.index(line) + len(line):]
            assert rest[:1] in (" ", "") or line.endswith(("-", "_"))
    assert wrap_words("supercalifragilistic_word", 10) == "supercalifragilistic_\nword"


# -- arms that share their worlds: paired intervals and tests ---------------------------------

def test_paired_interval_is_the_independent_one_when_the_indicators_are_uncorrelated():
    """phi = 0 (e h = f g): Newcombe's method 10 for paired data reduces to the hybrid score
    interval of two independent shares of the same n (Newcombe 1998b, section 2)."""
    d, lo, hi = cmp.newcombe_paired_interval(10, 10, 10, 10)
    assert d == 0.0
    assert (lo, hi) == pytest.approx(cmp.newcombe_interval(20, 40, 20, 40), abs=1e-12)
    d, lo, hi = cmp.newcombe_paired_interval(6, 2, 12, 4)  # 24 = 24
    assert d == pytest.approx((18 - 8) / 24)
    assert (lo, hi) == pytest.approx(cmp.newcombe_interval(8, 24, 18, 24), abs=1e-12)


def test_paired_interval_narrows_with_correlation_and_covers_95_percent():
    """Strongly correlated indicators give a narrower interval than independent ones, and the
    interval covers the true difference in about 95% of samples (seeded simulation: n = 300,
    P(both) = 0.3, P(base only) = 0.05, P(arm only) = 0.1, difference 0.05)."""
    _, lo, hi = cmp.newcombe_paired_interval(90, 15, 30, 165)
    _, ilo, ihi = (0, *cmp.newcombe_interval(105, 300, 120, 300))
    assert hi - lo < 0.6 * (ihi - ilo)
    rng = np.random.default_rng(0)
    cells = rng.multinomial(300, [0.3, 0.05, 0.1, 0.55], size=2000)
    covered = [lo <= 0.05 <= hi for lo, hi in
               (cmp.newcombe_paired_interval(*c)[1:] for c in cells)]
    assert 0.93 <= np.mean(covered) <= 0.975


def test_mcnemar_exact_and_stuart_maxwell_known_values():
    # all 10 discordant pairs one way: two-sided binomial p = 2 / 2**10
    assert cmp.mcnemar_exact(0, 10) == pytest.approx(2 / 2 ** 10)
    assert cmp.mcnemar_exact(0, 0) == 1.0
    # with two outcomes Stuart-Maxwell is McNemar's chi-square (f - g)^2 / (f + g)
    sm = cmp.stuart_maxwell(np.array([[40, 5], [15, 40]]))
    assert sm.statistic == pytest.approx((15 - 5) ** 2 / 20) and sm.dof == 1
    # relabelling the outcomes leaves the statistic as it was
    t = np.array([[50, 4, 2], [9, 30, 3], [1, 7, 20]])
    perm = [2, 0, 1]
    assert cmp.stuart_maxwell(t).statistic == pytest.approx(
        cmp.stuart_maxwell(t[np.ix_(perm, perm)]).statistic)
    assert cmp.stuart_maxwell(np.diag([5, 6, 7])).p_value == 1.0


def test_arms_that_share_worlds_are_compared_world_by_world(tmp_path, hardline):
    res = CliRunner().invoke(app, ["compare", str(SCENARIO), str(SCENARIO), str(hardline),
                                   "--runs", "1024", "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["paired"] is True
    same, different = data["differences"]
    assert same["paired"]["changed_worlds"] == 0
    assert same["paired"]["stuart_maxwell"]["p_value"] == 1.0
    for d in same["outcomes"].values():  # no discordant world: an interval of ~1/n each side
        assert d["difference"] == 0 and -0.005 < d["ci95"][0] <= 0 <= d["ci95"][1] < 0.005
    base_no = data["scenarios"][0]["outcomes"]["no_summit"]["count"]
    assert different["paired"]["mcnemar"]["no_summit"]["entered"] == 1024 - base_no
    assert different["paired"]["stuart_maxwell"]["significant"]
    words = CliRunner().invoke(app, ["compare", str(SCENARIO), str(hardline), "--runs", "512"])
    assert "world by world" in words.stdout and "Stuart-Maxwell" in words.stdout


def test_runs_without_rows_or_with_other_seeds_are_compared_as_independent(tmp_path):
    run = tmp_path / "run"
    assert CliRunner().invoke(app, ["run", str(SCENARIO), "--runs", "1024", "--seed", "3",
                                    "--out", str(run), "--quiet", "--no-plots"]).exit_code == 0
    res = CliRunner().invoke(app, ["compare", str(SCENARIO), str(run), "--runs", "1024",
                                   "--json", "--quiet"])
    data = json.loads(res.stdout)
    assert data["paired"] is False and "paired" not in data["differences"][0]


def test_a_stored_run_of_an_older_version_of_a_file_is_noted(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO.read_text())
    run = tmp_path / "run"
    assert CliRunner().invoke(app, ["run", str(scenario), "--runs", "256", "--out", str(run),
                                    "--quiet", "--no-plots"]).exit_code == 0
    res = CliRunner().invoke(app, ["compare", str(scenario), str(run), "--runs", "256",
                                   "--json", "--quiet"])
    assert json.loads(res.stdout)["notes"] == []
    scenario.write_text(SCENARIO.read_text().replace(
        "description: Russia and Ukraine meet", "description: Russia and Ukraine talk"))
    res = CliRunner().invoke(app, ["compare", str(scenario), str(run), "--runs", "256"])
    assert res.exit_code == 0, res.output
    assert "another version of" in res.stderr and "the file itself is compared" in res.stderr
