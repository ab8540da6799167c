"""phonenumbers' carrier data (~10 MiB resident) is loaded only where a carrier is named:
a daemon whose links route by no carrier never loads it, one that does still routes."""

from __future__ import annotations

import subprocess
import sys

SINGLE_LINK = """
import sys
import gateway.app, gateway.cli
from gateway.domain.message import Queued
from gateway.outbound.routing import Leg, Router
from gateway.settings.links import Route
from gateway.smpp.account import Account
from tests.support.session import ignore, session_config

async def _ignore(item, link):
    await ignore(item)

router = Router([Leg(Account("only", session_config(1), _ignore), (Route(default=True),))])
m = Queued(1, "SCT", "r", "sms", "84905123456", "MotcuaSMS", "t", 1, 0, 0, 0.0, None, None,
           frozenset())
assert [leg.id for leg in router.legs_for(m)] == ["only"]
print("phonenumbers.carrierdata" in sys.modules)
"""

BY_CARRIER = SINGLE_LINK.replace(
    "Route(default=True),", 'Route(carrier="viettel"), Route(default=True),'
)


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_daemon_routing_by_no_carrier_never_loads_the_carrier_data() -> None:
    assert run(SINGLE_LINK) == "False"


def test_a_route_naming_a_carrier_loads_it_when_a_message_is_routed() -> None:
    assert run(BY_CARRIER) == "True"
