"""SMS text: GSM 03.38 / UCS-2 choice, concatenation, UDH, MO decoding, references."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.smpp.text import (
    GSM7,
    UCS2,
    Concat,
    Encoded,
    ReferenceAllocator,
    decode,
    encode,
    fits_gsm7,
    gsm7_length,
    segment_count,
    split_udh,
    strip_diacritics,
)

RECEIPT = "0101701234"
AGENCY = "Sở Công Thương"
DUE = "25/11/2026"

# The SPEC's default notices, filled in for Sở Công Thương and receipt 0101701234.
NOTICES = {
    "result": (
        f"Thông báo: Hồ sơ của quý Ông/Bà ({RECEIPT}) đã được giải quyết xong. "
        f"Mời Ông/Bà đến Bộ phận Một cửa {AGENCY} để nhận kết quả"
    ),
    "supplement": (
        f"Thông báo: Hồ sơ của quý Ông/Bà ({RECEIPT}) cần bổ sung theo quy định. "
        f"Mời Ông/Bà đến Bộ phận Một cửa {AGENCY} để nhận thông báo"
    ),
    "apology": (
        f"Thông báo: Hồ sơ của quý Ông/Bà ({RECEIPT}) chưa có kết quả vào ngày {DUE}. "
        f"{AGENCY} chân thành xin lỗi. "
        "Ông/Bà vui lòng đến nhận kết quả khi có tin nhắn tiếp theo"
    ),
    "receipt": (
        f"Thông báo: {AGENCY} đã tiếp nhận hồ sơ của quý Ông/Bà ({RECEIPT}). "
        f"Ngày hẹn trả kết quả: {DUE}"
    ),
    "payment": (
        f"Thông báo: Hồ sơ của quý Ông/Bà ({RECEIPT}) cần thực hiện nghĩa vụ tài chính. "
        f"Mời Ông/Bà liên hệ Bộ phận Một cửa {AGENCY} hoặc thanh toán trực tuyến"
    ),
    "mckh": (
        f"Hồ sơ của quý Ông/Bà ({RECEIPT}) hiện đang ở bước Thẩm định hồ sơ, "
        "trạng thái hồ sơ: Đúng hạn."
    ),
}

# Every Vietnamese letter: 12 vowels x 6 tones, both cases, plus đ/Đ.
_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
VIETNAMESE_LETTERS = sorted(
    {unicodedata.normalize("NFC", v + t) for v in "aăâeêioôơuưy" for t in _TONES}
    | {unicodedata.normalize("NFC", v.upper() + t) for v in "aăâeêioôơuưy" for t in _TONES}
    | {"đ", "Đ"}
)
EMOJI = ["😀", "👍", "🇻🇳", "👨‍👩‍👧", "𝄞"]
GSM_EXTENSION = ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\x0c"]

# Arbitrary text, biased towards what matters here: Vietnamese, emoji (surrogate pairs,
# flags, ZWJ sequences) and GSM extension characters. Decomposed marks come from st.characters.
any_text = st.lists(
    st.one_of(
        st.characters(exclude_categories=("Cs",)),  # lone surrogates: tested apart
        st.sampled_from(VIETNAMESE_LETTERS + EMOJI + GSM_EXTENSION),
    ),
    max_size=500,
).map("".join)
gsm_text = st.text(
    alphabet=st.sampled_from(list("abc XYZ 019@£$¥èΔ_ΩÆß¡¿§äà\n\r") + GSM_EXTENSION),
    max_size=800,
)


def reassemble(encoded: Encoded) -> str:
    """What a receiving end does: strip each part's UDH, decode, concatenate in order."""
    texts: list[str] = []
    for seq, part in enumerate(encoded.parts, 1):
        body = part
        if encoded.udhi:
            concat, body = split_udh(part)
            assert concat is not None
            assert (concat.seqnum, concat.total) == (seq, encoded.segments)
        texts.append(decode(encoded.data_coding, body))
    return "".join(texts)


def bodies(encoded: Encoded) -> list[bytes]:
    return [split_udh(p)[1] if encoded.udhi else p for p in encoded.parts]


