"""A citizen's MCKH is served by the store before the work queued ahead of it: while the
store's thread is busy and intake's writes wait their turn, the lookup and the MO's
record with its reply go first (`gateway/store/lanes.py`)."""

from __future__ import annotations

import asyncio
import threading

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.mo.dispatcher import Dispatcher
from gateway.smpp.inbound import Mo
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.mo import config, dossier


async def test_an_mckh_is_looked_up_and_recorded_before_queued_intake_writes(
    tmp_path, store_location
):
    cfg = config()
    async with Store.open(store_location) as store:
        await store.dossiers.record_intake(dossiers=[dossier("0101701234")])
        composer = Composer(composer_settings(cfg), clock=lambda: NOON)
        async with Dispatcher(
            store.mo_log, store.dossiers, composer, dispatcher_settings(cfg), clock=lambda: NOON
        ) as dispatcher:
            order: list[str] = []
            loop = asyncio.get_running_loop()
            gate = asyncio.Event()
            busy = threading.Event()

            def transaction_under_way(_db):
                busy.set()
                asyncio.run_coroutine_threadsafe(gate.wait(), loop).result(10)

            async def intake_write(n: int) -> None:
                await store.dossiers.record_intake(dossiers=[dossier(f"02017{n:05d}")])
                order.append("intake")

            async def mckh() -> None:
                mo = Mo(source="84912345678", destination="8083", text="MCKH 0101701234")
                await dispatcher.receive(mo)
                order.append("mckh")

            under_way = asyncio.create_task(store.database.read(transaction_under_way))
            await asyncio.to_thread(busy.wait, 10)
            writes = [asyncio.create_task(intake_write(n)) for n in range(5)]
            await asyncio.sleep(0.05)  # all five queued on the store's thread
            lookup = asyncio.create_task(mckh())
            await asyncio.sleep(0.05)
            gate.set()
            await asyncio.wait_for(asyncio.gather(under_way, *writes, lookup), 10)
    assert order.index("mckh") < 4, order
