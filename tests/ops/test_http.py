"""The admin HTTP server: idle or trickling clients cannot pin its tasks and descriptors."""

from __future__ import annotations

import asyncio

from gateway.ops.http import HttpServer, Response


class TestAdminServer:
    async def test_idle_connection_is_closed_after_the_read_timeout(self):
        async def route(_m: str, _p: str, _b: bytes) -> Response:
            return Response.json(200, {})

        async with HttpServer(route, read_timeout=0.2) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"GET /healthz HTTP/1.1\r\n")  # and then nothing more
            async with asyncio.timeout(5):
                assert await reader.read() == b""
            writer.close()
            assert server.open_connections == 0

    async def test_connections_past_the_cap_are_closed_and_the_rest_served(self):
        async def route(_m: str, _p: str, _b: bytes) -> Response:
            return Response.json(200, {"ok": True})

        async with HttpServer(route, read_timeout=30, max_connections=2) as server:
            idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
            async with asyncio.timeout(5):
                while server.open_connections < 2:
                    await asyncio.sleep(0.01)
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                assert await reader.read() == b""  # refused: two are already held
                writer.close()
                for _r, w in idle:
                    w.close()
                while server.open_connections:
                    await asyncio.sleep(0.01)
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(b"GET / HTTP/1.1\r\n\r\n")
                assert (await reader.read()).startswith(b"HTTP/1.1 200")
                writer.close()
