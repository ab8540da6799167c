"""Sequence numbers run on across a session's connections, so that a stale answer from a
closed one cannot settle a submit on the next."""

from __future__ import annotations

import asyncio

from gateway.smpp.errors import OutcomeUnknown
from gateway.smpp.session import Session, Submit
from tests.support.scripted_smsc import Conn, Smsc
from tests.support.session import Inbox, session_config


async def test_a_stale_response_from_a_closed_connection_settles_no_submit_on_the_next():
    """Connection 1 takes three submits and closes unanswered. On connection 2 the SMSC
    first sends connection 1's answers (its sequence numbers, ids OLD-n), then answers the
    new submits. Before, numbers restarted at 1 on every connection, so the stale answers
    matched the new submits and a message took another's id (and receipt)."""
    state: dict[str, object] = {"first": None, "n": 0, "flushed": set()}

    def policy(s: Smsc, conn: Conn, p: object):
        if state["first"] is None:
            state["first"] = conn
        if conn is state["first"]:
            state["n"] = int(state["n"]) + 1  # type: ignore[call-overload]
            if state["n"] == 3:
                asyncio.get_running_loop().call_later(0.1, conn.close)
            return None
        flushed: set[int] = state["flushed"]  # type: ignore[assignment]
        if not flushed:
            for c, q in s.submits:
                if c is state["first"]:
                    flushed.add(q.sequence)
                    conn.resp(q.sequence, 0, f"OLD-{q.sequence}")
        return s.accept(conn, p, later=0.3)

    async with Smsc(policy) as smsc:
        cfg = session_config(smsc.port, window=3, response_timeout=2, reconnect_min=0.05)
        async with Session(cfg, Inbox()) as session:
            await session.wait_bound(5)

            async def send(destination: str) -> str:
                for _ in range(3):
                    try:
                        return await session.submit(
                            Submit(source="UBND", destination=destination, short_message=b"x")
                        )
                    except OutcomeUnknown:
                        continue
                raise AssertionError("not sent in three tries")

            async with asyncio.timeout(10):
                ids = await asyncio.gather(*(send(f"8490000000{i}") for i in range(3)))
    assert state["flushed"], "the stale answers were sent"
    by_destination = {p.destination_addr.decode(): mid for p, mid in smsc.accepted}
    assert ids == [by_destination[f"8490000000{i}"] for i in range(3)]
