"""The words a scenario's outputs use for its outcomes, its no-deal state and its meetings.

The engine was built for a war and a summit, and its tables, figures, reports and stories say
"war", "summit", "agreement" and so on. A scenario about something else (a river treaty, a trade
dispute) names them in its ``words:`` section; every field is optional, and what it leaves out
keeps today's word. Only what users read changes: the outcome codes (``agreement``,
``ceasefire``, ``breakdown``, ``no_summit``) stay the keys of ``summary.json`` and the values
of ``runs.parquet``.

This module owns the ``words:`` schema (``Words``), the defaults, and ``words_of``, the one
place that finds the words for whatever a caller holds: a scenario, a run's summary (which
carries a scenario's own words under ``summary["words"]``, so a stored run is drawn with them
without its scenario), stored results, or nothing (the defaults).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from negotiation_sim.config.distributions import STRICT

MAX_WORD_LENGTH = 60
"""The longest word or phrase: it stands in titles, table headers and legends."""


def _plain(text: str) -> str:
    """A word as it will be printed: visible, on one line, without spaces around it (a newline
    would break a table's row and a figure's title, a control character would act on the
    terminal, a bidirectional control reorder the line; spaces around it are refused rather
    than dropped, so what is shown is what was written)."""
    if not text.strip():
        raise ValueError("must not be empty")
    if any(unicodedata.category(c).startswith("C") or unicodedata.category(c) in ("Zl", "Zp")
           for c in text):
        raise ValueError("must be one line without control or formatting characters")
    if text != text.strip():
        raise ValueError("must not start or end with a space")
    return text


Word = Annotated[str, StringConstraints(strict=True, max_length=MAX_WORD_LENGTH),
                 AfterValidator(_plain)]


class OutcomeWords(BaseModel):
    """The display name of each outcome, as a table's row or a legend's entry."""

    model_config = STRICT
    agreement: Word = Field("Agreement", description="A settlement was signed.")
    ceasefire: Word = Field("Ceasefire", description="The ceasefire package was in force at "
                            "the horizon.")
    breakdown: Word = Field("Breakdown", description="Talks of every principal were held, "
                            "nothing was in force at the horizon.")
    no_summit: Word = Field("No summit", description="No session of every principal was held.")


class Words(BaseModel):
    """What the outputs call the outcomes, the state without a deal, and a meeting."""

    model_config = STRICT
    outcomes: OutcomeWords = Field(
        default_factory=OutcomeWords, description="Outcome -> its display name (the keys of "
        "summary.json and runs.parquet do not change).")
    no_deal: Word = Field(
        "war", description="A noun for what goes on while nothing is agreed, as in 'value of "
        "war' and 'the war resumed'.")
    meeting: Word = Field(
        "summit", description="A noun for the meeting the mediator convenes, as in 'summit "
        "formats held'.")

    def outcome(self, code: str) -> str:
        """An outcome's display name (a code with none is shown as it is)."""
        return getattr(self.outcomes, code) if code in OutcomeWords.model_fields else code

    def labels(self) -> dict[str, str]:
        """Every outcome code -> its display name, in the outcomes' order."""
        return {code: getattr(self.outcomes, code) for code in OutcomeWords.model_fields}

    def share_word(self, name: str) -> str:
        """A share's name inside a sentence: an outcome's as the scenario names it, any other
        column's (``talks``, ``end_reason.deadline``) with spaces for underscores."""
        return self.in_sentence(name) if name in OutcomeWords.model_fields \
            else name.replace("_", " ")

    def in_sentence(self, code: str) -> str:
        """An outcome's name inside a sentence ("No summit" -> "no summit")."""
        return lower_first(self.outcome(code))

    def shown(self, code: str) -> str:
        """An outcome inside a line of text: its name where the scenario names it, else the
        code as it is (``no_summit``), as such lines showed it before scenarios named them."""
        return self.in_sentence(code) if code in self.named_outcomes() else code

    def named_outcomes(self) -> set[str]:
        """The outcomes the scenario named (different from the default)."""
        return {c for c, name in self.labels().items() if name != DEFAULT_LABELS[c]}

    @property
    def Meeting(self) -> str:  # noqa: N802 - the capitalised form, as a title begins
        """The meeting word at the start of a title ("Summit")."""
        return upper_first(self.meeting)

    def stored(self) -> dict[str, Any] | None:
        """What a run's summary keeps (``summary["words"]``): the words the scenario set, or
        None when it keeps every default (a summary then reads as it always did)."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        return data or None


DEFAULT = Words()
"""The words of a scenario without a ``words:`` section."""

DEFAULT_LABELS = DEFAULT.labels()


def lower_first(text: str) -> str:
    """``text`` with its first letter in lower case, unless its first word is an acronym
    ("Breakdown" -> "breakdown", "EU deal" stays)."""
    if not text or (len(text) > 1 and text[1].isupper()):
        return text
    return text[0].lower() + text[1:]


def indefinite(text: str) -> str:
    """``text`` after "a" or "an" by its first letter ("a ceasefire", "an interim deal")."""
    return ("an " if text[:1].lower() in "aeiou" and text[:1] else "a ") + text


def upper_first(text: str) -> str:
    """``text`` with its first letter in upper case ("summit" -> "Summit")."""
    return text[:1].upper() + text[1:]


def words_of(source: Any = None) -> Words:
    """The words for whatever is at hand.

    Args:
        source: a ``Words``; a scenario (its ``words``); a run's summary dict (its ``words``
            key, written when the scenario set any); an object with a ``scenario`` or a
            ``summary`` (stored results); or None.

    Returns:
        The words found, each missing one the default (``DEFAULT`` when none is found).
    """
    if isinstance(source, Words):
        return source
    if source is None:
        return DEFAULT
    if isinstance(source, Mapping):
        stored = source.get("words")
        if isinstance(stored, Mapping):
            try:
                return Words.model_validate(dict(stored))
            except ValueError:  # a summary edited by hand: its words are ignored, not fatal
                return DEFAULT
        return DEFAULT
    words = getattr(source, "words", None)
    if isinstance(words, Words):
        return words
    for attr in ("scenario", "summary"):
        inner = getattr(source, attr, None)
        if inner is not None and inner is not source:
            found = words_of(inner)
            if found is not DEFAULT:
                return found
    return DEFAULT
