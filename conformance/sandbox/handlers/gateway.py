"""Payment Gateway create order, API scenario (docs/sandbox.md "Payment Gateway and sandbox-tools").

Enough of it for DANA's three mandatory Finish Notify scripts (dana-id/uat-script
test/python/payment_gateway/finish_notify_test.py and its Go, Node, Java and PHP twins): they create an
order with one VIRTUAL_ACCOUNT pay option, read ``additionalInfo.paymentCode`` from the answer, and pay it
through DANA's sandbox-tools (conformance/sandbox/sandbox_tools.py), after which DANA posts the Finish
Notify to the order's NOTIFICATION url; the third script lets the order expire instead.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from conformance.sandbox.handlers.payments import _check_merchant, _checkout_url, _expiry, _fingerprint
from conformance.sandbox.pipeline import Call
from conformance.sandbox.store import InconsistentRequest, Order
from conformance.snap.orders import OrderStatus
from conformance.snap.timestamps import parse_timestamp

# dana-python create_order_by_api_request.py: validUpTo "cannot be more than one week in the future".
VALID_UP_TO_MAX = timedelta(days=7)
# Virtual-account number prefixes per bank option: a fixed sandbox prefix, then 12 random digits. The real
# numbers are bank-specific and not documented; any digits the sandbox can find again serve the scripts.
VA_PREFIX = {"VIRTUAL_ACCOUNT_BCA": "3901", "VIRTUAL_ACCOUNT_BNI": "8558", "VIRTUAL_ACCOUNT_MANDIRI": "8960",
             "VIRTUAL_ACCOUNT_BRI": "2612", "VIRTUAL_ACCOUNT_CIMB": "5919", "VIRTUAL_ACCOUNT_PERMATA": "8625",
             "VIRTUAL_ACCOUNT_BTPN": "8029", "VIRTUAL_ACCOUNT_BSI_PAYMENT": "9347", "VIRTUAL_ACCOUNT_PANI": "9213"}


def create_order(sandbox, call: Call):
    body = call.body
    _check_merchant(call)
    if body["amount"]["currency"] != "IDR":
        raise call.reject(400, "01", field="amount")
    options = body["payOptionDetails"]
    if len(options) != 1:
        # The scripts send exactly one; which of several DANA would take is not documented.
        raise call.reject(400, "01", field="payOptionDetails")
    option = options[0]
    virtual_account = option["payMethod"] == "VIRTUAL_ACCOUNT"
    if virtual_account and option["payOption"] not in VA_PREFIX:
        raise call.reject(400, "01", field="payOption")
    try:
        valid_up_to = parse_timestamp(body["validUpTo"])
    except ValueError:
        raise call.reject(400, "01", field="validUpTo") from None
    expires_at = _expiry(sandbox.clock.of(call.merchant.partner_id), valid_up_to, VALID_UP_TO_MAX)
    if expires_at is None:
        raise call.reject(400, "01", field="validUpTo")
    urls = {p.get("type"): p.get("url") for p in body["urlParams"]}
    order_info = body["additionalInfo"].get("order") or {}
    code = VA_PREFIX[option["payOption"]] + f"{secrets.randbelow(10**12):012d}" if virtual_account else None
    order = Order(
        reference_no=sandbox.store.new_reference(), partner_reference_no=body["partnerReferenceNo"],
        merchant_id=body["merchantId"], partner_id=call.merchant.partner_id,
        amount_value=body["amount"]["value"], currency="IDR", status=OrderStatus.INIT, valid_up_to=valid_up_to,
        title=str(order_info.get("orderTitle") or "")[:64], pay_return_url=urls.get("PAY_RETURN"),
        notify_url=urls.get("NOTIFICATION"), created_at=sandbox.clock.now(call.merchant.partner_id), expires_at=expires_at,
        fingerprint=_fingerprint(body, ("validUpTo",)), request=body,
        external_id=call.headers.get("x-external-id", ""), pay_option=option["payOption"] or option["payMethod"],
        payment_code=code)
    try:
        order, created = sandbox.store.put_order(order)
    except InconsistentRequest:
        raise call.reject(404, "18") from None                     # Inconsistent Request
    if created:
        sandbox.order_created(order)
    if order.payment_code:
        # CreateOrderResponse: webRedirectUrl is absent for Virtual Account, paymentCode present.
        return call.ok(referenceNo=order.reference_no, partnerReferenceNo=order.partner_reference_no,
                       additionalInfo={"paymentCode": order.payment_code})
    return call.ok(referenceNo=order.reference_no, partnerReferenceNo=order.partner_reference_no,
                   webRedirectUrl=_checkout_url(sandbox, call, order), additionalInfo={})
