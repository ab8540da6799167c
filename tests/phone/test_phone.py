"""Phone numbers as desk staff type them: what is accepted, what is refused and why."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.phone.numbers import REASONS, PhoneError, is_phone_number, mask_phone, normalise_phone
from gateway.phone.places import COUNTRIES, VN_AREAS

ACCEPTED = [
    # (typed, international form)
    ("0905123456", "84905123456"),
    ("0905 123 456", "84905123456"),
    ("+84 905.123.456", "84905123456"),
    ("0084905123456", "84905123456"),
    ("84905123456", "84905123456"),
    ("+84905123456", "84905123456"),
    ("(+84) 90-512-3456", "84905123456"),
    ("+84 (0) 905 123 456", "84905123456"),
    ("  0905\u00a0123\u00a0456 ", "84905123456"),
    ("0905–123–456", "84905123456"),
    ("0869 123 456", "84869123456"),  # Viettel
    ("0559 123 456", "84559123456"),  # Reddi
    ("0877 123 456", "84877123456"),  # Itel, on VinaPhone's range
    ("0389123456", "84389123456"),
    ("0707 123 456", "84707123456"),
    # Pre-2018 11-digit numbers: the prefix changes, the last 7 digits stay.
    ("01689123456", "84389123456"),
    ("0162 912 3456", "84329123456"),
    ("+84 1689 123 456", "84389123456"),
    ("841689123456", "84389123456"),
    ("01201234567", "84701234567"),
    ("01211234567", "84791234567"),
    ("01221234567", "84771234567"),
    ("01231234567", "84831234567"),
    ("01241234567", "84841234567"),
    ("01251234567", "84851234567"),
    ("01261234567", "84761234567"),
    ("01271234567", "84811234567"),
    ("01281234567", "84781234567"),
    ("01291234567", "84821234567"),
    ("01861234567", "84561234567"),
    ("01881234567", "84581234567"),
    ("01991234567", "84591234567"),
]

REFUSED = [
    # (typed, reason)
    ("0258 3822 123", "landline"),  # Khánh Hòa
    ("028 3520 2323", "landline"),  # Hồ Chí Minh City
    ("+84 24 3825 3536", "landline"),  # Hà Nội
    ("1900 1234", "service_number"),
    ("1900 123 456", "service_number"),
    ("1800 599 920", "service_number"),
    ("+84 1900 1234", "service_number"),
    ("1992000", "service_number"),
    ("090512345", "too_short"),
    ("0905 1234", "too_short"),
    ("849051234", "too_short"),  # 84 + 7 digits, not 084 905 1234
    ("+84", "too_short"),
    ("113", "too_short"),
    ("09051234567", "too_long"),
    ("0905 123 456 78", "too_long"),
    ("0" * 20, "too_long"),
    ("0905123456" * 7, "too_long"),
    ("abc", "invalid_characters"),
    ("0905123456, 0912345678", "invalid_characters"),
    ("0905 123 456 ext 2", "invalid_characters"),
    ("0905+123456", "invalid_characters"),
    ("++84905123456", "invalid_characters"),
    ("０９０５１２３４５６", "invalid_characters"),  # full-width digits
    ("0905\t123456", "invalid_characters"),  # a tab: two form fields run together
    ("0905\n123 456", "invalid_characters"),
    ("", "missing"),
    ("   ", "missing"),
    ("-", "missing"),
    (None, "missing"),
    (905123456, "not_text"),
    (84905123456.0, "not_text"),
    (True, "not_text"),
    (b"0905123456", "not_text"),
    (["0905123456"], "not_text"),
    ("+1 650 253 0000", "not_vietnamese"),
    ("001 650 253 0000", "not_vietnamese"),
    ("+44 20 7946 0000", "not_vietnamese"),
    ("905123456", "invalid"),  # leading 0 lost
    ("1689123456", "invalid"),  # old number, leading 0 lost
    ("0521234567", "invalid"),  # unassigned mobile prefix
    ("01301234567", "invalid"),  # 11 digits with no 2018 conversion
    ("+1 123", "invalid"),
    ("+84 00 905 123 456", "invalid"),
]


class TestNormalisePhone:
    @pytest.mark.parametrize(("typed", "expected"), ACCEPTED)
    def test_mobile_numbers_come_out_in_international_form(self, typed: str, expected: str):
        """Layout, +84/0084/84/0 and pre-2018 prefixes all give the same 84… digits."""
        assert normalise_phone(typed) == expected

    @pytest.mark.parametrize(("typed", "reason"), REFUSED)
    def test_refusals_carry_the_reason_code(self, typed: object, reason: str):
        """Every refusal is a PhoneError whose reason the one-stop software can act on."""
        with pytest.raises(PhoneError) as info:
            normalise_phone(typed)

        assert reason == info.value.reason

    def test_every_reason_is_reachable(self):
        """Each documented reason code has at least one case in the table."""
        assert {reason for _, reason in REFUSED} == REASONS

    def test_phone_error_is_a_value_error(self):
        """Callers that catch ValueError for bad input catch PhoneError too."""
        with pytest.raises(ValueError):
            normalise_phone("abc")

    def test_84_prefix_is_never_a_national_number(self):
        """849051234 is refused, never sent to +84 84 905 1234."""
        with pytest.raises(PhoneError) as info:
            normalise_phone("849051234")

        assert "country code" in str(info.value)

    def test_landline_names_the_province_and_area_code(self):
        """The desk learns which landline it typed, without the number being repeated."""
        with pytest.raises(PhoneError) as info:
            normalise_phone("0258 3822 123")

        assert (
            str(info.value)
            == "phone: landline number (Khánh Hòa area code 0258), SMS needs a mobile"
        )

    def test_service_number_says_which_kind(self):
        """1900 numbers are named as premium-rate, 1800 as toll-free."""
        with pytest.raises(PhoneError) as premium:
            normalise_phone("1900 1234")
        with pytest.raises(PhoneError) as toll_free:
            normalise_phone("1800 599 920")

        assert "1900 premium-rate" in str(premium.value)
        assert "1800 toll-free" in str(toll_free.value)

    def test_foreign_number_names_the_country(self):
        """A valid foreign number is refused as not Vietnamese, naming its country."""
        with pytest.raises(PhoneError) as info:
            normalise_phone("+1 650 253 0000")

        assert "United States" in str(info.value)

    def test_not_text_explains_the_lost_zero(self):
        """A JSON number is refused with the reason it cannot work: the 0 is gone."""
        with pytest.raises(PhoneError) as info:
            normalise_phone(905123456)

        assert "leading 0" in str(info.value)

    def test_invalid_character_is_named(self):
        """The offending character is shown, with a hint when it separates two numbers."""
        with pytest.raises(PhoneError) as info:
            normalise_phone("0905123456; 0912345678")

        assert "';'" in str(info.value)
        assert "one number only" in str(info.value)

    def test_length_refusal_says_how_many_digits_are_needed(self):
        """too_short tells the desk how long a mobile number is."""
        with pytest.raises(PhoneError) as info:
            normalise_phone("090512345")

        assert (
            str(info.value)
            == "phone: too short: 9 digits, a mobile number has 10 digits starting with 0"
        )

    @pytest.mark.parametrize(
        "typed",
        [
            "0258 3822 123",
            "09051234567",
            "0905123456, 0912345678",
            "+1 650 253 0000",
            "1900 123 456",
            "905123456",
            "0521234567",
            "849051234",
        ],
    )
    def test_refusals_do_not_repeat_the_number(self, typed: str):
        """The number is personal data: the message carries at most a prefix of it."""
        digits = re.sub(r"\D", "", typed)
        with pytest.raises(PhoneError) as info:
            normalise_phone(typed)

        assert digits not in re.sub(r"\D", "", str(info.value))

    def test_fast_enough_for_every_message(self):
        """Tens of microseconds per number: validating never limits throughput."""
        n = 2000
        start = time.perf_counter()
        for _ in range(n):
            normalise_phone("0905 123 456")
        per_call = (time.perf_counter() - start) / n

        assert per_call < 200e-6


_DIGITS_AND_LAYOUT = st.text(alphabet="0123456789 +-.()", max_size=30)


class TestNormalisePhoneProperties:
    @settings(max_examples=400, deadline=None)
    @given(st.one_of(st.text(max_size=80), _DIGITS_AND_LAYOUT))
    def test_only_phone_error_escapes(self, raw: str):
        """Whatever the text, the result is an 84… mobile number or a PhoneError."""
        try:
            result = normalise_phone(raw)
        except PhoneError as exc:
            assert exc.reason in REASONS
        else:
            assert re.fullmatch(r"84\d{9}", result)

    @settings(max_examples=400, deadline=None)
    @given(st.one_of(st.text(max_size=80), _DIGITS_AND_LAYOUT))
    def test_refusal_never_contains_the_typed_digits(self, raw: str):
        """A refused input with 9 digits or more never shows up in the message."""
        digits = re.sub(r"[^0-9]", "", raw)
        try:
            normalise_phone(raw)
        except PhoneError as exc:
            if len(digits) >= 9:
                assert digits not in re.sub(r"[^0-9]", "", str(exc))

    @pytest.mark.slow
    @settings(max_examples=200, deadline=None)
    @given(st.from_regex(r"0[35789][0-9]{8}", fullmatch=True))
    def test_accepted_numbers_are_stable(self, national: str):
        """Normalising an accepted number's own output gives it back unchanged."""
        try:
            first = normalise_phone(national)
        except PhoneError:
            return
        assert first == normalise_phone(first)
        assert first == normalise_phone("+" + first)


