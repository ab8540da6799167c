"""Our SMPP session against an SMSC built on node-smpp, an implementation nobody here wrote.

The node SMSC logs the octets it read off the wire, so these tests compare bytes, not our
own codec's opinion of them; and what it sends us is encoded by node-smpp, not by us.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import TYPE_CHECKING

import pytest

from gateway.smpp.receipt import Receipt, ReceiptState, message_id_keys
from gateway.smpp.session import Mo, Session
from gateway.smpp.text import encode, strip_diacritics
from tests.support.node_smsc import (
    BRANDNAME,
    ESM_UDHI,
    PHONE,
    SHORTCODE,
    Inbound,
    bound,
    config,
    notice,
)

if TYPE_CHECKING:
    from tests.support.node_smsc import NodeSmsc

ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F

RESULT_NOTICE = (
    "Thông báo: Hồ sơ của quý Ông/Bà (0101701234) đã được giải quyết xong. "
    "Mời Ông/Bà đến Bộ phận Một cửa Sở Công Thương để nhận kết quả"
)


async def submit_text(session: Session, text: str, *, reference: int = 0) -> list[str]:
    encoded = encode(text, reference=reference)
    return [
        await session.submit(notice(part, data_coding=encoded.data_coding, udhi=encoded.udhi))
        for part in encoded.parts
    ]


# -- bind -------------------------------------------------------------------------------


async def test_binds_as_transceiver(node_smsc: NodeSmsc) -> None:
    """bind: transceiver mode is one bind_transceiver with our system_id, accepted."""
    async with bound(node_smsc, Inbound()) as session:
        assert session.bound
        [bind] = await node_smsc.wait_for("bind")
        assert bind["command"] == "bind_transceiver"
        assert bind["system_id"] == "motcua"
        assert bind["interface_version"] == 0x34
        assert bind["command_status"] == 0


async def test_transmitter_receiver_pair_binds_twice_and_receipts_come_through_receiver(
    node_smsc: NodeSmsc,
) -> None:
    """bind: transmitter_receiver mode is two binds; submits go out on the transmitter and
    delivery receipts come in on the receiver."""
    inbound = Inbound()
    async with bound(node_smsc, inbound, bind="transmitter_receiver") as session:
        binds = await node_smsc.wait_for("bind", 2)
        by_command = {b["command"]: b for b in binds}
        assert set(by_command) == {"bind_transmitter", "bind_receiver"}
        assert all(b["command_status"] == 0 for b in binds)
        tx, rx = by_command["bind_transmitter"]["session"], by_command["bind_receiver"]["session"]
        assert tx != rx

        message_id = await session.submit(notice(encode("Xin chao").parts[0]))
        [submitted] = await node_smsc.wait_for("submit_sm")
        assert submitted["session"] == tx
        [receipt] = await inbound.wait_for(Receipt)
        [sent] = await node_smsc.wait_for("receipt_sent")
        assert sent["session"] == rx
        assert receipt.state is ReceiptState.DELIVERED
        assert message_id_keys(receipt.message_id) & message_id_keys(message_id)
        [answer] = await node_smsc.wait_for("deliver_sm_resp")
        assert answer["command_status"] == 0


@pytest.mark.parametrize(
    ("system_id", "password", "status"),
    [("motcua", "wrong", ESME_RINVPASWD), ("someone", "secret", ESME_RINVSYSID)],
    ids=["bad-password", "bad-system-id"],
)
async def test_refused_credentials_are_reported_and_not_retried_at_once(
    node_smsc: NodeSmsc, system_id: str, password: str, status: int
) -> None:
    """bind: a credentials refusal leaves the session unbound, is reported with the SMSC's
    status in `last_bind_error`, and is not retried in a tight loop."""
    session = Session(config(node_smsc, system_id=system_id, password=password), Inbound())
    async with session:
        [bind] = await node_smsc.wait_for("bind")
        assert bind["command_status"] == status
        await asyncio.sleep(0.5)  # several reconnect_max would have passed in a tight loop
        assert not session.bound
        assert session.last_bind_error is not None
        assert session.last_bind_error.status == status
        assert len(node_smsc.events("bind")) == 1
        with pytest.raises(TimeoutError):
            await session.wait_bound(timeout=0.2)


# -- submit_sm octets -------------------------------------------------------------------


async def test_gsm7_single_part_octets_reach_the_smsc_unchanged(node_smsc: NodeSmsc) -> None:
    """submit_sm: a stripped notice goes as one GSM-7 part from the brandname (TON 5 NPI 0)
    to the international number (TON 1 NPI 1), receipt requested; the SMSC reads exactly
    the octets we encoded."""
    text = strip_diacritics(RESULT_NOTICE)
    encoded = encode(text)
    assert encoded.segments == 1 and not encoded.udhi
    async with bound(node_smsc, Inbound()) as session:
        message_id = await session.submit(notice(encoded.parts[0]))
    [sm] = await node_smsc.wait_for("submit_sm")
    assert bytes.fromhex(sm["short_message_hex"]) == encoded.parts[0]
    assert sm["data_coding"] == 0
    assert sm["esm_class"] == 0
    assert (sm["source_addr"], sm["source_addr_ton"], sm["source_addr_npi"]) == (BRANDNAME, 5, 0)
    assert (sm["destination_addr"], sm["dest_addr_ton"], sm["dest_addr_npi"]) == (PHONE, 1, 1)
    assert sm["registered_delivery"] == 1
    assert sm["message_id"] == message_id
    # node-smpp's own GSM 03.38 reading of the octets agrees with the text.
    assert sm["node_decoded"]["message"] == text


async def test_ucs2_multipart_vietnamese_notice_octets_reach_the_smsc_unchanged(
    node_smsc: NodeSmsc,
) -> None:
    """submit_sm: a notice with diacritics goes as UCS-2 (data_coding 8) in concatenated
    parts with UDHI set; every part arrives byte for byte, and the parts read at the SMSC
    (6-octet UDH cut off, UTF-16BE) give back the text."""
    encoded = encode(RESULT_NOTICE, reference=0x2A)
    assert encoded.data_coding == 8 and encoded.udhi and encoded.segments >= 2
    async with bound(node_smsc, Inbound()) as session:
        ids = await submit_text(session, RESULT_NOTICE, reference=0x2A)
    sms = await node_smsc.wait_for("submit_sm", encoded.segments)
    assert [bytes.fromhex(sm["short_message_hex"]) for sm in sms] == list(encoded.parts)
    assert [sm["message_id"] for sm in sms] == ids
    assert all(sm["data_coding"] == 8 and sm["esm_class"] == ESM_UDHI for sm in sms)
    total = len(sms)
    text = ""
    for index, sm in enumerate(sms, 1):
        raw = bytes.fromhex(sm["short_message_hex"])
        assert raw[:6] == bytes((0x05, 0x00, 0x03, 0x2A, total, index))
        text += raw[6:].decode("utf-16-be")
        assert sm["node_decoded"]["udh_hex"] == [f"00032a{total:02x}{index:02x}"]
    assert text == RESULT_NOTICE
    assert "".join(sm["node_decoded"]["message"] for sm in sms) == RESULT_NOTICE


async def test_validity_period_is_read_by_node_smpp_as_the_ttl_left(
    node_smsc: NodeSmsc,
) -> None:
    """A submit whose message expires in two hours carries a relative validity_period
    that node-smpp reads as two hours from now."""
    async with bound(node_smsc, Inbound()) as session:
        submit = dataclasses.replace(notice(b"x"), expires_at=time.time() + 7200)
        await session.submit(submit)
    [sm] = await node_smsc.wait_for("submit_sm")
    assert 7190 <= sm["validity_s"] <= 7200


# -- delivery receipts ------------------------------------------------------------------


async def test_receipt_with_tlvs_matches_the_submitted_message(node_smsc: NodeSmsc) -> None:
    """deliver_sm receipt: node-smpp's receipted_message_id and message_state TLVs give a
    DELIVRD receipt whose id matches the submit_sm_resp id; it is acknowledged with ROK."""
    inbound = Inbound()
    async with bound(node_smsc, inbound) as session:
        message_id = await session.submit(notice(encode("Kiem tra").parts[0]))
        [receipt] = await inbound.wait_for(Receipt)
        [answer] = await node_smsc.wait_for("deliver_sm_resp")
    assert receipt.state is ReceiptState.DELIVERED
    assert receipt.error == "000"
    assert message_id_keys(receipt.message_id) & message_id_keys(message_id)
    assert answer["command_status"] == 0


async def test_receipt_in_decimal_matches_hex_submit_id(node_smsc: NodeSmsc) -> None:
    """Message ids: submit_sm_resp says "0A1B2C00" (hex, leading zero), the receipt text says
    id:169552896 (decimal, no TLV): the two are recognised as the same message."""
    node_smsc.send({"cmd": "config", "receipt_tlvs": False})
    await node_smsc.wait_for("config")
    inbound = Inbound()
    async with bound(node_smsc, inbound) as session:
        message_id = await session.submit(notice(encode("Kiem tra").parts[0]))
        [receipt] = await inbound.wait_for(Receipt)
    [sent] = await node_smsc.wait_for("receipt_sent")
    assert not sent["tlvs"]
    assert message_id == sent["message_id"]
    assert receipt.message_id == sent["decimal_id"]
    assert receipt.message_id != message_id
    assert message_id_keys(receipt.message_id) & message_id_keys(message_id)
    assert receipt.state is ReceiptState.DELIVERED


# -- MO ---------------------------------------------------------------------------------


async def test_mo_single_part_arrives_with_exact_text(node_smsc: NodeSmsc) -> None:
    """deliver_sm MO: a GSM-7 MCKH lookup arrives as one complete Mo with the text, the
    citizen's number and the shortcode, and is acknowledged with ROK."""
    inbound = Inbound()
    async with bound(node_smsc, inbound):
        node_smsc.send(
            {"cmd": "mo", "source": PHONE, "destination": SHORTCODE, "text": "MCKH 0101701234"}
        )
        [mo] = await inbound.wait_for(Mo)
        [answer] = await node_smsc.wait_for("deliver_sm_resp")
    [sent] = await node_smsc.wait_for("mo_sent")
    assert sent["data_coding"] == 0
    assert mo == Mo(source=PHONE, destination=SHORTCODE, text="MCKH 0101701234", complete=True)
    assert answer["command_status"] == 0


