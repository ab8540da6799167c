"""Reading letters back as a recipient would: a text part's content, and a QR code from its
PNG with zxing-cpp, a decoder independent of the encoder (segno) the gateway writes with."""

from __future__ import annotations

import io
from email.message import EmailMessage

import zxingcpp
from PIL import Image


def decoded(png: bytes) -> list[str]:
    """The text of every QR code zxing-cpp finds in the PNG image `png`."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG", image.format
    return [
        found.text
        for found in zxingcpp.read_barcodes(image)
        if found.format == zxingcpp.BarcodeFormat.QRCode
    ]


def text_of(part: EmailMessage | None) -> str:
    """A text part's content, its CRLF line ends (SMTP's canonical form) read as "\\n"."""
    assert part is not None
    content: str = part.get_content()
    return content.replace("\r\n", "\n")
