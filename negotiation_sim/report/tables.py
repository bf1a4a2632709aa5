"""A run summary's tables as text: titles, column heads, cells and captions, with no markup.

``negsim run`` prints these tables (with rich), the HTML report and the explorer show the same
ones, so the three say the same thing in the same words: why worlds ended, the reference
solutions, will what is signed hold, and each actor's utility (by name, not by id). Each builder
takes the summary (the ``negsim run --json`` dict) and returns a ``TextTable``, or None when the
summary has no such part (results written before it was summarised). The outcomes and the state
without a deal are named as the summary's scenario names them (``config.words``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from negotiation_sim.config.words import Words, indefinite, words_of


def reason_words(source: Any = None) -> dict[str, str]:
    """Each end reason (``summary["end_reasons"]``) in words, with the outcomes named as
    ``source`` (a summary, a scenario; ``config.words.words_of``) names them."""
    w = words_of(source)
    cease, broke, none = (w.in_sentence(o) for o in ("ceasefire", "breakdown", "no_summit"))
    return {
        "agreed": "agreed: every principal accepted a text",
        "deadline": f"the deadline passed (then {indefinite(cease)}, or {broke} without a "
                    "package)",
        "walk_out": f"a principal walked out (then {indefinite(cease)}, or {broke} without a "
                    "package)",
        "ceasefire_refused": f"talks failed and a principal preferred the {w.no_deal} to the "
                             f"{cease}",
        "no_format": f"{none}: no format every principal attends",
        "preconditions": f"{none}: no text meets every principal's preconditions",
    }


REASON_WORDS = reason_words()
"""Each end reason in words, for a scenario that keeps the default words."""

SOLUTION_NAMES = {"nash": "Nash", "kalai_smorodinsky": "Kalai-Smorodinsky",
                  "weighted_mean": "weighted mean", "weighted_median": "weighted median"}
"""The reference solutions of ``summary["solutions"]``, in the order tables show them."""


@dataclass(frozen=True)
class TextTable:
    """A table as text.

    Attributes:
        title: what the table answers.
        columns: column heads; the first is the row's name, the others numbers (right-aligned).
        rows: one list of cells per row, as many as ``columns``.
        caption: how to read it ('' for none).
        keys: one key per row (an end reason, an issue, an actor id) for pages to mark rows by.
    """

    title: str
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    keys: list[str] = field(default_factory=list)

    def csv_rows(self) -> list[list[str]]:
        """The heads and the cells, for a CSV file."""
        return [list(self.columns), *(list(r) for r in self.rows)]


def end_reasons(summary: dict[str, Any]) -> TextTable | None:
    """Why worlds ended: each reason that ended any world, with its share."""
    reasons = summary.get("end_reasons") or {}
    if not reasons:
        return None
    kept = [(r, share) for r, share in reasons.items() if share > 0]
    said = reason_words(summary)
    return TextTable("Why worlds ended", ["reason", "share of worlds"],
                     [[said.get(r, r), f"{share:.1%}"] for r, share in kept],
                     keys=[r for r, _ in kept])


def durability(summary: dict[str, Any]) -> TextTable | None:
    """Will what is signed hold: per kind of the first text in force (a settlement, a
    ceasefire), the worlds it began a spell of peace in, the share unbroken through the followed
    rounds (95% interval), when half had broken, who broke it and how often the war resumed
    before the horizon (docs/model.md section 10a)."""
    dur = summary.get("durability")
    if not dur:
        return None
    w = words_of(summary)
    rows = []
    for kind, d in dur.items():
        name = w.in_sentence(kind)
        if d is None:
            rows.append([name, "0", "–", "–", "–", "–", "–"])
            continue
        lo, hi = d["holds"]["ci95"]
        median = ("–" if d["median_rounds"] is None else
                  f"{d['median_rounds']} rounds ({d['median_days']:g} days)")
        by = ", ".join(f"{p} {v:.0%}" for p, v in (d.get("broken_by") or {}).items()
                       if v) or "–"
        resumed = "–" if d.get("resumed") is None else f"{d['resumed']:.1%}"
        rows.append([name, f"{d['signed']:,}", f"{d['holds']['share']:.1%}",
                     f"{lo:.1%} – {hi:.1%}", median, by, resumed])
    return TextTable("Will what is signed hold? (the first text in force, followed from the "
                     "round it took effect)",
                     ["first text", "worlds", "holds", "95% interval", "median", "broken by",
                      "resumed"], rows,
                     caption=((in_force(summary) or "") + " holds: unbroken through the "
                              "followed rounds (95% interval); median: when half had broken "
                              "('–' when more than half hold); resumed: broke before the "
                              f"horizon, so the {w.no_deal} resumed").strip(),
                     keys=list(dur))


def in_force(summary: dict[str, Any]) -> str | None:
    """One sentence: the share of all worlds with a text in force at the horizon, and with two
    or more texts (None for a summary without it)."""
    f = summary.get("in_force")
    if f is None:
        return None
    lo, hi = f["ci95"]
    cease = words_of(summary).in_sentence("ceasefire")
    return (f"A text in force at the horizon (signed and unbroken, or {indefinite(cease)} "
            "holding): "
            f"{f['share']:.1%} of all worlds ({lo:.1%} – {hi:.1%}); two or more texts took "
            f"effect in {f['repeat_signings']:.1%}.")


def solutions(summary: dict[str, Any]) -> TextTable | None:
    """The reference solutions per issue, mean over worlds, and how far the agreed terms lie
    from the Nash text."""
    sol = summary.get("solutions")
    if not sol:
        return None
    issues = list(summary["terms"])
    rows = [[k, *("–" if sol[n][k] is None else f"{sol[n][k]:.3f}" for n in SOLUTION_NAMES)]
            for k in issues]
    caption = ("" if sol.get("distance_to_nash") is None else
               f"Agreed terms lie {sol['distance_to_nash']:.3f} from the Nash text on average "
               "(Euclidean, over agreements).")
    return TextTable("Reference solutions, mean over worlds (docs/protocols.md)",
                     ["issue", *SOLUTION_NAMES.values()], rows, caption=caption, keys=issues)


def utilities(summary: dict[str, Any], scenario=None) -> TextTable | None:
    """Each actor's mean utility at the outcome, by name (the id when the scenario is not
    known), with its role."""
    utils = summary.get("utilities") or {}
    if not utils:
        return None

    def name(a: str) -> str:
        return scenario.actors[a].display(a) if scenario is not None and a in scenario.actors \
            else a

    def role(a: str) -> str:
        return scenario.actors[a].role if scenario is not None and a in scenario.actors else ""

    rows = [[name(a), role(a), "–" if u["mean"] is None else f"{u['mean']:.3f}"]
            for a, u in utils.items()]
    return TextTable("Mean utility at the outcome", ["actor", "role", "mean utility"], rows,
                     caption=utility_caption(words_of(scenario if scenario is not None
                                                      else summary)), keys=list(utils))


def utility_caption(w: Words) -> str:
    """How to read a mean utility at the outcome, in the scenario's words."""
    return (f"per round; 1 = the actor's own ideal text; {w.in_sentence('breakdown')} or "
            f"{w.in_sentence('no_summit')} is worth a principal's value of {w.no_deal}; other "
            "actors count only outcomes with a text")
