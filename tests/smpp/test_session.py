"""The ESME session over real TCP against the bundled SMSC simulator."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from gateway.smpp.errors import ConnectError, OutcomeUnknown, StatusError
from gateway.smpp.inbound import Mo
from gateway.smpp.pdu import Status, StatusClass
from gateway.smpp.receipt import Receipt, ReceiptState, message_id_keys
from gateway.smpp.session import Session, Submit
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.session import session_config
from tests.support.wait import eventually


def sm(destination: str = "84905123456", text: bytes = b"Hello") -> Submit:
    return Submit(source="MotcuaSMS", destination=destination, short_message=text)


class TestBind:
    async def test_binds_as_transceiver(self, smsc, bound_session):
        """One connection, bound as transceiver, is enough to submit and receive."""
        session = await bound_session()

        assert session.bound
        assert smsc.stats.binds == 1
        assert smsc.sessions == 1

    async def test_binds_transmitter_and_receiver_as_a_pair(self, smsc, bound_session, inbox):
        """transmitter_receiver mode opens two binds; receipts come in on the receiver."""
        session = await bound_session(bind="transmitter_receiver")
        await session.submit(sm())
        await inbox.wait_for(1)

        assert smsc.stats.binds == 2
        assert isinstance(inbox.items[0], Receipt)

    async def test_wrong_password_is_reported_and_not_retried_in_a_loop(self, smsc, inbox):
        """A credentials refusal is kept as last_bind_error and waits auth_backoff."""
        config = session_config(smsc.port, password="wrong", auth_backoff=60.0)
        async with Session(config, inbox) as session:
            await eventually(lambda: session.last_bind_error is not None)
            await asyncio.sleep(0.3)

            assert session.last_bind_error.status == Status.ESME_RINVPASWD
            assert not session.bound
            assert smsc.stats.bind_failures == 1

    async def test_wrong_system_id_is_reported_as_such(self, smsc, inbox):
        """ESME_RINVSYSID is told apart from a wrong password."""
        config = session_config(smsc.port, system_id="nobody", auth_backoff=60.0)
        async with Session(config, inbox) as session:
            await eventually(lambda: session.last_bind_error is not None)

            assert session.last_bind_error.name == "ESME_RINVSYSID"

    async def test_waits_with_backoff_while_the_smsc_is_down(self, inbox):
        """No SMSC listening: the session keeps trying, submit waits rather than fails."""
        async with SmscSimulator(SimConfig()) as probe:
            port = probe.port
        config = session_config(port, reconnect_min=0.05, reconnect_max=0.1)
        async with Session(config, inbox) as session:
            submit = asyncio.create_task(session.submit(sm()))
            await asyncio.sleep(0.3)
            assert not submit.done()
            async with SmscSimulator(SimConfig(port=port)) as smsc:
                message_id = await asyncio.wait_for(submit, 5)

                assert message_id == smsc.records[0].message_id


class TestSubmit:
    async def test_submit_returns_the_smsc_message_id(self, smsc, bound_session):
        """The id from submit_sm_resp is returned as the SMSC wrote it."""
        session = await bound_session()

        message_id = await session.submit(sm())

        assert message_id == smsc.records[0].message_id
        assert int(message_id, 16) > 0

    async def test_submit_carries_addresses_and_receipt_request(self, smsc, bound_session):
        """Brandname TON 5 / NPI 0, destination TON 1 / NPI 1, receipt requested."""
        session = await bound_session()

        await session.submit(sm(text=b"Thong bao"))

        record = smsc.records[0]
        assert (record.source, record.source_ton, record.source_npi) == ("MotcuaSMS", 5, 0)
        assert (record.destination, record.dest_ton, record.dest_npi) == ("84905123456", 1, 1)
        assert record.registered_delivery == 1
        assert record.short_message == b"Thong bao"

    async def test_the_simulator_records_each_submit_with_its_sessions_system_type(
        self, smsc, bound_session
    ):
        """Two ESMEs binding one account (one system_id) are told apart by the system_type
        each bound with: the record of a submit names its session's."""
        first = await bound_session(system_type="A")
        second = await bound_session(system_type="B")

        await first.submit(sm())
        await second.submit(sm())
        await first.submit(sm())

        assert [r.system_type for r in smsc.records] == ["A", "B", "A"]
        assert {r.system_id for r in smsc.records} == {"motcua"}

    async def test_window_is_held_exactly(self, bound_session, smsc):
        """At most `window` submit_sm are ever unanswered, counted at the SMSC."""
        smsc.config.response_delay = 0.02
        session = await bound_session(window=5)

        await asyncio.gather(*(session.submit(sm()) for _ in range(60)))

        assert smsc.stats.max_outstanding == 5
        assert smsc.stats.submits == 60

    @pytest.mark.slow
    async def test_tps_cap_holds_in_every_second(self, bound_session, smsc):
        """With tps=40 no sliding second at the SMSC ever sees more than 40 submits."""
        session = await bound_session(tps=40, window=10)

        await asyncio.gather(*(session.submit(sm()) for _ in range(90)))

        assert smsc.stats.max_rate <= 40
        assert max(smsc.stats.per_second.values()) <= 40
        assert smsc.stats.submits_by_status == {"ESME_ROK": 90}

    @pytest.mark.slow
    async def test_throttling_pauses_and_resends_without_failing(self, bound_session, smsc):
        """ESME_RTHROTTLED: the same PDU goes again later; no submit fails."""
        smsc.config.tps = 20
        session = await bound_session(window=10, throttle_pause=0.2)

        ids = await asyncio.gather(*(session.submit(sm()) for _ in range(50)))

        assert len(set(ids)) == 50
        assert session.stats.throttled > 0
        assert session.stats.submits_failed == 0
        assert smsc.stats.submits_by_status["ESME_ROK"] == 50

    async def test_queue_full_is_transient(self, bound_session, smsc):
        """ESME_RMSGQFUL is reported as transient, for the caller to retry later."""
        smsc.config.rules = (Rule("84911*", "transient", count=1),)
        session = await bound_session()

        with pytest.raises(StatusError) as err:
            await session.submit(sm("84911000001"))
        message_id = await session.submit(sm("84911000001"))

        assert err.value.status == Status.ESME_RMSGQFUL
        assert err.value.status_class == StatusClass.TRANSIENT
        assert message_id

    async def test_invalid_destination_is_permanent(self, bound_session, smsc):
        """ESME_RINVDSTADR and any unlisted status are permanent: retrying cannot help."""
        smsc.config.rules = (Rule("84900*", "reject"),)
        session = await bound_session()

        with pytest.raises(StatusError) as err:
            await session.submit(sm("84900000000"))

        assert err.value.name == "ESME_RINVDSTADR"
        assert err.value.status_class == StatusClass.PERMANENT

    async def test_status_classes_are_overridable(self, bound_session, smsc):
        """A carrier's vendor status can be declared transient in the config."""
        smsc.config.rules = (Rule("84900*", "reject", status=0x450),)
        session = await bound_session(status_classes={0x450: "transient"})

        with pytest.raises(StatusError) as err:
            await session.submit(sm("84900000000"))

        assert err.value.status_class == StatusClass.TRANSIENT

    async def test_validity_period_is_the_time_left_before_expiry(self, bound_session, smsc):
        """expires_at one hour ahead: validity_period says so, relative (YYMMDDhhmmss000R),
        so the SMSC counts from its own receipt and clock skew changes nothing."""
        session = await bound_session()
        expires = time.time() + 3600

        await session.submit(dataclasses.replace(sm(), expires_at=expires))

        period = smsc.records[0].validity_period
        assert period.endswith("000R") and period.startswith("000000")
        hours, minutes, seconds = int(period[6:8]), int(period[8:10]), int(period[10:12])
        assert 3590 <= hours * 3600 + minutes * 60 + seconds <= 3600

    async def test_validity_period_can_be_turned_off(self, bound_session, smsc):
        """For an SMSC that refuses relative times (ESME_RINVEXPIRY): none is sent."""
        session = await bound_session(validity_period=False)

        await session.submit(dataclasses.replace(sm(), expires_at=time.time() + 3600))

        assert smsc.records[0].validity_period == ""

    async def test_link_lost_after_write_is_outcome_unknown(self, bound_session, smsc):
        """A submit written before the link dropped may have been accepted: unknown."""
        smsc.config.response_delay = 1.0
        session = await bound_session()
        submit = asyncio.create_task(session.submit(sm()))
        await eventually(lambda: smsc.stats.submits == 1)

        smsc.drop_all()

        with pytest.raises(OutcomeUnknown):
            await submit


