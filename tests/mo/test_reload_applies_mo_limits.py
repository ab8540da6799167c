"""SIGHUP applies the MO limits (`mo.rate_limit`, `rate_window`, `duplicate_window`) to the
next MOs, keeping what each number already sent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.mo.dispatcher import Dispatcher
from gateway.smpp.inbound import Mo
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.mo import config
from tests.support.store_reads import db_rows


async def test_a_reloaded_rate_limit_applies_to_the_next_mos(tmp_path: Path, store_location):
    cfg = config()  # rate_limit 10 a minute
    async with Store.open(store_location) as store:
        composer = Composer(composer_settings(cfg), clock=lambda: NOON)
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg), clock=lambda: NOON
        ) as dispatcher:
            lowered = dataclasses.replace(cfg, mo=dataclasses.replace(cfg.mo, rate_limit=2))
            dispatcher.reconfigure(dispatcher_settings(lowered))
            for i in range(5):
                await dispatcher.receive(
                    Mo(source="84905123456", destination="8083", text=f"MCKH 01017012{i:02d}")
                )
            rows = await db_rows(store, "SELECT outcome FROM mo_log ORDER BY id")
            outcomes = [outcome for (outcome,) in rows]
            assert outcomes.count("rate_limited") == 3, outcomes
