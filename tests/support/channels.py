"""Rigs for notices by Zalo: an agency that prefers Zalo, the ZNS templates it has, and
the sender's outcomes for a Zalo notice as the Zalo sender would commit them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from gateway.app import composer_settings
from gateway.compose.composer import Composer
from gateway.domain.channel import Channel
from gateway.domain.message import Outcome, Queued
from gateway.settings.zalo import ZnsTemplate
from gateway.store.store import Store
from tests.support.clock import Clock
from tests.support.figures import dossier
from tests.support.outbox import without_quiet_hours
from tests.support.store_reads import db_rows

# Templates approved by Zalo for two kinds; `received` needs the due date.
RESULT = ZnsTemplate("zns-result", {"ma_ho_so": "{receipt_no}", "co_quan": "{agency_name}"})
RECEIVED = ZnsTemplate("zns-receipt", {"ma_ho_so": "{receipt_no}", "hen_tra": "{due_date}"})
ZNS = MappingProxyType({"result": RESULT, "receipt": RECEIVED})
FALLBACK_AFTER = 600.0


def zalo_composer(
    clock: Clock,
    *,
    channels: tuple[str, ...] = ("zalo", "sms"),
    zns: Mapping[str, ZnsTemplate] = ZNS,
    email_from: str | None = None,
) -> Composer:
    """The embedded agencies with SCT on `channels`, Zalo's templates `zns`, e-mail copies
    from `email_from` (none without), no quiet hours."""
    settings = composer_settings(without_quiet_hours())
    agencies = dict(settings.agencies)
    agencies["SCT"] = dataclasses.replace(
        agencies["SCT"],
        channels=tuple(Channel(c) for c in channels),
        email=email_from is not None,
        email_from=email_from,
    )
    return Composer(
        dataclasses.replace(settings, agencies=MappingProxyType(agencies), zns=zns), clock=clock
    )


async def on_zalo(store: Store, ref: str) -> Queued:
    """The queued Zalo message `ref`, as the Zalo sender takes it."""
    (queued,) = [m for m in await store.outbox.due(100, channel=Channel.ZALO) if m.ref == ref]
    return queued


async def accepted_by_zalo(store: Store, clock: Clock, ref: str, msg_id: str = "zmsg-1") -> Queued:
    """`ref` taken by the Zalo sender and accepted by Zalo: submitted, its timer running."""
    queued = await on_zalo(store, ref)
    await store.outbox.record_outcomes(
        [
            Outcome(
                queued,
                "submitted",
                1,
                clock(),
                channel_id=msg_id,
                fallback_at=clock() + FALLBACK_AFTER,
            )
        ]
    )
    return queued


async def zalo_notice(store: Store, clock: Clock, ref: str = "n1") -> None:
    """SCT's result notice `ref`, by Zalo first, as intake records it."""
    composer = zalo_composer(clock)
    message = composer.notice("result", dossier(status="result_ready"), event_id=ref, ref=ref)
    await store.dossiers.record_intake(messages=[message])


async def state_and_channel(store: Store, ref: str) -> tuple:
    """The (state, channel) the store holds for the message `ref`."""
    (found,) = await db_rows(store, "SELECT state, channel FROM messages WHERE ref = ?", [ref])
    return found
