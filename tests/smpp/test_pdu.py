"""The codec: byte-exact PDUs, length checks before the body, one error type for bad input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.smpp import pdu
from gateway.smpp.errors import FramingError, ProtocolError
from gateway.smpp.pdu import CommandId, Status, StatusClass, StatusTable
from tests.support.pdu import DATA_SM_HEAD, DELIVER_HEAD, frame


class TestEncode:
    def test_enquire_link_is_a_bare_header(self):
        """Body-less PDUs are exactly 16 octets."""
        assert pdu.encode_header_only(CommandId.ENQUIRE_LINK, 7) == bytes.fromhex(
            "00000010"  # command_length 16
            "00000015"  # enquire_link
            "00000000"  # status
            "00000007"  # sequence 7
        )

    def test_submit_sm_layout(self):
        """submit_sm fields in SMPP 3.4 order, C-strings NUL-terminated, sm_length set."""
        frame = pdu.encode(
            "submit_sm",
            2,
            service_type="",
            source_addr_ton=5,
            source_addr_npi=0,
            source_addr="MotcuaSMS",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="84905123456",
            esm_class=0,
            registered_delivery=1,
            data_coding=0,
            short_message=b"Hi",
        )

        assert (
            frame
            == bytes.fromhex(
                "00000037"  # command_length 55
                "00000004"  # submit_sm
                "00000000"  # status
                "00000002"  # sequence 2
                "00"  # service_type ""
                "05"
                "00" + b"MotcuaSMS".hex() + "00" + "01"  # source TON alphanumeric, NPI unknown
                "01"  # dest TON international, NPI ISDN
                 + b"84905123456".hex() + "00" + "00"  # esm_class
                "00"
                "00"  # protocol_id, priority_flag
                "00"
                "00"  # schedule_delivery_time, validity_period
                "01"  # registered_delivery
                "00"  # replace_if_present_flag
                "00"  # data_coding
                "00"  # sm_default_msg_id
                "02"  # sm_length
                 + b"Hi".hex()
            )
        )

    def test_sequence_belongs_to_the_caller(self):
        """Two encodes with the same sequence give the same bytes: no global counter."""
        assert pdu.encode("enquire_link", 99) == pdu.encode("enquire_link", 99)
        assert pdu.header(pdu.encode("submit_sm_resp", 5, message_id="1"))[3] == 5


class TestDecode:
    def test_round_trip_of_submit_sm_resp(self):
        """A response decodes with its status, sequence and id."""
        frame = pdu.encode("submit_sm_resp", 42, Status.ESME_RTHROTTLED, message_id="A1B2")

        decoded = pdu.decode(frame)

        assert (decoded.command, decoded.status, decoded.sequence) == (
            "submit_sm_resp",
            Status.ESME_RTHROTTLED,
            42,
        )
        assert pdu.text_field(decoded.message_id) == "A1B2"

    def test_unknown_command_id_is_a_protocol_error_with_its_sequence(self):
        """So the session can answer generic_nack ESME_RINVCMDID to the right sequence."""
        frame = bytes.fromhex("00000010000000ff000000000000002a")

        with pytest.raises(ProtocolError) as err:
            pdu.decode(frame)

        assert (err.value.sequence, err.value.status) == (42, Status.ESME_RINVCMDID)

    def test_length_field_disagreeing_with_frame_is_rejected(self):
        """command_length must equal the octets actually framed."""
        frame = pdu.encode("enquire_link", 1) + b"\x00"

        with pytest.raises(ProtocolError) as err:
            pdu.decode(frame)

        assert err.value.status == Status.ESME_RINVCMDLEN

    def test_truncated_tlv_is_a_protocol_error(self):
        """smpplib's struct.error on a cut TLV comes out as ProtocolError."""
        body = pdu.encode("deliver_sm", 3, short_message=b"x")[16:] + b"\x04\x27\x00"
        frame = (16 + len(body)).to_bytes(4, "big") + bytes.fromhex("0000000500" * 4)
        frame += (3).to_bytes(4, "big") + body

        with pytest.raises(ProtocolError):
            pdu.decode(frame)

    @pytest.mark.parametrize("length", [0, 15, 64 * 1024 + 1, 0xFFFFFFFF])
    def test_impossible_lengths_are_framing_errors(self, length):
        """Checked before reading the body: past a bad length there are no frames."""
        with pytest.raises(FramingError):
            pdu.check_length(length)

    @settings(max_examples=500)
    @given(
        command_id=st.sampled_from([int(c) for c in CommandId] + [0, 0x104, 0x80000104]),
        body=st.binary(max_size=300),
    )
    def test_any_body_decodes_or_raises_protocol_error(self, command_id, body):
        """Whatever the bytes, decode gives a PDU or a ProtocolError, nothing else."""
        frame = (16 + len(body)).to_bytes(4, "big") + command_id.to_bytes(4, "big")
        frame += b"\x00\x00\x00\x00" + b"\x00\x00\x00\x01" + body
        with contextlib.suppress(ProtocolError):
            pdu.decode(frame)


