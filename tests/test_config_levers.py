"""Levers of a scenario (config.levers): which settings, their words and ranges, and setting them."""

from __future__ import annotations

import pytest
import yaml
from conftest import ROOT, SCENARIOS

from negotiation_sim.config.levers import (
    GROUPS,
    apply_levers,
    centre,
    lever_value,
    levers,
    moved,
    scenario_data,
    scenario_yaml,
    set_paths,
)
from negotiation_sim.config.scenario import load_scenario, scenario_from_data
from negotiation_sim.config.yamlio import InputError, parse_yaml

BASE = ROOT / "scenarios" / "summit_baseline.yaml"


@pytest.fixture(scope="module")
def sc():
    return load_scenario(BASE)


def test_the_baseline_has_a_lever_for_every_pressure_offer_cost_red_line_and_value_of_war(sc):
    paths = {lv.path: lv for lv in levers(sc)}
    expected = {"actors.us.pressure.russia", "actors.us.pressure.ukraine",
                *(f"actors.{g}.offer.{k}" for g in ("germany", "france", "uk")
                  for k in ("guarantees", "sanctions")),
                *(f"actors.{p}.audience_cost.{f}" for p in ("russia", "ukraine")
                  for f in ("bilateral", "trilateral", "wider", "istanbul",
                            "trilateral_talks")),
                "actors.russia.audience_cost.us_russia", "actors.ukraine.audience_cost.us_ukraine",
                "actors.us.blame.refuse", "actors.us.blame.cap",
                *(f"actors.{g}.support.ukraine" for g in ("germany", "france", "uk")),
                *(f"actors.russia.red_lines.{i}" for i in range(3)),
                "actors.ukraine.red_lines.0", "actors.ukraine.red_lines.1",
                "actors.russia.reservation", "actors.ukraine.reservation",
                "protocol.rounds", "protocol.information", "protocol.kind",
                *(f"durability.breach_cost.{p}" for p in ("russia", "ukraine")),
                "durability.deterrence.russia.guarantees", "durability.leverage",
                *(f"durability.shifts.{p}.drift" for p in ("russia", "ukraine"))}
    assert set(paths) == expected
    assert [lv.group for lv in levers(sc)] == sorted((lv.group for lv in levers(sc)),
                                                      key=GROUPS.index)
    # The file's own words, and values as the file has them (a distribution: its mean).
    assert "United States" in paths["actors.us.pressure.russia"].label
    assert "Article-5-equivalent" in paths["actors.germany.offer.guarantees"].label
    assert paths["actors.russia.reservation"].value == pytest.approx((0.55 + 0.95) / 2)
    assert paths["actors.us.pressure.russia"].value == pytest.approx(0.013 / 3)
    # A negative audience cost (a benefit of appearing) moves below 0.
    assert paths["actors.russia.audience_cost.us_russia"].low < 0
    assert paths["actors.ukraine.red_lines.0"].value == 0.8
    # A drift may fall below 0 (a side's value of resuming the war may fall while a text holds).
    assert paths["durability.shifts.russia.drift"].low < 0
    assert paths["durability.leverage"].choices == ("follows", "ends")
    assert paths["protocol.kind"].choices == ("mediated", "alternating_offers",
                                              "expected_utility")
    for lv in paths.values():
        if lv.kind != "choice":
            assert lv.low <= lv.value <= lv.high, lv.path


def test_shifted_distributions_keep_their_spread_and_scaled_ones_reach_zero(sc):
    new = apply_levers(sc, {"actors.russia.reservation": 0.5, "actors.us.pressure.russia": 0.0,
                            "actors.russia.audience_cost.bilateral": 0.3})
    r = new.actors["russia"].reservation
    assert (r.low, r.high) == pytest.approx((0.3, 0.7))  # width 0.4 as in the file
    p = new.actors["us"].pressure["russia"]
    assert (p.low, p.mode, p.high) == (0.0, 0.0, 0.0)
    c = new.actors["russia"].audience_cost["bilateral"]
    assert (c.low, c.high) == pytest.approx((0.1, 0.5))  # uniform 0.05-0.25 doubled
    assert centre(c) == pytest.approx(0.3)
    # moving to the value it has changes nothing
    assert moved(sc.actors["russia"].reservation, centre(sc.actors["russia"].reservation)) == \
        sc.actors["russia"].reservation.model_dump(mode="json", exclude_none=True)


