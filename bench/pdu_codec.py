"""submit_sm encoding alone: smpplib's object model against the direct layout, us a PDU.

python bench/pdu_codec.py [--number 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from smpplib import smpp

from gateway.smpp import pdu

FIELDS = {
    "service_type": "", "source_addr_ton": 5, "source_addr_npi": 0, "source_addr": "MotcuaSMS",
    "dest_addr_ton": 1, "dest_addr_npi": 1, "destination_addr": "84905123456", "esm_class": 0,
    "protocol_id": 0, "priority_flag": 0, "schedule_delivery_time": "",
    "validity_period": "000002000000000R", "registered_delivery": 1,
    "replace_if_present_flag": 0, "data_coding": 0, "sm_default_msg_id": 0,
    "short_message": b"x" * 131,
}  # fmt: skip


def by_smpplib() -> bytes:
    made = smpp.make_pdu("submit_sm", client=pdu._NO_SEQUENCE, **FIELDS)
    made.sequence = 7
    made.status = 0
    return made.generate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    assert by_smpplib() == pdu.encode("submit_sm", 7, **FIELDS)
    n = args.number
    for _ in range(args.repeat):
        old = timeit.timeit(by_smpplib, number=n) / n * 1e6
        new = timeit.timeit(lambda: pdu.encode("submit_sm", 7, **FIELDS), number=n) / n * 1e6
        print(
            f"smpplib {old:.1f} us, direct {new:.1f} us a submit_sm (load {os.getloadavg()[0]:.2f})"
        )


if __name__ == "__main__":
    main()