async def test_mo_ucs2_arrives_decoded(node_smsc: NodeSmsc) -> None:
    """deliver_sm MO: text with Vietnamese letters comes as UCS-2 (data_coding 8) and is
    decoded, national-form receipt number included."""
    text = "MCKH 000.00.06.H56-231027-0361 cảm ơn"
    inbound = Inbound()
    async with bound(node_smsc, inbound):
        node_smsc.send({"cmd": "mo", "source": PHONE, "destination": SHORTCODE, "text": text})
        [mo] = await inbound.wait_for(Mo)
    [sent] = await node_smsc.wait_for("mo_sent")
    assert sent["data_coding"] == 8
    assert mo.text == text
    assert mo.destination == SHORTCODE
    assert mo.complete


@pytest.mark.parametrize(
    "text",
    ["MCKH 0101701234", "MCKH 000.00.06.H56-231027-0361 cảm ơn"],
    ids=["gsm7", "ucs2"],
)
async def test_two_part_mo_sent_in_reverse_order_is_reassembled(
    node_smsc: NodeSmsc, text: str
) -> None:
    """deliver_sm MO: a long MO in two UDH-concatenated parts (8-bit reference), part 2
    first, is handed over once, whole and in order; both parts are acknowledged."""
    inbound = Inbound()
    async with bound(node_smsc, inbound):
        node_smsc.send(
            {"cmd": "mo", "source": PHONE, "destination": SHORTCODE, "text": text, "parts": 2}
        )
        [mo] = await inbound.wait_for(Mo)
        answers = await node_smsc.wait_for("deliver_sm_resp", 2)
        await asyncio.sleep(0.2)
        assert len(inbound.of(Mo)) == 1
    [sent] = await node_smsc.wait_for("mo_sent")
    assert sent["parts"] == 2
    assert bytes.fromhex(sent["short_message_hex"][0])[5] == 2  # part 2 went first
    assert mo.text == text
    assert (mo.complete, mo.parts) == (True, 2)
    assert (mo.source, mo.destination) == (PHONE, SHORTCODE)
    assert [a["command_status"] for a in answers] == [0, 0]


