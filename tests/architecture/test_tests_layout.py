"""The tests' own layout: they mirror the packages and share rigs only through
tests/support/, with one bounded wait."""

from __future__ import annotations

import ast

from tests.support.code import ROOT, SKIPPED_DIRS, imports_of, parsed, source_files


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
TESTS_OF_NO_PACKAGE = frozenset({"support", "data", "e2e", "faults", "interop", "architecture"})


def test_test_directories_mirror_the_packages():
    """tests/<name>/ holds the tests of gateway/<name>/, and every package has one."""
    packages = {p.parent.name for p in (ROOT / "gateway").glob("*/__init__.py")}
    test_dirs = {
        d.name
        for d in (ROOT / "tests").iterdir()
        if d.is_dir() and d.name not in SKIPPED_DIRS and d.name not in TESTS_OF_NO_PACKAGE
    }
    assert test_dirs - packages == set(), "test directories of no package"
    assert packages - test_dirs == set(), "packages without a test directory"
