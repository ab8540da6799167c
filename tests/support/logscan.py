"""The personal-data check on a whole test run: no full phone number in any log line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

# A Vietnamese mobile number written out in full: 0 or 84 (with or without +), then a
# mobile prefix and eight digits. Masked numbers (`8490*****56`) do not match.
FULL_NUMBER = re.compile(r"(?<![\d*])(?:\+?84|0)[35789]\d{8}(?![\d*])")


def leaks(lines: Iterator[str]) -> list[str]:
    return [line.rstrip() for line in lines if FULL_NUMBER.search(line)]


def leaks_in(directory: Path) -> list[str]:
    found: list[str] = []
    for path in sorted(directory.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as f:
            found += [f"{path.name}: {line}" for line in leaks(iter(f))]
    return found
