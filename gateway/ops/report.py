"""`motcua-sms report`: what the supervising departments compare with their dossier counts.

Per agency, procedure and day (in the configured time zone), or any grouping of the three,
over the local days [from, to]: dossiers received and resolved, notices queued, delivered
and not delivered by reason, the delivered / resolved ratio, MCKH lookups answered, SMS
segments and their cost (`report.segment_price`); then per channel the notices Zalo
delivered and those it handed to SMS, the e-mail copies sent and failed, Zalo's cost
(`report.zns_price` a notice delivered) and the cost of both. The channels' columns come
after the others, so that a CSV reader of the columns before them reads the same
columns in the same places. Read from the figures the store keeps
(`gateway.store.figures`), so a purged period reports as it did, and a year in well
under a second.

Bad input is refused with a message naming the option (`ReportError`): an unknown
grouping, a range that ends before it starts or spans more than ten years, an agency the
store and the configuration do not know.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gateway.settings.store import ReportConfig
from gateway.store.figures import DIMENSIONS, NOT_DELIVERED, Dimension, FigureRow, Figures
from gateway.store.store import Store
from gateway.store.url import is_url

Format = Literal["table", "csv", "json"]

# More than this many days at a time is a typing mistake (a year of 20266), not a report.
MAX_DAYS = 3653
NO_PROCEDURE = "(no procedure)"
NO_AGENCY = "(no agency)"


class ReportError(ValueError):
    """Input the report refuses; the message names the option and what it takes."""


def command(
    store_path: str,
    zone: ZoneInfo,
    settings: ReportConfig,
    configured: Collection[str],
    *,
    start: date,
    end: date,
    by: str,
    agencies: Sequence[str] | None,
    fmt: Format,
    password: str | None = None,
) -> str:
    """`motcua-sms report` as its options give it (`by` as written, each `--agency` as
    written, comma-separated or not): the rendered report. Raises ReportError for bad
    input, before the store is opened; StoreError for a store that cannot be read."""
    groups = parse_by(by)
    check_range(start, end)
    chosen = None
    if agencies is not None:
        chosen = [a.strip() for given in agencies for a in given.split(",") if a.strip()]
    if not is_url(store_path) and not Path(store_path).exists():
        raise ReportError(f"no store at {store_path}")
    rows = asyncio.run(
        _read(store_path, password, zone, settings, configured, start, end, groups, chosen)
    )
    return render(rows, groups, fmt)


async def _read(
    store_path: str,
    password: str | None,
    zone: ZoneInfo,
    settings: ReportConfig,
    configured: Collection[str],
    start: date,
    end: date,
    by: Sequence[Dimension],
    agencies: Sequence[str] | None,
) -> list[FigureRow]:
    async with Store.open(store_path, readonly=True, password=password) as store:
        figures = Figures(store.database, zone, settings.segment_price, settings.zns_price)
        return await build(figures, start, end, by, agencies=agencies, configured=configured)


def parse_by(text: str) -> tuple[Dimension, ...]:
    """`agency,procedure,day` (any of them, any order) as the groupings, in the order of
    DIMENSIONS; raises ReportError for anything else."""
    wanted = [part.strip() for part in text.split(",")]
    for part in wanted:
        if part not in DIMENSIONS:
            raise ReportError(
                f"--by: unknown grouping {part!r}; any of {', '.join(DIMENSIONS)}, "
                "separated by commas"
            )
    return tuple(d for d in DIMENSIONS if d in wanted)


def check_range(start: date, end: date) -> None:
    if end < start:
        raise ReportError(f"--to {end} is before --from {start}")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ReportError(
            f"--from {start} --to {end} spans {days} days; at most {MAX_DAYS} (ten years)"
        )


async def build(
    figures: Figures,
    start: date,
    end: date,
    by: Sequence[Dimension],
    *,
    agencies: Collection[str] | None = None,
    configured: Collection[str] = (),
) -> list[FigureRow]:
    """The figures of [start, end] grouped by `by`, of `agencies` only if given: each must
    be `configured` or have figures in the store (one that no longer is configured)."""
    check_range(start, end)
    if agencies is not None:
        known = {a for a in (*configured, *await figures.agencies()) if a}
        unknown = sorted(set(agencies) - known)
        if unknown:
            raise ReportError(
                f"--agency: unknown agency {unknown[0]!r}; known: {', '.join(sorted(known))}"
            )
    return await figures.table(start, end, by, agencies)


def as_dict(row: FigureRow, by: Sequence[Dimension]) -> dict[str, Any]:
    """One row for JSON: its groups (only those asked for), then its figures."""
    out: dict[str, Any] = {}
    if "agency" in by:
        out["agency"] = row.agency
    if "procedure" in by:
        out["procedure_code"] = row.procedure_code
        out["procedure_name"] = row.procedure_name
    if "day" in by:
        out["day"] = row.day.isoformat() if row.day else None
    ratio = row.delivered_ratio
    return {
        **out,
        "dossiers_received": row.dossiers_received,
        "dossiers_resolved": row.dossiers_resolved,
        "notices_queued": row.notices_queued,
        "notices_delivered": row.notices_delivered,
        "results_delivered": row.results_delivered,
        "not_delivered": row.not_delivered_total,
        "not_delivered_by_reason": dict(row.not_delivered),
        "delivered_ratio": None if ratio is None else round(ratio, 4),
        "lookups_answered": row.lookups_answered,
        "segments": row.segments,
        "cost_vnd": row.cost_vnd,
        **{name: value for (name, _), value in zip(_CHANNELS, _channels(row), strict=True)},
    }


_SHORT = {"invalid_number": "invalid no.", "no_number": "no number", "undeliverable": "undeliv."}
# (CSV heading, table heading) of each figure, in order.
_FIGURES: tuple[tuple[str, str], ...] = (
    ("dossiers_received", "received"),
    ("dossiers_resolved", "resolved"),
    ("notices_queued", "queued"),
    ("notices_delivered", "delivered"),
    ("results_delivered", "results deliv."),
    ("not_delivered", "not deliv."),
    *((f"not_delivered_{r}", _SHORT.get(r, r)) for r in NOT_DELIVERED),
    ("delivered_ratio", "ratio"),
    ("lookups_answered", "MCKH"),
    ("segments", "segments"),
    ("cost_vnd", "cost VND"),
)
# The channels' figures, after all of the above (CSV readers find those where they were).
# `cost_vnd` above is SMS's: segments × segment_price.
_CHANNELS: tuple[tuple[str, str], ...] = (
    ("zalo_delivered", "zalo deliv."),
    ("zalo_fallbacks", "zalo to SMS"),
    ("emails_sent", "e-mails"),
    ("emails_failed", "e-mails failed"),
    ("zalo_cost_vnd", "zalo VND"),
    ("total_cost_vnd", "total VND"),
)


def _channels(row: FigureRow) -> list[int]:
    """The channels' figures of `row`, in the order of _CHANNELS."""
    return [
        row.zalo_delivered,
        row.zalo_fallbacks,
        row.emails_sent,
        row.emails_failed,
        row.zalo_cost_vnd,
        row.total_cost_vnd,
    ]


