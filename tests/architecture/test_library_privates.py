"""Private attributes of third-party libraries are used in one module only.

aiomqtt, paho, smpplib, structlog, PyYAML and aiohttp change their private attributes
without notice; gateway/mqtt/connection.py is the fence that may use them (each use
documented there, the versions pinned, LIBRARIES.md).
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

from tests.support.code import ROOT, is_module, module_name, parsed, source_files

# Libraries whose private attributes (a leading `_`) are not ours to use, and the one
# module that may, because it documents each use and its version pin (LIBRARIES.md).
THIRD_PARTY = ("aiomqtt", "paho", "smpplib", "structlog", "yaml", "aiohttp")
PRIVATE_FENCE = "gateway.mqtt.connection"


@functools.cache
def library_private_names() -> frozenset[str]:
    """The private names the third-party libraries define: module globals, functions,
    classes, and attributes they set on `self`. An access to one of these off anything
    but our own `self` is, almost surely, a reach into the library."""
    names: set[str] = set()
    for library in THIRD_PARTY:
        spec = importlib.util.find_spec(library)
        if spec is None:
            continue  # not installed here: its imports are still checked by name
        roots = spec.submodule_search_locations or [str(Path(spec.origin or "").parent)]
        for root in roots:
            for path in Path(root).rglob("*.py"):
                try:
                    tree = ast.parse(path.read_bytes())
                except (SyntaxError, ValueError):
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                        names.add(node.name)
                    elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                        names.add(node.attr)
                    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        names.add(node.id)
    return frozenset(n for n in names if _private(n))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _third_party(module: str) -> bool:
    return module.split(".")[0] in THIRD_PARTY


def private_reaches(path: Path) -> list[str]:
    """`lib._x`, `Thing._x` for a name bound from a library, `obj._x` for a private name a
    library defines (unless `obj` is our own `self` or `cls`), and `getattr(o, "_x")`."""
    tree = parsed(path)
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _third_party(alias.name):
                    bound.add(alias.asname or alias.name.split(".")[0])
        elif (
            isinstance(node, ast.ImportFrom) and not node.level and _third_party(node.module or "")
        ):
            for alias in node.names:
                bound.add(alias.asname or alias.name)
                if _private(alias.name):
                    bound.add(alias.name)
    theirs = library_private_names()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and _third_party(node.module or ""):
            found += [
                f"{node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if _private(a.name)
            ]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if (isinstance(root, ast.Name) and root.id in bound) or (
                not own and node.attr in theirs
            ):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_private_attribute_of_a_library_is_used_outside_the_fence():
    """Private attributes of aiomqtt, paho, smpplib, structlog, PyYAML and aiohttp change
    without notice; only gateway/mqtt/connection.py may use them (each use documented
    there, the versions pinned)."""
    found = {
        str(path.relative_to(ROOT)): reaches
        for path in source_files("gateway", "handlers")
        if module_name(path) != PRIVATE_FENCE and (reaches := private_reaches(path))
    }
    assert found == {}, f"private attributes of libraries outside {PRIVATE_FENCE}: {found}"


def test_the_fence_module_exists():
    """Renaming the fence module without renaming it here would let every module in."""
    assert is_module(PRIVATE_FENCE)
