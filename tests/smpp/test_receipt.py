"""Delivery receipts: every carrier dialect read, TLVs trusted first, ids matched across bases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.smpp.receipt import (
    Receipt,
    ReceiptState,
    exact_key,
    message_id_keys,
    parse_receipt,
)


def same_message(a: str, b: str) -> bool:
    return bool(message_id_keys(a) & message_id_keys(b))


# -- the text form, as carriers write it -------------------------------------------------


def test_appendix_b_receipt_is_read_field_by_field():
    """The SMPP 3.4 Appendix B form gives every field, raw where the format is the SMSC's."""
    receipt = parse_receipt(
        b"id:0123456789 sub:001 dlvrd:001 submit date:2611221000 done date:2611221001 "
        b"stat:DELIVRD err:000 text:Thong bao: Ho so"
    )
    assert receipt == Receipt(
        message_id="0123456789",
        state=ReceiptState.DELIVERED,
        error="000",
        submitted_at="2611221000",
        done_at="2611221001",
        delivered_parts=1,
        text="Thong bao: Ho so",
    )


def test_kannel_style_receipt_with_capital_text_key():
    """Kannel's fake-SMSC and many aggregators write `Text:`; keys are case-insensitive."""
    receipt = parse_receipt(
        b"id:7c4f5e2a-1b3d-4e6f-8a9b-0c1d2e3f4a5b sub:001 dlvrd:001 "
        b"submit date:2611221000 done date:2611221000 stat:UNDELIV err:011 Text:TB: Ho so cua"
    )
    assert receipt is not None
    assert receipt.message_id == "7c4f5e2a-1b3d-4e6f-8a9b-0c1d2e3f4a5b"
    assert receipt.state is ReceiptState.UNDELIVERABLE
    assert receipt.error == "011"
    assert receipt.text == "TB: Ho so cua"


def test_vietnamese_carrier_style_lower_case_stat_and_underscored_dates():
    """Lower-case stat values and `submit_date`/`done_date` with underscores are the same."""
    receipt = parse_receipt(
        b"id:1715004 sub:001 dlvrd:001 submit_date:2611221000 done_date:2611221002 "
        b"stat:delivrd err:000 text:"
    )
    assert receipt is not None
    assert receipt.state is ReceiptState.DELIVERED
    assert receipt.submitted_at == "2611221000"
    assert receipt.done_at == "2611221002"


def test_missing_err_and_text_leave_those_fields_empty():
    """A carrier that omits `err:` and `text:` still gives a usable receipt."""
    receipt = parse_receipt(b"id:88001234 sub:001 dlvrd:000 stat:EXPIRED")
    assert receipt is not None
    assert receipt.state is ReceiptState.EXPIRED
    assert receipt.error is None
    assert receipt.text is None
    assert receipt.submitted_at is None
    assert receipt.delivered_parts == 0


def test_text_field_containing_id_and_stat_does_not_override_the_real_ones():
    """`text:` is last and quotes the message: keys inside it are message text, not fields."""
    receipt = parse_receipt(
        b"id:ABC123 sub:001 dlvrd:001 submit date:2611221000 done date:2611221000 "
        b"stat:DELIVRD err:000 text:MCKH id:999 stat:REJECTD err:555"
    )
    assert receipt is not None
    assert receipt.message_id == "ABC123"
    assert receipt.state is ReceiptState.DELIVERED
    assert receipt.error == "000"
    assert receipt.text == "MCKH id:999 stat:REJECTD err:555"


def test_keys_in_any_order_with_extra_spaces():
    """Field order is not fixed and spacing is sloppy; each value ends where the next key starts."""
    receipt = parse_receipt(
        b"  stat:  REJECTD   err:  088  id:  00ab-77   dlvrd: 000  done date: 2611221005 "
    )
    assert receipt is not None
    assert receipt.message_id == "00ab-77"
    assert receipt.state is ReceiptState.REJECTED
    assert receipt.error == "088"
    assert receipt.done_at == "2611221005"


