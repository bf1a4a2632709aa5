"""docs/tutorial.md: every `$ negsim ...` line of its console blocks runs, in order, as written.

The commands run from a copy of the tutorial's files laid out as in the repository (so
``results/`` is written in a temporary directory), and the numbers the text quotes are checked
against what the commands print.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from negotiation_sim.cli import app

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"


def commands() -> list[list[str]]:
    text = TUTORIAL.read_text()
    blocks = re.findall(r"```console\n(.*?)```", text, flags=re.S)
    return [shlex.split(line[2:]) for block in blocks for line in block.splitlines()
            if line.startswith("$ ")]


def test_the_tutorial_has_the_steps_it_promises():
    names = [c[1] for c in commands()]
    assert all(c[0] == "negsim" for c in commands())
    for step in ("validate", "run", "trace", "sweep", "discover", "sensitivity", "target",
                 "report", "robust"):
        assert step in names, step


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_tutorial_command_runs(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "docs" / "tutorial", tmp_path / "docs" / "tutorial")
    monkeypatch.chdir(tmp_path)
    # as a reader's output piped to a file: whole lines (pytest-xdist's workers set COLUMNS=80)
    monkeypatch.delenv("COLUMNS", raising=False)
    runner = CliRunner()
    printed = {}
    for cmd in commands():
        res = runner.invoke(app, cmd[1:])
        assert res.exit_code == 0, (cmd, res.output, res.stderr)
        printed[cmd[1]] = res.stdout
    assert "warning" not in printed["validate"]
    assert (tmp_path / "results" / "river_sweep" / "report.html").is_file()
    # The numbers the text quotes.
    summary = json.loads((tmp_path / "results" / "river" / "summary.json").read_text())
    assert round(summary["outcomes"]["agreement"]["share"] * 100) == 36
    assert summary["terms"]["filling"]["p50"] == pytest.approx(0.85)
    assert "actors.mediator.pressure.upstream" in printed["sensitivity"]
    assert "at least 0.014" in printed["discover"]
    assert "reaches 50.0%" in printed["target"] and "0.009693" in printed["target"]
    robust = printed["robust"]
    assert "Every metric picks pressure.upstream=0.02, pressure.downstream=0.01" in robust
    assert "│ pressure.upstream=0.012, pressure.downstream=0    │  61.4 │        48.5" in robust
    # The river is no war and its ministers meet in talks: every command says its words
    # (docs/tutorial/river.yaml, words), never the engine's own.
    for command, out in printed.items():
        assert not re.search(r"\bwar\b|summit", out, re.IGNORECASE), (command, out)
    assert "Treaty" in printed["run"] and "Talks failed" in printed["run"]
    assert "Where is treaty likely?" in printed["discover"]
    assert "treaty reaches 50.0%" in printed["target"] and "share of treaty" in robust
