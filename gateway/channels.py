"""The channels beside SMS, wired for the daemon: Zalo (its client, sender, webhooks and
fallback timer) and e-mail (the mail sender). Part of the composition root
(`gateway.app`), kept apart so each reads in one sitting.

    Zalo configured:  client (HTTP session, tokens) → webhook endpoint → sender and
                      fallback timer run as parts → on stop, the endpoint closes, then
                      the session.
    Zalo not:         what is still on Zalo from an earlier configuration goes by SMS,
                      once, at start-up (nothing waits for a channel that is gone).
    e-mail configured: the mail sender runs as a part.

Data still flows one way: the webhook's receipts go into the store (`store.zalo`), a
citizen's chat text to the MO dispatcher, like an MO from the SMSC.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

from gateway.calendar.workdays import QuietHours
from gateway.mo.dispatcher import Dispatcher
from gateway.outbound.zalo import hand_over_from_zalo
from gateway.settings.config import Config
from gateway.store.leases import Job, leased
from gateway.store.store import Store

if TYPE_CHECKING:
    from gateway.zalo.webhook import Delivered, UserText

log = structlog.get_logger("gateway.channels")

Part = tuple[str, Callable[[], Awaitable[None]]]


@contextlib.asynccontextmanager
async def channels(
    config: Config,
    store: Store,
    dispatcher: Dispatcher,
    *,
    quiet: QuietHours | None = None,
) -> AsyncIterator[list[Part]]:
    """The parts (name, run) the channels `config` turns on add to the daemon, open for
    as long as the daemon runs."""
    parts: list[Part] = []
    async with contextlib.AsyncExitStack() as stack:
        zalo = config.zalo
        if zalo is None:
            # Before the parts start (a part that ends would end the daemon).
            await hand_over_from_zalo(store.zalo)
        else:
            # A channel's code (its HTTP client, webhook server; the SMTP client, the QR
            # encoder) is loaded only when it is configured: a daemon without it does not
            # carry it in memory.
            from gateway.outbound.zalo import ZaloSender, fall_back_unconfirmed
            from gateway.zalo.client import zalo_client
            from gateway.zalo.server import ZaloWebhooks

            client = await stack.enter_async_context(zalo_client(zalo))
            await stack.enter_async_context(
                ZaloWebhooks(
                    zalo.webhook,
                    zalo.app_id,
                    zalo.oa_secret_key,
                    _receipts(store),
                    _chat(dispatcher),
                )
            )
            sender = ZaloSender(
                store.outbox,
                store.zalo,
                client,
                config.retry,
                fallback_after=zalo.fallback_after,
                quiet=quiet,
                tz=config.tz,
            )
            parts.append(("zalo_sender", sender.run))
            parts.append(
                (
                    "zalo_fallback",
                    leased(
                        store.leases,
                        Job.ZALO_FALLBACK,
                        lambda: fall_back_unconfirmed(store.zalo, zalo.fallback_after),
                    ),
                )
            )
        if config.email is not None:
            from gateway.mail.smtp import MailSender
            from gateway.outbound.mail import MailOut

            mail = MailOut(
                store.letters, MailSender(config.email), config.retry, quiet=quiet, tz=config.tz
            )
            parts.append(("mail_sender", mail.run))
        yield parts


def _receipts(store: Store) -> Callable[[Delivered], Awaitable[None]]:
    async def on_delivered(event: Delivered) -> None:
        if event.tracking_id is None:
            log.info("zalo_receipt_ignored", reason="no tracking id")
            return
        found = await store.zalo.delivered(event.tracking_id, event.msg_id)
        log.info("zalo_receipt", result=found.value)

    return on_delivered


def _chat(dispatcher: Dispatcher) -> Callable[[UserText], Awaitable[None]]:
    async def on_text(event: UserText) -> None:
        await dispatcher.receive_chat(event.user_id, event.text)

    return on_text