def test_upper_case_keys_are_read():
    """Some SMSCs shout: `ID:` `STAT:` `ERR:`."""
    receipt = parse_receipt(b"ID:5566 SUB:001 DLVRD:001 STAT:DELIVRD ERR:000")
    assert receipt is not None
    assert (receipt.message_id, receipt.state, receipt.error) == ("5566", "DELIVRD", "000")


def test_id_with_trailing_nul_and_ucs2_receipt_are_read():
    """A C-string terminator or a UCS-2 encoded receipt still reads as ASCII."""
    ucs2 = "id:4242 stat:DELIVRD err:000".encode("utf-16-be")
    assert parse_receipt(b"id:4242 stat:DELIVRD\x00") is not None
    receipt = parse_receipt(ucs2)
    assert receipt is not None
    assert (receipt.message_id, receipt.state) == ("4242", ReceiptState.DELIVERED)


def test_unknown_stat_value_is_unknown_state():
    """A stat nobody documented is UNKNOWN, which keeps the message waiting (not final)."""
    receipt = parse_receipt(b"id:1 stat:WHATEVER err:000")
    assert receipt is not None
    assert receipt.state is ReceiptState.UNKNOWN
    assert not receipt.state.final


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("DELIVERED", ReceiptState.DELIVERED),
        ("Delivrd", ReceiptState.DELIVERED),
        ("undelivered", ReceiptState.UNDELIVERABLE),
        ("FAILED", ReceiptState.UNDELIVERABLE),
        ("ACCEPTED", ReceiptState.ACCEPTED),
        ("rejected", ReceiptState.REJECTED),
        ("EN-ROUTE", ReceiptState.ENROUTE),
        ("2", ReceiptState.DELIVERED),
    ],
)
def test_stat_spellings_seen_in_the_wild(stat: str, state: ReceiptState):
    """Long spellings, mixed case and the numeric message_state code all map to the state."""
    receipt = parse_receipt(f"id:1 stat:{stat}".encode())
    assert receipt is not None
    assert receipt.state is state


def test_id_without_stat_is_a_receipt_in_unknown_state():
    """An id is enough to be a receipt; the state is then UNKNOWN."""
    receipt = parse_receipt(b"id:123456 sub:001")
    assert receipt is not None
    assert receipt.state is ReceiptState.UNKNOWN


def test_stat_without_id_is_a_receipt_with_empty_id():
    """A state is enough to be a receipt; with no id it matches nothing."""
    receipt = parse_receipt(b"sub:001 dlvrd:001 stat:DELIVRD")
    assert receipt is not None
    assert receipt.message_id == ""
    assert message_id_keys(receipt.message_id) == frozenset()


@pytest.mark.parametrize(
    "body",
    [b"", b"MCKH 0101701234", b"Xin chao, toi muon hoi ho so", b"paid:1 valid:2", b"id: stat:"],
)
def test_text_with_neither_id_nor_state_is_not_a_receipt(body: bytes):
    """No id and no state: None, so the caller treats the PDU as a citizen's MO."""
    assert parse_receipt(body) is None


def test_key_must_start_a_word():
    """`msgid:` and `status:` are not `id:` and `stat:`."""
    assert parse_receipt(b"msgid:123 status:DELIVRD") is None


# -- TLVs -------------------------------------------------------------------------------


def test_tlv_only_receipt_with_empty_short_message():
    """SMPP 3.4 carriers may send only receipted_message_id and message_state."""
    receipt = parse_receipt(
        b"", receipted_message_id=b"1A2B3C\x00", message_state=2, network_error_code=None
    )
    assert receipt == Receipt(
        message_id="1A2B3C",
        state=ReceiptState.DELIVERED,
        error=None,
        submitted_at=None,
        done_at=None,
        delivered_parts=None,
        text=None,
    )


def test_tlvs_win_over_text_when_they_disagree():
    """The TLVs are typed and cannot be mangled by formatting: they win, field by field."""
    receipt = parse_receipt(
        b"id:999 sub:001 dlvrd:001 submit date:2611221000 done date:2611221001 "
        b"stat:DELIVRD err:000 text:abc",
        receipted_message_id="1A2B3C",
        message_state=5,
        network_error_code=b"\x03\x00\x0b",
    )
    assert receipt is not None
    assert receipt.message_id == "1A2B3C"
    assert receipt.state is ReceiptState.UNDELIVERABLE
    assert receipt.error == "GSM:0x0b"
    assert receipt.submitted_at == "2611221000"
    assert receipt.text == "abc"


