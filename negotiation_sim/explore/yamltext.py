"""The explorer's changed scenario written into the scenario file's own text.

A scenario file carries its sources in comments (dated statements beside each number), and a
YAML dump of the changed scenario loses them. ``patched_text`` writes the values the levers
changed into the file's text instead: PyYAML's ``compose`` gives each node of the file with its
start and end in the text, and only the spans of the scalars that changed are replaced (a
number as ``yaml.safe_dump`` writes it, a string in the quotes the file used). Everything else,
comments and layout included, stays as written.

Where the file has no scalar to replace, the new value goes in with a comment saying so:

- a key the file does not write (a field left at its default) is added to the nearest block
  mapping the file has on its path, as ``key: value`` in flow style;
- a node whose shape changes (a distribution a lever replaces with a number) is replaced as a
  whole, in flow style.

The result is checked by loading it back: when it is not the scenario the levers make (a shape
this module does not handle, such as an anchor shared by several fields, or a flow mapping
missing a key), ``patched_text`` returns ``None`` and the caller writes a plain dump.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

NOTE = "set by negsim explore"
"""The comment on a value the file did not have in that shape (see the module docstring)."""

_MISSING = object()


def flow(value: Any) -> str:
    """``value`` as one line of flow-style YAML (``0.012``, ``{dist: uniform, low: 0.1}``)."""
    text = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True,
                          width=float("inf"), sort_keys=False).strip()
    return text[1:-1]  # the list's brackets: a bare scalar dumps with a document end marker


def scalar_text(value: Any, style: str | None) -> str:
    """A scalar written as the node it replaces was: in its quotes, or plain."""
    if isinstance(value, str) and style == '"':
        import json

        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and style == "'":
        return "'" + value.replace("'", "''") + "'"
    return flow(value)


def _leaves(old: Any, new: Any, at: tuple = ()) -> Iterator[tuple[tuple, Any, Any]]:
    """(sub-path, old, new) for every place ``new`` differs from ``old``: scalars, keys added,
    and subtrees whose shape changed (taken whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in new:
            yield from _leaves(old.get(key, _MISSING), new[key], (*at, key))
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (o, n) in enumerate(zip(old, new)):
            yield from _leaves(o, n, (*at, i))
        return
    if old is _MISSING or old != new or type(old) is not type(new):
        yield at, old, new


def _child(node: Node, part: Any) -> Node | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == str(part):
                return value
        return None
    if isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


def _at(data: Any, parts: tuple) -> Any:
    for part in parts:
        data = data[part]
    return data


def _parts(data: Any, path: str) -> tuple:
    """A dotted path as keys and list indexes of ``data``."""
    out: list[Any] = []
    for part in path.split("."):
        out.append(int(part) if isinstance(_at(data, tuple(out)), list) else part)
    return tuple(out)


class _Edits:
    """Replacements of spans of the text (start, end, new text), applied from the end."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans: list[tuple[int, int, str]] = []

    def replace(self, node: Node, new: str) -> None:
        start, end = node.start_mark.index, node.end_mark.index
        if node.end_mark.column == 0 and end > start:  # a block ends on the next line's start
            new += "\n"
        self.spans.append((start, end, new))

    def insert(self, parent: MappingNode, key: Any, value: Any) -> bool:
        """Add ``key: value`` to a block mapping, after its last entry; False when the mapping
        is empty or written in flow style (then the whole text is dumped instead)."""
        if parent.flow_style or not parent.value:
            return False
        indent = parent.value[0][0].start_mark.column
        last = parent.value[-1][1].end_mark
        at = last.index if last.column == 0 else self.text.find("\n", last.index) + 1
        line = f"{' ' * indent}{key}: {flow(value)}  # {NOTE} (not in the file)\n"
        if at == 0:  # no newline after the last entry: the end of the text
            at, line = len(self.text), "\n" + line
        self.spans.append((at, at, line))
        return True

    def applied(self) -> str | None:
        """The text with every edit made; None when two edits overlap."""
        out, end = self.text, len(self.text) + 1
        for start, stop, new in sorted(self.spans, key=lambda s: (s[0], s[1]), reverse=True):
            if stop > end:
                return None
            out, end = out[:start] + new + out[stop:], start
        return out


def patched_text(text: str, old: Any, new: Any, paths: list[str]) -> str | None:
    """The file's ``text`` with the fields under ``paths`` (the levers moved) set as in
    ``new`` (the scenario data the levers make; ``old``: the file's scenario data), or None
    when the file cannot be patched in place (see the module docstring). The caller checks
    that the text loads back to the changed scenario."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return None
    edits = _Edits(text)
    inserted: dict[tuple[int, Any], dict] = {}  # (mapping's id, key) -> value to insert
    mappings: dict[int, MappingNode] = {}
    for path in paths:
        parts = _parts(new, path)
        old_at = _MISSING
        try:
            old_at = _at(old, parts)
        except (KeyError, IndexError, TypeError):
            pass
        for sub, _, value in _leaves(old_at, _at(new, parts)):
            if not _place(edits, root, (*parts, *sub), value, inserted, mappings):
                return None
    for (ident, key), value in inserted.items():
        if not edits.insert(mappings[ident], key, value):
            return None
    return edits.applied()


def _place(edits: _Edits, root: Node, full: tuple, value: Any,
           inserted: dict[tuple[int, Any], dict], mappings: dict[int, MappingNode]) -> bool:
    """Record the edit that sets ``full`` to ``value`` in the text; False when none can."""
    node, depth = root, 0
    while depth < len(full):
        child = _child(node, full[depth])
        if child is None:
            break
        node, depth = child, depth + 1
    if depth == len(full):
        if isinstance(node, ScalarNode) and not isinstance(value, (dict, list)):
            edits.replace(node, scalar_text(value, node.style))
        else:
            edits.replace(node, f"{flow(value)}  # {NOTE} (the file had another shape)")
        return True
    if not isinstance(node, MappingNode) or isinstance(full[depth], int):
        return False
    # a key the file does not write: nest what is missing under the first absent key
    nested: Any = value
    for part in reversed(full[depth + 1:]):
        nested = {part: nested}
    key = (id(node), full[depth])
    mappings[id(node)] = node
    if key in inserted and isinstance(inserted[key], dict) and isinstance(nested, dict):
        _merge(inserted[key], nested)
    else:
        inserted[key] = nested
    return True


def _merge(into: dict, more: dict) -> None:
    for k, v in more.items():
        if isinstance(into.get(k), dict) and isinstance(v, dict):
            _merge(into[k], v)
        else:
            into[k] = v
