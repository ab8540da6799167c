"""An account's sessions: several binds of one system_id, each with its own window and
TPS share, and one TPS cap across them all (carriers count per account)."""

from __future__ import annotations

import asyncio

from gateway.smpp.account import Account, receipt_keys
from gateway.smpp.errors import NotBound
from gateway.smpp.receipt import message_id_keys
from gateway.smpp.session import Submit
from gateway.smpp.sim import SimConfig, SmscSimulator
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