class TestLinkLifecycle:
    async def test_reconnects_after_the_smsc_drops_the_connection(self, bound_session, smsc):
        """Dropped sessions are rebound and submits work again."""
        session = await bound_session()

        smsc.drop_all()
        await eventually(lambda: smsc.stats.binds == 2 and session.bound)

        assert await session.submit(sm())
        assert session.stats.reconnects == 1

    @pytest.mark.timeout(30)
    async def test_transport_lost_before_the_read_loop_hears_does_not_spin(
        self, bound_session, smsc
    ):
        """The kernel can fail a write (peer reset) before the read loop has seen the
        connection end: the submit must wait for the next bind, not retry the dead link
        in a loop that never yields (the daemon would hang, deaf even to SIGTERM)."""
        session = await bound_session()
        (link,) = session._links.values()
        link._writer.transport.abort()  # what a failed send() does to the transport

        message_id = await asyncio.wait_for(session.submit(sm()), 10)

        assert message_id == smsc.records[0].message_id
        assert smsc.stats.binds == 2

    async def test_smsc_unbind_is_answered_and_rebound(self, bound_session, smsc):
        """SMSC-initiated unbind gets unbind_resp, then the session binds again."""
        session = await bound_session()

        await smsc.unbind_all()
        await eventually(lambda: smsc.stats.binds == 2 and session.bound)

        assert smsc.stats.responses["unbind_resp"] == 1

    async def test_enquire_link_from_the_smsc_is_answered(self, bound_session, smsc):
        """The SMSC's keep-alive gets enquire_link_resp."""
        await bound_session()

        await smsc.enquire_all()

        await eventually(lambda: smsc.stats.responses["enquire_link_resp"] == 1)

    async def test_session_sends_enquire_link(self, bound_session, smsc):
        """An idle bind is kept alive with enquire_link every interval."""
        await bound_session(enquire_link_interval=0.1)

        await eventually(lambda: smsc.stats.enquire_links >= 2)

    async def test_silent_link_is_declared_dead_and_replaced(self, bound_session, smsc):
        """No answer within two enquire_link intervals: close and reconnect."""
        session = await bound_session(enquire_link_interval=0.1)

        smsc.mute = True
        await eventually(lambda: not session.bound)
        smsc.mute = False
        await eventually(lambda: session.bound and smsc.stats.binds == 2)

    async def test_impossible_command_length_closes_and_reconnects(self, bound_session, smsc):
        """A length under 16 or over 64 KiB leaves no frames to find: reconnect."""
        session = await bound_session()

        smsc.send_raw((8).to_bytes(4, "big") + b"\x00" * 12)
        await eventually(lambda: smsc.stats.binds == 2 and session.bound)

    async def test_shutdown_waits_for_outstanding_responses_then_unbinds(self, smsc, inbox):
        """Leaving the context: submits in flight get their answers, then unbind."""
        smsc.config.response_delay = 0.3
        session = Session(session_config(smsc.port), inbox)
        async with session:
            await session.wait_bound(5)
            submit = asyncio.create_task(session.submit(sm()))
            await eventually(lambda: smsc.stats.submits == 1)

        assert submit.done() and submit.result()
        assert smsc.stats.unbinds == 1

    async def test_submit_after_close_is_refused_as_not_sent(self, smsc, inbox):
        """Once closing, submit raises ConnectError: nothing went out, safe to keep."""
        session = Session(session_config(smsc.port), inbox)
        async with session:
            await session.wait_bound(5)
            await session.close()
            with pytest.raises(ConnectError):
                await session.submit(sm())

        assert smsc.stats.submits == 0

    async def test_session_is_not_reentrant(self, smsc, inbox):
        """Entering a session twice at once is a programming error."""
        session = Session(session_config(smsc.port), inbox)
        async with session:
            with pytest.raises(RuntimeError):
                await session.__aenter__()


