"""The inbound half of the daemon for MO tests: store, session, tracker, dispatcher, sender.

Wired as the daemon wires them, against the simulator over real TCP; the clock is fixed at
noon on Monday 23/11/2026 (Asia/Ho_Chi_Minh) so "today" is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import date
from pathlib import Path

from gateway.app import composer_settings, dispatcher_settings, encoding
from gateway.compose.composer import Composer
from gateway.domain.dossier import DossierRow
from gateway.mo.context import MoContext
from gateway.mo.dispatcher import Dispatcher
from gateway.outbound.sender import Sender
from gateway.outbound.tracker import Tracker
from gateway.settings.config import Config, MoConfig, default_config
from gateway.smpp.inbound import Inbound, Mo
from gateway.smpp.session import Session
from gateway.smpp.sim import SimConfig, SmscSimulator, SubmitRecord
from gateway.store.store import Store
from tests.support.clock import NOON
from tests.support.session import session_config
from tests.support.store_reads import db_rows
from tests.support.wait import eventually

CITIZEN = "84905123456"
NATIONAL = "000.00.06.H56-231027-0361"


def dossier(
    receipt_no: str = "0101701234",
    *,
    agency: str = "SCT",
    step: str = "Thẩm định hồ sơ",
    status: str = "processing",
    due: str = "2026-11-25",
    finished_on: str | None = None,
) -> DossierRow:
    """A mirrored dossier of `CITIZEN`'s, as intake would have stored it."""
    return DossierRow(
        receipt_key=receipt_no.upper(),
        receipt_no=receipt_no,
        agency=agency,
        procedure="Cấp Giấy phép kinh doanh",
        procedure_code=None,
        phone=CITIZEN,
        step=step,
        status=status,
        due_date=due,
        same_day=False,
        occurred_at="2026-11-20T09:00:00+07:00",
        finished_on=finished_on,
    )


class MoRig:
    """What an MO test drives and reads: inject an MO at the simulator, read the reply."""

    def __init__(self, store: Store, smsc: SmscSimulator, dispatcher: Dispatcher) -> None:
        self.store = store
        self.smsc = smsc
        self.dispatcher = dispatcher

    async def mo(self, text: str, *, source: str = CITIZEN, **kw: object) -> list[int]:
        return await self.smsc.inject_mo(source, "8083", text, **kw)

    async def reply(self, count: int = 1) -> SubmitRecord:
        await eventually(lambda: len(self.smsc.records) >= count)
        return self.smsc.records[count - 1]

    async def sent_and_recorded(self) -> None:
        """Wait (bounded) until no message is left queued: what the SMSC took is recorded,
        so a restart after this (the rig stops its sender as a crash would) sends it no
        second time."""

        async def none_queued() -> bool:
            return "queued" not in await self.store.outbox.counts()

        await eventually(none_queued)

    async def no_reply(self) -> None:
        """Nothing was queued for the MO (it is committed before its resp returns)."""
        assert await self.store.outbox.counts() == {}
        assert self.smsc.records == []

    async def mo_log(self) -> list[tuple[str, str | None, str]]:
        return await db_rows(self.store, "SELECT sender, keyword, outcome FROM mo_log ORDER BY id")


def handler_context(cfg: Config, today: date) -> MoContext:
    """The context a handler gets from the dispatcher under `cfg`, with no dossier store
    (for rendering replies about rows a test holds)."""
    return MoContext(
        dossiers=None,
        agencies=cfg.agencies,
        encoding=encoding(cfg),
        max_lookups=cfg.mo.max_lookups,
        today=today,
    )


def config(**mo: float) -> Config:
    """The default configuration with `mo` settings changed."""
    return dataclasses.replace(default_config(), mo=dataclasses.replace(MoConfig(), **mo))


class running:
    """The inbound half of the daemon, optionally without its sender (a "crash")."""

    def __init__(
        self, db: str | Path, cfg: Config, *, send: bool = True, smsc: SmscSimulator | None = None
    ) -> None:
        self.db, self.cfg, self.send, self.smsc = db, cfg, send, smsc

    async def __aenter__(self) -> MoRig:
        self._stack = contextlib_stack = contextlib.AsyncExitStack()
        smsc = self.smsc or await contextlib_stack.enter_async_context(
            SmscSimulator(SimConfig(receipt_delay=0.01))
        )
        store = await contextlib_stack.enter_async_context(Store.open(self.db))
        tracker = await contextlib_stack.enter_async_context(Tracker(store.receipts))
        composer = Composer(composer_settings(self.cfg), clock=lambda: NOON)
        dispatcher = await contextlib_stack.enter_async_context(
            Dispatcher(
                store.mo_log,
                store.dossiers,
                composer,
                dispatcher_settings(self.cfg),
                clock=lambda: NOON,
            )
        )

        async def on_deliver(item: Inbound) -> None:
            if isinstance(item, Mo):
                await dispatcher.receive(item)
            else:
                await tracker.record(item)

        session = Session(session_config(smsc.port), on_deliver)
        await contextlib_stack.enter_async_context(session)
        await eventually(lambda: smsc.stats.binds >= 1)
        if self.send:
            sender = Sender(store.outbox, session, self.cfg.retry, clock=lambda: NOON)
            task = asyncio.create_task(sender.run())

            async def stop() -> None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

            contextlib_stack.push_async_callback(stop)
        return MoRig(store, smsc, dispatcher)

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


async def with_dossiers(rig: MoRig, *rows: DossierRow) -> None:
    """Mirror `rows` in the rig's store, as intake would have."""
    await rig.store.dossiers.record_intake(dossiers=rows)
