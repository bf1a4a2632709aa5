"""What is on disk is checked before it is trusted.

A damaged Parquet part is named and recomputed by ``--resume`` (and a sweep never stays
"running" over one); every path a manifest names lies inside its directory; a manifest is
checked against a strict schema, so that garbage in any field is one line and never a
traceback (a mutation test over every field of a run's and a sweep's manifest); and ``--out``
that cannot be written (a name too long, a component that is a file or cannot be written, a
symbolic link) is one line before anything is read or simulated, in every command that takes
it.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
from pathlib import Path

import pytest
from conftest import SMALL, write_yaml
from typer.testing import CliRunner

import negotiation_sim as ns
from negotiation_sim import api
from negotiation_sim.cli import app
from negotiation_sim.results import files, reader
from negotiation_sim.run import sweep as sweeps
from negotiation_sim.results.files import OutDirError
from negotiation_sim.results.manifest_schema import ManifestError
from negotiation_sim.run.sweep import SweepError

cli = CliRunner()

EXPERIMENT = """name: trust
scenario: small.yaml
runs: 1100
seed: 3
chunk_size: 1024
sweep:
  method: grid
  parameters:
    actors.germany.offer.guarantees: [0.3, 0.7]
"""


def invoke(*args):
    return cli.invoke(app, [str(a) for a in args])


def one_line(res, code: int = 1) -> str:
    assert res.exit_code == code, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    return lines[0]


@pytest.fixture
def paths(tmp_path):
    scenario = write_yaml(tmp_path / "small.yaml", SMALL)
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXPERIMENT)
    return scenario, exp


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A run's and a sweep's results directories, made once (copied by the tests that
    change them)."""
    where = tmp_path_factory.mktemp("made")
    write_yaml(where / "small.yaml", SMALL)
    (where / "exp.yaml").write_text(EXPERIMENT)
    assert invoke("run", where / "small.yaml", "--runs", 600, "--out", where / "run",
                  "-q").exit_code == 0
    assert invoke("sweep", where / "exp.yaml", "--out", where / "sweep", "-q").exit_code == 0
    return where


def copy_of(made: Path, name: str, tmp_path: Path) -> Path:
    shutil.copy(made / "small.yaml", tmp_path / "small.yaml")
    (tmp_path / "exp.yaml").write_text(EXPERIMENT)
    return Path(shutil.copytree(made / name, tmp_path / name))


# -- damaged parts -------------------------------------------------------------------------------


