"""Results a command reads, damaged after negsim wrote them: every reading command says so in
one line naming the directory, exit 1, never with a parser's traceback (``cli.common.reading``).
"""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT, SMALL, write_yaml
from typer.testing import CliRunner

import negotiation_sim as ns
from negotiation_sim.cli import app


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small run's results and a small Morris sweep's, written once."""
    base = tmp_path_factory.mktemp("stored")
    sc = write_yaml(base / "small.yaml", SMALL)
    ns.run(sc, runs=300, seed=0, out=base / "run")
    ns.sweep(ROOT / "docs" / "tutorial" / "river_morris.yaml", out=base / "sweep", plots=False)
    return base


def damaged(stored, tmp_path, which: str, file: str, how: str):
    """A copy of the stored ``which`` results with ``file`` spoiled ``how``."""
    copy = tmp_path / which
    shutil.copytree(stored / which, copy)
    target = copy / file
    if how == "directory":
        target.unlink()
        target.mkdir()
    elif how == "truncated":
        target.write_bytes(target.read_bytes()[:7])
    else:  # garbage
        target.write_bytes(b"{not what negsim wrote\x00\xff")
    return copy


RUN_COMMANDS = [("plot",), ("report",), ("export",), ("discover", "--outcome", "agreement")]


@pytest.mark.parametrize("file, how", [("summary.json", "garbage"), ("runs.parquet", "garbage"),
                                       ("runs.parquet", "truncated"),
                                       ("runs.parquet", "directory")])
@pytest.mark.parametrize("command", RUN_COMMANDS, ids=lambda c: c[0])
def test_a_damaged_run_is_one_line_naming_it(stored, tmp_path, command, file, how):
    path = damaged(stored, tmp_path, "run", file, how)
    if command[0] == "export" and file == "runs.parquet" and how == "directory":
        pytest.skip("export writes the outcomes of a run that kept no rows: not an error")
    res = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), res.stderr
    assert "Traceback" not in res.output


@pytest.mark.parametrize("file", ["summary.parquet", "sensitivity.json"])
@pytest.mark.parametrize("command", [("sensitivity",), ("report",), ("plot",)],
                         ids=lambda c: c[0])
def test_a_damaged_sweep_is_one_line_naming_it(stored, tmp_path, command, file):
    path = damaged(stored, tmp_path, "sweep", file, "garbage")
    res = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
    if command[0] == "plot" and file == "sensitivity.json":
        # plot draws from summary.parquet; damaged saved indices only lose their figure
        assert res.exit_code in (0, 1), res.output
        assert "Traceback" not in res.output
        return
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), res.stderr


def test_a_scenario_that_does_not_match_the_results_is_named(stored, tmp_path):
    other = ROOT / "docs" / "tutorial" / "river.yaml"
    for command in ("plot", "report"):
        out = ["--out", str(tmp_path / f"{command}.html")] if command == "report" else []
        res = CliRunner().invoke(app, [command, str(stored / "run"), "--scenario", str(other),
                                       *out])
        assert res.exit_code == 1, res.output
        line = res.stderr.strip()
        assert "\n" not in line and "does --scenario match them?" in line, line


def test_debug_shows_the_parsers_traceback(stored, tmp_path):
    path = damaged(stored, tmp_path, "run", "summary.json", "garbage")
    res = CliRunner().invoke(app, ["report", str(path), "--debug"])
    assert res.exit_code != 0 and res.exception is not None
    assert type(res.exception).__name__ in ("JSONDecodeError", "UnicodeDecodeError")


@pytest.mark.parametrize("command", [("plot",), ("export",),
                                     ("discover", "--outcome", "agreement", "--no-plots")],
                         ids=lambda c: c[0])
def test_a_sweep_that_is_not_complete_says_so(stored, tmp_path, command):
    """Every command that reads a sweep's results warns when they hold only part of it."""
    import json

    path = tmp_path / "sweep"
    shutil.copytree(stored / "sweep", path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(status="interrupted", resume=f"negsim sweep EXP --out {path} --resume")
    (path / "manifest.json").write_text(json.dumps(manifest))
    res = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
    assert res.exit_code == 0, res.output
    assert "warning:" in res.stderr and "interrupted" in res.stderr and "--resume" in res.stderr


@pytest.mark.parametrize("removed, says", [("points.parquet", "has no points.parquet"),
                                           ("manifest.json", "has no manifest.json")])
def test_sensitivity_names_the_file_a_sweep_lacks(stored, tmp_path, removed, says):
    path = tmp_path / "sweep"
    shutil.copytree(stored / "sweep", path)
    (path / removed).unlink()
    res = CliRunner().invoke(app, ["sensitivity", str(path)])
    assert res.exit_code == 1, res.output
    line = res.stderr.strip()
    assert "\n" not in line and says in line and "None" not in line, line


def test_export_of_a_run_without_its_worlds_says_what_it_leaves_out(stored, tmp_path):
    path = damaged(stored, tmp_path, "run", "runs.parquet", "directory")
    res = CliRunner().invoke(app, ["export", str(path)])
    assert res.exit_code == 0, res.output
    assert "warning:" in res.stderr and "no worlds to export" in res.stderr
    assert (path / "outcomes.csv").is_file() and not (path / "runs.csv").exists()
