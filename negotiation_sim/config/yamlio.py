"""Safe YAML loading for user-written files, with ``FILE:LINE`` errors.

This module owns the path from a user's YAML file on disk to the plain Python data that the
pydantic models validate, and the way every mistake in such a file is reported:

* reading the file (missing, a directory, unreadable, not UTF-8): only regular files are
  opened (a FIFO, ``/dev/zero`` or a terminal is refused before anything is read, so reading
  never blocks or grows without bound) and at most ``MAX_FILE_BYTES`` of them (``limits``);
* parsing it safely: only plain data (mappings, lists, strings, numbers, booleans, null) is ever
  built; explicit tags that would construct anything else are refused; duplicate keys, recursive
  aliases and alias bombs ("billion laughs") are reported instead of being silently accepted;
  YAML 1.1 quirks are smoothed (``1e-3`` is a float, the key of ``1: x`` is the string ``"1"``);
* remembering the line of every node, so any location can be turned into a line
  (:meth:`YamlDoc.line_of`);
* turning a :class:`pydantic.ValidationError` into located one-line :class:`Problem` s.

Every problem with a user's file is raised as :class:`InputError`; ``str(err)`` is one line
``FILE:LINE: field.path: message``, so the command line can print it without a traceback.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, NoReturn, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from negotiation_sim.config import limits

__all__ = [
    "DEFAULT_MAX_NODES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "InputError",
    "Problem",
    "YamlDoc",
    "format_problems",
    "load_yaml",
    "parse_yaml",
    "problems_from_validation_error",
    "validate_doc",
]

DEFAULT_MAX_NODES = limits.MAX_NODES
"""Default limit on the size of a document with its aliases expanded."""

MAX_DEPTH = limits.MAX_DEPTH
"""Deepest nesting of mappings and lists accepted in a user's file."""

MAX_FILE_BYTES = limits.MAX_FILE_BYTES
"""Largest file read."""

Loc = Sequence[str | int]
M = TypeVar("M", bound=BaseModel)

_STD = "tag:yaml.org,2002:"
_MAP, _SEQ, _NULL, _MERGE = _STD + "map", _STD + "seq", _STD + "null", _STD + "merge"
_SCALAR_TAGS = frozenset(
    _STD + name for name in ("str", "int", "float", "bool", "null", "timestamp", "value", "merge")
)
_SCALARS = SafeConstructor()  # used only for its scalar converters, which build plain values
_CONVERTERS = {
    _STD + "int": ("integer", _SCALARS.construct_yaml_int),
    _STD + "float": ("number", _SCALARS.construct_yaml_float),
    _STD + "bool": ("boolean", _SCALARS.construct_yaml_bool),
    _NULL: ("null", lambda node: None),
}
_BASE_60 = frozenset((_STD + "int", _STD + "float"))  # YAML 1.1's sexagesimal 1:30, 1:30.5
_INVALID = object()  # marks a mapping key that could not be used
_USES_LIBYAML = hasattr(yaml, "CSafeLoader")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x85\u2028\u2029]")


class _Loader(yaml.CSafeLoader if _USES_LIBYAML else yaml.SafeLoader):  # type: ignore[misc]
    """Safe loader whose resolver also reads ``1e-3``, ``5e4``, ``-2E+2``, ``1.5e3`` as floats.

    Only its parser, composer and resolver are used: nodes are turned into data by
    :class:`_Builder`. libyaml's parser is preferred when present, not for speed but because it
    is linear on deeply nested flow collections (PyYAML's scanner is quadratic there) and caps
    nesting at 1000 levels; its terser messages are completed from the source text.
    """


