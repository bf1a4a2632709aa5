"""What every figure shares: outcome and actor colours, labels, and the figure plumbing.

Conventions every figure keeps:
- each outcome has one colour, the same everywhere (``OUTCOME_COLOURS``); principals have their
  own colours (``ACTOR_COLOURS``) that never reuse an outcome's;
- titles say the scenario, the number of worlds and the seed;
- an issue's axis runs from 0 to 1 with the issue's ``low``/``high`` words at its ends;
- functions never call ``plt.show()``; a figure they create is returned for the caller to save
  (``save`` closes it). Given ``ax``, they draw there and return ``ax.figure``;
- users' text (names, labels, ids) is drawn literally: every plotting function is wrapped by
  ``closes_on_error``, which draws without TeX and turns mathtext off on every text the function
  made, so a ``$`` in a scenario name is a dollar sign, never the start of a formula.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

from negotiation_sim.config.names import printable
from negotiation_sim.config.words import DEFAULT as DEFAULT_WORDS
from negotiation_sim.config.words import words_of

if TYPE_CHECKING:

    pass


OUTCOME_COLOURS = {
    "agreement": "#2a9d8f",
    "ceasefire": "#e9c46a",
    "breakdown": "#e76f51",
    "no_summit": "#8d99ae",
}


OUTCOME_LABELS = DEFAULT_WORDS.labels()
"""The outcomes' names when a scenario names none of its own (``outcome_labels``)."""


def outcome_labels(source=None) -> dict[str, str]:
    """Each outcome code -> the name figures and tables show for it: the scenario's own
    (``words.outcomes``) or the defaults (``OUTCOME_LABELS``).

    Args:
        source: a scenario, a run's summary, stored results, ``Words`` or None
            (``config.words.words_of``).
    """
    return words_of(source).labels()


# The calendar's milestones (``summary["meetings"]``): colours no outcome uses, and a line style
# each, so the three curves stay apart in greyscale too.
MEETING_COLOURS = {"talks": "#577590", "leaders": "#b5179e", "settled": "#2b2d42"}
MEETING_STYLES = {"talks": "-", "leaders": "--", "settled": ":"}
MEETING_LABELS = {
    "talks": "Talks (a session of every principal)",
    "leaders": "Leaders' meeting (every principal)",
    "settled": "Settlement or ceasefire took effect",
}

# Every share a sweep's row carries with its interval: the outcomes' and the meetings'
SHARE_COLOURS = {**OUTCOME_COLOURS, **MEETING_COLOURS}
SHARE_LABELS = {**OUTCOME_LABELS, **MEETING_LABELS}


def meeting_labels(source=None) -> dict[str, str]:
    """``MEETING_LABELS`` with the ceasefire named as ``source`` names it (``outcome_labels``)."""
    cease = words_of(source).in_sentence("ceasefire")
    return {**MEETING_LABELS, "settled": f"Settlement or {cease} took effect"}


def share_labels(source=None) -> dict[str, str]:
    """``SHARE_LABELS`` with the outcomes named as ``source`` names them (``outcome_labels``)."""
    return {**outcome_labels(source), **meeting_labels(source)}


def half_met(entry: dict) -> str:
    """When half of the worlds that reached a milestone had reached it, in words (``round 3,
    day 42`` and the date when the summary has one); ``–`` when none did."""
    r = entry.get("median_round")
    if r is None:
        return "–"
    date = entry.get("median_date")
    return f"round {r}, day {entry['median_day']:g}" + (f" ({date})" if date else "")


# Principals and other actors, in scenario order; dark tones that no outcome uses.
ACTOR_COLOURS = ("#9b2226", "#005f9e", "#6a4c93", "#3a5a40", "#7f4f24", "#343a40")


MARK_COLOUR = "#222222"  # status quo, Nash point, intervals


