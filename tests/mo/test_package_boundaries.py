"""What the MO path may import: handlers only gateway.mo.api, and the SMPP layer's MO
enters gateway.mo at one place (gateway/mo/incoming.py). Read from the source (ast)."""

from __future__ import annotations

import ast
from pathlib import Path

import gateway.mo
import handlers

MO = Path(gateway.mo.__file__).parent
HANDLERS = Path(handlers.__file__).parent


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_handlers_import_nothing_of_the_gateway_but_its_mo_api():
    reached = {
        f"{path.name}: {name}"
        for path in sorted(HANDLERS.glob("*.py"))
        for name in imported(path)
        if name.split(".")[0] == "gateway" and name != "gateway.mo.api"
    }

    assert reached == set()


def test_the_smpp_mo_enters_the_mo_package_only_through_incoming():
    readers = {
        path.name
        for path in sorted(MO.glob("*.py"))
        if "gateway.smpp.inbound" in imported(path) or "gateway.smpp.session" in imported(path)
    }

    assert readers == {"incoming.py"}


def test_the_dispatcher_names_no_keyword_and_no_handler_module():
    source = (MO / "dispatcher.py").read_text(encoding="utf-8")
    strings = [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]

    assert [s for s in strings if "MCKH" in s or "handlers." in s or s in {"HD", "HELP"}] == []
