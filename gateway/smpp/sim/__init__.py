"""A small SMSC for tests, the demo, benchmarks and agencies testing their integration.

It speaks enough SMPP 3.4 to stand in for a carrier, and it can misbehave on purpose:
scripted outcomes by destination, a TPS cap answered with ESME_RTHROTTLED, response and
message ids in different formats (hex in submit_sm_resp, decimal in receipts: the usual
carrier quirk), sessions dropped on command or a fixed time after each bind, responses
delayed (past the ESME's timeout, if asked), a muted mode that stops answering. It
counts what an ESME must get right: the largest window of unanswered submits it saw,
the largest number of submits in any one second, and submits by status.

Delivery receipts are kept until a receiver (or transceiver) of the same system_id
acknowledges them with deliver_sm_resp OK, as a carrier's SMSC does: a receipt whose
deliver_sm is refused or whose link drops is sent again.
"""

from gateway.smpp.sim.config import ID_FORMATS, OUTCOMES, Rule, SimConfig
from gateway.smpp.sim.records import SimStats, SubmitRecord
from gateway.smpp.sim.server import SmscSimulator

__all__ = [
    "ID_FORMATS",
    "OUTCOMES",
    "Rule",
    "SimConfig",
    "SimStats",
    "SmscSimulator",
    "SubmitRecord",
]
