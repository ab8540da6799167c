"""Structured logs: JSON lines under systemd, readable lines on a terminal, no personal data.

Phone numbers are personal data: a processor masks every run of 9 or more digits in every
event value (keys named like a secret or a message body are dropped outright), so that a
careless `log.info(..., to=number)` cannot leak one into the journal. The mask is the
phone package's `mask_phone`, the one statuses carry, so a number reads the same in a log
line and in the status an agency received.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from gateway.phone.numbers import mask_phone

_DIGITS = re.compile(r"\+?\d[\d .-]{7,}\d")
_SECRET_KEYS = frozenset({"password", "passwd", "secret", "text", "body", "short_message"})


def _mask_digits(match: re.Match[str]) -> str:
    """A run of digits (with its layout) long enough to be a phone number, masked."""
    digits = re.sub(r"\D", "", match.group(0))
    if len(digits) < 9:
        return match.group(0)
    return mask_phone(digits)


def mask_value(value: Any) -> Any:
    """`value` with every number in it masked; values of other types as they are."""
    if isinstance(value, str):
        return _DIGITS.sub(_mask_digits, value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 100_000_000:
        return _DIGITS.sub(_mask_digits, str(value))
    return value


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: drop secrets and bodies, mask anything that looks like a number."""
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
        else:
            event[key] = mask_value(event[key])
    return event


def _json_wanted() -> bool:
    if os.environ.get("MOTCUA_SMS_LOG_FORMAT") in ("json", "console"):
        return os.environ["MOTCUA_SMS_LOG_FORMAT"] == "json"
    return bool(os.environ.get("JOURNAL_STREAM")) or not sys.stderr.isatty()


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written, not when logging was set up.

    A command run in-process (tests, an embedding tool) may swap stderr and close the old
    one; a logger bound to the old object would then fail on its next line.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


# `MOTCUA_SMS_LOG_LEVEL`: the level when the command does not set one. `debug` adds one
# line per status the broker confirmed (`status_published`, with the payload): an audit
# trail of what each agency was told, left out by default because it triples the lines
# per message on the hot path.
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}  # fmt: skip


def _level_wanted() -> tuple[int, str | None]:
    """The level from the environment, and the value given if it names no level."""
    given = os.environ.get("MOTCUA_SMS_LOG_LEVEL", "").strip().lower()
    if not given:
        return logging.INFO, None
    if given not in LEVELS:
        return logging.INFO, given
    return LEVELS[given], None


def configure_logging(
    level: int | None = None, *, json: bool | None = None, file: TextIO | None = None
) -> None:
    """Set up structlog once, at start-up, for the whole process (to stderr by default);
    `level` None takes `MOTCUA_SMS_LOG_LEVEL`, else info."""
    unknown: str | None = None
    if level is None:
        level, unknown = _level_wanted()
    as_json = _json_wanted() if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # The processor list is changed in place: loggers cached on first use keep a reference
    # to it, so a second set-up (a command run in-process) still reaches them.
    processors = structlog.get_config()["processors"]
    processors[:] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=False),
        structlog.processors.format_exc_info,
        redact,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=file or _CurrentStderr()),
        cache_logger_on_first_use=True,
    )
    if unknown is not None:
        structlog.get_logger("gateway.logs").warning(
            "log_level_unknown", given=unknown[:20], known=sorted(LEVELS), using="info"
        )
