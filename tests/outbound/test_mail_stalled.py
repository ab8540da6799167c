"""The mail sender of a daemon stalled past its lease and resumed, against a real SMTP
server: the letters it claimed may be another daemon's by now, so it sends none of them
before its next heartbeat, and after it only those still its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from gateway.mail.smtp import MailSender
from gateway.outbound.mail import MailOut
from tests.support.broker import Certificates
from tests.support.clock import NOON, Clock
from tests.support.daemons import LEASE, claimant, daemon_store, queue_letters
from tests.support.mailing import mailing_config
from tests.support.smtp import SmtpServer
from tests.support.store_reads import db_rows

USER, PASSWORD = "motcua-sms", "s3cret-smtp-pw"
RETRY = "  base_delay: 0.05\n  max_delay: 0.1\n  max_attempts: 3\n"


@pytest.fixture
def server(certificates: Certificates) -> AsyncIterator[SmtpServer]:
    with SmtpServer("starttls", certificates=certificates, users={USER: PASSWORD}) as running:
        yield running


async def test_a_mail_sender_resumed_past_its_lease_sends_no_letter_another_daemon_took(
    store_location, server, certificates
):
    clock = Clock(NOON)
    mono = Clock(1_000.0)
    config = mailing_config(
        port=server.port, ca=certificates.ca, login=(USER, PASSWORD), timeout=2, retry=RETRY
    )
    assert config.email is not None
    async with (
        daemon_store(store_location, claimant("a"), clock, monotonic=mono) as a,
        daemon_store(store_location, claimant("b"), clock) as b,
    ):
        await queue_letters(a, 3, NOON)
        assert len(await a.letters.due(10)) == 3  # claimed by a; then a stops
        mono.now += LEASE + 1
        clock.now = NOON + LEASE + 1
        out = MailOut(a.letters, MailSender(config.email), config.retry, clock=clock)
        task = asyncio.create_task(out.run())
        try:
            await asyncio.sleep(0.5)  # a runs again, before its next heartbeat
            assert await b.daemons.beat()
            taken = await b.letters.due(10)  # b sends them
            assert await a.daemons.beat()
            await asyncio.sleep(1.5)
            rows = await db_rows(a, "SELECT state, claimed_by FROM emails")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    assert len(taken) == 3
    assert server.received == []
    assert rows == [("queued", "b")] * 3