def render(rows: list[FigureRow], by: Sequence[Dimension], fmt: Format) -> str:
    if fmt == "json":
        records = [as_dict(r, by) for r in rows]
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    groups = _group_heads(by)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([g for g, _ in groups] + [name for name, _ in (*_FIGURES, *_CHANNELS)])
        for r in rows:
            ratio = r.delivered_ratio
            writer.writerow(
                _groups(r, by, blank="")
                + _numbers(r)
                + ["" if ratio is None else f"{ratio:.4f}"]
                + [r.lookups_answered, r.segments, r.cost_vnd]
                + _channels(r)
            )
        return out.getvalue()
    return _table(rows, by, groups)


def _group_heads(by: Sequence[Dimension]) -> list[tuple[str, str]]:
    heads = []
    if "agency" in by:
        heads.append(("agency", "agency"))
    if "procedure" in by:
        heads += [("procedure_code", "procedure"), ("procedure_name", "name")]
    if "day" in by:
        heads.append(("day", "day"))
    return heads


def _groups(row: FigureRow, by: Sequence[Dimension], *, blank: str) -> list[Any]:
    values: list[Any] = []
    if "agency" in by:
        values.append(row.agency or NO_AGENCY)
    if "procedure" in by:
        values += [row.procedure_code or NO_PROCEDURE, row.procedure_name or blank]
    if "day" in by:
        values.append(row.day.isoformat() if row.day else blank)
    return values


def _numbers(row: FigureRow) -> list[int]:
    return [
        row.dossiers_received,
        row.dossiers_resolved,
        row.notices_queued,
        row.notices_delivered,
        row.results_delivered,
        row.not_delivered_total,
        *(row.not_delivered[r] for r in NOT_DELIVERED),
    ]


def percent(ratio: float | None) -> str:
    """The ratio as the table prints it: one decimal, as the console shows it, so that
    404 of 405 reads 99.8 %, not 100 %; `-` when no dossier was resolved."""
    return "-" if ratio is None else f"{ratio:.1%}"


def _table(rows: list[FigureRow], by: Sequence[Dimension], groups: list[tuple[str, str]]) -> str:
    heads = [h for _, h in groups] + [h for _, h in (*_FIGURES, *_CHANNELS)]
    lines = [
        [str(v) for v in _groups(r, by, blank="-")]
        + [str(n) for n in _numbers(r)]
        + [percent(r.delivered_ratio)]
        + [str(r.lookups_answered), str(r.segments), f"{r.cost_vnd:,}"]
        + [str(n) for n in _channels(r)[:4]]
        + [f"{r.zalo_cost_vnd:,}", f"{r.total_cost_vnd:,}"]
        for r in rows
    ]
    widths = [max([len(h), *(len(cells[i]) for cells in lines)]) for i, h in enumerate(heads)]
    left = len(groups)

    def line(cells: list[str]) -> str:
        padded = zip(cells, widths, strict=True)
        text = [c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(padded)]
        return "  ".join(text).rstrip()

    out = [line(heads), *(line(cells) for cells in lines)]
    if not rows:
        out.append("(no figures in this range)")
    return "\n".join(out) + "\n"
