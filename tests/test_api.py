"""The Python API: the command line's engine and files, per-world rows kept or not, sweeps,
comparisons and traces through it, and the package's lazy exports."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot  # noqa: F401 - figures are closed through it (no test may rely on another having imported it)
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ROOT, SMALL, write_yaml
from typer.testing import CliRunner

import negotiation_sim as ns
from negotiation_sim import api
from negotiation_sim.cli import app
from negotiation_sim.results import schema

matplotlib.use("Agg")
cli = CliRunner()

GRID = """name: api-grid
scenario: small.yaml
runs: 1100
seed: 3
chunk_size: 1024
sweep:
  method: grid
  parameters:
    actors.russia.reservation.high: [0.4, 0.6]
    actors.germany.offer.guarantees: [0.3, 0.7]
"""


@pytest.fixture
def scenario(tmp_path) -> Path:
    return write_yaml(tmp_path / "small.yaml", SMALL)


@pytest.fixture
def experiment(scenario) -> Path:
    path = scenario.parent / "grid.yaml"
    path.write_text(GRID)
    return path


def invoke(*args):
    res = cli.invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def data_files(out: Path) -> dict[str, bytes]:
    """A results directory's files but its manifest (times, hosts) and figures."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != schema.MANIFEST_FILE and p.suffix != ".png"}


def same_images(a: Path, b: Path) -> bool:
    import matplotlib.image as image

    x, y = image.imread(a), image.imread(b)
    return x.shape == y.shape and np.array_equal(x, y)


# -- run --------------------------------------------------------------------------------------


def test_summary_is_what_negsim_run_json_prints(scenario):
    res = ns.run(scenario, runs=3000, seed=4)
    printed = json.loads(invoke("run", scenario, "--runs", 3000, "--seed", 4, "--json").stdout)
    assert res.summary == printed
    assert ns.run(ns.load_scenario(scenario), runs=3000, seed=4).summary == printed


def test_save_writes_the_files_of_negsim_run_out(scenario, tmp_path):
    res = ns.run(scenario, runs=2500, seed=1)
    res.save(tmp_path / "api")
    invoke("run", scenario, "--runs", 2500, "--seed", 1, "--out", tmp_path / "cli", "-q")
    api_files, cli_files = data_files(tmp_path / "api"), data_files(tmp_path / "cli")
    assert set(api_files) == set(cli_files) == {schema.RUNS_FILE, schema.SUMMARY_FILE,
                                                schema.SCENARIO_FILE}
    assert api_files[schema.SUMMARY_FILE] == cli_files[schema.SUMMARY_FILE]
    assert api_files[schema.SCENARIO_FILE] == cli_files[schema.SCENARIO_FILE]
    a, b = (pd.read_parquet(d / schema.RUNS_FILE) for d in (tmp_path / "api", tmp_path / "cli"))
    assert a.equals(b)
    for kind in schema.RUN_FIGURES:  # the same figures, pixel for pixel
        name = schema.figure_file(kind)
        assert same_images(tmp_path / "api" / name, tmp_path / "cli" / name), name
    manifests = [json.loads((tmp_path / d / schema.MANIFEST_FILE).read_text())
                 for d in ("api", "cli")]
    assert set(manifests[0]) == set(manifests[1])
    for key in ("scenario", "scenario_file", "scenario_hash", "seed", "runs", "chunk_size"):
        assert manifests[0][key] == manifests[1][key], key


def test_runs_hold_every_column_and_world(scenario, tmp_path):
    res = ns.run(scenario, runs=2100, seed=2)
    out = tmp_path / "o"
    invoke("run", scenario, "--runs", 2100, "--seed", 2, "--out", out, "-q", "--no-plots")
    table = pq.read_table(out / schema.RUNS_FILE)
    assert list(res.runs.columns) == table.column_names and len(res.runs) == 2100
    assert {"input.actors.russia.reservation", "input.actors.germany.offer.guarantees",
            "walked_out", "terms.guarantees", "utility.germany"} <= set(res.runs.columns)
    stored = ns.load_results(out)
    assert isinstance(stored, ns.Run) and stored.runs.equals(res.runs)


