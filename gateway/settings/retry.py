"""The `retry:` section: how transient failures are retried, and when a message expires."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import ConfigDict, model_validator

from gateway.settings.values import below, entries, integer, number, refuse, rule


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

    _attempts = rule("max_attempts", check=integer(minimum=1))
    _times = rule("base_delay", "max_delay", "ttl", check=number(exclusive=True))

    @model_validator(mode="before")
    @classmethod
    def _ttl_hours(cls, data: Any) -> Any:
        section = entries(data)
        if "ttl_hours" not in section:
            return section
        if "ttl" in section:
            refuse("give ttl (seconds) or ttl_hours, not both", "ttl_hours")
        hours = below(number(exclusive=True), section.pop("ttl_hours"), "ttl_hours")
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
