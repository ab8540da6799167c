"""The overview's chart as inline SVG: one mark per day and series, carrying its value."""

from __future__ import annotations

import re
from datetime import date, timedelta

from gateway.console.chart import DayPoint, chart_svg

DAY = date(2026, 11, 20)


def marks(svg: str, series: str) -> dict[str, str]:
    pattern = rf'data-day="([\d-]+)" data-series="{series}" data-value="([\d.]+)"'
    return dict(re.findall(pattern, svg))


def test_each_day_has_a_resolved_and_a_delivered_bar_with_its_count():
    svg = chart_svg("SCT", [DayPoint(DAY, 4, 3, 1), DayPoint(DAY + timedelta(1), 2, 2, 0)])

    assert marks(svg, "resolved") == {"2026-11-20": "4", "2026-11-21": "2"}
    assert marks(svg, "delivered") == {"2026-11-20": "3", "2026-11-21": "2"}


def test_the_failure_share_is_not_delivered_among_notices_whose_fate_is_known():
    svg = chart_svg("SCT", [DayPoint(DAY, 4, 3, 1)])

    assert marks(svg, "failure-share") == {"2026-11-20": "0.2500"}


def test_a_day_without_notices_has_no_failure_share_point():
    svg = chart_svg("SCT", [DayPoint(DAY, 2, 0, 0)])

    assert marks(svg, "failure-share") == {}


def test_a_taller_bar_stands_for_a_larger_count():
    svg = chart_svg("SCT", [DayPoint(DAY, 8, 2, 0)])
    heights = dict(re.findall(r'class="bar (\w+)"[^>]*height="([\d.]+)"', svg))

    assert float(heights["resolved"]) == 4 * float(heights["delivered"])


def test_text_in_the_title_is_escaped():
    svg = chart_svg('<script>alert("x")</script>', [DayPoint(DAY, 1, 1, 0)])

    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_a_year_of_days_fits_one_drawing():
    points = [DayPoint(DAY + timedelta(i), i % 5, i % 3, i % 2) for i in range(366)]
    svg = chart_svg("SCT", points)

    assert len(marks(svg, "resolved")) == 366
    width = float(re.search(r'viewBox="0 0 ([\d.]+)', svg)[1])
    assert width < 1300


def test_an_empty_period_says_so():
    assert "Không có số liệu" in chart_svg("SCT", [])