_Loader.add_implicit_resolver(
    _STD + "float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


# -- problems -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One located mistake in a user's input file.

    Attributes:
        file: The path as given by the user.
        line: 1-based line, or None when unknown.
        field: Dotted path such as ``actors.ukraine.red_lines.0``; ``""`` for the whole file.
        message: What is wrong, on one line.
    """

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        """Format as ``FILE:LINE: field: message`` (without parts that are unknown or empty).

        Always one line: control characters, line and paragraph separators that the file or
        path carry (in a key, a value quoted in the message, a file name) are shown escaped,
        so they can neither break the line nor reach a terminal as commands.
        """
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return _visible(f"{where}: {self.field}: {self.message}")
        return _visible(f"{where}: {self.message}")


def _visible(text: str) -> str:
    """``text`` with every control or line-breaking character escaped (``\\x1b``)."""
    if all(ch.isprintable() or ch == " " for ch in text):
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


class InputError(Exception):
    """Raised for any problem in a user's input file.

    ``str(err)`` is the first problem's line; ``err.problems`` holds all of them.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        """Keep the problems (in order); the exception's only argument is their list."""
        self.problems: list[Problem] = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        """The first problem, formatted on one line."""
        return str(self.problems[0]) if self.problems else "invalid input"


def format_problems(problems: Iterable[Problem]) -> str:
    """Format problems one per line (no trailing newline)."""
    return "\n".join(str(problem) for problem in problems)


def _fail(file: str, line: int | None, message: str, field: str = "") -> NoReturn:
    raise InputError([Problem(file, line, field, message)])


def _dotted(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _line(node: Node) -> int:
    return node.start_mark.line + 1


# -- the document and its lines -----------------------------------------------------------------


class _Lines:
    """Where a node of the loaded data came from: its line and those of its children.

    ``children`` maps each key of a mapping to ``(line of the key, _Lines of the value)``, or
    holds one ``_Lines`` per item of a list, or is None for a scalar.
    """

    __slots__ = ("line", "children")

    def __init__(
        self, line: int, children: dict[Any, tuple[int, _Lines]] | list[_Lines] | None = None
    ) -> None:
        self.line = line
        self.children = children

    def step(self, part: Any) -> tuple[int, _Lines] | None:
        """The line and lines-tree of the child at ``part``, or None if there is none."""
        kids = self.children
        if isinstance(kids, dict):
            for key in _key_candidates(part):
                if key in kids:
                    return kids[key]
        elif isinstance(kids, list) and _is_index(part) and 0 <= part < len(kids):
            return kids[part].line, kids[part]
        return None


def _is_index(part: Any) -> bool:
    return isinstance(part, int) and not isinstance(part, bool)


def _key_candidates(part: Any) -> tuple[Any, ...]:
    """Keys that ``part`` of a location may stand for (``1`` also finds the key ``"1"``)."""
    try:
        hash(part)
    except TypeError:
        return ()
    return (part, str(part)) if _is_index(part) else (part,)


def _data_child(data: Any, part: Any) -> tuple[bool, Any, Any]:
    """Step from ``data`` to its child at ``part``: ``(found, key as in the data, child)``."""
    if isinstance(data, dict):
        for key in _key_candidates(part):
            if key in data:
                return True, key, data[key]
    elif isinstance(data, list) and _is_index(part) and 0 <= part < len(data):
        return True, part, data[part]
    return False, part, None


class YamlDoc:
    """A loaded YAML file: its plain data and the line every node came from.

    Attributes:
        path: The path as given by the user.
        data: Plain Python data (dict / list / str / int / float / bool / None).
    """

    __slots__ = ("path", "data", "_lines")

    def __init__(self, path: str, data: Any, lines: _Lines | None = None) -> None:
        """Wrap ``data``; ``lines`` (internal) is filled by the loader, else lines are unknown."""
        self.path = path
        self.data = data
        self._lines = lines

    def __repr__(self) -> str:
        """Short description (the data can be big)."""
        return f"YamlDoc({self.path!r})"

    def line_of(self, loc: Loc) -> int | None:
        """The 1-based line of the node at ``loc`` (mapping keys and list indices).

        For a mapping key this is the line of the key. If ``loc`` goes deeper than the document
        (for example a missing field), the line of the deepest existing ancestor is returned:
        for a missing key of a mapping, the line of the key that holds the mapping.

        Args:
            loc: Keys and indices from the top of the document; ``()`` is the whole document.

        Returns:
            The line, or None when the document carries no line information.
        """
        if self._lines is None:
            return None
        if isinstance(loc, str):
            loc = (loc,)
        node, line = self._lines, self._lines.line
        for part in loc:
            found = node.step(part)
            if found is None:
                break
            line, node = found
        return line


# -- loading ------------------------------------------------------------------------------------


def load_yaml(path: str | os.PathLike[str], *, max_nodes: int = DEFAULT_MAX_NODES) -> YamlDoc:
    """Read and safely parse a user's YAML file whose top level is a mapping.

    Args:
        path: The file, as given by the user (it is echoed in problems).
        max_nodes: Largest accepted size of the document with its aliases expanded.

    Returns:
        The document's plain data with the line of every node.

    Raises:
        InputError: The file is missing, a directory, unreadable or not UTF-8; or its YAML is
            invalid, empty, not a mapping at the top, split in several documents, uses a tag
            that is not plain data, repeats a key, or expands to too many nodes through aliases.
    """
    name = os.fsdecode(path)
    return parse_yaml(_read_text(name), name, max_nodes=max_nodes)


def parse_yaml(text: str, path: str = "<string>", *, max_nodes: int = DEFAULT_MAX_NODES) -> YamlDoc:
    """Safely parse YAML text as :func:`load_yaml` does with a file's content.

    Args:
        text: The YAML source.
        path: Name used for the document in problems.
        max_nodes: Largest accepted size of the document with its aliases expanded.

    Returns:
        The document's plain data with the line of every node.

    Raises:
        InputError: As :func:`load_yaml`, except for the reading problems.
    """
    root = _compose(text, path, max_nodes)
    _check_root(root, path)
    _check_graph(root, path, max_nodes)
    builder = _Builder(path)
    try:
        data, lines = builder.build(root, ())
    except RecursionError:
        _fail(path, None, "document is nested too deeply")
    if builder.problems:
        raise InputError(_unique(builder.problems))
    return YamlDoc(path, data, lines)


def _read_text(name: str) -> str:
    """The file's text, or an InputError saying why it cannot be read."""
    raw = _read_bytes(name)
    # UTF-32's little-endian mark begins with UTF-16's: look for it first
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        _fail(name, None, "file is UTF-32 encoded; save it as UTF-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _fail(name, None, "file is UTF-16 encoded; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start]
        _fail(name, line, f"file is not valid UTF-8 (byte 0x{byte:02x}); save it as UTF-8")


def _read_bytes(name: str) -> bytes:
    """At most ``MAX_FILE_BYTES`` of a regular file, refusing anything else before reading.

    The file is opened without blocking (a FIFO would otherwise wait for a writer) and checked
    on the open descriptor, so it cannot be swapped for something else between check and read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except OSError as exc:
        _fail(name, None, _os_error_text(name, exc))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            _fail(name, None, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            _fail(name, None, f"is {_file_kind(info.st_mode)}, not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            _fail(name, None, _too_big(info.st_size))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with open(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        _fail(name, None, _os_error_text(name, exc))
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:  # grew since fstat, or a file that reports no size
        _fail(name, None, _too_big(None))
    return raw


def _too_big(size: int | None) -> str:
    return limits.limit_text("file size in bytes", MAX_FILE_BYTES, size)


def _os_error_text(name: str, exc: OSError) -> str:
    """Words for a failure to open or read ``name``."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "is a directory, not a file" if os.path.isdir(name) else "permission denied"
    return f"cannot read file: {exc.strerror or exc}"


def _file_kind(mode: int) -> str:
    """Words for a file that is not regular."""
    for test, words in ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
                        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return words
    return "a special file"


def _compose(text: str, path: str, max_nodes: int = DEFAULT_MAX_NODES) -> Node | None:
    """Parse ``text`` into a node tree (or None when it holds no document).

    A first pass over the parser's events counts the nodes as written and stops at
    ``max_nodes``, so a huge document is refused before its tree is built.
    """
    try:
        _count_events(text, path, max_nodes)
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        raise InputError([_syntax_problem(err, text, path)]) from None
    except yaml.YAMLError as err:  # a ReaderError (bad character) carries a position, no mark
        position = getattr(err, "position", None)
        line = None
        if isinstance(position, int):  # libyaml counts bytes of UTF-8, PyYAML characters
            raw = text.encode("utf-8")[:position].decode("utf-8", "replace")
            line = len(_LINE_BREAK.findall(raw if _USES_LIBYAML else text[:position])) + 1
        _fail(path, line, _one_line(f"invalid YAML: {str(err).splitlines()[0]}"))
    except RecursionError:
        _fail(path, None, "document is nested too deeply")


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent,
                yaml.AliasEvent)


