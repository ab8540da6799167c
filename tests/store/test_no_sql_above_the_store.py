"""Only the store writes SQL: everything above it asks a repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gateway

SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.S
)


def sql_strings(path: Path) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)
    ]


def test_the_pattern_finds_sql():
    assert SQL.search("SELECT state, n FROM message_states WHERE n > 0")
    assert SQL.search("UPDATE messages SET state = ?")
    assert not SQL.search("select the best candidate from the parts")


def test_no_module_outside_the_store_holds_sql():
    root = Path(gateway.__file__).parent
    found = {
        str(path.relative_to(root)): strings
        for path in root.rglob("*.py")
        if "store" not in path.relative_to(root).parts and (strings := sql_strings(path))
    }
    assert found == {}