class TestStripDiacritics:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("đ", "d"),
            ("Đ", "D"),
            ("ư", "u"),
            ("Ư", "U"),
            ("ơ", "o"),
            ("ặ", "a"),
            ("ễ", "e"),
            ("Ự", "U"),
            ("Ð", "D"),  # U+00D0, the look-alike legacy converters produce for Đ
            ("Hồ sơ của quý Ông/Bà", "Ho so cua quy Ong/Ba"),
            ("Đúng hạn", "Dung han"),
            ("Trễ hạn", "Tre han"),
            ("Sở Công Thương", "So Cong Thuong"),
            ("Phường Lộc Thọ, Nha Trang", "Phuong Loc Tho, Nha Trang"),
            ("MCKH 000.00.06.H56-231027-0361", "MCKH 000.00.06.H56-231027-0361"),
        ],
    )
    def test_table(self, text: str, expected: str) -> None:
        """Tone marks, horn, breve and circumflex go; đ/Đ become d/D; ASCII is untouched."""
        assert strip_diacritics(text) == expected

    def test_nfd_input_strips_like_nfc(self) -> None:
        """Decomposed input (as some keyboards and macOS produce) gives the same result."""
        nfc = "Hồ sơ của quý Ông/Bà đã được giải quyết"
        nfd = unicodedata.normalize("NFD", nfc)
        assert nfd != nfc
        assert (
            strip_diacritics(nfd)
            == strip_diacritics(nfc)
            == "Ho so cua quy Ong/Ba da duoc giai quyet"
        )

    def test_combined_marks_on_one_letter(self) -> None:
        """A letter carrying two marks (ư + hook, ê + dot below) loses both."""
        assert strip_diacritics("ử ệ Ậ ỡ ằ") == "u e A o a"

    @pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
    def test_every_vietnamese_letter_becomes_one_ascii_letter(self, letter: str) -> None:
        """All 146 Vietnamese letters strip to one plain ASCII letter, so stripped text is GSM-7."""
        stripped = strip_diacritics(letter)
        assert len(stripped) == 1
        assert stripped.isascii()
        assert stripped.isalpha()

    @pytest.mark.parametrize("kind", sorted(NOTICES))
    def test_stripped_notice_is_pure_ascii(self, kind: str) -> None:
        """A stripped default notice holds nothing outside ASCII."""
        assert strip_diacritics(NOTICES[kind]).isascii()

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Sở Lao động – Thương binh và Xã hội", "So Lao dong - Thuong binh va Xa hoi"),
            ("Sở Nội vụ — Ban Thi đua", "So Noi vu - Ban Thi dua"),
            ("\u201cTrả kết quả\u201d", '"Tra ket qua"'),
            ("\u201eBổ sung\u201c", '"Bo sung"'),
            ("\u00abThẩm định\u00bb", '"Tham dinh"'),
            ("\u2018Chờ ký\u2019", "'Cho ky'"),
            ("ông\u2019s", "ong's"),
            ("`Đã duyệt´", "'Da duyet'"),
            ("Đang xử lý…", "Dang xu ly..."),
            ("Bộ phận\u00a0Một cửa", "Bo phan Mot cua"),
            ("Một\u2009cửa\u202fUBND", "Mot cua UBND"),
            ("Sở\tTư pháp", "So Tu phap"),
            ("Phòng Tài nguyên\u2010Môi trường", "Phong Tai nguyen-Moi truong"),
            ("Phòng Kinh tế\u2011Hạ tầng", "Phong Kinh te-Ha tang"),
            ("nhiệt độ \u22125", "nhiet do -5"),
            ("Thẩm\u00ad định", "Tham dinh"),
            ("Trả\u200b kết\u200d quả\ufeff", "Tra ket qua"),
            ("Ban Quản lý \u2015 KCN", "Ban Quan ly - KCN"),
        ],
    )
    def test_typographic_punctuation_folds_to_gsm7(self, text: str, expected: str) -> None:
        """Dashes, curly quotes, guillemets, the ellipsis and odd spaces become their GSM-7
        forms; soft hyphens and zero-width characters, invisible on a phone, are dropped."""
        stripped = strip_diacritics(text)
        assert stripped == expected
        assert fits_gsm7(stripped)

    @pytest.mark.parametrize(
        "char",
        [chr(c) for c in range(0x2010, 0x2016)]
        + ["\u2212", "\u00ad", "\u200b", "\u00a0", "\u2009", "\u202f", "\u2026"]
        + list("\u201c\u201d\u201e\u2018\u2019\u00ab\u00bb\u2039\u203a`\t"),
    )
    def test_each_folded_character_gives_gsm7(self, char: str) -> None:
        """Every character the fold knows ends up as GSM-7 text (or nothing)."""
        assert fits_gsm7(strip_diacritics(f"a{char}b"))

    def test_characters_without_a_gsm7_form_are_left_for_check_config(self) -> None:
        """A character with no sensible GSM-7 form is kept, not guessed: the text goes as
        UCS-2 and check-config names the character."""
        assert strip_diacritics("Khu Công nghệ cao ★") == "Khu Cong nghe cao ★"