def _count_events(text: str, path: str, max_nodes: int) -> None:
    """Refuse a document with more than ``max_nodes`` nodes as written (aliases count once)."""
    count = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, _NODE_EVENTS):
            count += 1
            if count > max_nodes:
                line = event.start_mark.line + 1 if event.start_mark else None
                _fail(path, line, f"document has more than {max_nodes} nodes")


def _syntax_problem(err: yaml.MarkedYAMLError, text: str, path: str) -> Problem:
    """One-line problem for a parser error, at the line of the parser's problem mark."""
    mark = err.problem_mark or err.context_mark
    line = mark.line + 1 if mark is not None else None
    if err.context == "expected a single document in the stream":
        message = "file holds more than one YAML document (the second one starts here)"
        return Problem(path, line, "", message)
    if mark is not None and _indentation_error(err):
        culprit = _misindented_line(text, mark.line)
        if culprit is not None or err.problem != _COLON_IN_VALUE:
            n = line if culprit is None else culprit + 1
            return Problem(path, n, "", "invalid YAML: check the indentation near line "
                           f"{n} (YAML nests fields by how far they are indented, in spaces)")
    message = _completed(err.problem or err.context or "unknown error", text, mark)
    if err.problem and err.context and err.context != "while scanning for the next token":
        started = ""
        if err.context_mark is not None and err.context_mark.line + 1 != line:
            started = f" started at line {err.context_mark.line + 1}"
        message = f"{message} ({err.context}{started})"
    if "'\\t'" in message or "tab character" in message:
        message += "; use spaces, not tabs"
    return Problem(path, line, "", _one_line(f"invalid YAML: {message}"))


