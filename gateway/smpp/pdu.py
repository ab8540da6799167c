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
from typing import Any

import structlog
from smpplib import command as _command
from smpplib import consts as _consts
from smpplib import smpp as _smpp

from gateway.smpp.codes import (
    CREDENTIAL_STATUSES,
    DEFAULT_STATUS_CLASSES,
    RESPONSE_BIT,
    CommandId,
    Status,
    StatusClass,
    StatusTable,
    command_name,
    status_name,
)
from gateway.smpp.errors import FramingError, ProtocolError
from gateway.smpp.layout import Body, check_body

# The codes live in gateway.smpp.codes (below the errors, so nothing imports in a loop);
# named here too because every PDU user reads them with the codec.
__all__ = [
    "CREDENTIAL_STATUSES",
    "DEFAULT_STATUS_CLASSES",
    "HEADER",
    "HEADER_SIZE",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "RESPONSE_BIT",
    "CommandId",
    "Status",
    "StatusClass",
    "StatusTable",
    "check_length",
    "command_name",
    "decode",
    "encode",
    "encode_header_only",
    "header",
    "relative_validity",
    "status_name",
    "text_field",
]

log = structlog.get_logger("gateway.smpp.pdu")

HEADER = struct.Struct(">IIII")
HEADER_SIZE = HEADER.size
MIN_LENGTH = 16
MAX_LENGTH = 64 * 1024


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
    """One PDU as bytes. Text fields take `str`, octet fields (short_message) take `bytes`.

    submit_sm with exactly the mandatory fields (every MT this gateway sends) is laid out
    here directly, octet for octet what smpplib writes (tests/smpp/test_lean_submit.py
    compares them): smpplib builds an object, sets each attribute and walks its field
    table for every PDU, about 100-220 us a submit_sm, a tenth of the daemon's CPU per
    message. Everything else (TLVs, the other commands) is smpplib's: they are rare,
    and its tables of fields and TLVs are what we would otherwise copy."""
    if command == "submit_sm":
        lean = _lean_submit_sm(sequence, status, fields)
        if lean is not None:
            return lean
    pdu = _smpp.make_pdu(command, client=_NO_SEQUENCE, **fields)
    pdu.sequence = sequence
    pdu.status = status
    return pdu.generate()


# submit_sm's mandatory fields in wire order (SMPP 3.4 4.4.1), sm_length aside: C-strings
# with smpplib's maximum (NUL included), the rest one octet each.
_SUBMIT_SM: tuple[tuple[str, int], ...] = (
    ("service_type", 6),
    ("source_addr_ton", 0),
    ("source_addr_npi", 0),
    ("source_addr", 21),
    ("dest_addr_ton", 0),
    ("dest_addr_npi", 0),
    ("destination_addr", 21),
    ("esm_class", 0),
    ("protocol_id", 0),
    ("priority_flag", 0),
    ("schedule_delivery_time", 17),
    ("validity_period", 17),
    ("registered_delivery", 0),
    ("replace_if_present_flag", 0),
    ("data_coding", 0),
    ("sm_default_msg_id", 0),
)
_SUBMIT_SM_NAMES = frozenset(name for name, _ in _SUBMIT_SM) | {"short_message"}
_MAX_SHORT_MESSAGE = 254


def _lean_submit_sm(sequence: int, status: int, fields: Mapping[str, Any]) -> bytes | None:
    """submit_sm as smpplib lays it out, or None for smpplib to do it (a TLV, a field
    missing, a value outside what the direct layout handles)."""
    if fields.keys() != _SUBMIT_SM_NAMES:
        return None
    message = fields["short_message"]
    if not isinstance(message, bytes) or len(message) > _MAX_SHORT_MESSAGE:
        return None
    body = bytearray()
    for name, longest in _SUBMIT_SM:
        value = fields[name]
        if longest:  # a C-string, cut as smpplib cuts it
            if not isinstance(value, str) or not value.isascii():
                return None
            body += value[: longest - 1].encode("ascii")
            body.append(0)
        elif type(value) is int and 0 <= value <= 0xFF:
            body.append(value)
        else:
            return None
    body.append(len(message))
    body += message
    return HEADER.pack(HEADER_SIZE + len(body), CommandId.SUBMIT_SM, status, sequence) + body


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