def test_out_streams_the_rows_there(scenario, tmp_path, monkeypatch):
    """Rows stream to a staging directory beside ``out`` (renamed into place), never to the
    system's temporary directory."""
    mkdtemp = api.tempfile.mkdtemp

    def beside_out(*args, dir=None, **kwargs):
        assert dir is not None and Path(dir) == tmp_path, dir
        return mkdtemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(api.tempfile, "mkdtemp", beside_out)
    res = ns.run(scenario, runs=1500, out=tmp_path / "o", plots=False)
    assert res.runs_file == tmp_path / "o" / schema.RUNS_FILE and res.path == tmp_path / "o"
    assert not list((tmp_path / "o").glob("*.png"))
    assert ns.load_results(tmp_path / "o").summary == res.summary


def test_keep_runs_false_keeps_nothing_per_world(scenario, monkeypatch):
    """What negsim run without --out does: no file, no rows, any number of worlds."""
    import negotiation_sim.results.files as files

    monkeypatch.setattr(api.tempfile, "mkdtemp", _forbidden)
    monkeypatch.setattr(files, "RunWriter", _forbidden)
    res = ns.run(scenario, runs=2048, keep_runs=False)
    assert res.summary["runs"] == 2048 and not res.kept and res.marks is None
    matplotlib.pyplot.close(res.plot("outcomes"))  # from the summary alone
    with pytest.raises(ns.RunsNotKept):
        _ = res.runs
    with pytest.raises(ns.RunsNotKept):
        res.plot("terms")
    with pytest.raises(ns.RunsNotKept):
        res.save("nowhere")


def test_keep_runs_memory_keeps_the_rows_a_file_would_hold_without_a_file(scenario, tmp_path,
                                                                          monkeypatch):
    """The explorer's reruns: the rows in memory, the same as read back from runs.parquet,
    and saved as the same file."""
    import pandas as pd

    import negotiation_sim.results.files as files

    on_file = ns.run(scenario, runs=1500, seed=3, chunk_size=512)
    monkeypatch.setattr(api.tempfile, "mkdtemp", _forbidden)
    monkeypatch.setattr(files, "RunWriter", _forbidden)
    res = ns.run(scenario, runs=1500, seed=3, chunk_size=512, keep_runs="memory")
    assert res.kept and res.runs_file is None and res.path is None
    assert res.summary == on_file.summary and res.marks == on_file.marks
    pd.testing.assert_frame_equal(res.runs, on_file.runs)
    pd.testing.assert_frame_equal(res.sample.reset_index(drop=True),
                                  on_file.sample.reset_index(drop=True))
    saved = res.save(tmp_path / "saved", plots=False)
    pd.testing.assert_frame_equal(ns.load_results(saved).runs, on_file.runs)
    with pytest.raises(ValueError, match="keep_runs must be True, False or 'memory'"):
        ns.run(scenario, runs=10, keep_runs="disk")


def test_negsim_run_without_out_keeps_nothing(scenario, monkeypatch):
    seen = {}
    real = api.run

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "run", spy)
    invoke("run", scenario, "--runs", 1024, "--json")
    assert seen["keep_runs"] is False and seen["out"] is None and seen["runs"] == 1024


def test_a_runs_temporary_rows_go_with_it(scenario):
    res = ns.run(scenario, runs=1024)
    home = res.runs_file.parent
    assert res.runs_file.is_file()
    del res
    gc.collect()
    assert not home.exists()


def test_plot_kinds(scenario):
    res = ns.run(scenario, runs=1024)
    for kind in schema.RUN_FIGURES:
        fig = res.plot(kind)
        assert fig.axes
        matplotlib.pyplot.close(fig)
    with pytest.raises(ValueError, match="available: outcomes, terms, utilities, formats"):
        res.plot("nope")


def test_bad_input_raises_the_clis_one_line(scenario, tmp_path):
    data = dict(SMALL, actors={**SMALL["actors"], "russia": {**SMALL["actors"]["russia"],
                                                             "patience": 1.5}})
    bad = write_yaml(tmp_path / "bad.yaml", data)
    with pytest.raises(ns.InputError) as err:
        ns.load_scenario(bad)
    res = cli.invoke(app, ["run", str(bad)])
    assert res.exit_code == 1 and res.stderr.strip() == f"error: {err.value}"
    assert err.value.problems[0].field == "actors.russia.patience"
    with pytest.raises(ns.InputError):
        ns.run(bad, runs=10)
    with pytest.raises(ValueError, match="at least 1"):
        ns.run(scenario, runs=0)


# -- sweep ------------------------------------------------------------------------------------


