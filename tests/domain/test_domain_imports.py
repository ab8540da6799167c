"""The domain is the bottom of the gateway: it imports no part built on top of it."""

from __future__ import annotations

import ast
from pathlib import Path

import gateway.domain

HIGHER = ("gateway.store", "gateway.intake", "gateway.compose", "gateway.outbound",
          "gateway.mo", "gateway.ops", "gateway.app", "gateway.cli", "gateway.mqtt")  # fmt: skip


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_domain_imports_nothing_above_it():
    package = Path(gateway.domain.__file__).parent
    upward = {
        (path.name, name)
        for path in package.glob("*.py")
        for name in imported(path)
        if name.startswith(HIGHER)
    }
    assert upward == set()
