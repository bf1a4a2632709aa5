"""The names of a results directory: every file a run, sweep or trace writes, and every figure.

This is the one place those names are spelled; writers, the reader, figures, reports and the
command line use these constants. The module imports nothing, so the command line can name files
in its help without loading numpy. The columns of the per-world tables are made in
``results.tables``.

A run's directory (``negsim run --out``, ``ns.run(..., out=)`` or ``res.save``)::

    runs.parquet     one row per world
    summary.json     the ``negsim run --json`` summary
    manifest.json    provenance: scenario hash, seed, versions, command
    scenario.json    the validated scenario and the marks its figures draw (``results.marks``)
    KIND.png         the figures (``RUN_FIGURES``)

A sweep's directory (``negsim sweep``, ``ns.sweep``) holds ``points.parquet``, ``runs/`` (one
part per task), ``summary.parquet`` (one row per point), ``manifest.json``, ``scenario.json``
(the base scenario), ``sensitivity.json`` for sobol and morris designs, and its figures.
"""

from __future__ import annotations

from enum import StrEnum

FORMAT_VERSION = 1  # of the results directory layout

# -- a run ----------------------------------------------------------------------------------
RUNS_FILE = "runs.parquet"
SUMMARY_FILE = "summary.json"
MANIFEST_FILE = "manifest.json"
SCENARIO_FILE = "scenario.json"

# -- a sweep --------------------------------------------------------------------------------
POINTS_FILE = "points.parquet"
RUNS_DIR = "runs"
SWEEP_SUMMARY_FILE = "summary.parquet"
SENSITIVITY_FILE = "sensitivity.json"
SENSITIVITY_TABLE_FILE = "sensitivity.parquet"  # read too: indices saved as a table

# -- a traced world, reports, comparisons ----------------------------------------------------
TRACE_FILE = "trace.json"
REPORT_FILE = "report.html"
COMPARISON_FILE = "comparison.json"
COMPARISON_FIGURE = "comparison"


class Figure(StrEnum):
    """The kinds of figure (``negsim plot --kind``); a figure's file is ``KIND.FORMAT``."""

    OUTCOMES = "outcomes"
    TERMS = "terms"
    UTILITIES = "utilities"
    FORMATS = "formats"
    DURABILITY = "durability"
    MEETINGS = "meetings"
    SWEEP_LINE = "sweep-line"
    HEATMAP = "heatmap"
    SENSITIVITY = "sensitivity"
    TRAJECTORY = "trajectory"


RUN_FIGURES = (Figure.OUTCOMES, Figure.TERMS, Figure.UTILITIES, Figure.FORMATS, Figure.MEETINGS)
# drawn only when the run followed signed texts (durability.rounds > 0) and some were signed
OPTIONAL_RUN_FIGURES = (Figure.DURABILITY,)
SWEEP_FIGURES = (Figure.OUTCOMES, Figure.SWEEP_LINE, Figure.HEATMAP, Figure.SENSITIVITY)
TRACE_FIGURES = (Figure.TRAJECTORY,)


def figure_file(kind: str, fmt: str = "png") -> str:
    """The file name of a figure: ``terms.png``."""
    return f"{kind}.{fmt}"