def test_red_lines_protocol_and_rounds_are_set_and_validated(sc):
    new = apply_levers(sc, {"actors.ukraine.red_lines.0": 0.85, "protocol.rounds": 12,
                            "protocol.kind": "alternating_offers",
                            "protocol.information": "complete"})
    assert str(new.actors["ukraine"].red_lines[0]) == "territory <= 0.85"
    assert (new.protocol.rounds, new.protocol.kind, new.protocol.information) == \
        (12, "alternating_offers", "complete")
    assert sc.protocol.rounds == 26  # the scenario itself is untouched


def test_values_that_break_the_scenario_are_located_problems(sc):
    with pytest.raises(InputError) as err:
        apply_levers(sc, {"actors.germany.offer.guarantees": 1.5})
    assert err.value.problems[0].field == "actors.germany.offer.guarantees"
    with pytest.raises(InputError, match="not a lever"):
        apply_levers(sc, {"actors.us.clout": 2})
    with pytest.raises(InputError, match="not one of"):
        apply_levers(sc, {"protocol.kind": "auction"})


def test_set_paths_takes_levers_and_any_other_path(sc):
    new = set_paths(sc, {"actors.us.pressure.russia": 0.02, "actors.us.clout": 3.0})
    assert lever_value(new, "actors.us.pressure.russia") == pytest.approx(0.02)
    assert new.actors["us"].clout == 3.0
    with pytest.raises(InputError, match="unknown path"):
        set_paths(sc, {"actors.us.cloutt": 3.0})


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_shipped_scenario_round_trips_through_yaml(path):
    sc = load_scenario(path)
    doc = parse_yaml(scenario_yaml(sc, header="a header\nof two lines"))
    assert scenario_from_data(doc.data, doc).digest() == sc.digest()
    assert levers(sc)


def test_every_lever_moved_leaves_a_scenario_that_serialises_without_warnings():
    """Each lever of the baseline at its low and its high end (a distribution replaced by a
    number, a number by another): the changed scenario dumps with pydantic's serialisation
    warnings as errors (a distribution held where a float is declared, or the reverse, would
    warn "Expected float ... Uniform") and its digest is that of the validated data."""
    sc = load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    for lever in levers(sc):
        ends = lever.choices if lever.kind == "choice" else (lever.low, lever.high)
        for value in ends:
            moved = apply_levers(sc, {lever.path: value}, source="x.yaml")
            data = moved.model_dump(mode="json", warnings="error", exclude_unset=True)
            back = scenario_from_data(data, parse_yaml(scenario_yaml(moved), "x.yaml"))
            assert back.digest() == moved.digest(), lever.path


def test_a_lever_for_a_field_the_file_leaves_to_its_default_can_be_set(sc):
    """A principal's cost of breaking that ``durability.breach_cost`` does not name has a lever
    (showing the default, 0); setting it writes the field instead of failing on the absent key."""
    data = scenario_data(sc)
    del data["durability"]["breach_cost"]["ukraine"]
    unnamed = scenario_from_data(data, parse_yaml(yaml.safe_dump(data), "x.yaml"))
    lever = {lv.path: lv for lv in levers(unnamed)}["durability.breach_cost.ukraine"]
    assert lever.value == 0.0
    changed = apply_levers(unnamed, {"durability.breach_cost.ukraine": 0.04})
    assert changed.durability.breach_cost["ukraine"] == 0.04
    assert changed.durability.breach_cost["russia"] == unnamed.durability.breach_cost["russia"]
