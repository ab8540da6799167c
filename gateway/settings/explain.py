"""pydantic's validation errors as the configuration's refusals: `FILE:LINE: KEY: MESSAGE`.

Its errors carry a location, which the loader's marks turn into the key and the line. A
"must be text" refusal is explained from the node: YAML reads unquoted 0357123456 as the
number 62695214, so "quote it". Of several errors, the one reported is the first in the
order the file is read (`_reading_order`).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

from pydantic import TypeAdapter, ValidationError
from yaml.constructor import SafeConstructor
from yaml.nodes import Node, ScalarNode

from gateway.settings.loader import ConfigError, Marks, Source, shape
from gateway.settings.values import (
    NOT_TEXT,
    REFUSED,
    UNKNOWN_KEY,
    close_match,
    describe,
    kind,
)

T = TypeVar("T")

_MAPPING_ERRORS = frozenset(
    {"dataclass_type", "dataclass_exact_type", "dict_type", "mapping_type", "model_type"}
)
_UNEXPECTED = frozenset({"unexpected_keyword_argument", "extra_forbidden", UNKNOWN_KEY})


def validate(
    adapter: TypeAdapter[T], model: type, data: Any, *, source: Source, path: str | None
) -> T:
    """`data` as the `model` that `adapter` validates, or the ConfigError of its first
    problem in the file: sections in file order, and within a mapping its unknown keys
    before its values (a typo is the likelier cause, and the message that names it is
    the one that helps), values in file order (`_reading_order`)."""
    try:
        return adapter.validate_python(data, context=source)
    except ValidationError as exc:
        found = [_explain(error, model, source.marks, path) for error in exc.errors()]
    raise min(found, key=lambda pair: pair[1])[0] from None


def _location(error: Any) -> tuple[tuple[Any, ...], str, bool]:
    """The error's place in the data, its kind, and whether it is about a key. A key that
    is not text (`~`, `yes`, `5`) in a section is pydantic's invalid_key at the key's
    str(); it is an unknown key, at the key itself."""
    ctx = error.get("ctx") or {}
    written = (*error["loc"], *ctx.get("at", ()))
    of_key = "[key]" in written  # pydantic's mark of a mapping's key, and ours
    loc = tuple(part for part in written if part != "[key]")
    kind_ = error["type"]
    if kind_ == "invalid_key":
        loc, kind_ = (*loc[:-1], error["input"]), UNKNOWN_KEY
    return loc, kind_, of_key or kind_ in _UNEXPECTED


def _reading_order(
    loc: tuple[Any, ...], line: int | None, unknown: bool, marks: Marks
) -> tuple[Any, ...]:
    """Where an error comes in the order the file is read: by the line of each mapping on
    the way to it, then, inside the last, unknown keys first, then by line."""
    never = float("inf")
    path = []
    for depth in range(1, len(loc)):
        mark = marks.get(loc[:depth])
        parent = None if mark is None else mark.line(of_key=True)
        path.append((1, never if parent is None else parent))
    path.append((0 if unknown else 1, never if line is None else line))
    return (line is None, *path)


def _explain(
    error: Any, model: type, marks: Marks, path: str | None
) -> tuple[ConfigError, tuple[Any, ...]]:
    """The ConfigError for one pydantic error, and its place in the reading order."""
    ctx = error.get("ctx") or {}
    loc, kind_, of_key = _location(error)
    key, line = _where(loc, marks, of_key=of_key)
    if ctx.get("near") and (loc not in marks):
        _, line = _where((*loc[:-1], *ctx["near"]), marks, of_key=of_key)
    if kind_ == REFUSED:
        message = ctx["message"]
    elif kind_ == NOT_TEXT:
        mark = marks.get(loc)
        node = None if mark is None else (mark.key_node if of_key else mark.node)
        message = _not_text(node, ctx["expected"], error.get("input"), secret=ctx["secret"])
    elif kind_ in _UNEXPECTED:
        message = "unknown key" + _hint(model, loc)
    elif kind_ in _MAPPING_ERRORS:
        message = f"must be a mapping (indented `key: value` lines), got {describe(error['input'])}"
    elif kind_ == "missing":
        message = "missing"
    else:
        message = error["msg"]
    order = _reading_order(loc, line, kind_ in _UNEXPECTED, marks)
    return ConfigError(message, key=key, line=line, path=path), order


def _where(loc: tuple[Any, ...], marks: Marks, *, of_key: bool) -> tuple[str, int | None]:
    """The dotted key of `loc`, and the line of it or of its nearest written parent."""
    for depth in range(len(loc), -1, -1):
        mark = marks.get(loc[:depth])
        if mark is None:
            continue
        rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[depth:])
        key = (mark.key + rest).lstrip(".")
        if depth == 0 and loc:
            return key, None  # a section the file does not have
        return key, mark.line(of_key=of_key or depth < len(loc))
    return ".".join(str(p) for p in loc), None


def _not_text(node: Node | None, expected: str, value: Any, *, secret: bool) -> str:
    """The "must be text, got …" message, or why YAML did not read text where it was written."""
    if node is not None and not isinstance(node, ScalarNode):
        return f"must be {expected}, got {shape(node)}"
    if isinstance(node, ScalarNode):
        read = SafeConstructor().construct_object(node, deep=True)
        if node.style is None and read is not None and not isinstance(read, str):
            if secret:
                return (
                    f"must be {expected}, but YAML reads the unquoted value as "
                    f"{kind(read)}; quote it"
                )
            return (
                f"must be {expected}, but YAML reads unquoted {node.value} as "
                f'{describe(read)}; quote it: "{node.value}"'
            )
        value = read
    return f"must be {expected}, got {kind(value) if secret else describe(value)}"


def file_keys(cls: type) -> tuple[str, ...]:
    """The keys a section of the file may hold: its fields, less those the loader fills
    (`NOT_IN_FILE`), plus other spellings it reads (`ALSO_IN_FILE`)."""
    hidden = getattr(cls, "NOT_IN_FILE", ())
    fields = tuple(f.name for f in dataclasses.fields(cls) if f.name not in hidden)
    return fields + tuple(getattr(cls, "ALSO_IN_FILE", ()))


def _hint(model: type, loc: tuple[Any, ...]) -> str:
    """The "; did you mean 'window'?" hint, or where a key put at the wrong level belongs."""
    section = _section_at(model, loc[:-1])
    if section is None or not loc:
        return ""
    name = str(loc[-1])
    belongs: Mapping[str, str] = getattr(section, "BELONGS", {})
    if name in belongs:
        return f"; it belongs under {belongs[name]}: (check the indentation)"
    allowed = file_keys(section)
    close = close_match(name, allowed)
    if close:
        return f"; did you mean {close!r}?"
    return f"; known keys: {', '.join(sorted(allowed))}"


def _section_at(model: type, loc: tuple[Any, ...]) -> type | None:
    """The settings class whose mapping is at `loc` below `model`."""
    current: Any = model
    parts = list(loc)
    while True:
        current = _unwrap(current)
        if not parts:
            return current if dataclasses.is_dataclass(current) else None
        part = parts.pop(0)
        if isinstance(current, type) and dataclasses.is_dataclass(current):
            hints = get_type_hints(current, include_extras=True)
            if part not in hints:
                return None
            current = hints[part]
        elif get_origin(current) in (Mapping, dict) or _is_mapping(current):
            current = get_args(current)[1]
        else:
            return None


def _is_mapping(tp: Any) -> bool:
    origin = get_origin(tp)
    return isinstance(origin, type) and issubclass(origin, Mapping)


def _unwrap(tp: Any) -> Any:
    """Annotated[X, …] → X; X | None → X."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(tp) if a is not type(None)]
            tp = options[0] if len(options) == 1 else tp
            if len(options) != 1:
                return tp
        else:
            return tp