class TestFitsGsm7:
    @pytest.mark.parametrize(
        ("text", "fits"),
        [
            ("Hello", True),
            ("", True),
            ("é", True),
            ("e\u0301", True),  # NFD é composes to a GSM character
            ("Ç", True),
            ("ç", False),  # only the capital is in the table
            ("€[]{}|~^\\\x0c", True),
            ("`", False),  # backtick is not GSM 03.38 (0x5F is §, 0x60 is ¿)
            ("\x1b", False),  # a literal ESC would be read as an escape
            ("ả", False),
            ("đ", False),
            ("😀", False),
            ("\u2126", True),  # OHM SIGN, NFC -> GREEK CAPITAL OMEGA (0x15)
        ],
    )
    def test_table(self, text: str, fits: bool) -> None:
        """Fit means every character (after NFC) is in the default or extension table."""
        assert fits_gsm7(text) is fits


class TestGsm7Length:
    @pytest.mark.parametrize(
        ("text", "septets"),
        [
            ("", 0),
            ("abc", 3),
            ("€", 2),
            ("[x]", 5),
            ("\x0c", 2),
            ("^{}\\[~]|€\x0c", 20),
            ("e\u0301", 1),
        ],
    )
    def test_extension_characters_cost_two(self, text: str, septets: int) -> None:
        """Extension characters are ESC + code: two septets each."""
        assert gsm7_length(text) == septets

    def test_non_gsm_text_raises(self) -> None:
        """A length in septets has no meaning for UCS-2 text: ValueError, not a guess."""
        with pytest.raises(ValueError, match=r"GSM 03\.38"):
            gsm7_length("ả")


class TestSeptetValues:
    @pytest.mark.parametrize(
        ("char", "octets"),
        [
            ("@", "00"),
            ("£", "01"),
            ("$", "02"),
            ("Ç", "09"),
            ("\n", "0a"),
            ("\r", "0d"),
            ("Δ", "10"),
            ("_", "11"),
            ("Ω", "15"),
            ("Ξ", "1a"),
            ("É", "1f"),
            ("¤", "24"),
            ("¡", "40"),
            ("A", "41"),
            ("Ü", "5e"),
            ("§", "5f"),
            ("¿", "60"),
            ("a", "61"),
            ("à", "7f"),
            ("\x0c", "1b0a"),
            ("^", "1b14"),
            ("{", "1b28"),
            ("}", "1b29"),
            ("\\", "1b2f"),
            ("[", "1b3c"),
            ("~", "1b3d"),
            ("]", "1b3e"),
            ("|", "1b40"),
            ("€", "1b65"),
        ],
    )
    def test_table(self, char: str, octets: str) -> None:
        """Unpacked GSM-7: one septet value per octet, as 3GPP TS 23.038 assigns them."""
        encoded = encode(char)
        assert encoded.data_coding == GSM7
        assert encoded.parts == (bytes.fromhex(octets),)

    def test_whole_basic_table_round_trips(self) -> None:
        """Each of the 127 basic characters encodes to its own index and decodes back."""
        basic = (
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        )
        assert len(basic) == 128
        for code, char in enumerate(basic):
            if code == 0x1B:
                continue
            assert encode(char).parts == (bytes([code]),), hex(code)
            assert decode(GSM7, bytes([code])) == char


