"""A sloppy or stubborn SMSC against the session: answers of the wrong command, answers
twice, throttling for ever, and a bind that completes while the session is closing."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.smpp import pdu as P
from gateway.smpp.errors import Expired, Withheld
from gateway.smpp.pdu import CommandId, Status
from gateway.smpp.session import Session, Submit
from tests.support.scripted_smsc import Conn, Smsc
from tests.support.session import Inbox, session_config


def sm(**kw: object) -> Submit:
    base: dict[str, object] = dict(source="UBND", destination="84901234567", short_message=b"hi")
    base.update(kw)
    return Submit(**base)  # type: ignore[arg-type]


def throttle_all(_s: Smsc, conn: Conn, p: object) -> None:
    conn.resp(p.sequence, Status.ESME_RTHROTTLED, "")  # type: ignore[attr-defined]


async def test_a_response_of_another_command_under_a_submits_sequence_does_not_settle_it():
    """An enquire_link_resp carrying a pending submit's sequence (a carrier echoing the
    wrong counter) is logged as unexpected; the submit waits for its own submit_sm_resp."""
    seen: dict[str, int] = {}

    def policy(s: Smsc, conn: Conn, p: object):
        seen["seq"] = p.sequence  # type: ignore[attr-defined]
        conn.send(P.encode_header_only(CommandId.ENQUIRE_LINK_RESP, seen["seq"], 0))
        return s.accept(conn, p, later=0.2)

    async with Smsc(policy) as smsc, Session(session_config(smsc.port), Inbox()) as session:
        await session.wait_bound(5)
        async with asyncio.timeout(5):
            message_id = await session.submit(sm())
    assert message_id == smsc.accepted[0][1]
    assert len(smsc.submits) == 1


async def test_a_submit_answered_twice_and_out_of_order_gets_its_own_id():
    def policy(s: Smsc, conn: Conn, p: object):
        async def go() -> None:
            await asyncio.sleep(0.05 * (5 - p.sequence % 5))  # type: ignore[attr-defined]
            mid = s.next_id()
            conn.resp(p.sequence, 0, mid)  # type: ignore[attr-defined]
            conn.resp(p.sequence, 0, mid)  # type: ignore[attr-defined]
            s.accepted.append((p, mid))

        return go()

    async with Smsc(policy) as smsc, Session(session_config(smsc.port, window=5), Inbox()) as ses:
        await ses.wait_bound(5)
        async with asyncio.timeout(10):
            ids = await asyncio.gather(
                *(ses.submit(sm(destination=f"8490000000{n}")) for n in range(10))
            )
    by_destination = {p.destination_addr.decode(): mid for p, mid in smsc.accepted}
    assert ids == [by_destination[f"8490000000{n}"] for n in range(10)]


async def test_a_submit_throttled_for_ever_ends_unwritten_once_its_ttl_passes():
    """ESME_RTHROTTLED to every try: the session stops resending when `expires_at` has
    passed and raises Expired, instead of holding a window slot for ever."""
    async with Smsc(throttle_all) as smsc:
        cfg = session_config(smsc.port, throttle_pause=0.2)
        async with Session(cfg, Inbox()) as session:
            await session.wait_bound(5)
            with pytest.raises(Expired):
                async with asyncio.timeout(5):
                    await session.submit(sm(expires_at=time.time() + 0.5))
            tries = len(smsc.submits)
            await asyncio.sleep(0.2)
            assert session.window_in_use == 0
    assert tries >= 1
    assert len(smsc.submits) == tries, "resent after it ended"


async def test_the_ttl_is_read_with_the_submits_own_clock():
    """A sender with its own clock: a TTL that has passed by that clock is never written."""
    async with (
        Smsc(lambda s, c, p: s.accept(c, p)) as smsc,
        Session(session_config(smsc.port), Inbox()) as session,
    ):
        await session.wait_bound(5)
        with pytest.raises(Expired):
            await session.submit(sm(expires_at=1000.0, clock=lambda: 1001.0))
        await session.submit(sm(expires_at=1000.0, clock=lambda: 999.0))
    assert len(smsc.submits) == 1


async def test_may_write_is_asked_right_before_each_write_not_when_the_submit_began():
    """Throttled once, and by the resend the submit may no longer be written (quiet hours
    began meanwhile): it is withheld, unwritten a second time."""
    allowed = {"now": True}

    def policy(_s: Smsc, conn: Conn, p: object) -> None:
        allowed["now"] = False
        throttle_all(_s, conn, p)

    async with Smsc(policy) as smsc:
        cfg = session_config(smsc.port, throttle_pause=0.05)
        async with Session(cfg, Inbox()) as session:
            await session.wait_bound(5)
            with pytest.raises(Withheld):
                async with asyncio.timeout(5):
                    await session.submit(sm(may_write=lambda: allowed["now"]))
    assert len(smsc.submits) == 1


async def test_a_bind_answered_while_the_session_closes_is_unbound_at_once_not_served():
    """Transmitter bound with a submit out; the receiver's bind is answered while close()
    waits for that submit. The receiver is unbound at once (the SMSC answers the submit
    only then); before, it was served until close() was done waiting, so close() sat out
    its whole shutdown_timeout and the submit went unanswered."""
    binds: dict[str, tuple[Conn, int]] = {}
    receiver_bind_seen = asyncio.Event()
    closing = asyncio.Event()

    async def bind_answer(_s: Smsc, conn: Conn, command: str, seq: int) -> None:
        if command == "bind_receiver":
            binds["rx"] = (conn, seq)
            receiver_bind_seen.set()
            await closing.wait()
        conn.bind_resp(command, seq)

    def policy(s: Smsc, conn: Conn, p: object):
        async def go() -> None:
            await receiver_bind_seen.wait()
            rx, _ = binds["rx"]
            await rx.unbound.wait()
            await s.accept(conn, p)

        return go()

    async with Smsc(policy, bind_answer=bind_answer) as smsc:
        cfg = session_config(smsc.port, bind="transmitter_receiver", shutdown_timeout=5.0)
        session = Session(cfg, Inbox())
        await session.__aenter__()
        try:
            async with asyncio.timeout(5):
                await receiver_bind_seen.wait()
                while session.stats.binds < 1:
                    await asyncio.sleep(0.01)
            submit = asyncio.create_task(session.submit(sm()))
            async with asyncio.timeout(5):
                while not smsc.submits:
                    await asyncio.sleep(0.01)
            close = asyncio.create_task(session.close())
            await asyncio.sleep(0.05)
            closing.set()
            async with asyncio.timeout(3):  # well inside shutdown_timeout
                await close
            assert await submit == smsc.accepted[0][1]
        finally:
            await session.close()


async def test_a_submit_waiting_for_a_bind_ends_unwritten_when_its_ttl_passes():
    """Every bind dropped at once: the submit does not wait for a bind beyond its TTL."""

    def drop(_s: Smsc, conn: Conn) -> None:
        conn.close()

    async with (
        Smsc(lambda s, c, p: s.accept(c, p), bind_policy=drop) as smsc,
        Session(session_config(smsc.port), Inbox()) as session,
    ):
        with pytest.raises(Expired):
            async with asyncio.timeout(5):
                await session.submit(sm(expires_at=time.time() + 0.5))
        assert session.window_in_use == 0
    assert smsc.binds >= 1
    assert smsc.submits == []