class TestMaskPhone:
    @pytest.mark.parametrize(
        ("msisdn", "masked"),
        [
            ("84905123456", "8490*****56"),
            ("84389123456", "8438*****56"),
            ("0905123456", "0905****56"),
            ("905123456", "*******56"),
            ("8083", "**83"),
            ("123", "*23"),
            ("12", "**"),
            ("1", "*"),
            ("", ""),
        ],
    )
    def test_masks_all_but_a_few_digits(self, msisdn: str, masked: str):
        """First 4 and last 2 of a full number stay; short strings keep only the last 2."""
        assert masked == mask_phone(msisdn)

    @given(st.text(alphabet="0123456789", max_size=20))
    def test_never_returns_the_full_number(self, msisdn: str):
        """At least one digit is hidden, and the length is kept."""
        masked = mask_phone(msisdn)

        assert len(msisdn) == len(masked)
        if msisdn:
            assert masked != msisdn


class TestPlaceNames:
    """The names in refusals come from tables kept in step with phonenumbers' geocoder."""

    def test_vietnamese_area_codes_match_the_geocoder(self):
        from phonenumbers import geodata

        expected = {
            prefix[2:]: names["vi"]
            for prefix, names in geodata.GEOCODE_DATA.items()
            if prefix.startswith("84") and "vi" in names
        }
        assert expected == VN_AREAS

    def test_country_names_match_the_geocoder(self):
        from phonenumbers import geocoder

        checked = 0
        for region, name in COUNTRIES.items():
            example = phonenumbers.example_number(region)
            said = example and geocoder.country_name_for_number(example, "en")
            if said:
                assert said == name, region
                checked += 1
        assert checked > 200

    def test_the_daemon_does_not_load_the_geocoding_data(self):
        """Every country in every language: about 100 MB resident, for two messages."""
        code = "import sys, gateway.app; print('phonenumbers.geodata' in sys.modules)"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.stdout.strip() == "False", done.stderr


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("0905123456", True),
        ("84905123456", True),
        ("+84 905 123 456", True),
        ("02583822123", True),  # a landline is still somebody's telephone
        ("19001234", True),  # a service number too
        ("0101701234", False),  # the provincial receipt form: no such number
        ("000.00.06.H56-231027-0361", False),
        ("0999", False),
    ],
)
def test_is_phone_number_tells_telephone_numbers_from_receipts(text, phone):
    """MCKH lookups drop a citizen's own number rather than answer it as a receipt."""
    assert is_phone_number(text) is phone


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("0891234567", "0891 is not an allocated mobile block (089 has only 0896-0899)"),
        ("+84 891 234 567", "0891 is not an allocated mobile block (089 has only 0896-0899)"),
        ("0521234567", "0521 is not an allocated mobile block (052 has only 0522, 0523, 0528)"),
        ("0551234567", "0551 is not an allocated mobile block (055 has only 0559)"),
        (
            "0992123456",
            "0992 is not an allocated mobile block (099 has only 0990, 0991, 0993-0999)",
        ),
        ("0711234567", "071 is not a Vietnamese mobile prefix"),
        ("0801234567", "080 is not a Vietnamese mobile prefix"),
        ("0501234567", "050 is not a Vietnamese mobile prefix"),
        ("0101701234", "010 is not a Vietnamese mobile prefix"),
        ("0461234567", "04 is not a Vietnamese mobile prefix"),
        ("02012345678", "0201 is not a Vietnamese area code"),
        ("02171234567", "0217 is not a Vietnamese area code"),
    ],
)
def test_unallocated_number_names_the_block_checked(number, message):
    """The refusal names the shortest block phonenumbers has nothing in, and the allocated
    blocks beside it, never the number itself."""
    with pytest.raises(PhoneError) as info:
        normalise_phone(number)

    assert (info.value.reason, str(info.value)) == ("invalid", f"phone: {message}")
    assert re.search(r"\d{6}", str(info.value)) is None


@pytest.mark.parametrize("block", ["0896", "0897", "0898", "0899"])
def test_allocated_089_blocks_are_accepted(block):
    """The blocks the 0891 refusal names as allocated are accepted, by phonenumbers."""
    number = block + "123456"
    parsed = phonenumbers.parse(number, "VN")

    assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    assert normalise_phone(number) == "84" + number[1:]


@pytest.mark.parametrize("block", ["0890", "0891", "0892", "0893", "0894", "0895"])
def test_every_unallocated_089_block_is_refused_by_its_own_name(block):
    with pytest.raises(PhoneError, match=f"phone: {block} is not an allocated mobile block"):
        normalise_phone(block + "123456")