def closes_on_error(func):
    """Close the figures a plotting function opened if it fails half-way (no leaked figures),
    and draw users' text literally (``literal_text``)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib
        from matplotlib.figure import Figure
        from matplotlib.text import Text

        plt = pyplot()
        before = set(plt.get_fignums())
        theirs = {id(t): t.get_text() for num in before for t in plt.figure(num).findobj(Text)}
        try:
            with matplotlib.rc_context({"text.usetex": False}):
                result = func(*args, **kwargs)
                if isinstance(result, Figure):
                    literal_text(result, keep=theirs)
            return result
        except BaseException:
            for num in set(plt.get_fignums()) - before:
                plt.close(num)
            raise

    return wrapper


def literal_text(fig, *, keep: dict[int, str] | None = None) -> None:
    """Show every text of ``fig`` as written: no mathtext (``$``), no TeX, and control
    characters as visible escapes (``config.names.printable``).

    ``keep`` maps the ``id`` of each text that existed before drawing to what it said: those
    that still say it (a caller's own, on axes it passed in) are left alone. The tick labels of
    numeric axes are left alone too (matplotlib's own formatters may write mathtext: ``10^{2}``
    on a log axis); tick labels set from text (``set_xticks(x, labels)``) are made literal, and
    stay so when they are redrawn.
    """
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    keep = keep or {}
    numeric: set[int] = set()
    named: set[int] = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            labels = [t for tick in axis.majorTicks for t in (tick.label1, tick.label2)]
            if isinstance(formatter, (FixedFormatter, FuncFormatter)):
                # labels given as text; they are redrawn from the formatter
                axis.set_major_formatter(FuncFormatter(
                    lambda x, pos, shown=formatter: printable(shown(x, pos))))
                named.update(id(t) for t in labels)
            else:
                numeric.update(id(t) for t in labels)
            numeric.update(id(t) for tick in axis.minorTicks for t in (tick.label1, tick.label2))
    for text in fig.findobj(Text):
        if id(text) in numeric or (id(text) not in named and keep.get(id(text)) == text.get_text()):
            continue
        text.set_parse_math(False)
        text.set_usetex(False)
        shown = printable(text.get_text())
        if shown != text.get_text():
            text.set_text(shown)


def pyplot():
    import matplotlib

    backend = matplotlib.get_backend().lower()
    if backend not in ("agg", "svg", "pdf", "cairo") and not backend.startswith("module://"):
        # Never open windows: figures are saved, not shown. A notebook's backend
        # (module://matplotlib_inline..., ipympl) opens none and is left alone.
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def new_figure(ax=None, size=(7.0, 4.0)):
    """A new figure and axes, or the given axes and its figure."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = pyplot().subplots(figsize=size, layout="constrained")
    return fig, ax


def panels(n: int, ax, *, size_each=(7.5, 1.9), extra_height=1.1):
    """One axes per item stacked vertically, or the axes given (one per item)."""
    if ax is not None:
        axes = list(np.atleast_1d(ax).ravel())
        if len(axes) != n:
            raise ValueError(f"need {n} axes (one per panel), got {len(axes)}")
        return axes[0].figure, axes
    fig, axes = pyplot().subplots(
        n, 1, figsize=(size_each[0], size_each[1] * n + extra_height), layout="constrained",
        squeeze=False)
    return fig, list(axes[:, 0])


def wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def wrap_words(text: str, width: int = 18) -> str:
    """Lines of at most ``width`` characters broken only after a space, '-' or '_' (names such
    as ``putin-zelensky-hardline-russia`` or ``no_us_pressure`` are words joined by them); a
    word longer than ``width`` keeps a line of its own rather than being cut."""
    import re

    lines: list[str] = []
    line = ""
    for token in re.findall(r"[^\s_-]+[_-]*\s*|[\s_-]+", text):
        if line and len((line + token).rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines) or text


def issue_axis(ax, low: str, high: str, name: str) -> None:
    """An issue's x-axis: 0 to 1, with the words for each end under the ends."""
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel(name, labelpad=2)
    kw = dict(xycoords="axes fraction", textcoords="offset points", va="top", fontsize=8,
              color="#444444")
    ax.annotate(f"0 = {wrap(low, 30)}", xy=(0, 0), xytext=(0, -26), ha="left", **kw)
    ax.annotate(f"1 = {wrap(high, 30)}", xy=(1, 0), xytext=(0, -26), ha="right", **kw)


def headroom(ax, factor: float) -> None:
    """Stretch a percentage y-axis by ``factor`` above the data, ticks only up to the data.

    With nothing above zero (no world in any bar) the axis is 0-100%: an empty panel on a
    frame that reads as "none", not a hair-thin range around zero."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    data_top = ax.dataLim.y1 if np.isfinite(ax.dataLim.y1) else 0.0
    if data_top <= 0:
        ax.set_ylim(0, 100)
        ax.yaxis.set_major_locator(FixedLocator([0, 50, 100]))
        pct_axis(ax)
        return
    top = ax.get_ylim()[1]
    ticks = [t for t in MaxNLocator(3).tick_values(0, top) if 0 <= t <= top * 1.02]
    ax.set_ylim(0, top * factor)
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    pct_axis(ax)


def pct_axis(ax, axis: str = "y") -> None:
    """Percent tick labels (the data in %) with as many decimals as make neighbours differ:
    ticks 0, 0.2, 0.4 read "0%, 0.2%, 0.4%", never "0%, 0%, 0%"."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(_percent_formatter())


def _percent_formatter():
    from matplotlib.ticker import Formatter

    class Percent(Formatter):
        ticks: tuple = ()

        def set_locs(self, locs):
            self.ticks = tuple(locs)

        def __call__(self, x, pos=None):
            locs = np.asarray(self.ticks or (x,), dtype=float)
            # the fewest decimals (at most 3) that write every tick exactly: 0, 0.15, 0.3
            # reads "0.00%, 0.15%, 0.30%"
            decimals = next((d for d in range(3) if np.allclose(locs, np.round(locs, d),
                                                                 rtol=0, atol=1e-9)), 3)
            return f"{x:.{decimals}f}%"

    return Percent()


def save(fig, path, **kwargs) -> None:
    """Save a figure (format from the file suffix) and close it.

    A path is written whole or not at all: to a hidden temporary file beside it, renamed into
    place, and removed on any exception (an interrupt mid-draw leaves no half image).
    """
    import os
    from pathlib import Path

    from negotiation_sim.results.files import atomic_path

    plt = pyplot()
    dpi = kwargs.pop("dpi", 150)
    try:
        if not isinstance(path, (str, os.PathLike)):  # a file object: the caller's to manage
            fig.savefig(path, dpi=dpi, **kwargs)
            return
        path = Path(path)
        kwargs.setdefault("format", path.suffix.lstrip(".").lower() or None)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, **kwargs)
    finally:
        plt.close(fig)


def close(fig) -> None:
    """Close a figure without saving it."""
    pyplot().close(fig)
