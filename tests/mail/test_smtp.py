"""Sending letters to a real SMTP server (aiosmtpd, tests/support/smtp.py): STARTTLS,
implicit TLS, the server checking the login, and what each refusal makes of the notice
(RETRY or FAIL). The sender's settings are read from YAML, as the daemon reads them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import structlog

from gateway.mail.letter import build
from gateway.mail.smtp import MailAction, MailError, MailSender
from gateway.settings.config import parse_config
from gateway.settings.mail import MailConfig
from tests.support.broker import Certificates, free_port
from tests.support.letters import decoded, text_of
from tests.support.smtp import Security, SmtpServer

# aiosmtpd warns of AUTH without STARTTLS on the implicit-TLS rig, whose whole session is
# encrypted (tests/support/smtp.py); the warning is about its STARTTLS rule, not the test.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "motcua-sms", "s3cret-smtp-pw"
SENDER = "Sở Tư pháp <stp@hcm.gov.vn>"
TO = "nguyenvana@gmail.com"
BODY = "Hồ sơ 0101701234 (Cấp Phiếu lý lịch tư pháp) đã có kết quả. Mời ông/bà đến nhận.\n"
SUBJECT = "Hồ sơ 0101701234: đã có kết quả"
AGENCY = "agencies:\n  STP:\n    name: Sở Tư pháp\n    email: true\n"
BUSY, NO_USER = "busy@gmail.com", "khongco@gmail.com"
REFUSALS = {BUSY: "450 4.2.1 Mailbox busy, try later", NO_USER: "550 5.1.1 No such user"}


def settings(
    port: int,
    *,
    security: Security,
    ca: Path | None = None,
    login: tuple[str, str] | None = (USER, PASSWORD),
    timeout: float = 5,
) -> MailConfig:
    lines = [
        "  host: 127.0.0.1",
        f"  port: {port}",
        f"  security: {security}",
        f"  from: '{SENDER}'",
        f"  timeout: {timeout}",
    ]
    if ca is not None:
        lines.append(f"  ca_file: {ca}")
    if login is not None:
        lines += [f"  username: {login[0]}", f"  password: {login[1]}"]
    config = parse_config("email:\n" + "\n".join(lines) + "\n" + AGENCY, env={})
    assert config.email is not None
    return config.email


def letter(to: str = TO, *, qr: str | None = "0101701234", message_id: str = "n-1"):
    return build(sender=SENDER, to=to, subject=SUBJECT, body=BODY, qr=qr, message_id=message_id)


@pytest.fixture
def starttls(certificates: Certificates) -> AsyncIterator[SmtpServer]:
    with SmtpServer(
        "starttls", certificates=certificates, users={USER: PASSWORD}, refuse_rcpt=REFUSALS
    ) as server:
        yield server


@pytest.fixture
def starttls_sender(starttls: SmtpServer, certificates: Certificates) -> MailSender:
    return MailSender(settings(starttls.port, security="starttls", ca=certificates.ca))


async def refusal(sender: MailSender, to: str = TO) -> MailError:
    with pytest.raises(MailError) as info:
        await sender.send(letter(to))
    return info.value


class TestDelivered:
    async def test_a_letter_over_starttls_arrives_with_its_diacritics_intact(
        self, starttls, starttls_sender
    ):
        await starttls_sender.send(letter())

        [got] = starttls.received
        parsed = got.parsed()
        assert text_of(parsed.get_body(("plain",))) == BODY
        assert parsed["Subject"] == SUBJECT
        assert (got.mail_from, got.rcpt_tos) == ("stp@hcm.gov.vn", (TO,))

    async def test_starttls_encrypts_the_session_and_the_server_checked_the_login(
        self, starttls, starttls_sender
    ):
        await starttls_sender.send(letter())

        [got] = starttls.received
        assert (got.tls, got.login) == (True, USER)
        assert [(login, ok) for _, login, ok in starttls.logins] == [(USER, True)]

    async def test_a_letter_over_implicit_tls_arrives_encrypted_and_logged_in(self, certificates):
        with SmtpServer("tls", certificates=certificates, users={USER: PASSWORD}) as server:
            await MailSender(settings(server.port, security="tls", ca=certificates.ca)).send(
                letter()
            )

        [got] = server.received
        assert (got.tls, got.login) == (True, USER)
        assert text_of(got.parsed().get_body(("plain",))) == BODY

    async def test_security_none_sends_to_a_relay_on_this_machine_without_login(self):
        with SmtpServer("none") as server:
            await MailSender(settings(server.port, security="none", login=None)).send(letter())

        [got] = server.received
        assert (got.tls, got.login) == (False, None)

    async def test_the_qr_code_arrives_inline_and_attached_and_decodes_to_the_receipt(
        self, starttls, starttls_sender
    ):
        await starttls_sender.send(letter(qr="000.00.06.H56-231027-0361"))

        parsed = starttls.received[0].parsed()
        inline = [p for p in parsed.walk() if p["Content-ID"]]
        attached = list(parsed.iter_attachments())
        assert [a.get_filename() for a in attached] == ["000.00.06.H56-231027-0361.png"]
        assert len(inline) == 1
        for image in (inline[0], attached[0]):
            assert decoded(image.get_content()) == ["000.00.06.H56-231027-0361"]

    async def test_a_letter_sent_again_arrives_with_the_same_message_id(
        self, starttls, starttls_sender
    ):
        """A resend after a crash (sent, outcome not recorded) is built anew from the same
        message: the receiving system sees the same Message-ID and can drop the copy."""
        await starttls_sender.send(letter(message_id="rcpt-STP-42"))
        await starttls_sender.send(letter(message_id="rcpt-STP-42"))

        ids = [got.parsed()["Message-ID"] for got in starttls.received]
        assert ids == ["<m.rcpt-STP-42@hcm.gov.vn>"] * 2


class TestRetry:
    async def test_a_refused_login_is_retry_with_the_fix_in_the_reason(
        self, starttls, certificates
    ):
        sender = MailSender(
            settings(
                starttls.port, security="starttls", ca=certificates.ca, login=(USER, "wrong-pw")
            )
        )

        error = await refusal(sender)

        assert (error.action, error.code) == (MailAction.RETRY, 535)
        assert "refused the login" in error.reason and "password" in error.reason
        assert "wrong-pw" not in error.reason
        assert starttls.received == []
        # The client tries each mechanism the server offers; the server refused each.
        assert starttls.logins
        assert {(mechanism, login, ok) for mechanism, login, ok in starttls.logins} <= {
            ("PLAIN", USER, False),
            ("LOGIN", USER, False),
        }

    async def test_a_4xx_to_rcpt_to_is_retry(self, starttls, starttls_sender):
        error = await refusal(starttls_sender, BUSY)

        assert (error.action, error.code) == (MailAction.RETRY, 450)
        assert error.reason == "RCPT TO refused: 450 4.2.1 Mailbox busy, try later"
        assert starttls.received == []

    async def test_a_4xx_to_mail_from_is_retry(self):
        with SmtpServer("none", refuse_sender="451 4.3.0 Try again later") as server:
            error = await refusal(MailSender(settings(server.port, security="none", login=None)))

        assert (error.action, error.code) == (MailAction.RETRY, 451)

    async def test_a_4xx_to_data_is_retry(self):
        with SmtpServer("none", refuse_data="452 4.3.1 Insufficient storage") as server:
            error = await refusal(MailSender(settings(server.port, security="none", login=None)))

        assert (error.action, error.code) == (MailAction.RETRY, 452)

    async def test_a_server_that_is_down_is_retry(self):
        sender = MailSender(settings(free_port(), security="none", login=None))

        error = await refusal(sender)

        assert (error.action, error.code) == (MailAction.RETRY, None)
        assert error.reason.startswith("cannot reach 127.0.0.1:")

    async def test_a_server_that_never_greets_is_retry_after_the_timeout(self):
        accepted: list[asyncio.StreamWriter] = []

        async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(writer)

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            sender = MailSender(settings(port, security="none", login=None, timeout=0.3))
            error = await asyncio.wait_for(refusal(sender), timeout=10)
        finally:
            for writer in accepted:
                writer.close()
            server.close()
            await server.wait_closed()

        assert (error.action, error.code) == (MailAction.RETRY, None)
        assert error.reason == f"no answer from 127.0.0.1:{port} in time"

    @pytest.mark.parametrize("security", ["starttls", "tls"])
    async def test_a_certificate_no_trusted_ca_signed_is_retry_with_the_reason(
        self, security, certificates, untrusted
    ):
        with SmtpServer(security, certificates=untrusted, users={USER: PASSWORD}) as server:
            error = await refusal(
                MailSender(settings(server.port, security=security, ca=certificates.ca))
            )

            assert server.received == []
        assert (error.action, error.code) == (MailAction.RETRY, None)
        assert "certificate verify failed" in error.reason
        assert "email.ca_file" in error.reason

    async def test_starttls_configured_is_never_given_up_for_clear_text(self, certificates):
        """A server (or a man in the middle) that does not offer STARTTLS gets nothing."""
        with SmtpServer("none") as server:
            error = await refusal(
                MailSender(
                    settings(server.port, security="starttls", ca=certificates.ca, login=None)
                )
            )

            assert server.received == []
        assert error.action == MailAction.RETRY
        assert "STARTTLS" in error.reason


class TestFail:
    async def test_a_5xx_to_rcpt_to_is_fail(self, starttls, starttls_sender):
        error = await refusal(starttls_sender, NO_USER)

        assert (error.action, error.code) == (MailAction.FAIL, 550)
        assert error.reason == "RCPT TO refused: 550 5.1.1 No such user"

    async def test_a_5xx_to_mail_from_is_fail(self):
        with SmtpServer("none", refuse_sender="553 5.7.1 Sender not allowed") as server:
            error = await refusal(MailSender(settings(server.port, security="none", login=None)))

        assert (error.action, error.code) == (MailAction.FAIL, 553)

    async def test_a_5xx_to_data_is_fail(self):
        with SmtpServer("none", refuse_data="554 5.6.0 Message content rejected") as server:
            error = await refusal(MailSender(settings(server.port, security="none", login=None)))

        assert (error.action, error.code) == (MailAction.FAIL, 554)

    async def test_a_letter_to_two_recipients_is_refused_before_connecting(self):
        with SmtpServer("none") as server:
            msg = letter()
            msg.replace_header("To", "a@b.vn, c@d.vn")
            with pytest.raises(MailError) as info:
                await MailSender(settings(server.port, security="none", login=None)).send(msg)

            assert server.received == []
        assert info.value.action == MailAction.FAIL


class TestLogs:
    async def test_a_sent_letter_is_logged_with_the_address_masked_and_no_body(
        self, starttls, starttls_sender
    ):
        with structlog.testing.capture_logs() as logs:
            await starttls_sender.send(letter())

        assert [entry["event"] for entry in logs] == ["mail_sent"]
        assert logs[0]["to"] == "n*********@gmail.com"
        shown = repr(logs)
        assert TO not in shown and "Hồ sơ" not in shown and PASSWORD not in shown

    async def test_a_refused_login_is_logged_as_such_without_the_password(
        self, starttls, certificates
    ):
        sender = MailSender(
            settings(
                starttls.port, security="starttls", ca=certificates.ca, login=(USER, "wrong-pw")
            )
        )
        with structlog.testing.capture_logs() as logs:
            await refusal(sender)

        assert [entry["event"] for entry in logs] == ["mail_login_refused"]
        assert logs[0]["action"] == "retry"
        assert "wrong-pw" not in repr(logs) and TO not in repr(logs)

    async def test_a_refusal_that_repeats_the_address_is_logged_masked(self):
        reply = f"550 5.1.1 <{TO}>: Recipient address rejected"
        with SmtpServer("none", refuse_rcpt={TO: reply}) as server:
            sender = MailSender(settings(server.port, security="none", login=None))
            with structlog.testing.capture_logs() as logs:
                error = await refusal(sender)

        assert TO not in error.reason and "n*********@gmail.com" in error.reason
        assert TO not in repr(logs)
