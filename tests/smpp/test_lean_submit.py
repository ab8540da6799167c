"""submit_sm laid out directly is octet for octet what smpplib writes, and anything the
direct layout does not cover still goes through smpplib."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from smpplib import smpp

from gateway.smpp import pdu
from gateway.smpp.model import Submit, submit_fields

ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=25)
OCTET = st.integers(0, 255)


def by_smpplib(sequence: int, status: int, fields: dict[str, Any]) -> bytes:
    made = smpp.make_pdu("submit_sm", client=pdu._NO_SEQUENCE, **fields)
    made.sequence = sequence
    made.status = status
    return made.generate()


@st.composite
def submit_sm_fields(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "service_type": draw(ASCII),
        "source_addr_ton": draw(OCTET),
        "source_addr_npi": draw(OCTET),
        "source_addr": draw(ASCII),
        "dest_addr_ton": draw(OCTET),
        "dest_addr_npi": draw(OCTET),
        "destination_addr": draw(ASCII),
        "esm_class": draw(OCTET),
        "protocol_id": draw(OCTET),
        "priority_flag": draw(OCTET),
        "schedule_delivery_time": draw(ASCII),
        "validity_period": draw(ASCII),
        "registered_delivery": draw(OCTET),
        "replace_if_present_flag": draw(OCTET),
        "data_coding": draw(OCTET),
        "sm_default_msg_id": draw(OCTET),
        "short_message": draw(st.binary(max_size=254)),
    }


@given(submit_sm_fields(), st.integers(1, 0x7FFFFFFF), st.integers(0, 0xFF))
def test_a_submit_sm_is_laid_out_as_smpplib_lays_it_out(
    fields: dict[str, Any], sequence: int, status: int
):
    assert pdu.encode("submit_sm", sequence, status, **fields) == by_smpplib(
        sequence, status, fields
    )


def test_the_gateways_own_submit_sm_takes_the_direct_layout():
    """The fields the session sends (model.submit_fields) are exactly the ones laid out
    directly: the hot path never falls back."""
    sm = Submit(
        source="MotcuaSMS", source_ton=5, source_npi=0, destination="84905123456",
        dest_ton=1, dest_npi=1, short_message=b"\x05\x00\x03\x01\x02\x01" + b"x" * 134,
        data_coding=0, esm_class=0x40, registered_delivery=1, expires_at=1000.0,
        clock=lambda: 0.0,
    )  # fmt: skip
    fields = submit_fields(sm)

    assert pdu._lean_submit_sm(3, 0, fields) is not None
    assert pdu.encode("submit_sm", 3, **fields) == by_smpplib(3, 0, fields)


def test_a_submit_sm_with_a_tlv_goes_through_smpplib():
    fields = {
        "source_addr": "MotcuaSMS", "destination_addr": "84905123456",
        "short_message": b"", "message_payload": b"x" * 300,
    }  # fmt: skip
    assert pdu._lean_submit_sm(1, 0, fields) is None
    assert pdu.encode("submit_sm", 1, **fields) == by_smpplib(1, 0, fields)


def test_a_field_outside_the_direct_layout_goes_through_smpplib():
    """A non-ASCII address, an octet out of range, a text short_message: smpplib's to
    judge (and to refuse as it always has)."""
    base = submit_fields(
        Submit(source="8083", source_ton=3, source_npi=0, destination="84905123456",
               dest_ton=1, dest_npi=1, short_message=b"hi", data_coding=0, esm_class=0,
               registered_delivery=1, expires_at=None)
    )  # fmt: skip
    for change in ({"source_addr": "Mộtcửa"}, {"esm_class": 256}, {"short_message": "hi"}):
        assert pdu._lean_submit_sm(1, 0, {**base, **change}) is None
