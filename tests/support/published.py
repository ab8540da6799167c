"""The statuses a whole test run's daemons published, read back from their logs.

Every daemon of the run, in-process or a subprocess, logs `status_published` with the
payload once the broker has it, into the files the session's personal-data scan reads
(tests/support/daemon.py DAEMON_LOGS). The session ends by holding every one of them to
the published status schema (gateway/kit/schema/status.json), so a field added to or
changed in the status without the documents fails the run that first publishes it.

The log masks runs of nine or more digits (receipt numbers, ids): the schema puts no
pattern on those fields, so a masked value checks the same as the published one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from gateway.kit.schemas import schema

PUBLISHED = "status_published"


def published_statuses(directory: Path) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """(file: line, topic, payload) for every status published in the logs of `directory`;
    payload None when the logged text is not JSON."""
    for path in sorted(directory.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                if PUBLISHED not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a console-rendered line, or one cut short by a kill
                if not isinstance(entry, dict) or entry.get("event") != PUBLISHED:
                    continue
                try:
                    payload = json.loads(entry.get("payload", ""))
                except (TypeError, ValueError):
                    payload = None
                yield f"{path.name}:{number}", str(entry.get("topic")), payload


def violations(directory: Path) -> tuple[int, list[str]]:
    """How many published statuses the logs hold, and one line per status that breaks
    the status schema (where, and the first error)."""
    validator = Draft202012Validator(schema("status"))
    count = 0
    found: list[str] = []
    for where, topic, payload in published_statuses(directory):
        count += 1
        if payload is None:
            found.append(f"{where}: {topic}: not JSON")
            continue
        errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
        if errors:
            path = "/".join(str(p) for p in errors[0].absolute_path) or "(status)"
            found.append(f"{where}: {topic}: {path}: {errors[0].message}")
    return count, found
