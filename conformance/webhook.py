"""Finish Notify both ways: build and sign it as DANA does, verify and grade it as a merchant must.

Protocol reference 6 (body, headers, the merchant's answer) and 3.9 (signature): DANA signs
``POST:<path of the notify URL>:<hex sha256(minified body)>:<X-TIMESTAMP>`` with its gateway key.
Verification is strict first (the received bytes, whitespace-minified); the repaired body forms the
official SDK also tries (reference 3.9, 9.2 item 14) are reported separately so a grader can WARN.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.findings import Finding, fail, warn
from conformance.snap.signature import sign, string_to_sign, verify
from conformance.snap.timestamps import format_timestamp, is_timestamp

# Header spellings observed in real deliveries (reference 6.2); receivers match case-insensitively.
HEADER_NAMES = {"timestamp": "X-Timestamp", "signature": "X-Signature", "partner": "X-Partner-Id",
                "external": "X-External-Id", "channel": "Channel-Id"}
STATUS_DESC = {"00": "SUCCESS", "05": "CLOSED", "06": "FAILED"}
REQUIRED_BODY_FIELDS = ("originalPartnerReferenceNo", "originalReferenceNo", "merchantId", "amount",
                        "latestTransactionStatus", "createdTime", "finishedTime")
SUCCESS_ANSWER = {"responseCode": "2005600", "responseMessage": "Successful"}


# The closed reason of a 05 notify. DANA's fixture (uat-script resource/request/components/
# PaymentGateway.json "FinishNotify") carries it inside the additionalInfo.extendInfo JSON string; the SDK
# models (dana-python/-node/-go webhook FinishNotifyRequestAdditionalInfo) read a flat key
# "extendInfo.closedReason". Both are sent so every parser finds it (docs/sandbox.md, "The SDKs side by side").
CLOSED_REASON = "ORDER_EXPIRED"
CLOSED_REASON_KEY = "extendInfo.closedReason"
TIME_FORMS = ("iso", "epoch_ms")


def notify_time(moment: datetime, form: str = "iso") -> str:
    """A Finish Notify time as DANA writes it: ``+07:00`` ISO, or epoch milliseconds as a string
    (a real LinkAja notification in dana-python tests/test_webhook.py carries the latter)."""
    if form == "epoch_ms":
        return str(int(moment.timestamp() * 1000))
    return format_timestamp(moment)


def is_notify_time(value: object) -> bool:
    """Either form DANA sends: a merchant's parser must accept both."""
    return is_timestamp(value) or (isinstance(value, str) and re.fullmatch(r"\d{13}", value) is not None)


