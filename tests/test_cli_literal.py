"""Users' text is shown, never interpreted; and the command line's other one-line answers.

Names, labels, ids, paths and the messages that quote them reach rich tables, one-line errors,
terminals and matplotlib figures. Each of those reads some text as instructions: rich markup
(``[/red]`` raises, ``[link=...]`` injects a link, ``[bold]`` drops text), rich emoji codes
(``:cat:``), terminal control sequences (``ESC [2J`` clears the screen), bidirectional overrides,
and matplotlib's mathtext (``$`` crashes a figure). The class is held here by putting every one
of them in every kind of text a user writes, through every command that shows text.

Also here: a missing optional dependency is one line naming the extra to install; a file given
to the wrong command names the right one; a file with several problems gets them all.
"""

from __future__ import annotations

import copy
import json
import sys
import warnings

import pytest
import yaml
from conftest import SMALL, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.names import printable

runner = CliRunner()

NASTY = ["zz[/red]", "[/x]", "[bold]bold[/bold]", "[link=file:///etc/passwd]link[/link]",
         ":cat:", "[dask]", "$x_1$", "$\\frac{1}{0}$", "cost $5", "\x1b[2J\x1b[31mred\x1b[0m",
         "\u202eevil", "bell\x07", "back\\slash"]


def invoke(*args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = runner.invoke(app, [str(a) for a in args])
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert not glyphs, glyphs  # a control character reached a figure
    return res


def check(res, code: int = 0) -> str:
    assert res.exit_code == code, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    assert "\x1b" not in res.output and "\u202e" not in res.output and "\x07" not in res.output
    return res.output


def nasty_scenario() -> dict:
    """SMALL with a nasty string in every text field a user writes."""
    data = copy.deepcopy(SMALL)
    texts = iter(NASTY * 3)
    data["name"] = " ".join(NASTY)
    data["description"] = next(texts)
    for issue in data["issues"].values():
        issue["low"], issue["high"] = next(texts), next(texts)
    for actor in data["actors"].values():
        actor["name"] = next(texts)
    data["actors"]["russia"]["leader"] = next(texts)
    data["events"] = [{"name": next(texts), "kind": "shock",
                       "draw": {"dist": "normal", "mean": 0, "sd": 0.01},
                       "effect": {"actors.russia.reservation": 1.0}}]
    data["durability"] = {"rounds": 3}
    return data


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("literal")
    scenario = write_yaml(tmp / "s.yaml", nasty_scenario())
    experiment = tmp / "e.yaml"
    experiment.write_text(yaml.safe_dump({
        "name": " ".join(NASTY), "scenario": "s.yaml", "runs": 1024,
        "sweep": {"method": "list", "points": [
            {"label": label, "protocol.rounds": r} for r, label in enumerate(NASTY[:4], 2)]}},
        allow_unicode=True))
    return tmp, scenario, experiment


def test_printable_shows_control_characters_as_escapes():
    assert printable("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert printable("\u202eevil\u2066") == "\\u202eevil\\u2066"
    assert printable("a\x00\x7f\x9f") == "a\\x00\\x7f\\x9f"
    assert printable("two\nlines\tand tab") == "two\nlines\tand tab"
    assert printable("two\nlines", newlines=False) == "two\\x0alines"
    assert printable("[/red] $x$ :cat: é 中") == "[/red] $x$ :cat: é 中"  # shown as they are


def test_run_tables_and_figures_show_every_name_literally(files):
    tmp, scenario, _ = files
    out = check(invoke("run", scenario, "--runs", 1024, "--out", tmp / "run"))
    for text in ("zz[/red]", "[/x]", "[bold]bold[/bold]", "[link=file:///etc/passwd]link[/link]",
                 ":cat:", "[dask]", "$x_1$", "\\x1b[2J", "\\u202eevil"):
        assert text in out, text
    assert "🐱" not in out
    figures = sorted(p.name for p in (tmp / "run").glob("*.png"))
    assert {"outcomes.png", "terms.png", "utilities.png", "formats.png"} <= set(figures)


def test_trace_sweep_compare_plot_and_report_show_names_literally(files):
    tmp, scenario, experiment = files
    out = check(invoke("trace", scenario, "--world", 3))
    assert "zz[/red]" in out and "\\x1b[2J" in out
    check(invoke("trace", scenario, "--json"))
    out = check(invoke("sweep", experiment, "--out", tmp / "sweep"))
    assert "zz[/red]" in out and "[bold]bold[/bold]" in out and "[link=file:///etc/passwd]" in out
    out = check(invoke("compare", scenario, scenario, "--runs", 1024, "--out", tmp / "cmp"))
    assert "s" in out
    if not (tmp / "run").exists():
        check(invoke("run", scenario, "--runs", 1024, "--out", tmp / "run"))
    check(invoke("plot", tmp / "run", "--out", tmp / "plots"))
    check(invoke("report", tmp / "run", "--out", tmp / "run.html"))
    check(invoke("report", tmp / "sweep", "--out", tmp / "sweep.html"))
    html = (tmp / "run.html").read_text()
    assert "[link=file:///etc/passwd]" in html and "<script" not in html.lower()


def test_markup_in_an_error_is_one_literal_line(tmp_path):
    data = copy.deepcopy(SMALL)
    data["actors"]["russia"]["zz[/red]"] = 1
    data["zz[bold]"] = 2
    path = write_yaml(tmp_path / "s.yaml", data)
    res = invoke("run", path, "--runs", 64)
    err = check(res, 1)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"error: {path}:") for line in lines), err
    assert "actors.russia.zz[/red]: unknown field" in lines[1] or "zz[/red]" in err
    assert "zz[bold]" in err


