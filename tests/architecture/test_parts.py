"""Each part receives only its own settings and its own repositories.

The composition root (`gateway/app.py`, with `channels.py`, `cli.py` and `demo.py` beside
it) is the one place that holds the whole `Config` and the whole `Store` and hands out
sections, the small
settings types the parts declare, and repositories. Anywhere else, a parameter (or a
dataclass field, which is a constructor's parameter) typed as one of them would let a part
read, or be swapped, more than it uses. Read with `ast` from the sources; each test lists
every offender.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.code import ROOT, parsed, source_files

# The modules that may take the whole configuration or the whole store.
COMPOSITION_ROOT = frozenset(
    {
        "gateway/app.py",
        "gateway/channels.py",
        "gateway/cli.py",
        "gateway/demo.py",
        "gateway/demo_channels.py",
    }
)
# The configuration's own package reads, checks, shows and reloads the whole of it.
SETTINGS = "gateway/settings/"

# (class name, the module that defines it)
CONFIG = ("Config", "gateway.settings.config")
STORE = ("Store", "gateway.store.store")


def local_names(tree: ast.Module, name: str, module: str) -> set[str]:
    """The names under which `tree` may refer to class `name` of `module`: the name
    itself, and any alias it was imported as."""
    names = {name}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == module:
            names |= {a.asname for a in node.names if a.name == name and a.asname}
    return names


def names_type(annotation: ast.expr | None, names: set[str]) -> bool:
    """Whether `annotation` mentions one of `names` anywhere (`Config`, `Config | None`,
    `Optional[cfg.Config]`, `"Config"`)."""
    if annotation is None:
        return False
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id in names:
            return True
        if isinstance(node, ast.Attribute) and node.attr in names:
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                inner = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                continue
            if names_type(inner, names):
                return True
    return False


def typed_parameters(tree: ast.Module) -> Iterator[tuple[str, int, ast.expr | None]]:
    """(name, line, annotation) of every function parameter and every class-body
    annotated attribute (a dataclass's constructor parameters)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            every += [a for a in (args.vararg, args.kwarg) if a is not None]
            for arg in every:
                yield arg.arg, arg.lineno, arg.annotation
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    yield item.target.id, item.lineno, item.annotation


def offenders(tree: ast.Module, where: str, whole: tuple[str, str]) -> list[str]:
    """`where:line: parameter: Type` for each parameter of `tree` typed as `whole`."""
    names = local_names(tree, *whole)
    return [
        f"{where}:{line}: {name}: {whole[0]}"
        for name, line, annotation in typed_parameters(tree)
        if names_type(annotation, names)
    ]


def parts() -> list[Path]:
    """Every module of gateway/ outside the composition root."""
    return [
        path
        for path in source_files("gateway")
        if path.relative_to(ROOT).as_posix() not in COMPOSITION_ROOT
    ]


def test_no_part_takes_the_whole_configuration():
    found = [
        line
        for path in parts()
        if not path.relative_to(ROOT).as_posix().startswith(SETTINGS)
        for line in offenders(parsed(path), path.relative_to(ROOT).as_posix(), CONFIG)
    ]
    assert found == [], "take the section (or a settings type of the part's own):\n" + "\n".join(
        found
    )


def test_no_part_takes_the_whole_store():
    found = [
        line
        for path in parts()
        for line in offenders(parsed(path), path.relative_to(ROOT).as_posix(), STORE)
    ]
    assert found == [], "take the repositories the part uses:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "whole"),
    [
        ("def f(config: Config) -> None: ...", CONFIG),
        ("class P:\n    def __init__(self, *, cfg: Config | None = None) -> None: ...", CONFIG),
        ("from gateway.settings.config import Config as C\ndef f(c: 'C') -> None: ...", CONFIG),
        ("import dataclasses\n@dataclasses.dataclass\nclass Ctx:\n    config: Config", CONFIG),
        ("async def publish(store: Store, link: object) -> None: ...", STORE),
        ("from gateway.store import store\ndef f(s: store.Store) -> None: ...", STORE),
    ],
)
def test_the_checks_see_the_whole_type_however_it_is_written(source, whole):
    assert offenders(ast.parse(source), "planted.py", whole) != []


@pytest.mark.parametrize(
    "source",
    [
        "def f(settings: ComposerSettings, smpp: SmppConfig) -> None: ...",
        "def f(outbox: Outbox, statuses: StatusOutbox) -> None: ...",
        "def f(sim: SimConfig) -> None: ...",
    ],
)
def test_the_checks_let_sections_and_repositories_through(source):
    tree = ast.parse(source)
    assert offenders(tree, "planted.py", CONFIG) == offenders(tree, "planted.py", STORE) == []
