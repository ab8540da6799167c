"""`smpp.default_alphabet: latin1` against node-smpp, an SMSC we did not write.

The Latin-1 reading of data_coding 0 is what such an SMSC does with the octets it gets;
node-smpp shows the octets as they arrived, which we read back as Latin-1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.smpp.text import encode, split_udh
from tests.support.node_smsc import ESM_UDHI, Inbound, bound, notice

if TYPE_CHECKING:
    from tests.support.node_smsc import NodeSmsc

TEXT = "Lien he motcua@sct.gov.vn, phi $5, ma_so [0101701234] £ ~ ^ " * 3


async def test_latin1_parts_arrive_as_latin1_octets_with_data_coding_0(
    node_smsc: NodeSmsc,
) -> None:
    encoded = encode(TEXT, reference=0x2B, alphabet="latin1")
    assert encoded.udhi and encoded.segments == 2
    async with bound(node_smsc, Inbound()) as session:
        for part in encoded.parts:
            await session.submit(notice(part, data_coding=encoded.data_coding, udhi=True))
    sms = await node_smsc.wait_for("submit_sm", encoded.segments)

    assert all(sm["data_coding"] == 0 and sm["esm_class"] == ESM_UDHI for sm in sms)
    bodies = [split_udh(bytes.fromhex(sm["short_message_hex"]))[1] for sm in sms]
    assert b"".join(bodies).decode("latin-1") == TEXT
    assert b"\x00" not in b"".join(bodies)  # '@' is 0x40, never the GSM-7 NUL