_COLON_IN_VALUE = "mapping values are not allowed in this context"
_INDENTATION_PROBLEMS = ("did not find expected key", _COLON_IN_VALUE,
                         "mapping values are not allowed here",
                         "did not find expected '-' indicator")
INDENT_WINDOW = 12
"""How many content lines before the parser's complaint are tried as the mis-indented one."""


def _indentation_error(err: yaml.MarkedYAMLError) -> bool:
    problem = err.problem or ""
    return problem in _INDENTATION_PROBLEMS or problem.startswith("expected <block end>")


def _parses(text: str) -> bool:
    try:
        for _ in yaml.parse(text, Loader=_Loader):
            pass
    except yaml.YAMLError:
        return False
    return True


def _misindented_line(text: str, complaint: int) -> int | None:
    """The 0-based line whose indentation broke the file, or None if no single line is to blame.

    A parser notices a wrong indentation only where the structure can no longer continue, which
    can be several lines after the line that is wrong (a key moved left becomes a sibling of its
    parent, and its children parse, until the parent's next key). So the content lines from the
    complaint back are tried, nearest first, each at the indentations of its neighbours (and
    two spaces either side of them). Of the lines whose re-indentation makes the whole file
    parse, the earliest is named: where two lines disagree (a key at 4 spaces, its sibling at
    2), either fix parses, and the first one to leave the structure is the one that broke it.
    A top-level line (a section such as ``protocol:``) is named only when no deeper one would
    do: pushing a section under the one before also parses, but is rarely what was meant.
    """
    lines = _LINE_BREAK.split(text)
    content = [i for i, raw in enumerate(lines[: complaint + 1])
               if raw.strip() and not raw.lstrip().startswith("#")]
    found: list[tuple[bool, int]] = []
    for pos in range(len(content) - 1, max(len(content) - 1 - INDENT_WINDOW, -1), -1):
        i = content[pos]
        body = lines[i].lstrip(" ")
        here = len(lines[i]) - len(body)
        near = [len(lines[j]) - len(lines[j].lstrip(" "))
                for j in (content[pos - 1] if pos else None,
                          content[pos + 1] if pos + 1 < len(content) else None)
                if j is not None]
        tries = sorted({w + d for w in near for d in (0, -2, 2) if w + d >= 0} - {here},
                       key=lambda w: abs(w - here))
        for width in tries:
            trial = lines[:i] + [" " * width + body] + lines[i + 1:]
            if _parses("\n".join(trial)):
                found.append((here == 0, i))
                break
    return min(found)[1] if found else None


def _completed(problem: str, text: str, mark: Any) -> str:
    """Name the alias or character that libyaml's message leaves out (PyYAML names them)."""
    if mark is None:
        return problem
    lines = _LINE_BREAK.split(text)
    rest = lines[mark.line][mark.column :] if mark.line < len(lines) else ""
    if problem == "found undefined alias" and rest.startswith("*"):
        name = re.match(r"\*([^\s,\[\]{}]*)", rest)
        return f"found undefined alias {name.group(1)!r}" if name else problem
    if problem == "found character that cannot start any token" and rest:
        return f"found character {rest[0]!r} that cannot start any token"
    return problem


