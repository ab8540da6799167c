"""The gateway's modules: size, import cycles, layering, and the handlers' one API.

Imports are read with `ast` from the source files (at module level, inside functions and
under `if TYPE_CHECKING:` alike). Each test lists every offender, not only the first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.code import ROOT, Import, imports_of, is_module, parsed, source_files

MAX_LINES = 400

# The layers, lowest first: a lower layer never imports a higher one.
# Packages of one layer may import each other, save for FORBIDDEN below.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "gateway.backoff",
            "gateway.web",
            "gateway.settings",
            "gateway.domain",
            "gateway.phone",
            "gateway.calendar",
            "gateway.smpp",
            "gateway.mqtt",
            "gateway.mail",
            "gateway.zalo",
        }
    ),
    frozenset({"gateway.store"}),
    frozenset({"gateway.intake", "gateway.compose", "gateway.outbound", "gateway.mo"}),
    frozenset({"gateway.ops", "gateway.kit", "gateway.console"}),
    frozenset(
        {"gateway.app", "gateway.channels", "gateway.cli", "gateway.demo", "gateway.demo_channels"}
    ),
)
# Within the lowest layer the protocol parts stay protocol parts: SMPP and MQTT know
# nothing of dossiers or messages.
FORBIDDEN: frozenset[tuple[str, str]] = frozenset(
    {
        ("gateway.smpp", "gateway.domain"),
        ("gateway.smpp", "gateway.store"),
        ("gateway.mqtt", "gateway.domain"),
        ("gateway.mqtt", "gateway.store"),
        # Zalo is a protocol part too, on the HTTP stack: no SMPP, MQTT or calendar in it.
        ("gateway.zalo", "gateway.smpp"),
        ("gateway.zalo", "gateway.mqtt"),
        ("gateway.zalo", "gateway.calendar"),
        # The console is a process of its own beside the daemon: only the commands start it.
        ("gateway.ops", "gateway.console"),
        ("gateway.kit", "gateway.console"),
        ("gateway.console", "gateway.ops"),
        ("gateway.console", "gateway.kit"),
    }
)

# Keyword handlers are plug-ins (SPEC: MO keywords); they see the gateway through one API.
HANDLERS_API = "gateway.mo.api"


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
