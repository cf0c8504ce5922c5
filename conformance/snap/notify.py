"""Finish Notify as DANA sends it: the body of an order's notification, and its signed headers.

Pure protocol (no I/O): the sandbox signs deliveries with it, the suite's graders read its field list.
DANA signs ``POST:<path of the notify URL>:<hex sha256(minified body)>:<X-TIMESTAMP>`` with its gateway key.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.snap.signature import sign, string_to_sign
from conformance.snap.timestamps import format_timestamp, is_timestamp

# Header spellings observed in real deliveries ([doc-finish-notify]); receivers match case-insensitively.
HEADER_NAMES = {"timestamp": "X-Timestamp", "signature": "X-Signature", "partner": "X-Partner-Id",
                "external": "X-External-Id", "channel": "Channel-Id"}
STATUS_DESC = {"00": "SUCCESS", "05": "CLOSED", "06": "FAILED"}
REQUIRED_BODY_FIELDS = ("originalPartnerReferenceNo", "originalReferenceNo", "merchantId", "amount",
                        "latestTransactionStatus", "createdTime", "finishedTime")


# The closed reason of a 05 notify. DANA's fixture ([uat-fixtures] PaymentGateway.json "FinishNotify")
# carries it inside the additionalInfo.extendInfo JSON string; the SDK models (dana-python/-node/-go webhook
# FinishNotifyRequestAdditionalInfo) read a flat key "extendInfo.closedReason". Both are sent so every
# parser finds it (docs/sandbox.md, "The SDKs side by side").
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
    """The notification DANA posts for ``order`` ([doc-finish-notify]), shaped like DANA's real bodies.

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
    """DANA sends compact bodies ([sdk-webhook]), so the signed and the sent bytes are the same.

    A lone surrogate leaves as its JSON escape instead of failing the encoding (and the payment with it).
    """
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "backslashreplace")


def sign_notification(dana_private_key: rsa.RSAPrivateKey, path: str, body: bytes,
                      timestamp: str | None = None, partner_id: str = "") -> dict[str, str]:
    """Headers as DANA sends them with a Finish Notify ([doc-finish-notify])."""
    timestamp = timestamp or format_timestamp()
    path = path if path.startswith("/") else f"/{path}"
    signature = sign(dana_private_key, string_to_sign("POST", path, body, timestamp))
    external = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return {"Content-Type": "application/json", "Charset": "UTF-8",
            HEADER_NAMES["timestamp"]: timestamp, HEADER_NAMES["signature"]: signature,
            HEADER_NAMES["partner"]: partner_id, HEADER_NAMES["external"]: external,
            HEADER_NAMES["channel"]: "DANA"}
