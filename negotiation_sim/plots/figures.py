"""The default figure sets of runs, sweeps and traces, and writing them to files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from negotiation_sim.plots.run import (
    durability,
    formats,
    meetings,
    outcome_shares,
    terms,
    utilities,
)
from negotiation_sim.plots.style import save
from negotiation_sim.plots.sweep import sensitivity, sweep_heatmap, sweep_line, sweep_outcomes
from negotiation_sim.plots.trace import trajectory
from negotiation_sim.results.reader import RunResults, SweepResults
from negotiation_sim.results.schema import Figure, figure_file

if TYPE_CHECKING:
    from negotiation_sim.config.scenario import Scenario


def trace_figures(trace: dict[str, Any], scenario: Scenario | None = None) -> dict[str, Any]:
    """The figures of a traced world, by kind name."""
    return {Figure.TRAJECTORY: lambda: trajectory(trace, scenario=scenario)}


def run_figures(results: RunResults) -> dict[str, Any]:
    """The figures of a run, by kind name, as functions that make them (one open at a time)."""
    return {
        Figure.OUTCOMES: lambda: outcome_shares(results.summary),
        Figure.TERMS: lambda: terms(results),
        Figure.UTILITIES: lambda: utilities(results),
        Figure.FORMATS: lambda: formats(results),
        # a summary written before meetings were summarised has none to draw
        **({Figure.MEETINGS: lambda: meetings(results)} if "meetings" in results.summary else {}),
        **({Figure.DURABILITY: lambda: durability(results)}
           if _followed(results.summary) else {}),
    }


def _followed(summary: dict[str, Any]) -> bool:
    """Whether a run followed signed texts and some world signed one."""
    return any((summary.get("durability") or {}).values())


def write_figures(makers: dict[str, Any], out: str | Path, *, kinds: Sequence[str] | None = None,
                  fmt: str = "png") -> list[Path]:
    """Make, save and close each figure in turn; returns the files written (``KIND.FMT``)."""
    from negotiation_sim.results.files import all_or_none

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with all_or_none() as written:  # a failure leaves none of them, not some
        for kind in kinds or list(makers):
            path = out / figure_file(kind, fmt)
            save(makers[kind](), path)
            written.append(path)
    return written


class FigureChoiceError(ValueError):
    """A figure option that does not fit the results (``--param`` of a parameter not swept)."""


def sweep_figures(sweep: SweepResults, param: str | None = None) -> dict[str, Any]:
    """The sensible figures of a sweep, by kind name, as functions that make them.

    Args:
        sweep: the sweep's results.
        param: the swept parameter the sweep line is drawn against (default: the first
            numeric one that varies); FigureChoiceError when it is not a numeric swept
            parameter.
    """
    makers: dict[str, Any] = {}
    varying = [p for p in sweep.params if sweep.summary[p].nunique() > 1]
    numeric = [p for p in varying if sweep.numeric(p)]
    if param is not None:
        if param not in numeric:
            raise FigureChoiceError(f"--param {param} is not a numeric parameter this sweep varies "
                             f"(choose {', '.join(numeric) or 'none: the sweep varies none'})")
        numeric = [param] + [p for p in numeric if p != param]
    if len(sweep.summary) <= 40:
        makers[Figure.OUTCOMES] = lambda: sweep_outcomes(sweep)
    if numeric:
        makers[Figure.SWEEP_LINE] = lambda: sweep_line(sweep, numeric[0])
    if sweep.method in ("grid", "list") and len(varying) >= 2:
        makers[Figure.HEATMAP] = lambda: sweep_heatmap(sweep)
    if sweep.sensitivity is not None:
        makers[Figure.SENSITIVITY] = lambda: sensitivity(sweep.sensitivity, title=sweep.caption,
                                                       scenario=sweep.scenario)
    return makers
