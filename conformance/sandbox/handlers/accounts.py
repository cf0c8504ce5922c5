"""Binding handlers: Apply Token, Apply OTT, Balance Inquiry, Account Unbinding, Transaction History.

The customer token travels in ``additionalInfo.accessToken`` (and, from the SDKs, also as
``Authorization-Customer: Bearer …``); the body wins, the header is the fallback. A token knows its
user; special users (magic.yaml ``roles``) get their documented error on each API.
"""

from __future__ import annotations

from datetime import datetime

from conformance.sandbox.pipeline import Call, Reject
from conformance.sandbox.store import Binding
from conformance.snap.schemas import GRANT_FIELD
from conformance.snap.orders import HISTORY_STATUS
from conformance.snap.timestamps import JAKARTA, format_timestamp


def apply_token(sandbox, call: Call):
    body, store = call.body, sandbox.store
    grant = body["grantType"]
    needed = GRANT_FIELD[grant]
    if not body.get(needed):
        raise call.reject(400, "02", field=needed)
    partner_id = call.merchant.partner_id
    if grant == "AUTHORIZATION_CODE":
        status, record = store.consume_auth_code(body["authCode"], partner_id)   # atomic, once
        if status != "ok":
            reason = {"unknown": "Invalid Auth Code", "used": "Auth Code Used",
                      "expired": "Auth Code Expired"}[status]
            raise call.reject(401, "00", reason=reason)
        binding = store.issue_binding(partner_id, record.phone, record.scopes)
    else:
        binding = store.refresh_binding(body["refreshToken"], partner_id)
        if binding is None:
            # Choice (docs/sandbox.md): an unknown or revoked refresh token is answered like an
            # unusable auth code, 4017400 with its own reason.
            raise call.reject(401, "00", reason="Invalid Refresh Token")
    extra = {"tokenType": "Bearer", "accessToken": binding.access_token,
             "accessTokenExpiryTime": format_timestamp(binding.access_expires),
             "refreshToken": binding.refresh_token,
             "refreshTokenExpiryTime": format_timestamp(binding.refresh_expires), "additionalInfo": {}}
    if "PUBLIC_ID" in binding.scopes:
        extra["additionalInfo"] = {"userInfo": {"publicUserId": binding.public_user_id}}
    return call.ok(**extra)


def customer(sandbox, call: Call) -> Binding:
    """The live binding of the customer token, after the role rules of its user."""
    info = call.body.get("additionalInfo") or {}
    token = info.get("accessToken")
    if not token:
        header = call.headers.get("authorization-customer") or ""
        token = header[7:].strip() if header.lower().startswith("bearer ") else header.strip()
    binding = sandbox.store.find_binding(token, call.merchant.partner_id)
    if binding is None:
        raise call.reject(401, "02")                               # Invalid Customer Token
    user = sandbox.store.find_user(binding.phone)
    outcome = sandbox.rules.role_outcome(user.role if user else "normal", call.api.name)
    if outcome and outcome.code:
        raise Reject(outcome.response())
    return binding


def apply_ott(sandbox, call: Call):
    binding = customer(sandbox, call)
    ott = sandbox.store.issue_ott(binding.partner_id, binding.phone)
    return call.ok(userResources=[{"resourceType": "OTT", "value": ott}], additionalInfo={})


def balance_inquiry(sandbox, call: Call):
    binding = customer(sandbox, call)
    user = sandbox.store.find_user(binding.phone)
    money = {"value": f"{sandbox.store.balance_of(binding.phone):.2f}", "currency": "IDR"}
    wanted = call.body.get("balanceTypes") or ["BALANCE"]
    accounts = [{"balanceType": kind, "amount": money, "availableBalance": money,
                 "holdAmount": {"value": "0.00", "currency": "IDR"}, "status": "1"}
                for kind in wanted if kind == "BALANCE"]
    return call.ok(referenceNo=sandbox.store.new_reference(),
                   partnerReferenceNo=call.body.get("partnerReferenceNo"),
                   name=user.name if user else "", accountInfos=accounts, additionalInfo={})


def account_unbinding(sandbox, call: Call):
    if call.body.get("merchantId") != call.merchant.merchant_id:
        raise call.reject(404, "08")                               # Invalid Merchant
    binding = customer(sandbox, call)
    sandbox.store.revoke(binding)
    return call.ok(referenceNo=sandbox.store.new_reference(),
                   partnerReferenceNo=call.body.get("partnerReferenceNo"),
                   merchantId=call.merchant.merchant_id, unlinkResult="SUCCESS", additionalInfo={})


def _read_time(value: str) -> datetime | None:
    """``+07:00`` SNAP times, and the ``Z`` form of DANA's fixture ([doc-history])."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=JAKARTA)


def _history_row(kind: str, item) -> tuple[datetime, dict]:
    if kind == "PAYMENT":
        order, moment, amount = item, item.paid_at or item.created_at, item.amount
        status = HISTORY_STATUS.get(order.status, "INIT")
        remark, ids = order.title, {"referenceNo": order.reference_no,
                                    "partnerReferenceNo": order.partner_reference_no}
    else:
        order, moment, status = item.order, item.created_at, item.status
        amount = {"value": item.amount_value, "currency": item.currency}
        remark, ids = f"Refund {order.title}", {"refundNo": item.refund_no,
                                                "partnerRefundNo": item.partner_refund_no,
                                                "partnerReferenceNo": order.partner_reference_no}
    return moment, {"dateTime": format_timestamp(moment), "amount": amount, "remark": remark[:256],
                    "sourceOfFunds": [{"source": "BALANCE", "amount": amount}], "status": status,
                    "type": kind, "additionalInfo": ids}


def transaction_history_list(sandbox, call: Call):
    """SNAP Transaction History List over this user's payments and refunds (docs/sandbox.md)."""
    binding = customer(sandbox, call)
    body = call.body
    start, end = _read_time(body["fromDateTime"]), _read_time(body["toDateTime"])
    if start is None:
        raise call.reject(400, "01", field="fromDateTime")
    if end is None or end < start:
        raise call.reject(400, "01", field="toDateTime")
    size, number = int(body.get("pageSize") or 10), int(body.get("pageNumber") or 1)
    if not 1 <= size <= 100:
        raise call.reject(400, "01", field="pageSize")
    if number < 1:
        raise call.reject(400, "01", field="pageNumber")
    info = body["additionalInfo"]
    types, statuses = set(info.get("types") or []), set(info.get("statuses") or [])
    rows = sorted((_history_row(kind, item) for kind, item in sandbox.store.history(
        binding.partner_id, binding.phone)), key=lambda r: r[0], reverse=True)
    rows = [row for moment, row in rows if start <= moment <= end
            and (not types or row["type"] in types) and (not statuses or row["status"] in statuses)]
    page = rows[(number - 1) * size: number * size]
    if not page:
        # Choice (docs/sandbox.md): SNAP 404xx01 "Transaction Not Found" for an empty result,
        # the counterpart of the UAT fixture's "Data Not Available".
        raise call.reject(404, "01")
    return call.ok(referenceNo=sandbox.store.new_reference(),
                   partnerReferenceNo=body.get("partnerReferenceNo"), detailData=page,
                   additionalInfo={"totalData": str(len(rows)), "pageNumber": str(number),
                                   "pageSize": str(size)})