def test_receipted_message_id_as_str_or_bytes_reads_the_same():
    """smpplib returns bytes; other callers may pass str. A trailing NUL is dropped."""
    as_bytes = parse_receipt(b"", receipted_message_id=b"abc-1\x00", message_state=2)
    as_str = parse_receipt(b"", receipted_message_id="abc-1", message_state=2)
    assert as_bytes == as_str


@pytest.mark.parametrize(
    ("code", "state"), [(code, state) for state in ReceiptState for code in [state.code]]
)
def test_message_state_tlv_codes(code: int, state: ReceiptState):
    """message_state 1..8 are the SMPP 3.4 §5.2.28 states, in Appendix B order."""
    receipt = parse_receipt(b"", receipted_message_id="1", message_state=code)
    assert receipt is not None
    assert receipt.state is state


def test_undefined_message_state_falls_back_to_text_stat():
    """A message_state outside 1..8 means nothing; the text's stat is used instead."""
    receipt = parse_receipt(b"id:1 stat:EXPIRED", message_state=42)
    assert receipt is not None
    assert receipt.state is ReceiptState.EXPIRED


def test_empty_receipted_message_id_falls_back_to_text_id():
    """An empty TLV id (just the NUL) is no id: the text's id counts."""
    receipt = parse_receipt(b"id:77 stat:DELIVRD", receipted_message_id=b"\x00")
    assert receipt is not None
    assert receipt.message_id == "77"


@pytest.mark.parametrize(
    ("octets", "rendered"),
    [
        (b"\x03\x00\x0b", "GSM:0x0b"),
        (b"\x07\x00\x58", "SMPP:0x58"),
        (b"\x08\x01\x2c", "MC:0x12c"),
        (b"\x63\x00\x01", "99:0x01"),
    ],
)
def test_network_error_code_is_rendered_as_network_and_hex_code(octets: bytes, rendered: str):
    """network_error_code: 1 octet network type (named when known), 2 octets error code."""
    receipt = parse_receipt(b"id:1 stat:UNDELIV err:000", network_error_code=octets)
    assert receipt is not None
    assert receipt.error == rendered


def test_network_error_code_of_wrong_length_is_ignored():
    """Not 3 octets: unusable, so the text's err is kept."""
    receipt = parse_receipt(b"id:1 stat:UNDELIV err:069", network_error_code=b"\x03\x0b")
    assert receipt is not None
    assert receipt.error == "069"


# -- states -----------------------------------------------------------------------------


def test_final_states():
    """ENROUTE, ACCEPTD (carriers' "taken by the SMSC") and UNKNOWN wait for more; the rest end."""
    waiting = {state for state in ReceiptState if not state.final}
    assert waiting == {ReceiptState.ENROUTE, ReceiptState.ACCEPTED, ReceiptState.UNKNOWN}


def test_state_values_are_appendix_b_spellings():
    """The enum's value is what Appendix B writes after `stat:`."""
    assert [str(state) for state in ReceiptState] == [
        "ENROUTE",
        "DELIVRD",
        "EXPIRED",
        "DELETED",
        "UNDELIV",
        "ACCEPTD",
        "UNKNOWN",
        "REJECTD",
    ]
    assert [state.code for state in ReceiptState] == list(range(1, 9))


# -- never raises -----------------------------------------------------------------------


@settings(max_examples=500)
@given(
    body=st.binary(max_size=300),
    receipted_message_id=st.none() | st.binary(max_size=70) | st.text(max_size=70),
    message_state=st.none() | st.integers(),
    network_error_code=st.none() | st.binary(max_size=5),
)
@pytest.mark.slow
def test_parse_receipt_never_raises_on_arbitrary_input(
    body: bytes,
    receipted_message_id: bytes | str | None,
    message_state: int | None,
    network_error_code: bytes | None,
):
    """Any bytes from the SMSC give a Receipt or None, never an exception."""
    result = parse_receipt(
        body,
        receipted_message_id=receipted_message_id,
        message_state=message_state,
        network_error_code=network_error_code,
    )
    assert result is None or isinstance(result, Receipt)


