"""Start-up failing (admin port taken) while the SMSC is slow to answer the bind."""
from __future__ import annotations

import asyncio
import dataclasses
import socket

import pytest

from gateway.app import serve
from gateway.config import AdminConfig
from gateway.smpp import pdu as P
from tests.gateway_rig import gateway_config


async def _slow_bind_smsc(delay: float):
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readexactly(4)
                frame = head + await reader.readexactly(int.from_bytes(head, "big") - 4)
                _l, cid, _s, seq = P.header(frame)
                if cid == 0x09:
                    await asyncio.sleep(delay)
                    writer.write(P.encode("bind_transceiver_resp", seq, 0, system_id="X"))
                elif cid == 0x15:
                    writer.write(P.encode_header_only(0x80000015, seq))
                elif cid == 0x06:
                    writer.write(P.encode_header_only(0x80000006, seq))
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    return await asyncio.start_server(handle, "127.0.0.1", 0)


@pytest.mark.parametrize("bind_delay", [1.0, 8.0])
async def test_start_up_failure_ends_promptly_whatever_the_bind_is_doing(broker, tmp_path, bind_delay):
    """The admin port is taken, so start-up fails right after the session starts binding.
    The daemon must end promptly with that error; before, the bind's cancellation was lost
    (Link.open's wait_for swallows it when the connect completes at the same time): the
    bind went on, and once answered the session served the new link for ever, close()
    waiting on it (the daemon ignored SIGTERM for ever)."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    smsc = await _slow_bind_smsc(bind_delay)
    config = gateway_config(
        broker_port=broker.port,
        smsc_port=smsc.sockets[0].getsockname()[1],
        db=tmp_path / "gateway.db",
        client_id="atk-startup",
    )
    config = dataclasses.replace(
        config,
        smpp=dataclasses.replace(config.smpp, response_timeout=30.0, relink_after=120.0),
        admin=AdminConfig(host="127.0.0.1", port=held.getsockname()[1]),
    )
    task = asyncio.create_task(serve(config, asyncio.Event()))
    try:
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done, "start-up failure did not end the daemon within 5 s"
        assert isinstance(task.exception(), OSError)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        smsc.close()
        held.close()
