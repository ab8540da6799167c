"""HELP / HD: the services this shortcode offers and how to write each."""

from __future__ import annotations

from gateway.mo.dispatcher import Context, Reply, Request

SYNTAX = "HD"
PURPOSE = "hướng dẫn"


async def handle(request: Request, context: Context) -> Reply:
    services = "; ".join(
        f"{syntax} gửi {request.shortcode}: {purpose}"
        for syntax, purpose in context.services
        if syntax != SYNTAX
    )
    return Reply(f"Dịch vụ Một cửa: {services}.")
