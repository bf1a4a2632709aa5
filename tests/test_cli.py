"""End-to-end command line: run, --json, validate, and every kind of bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SCENARIOS, SMALL, write_yaml
from typer.testing import CliRunner

from negotiation_sim.cli import app
from negotiation_sim.config.kinds import KINDS

runner = CliRunner()
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<field>[\w.\-]+): .+$")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_run_json_has_the_contract_shape(tmp_path, small_data):
    path = write_yaml(tmp_path / "s.yaml", small_data)
    res = invoke("run", path, "--runs", 3000, "--json", "--seed", 4)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) >= {"scenario", "runs", "seed", "outcomes", "formats", "terms", "rounds", "utilities"}
    assert out["runs"] == 3000 and out["seed"] == 4 and out["scenario"] == "small"
    assert set(out["outcomes"]) == {"agreement", "ceasefire", "breakdown", "no_summit"}
    assert sum(o["share"] for o in out["outcomes"].values()) == pytest.approx(1.0)
    for o in out["outcomes"].values():
        assert 0 <= o["ci95"][0] <= o["share"] <= o["ci95"][1] <= 1
    assert set(out["formats"]) == {"bilateral", "trilateral"}
    assert set(out["terms"]) == {"territory", "guarantees"}
    for stats in out["terms"].values():
        assert stats is None or stats["p05"] <= stats["p50"] <= stats["p95"]
    assert set(out["utilities"]) == {"russia", "ukraine", "germany"}


def test_run_writes_files_and_reproduces(tmp_path, small_data):
    path = write_yaml(tmp_path / "s.yaml", small_data)
    for d in ("a", "b"):
        res = invoke("run", path, "--runs", 2500, "--out", tmp_path / d, "--quiet")
        assert res.exit_code == 0, res.output
    for name in ("runs.parquet", "summary.json", "manifest.json", "outcomes.png"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    a = pq.read_table(tmp_path / "a" / "runs.parquet")
    assert a.num_rows == 2500
    assert {"world", "outcome", "format", "round", "terms.territory", "utility.russia",
            "input.actors.russia.reservation"} <= set(a.column_names)
    assert a.equals(pq.read_table(tmp_path / "b" / "runs.parquet"))
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["seed"] == 0 and len(manifest["scenario_hash"]) == 64


def test_validate_ok_and_problems(tmp_path, small_data):
    good = write_yaml(tmp_path / "good.yaml", small_data)
    small_data["actors"]["russia"]["walkout"] = 2
    bad = write_yaml(tmp_path / "bad.yaml", small_data)
    res = invoke("validate", good, bad)
    assert res.exit_code == 1
    lines = res.stdout.strip().splitlines()
    assert lines[0] == f"ok {good}"
    m = LINE.match(lines[1])
    assert m and m["file"] == str(bad) and m["field"] == "actors.russia.walkout"


BAD_YAML = {
    "syntax": ("name: x\nissues: {a: {status_quo: 0.5}\nactors: []\n", 3, ""),
    "tag": ("name: !!python/object/apply:os.system ['true']\nissues: {}\nactors: {}\n", 1, ""),
    "bomb": ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi")), None, ""),
}


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_bad_yaml_gets_one_line_and_exit_1(tmp_path, case):
    text, line, _ = BAD_YAML[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    res = invoke("run", path, "--runs", 10)
    assert res.exit_code == 1
    err = res.stderr.strip()
    assert "Traceback" not in res.output and len(err.splitlines()) == 1
    assert str(path) in err
    if line is not None:
        assert f"{path}:{line}:" in err


def mutate(data, path, value):
    *head, last = path
    node = data
    for key in head:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value


DELETE = object()
BAD_FIELDS = {
    "unknown field": (("actors", "russia", "flexibility"), 0.5, "actors.russia.flexibility"),
    "missing field": (("name",), DELETE, "name"),
    "missing position": (("actors", "ukraine", "position", "guarantees"), DELETE, "actors.ukraine.position"),
    "unknown issue in position": (("actors", "russia", "position", "crimea"), 1.0, "actors.russia.position.crimea"),
    "unknown actor in format": (("summit", "formats", "bilateral"), ["russia", "ukraine", "china"], "summit.formats.bilateral.2"),
    "unknown format in order": (("summit", "order"), ["bilateral", "wider"], "summit.order.1"),
    "unknown principal pressured": (("actors", "us", "pressure", "belarus"), 0.1, "actors.us.pressure.belarus"),
    "out of range": (("actors", "russia", "patience"), 1.5, "actors.russia.patience"),
    "nan": (("actors", "russia", "clout"), float("nan"), "actors.russia.clout"),
    "infinity": (("issues", "territory", "status_quo"), float("inf"), "issues.territory.status_quo"),
    "negative sd": (("actors", "ukraine", "reservation"), {"dist": "normal", "mean": 0.3, "sd": -1}, "actors.ukraine.reservation.sd"),
    "low above high": (("actors", "ukraine", "reservation"), {"dist": "uniform", "low": 0.5, "high": 0.1}, "actors.ukraine.reservation"),
    "weights not summing to one": (("actors", "ukraine", "reservation"), {"dist": "choice", "values": [0.1, 0.2], "weights": [0.5, 0.6]}, "actors.ukraine.reservation"),
    "unknown distribution": (("actors", "ukraine", "reservation"), {"dist": "poisson", "lam": 1}, "actors.ukraine.reservation.dist"),
    "unparsable red line": (("actors", "ukraine", "red_lines"), ["territory is zero"], "actors.ukraine.red_lines.0"),
    "red line on unknown issue": (("actors", "ukraine", "red_lines"), ["crimea <= 0"], "actors.ukraine.red_lines.0"),
    "unknown role": (("actors", "germany", "role"), "observer", "actors.germany.role"),
    "no principal": (("actors",), {"us": {"role": "mediator"}}, "actors"),
    "distribution outside range": (("actors", "russia", "walkout"), {"dist": "uniform", "low": 0, "high": 2}, "actors.russia.walkout"),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_bad_field_names_file_line_and_field(tmp_path, small_data, case):
    loc, value, field = BAD_FIELDS[case]
    mutate(small_data, loc, value)
    path = write_yaml(tmp_path / "bad.yaml", small_data)
    res = invoke("run", path, "--runs", 10)
    assert res.exit_code == 1, res.output
    err = res.stderr.strip()
    assert "Traceback" not in res.output
    # one located line per problem (as validate prints them), the mistake first
    lines = err.splitlines()
    assert lines == [f"error: {p}" for p in invoke("validate", path).stdout.strip().splitlines()]
    for line in lines:
        m = re.match(r"^error: (?P<file>[^:]+):(?P<line>\d+): (?P<field>[\w.\-]+): ", line)
        assert m, line
        assert m["file"] == str(path)
        assert 1 <= int(m["line"]) <= len(path.read_text().splitlines())
    assert re.match(r"^error: [^:]+:\d+: (?P<field>[\w.\-]+): ", lines[0])["field"] == field


def test_missing_file(tmp_path):
    res = invoke("run", tmp_path / "nope.yaml")
    assert res.exit_code == 1 and "nope.yaml" in res.stderr and "Traceback" not in res.output


def test_bad_usage_exits_2(tmp_path):
    assert invoke("run").exit_code == 2
    assert invoke("run", "x.yaml", "--runs", 0).exit_code == 2


@pytest.mark.parametrize("args, says, command", [
    (("run", "x.yaml", "--runs", 0), "'--runs'", "negsim run"),
    (("run", "x.yaml", "-n", "many"), "valid integer", "negsim run"),
    (("run",), "Missing argument 'SCENARIO'", "negsim run"),
    (("run", "x.yaml", "--bogus"), "No such option: --bogus", "negsim run"),
    (("runn",), "No such command 'runn'", "negsim"),
    (("--bogus",), "No such option: --bogus", "negsim"),
    (("export", "x", "-f", "json"), "'json' is not one of", "negsim export"),
    (("trace", "x.yaml", "--world", -1), "'--world'", "negsim trace"),
    (("sweep", "x.yaml", "--executor", "threads"), "'threads' is not one of", "negsim sweep"),
])
def test_a_usage_error_is_one_line_naming_the_help_to_read(args, says, command):
    """An option's bad value, an unknown option or command, a missing argument: one error line
    on stderr that names the command's --help, exit code 2 (not typer's boxed usage)."""
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert says in lines[0] and f"(see '{command} --help')" in lines[0], lines[0]
    assert "Usage:" not in res.output and "╭" not in res.output


def test_negsim_alone_still_prints_its_help():
    res = invoke()
    assert "Usage: negsim" in res.output and "run" in res.output and "error:" not in res.output


def test_debug_shows_the_traceback(tmp_path):
    res = invoke("run", tmp_path / "nope.yaml", "--debug")
    assert res.exit_code != 0 and res.exception is not None


def test_console_script_entry_point(tmp_path, small_data):
    """The real process: python -m negotiation_sim, exit codes and stdout as users see them."""
    path = write_yaml(tmp_path / "s.yaml", small_data)
    ok = subprocess.run([sys.executable, "-m", "negotiation_sim", "run", str(path), "--runs", "500",
                         "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["runs"] == 500
    version = subprocess.run([sys.executable, "-m", "negotiation_sim", "--version"],
                             capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("negsim ")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_validate_and_run(path):
    assert invoke("validate", path).exit_code == 0
    res = invoke("run", path, "--runs", 2000, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert sum(o["share"] for o in out["outcomes"].values()) == pytest.approx(1.0)


def test_audience_cost_without_a_summit_section_is_an_error(tmp_path, pie_data):
    pie_data["actors"]["a"]["audience_cost"] = {"bilateral": 0.1}
    path = write_yaml(tmp_path / "p.yaml", pie_data)
    res = invoke("validate", path)
    assert res.exit_code == 1
    assert "actors.a.audience_cost: audience_cost needs a summit section" in res.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_schema_exports_json_schema(kind):
    res = invoke("schema", kind)
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert schema["type"] == "object" and "properties" in schema
    assert invoke("schema", "nonsense").exit_code == 2


def test_validate_checks_experiment_files_too(tmp_path):
    from conftest import ROOT

    bad = tmp_path / "exp.yaml"
    bad.write_text(f"name: x\nscenario: {ROOT / 'scenarios' / 'summit_baseline.yaml'}\nruns: 10\n"
                   "sweep:\n  method: grid\n  parameters:\n    actors.rusia.reservation: [0.1]\n")
    res = invoke("validate", *sorted((ROOT / "experiments").glob("*.yaml")), bad)
    assert res.exit_code == 1
    # the guarantees sweep sets offers below the status quo at some points on purpose: those
    # points are warned about (valid, and said once per value), not refused
    lines = [line for line in res.stdout.strip().splitlines() if not line.startswith("warning:")]
    assert all(line.startswith("ok ") for line in lines[:-1])
    assert lines[-1].startswith(f"{bad}:7: sweep.parameters.actors.rusia.reservation: unknown path")


def test_every_chunk_size_default_is_the_engines():
    """--chunk-size defaults to config.defaults.DEFAULT_CHUNK, named, never a number written
    again in a command (and the help says what it is)."""
    import ast

    from conftest import ROOT

    from negotiation_sim.config.defaults import DEFAULT_CHUNK

    found = []
    for path in sorted((ROOT / "negotiation_sim" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                args = node.args.args + node.args.kwonlyargs
                defaults = [None] * (len(node.args.args) - len(node.args.defaults))
                defaults += node.args.defaults + node.args.kw_defaults
                for arg, default in zip(args, defaults):
                    if arg.arg == "chunk_size":
                        found.append((path.name, node.name, ast.unparse(default)))
    assert {(f, c) for f, c, _ in found} >= {("run.py", "run"), ("figures.py", "compare")}
    assert all(d == "DEFAULT_CHUNK" for _, _, d in found), found
    help_text = invoke("run", "--help").stdout
    assert str(DEFAULT_CHUNK) in help_text


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_help_imports_neither_numpy_nor_the_model():
    """negsim --help must start fast: no numpy, pandas, pydantic or Mesa behind it."""
    res = run_python(
        "import sys\n"
        "from negotiation_sim.cli import main\n"
        "sys.argv = ['negsim', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'numpy', 'pandas', 'pydantic', 'mesa', 'pyarrow'} & set(sys.modules)\n"
        "ours = [m for m in sys.modules if m.startswith('negotiation_sim.')\n"
        "        and not m.startswith(('negotiation_sim.cli', 'negotiation_sim.results.schema',\n"
        "                              'negotiation_sim.config.defaults', 'negotiation_sim.config.limits'))\n"
        "        and m not in ('negotiation_sim.results', 'negotiation_sim.config',\n"
        "                      'negotiation_sim.run', 'negotiation_sim.run.signals')]\n"
        "sys.exit(f'{sorted(heavy)} {ours}' if heavy or ours else 0)\n")
    assert res.returncode == 0, res.stderr or res.stdout
    assert "Usage" in res.stdout and "sweep" in res.stdout


def test_no_private_name_is_imported_across_modules():
    """Modules share public names only (a private helper used elsewhere is not private)."""
    import ast

    from conftest import ROOT

    bad = []
    layers = ("results", "analysis", "plots", "report", "cli")
    files = [p for layer in layers for p in (ROOT / "negotiation_sim" / layer).rglob("*.py")]
    for path in [*files, ROOT / "negotiation_sim" / "api.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "negotiation_sim"):
                bad += [f"{path.name}: {node.module}.{a.name}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    assert not bad, bad


def test_every_commands_help_is_rendered_text_without_types_on_flags():
    """--help of every command: no placeholder left unformatted (a missing f-prefix printed
    ``{', '.join(...)}``) and no value type beside a flag (``--quiet <bool>``)."""
    from negotiation_sim.cli import COMMANDS

    for _, name in COMMANDS:
        res = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0, (name, res.output)
        assert "<bool>" not in res.output, name
        lines = res.output.splitlines()
        usage = next(line for line in lines if "Usage:" in line)
        body = "\n".join(line for line in lines if line is not usage)
        assert "join(" not in body and "{" not in body, name
        args = re.findall(r"[{\[]([A-Za-z_]+)[}\]]", usage)
        assert all(a.isupper() or a == "OPTIONS" for a in args), (name, usage)


def test_every_commands_help_is_whole_at_80_columns():
    """--help in an 80-column terminal wraps, never cuts: no word ends in an ellipsis (target's
    lever path example was cut to ``actors.us.pressure.russ…``) and its example stays whole."""
    from negotiation_sim.cli import COMMANDS

    for _, name in COMMANDS:
        res = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "80"})
        assert res.exit_code == 0, (name, res.output)
        assert "…" not in res.output, (name, res.output)
    res = CliRunner().invoke(app, ["target", "--help"], env={"COLUMNS": "80"})
    assert "--vary actors.us.pressure.russia" in res.output


def test_output_piped_to_a_file_is_never_cut_to_80_columns(tmp_path):
    """A run and a trace written to a pipe keep every cell whole: no ellipsis, lines as long
    as their data (a terminal wraps at its own width instead)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    scenario = str(Path(__file__).parent / "data" / "figures_summit.yaml")
    for args in (["run", scenario, "--runs", "300", "--no-warn"], ["trace", scenario]):
        out = subprocess.run([sys.executable, "-m", "negotiation_sim", *args],
                             capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        assert "…" not in out.stdout, args
    assert max(len(line) for line in out.stdout.splitlines()) > 80


def test_commands_are_listed_in_the_order_of_a_study_and_the_readme_agrees():
    from negotiation_sim.cli import COMMANDS

    names = [n for _, n in COMMANDS]
    assert names[:3] == ["validate", "schema", "run"] and names.index("sweep") < names.index(
        "sensitivity") < names.index("discover")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    listed = re.findall(r"^\| `negsim (\w+)", readme, re.M)
    assert listed == names
    top = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "<bool>" not in top and "ensembles of worlds" in top
    assert [n for n in re.findall(r"│ (\w+) ", top) if n in names] == names


def test_validate_quiet_prints_only_problems(tmp_path):
    good = write_yaml(tmp_path / "good.yaml", SMALL)
    res = CliRunner().invoke(app, ["validate", "-q", str(good)])
    assert res.exit_code == 0 and res.output == ""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    res = CliRunner().invoke(app, ["validate", "--quiet", str(good), str(bad)])
    assert res.exit_code == 1 and "ok " not in res.output and str(bad) in res.output


def test_sweep_json_prints_the_points_table_and_nothing_else(tmp_path):
    write_yaml(tmp_path / "s.yaml", SMALL)
    (tmp_path / "e.yaml").write_text(
        "name: j\nscenario: s.yaml\nruns: 50\nsweep:\n  method: list\n  points:\n"
        "    - {label: as written}\n    - {label: none, actors.us.pressure.russia: 0.0}\n")
    res = CliRunner().invoke(app, ["sweep", str(tmp_path / "e.yaml"), "--out",
                                   str(tmp_path / "out"), "--no-plots", "--json", "--quiet"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["experiment"] == "j" and data["runs_per_point"] == 50 and data["failed"] == []
    assert [p["label"] for p in data["points"]] == ["as written", "none"]
    assert all(abs(sum(p[o] for o in ("agreement", "ceasefire", "breakdown", "no_summit")) - 1)
               < 1e-9 for p in data["points"])


def test_every_command_that_reports_progress_or_warnings_takes_quiet():
    from negotiation_sim.cli import COMMANDS

    for _, name in COMMANDS:
        if name in ("schema", "trace", "explore"):  # data on stdout only; explore: the browser
            continue
        res = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert "--quiet" in res.output, name


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("args", [("schema",), ("run", "SMALL", "--runs", "50", "--json"),
                                  ("run", "SMALL", "--runs", "50")])
def test_output_that_cannot_be_written_is_one_line(tmp_path, args):
    """Standard output on a full disk (``> /dev/full``): one error line, exit 1, where the
    write's traceback was printed."""
    path = write_yaml(tmp_path / "s.yaml", SMALL)
    args = [str(path) if a == "SMALL" else a for a in args]
    with open("/dev/full", "w") as full:
        res = subprocess.run([sys.executable, "-m", "negotiation_sim", *args], stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=300)
    assert res.returncode == 1, res.stderr
    assert res.stderr.strip() == "error: cannot write the output (No space left on device)", \
        res.stderr


def test_a_reader_that_leaves_the_pipe_ends_the_command_quietly():
    head = subprocess.run(f"{sys.executable} -m negotiation_sim schema | head -c 10",
                          shell=True, capture_output=True, text=True, timeout=300)
    assert head.stdout == '{\n  "$defs' and head.stderr == ""