def _check_root(root: Node | None, path: str) -> None:
    """The document must be a mapping of fields."""
    empty = "file is empty (expected a mapping of field: value pairs)"
    if root is None:
        _fail(path, None, empty)
    if isinstance(root, ScalarNode) and root.tag == _NULL and root.value in ("", "~"):
        _fail(path, _line(root), empty)
    if not isinstance(root, MappingNode):
        what = _kind(root)
        _fail(path, _line(root), f"top level must be a mapping of field: value pairs, not {what}")


def _kind(node: Node) -> str:
    """A user-facing name for what a node holds."""
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, MappingNode):
        return "a mapping"
    names = {_NULL: "null", _STD + "int": "a number", _STD + "float": "a number"}
    return names.get(node.tag, "a single value")


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def _check_graph(root: Node, path: str, max_nodes: int) -> None:
    """Refuse recursive aliases, deep nesting and documents that expand to too many nodes.

    Sizes and heights are memoised per distinct node (aliases share nodes), so the check is
    linear in the number of distinct nodes however much the aliases would expand.
    """
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
    active: set[int] = set()  # nodes on the current path, to spot cycles
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if not finished:
            if key in active:
                _fail(path, _line(node), "alias refers to a node that contains it (recursive data)")
            if key not in measured:
                active.add(key)
                stack.append((node, True))
                stack.extend((child, False) for child in _children(node))
            continue
        active.discard(key)
        kids = [measured[id(child)] for child in _children(node)]
        size = 1 + sum(s for s, _ in kids)
        height = 1 + max((h for _, h in kids), default=0)
        measured[key] = (size, height)
        if height > MAX_DEPTH:
            _fail(path, _line(node), f"document is nested more than {MAX_DEPTH} levels deep")
        if size > max_nodes:
            how = "has" if len(measured) > max_nodes else "expands to"
            tail = "" if len(measured) > max_nodes else " through aliases"
            _fail(path, _line(node), f"document {how} more than {max_nodes} nodes{tail}")


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


