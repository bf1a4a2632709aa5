"""negsim report: one self-contained HTML file with every figure, the scenario and provenance."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import matplotlib

from negotiation_sim.results.reader import RunResults, ScenarioMissingWarning

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from negotiation_sim import plots, report  # noqa: E402
from negotiation_sim.cli import app  # noqa: E402
from negotiation_sim.report import html as report_html  # noqa: E402
from negotiation_sim.results.schema import RUN_FIGURES  # noqa: E402

SCENARIO = Path(__file__).parent / "data" / "figures_summit.yaml"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    res = CliRunner().invoke(app, ["run", str(SCENARIO.resolve()), "--runs", "1024", "--out",
                                   str(out), "--quiet", "--no-plots"])
    assert res.exit_code == 0, res.output
    return out


def _images(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


def test_report_holds_every_figure_the_scenario_and_the_manifest(run_dir, tmp_path):
    before = len(plt.get_fignums())
    out = tmp_path / "r" / "report.html"
    res = CliRunner().invoke(app, ["report", str(run_dir), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert len(plt.get_fignums()) == before
    text = out.read_text()
    kinds = list(plots.run_figures(RunResults.load(run_dir)))
    for kind in kinds:
        assert f'id="figure-{kind}"' in text
    images = _images(text)
    assert len(images) == len(kinds)
    assert all(img.startswith(b"\x89PNG") for img in images)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["scenario_hash"] in text
    assert "manifest.json" in text and "&quot;chunk_size&quot;" in text  # the raw manifest
    # The scenario in words: actors, stated positions, red lines.
    for words in ("Russia (led by Putin)", "Ukraine (led by Zelensky)", "red lines",
                  "territory &lt;= 0.75", "Ukraine&#x27;s 1991 borders", "uniform 0.25–0.5",
                  "European coalition", "backs at most"):
        assert words in text
    for outcome in ("Agreement", "Ceasefire", "Breakdown", "No summit"):
        assert outcome in text


def test_report_is_self_contained(run_dir):
    text = report.build_report(run_dir)
    assert not re.search(r'(src|href)="(?!data:|#)', text)  # nothing fetched from elsewhere
    assert "<script" not in text and "<link" not in text and "@import" not in text


def test_report_default_path_and_bad_input(run_dir, tmp_path):
    res = CliRunner().invoke(app, ["report", str(run_dir), "--quiet"])
    assert res.exit_code == 0, res.output
    assert (run_dir / "report.html").exists()
    res = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 1 and "not a results directory" in res.output


def test_report_without_the_scenario_file_says_so(run_dir, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("runs.parquet", "summary.json"):
        (copy / name).write_bytes((run_dir / name).read_bytes())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["scenario_file"] = str(tmp_path / "gone.yaml")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(ScenarioMissingWarning, match="--scenario FILE"):
        text = report.build_report(copy)
    assert "--scenario FILE" in text
    assert len(_images(text)) == len(RUN_FIGURES)  # every run figure (no durability here)
    assert "Russia (led by Putin)" in report.build_report(copy, SCENARIO)


def test_number_words():
    from negotiation_sim.config.distributions import Normal, Triangular

    assert report_html.number_words(0.25) == "0.25"
    tri = Triangular(dist="triangular", low=0.1, mode=0.2, high=0.5)
    assert report_html.number_words(tri) == "triangular 0.1–0.5, most likely 0.2"
    assert "mean 0.3, sd 0.1" in report_html.number_words(Normal(dist="normal", mean=0.3, sd=0.1))


def test_a_sweep_report_summarises_before_the_figures_and_collapses_every_point(tmp_path):
    from conftest import SMALL, write_yaml

    write_yaml(tmp_path / "small.yaml", SMALL)
    (tmp_path / "exp.yaml").write_text(
        "name: report\nscenario: small.yaml\nruns: 60\nseed: 1\n"
        "sweep:\n  method: morris\n  samples: 3\n  parameters:\n"
        "    actors.us.pressure.russia: {low: 0.0, high: 0.05}\n"
        "    actors.germany.offer.guarantees: {low: 0.2, high: 1.0}\n"
        "    actors.ukraine.reservation: {low: 0.2, high: 0.5}\n")
    res = CliRunner().invoke(app, ["sweep", str(tmp_path / "exp.yaml"), "--out",
                                   str(tmp_path / "out"), "-q", "--no-plots"])
    assert res.exit_code == 0, res.output
    page = report_html.build_report(tmp_path / "out")
    heads = re.findall(r"<h[23][^>]*>(.*?)</h[23]>", page)
    top, low = (f"The {report_html.SHOWN_POINTS} points with the {w} agreement share"
                for w in ("highest", "lowest"))
    assert heads.index(top) < heads.index(low) < heads.index("Figures") < heads.index(
        "Every point")
    assert "Sensitivity of the agreement share" in heads and "mu_star" in page
    # Above the figures only the summary: 2 x 5 point rows; all 12 points inside <details>.
    before, after = page.split('<h2 id="figures">')
    assert before.count("<tr><td class='num'>") == 2 * report_html.SHOWN_POINTS
    details = after[after.index("<details><summary>All 12 points"):]
    assert details[:details.index("</details>")].count("<tr><td class='num'>") == 12
    # Column headers are the figures' labels, not bare dotted paths.
    assert "<th>actors.us.pressure.russia</th>" not in page


def test_report_has_the_tables_of_negsim_run_with_actors_by_name(run_dir):
    """Why worlds ended, the reference solutions, durability and utilities: the tables and
    cells ``negsim run`` prints (the same builders), the actors by name and not by id."""
    import html as html_lib

    from negotiation_sim.report import tables

    run = RunResults.load(run_dir)
    text = report.build_report(run_dir)
    summary = run.summary
    built = [tables.end_reasons(summary), tables.solutions(summary),
             tables.durability(summary), tables.utilities(summary, run.scenario)]
    assert built[0] is not None and built[1] is not None and built[3] is not None
    plain = html_lib.unescape(text)
    for t in built:
        if t is None:
            continue
        assert f"<h3>{t.title}</h3>" in plain
        for row in t.rows:
            assert "".join(f"<td{'' if i == 0 else ' class=num'}>{c}</td>"
                           for i, c in enumerate(row)) in plain, row
    shares = {k: f"{summary['end_reasons'][k]:.1%}" for k in built[0].keys}
    assert sum(float(v[:-1]) for v in shares.values()) == pytest.approx(100, abs=0.5)
    names = [row[0] for row in built[3].rows]
    assert "Russia" in names and "russia" not in names
    cli = CliRunner().invoke(app, ["run", str(SCENARIO.resolve()), "--runs", "1024", "--quiet"],
                             env={"COLUMNS": "200"})
    for title in ("Why worlds ended", "Reference solutions", "Mean utility at the outcome"):
        assert title in cli.output and title in plain
    for row in built[0].rows:
        assert row[0] in cli.output and row[1] in cli.output
