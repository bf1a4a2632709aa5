"""Backtests: the model's probability for each dated question, scored beside other forecasters.

For each question the model's probability ``p`` is the share of simulated worlds of the
question's scenario in which the asked-about event happens in a round that ends by the day the
question closes (round r ends ``asked + r * protocol.round_days``; ``config.backtest.rounds_by``):

* ``summit``: a summit format is held. Formation comes before round 1 and the meeting takes
  place in it, so a summit counts as happening in round 1 (it needs one round by ``closes``);
* ``agreement`` / ``ceasefire``: the world ends so, in its ``end_round``; ``settlement``: either;
* ``holds``: a settlement signed in a round that ends by ``closes`` and not broken in the
  ``ceil(holds_days / round_days)`` follow-up rounds after its signing (``core.durability``;
  a text broken in follow-up round s lasted ``s - signed - 1`` whole rounds).

Each scenario is run once by the engine and every question on it is counted from the same worlds
(``run.backtest``: the model's probabilities; ``api.backtest`` runs a file). Resolved
questions are scored with the Brier score ``(p - o)^2`` (lower is better) and the log score
``ln p`` if yes, ``ln(1 - p)`` if no (higher, i.e. nearer 0, is better), with ``p`` clipped to
``[CLIP, 1 - CLIP]`` for the log score only. ``backtest_result`` makes the ``negsim backtest
--json`` shape from the model's probabilities. Data only: nothing here simulates, draws or
prints.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from negotiation_sim.config.backtest import LoadedBacktest, Question

CLIP = 1e-6
"""Probabilities are clipped to ``[CLIP, 1 - CLIP]`` before taking logs (a 0 or 1 that turns
out wrong would score minus infinity)."""

BOOTSTRAP = 20_000
"""Resamples of the resolved questions behind the interval of a mean score."""


# -- scores -------------------------------------------------------------------------------------


def brier(p: float, outcome: bool) -> float:
    """Brier score of one forecast: ``(p - o)^2``, 0 best, 1 worst."""
    return (p - float(outcome)) ** 2


def log_score(p: float, outcome: bool, clip: float = CLIP) -> float:
    """Log score of one forecast: ``ln p`` if it happened, ``ln(1 - p)`` if not (0 best, always
    <= 0); ``p`` is clipped to ``[clip, 1 - clip]`` first."""
    q = min(max(p, clip), 1.0 - clip)
    return math.log(q if outcome else 1.0 - q)


def bootstrap_interval(values: list[float], *, resamples: int = BOOTSTRAP, seed: int = 0,
                       level: float = 0.95) -> list[float] | None:
    """Percentile bootstrap interval of the mean of ``values`` (None when empty).

    Resamples the questions with replacement, so it treats them as independent; questions on
    one scenario are not, and the interval is then too narrow (docs/backtest.md).
    """
    if not values:
        return None
    x = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return [float(lo), float(hi)]


def murphy(probs: list[float], outcomes: list[bool],
           edges: np.ndarray | None = None) -> dict[str, float] | None:
    """Murphy's (1973) decomposition of the mean Brier score over probability bins.

    ``reliability = sum_k n_k (f_k - o_k)^2 / N`` (how far each bin's mean forecast is from its
    observed frequency: 0 is calibrated), ``resolution = sum_k n_k (o_k - o)^2 / N`` (how far the
    bins' frequencies are from the overall one: 0 means the forecasts do not tell yes from no)
    and ``uncertainty = o (1 - o)``; ``brier = reliability - resolution + uncertainty +
    within``, where ``within`` (the spread of forecasts inside bins; Stephenson, Coelho &
    Jolliffe 2008) is 0 when every bin holds one forecast value. Bins: ``edges`` (default ten of
    0.1). None when empty.
    """
    if not probs:
        return None
    edges = np.linspace(0.0, 1.0, 11) if edges is None else edges
    p = np.asarray(probs, dtype=float)
    o = np.asarray(outcomes, dtype=float)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    base = float(o.mean())
    rel = res = 0.0
    for b in np.unique(idx):
        here = idx == b
        rel += here.sum() * (p[here].mean() - o[here].mean()) ** 2
        res += here.sum() * (o[here].mean() - base) ** 2
    n = p.size
    bs = float(((p - o) ** 2).mean())
    out = {"brier": bs, "reliability": float(rel / n), "resolution": float(res / n),
           "uncertainty": base * (1 - base)}
    out["within"] = bs - (out["reliability"] - out["resolution"] + out["uncertainty"])
    return out


def skill(score: float | None, reference: float | None) -> float | None:
    """Brier skill ``1 - score / reference`` (1 perfect, 0 no better than the reference,
    negative worse); None when either is missing or the reference is 0."""
    if score is None or reference is None or reference == 0:
        return None
    return 1.0 - score / reference


def event_bootstrap(values: list[float], events: list[str], *, resamples: int = BOOTSTRAP,
                    seed: int = 0, level: float = 0.95) -> list[float] | None:
    """Percentile bootstrap interval of a mean score, resampling the underlying *events*
    (questions on one event resolve together) with replacement and averaging every question of
    each event drawn (a cluster bootstrap: Davison & Hinkley 1997, section 3.8). None when
    empty."""
    if not values:
        return None
    names = list(dict.fromkeys(events))
    sums = np.array([sum(v for v, e in zip(values, events) if e == k) for k in names])
    counts = np.array([sum(1 for e in events if e == k) for k in names], dtype=float)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, len(names), size=(resamples, len(names)))
    means = sums[draw].sum(axis=1) / counts[draw].sum(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return [float(lo), float(hi)]


# -- the backtest -------------------------------------------------------------------------------


def score_questions(questions: list[Question], model: list[tuple[float, list[float], int]],
                    *, scenarios: list[str] | None = None, seed: int = 0) -> dict[str, Any]:
    """The ``negsim backtest --json`` shape from the model's probabilities (pure: no model run).

    Args:
        questions: the questions, in file order.
        model: ``(p, ci95, rounds)`` of each question (``model_probabilities``).
        scenarios: each question's scenario path, for the record.
        seed: seed of the bootstrap interval of the mean scores.
    """
    rows = []
    for i, (q, (p, ci, rounds)) in enumerate(zip(questions, model)):
        o = q.resolved
        row: dict[str, Any] = {
            "id": q.id, "question": q.question, "event": q.event,
            "asked": q.asked.isoformat(), "closes": q.closes.isoformat(),
            "holds_days": q.holds_days, "rounds": rounds,
            "scenario": scenarios[i] if scenarios else q.scenario,
            "about": q.about or q.id, "members": q.members, "level": q.level,
            "p": p, "ci95": list(ci), "outcome": None if o is None else ("yes" if o else "no"),
            "brier": None if o is None else brier(p, o),
            "log_score": None if o is None else log_score(p, o),
            "forecasts": {name: {"p": f, "brier": None if o is None else brier(f, o),
                                 "log_score": None if o is None else log_score(f, o)}
                          for name, f in q.forecasts.items()},
        }
        rows.append(row)
    scored = [r for r in rows if r["outcome"] is not None]
    result: dict[str, Any] = {
        "questions": rows,
        "n": len(rows), "n_resolved": len(scored),
        "brier": _mean(r["brier"] for r in scored),
        "log_score": _mean(r["log_score"] for r in scored),
        "brier_ci95": bootstrap_interval([r["brier"] for r in scored], seed=seed),
        "log_score_ci95": bootstrap_interval([r["log_score"] for r in scored], seed=seed),
        "forecasters": {},
    }
    result.update(_event_scores(scored, seed))
    names = list(dict.fromkeys(n for r in rows for n in r["forecasts"]))
    for name in names:
        mine = [r for r in scored if name in r["forecasts"]]
        result["forecasters"][name] = {
            "brier": _mean(r["forecasts"][name]["brier"] for r in mine),
            "log_score": _mean(r["forecasts"][name]["log_score"] for r in mine),
            "n": len(mine),
            # the model on the same questions, so the two means compare like with like
            "model_brier": _mean(r["brier"] for r in mine),
            "model_log_score": _mean(r["log_score"] for r in mine),
        }
    # the model's Brier skill against each forecaster, on the questions it answered
    result["skill_vs"] = {name: skill(f["model_brier"], f["brier"])
                          for name, f in result["forecasters"].items()}
    return result


def _event_scores(scored: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    """Scores over the resolved questions that need their outcomes together: intervals over
    events, skill against the base rate, and the Murphy decomposition."""
    briers = [r["brier"] for r in scored]
    logs = [r["log_score"] for r in scored]
    about = [r["about"] for r in scored]
    yes = [r["outcome"] == "yes" for r in scored]
    m = murphy([r["p"] for r in scored], yes)
    base = float(np.mean(yes)) if yes else None
    return {
        "n_events": len(set(about)), "n_yes": int(sum(yes)),
        "brier_events_ci95": event_bootstrap(briers, about, seed=seed),
        "log_score_events_ci95": event_bootstrap(logs, about, seed=seed),
        # the base-rate forecaster says the share of yes among the resolved questions to every
        # question: its Brier score is the uncertainty term o(1 - o)
        "base_rate": base, "base_rate_brier": None if m is None else m["uncertainty"],
        "skill_vs_base_rate": None if m is None else skill(m["brier"], m["uncertainty"]),
        "murphy": m,
    }


def backtest_result(loaded: LoadedBacktest, model: list[tuple[float, list[float], int]], *,
                    runs: int, seed: int = 0,
                    conditioning: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``negsim backtest --json`` shape of a backtest file and the model's probabilities.

    Args:
        loaded: the backtest file, loaded (``config.backtest.load_backtest``).
        model: ``(p, ci95, rounds)`` of every question in file order
            (``run.backtest.model_probabilities``).
        runs: worlds simulated per scenario (for the record).
        seed: the seed of the scenarios' runs and of the bootstrap intervals.

    Returns:
        ``questions`` (per question ``id``, ``p``, ``ci95``, ``outcome``, ``brier``,
        ``log_score``, ``forecasts``; scores null while open), the means ``brier`` and
        ``log_score`` over resolved questions (null when none is) with bootstrap intervals, and
        ``forecasters`` (per name ``brier``, ``log_score``, ``n`` over the resolved questions it
        forecast, beside the model's on the same questions), ``skill_vs`` (the model's Brier
        skill against each forecaster on those questions), intervals over events, skill against the base rate, the Murphy decomposition, and
        ``conditioning`` (per asking day its effective sample size; the inputs' posteriors;
        null when no question is conditioned).
    """
    base = Path(loaded.path).parent
    scenarios = [_relative(p, base) for p in loaded.paths]
    out: dict[str, Any] = {"name": loaded.backtest.name, "runs": runs, "seed": seed}
    out.update(score_questions(loaded.questions, model, scenarios=scenarios, seed=seed))
    if conditioning is not None:
        conditioning = dict(conditioning, scenario=_relative(conditioning["scenario"], base))
    out["conditioning"] = conditioning
    return out


def _relative(path: str, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return path


def _mean(values) -> float | None:
    values = list(values)
    return float(sum(values) / len(values)) if values else None


# -- tables -------------------------------------------------------------------------------------


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per question (``backtest.csv``): the model beside every forecaster."""
    names = list(result["forecasters"])
    rows = []
    for q in result["questions"]:
        row = {"id": q["id"], "event": q["event"], "asked": q["asked"], "closes": q["closes"],
               "rounds": q["rounds"], "resolved": q["outcome"] or "open", "model_p": q["p"],
               "model_lo": q["ci95"][0], "model_hi": q["ci95"][1],
               "model_brier": q["brier"], "model_log_score": q["log_score"]}
        for name in names:
            f = q["forecasts"].get(name)
            for key in ("p", "brier", "log_score"):
                row[f"{name}_{key}"] = None if f is None else f[key]
        rows.append(row)
    return rows


def to_csv(result: dict[str, Any]) -> str:
    """The per-question table as CSV text (empty cells for missing values)."""
    rows = table_rows(result)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["id"],
                            lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def to_markdown(result: dict[str, Any]) -> str:
    """The per-question table and the mean scores as Markdown (``backtest.md``)."""
    names = list(result["forecasters"])
    head = ["question", "event", "asked", "closes", "resolved", "model p (95%)", *names,
            "model Brier", *(f"{n} Brier" for n in names)]
    lines = [f"# Backtest {result['name']}: {result['runs']:,} worlds per scenario, seed "
             f"{result['seed']}", "", "| " + " | ".join(head) + " |",
             "|" + "|".join("---" for _ in head) + "|"]
    for q in result["questions"]:
        cells = [q["id"], q["event"] + (f" {q['holds_days']}d" if q["holds_days"] else ""),
                 q["asked"], q["closes"], q["outcome"] or "open",
                 f"{q['p']:.3f} ({q['ci95'][0]:.3f}-{q['ci95'][1]:.3f})"]
        cells += [_num(q["forecasts"].get(n, {}).get("p")) for n in names]
        cells += [_num(q["brier"])] + [_num(q["forecasts"].get(n, {}).get("brier"))
                                       for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Mean scores over the resolved questions each forecaster answered (Brier: "
              "lower is better; log score: nearer 0 is better), the model on the same questions:",
              "", "| forecaster | n | Brier | log score | model Brier | model log score |",
              "|---|---|---|---|---|---|"]
    ci = result["brier_ci95"]
    lines.append(f"| model (all resolved) | {result['n_resolved']} | {_num(result['brier'])}"
                 + (f" ({ci[0]:.3f}-{ci[1]:.3f})" if ci else "")
                 + f" | {_num(result['log_score'])} | | |")
    for name, f in result["forecasters"].items():
        lines.append(f"| {name} | {f['n']} | {_num(f['brier'])} | {_num(f['log_score'])} | "
                     f"{_num(f['model_brier'])} | {_num(f['model_log_score'])} |")
    return "\n".join(lines) + "\n"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"
