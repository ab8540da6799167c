"""The mail sender against a real SMTP server (aiosmtpd, tests/support/smtp.py) and a real
store: letters made by intake go over STARTTLS with a login, and each answer of the server
(accepted, 4xx, 5xx, no server at all) and the TTL leave the letter in its own state, with
its status published on channel email and its address masked; no log line carries the
address or the body."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import structlog
from jsonschema import Draft202012Validator

from gateway.calendar.workdays import QuietHours
from gateway.compose.templates import DEFAULT_TEMPLATES
from gateway.domain.letter import NewLetter
from gateway.domain.states import MessageState
from gateway.intake.consumer import Received
from gateway.kit.schemas import schema
from gateway.mail.smtp import MailSender
from gateway.mqtt.link import MqttLink, MqttSettings
from gateway.outbound.mail import MailOut
from gateway.outbound.publisher import publish_statuses
from gateway.settings.config import Config
from gateway.store.store import Store
from tests.support.broker import Certificates, free_port
from tests.support.clock import QUIET, TZ, Clock, at
from tests.support.daemon import StatusWatch
from tests.support.intake import intake_on
from tests.support.letters import decoded, text_of
from tests.support.mailing import RECEIPT_NO, SCT_FROM, TO, event, job, mailing_config
from tests.support.smtp import SmtpServer
from tests.support.store_reads import db_rows
from tests.support.wait import eventually

USER, PASSWORD = "motcua-sms", "s3cret-smtp-pw"
BUSY = "busy@gmail.com"
NO_USER = "khongco@gmail.com"
NO_SUCH_USER = f"550 5.1.1 <{NO_USER}>: No such user here"
# Fast retries: 0.05 s, then 0.1 s; three tries in all.
RETRY = "  base_delay: 0.05\n  max_delay: 0.1\n  max_attempts: 3\n"
RECEIPT_TEXT = DEFAULT_TEMPLATES["receipt"].format(
    agency_name="Sở Công Thương", receipt_no=RECEIPT_NO, due_date="25/11/2026"
)


@pytest.fixture
def server(certificates: Certificates) -> AsyncIterator[SmtpServer]:
    with SmtpServer(
        "starttls",
        certificates=certificates,
        users={USER: PASSWORD},
        refuse_rcpt={NO_USER: NO_SUCH_USER},
    ) as running:
        yield running


def config_for(port: int, certificates: Certificates) -> Config:
    return mailing_config(
        port=port, ca=certificates.ca, login=(USER, PASSWORD), timeout=2, retry=RETRY
    )


# A letter as the tests read it back: (state, attempts, reason).
Letter = tuple[str, int, str | None]


@dataclass
class Rig:
    store: Store
    config: Config

    async def take(self, *items: Received) -> None:
        """`items` through intake, as they would arrive on MQTT."""
        await intake_on(self.store, self.config).process(list(items))

    async def letters(self) -> dict[str, Letter]:
        rows = await db_rows(self.store, "SELECT ref, state, attempts, reason FROM emails")
        return {ref: (state, attempts, reason) for ref, state, attempts, reason in rows}

    async def settled(
        self, *refs: str, timeout: float = 10
    ) -> dict[str, tuple[str, int, str | None]]:
        """The letters once every one of `refs` has left `queued`."""

        async def done() -> bool:
            found = await self.letters()
            return all(ref in found and found[ref][0] != "queued" for ref in refs)

        await eventually(done, timeout, poll=0.02)
        return await self.letters()


@contextlib.asynccontextmanager
async def sending(
    rig: Rig,
    clock: Callable[[], float] = time.time,
    mail: MailSender | None = None,
    window: int = 2,
    quiet: QuietHours | None = None,
) -> AsyncIterator[None]:
    """The mail sender running on `rig`'s store for the block's length."""
    assert rig.config.email is not None
    out = MailOut(
        rig.store.letters,
        mail or MailSender(rig.config.email),
        rig.config.retry,
        clock=clock,
        window=window,
        quiet=quiet,
        tz=TZ if quiet is not None else None,
    )
    task = asyncio.create_task(out.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()  # it ran until cancelled: no crash ended it


@pytest.fixture
async def rig(
    tmp_path: Path, store_location, server: SmtpServer, certificates: Certificates
) -> AsyncIterator[Rig]:
    async with Store.open(store_location) as store:
        yield Rig(store, config_for(server.port, certificates))


def plain_and_qr(message: EmailMessage) -> tuple[str, list[str]]:
    plain = text_of(message.get_body(("plain",)))
    codes = [
        code
        for part in message.walk()
        if part.get_content_type() == "image/png"
        for code in decoded(part.get_payload(decode=True))
    ]
    return plain, codes


async def test_a_letter_goes_over_starttls_with_the_login_with_its_diacritics_and_qr(rig, server):
    await rig.take(event("e-1", status="received", email=TO))

    async with sending(rig):
        found = await rig.settled("e-1:receipt")

    assert found["e-1:receipt"] == ("delivered", 1, None)
    (received,) = server.received
    assert (received.tls, received.login, received.rcpt_tos) == (True, USER, (TO,))
    message = received.parsed()
    assert message["From"] == SCT_FROM
    assert message["Subject"] == f"Sở Công Thương: Tiếp nhận hồ sơ {RECEIPT_NO}"
    plain, codes = plain_and_qr(message)
    assert plain.strip() == RECEIPT_TEXT
    assert set(codes) == {RECEIPT_NO}


async def test_a_jobs_letter_is_delivered_with_its_text(rig, server):
    await rig.take(job("j-1", text="Lệ phí hồ sơ: 50.000 đồng", email=TO))

    async with sending(rig):
        found = await rig.settled("j-1")

    assert found["j-1"][0] == "delivered"
    plain, codes = plain_and_qr(server.received[0].parsed())
    assert (plain.strip(), codes) == ("Lệ phí hồ sơ: 50.000 đồng", [])


async def test_a_4xx_then_an_ok_delivers_the_letter_after_a_retry(rig, server):
    server.answer_rcpt(BUSY, "450 4.2.1 Mailbox busy, try later")
    await rig.take(event("e-1", email=BUSY))

    async with sending(rig):

        async def refused_once() -> bool:
            return (await rig.letters())["e-1:result"][1] >= 1

        await eventually(refused_once, poll=0.02)
        state, attempts, reason = (await rig.letters())["e-1:result"]
        server.answer_rcpt(BUSY, None)
        found = await rig.settled("e-1:result")

    assert (state, attempts) == ("queued", 1)
    assert reason is not None and reason.startswith("email: 450 RCPT TO refused: 450 4.2.1")
    assert found["e-1:result"] == ("delivered", 2, None)
    assert [r.rcpt_tos for r in server.received] == [(BUSY,)]


async def test_a_5xx_fails_the_letter_with_the_servers_reply_at_once(rig, server):
    await rig.take(event("e-1", email=NO_USER))

    async with sending(rig):
        found = await rig.settled("e-1:result")

    state, attempts, reason = found["e-1:result"]
    assert (state, attempts) == ("failed", 1)
    assert reason == "email: 550 RCPT TO refused: 550 5.1.1 <k******@gmail.com>: No such user here"
    assert server.received == []


async def test_a_server_down_the_whole_time_fails_the_letter_after_max_attempts(
    tmp_path, store_location, certificates
):
    async with Store.open(store_location) as store:
        rig = Rig(store, config_for(free_port("127.0.0.1"), certificates))
        await rig.take(event("e-1", email=TO))

        async with sending(rig):
            found = await rig.settled("e-1:result")

    state, attempts, reason = found["e-1:result"]
    assert (state, attempts) == ("failed", 3)
    assert reason is not None and reason.startswith("retries exhausted (3), last: email: ")
    assert "cannot reach 127.0.0.1" in reason


async def test_a_refused_login_is_retried_and_fails_after_max_attempts_saying_why(
    tmp_path, store_location, server, certificates
):
    config = mailing_config(
        port=server.port, ca=certificates.ca, login=(USER, "wrong"), timeout=2, retry=RETRY
    )
    async with Store.open(store_location) as store:
        rig = Rig(store, config)
        await rig.take(event("e-1", email=TO))

        with structlog.testing.capture_logs() as logs:
            async with sending(rig):
                found = await rig.settled("e-1:result")

    state, attempts, reason = found["e-1:result"]
    assert (state, attempts) == ("failed", 3)
    assert reason is not None and "the server refused the login (535" in reason
    assert server.logins and not any(ok for _mechanism, _login, ok in server.logins)
    assert "wrong" not in repr(logs)
    assert server.received == []


async def test_a_letter_that_cannot_be_built_fails_naming_the_field_not_the_address(rig, server):
    """A stored letter whose address no send could use (intake refuses those first, so
    it comes from an older version's store, say) fails at once, with the reason."""
    broken = NewLetter(
        agency="SCT", ref="j-9", kind="sms", state=MessageState.QUEUED, sender=SCT_FROM,
        not_before=time.time(), expires_at=time.time() + 3600, address="ten at example.vn",
        subject="Thông báo", body="Thông báo",
    )  # fmt: skip
    await rig.store.dossiers.record_intake(letters=[broken])

    async with sending(rig):
        found = await rig.settled("j-9")

    state, attempts, reason = found["j-9"]
    assert (state, attempts) == ("failed", 1)
    assert reason is not None and reason.startswith("email: to: ")
    assert "ten at" not in reason
    assert server.received == []


async def test_a_letter_past_its_ttl_expires_unsent(rig, server):
    await rig.take(event("e-1", email=TO))
    later = rig.config.retry.ttl + 60

    async with sending(rig, clock=lambda: time.time() + later):
        found = await rig.settled("e-1:result")

    assert found["e-1:result"] == ("expired", 0, "ttl ended unsent")
    assert server.received == []


async def test_no_letter_goes_in_quiet_hours_and_it_goes_when_they_end(rig, server):
    """A retry falls due at night as a first send does not: the sender itself holds quiet
    hours, so a letter due at 21:05 waits for 07:00."""
    await rig.take(event("e-1", email=TO))
    clock = Clock(at(21, 5))

    async with sending(rig, clock=clock, quiet=QUIET):
        await asyncio.sleep(1.5)  # more than the sender's longest wait between looks
        held = await rig.letters()
        clock.now = at(7, 1, day=24)
        found = await rig.settled("e-1:result")

    assert held["e-1:result"][0] == "queued"
    assert found["e-1:result"][0] == "delivered"
    assert len(server.received) == 1


class BrokenOnce(MailSender):
    """The real sender, but its first send meets an error nobody foresaw (a bug)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.calls = 0

    async def send(self, msg: EmailMessage) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError(f"a bug quoting {msg['To']}")
        await super().send(msg)


async def test_an_unexpected_error_is_a_retry_not_a_crash_and_logs_no_address(rig, server):
    await rig.take(event("e-1", email=TO))
    assert rig.config.email is not None
    mail = BrokenOnce(rig.config.email)

    with structlog.testing.capture_logs() as logs:
        async with sending(rig, mail=mail):
            found = await rig.settled("e-1:result")

    assert found["e-1:result"] == ("delivered", 2, None)
    assert [e["error"] for e in logs if e["event"] == "mail_attempt_failed"] == ["RuntimeError"]
    assert TO not in repr(logs)


class Counting(MailSender):
    """The real sender, counting the letters being sent at once (each held a moment)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.now = self.most = 0

    async def send(self, msg: EmailMessage) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.05)
            await super().send(msg)
        finally:
            self.now -= 1


