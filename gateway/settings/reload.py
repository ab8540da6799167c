"""What a SIGHUP changes in a running daemon: one typed list, everything else a restart.

The agencies (names, notices, templates), the keyword table and the MO limits, and the
working-day calendar (local days off, make-up working days, the weekend) are read again;
connections, the store, the time zone and the times of day need a restart, and a reload
that changes them says so (`needs_restart`) and keeps the running values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from gateway.settings.agencies import AgencyConfig
from gateway.settings.config import Config
from gateway.settings.keywords import MoConfig


@dataclass(frozen=True, slots=True)
class Reloadable:
    """The settings a SIGHUP applies."""

    agencies: Mapping[str, AgencyConfig]
    keywords: Mapping[str, str]
    mo: MoConfig
    holidays: frozenset[date]
    working_days: frozenset[date]
    weekend: frozenset[int]

    @classmethod
    def of(cls, config: Config) -> Reloadable:
        schedule = config.schedule
        return cls(
            agencies=config.agencies,
            keywords=config.keywords,
            mo=config.mo,
            holidays=schedule.holidays,
            working_days=schedule.working_days,
            weekend=schedule.weekend,
        )

    def onto(self, config: Config) -> Config:
        """`config` with these settings in place of its own."""
        schedule = dataclasses.replace(
            config.schedule,
            holidays=self.holidays,
            working_days=self.working_days,
            weekend=self.weekend,
        )
        return dataclasses.replace(
            config, agencies=self.agencies, keywords=self.keywords, mo=self.mo, schedule=schedule
        )


@dataclass(frozen=True, slots=True)
class Reload:
    """A new file applied to the running configuration."""

    config: Config  # the running one with the reloadable settings of the new file
    needs_restart: tuple[str, ...]  # sections the new file changes beyond that

    @classmethod
    def of(cls, running: Config, new: Config) -> Reload:
        merged = Reloadable.of(new).onto(running)
        changed = tuple(
            f.name
            for f in dataclasses.fields(Config)
            if f.name != "source_path" and getattr(new, f.name) != getattr(merged, f.name)
        )
        return cls(config=_email_only_if_sent(merged), needs_restart=changed)


def _email_only_if_sent(config: Config) -> Config:
    """No mail sender runs without the `email:` section, which needs a restart: an agency
    the new file turns e-mail on for stays off until then, rather than queue letters
    nothing sends (the agencies' other changes apply at once)."""
    if config.email is None and any(a.email for a in config.agencies.values()):
        agencies = MappingProxyType(
            {
                code: dataclasses.replace(a, email=False, email_from=None) if a.email else a
                for code, a in config.agencies.items()
            }
        )
        return dataclasses.replace(config, agencies=agencies)
    return config
