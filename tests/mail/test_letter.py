"""The letter a notice becomes: the text as composed, the receipt's QR code inline and
attached, a Vietnamese subject, and a Message-ID that is the same for the same message.

Each letter is read back from its bytes by the stdlib parser, as a receiving system would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.mail.address import address_ok
from gateway.mail.letter import build, message_id_header, qr_png
from tests.support.letters import decoded, text_of

SENDER = "Sở Tư pháp <stp@hcm.gov.vn>"
TO = "nguyenvana@gmail.com"
SUBJECT = "Hồ sơ 000.00.06.H56-231027-0361: đã tiếp nhận"
BODY = (
    "Kính gửi ông/bà Nguyễn Văn Ánh,\n"
    "Sở Tư pháp đã tiếp nhận hồ sơ số 000.00.06.H56-231027-0361 "
    "(Cấp Phiếu lý lịch tư pháp).\n"
    "Ngày hẹn trả kết quả: 25/11/2026. Đường dây nóng: 1900 0000.\n"
)
RECEIPT = "000.00.06.H56-231027-0361"


def letter(**over: object) -> EmailMessage:
    fields: dict[str, object] = {
        "sender": SENDER,
        "to": TO,
        "subject": SUBJECT,
        "body": BODY,
        "qr": RECEIPT,
        "message_id": "rcpt-STP-000.00.06.H56-231027-0361",
    }
    fields.update(over)
    return build(**fields)  # type: ignore[arg-type]


def read_back(msg: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(msg: EmailMessage) -> list[EmailMessage]:
    return [part for part in msg.walk() if isinstance(part, EmailMessage)]


class TestText:
    def test_the_body_reads_back_exactly_with_its_diacritics(self):
        plain = read_back(letter()).get_body(("plain",))

        assert text_of(plain) == BODY
        assert plain is not None and plain.get_content_charset() == "utf-8"

    def test_the_wire_form_is_seven_bit_so_any_relay_passes_it_unchanged(self):
        wire = letter().as_bytes()

        assert max(wire) < 128

    def test_the_subject_is_rfc2047_encoded_and_decodes_to_the_text(self):
        msg = letter()
        raw_header = next(
            line for line in msg.as_bytes().split(b"\r\n") if line.startswith(b"Subject:")
        )

        assert b"=?utf-8?" in raw_header
        assert read_back(msg)["Subject"] == SUBJECT

    def test_the_from_name_in_vietnamese_decodes_to_the_configured_one(self):
        sender = read_back(letter())["From"]

        assert (sender.addresses[0].display_name, sender.addresses[0].addr_spec) == (
            "Sở Tư pháp",
            "stp@hcm.gov.vn",
        )

    def test_a_line_break_in_the_subject_becomes_a_space(self):
        msg = read_back(letter(subject="Cấp Giấy chứng nhận\r\n  đủ điều kiện"))

        assert msg["Subject"] == "Cấp Giấy chứng nhận đủ điều kiện"

    def test_the_date_header_is_the_given_time(self):
        at = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)

        assert read_back(letter(date=at))["Date"].datetime == at


class TestMessageId:
    def test_the_same_message_gets_the_same_message_id_at_every_build(self):
        first = letter(date=datetime(2026, 11, 22, 3, 0, tzinfo=UTC))
        again = letter(date=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

        assert first["Message-ID"] == again["Message-ID"]

    def test_the_message_id_is_made_of_our_id_and_the_from_domain(self):
        assert letter()["Message-ID"] == "<m.rcpt-STP-000.00.06.H56-231027-0361@hcm.gov.vn>"

    def test_different_messages_get_different_message_ids(self):
        assert letter(message_id="a-1")["Message-ID"] != letter(message_id="a-2")["Message-ID"]

    @pytest.mark.parametrize("ours", ["fee 2026/991", "a@b", "<x>", "..", "Hồ sơ"])
    def test_an_id_that_is_not_dot_atom_text_gives_a_valid_stable_message_id(self, ours):
        header = message_id_header(ours, SENDER)

        assert header == message_id_header(ours, SENDER)
        assert header.startswith("<h.") and header.endswith("@hcm.gov.vn>")
        assert read_back(letter(message_id=ours))["Message-ID"] == header


class TestQrCode:
    def test_a_letter_with_a_receipt_carries_its_code_inline_beside_the_html(self):
        msg = read_back(letter())
        html = msg.get_body(("html",))
        assert html is not None
        inline = [p for p in parts(msg) if p["Content-ID"]]

        assert len(inline) == 1
        assert inline[0].get_content_type() == "image/png"
        cid = inline[0]["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html.get_content()

    def test_the_html_shows_the_body_text_escaped(self):
        html = read_back(letter(body="Phí <50.000> & lệ phí")).get_body(("html",))

        assert html is not None
        assert "Phí &lt;50.000&gt; &amp; lệ phí" in html.get_content()

    def test_the_same_code_is_attached_as_a_png_named_after_the_receipt(self):
        msg = read_back(letter())
        attachments = list(msg.iter_attachments())

        assert [a.get_filename() for a in attachments] == [f"{RECEIPT}.png"]
        inline = next(p for p in parts(msg) if p["Content-ID"])
        assert attachments[0].get_content() == inline.get_content()

    @pytest.mark.parametrize("receipt", [RECEIPT, "0101701234", "HS-2026/0042"])
    def test_the_code_decodes_back_to_the_receipt_number(self, receipt):
        attachment = next(read_back(letter(qr=receipt)).iter_attachments())

        assert decoded(attachment.get_content()) == [receipt]

    def test_a_numeric_receipt_is_a_full_qr_symbol_not_a_micro_qr(self):
        """zxing-cpp reports a Micro QR as a format of its own: a full symbol is what
        phone scanners read."""
        assert decoded(qr_png("0101701234")) == ["0101701234"]

    def test_a_receipt_with_a_slash_is_attached_under_a_file_name_without_it(self):
        attachment = next(read_back(letter(qr="HS-2026/0042")).iter_attachments())

        assert attachment.get_filename() == "HS-2026_0042.png"

    def test_a_letter_without_a_receipt_is_plain_text_alone(self):
        msg = read_back(letter(qr=None))

        assert msg.get_content_type() == "text/plain"
        assert text_of(msg) == BODY


class TestRefusals:
    @pytest.mark.parametrize("to", ["nguyenvana", "a@b.vn, c@d.vn", "x@y.vn\r\nBcc: z@w.vn"])
    def test_a_bad_recipient_is_refused_before_any_letter_exists(self, to):
        with pytest.raises(ValueError, match=r"^to: "):
            letter(to=to)

    def test_a_bad_sender_is_refused(self):
        with pytest.raises(ValueError, match=r"^sender: "):
            letter(sender="Sở Tư pháp")

    def test_an_empty_receipt_for_the_code_is_refused(self):
        with pytest.raises(ValueError, match=r"^qr: is empty"):
            letter(qr=" ")


# Address-shaped text, with the characters that trip parsers (dots, quotes, '+', '='...).
ADDRESS_LIKE = st.from_regex(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\"(),;<> -]{1,20}@[A-Za-z0-9._-]{1,20}\.[a-z0-9]{1,4}",
    fullmatch=True,
)


class TestAddressesThatPass:
    @given(addr=ADDRESS_LIKE)
    def test_every_address_accepted_reads_back_from_the_to_header_unchanged(self, addr):
        """The one check agrees with the stdlib's header parser: what intake lets through
        reaches the server as the address the desk typed, never a different one."""
        if address_ok(addr) is not None:
            return
        to = read_back(letter(to=addr))["To"]

        assert [a.addr_spec for a in to.addresses] == [addr]

    @given(text=st.text(max_size=80))
    def test_any_text_gets_an_answer_never_an_exception(self, text):
        assert address_ok(text) is None or isinstance(address_ok(text), str)
