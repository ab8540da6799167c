"""The shape of the code base, checked on every run: module size, import direction, cycles,
the handlers' one API, the one module allowed to reach into a library, and the tests' own
layout.

Imports are read with `ast` from the source files (at module level, inside functions and
under `if TYPE_CHECKING:` alike), so nothing here depends on what happens to be imported
when the test runs. Each test lists every offender, not only the first.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400

# The layers, lowest first (README "Layout"; a lower layer never imports a higher one).
# Packages of one layer may import each other, save for FORBIDDEN below.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "gateway.settings",
            "gateway.domain",
            "gateway.phone",
            "gateway.calendar",
            "gateway.smpp",
            "gateway.mqtt",
        }
    ),
    frozenset({"gateway.store"}),
    frozenset({"gateway.intake", "gateway.compose", "gateway.outbound", "gateway.mo"}),
    frozenset({"gateway.ops"}),
    frozenset({"gateway.app", "gateway.cli"}),
)
# Within the lowest layer the protocol parts stay protocol parts: SMPP and MQTT know
# nothing of dossiers or messages.
FORBIDDEN: frozenset[tuple[str, str]] = frozenset(
    {
        ("gateway.smpp", "gateway.domain"),
        ("gateway.smpp", "gateway.store"),
        ("gateway.mqtt", "gateway.domain"),
        ("gateway.mqtt", "gateway.store"),
    }
)

# Keyword handlers are plug-ins (SPEC: MO keywords); they see the gateway through one API.
HANDLERS_API = "gateway.mo.api"

# Libraries whose private attributes (a leading `_`) are not ours to use, and the one
# module that may, because it documents each use and its version pin (LIBRARIES.md).
THIRD_PARTY = ("aiomqtt", "paho", "smpplib", "structlog", "yaml", "aiohttp")
PRIVATE_FENCE = "gateway.mqtt.connection"


@dataclass(frozen=True, slots=True)
class Import:
    """One module named by an import statement, where it was written."""

    source: str  # the importing module, dotted
    target: str  # the imported module (or the package whose name was imported), dotted
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# Not ours: npm packages of the interop tests, caches.
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


def source_files(*packages: str) -> list[Path]:
    """The Python files under `packages` (relative to the repository), sorted."""
    found = []
    for package in packages:
        for folder, dirs, files in os.walk(ROOT / package):
            dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS]
            found += [Path(folder, f) for f in files if f.endswith(".py")]
    return sorted(found)


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> Iterator[Import]:
    """Every module `path` imports, anywhere in it; `from pkg import mod` names `pkg.mod`."""
    source = module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(source, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                child = f"{module}.{alias.name}"
                yield Import(source, child if is_module(child) else module, node.lineno)


def package_of(module: str) -> str:
    """`gateway.store` for `gateway.store.batch`; `gateway.app` for `gateway.app`."""
    return ".".join(module.split(".")[:2])


def layer_of(module: str) -> int | None:
    package = package_of(module)
    for rank, members in enumerate(LAYERS):
        if package in members:
            return rank
    return None


def gateway_imports() -> list[Import]:
    return [
        imp
        for path in source_files("gateway")
        for imp in imports_of(path)
        if imp.target == "gateway" or imp.target.startswith("gateway.")
    ]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (or a module importing
    itself), each sorted; Tarjan's algorithm, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))
    return found


# --------------------------------------------------------------------------- size


def test_no_module_of_gateway_or_handlers_is_over_400_lines():
    """A module that grows past ~400 lines is split by concept, not left to grow."""
    long = {
        str(path.relative_to(ROOT)): n
        for path in source_files("gateway", "handlers")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines (split them by concept): {long}"


# --------------------------------------------------------------------------- imports


def test_no_import_cycle_among_gateway_modules():
    """No module imports, directly or through others, a module that imports it."""
    edges: dict[str, set[str]] = {}
    for imp in gateway_imports():
        if imp.target != imp.source:
            edges.setdefault(imp.source, set()).add(imp.target)
        else:
            edges.setdefault(imp.source, set()).add(imp.source)
    found = cycles(edges)
    assert found == [], f"import cycles: {found}"


def test_no_lower_layer_imports_a_higher_one():
    """settings, domain, phone, calendar, smpp, mqtt < store < intake, compose, outbound,
    mo < ops < app, cli; and smpp and mqtt import neither domain nor store."""
    upward = set()
    unplaced = set()
    for imp in gateway_imports():
        low, high = layer_of(imp.source), layer_of(imp.target)
        for module, rank in ((imp.source, low), (imp.target, high)):
            if rank is None and package_of(module) != "gateway":
                unplaced.add(package_of(module))
        pair = (package_of(imp.source), package_of(imp.target))
        if (low is not None and high is not None and high > low) or pair in FORBIDDEN:
            upward.add(f"{imp.source}:{imp.line} imports {imp.target}")
    assert not unplaced, f"packages missing from LAYERS: {sorted(unplaced)}"
    assert upward == set(), "imports against the layering:\n" + "\n".join(sorted(upward))


def test_layers_name_only_packages_that_exist():
    """A renamed package must be renamed in LAYERS too, or its imports go unchecked."""
    missing = sorted(p for layer in LAYERS for p in layer if not is_module(p))
    assert missing == []


@pytest.mark.xfail(
    not is_module(HANDLERS_API), reason="mo.api lands with the MO package", strict=True
)
def test_handlers_import_nothing_of_the_gateway_but_its_mo_api():
    """A keyword handler depends on gateway.mo.api alone, so the gateway's insides can
    change without breaking the province's own handlers."""
    wide = {
        f"{imp.source}:{imp.line} imports {imp.target}"
        for path in source_files("handlers")
        for imp in imports_of(path)
        if imp.target.startswith("gateway")
        and imp.target != HANDLERS_API
        and not imp.target.startswith(HANDLERS_API + ".")
        # `from gateway.mo import api` names the package first; the API is what it takes.
        and not (imp.target == "gateway.mo" and _imports_only_api(path, imp.line))
    }
    assert is_module(HANDLERS_API), f"{HANDLERS_API} does not exist"
    assert wide == set(), "handlers reaching past the MO API:\n" + "\n".join(sorted(wide))


