"""One seeded golden run of the baseline: any change to the model's numbers shows up here.

The expected numbers live in ``tests/data/golden_baseline.json``. When a change to the model is
intended, regenerate the file with ``python tests/test_golden.py --update`` and commit it with
the change, saying in the commit message why the outcomes moved.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "data" / "golden_baseline.json"


def golden_numbers() -> dict:
    from negotiation_sim.config.scenario import load_scenario
    from negotiation_sim.run.chunks import iter_chunks

    sc = load_scenario(HERE.parent / "scenarios" / "summit_baseline.yaml")
    chunks = list(iter_chunks(sc, 4096, seed=0, chunk_size=2048))
    outcome = np.concatenate([c.outcome for c in chunks])
    terms = np.concatenate([c.terms for c in chunks], axis=1)
    rounds = np.concatenate([c.end_round for c in chunks])
    reasons = np.concatenate([c.end_reason for c in chunks])
    agreed = outcome == 0
    calendar = {k: np.concatenate([getattr(c, k) for c in chunks])
                for k in ("talks_round", "leaders_round", "settled_round", "sessions", "broken_round",
                          "signings")}
    resumed = np.concatenate([c.resumed for c in chunks])
    return {
        "calendar": {k: [int((v > 0).sum()), int(v[v > 0].sum())] for k, v in calendar.items()},
        "resumed": int(resumed.sum()),
        "worlds": int(outcome.size),
        "outcomes": np.bincount(outcome, minlength=4).tolist(),
        "end_reasons": np.bincount(reasons, minlength=6).tolist(),
        "round_sum": int(rounds.sum()),
        "agreed_terms_mean": [round(float(v), 9) for v in terms[:, agreed].mean(axis=1)]
        if agreed.any() else None,
    }


def test_baseline_golden_run():
    expected = json.loads(GOLDEN.read_text())
    got = golden_numbers()
    assert {k: v for k, v in got.items() if k != "agreed_terms_mean"} == \
        {k: v for k, v in expected.items() if k != "agreed_terms_mean"}
    assert got["agreed_terms_mean"] == pytest.approx(expected["agreed_terms_mean"], abs=1e-8)


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        GOLDEN.write_text(json.dumps(golden_numbers(), indent=2) + "\n")
        print(f"wrote {GOLDEN}")
    else:
        print(json.dumps(golden_numbers(), indent=2))
