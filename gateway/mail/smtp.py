"""Sending one letter over SMTP, and what the server's answer means for the notice.

One connection per letter: connect (implicit TLS, or STARTTLS, which is then required:
a server that does not offer it is not sent to in clear), log in when a username is set,
send, quit. E-mail notices are a few per dossier step, so the cost of a TLS handshake per
letter is nothing beside a pooled connection's trouble (idle timeouts, a half-closed
session discovered at the next letter). Each step is bounded by `email.timeout`.

Every failure is a `MailError` with what to do about the notice:

- RETRY: the server or the way to it is not usable now: refused, reset or dropped
  connections, timeouts, a TLS handshake that fails (including a certificate no trusted
  CA signed), any 4xx, a 5xx to the greeting, EHLO or STARTTLS, and a refused login. A
  refused login is the operator's to fix (the password); retrying keeps the notice until
  they do, and the log line says so.
- FAIL: a 5xx to MAIL FROM, RCPT TO or DATA: this letter will never be taken (no such
  mailbox, a policy refusal), so sending it again cannot help.

Logs carry the masked recipient and the server's code and (masked) reply; never the
password, the body or a full address.
"""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import getaddresses
from enum import StrEnum

import aiosmtplib
import structlog

from gateway.mail.address import mask_address, masked_in
from gateway.settings.mail import MailConfig

__all__ = ["MailAction", "MailError", "MailSender"]

log = structlog.get_logger("gateway.mail.smtp")

# A server's reply text kept in a reason: enough to tell a full mailbox from a policy.
_REPLY_LIMIT = 200


class MailAction(StrEnum):
    """What the notice's e-mail becomes after a failure."""

    RETRY = "retry"
    FAIL = "fail"


class MailError(Exception):
    """A letter not sent: `action` says whether to try it again, `code` is the SMTP reply
    code when the server gave one, `reason` says why, with no address in full."""

    def __init__(self, action: MailAction, code: int | None, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"MailError({self.action.value}, {self.code}, {self.reason!r})"


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    text = masked_in(" ".join(str(exc.message).split()))
    if len(text) > _REPLY_LIMIT:
        text = text[:_REPLY_LIMIT] + "…"
    return f"{exc.code} {text}".strip()


def _by_code(code: int, stage: str, reply: str) -> MailError:
    """4xx: try again later; 5xx at MAIL FROM, RCPT TO or DATA: never for this letter."""
    action = MailAction.FAIL if 500 <= code < 600 else MailAction.RETRY
    return MailError(action, code, f"{stage} refused: {reply}")


def classify(exc: BaseException, where: str) -> MailError:
    """The MailError for what aiosmtplib (or the TLS layer under it) raised; `where`
    names the server for connection failures."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return MailError(
            MailAction.RETRY,
            exc.code,
            f"the server refused the login ({_reply(exc)}): check email.username and the "
            "password; the notice is kept and tried again",
        )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        first = exc.recipients[0]
        return _by_code(first.code, "RCPT TO", _reply(first))
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return _by_code(exc.code, "RCPT TO", _reply(exc))
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return _by_code(exc.code, "MAIL FROM", _reply(exc))
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return _by_code(exc.code, "DATA", _reply(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # The greeting, EHLO, STARTTLS: the server's state, not this letter's.
        return MailError(MailAction.RETRY, exc.code, f"the server answered {_reply(exc)}")
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return MailError(MailAction.RETRY, None, f"no answer from {where} in time")
    if _tls_failed(exc):
        return MailError(
            MailAction.RETRY,
            None,
            f"TLS with {where} failed ({masked_in(str(exc))}): is email.ca_file the CA "
            "that signed the server's certificate?",
        )
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected):
        return MailError(MailAction.RETRY, None, f"cannot reach {where}: {masked_in(str(exc))}")
    if isinstance(exc, aiosmtplib.SMTPException):
        # STARTTLS or AUTH not offered, and the like: the server's setup, not this letter.
        return MailError(MailAction.RETRY, None, f"{where}: {masked_in(str(exc))}")
    return MailError(MailAction.RETRY, None, f"cannot reach {where}: {masked_in(str(exc))}")


def _tls_failed(exc: BaseException) -> bool:
    """Whether a TLS handshake failure is the cause: aiosmtplib reports one as a
    connection error around the ssl error, or with only its text."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc) or "[SSL" in str(exc)


def _tls_context(settings: MailConfig) -> ssl.SSLContext:
    """Certificates verified, host name checked, TLS 1.2 or later; against the
    configured CA, or the system's."""
    context = ssl.create_default_context(cafile=settings.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class MailSender:
    """Sends letters through the `email:` section's server, one connection per letter."""

    def __init__(self, settings: MailConfig) -> None:
        self._settings = settings
        # Built once: reading the CA file at every letter would be wasted work, and a CA
        # file gone since start-up should not turn every notice into a retry.
        self._tls = None if settings.security == "none" else _tls_context(settings)
        self._where = f"{settings.host}:{settings.port}"

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout,
            use_tls=s.security == "tls",
            start_tls=s.security == "starttls",
            tls_context=self._tls,
        )

    async def send(self, msg: EmailMessage) -> None:
        """Send `msg` (one From, one To: a letter of `gateway.mail.letter.build`).

        Raises:
            MailError: not sent; RETRY or FAIL as the module docstring says. A letter
                with other than one recipient is a FAIL before any connection: a partial
                refusal could not be retried without sending the others a copy.
        """
        recipients = [addr for _, addr in getaddresses(msg.get_all("To", []))]
        if len(recipients) != 1:
            raise MailError(MailAction.FAIL, None, "a letter goes to exactly one recipient")
        to = mask_address(recipients[0])
        client = self._client()
        try:
            await client.connect()
            try:
                if self._settings.username is not None:
                    await client.login(self._settings.username, self._settings.password or "")
                await client.send_message(msg)
            finally:
                await _quit(client)
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            error = classify(exc, self._where)
            refused_login = isinstance(exc, aiosmtplib.SMTPAuthenticationError)
            log.warning(
                "mail_login_refused" if refused_login else "mail_not_sent",
                to=to,
                action=error.action.value,
                code=error.code,
                reason=error.reason,
            )
            raise error from None
        log.info("mail_sent", to=to, message_id=msg.get("Message-ID"))


async def _quit(client: aiosmtplib.SMTP) -> None:
    """QUIT politely when still connected; a connection already gone is closed as is (the
    outcome was decided before)."""
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
