"""Constants over worlds (``core.columns``): joined and taken, they hold exactly the numbers an
ordinary array would; a constant stays one when the worlds joined to it carry its bits, so that
one world rejoining the talks does not make every constant a copy for the rest of the run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from negotiation_sim.config.levers import apply_levers
from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.core import columns
from negotiation_sim.core.model import SummitModel
from conftest import ROOT


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


def test_a_constant_joined_to_one_world_with_its_bits_stays_a_constant():
    const = columns.constant(np.array([[0.25], [np.nan], [-1.0]]), 5)
    one = np.array([[0.25], [np.nan], [-1.0]])  # one world taken out: an ordinary array
    for joined in (columns.concat(const, one), columns.concat(one, const)):
        assert columns.is_constant(joined) and joined.shape == (3, 6)
        assert _bits(joined) == _bits(np.concatenate([const, one], axis=-1))


@pytest.mark.parametrize("other", [
    np.array([[0.25], [np.nan], [-1.0 + 1e-16]]),  # a number of its own
    np.array([[0.25], [np.nan], [-1.0]]).repeat(65, axis=1),  # too many worlds to compare
])
def test_a_constant_joined_to_other_numbers_is_an_ordinary_array(other):
    const = columns.constant(np.array([[0.25], [np.nan], [-1.0]]), 5)
    joined = columns.concat(const, other)
    assert not columns.is_constant(joined)
    assert _bits(joined) == _bits(np.concatenate([const, other], axis=-1))


def test_zero_and_minus_zero_are_different_numbers_to_a_constant():
    joined = columns.concat(columns.constant(np.array([0.0]), 3), np.array([-0.0]))
    assert not columns.is_constant(joined)
    assert np.signbit(joined[-1])


finite = st.floats(-2.0, 2.0, allow_nan=False, width=64)


@given(column=hnp.arrays(np.float64, (2, 1), elements=finite),
       n=st.integers(2, 5), m=st.integers(1, 4), same=st.booleans(), const_first=st.booleans(),
       noise=hnp.arrays(np.float64, (2, 4), elements=finite))
def test_concat_holds_the_numbers_np_concatenate_gives(column, n, m, same, const_first, noise):
    const = columns.constant(column, n)
    other = np.repeat(column, m, axis=1) if same else noise[:, :m]
    a, b = (const, other) if const_first else (other, const)
    joined = columns.concat(a, b)
    assert _bits(joined) == _bits(np.concatenate([a, b], axis=-1))
    assert joined.shape == (2, n + m)


def test_the_talks_keep_their_constants_after_worlds_rejoin_them():
    # US pressure on Russia makes many texts signed and broken: worlds rejoin the talks one
    # or a few at a time, and the preferences and the solver (the same in every world of the
    # baseline) must stay held once, or every later round copies them.
    sc = load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    sc = apply_levers(sc, {"actors.us.pressure.russia": 0.05})
    model = SummitModel(sc, 2000, seed=0)
    rejoined = 0
    while model.running and model.steps < sc.protocol.rounds - 1:
        before = int(model.resumed.sum())
        model.step()
        rejoined += int(model.resumed.sum()) - before
        if model.params.n > 2:
            assert columns.is_constant(model.params.prefs.position)
            assert model.solver.constant
    assert rejoined > 0


def test_arrays_with_no_rows_over_the_worlds_join_as_constants():
    const = columns.constant(np.zeros((0, 1, 1)), 4)
    joined = columns.concat(const, np.zeros((0, 1, 1)))
    assert joined.shape == (0, 1, 5)
