"""Figures only: they draw what results hold and never run the model.

Every plotting function takes result tables and an optional ``ax`` and returns the Figure;
``run_figures``, ``sweep_figures`` and ``trace_figures`` give the default set for each kind of
results and ``write_figures`` saves them. Importing this package loads neither Mesa nor the model.
"""

from negotiation_sim.plots.compare import figure as comparison_figure
from negotiation_sim.plots.figures import run_figures, sweep_figures, trace_figures, write_figures
from negotiation_sim.plots.run import formats, meetings, outcome_shares, terms, utilities
from negotiation_sim.plots.style import (
    ACTOR_COLOURS,
    MARK_COLOUR,
    MEETING_COLOURS,
    MEETING_LABELS,
    OUTCOME_COLOURS,
    OUTCOME_LABELS,
    close,
    closes_on_error,
    outcome_labels,
    save,
)
from negotiation_sim.plots.sweep import sensitivity, sweep_heatmap, sweep_line, sweep_outcomes
from negotiation_sim.plots.trace import trajectory

__all__ = [
    "ACTOR_COLOURS", "MARK_COLOUR", "MEETING_COLOURS", "MEETING_LABELS", "OUTCOME_COLOURS",
    "OUTCOME_LABELS", "close", "closes_on_error", "comparison_figure", "formats", "meetings",
    "outcome_labels", "outcome_shares", "run_figures", "save", "sensitivity", "sweep_figures",
    "sweep_heatmap", "sweep_line", "sweep_outcomes", "terms", "trace_figures", "trajectory",
    "utilities", "write_figures",
]
