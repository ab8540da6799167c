"""Malformed PDUs from the SMSC never kill the session (property-based, over real TCP)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.smpp.pdu import CommandId
from gateway.smpp.session import Session, Submit
from gateway.smpp.sim import SimConfig, SmscSimulator
from tests.support.session import Inbox, session_config
from tests.support.wait import eventually

# Request ids an SMSC may send, ids nobody defined, and responses to nothing we sent.
_COMMAND_IDS = st.sampled_from(
    [
        CommandId.DELIVER_SM,
        CommandId.DATA_SM,
        CommandId.ALERT_NOTIFICATION,
        CommandId.SUBMIT_SM,
        CommandId.BIND_TRANSCEIVER,
        CommandId.SUBMIT_SM_RESP,
        CommandId.GENERIC_NACK,
        0x00000000,
        0x00000104,
        0x0000FFFF,
        0x80001234,
    ]
)


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    """A frame with a correct command_length and anything inside."""
    command_id = draw(_COMMAND_IDS)
    body = draw(
        st.one_of(
            st.binary(max_size=200),
            # deliver_sm-shaped bodies: C-strings without NUL, cut TLVs, huge sm_length
            st.builds(
                lambda a, b: a + b"\x00" + b,
                st.binary(max_size=40),
                st.binary(max_size=80),
            ),
        )
    )
    status = draw(st.integers(0, 0xFFFFFFFF))
    sequence = draw(st.integers(0, 0xFFFFFFFF))
    header = (16 + len(body)).to_bytes(4, "big") + int(command_id).to_bytes(4, "big")
    return header + status.to_bytes(4, "big") + sequence.to_bytes(4, "big") + body


async def _scenario(batch: list[bytes]) -> None:
    inbox = Inbox()
    async with SmscSimulator(SimConfig(receipt_delay=0.0)) as smsc:
        config = session_config(smsc.port)
        async with Session(config, inbox) as session:
            await session.wait_bound(5)
            for frame in batch:
                smsc.send_raw(frame)
            # Once the enquire_link sent after the batch is answered, the session has read the
            # whole batch. Without that, a stray submit_sm_resp whose sequence is the one our
            # submit is about to use could arrive after the submit and rightly count as its
            # answer: the protocol cannot tell the two apart, and the test would fail on a race.
            answered = smsc.stats.responses["enquire_link_resp"]
            await smsc.enquire_all()
            await eventually(lambda: smsc.stats.responses["enquire_link_resp"] > answered)
            message_id = await asyncio.wait_for(
                session.submit(Submit("MotcuaSMS", "84905123456", b"still here")), 5
            )
            await eventually(lambda: any(getattr(i, "message_id", None) for i in inbox.items))

            assert message_id
            assert session.bound
            assert smsc.stats.binds == 1, "the bind must survive malformed PDUs"


_STRAY_RESPONSE = bytes.fromhex("00000010800000040000000100000002")  # submit_sm_resp, seq 2


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(frames(), min_size=1, max_size=15))
@example(batch=[bytes.fromhex("00000010000000050000000000000000")] * 6 + [_STRAY_RESPONSE])
def test_malformed_pdus_never_break_the_bind(batch: list[bytes]) -> None:
    """Whatever arrives in a well-framed PDU, the bind stays and submits still work."""
    asyncio.run(_scenario(batch))


async def test_undecodable_request_is_answered_with_generic_nack(bound_session, smsc):
    """An SMSC request we cannot decode gets generic_nack with its sequence."""
    await bound_session()

    smsc.send_raw(bytes.fromhex("00000010000000ff0000000000000009"))

    await eventually(lambda: smsc.stats.generic_nacks_received == 1)


async def test_deliver_sm_with_padding_and_vendor_tlvs_is_taken_not_nacked(
    bound_session, smsc, inbox
):
    """What carriers send: a vendor TLV and NUL padding after the body. Answered OK and
    handed over once, instead of generic_nack and the same PDU redelivered for ever."""
    await bound_session()
    head = b"\0" + b"\1\1" + b"84905123456\0" + b"\1\1" + b"8083\0" + bytes(3) + b"\0\0" + bytes(4)
    body = head + b"\x0bMCKH 123456" + b"\x14\x01\x00\x02\x00\x01" + bytes(3)
    frame = (16 + len(body)).to_bytes(4, "big") + (5).to_bytes(4, "big") + bytes(4)
    smsc.send_raw(frame + (77).to_bytes(4, "big") + body)

    (mo,) = await inbox.wait_for(1)
    await eventually(lambda: smsc.stats.responses["deliver_sm_resp"] == 1)

    assert (mo.source, mo.destination, mo.text) == ("84905123456", "8083", "MCKH 123456")
    assert smsc.stats.generic_nacks_received == 0
