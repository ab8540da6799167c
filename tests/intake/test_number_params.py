"""Numbers as SMS job params print as the citizen reads a number (SPEC: params are strings
or numbers): a whole amount sent as a JSON float is not "50000.0", a large one not "1e+21",
a fraction not "1.5e-05"."""

from __future__ import annotations

import json

import pytest

from gateway.intake.payloads import Rejection, SmsJob, parse_sms

HEAD = '{"id": "fee-1", "to": "0905123456", "template": "fee", "params": {"amount": '


def job(raw: str) -> SmsJob | Rejection:
    return parse_sms((HEAD + raw + "}}").encode(), topic_agency="SCT", agencies={"SCT"})


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("50000", "50000"), ("50000.0", "50000"), ("1e6", "1000000"),
     ("1e21", "1000000000000000000000"), ("-3.0", "-3")],
)  # fmt: skip
def test_a_whole_number_param_prints_without_a_decimal_point_or_exponent(raw, shown):
    parsed = job(raw)
    assert isinstance(parsed, SmsJob), parsed
    assert parsed.params["amount"] == shown, json.dumps(dict(parsed.params))


@pytest.mark.parametrize(
    ("raw", "shown"), [("2.5", "2.5"), ("1.5e-5", "0.000015"), ("1234.5678", "1234.5678")]
)
def test_a_fractional_number_param_prints_in_plain_decimal_notation(raw, shown):
    parsed = job(raw)
    assert isinstance(parsed, SmsJob), parsed
    assert parsed.params["amount"] == shown


@pytest.mark.parametrize("raw", ["true", "false", "null"])
def test_a_boolean_or_null_param_is_rejected_naming_params(raw):
    parsed = job(raw)
    assert isinstance(parsed, Rejection), parsed
    assert parsed.field == "params"