class TestBodyLayout:
    """smpplib reads past these faults; the codec refuses them before it does."""

    @pytest.mark.parametrize(
        ("command_id", "body", "reason", "status"),
        [
            pytest.param(
                CommandId.DELIVER_SM, b"abcdefgh", "without its NUL",
                Status.ESME_RSYSERR, id="c-string-without-nul",
            ),
            pytest.param(
                CommandId.DELIVER_SM, DELIVER_HEAD[:-3], "body ends at field",
                Status.ESME_RSYSERR, id="body-ends-early",
            ),
            pytest.param(
                CommandId.DELIVER_SM, DELIVER_HEAD, "body ends before sm_length",
                Status.ESME_RINVMSGLEN, id="no-sm-length",
            ),
            pytest.param(
                CommandId.DELIVER_SM, DELIVER_HEAD + bytes([50]) + b"short", "sm_length 50",
                Status.ESME_RINVMSGLEN, id="sm-length-past-the-end",
            ),
            pytest.param(
                CommandId.DELIVER_SM, DELIVER_HEAD + b"\2hi" + b"\x04\x24\x00\xffx",
                "TLV 0x0424: length 255", Status.ESME_RINVPARLEN, id="tlv-past-the-end",
            ),
            pytest.param(
                CommandId.DELIVER_SM, DELIVER_HEAD + b"\2hi\x04", "stray bytes",
                Status.ESME_RINVPARLEN, id="stray-bytes",
            ),
            pytest.param(
                CommandId.DATA_SM, DATA_SM_HEAD[:-1], "body ends at field",
                Status.ESME_RSYSERR, id="data-sm-short",
            ),
            pytest.param(
                CommandId.SUBMIT_SM, DELIVER_HEAD + b"\x09hi", "sm_length 9",
                Status.ESME_RINVMSGLEN, id="submit-sm-length",
            ),
        ],
    )  # fmt: skip
    def test_broken_structure_is_a_protocol_error(self, command_id, body, reason, status):
        with pytest.raises(ProtocolError, match=reason) as caught:
            pdu.decode(frame(command_id, body))
        assert caught.value.status == status
        assert caught.value.sequence == 7

    def test_deliver_sm_with_tlvs_that_fill_the_body_decodes(self):
        got = pdu.decode(frame(CommandId.DELIVER_SM, DELIVER_HEAD + b"\2hi\x04\x27\x00\x01\x02"))
        assert got.short_message == b"hi"
        assert got.message_state == 2

    @pytest.mark.parametrize("padding", [1, 3, 4, 9])
    def test_zero_padding_after_the_mandatory_body_is_accepted(self, padding):
        """Carriers pad deliver_sm with NULs; SMPP 3.4 has no TLV 0x0000, so it is padding."""
        got = pdu.decode(frame(CommandId.DELIVER_SM, DELIVER_HEAD + b"\2hi" + bytes(padding)))
        assert got.short_message == b"hi"

    def test_zero_padding_after_the_last_tlv_is_accepted(self):
        body = DELIVER_HEAD + b"\2hi\x04\x27\x00\x01\x02" + bytes(2)
        got = pdu.decode(frame(CommandId.DELIVER_SM, body))
        assert got.message_state == 2

    def test_vendor_tlvs_are_skipped_and_the_known_ones_kept(self):
        """Vendor tags (0x1400-0x3FFF) anywhere among the TLVs are skipped by their length."""
        body = (
            DELIVER_HEAD + b"\2hi" + b"\x14\x01\x00\x03abc" + b"\x04\x27\x00\x01\x02"
            + b"\x00\x1e\x00\x0312\x00" + b"\x30\x00\x00\x00"
        )  # fmt: skip
        got = pdu.decode(frame(CommandId.DELIVER_SM, body))
        assert (got.short_message, got.message_state) == (b"hi", 2)
        assert pdu.text_field(got.receipted_message_id) == "12"

    def test_standard_tlv_smpplib_cannot_read_is_skipped(self):
        """A tag smpplib's deliver_sm table lacks (dest_addr_subunit) and an integer TLV of
        the wrong length (a 4-octet user_message_reference) would raise or shift the rest:
        skipped, the others read."""
        body = (
            DELIVER_HEAD + b"\2hi" + b"\x00\x05\x00\x01\x01"
            + b"\x02\x04\x00\x04\x00\x00\x00\x01" + b"\x04\x27\x00\x01\x02"
        )  # fmt: skip
        got = pdu.decode(frame(CommandId.DELIVER_SM, body))
        assert got.message_state == 2

    @pytest.mark.parametrize("tail", [b"\x00\x01", b"\x00\x00\x07", b"\x04\x27\x00"])
    def test_non_zero_bytes_too_short_for_a_tlv_are_still_refused(self, tail):
        with pytest.raises(ProtocolError, match="stray bytes"):
            pdu.decode(frame(CommandId.DELIVER_SM, DELIVER_HEAD + b"\2hi" + tail))

    def test_data_sm_with_its_payload_in_a_tlv_decodes(self):
        got = pdu.decode(frame(CommandId.DATA_SM, DATA_SM_HEAD + b"\x04\x24\x00\x02hi"))
        assert got.command == "data_sm"