class TestEncodingChoice:
    @pytest.mark.parametrize(
        ("kind", "ucs2_parts", "gsm7_parts"),
        [
            ("result", 2, 1),
            ("supplement", 3, 1),
            ("apology", 3, 2),
            ("receipt", 2, 1),
            ("payment", 3, 1),
            ("mckh", 2, 1),
        ],
    )
    def test_notices_with_and_without_diacritics(
        self, kind: str, ucs2_parts: int, gsm7_parts: int
    ) -> None:
        """Vietnamese with diacritics goes UCS-2; stripped, the same notice is GSM-7 and cheaper."""
        kept = encode(NOTICES[kind])
        stripped = encode(strip_diacritics(NOTICES[kind]))
        assert (kept.data_coding, kept.segments) == (UCS2, ucs2_parts)
        assert (stripped.data_coding, stripped.segments) == (GSM7, gsm7_parts)
        assert segment_count(NOTICES[kind]) == ucs2_parts
        assert segment_count(strip_diacritics(NOTICES[kind])) == gsm7_parts

    @pytest.mark.parametrize("kind", sorted(NOTICES))
    def test_nfd_input_gives_the_same_parts_as_nfc(self, kind: str) -> None:
        """Text is NFC-normalised first, so decomposed input costs no extra part."""
        nfc = NOTICES[kind]
        nfd = unicodedata.normalize("NFD", nfc)
        assert nfd != nfc
        assert encode(nfd, reference=7) == encode(nfc, reference=7)

    def test_backtick_goes_ucs2(self) -> None:
        """` is not in GSM 03.38 (smpplib wrongly sends 0x5F, shown as §): the text goes UCS-2."""
        encoded = encode("code `x`")
        assert encoded.data_coding == UCS2
        assert reassemble(encoded) == "code `x`"

    def test_empty_text_is_one_empty_gsm7_part(self) -> None:
        """An empty text still makes one submit_sm with an empty short_message."""
        assert encode("") == Encoded(GSM7, (b"",), False)

    def test_lone_surrogate_is_sent_as_replacement_character(self) -> None:
        """A lone surrogate cannot be UTF-16 encoded: it becomes U+FFFD instead of failing."""
        encoded = encode("a\ud800b")
        assert encoded.data_coding == UCS2
        assert encoded.parts == ("a\ufffdb".encode("utf-16-be"),)


class TestSegmentLimits:
    @pytest.mark.parametrize(
        ("text", "parts"),
        [
            ("a" * 160, 1),
            ("a" * 161, 2),
            ("a" * 159 + "€", 2),  # 161 septets
            ("a" * 158 + "€", 1),  # 160 septets
            ("a" * 306, 2),
            ("a" * 307, 3),
            ("ả" * 70, 1),
            ("ả" * 71, 2),
            ("ả" * 134, 2),
            ("ả" * 135, 3),
            ("ả" * 68 + "😀", 1),  # 70 code units
            ("ả" * 69 + "😀", 2),  # 71 code units
        ],
    )
    def test_part_counts(self, text: str, parts: int) -> None:
        """One part up to 160 septets / 70 units, then 153 / 67 per part."""
        assert encode(text).segments == parts
        assert segment_count(text) == parts

    @pytest.mark.parametrize(
        ("text", "parts"),
        [
            ("a" * 304, 2),
            ("a" * 305, 3),
            ("ả" * 132, 2),
            ("ả" * 133, 3),
        ],
    )
    def test_part_counts_with_16_bit_reference(self, text: str, parts: int) -> None:
        """The 16-bit reference UDH is one octet longer: 152 septets / 66 units per part."""
        assert encode(text, ref16=True).segments == parts
        assert segment_count(text, ref16=True) == parts

    def test_single_part_has_no_udh(self) -> None:
        """160 GSM characters fit one SMS: no UDH, udhi False."""
        encoded = encode("a" * 160)
        assert encoded.udhi is False
        assert encoded.parts == (b"a" * 160,)

    def test_full_parts_are_filled_to_the_limit(self) -> None:
        """Parts are packed greedily: 153 septets each, the remainder in the last."""
        encoded = encode("a" * 400)
        assert [len(b) for b in bodies(encoded)] == [153, 153, 94]
        encoded = encode("ả" * 150)
        assert [len(b) for b in bodies(encoded)] == [134, 134, 32]

    def test_never_truncates_a_long_text(self) -> None:
        """A 2,000-character Vietnamese text goes out whole, in as many parts as it needs."""
        text = (NOTICES["apology"] + " ") * 12
        text = text[:2000]
        assert len(text) == 2000
        encoded = encode(text, reference=200)
        assert encoded.segments == 30
        assert reassemble(encoded) == text
        assert reassemble(encode(strip_diacritics(text))) == strip_diacritics(text)

    def test_255_parts_is_the_maximum(self) -> None:
        """The UDH counts parts in one octet: 255 parts work, 256 raise ValueError."""
        assert encode("a" * (153 * 255)).segments == 255
        with pytest.raises(ValueError, match=r"256 SMS parts.*at most 255"):
            encode("a" * (153 * 255 + 1))


