"""`lookups_answered` counts MCKH lookups, not every reply to the shortcode (SPEC reports:
"MCKH lookups answered")."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gateway import report
from gateway.composer import Composer
from gateway.dispatcher import Dispatcher
from gateway.smpp.inbound import Mo
from gateway.store import Store
from tests.test_dispatcher import NOON, config


async def test_replies_to_help_and_to_text_that_is_no_keyword_are_not_lookups(tmp_path: Path):
    cfg = config()
    async with Store.open(tmp_path / "g.db") as store:
        composer = Composer(cfg, clock=lambda: NOON)
        async with Dispatcher(store, composer, cfg, clock=lambda: NOON) as dispatcher:
            await dispatcher.receive(Mo(source="84905123451", destination="8083", text="HD"))
            await dispatcher.receive(Mo(source="84905123452", destination="8083", text="Xin chao"))
        rows = await report.build(store, cfg.tz, date(2000, 1, 1), date(2199, 1, 1), "agency")
    assert sum(r.lookups_answered for r in rows) == 0, [r.as_dict() for r in rows]
