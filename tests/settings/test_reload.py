"""What a SIGHUP applies to the running configuration, and what it leaves for a restart."""

from __future__ import annotations

from datetime import date, time

from gateway.settings.config import Config, parse_config
from gateway.settings.reload import Reload

BASE = (
    "smpp:\n  window: 10\nschedule:\n  apology_at: '17:30'\n"
    "agencies:\n  SCT:\n    name: Sở Công Thương\n"
)


def parse(text: str) -> Config:
    return parse_config(text, env={})


def test_agencies_keywords_mo_and_the_calendar_are_applied():
    running = parse(BASE)
    new = parse(
        BASE.replace("name: Sở Công Thương", "name: Sở Công Thương Khánh Hòa").replace(
            "apology_at: '17:30'", "apology_at: '17:30'\n  holidays: ['2026-11-20']"
        )
        + "keywords:\n  TRA: mckh\nmo:\n  rate_limit: 3\n"
    )

    change = Reload.of(running, new)

    assert change.config.agencies["SCT"].name == "Sở Công Thương Khánh Hòa"
    assert dict(change.config.keywords) == {"TRA": "mckh"}
    assert change.config.mo.rate_limit == 3
    assert change.config.schedule.holidays == frozenset({date(2026, 11, 20)})
    assert change.needs_restart == ()


def test_connections_and_times_of_day_keep_their_running_values():
    running = parse(BASE)
    new = parse(BASE.replace("window: 10", "window: 3").replace("17:30", "16:30"))

    change = Reload.of(running, new)

    assert (change.config.smpp.window, change.config.schedule.apology_at) == (10, time(17, 30))
    assert change.needs_restart == ("smpp", "schedule")
