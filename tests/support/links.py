"""Several SMSC links wired as the daemon wires them: store, tracker, dispatcher, router,
sender, each link an `Account` over real TCP to its SMSC (the bundled simulator, node-smpp).

    async with running_links(tmp_path / "g.db", [Spec("viettel", sim.port, VIETTEL), ...]) as rig:
        await rig.queue("job-1", to=VIETTEL_NUMBER)

Quiet hours are off (tests/support/outbox.py's configuration), so the rig runs at any hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.app import composer_settings, dispatcher_settings
from gateway.compose.composer import Composer
from gateway.domain.message import Priority
from gateway.mo.dispatcher import Dispatcher
from gateway.outbound.routing import Leg, Router
from gateway.outbound.sender import Sender
from gateway.outbound.tracker import Tracker
from gateway.settings.links import EVERYTHING, Route
from gateway.smpp.account import Account
from gateway.smpp.inbound import Inbound, Mo
from gateway.store.store import Store
from tests.support.outbox import config, queue_text
from tests.support.session import session_config
from tests.support.store_reads import db_rows

# Numbers in ranges first allocated to each carrier (gateway.phone.carrier).
VIETTEL_NUMBER = "0981234567"
VINAPHONE_NUMBER = "0912345678"
MOBIFONE_NUMBER = "0901234567"
VIETTEL = (Route(carrier="viettel"),)
VINAPHONE = (Route(carrier="vinaphone"),)


@dataclass(frozen=True)
class Spec:
    """One link of the rig: its id, its SMSC's port, what it takes, how it fails over."""

    id: str
    port: int
    routes: tuple[Route, ...] = EVERYTHING
    binds: int = 1
    account_tps: float = 0.0
    reroute: frozenset[int] = frozenset()
    failover_after: float = 0.5
    source_addr: str | None = None
    session: dict[str, Any] = field(default_factory=dict)  # SessionConfig overrides


class LinksRig:
    """What a links test drives and reads."""

    def __init__(
        self, store: Store, composer: Composer, accounts: dict[str, Account], router: Router
    ) -> None:
        self.store = store
        self.composer = composer
        self.accounts = accounts
        self.router = router
        self.receipts_by_link: dict[str, int] = dict.fromkeys(accounts, 0)

    async def queue(
        self,
        ref: str,
        *,
        to: str,
        agency: str = "SCT",
        priority: Priority = Priority.NOTICE,
        text: str = "Thong bao",
    ) -> None:
        if agency == "SCT":
            await queue_text(self.store, self.composer, ref, to=to, priority=priority, text=text)
            return
        message = self.composer.text(agency, ref=ref, kind="sms", to=to, text=text)
        await self.store.dossiers.record_intake(messages=[message])

    async def queue_reply(self, ref: str, *, to: str, link: str, source: str = "8083") -> None:
        """An MO reply to `to`, pinned to `link` as the dispatcher pins it (the MO's)."""
        message = self.composer.text(
            "SCT", ref=ref, kind="mo_reply", to=to, text="Tra loi", priority=Priority.MO_REPLY,
            source=source,
        )
        await self.store.dossiers.record_intake(messages=[dataclasses.replace(message, link=link)])

    async def attempts(self) -> dict[str, int]:
        """Every message's attempts spent, by ref."""
        found = await db_rows(self.store, "SELECT ref, attempts FROM messages")
        return {ref: attempts for ref, attempts in found}

    async def rows(self) -> dict[str, tuple[str, str | None]]:
        """Every message by ref: (state, link)."""
        found = await db_rows(self.store, "SELECT ref, state, link FROM messages")
        return {ref: (state, link) for ref, state, link in found}

    async def statuses(self) -> list[dict[str, Any]]:
        return [json.loads(p) for _, _, p in await self.store.statuses.pending(100_000)]


@contextlib.asynccontextmanager
async def running_links(
    db: str | Path, specs: Sequence[Spec], *, max_attempts: int = 5, send: bool = True
) -> AsyncIterator[LinksRig]:
    """The rig over `specs`, in routing order; the sender runs unless `send` is False."""
    cfg = config(max_attempts=max_attempts)
    async with contextlib.AsyncExitStack() as stack:
        store = await stack.enter_async_context(Store.open(db))
        tracker = await stack.enter_async_context(Tracker(store.receipts))
        composer = Composer(composer_settings(cfg))
        dispatcher = await stack.enter_async_context(
            Dispatcher(store.mo_log, store.dossiers, composer, dispatcher_settings(cfg))
        )
        rig: LinksRig | None = None

        async def on_deliver(item: Inbound, link: str) -> None:
            if isinstance(item, Mo):
                await dispatcher.receive(item)
                return
            await tracker.record(item, link)
            if rig is not None:
                rig.receipts_by_link[link] += 1

        accounts: dict[str, Account] = {}
        legs = []
        for spec in specs:
            settings = session_config(spec.port, **spec.session)
            account = Account(
                spec.id, settings, on_deliver, binds=spec.binds, account_tps=spec.account_tps
            )
            accounts[spec.id] = await stack.enter_async_context(account)
            legs.append(
                Leg(account, spec.routes, spec.reroute, spec.failover_after, spec.source_addr)
            )
        router = Router(legs)
        rig = LinksRig(store, composer, accounts, router)
        if send:
            sender = Sender(store.outbox, router, cfg.retry)
            task = asyncio.create_task(sender.run())

            async def stop() -> None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

            stack.push_async_callback(stop)
        yield rig


def write_two_carrier_config(
    path: Path, broker_port: int, viettel: int, vnpt: int, *, link: str, admin: int | None = None
) -> None:
    """A daemon's configuration with two links: `viettel` for Viettel's ranges, `vnpt` the
    default; `link` holds the keys both links share (indented as a link's keys), admin off
    unless a port is given, quiet hours off (any hour), fast retries."""
    admin_section = "  enabled: false" if admin is None else f"  port: {admin}"
    path.write_text(
        f"""
smsc:
  - id: viettel
    port: {viettel}
{link}    routes:
      - carrier: viettel
  - id: vnpt
    port: {vnpt}
{link}    routes:
      - default: true
mqtt:
  port: {broker_port}
  client_id: daemon-{path.parent.name}
store:
  path: {path.parent / "gateway.db"}
schedule:
  quiet_hours: "off"
retry:
  base_delay: 0.1
  max_delay: 0.5
admin:
{admin_section}
agencies:
  SCT:
    name: Sở Công Thương
""",
        encoding="utf-8",
    )

