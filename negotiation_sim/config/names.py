"""Names are labels: shown as written (``printable``) and turned into a single safe path
component for default output paths (``path_component``).

A scenario's or experiment's ``name`` is free text shown in tables, figures and reports. Where a
command derives a default path from it (``negsim sweep`` writes to ``results/<name>``), the name
must not choose where files go: ``../../x``, ``/tmp/x``, ``C:\\x``, ``.`` or a name full of
control characters would otherwise write outside the working directory or somewhere unexpected.
``path_component`` maps any name to one component that stays where it is put: it is never empty,
``.`` or ``..``, holds no separator, drive, control character or hidden-file dot, and fits every
common file system.

Shown, a label must not act on the terminal or the figure that shows it: ``printable`` turns
every control character (ESC starts the terminal's control sequences) and bidirectional control
(which reorders the rest of the line) into a visible escape such as ``\\x1b``. Rich markup and
matplotlib's mathtext are turned off where text is shown (``cli.common``, ``plots.style``), so
``[bold]`` and ``$x$`` need no escaping here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_COMPONENT_CHARS = 80
"""Longest component made (file systems allow 255 bytes; UTF-8 takes up to 4 per character)."""

_KEEP = re.compile(r"[^\w.\-]+")  # \w is Unicode-aware: letters and digits of any script stay
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
     *(f"LPT{i}" for i in range(1, 10))])


def path_component(name: str, *, fallback: str = "unnamed") -> str:
    """One safe path component for a label (``results / path_component(name)``).

    Letters and digits of any script, ``_``, ``-`` and inner dots are kept; every other run of
    characters (separators, spaces, control and markup characters) becomes one ``_``. A name
    that changed is given a short hash of the original, so that different names such as
    ``a/b`` and ``a b`` never share a directory; an unchanged name stays as it is.

    Args:
        name: The label, as written by the user.
        fallback: The component used when nothing of the name is left.

    Returns:
        A non-empty component without separators that is not ``.``, ``..`` or hidden.
    """
    text = unicodedata.normalize("NFKC", str(name))
    safe = re.sub(r"\.{2,}", ".", _KEEP.sub("_", text))
    safe = safe.strip("._-")[:MAX_COMPONENT_CHARS].rstrip("._-")
    if safe.split(".")[0].upper() in _WINDOWS_RESERVED:
        safe = f"_{safe}"
    if safe and safe == str(name):
        return safe
    tag = hashlib.sha256(str(name).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{safe or fallback}-{tag}"


# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional embeddings, overrides,
# isolates and marks (which reorder what follows them on the line: "Trojan source").
_CONTROLS = ("\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
             "\u2066-\u2069")
_UNSAFE = re.compile(f"[{_CONTROLS}]")
_UNSAFE_ONE_LINE = re.compile(f"[\t\n{_CONTROLS}]")


def printable(text: object, *, newlines: bool = True) -> str:
    """``text`` made safe to show: every control character (and bidirectional control) becomes
    a visible escape such as ``\\x1b``; with ``newlines=False`` newlines and tabs too, for what
    must stay on one line."""
    pattern = _UNSAFE if newlines else _UNSAFE_ONE_LINE
    return pattern.sub(_escape, str(text))


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
