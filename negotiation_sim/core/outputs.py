"""The per-world outputs of a simulation, each declared once.

An ``Output`` says what the model records for every world when it ends: its name (the model's
array, ``ChunkResult``'s attribute), dtype, shape (one value per world, or one per issue, actor or
principal), the value before the world ends, how it is stored in ``runs.parquet`` (a number, a
bool, or a dictionary of names when it holds codes; which values are null there), its unit,
what it means and how the run summary aggregates it. The model allocates its arrays from
``OUTPUTS`` (``allocate``), ``ChunkResult`` holds them, ``results.tables`` makes and reads the
per-world columns from them (``RECORDS``, per round, are handed to a chunk's consumers only:
``run.chunks.simulate_chunk`` takes them from the model), the sweep driver reads back the columns the summary needs
(``summarised``), and docs/figures.md's column table is ``column_table()`` (a test checks it).

To add an output: declare it here, have the model write it where worlds end, and (if the summary
shows it) add its aggregation to ``results.summary.Accumulator``. Only numpy is imported, so
results, figures and reports can read the declarations without loading the model (or Mesa).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# What an output's values are, per world, along its first axis.
WORLD, ISSUES, ACTORS, PRINCIPALS = None, "issues", "actors", "principals"
ROUNDS = "rounds"  # one row per round played; allocated empty and grown as rounds are played


@dataclass(frozen=True)
class Output:
    """One per-world output.

    Attributes:
        name: the model's array and ``ChunkResult``'s attribute.
        column: its ``runs.parquet`` column, or the prefix of one column per issue, actor or
            principal (``terms`` -> ``terms.territory``).
        dtype: the array's dtype.
        axis: None (shape ``(n,)``), or ``issues``, ``actors`` (the positioned actors, principals
            first) or ``principals``: shape ``(len(axis), n)``.
        fill: the value before the world ends (what a world never given one keeps).
        codes: for codes stored as names (a dictionary column): ``outcomes``, ``formats``,
            ``end_reasons`` or ``principals``; negative codes are null.
        null_below: for a plain integer column, values below this are null (-1: none).
        unit: what a value is measured in.
        description: what it means (docs/figures.md's table).
        summary: how ``summary.json`` aggregates it (empty: it does not).
    """

    name: str
    column: str
    dtype: str
    axis: str | None
    fill: float | int | bool
    unit: str
    description: str
    summary: str = ""
    codes: str | None = None
    null_below: int | None = None

    @property
    def summarised(self) -> bool:
        """Whether the run summary (and so a sweep's summary row) reads this output."""
        return bool(self.summary)

    def columns(self, labels: dict[str, Sequence[str]]) -> list[str]:
        """Its ``runs.parquet`` column names, given the scenario's ``issues``, ``actors`` and
        ``principals`` (each a list of ids)."""
        if self.axis is None:
            return [self.column]
        return [f"{self.column}.{x}" for x in labels[self.axis]]

    def empty(self, n: int, sizes: dict[str, int]) -> np.ndarray:
        """The array of ``n`` worlds before any ends (``sizes``: length of each axis; a
        ``rounds`` axis not in it starts with no rows)."""
        shape = (n,) if self.axis is None else (sizes.get(self.axis, 0), n)
        return np.full(shape, self.fill, dtype=self.dtype)


OUTPUTS: tuple[Output, ...] = (
    Output("outcome", "outcome", "int8", WORLD, -1, "outcome",
           "how the world ended: agreement, ceasefire, breakdown or no_summit",
           "share of worlds per outcome with its 95% Wilson interval; per format",
           codes="outcomes"),
    Output("held_format", "format", "int8", WORLD, -1, "format",
           "the summit format held (null: no summit)", "share of worlds per format",
           codes="formats"),
    Output("end_round", "round", "int16", WORLD, 0, "rounds",
           "the round the world ended in (0: no summit)",
           "mean and median round of agreements (and in days)"),
    Output("walked_out", "walked_out", "bool", WORLD, False, "true/false",
           "whether talks ended by a walk-out"),
    Output("end_reason", "end_reason", "int8", WORLD, -1, "reason",
           "why the world ended (docs/model.md: agreed, deadline, walk_out, "
           "ceasefire_refused, no_format, preconditions)", "share of worlds per reason",
           codes="end_reasons"),
    Output("walked_out_by", "walked_out_by", "int8", WORLD, -1, "principal",
           "the first principal to walk out (null: none)", codes="principals"),
    Output("broken_round", "broken_round", "int16", WORLD, -1, "rounds",
           "the round the first text in force broke and the war resumed, ending the first "
           "spell of peace that began in settled_round (null: it held while followed, or "
           "nothing took effect)", "share of first texts holding, by rounds after they took "
           "effect, with 95% Wilson intervals", null_below=0),
    Output("broken_by", "broken_by", "int8", WORLD, -1, "principal",
           "the principal that broke the first text in force (null: none)",
           "share of breaks by principal", codes="principals"),
    Output("terms", "terms", "float64", ISSUES, np.nan, "issue scale [0, 1]",
           "the agreed text or the ceasefire package on each issue (NaN otherwise)",
           "mean, sd and 5/50/95th percentiles over agreements; distance to the Nash text"),
    Output("utility", "utility", "float64", ACTORS, np.nan, "utility per round",
           "each positioned actor's utility at the outcome: of the text reached, or of the "
           "war for breakdown and no summit (principals; NaN for the other actors)",
           "mean over the worlds where it is defined"),
    Output("war", "war", "float64", PRINCIPALS, np.nan, "utility per round",
           "each principal's value of war in the round the world ended"),
    Output("talks_round", "talks_round", "int16", WORLD, -1, "rounds",
           "the first round with a session of every principal, at any level (null: none)",
           "share of worlds with talks (95% Wilson interval) and the cumulative share by round",
           null_below=1),
    Output("leaders_round", "leaders_round", "int16", WORLD, -1, "rounds",
           "the first round with a leaders' session of every principal (null: none)",
           "share of worlds with a leaders' meeting (95% Wilson interval) and the cumulative "
           "share by round", null_below=1),
    Output("settled_round", "settled_round", "int16", WORLD, -1, "rounds",
           "the round a settlement or a ceasefire first took effect (null: none)",
           "cumulative share of worlds settled by round", null_below=1),
    Output("sessions", "sessions", "int16", WORLD, 0, "sessions",
           "how many sessions were held, of any format (those leaving a principal out "
           "included)", "mean sessions per world"),
    Output("settled_kind", "settled_kind", "int8", WORLD, -1, "outcome",
           "what began the first spell of peace: agreement (a settlement signed) or ceasefire "
           "(null: nothing took effect)", "the holding curve per kind", codes="outcomes"),
    Output("signings", "signings", "int8", WORLD, 0, "texts",
           "how many texts (settlements and ceasefires) took effect",
           "share of worlds with two or more"),
    Output("resumed", "resumed", "bool", WORLD, False, "true/false",
           "whether a text in force broke before the horizon, so the war resumed and talks "
           "could reconvene", "share of worlds"),
)
"""Every per-world output, in ``runs.parquet``'s column order."""

RECORDS: tuple[Output, ...] = (
    Output("session_log", "session_log", "int8", ROUNDS, -1, "format",
           "the format held in each round, of any members and level (row r-1: round r; -1: "
           "none); what a scenario's history is compared with (run.condition). Kept in memory "
           "for the chunk's consumers, not written to runs.parquet", codes="formats"),
)
"""Per-round records of every world: handed to a chunk's consumers (``ChunkResult``), not
stored as columns. int8 by (rounds played, worlds): 26 rounds of 200,000 worlds are 5 MB, and a
run holds one chunk's at a time."""

BY_NAME: dict[str, Output] = {o.name: o for o in (*OUTPUTS, *RECORDS)}
NAMES: tuple[str, ...] = tuple(o.name for o in OUTPUTS)
RECORD_NAMES: tuple[str, ...] = tuple(o.name for o in RECORDS)


def allocate(n: int, sizes: dict[str, int]) -> dict[str, np.ndarray]:
    """Every output's array for ``n`` worlds, before any ends (``Output.empty``)."""
    return {o.name: o.empty(n, sizes) for o in (*OUTPUTS, *RECORDS)}


def column_table() -> str:
    """docs/figures.md's table of ``runs.parquet``'s per-world columns (Markdown)."""
    axes = {ISSUES: "one per issue: `.ISSUE`", ACTORS: "one per positioned actor: `.ACTOR`",
            PRINCIPALS: "one per principal: `.PRINCIPAL`", WORLD: "one"}
    lines = ["| column | columns | type | unit | what it holds | in the summary |",
             "| --- | --- | --- | --- | --- | --- |"]
    for o in OUTPUTS:
        kind = "name" if o.codes else o.dtype
        lines.append(f"| `{o.column}` | {axes[o.axis]} | {kind} | {o.unit} | {o.description} "
                     f"| {o.summary or '—'} |")
    return "\n".join(lines) + "\n"