class TestValidity:
    @pytest.mark.parametrize(
        ("seconds", "expected"),
        [
            (48 * 3600, "000002000000000R"),
            (3661.9, "000000010101000R"),
            (0, "000000000001000R"),
            (-5, "000000000001000R"),
            (10**9, "000099235959000R"),
        ],
    )
    def test_relative_validity_format(self, seconds, expected):
        """Days, hours, minutes, seconds left; rounded down; at least 1 s, at most 99 days."""
        assert pdu.relative_validity(seconds) == expected


class TestStatusTable:
    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            (Status.ESME_ROK, StatusClass.OK),
            (Status.ESME_RTHROTTLED, StatusClass.THROTTLE),
            (Status.ESME_RMSGQFUL, StatusClass.TRANSIENT),
            (Status.ESME_RSYSERR, StatusClass.TRANSIENT),
            (Status.ESME_RX_T_APPN, StatusClass.TRANSIENT),
            (Status.ESME_RINVBNDSTS, StatusClass.REBIND),
            (Status.ESME_RX_P_APPN, StatusClass.PERMANENT),
            (Status.ESME_RINVEXPIRY, StatusClass.PERMANENT),
            (Status.ESME_RINVDSTADR, StatusClass.PERMANENT),
            (Status.ESME_RSUBMITFAIL, StatusClass.PERMANENT),
            (0x400, StatusClass.PERMANENT),
        ],
    )
    def test_default_classes(self, status, expected):
        """Throttle pauses; bind status rebinds; queue-full, system error and the
        temporary app error are retried; the rest is permanent."""
        assert StatusTable().classify(status) is expected

    def test_overrides_replace_defaults(self):
        """The operator can reclassify any status for a carrier's habits."""
        table = StatusTable({0x0B: "transient", 0x58: "permanent"})

        assert table.classify(0x0B) is StatusClass.TRANSIENT
        assert table.classify(0x58) is StatusClass.PERMANENT

    def test_unknown_status_is_named_in_hex(self):
        assert pdu.status_name(0x450) == "0x00000450"
        assert pdu.status_name(0x58) == "ESME_RTHROTTLED"
