"""A notice's ZNS parameters, filled by the composer's own renderer, diacritics kept."""

from __future__ import annotations

import pytest

from gateway.compose.zns import render_params
from gateway.domain.notice import TemplateError
from tests.support.zalo import RESULT_TEMPLATE

FIELDS = {"receipt_no": "000.00.06.H56-231027-0361", "agency_name": "Sở Tư pháp"}


def test_each_parameter_is_its_wording_filled_with_the_dossier_s_fields():
    assert render_params(RESULT_TEMPLATE, FIELDS) == {
        "ma_ho_so": "000.00.06.H56-231027-0361",
        "co_quan": "Sở Tư pháp",
    }


def test_diacritics_are_kept_and_text_is_nfc():
    decomposed = {**FIELDS, "agency_name": "So\u031b\u0309 Tu\u031b pha\u0301p"}

    assert render_params(RESULT_TEMPLATE, decomposed)["co_quan"] == "Sở Tư pháp"


def test_a_field_the_wording_needs_but_not_given_is_refused_naming_the_parameter():
    with pytest.raises(TemplateError) as info:
        render_params(RESULT_TEMPLATE, {"receipt_no": "0101701234"})

    assert "ZNS parameter co_quan" in str(info.value)
    assert "agency_name" in str(info.value)

