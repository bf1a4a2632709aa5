"""Shared fixtures: small scenarios built in code, and the path of the shipped ones."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import settings

# Deterministic property tests: the same examples on every run and machine (CI included).
settings.register_profile("deterministic", derandomize=True, deadline=None)
settings.load_profile("deterministic")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

PIE = {
    "name": "pie",
    "issues": {"share": {"low": "all to B", "high": "all to A", "status_quo": 0.5}},
    "actors": {
        "a": {"role": "principal", "position": {"share": 1.0}},
        "b": {"role": "principal", "position": {"share": 0.0}},
    },
    "protocol": {"kind": "mediated", "rounds": 5},
}

SMALL = {
    "name": "small",
    "issues": {
        "territory": {"low": "1991 borders", "high": "all occupied land kept", "status_quo": 0.8},
        "guarantees": {"low": "none", "high": "troops and treaty", "status_quo": 0.2},
    },
    "actors": {
        "russia": {"role": "principal", "position": {"territory": 1.0, "guarantees": 0.0},
                   "reservation": {"dist": "uniform", "low": 0.2, "high": 0.5}, "claim": 0.2,
                   "concession": 0.3, "walkout": 0.05, "audience_cost": {"bilateral": 0.1},
                   "red_lines": ["territory >= 0.5"]},
        "ukraine": {"role": "principal", "position": {"territory": 0.0, "guarantees": 1.0},
                    "salience": {"territory": 0.6, "guarantees": 0.4}, "reservation": 0.3,
                    "claim": 0.2, "concession": 0.3, "red_lines": ["territory <= 0.9"]},
        "us": {"role": "mediator", "pressure": {"russia": 0.02}, "backlash": 0.5},
        "germany": {"role": "guarantor", "position": {"guarantees": 0.7},
                    "offer": {"guarantees": {"dist": "uniform", "low": 0.4, "high": 0.8}}},
    },
    "summit": {"formats": {"bilateral": ["russia", "ukraine"],
                           "trilateral": ["russia", "ukraine", "us"]},
               "order": ["bilateral", "trilateral"]},
    "ceasefire": {"terms": {"guarantees": 0.5}},
    "protocol": {"rounds": 8},
}


@pytest.fixture
def pie_data():
    return copy.deepcopy(PIE)


@pytest.fixture
def small_data():
    return copy.deepcopy(SMALL)


def make_scenario(data):
    from negotiation_sim.config.scenario import Scenario

    return Scenario.model_validate(data)


def write_yaml(path: Path, data) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def small_sweep(tmp: Path, name: str, runs: int, guarantees: list[float]) -> Path:
    """A grid sweep of SMALL over Germany's guarantees offer, written by ``negsim sweep`` into
    ``tmp/out`` (without figures); returns that directory."""
    from typer.testing import CliRunner

    from negotiation_sim.cli import app

    write_yaml(tmp / "small.yaml", SMALL)
    write_yaml(tmp / "exp.yaml", {
        "name": name, "scenario": "small.yaml", "runs": runs, "seed": 1,
        "sweep": {"method": "grid",
                  "parameters": {"actors.germany.offer.guarantees": guarantees}}})
    res = CliRunner().invoke(app, ["sweep", str(tmp / "exp.yaml"), "--out", str(tmp / "out"),
                                   "-q", "--no-plots"])
    assert res.exit_code == 0, res.output
    return tmp / "out"
