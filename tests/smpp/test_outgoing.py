"""A text to one phone → its submit_sm: the SMPP fields are decided in gateway.smpp."""

from __future__ import annotations

from gateway.smpp.outgoing import Outgoing
from gateway.smpp.text import GSM7, UCS2, Encoding, split_udh


def outgoing(text: str, source: str = "MotcuaSMS", **encoding: object) -> Outgoing:
    return Outgoing.of(
        text,
        source=source,
        destination="84905123456",
        reference=7,
        encoding=Encoding(**encoding),  # type: ignore[arg-type]
    )


def test_a_brandname_goes_as_alphanumeric_ton_5_npi_0():
    submit = outgoing("Thong bao").submit(1)

    assert (submit.source, submit.source_ton, submit.source_npi) == ("MotcuaSMS", 5, 0)


def test_a_shortcode_goes_as_network_specific_ton_3_npi_0():
    submit = outgoing("Thong bao", source="8083").submit(1)

    assert (submit.source, submit.source_ton, submit.source_npi) == ("8083", 3, 0)


def test_the_destination_goes_international_with_a_receipt_requested():
    submit = outgoing("Thong bao").submit(1)

    assert (submit.destination, submit.dest_ton, submit.dest_npi) == ("84905123456", 1, 1)
    assert submit.registered_delivery == 1


def test_a_single_part_has_no_udhi():
    submit = outgoing("Thong bao").submit(1)

    assert submit.esm_class == 0 and submit.short_message == b"Thong bao"


def test_every_part_of_a_long_text_sets_udhi_and_carries_its_udh():
    message = outgoing("Hồ sơ của quý Ông/Bà " * 8)
    submits = [message.submit(seq) for seq in range(1, message.segments + 1)]

    assert message.segments >= 2
    assert {s.esm_class for s in submits} == {0x40}
    assert {s.data_coding for s in submits} == {UCS2}
    heads = [split_udh(s.short_message)[0] for s in submits]
    assert [(h.reference, h.total, h.seqnum) for h in heads if h] == [
        (7, message.segments, seq) for seq in range(1, message.segments + 1)
    ]


def test_the_encoding_chooses_the_alphabet_of_the_parts():
    """A Latin-1 SMSC has no €: the text goes as UCS-2."""
    assert outgoing("50 €").submit(1).data_coding == GSM7
    assert outgoing("50 €", alphabet="latin1").submit(1).data_coding == UCS2


def test_may_write_is_passed_to_the_part_it_is_given_for():
    def never() -> bool:
        return False

    message = outgoing("a" * 400)

    assert message.submit(1, may_write=never).may_write is never
    assert message.submit(2).may_write is None
