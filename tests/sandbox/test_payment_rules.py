"""Query Payment and Refund rules (conformance/sandbox/handlers/payments.py), one focused test each, over
real loopback HTTP: what a merchant's reconciliation reads back must be the order as it stands.

A partner of its own, new each time the module's fixtures are set up, so the orders and refunds here are
this module's only.
"""

from __future__ import annotations

import re
import secrets
import uuid

import pytest

from conformance.snap import generate_private_key, public_key_pem
from tests.sandbox.conftest import Raw, payment_body, snap

PHONE = "083811223355"
JAKARTA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")


@pytest.fixture(scope="module")
def raw(sandbox_server) -> Raw:
    key, digits = generate_private_key(), f"{secrets.randbelow(10**12):012d}"
    partner_id, merchant_id = "2025112100" + digits, "216620000" + digits
    sandbox_server.register_merchant(partner_id, merchant_id, public_key_pem(key))
    return Raw(sandbox_server.base_url, key, partner_id, merchant_id)


def order(raw: Raw, amount: str = "10.00", *, paid: bool = True) -> str:
    body = payment_body(amount) | {"merchantId": raw.merchant_id}
    assert snap(raw.post("widget_payment", body))[1] == "2005400"
    if paid:
        assert raw.admin("POST", f"/orders/{body['partnerReferenceNo']}/pay", {"phone": PHONE}).status_code == 200
    return body["partnerReferenceNo"]


def query(raw: Raw, ref: str) -> dict:
    response = raw.post("query_payment", {"originalPartnerReferenceNo": ref, "merchantId": raw.merchant_id,
                                          "serviceCode": "54"})
    assert snap(response)[:2] == (200, "2005500")
    return response.json()


def refund(raw: Raw, ref: str, value: str, currency: str = "IDR"):
    return raw.post("refund_order", {"originalPartnerReferenceNo": ref, "merchantId": raw.merchant_id,
                                     "partnerRefundNo": str(uuid.uuid4()), "reason": "Customer complain",
                                     "refundAmount": {"value": value, "currency": currency}})


def test_rule_a_paid_orders_query_gives_its_amount_paid_time_and_amount_detail(raw):
    answer = query(raw, order(raw, "10.00"))
    ten = {"value": "10.00", "currency": "IDR"}
    assert (answer["amount"], answer["transAmount"]) == (ten, ten), "rule: the query gives the order's amount"
    assert JAKARTA_TIME.match(answer["paidTime"] or ""), "rule: a paid order says when it was paid"
    info = answer["additionalInfo"]
    assert info["amountDetail"] == {"orderAmount": ten, "payAmount": ten}, \
        "rule: amountDetail lists what was ordered and paid, and no refund before one is made"
    assert info["statusDetail"] == {"acquirementStatus": "SUCCESS", "frozen": "false", "cancelled": "false"}
    assert JAKARTA_TIME.match(info["timeDetail"]["paidTimes"][0])


def test_rule_an_unpaid_orders_query_has_no_paid_time_and_no_pay_amount(raw):
    answer = query(raw, order(raw, paid=False))
    assert answer.get("paidTime") is None, "rule: an order not paid has no paid time"
    assert "payAmount" not in answer["additionalInfo"]["amountDetail"]
    assert "paidTimes" not in answer["additionalInfo"]["timeDetail"]


def test_rule_a_refunded_orders_query_gives_the_refunded_total(raw):
    ref = order(raw, "10.00")
    assert snap(refund(raw, ref, "3.00"))[:2] == (200, "2005800")
    assert snap(refund(raw, ref, "2.00"))[:2] == (200, "2005800")
    detail = query(raw, ref)["additionalInfo"]["amountDetail"]
    assert detail["refundAmount"] == {"value": "5.00", "currency": "IDR"}, "rule: refunds add up on the order"


def test_rule_a_cancelled_orders_query_says_cancelled(raw):
    ref = order(raw, paid=False)
    cancelled = raw.post("cancel_order", {"originalPartnerReferenceNo": ref, "merchantId": raw.merchant_id,
                                          "reason": "cancel"})
    assert snap(cancelled)[:2] == (200, "2005700")
    info = query(raw, ref)["additionalInfo"]
    assert info["statusDetail"]["cancelled"] == "true" and JAKARTA_TIME.match(info["timeDetail"]["cancelledTime"])


def test_rule_a_refund_in_another_currency_is_invalid_field_format(raw):
    status, code, message = snap(refund(raw, order(raw), "1.00", "USD"))
    assert (status, code) == (400, "4005801") and message.endswith("refundAmount"), \
        f"rule: a refund not in IDR is refused naming refundAmount: {code} {message}"


def test_rule_a_refund_answer_gives_its_amount_in_idr_and_when(raw):
    answer = refund(raw, order(raw), "1.50").json()
    assert answer["refundAmount"] == {"value": "1.50", "currency": "IDR"}, "rule: the refund's amount, in IDR"
    assert JAKARTA_TIME.match(answer["refundTime"]) and answer["refundNo"]


def test_rule_an_order_keeps_its_return_and_notification_urls(raw, sandbox_server):
    body = payment_body(notify_url="https://merchant.example/notify") | {"merchantId": raw.merchant_id}
    assert snap(raw.post("widget_payment", body))[:2] == (200, "2005400")
    order = sandbox_server.sandbox.store.find_order(raw.merchant_id, body["partnerReferenceNo"])
    assert (order.pay_return_url, order.notify_url) == ("https://merchant.example/return",
                                                        "https://merchant.example/notify"), \
        "rule: DANA returns the payer to PAY_RETURN and posts Finish Notify to NOTIFICATION"


@pytest.mark.parametrize("valid_up_to", ["2030-05-01 00:46:43", "2030-13-45T00:46:43+07:00"],
                         ids=["format", "no-such-day"])
def test_rule_a_payment_with_an_unreadable_validUpTo_is_invalid_field_format(raw, valid_up_to):
    body = payment_body() | {"merchantId": raw.merchant_id, "validUpTo": valid_up_to}
    status, code, message = snap(raw.post("widget_payment", body))
    assert (status, code) == (400, "4005401") and message.endswith("validUpTo"), \
        f"rule: a validUpTo not in SNAP's format is refused naming it: {code} {message}"


def test_rule_a_payment_without_an_order_created_time_is_created_and_retried_idempotently(raw):
    body = payment_body() | {"merchantId": raw.merchant_id}
    del body["additionalInfo"]["order"]["createdTime"]
    first = raw.post("widget_payment", body)
    assert snap(first)[:2] == (200, "2005400"), "rule: createdTime is optional; its absence breaks nothing"
    assert raw.post("widget_payment", body).json()["referenceNo"] == first.json()["referenceNo"]