class TestPartBoundaries:
    def test_escape_pair_moves_whole_to_next_part(self) -> None:
        """'€' at septet 153 would be cut between ESC and 0x65: the whole pair opens part 2."""
        text = "a" * 152 + "€" + "b" * 20
        encoded = encode(text)
        first, second = bodies(encoded)
        assert first == b"a" * 152
        assert second.startswith(b"\x1b\x65")
        assert reassemble(encoded) == text

    def test_escape_pair_moves_whole_with_16_bit_reference(self) -> None:
        """The same rule holds at the 152-septet limit of the 16-bit reference UDH."""
        text = "a" * 151 + "[" + "b" * 20
        first, second = bodies(encode(text, ref16=True))
        assert first == b"a" * 151
        assert second.startswith(b"\x1b\x3c")

    def test_surrogate_pair_moves_whole_to_next_part(self) -> None:
        """An emoji at unit 67 would be cut between its surrogates: it opens part 2 whole."""
        text = "ả" * 66 + "😀" + "ả" * 10
        encoded = encode(text)
        first, second = bodies(encoded)
        assert first == ("ả" * 66).encode("utf-16-be")
        assert second.startswith(bytes.fromhex("d83d de00"))
        assert reassemble(encoded) == text

    def test_surrogate_pair_moves_whole_with_16_bit_reference(self) -> None:
        """At the 66-unit limit of the 16-bit UDH the same emoji rule holds."""
        text = "ả" * 65 + "😀" + "ả" * 10
        first, second = bodies(encode(text, ref16=True))
        assert first == ("ả" * 65).encode("utf-16-be")
        assert second.startswith(bytes.fromhex("d83d de00"))

    @given(text=any_text, ref16=st.booleans())
    def test_no_part_ends_inside_a_character(self, text: str, ref16: bool) -> None:
        """Every part decodes on its own: no trailing ESC, no split surrogate pair."""
        encoded = encode(text, ref16=ref16)
        for body in bodies(encoded):
            if encoded.data_coding == GSM7:
                assert not body.endswith(b"\x1b")
            else:
                body.decode("utf-16-be")  # strict: raises on a split surrogate pair

    @given(text=any_text, ref16=st.booleans())
    def test_no_part_exceeds_its_limit(self, text: str, ref16: bool) -> None:
        """Bodies hold at most 160/153/152 septets or 140/134/132 octets of UCS-2."""
        encoded = encode(text, ref16=ref16)
        if encoded.data_coding == GSM7:
            limit = (152 if ref16 else 153) if encoded.udhi else 160
        else:
            limit = (132 if ref16 else 134) if encoded.udhi else 140
        assert all(len(body) <= limit for body in bodies(encoded))


