"""Numbers as SMS job params print as the citizen reads a number (SPEC: params are strings
or numbers): a whole amount sent as a JSON float is not "50000.0", a large one not "1e+21"."""

from __future__ import annotations

import json

import pytest

from gateway.payloads import SmsJob, parse_sms


@pytest.mark.parametrize(
    ("raw", "shown"), [("50000", "50000"), ("50000.0", "50000"), ("1e6", "1000000")]
)
def test_a_whole_number_param_prints_without_a_decimal_point_or_exponent(raw, shown):
    head = '{"id": "fee-1", "to": "0905123456", "template": "fee", "params": {"amount": '
    payload = (head + raw + "}}").encode()
    job = parse_sms(payload, topic_agency="SCT", agencies={"SCT"})
    assert isinstance(job, SmsJob), job
    assert job.params["amount"] == shown, json.dumps(dict(job.params))
