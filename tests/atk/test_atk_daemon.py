from __future__ import annotations

import asyncio
import pytest
import socket
import time
from collections import Counter

from gateway.smpp.pdu import CommandId, Status
from gateway.smpp import pdu as P
from tests.gateway_rig import start_daemon, stop_daemon, write_daemon_config
from .daemon import Daemon, job
from .smsc import Smsc


async def test_throttled_for_ever_message_ends_at_its_ttl(broker, tmp_path):
    def policy(s, conn, p):
        conn.resp(p.sequence, Status.ESME_RTHROTTLED, "")
    async with Smsc(policy) as smsc:
        async with Daemon(broker.port, smsc.port, tmp_path, smpp="  throttle_pause: 0.2\n",
                          retry="  ttl: 3\n") as d:
            await asyncio.sleep(1)
            await d.publish([job(1)])
            finals = await d.wait_final(["job-1"], timeout=12)
            print("finals", finals, "submits", len(smsc.submits))
    assert finals.get("job-1") == ["expired"]


async def test_sigterm_with_submits_unanswered_exits_zero_bounded(broker, tmp_path):
    def policy(s, conn, p):
        return None  # never answer
    async with Smsc(policy) as smsc:
        async with Daemon(broker.port, smsc.port, tmp_path, smpp="  shutdown_timeout: 2\n") as d:
            await asyncio.sleep(1)
            await d.publish([job(n) for n in range(15)])
            async with asyncio.timeout(10):
                while len(smsc.submits) < 10:
                    await asyncio.sleep(0.05)
            t = time.monotonic()
            rc = await stop_daemon(d.proc, timeout=30)
            took = time.monotonic() - t
            print("rc", rc, "took", round(took, 2), "submits", len(smsc.submits))
    assert rc == 0 and took < 8


