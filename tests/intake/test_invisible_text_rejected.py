"""A job whose text is only invisible characters (zero-width space, soft hyphen, BOM, a
lone combining accent) is nothing a citizen can read: it is `rejected` naming `text`,
not queued as an empty SMS the province pays for and the agency believes was sent."""

from __future__ import annotations

import json

import pytest

from gateway.intake.payloads import Rejection, parse_sms


@pytest.mark.parametrize("text", ["\u200b\u200b", "\u00ad", "\ufeff", "\u0301", " \u200b "])
def test_job_with_only_invisible_text_is_rejected_naming_text(text):
    payload = json.dumps({"id": "fee-1", "to": "0905123456", "text": text}).encode()

    result = parse_sms(payload, topic_agency="SCT", agencies=["SCT"])

    assert isinstance(result, Rejection), result
    assert result.field == "text"
