"""A template rendered from its compiled pieces is the text rendered and stripped whole."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.compose.templates import DEFAULT_TEMPLATES, render
from gateway.domain.notice import TemplateError
from gateway.smpp.text import strip_diacritics

# Vietnamese letters composed and decomposed, bare combining marks (which combine across a
# piece boundary), đ, typographic punctuation, symbols, Hangul jamo (which compose with
# each other, not with marks) and plain ASCII.
CHARS = st.sampled_from(
    list("aAeoOdDuy ().,:-/0123456789")
    + list("ởỞđĐơưăâêôạảãáàếềệ")
    + ["\u0301", "\u0300", "\u0323", "\u0309", "\u0303", "\u031b", "\u0306"]
    + ["–", "—", "“", "”", "’", "…", "\u00a0", "\u200b", "₫", "°", "×", "№"]
    + ["\u1100", "\u1161", "\u11a8", "\uac00"]
)
TEXT = st.text(CHARS, max_size=12)
NAMES = ("receipt_no", "agency_name", "step", "procedure")


def whole(template: str, fields: dict[str, str], *, strip: bool) -> str:
    """What a notice's text is by definition: filled, NFC, then stripped as one text."""
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFC", template).format_map(fields))
    return strip_diacritics(text) if strip else text


templates = st.lists(
    st.one_of(
        TEXT.map(lambda t: t.replace("{", "{{").replace("}", "}}")),
        st.sampled_from(NAMES).map(lambda n: "{" + n + "}"),
    ),
    max_size=8,
).map("".join)


@settings(max_examples=2000, deadline=None)
@given(templates, st.fixed_dictionaries({name: TEXT for name in NAMES}), st.booleans())
def test_rendering_by_pieces_equals_rendering_the_whole_text(
    template: str, fields: dict[str, str], strip: bool
) -> None:
    assert render(template, fields, strip=strip) == whole(template, fields, strip=strip)


@pytest.mark.parametrize("kind", sorted(DEFAULT_TEMPLATES))
@pytest.mark.parametrize("strip", [True, False])
def test_every_default_notice_renders_as_the_whole_text(kind: str, strip: bool) -> None:
    fields = {
        "receipt_no": "000.00.06.H56-231000-0001",
        "agency_name": "Sở Lao động – Thương binh và Xã hội",
        "step": "“Thẩm định hồ sơ”",
        "procedure": "Cấp Giấy phép kinh doanh",
        "due_date": "27/11/2026",
        "timeliness": "đúng hạn",
    }
    template = DEFAULT_TEMPLATES[kind]
    assert render(template, fields, strip=strip) == whole(template, fields, strip=strip)


def test_a_repeated_template_still_names_a_missing_field_each_time() -> None:
    for _ in range(2):
        with pytest.raises(TemplateError, match="not given: due_date"):
            render("Hẹn {due_date}", {}, strip=True)


def test_a_repeated_template_still_refuses_a_non_string_field_each_time() -> None:
    for _ in range(2):
        with pytest.raises(TemplateError, match="non-string value: due_date"):
            render("Hẹn {due_date}", {"due_date": None}, strip=False)  # type: ignore[dict-item]


def test_escaped_braces_stay_single_braces() -> None:
    assert render("{{x}} {a}", {"a": "Sở"}, strip=True) == "{x} So"


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{step}\u1161", "\u1100"),  # Hangul jamo compose across the field's end
        ("\u1100{step}", "\u1161"),  # and across its start
        ("Se{step}", "\u0301"),  # a bare mark combines with the letter before the field
    ],
)
@pytest.mark.parametrize("strip", [True, False])
def test_characters_combining_across_a_field_boundary_render_as_the_whole_text(
    template: str, value: str, strip: bool
) -> None:
    fields = {"step": value}
    assert render(template, fields, strip=strip) == whole(template, fields, strip=strip)