@pytest.mark.parametrize("window", [1, 3])
async def test_at_most_window_letters_are_in_flight(rig, server, window):
    await rig.take(*(job(f"j-{n}", text=f"Thông báo {n}", email=TO) for n in range(7)))
    assert rig.config.email is not None
    mail = Counting(rig.config.email)

    async with sending(rig, mail=mail, window=window):
        found = await rig.settled(*(f"j-{n}" for n in range(7)))

    assert {state for state, _, _ in found.values()} == {"delivered"}
    assert mail.most == window
    assert len(server.received) == 7


async def test_a_slow_send_leaves_the_sender_waiting_not_asking_the_store_again_and_again(
    tmp_path, store_location, certificates
):
    """One letter in flight for 0.6 s, the window not full: the sender waits for it (or
    IDLE_MAX), it does not spin on the store with the in-flight letter "due"."""
    with SmtpServer(
        "starttls", certificates=certificates, users={USER: PASSWORD}, delay_data=0.6
    ) as slow:
        async with Store.open(store_location) as store:
            rig = Rig(store, config_for(slow.port, certificates))
            await rig.take(event("e-1", email=TO))
            asks = 0
            due, next_due_at = store.letters.due, store.letters.next_due_at

            async def counted_due(*a: Any, **k: Any) -> Any:
                nonlocal asks
                asks += 1
                return await due(*a, **k)

            async def counted_next(*a: Any, **k: Any) -> Any:
                nonlocal asks
                asks += 1
                return await next_due_at(*a, **k)

            store.letters.due = counted_due  # type: ignore[method-assign]
            store.letters.next_due_at = counted_next  # type: ignore[method-assign]
            async with sending(rig):
                found = await rig.settled("e-1:result")

    assert found["e-1:result"][0] == "delivered"
    assert asks < 20, f"{asks} reads of the store during one 0.6 s send"