class _Builder:
    """Builds plain data and its lines from a checked node tree, collecting problems.

    Aliases are expanded into fresh copies (their total size is bounded by the graph check), so
    the data never shares mutable parts.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def add(self, line: int, loc: tuple, message: str) -> None:
        """Record a problem found at ``line`` inside the node at ``loc``."""
        self.problems.append(Problem(self.path, line, _dotted(loc), message))

    def build(self, node: Node, loc: tuple) -> tuple[Any, _Lines]:
        """The data and lines of ``node``, found at ``loc`` in the document."""
        if isinstance(node, MappingNode):
            return self.mapping(node, loc)
        if isinstance(node, SequenceNode):
            return self.sequence(node, loc)
        return self.scalar(node, loc), _Lines(_line(node))

    def bad_tag(self, node: Node, loc: tuple) -> None:
        """Report an explicit tag that does not stand for plain data (or not for this node)."""
        tag = _short_tag(node.tag)
        if node.tag in _SCALAR_TAGS | {_MAP, _SEQ}:
            self.add(_line(node), loc, f"YAML tag '{tag}' cannot be used on {_kind(node)}")
        else:
            self.add(_line(node), loc, f"YAML tag '{tag}' is not allowed")

    def scalar(self, node: ScalarNode, loc: tuple) -> Any:
        """A str / int / float / bool / None; timestamps and other plain scalars stay strings."""
        if node.tag not in _SCALAR_TAGS:
            self.bad_tag(node, loc)
            return None
        if node.tag not in _CONVERTERS:
            return node.value
        if node.tag in _BASE_60 and ":" in node.value:
            # YAML 1.1 reads 1:30 as 90 (base 60); YAML 1.2, and a reader, as text
            return node.value
        what, convert = _CONVERTERS[node.tag]
        try:
            return convert(node)
        except (ValueError, KeyError, IndexError, TypeError):
            self.add(_line(node), loc, f"invalid {what} {node.value!r}")
            return None

    def sequence(self, node: SequenceNode, loc: tuple) -> tuple[Any, _Lines]:
        """A list, item by item."""
        if node.tag != _SEQ:
            self.bad_tag(node, loc)
            return None, _Lines(_line(node))
        items, lines = [], []
        for index, child in enumerate(node.value):
            value, child_lines = self.build(child, (*loc, index))
            items.append(value)
            lines.append(child_lines)
        return items, _Lines(_line(node), lines)

    def mapping(self, node: MappingNode, loc: tuple) -> tuple[Any, _Lines]:
        """A dict: merged mappings (``<<``) first, then the node's own keys, which must differ."""
        if node.tag != _MAP:
            self.bad_tag(node, loc)
            return None, _Lines(_line(node))
        data, kids = self.merged(node, loc)
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE and isinstance(key_node, ScalarNode):
                continue
            key = self.key(key_node, loc)
            if key is _INVALID:
                continue
            if key in seen:
                self.add(_line(key_node), loc, f"duplicate key {key!r}")
            seen.add(key)
            value, value_lines = self.build(value_node, (*loc, key))
            data[key] = value
            kids[key] = (_line(key_node), value_lines)
        return data, _Lines(_line(node), kids)

    def merged(self, node: MappingNode, loc: tuple) -> tuple[dict, dict]:
        """Data and lines merged in by ``<<`` keys (earlier mappings of a list win, as PyYAML)."""
        data: dict[Any, Any] = {}
        kids: dict[Any, tuple[int, _Lines]] = {}
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE or not isinstance(key_node, ScalarNode):
                continue
            many = isinstance(value_node, SequenceNode) and value_node.tag == _SEQ
            for source in reversed(value_node.value) if many else [value_node]:
                if not isinstance(source, MappingNode):
                    self.add(_line(source), loc, "merge key '<<' needs a mapping or a list of them")
                    continue
                value, lines = self.mapping(source, loc)
                if isinstance(value, dict) and isinstance(lines.children, dict):
                    data.update(value)
                    kids.update(lines.children)
        return data, kids

    def key(self, node: Node, loc: tuple) -> Any:
        """A mapping key: the text as written (``1:`` and ``yes:`` stay "1" and "yes"), or None."""
        if not isinstance(node, ScalarNode):
            self.add(_line(node), loc, f"a mapping key must be a single value, not {_kind(node)}")
            return _INVALID
        if node.tag not in _SCALAR_TAGS:
            self.bad_tag(node, loc)
            return _INVALID
        return None if node.tag == _NULL else node.value


# -- validation errors ----------------------------------------------------------------------------

_MAPPING_EXPECTED = "expected a mapping of field: value pairs"
_MESSAGES = {  # pydantic messages that YAML users would not recognise
    "model_attributes_type": _MAPPING_EXPECTED,
    "model_type": _MAPPING_EXPECTED,
    "dict_type": "expected a mapping of key: value pairs",
    "list_type": "expected a list",
}
_NO_INPUT_TYPES = frozenset(
    {"missing", "extra_forbidden", "value_error", "assertion_error", "union_tag_invalid",
     "union_tag_not_found"}
)