class TestUdh:
    def test_8_bit_reference_udh_bytes(self) -> None:
        """IE 0x00: UDHL 05, IEI 00, IEDL 03, reference, total, sequence."""
        encoded = encode("a" * 161, reference=0x42)
        assert encoded.udhi is True
        assert encoded.parts == (
            bytes.fromhex(
                "05"  # UDHL: 5 octets follow
                "00"  # IEI: concatenated SM, 8-bit reference
                "03"  # IEDL: 3
                "42"  # reference
                "02"  # total parts
                "01"  # this part
            )
            + b"a" * 153,
            bytes.fromhex("05 00 03 42 02 02") + b"a" * 8,
        )

    def test_16_bit_reference_udh_bytes(self) -> None:
        """IE 0x08: UDHL 06, IEI 08, IEDL 04, reference high, reference low, total, sequence."""
        encoded = encode("ả" * 71, reference=0x1234, ref16=True)
        assert encoded.data_coding == UCS2
        assert encoded.parts == (
            bytes.fromhex(
                "06"  # UDHL: 6 octets follow
                "08"  # IEI: concatenated SM, 16-bit reference
                "04"  # IEDL: 4
                "1234"  # reference, big-endian
                "02"  # total parts
                "01"  # this part
            )
            + ("ả" * 66).encode("utf-16-be"),
            bytes.fromhex("06 08 04 12 34 02 02") + ("ả" * 5).encode("utf-16-be"),
        )

    @pytest.mark.parametrize(
        ("reference", "ref16", "expected"),
        [(0x142, False, 0x42), (256, False, 0), (-1, False, 0xFF), (0x11234, True, 0x1234)],
    )
    def test_reference_is_taken_modulo(self, reference: int, ref16: bool, expected: int) -> None:
        """References wrap to 8 bits (16 with ref16) instead of raising."""
        concat, _ = split_udh(encode("a" * 200, reference=reference, ref16=ref16).parts[0])
        assert concat == Concat(expected, 2, 1)


class TestRoundTrip:
    @pytest.mark.slow
    @settings(max_examples=300)
    @given(text=any_text, reference=st.integers(0, 65535), ref16=st.booleans())
    def test_parts_reassemble_to_nfc_text(self, text: str, reference: int, ref16: bool) -> None:
        """split_udh + decode of every part, joined, gives back the NFC text exactly."""
        encoded = encode(text, reference=reference, ref16=ref16)
        assert reassemble(encoded) == unicodedata.normalize("NFC", text)
        if encoded.udhi:
            expected_ref = reference % (65536 if ref16 else 256)
            assert {split_udh(p)[0].reference for p in encoded.parts} == {expected_ref}

    @given(text=gsm_text)
    def test_gsm_text_stays_gsm7_and_round_trips(self, text: str) -> None:
        """Text made only of GSM characters (extension ones included) is sent as GSM-7."""
        encoded = encode(text)
        assert encoded.data_coding == GSM7
        assert reassemble(encoded) == text

    @given(text=any_text, ref16=st.booleans())
    def test_segment_count_matches_encode(self, text: str, ref16: bool) -> None:
        """segment_count is the cheap form of encode(...).segments."""
        assert segment_count(text, ref16=ref16) == encode(text, ref16=ref16).segments

    @given(text=gsm_text, ref16=st.booleans())
    def test_segment_count_matches_encode_for_gsm_text(self, text: str, ref16: bool) -> None:
        """Same for GSM text dense in two-septet characters."""
        assert segment_count(text, ref16=ref16) == encode(text, ref16=ref16).segments


