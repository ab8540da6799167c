"""Delivery receipts as a carrier sends them: the deliver_sm for an accepted submit_sm,
and message ids in the carrier's formats (hex in the response, decimal in the receipt,
padded or not)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.smpp import pdu
from gateway.smpp.codes import ESM_DELIVERY_RECEIPT
from gateway.smpp.text import decode

# Receipt outcome → (stat: text, message_state TLV, err: text).
RECEIPT_STATES = {
    "deliver": ("DELIVRD", 2, "000"),
    "undeliverable": ("UNDELIV", 5, "001"),
    "expired": ("EXPIRED", 3, "000"),
}


def format_id(n: int, fmt: str) -> str:
    if fmt == "hex":
        return f"{n:X}"
    if fmt == "hex_padded":
        return f"{n:016X}"
    if fmt == "decimal_padded":
        return f"{n:020d}"
    return str(n)


def receipt_fields(request: Any, receipt_id: str, outcome: str, *, tlvs: bool) -> dict[str, Any]:
    """The deliver_sm fields of the receipt for `request` (a decoded submit_sm): the
    text form SMPP 3.4 Appendix B describes, and the receipt TLVs when `tlvs`."""
    stat, state, err = RECEIPT_STATES[outcome]
    stamp = datetime.now().strftime("%y%m%d%H%M")
    sample = decode(request.data_coding or 0, bytes(request.short_message or b""))[:20]
    sample = sample.encode("ascii", "replace").decode()
    body = (
        f"id:{receipt_id} sub:001 dlvrd:{'001' if stat == 'DELIVRD' else '000'} "
        f"submit date:{stamp} done date:{stamp} stat:{stat} err:{err} text:{sample}"
    )
    fields: dict[str, Any] = {
        "source_addr_ton": 1,
        "source_addr_npi": 1,
        "source_addr": pdu.text_field(request.destination_addr),
        "dest_addr_ton": request.source_addr_ton or 0,
        "dest_addr_npi": request.source_addr_npi or 0,
        "destination_addr": pdu.text_field(request.source_addr),
        "esm_class": ESM_DELIVERY_RECEIPT,
        "data_coding": 0,
        "short_message": body.encode("ascii"),
    }
    if tlvs:
        fields["receipted_message_id"] = receipt_id
        fields["message_state"] = state
    return fields
