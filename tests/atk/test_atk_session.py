"""Attacks on the SMPP session with hand-written SMSCs."""
from __future__ import annotations

import asyncio
import time

import pytest

from gateway.smpp.errors import ConnectError, OutcomeUnknown, StatusError
from gateway.smpp.pdu import CommandId, Status
from gateway.smpp import pdu as P
from gateway.smpp.session import Session, Submit

from tests.smpp.conftest import Inbox, session_config
from .smsc import Smsc


def sm(**kw):
    base = dict(source="UBND", destination="84901234567", short_message=b"hi")
    base.update(kw)
    return Submit(**base)


async def test_duplicate_resp_and_out_of_order():
    def policy(s, conn, p):
        async def go():
            await asyncio.sleep(0.05 * (5 - p.sequence % 5))
            mid = s.next_id()
            conn.resp(p.sequence, 0, mid)
            conn.resp(p.sequence, 0, mid)  # twice
            s.accepted.append((p, mid))
        return go()
    async with Smsc(policy) as smsc:
        async with Session(session_config(smsc.port, window=5), Inbox()) as sess:
            await sess.wait_bound(5)
            ids = await asyncio.gather(*(sess.submit(sm()) for _ in range(10)))
    assert len(set(ids)) == 10
    assert len(smsc.submits) == 10


async def test_enquire_link_resp_with_a_submits_sequence_is_not_an_acceptance():
    """A sloppy SMSC answering enquire_link with the sequence of a pending submit:
    the submit must not be settled by an enquire_link_resp."""
    holder = {}
    def policy(s, conn, p):
        holder["seq"] = p.sequence
        return s.accept(conn, p, later=1.0)
    async with Smsc(policy) as smsc:
        cfg = session_config(smsc.port, response_timeout=3, enquire_link_interval=0.3)
        async with Session(cfg, Inbox()) as sess:
            await sess.wait_bound(5)
            task = asyncio.create_task(sess.submit(sm()))
            await asyncio.sleep(0.2)
            # send an enquire_link_resp with the submit's sequence
            smsc.conns[-1].send(P.encode_header_only(CommandId.ENQUIRE_LINK_RESP, holder["seq"], 0))
            assert await task == smsc.accepted[0][1], "settled by its own submit_sm_resp"


async def test_ok_without_message_id_is_taken_held_up():
    def policy(s, conn, p):
        conn.resp(p.sequence, 0, None)
        s.accepted.append((p, None))
    async with Smsc(policy) as smsc:
        async with Session(session_config(smsc.port), Inbox()) as sess:
            await sess.wait_bound(5)
            r = await sess.submit(sm())
            print("id", repr(r))


async def test_throttled_for_ever_ends_when_the_message_ttl_does():
    """ESME_RTHROTTLED to every submit: the submit must give up once expires_at passes."""
    def policy(s, conn, p):
        conn.resp(p.sequence, Status.ESME_RTHROTTLED, "")
    async with Smsc(policy) as smsc:
        cfg = session_config(smsc.port, throttle_pause=0.05)
        async with Session(cfg, Inbox()) as sess:
            await sess.wait_bound(5)
            with pytest.raises((StatusError, OutcomeUnknown)):
                async with asyncio.timeout(3):
                    await sess.submit(sm(expires_at=time.time() + 1))
            print("submits", len(smsc.submits))


async def test_rinvbndsts_rebinds_and_resends():
    def policy(s, conn, p):
        n = len(s.submits)
        if n <= 2:
            conn.resp(p.sequence, Status.ESME_RINVBNDSTS, "")
        else:
            return s.accept(conn, p)
    async with Smsc(policy) as smsc:
        cfg = session_config(smsc.port, response_timeout=0.5)
        async with Session(cfg, Inbox()) as sess:
            await sess.wait_bound(5)
            t = time.monotonic()
            r = await sess.submit(sm())
            print("rebind ok", r, "binds", smsc.binds, round(time.monotonic() - t, 2))
    assert len(smsc.accepted) == 1


@pytest.mark.parametrize("how", ["unbind", "close", "unbind_then_stay"])
async def test_bind_then_dropped_at_once_backoff_grows(how):
    def bind_policy(s, conn):
        if how == "close":
            conn.close()
        else:
            conn.send(P.encode_header_only(CommandId.UNBIND, 999))
            if how == "unbind":
                conn.close()

    async with Smsc(lambda s, c, p: s.accept(c, p), bind_policy=bind_policy) as smsc:
        cfg = session_config(smsc.port, reconnect_min=0.05, reconnect_max=0.8, bind_stable_after=1.0)
        async with Session(cfg, Inbox()):
            await asyncio.sleep(3.0)
        gaps = [round(b - a, 2) for a, b in zip(smsc.bind_times, smsc.bind_times[1:])]
        print(how, smsc.binds, gaps)
    assert 3 <= smsc.binds <= 12, smsc.binds


async def test_a_stale_response_from_a_closed_connection_settles_no_other_submit():
    """Connection 1 takes submits and closes without answering. On connection 2 the SMSC
    sends connection 1's late responses (its sequence numbers, ids OLD-n) as the new
    submits come, then answers normally. Sequence numbers restart at 1 on every link, so the stale responses match
    connection 2's submits: a message gets another's id (and receipt)."""
    state = {"conn1": None, "n": 0}

    def policy(s, conn, p):
        if state["conn1"] is None:
            state["conn1"] = conn
        if conn is state["conn1"]:
            state["n"] += 1
            if state["n"] == 3:
                asyncio.get_running_loop().call_later(0.1, conn.close)
            return None
        old = {q.sequence for c, q in s.submits if c is state["conn1"]}
        if p.sequence in old and p.sequence not in state.setdefault("flushed", set()):
            state["flushed"].add(p.sequence)
            conn.resp(p.sequence, 0, f"OLD-{p.sequence}")  # late, for connection 1's submit
        return s.accept(conn, p, later=0.3)

    bind_policy = None

    async with Smsc(policy, bind_policy=bind_policy) as smsc:
        cfg = session_config(smsc.port, window=3, response_timeout=2, reconnect_min=0.05)
        async with Session(cfg, Inbox()) as sess:
            await sess.wait_bound(5)
            dests = [f"8490000000{i}" for i in range(3)]

            async def send(d):
                for _ in range(3):
                    try:
                        return await sess.submit(sm(destination=d))
                    except OutcomeUnknown:
                        continue
            ids = await asyncio.gather(*(send(d) for d in dests))
    print("ids", ids)
    issued = {mid for _, mid in smsc.accepted}
    assert set(ids) <= issued, f"ids from responses to other submits: {ids}"