class TestDecode:
    @pytest.mark.parametrize(
        ("data_coding", "payload", "expected"),
        [
            (0x00, bytes.fromhex("4d434b4820303130"), "MCKH 010"),
            (0x00, bytes.fromhex("00 01 02 1b65 1b14"), "@£$€^"),
            (0x00, bytes.fromhex("1b 41"), "A"),  # unknown escape: the basic character
            (0x00, bytes.fromhex("41 1b"), "A "),  # escape at the very end: a space
            (0x00, bytes.fromhex("1b 1b 41"), " A"),  # escape to a further table: a space
            (0x00, bytes.fromhex("41 c1"), "A\ufffd"),  # high bit set is no septet
            (0x01, b"MCKH 0101701234", "MCKH 0101701234"),
            (0x01, b"A\xe9", "A\ufffd"),
            (0x03, b"caf\xe9", "café"),
            (0x04, b"\x00\xff", "\x00\xff"),
            (0x02, b"\x80", "\x80"),
            (0x08, "MCKH Hồ sơ 😀".encode("utf-16-be"), "MCKH Hồ sơ 😀"),
            (0x08, b"\x00A\x00", "A\ufffd"),  # odd length
            (0x08, bytes.fromhex("d83d 0041"), "\ufffdA"),  # lone high surrogate
            (0x18, "Đúng".encode("utf-16-be"), "Đúng"),  # DCS general group, UCS-2
            (0xF0, bytes.fromhex("4d 43 4b 48"), "MCKH"),  # DCS class 0, GSM-7
            (0xF4, b"\xe9", "é"),  # DCS class 0, 8-bit
            (0x11, bytes.fromhex("00 1b65"), "@€"),  # DCS general group, GSM-7
            (0x09, "xin chào".encode(), "xin chào"),  # unknown: UTF-8
            (0x09, b"\xff", "\ufffd"),
        ],
    )
    def test_table(self, data_coding: int, payload: bytes, expected: str) -> None:
        """Each data_coding decodes by its alphabet; bad sequences become U+FFFD or a space."""
        assert decode(data_coding, payload) == expected

    @settings(max_examples=500)
    @given(data_coding=st.integers(0, 255), payload=st.binary(max_size=300))
    def test_never_raises(self, data_coding: int, payload: bytes) -> None:
        """Any bytes under any data_coding decode to some text: an MO is never lost."""
        assert isinstance(decode(data_coding, payload), str)


class TestSplitUdh:
    @pytest.mark.parametrize(
        ("short_message", "concat", "body"),
        [
            (bytes.fromhex("050003 2a 03 02") + b"hi", Concat(0x2A, 3, 2), b"hi"),
            (bytes.fromhex("060804 beef 02 02") + b"hi", Concat(0xBEEF, 2, 2), b"hi"),
            # an application port IE (0x05) before the concatenation IE is skipped
            (
                bytes.fromhex("0b 05040b8423f0 0003 07 02 01") + b"x",
                Concat(7, 2, 1),
                b"x",
            ),
            (bytes.fromhex("06 05040b8423f0") + b"x", None, b"x"),  # no concatenation IE
            (bytes.fromhex("00") + b"x", None, b"x"),  # empty UDH
            (bytes.fromhex("050003 01 01 01"), Concat(1, 1, 1), b""),  # UDH, empty body
        ],
    )
    def test_well_formed(self, short_message: bytes, concat: Concat | None, body: bytes) -> None:
        """The UDH is removed; 8- and 16-bit concatenation IEs are read, others skipped."""
        assert split_udh(short_message) == (concat, body)

    @pytest.mark.parametrize(
        "short_message",
        [
            pytest.param(b"", id="empty"),
            pytest.param(bytes.fromhex("05 0003 01 02"), id="udhl-beyond-data"),
            pytest.param(bytes.fromhex("03 0003 01") + b"xyz", id="ie-overruns-udh"),
            pytest.param(bytes.fromhex("01 00") + b"xyz", id="truncated-ie-header"),
            pytest.param(bytes.fromhex("04 0002 01 02") + b"x", id="8-bit-ie-too-short"),
            pytest.param(bytes.fromhex("06 0804 0102 03") + b"xx", id="16-bit-ie-length-3"),
            pytest.param(bytes.fromhex("05 0003 01 00 00") + b"x", id="total-zero"),
            pytest.param(bytes.fromhex("05 0003 01 02 00") + b"x", id="seq-zero"),
            pytest.param(bytes.fromhex("05 0003 01 02 03") + b"x", id="seq-above-total"),
            pytest.param(bytes.fromhex("06 0804 0001 02 03") + b"x", id="16-bit-seq-above-total"),
        ],
    )
    def test_malformed_is_returned_unchanged(self, short_message: bytes) -> None:
        """A malformed UDH yields (None, short_message): the bytes are kept, nothing raises."""
        assert split_udh(short_message) == (None, short_message)

    @settings(max_examples=500)
    @given(short_message=st.binary(max_size=200))
    def test_never_raises(self, short_message: bytes) -> None:
        """Arbitrary bytes give a (concat or None, bytes) pair, never an exception."""
        concat, body = split_udh(short_message)
        if concat is None:
            assert body == short_message or body == short_message[1 + short_message[0] :]
        else:
            assert 1 <= concat.seqnum <= concat.total