_KEYS = ["id:", "sub:", "dlvrd:", "submit date:", "done_date:", "stat:", "err:", "text:", " "]


@settings(max_examples=500)
@given(
    st.lists(
        st.sampled_from(_KEYS) | st.text(alphabet="0123456789abcdefDELIVRD:- \x00", max_size=12),
        max_size=20,
    ).map("".join)
)
@pytest.mark.slow
def test_parse_receipt_never_raises_on_receipt_shaped_noise(body: str):
    """Keys and values jumbled together (the likelier garbage) never raise either."""
    result = parse_receipt(body.encode())
    assert result is None or isinstance(result, Receipt)


@given(st.text(max_size=80))
def test_message_id_keys_never_raises(message_id: str):
    """Any id string gives a set of keys, empty only for a blank id."""
    keys = message_id_keys(message_id)
    assert bool(keys) == bool(message_id.strip().strip("\x00").strip())


# -- matching ids across formats --------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "receipted"),
    [
        ("1A2B3C", "1715004"),
        ("1715004", "1a2b3c"),
        ("00ab", "171"),
        ("0000001234", "1234"),
        ("ABCDEF", "abcdef"),
        ("ABCDEF", "11259375"),
        ("FFFFFFFFFFFFFFFF", "18446744073709551615"),
        ("18446744073709551615", "ffffffffffffffff"),
        ("7C4F5E2A-1B3D-4E6F-8A9B-0C1D2E3F4A5B", "7c4f5e2a-1b3d-4e6f-8a9b-0c1d2e3f4a5b"),
        ("MSG-00042", "msg-00042"),
        ("0000", "0"),
        (" 12345 ", "12345\x00"),
        ("00a1-b2", "A1-B2"),
        ("0x", "0X"),
    ],
)
def test_ids_of_one_message_match_across_formats(submitted: str, receipted: str):
    """Hex vs decimal, leading zeros, case, padding: the same message's ids share a key."""
    assert same_message(submitted, receipted)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1234", "1235"),
        ("abc-1", "abc-2"),
        ("ABCDEF", "ABCDEE"),
        ("msg-1", "msg-10"),
        ("0a", "0b"),
        ("FFFFFFFFFFFFFFFF", "18446744073709551614"),
        ("", ""),
        ("abc-1", "abc1"),
    ],
)
def test_ids_of_different_messages_do_not_match(a: str, b: str):
    """Different ids, and blank ids, share no key."""
    assert not same_message(a, b)


def test_decimal_and_hex_reading_of_digits_can_collide():
    """The accepted risk: decimal "16" and hex "10" are both 16, so they match."""
    assert same_message("10", "16")


def test_all_digit_id_has_both_readings():
    """An all-digit id could be hex or decimal, so it carries both keys."""
    assert message_id_keys("0010") == frozenset({"n:16", "n:10", "s:10"})


@pytest.mark.parametrize("written", ["0000000A", "a", "0000000a "])
def test_an_id_is_also_keyed_as_written_case_and_leading_zeros_aside(written: str):
    """The key only the same id string has, so a receipt can prefer the part whose id it
    repeats over one that only reads as the same number ("A" and "10" are both 10)."""
    assert exact_key(message_id_keys(written)) == "s:a"
    assert exact_key(message_id_keys("00000010")) == "s:10"


def test_id_with_other_characters_is_matched_as_a_string_without_leading_zeros():
    """Non-numeric ids compare as lower-case strings, leading zeros ignored."""
    assert message_id_keys("00Msg-7") == frozenset({"s:msg-7"})


def test_very_long_digit_ids_are_compared_as_strings():
    """Beyond 128 bits of hex / 40 decimal digits, an id is a string, not a number."""
    long_id = "1" * 50
    assert message_id_keys(long_id) == frozenset({f"s:{long_id}"})