def problems_from_validation_error(
    err: ValidationError,
    doc: YamlDoc,
    *,
    prefix: Loc = (),
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    """Turn a pydantic error about (part of) ``doc.data`` into located one-line problems.

    The field of each problem is the error's location with pydantic's own parts removed (union
    member tags, ``[key]`` markers, ...): only keys and indices present in the user's YAML are
    kept, plus the name of a missing field.

    Args:
        err: Raised by validating the data found at ``prefix`` in ``doc.data``.
        doc: The loaded document.
        prefix: Where the validated data sits in the document.
        model: The model that was validated; used to list the allowed fields of an unknown
            field. When None, it is looked up by the error's title among loaded models.

    Returns:
        One problem per distinct error, in pydantic's order.
    """
    model = model or _model_named(err.title)
    problems: list[Problem] = []
    branches: dict[tuple, set] = {}  # (line, field) -> pydantic's own locations found there
    for error in err.errors(include_url=False):
        loc = _user_loc(doc.data, prefix, error)
        problem = Problem(doc.path, doc.line_of(loc), _dotted(loc), _readable(error, model))
        problems.append(problem)
        branches.setdefault((problem.line, problem.field), set()).add(tuple(error["loc"]))
    return _merge_branches(_unique(problems), branches)


_GOT = re.compile(r"^(?P<what>.*?)(?P<got> \(got .*\))?$")


def _merge_branches(problems: list[Problem], branches: dict[tuple, set]) -> list[Problem]:
    """One problem per field whose value fails every member of a union (``'status_quo'`` or
    a number; a shape's name or a mapping): pydantic reports each member's complaint, which
    would read as several mistakes where the user made one. Their messages are joined into
    one: ``input should be 'status_quo' or a valid number (got 'statusquo')``."""
    out: list[Problem] = []
    first: dict[tuple, int] = {}  # (line, field) -> its first problem's place in ``out``
    for p in problems:
        key = (p.line, p.field)
        if key in first and len(branches[key]) > 1:
            i = first[key]
            a, b = _GOT.match(out[i].message), _GOT.match(p.message)
            out[i] = Problem(p.file, p.line, p.field,
                             f"input should be {_expectation(a['what'])} or "
                             f"{_expectation(b['what'])}{a['got'] or b['got'] or ''}")
            continue
        first.setdefault(key, len(out))
        out.append(p)
    return out


def _expectation(what: str) -> str:
    """What a union member's complaint says the value should be: ``a valid number`` of
    ``input should be a valid number, unable to parse string as a number``."""
    for lead in ("input should be ", "expected "):
        if what.startswith(lead):
            what = what[len(lead):]
            break
    parts = what.split(", ")
    kept = [parts[0]]
    for part in parts[1:]:  # a list of names (``'a', 'b' or 'c'``) goes on; a reason does not
        if not part.startswith(("'", '"')):
            break
        kept.append(part)
    return ", ".join(kept)


def validate_doc(doc: YamlDoc, model: type[M], *, prefix: Loc = ()) -> M:
    """Validate the data at ``prefix`` of ``doc`` with ``model``.

    Raises:
        InputError: With one located problem per validation error.
    """
    data = doc.data
    for depth, part in enumerate(prefix):
        found, _, data = _data_child(data, part)
        if not found:
            field = _dotted(prefix[: depth + 1])
            _fail(doc.path, doc.line_of(prefix), "field required", field)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = problems_from_validation_error(err, doc, prefix=prefix, model=model)
        raise InputError(problems) from None


def _user_loc(data: Any, prefix: Loc, error: Mapping[str, Any]) -> list[Any]:
    """The error's location as keys and indices of the user's YAML (see the caller)."""
    kept: list[Any] = []
    for part in prefix:
        _, key, data = _data_child(data, part)
        kept.append(key)
    found = True
    for part in error["loc"]:
        found, key, child = _data_child(data, part)
        if found:
            kept.append(key)
            data = child
    discriminator = _discriminator(error)
    if error["type"] == "missing" and error["loc"] and not found:
        kept.append(error["loc"][-1])
    elif error["type"] == "union_tag_not_found" and discriminator:
        kept.append(discriminator)
    elif error["type"] == "union_tag_invalid" and isinstance(data, dict) and discriminator in data:
        kept.append(discriminator)
    return kept


def _discriminator(error: Mapping[str, Any]) -> str | None:
    """The field name of a discriminated union's tag, when the error names one (``'kind'``,
    or ``kind()`` for a callable discriminator named after the field it reads)."""
    text = str((error.get("ctx") or {}).get("discriminator", ""))
    match = re.fullmatch(r"'(\w+)'|(\w+)\(\)", text)
    return (match.group(1) or match.group(2)) if match else None


def _readable(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """Pydantic's message for one error, readable and on one line."""
    kind, message, ctx = error["type"], error["msg"], error.get("ctx") or {}
    discriminator = _discriminator(error)
    if kind == "missing" or (kind == "union_tag_not_found" and discriminator):
        return "field required"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, error["loc"][:-1]) if model else None
        if allowed and (other := _option_of_another_member(model, error["loc"])):
            return f"not an option of {other} (options: {', '.join(allowed)})"
        return f"unknown field (allowed: {', '.join(allowed)})" if allowed else "unknown field"
    if kind == "union_tag_invalid" and discriminator:
        tag, expected = ctx.get("tag"), ctx.get("expected_tags")
        # Show the tag as written: a callable discriminator may have turned it into text.
        written = error.get("input")
        if isinstance(written, dict) and discriminator in written:
            tag = written[discriminator]
        message = f"{_show(tag)} is not a valid {discriminator} (expected one of {expected})"
        return _one_line(message)
    for lead in ("Value error, ", "Assertion failed, "):
        if message.startswith(lead):
            return _one_line(message[len(lead) :])
    message = _MESSAGES.get(kind, message)
    if len(message) > 1 and not message[1].isupper():
        message = message[0].lower() + message[1:]
    value = error.get("input")
    if kind not in _NO_INPUT_TYPES and (value is None or isinstance(value, (str, int, float))):
        message += f" (got {_show(value)})"
    return _one_line(message)


def _show(value: Any) -> str:
    """A scalar as the user would have written it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return str(value)


# -- allowed fields of a model at a location (best effort) --------------------------------------


def _model_named(title: str) -> type[BaseModel] | None:
    """The only loaded model class called ``title``, if there is exactly one."""
    found: list[type[BaseModel]] = []
    pending = list(BaseModel.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__name__ == title and cls not in found:
            found.append(cls)
    return found[0] if len(found) == 1 else None


def _allowed_fields(model: type[BaseModel], loc: Sequence[Any]) -> list[str] | None:
    """Field names (aliases when set) of the model found from ``model`` along pydantic's loc."""
    try:
        tp = _unwrap(_type_at(model, loc))
        if _is_model(tp):
            return [field.alias or name for name, field in tp.model_fields.items()]
    except Exception:  # a type this walk does not understand: no list, no harm
        return None
    return None


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated[...]`` and ``Optional[...]`` around a type."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, UnionType):
            members = [arg for arg in get_args(tp) if arg is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _type_step(tp: Any, part: Any) -> Any:
    """The type found one step along a pydantic location, or None."""
    tp = _unwrap(tp)
    if _is_model(tp):
        for name, field in tp.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    origin, args = get_origin(tp), get_args(tp)
    if origin in (dict, Mapping, MutableMapping) and len(args) == 2:
        return None if part == "[key]" else args[1]
    if origin in (list, set, frozenset, Sequence) and args:
        return args[0]
    if origin is tuple and args:
        return args[0] if len(args) == 2 and args[1] is Ellipsis else args[part]
    if origin in (Union, UnionType):
        for member in map(_unwrap, args):
            if _is_model(member) and _is_tag_of(member, part):
                return member
    return None


def _option_of_another_member(model: type[BaseModel], loc: Sequence[Any]) -> str | None:
    """For a field refused inside one member of a discriminated union that another member
    has (``first_proposer`` in a ``mediated`` protocol): which member refused it, in words
    (``protocol kind 'mediated'``); None otherwise."""
    if len(loc) < 3:
        return None
    field, tag, holder = loc[-1], loc[-2], loc[:-2]
    try:
        union = _unwrap(_type_at(model, holder))
        if get_origin(union) not in (Union, UnionType):
            return None
        members = [m for m in map(_unwrap, get_args(union)) if _is_model(m)]
        own = next((m for m in members if _is_tag_of(m, tag)), None)
        if own is None or not any(field in m.model_fields for m in members if m is not own):
            return None
        name = next(n for n, f in own.model_fields.items()
                    if get_origin(_unwrap(f.annotation)) is Literal
                    and tag in get_args(_unwrap(f.annotation)))
        # A union held by a field of a model is named by that field (``protocol kind``); one
        # inside a mapping or list (an actor, an event) by its tag alone.
        section = (f"{holder[-1]} " if isinstance(holder[-1], str)
                   and _is_model(_unwrap(_type_at(model, holder[:-1]))) else "")
    except Exception:  # a type this walk does not understand: the plain message will do
        return None
    return f"{section}{name} {_show(tag)}"


def _type_at(model: type[BaseModel], loc: Sequence[Any]) -> Any:
    """The type found from ``model`` along pydantic's ``loc`` (None where the walk is lost)."""
    tp: Any = model
    for part in loc:
        tp = _type_step(tp, part)
        if tp is None:
            return None
    return tp


def _is_tag_of(model: type[BaseModel], part: Any) -> bool:
    """Whether ``part`` names ``model`` inside a union (class name or a Literal tag value)."""
    if part == model.__name__:
        return True
    for field in model.model_fields.values():
        tp = _unwrap(field.annotation)
        if get_origin(tp) is Literal and part in get_args(tp):
            return True
    return False
