"""Rigs for the figures per channel: an agency on `[zalo, sms]` that also sends e-mail
copies, and the store's own writes that carry a notice by Zalo, hand it to SMS or settle
its letter, as the Zalo sender, the fallback timer and the mail sender commit them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.compose.composer import Composer
from gateway.domain.channel import Channel
from gateway.domain.letter import LetterOutcome
from gateway.domain.message import Outcome
from gateway.domain.states import MessageState
from gateway.store import figures_channels_schema
from gateway.store.schema import MIGRATIONS
from gateway.store.store import Store
from gateway.store.zalo import Delivery, tracking_id
from tests.support.channels import accepted_by_zalo, on_zalo, zalo_composer
from tests.support.clock import Clock
from tests.support.figures import dossier, settle

EMAIL_FROM = "motcua@sct.gov.vn"


def channel_composer(clock: Clock) -> Composer:
    """SCT on `[zalo, sms]` with Zalo's templates (`channels.ZNS`) and e-mail copies from
    EMAIL_FROM; STP on SMS alone; no quiet hours."""
    return zalo_composer(clock, email_from=EMAIL_FROM)


async def result_notice(
    store: Store, composer: Composer, ref: str, *, email: str | None = None, **given: object
) -> None:
    """The result notice of dossier `ref.upper()` (received and resolved: `dossier`'s
    `given` fields), with its e-mail copy to `email` if given, as intake records them."""
    row = dossier(ref.upper(), status="result_ready", **given)  # type: ignore[arg-type]
    message = composer.notice("result", row, event_id=ref, ref=ref)
    letters = []
    if email is not None:
        copy = composer.notice_letter("result", row, event_id=ref, ref=ref, address=email)
        assert copy is not None
        letters.append(copy)
    await store.dossiers.record_intake(dossiers=[row], messages=[message], letters=letters)


async def delivered_by_zalo(store: Store, clock: Clock, ref: str) -> None:
    """Zalo accepts the notice `ref` and its receipt by the user comes."""
    queued = await accepted_by_zalo(store, clock, ref, f"z-{ref}")
    found = await store.zalo.delivered(tracking_id(queued.id, queued.agency, ref), f"z-{ref}")
    assert found is Delivery.DELIVERED


async def refused_by_zalo(store: Store, clock: Clock, ref: str) -> None:
    """Zalo refuses the notice `ref` (no Zalo account): it goes by SMS at once."""
    queued = await on_zalo(store, ref)
    await store.outbox.record_outcomes(
        [Outcome(queued, "queued", 0, clock(), reason="zalo: -118", channel=Channel.SMS)]
    )


async def letter_outcome(store: Store, clock: Clock, ref: str, state: MessageState) -> None:
    """One send of the letter of `ref` as the mail sender commits it: `state` (queued
    again after a 4xx, delivered, failed, expired)."""
    (letter,) = [x for x in await store.letters.due(100) if x.ref == ref]
    await store.letters.record(
        [LetterOutcome(letter, state, letter.attempts + 1, clock() + 60, reason="smtp")]
    )


async def seed_channels(store: Store, clock: Clock) -> None:
    """23/11/2026 at SCT: 1.001 resolves two dossiers, one notice delivered by Zalo with
    its e-mail copy sent, one Zalo refused that SMS delivered (one segment); 2.002 one,
    delivered by Zalo, its e-mail copy refused."""
    composer = channel_composer(clock)
    await result_notice(store, composer, "a1", code="1.001", email="dan@example.vn")
    await result_notice(store, composer, "a2", code="1.001")
    await result_notice(store, composer, "b1", code="2.002", email="dan2@example.vn")
    await delivered_by_zalo(store, clock, "a1")
    await refused_by_zalo(store, clock, "a2")
    await settle(store, clock, "a2", "delivered")
    await delivered_by_zalo(store, clock, "b1")
    await letter_outcome(store, clock, "a1", MessageState.DELIVERED)
    await letter_outcome(store, clock, "b1", MessageState.FAILED)


def store_before_channels(path: Path) -> None:
    """A store of the schema before the channels' step (the previous release's, its
    daemon not restarted yet), made by the store's own migrations up to that step."""
    previous = MIGRATIONS.index(figures_channels_schema.CHANNELS_MIGRATION)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for number, script in enumerate(MIGRATIONS[:previous], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    finally:
        conn.close()