def test_sweep_writes_what_negsim_sweep_writes(experiment, tmp_path):
    sw = ns.sweep(experiment, out=tmp_path / "api", plots=False)
    invoke("sweep", experiment, "--out", tmp_path / "cli", "-q", "--no-plots")
    assert data_files(tmp_path / "api") == data_files(tmp_path / "cli")
    assert isinstance(sw, ns.Sweep) and sw.report.ok and sw.report.ran == 8
    assert sw.points.equals(pq.read_table(tmp_path / "cli" / schema.POINTS_FILE).to_pandas())
    assert len(sw.summary) == 4 and len(sw.runs) == 4 * 1100


def test_sweep_on_processes_gives_the_same_files(experiment, tmp_path):
    ns.sweep(experiment, out=tmp_path / "serial", plots=False)
    ns.sweep(experiment, out=tmp_path / "proc", executor="processes", workers=2, plots=False)
    assert data_files(tmp_path / "proc") == data_files(tmp_path / "serial")


def test_a_sweep_without_out_lives_until_saved_or_dropped(experiment, tmp_path):
    sw = ns.sweep(experiment)
    home = sw.path
    assert (home / schema.SWEEP_SUMMARY_FILE).is_file() and not list(home.glob("*.png"))
    sw.save(tmp_path / "kept")
    assert data_files(tmp_path / "kept") == data_files(home)
    assert (tmp_path / "kept" / schema.figure_file("outcomes")).is_file()
    matplotlib.pyplot.close(sw.plot("heatmap"))
    with pytest.raises(ValueError, match="available"):
        sw.plot("trajectory")
    del sw
    gc.collect()
    assert not home.exists()
    assert isinstance(ns.load_results(tmp_path / "kept"), ns.Sweep)


def test_failed_tasks_raise_with_the_points_that_finished(experiment, tmp_path, monkeypatch):
    from negotiation_sim.run import chunks

    real = chunks.simulate_chunk

    def flaky(scenario, n, *, point, first_world, **kw):
        if point == 2 and first_world == 1024:
            raise RuntimeError("solver exploded")
        return real(scenario, n, point=point, first_world=first_world, **kw)

    monkeypatch.setattr(chunks, "simulate_chunk", flaky)
    with pytest.raises(ns.SweepFailed, match="1 of 8 tasks failed") as err:
        ns.sweep(experiment, out=tmp_path / "o")
    assert err.value.results.summary["point"].tolist() == [0, 1, 3]
    assert "solver exploded" in err.value.report.failed[0]["error"]
    monkeypatch.setattr(chunks, "simulate_chunk", real)
    assert ns.sweep(experiment, out=tmp_path / "o", resume=True).report.ran == 1


SOBOL = """name: api-sobol
scenario: small.yaml
runs: 64
seed: 4
sweep:
  method: sobol
  samples: 4
  parameters:
    actors.russia.reservation: {low: 0.2, high: 0.5}
    actors.ukraine.reservation: {low: 0.1, high: 0.5}
"""


