"""`motcua-sms` command line: one subcommand per job an operator or integrator runs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import yaml

from gateway.config import Config, ConfigError, load_config, redacted
from gateway.logs import configure_logging
from gateway.schema import StoreError
from gateway.simctl import SimControl
from gateway.smpp.sim import ID_FORMATS, OUTCOMES, Rule, SimConfig, SmscSimulator

# Start-up refusals that a restart cannot fix: systemd's RestartPreventExitStatus.
STARTUP_FAILURE = 3


def _rule(text: str) -> Rule:
    """`PATTERN=OUTCOME[:N][@STATUS]`, e.g. `8490000*=undeliverable`, `84911*=transient:3`."""
    pattern, sep, outcome = text.partition("=")
    if not sep or not pattern:
        raise argparse.ArgumentTypeError(f"rule {text!r}: expected PATTERN=OUTCOME")
    status = 0
    if "@" in outcome:
        outcome, _, raw = outcome.partition("@")
        status = int(raw, 0)
    count = 1
    if ":" in outcome:
        outcome, _, raw = outcome.partition(":")
        count = int(raw)
    if outcome not in OUTCOMES:
        raise argparse.ArgumentTypeError(
            f"rule {text!r}: unknown outcome {outcome!r}; one of {', '.join(sorted(OUTCOMES))}"
        )
    return Rule(pattern=pattern, outcome=outcome, status=status, count=count)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motcua-sms", description="SMS gateway for one-stop administrative offices"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the gateway daemon")
    run.add_argument("-c", "--config", required=True, metavar="FILE")
    check = sub.add_parser("check-config", help="validate and print the configuration")
    check.add_argument("-c", "--config", required=True, metavar="FILE")

    report = sub.add_parser("report", help="figures per agency, procedure or day")
    report.add_argument("-c", "--config", required=True, metavar="FILE")
    report.add_argument("--from", dest="start", required=True, type=_day, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, type=_day, metavar="YYYY-MM-DD")
    report.add_argument("--by", choices=["agency", "procedure", "day"], default="agency")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sub.add_parser("demo", help="simulator + broker + daemon + sample dossiers, traffic shown live")

    sim = sub.add_parser("smsc-sim", help="run the bundled SMSC simulator")
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
        type=_rule,
        action="append",
        default=[],
        help="PATTERN=OUTCOME[:N][@STATUS], first match wins; outcomes: "
        + ", ".join(sorted(OUTCOMES)),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    if args.command == "smsc-sim":
        return asyncio.run(_smsc_sim(args))
    if args.command == "demo":
        from gateway.demo import run_demo

        configure_logging(logging.WARNING)
        return asyncio.run(run_demo())
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"motcua-sms: configuration error: {exc}", file=sys.stderr)
        return STARTUP_FAILURE
    if args.command == "check-config":
        yaml.safe_dump(redacted(config), sys.stdout, allow_unicode=True, sort_keys=False)
        return 0
    try:
        if args.command == "run":
            return asyncio.run(_run(config))
        if args.command == "report":
            if args.end < args.start:
                print("motcua-sms: report: --to is before --from", file=sys.stderr)
                return 2
            if not Path(config.store.path).exists():
                print(f"motcua-sms: report: no store at {config.store.path}", file=sys.stderr)
                return 2
            sys.stdout.write(asyncio.run(_report(config, args)))
            return 0
    except StoreError as exc:
        # Held by another daemon, not a database, damaged, newer: one line, no traceback.
        print(f"motcua-sms: {exc}", file=sys.stderr)
        return STARTUP_FAILURE
    raise AssertionError(args.command)


async def _run(config: Config) -> int:
    # The daemon's imports are not needed by the other commands.
    from gateway.app import Gateway
    from gateway.systemd import Notifier

    stop = asyncio.Event()
    notifier = Notifier()
    gateway = Gateway(config, notifier=notifier)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, gateway.reload)
    try:
        await gateway.run(stop)
    finally:
        notifier.close()
    return 0


async def _report(config: Config, args: argparse.Namespace) -> str:
    from gateway import report
    from gateway.store import Store

    async with Store.open(config.store.path) as store:
        rows = await report.build(store, config.tz, args.start, args.end, args.by)
    return report.render(rows, args.format)


async def _smsc_sim(args: argparse.Namespace) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
