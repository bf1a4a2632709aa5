"""Red lines and preconditions: the constraint mini-language ``"territory <= 0.2"``.

A ``Constraint`` is a bound on one issue; strict inequalities are enforced as closed bounds
``STRICT_MARGIN`` inside, so the solvers can work with boxes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    PlainSerializer,
    WithJsonSchema,
)

_ID = r"[A-Za-z_][A-Za-z0-9_\-]*"
ID_PATTERN = _ID  # what an issue, actor or format id may be: the word a constraint can name


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


_CONSTRAINT_RE = re.compile(rf"^\s*({_ID})\s*(<=|>=|<|>)\s*({_NUMBER})\s*$")


# A strict inequality is enforced as a closed bound this far inside, so that "x < 0.5" never
# admits 0.5 while staying representable as the box constraints the solvers work with.
STRICT_MARGIN = 1e-9


@dataclass(frozen=True)
class Constraint:
    """A bound on one issue, parsed from ``"ISSUE OP NUMBER"`` (OP one of <=, >=, <, >)."""

    issue: str
    op: str
    value: float

    @classmethod
    def parse(cls, text: Any) -> Constraint:
        if isinstance(text, Constraint):
            return text
        if not isinstance(text, str):
            raise ValueError(f"expected a string like 'territory <= 0.2', got {text!r}")
        m = _CONSTRAINT_RE.match(text)
        if m is None:
            raise ValueError(
                f"cannot parse {text!r}: write ISSUE OP NUMBER with OP one of <=, >=, <, >"
                " (e.g. 'territory <= 0.2')"
            )
        value = float(m.group(3))
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"bound {value:g} in {text!r} must lie in [0, 1]")
        return cls(m.group(1), m.group(2), value)

    @property
    def upper(self) -> bool:
        """Whether the constraint caps the issue from above (``<=`` or ``<``)."""
        return self.op in ("<=", "<")

    @property
    def bound(self) -> float:
        """The closed bound enforced: strict inequalities move in by ``STRICT_MARGIN``."""
        if self.op == "<":
            return self.value - STRICT_MARGIN
        if self.op == ">":
            return self.value + STRICT_MARGIN
        return self.value

    def __str__(self) -> str:
        return f"{self.issue} {self.op} {self.value:g}"

    def canonical(self) -> str:
        """The constraint as text that parses back to exactly it (``str`` rounds to 6 digits)."""
        return f"{self.issue} {self.op} {self.value!r}"


# Serialised exactly, so that a scenario's digest tells 0.1234567 from 0.1234568; written, and
# so described to editors (``negsim schema``), as the text ``"ISSUE OP NUMBER"``.
ConstraintField = Annotated[
    Constraint, BeforeValidator(Constraint.parse),
    PlainSerializer(Constraint.canonical, return_type=str),
    WithJsonSchema({"type": "string", "pattern": _CONSTRAINT_RE.pattern,
                    "description": 'A bound on one issue: "ISSUE OP NUMBER", OP one of '
                                   "<=, >=, <, >."}),
]
