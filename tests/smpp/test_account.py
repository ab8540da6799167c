"""An account's sessions: several binds of one system_id, each with its own window and
TPS share, and one TPS cap across them all (carriers count per account)."""

from __future__ import annotations

import asyncio

from gateway.smpp.account import Account, receipt_keys
from gateway.smpp.codes import Status
from gateway.smpp.errors import NotBound
from gateway.smpp.receipt import message_id_keys
from gateway.smpp.session import Submit
from gateway.smpp.sim import Rule, SimConfig, SmscSimulator
from tests.support.session import session_config
from tests.support.wait import eventually


async def _ignore(_item: object, _link: str) -> None:
    return None


def notice(n: int) -> Submit:
    return Submit(source="MotcuaSMS", destination=f"8498{n:07d}", short_message=b"Thong bao")


async def test_an_account_opens_its_binds_as_sessions_of_one_system_id():
    async with SmscSimulator(SimConfig(receipt_delay=0.01)) as sim:
        account = Account("viettel", session_config(sim.port), _ignore, binds=3)
        async with account:
            await eventually(lambda: all(s.bound for s in account.sessions))
            assert sim.sessions == 3


async def test_the_account_cap_holds_across_its_sessions_in_every_sliding_second():
    # Three sessions of 20 TPS each could write 60 a second; the carrier allows 25.
    async with SmscSimulator(SimConfig(receipt_delay=0.01, keep_records=True)) as sim:
        settings = session_config(sim.port, tps=20.0, window=10)
        async with Account("viettel", settings, _ignore, binds=3, account_tps=25.0) as account:
            await eventually(lambda: all(s.bound for s in account.sessions))
            await asyncio.gather(*(account.submit(notice(n)) for n in range(60)))

    assert sim.stats.submits == 60
    assert sim.stats.max_rate <= 25


async def test_submits_spread_over_the_sessions_with_free_window():
    async with SmscSimulator(SimConfig(receipt_delay=0.01, response_delay=0.2)) as sim:
        settings = session_config(sim.port, window=2)
        async with Account("viettel", settings, _ignore, binds=3) as account:
            await eventually(lambda: all(s.bound for s in account.sessions))
            sends = [asyncio.ensure_future(account.submit(notice(n))) for n in range(6)]
            await eventually(lambda: account.window_in_use == 6)
            assert [s.window_in_use for s in account.sessions] == [2, 2, 2]
            await asyncio.gather(*sends)


async def test_with_no_session_bound_a_limited_wait_ends_in_not_bound():
    sim = SmscSimulator(SimConfig())
    await sim.start()
    port = sim.port
    await sim.stop()
    async with Account("viettel", session_config(port), _ignore, binds=2) as account:
        try:
            await account.submit(notice(1), bind_wait=0.2)
        except NotBound:
            pass
        else:
            raise AssertionError("a submit with no bind went through")


def test_receipt_keys_are_the_ids_keys_scoped_to_their_link():
    keys = receipt_keys("viettel", "0A1B2C00")
    assert keys == {f"{k}@viettel" for k in message_id_keys("0A1B2C00")}
    assert not keys & receipt_keys("vnpt", "0A1B2C00")


async def test_a_throttle_answer_on_one_session_pauses_the_accounts_other_sessions():
    """Carriers count per account: after ESME_RTHROTTLED on one session, a submit handed
    to another session of the account waits out the same pause before it is written."""
    once = Rule("84980000000", "transient", Status.ESME_RTHROTTLED, count=1)
    async with SmscSimulator(SimConfig(receipt_delay=0.01, rules=[once])) as sim:
        settings = session_config(sim.port, throttle_pause=30.0)
        async with Account("viettel", settings, _ignore, binds=2) as account:
            await eventually(lambda: all(s.bound for s in account.sessions))
            throttled = asyncio.ensure_future(account.submit(notice(0)))
            await eventually(lambda: sim.stats.submits_by_status["ESME_RTHROTTLED"] == 1)
            # The least loaded session takes it: the other one, not the throttled one's.
            other = asyncio.ensure_future(account.submit(notice(1)))
            try:
                await asyncio.sleep(0.5)  # long enough for a write that did not wait
                written = sim.stats.submits
                throttled_on = [s.stats.throttled for s in account.sessions]
            finally:
                for send in (throttled, other):
                    send.cancel()
                await asyncio.gather(throttled, other, return_exceptions=True)
    assert throttled_on == [1, 0]
    assert written == 1


async def test_an_accounts_sessions_over_the_carriers_cap_take_few_throttle_answers():
    """4 binds of 20 TPS against a 30 TPS account, `account_tps` not configured (the
    carrier never said): the first throttle answer pauses every session, so 150 messages
    take a handful of throttle answers, not about one each."""
    async with SmscSimulator(SimConfig(receipt_delay=0.01, tps=30)) as sim:
        settings = session_config(sim.port, window=10, tps=20.0, throttle_pause=1.0)
        async with Account("viettel", settings, _ignore, binds=4) as account:
            await eventually(lambda: all(s.bound for s in account.sessions))
            async with asyncio.timeout(60):
                await asyncio.gather(*(account.submit(notice(n)) for n in range(150)))
    throttled = sim.stats.submits_by_status["ESME_RTHROTTLED"]
    assert throttled <= 20, f"{throttled} throttle answers for 150 messages"