def _compact(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"))


def finish_notify_body(order, latest_status: str, *, finished_at: datetime, time_form: str = "iso") -> dict:
    """The notification DANA posts for ``order`` (reference 6.3), shaped like DANA's real bodies.

    Paid: ``paymentInfo`` as in DANA's BALANCE notification and ``additionalInfo.paidTime`` as in its VA
    one (both in dana-python tests/test_webhook.py). In the epoch form ``paidTime`` sits only in
    ``additionalInfo``, as in DANA's epoch body: the SDKs' ``paymentInfo.paidTime`` pattern is ISO only.
    ``payOption`` is sent when the pay method has one (VA, e-wallet); BALANCE has none in DANA's body.
    """
    if time_form not in TIME_FORMS:
        raise ValueError(f"time_form must be one of {TIME_FORMS}, not {time_form!r}")
    amount = {"currency": order.currency, "value": order.amount_value}
    request = getattr(order, "request", None) or {}
    additional: dict = {}
    if latest_status == "00" and order.paid_at is not None:
        option = {"payMethod": getattr(order, "pay_method", None) or "BALANCE", "payAmount": amount,
                  "transAmount": amount, "chargeAmount": {"currency": order.currency, "value": "0.00"},
                  "payOptionBillExtendInfo": "{}", "extendInfo": "{}"}
        if getattr(order, "pay_option", None):
            option["payOption"] = order.pay_option
        payment_info = {"payOptionInfos": [option], "cashierRequestId": f"{order.reference_no}01",
                        "payRequestExtendInfo": "{}",
                        "extendInfo": _compact({"topupAndPay": "false", "paymentStatus": "SUCCESS"})}
        if time_form == "iso":
            payment_info["paidTime"] = notify_time(order.paid_at)
        additional["paidTime"] = notify_time(order.paid_at, time_form)
        additional["paymentInfo"] = payment_info
    if latest_status == "05":
        additional["extendInfo"] = _compact({"closedReason": CLOSED_REASON})
        additional[CLOSED_REASON_KEY] = CLOSED_REASON
    body = {
        "originalPartnerReferenceNo": order.partner_reference_no,
        "originalReferenceNo": order.reference_no,
        "originalExternalId": getattr(order, "external_id", "") or None,
        "merchantId": order.merchant_id,
        "subMerchantId": request.get("subMerchantId"),
        "amount": amount,
        "latestTransactionStatus": latest_status,
        "transactionStatusDesc": STATUS_DESC.get(latest_status, latest_status),
        "createdTime": notify_time(order.created_at, time_form),
        "finishedTime": notify_time(finished_at, time_form),
        "externalStoreId": request.get("externalStoreId"),
        "additionalInfo": additional,
    }
    return {key: value for key, value in body.items() if value is not None}


def encode_body(body: dict) -> bytes:
    """DANA sends compact bodies (reference 3.9), so the signed and the sent bytes are the same."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_notification(dana_private_key: rsa.RSAPrivateKey, path: str, body: bytes,
                      timestamp: str | None = None, partner_id: str = "") -> dict[str, str]:
    """Headers as DANA sends them with a Finish Notify (reference 6.2)."""
    timestamp = timestamp or format_timestamp()
    path = path if path.startswith("/") else f"/{path}"
    signature = sign(dana_private_key, string_to_sign("POST", path, body, timestamp))
    external = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return {"Content-Type": "application/json", "Charset": "UTF-8",
            HEADER_NAMES["timestamp"]: timestamp, HEADER_NAMES["signature"]: signature,
            HEADER_NAMES["partner"]: partner_id, HEADER_NAMES["external"]: external,
            HEADER_NAMES["channel"]: "DANA"}


@dataclass(frozen=True)
class NotifyVerdict:
    valid: bool
    form: str | None      # "raw" or "repaired:<name>" when valid
    reason: str


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _reserialised(text: str) -> str | None:
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return None


# Repairs the SDK applies to bodies re-escaped by frameworks and proxies (reference 3.9 forms 1-11).
REPAIRS: tuple[tuple[str, Callable[[str], str | None]], ...] = (
    ("collapse-escaped-quotes", lambda t: t.replace('\\\\\\"', '\\"')),
    ("colon-space-quote", lambda t: t.replace(': \\"', ':\\"')),
    ("unescape-quotes", lambda t: t.replace('\\\\"', '"')),
    ("key-spaces", lambda t: re.sub(r'"([A-Za-z ]+)"\s*:',
                                    lambda m: '"' + m.group(1).replace(" ", "") + '":', t)),
    ("reserialised", _reserialised),
)


def verify_notification(public_key: rsa.RSAPublicKey, method: str, path: str,
                        headers: Mapping[str, str], body: bytes) -> NotifyVerdict:
    timestamp = _header(headers, "X-TIMESTAMP")
    signature = _header(headers, "X-SIGNATURE")
    if not timestamp:
        return NotifyVerdict(False, None, "X-TIMESTAMP header missing")
    if not signature:
        return NotifyVerdict(False, None, "X-SIGNATURE header missing")
    path = path if path.startswith("/") else f"/{path}"
    if verify(public_key, string_to_sign(method, path, body, timestamp), signature):
        return NotifyVerdict(True, "raw", "signature verifies over the received body")
    text = body.decode("utf-8", "replace")
    for name, repair in REPAIRS:
        candidate = repair(text)
        if candidate and candidate != text and verify(
                public_key, string_to_sign(method, path, candidate.encode("utf-8"), timestamp), signature):
            return NotifyVerdict(True, f"repaired:{name}",
                                 f"signature verifies only after the SDK repair '{name}'")
    return NotifyVerdict(False, None, f"signature does not verify for POST {path} at {timestamp}")


def _differences(expected: Mapping, received: object, prefix: str = "") -> list[tuple[str, object, object]]:
    out = []
    for key, want in expected.items():
        path = f"{prefix}.{key}" if prefix else key
        got = received.get(key) if isinstance(received, Mapping) else None
        if isinstance(want, Mapping) and len(want) == 1 and str(next(iter(want))).startswith("$"):
            continue                        # a matcher: checks.body grades it
        if isinstance(want, Mapping) and isinstance(got, Mapping):
            out += _differences(want, got, path)
        elif got != want:
            out.append((path, want, got))
    return out


def grade_notification(public_key: rsa.RSAPublicKey, path: str, headers: Mapping[str, str],
                       body: bytes, expected: dict | None = None) -> list[Finding]:
    """Findings about one received Finish Notify: signature, headers, body fields."""
    findings: list[Finding] = []
    verdict = verify_notification(public_key, "POST", path, headers, body)
    if not verdict.valid:
        findings.append(fail("signature", "X-SIGNATURE valid for DANA's public key", verdict.reason,
                             "DANA signs POST:<notify path>:<sha256(minified body)>:<X-TIMESTAMP>.",
                             where="Finish Notify"))
    elif verdict.form != "raw":
        findings.append(warn("signature", "verifies over the body as received", verdict.reason,
                             "Something between DANA and the handler re-escaped the body.",
                             where="Finish Notify"))
    timestamp = _header(headers, "X-TIMESTAMP")
    if timestamp and not is_timestamp(timestamp):
        findings.append(fail("X-TIMESTAMP", "YYYY-MM-DDTHH:mm:ss+07:00", timestamp, where="Finish Notify"))
    for name in ("X-PARTNER-ID", "X-EXTERNAL-ID"):
        if not _header(headers, name):
            findings.append(fail(name, "header present", None, where="Finish Notify"))
    if not _header(headers, "CHANNEL-ID"):
        findings.append(warn("CHANNEL-ID", "header present", None, where="Finish Notify"))
    content_type = _header(headers, "Content-Type") or ""
    if "application/json" not in content_type.lower():
        findings.append(fail("Content-Type", "application/json", content_type or None, where="Finish Notify"))
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        findings.append(fail("body", "a JSON object", f"unparsable ({exc})", where="Finish Notify"))
        return findings
    if not isinstance(parsed, dict):
        findings.append(fail("body", "a JSON object", type(parsed).__name__, where="Finish Notify"))
        return findings
    for name in REQUIRED_BODY_FIELDS:
        if parsed.get(name) in (None, ""):
            findings.append(fail(name, "mandatory field present", None, where="Finish Notify body"))
    for name in ("createdTime", "finishedTime"):
        value = parsed.get(name)
        if value not in (None, "") and not is_notify_time(value):
            findings.append(fail(name, "YYYY-MM-DDTHH:mm:ss+07:00 or epoch milliseconds", value,
                                 "DANA sends one of these two forms", where="Finish Notify body"))
    for path_, want, got in _differences(expected or {}, parsed):
        findings.append(fail(path_, want, got, where="Finish Notify body"))
    return findings
