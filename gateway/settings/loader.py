"""YAML with line marks in, typed settings out, and every refusal as `FILE:LINE: KEY: MESSAGE`.

Reading is in two steps. First the YAML tree is turned into plain data, and every value's
place is remembered: its dotted key (`agencies.SCT.diacritics`) and the nodes it was
written at. What only YAML can get wrong is refused here, with its line: syntax, tags other
than plain data, a key given twice, a self-referring alias, a value that cannot be read.
Two YAML 1.1 readings are undone on the way, because nobody writing them means them: an
unquoted `17:30` stays the text it was written as (`Sexagesimal`, not the base-60 number
1050, which a number key refuses), and an unquoted `010` is marked (`LeadingZero`) so that
a count refuses it.

Then pydantic validates the data against the models (`gateway.settings.explain` turns its
errors into ConfigError, with the key and the line these marks give).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Any,
    NoReturn,
)

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gateway.settings.values import (
    LeadingZero,
    Sexagesimal,
)

_OCTAL_LOOKING = re.compile(r"[-+]?0[0-9_]+")
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# What a configuration may contain; anything else (!!python/..., !!binary, local tags)
# has no place in it.
_ALLOWED_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge")
)


class ConfigError(Exception):
    """A configuration that must not start the daemon.

    `str()` reads `FILE:LINE: KEY: MESSAGE`, e.g.
    `/etc/motcua-sms/gateway.yaml:12: smpp.window: must be a positive integer, got 'ten'`.

    Args:
        message: what is wrong and, where it helps, how to fix it.
        key: the dotted key (`agencies.SCT.diacritics`), empty for the file as a whole.
        line: 1-based line in the file, None when there is none to point at.
        path: the file, None when the text did not come from one.
    """

    def __init__(
        self, message: str, *, key: str = "", line: int | None = None, path: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.line = line
        self.path = path

    def __str__(self) -> str:
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
        else:
            where = "" if self.line is None else f"line {self.line}"
        return ": ".join(part for part in (where, self.key, self.message) if part)


@dataclass(frozen=True, slots=True)
class Source:
    """What validation may consult beyond the data: the validation `context`.

    `env` stands for the process environment (secrets, `CREDENTIALS_DIRECTORY`);
    `base_dir` is the configuration file's directory, for relative paths.
    """

    env: Mapping[str, str]
    base_dir: Path
    marks: Marks

    def line_of(self, *loc: Any) -> int | None:
        """The line the value at `loc` was written on, None if it was not."""
        mark = self.marks.get(loc)
        return None if mark is None else _line(mark.key_node or mark.node)


@dataclass(frozen=True, slots=True)
class Mark:
    """Where one value was written: its dotted key, its key's node, its own node."""

    key: str
    key_node: Node | None
    node: Node

    def line(self, *, of_key: bool) -> int | None:
        """The value's line; its key's for a mapping, a missing value or a key error."""
        if of_key or isinstance(self.node, MappingNode) or _is_null(self.node):
            return _line(self.key_node or self.node)
        return _line(self.node)


Marks = dict[tuple[Any, ...], Mark]


def _line(node: Node | None) -> int | None:
    mark = None if node is None else node.start_mark
    return None if mark is None else mark.line + 1


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def shape(node: Node) -> str:
    """How a message names a non-scalar node: "a mapping" or "a list"."""
    return "a mapping" if isinstance(node, MappingNode) else "a list"


