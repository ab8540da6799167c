"""docs/INTEGRATION.md's advice on a refused message is what the gateway does: the same
`event_id` again is a repeat that sends nothing (SPEC), so a correction goes out as the
dossier's state published again under a new `event_id`
(tests/intake/test_publishing_again.py holds the gateway to it)."""

from __future__ import annotations

import re

from tests.support.asyncapi_document import ROOT

GUIDE = ROOT / "docs" / "INTEGRATION.md"
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
# "publish (its|the) event again" without a new event_id: the advice that loses the notice.
SAME_EVENT_AGAIN = re.compile(r"publish(?:ing)? (?:its|the|this) event again", re.IGNORECASE)


def test_the_guide_never_advises_publishing_the_same_event_again():
    text = " ".join((GUIDE.read_text("utf-8") + ASYNCAPI.read_text("utf-8")).split())

    assert SAME_EVENT_AGAIN.findall(text) == []


def test_the_guide_says_a_correction_goes_under_a_new_event_id():
    text = " ".join(GUIDE.read_text(encoding="utf-8").split())

    assert "publish the dossier's state again as a new event, with a new `event_id`" in text
    assert "motcua_repeated_ids_total" in text and "intake_id_reused" in text
