"""`motcua-sms smsc-sim`: the bundled SMSC simulator as a command, for agencies testing
their integration and for the demo; its options map one to one onto `SimConfig`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from gateway.smpp.sim import ID_FORMATS, OUTCOMES, Rule, SimConfig, SmscSimulator
from gateway.smpp.simctl import SimControl


def parse_rule(text: str) -> Rule:
    """`PATTERN=OUTCOME[:N][@STATUS]`, e.g. `8490000*=undeliverable`, `84911*=transient:3`."""
    pattern, sep, outcome = text.partition("=")
    if not sep or not pattern:
        raise argparse.ArgumentTypeError(f"rule {text!r}: expected PATTERN=OUTCOME")
    status = 0
    if "@" in outcome:
        outcome, _, raw = outcome.partition("@")
        status = int(raw, 0)
    count = 1
    counted = ":" in outcome
    if counted:
        outcome, _, raw = outcome.partition(":")
        count = int(raw)
    if outcome not in OUTCOMES:
        raise argparse.ArgumentTypeError(
            f"rule {text!r}: unknown outcome {outcome!r}; one of {', '.join(sorted(OUTCOMES))}"
        )
    if counted and outcome != "transient":
        # Only transient answers its first N submits so; any other outcome answers every
        # submit to the number, and a count it ignored would read as "only N times".
        raise argparse.ArgumentTypeError(
            f"rule {text!r}: a count (:N) is for transient only; {outcome} answers every "
            "submit to the number"
        )
    return Rule(pattern=pattern, outcome=outcome, status=status, count=count)


def add_arguments(sim: argparse.ArgumentParser) -> None:
    """The simulator's options on its subcommand's parser."""
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=2775)
    sim.add_argument(
        "--control-port",
        type=int,
        default=2776,
        help="HTTP control port on the same host (0: none)",
    )
    sim.add_argument("--system-id", default="motcua")
    sim.add_argument("--password", default="secret")
    sim.add_argument("--receipt-delay", type=float, default=0.5, metavar="SECONDS")
    sim.add_argument("--response-delay", type=float, default=0.0, metavar="SECONDS")
    sim.add_argument("--response-id-format", choices=sorted(ID_FORMATS), default="hex")
    sim.add_argument("--receipt-id-format", choices=sorted(ID_FORMATS), default="decimal")
    sim.add_argument(
        "--tps",
        type=float,
        default=0.0,
        help="answer ESME_RTHROTTLED above this many submits per second (0: none)",
    )
    sim.add_argument(
        "--rule",
        type=parse_rule,
        action="append",
        default=[],
        help="PATTERN=OUTCOME[:N][@STATUS], first match wins; outcomes: "
        + ", ".join(sorted(OUTCOMES))
        + "; :N (transient only) refuses the first N submits, every other outcome "
        "answers every submit to the number (nack@0x58: throttled for ever)",
    )


async def serve(args: argparse.Namespace) -> int:
    config = SimConfig(
        host=args.host,
        port=args.port,
        system_id=args.system_id,
        password=args.password,
        receipt_delay=args.receipt_delay,
        response_delay=args.response_delay,
        response_id_format=args.response_id_format,
        receipt_id_format=args.receipt_id_format,
        tps=args.tps,
        keep_records=False,
        rules=tuple(args.rule),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with SmscSimulator(config) as smsc, contextlib.AsyncExitStack() as stack:
        ctl_port = None
        if args.control_port:
            ctl = await stack.enter_async_context(SimControl(smsc, args.host, args.control_port))
            ctl_port = ctl.port
        where = f"smsc-sim: SMPP on {args.host}:{smsc.port} (system_id={args.system_id})"
        if ctl_port:
            where += f", control on http://{args.host}:{ctl_port}"
        print(where, file=sys.stderr, flush=True)
        await stop.wait()
    return 0
