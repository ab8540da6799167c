"""HELP / HD: the services this shortcode offers and how to write each."""

from __future__ import annotations

from gateway.mo.api import Context, Outcome, Reply, Request

SYNTAX = "HD"
PURPOSE = "hướng dẫn"
# A guide to the other handlers: not itself listed, nor offered as the syntax to use.
OUTCOME = Outcome.HELP


async def handle(request: Request, context: Context) -> Reply:
    services = "; ".join(
        f"{service.syntax} gửi {request.shortcode}: {service.purpose}"
        for service in context.services
    )
    return Reply(f"Dịch vụ Một cửa: {services}.")
