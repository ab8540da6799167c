"""The fast path for plainly written numbers gives the full classification's answer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.phone.numbers import PhoneError, normalise_phone, normalise_phone_fully
from gateway.phone.plain import plain_mobile_nsn


def full_path(raw: str) -> str | None:
    """The full rules (phonenumbers decides): the normalised number, or None if refused."""
    try:
        return normalise_phone_fully(raw)
    except PhoneError:
        return None


def agrees(raw: str) -> None:
    """A fast answer is the full path's; and for a plain number starting as today's
    mobile numbers start (0 or 84, then 3/5/7/8/9), every accepted one is answered fast."""
    fast = plain_mobile_nsn(raw)
    full = full_path(raw)
    if fast is not None:
        assert "84" + fast == full, raw
    elif full is not None:
        assert raw.removeprefix("84" if raw.startswith("84") else "0")[0] not in "35789", raw


plain_numbers = st.builds(
    lambda prefix, digits: prefix + digits,
    st.sampled_from(["0", "84"]),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


@settings(max_examples=3000, deadline=None)
@given(plain_numbers)
def test_plain_mobile_agrees_with_the_full_classification(raw: str) -> None:
    agrees(raw)


@pytest.mark.parametrize("prefix", [f"{n:03d}" for n in range(1000)])
def test_every_three_digit_block_answers_as_the_full_path(prefix: str) -> None:
    """Each block of the numbering plan (0 + its first three digits), at both ends of the
    block, national and normalised: the fast path answers exactly where phonenumbers says
    MOBILE among today's prefixes, and never where it does not."""
    for rest in ("000000", "999999", "512345"):
        for raw in ("0" + prefix + rest, "84" + prefix + rest):
            agrees(raw)


@pytest.mark.parametrize(
    "raw",
    ["0905 123 456", "+84905123456", "0084905123456", "01689123456", "905123456", " 0905123456"],
)
def test_numbers_with_layout_or_another_form_take_the_full_path(raw: str) -> None:
    assert plain_mobile_nsn(raw) is None


@pytest.mark.parametrize("raw", ["0283520232", "0891123456", "0672123456", "0905123456x"])
def test_a_plain_number_that_is_not_mobile_is_left_to_the_full_path(raw: str) -> None:
    assert plain_mobile_nsn(raw) is None


def test_the_mirrors_normalised_number_is_answered_by_the_fast_path() -> None:
    assert plain_mobile_nsn("84905123456") == "905123456"
    assert normalise_phone("84905123456") == "84905123456"


def test_a_non_text_number_is_left_to_the_full_path() -> None:
    assert plain_mobile_nsn(905123456) is None
    with pytest.raises(PhoneError) as refused:
        normalise_phone(905123456)
    assert refused.value.reason == "not_text"
