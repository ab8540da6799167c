"""The overview's chart, drawn here as inline SVG: no script, no CDN, works offline.

Per day: two bars, dossiers resolved and notices delivered, on a count axis on the left;
the failure share (notices not delivered among those whose fate is known) as a line of
points on a 0-100 % axis on the right. The SVG scales to its box (viewBox), so the same
drawing reads on a phone and on a desk screen. Every mark carries its day, series and value
as data attributes, and a <title> that a pointer or a screen reader shows.
Colours come from the console's stylesheet by class (the CSP allows no inline style).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

HEIGHT = 260
TOP, BOTTOM, LEFT, RIGHT = 16, 44, 48, 48
# Width of one day's slot, at most and at least: a year still fits a wide screen.
SLOT_MAX, SLOT_MIN = 110.0, 3.0
WIDTH_GOAL = 1100.0
# Day labels along the axis, at most.
LABELS = 12


@dataclass(frozen=True, slots=True)
class DayPoint:
    day: date
    resolved: int
    delivered: int
    not_delivered: int

    @property
    def failure_share(self) -> float | None:
        """Not delivered among the notices whose outcome is known (None: none known)."""
        known = self.delivered + self.not_delivered
        return self.not_delivered / known if known else None


def _nice(top: int) -> int:
    """The axis's top: `top` rounded up to 1, 2 or 5 times a power of ten."""
    step = 1
    while True:
        for mult in (1, 2, 5):
            if top <= step * mult:
                return step * mult
        step *= 10


def _label(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}"


def chart_svg(title: str, points: Sequence[DayPoint]) -> str:
    """The SVG element for `points` (one per day, in order) under `title`."""
    n = max(len(points), 1)
    slot = max(SLOT_MIN, min(SLOT_MAX, WIDTH_GOAL / n))
    width = LEFT + RIGHT + slot * n
    plot = HEIGHT - TOP - BOTTOM
    top = _nice(max([1, *(max(p.resolved, p.delivered) for p in points)]))
    base = TOP + plot

    def y(value: float, full: float) -> float:
        return base - plot * value / full

    out = [
        f'<svg class="chart" viewBox="0 0 {width:.0f} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        ty = y(fraction, 1.0)
        out.append(
            f'<line class="grid" x1="{LEFT}" y1="{ty:.1f}" x2="{width - RIGHT:.0f}" y2="{ty:.1f}"/>'
        )
        out.append(
            f'<text class="axis" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{top * fraction:g}</text>"
        )
        out.append(
            f'<text class="axis share" x="{width - RIGHT + 6:.0f}" y="{ty + 4:.1f}">'
            f"{fraction:.0%}</text>"
        )
    bar = max(1.0, min(slot * 0.38, 36.0))
    every = max(1, -(-len(points) // LABELS))
    share_points: list[tuple[float, float, DayPoint, float]] = []
    for i, p in enumerate(points):
        x0 = LEFT + slot * i + (slot - 2 * bar) / 2
        day = p.day.isoformat()
        for k, (series, value, label) in enumerate(
            (("resolved", p.resolved, "hồ sơ đã giải quyết"),
             ("delivered", p.delivered, "thông báo đã đến"))
        ):  # fmt: skip
            ry = y(value, top)
            out.append(
                f'<rect class="bar {series}" x="{x0 + k * bar:.1f}" y="{ry:.1f}" '
                f'width="{bar:.1f}" height="{base - ry:.1f}" data-day="{day}" '
                f'data-series="{series}" data-value="{value}">'
                f"<title>{_label(p.day)}: {value} {label}</title></rect>"
            )
        share = p.failure_share
        if share is not None:
            share_points.append((LEFT + slot * (i + 0.5), y(share, 1.0), p, share))
        if i % every == 0:
            out.append(
                f'<text class="axis" x="{LEFT + slot * (i + 0.5):.1f}" y="{base + 16}" '
                f'text-anchor="middle">{_label(p.day)}</text>'
            )
    if len(share_points) > 1:
        path = " ".join(f"{sx:.1f},{sy:.1f}" for sx, sy, _, _ in share_points)
        out.append(f'<polyline class="share-line" points="{path}"/>')
    for sx, sy, p, share in share_points:
        out.append(
            f'<circle class="share-point" cx="{sx:.1f}" cy="{sy:.1f}" r="3.5" '
            f'data-day="{p.day.isoformat()}" data-series="failure-share" '
            f'data-value="{share:.4f}"><title>{_label(p.day)}: {share:.1%} '
            "thông báo không đến được</title></circle>"
        )
    if not points:
        out.append(
            f'<text class="axis" x="{width / 2:.0f}" y="{TOP + plot / 2:.0f}" '
            'text-anchor="middle">Không có số liệu trong khoảng này</text>'
        )
    out.append("</svg>")
    return "".join(out)


LEGEND = (
    '<ul class="legend"><li><span class="key resolved"></span>Hồ sơ đã giải quyết</li>'
    '<li><span class="key delivered"></span>Thông báo đã đến người dân</li>'
    '<li><span class="key share"></span>Tỉ lệ không đến được (trục phải)</li></ul>'
)
