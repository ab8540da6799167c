"""Reading the code base's own sources with ast: its files, module names and imports.

The architecture tests (tests/architecture/) check the code's shape from these, so that
nothing depends on what a test run happens to import.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True, slots=True)
class Import:
    """One module named by an import statement, where it was written."""

    source: str  # the importing module, dotted
    target: str  # the imported module (or the package whose name was imported), dotted
    line: int


def module_name(path: Path) -> str:
    """`gateway.intake.fields` for gateway/intake/fields.py; a package for its __init__."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# Not ours: npm packages of the interop tests, caches.
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


def source_files(*packages: str) -> list[Path]:
    """The Python files under `packages` (relative to the repository), sorted."""
    found = []
    for package in packages:
        for folder, dirs, files in os.walk(ROOT / package):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
            found += [Path(folder, f) for f in files if f.endswith(".py")]
    return sorted(found)


@functools.cache
def parsed(path: Path) -> ast.Module:
    """The syntax tree of `path`, parsed once per run (several checks read each file)."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_module(name: str) -> bool:
    """Whether dotted `name` is a module or package of this repository."""
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
