"""The `report:` section: the prices the figures' cost is counted at, of one SMS segment
and of one ZNS notice Zalo delivered."""

from __future__ import annotations

import pytest

from gateway.settings.config import ConfigError, parse_config

AGENCY = "agencies:\n  SCT:\n    name: Sở Công Thương\n"


def test_segment_price_is_read_from_the_report_section():
    config = parse_config("report:\n  segment_price: 450\n" + AGENCY, env={})

    assert config.report.segment_price == 450


def test_without_a_report_section_no_cost_is_assumed():
    assert parse_config(AGENCY, env={}).report.segment_price == 0


@pytest.mark.parametrize("value", ["-1", "4.5", "cheap"])
def test_a_segment_price_that_is_no_whole_number_of_dong_is_refused(value):
    with pytest.raises(ConfigError) as info:
        parse_config(f"report:\n  segment_price: {value}\n" + AGENCY, path="g.yaml", env={})

    assert (info.value.key, info.value.line) == ("report.segment_price", 2)


def test_zns_price_is_read_from_the_report_section():
    config = parse_config("report:\n  zns_price: 300\n" + AGENCY, env={})

    assert (config.report.zns_price, config.report.segment_price) == (300, 0)


def test_without_a_zns_price_no_zalo_cost_is_assumed():
    assert parse_config(AGENCY, env={}).report.zns_price == 0


@pytest.mark.parametrize("value", ["-1", "4.5", "cheap"])
def test_a_zns_price_that_is_no_whole_number_of_dong_is_refused(value):
    with pytest.raises(ConfigError) as info:
        parse_config(
            f"report:\n  segment_price: 450\n  zns_price: {value}\n" + AGENCY,
            path="g.yaml",
            env={},
        )

    assert (info.value.key, info.value.line) == ("report.zns_price", 3)


def test_e_mail_has_no_price_in_the_report_section():
    with pytest.raises(ConfigError) as info:
        parse_config("report:\n  email_price: 10\n" + AGENCY, path="g.yaml", env={})

    assert info.value.key == "report.email_price"
