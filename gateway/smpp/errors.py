"""Errors of the SMPP layer, named by cause.

Kept apart from the session so that the codec, the session and their callers can all
import them without import loops. The split that matters to callers is whether a
submit_sm *may have reached the SMSC*: `ConnectError` means it was never written, so it
is safe to send again; `OutcomeUnknown` means it was written and no answer came, so the
caller has to decide (and count the possible duplicate).
"""

from __future__ import annotations

from gateway.smpp.codes import Status, status_name


class SmppError(Exception):
    """Root of every error raised by `gateway.smpp`."""


class ConnectError(SmppError):
    """No usable link: not bound yet, link lost before the PDU was written, or closing.

    Nothing was sent, so the request can be retried as is.
    """


class NotBound(ConnectError):
    """Not written: no bind came within the wait the caller allowed (`bind_wait`). Another
    link may take the submit at once."""


class OutcomeUnknown(SmppError):
    """A request was written but its response never came (timeout or link lost).

    The SMSC may or may not have accepted it; resending may duplicate it.
    """


class Expired(SmppError):
    """Not written: the submit's `expires_at` passed while it waited (throttled, unbound)."""


class Withheld(SmppError):
    """Not written: the submit's `may_write` said no right before the write (quiet hours
    began while it waited for a bind or a throttle pause). It may go later."""


class Throttled(SmppError):
    """Not accepted: the SMSC throttled this submit `THROTTLE_LIMIT` times in a row (a
    carrier that throttles one number on every try). Its window slot is given back; it
    may go later, with no attempt spent."""


class ProtocolError(SmppError):
    """A PDU could not be decoded. The session answers generic_nack and lives on."""

    def __init__(
        self,
        message: str,
        *,
        command_id: int = 0,
        sequence: int = 0,
        status: int = Status.ESME_RSYSERR,
    ) -> None:
        super().__init__(message)
        self.command_id = command_id
        self.sequence = sequence
        self.status = status  # for the generic_nack; ESME_RSYSERR unless more is known


class FramingError(ProtocolError):
    """The byte stream itself is broken (impossible command_length): the link is unusable."""


class StatusError(SmppError):
    """The SMSC answered a request with a non-zero command_status."""

    def __init__(
        self, status: int, *, sequence: int = 0, command: str = "", status_class: str = ""
    ) -> None:
        self.status = status
        self.sequence = sequence
        self.command = command
        self.status_class = status_class  # a gateway.smpp.codes.StatusClass value, when known
        self.name = status_name(status)
        super().__init__(f"{command or 'request'} answered {self.name} (0x{status:08X})")


class BindError(StatusError):
    """The SMSC refused our bind. Credentials errors deserve a loud log and a long pause."""
