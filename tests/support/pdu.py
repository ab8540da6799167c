"""Raw SMPP octets for tests that send what no codec of ours would: headers, body heads.

A malformed PDU is built from these by hand, so that the bytes are what the test says and
not what gateway/smpp/pdu.py thinks they should be.
"""

from __future__ import annotations


def frame(command_id: int, body: bytes, sequence: int = 7) -> bytes:
    """A whole PDU around `body`: length, command id, status 0 and `sequence`."""
    return (
        (16 + len(body)).to_bytes(4, "big")
        + command_id.to_bytes(4, "big")
        + bytes(4)
        + sequence.to_bytes(4, "big")
        + body
    )


# deliver_sm up to sm_length: service_type, addresses, flags, empty times.
DELIVER_HEAD = (
    b"\0" + b"\1\1" + b"84905123456\0" + b"\0\0" + b"8083\0" + bytes(3) + b"\0\0" + bytes(4)
)
# data_sm: service_type, addresses, esm_class, registered_delivery, data_coding.
DATA_SM_HEAD = b"\0" + b"\1\1" + b"84905123456\0" + b"\0\0" + b"8083\0" + bytes(3)
