"""Extreme but valid numbers run without a RuntimeWarning on the user's terminal.

Patience is valid anywhere in (0, 1]: every discount ``patience ** t`` of a tiny patience
underflows to zero, and every protocol, information setting and responder kind must take that
as "the future is worth nothing" without dividing by it. Zero saliences make expected-utility
challenges worth exactly zero (0/0 in the compromise share). The warnings filter of pyproject.toml
turns any RuntimeWarning raised from ``negotiation_sim`` into an error; here it is set explicitly
so the test holds under ``-W ignore`` too.
"""

from __future__ import annotations

import copy
import itertools
import warnings

import pytest
from conftest import PIE, SMALL, make_scenario

import negotiation_sim as ns

PROTOCOLS = ["mediated", "alternating_offers", "expected_utility"]


def _with_patience(base, kind: str, info: str, responders: str, patience: float):
    data = copy.deepcopy(base)
    data["protocol"] = {"kind": kind, "rounds": 6, "information": info,
                        "responders": responders}
    data["durability"] = {"rounds": 3}
    for actor in data["actors"].values():
        if actor["role"] == "principal":
            actor["patience"] = patience
            actor["walkout"] = 0.1
            actor.setdefault("reservation", {"dist": "uniform", "low": 0.1, "high": 0.4})
    return make_scenario(data)


@pytest.mark.parametrize("patience", [1e-50, 1e-300, 5e-324])
@pytest.mark.parametrize("kind", PROTOCOLS)
def test_tiny_patience_runs_and_traces_without_warnings(kind, patience):
    for base, info, responders in itertools.product(
            (SMALL, PIE), ("complete", "private"), ("sincere", "strategic")):
        if kind == "mediated" and responders == "strategic":
            continue  # refused at validation here (two private values, posture, a ceasefire);
            # tests/test_mediated_strategic.py runs tiny patience where it is computed
        sc = _with_patience(base, kind, info, responders, patience)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            res = ns.run(sc, runs=128, seed=1, keep_runs=False)
            ns.trace(sc, world=5)
        shares = [o["share"] for o in res.summary["outcomes"].values()]
        assert sum(shares) == pytest.approx(1.0)


def test_expected_utility_with_zero_saliences_has_no_warning():
    """Found by the fuzz test: a guarantor with zero salience everywhere and principals that
    agree on every issue but one make some challenges worth exactly 0."""
    data = {
        "name": "zero",
        "issues": {"territory": {}, "sovereignty": {}, "guarantees": {}},
        "actors": {
            "russia": {"role": "principal",
                       "position": {"territory": 0.0, "sovereignty": 0.0, "guarantees": 0.0}},
            "ukraine": {"role": "principal",
                        "position": {"territory": 0.0, "sovereignty": 0.0,
                                     "guarantees": {"dist": "uniform", "low": 0.0,
                                                    "high": 1.0}}},
            "us": {"role": "mediator"},
            "germany": {"role": "guarantor",
                        "salience": {"territory": 0.0, "sovereignty": 0.0, "guarantees": 0.0}},
        },
        "summit": {"formats": {"bilateral": ["russia", "ukraine"],
                               "trilateral": ["russia", "ukraine", "us"]}},
        "protocol": {"kind": "expected_utility"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = ns.run(make_scenario(data), runs=64, keep_runs=False)
    assert res.summary["outcomes"]["agreement"]["share"] == 1.0
