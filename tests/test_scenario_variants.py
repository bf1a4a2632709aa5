"""The shipped variants are copies of the baseline that differ only where their header says.

scenarios/README.md promises it ("copies of the baseline that change only what their header
lists"): a number changed in the baseline and not carried to a variant would make every
comparison with it measure two changes at once.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from conftest import ROOT

SCEN = ROOT / "scenarios"
GUARANTORS = ("germany", "france", "uk")


def _formats(*names: str) -> set[str]:
    return {f"summit.formats.{f}" for f in names}


def _costs(actor: str, *names: str) -> set[str]:
    return {f"actors.{actor}.audience_cost.{f}" for f in names}


# Variant file -> the paths (and everything under them) that differ from the baseline.
DIFFERS = {
    "bilateral_only.yaml": {
        "summit.order", *_formats("trilateral", "wider", "trilateral_talks", "us_russia",
                                  "us_ukraine"),
        *_costs("russia", "trilateral", "wider", "trilateral_talks", "us_russia"),
        *_costs("ukraine", "trilateral", "wider", "trilateral_talks", "us_ukraine")},
    "trilateral_with_us.yaml": {
        "summit.order", *_formats("bilateral", "wider", "istanbul", "us_russia", "us_ukraine"),
        *_costs("russia", "bilateral", "wider", "istanbul", "us_russia"),
        *_costs("ukraine", "bilateral", "wider", "istanbul", "us_ukraine")},
    "no_us_pressure.yaml": {"actors.us.pressure.russia", "actors.us.pressure.ukraine",
                            "actors.us.blame", "actors.us.backlash"},
    "strong_guarantees.yaml": {*(f"actors.{g}.{k}.guarantees" for g in GUARANTORS
                                 for k in ("offer", "position")),
                               "ceasefire.terms.guarantees"},
    "hardline_russia.yaml": {"actors.russia.reservation", "actors.russia.red_lines",
                             "actors.russia.preconditions"},
}


def leaves(node: Any, path: str = "") -> dict[str, Any]:
    """Dotted path -> value of every leaf (a distribution and a list are leaves)."""
    if isinstance(node, dict) and "dist" not in node:
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(leaves(value, f"{path}.{key}" if path else str(key)))
        return out
    return {path: node}


def under(path: str, prefix: str) -> bool:
    return path.split(".")[:len(prefix.split("."))] == prefix.split(".")


def test_every_variant_is_listed():
    assert {p.name for p in SCEN.glob("*.yaml")} == {"summit_baseline.yaml", *DIFFERS}


@pytest.mark.parametrize("name", sorted(DIFFERS))
def test_a_variant_differs_from_the_baseline_only_where_it_says(name):
    base = leaves(yaml.safe_load((SCEN / "summit_baseline.yaml").read_text()))
    variant = leaves(yaml.safe_load((SCEN / name).read_text()))
    differ = {p for p in base.keys() | variant.keys()
              if p not in ("name", "description") and base.get(p, ...) != variant.get(p, ...)}
    stray = {p for p in differ if not any(under(p, q) for q in DIFFERS[name])}
    assert not stray, f"{name} differs from the baseline where its header does not say: {stray}"
    silent = {q for q in DIFFERS[name] if not any(under(p, q) for p in differ)}
    assert not silent, f"{name} says it differs but does not: {silent}"


@pytest.mark.parametrize("name", sorted(DIFFERS))
def test_a_variant_keeps_the_baselines_header_below_its_own(name):
    """Issue scales, semantics and sources: the baseline's header, word for word."""
    base = (SCEN / "summit_baseline.yaml").read_text()
    text = (SCEN / name).read_text()
    assert "# WHAT DIFFERS FROM summit_baseline.yaml" in text
    own_end = text.index("# The rest of this header (issue scales, sources) is the baseline's.")
    rest = text[own_end:text.index("\nname: ")].split("\n", 3)[3]
    assert rest == base[base.index("# Every number carries"):base.index("\nname: ")]