async def test_admin_port_taken_bind_never_answered_exits(broker, tmp_path):
    """TCP accepted, bind never answered; the admin port is taken."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0)); held.listen()
    port = held.getsockname()[1]

    async def silent(reader, writer):
        await reader.read(100000)
    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    sport = server.sockets[0].getsockname()[1]
    cfg = tmp_path / "gateway.yaml"
    write_daemon_config(cfg, admin_port=port, broker_port=broker.port, smsc_port=sport,
                        db=tmp_path / "gateway.db", smpp="  response_timeout: 30\n  relink_after: 120\n")
    proc = await start_daemon(cfg)
    t = time.monotonic()
    try:
        async with asyncio.timeout(15):
            rc = await proc.wait()
        print("exited rc", rc, round(time.monotonic() - t, 2))
    except TimeoutError:
        proc.terminate()
        try:
            async with asyncio.timeout(10):
                rc = await proc.wait()
            print("needed SIGTERM, rc", rc)
        except TimeoutError:
            proc.kill(); await proc.wait()
            raise AssertionError("ignored SIGTERM")
    finally:
        server.close(); held.close()


LONG_UCS2 = "Thông báo: hồ sơ của ông/bà đã có kết quả, mời đến nhận tại bộ phận một cửa. " * 4


def _part_of(p):
    sm = p.short_message if isinstance(p.short_message, bytes) else p.short_message.encode("latin-1")
    if p.esm_class & 0x40:
        udhl = sm[0]
        udh = sm[1:1 + udhl]
        return udh[-1], udh[-2]  # (seq, total) for IEI 00
    return 1, 1


async def test_long_ucs2_under_a_sloppy_smsc_each_part_paid_once_and_delivered(broker, tmp_path):
    """Part 1: receipt (decimal, zero padded) before its submit_sm_resp (hex).
    Part 2: the connection closes on its first try, unanswered (one allowed duplicate);
    then answered late (after response_timeout) twice.
    Part 3: ACCEPTD then DELIVRD, receipts sent in reverse part order."""
    seen = Counter()

    def policy(s, conn, p):
        seq, total = _part_of(p)
        seen[seq] += 1

        async def go():
            n = s.next_id()  # hex string, 8 digits
            dec = f"{int(n, 16):012d}"
            if seq == 1:
                conn.receipt(dec, "DELIVRD")
                await asyncio.sleep(0.1)
                conn.resp(p.sequence, 0, n)
                s.accepted.append((p, n))
            elif seq == 2 and seen[2] == 1:
                await asyncio.sleep(0.1)
                conn.close()
            elif seq == 2:
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

    async with Smsc(policy) as smsc:
        async with Daemon(broker.port, smsc.port, tmp_path,
                          smpp="  response_timeout: 1\n  relink_after: 4\n  reconnect_max: 0.2\n") as d:
            await asyncio.sleep(1)
            await d.publish([job(1, LONG_UCS2)])
            finals = await d.wait_final(["job-1"], timeout=30)
            print("finals", finals, "seen", dict(seen), "accepted", len(smsc.accepted))
            events, lines = d.log_events()
            print(events, d.proc.returncode, d.config)
            import glob; print(glob.glob(str(__import__('tests.gateway_rig',fromlist=['x']).DAEMON_LOGS)+'/*'))
            for l in lines[-15:]: print(str(l)[:300])
    per_part = Counter(_part_of(p)[0] for p, _ in smsc.accepted)
    assert finals.get("job-1") == ["delivered"]
    assert len(per_part) >= 3 and set(per_part.values()) == {1}, per_part


async def test_a_stray_response_of_another_command_costs_no_paid_copy(broker, tmp_path):
    """The SMSC sends an enquire_link_resp carrying a pending submit's sequence number
    (a sloppy SMSC echoing the wrong counter), then the real submit_sm_resp. The submit is
    settled by its own submit_sm_resp: one paid copy per message."""
    def policy(s, conn, p):
        async def go():
            conn.send(P.encode_header_only(CommandId.ENQUIRE_LINK_RESP, p.sequence, 0))
            await asyncio.sleep(0.2)
            mid = s.next_id()
            conn.resp(p.sequence, 0, mid)
            s.accepted.append((p, mid))
            await asyncio.sleep(0.1)
            conn.receipt(mid, "DELIVRD")
        return go()
    async with Smsc(policy) as smsc:
        async with Daemon(broker.port, smsc.port, tmp_path) as d:
            await asyncio.sleep(1)
            await d.publish([job(n) for n in range(5)])
            finals = await d.wait_final([f"job-{n}" for n in range(5)], timeout=20)
    paid = Counter(p.destination_addr for p, _ in smsc.accepted)
    print("finals", finals, "paid", paid)
    assert all(v == ["delivered"] for v in finals.values()) and len(finals) == 5
    assert set(paid.values()) == {1}, paid


@pytest.mark.parametrize("hex_ids", [False, True])
async def test_started_while_the_smsc_is_down_then_it_comes_up(broker, tmp_path, hex_ids):
    """Started with the SMSC refusing connections (binds closed at once) for 3 s: the
    jobs wait, nothing fails or is counted, all are delivered once when it is back; and a
    SIGTERM while it is down ends the daemon in bounded time."""
    down = {"on": True}

    def bind_policy(s, conn):
        if down["on"]:
            conn.close()

    def policy(s, conn, p):
        async def go():
            mid = s.next_id()
            conn.resp(p.sequence, 0, mid)
            s.accepted.append((p, mid))
            await asyncio.sleep(0.05)
            conn.receipt(mid, "DELIVRD")
        return go()

    async with Smsc(policy, bind_policy=bind_policy) as smsc:
        smsc.id_format = "{:08X}" if hex_ids else "M{:08d}"
        async with Daemon(broker.port, smsc.port, tmp_path, smpp="  reconnect_max: 1\n") as d:
            await asyncio.sleep(1)
            await d.publish([job(n) for n in range(30)])
            await asyncio.sleep(3)
            down["on"] = False
            finals = await d.wait_final([f"job-{n}" for n in range(30)], timeout=30)
            down["on"] = True
            for c in smsc.conns:
                c.close()
            await d.publish([job(n) for n in range(30, 35)])
            await asyncio.sleep(1)
            t = time.monotonic()
            rc = await stop_daemon(d.proc, timeout=30)
            took = time.monotonic() - t
    paid = Counter(p.destination_addr for p, _ in smsc.accepted)
    print("finals", Counter(tuple(v) for v in finals.values()), "paid", Counter(paid.values()), "rc", rc, "took", round(took, 2))
    assert len(finals) == 30 and all(v == ["delivered"] for v in finals.values())
    assert set(paid.values()) == {1}
    assert rc == 0 and took < 15
