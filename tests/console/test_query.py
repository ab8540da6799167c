"""A page's query read strictly: unknown, repeated and malformed parameters, absurd
periods and another agency's figures are refused before the store is asked."""

from __future__ import annotations

from datetime import date

import pytest
from multidict import MultiDict

from gateway.console.query import MAX_DAYS, Query, Refusal, read_query
from gateway.settings.console import ConsoleUser

AGENCIES = {"SCT": "Sở Công Thương", "STP": "Sở Tư pháp"}
SUPERVISOR = ConsoleUser(name="an", role="supervisor", password_hash="x")
STP_USER = ConsoleUser(name="binh", role="agency", password_hash="x", agency="STP")
TODAY = date(2026, 11, 23)
PAGE = ("from", "to", "agency", "sort", "order", "page")


def read(user: ConsoleUser = SUPERVISOR, **params: str) -> Query:
    return read_query(
        MultiDict(params), allowed=PAGE, user=user, agencies=AGENCIES, today=TODAY,
        sorts=("agency", "ratio"),
    )  # fmt: skip


def refused(user: ConsoleUser = SUPERVISOR, **params: str) -> Refusal:
    with pytest.raises(Refusal) as info:
        read(user, **params)
    return info.value


def test_no_parameters_is_the_last_30_days_of_every_agency_the_user_sees():
    query = read()

    assert (query.since, query.until) == (date(2026, 10, 25), TODAY)
    assert query.agencies == ("SCT", "STP")


def test_an_agency_user_sees_only_its_agency_without_asking():
    assert read(STP_USER).agencies == ("STP",)


def test_an_agency_user_naming_another_agency_is_forbidden():
    refusal = refused(STP_USER, agency="SCT")

    assert refusal.status == 403
    assert "cơ quan mình" in refusal.message


def test_an_agency_user_naming_its_own_agency_is_served():
    assert read(STP_USER, agency="STP").agencies == ("STP",)


def test_an_agency_not_configured_is_a_bad_request():
    assert refused(agency="SYT").status == 400


def test_an_unknown_parameter_is_a_bad_request_naming_it():
    refusal = refused(agancy="SCT")

    assert refusal.status == 400
    assert "agancy" in refusal.message and "không được hỗ trợ" in refusal.message


def test_a_parameter_given_twice_is_a_bad_request():
    with pytest.raises(Refusal) as info:
        read_query(
            MultiDict([("agency", "SCT"), ("agency", "STP")]), allowed=PAGE,
            user=SUPERVISOR, agencies=AGENCIES, today=TODAY,
        )  # fmt: skip

    assert info.value.status == 400


def test_a_date_that_is_not_one_is_a_bad_request_in_vietnamese():
    refusal = refused(**{"from": "2026-02-30"})

    assert refusal.status == 400 and "NNNN-TT-NN" in refusal.message


def test_a_period_ending_before_it_starts_is_a_bad_request():
    assert refused(**{"from": "2026-11-10", "to": "2026-11-01"}).status == 400


def test_a_period_longer_than_a_year_is_a_bad_request():
    refusal = refused(**{"from": "2025-01-01", "to": "2026-01-02"})

    assert refusal.status == 400 and str(MAX_DAYS) in refusal.message


def test_a_whole_leap_year_is_served():
    query = read(**{"from": "2028-01-01", "to": "2028-12-31"})

    assert (query.until - query.since).days + 1 == 366


def test_a_date_in_another_century_is_a_bad_request():
    assert refused(**{"from": "1026-11-01", "to": "1026-11-02"}).status == 400
    assert refused(**{"to": "9999-12-31"}).status == 400


def test_an_unknown_sort_column_or_order_is_a_bad_request():
    assert refused(sort="password").status == 400
    assert refused(sort="ratio", order="sideways").status == 400


def test_a_page_that_is_not_a_positive_number_is_a_bad_request():
    for page in ("0", "-1", "x", "99999999999"):
        assert refused(page=page).status == 400


def test_a_page_in_digits_other_than_ascii_is_a_bad_request():
    for page in ("²", "٣", "３", "1²"):
        assert refused(page=page).status == 400


def test_a_page_in_ascii_digits_is_read():
    assert read(page="3").page == 2


def test_a_link_keeps_the_period_and_agency_and_applies_changes():
    query = read(**{"from": "2026-11-01", "to": "2026-11-20"}, agency="SCT")

    assert query.link(sort="ratio") == "from=2026-11-01&to=2026-11-20&agency=SCT&sort=ratio"
