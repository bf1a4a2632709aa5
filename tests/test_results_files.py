"""Results directories are never mixed, half-written or lost (issue 13, class 1).

A run is built in a staging directory and renamed into place; runs and sweeps are recognised by
their manifest and never written into each other's directory; ``--overwrite`` replaces a
directory whole; nothing the engine did not write is deleted; every exit path that can be caught
(an exception, an interrupt, a full disk) leaves no temporary file; figures belong to the
results that drew them.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL, write_yaml
from typer.testing import CliRunner

import negotiation_sim as ns
from negotiation_sim.cli import app
from negotiation_sim.results import files
from negotiation_sim.results.files import OutDirError
from negotiation_sim.run.sweep import SweepError
from negotiation_sim.run import chunks

cli = CliRunner()

EXPERIMENT = """name: dirs
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


@pytest.fixture
def paths(tmp_path):
    scenario = write_yaml(tmp_path / "small.yaml", SMALL)
    exp = tmp_path / "exp.yaml"
    exp.write_text(EXPERIMENT)
    return scenario, exp


def listing(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file()}


def hidden(directory: Path) -> list[str]:
    """Hidden entries anywhere under ``directory``: staging directories, temporary files."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob(".*"))


def run_out(scenario, out, *extra):
    return invoke("run", scenario, "--runs", 1100, "--chunk-size", 1024, "--out", out, "--json",
                  *extra)


# -- the kind of a directory ----------------------------------------------------------------------


def test_a_run_is_never_written_into_a_sweep_directory_nor_the_reverse(paths, tmp_path):
    scenario, exp = paths
    sweep_dir, run_dir = tmp_path / "sweep", tmp_path / "run"
    assert invoke("sweep", exp, "--out", sweep_dir, "-q", "--no-plots").exit_code == 0
    assert run_out(scenario, run_dir, "--no-plots").exit_code == 0
    before = listing(tmp_path)
    for args in (("run", scenario, "--runs", 400, "--out", sweep_dir),
                 ("run", scenario, "--runs", 400, "--out", sweep_dir, "--overwrite"),
                 ("sweep", exp, "--out", run_dir), ("sweep", exp, "--out", run_dir, "--resume"),
                 ("sweep", exp, "--out", run_dir, "--overwrite")):
        res = invoke(*args)
        assert res.exit_code == 1, (args, res.output)
        line = res.stderr.strip()
        assert "\n" not in line and "Traceback" not in res.output
        assert "results" in line and "never written into" in line, line
    assert listing(tmp_path) == before
    with pytest.raises(OutDirError, match="sweep's results"):
        ns.run(scenario, runs=100, out=sweep_dir)
    with pytest.raises(SweepError, match="run's results"):
        ns.sweep(exp, out=run_dir)


def test_a_directory_is_the_engines_by_its_manifest_only(paths, tmp_path):
    """Files named like the engine's, without its manifest, are someone else's: refused,
    untouched, whatever the option."""
    scenario, exp = paths
    lookalike = tmp_path / "lookalike"
    (lookalike / "runs").mkdir(parents=True)
    (lookalike / "runs" / "part-000000-00000.parquet").write_bytes(b"theirs")
    (lookalike / "summary.json").write_text("{}")
    (lookalike / "manifest.json").write_text('{"status": "mine"}')  # not the engine's
    before = listing(lookalike)
    for args in (("run", scenario, "--runs", 100, "--out", lookalike, "--overwrite"),
                 ("sweep", exp, "--out", lookalike, "--resume"),
                 ("sweep", exp, "--out", lookalike, "--overwrite")):
        res = invoke(*args)
        assert res.exit_code == 1 and "did not write" in res.stderr, (args, res.output)
    assert listing(lookalike) == before


@pytest.mark.parametrize("command", ["run", "sweep", "compare", "backtest", "plot"])
def test_out_naming_a_file_is_one_line_saying_it_must_be_a_directory(paths, tmp_path, command):
    from conftest import ROOT

    scenario, exp = paths
    target = tmp_path / "a-file"
    target.write_text("keep me")
    args = {"run": [scenario], "sweep": [exp], "compare": [scenario, scenario],
            "backtest": [ROOT / "backtests" / "russia_ukraine_2025.yaml"],
            "plot": [tmp_path]}[command]
    res = invoke(command, *args, "--out", target)
    assert res.exit_code == 2 and "--out must be a directory" in res.stderr, res.output
    assert len(res.stderr.strip().splitlines()) == 1
    assert target.read_text() == "keep me"
    if command in ("run", "sweep"):
        with pytest.raises(OutDirError, match="must be a directory"):
            files.check_out(target, command)


# -- overwrite: refused without it, whole with it -------------------------------------------------


def test_a_run_into_a_run_directory_is_refused_without_overwrite_and_replaces_it_whole(
        paths, tmp_path):
    scenario, _ = paths
    out = tmp_path / "o"
    assert run_out(scenario, out).exit_code == 0
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures and json.loads((out / "manifest.json").read_text())["figures"] == figures
    before = listing(out)
    res = run_out(scenario, out, "--seed", 5)
    assert res.exit_code == 1 and "--overwrite" in res.stderr, res.output
    assert listing(out) == before  # refused: nothing changed

    res = run_out(scenario, out, "--seed", 5, "--overwrite", "--no-plots")
    assert res.exit_code == 0, res.output
    assert not list(out.glob("*.png")), "figures of the replaced run stayed beside new data"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["figures"] == []
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    assert hidden(tmp_path) == []


def test_overwrite_never_deletes_what_the_engine_did_not_write(paths, tmp_path):
    scenario, exp = paths
    run_dir, sweep_dir = tmp_path / "run", tmp_path / "sweep"
    assert run_out(scenario, run_dir, "--no-plots").exit_code == 0
    assert invoke("sweep", exp, "--out", sweep_dir, "-q", "--no-plots").exit_code == 0
    (run_dir / "notes.txt").write_text("mine")
    (sweep_dir / "runs" / "extra.parquet").write_text("mine")
    before = listing(tmp_path)
    res = run_out(scenario, run_dir, "--overwrite")
    assert res.exit_code == 1 and "notes.txt" in res.stderr and "did not write" in res.stderr
    res = invoke("sweep", exp, "--out", sweep_dir, "--overwrite")
    assert res.exit_code == 1 and "extra.parquet" in res.stderr, res.output
    res = invoke("sweep", exp, "--out", sweep_dir, "--resume")
    assert res.exit_code == 1 and "never deletes" in res.stderr, res.output
    assert listing(tmp_path) == before


def test_a_sweep_overwrite_replaces_the_directory_whole(paths, tmp_path):
    scenario, exp = paths
    out = tmp_path / "o"
    assert invoke("sweep", exp, "--out", out, "-q").exit_code == 0
    assert list(out.glob("*.png"))
    res = invoke("sweep", exp, "--out", out, "-q")
    assert res.exit_code == 1 and "--overwrite" in res.stderr and "--resume" in res.stderr
    exp.write_text(EXPERIMENT.replace("seed: 3", "seed: 4"))
    res = invoke("sweep", exp, "--out", out, "-q", "--overwrite", "--no-plots")
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4 and len(manifest["sessions"]) == 1 and manifest["kind"] == "sweep"
    assert not list(out.glob("*.png")) and hidden(tmp_path) == []
    res = invoke("sweep", exp, "--out", out, "--overwrite", "--resume")
    assert res.exit_code == 2 and "choose one" in res.stderr


# -- resume --------------------------------------------------------------------------------------


def test_resume_refuses_another_engine_version(paths, tmp_path):
    _, exp = paths
    out = tmp_path / "o"
    assert invoke("sweep", exp, "--out", out, "-q", "--no-plots").exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["engine_version"] = manifest["versions"]["negotiation_sim"] = "0.0.1"
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = listing(out)
    res = invoke("sweep", exp, "--out", out, "--resume")
    assert res.exit_code == 1 and "0.0.1" in res.stderr and "--overwrite" in res.stderr
    assert listing(out) == before


def test_resume_removes_the_figures_of_an_earlier_session(paths, tmp_path):
    """Figures drawn from fewer points do not stay beside more: a resumed session removes those
    its manifest lists and lists the ones it draws."""
    _, exp = paths
    out = tmp_path / "o"
    assert invoke("sweep", exp, "--out", out, "-q").exit_code == 0
    listed = json.loads((out / "manifest.json").read_text())["figures"]
    assert listed and all((out / f).is_file() for f in listed)
    (out / "runs" / "part-000001-00001.parquet").unlink()  # as if a task were lost
    res = invoke("sweep", exp, "--out", out, "-q", "--resume", "--no-plots")
    assert res.exit_code == 0, res.output
    assert not any((out / f).exists() for f in listed)
    assert json.loads((out / "manifest.json").read_text()).get("figures", []) == []


# -- every exit path leaves nothing behind --------------------------------------------------------


def _fail_after(monkeypatch, n: int, error: BaseException):
    real, calls = chunks.simulate_chunk, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) > n:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(chunks, "simulate_chunk", failing)


@pytest.mark.parametrize("error", [
    RuntimeError("solver exploded"),
    OSError(errno.ENOSPC, "No space left on device"),
    KeyboardInterrupt(),
], ids=["exception", "disk-full", "interrupt"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "over-a-run"])
def test_a_run_that_stops_leaves_out_as_it_was_and_no_temporary_file(
        paths, tmp_path, monkeypatch, error, existing):
    scenario, _ = paths
    out = tmp_path / "o"
    if existing:
        assert run_out(scenario, out, "--no-plots").exit_code == 0
    before = listing(tmp_path)
    _fail_after(monkeypatch, 1, error)  # the first chunk is streamed, the second fails
    with pytest.raises(type(error)):
        ns.run(scenario, runs=1100, chunk_size=1024, out=out, plots=False, overwrite=existing)
    assert listing(tmp_path) == before and hidden(tmp_path) == []
    assert out.exists() == existing


def test_a_full_disk_while_streaming_rows_leaves_no_temporary_file(paths, tmp_path,
                                                                    monkeypatch):
    import pyarrow.parquet as pq

    scenario, _ = paths
    real, calls = pq.ParquetWriter.write_table, []

    def full(self, table, *args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    res = run_out(scenario, tmp_path / "o", "--no-plots")
    assert res.exit_code == 1 and "No space left" in res.stderr, res.output
    assert "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml", "small.yaml"]


def test_a_failed_write_of_a_file_leaves_no_temporary_file(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.json, "dump", full)
    with pytest.raises(OSError):
        files.write_json_atomic(tmp_path / "x.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []


def test_a_staging_directory_of_a_killed_process_is_removed_by_the_next_run(paths, tmp_path):
    scenario, _ = paths
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".o.negsim-{dead}-abc.tmp"
    stale.mkdir()
    (stale / "runs.parquet").write_bytes(os.urandom(64))
    mine = tmp_path / ".o.negsim-1-mine.tmp"  # pid 1 lives: not a stale directory
    mine.mkdir()
    assert run_out(scenario, tmp_path / "o", "--no-plots").exit_code == 0
    assert not stale.exists() and mine.exists()


def test_a_sweep_interrupted_in_process_leaves_no_temporary_file(paths, tmp_path, monkeypatch):
    _, exp = paths
    out = tmp_path / "o"
    _fail_after(monkeypatch, 2, KeyboardInterrupt())
    with pytest.raises(ns.SweepInterrupted) as caught:
        ns.sweep(exp, out=out, executor="serial", plots=False)
    assert "--resume" in str(caught.value)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and "--resume" in manifest["resume"]
    assert manifest["tasks"]["done"] == 2 and manifest["tasks"]["total"] == 4 and hidden(tmp_path) == []


@pytest.mark.parametrize("command", ["schema", "report"])
def test_out_of_a_one_file_command_naming_a_directory_is_one_line(paths, tmp_path, command):
    scenario, _ = paths
    if command == "report":
        assert run_out(scenario, tmp_path / "o", "--no-plots").exit_code == 0
    args = ["schema", "scenario"] if command == "schema" else ["report", tmp_path / "o"]
    target = tmp_path / "a-dir"
    target.mkdir()
    res = invoke(*args, "--out", target)
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert res.stderr.strip() == f"error: --out must be a file: {target} is a directory"
    assert list(target.iterdir()) == [] and hidden(tmp_path) == []
    res = invoke(*args, "--out", tmp_path / "new" / "x.out")
    assert res.exit_code == 0 and (tmp_path / "new" / "x.out").stat().st_size > 0, res.output


def test_files_written_together_are_all_there_or_none(tmp_path):
    """A failure part-way (a full disk, an interrupt) removes what the block wrote, so no
    directory is left looking finished with some of its files (figures, a backtest's tables)."""
    from negotiation_sim.plots.figures import write_figures
    from negotiation_sim.results.files import all_or_none

    with pytest.raises(OSError), all_or_none() as written:
        (tmp_path / "a.txt").write_text("a")
        written.append(tmp_path / "a.txt")
        raise OSError(28, "No space left on device")
    assert not (tmp_path / "a.txt").exists()

    import matplotlib.pyplot as plt

    def fine():
        return plt.figure()

    def full():
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_figures({"outcomes": fine, "terms": full}, tmp_path / "figs")
    assert list((tmp_path / "figs").iterdir()) == []
    plt.close("all")


def test_a_backtest_that_fails_to_draw_leaves_no_tables_behind(tmp_path, monkeypatch):
    from negotiation_sim.cli import backtest as cli_backtest
    from negotiation_sim.plots import style

    result = {"name": "b", "runs": 10, "seed": 0, "questions": []}
    monkeypatch.setattr("negotiation_sim.analysis.backtest.to_csv", lambda r: "id\n")
    monkeypatch.setattr("negotiation_sim.analysis.backtest.to_markdown", lambda r: "# b\n")
    monkeypatch.setattr("negotiation_sim.plots.backtest.reliability_figure", lambda r: None)
    monkeypatch.setattr("negotiation_sim.plots.backtest.question_figure", lambda r: None)

    def full(fig, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(style, "save", full)
    with pytest.raises(OSError):
        cli_backtest.write_outputs(result, tmp_path / "bt")
    assert list((tmp_path / "bt").iterdir()) == []


def test_a_write_error_names_the_file_it_was_writing(tmp_path):
    """A full disk mid-write names the file (the write's own error names none): the one error
    line then says where."""
    from negotiation_sim.results.files import atomic_path

    with pytest.raises(OSError) as info, atomic_path(tmp_path / "summary.json"):
        raise OSError(28, "No space left on device")
    assert info.value.errno == 28 and info.value.filename == str(tmp_path / "summary.json")
    assert list(tmp_path.iterdir()) == []