def _imports_only_api(path: Path, line: int) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.lineno == line
        and [a.name for a in node.names] == ["api"]
        for node in ast.walk(parsed(path))
    )


# --------------------------------------------------------------------------- libraries


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


# --------------------------------------------------------------------------- tests


def test_tests_share_helpers_only_through_tests_support():
    """A test module imports rigs and helpers from tests/support/, never from another test
    module or a conftest (whose fixtures pytest provides by name)."""
    crossing = [
        f"{imp.source}:{imp.line} imports {imp.target}"
        for path in source_files("tests")
        for imp in imports_of(path)
        if (imp.target == "tests" or imp.target.startswith("tests."))
        and not (imp.target == "tests.support" or imp.target.startswith("tests.support."))
    ]
    assert crossing == [], "imports between test modules:\n" + "\n".join(crossing)


def test_the_one_bounded_wait_is_not_redefined():
    """Tests wait with tests.support.wait.eventually; a local copy drifts (no bound, a
    different poll) and is how the suite came to have four."""
    copies = [
        f"{path.relative_to(ROOT)}:{node.lineno} defines {node.name}"
        for path in source_files("tests")
        if path != ROOT / "tests" / "support" / "wait.py"
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name in ("eventually", "until")
    ]
    assert copies == []


# Test directories that are not a package's: rigs, data, and tests across packages.
TESTS_OF_NO_PACKAGE = frozenset({"support", "data", "e2e", "faults", "interop"})


def test_test_directories_mirror_the_packages():
    """tests/<name>/ holds the tests of gateway/<name>/, and every package has one."""
    packages = {p.parent.name for p in (ROOT / "gateway").glob("*/__init__.py")}
    test_dirs = {
        d.name
        for d in (ROOT / "tests").iterdir()
        if d.is_dir() and d.name not in _SKIPPED_DIRS and d.name not in TESTS_OF_NO_PACKAGE
    }
    assert test_dirs - packages == set(), "test directories of no package"
    assert packages - test_dirs == set(), "packages without a test directory"
