"""The channels a message goes by: SMS through the SMSC links, Zalo (a ZNS notice, or a
reply in the Official Account's chat), and e-mail.

A notice is one message whatever channel carries it: it starts on the first channel of
its agency's `channels` that applies and moves on to SMS when Zalo refuses it or does not
confirm it in time (`FALLS_BACK_TO`). E-mail is never a fallback: an e-mail is a copy of a
notice with states of its own (`gateway/store/emails.py`).
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """The value is the status payload's `channel`."""

    SMS = "sms"
    ZALO = "zalo"
    EMAIL = "email"


# Where a notice goes when its channel cannot carry it. SMS is the last resort: nobody
# without Zalo is left without a notice.
FALLS_BACK_TO: dict[Channel, Channel] = {Channel.ZALO: Channel.SMS}

# The channels an agency may list in `channels`, in its order of preference.
NOTICE_CHANNELS = (Channel.ZALO, Channel.SMS)
