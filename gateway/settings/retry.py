"""The `retry:` section: how transient failures are retried, and when a message expires."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ConfigDict, model_validator

from gateway.settings.values import (
    MAX_NUMBER,
    below,
    entries,
    integer,
    number,
    refuse,
    rule,
)

_ATTEMPTS = integer(minimum=1)
_TIME = number(exclusive=True)
_HOURS = number(exclusive=True, maximum=MAX_NUMBER // 3600)  # ttl's bound, in hours


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """Retries of transient failures. Times in seconds; `ttl_hours` in the file is the
    friendlier spelling of `ttl`."""

    __pydantic_config__ = ConfigDict(extra="forbid")
    ALSO_IN_FILE: ClassVar[tuple[str, ...]] = ("ttl_hours",)

    max_attempts: int = 6
    base_delay: float = 30.0
    max_delay: float = 1800.0
    ttl: float = 48 * 3600.0

    _attempts = rule("max_attempts", check=_ATTEMPTS)
    _times = rule("base_delay", "max_delay", "ttl", check=_TIME)

    @model_validator(mode="before")
    @classmethod
    def _ttl_hours(cls, data: Any) -> Any:
        section = entries(data)
        if "ttl_hours" not in section:
            return section
        # The keys written above ttl_hours are checked first, as the file reads: a
        # refusal here would otherwise hide theirs.
        for name in list(section)[: list(section).index("ttl_hours")]:
            check = {"max_attempts": _ATTEMPTS, "base_delay": _TIME, "max_delay": _TIME}.get(name)
            if check is not None:
                below(check, section[name], name)
        if "ttl" in section:
            refuse("give ttl (seconds) or ttl_hours, not both", "ttl_hours")
        hours = below(_HOURS, section.pop("ttl_hours"), "ttl_hours")
        section["ttl"] = hours * 3600.0
        return section

    @model_validator(mode="after")
    def _consistent(self) -> RetryConfig:
        if self.max_delay < self.base_delay:
            refuse(
                f"must not be less than base_delay ({self.base_delay:g})",
                "max_delay",
                near=("base_delay",),
            )
        return self
