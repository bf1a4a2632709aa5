"""One seeded golden run of the baseline: any change to the model's numbers shows up here.

When a change to the model is intended, rerun and update these numbers in the same commit,
saying in its message why the outcomes moved.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

from negotiation_sim.config.scenario import load_scenario
from negotiation_sim.run.chunks import iter_chunks


def test_baseline_golden_run():
    sc = load_scenario(ROOT / "scenarios" / "summit_baseline.yaml")
    chunks = list(iter_chunks(sc, 4096, seed=0, chunk_size=2048))
    outcome = np.concatenate([c.outcome for c in chunks])
    terms = np.concatenate([c.terms for c in chunks], axis=1)
    rounds = np.concatenate([c.end_round for c in chunks])
    # agreement, ceasefire, breakdown, no_summit
    assert np.bincount(outcome, minlength=4).tolist() == [499, 531, 1436, 1630]
    assert np.nanmean(terms, axis=1) == pytest.approx([0.739682, 0.368526, 0.543405, 0.179588],
                                                      abs=1e-6)
    assert int(rounds.sum()) == 11558
