"""Every size limit of docs/limits.md, at its value and just beyond it.

The class of defect: a file that asks for more than the engine can hold (a 10^12-point grid,
``/dev/zero``, a FIFO, 200 actors, a chunk of 10^8 worlds) validated and then ran out of memory
or hung. Each limit must be met up front, with the line of what asks for too much, before
anything large is allocated; and the estimate of memory per world must stay above what the
engine really uses.
"""

from __future__ import annotations

import copy
import os
import sys
import threading
import tracemalloc

import pytest
from conftest import SMALL, write_yaml

from negotiation_sim.config import defaults, limits
from negotiation_sim.config.experiment import checked_points, load_experiment
from negotiation_sim.config.scenario import Scenario, load_scenario, world_bytes
from negotiation_sim.config.yamlio import InputError, load_yaml
from negotiation_sim.run.chunks import iter_chunks


def refused(path, loader=load_scenario):
    with pytest.raises(InputError) as info:
        loader(path)
    return info.value.problems


# -- files ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    found: list = []
    reader = threading.Thread(target=lambda: found.extend(refused(fifo, load_yaml)),
                              daemon=True)
    reader.start()
    reader.join(60)  # a guard against hanging (opening a fifo waits for a writer), not a timing
    if reader.is_alive():  # unblock the waiting open so the thread can end
        with open(fifo, "w"):
            pass
    (problem,) = found
    assert "not a regular file" in problem.message


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_device_is_refused_before_reading():
    (problem,) = refused("/dev/zero", load_yaml)
    assert "not a regular file" in problem.message


def test_files_up_to_the_size_limit_are_read_and_larger_ones_refused(tmp_path):
    head = "name: x\n"
    at = tmp_path / "at.yaml"
    at.write_text(head + "#" * (limits.MAX_FILE_BYTES - len(head) - 1) + "\n")
    assert at.stat().st_size == limits.MAX_FILE_BYTES
    assert load_yaml(at).data == {"name": "x"}
    over = tmp_path / "over.yaml"
    over.write_text(head + "#" * (limits.MAX_FILE_BYTES - len(head)) + "\n")
    (problem,) = refused(over, load_yaml)
    assert "file size" in problem.message and f"{limits.MAX_FILE_BYTES:,}" in problem.message


