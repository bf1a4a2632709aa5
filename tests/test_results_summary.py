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
