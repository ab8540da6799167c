"""E-mail addresses: what `email` may carry (address_ok), what a From may be (sender_ok), and
the mask logs show instead of an address."""

from __future__ import annotations

import pytest

from gateway.mail.address import (
    address_ok,
    domain_of,
    mask_address,
    masked_in,
    sender_address,
    sender_ok,
)


class TestAddressOk:
    @pytest.mark.parametrize(
        "addr",
        [
            "nguyenvana@gmail.com",
            "nguyen.van.a@hcm.gov.vn",
            "tran_thi-b+hoso@example.com.vn",
            "0905123456@yahoo.com",
            "a@b.co",
            "x@xn--mt-6ja.vn",
        ],
    )
    def test_a_plain_address_is_accepted(self, addr):
        assert address_ok(addr) is None

    @pytest.mark.parametrize(
        ("addr", "reason"),
        [
            (None, "must be text (an e-mail address)"),
            (905123456, "must be text (an e-mail address)"),
            ("", "is empty"),
            ("   ", "is empty"),
            (" a@b.vn", "has spaces around it"),
            ("a@b.vn\r\nBcc: x@y.vn", "contains a line break or another control character"),
            ("nguyễn@gmail.com", "has letters outside ASCII"),
            ("a@bưu.vn", "has letters outside ASCII"),
            ("Nguyen Van A <a@b.vn>", "must be a bare address like ten@example.vn"),
            ("<a@b.vn>", "must be a bare address like ten@example.vn"),
            ("a@b.vn, c@d.vn", "must be a bare address like ten@example.vn"),
            ("a b@c.vn", "must be a bare address like ten@example.vn"),
            ("nguyenvana.gmail.com", "has no '@'"),
            ("a@b@c.vn", "must contain exactly one '@'"),
            ('"a b"@c.vn', "must be a bare address like ten@example.vn"),
            ("@gmail.com", "has nothing before '@'"),
            ("a@", "has nothing after '@'"),
            (".a@b.vn", "the part before '@' has a character an address may not carry"),
            ("a..b@b.vn", "the part before '@' has a character an address may not carry"),
            ("a.@b.vn", "the part before '@' has a character an address may not carry"),
            ("a@localhost", "the domain has no '.'"),
            ("a@-b.vn", "the domain is not a host name"),
            ("a@b..vn", "the domain is not a host name"),
            ("a@b_c.vn", "the domain is not a host name"),
            ("a@[127.0.0.1]", "must be a bare address like ten@example.vn"),
            ("a@b.123", "the domain does not end in a top-level domain"),
            ("a" * 65 + "@b.vn", "the part before '@' is longer than 64 characters"),
            ("a@" + ("b" * 50 + ".") * 5 + "vn", "is longer than 254 characters"),
        ],
    )
    def test_a_bad_address_is_refused_with_its_reason(self, addr, reason):
        assert (address_ok(addr) or "").startswith(reason), address_ok(addr)

    @pytest.mark.parametrize(
        "addr", ["nguyenvana.gmail.com", "nguyen..van@b.vn", "nguyenvan@b.123", "nguyen@van@c.vn"]
    )
    def test_a_refusal_never_repeats_the_address(self, addr):
        reason = address_ok(addr) or ""

        assert reason
        assert addr not in reason
        assert addr.partition("@")[0] not in reason


class TestSenderOk:
    @pytest.mark.parametrize(
        "value",
        [
            "motcua@hcm.gov.vn",
            "Sở Tư pháp <stp@hcm.gov.vn>",
            "Trung tâm Phục vụ hành chính công <motcua@quangbinh.gov.vn>",
            "<motcua@hcm.gov.vn>",
        ],
    )
    def test_a_bare_address_or_a_name_and_address_is_a_from(self, value):
        assert sender_ok(value) is None

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            (5, "must be text"),
            ("Sở Tư pháp", 'must be an address, or "Name <address>"'),
            ("Sở <stp@hcm>", "the domain has no '.'"),
            ("Sở <a@b.vn> <c@d.vn>", 'must be an address, or "Name <address>"'),
            ("Sở <a@b.vn", 'must be an address, or "Name <address>"'),
            ('"Sở" <a@b.vn>', "the name may not contain quotes"),
            ("Sở, Ban <a@b.vn>", "the name may not contain quotes"),
            ("x@y.vn <a@b.vn>", "the name may not contain quotes"),
            ("Sở\n <a@b.vn>", "contains a line break"),
            ("Sở <a@b.vn>\r\nBcc: c@d.vn", "contains a line break"),
        ],
    )
    def test_a_bad_from_is_refused_with_its_reason(self, value, reason):
        assert (sender_ok(value) or "").startswith(reason), sender_ok(value)

    def test_the_address_of_a_from_is_its_bare_address(self):
        assert sender_address("Sở Tư pháp <stp@hcm.gov.vn>") == "stp@hcm.gov.vn"
        assert domain_of(sender_address("stp@HCM.gov.vn")) == "hcm.gov.vn"


class TestMask:
    def test_an_address_keeps_its_domain_and_first_character_only(self):
        assert mask_address("nguyenvana@gmail.com") == "n*********@gmail.com"

    def test_a_phone_number_as_local_part_does_not_come_out(self):
        masked = mask_address("0905123456@gmail.com")

        assert "905123456" not in masked
        assert masked.endswith("@gmail.com")

    @pytest.mark.parametrize(("addr", "masked"), [("a@b.vn", "*@b.vn"), ("nothing", "*******")])
    def test_short_or_odd_values_are_masked_whole(self, addr, masked):
        assert mask_address(addr) == masked

    def test_addresses_inside_a_server_reply_are_masked(self):
        reply = "5.1.1 <nguyenvana@gmail.com>: Recipient address rejected"

        assert masked_in(reply) == "5.1.1 <n*********@gmail.com>: Recipient address rejected"
