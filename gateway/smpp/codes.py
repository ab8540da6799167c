"""SMPP 3.4 command ids and command statuses, and what each status means to a submit.

The one place these numbers are declared: the codec (`pdu`), the body checks (`layout`)
and the errors (`errors`) all read them from here, and this module imports nothing of
the package, so none of them needs another to know a status.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum, StrEnum


class CommandId(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    QUERY_SM = 0x00000003
    QUERY_SM_RESP = 0x80000003
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    REPLACE_SM = 0x00000007
    REPLACE_SM_RESP = 0x80000007
    CANCEL_SM = 0x00000008
    CANCEL_SM_RESP = 0x80000008
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    OUTBIND = 0x0000000B
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015
    SUBMIT_MULTI = 0x00000021
    SUBMIT_MULTI_RESP = 0x80000021
    ALERT_NOTIFICATION = 0x00000102
    DATA_SM = 0x00000103
    DATA_SM_RESP = 0x80000103


RESPONSE_BIT = 0x80000000


class Status(IntEnum):
    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RINVPRTFLG = 0x06
    ESME_RINVREGDLVFLG = 0x07
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RCANCELFAIL = 0x11
    ESME_RREPLACEFAIL = 0x13
    ESME_RMSGQFUL = 0x14
    ESME_RINVSERTYP = 0x15
    ESME_RINVNUMDESTS = 0x33
    ESME_RINVDLNAME = 0x34
    ESME_RINVDESTFLAG = 0x40
    ESME_RINVSUBREP = 0x42
    ESME_RINVESMCLASS = 0x43
    ESME_RCNTSUBDL = 0x44
    ESME_RSUBMITFAIL = 0x45
    ESME_RINVSRCTON = 0x48
    ESME_RINVSRCNPI = 0x49
    ESME_RINVDSTTON = 0x50
    ESME_RINVDSTNPI = 0x51
    ESME_RINVSYSTYP = 0x53
    ESME_RINVREPFLAG = 0x54
    ESME_RINVNUMMSGS = 0x55
    ESME_RTHROTTLED = 0x58
    ESME_RINVSCHED = 0x61
    ESME_RINVEXPIRY = 0x62
    ESME_RINVDFTMSGID = 0x63
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RQUERYFAIL = 0x67
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


def status_name(status: int) -> str:
    try:
        return Status(status).name
    except ValueError:
        return f"0x{status:08X}"


def command_name(command_id: int) -> str:
    try:
        return CommandId(command_id).name.lower()
    except ValueError:
        return f"0x{command_id:08X}"


class StatusClass(StrEnum):
    """What a submit_sm response status means for the message: the retry policy reads this."""

    OK = "ok"
    THROTTLE = "throttle"  # pause the link, resend, never count an attempt
    TRANSIENT = "transient"  # retry later with back-off
    PERMANENT = "permanent"  # fail now; retrying cannot help
    REBIND = "rebind"  # the SMSC lost our bind: replace the link, resend, fail nothing


# Checked against SMPP 3.4 (5.1.3) and what Kannel (smsc_smpp.c) and Jasmin (sm-listener
# submit_error_retrial) do with each status. Anything not listed is permanent: the
# message's own fields (addresses, flags, length, TLVs) are wrong, and resending the
# same PDU cannot help. Operators can move any status in the configuration.
DEFAULT_STATUS_CLASSES: Mapping[int, StatusClass] = {
    Status.ESME_ROK: StatusClass.OK,
    # "Throttling error": the SMSC's rate limit, not the message's fault.
    Status.ESME_RTHROTTLED: StatusClass.THROTTLE,
    # "Incorrect BIND status for given command": the SMSC no longer counts this session
    # as a bound transmitter (it restarted, or expired the session). Nothing is wrong
    # with the message; a new bind is.
    Status.ESME_RINVBNDSTS: StatusClass.REBIND,
    # "System error" and "Message queue full": the SMSC's state, retried by Kannel
    # and Jasmin alike.
    Status.ESME_RSYSERR: StatusClass.TRANSIENT,
    Status.ESME_RMSGQFUL: StatusClass.TRANSIENT,
    # "ESME receiver temporary app error": temporary by definition (Kannel retries it);
    # an aggregator passes it on from the network behind it.
    Status.ESME_RX_T_APPN: StatusClass.TRANSIENT,
}

# Bind refusals that are configuration errors (Kannel stops the link on these three).
CREDENTIAL_STATUSES = frozenset(
    {Status.ESME_RINVPASWD, Status.ESME_RINVSYSID, Status.ESME_RBINDFAIL, Status.ESME_RINVSYSTYP}
)


class StatusTable:
    """Response status → `StatusClass`, with the operator's overrides from the config file.

    One table so that the whole retry policy can be read (and changed for a carrier
    that, say, answers a vendor code for a full queue) in one place.
    """

    def __init__(self, overrides: Mapping[int, StatusClass | str] | None = None) -> None:
        table = dict(DEFAULT_STATUS_CLASSES)
        for status, cls in (overrides or {}).items():
            table[int(status)] = StatusClass(cls)
        self._table = table

    def classify(self, status: int) -> StatusClass:
        return self._table.get(status, StatusClass.PERMANENT)


ESM_UDHI = 0x40
"""esm_class bit: the short_message starts with a User Data Header (a part's UDH)."""

ESM_DELIVERY_RECEIPT = 0x04
"""esm_class message type: SMSC delivery receipt (SMPP 3.4 5.2.12)."""