class TestInbound:
    async def test_receipt_reaches_the_callback_and_matches_its_submit(self, bound_session, inbox):
        """A receipt's id (decimal) matches the submit_sm_resp id (hex) by key."""
        session = await bound_session()

        message_id = await session.submit(sm())
        (receipt,) = await inbox.wait_for(1)

        assert isinstance(receipt, Receipt)
        assert receipt.state is ReceiptState.DELIVERED
        assert message_id_keys(receipt.message_id) & message_id_keys(message_id)

    async def test_undeliverable_receipt_is_reported(self, bound_session, smsc, inbox):
        """stat:UNDELIV arrives as an UNDELIVERABLE receipt."""
        smsc.config.rules = (Rule("84988*", "undeliverable"),)
        session = await bound_session()

        await session.submit(sm("84988000000"))
        (receipt,) = await inbox.wait_for(1)

        assert receipt.state is ReceiptState.UNDELIVERABLE

    async def test_failing_callback_gets_an_error_status_and_redelivery(
        self, bound_session, smsc, inbox
    ):
        """If the callback raises, deliver_sm_resp carries ESME_RX_T_APPN; it comes again."""
        session = await bound_session()
        inbox.fail_next = 1

        await session.submit(sm())
        (receipt,) = await inbox.wait_for(1)

        assert isinstance(receipt, Receipt)
        assert smsc.stats.deliver_resp_status["ESME_RX_T_APPN"] == 1
        await eventually(lambda: smsc.stats.receipts_acked == 1)

    async def test_mo_reaches_the_callback(self, bound_session, smsc, inbox):
        """A short MO arrives with its sender, shortcode and text."""
        await bound_session()

        statuses = await smsc.inject_mo("84905123456", "8083", "MCKH 0101701234")
        (mo,) = await inbox.wait_for(1)

        assert mo == Mo(source="84905123456", destination="8083", text="MCKH 0101701234")
        assert statuses == [0]

    async def test_ucs2_mo_is_decoded(self, bound_session, smsc, inbox):
        """A UCS-2 MO with Vietnamese text arrives as text."""
        await bound_session()

        await smsc.inject_mo("84905123456", "8083", "MCKH 000.00.06.H56-231027-0361 cảm ơn")
        (mo,) = await inbox.wait_for(1)

        assert mo.text == "MCKH 000.00.06.H56-231027-0361 cảm ơn"

    @pytest.mark.parametrize(
        ("how", "options"),
        [
            ("udh8", {}),
            ("udh16", {"ref16": True}),
            ("sar", {"sar": True}),
        ],
    )
    async def test_long_mo_in_reverse_order_is_reassembled(
        self, bound_session, smsc, inbox, how, options
    ):
        """Parts sent last first (UDH 8/16-bit or SAR TLVs) arrive as one MO."""
        await bound_session()
        text = "MCKH 0101701234 0101701235 0101701236"

        await smsc.inject_mo("84905123456", "8083", text, max_part=10, reverse=True, **options)
        (mo,) = await inbox.wait_for(1)

        assert mo.text == text
        assert mo.complete and mo.parts == 4

    @pytest.mark.slow
    async def test_long_mo_missing_a_part_is_handed_over_after_the_timeout(
        self, bound_session, smsc, inbox
    ):
        """A part that never comes: what did arrive is delivered, marked incomplete."""
        await bound_session(mo_reassembly_timeout=0.2)

        await smsc.inject_mo(
            "84905123456", "8083", "MCKH 0101701234 xin cam on", max_part=10, drop_parts={3}
        )
        (mo,) = await inbox.wait_for(1)

        assert not mo.complete
        assert mo.text == "MCKH 01017" + "01234 xin "
