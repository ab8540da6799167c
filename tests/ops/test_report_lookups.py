"""`lookups_answered` counts MCKH lookups, not every reply to the shortcode (SPEC reports:
"MCKH lookups answered")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.mo.dispatcher import Dispatcher
from gateway.ops import report
from gateway.smpp.inbound import Mo
from gateway.store.figures import Dimension, Figures
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.mo import config, dossier


async def _lookups(tmp_path: Path, *texts: str, by: Dimension = "agency") -> int:
    cfg = config()
    async with Store.open(tmp_path / "g.db", clock=lambda: NOON) as store:
        await store.dossiers.record_intake(dossiers=[dossier()])
        composer = Composer(composer_settings(cfg), clock=lambda: NOON)
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg), clock=lambda: NOON
        ) as dispatcher:
            for n, text in enumerate(texts):
                mo = Mo(source=f"8490512345{n}", destination="8083", text=text)
                await dispatcher.receive(mo)
        figures = Figures(store.database, cfg.tz, cfg.report.segment_price)
        rows = await report.build(figures, date(2026, 11, 23), date(2026, 11, 23), [by])
    return sum(r.lookups_answered for r in rows)


async def test_replies_to_help_and_to_text_that_is_no_keyword_are_not_lookups(tmp_path: Path):
    assert await _lookups(tmp_path, "HD", "Xin chao") == 0


async def test_each_mckh_lookup_answered_counts_once(tmp_path: Path):
    assert await _lookups(tmp_path, "MCKH 0101701234", "HD", "MCKH 0101709999", "Xin chao") == 2


async def test_mckh_lookups_count_in_every_grouping(tmp_path: Path):
    for by in ("agency", "procedure", "day"):
        assert await _lookups(tmp_path / by, "MCKH 0101701234", "HD", by=by) == 1
