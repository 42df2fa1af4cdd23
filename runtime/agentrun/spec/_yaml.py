"""Safe YAML reading that remembers where every key and value sits in the file.

Owns: bytes → plain data (dict/list/str/int/float/bool/None) plus a :class:`Locations` map, and
every "this is not a readable agent file" error (missing, directory, not UTF-8, tabs, syntax
(worded by ``_yaml_syntax``),
duplicate keys, YAML tags that would build objects). Imports nothing of ours but ``errors``.

Safety: the tree is composed by ``yaml.SafeLoader`` and then converted by hand here; only the
standard plain-data tags are accepted, so no tag can ever build a Python object.
"""

from __future__ import annotations

import datetime as _dt
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from yaml.nodes import (  # type: ignore[import-untyped]
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
)

from agentrun.errors import SpecError
from agentrun.spec._yaml_syntax import explain_syntax

__all__ = ["Locations", "YamlDocument", "parse_yaml", "read_text"]

YamlPath = tuple[str | int, ...]

_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "timestamp")
)
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# A file with more nodes than this is an alias bomb, not an agent description.
_MAX_NODES = 100_000
_MAX_BYTES = 10_000_000
_MAX_DEPTH = 50


@dataclass
class Locations:
    """1-based (line, column) of every key and value in a YAML document, by data path.

    A data path is the tuple of keys / list indexes from the top, e.g. ``("tools", 0, "name")``.
    """

    values: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    styles: dict[YamlPath, str | None] = field(default_factory=dict)

    def value(self, path: YamlPath) -> tuple[int, int] | None:
        """Where the value at ``path`` starts, or None when the path is not in the file."""
        return self.values.get(tuple(path))

    def key(self, path: YamlPath) -> tuple[int, int] | None:
        """Where the key naming ``path`` starts (falls back to the value for list items)."""
        path = tuple(path)
        return self.keys.get(path) or self.values.get(path)

    def nearest(self, path: YamlPath) -> tuple[int, int]:
        """The value location of ``path`` or of its closest ancestor that is in the file."""
        path = tuple(path)
        while path:
            found = self.values.get(path)
            if found:
                return found
            path = path[:-1]
        return self.values.get((), (1, 1))


@dataclass
class YamlDocument:
    """A parsed agent file: its plain data and where each piece came from."""

    data: Any
    locations: Locations
    text: str


def _err(path: str, message: str, line: int | None = None, column: int | None = None,
         hint: str | None = None) -> SpecError:
    return SpecError(message, path=path, line=line, column=column, hint=hint)