def test_a_truncated_part_is_named_and_recomputed_on_resume(made, tmp_path):
    out = copy_of(made, "sweep", tmp_path)
    part = sorted((out / "runs").glob("part-*"))[1]
    whole = part.read_bytes()
    part.write_bytes(whole[: len(whole) // 2])
    res = invoke("sweep", tmp_path / "exp.yaml", "--out", out, "--resume", "--no-plots")
    assert res.exit_code == 0, res.output
    assert f"{part.name}: damaged" in res.stderr and "runs again" in res.stderr, res.output
    assert part.read_bytes() == whole, "the recomputed part differs from the original"
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_a_part_that_fails_while_summarising_leaves_the_sweep_incomplete_not_running(
        made, tmp_path, monkeypatch):
    out = copy_of(made, "sweep", tmp_path)
    part = sorted((out / "runs").glob("part-*"))[0]
    whole = part.read_bytes()
    part.write_bytes(whole[:-9])  # its footer gone
    monkeypatch.setattr(sweeps, "drop_damaged_parts", lambda out, tasks: [])  # not caught early
    res = invoke("sweep", tmp_path / "exp.yaml", "--out", out, "--resume", "-q", "--no-plots")
    line = one_line(res)
    assert part.name in line and "damaged" in line and "--resume" in line
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and manifest["resume"].endswith("--resume")
    assert not part.exists()
    monkeypatch.undo()
    res = invoke("sweep", tmp_path / "exp.yaml", "--out", out, "--resume", "-q", "--no-plots")
    assert res.exit_code == 0, res.output
    assert part.read_bytes() == whole


@pytest.mark.parametrize("stage", ["tasks", "summary"])
def test_an_error_that_stops_a_sweep_leaves_it_incomplete_not_running(paths, tmp_path,
                                                                     monkeypatch, stage):
    """A full disk while the tasks run or while their summary is written: one line, and the
    manifest says ``incomplete`` with the command that finishes the sweep (not ``running``,
    which reads as a sweep that was killed); --resume then finishes it."""
    _, exp = paths
    out = tmp_path / "out"

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sweeps, "_run_tasks" if stage == "tasks" else "summarise", full)
    line = one_line(invoke("sweep", exp, "--out", out, "-q", "--no-plots"))
    assert "No space left on device" in line
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and manifest["resume"].endswith("--resume")
    assert "No space left on device" in manifest["sessions"][-1]["error"]
    monkeypatch.undo()
    res = invoke("sweep", exp, "--out", out, "--resume", "-q", "--no-plots")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_part_problem_reads_the_footer():
    assert sweeps.part_problem(Path("/nonexistent/part.parquet"), 5) is not None


# -- paths read from a manifest --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../outside.png", "{outside}", "sub/../../outside.png"])
def test_a_figure_path_outside_the_directory_is_refused_and_nothing_is_deleted(
        made, tmp_path, name):
    out = copy_of(made, "sweep", tmp_path)
    outside = tmp_path / "outside.png"
    outside.write_text("keep me")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["figures"] = [name.format(outside=outside)]
    (out / "manifest.json").write_text(json.dumps(manifest))
    for args in (["sweep", tmp_path / "exp.yaml", "--out", out, "--resume", "-q"],
                 ["sweep", tmp_path / "exp.yaml", "--out", out, "--overwrite", "-q"],
                 ["plot", out, "-q"], ["report", out, "-q"]):
        line = one_line(invoke(*args))
        assert "manifest.json: figures.0" in line, line
    assert outside.read_text() == "keep me"


def test_a_run_directory_with_a_figure_outside_is_refused_by_overwrite(made, tmp_path):
    out = copy_of(made, "run", tmp_path)
    outside = tmp_path / "outside.png"
    outside.write_text("keep me")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["figures"] = [str(outside)]
    (out / "manifest.json").write_text(json.dumps(manifest))
    line = one_line(invoke("run", tmp_path / "small.yaml", "--runs", 300, "--out", out,
                           "--overwrite", "-q"))
    assert "figures.0" in line
    assert outside.read_text() == "keep me"


# -- the manifest's schema: a mutation test ----------------------------------------------------------

GARBAGE = [42, -1, 2.5, True, None, "x", "", [[1]], [], {"a": [1]}, {}, math.nan, math.inf]


def fields(data, prefix=()):
    """Every field path of a manifest, nested ones included (one session, one failure)."""
    for key, value in data.items():
        yield (*prefix, key)
        if isinstance(value, dict) and key in ("tasks", "design", "seeding", "versions"):
            yield from fields(value, (*prefix, key))
        if key == "sessions" and value:
            yield from fields(value[0], (*prefix, key, 0))


def mutated(data, path, value):
    out = copy.deepcopy(data)
    where = out
    for key in path[:-1]:
        where = where[key]
    if value is _DELETE:
        del where[path[-1]]
    else:
        where[path[-1]] = value
    return out


_DELETE = object()


def consumers(out: Path, kind: str):
    """Everything that reads a manifest, as the commands call it."""
    yield lambda: reader.load_results(out, run_type=api.Run, sweep_type=api.Sweep)
    yield lambda: files.check_out(out, kind, overwrite=True)
    yield lambda: files.check_out(out, kind, resume=True)
    if kind == "sweep":
        yield lambda: reader.sweep_status_note(files.read_manifest(out) or {})
        yield lambda: api.load_results(out).status_note


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_garbage_in_any_manifest_field_is_refused_or_harmless(made, tmp_path, kind):
    out = copy_of(made, kind, tmp_path)
    original = json.loads((out / "manifest.json").read_text())
    tried = refused = 0
    for path in fields(original):
        for value in [*GARBAGE, _DELETE]:
            data = mutated(original, path, value)
            (out / "manifest.json").write_text(json.dumps(data))  # NaN as JSON's NaN
            for use in consumers(out, kind):
                tried += 1
                try:
                    use()
                except (ManifestError, OutDirError, SweepError) as err:
                    refused += 1
                    assert "\n" not in str(err), str(err)
                except FileNotFoundError:  # deleted fields can make it not the engine's
                    pass
    assert tried > 500 and refused > tried // 4, (tried, refused)


@pytest.mark.parametrize("field,value", [("figures", 7), ("figures", [[1]]), ("tasks", "x"),
                                         ("design", "grid"), ("seed", math.nan),
                                         ("versions", [1]), ("format_version", 99)])
def test_a_damaged_manifest_is_one_line_in_every_command(made, tmp_path, field, value):
    out = copy_of(made, "sweep", tmp_path)
    data = json.loads((out / "manifest.json").read_text())
    data[field] = value
    (out / "manifest.json").write_text(json.dumps(data))
    for args in (["plot", out, "-q"], ["report", out, "-q"], ["export", out, "-q"],
                 ["sweep", tmp_path / "exp.yaml", "--out", out, "--resume", "-q"],
                 ["sensitivity", out]):
        line = one_line(invoke(*args))
        assert "manifest.json" in line or "negsim did not write" in line, line
        if field == "format_version":  # results of a newer negsim: said so, not misread
            assert "newer negsim" in line, line


# -- --out, checked before anything is read or simulated --------------------------------------------

COMMANDS = {  # command -> (arguments before --out, whether --out is a directory)
    "run": (["run", "small.yaml"], True),
    "sweep": (["sweep", "exp.yaml"], True),
    "plot": (["plot", "results"], True),
    "report": (["report", "results"], False),
    "compare": (["compare", "small.yaml", "small.yaml"], True),
    "backtest": (["backtest", "questions.yaml"], True),
    "schema": (["schema", "scenario"], False),
    "discover": (["discover", "results", "--outcome", "agreement"], True),
    "robust": (["robust", "results"], True),
}


@pytest.fixture
def never_simulates(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("simulated before --out was checked")

    for name in ("_simulate", "compare", "sweep", "load_results"):
        monkeypatch.setattr(api, name, refuse)


def bad_outs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    return {"too long": tmp_path / ("n" * 300),
            "long for the hidden names": tmp_path / ("n" * 240),
            "component is a file": tmp_path / "a_file" / "sub",
            "symlink": tmp_path / "link"}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_out_that_cannot_be_written_is_one_line_before_anything_runs(
        tmp_path, monkeypatch, never_simulates, command):
    monkeypatch.chdir(tmp_path)
    args, directory = COMMANDS[command]
    for why, out in bad_outs(tmp_path).items():
        if why == "long for the hidden names" and not directory:
            out = tmp_path / ("n" * 250)
        line = one_line(invoke(*args, "--out", out), 2)
        assert line.startswith("error: --out"), (why, line)
    assert (tmp_path / "real").is_dir() and not list((tmp_path / "real").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "link", "real"]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_out_without_write_permission_is_one_line(tmp_path, monkeypatch, never_simulates,
                                                      command):
    monkeypatch.chdir(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(files.os, "access",  # root passes any permission bit: ask as a user
                        lambda p, mode: Path(p) != locked and real_access(p, mode))
    args, _ = COMMANDS[command]
    line = one_line(invoke(*args, "--out", locked / "new" / "out"), 2)
    assert "not writable" in line and str(locked) in line


def test_overwrite_through_a_symlink_leaves_nothing_behind(paths, tmp_path):
    scenario, _ = paths
    real = tmp_path / "real"
    assert invoke("run", scenario, "--runs", 300, "--out", real, "-q").exit_code == 0
    before = sorted(p.name for p in real.iterdir())
    (tmp_path / "link").symlink_to(real)
    line = one_line(invoke("run", scenario, "--runs", 300, "--out", tmp_path / "link",
                           "--overwrite", "-q"), 2)
    assert "symbolic link" in line
    with pytest.raises(OutDirError, match="symbolic link"):
        ns.run(scenario, runs=300, out=tmp_path / "link", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml", "link", "real",
                                                          "small.yaml"]
    assert sorted(p.name for p in real.iterdir()) == before


def test_check_out_path_accepts_what_can_be_written(tmp_path):
    assert files.check_out_path(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert files.check_out_path(tmp_path) == tmp_path
    assert files.check_out_path(tmp_path / "r.html", directory=False) == tmp_path / "r.html"
