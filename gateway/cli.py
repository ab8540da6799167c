"""`motcua-sms` command line: one subcommand per job an operator or integrator runs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import io
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import structlog
import yaml

from gateway.kit.schemas import NAMES as SCHEMA_NAMES
from gateway.kit.schemas import schema_text
from gateway.ops.logs import configure_logging
from gateway.settings.config import (
    MQTT_PASSWORD_ENV,
    SMPP_PASSWORD_ENV,
    Config,
    ConfigError,
    default_config,
    load_config,
)
from gateway.settings.links import routing_table, unreachable_routes
from gateway.settings.show import redacted
from gateway.settings.zalo import ZALO_OA_SECRET_KEY_ENV, ZALO_SECRET_KEY_ENV
from gateway.smpp.simcli import add_arguments as add_simulator_arguments
from gateway.smpp.simcli import serve as serve_simulator
from gateway.smpp.text import fits_gsm7, strip_diacritics
from gateway.store.schema import StoreError, StoreUnavailable
from gateway.web import ListenRefused
from gateway.zalo.simcli import add_arguments as add_zalo_simulator_arguments
from gateway.zalo.simcli import serve as serve_zalo_simulator

# Start-up refusals that a restart cannot fix: systemd's RestartPreventExitStatus.
STARTUP_FAILURE = 3
# Any other failure that ends the daemon: systemd restarts it.
RUNTIME_FAILURE = 1

log = structlog.get_logger("gateway.cli")
CALENDAR_YEARS = (1901, 2100)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date YYYY-MM-DD") from None


def _year(text: str) -> int:
    # The national calendar's lunar dates are computed for 1901 to 2100.
    if not text.isdigit() or not CALENDAR_YEARS[0] <= int(text) <= CALENDAR_YEARS[1]:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a year from {CALENDAR_YEARS[0]} to {CALENDAR_YEARS[1]}"
        )
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motcua-sms", description="SMS gateway for one-stop administrative offices"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the gateway daemon")
    run.add_argument("-c", "--config", required=True, metavar="FILE")
    check = sub.add_parser("check-config", help="validate and print the configuration")
    check.add_argument("-c", "--config", required=True, metavar="FILE")

    report = sub.add_parser("report", help="figures per agency, procedure and day")
    report.add_argument("-c", "--config", required=True, metavar="FILE")
    report.add_argument("--from", dest="start", required=True, type=_day, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, type=_day, metavar="YYYY-MM-DD")
    report.add_argument(
        "--by", default="agency", metavar="agency,procedure,day",
        help="groupings, any of them separated by commas (default: agency)",
    )  # fmt: skip
    report.add_argument(
        "--agency", action="append", metavar="CODE",
        help="only this agency (repeat, or separate by commas, for several)",
    )  # fmt: skip
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    console = sub.add_parser("console", help="the supervisors' web console")
    console.add_argument("-c", "--config", required=True, metavar="FILE")
    sub.add_parser("console-password", help="print a console password's hash (read from stdin)")
    sub.add_parser("demo", help="simulator + broker + daemon + sample dossiers, traffic shown live")

    cal = sub.add_parser(
        "calendar", help="a year's days off, make-up working days and apology coverage"
    )
    cal.add_argument("-c", "--config", metavar="FILE", help="default: the embedded defaults")
    cal.add_argument("--year", type=_year, metavar="YYYY", help="default: this year")

    schema = sub.add_parser("schema", help="print the JSON Schema of an MQTT payload")
    schema.add_argument("name", choices=SCHEMA_NAMES)
    check_payload = sub.add_parser(
        "validate", help="what the daemon would answer to a payload (or a file of JSON lines)"
    )
    check_payload.add_argument("file", metavar="FILE|-")
    check_payload.add_argument("-c", "--config", metavar="FILE", help="default: embedded defaults")
    check_payload.add_argument("--kind", choices=["dossier", "sms"], help="default: from the keys")
    check_payload.add_argument(
        "--agency",
        help="the topic's agency; default: the only configured one, else the payload's",
    )
    check_payload.add_argument("--json", action="store_true", help="one JSON object per payload")

    add_simulator_arguments(sub.add_parser("smsc-sim", help="run the bundled SMSC simulator"))
    add_zalo_simulator_arguments(
        sub.add_parser("zalo-sim", help="run the bundled Zalo simulator (ZNS, OAuth, webhooks)")
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "calendar":
        return _calendar(args)  # prints a listing, logs nothing
    if args.command == "schema":
        sys.stdout.write(schema_text(args.name))
        return 0
    if args.command == "validate":
        configure_logging(logging.WARNING)
        return _validate(args)
    if args.command == "console-password":
        from gateway.console.password import main as console_password

        return console_password()
    configure_logging()
    if args.command == "smsc-sim":
        return asyncio.run(serve_simulator(args))
    if args.command == "zalo-sim":
        return asyncio.run(serve_zalo_simulator(args))
    if args.command == "demo":
        from gateway.demo import run_demo

        configure_logging(logging.WARNING)
        return asyncio.run(run_demo())
    # The console reads the store only: the SMSC and broker secrets are not its own.
    load = _config_without_secrets if args.command == "console" else load_config
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"motcua-sms: configuration error: {exc}", file=sys.stderr)
        return STARTUP_FAILURE
    if args.command == "check-config":
        yaml.safe_dump(redacted(config), sys.stdout, allow_unicode=True, sort_keys=False)
        print("# routing: a message goes by the first link whose route matches it")
        for line in routing_table(config.links):
            print(f"# {line}")
        for warning in [*unreachable_routes(config.links), *gsm7_warnings(config)]:
            print(f"motcua-sms: warning: {warning}", file=sys.stderr)
        return 0
    try:
        if args.command == "run":
            return asyncio.run(_run(config))
        if args.command == "report":
            return _report_command(config, args)
        if args.command == "console":
            return _console(config)
    except StoreUnavailable as exc:
        # The store cannot be reached just now (its server not up yet, restarting): no
        # refusal; status 1, which systemd restarts, so the daemon starts once it is back.
        print(f"motcua-sms: {exc}", file=sys.stderr)
        return RUNTIME_FAILURE
    except (StoreError, ListenRefused, ConfigError) as exc:
        # Held by another daemon, not a database, damaged, newer; the admin or the Zalo
        # webhook port taken; no console user to log in: one line, no traceback.
        print(f"motcua-sms: {exc}", file=sys.stderr)
        return STARTUP_FAILURE
    except Exception as exc:
        # Anything else that ends the daemon (a start-up step failing while the bind is
        # still under way, say): one line naming it and status 1, so systemd restarts it;
        # the traceback goes to the log at debug level, not onto the operator's screen.
        log.debug("gateway_failed", exc_info=True)
        print(f"motcua-sms: {args.command} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return RUNTIME_FAILURE
    raise AssertionError(args.command)


def _config_without_secrets(path: str | None) -> Config:
    """The configuration at `path` (the embedded defaults without one) for a command that
    needs no secret: stand-ins in the environment (which comes first) keep a user who may
    not read the password files from being refused. Raises ConfigError."""
    secrets = (SMPP_PASSWORD_ENV, MQTT_PASSWORD_ENV, ZALO_SECRET_KEY_ENV, ZALO_OA_SECRET_KEY_ENV)
    env = {**os.environ, **dict.fromkeys(secrets, "unused")}
    return default_config() if path is None else load_config(path, env=env)


def _calendar(args: argparse.Namespace) -> int:
    from gateway.calendar.view import render
    from gateway.calendar.workdays import WorkCalendar

    try:
        config = _config_without_secrets(args.config)
    except ConfigError as exc:
        print(f"motcua-sms: configuration error: {exc}", file=sys.stderr)
        return STARTUP_FAILURE
    year = args.year or datetime.now(config.tz).year
    calendar = WorkCalendar.from_schedule(config.schedule)
    sys.stdout.write(render(calendar, year, config.schedule.apology_at))
    return 0


def _console(config: Config) -> int:
    from gateway.console.command import run_console

    prices, store = config.report, config.store
    return run_console(
        config.console, store.location, config.tz, prices.segment_price, config.agencies,
        config.source_path, zns_price=prices.zns_price, password=store.password,
    )  # fmt: skip


def _validate(args: argparse.Namespace) -> int:
    """Exit 1 when the daemon would reject a payload (or could not be told its kind or
    agency), 0 when it would take them all, 2 when the input cannot be read."""
    from gateway.app import composer_settings, intake_settings
    from gateway.kit.validate import judge, render, split_payloads

    try:
        config = _config_without_secrets(args.config)
    except ConfigError as exc:
        print(f"motcua-sms: configuration error: {exc}", file=sys.stderr)
        return STARTUP_FAILURE
    try:
        data = _read_input(args.file)
    except OSError as exc:
        print(f"motcua-sms: validate: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    # The daemon's own log lines (a reused id, say) are not validate's output: what they
    # say is in the verdicts. Logs write to whatever sys.stderr is (ops/logs.py), so they
    # are set aside here without touching the process's logging set-up.
    with contextlib.redirect_stderr(io.StringIO()):
        verdicts = asyncio.run(
            judge(
                split_payloads(data),
                intake_settings(config),
                composer_settings(config),
                kind=args.kind,
                agency=args.agency,
            )
        )
    sys.stdout.write(render(verdicts, as_json=args.json))
    return 1 if any(v.refused for v in verdicts) else 0


def _read_input(name: str) -> bytes:
    """The bytes of file `name`, or of standard input for `-`. OSError when it cannot be
    read, standard input closed included (Python then has no `sys.stdin` at all)."""
    if name != "-":
        return Path(name).read_bytes()
    if sys.stdin is None:
        raise OSError(errno.EBADF, "standard input is closed")
    return sys.stdin.buffer.read()


def gsm7_warnings(config: Config) -> list[str]:
    """One line per agency name or template that stripping cannot bring to GSM-7.

    Why: for an agency that strips diacritics, one character outside GSM 03.38 (a star, an
    emoji, a Chinese character pasted from a web page) sends every notice that carries it
    as UCS-2, at 70 characters a part instead of 160, and nobody sees it until the bill.
    Only agencies that strip are checked: the others chose UCS-2 for their diacritics.
    """
    warnings: list[str] = []
    for code, agency in config.agencies.items():
        if agency.diacritics != "strip":
            continue
        texts = {f"agencies.{code}.name": agency.name} | {
            f"agencies.{code}.templates.{kind}": text for kind, text in agency.templates.items()
        }
        for key, text in texts.items():
            stripped = strip_diacritics(text)
            if fits_gsm7(stripped):
                continue
            bad = dict.fromkeys(ch for ch in stripped if not fits_gsm7(ch))
            shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad)
            warnings.append(
                f"{key}: not GSM-7 after stripping diacritics: {shown}; "
                "messages with it go as UCS-2 (70 characters a part instead of 160)"
            )
    return warnings


async def _run(config: Config) -> int:
    # The daemon's imports are not needed by the other commands.
    from gateway.app import Gateway
    from gateway.ops.systemd import Notifier

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


def _report_command(config: Config, args: argparse.Namespace) -> int:
    """The report on stdout; bad input (exit 2) named on one line of stderr."""
    from gateway.ops import report

    try:
        sys.stdout.write(
            report.command(
                config.store.location, config.tz, config.report, config.agencies,
                password=config.store.password, start=args.start, end=args.end, by=args.by,
                agencies=args.agency, fmt=args.format,
            )
        )  # fmt: skip
    except report.ReportError as exc:
        print(f"motcua-sms: report: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