def test_figures_draw_dollars_literally_and_leave_a_callers_own_math_alone():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from negotiation_sim import plots

    summary = {"scenario": "costs $5 and $\\frac{1}{0}$", "runs": 10, "seed": 0,
               "outcomes": {o: {"share": 0.25, "ci95": [0.1, 0.4]}
                            for o in ("agreement", "ceasefire", "breakdown", "no_summit")}}
    fig, ax = plt.subplots()
    mine = ax.text(0.5, 0.5, "$\\alpha$")
    fig = plots.outcome_shares(summary, ax=ax)
    fig.canvas.draw()  # mathtext would raise here; tick labels get their text here
    texts = [t for t in fig.findobj(matplotlib.text.Text) if "$5" in t.get_text()]
    assert len(texts) >= 2 and not any(t.get_parse_math() for t in texts)  # title and tick
    assert mine.get_parse_math()  # the caller's own formula is still a formula
    plt.close(fig)


def test_a_file_given_to_the_wrong_command_names_the_right_one(files):
    tmp, scenario, experiment = files
    cases = [(["run", experiment], experiment, "negsim sweep"),
             (["trace", experiment], experiment, "negsim sweep"),
             (["sweep", scenario], scenario, "negsim run"),
             (["backtest", scenario], scenario, "negsim run"),
             (["target", experiment, "--vary", "actors.russia.claim"], experiment,
              "negsim sweep"),
             (["explore", experiment, "--no-browser"], experiment, "negsim sweep"),
             (["compare", scenario, experiment], experiment, "negsim sweep")]
    for args, path, right in cases:
        res = invoke(*args)
        check(res, 2)
        assert res.stderr.count("\n") == 1 and f"run it with {right} {path}" in res.stderr


def test_every_problem_of_a_file_is_reported(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nissues: {a: {status_quo: 2}}\nactors:\n"
                    "  x: {role: principal, position: {a: 3}}\n"
                    "  y: {role: principal, position: {a: 0}, patience: 7}\n")
    expected = check(invoke("validate", path), 1).strip().splitlines()
    assert len(expected) == 3
    res = invoke("run", path)
    check(res, 1)
    assert res.stderr.strip().splitlines() == [f"error: {line}" for line in expected]


@pytest.fixture
def without(monkeypatch):
    """Make optional packages unimportable, as if they were not installed."""

    def hide(*tops: str) -> None:
        for name in list(sys.modules):
            if name.split(".")[0] in tops:
                monkeypatch.delitem(sys.modules, name)
        for top in tops:
            monkeypatch.setitem(sys.modules, top, None)

    return hide


def test_a_missing_optional_dependency_is_one_line_naming_its_extra(tmp_path, without):
    write_yaml(tmp_path / "s.yaml", SMALL)
    sobol = tmp_path / "sobol.yaml"
    sobol.write_text("name: sob\nscenario: s.yaml\nruns: 1024\nsweep:\n  method: sobol\n"
                     "  samples: 4\n  parameters:\n"
                     "    actors.russia.reservation.high: {low: 0.4, high: 0.6}\n")
    grid = tmp_path / "grid.yaml"
    grid.write_text("name: grid\nscenario: s.yaml\nruns: 1024\n")
    res = invoke("sweep", grid, "--out", tmp_path / "done")
    check(res)
    without("SALib", "dask", "distributed")
    res = invoke("validate", sobol)
    out = check(res, 1)
    assert out.strip() == (f"{sobol}: a sobol design needs SALib, which is not installed: "
                           "pip install 'negotiation_sim[sensitivity]'")
    for args, extra in [(("sweep", sobol, "--out", tmp_path / "a"), "sensitivity"),
                        (("sweep", grid, "--executor", "dask", "--out", tmp_path / "b"), "dask"),
                        (("sensitivity", tmp_path / "done"), None)]:
        res = invoke(*args)
        err = check(res, 1).strip()
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
        if extra:
            assert res.stderr.strip().endswith(f"pip install 'negotiation_sim[{extra}]'"), err
    assert not (tmp_path / "b").exists()


def test_json_output_escapes_what_it_holds(files):
    _, scenario, _ = files
    res = invoke("run", scenario, "--runs", 1024, "--json")
    check(res)
    assert json.loads(res.stdout)["scenario"] == " ".join(NASTY)
