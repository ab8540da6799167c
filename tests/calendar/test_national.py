"""Vietnam's calendar from the `holidays` package, loaded without its other countries
(gateway/calendar/national.py). Each test runs in a process of its own: this test run may
have imported the whole package already."""

from __future__ import annotations

import json
import subprocess
import sys

TIMEOUT = 60


def _run(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    return json.loads(done.stdout)


def test_the_vietnam_calendar_loads_no_other_country():
    loaded = _run(
        "import json, sys\n"
        "from gateway.calendar.national import vietnam_calendar\n"
        "vietnam_calendar()(years=2026)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('holidays.countries'))))"
    )
    assert loaded == ["holidays.countries.vietnam"]


def test_the_vietnam_calendar_alone_has_the_packages_days_off_and_swaps():
    alone, package = _run(
        "import json\n"
        "from gateway.calendar.national import vietnam_calendar\n"
        "years = range(2000, 2041)\n"
        "def days(cls):\n"
        "    h = cls(years=years, language='vi')\n"
        "    return [sorted((d.isoformat(), n) for d, n in h.items()),\n"
        "            sorted(d.isoformat() for d in h.weekend_workdays)]\n"
        "alone = days(vietnam_calendar())\n"
        "import holidays\n"
        "print(json.dumps([alone, days(holidays.Vietnam)]))"
    )
    assert alone == package
    assert alone[0] and alone[1]
