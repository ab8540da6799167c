"""A citizen's MO as a carrier delivers it: deliver_sm fields, in parts when long.

The parts' UDH is the encoder's own (`concat_udh`), so what the session reassembles is
what a handset's concatenation looks like on the wire.
"""

from __future__ import annotations

from typing import Any

from gateway.smpp.codes import ESM_UDHI
from gateway.smpp.concat import concat_udh
from gateway.smpp.text import GSM7, UCS2, encode


def mo_pdus(
    text: str, data_coding: int | None, max_part: int | None, sar: bool, ref16: bool, ref: int
) -> list[dict[str, Any]]:
    """The deliver_sm fields for an MO, split into parts when long or asked to (UDH with
    an 8- or 16-bit reference, or SAR TLVs); addresses are the caller's."""
    if max_part is None:
        encoded = encode(text, reference=ref, ref16=ref16)
        coding = encoded.data_coding if data_coding is None else data_coding
        bodies = [p[1 + p[0] :] if encoded.udhi else p for p in encoded.parts]
    else:
        coding = data_coding if data_coding is not None else encode(text).data_coding
        chunks = [text[i : i + max_part] for i in range(0, len(text), max_part)] or [""]
        bodies = [_single(chunk, coding) for chunk in chunks]
    total = len(bodies)
    out: list[dict[str, Any]] = []
    for seq, body in enumerate(bodies, start=1):
        fields: dict[str, Any] = {"data_coding": coding, "esm_class": 0}
        if total == 1:
            fields["short_message"] = body
        elif sar:
            fields.update(
                short_message=body,
                sar_msg_ref_num=ref & 0xFFFF,
                sar_total_segments=total,
                sar_segment_seqnum=seq,
            )
        else:
            udh = concat_udh(seq, total, ref, ref16)
            fields.update(short_message=udh + body, esm_class=ESM_UDHI)
        out.append(fields)
    return out


def _single(text: str, coding: int) -> bytes:
    if coding == UCS2:
        return text.encode("utf-16-be")
    if coding == GSM7:
        return encode(text).parts[0] if text else b""
    return text.encode("latin-1", "replace")