def test_a_document_of_too_many_nodes_is_refused_before_it_is_built(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text("a: [" + "1," * (limits.MAX_FILE_BYTES // 2 - 8) + "]\n")
    tracemalloc.start()
    (problem,) = refused(path, load_yaml)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert f"more than {limits.MAX_NODES} nodes" in problem.message
    assert peak < 64 * 2**20  # refused before the document is built (its time: benchmarks/)


# -- scenarios -----------------------------------------------------------------------------------


def _wide(n_issues=1, n_actors=2, kind="mediated", rounds=10, principals=2):
    issues = {f"i{k}": {"status_quo": 0.5} for k in range(n_issues)}
    actors = {}
    for a in range(n_actors):
        role = "principal" if a < principals else ("mediator" if a == principals else "guarantor")
        actor = {"role": role, "position": {k: (a * 0.37 + j * 0.11) % 1
                                            for j, k in enumerate(issues)}}
        if role == "principal":
            actor.update(reservation={"dist": "uniform", "low": 0.2, "high": 0.5}, claim=0.1,
                         concession=0.3)
        if role == "mediator":
            actor["pressure"] = {f"a{p}": 0.01 for p in range(principals)}
        actors[f"a{a}"] = actor
    return {"name": "wide", "issues": issues, "actors": actors,
            "protocol": {"kind": kind, "rounds": rounds}}


@pytest.mark.parametrize("section,limit,build", [
    ("issues", limits.MAX_ISSUES, lambda n: _wide(n_issues=n)),
    ("actors", limits.MAX_ACTORS, lambda n: _wide(n_actors=n)),
])
def test_counts_up_to_the_limit_pass_and_beyond_are_refused_before_validation(
        tmp_path, section, limit, build):
    Scenario.model_validate(build(limit))
    data = build(limit + 1)
    for value in data[section].values():
        value["junk"] = 1  # counted before validation: no flood of other problems
    (problem,) = refused(write_yaml(tmp_path / "s.yaml", data))
    assert problem.field == section and f"limited to {limit}" in problem.message
    assert problem.line == 2 if section == "issues" else problem.line is not None


def test_rounds_up_to_the_limit_pass(tmp_path):
    Scenario.model_validate(_wide(rounds=limits.MAX_ROUNDS))
    (problem,) = refused(write_yaml(tmp_path / "s.yaml", _wide(rounds=limits.MAX_ROUNDS + 1)))
    assert problem.field == "protocol.rounds"


# The shapes docs/limits.md names as fitting, and one step beyond each.
FITS = {
    "mediated 50 x 10": (dict(n_actors=50, n_issues=10), dict(n_actors=52, n_issues=10)),
    "alternating 7000 rounds": (dict(n_actors=6, n_issues=4, kind="alternating_offers",
                                     rounds=7000),
                                dict(n_actors=6, n_issues=4, kind="alternating_offers",
                                     rounds=8000)),
    "expected utility 50 x 10 x 10000": (dict(n_actors=50, n_issues=10, kind="expected_utility",
                                              rounds=10_000),
                                         dict(n_actors=52, n_issues=10, kind="expected_utility")),
}


@pytest.mark.parametrize("case", sorted(FITS))
def test_memory_per_world_fits_the_documented_shapes_and_refuses_beyond(tmp_path, case):
    fits, beyond = FITS[case]
    assert world_bytes(Scenario.model_validate(_wide(**fits)))[0] <= limits.MAX_WORLD_BYTES
    problems = refused(write_yaml(tmp_path / "s.yaml", _wide(**beyond)))
    hits = [p for p in problems if "per simulated world" in p.message]
    assert hits and hits[0].field in ("actors", "protocol.rounds") and hits[0].line is not None


# Shapes that stress each term of the estimate; n = one block of worlds.
MEASURED = [dict(n_actors=50, n_issues=4), dict(n_actors=6, n_issues=50),
            dict(n_actors=6, n_issues=4, kind="alternating_offers", rounds=300),
            dict(n_actors=6, n_issues=4, kind="expected_utility", rounds=300),
            dict(n_actors=30, n_issues=3, kind="expected_utility", rounds=3)]


@pytest.mark.parametrize("shape", MEASURED, ids=lambda s: "-".join(map(str, s.values())))
def test_the_memory_estimate_stays_above_what_a_world_really_uses(shape):
    sc = Scenario.model_validate(_wide(**shape))
    n = defaults.BLOCK
    tracemalloc.start()
    for _ in iter_chunks(sc, n, seed=0, chunk_size=n):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak / n <= world_bytes(sc)[0]


def test_the_shipped_formats_limit_keeps_the_int8_index_safe():
    assert limits.MAX_FORMATS < 127 and limits.MAX_CHUNK % defaults.BLOCK == 0
    assert defaults.MAX_CHUNK == limits.MAX_CHUNK >= defaults.DEFAULT_CHUNK


# -- experiments ----------------------------------------------------------------------------------


def experiment(tmp_path, text, data=SMALL):
    write_yaml(tmp_path / "small.yaml", data)
    path = tmp_path / "exp.yaml"
    path.write_text("name: t\nscenario: small.yaml\n" + text)
    return path


@pytest.mark.parametrize("field,limit", [("runs", limits.MAX_RUNS), ("seed", limits.MAX_SEED),
                                         ("chunk_size", limits.MAX_CHUNK)])
def test_experiment_numbers_up_to_their_limit_pass(tmp_path, field, limit):
    base = {"runs": 1000}
    text = "".join(f"{k}: {v}\n" for k, v in {**base, field: limit}.items())
    load_experiment(experiment(tmp_path, text))
    text = "".join(f"{k}: {v}\n" for k, v in {**base, field: limit + 1}.items())
    (problem,) = refused(experiment(tmp_path, text), load_experiment)
    assert problem.field == field and problem.line is not None


GRID = "runs: 10\nsweep:\n  method: grid\n  parameters:\n"


@pytest.mark.parametrize("text,where", [
    (GRID + "    actors.us.pressure.russia: {low: 0, high: 0.1, num: 30000}\n"
            "    actors.russia.walkout: {low: 0, high: 0.1, num: 30000}\n", "sweep.parameters"),
    (GRID + "".join(f"    actors.us.pressure.russia.x{i}: [0, 1]\n" for i in range(40)),
     "sweep.parameters"),
    ("runs: 10\nsweep:\n  method: lhs\n  samples: 32769\n  parameters:\n"
     "    actors.us.pressure.russia: {low: 0, high: 0.1}\n", "sweep.samples"),
    ("runs: 10\nsweep:\n  method: sobol\n  samples: 16384\n  parameters:\n"
     "    actors.us.pressure.russia: {low: 0, high: 0.1}\n"
     "    actors.russia.walkout: {low: 0, high: 0.1}\n", "sweep.samples"),
    ("runs: 10\nsweep:\n  method: morris\n  samples: 20000\n  parameters:\n"
     "    actors.us.pressure.russia: {low: 0, high: 0.1}\n", "sweep.samples"),
    ("runs: 1000000000\nchunk_size: 1024\nsweep:\n  method: grid\n  parameters:\n"
     "    actors.us.pressure.russia: [0, 0.1]\n", "sweep"),
])
def test_designs_beyond_the_limits_are_refused_before_any_point_is_made(tmp_path, text, where):
    path = experiment(tmp_path, text)
    tracemalloc.start()
    problems = refused(path, load_experiment)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert problems[0].field == where and "limited to" in problems[0].message, problems
    assert peak < 32 * 2**20  # no point was made (the time it takes: benchmarks/)


def test_a_list_design_beyond_the_limit_is_refused(tmp_path):
    points = "".join("    - {protocol.rounds: 4}\n" for _ in range(limits.MAX_POINTS + 1))
    path = experiment(tmp_path, "runs: 10\nsweep:\n  method: list\n  points:\n" + points)
    problems = refused(path, load_experiment)
    assert problems[0].field == "sweep.points" and "limited to" in problems[0].message


def test_a_design_at_the_points_limit_validates(tmp_path):
    text = (GRID + "    actors.us.pressure.russia: {low: 0, high: 0.1, num: 128}\n"
                   "    actors.russia.walkout: {low: 0, high: 0.1, num: 256}\n")
    loaded = load_experiment(experiment(tmp_path, text))
    assert len(loaded.design) == limits.MAX_POINTS  # how long it takes: benchmarks/ (limits)


def test_large_designs_are_checked_on_every_value_they_use(tmp_path):
    """Beyond the checked-points cap, the points checked carry every value of every axis."""
    bad = [round(0.02 * i, 2) for i in range(40)] + [2.0] + [0.81 + 0.01 * i for i in range(9)]
    text = (GRID + f"    actors.russia.walkout: {bad}\n"
                   "    actors.us.pressure.russia: {low: 0, high: 0.1, num: 600}\n")
    loaded = load_experiment(experiment(tmp_path, text), check_points=False)
    assert len(loaded.design) > limits.MAX_CHECKED_POINTS
    chosen = checked_points(loaded.design, loaded.experiment.sweep, 2)
    assert {loaded.design.points[i]["actors.russia.walkout"] for i in chosen} == set(bad)
    with pytest.raises(InputError) as info:
        loaded.check_points(limit=2)
    assert "at point 24000" in str(info.value)  # 2.0 is axis value 40: point 40 * 600


def test_sampled_designs_are_checked_at_each_parameters_extremes(tmp_path):
    text = ("runs: 10\nsweep:\n  method: lhs\n  samples: 2000\n  parameters:\n"
            "    actors.russia.walkout: {low: 0, high: 1.01}\n")
    loaded = load_experiment(experiment(tmp_path, text), check_points=False)
    top = int(loaded.design.X[:, 0].argmax())
    assert top in checked_points(loaded.design, loaded.experiment.sweep, 2)
    with pytest.raises(InputError, match="must lie in"):
        loaded.check_points(limit=2)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_validate_reads_nothing_but_regular_files(tmp_path):
    from typer.testing import CliRunner

    from negotiation_sim.cli import app

    good = write_yaml(tmp_path / "good.yaml", copy.deepcopy(SMALL))
    res = CliRunner().invoke(app, ["validate", str(good), "/dev/null", str(tmp_path)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "not a regular file" in res.output and "is a directory" in res.output
