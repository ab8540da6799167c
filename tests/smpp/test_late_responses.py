"""A slow or silent SMSC: late answers settle on their connection, silence ends in a relink.

The rule under test (gateway/smpp/session.py): a submit_sm_resp after `response_timeout`
on the same connection still settles the submit; a submit unanswered for `relink_after`
retires its connection (the others on it are still answered), and only a submit whose
connection closed unanswered is reported `OutcomeUnknown`, to be sent again.
"""

from __future__ import annotations

import asyncio

import pytest

from gateway.smpp.errors import OutcomeUnknown, StatusError
from gateway.smpp.pdu import Status, StatusClass
from gateway.smpp.session import Submit
from gateway.smpp.sim import Rule
from tests.support.wait import eventually

SILENT = "84977000000"


def sm(destination: str = "84905123456") -> Submit:
    return Submit(source="MotcuaSMS", destination=destination, short_message=b"Hello")


async def test_response_after_the_timeout_settles_the_submit(bound_session, smsc):
    """Answered 0.3 s after response_timeout: the id is returned, nothing is sent twice."""
    smsc.config.response_delay = 0.5
    session = await bound_session(response_timeout=0.2, relink_after=2.0)

    message_id = await session.submit(sm())

    assert message_id == smsc.records[0].message_id
    assert smsc.stats.submits == 1
    assert session.stats.responses_overdue == 1
    assert session.stats.late_responses == 1
    assert session.stats.outcome_unknown == 0
    assert smsc.stats.binds == 1


async def test_silent_submit_retires_its_connection_and_is_outcome_unknown(bound_session, smsc):
    """Never answered on a live connection: after relink_after the connection is unbound,
    closed and bound again, and only then is the submit reported outcome unknown."""
    smsc.config.rules = (Rule(SILENT, "no_response"),)
    session = await bound_session(response_timeout=0.2, relink_after=0.5)

    with pytest.raises(OutcomeUnknown):
        await asyncio.wait_for(session.submit(sm(SILENT)), 5)
    await eventually(lambda: smsc.stats.binds == 2 and session.bound)

    assert session.stats.relinks == 1
    assert session.stats.outcome_unknown == 1
    assert smsc.stats.unbinds == 1


@pytest.mark.slow
async def test_submits_out_when_a_connection_retires_still_get_their_answers(bound_session, smsc):
    """Retiring waits for the other submits on the connection: their late answers settle
    them, so a silent submit costs one resend, not a window of them."""
    smsc.config.rules = (Rule(SILENT, "no_response"),)
    smsc.config.response_delay = 1.0
    session = await bound_session(window=5, response_timeout=1.0, relink_after=4.0)
    silent = asyncio.create_task(session.submit(sm(SILENT)))
    await asyncio.sleep(3.5)  # the others go out 0.5 s before the silent one retires it

    others = await asyncio.wait_for(
        asyncio.gather(*(session.submit(sm(f"8490500000{n}")) for n in range(4))), 10
    )
    with pytest.raises(OutcomeUnknown):
        await asyncio.wait_for(silent, 5)

    assert sorted(others) == sorted(r.message_id for r in smsc.records[1:])
    assert smsc.stats.submits == 5
    assert session.stats.outcome_unknown == 1


async def test_silent_submits_do_not_hold_the_window_for_ever(bound_session, smsc):
    """Window 2, both slots taken by submits that are never answered: the next submit
    still goes, on the next bind, within a bounded time."""
    smsc.config.rules = (Rule(SILENT, "no_response"),)
    session = await bound_session(window=2, response_timeout=0.2, relink_after=0.5)
    silent = [asyncio.create_task(session.submit(sm(SILENT))) for _ in range(2)]
    await eventually(lambda: smsc.stats.submits == 2)

    message_id = await asyncio.wait_for(session.submit(sm()), 5)

    assert message_id == smsc.records[-1].message_id
    for task in silent:
        with pytest.raises(OutcomeUnknown):
            await task


async def test_rebind_status_replaces_the_link_and_resends_without_failing(bound_session, smsc):
    """ESME_RINVBNDSTS: the SMSC lost our bind. The link is replaced and the same PDU
    accepted on the new bind; the caller sees an id, not an error."""
    smsc.config.rules = (Rule("84905*", "transient", status=Status.ESME_RINVBNDSTS, count=1),)
    session = await bound_session()

    message_id = await asyncio.wait_for(session.submit(sm()), 5)

    assert message_id == smsc.records[-1].message_id
    assert [r.status for r in smsc.records] == [Status.ESME_RINVBNDSTS, Status.ESME_ROK]
    assert smsc.stats.binds == 2
    assert session.stats.submits_failed == 0


async def test_rebind_answers_without_end_become_a_transient_failure(bound_session, smsc):
    """An SMSC answering ESME_RINVBNDSTS after every bind: after a few rebinds the
    submit is reported transient, so the message's own retry limit ends it."""
    smsc.config.rules = (Rule("84905*", "reject", status=Status.ESME_RINVBNDSTS),)
    session = await bound_session()

    with pytest.raises(StatusError) as err:
        await asyncio.wait_for(session.submit(sm()), 10)

    assert err.value.status_class == StatusClass.TRANSIENT
    assert smsc.stats.submits == 3


async def test_generic_nack_saying_ok_is_not_an_acceptance(bound_session, smsc):
    """generic_nack with command_status 0 answering a submit: a transient error, never
    an accepted message with an id it does not carry."""
    smsc.config.rules = (Rule("84905*", "nack"),)
    session = await bound_session()

    with pytest.raises(StatusError) as err:
        await session.submit(sm())

    assert err.value.status_class == StatusClass.TRANSIENT
    assert err.value.name == "ESME_RSYSERR"