# -- link upkeep ------------------------------------------------------------------------


async def test_server_enquire_link_is_answered_and_session_stays_bound(
    node_smsc: NodeSmsc,
) -> None:
    """enquire_link from the SMSC: answered with enquire_link_resp ROK; the bind stays and
    submits still go through on it."""
    async with bound(node_smsc, Inbound()) as session:
        node_smsc.send({"cmd": "enquire_link"})
        [answer] = await node_smsc.wait_for("enquire_link_resp")
        assert answer["command_status"] == 0
        assert session.bound
        message_id = await session.submit(notice(encode("Kiem tra").parts[0]))
    [sm] = await node_smsc.wait_for("submit_sm")
    assert sm["message_id"] == message_id
    assert sm["session"] == answer["session"]
    assert len(node_smsc.events("bind")) == 1


async def test_server_unbind_is_answered_and_session_binds_again(node_smsc: NodeSmsc) -> None:
    """unbind from the SMSC: answered with unbind_resp ROK, then the session reconnects,
    binds again and can submit."""
    async with bound(node_smsc, Inbound()) as session:
        node_smsc.send({"cmd": "unbind"})
        [answer] = await node_smsc.wait_for("unbind_resp")
        assert answer["command_status"] == 0
        binds = await node_smsc.wait_for("bind", 2)
        assert all(b["command_status"] == 0 for b in binds)
        assert binds[0]["session"] != binds[1]["session"]
        await session.wait_bound(timeout=5)
        await session.submit(notice(encode("Kiem tra").parts[0]))
    [sm] = await node_smsc.wait_for("submit_sm")
    assert sm["session"] == binds[1]["session"]


async def test_dropped_connection_is_repaired(node_smsc: NodeSmsc) -> None:
    """Link lost (the SMSC closes the socket): the session reconnects, binds again and
    can submit."""
    async with bound(node_smsc, Inbound()) as session:
        node_smsc.send({"cmd": "close"})
        await node_smsc.wait_for("closed_all")
        binds = await node_smsc.wait_for("bind", 2)
        assert binds[1]["command_status"] == 0
        await session.wait_bound(timeout=5)
        await session.submit(notice(encode("Kiem tra").parts[0]))
    [sm] = await node_smsc.wait_for("submit_sm")
    assert sm["session"] == binds[1]["session"]


async def test_leaving_the_context_unbinds(node_smsc: NodeSmsc) -> None:
    """Shutdown: leaving `async with Session` sends unbind on every link before closing."""
    async with bound(node_smsc, Inbound(), bind="transmitter_receiver"):
        await node_smsc.wait_for("bind", 2)
        assert node_smsc.events("unbind") == []
    unbinds = await node_smsc.wait_for("unbind", 2)
    assert {u["bound"] for u in unbinds} == {"transmitter", "receiver"}
    await node_smsc.wait_for("disconnect", 2)