async def test_no_log_line_carries_an_address_or_a_body(rig, server):
    server.answer_rcpt(BUSY, f"451 4.3.0 <{BUSY}> try again later")
    await rig.take(
        event("e-1", email=TO), event("e-2", email=NO_USER, receipt_no="0101709999"),
        event("e-3", email=BUSY, receipt_no="0101708888"),
    )  # fmt: skip

    with structlog.testing.capture_logs() as logs:
        async with sending(rig):
            await rig.settled("e-1:result", "e-2:result", "e-3:result")

    text = repr(logs)
    assert {e["event"] for e in logs} >= {"letter_outcome", "mail_sent", "mail_not_sent"}
    for address in (TO, NO_USER, BUSY):
        assert address not in text
    assert "giải quyết" not in text and "giai quyet" not in text


async def test_final_statuses_are_published_on_channel_email_with_the_address_masked(
    rig, server, broker
):
    prefix = f"mail-{uuid.uuid4().hex[:6]}"
    settings = MqttSettings(host=broker.host, port=broker.port, client_id=f"pub-{prefix}")
    await rig.take(
        event("e-1", email=TO), event("e-2", email=NO_USER, receipt_no="0101709999"),
        event("e-3", email="nguyenvana@gmail", receipt_no="0101708888"),
    )  # fmt: skip

    async with (
        StatusWatch(broker.port, prefix) as watch,
        MqttLink(settings, []) as link,
        sending(rig),
    ):
        publisher = asyncio.create_task(publish_statuses(rig.store.statuses, link, prefix))
        try:
            await rig.settled("e-1:result", "e-2:result")
            events = await watch.wait_for(lambda ev: len(_by_email(ev)) >= 3, timeout=10)
        finally:
            publisher.cancel()

    mails = {e["id"]: e for e in _by_email(events)}
    assert {i: (e["state"], e["to"]) for i, e in mails.items()} == {
        "e-1:result:email": ("delivered", "n*********@gmail.com"),
        "e-2:result:email": ("failed", "k******@gmail.com"),
        "e-3:result:email": ("rejected", None),
    }
    validator = Draft202012Validator(schema("status"))
    for status in mails.values():
        assert list(validator.iter_errors(status)) == [], status
    # The SMS notices went their own way: their statuses say channel sms.
    assert {e["channel"] for e in events if e["id"] == "e-1:result"} == {"sms"}


def _by_email(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("channel") == "email"]
