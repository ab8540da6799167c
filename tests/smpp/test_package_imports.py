"""How the modules of gateway.smpp import each other: no loop, no import hidden in a function.

An import inside a function is how a loop is usually held together; it breaks the day
someone imports the modules in another order. These tests read the source (ast), so they
see the imports whether or not Python has run them yet.
"""

from __future__ import annotations

import ast
from pathlib import Path

import gateway.smpp

PACKAGE = Path(gateway.smpp.__file__).parent


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported from gateway.smpp, whether at module level) for one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "gateway.smpp":
                names = [f"gateway.smpp.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("gateway.smpp."):
                found.append((name.removeprefix("gateway.smpp.").split(".")[0], id(node) in top))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    modules |= {
        p.name: p / "__init__.py" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        files = [path] if path.name != "__init__.py" else sorted(path.parent.glob("*.py"))
        graph[name] = {m for f in files for m, _ in _imports(f) if m != name}
    return graph


def test_no_module_of_the_smpp_package_imports_itself_back_through_others():
    graph = _graph()
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])

    assert cycles == []


def test_the_smpp_package_imports_its_own_modules_only_at_module_level():
    lazy = [
        f"{path.relative_to(PACKAGE)} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for module, at_top in _imports(path)
        if not at_top
    ]

    assert lazy == []


def test_status_codes_are_declared_once_in_codes():
    """No other module names a status of its own (layout once had `_INVMSGLEN = 0x01`)."""
    from gateway.smpp.codes import Status

    suffixes = {status.name.removeprefix("ESME_R") for status in Status}
    declared = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "codes.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                name = target.id.strip("_") if isinstance(target, ast.Name) else ""
                if name.removeprefix("ESME_R") in suffixes:
                    declared.append(f"{path.name}: {name}")

    assert declared == []


def test_only_the_framing_module_reads_frames_off_a_stream():
    """The link and the simulator share one frame reader (gateway/smpp/framing.py)."""
    readers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "readexactly" in path.read_text(encoding="utf-8")
    )

    assert readers == ["framing.py"]


def test_no_module_of_the_smpp_package_is_over_400_lines():
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }

    assert long == {}
