"""SMPP 3.4 PDU codec: framing checks, encode and decode on smpplib, command and status tables.

This module knows bytes, never sockets or asyncio. smpplib does the field layout; we add
what it lacks for a long-running daemon: the length is checked before the body is read,
every decoding failure becomes one `ProtocolError` (so the session can answer
generic_nack and keep the bind), and sequence numbers belong to the caller, never to a
global counter.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from enum import IntEnum, StrEnum
from typing import Any

import structlog
from smpplib import command as _command
from smpplib import consts as _consts
from smpplib import smpp as _smpp

from gateway.smpp.errors import FramingError, ProtocolError
from gateway.smpp.layout import Body, check_body

log = structlog.get_logger("gateway.smpp.pdu")

HEADER = struct.Struct(">IIII")
HEADER_SIZE = HEADER.size
MIN_LENGTH = 16
MAX_LENGTH = 64 * 1024


class CommandId(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    REPLACE_SM = 0x00000007
    REPLACE_SM_RESP = 0x80000007
    CANCEL_SM = 0x00000008
    CANCEL_SM_RESP = 0x80000008
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    SUBMIT_MULTI = 0x00000021
    SUBMIT_MULTI_RESP = 0x80000021
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103


RESPONSE_BIT = 0x80000000


class Status(IntEnum):
    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RREPLACEFAIL = 0x13
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVDLNAME = 0x34
    ESME_RINVDESTFLAG = 0x40
    ESME_RINVSUBREP = 0x42
    ESME_RINVESMCLASS = 0x43
    ESME_RCNTSUBDL = 0x44
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RINVREPFLAG = 0x54
    ESME_RINVNUMMSGS = 0x55
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVDFTMSGID = 0x63
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RQUERYFAIL = 0x67
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


def status_name(status: int) -> str:
    try:
        return Status(status).name
    except ValueError:
        return f"0x{status:08X}"


def command_name(command_id: int) -> str:
    try:
        return CommandId(command_id).name.lower()
    except ValueError:
        return f"0x{command_id:08X}"


class StatusClass(StrEnum):
    """What a submit_sm response status means for the message: the retry policy reads this."""

    OK = "ok"
    THROTTLE = "throttle"  # pause the link, resend, never count an attempt
    TRANSIENT = "transient"  # retry later with back-off
    PERMANENT = "permanent"  # fail now; retrying cannot help
    REBIND = "rebind"  # the SMSC lost our bind: replace the link, resend, fail nothing


# Checked against SMPP 3.4 (5.1.3) and what Kannel (smsc_smpp.c) and Jasmin (sm-listener
# submit_error_retrial) do with each status. Anything not listed is permanent: the
# message's own fields (addresses, flags, length, TLVs) are wrong, and resending the
# same PDU cannot help. Operators can move any status in the configuration.
DEFAULT_STATUS_CLASSES: Mapping[int, StatusClass] = {
    Status.ESME_ROK: StatusClass.OK,
    # "Throttling error": the SMSC's rate limit, not the message's fault.
    Status.ESME_RTHROTTLED: StatusClass.THROTTLE,
    # "Incorrect BIND status for given command": the SMSC no longer counts this session
    # as a bound transmitter (it restarted, or expired the session). Nothing is wrong
    # with the message; a new bind is.
    Status.ESME_RINVBNDSTS: StatusClass.REBIND,
    # "System error" and "Message queue full": the SMSC's state, retried by Kannel
    # and Jasmin alike.
    Status.ESME_RSYSERR: StatusClass.TRANSIENT,
    Status.ESME_RMSGQFUL: StatusClass.TRANSIENT,
    # "ESME receiver temporary app error": temporary by definition (Kannel retries it);
    # an aggregator passes it on from the network behind it.
    Status.ESME_RX_T_APPN: StatusClass.TRANSIENT,
}

# Bind refusals that are configuration errors (Kannel stops the link on these three).
CREDENTIAL_STATUSES = frozenset(
    {Status.ESME_RINVPASWD, Status.ESME_RINVSYSID, Status.ESME_RBINDFAIL, Status.ESME_RINVSYSTYP}
)


class StatusTable:
    """Response status → `StatusClass`, with the operator's overrides from the config file.

    One table so that the whole retry policy can be read (and changed for a carrier
    that, say, answers a vendor code for a full queue) in one place.
    """

    def __init__(self, overrides: Mapping[int, StatusClass | str] | None = None) -> None:
        table = dict(DEFAULT_STATUS_CLASSES)
        for status, cls in (overrides or {}).items():
            table[int(status)] = StatusClass(cls)
        self._table = table

    def classify(self, status: int) -> StatusClass:
        return self._table.get(status, StatusClass.PERMANENT)


class _Sequence:
    """The `client` smpplib wants: it only reads `.sequence` and calls `.next_sequence()`."""

    sequence = 0

    def next_sequence(self) -> int:
        return 0


_NO_SEQUENCE = _Sequence()


def header(frame: bytes) -> tuple[int, int, int, int]:
    """(command_length, command_id, command_status, sequence_number) of a frame."""
    if len(frame) < HEADER_SIZE:
        raise FramingError(f"PDU too small: {len(frame)} octets")
    return HEADER.unpack_from(frame)


def check_length(command_length: int) -> None:
    """Reject a length before reading the body: past a bad length the stream has no frames."""
    if command_length < MIN_LENGTH:
        raise FramingError(f"PDU too small: command_length={command_length}")
    if command_length > MAX_LENGTH:
        raise FramingError(f"PDU too large: command_length={command_length}")


def encode(command: str, sequence: int, status: int = 0, **fields: Any) -> bytes:
    """One PDU as bytes. Text fields take `str`, octet fields (short_message) take `bytes`."""
    pdu = _smpp.make_pdu(command, client=_NO_SEQUENCE, **fields)
    pdu.sequence = sequence
    pdu.status = status
    return pdu.generate()


def encode_header_only(command_id: int, sequence: int, status: int = 0) -> bytes:
    """Body-less PDUs (generic_nack, enquire_link(_resp), unbind(_resp)) built directly."""
    return HEADER.pack(HEADER_SIZE, command_id, status, sequence)


def decode(frame: bytes) -> Any:
    """Decode one complete frame into an smpplib PDU object.

    smpplib fails in many ways on bad input (struct.error, KeyError, UnknownCommandError,
    or silently wrong fields); every failure here becomes a `ProtocolError` carrying the
    header's command id and sequence so that the session can answer generic_nack.
    """
    length, command_id, _status, sequence = header(frame)
    if length != len(frame):
        raise ProtocolError(
            f"command_length {length} != frame size {len(frame)}",
            command_id=command_id,
            sequence=sequence,
            status=Status.ESME_RINVCMDLEN,
        )
    try:
        CommandId(command_id)
    except ValueError:
        raise ProtocolError(
            f"unknown command id 0x{command_id:08X}",
            command_id=command_id,
            sequence=sequence,
            status=Status.ESME_RINVCMDID,
        ) from None
    body = check_body(command_id, sequence, frame[16:])
    if body is not None:
        frame = _readable(frame, command_id, body)
    try:
        pdu = _smpp.parse_pdu(frame, client=_NO_SEQUENCE, allow_unknown_opt_params=True)
    except Exception as exc:
        raise ProtocolError(
            f"cannot decode {CommandId(command_id).name.lower()}: {type(exc).__name__}: {exc}",
            command_id=command_id,
            sequence=sequence,
        ) from exc
    if pdu is None:
        raise ProtocolError("empty PDU", command_id=command_id, sequence=sequence)
    pdu.sequence = sequence
    return pdu


# The commands whose TLVs are sorted before smpplib reads them, and its class for each.
_TLV_CLASSES: Mapping[int, Any] = {
    CommandId.SUBMIT_SM: _command.SubmitSM,
    CommandId.DELIVER_SM: _command.DeliverSM,
    CommandId.DATA_SM: _command.DataSM,
}
_TLV_NAMES: Mapping[int, str] = {tag: name for name, tag in _consts.OPTIONAL_PARAMS.items()}


def _readable(frame: bytes, command_id: int, body: Body) -> bytes:
    """The frame with only the TLVs smpplib can read, padding dropped.

    smpplib skips an unknown tag, but raises KeyError on a standard tag its command table
    lacks and reads an integer TLV by the size it expects, not the length on the wire
    (one vendor's 4-octet message_state shifts every TLV after it). Such TLVs carry
    nothing this gateway reads, so they are skipped here, by their own length.
    """
    params = _TLV_CLASSES[command_id].params
    kept: list[bytes] = []
    skipped: list[str] = []
    for tag, value in body.tlvs:
        name = _TLV_NAMES.get(tag)
        param = params.get(name) if name else None
        if param is None or (param.type is int and len(value) != param.size):
            skipped.append(f"0x{tag:04X}")
            continue
        kept.append(tag.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value)
    if not skipped and not body.padding:
        return frame
    if skipped:
        log.info("smpp_tlvs_skipped", command=command_name(command_id), tags=skipped)
    new_body = body.mandatory + b"".join(kept)
    return (HEADER_SIZE + len(new_body)).to_bytes(4, "big") + frame[4:HEADER_SIZE] + new_body


def text_field(value: bytes | str | None) -> str:
    """smpplib returns C-strings as bytes (sometimes with a trailing NUL); we want text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.split(b"\x00", 1)[0].decode("latin-1")
    return value.split("\x00", 1)[0]


# SMPP 3.4 7.1.1: a relative time is "YYMMDDhhmmss000R"; days are not folded into
# months or years, whose length would be ambiguous, so the longest is 99 days.
_MAX_RELATIVE = 99 * 86400 + 86399


def relative_validity(seconds: float) -> str:
    """`seconds` from now as an SMPP relative time (validity_period).

    Relative, not absolute: the SMSC counts from when it receives the PDU, so a skewed
    clock on either side changes nothing. Rounded down (the SMSC gives up no later than
    we do), at least one second, at most 99 days 23:59:59.
    """
    left = max(1, min(_MAX_RELATIVE, int(seconds)))
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"0000{days:02d}{hours:02d}{minutes:02d}{secs:02d}000R"