class _Tree:
    """Turns a composed YAML tree into plain data, remembering where each value was."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.marks: Marks = {}
        self._constructor = SafeConstructor()
        self._entries: dict[int, list[tuple[Any, Node, Node]]] = {}
        self._open: set[int] = set()

    def fail(self, node: Node | None, key: str, message: str) -> NoReturn:
        raise ConfigError(message, key=key, line=_line(node), path=self.path)

    def data(self, node: Node, loc: tuple[Any, ...], key: str, key_node: Node | None) -> Any:
        if node.tag not in _ALLOWED_TAGS:
            self.fail(node, key, f"the YAML tag {node.tag!r} is not allowed here")
        self.marks[loc] = Mark(key, key_node, node)
        if isinstance(node, ScalarNode):
            return self.scalar(node, key)
        if id(node) in self._open:
            self.fail(node, key, "a YAML alias may not refer to a value that contains it")
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [
                    self.data(item, (*loc, i), f"{key}[{i}]", None)
                    for i, item in enumerate(node.value)
                ]
            out: dict[Any, Any] = {}
            for name, name_node, value_node in self.entries(node, key):
                dotted = f"{key}.{name_node.value}" if key else str(name_node.value)
                out[name] = self.data(value_node, (*loc, name), dotted, name_node)
            return out
        finally:
            self._open.discard(id(node))

    def scalar(self, node: ScalarNode, key: str) -> Any:
        try:
            value = self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.fail(node, key, f"cannot read {node.value!r}: {problem}")
        if node.style is None and node.tag in (_INT_TAG, _FLOAT_TAG) and ":" in node.value:
            # YAML 1.1 base 60: 17:30 means the time, as written; a number key refuses it
            return Sexagesimal(node.value, value)
        if node.style is None and node.tag == _INT_TAG and _OCTAL_LOOKING.fullmatch(node.value):
            return LeadingZero(value, node.value)
        return value

    def entries(self, node: MappingNode, key: str) -> list[tuple[Any, Node, Node]]:
        """(key value, key node, value node), merge keys applied, no key given twice."""
        if id(node) in self._entries:  # an alias: flattened already
            return self._entries[id(node)]
        explicit = sum(1 for k, _ in node.value if k.tag != _MERGE_TAG)
        try:
            self._constructor.flatten_mapping(node)
        except yaml.YAMLError as exc:
            self.fail(node, key, f"bad merge key: {getattr(exc, 'problem', None) or exc}")
        # flatten_mapping puts the merged entries first, in order of increasing precedence,
        # then the mapping's own: a later entry overrides a merged one, but a key written
        # twice in the mapping itself is a mistake.
        merged_count = len(node.value) - explicit
        found: dict[Any, tuple[int, Node, Node]] = {}
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, key, "a key must be a single value, not a list or mapping")
            name = f"{key}.{key_node.value}" if key else key_node.value
            if key_node.tag not in _ALLOWED_TAGS:
                self.fail(key_node, name, f"the YAML tag {key_node.tag!r} is not allowed here")
            child = self.scalar(key_node, name)
            try:
                first = found.get(child)
            except TypeError:
                self.fail(key_node, name, f"unusable key {key_node.value!r}")
            if first is not None and first[0] >= merged_count:
                self.fail(key_node, name, f"given twice (first on line {_line(first[1])})")
            found[child] = (index, key_node, value_node)
        result = [(k, key_node, value_node) for k, (_, key_node, value_node) in found.items()]
        self._entries[id(node)] = result
        return result


def compose(text: str, path: str | None) -> tuple[Any, Marks]:
    """The plain data of the YAML document `text`, and where each value was written."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        # Only problem and context: the snippet yaml would add may show a password line.
        # The context ("while parsing a flow sequence") says where the construct began,
        # which is often the line to fix (an unclosed bracket).
        message = f"YAML syntax error: {exc.problem or 'cannot parse'}"
        if exc.context and exc.context_mark is not None:
            message += f" ({exc.context} started on line {exc.context_mark.line + 1})"
        elif exc.context:
            message += f" ({exc.context})"
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        raise ConfigError(message, line=line, path=path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", path=path) from None
    if root is None:
        raise ConfigError("the file is empty: it needs at least an agencies: section", path=path)
    if not isinstance(root, MappingNode):
        got = "a single value" if isinstance(root, ScalarNode) else shape(root)
        raise ConfigError(
            f"must be a mapping of sections (timezone:, smpp:, agencies:, …), got {got}",
            line=_line(root),
            path=path,
        )
    tree = _Tree(path)
    return tree.data(root, (), "", None), tree.marks
