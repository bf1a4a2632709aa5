"""The intervals every share is reported with, against published values."""

from __future__ import annotations

import pytest

from negotiation_sim.results.summary import wilson_interval


@pytest.mark.parametrize("x, n, lo, hi", [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_newcombes_table(x, n, lo, hi):
    """Newcombe, R. G. (1998), Two-sided confidence intervals for the single proportion:
    comparison of seven methods, Statistics in Medicine 17, 857-872: its worked examples for
    method 3 (the Wilson score interval without continuity correction), to the four decimals
    printed there."""
    got = wilson_interval(x, n)
    assert got == pytest.approx((lo, hi), abs=5e-5)


def _chunk(first: int, talks, leaders, settled, sessions):
    """A chunk of len(talks) worlds with chosen calendar outputs (-1: none) and no summit."""
    import numpy as np

    from negotiation_sim.core.outcomes import ChunkResult

    n = len(talks)
    return ChunkResult(first, outcome=np.full(n, 3, np.int8), held_format=np.full(n, -1, np.int8),
                       end_round=np.zeros(n, np.int16), terms=np.full((1, n), np.nan),
                       utility=np.full((1, n), 0.3),
                       talks_round=np.array(talks, np.int16),
                       leaders_round=np.array(leaders, np.int16),
                       settled_round=np.array(settled, np.int16),
                       sessions=np.array(sessions, np.int16))


def _accumulator(start=None, rounds: int = 4, round_days: float = 10.0):
    from negotiation_sim.results.summary import Accumulator

    return Accumulator(issues=["x"], formats=["f"], actors=["a"], max_round=rounds,
                       round_days=round_days, start=start)


def test_meetings_count_worlds_by_their_first_round_with_intervals_and_medians():
    import datetime

    acc = _accumulator(start=datetime.date(2025, 5, 16))
    # 8 worlds: talks in 6 of them (rounds 1, 1, 2, 3, 4, 4), leaders in 2 (rounds 3, 4),
    # settled in 1 (round 4); 13 sessions in all
    acc.add(_chunk(0, [1, 1, 2, -1, 3], [-1, -1, 3, -1, -1], [-1, -1, -1, -1, -1],
                   [4, 2, 3, 0, 1]))
    acc.add(_chunk(5, [-1, 4, 4], [-1, 4, -1], [-1, 4, -1], [0, 2, 1]))
    m = acc.summary("s", 0)["meetings"]
    assert m["talks"]["share"] == 6 / 8 and m["talks"]["worlds"] == 6
    assert m["talks"]["ci95"] == list(wilson_interval(6, 8))
    assert m["leaders"]["share"] == 2 / 8 and m["settled"]["share"] == 1 / 8
    assert m["by_round"] == {"talks": [2 / 8, 3 / 8, 4 / 8, 6 / 8],
                             "leaders": [0, 0, 1 / 8, 2 / 8],
                             "settled": [0, 0, 0, 1 / 8]}
    assert m["sessions"] == {"mean": 13 / 8, "by_format": None}  # no session logs: no counts
    # half of the 6 worlds with talks had met by the end of round 2 (3 of 6): day 20
    assert (m["talks"]["median_round"], m["talks"]["median_day"],
            m["talks"]["median_date"]) == (2, 20.0, "2025-06-05")
    assert m["leaders"]["median_round"] == 3 and m["settled"]["median_round"] == 4
    assert m["round_days"] == 10.0 and m["start"] == "2025-05-16"


def test_meetings_without_any_and_without_a_start_date_and_in_a_sweep_row():
    from negotiation_sim.results.summary import summary_row

    acc = _accumulator()
    acc.add(_chunk(0, [-1, -1, 2], [-1, -1, -1], [-1, -1, -1], [0, 0, 5]))
    s = acc.summary("s", 0)
    m = s["meetings"]
    assert m["leaders"] == {"share": 0.0, "ci95": list(wilson_interval(0, 3)), "worlds": 0,
                            "median_round": None, "median_day": None, "median_date": None}
    assert m["talks"]["median_date"] is None and m["start"] is None
    assert m["talks"]["median_day"] == 20.0

    class Named:  # summary_row reads only the scenario's name
        name = "s"

    row = summary_row(acc, Named(), 0)
    assert row["talks"] == 1 / 3 and [row["talks.lo"], row["talks.hi"]] == m["talks"]["ci95"]
    assert row["leaders"] == 0.0 and row["sessions"] == 5 / 3


def test_sessions_by_format_count_every_format_held_of_any_members():
    """Per format, the worlds that held it at least once and its sessions, from the chunks'
    per-round logs: a channel that leaves a principal out counts there, though it is never
    the last session of every principal (``formats``)."""
    import numpy as np

    from negotiation_sim.results.summary import Accumulator

    acc = Accumulator(issues=["x"], formats=["both", "one_side"], actors=["a"], max_round=3)
    for first, log, held in (
            # rounds x worlds: world 0 met one side twice then both; world 1 one side once;
            # world 2 nothing
            (0, [[1, 1, -1], [1, -1, -1], [0, -1, -1]], [0, -1, -1]),
            (3, [[1], [1], [1]], [-1])):  # world 3: one side, three rounds
        chunk = _chunk(first, [-1] * len(held), [-1] * len(held), [-1] * len(held),
                       [0] * len(held))
        chunk.held_format = np.array(held, np.int8)
        chunk.session_log = np.array(log, np.int8)
        acc.add(chunk)
    s = acc.summary("s", 0)
    by = s["meetings"]["sessions"]["by_format"]
    assert by["both"] == {"share": 1 / 4, "ci95": list(wilson_interval(1, 4)), "mean": 1 / 4}
    assert by["one_side"] == {"share": 3 / 4, "ci95": list(wilson_interval(3, 4)),
                              "mean": 6 / 4}
    assert s["formats"] == {"both": 1 / 4, "one_side": 0.0}


def test_the_baseline_run_shows_the_us_russia_channel_it_holds():
    """In the baseline the US-Russia channel (Ukraine left out) is held in most worlds: the
    sessions by format say so, the last session of every principal never can."""
    import negotiation_sim as ns
    from conftest import ROOT

    s = ns.run(ROOT / "scenarios" / "summit_baseline.yaml", runs=600, seed=0,
               keep_runs=False).summary
    by = s["meetings"]["sessions"]["by_format"]
    assert s["formats"]["us_russia"] == 0.0 and by["us_russia"]["share"] > 0.5
    assert by["us_russia"]["mean"] > 1.0
    # every session is one of the formats: their sessions add up to the sessions per world
    assert sum(v["mean"] for v in by.values()) == pytest.approx(
        s["meetings"]["sessions"]["mean"], rel=1e-12)


def test_a_chunk_without_the_calendar_outputs_counts_as_no_meeting():
    import numpy as np

    from negotiation_sim.core.outcomes import ChunkResult

    acc = _accumulator()
    acc.add(ChunkResult(0, outcome=np.zeros(4, np.int8), held_format=np.zeros(4, np.int8),
                        end_round=np.ones(4, np.int16), terms=np.full((1, 4), 0.5),
                        utility=np.full((1, 4), 0.3)))
    m = acc.summary("s", 0)["meetings"]
    assert m["talks"]["share"] == 0.0 and m["by_round"]["talks"] == [0.0] * 4
    assert m["sessions"]["mean"] == 0.0


def test_a_horizon_of_zero_rounds_is_one_round_in_the_summary_too():
    """``protocol.rounds: 0`` runs one round (the model's horizon is at least 1): the summary's
    calendar has that round (a fuzzer's find: it had none and failed)."""
    import negotiation_sim as ns
    from conftest import make_scenario

    sc = make_scenario({
        "name": "zero", "issues": {"share": {}},
        "actors": {"a": {"role": "principal", "position": {"share": 1.0}, "reservation": 0.4},
                   "b": {"role": "principal", "position": {"share": 0.0}, "reservation": 0.4}},
        "protocol": {"rounds": 0}})
    summary = ns.run(sc, runs=64, seed=0).summary
    assert summary["meetings"]["talks"]["share"] == 1.0
    assert len(summary["meetings"]["by_round"]["talks"]) == 1
