"""The daemon against a sloppy or stubborn carrier (the scriptable SMSC): what each job
ends as, and how many paid copies the carrier saw."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from gateway.smpp import pdu as P
from gateway.smpp.pdu import CommandId, Status
from tests.support.daemon import stop_daemon
from tests.support.scripted_daemon import ScriptedDaemon, job
from tests.support.scripted_smsc import Conn, Smsc

LONG_UCS2 = "Thông báo: hồ sơ của ông/bà đã có kết quả, mời đến nhận tại bộ phận một cửa. " * 4


async def test_a_message_throttled_for_ever_ends_expired_at_its_ttl(broker, tmp_path):
    def policy(_s: Smsc, conn: Conn, p: Any) -> None:
        conn.resp(p.sequence, Status.ESME_RTHROTTLED, "")

    async with (
        Smsc(policy) as smsc,
        ScriptedDaemon(
            broker.port, smsc.port, tmp_path, smpp="  throttle_pause: 0.2\n", retry="  ttl: 3\n"
        ) as d,
    ):
        await d.publish([job(1)])
        finals = await d.wait_final(["job-1"], timeout=15)
    assert smsc.submits, "it was tried"
    assert finals.get("job-1") == ["expired"]


async def test_a_stray_response_of_another_command_costs_no_paid_copy(broker, tmp_path):
    """The SMSC sends an enquire_link_resp carrying a pending submit's sequence number,
    then the real submit_sm_resp: each message is settled by its own answer, paid once
    and delivered. Before, the stray answer settled the submit and broke it (AttributeError
    on message_id): about six paid copies per message, all ending `failed`."""

    def policy(s: Smsc, conn: Conn, p: Any):
        async def go() -> None:
            conn.send(P.encode_header_only(CommandId.ENQUIRE_LINK_RESP, p.sequence, 0))
            await asyncio.sleep(0.2)
            mid = s.next_id()
            conn.resp(p.sequence, 0, mid)
            s.accepted.append((p, mid))
            await asyncio.sleep(0.1)
            conn.receipt(mid, "DELIVRD")

        return go()

    async with Smsc(policy) as smsc, ScriptedDaemon(broker.port, smsc.port, tmp_path) as d:
        await d.publish([job(n) for n in range(5)])
        finals = await d.wait_final([f"job-{n}" for n in range(5)], timeout=20)
    paid = Counter(p.destination_addr for p, _ in smsc.accepted)
    assert finals == {f"job-{n}": ["delivered"] for n in range(5)}
    assert sorted(paid.values()) == [1] * 5


async def test_sigterm_with_a_window_of_submits_unanswered_exits_0_in_bounded_time(
    broker, tmp_path
):
    async with (
        Smsc(lambda _s, _c, _p: None) as smsc,
        ScriptedDaemon(broker.port, smsc.port, tmp_path, smpp="  shutdown_timeout: 2\n") as d,
    ):
        await d.publish([job(n) for n in range(15)])
        async with asyncio.timeout(10):
            while len(smsc.submits) < 10:
                await asyncio.sleep(0.05)
        status = await stop_daemon(d.proc, timeout=15)
    assert status == 0


async def test_started_while_the_smsc_drops_every_bind_then_all_go_once_when_it_is_back(
    broker, tmp_path
):
    """Started with every bind dropped at once for 3 s: the jobs wait, nothing fails or is
    counted, each is delivered once when binds stay up; a SIGTERM while it is down again
    ends the daemon with 0."""
    down = {"on": True}

    def bind_policy(_s: Smsc, conn: Conn) -> None:
        if down["on"]:
            conn.close()

    def policy(s: Smsc, conn: Conn, p: Any):
        async def go() -> None:
            mid = s.next_id()
            conn.resp(p.sequence, 0, mid)
            s.accepted.append((p, mid))
            await asyncio.sleep(0.05)
            conn.receipt(mid, "DELIVRD")

        return go()

    async with Smsc(policy, bind_policy=bind_policy) as smsc:
        smsc.id_format = "M{:08d}"
        async with ScriptedDaemon(
            broker.port, smsc.port, tmp_path, smpp="  reconnect_max: 1\n"
        ) as d:
            await d.publish([job(n) for n in range(30)])
            await asyncio.sleep(3)
            down["on"] = False
            finals = await d.wait_final([f"job-{n}" for n in range(30)], timeout=30)
            down["on"] = True
            for c in smsc.conns:
                c.close()
            await d.publish([job(n) for n in range(30, 35)])
            await asyncio.sleep(1)
            status = await stop_daemon(d.proc, timeout=15)
    paid = Counter(p.destination_addr for p, _ in smsc.accepted)
    assert finals == {f"job-{n}": ["delivered"] for n in range(30)}
    assert sorted(paid.values()) == [1] * 30
    assert status == 0


def _part_of(p: Any) -> int:
    sm = p.short_message if isinstance(p.short_message, bytes) else p.short_message.encode()
    if p.esm_class & 0x40:
        return sm[1 + sm[0] - 1]  # the last octet of an IEI 00 UDH: this part's number
    return 1


async def test_a_long_notice_under_a_sloppy_smsc_pays_each_part_once_and_is_delivered(
    broker, tmp_path
):
    """Part 1: its receipt (decimal id, zero padded) before its submit_sm_resp (hex).
    Part 2: the connection closes on its first try, unanswered (the one allowed copy);
    then it is answered late (after response_timeout), twice. Part 3: ACCEPTD then
    DELIVRD."""
    seen: Counter[int] = Counter()

    def policy(s: Smsc, conn: Conn, p: Any):
        part = _part_of(p)
        seen[part] += 1

        async def go() -> None:
            n = s.next_id()
            dec = f"{int(n, 16):012d}"
            if part == 1:
                conn.receipt(dec, "DELIVRD")
                await asyncio.sleep(0.1)
                conn.resp(p.sequence, 0, n)
                s.accepted.append((p, n))
            elif part == 2 and seen[2] == 1:
                await asyncio.sleep(0.1)
                conn.close()
            elif part == 2:
                await asyncio.sleep(1.3)  # after response_timeout 1
                conn.resp(p.sequence, 0, n)
                conn.resp(p.sequence, 0, n)
                s.accepted.append((p, n))
                await asyncio.sleep(0.2)
                conn.receipt(n.lstrip("0"), "DELIVRD")
            else:
                conn.resp(p.sequence, 0, n)
                s.accepted.append((p, n))
                await asyncio.sleep(0.2)
                conn.receipt(n, "ACCEPTD")
                conn.receipt(dec, "DELIVRD")

        return go()

    smpp = "  response_timeout: 1\n  relink_after: 4\n  reconnect_max: 0.2\n"
    async with (
        Smsc(policy) as smsc,
        ScriptedDaemon(broker.port, smsc.port, tmp_path, smpp=smpp) as d,
    ):
        await d.publish([job(1, LONG_UCS2)])
        finals = await d.wait_final(["job-1"], timeout=30)
    per_part = Counter(_part_of(p) for p, _ in smsc.accepted)
    assert finals.get("job-1") == ["delivered"]
    assert len(per_part) >= 3 and set(per_part.values()) == {1}, per_part