class TestReferenceAllocator:
    def test_255_consecutive_references_are_distinct(self) -> None:
        """One phone gets 256 different references before any repeats (8-bit mode)."""
        allocator = ReferenceAllocator(rng=random.Random(1))
        refs = [allocator.next("84905123456") for _ in range(256)]
        assert len(set(refs)) == 256
        assert all(0 <= r <= 255 for r in refs)

    def test_16_bit_references_are_distinct_over_65535(self) -> None:
        """In 16-bit mode one phone gets 65536 different references before any repeats."""
        allocator = ReferenceAllocator(ref16=True, rng=random.Random(2))
        refs = [allocator.next("84905123456") for _ in range(65536)]
        assert len(set(refs)) == 65536
        assert max(refs) <= 0xFFFF

    def test_destinations_are_independent(self) -> None:
        """Messages to other phones do not advance one phone's counter."""
        allocator = ReferenceAllocator(rng=random.Random(3))
        first = allocator.next("84905123456")
        for n in range(50):
            allocator.next(f"8490000{n:04d}")
        assert allocator.next("84905123456") == (first + 1) % 256

    def test_start_is_random_per_destination(self) -> None:
        """Counters do not all start at 0, so a restart does not replay yesterday's references."""
        allocator = ReferenceAllocator(rng=random.Random(4))
        starts = {allocator.next(f"849{n:08d}") for n in range(100)}
        assert len(starts) > 50

    def test_memory_is_bounded_by_default(self) -> None:
        """At most 100,000 destinations are remembered, whatever the traffic."""
        allocator = ReferenceAllocator(rng=random.Random(5))
        for n in range(100_500):
            allocator.next(f"849{n:08d}")
        assert len(allocator) == 100_000

    def test_least_recently_used_destination_is_evicted(self) -> None:
        """Eviction drops the phone not seen for longest; a recent one keeps its counter."""
        allocator = ReferenceAllocator(max_destinations=3, rng=random.Random(6))
        a = allocator.next("a")
        allocator.next("b")
        allocator.next("c")
        allocator.next("a")  # "a" is now the most recent
        allocator.next("d")  # evicts "b"
        assert len(allocator) == 3
        assert allocator.next("a") == (a + 2) % 256

    def test_rejects_a_zero_bound(self) -> None:
        """A bound below one would forget every destination at once."""
        with pytest.raises(ValueError, match="max_destinations"):
            ReferenceAllocator(max_destinations=0)


class TestLatin1DefaultAlphabet:
    """`alphabet="latin1"`: data_coding 0 written as Latin-1 octets, GSM-7 limits kept."""

    def test_gsm_symbols_are_latin1_octets(self) -> None:
        encoded = encode("@$_£¥è[]", alphabet="latin1")

        assert encoded.data_coding == GSM7
        assert encoded.parts == ("@$_£¥è[]".encode("latin-1"),)

    @pytest.mark.parametrize("char", ["€", "Δ", "Ω", "Σ"])
    def test_gsm7_characters_latin1_lacks_go_ucs2(self, char: str) -> None:
        assert encode(f"Phi {char}", alphabet="latin1").data_coding == UCS2

    @settings(max_examples=200, deadline=None)
    @given(gsm_text.filter(lambda t: "€" not in t and "Δ" not in t and "Ω" not in t), st.booleans())
    def test_same_cuts_as_gsm7_and_round_trips(self, text: str, ref16: bool) -> None:
        """Each part holds the same characters as the standard GSM-7 part would."""
        gsm = encode(text, ref16=ref16, reference=9)
        latin = encode(text, ref16=ref16, reference=9, alphabet="latin1")

        assert [decode(0, b) for b in bodies(gsm)] == [b.decode("latin-1") for b in bodies(latin)]
        assert segment_count(text, ref16=ref16, alphabet="latin1") == latin.segments
