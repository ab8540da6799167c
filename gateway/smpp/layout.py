"""The byte layout of the message-carrying bodies, checked before smpplib reads them.

smpplib is lenient where it should refuse: a C-string without its NUL is cut at the
field's maximum and reading goes on from there, an `sm_length` beyond the end yields the
bytes that happen to exist, and a TLV whose length runs past the end is dropped. Each of
those would turn line noise into an MO from a made-up number (and a paid reply to it), so
the body is walked here first: every C-string ends in NUL, `sm_length` fits, and every
TLV's length stays within the body. Field sizes are not capped (carriers exceed them);
only structure is checked.

What carriers really send and is still unambiguous is accepted, because a deliver_sm
answered generic_nack is delivered again, for ever: zero octets after the mandatory body
or after the last TLV are padding (SMPP 3.4 defines no TLV tag 0x0000), and a TLV of any
tag is returned for the codec to keep or skip (vendor tags are routine). Only bytes that
cannot be split into whole TLVs are refused.
"""

from __future__ import annotations

from typing import NamedTuple

from gateway.smpp.codes import Status
from gateway.smpp.errors import ProtocolError

# The fixed part of each body, in order: "c" a C-octet string, "1" one octet,
# "m" sm_length and the short_message it counts.
_LAYOUTS = {
    0x00000004: "c11c11c111cc1111m",  # submit_sm
    0x00000005: "c11c11c111cc1111m",  # deliver_sm
    0x00000103: "c11c11c111",  # data_sm
}


class Body(NamedTuple):
    """A message-carrying body split into its mandatory part and its TLVs."""

    mandatory: bytes
    tlvs: list[tuple[int, bytes]]  # (tag, value) in order
    padding: int  # zero octets dropped from the end


def check_body(command_id: int, sequence: int, body: bytes) -> Body | None:
    """Split `body` as its command's layout says; None for commands without one.

    Raises ProtocolError if it does not have the structure its command needs.
    """
    layout = _LAYOUTS.get(command_id)
    if layout is None:
        return None

    def fail(reason: str, status: int) -> ProtocolError:
        return ProtocolError(reason, command_id=command_id, sequence=sequence, status=status)

    at, size = 0, len(body)
    for n, kind in enumerate(layout):
        if kind == "c":
            end = body.find(b"\x00", at)
            if end < 0:
                raise fail(f"field {n + 1}: C-string without its NUL", Status.ESME_RSYSERR)
            at = end + 1
        elif kind == "1":
            if at >= size:
                raise fail(f"body ends at field {n + 1}", Status.ESME_RSYSERR)
            at += 1
        else:
            if at >= size:
                raise fail("body ends before sm_length", Status.ESME_RINVMSGLEN)
            length = body[at]
            at += 1
            if at + length > size:
                raise fail(f"sm_length {length} > {size - at} bytes left", Status.ESME_RINVMSGLEN)
            at += length
    mandatory = body[:at]
    tlvs: list[tuple[int, bytes]] = []
    while at < size:
        if not any(body[at:]):
            return Body(mandatory, tlvs, size - at)
        if at + 4 > size:
            raise fail(f"{size - at} stray bytes after the last TLV", Status.ESME_RINVPARLEN)
        tag = int.from_bytes(body[at : at + 2], "big")
        length = int.from_bytes(body[at + 2 : at + 4], "big")
        at += 4
        if at + length > size:
            raise fail(
                f"TLV 0x{tag:04X}: length {length} > {size - at} bytes left", Status.ESME_RINVPARLEN
            )
        tlvs.append((tag, body[at : at + length]))
        at += length
    return Body(mandatory, tlvs, 0)