def read_text(file: str | Path, shown: str | None = None) -> str:
    """Read a text file as UTF-8, turning every OS or encoding problem into a located error.

    Args:
        file: the path to read.
        shown: how to name the file in messages (defaults to ``str(file)``).

    Returns:
        The decoded text (a UTF-8 byte-order mark is dropped).

    Raises:
        SpecError: the file is missing, a directory, unreadable, binary or not UTF-8.
    """
    shown = str(file) if shown is None else shown
    path = Path(file)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        # /dev/zero or a pipe would never end; an agent file is a small regular file.
        if not stat.S_ISREG(info.st_mode):
            raise _err(shown, "is not a regular file", hint="name a .yaml file")
        if info.st_size > _MAX_BYTES:
            raise _err(shown, f"is too large for an agent file ({info.st_size} bytes)",
                       hint=f"agent files are at most {_MAX_BYTES // 1_000_000} MB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _err(shown, "file not found", hint="check the path and the spelling") from None
    except IsADirectoryError:
        raise _err(shown, "is a directory, not an agent file",
                   hint="name a .yaml file, e.g. agents/support.yaml") from None
    except PermissionError:
        raise _err(shown, "permission denied: cannot read this file") from None
    except OSError as exc:
        raise _err(shown, f"cannot read this file: {exc.strerror or exc}") from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise _err(shown, "this is not a text file (it contains NUL bytes)", line,
                   hint="an agent file is YAML text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise _err(shown, f"the file is not valid UTF-8 text (byte 0x{raw[exc.start]:02x})", line,
                   column, hint="save the file as UTF-8 in your editor") from None


def _tag_name(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def _tab_error(shown: str, text: str, upto_line: int) -> SpecError | None:
    """A plain 'tabs are not allowed' error when a line up to ``upto_line`` indents with a tab."""
    for number, line in enumerate(text.splitlines()[:upto_line], start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            return _err(shown, "tab character used for indentation", number,
                        indent.index("\t") + 1, hint="YAML indents with spaces only; "
                        "replace the tab with spaces")
    return None


def _unprintable(shown: str, text: str, exc: yaml.reader.ReaderError) -> SpecError:
    """A control character YAML refuses, located by line and column."""
    position = int(exc.position)
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return _err(shown, f"the file contains a control character (#x{exc.character:04x}) that "
                "YAML does not allow", line, column, hint="delete it; most editors do not show it")


class _Builder:
    """Turns a composed node tree into plain data while recording locations and problems."""

    def __init__(self, shown: str, loader: yaml.SafeLoader, text: str = "") -> None:
        self.shown = shown
        self.loader = loader
        self.lines = text.splitlines()
        self.locations = Locations()
        self.errors: list[SpecError] = []
        self.count = 0
        self.stack: set[int] = set()

    def at(self, node: Node, message: str, hint: str | None = None) -> None:
        mark = node.start_mark
        self.errors.append(_err(self.shown, message, mark.line + 1, mark.column + 1, hint))

    def build(self, node: Node, path: YamlPath) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            raise _err(self.shown, "the file is too large or repeats aliases ('*') too often",
                       node.start_mark.line + 1, node.start_mark.column + 1)
        self.locations.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if len(path) > _MAX_DEPTH:
            raise _err(self.shown, "lists or mappings nest too deeply here",
                       node.start_mark.line + 1, node.start_mark.column + 1,
                       hint=f"agent files need at most {_MAX_DEPTH} levels")
        if id(node) in self.stack:
            self.at(node, "an alias refers to itself", hint="remove the recursive '*' alias")
            return None
        if isinstance(node, ScalarNode):
            self.locations.styles[path] = node.style
            return self.scalar(node)
        self.stack.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ_TAG:
                    self.at(node, f"YAML tag '{_tag_name(node.tag)}' is not allowed",
                            hint="agent files hold plain text, numbers, lists and mappings")
                for item in node.value:
                    self.folded_item(item)
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
        finally:
            self.stack.discard(id(node))
        return None  # pragma: no cover - the composer only makes the three node kinds

    def folded_item(self, item: Node) -> None:
        """A list item whose plain text runs on to a line starting with '- ': the next item,
        indented deeper than this one, which YAML folds into this one's text."""
        if not isinstance(item, ScalarNode) or item.style is not None:
            return
        for number in range(item.start_mark.line + 1, item.end_mark.line + 1):
            line = self.lines[number] if number < len(self.lines) else ""
            stripped = line.lstrip()
            if stripped == "-" or stripped.startswith("- "):
                text = " ".join(str(item.value).split())
                self.errors.append(_err(
                    self.shown, f"this '{stripped.rstrip()}' is indented deeper than the item "
                    f"above it, so YAML read both as one item, '{text}'", number + 1,
                    len(line) - len(stripped) + 1,
                    hint="start every '- ' of a list at the same column"))
                return

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self.at(node, f"YAML tag '{_tag_name(node.tag)}' is not allowed",
                    hint="agent files hold plain text, numbers, lists and mappings")
            return None
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.at(node, f"cannot read this value: {getattr(exc, 'problem', None) or exc}")
            return None
        # Dates stay text: an author writing `2026-01-01` means those characters.
        if isinstance(value, _dt.date):
            return node.value
        return value

    def mapping(self, node: MappingNode, path: YamlPath) -> dict[str, Any]:
        if node.tag != _MAP_TAG:
            self.at(node, f"YAML tag '{_tag_name(node.tag)}' is not allowed",
                    hint="agent files hold plain text, numbers, lists and mappings")
        own = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
        try:
            self.loader.flatten_mapping(node)
        except yaml.YAMLError as exc:
            self.at(node, f"cannot merge with '<<': {getattr(exc, 'problem', None) or exc}")
        own_keys = {id(k) for k, _ in own}
        merged = [(k, v) for k, v in node.value if id(k) not in own_keys]
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in merged + own:
            if not isinstance(key_node, ScalarNode):
                self.at(key_node, "a key must be a plain name, not a list or mapping")
                continue
            key = str(key_node.value)
            is_own = id(key_node) in own_keys
            if key in first_line and is_own:
                self.at(key_node, f"duplicate key '{key}'",
                        hint=f"it is already set on line {first_line[key]}; keep one of them")
                continue
            if is_own:
                first_line[key] = key_node.start_mark.line + 1
            child = (*path, key)
            self.locations.keys[child] = (key_node.start_mark.line + 1,
                                          key_node.start_mark.column + 1)
            result[key] = self.build(value_node, child)
        return result


def parse_yaml(text: str, shown: str) -> YamlDocument:
    """Parse one YAML document safely and locate every key and value.

    Args:
        text: the file's text.
        shown: the file name to use in messages.

    Returns:
        The plain data and its locations.

    Raises:
        SpecErrors: syntax errors, tabs, duplicate keys, forbidden tags, several documents.
    """
    from agentrun.errors import SpecErrors

    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise SpecErrors([_unprintable(shown, text, exc)]) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            tabs = _tab_error(shown, text, line or len(text.splitlines()))
            if tabs is not None:
                raise SpecErrors([tabs]) from None
            said = explain_syntax(exc)
            raise SpecErrors([_err(shown, f"YAML syntax error: {said.problem}", said.line,
                                   said.column, hint=said.hint)]) from None
        except RecursionError:
            raise SpecErrors([_err(shown, "the file nests lists or mappings too deeply",
                                   hint=f"agent files need at most {_MAX_DEPTH} levels")]
                             ) from None
        except yaml.reader.ReaderError as exc:
            raise SpecErrors([_unprintable(shown, text, exc)]) from None
        except yaml.YAMLError as exc:
            raise SpecErrors([_err(shown, f"YAML error: {exc}")]) from None
        if node is None:
            raise SpecErrors([_err(shown, "the file is empty",
                                   hint="an agent file needs at least 'name:' and "
                                   "'instructions:'; run 'agentrun new NAME' for a starter")])
        builder = _Builder(shown, loader, text)
        try:
            data = builder.build(node, ())
        except SpecError as exc:
            raise SpecErrors([exc]) from None
        if builder.errors:
            unique = {str(e): e for e in builder.errors}
            raise SpecErrors(list(unique.values()))
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        line, column = builder.locations.nearest(())
        raise SpecErrors([_err(shown, f"the agent file must be a mapping of keys, not {kind}",
                               line, column, hint="start with lines like 'name: My agent'")])
    if data:
        first = min(builder.locations.keys.values())
        builder.locations.values[()] = first
    return YamlDocument(data=data, locations=builder.locations, text=text)
