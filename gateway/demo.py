"""`motcua-sms demo`: the whole gateway on one machine with nothing installed but this package.

An in-process MQTT broker (amqtt, MQTT 3.1.1), the bundled SMSC simulator and the daemon
on a temporary store, with the embedded defaults (two agencies: SCT strips diacritics,
STP keeps them) and LDTBXH, whose name is written with an en dash as office software
types it: stripping folds the dash too, so its result notice is one GSM-7 segment. Sample
dossier events go in (a landline number and a same-day procedure among them), then
citizens' MCKH lookups, typed as citizens type them; the traffic is printed as it
happens, then a summary. Exit status 0 when every sample reached the state it should.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import socket
import sys
import tempfile
from collections import Counter
from pathlib import Path
from types import MappingProxyType
from typing import Any, TextIO

import aiomqtt
from aiomqtt import ProtocolVersion

from gateway import demo_channels as zalo_demo
from gateway.app import Gateway
from gateway.domain.states import FINAL_STATES
from gateway.phone.numbers import mask_phone
from gateway.settings.config import (
    AdminConfig,
    AgencyConfig,
    Config,
    MqttConfig,
    ScheduleConfig,
    SmppConfig,
    StoreConfig,
    default_config,
)
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator, SubmitRecord

PREFIX = "motcua"
UNDELIVERABLE = "84912000009"  # the simulator says this phone is switched off for good
# An agency that strips, named with an en dash: its result notice must be 1 GSM-7 part.
DASHED = AgencyConfig(code="LDTBXH", name="Sở Lao động – Thương binh và Xã hội")
DASHED_PHONE = "84977333444"

# A receipt number held by two agencies (unique only within each): one lookup answers both.
SHARED_RECEIPT = "0107001201"
SHARED_LOOKUP_PHONE = "84977000444"

# (topic agency, payload, the final state its message must reach)
SAMPLES: list[tuple[str, dict[str, Any], str]] = [
    ("SCT", {"event_id": "SCT-1", "receipt_no": "000.00.21.H34-261120-0001",
             "procedure": "Cấp Giấy chứng nhận đủ điều kiện kinh doanh hóa chất",
             "phone": "0905 123 456", "step": "Trả kết quả", "status": "result_ready",
             "due_date": "2026-11-25", "occurred_at": "2026-11-23T09:00:00+07:00"},
     "delivered"),
    ("SCT", {"event_id": "SCT-2", "receipt_no": "000.00.21.H34-261120-0002",
             "procedure": "Cấp Giấy phép bán lẻ rượu", "phone": "+84 987 654 321",
             "step": "Chờ bổ sung", "status": 5, "due_date": "2026-11-27",
             "occurred_at": "2026-11-23T09:01:00+07:00"},
     "delivered"),
    ("SCT", {"event_id": "SCT-3", "receipt_no": "000.00.21.H34-261120-0003",
             "procedure": "Cấp Giấy phép bán lẻ rượu", "phone": "0258 3822 123",
             "step": "Trả kết quả", "status": "result_ready", "due_date": "2026-11-27",
             "occurred_at": "2026-11-23T09:02:00+07:00"},
     "rejected"),
    ("SCT", {"event_id": "SCT-4", "receipt_no": "000.00.21.H34-261120-0004",
             "procedure": "Xác nhận nội dung quảng cáo", "phone": "0912000009",
             "step": "Trả kết quả", "status": "result_ready", "due_date": "2026-11-23",
             "same_day": True, "occurred_at": "2026-11-23T09:03:00+07:00"},
     "skipped"),
    ("STP", {"event_id": "STP-1", "receipt_no": "000.00.12.H34-261120-0101",
             "procedure": "Cấp Phiếu lý lịch tư pháp", "phone": "0868 111 222",
             "step": "Tiếp nhận", "status": "received", "due_date": "2026-11-30",
             "occurred_at": "2026-11-23T09:04:00+07:00"},
     "delivered"),
    ("STP", {"event_id": "STP-2", "receipt_no": "000.00.12.H34-261120-0102",
             "procedure": "Chứng thực bản sao từ bản chính", "phone": "0912 000 009",
             "step": "Trả kết quả", "status": "result_ready", "due_date": "2026-11-24",
             "occurred_at": "2026-11-23T09:05:00+07:00"},
     "undeliverable"),
    ("LDTBXH", {"event_id": "LDTBXH-1", "receipt_no": SHARED_RECEIPT,
                "procedure": "Giải quyết chế độ trợ cấp thất nghiệp", "phone": "0977 333 444",
                "step": "Trả kết quả", "status": "result_ready", "due_date": "2026-11-26",
                "occurred_at": "2026-11-23T09:06:00+07:00"},
     "delivered"),
    # The same receipt number at another agency: a separate dossier and citizen.
    ("STP", {"event_id": "STP-3", "receipt_no": SHARED_RECEIPT,
             "procedure": "Đăng ký kết hôn", "phone": "0868 555 666",
             "step": "Chờ bổ sung", "status": "needs_supplement", "due_date": "2026-11-27",
             "occurred_at": "2026-11-23T09:07:00+07:00"},
     "delivered"),
]  # fmt: skip

# The Zalo agency's samples (gateway/demo_channels.py), published like the others.
_ZALO_SAMPLES = [(zalo_demo.ZALO_AGENCY.code, p, state) for p, state, _ in zalo_demo.SAMPLES]

LOOKUPS = [
    ("84905123456", "MCKH 000.00.21.H34-261120-0001"),
    ("84868111222", "mckh000.00.12.h34-261120-0101"),
    ("84977000111", "MCKH 000.00.21.H34-261120-9999"),
    ("84977000222", "hd"),
    ("84977333444", "Cho em hỏi MCKH 0107 001 201 ạ"),
    ("84977000333", "MCKH 000.00.21.H34–261120–0002 sdt 0987 654 321"),
    (SHARED_LOOKUP_PHONE, f"MCKH {SHARED_RECEIPT}"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_config(work: Path, smsc_port: int, mqtt_port: int) -> Config:
    base = default_config()
    return dataclasses.replace(
        base,
        agencies=MappingProxyType({**base.agencies, DASHED.code: DASHED}),
        smpp=dataclasses.replace(
            SmppConfig(), port=smsc_port, password="secret", tps=20, reconnect_min=0.2
        ),
        mqtt=dataclasses.replace(
            MqttConfig(), port=mqtt_port, client_id="motcua-sms-demo", protocol="3.1.1"
        ),
        store=StoreConfig(path=str(work / "gateway.db")),
        # Quiet hours off: the demo shows traffic whatever the time of day.
        schedule=dataclasses.replace(ScheduleConfig(), quiet_hours=None),
        admin=AdminConfig(enabled=False),
    )


class Screen:
    """The live view: one line per event, numbers masked."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def line(self, arrow: str, what: str, detail: str) -> None:
        print(f"{arrow} {what:<8} {detail}", file=self.out, flush=True)

    def sms(self, r: SubmitRecord) -> None:
        coding = "UCS-2" if r.data_coding == 8 else "GSM-7"
        udh = " (part)" if r.esm_class & 0x40 else ""
        self.line(
            "→",
            "SMS",
            f"{r.source} → {mask_phone(r.destination)} [{coding}{udh}] {r.text}",
        )


