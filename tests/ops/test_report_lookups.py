"""`lookups_answered` counts MCKH lookups, not every reply to the shortcode (SPEC reports:
"MCKH lookups answered")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.mo.dispatcher import Dispatcher
from gateway.ops import report
from gateway.smpp.inbound import Mo
from gateway.store.figures import Dimension, Figures
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.mo import config, dossier
from tests.support.store_reads import db_rows


async def _lookups(
    tmp_path: Path,
    *texts: str,
    by: Dimension = "agency",
    held: Sequence[DossierRow] = (dossier(),),
    per_agency: bool = False,
) -> Any:
    cfg = config()
    async with Store.open(tmp_path / "g.db", clock=lambda: NOON) as store:
        await store.dossiers.record_intake(dossiers=held)
        composer = Composer(composer_settings(cfg), clock=lambda: NOON)
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg), clock=lambda: NOON
        ) as dispatcher:
            for n, text in enumerate(texts):
                mo = Mo(source=f"8490512345{n}", destination="8083", text=text)
                await dispatcher.receive(mo)
        figures = Figures(store.database, cfg.tz, cfg.report.segment_price)
        rows = await report.build(figures, date(2026, 11, 23), date(2026, 11, 23), [by])
        logged = await db_rows(store, "SELECT outcome FROM mo_log ORDER BY id")
    if per_agency:
        return {r.agency: r.lookups_answered for r in rows}, [o for (o,) in logged]
    return sum(r.lookups_answered for r in rows)


async def test_replies_to_help_and_to_text_that_is_no_keyword_are_not_lookups(tmp_path: Path):
    assert await _lookups(tmp_path, "HD", "Xin chao") == 0


async def test_each_mckh_lookup_that_found_its_dossier_counts_once(tmp_path: Path):
    assert await _lookups(tmp_path, "MCKH 0101701234", "HD", "MCKH 0101701234 ", "Xin chao") == 2


async def test_mckh_replies_to_a_missing_an_unknown_or_a_short_number_are_not_lookups(
    tmp_path: Path,
):
    assert await _lookups(tmp_path, "MCKH", "MCKH 0101709999", "MCKH 9999") == 0


async def test_the_mo_log_records_whether_a_lookup_found_its_dossier(tmp_path: Path):
    texts = ("MCKH 0101701234", "MCKH", "MCKH 0101709999", "HD")
    _, logged = await _lookups(tmp_path, *texts, per_agency=True)
    assert logged == ["answered", "missing", "not_found", "help"]


async def test_a_lookup_that_found_the_number_at_two_agencies_counts_for_each(tmp_path: Path):
    held = (dossier(), dossier(agency="STP"))
    found, _ = await _lookups(tmp_path, "MCKH 0101701234", held=held, per_agency=True)
    assert found == {"SCT": 1, "STP": 1}


async def test_mckh_lookups_count_in_every_grouping(tmp_path: Path):
    for by in ("agency", "procedure", "day"):
        assert await _lookups(tmp_path / by, "MCKH 0101701234", "HD", by=by) == 1