def test_a_sobol_sweep_saves_its_indices_or_warns(scenario, tmp_path, monkeypatch):
    pytest.importorskip("SALib")
    import negotiation_sim.analysis.sensitivity as sensitivity

    exp = scenario.parent / "sobol.yaml"
    exp.write_text(SOBOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # SALib on constant outputs
        sw = ns.sweep(exp, out=tmp_path / "a", plots=False)
    saved = json.loads((tmp_path / "a" / schema.SENSITIVITY_FILE).read_text())
    assert saved["metric"] == "agreement" and saved["points"] == 16
    assert list(sw.sensitivity["parameter"]) == ["actors.russia.reservation",
                                                 "actors.ukraine.reservation"]

    def no_salib(*args, **kwargs):
        raise ImportError("SALib is not installed")

    monkeypatch.setattr(sensitivity, "analyze", no_salib)
    with pytest.warns(ns.SensitivityWarning, match="no sensitivity indices saved: SALib"):
        sw = ns.sweep(exp, out=tmp_path / "b", plots=False)
    assert sw.sensitivity is None and not (tmp_path / "b" / schema.SENSITIVITY_FILE).exists()
    res = cli.invoke(app, ["sweep", str(exp), "--out", str(tmp_path / "c"), "--no-plots"])
    assert res.exit_code == 0, res.output
    assert "warning: no sensitivity indices saved: SALib is not installed" in res.stderr


# -- compare, trace ---------------------------------------------------------------------------


def test_compare_is_negsim_compare(scenario, experiment, tmp_path):
    other = write_yaml(tmp_path / "other.yaml", dict(SMALL, name="other", protocol={"rounds": 3}))
    run_dir = tmp_path / "r"
    ns.run(scenario, runs=1024, out=run_dir, plots=False)
    printed = json.loads(invoke("compare", scenario, other, run_dir, "--runs", 1024,
                                "--json").stdout)
    result = ns.compare([scenario, other, run_dir], runs=1024)
    assert result.as_dict() == printed
    assert [d["outcomes"]["agreement"]["difference"] for d in printed["differences"]][1] == 0
    ns.sweep(experiment, out=tmp_path / "sw", plots=False)
    with pytest.raises(ValueError, match="compare takes runs"):
        ns.compare([scenario, tmp_path / "sw"], runs=1024)
    res = cli.invoke(app, ["compare", str(scenario), str(tmp_path / "sw")])
    assert res.exit_code == 1 and "compare takes runs" in res.stderr


def test_trace_is_negsim_trace(scenario):
    printed = json.loads(invoke("trace", scenario, "--world", 3, "--seed", 2, "--json").stdout)
    assert ns.trace(scenario, world=3, seed=2) == printed


# -- the package ------------------------------------------------------------------------------


def run_python(code: str) -> None:
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr


def test_the_api_is_loaded_on_first_use():
    run_python("""
        import sys
        import negotiation_sim as ns
        import negotiation_sim.plots
        assert "negotiation_sim.api" not in sys.modules and "mesa" not in sys.modules
        assert ns.load_scenario.__module__ == "negotiation_sim.api"
        assert {"run", "sweep", "load_results", "plots", "__version__"} <= set(dir(ns))
        try:
            ns.no_such_name
        except AttributeError as err:
            assert "no_such_name" in str(err)
        else:
            raise AssertionError("no AttributeError")
    """)


def test_ns_run_is_the_api_whatever_was_imported_first():
    """negotiation_sim.run is also the run layer's package: both uses keep working."""
    run_python("""
        import inspect
        import negotiation_sim.run.chunks as chunks
        import negotiation_sim.run.executors.serial
        import negotiation_sim as ns
        from negotiation_sim import run
        from negotiation_sim.run import tasks
        assert run is ns.run and callable(ns.run)
        assert ns.run.chunks is chunks and ns.run.tasks is tasks
        assert ns.run.executors.serial.SerialExecutor
        assert "runs" in inspect.signature(ns.run).parameters
        res = ns.run("scenarios/summit_baseline.yaml", runs=1024, keep_runs=False)
        assert res.summary["runs"] == 1024
        import negotiation_sim.run.trace  # a first import after the call: still the API
        assert callable(ns.run) and ns.run.trace.trace_world
    """)


def _forbidden(*args, **kwargs):
    raise AssertionError("must not be called")


@pytest.mark.parametrize("command, function", [
    (["run", "{sc}", "--runs", "1024", "--json"], "run"),
    (["sweep", "{exp}", "--out", "{tmp}/s", "-q", "--no-plots"], "sweep"),
    (["compare", "{sc}", "{sc}", "--runs", "1024", "--json"], "compare"),
    (["trace", "{sc}", "--world", "2", "--json"], "trace"),
    (["plot", "{tmp}/r", "--out", "{tmp}/f", "--kind", "outcomes", "-q"], "load_results"),
])
def test_every_command_goes_through_the_api(command, function, scenario, experiment, tmp_path,
                                            monkeypatch):
    ns.run(scenario, runs=1024, out=tmp_path / "r", plots=False)
    calls = []
    real = getattr(api, function)

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, function, spy)
    args = [a.format(sc=scenario, exp=experiment, tmp=tmp_path) for a in command]
    invoke(*args)
    assert calls, f"negsim {command[0]} did not call api.{function}"


def test_help_of_ns_run_is_the_apis_not_its_wrapper_class():
    """``help(ns.run)`` shows the API's signature and docstring (it showed the internal class
    that lets ``ns.run`` also stand for the ``run`` subpackage)."""
    import pydoc

    import negotiation_sim as ns

    text = pydoc.render_doc(ns.run, renderer=pydoc.plaintext)
    assert "Simulate ``runs`` worlds of a scenario" in text and "run(scenario" in text
    assert "_Run" not in text and "__call__" not in text
    assert ns.run.chunks.__name__ == "negotiation_sim.run.chunks"  # the subpackage still is