async def _broker(port: int) -> Any:
    from amqtt.broker import Broker  # imported here: only the demo needs it

    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {}},
        }
    )
    await broker.start()
    return broker


async def run_demo(out: TextIO = sys.stdout, timeout: float = 60.0) -> int:
    """Run the demo; 0 when every sample reached its expected state."""
    for name in ("amqtt", "transitions", "gateway", "smpplib"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    screen = Screen(out)
    work = Path(tempfile.mkdtemp(prefix="motcua-demo-"))
    mqtt_port = _free_port()
    sim = SimConfig(
        receipt_delay=0.3, rules=(Rule(pattern=UNDELIVERABLE, outcome="undeliverable"),)
    )
    broker = await _broker(mqtt_port)
    statuses: list[dict[str, Any]] = []
    webhook_port = _free_port()
    try:
        async with (
            SmscSimulator(sim) as smsc,
            zalo_demo.zalo_simulator(work, webhook_port) as zalo,
            zalo_demo.smtp_catcher() as (catch, smtp_port),
        ):
            config = zalo_demo.on_zalo(
                demo_config(work, smsc.port, mqtt_port), zalo, work, webhook_port, smtp_port
            )
            screen.line(
                "*",
                "demo",
                f"store {work}, SMSC simulator :{smsc.port}, MQTT broker :{mqtt_port}, "
                f"Zalo simulator :{zalo.port}, agencies SCT and LDTBXH (strip), STP (keep), "
                "SNV (Zalo first, then SMS)",
            )
            stop = asyncio.Event()
            ready = asyncio.Event()
            gateway = Gateway(config)
            daemon = asyncio.create_task(gateway.run(stop, on_ready=ready.set))
            await asyncio.wait_for(ready.wait(), 15)
            async with aiomqtt.Client(
                "127.0.0.1", mqtt_port, identifier="demo-agency", protocol=ProtocolVersion.V311
            ) as client:
                await client.subscribe(f"{PREFIX}/+/status", qos=1)
                watchers = [
                    asyncio.create_task(_show_statuses(client, screen, statuses)),
                    asyncio.create_task(_show_sms(smsc, screen)),
                    asyncio.create_task(zalo_demo.show_zalo(zalo, catch, screen)),
                ]
                for agency, payload, _ in SAMPLES + _ZALO_SAMPLES:
                    payload = {"agency": agency, **payload}
                    screen.line("←", "dossier", f"{agency} {payload['receipt_no']} "
                                f"status={payload['status']} phone={payload['phone']}")  # fmt: skip
                    await client.publish(
                        f"{PREFIX}/{agency}/dossier", json.dumps(payload).encode(), qos=1
                    )
                job = {"id": "job-1", "to": "0905123456", "text": "Lịch tiếp dân thay đổi: 8h00"}
                screen.line("←", "sms job", f"SCT job-1 to {job['to']}")
                await client.publish(f"{PREFIX}/SCT/sms", json.dumps(job).encode(), qos=1)
                samples = len(SAMPLES) + len(_ZALO_SAMPLES) + 1
                await _wait(lambda: _finished(statuses) >= samples, timeout / 2)
                for phone, text in LOOKUPS:
                    screen.line("←", "MO", f"{mask_phone(phone)} → 8083 {text!r}")
                    await smsc.inject_mo(phone, "8083", text)
                await zalo_demo.chat_lookup(zalo, screen)
                await _wait(
                    lambda: (
                        _replies(smsc) >= len(LOOKUPS)
                        and zalo_demo.chat_answered(zalo)
                        and bool(catch.letters)
                    ),
                    timeout / 2,
                )
                await asyncio.sleep(0.5)
                for task in watchers:
                    task.cancel()
            stop.set()
            await daemon
            counts = await _store_counts(config)
            channels = [
                *zalo_demo.channel_summary(statuses, zalo),
                zalo_demo.letter_summary(catch),
            ]
    finally:
        await broker.shutdown()
    return _summary(screen, statuses, counts, smsc, channels)


async def _show_statuses(
    client: aiomqtt.Client, screen: Screen, statuses: list[dict[str, Any]]
) -> None:
    async for message in client.messages:
        status = json.loads(message.payload)
        statuses.append(status)
        reason = f" ({status['reason']})" if status.get("reason") else ""
        by = f" by {status['channel']}" if status.get("channel") else ""
        screen.line(
            "✓" if status["state"] == "delivered" else "·",
            "status",
            f"{message.topic} {status['id']} {status['state']}{by}{reason}",
        )


async def _show_sms(smsc: SmscSimulator, screen: Screen) -> None:
    shown = 0
    while True:
        while shown < len(smsc.records):
            screen.sms(smsc.records[shown])
            shown += 1
        await asyncio.sleep(0.05)


async def _wait(condition: Any, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.1)


def _finished(statuses: list[dict[str, Any]]) -> int:
    """Notices and jobs in a final state (an e-mail copy's states are its own)."""
    return len(
        {s["id"] for s in statuses if s["state"] in FINAL_STATES and s.get("channel") != "email"}
    )


def _replies(smsc: SmscSimulator) -> int:
    """Citizens answered from the shortcode (each demo lookup comes from its own number)."""
    return len({r.destination for r in smsc.records if r.source == "8083"})


def _dashed_notice_parts(smsc: SmscSimulator) -> list[str]:
    """The encoding of each part of the notice sent to the dashed agency's citizen."""
    return [
        "UCS-2" if r.data_coding == 8 else "GSM-7"
        for r in smsc.records
        if r.destination == DASHED_PHONE and r.source != "8083"
    ]


def _shared_reply(smsc: SmscSimulator) -> str:
    """The answer to the lookup of the receipt number two agencies hold."""
    return " ".join(
        r.text for r in smsc.records if r.source == "8083" and r.destination == SHARED_LOOKUP_PHONE
    )


async def _store_counts(config: Config) -> dict[str, int]:
    from gateway.store.store import Store

    async with Store.open(config.store.path) as store:
        return await store.outbox.counts()


def _summary(
    screen: Screen,
    statuses: list[dict[str, Any]],
    counts: dict[str, int],
    smsc: SmscSimulator,
    channels: list[tuple[str, bool]],
) -> int:
    final = {
        s["id"]: s["state"]
        for s in statuses
        if s["state"] in FINAL_STATES
        and not s["id"].startswith("mo:")
        and s.get("channel") != "email"  # a copy's states are its own
    }
    expected = {f"{p['event_id']}": state for _, p, state in SAMPLES + _ZALO_SAMPLES}
    ok = True
    print("\nSummary", file=screen.out)
    for ref, state in sorted(final.items()):
        event_id = ref.split(":")[0]
        want = expected.get(event_id, "delivered")
        mark = "ok" if state == want else f"EXPECTED {want}"
        ok &= state == want
        print(f"  {ref:<26} {state:<14} {mark}", file=screen.out)
    missing = sorted(set(expected) - {ref.split(":")[0] for ref in final})
    if missing:
        ok = False
        print(f"  no final state for: {', '.join(missing)}", file=screen.out)
    replies = _replies(smsc)
    ok &= replies == len(LOOKUPS)
    dashed = _dashed_notice_parts(smsc)
    ok &= dashed == ["GSM-7"]
    print(
        f"  {DASHED.name} result notice: {len(dashed)} segment(s) {'/'.join(dashed)} "
        f"{'ok' if dashed == ['GSM-7'] else 'EXPECTED 1 GSM-7'}",
        file=screen.out,
    )
    shared = _shared_reply(smsc)
    names = ("So Lao dong - Thuong binh va Xa hoi", "So Tu phap")
    both = all(name in shared for name in names)
    ok &= both
    print(
        f"  MCKH {SHARED_RECEIPT}, held by LDTBXH and STP: "
        f"{'both answered, each named' if both else 'EXPECTED both agencies named'}",
        file=screen.out,
    )
    for line, channel_ok in channels:
        ok &= channel_ok
        print(line, file=screen.out)
    by_state = ", ".join(f"{n} {state}" for state, n in sorted(Counter(counts).items()))
    print(f"  messages in the store: {by_state}", file=screen.out)
    print(f"  MO lookups answered: {replies} of {len(LOOKUPS)}", file=screen.out)
    print(f"  submit_sm at the SMSC: {smsc.stats.submits}", file=screen.out)
    print(f"demo {'passed' if ok else 'FAILED'}", file=screen.out)
    return 0 if ok else 1
