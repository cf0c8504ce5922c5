"""SNAP response codes: ``responseCode`` = HTTP status (3) + service code (2) + case code (2).

The SNAP code table [snap-codes]. ``response_code(service, http, case, field=..., reason=...)`` builds a code with
its message; ``lookup_code("4015400")`` explains any received code (message and a hint for people).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    message: str      # may contain {field} or {reason}
    meaning: str
    hint: str


# (HTTP status, case code) -> generic SNAP meaning ([snap-codes]).
CASES: dict[tuple[int, str], Case] = {
    (200, "00"): Case("Successful", "success", ""),
    (202, "00"): Case("Request In Progress", "accepted, still processing",
                      "Query the transaction later; the official Python SDK returns None for HTTP 202."),
    (400, "00"): Case("Bad Request", "general request failure, unparsable message",
                      "Send a JSON object body with Content-Type application/json."),
    (400, "01"): Case("Invalid Field Format {field}", "a field or header has the wrong format",
                      "Check the named field against the API's format (amounts: digits + 2 decimals; "
                      "X-TIMESTAMP: YYYY-MM-DDTHH:mm:ss+07:00)."),
    (400, "02"): Case("Invalid Mandatory Field {field}", "a mandatory field or header is missing",
                      "Send the named field or header; empty values count as missing."),
    (401, "00"): Case("Unauthorized. {reason}", "general unauthorized, incl. invalid signature",
                      "Sign METHOD:path:sha256hex(minified body):X-TIMESTAMP (Apply Token: "
                      "clientId|X-TIMESTAMP) with the private key whose public key DANA holds."),
    (401, "01"): Case("Invalid Token (B2B)", "token invalid or expired",
                      "Apply Token again (refresh grant) and retry with the new access token."),
    (401, "02"): Case("Invalid Customer Token", "customer access token unknown or revoked",
                      "Bind the account again or use the accessToken returned by Apply Token."),
    (401, "03"): Case("Token Not Found (B2B)", "token not found", ""),
    (401, "04"): Case("Customer Token Not Found", "customer token not found", ""),
    (403, "00"): Case("Transaction Expired", "transaction window passed", ""),
    (403, "01"): Case("Feature Not Allowed {reason}", "feature not allowed", ""),
    (403, "02"): Case("Exceeds Transaction Amount Limit", "amount above the limit",
                      "Lower the amount or ask DANA to raise the merchant's limit."),
    (403, "03"): Case("Suspected Fraud", "suspected fraud", ""),
    (403, "04"): Case("Activity Count Limit Exceeded", "too many activities", ""),
    (403, "05"): Case("Do Not Honor", "account or user status abnormal",
                      "The DANA user or account is blocked; show the user a clear message."),
    (403, "14"): Case("Insufficient Funds", "insufficient funds", ""),
    (403, "15"): Case("Transaction Not Permitted", "not permitted by agreement or rules", ""),
    (403, "18"): Case("Inactive Card/Account/Customer", "inactive account", ""),
    (404, "00"): Case("Invalid Transaction Status", "the order is in a state that forbids this",
                      "Query the order first; only unpaid orders cancel, only paid ones refund."),
    (404, "01"): Case("Transaction Not Found", "unknown transaction",
                      "Use the partnerReferenceNo/referenceNo of an order created with this merchant."),
    (404, "08"): Case("Invalid Merchant", "merchant missing or abnormal",
                      "Check MERCHANT_ID and that the merchant is active in the Merchant Portal."),
    (404, "12"): Case("Invalid Bill", "unknown bill", ""),
    (404, "18"): Case("Inconsistent Request", "same idempotency key, different content",
                      "A partnerReferenceNo (or partnerRefundNo) is reused with a different body; "
                      "generate a fresh reference per order."),
    (409, "00"): Case("Conflict", "X-EXTERNAL-ID reused the same day",
                      "Generate a fresh X-EXTERNAL-ID for every request."),
    (409, "01"): Case("Duplicate partnerReferenceNo", "duplicate reference", ""),
    (429, "00"): Case("Too Many Requests", "rate limited", "Back off and retry later."),
    (500, "00"): Case("General Error", "server error", "Retry with the same reference; query first."),
    (500, "01"): Case("Internal Server Error", "server error", "Retry with the same reference; query first."),
    (504, "00"): Case("Timeout", "timeout", "Query the transaction before retrying."),
}

# Codes whose DANA message differs from the generic table ([sdk-models], Widget.json).
SPECIFIC: dict[str, Case] = {
    "4014901": Case("Token Expired", "customer access token expired",
                    "Apply Token with the refresh grant, or bind again."),
    "2001000": Case("Successful", "binding redirect succeeded", ""),
    "2005600": Case("Successful", "merchant accepted the Finish Notify", ""),
}

_CODE = re.compile(r"^(\d{3})(\d{2})(\d{2})$")


@dataclass(frozen=True)
class ResponseCode:
    code: str
    http_status: int
    service: str
    case: str
    message: str
    meaning: str = ""
    hint: str = ""

    def body(self, **extra: object) -> dict:
        """The SNAP response body: responseCode and responseMessage first, then ``extra``."""
        return {"responseCode": self.code, "responseMessage": self.message, **extra}


def response_code(service: str, http_status: int, case: str = "00", *, field: str = "",
                  reason: str = "", message: str | None = None) -> ResponseCode:
    """Build the code for ``service`` with the generic (or DANA-specific) message.

    ``field`` fills ``{field}`` (400 x 01/02), ``reason`` fills ``{reason}`` (401 x 00).
    ``message`` overrides the text where DANA documents another wording.
    """
    code = f"{http_status}{service}{case}"
    entry = SPECIFIC.get(code) or CASES.get((http_status, case))
    if entry is None:
        raise KeyError(f"no SNAP case {http_status}/{case}; add it to conformance.snap.codes.CASES")
    text = message if message is not None else entry.message.format(field=field, reason=reason)
    return ResponseCode(code, http_status, service, case, text.strip(), entry.meaning, entry.hint)


def lookup_code(code: str) -> ResponseCode | None:
    """Explain a received responseCode; None when it is not 7 digits or not a known case."""
    match = _CODE.match(code or "")
    if not match:
        return None
    http_status, service, case = int(match.group(1)), match.group(2), match.group(3)
    entry = SPECIFIC.get(code) or CASES.get((http_status, case))
    if entry is None:
        return None
    message = entry.message.replace(" {field}", "").replace(" {reason}", "").replace(". {reason}", ".")
    return ResponseCode(code, http_status, service, case, message, entry.meaning, entry.hint)


def http_status_of(code: str) -> int | None:
    """The HTTP status a responseCode implies (its first three digits)."""
    match = _CODE.match(code or "")
    return int(match.group(1)) if match else None
