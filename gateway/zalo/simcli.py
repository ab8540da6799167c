"""`motcua-sms zalo-sim`: the bundled Zalo simulator as a command, for agencies testing
their set-up and for the demo; its options map one to one onto `ZaloSimConfig`.

Point the gateway's `zalo:` section at it:

    oauth_url: http://127.0.0.1:8092/v4/oa/access_token
    zns_url: http://127.0.0.1:8092/message/template
    oa_message_url: http://127.0.0.1:8092/v3.0/oa/message/cs

with the same app id, OA id and secrets, and put the refresh token it prints (or
`GET /refresh_token` on its control port) in `refresh_token_file`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from types import MappingProxyType

from gateway.zalo.sim import ZaloSimConfig, ZaloSimulator
from gateway.zalo.simctl import ZaloSimControl


def parse_template(text: str) -> tuple[str, bool]:
    """`ID` (approved) or `ID=unapproved`."""
    template_id, sep, state = text.partition("=")
    if not template_id or (sep and state not in ("approved", "unapproved")):
        raise argparse.ArgumentTypeError(f"template {text!r}: expected ID or ID=unapproved")
    return template_id, state != "unapproved"


def add_arguments(sim: argparse.ArgumentParser) -> None:
    """The simulator's options on its subcommand's parser."""
    defaults = ZaloSimConfig()
    sim.add_argument("--host", default=defaults.host)
    sim.add_argument("--port", type=int, default=defaults.port, help="the Zalo API's port")
    sim.add_argument(
        "--control-port", type=int, default=8093, help="HTTP control port on the same host"
    )
    sim.add_argument("--app-id", default=defaults.app_id)
    sim.add_argument("--oa-id", default=defaults.oa_id)
    sim.add_argument("--secret-key", default=defaults.secret_key, help="the app's secret key")
    sim.add_argument("--oa-secret-key", default=defaults.oa_secret_key, help="signs the webhooks")
    sim.add_argument(
        "--refresh-token", default=defaults.refresh_token, help="the first refresh token"
    )
    sim.add_argument(
        "--token-lifetime", type=float, default=defaults.token_lifetime, metavar="SECONDS"
    )
    sim.add_argument(
        "--webhook-url",
        default=None,
        help="where webhooks go (the gateway's zalo.webhook), e.g. "
        "http://127.0.0.1:8091/zalo/webhook; none: no webhooks",
    )
    sim.add_argument(
        "--delivery-delay", type=float, default=defaults.delivery_delay, metavar="SECONDS"
    )
    sim.add_argument(
        "--template",
        type=parse_template,
        action="append",
        default=[],
        help="a registered template: ID or ID=unapproved (none given: every id is approved)",
    )


async def serve(args: argparse.Namespace) -> int:
    config = ZaloSimConfig(
        host=args.host,
        port=args.port,
        app_id=args.app_id,
        oa_id=args.oa_id,
        secret_key=args.secret_key,
        oa_secret_key=args.oa_secret_key,
        refresh_token=args.refresh_token,
        token_lifetime=args.token_lifetime,
        webhook_url=args.webhook_url,
        delivery_delay=args.delivery_delay,
        templates=MappingProxyType(dict(args.template)),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with ZaloSimulator(config) as sim, contextlib.AsyncExitStack() as stack:
        ctl = await stack.enter_async_context(ZaloSimControl(sim, args.host, args.control_port))
        print(
            f"zalo-sim: API on {sim.base_url} (app_id={config.app_id}), "
            f"control on http://{args.host}:{ctl.port}",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()
    return 0
