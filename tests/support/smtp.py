"""A real SMTP server for the mail tests: aiosmtpd on a free 127.0.0.1 port, in its own
thread, speaking STARTTLS (required), implicit TLS or plain SMTP.

With `users`, AUTH (LOGIN and PLAIN, as aiosmtpd offers them) is required and checked by
the server against those names and passwords. `refuse_rcpt` maps a recipient address to
the reply its RCPT TO gets (`"450 4.2.1 Mailbox busy"`, `"550 5.1.1 No such user"`), so
the server's own protocol code answers 4xx and 5xx as a real one does; `refuse_sender` and
`refuse_data` are the replies to every MAIL FROM and DATA; `delay_data` holds each DATA
that long before answering (a slow server). What the server
took is in `received`: the envelope, the bytes of the message as they crossed the wire,
and whether the session was encrypted and logged in.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.broker import Certificates, free_port

Security = Literal["starttls", "tls", "none"]


@dataclass(frozen=True, slots=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    tls: bool
    login: str | None

    def parsed(self) -> EmailMessage:
        """The message as the stdlib reads the bytes received (an independent parse)."""
        message = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class _Handler:
    users: Mapping[str, str]
    refuse_rcpt: dict[str, str]
    refuse_sender: str | None = None
    refuse_data: str | None = None
    delay_data: float = 0.0
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        ok = self.users.get(login) == data.password.decode("utf-8", "replace")
        with self.lock:
            self.logins.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_sender is not None:
            return self.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            refusal = self.refuse_rcpt.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.delay_data:
            await asyncio.sleep(self.delay_data)
        if self.refuse_data is not None:
            return self.refuse_data
        data = envelope.original_content or b""
        login = session.auth_data if isinstance(session.auth_data, str) else None
        with self.lock:
            self.received.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    data=data,
                    tls=server.transport.get_extra_info("ssl_object") is not None,
                    login=login if session.authenticated else None,
                )
            )
        return "250 2.0.0 Message accepted for delivery"


def server_context(certificates: Certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.server_cert, certificates.server_key)
    return context


class SmtpServer:
    """aiosmtpd on 127.0.0.1:`port`; `start()` returns once it answers, `stop()` ends it."""

    def __init__(
        self,
        security: Security = "none",
        *,
        certificates: Certificates | None = None,
        users: Mapping[str, str] | None = None,
        refuse_rcpt: Mapping[str, str] | None = None,
        refuse_sender: str | None = None,
        refuse_data: str | None = None,
        delay_data: float = 0.0,
    ) -> None:
        if security != "none" and certificates is None:
            raise ValueError("TLS needs the server's certificates")
        self.security = security
        self.host = "127.0.0.1"
        self.port = free_port(self.host)
        self._handler = _Handler(
            users=dict(users or {}),
            refuse_rcpt=dict(refuse_rcpt or {}),
            refuse_sender=refuse_sender,
            refuse_data=refuse_data,
            delay_data=delay_data,
        )
        kwargs: dict[str, Any] = {"ready_timeout": 10.0}
        if users:
            kwargs |= {"authenticator": self._handler.authenticate, "auth_required": True}
        if security == "starttls":
            assert certificates is not None
            kwargs |= {"tls_context": server_context(certificates), "require_starttls": True}
        elif security == "tls":
            assert certificates is not None
            # Implicit TLS: the whole session is encrypted, which aiosmtpd's AUTH-over-TLS
            # rule (made for STARTTLS) does not see.
            kwargs |= {
                "ssl_context": server_context(certificates),
                "server_hostname": self.host,
                "auth_require_tls": False,
            }
        else:
            kwargs["auth_require_tls"] = False
        self._controller = Controller(self._handler, hostname=self.host, port=self.port, **kwargs)

    @property
    def received(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.received)

    @property
    def logins(self) -> list[tuple[str, str, bool]]:
        """(mechanism, login, accepted) of every AUTH the server checked."""
        with self._handler.lock:
            return list(self._handler.logins)

    def answer_rcpt(self, address: str, reply: str | None) -> None:
        """From now on, RCPT TO `address` gets `reply` (`"450 4.2.1 Mailbox busy"`), or is
        accepted with None: a server whose answer changes between two tries."""
        with self._handler.lock:
            if reply is None:
                self._handler.refuse_rcpt.pop(address, None)
            else:
                self._handler.refuse_rcpt[address] = reply

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
