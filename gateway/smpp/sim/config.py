"""What the simulator is told: where to listen, whom to accept, and how to misbehave."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OUTCOMES = frozenset(
    {
        "deliver",
        "reject",
        "undeliverable",
        "expired",
        "transient",
        "no_receipt",
        "no_response",
        "nack",
    }
)
ID_FORMATS = frozenset({"hex", "hex_padded", "decimal", "decimal_padded"})


@dataclass(frozen=True, slots=True)
class Rule:
    """Outcome for destinations matching `pattern` (shell-style, e.g. ``"8490000*"``).

    - ``deliver``: accepted, receipt DELIVRD (the default for unmatched numbers)
    - ``reject``: submit_sm_resp with `status` (default ESME_RINVDSTADR), no receipt
    - ``undeliverable`` / ``expired``: accepted, receipt UNDELIV / EXPIRED
    - ``transient``: the first `count` submits answered `status` (default ESME_RMSGQFUL),
      then delivered
    - ``no_receipt``: accepted, no receipt ever
    - ``no_response``: submit_sm never answered (the ESME sees a timeout)
    - ``nack``: every submit_sm answered with generic_nack carrying `status` (0 unless
      given, as some SMSCs do; 0x58 throttles the number for ever)

    `count` is for ``transient`` only: every other outcome answers every submit.
    """

    pattern: str
    outcome: str
    status: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; one of {sorted(OUTCOMES)}")


@dataclass(slots=True)
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0
    system_id: str = "motcua"
    password: str = "secret"
    receipt_delay: float = 0.05
    response_delay: float = 0.0
    response_id_format: str = "hex"
    receipt_id_format: str = "decimal"
    receipt_tlvs: bool = True
    tps: float = 0.0
    redelivery_delay: float = 0.5
    # Close every session this many seconds after it binds (None: never).
    bind_lifetime: float | None = None
    keep_records: bool = True
    rules: Sequence[Rule] = ()
    # Receipts go on another receiving session of the same account than the one the
    # submit came on, when there is one (carriers round-robin receipts over sessions).
    receipts_elsewhere: bool = False
    # The first message id it hands out (None: a random one). Small ids written in hex
    # are the collisions a carrier's counter produces: "A" and "10" both read as 10.
    first_id: int | None = None

    def __post_init__(self) -> None:
        for name in ("response_id_format", "receipt_id_format"):
            if getattr(self, name) not in ID_FORMATS:
                raise ValueError(f"{name} must be one of {sorted(ID_FORMATS)}")
