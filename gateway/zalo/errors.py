"""Zalo's answers, classified like SMPP statuses: send the SMS now, try again, or stop.

Every failure of the Zalo API reaches the core as one `ZnsError(code, message, action)`;
the core acts on `action` alone:

- FALLBACK: this notice cannot go by Zalo (the number has no Zalo account, the user
  blocked the OA or refuses ZNS, the template is not approved or its data is invalid, the
  quota is spent): the SMS goes at once.
- RETRY: Zalo could not answer now (rate limit, its own error, a timeout, a refused
  connection, HTTP 429/5xx): the same notice is tried again later, a bounded number of
  times (the count is the core's).
- UNANSWERED: the request went and no answer came (Zalo too slow for `timeout`, the
  connection dropped after the request was sent): Zalo may have taken the notice. Sent
  again, it could reach the citizen twice; so it waits for its receipt as if accepted,
  and the fallback timer sends the SMS if none comes.
- STOP: nothing will go by Zalo until an operator acts (the token is invalid even after a
  refresh, the refresh token is refused, the app or OA is not authorised): stop sending by
  Zalo, alert; the core sends the notices by SMS meanwhile.

`code` is Zalo's `error` (a negative number) when Zalo answered; for an answer that is
not Zalo's (an HTTP error page) it is the HTTP status, and 0 when nothing came back at all
(connection refused, timeout, a body that is not JSON).

Sources of the codes (searched November 2026):
- ZNS error table, zalo.cloud "Cách xử lý mã lỗi"
  (https://zalo.cloud/zns/guidelines/handle-error-code): -100 unknown error, -101 to -105
  application invalid / not existed / not activated / secret key invalid / not linked to
  an OA, -106 method unsupported, -107 message id invalid, -108 phone number invalid, -109
  template id invalid, -110 Zalo version unsupported, -111 template data empty.
- The same table's wording in order (helpdesk.getfly.vn, "Questions about ZNS"): template
  data invalid, button invalid, user inactive or rejecting the message, out of quota, text
  invalid, OA or app without permission for the template, Zalo account not existed,
  account cannot receive ZNS: -112 to -119, with the QR code error numbered -1123.
- Integrations matching Zalo's answers by code and text (public repositories): -118 "Zalo
  account not existed", -120 OA not permitted to use the feature, -124 access token
  invalid, -220 "access_token is expired or removed", -216 access token invalid (OA API),
  -1122 template parameters missing.
- OAuth v4 refresh errors (-14005 refresh token expired, -14006 invalid) are refused
  refreshes: `TokenRefused`, STOP, whatever the code.
- Rate limit -32 is the OA API's code as integrators know it; it was not found in the
  searched pages, so HTTP 429 is retried whatever its body as well.
Codes not in the table (-131, -133, ...) are unknown negative codes: RETRY, bounded by
the core, then the SMS; an unknown code never stops Zalo for the whole agency.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class ZnsAction(StrEnum):
    """What the core does with a notice Zalo refused."""

    FALLBACK = "fallback"
    RETRY = "retry"
    UNANSWERED = "unanswered"
    STOP = "stop"


# Codes with a name the sim uses too, so the two never disagree.
UNKNOWN_ERROR = -100
PHONE_INVALID = -108
TEMPLATE_ID_INVALID = -109
TEMPLATE_DATA_INVALID = -112
OUT_OF_QUOTA = -115
TEMPLATE_NOT_PERMITTED = -117
NO_ZALO_ACCOUNT = -118
ACCESS_TOKEN_INVALID = -124
RATE_LIMITED = -32
REFRESH_TOKEN_INVALID = -14006

_F, _R, _S = ZnsAction.FALLBACK, ZnsAction.RETRY, ZnsAction.STOP

# Zalo's code → (its meaning, the action). One table for the ZNS and OA message APIs:
# their codes do not overlap.
CODES: Mapping[int, tuple[str, ZnsAction]] = MappingProxyType(
    {
        RATE_LIMITED: ("request rate limit exceeded", _R),
        UNKNOWN_ERROR: ("unknown error", _R),
        -101: ("application invalid", _S),
        -102: ("application not existed", _S),
        -103: ("application not activated", _S),
        -104: ("app secret key invalid", _S),
        -105: ("application not linked to any OA", _S),
        -106: ("method unsupported", _S),
        -107: ("message id invalid", _F),
        PHONE_INVALID: ("phone number invalid", _F),
        TEMPLATE_ID_INVALID: ("template id invalid", _F),
        -110: ("user's Zalo version unsupported", _F),
        -111: ("template data empty", _F),
        TEMPLATE_DATA_INVALID: ("template data invalid", _F),
        -113: ("button invalid", _F),
        -114: ("user inactive, rejecting the message or on an old Zalo", _F),
        OUT_OF_QUOTA: ("out of quota", _F),
        -116: ("text invalid", _F),
        TEMPLATE_NOT_PERMITTED: ("OA or app not permitted this template", _F),
        NO_ZALO_ACCOUNT: ("Zalo account not existed", _F),
        -119: ("account cannot receive ZNS", _F),
        -120: ("OA not permitted to use this feature", _S),
        ACCESS_TOKEN_INVALID: ("access token invalid", _S),
        -216: ("access token invalid", _S),
        -220: ("access token expired or removed", _S),
        -1122: ("template parameters missing", _F),
        -1123: ("QR code cannot be generated", _F),
    }
)

# The answers a fresh access token may cure: the client refreshes once and tries again.
TOKEN_INVALID = frozenset({ACCESS_TOKEN_INVALID, -216, -220})

# HTTP statuses of answers that are not Zalo's own: Zalo (or a proxy) is busy or down.
_HTTP_RETRY = frozenset({408, 425, 429})


def classify(code: int) -> ZnsAction:
    """The action for Zalo's error `code` (or an HTTP status, or 0 for no answer).

    Unknown negative codes retry (bounded by the core); an HTTP 4xx that is not a busy
    signal is a wrong address or a refused app: STOP.
    """
    known = CODES.get(code)
    if known is not None:
        return known[1]
    if code <= 0:
        return ZnsAction.RETRY
    if code in _HTTP_RETRY or code >= 500:
        return ZnsAction.RETRY
    return ZnsAction.STOP


def meaning(code: int) -> str:
    """A short text for logs and status reasons: Zalo's meaning of `code`, or what it is."""
    known = CODES.get(code)
    if known is not None:
        return known[0]
    if code == 0:
        return "no answer"
    if code > 0:
        return f"HTTP {code}"
    return "unknown Zalo error"


class ZnsError(Exception):
    """Zalo refused or did not answer; `action` says what the core does about it."""

    def __init__(self, code: int, message: str, action: ZnsAction | None = None) -> None:
        self.code = code
        self.message = message
        self.action = classify(code) if action is None else action
        super().__init__(f"Zalo error {code} ({message}): {self.action}")


class TokenRefused(ZnsError):
    """Zalo refused the refresh (refresh token expired, used or revoked; wrong secret):
    the agency must authorise the app again. STOP."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message, ZnsAction.STOP)


class TokenUnavailable(ZnsError):
    """The refresh did not get an answer (network, timeout, Zalo's own error). RETRY."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message, ZnsAction.RETRY)
