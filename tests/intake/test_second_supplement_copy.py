"""A notice sent again once its number is fixed gets no second e-mail copy: the check is
of this request's refused notice, not of the dossier's earlier requests of the same kind.
A dossier asked for supplements twice (the desk finds a second missing paper) whose
second request came with a number refused, then fixed with the address, has the second
request e-mailed: its earlier copy was of the first request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store.store import Store
from tests.support.intake import IntakeRig, intake_on
from tests.support.mailing import TO, event, mailing_config
from tests.support.store_reads import db_rows


@pytest.fixture
async def rig(tmp_path: Path, store_location) -> AsyncIterator[IntakeRig]:
    async with Store.open(store_location) as store:
        yield IntakeRig(store, intake_on(store, mailing_config()))


async def test_a_second_supplement_request_fixed_for_its_number_is_e_mailed(rig):
    supplement = {"status": "needs_supplement", "step": "Bổ sung hồ sơ"}
    await rig.intake.process([event("e-1", email=TO, **supplement)])  # 1st request, e-mailed
    await rig.intake.process([event("e-2", status="processing", step="Thẩm định")])
    # 2nd request: the desk typed a landline, and no address this time
    await rig.intake.process([event("e-3", phone="0258 3822 123", **supplement)])
    # fixed: the mobile number, and the address
    await rig.intake.process([event("e-4", email=TO, **supplement)])

    messages = await rig.messages()
    assert messages["e-4:supplement"][0] == "queued"  # its SMS goes
    letters = [r for (r,) in await db_rows(rig.store, "SELECT ref FROM emails ORDER BY id")]
    assert letters == ["e-1:supplement", "e-4:supplement"]
