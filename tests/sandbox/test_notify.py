"""Finish Notify: signed deliveries to the order's NOTIFICATION url, bounded retries, expiry by clock.

The merchant side is the suite's real loopback CallbackReceiver; the official SDK's WebhookParser
verifies what the sandbox signed (with DANA_ENV=production, since in sandbox mode it only trusts
DANA's real key, [sdk-webhook]).
"""

from __future__ import annotations

import json

import pytest
from dana.webhook import WebhookParser

from conformance.client.receiver import CallbackReceiver
from conformance.client.webhook import grade_notification, verify_notification
from conformance.config.settings import DANA_SANDBOX_PUBLIC_KEY
from conformance.sandbox.notifier import MAX_ATTEMPTS
from conformance.snap.keys import load_public_key
from tests.sandbox.conftest import payment_body, snap

FAILURE_ANSWER = {"responseCode": "5005601", "responseMessage": "Internal Server Error"}


@pytest.fixture(scope="module")
def receiver():
    with CallbackReceiver() as merchant:
        yield merchant


def create(raw, receiver, amount: str, minutes: int = 15) -> str:
    body = payment_body(amount, notify_url=receiver.notify_url, minutes=minutes)
    assert snap(raw.post("widget_payment", body))[1] == "2005400"
    return body["partnerReferenceNo"]


def wait(raw, ref: str, count: int = 1) -> list[dict]:
    return raw.admin("POST", "/notifications/wait",
                     {"partnerReferenceNo": ref, "count": count, "timeoutSeconds": 20}).json()


def test_paid_order_notifies_00_signed_with_the_sandbox_key(raw, receiver, sandbox_server, monkeypatch):
    ref = create(raw, receiver, "11011.00")
    assert raw.admin("POST", f"/orders/{ref}/pay", {"phone": "083811223355"}).status_code == 200
    [delivery] = wait(raw, ref)
    assert delivery["state"] == "delivered" and delivery["latestTransactionStatus"] == "00"
    assert [a["status"] for a in delivery["attempts"]] == [200]
    assert '"2005600"' in delivery["attempts"][0]["body"]
    [received] = receiver.notifications(ref)
    public_key = load_public_key(sandbox_server.dana_public_key_pem)
    verdict = verify_notification(public_key, "POST", "/v1.0/debit/notify", received.headers, received.body)
    assert (verdict.valid, verdict.form) == (True, "raw")
    assert grade_notification(public_key, "/v1.0/debit/notify", received.headers, received.body) == []
    body = json.loads(received.body)
    assert (body["originalPartnerReferenceNo"], body["latestTransactionStatus"], body["amount"]) == (
        ref, "00", {"value": "11011.00", "currency": "IDR"})
    # DANA's real key must not verify what this sandbox signed.
    assert not verify_notification(load_public_key(DANA_SANDBOX_PUBLIC_KEY), "POST", "/v1.0/debit/notify",
                                   received.headers, received.body).valid
    monkeypatch.setenv("DANA_ENV", "production")
    parsed = WebhookParser(public_key=sandbox_server.dana_public_key_pem).parse_webhook(
        "POST", "/v1.0/debit/notify", dict(received.headers), received.body.decode())
    assert parsed.original_partner_reference_no == ref and parsed.latest_transaction_status == "00"


def test_failure_answer_is_retried_with_a_bound_and_recorded(raw, receiver):
    ref = create(raw, receiver, "11012.00")
    receiver.set_notify_answer(ref, 500, FAILURE_ANSWER)
    raw.admin("POST", f"/orders/{ref}/pay", {})
    [delivery] = wait(raw, ref)
    assert delivery["state"] == "failed"
    assert len(delivery["attempts"]) == MAX_ATTEMPTS
    assert all(a["status"] == 500 and "5005601" in a["body"] for a in delivery["attempts"])
    assert len(receiver.notifications(ref)) == MAX_ATTEMPTS
    listed = raw.admin("GET", f"/notifications?partnerReferenceNo={ref}").json()
    assert listed == [delivery]


def test_expiry_by_clock_notifies_05(raw, receiver):
    ref = create(raw, receiver, "11013.00", minutes=3)
    raw.admin("POST", "/clock", {"partnerId": raw.partner_id, "advanceSeconds": 181})
    [delivery] = wait(raw, ref)
    assert delivery["state"] == "delivered" and delivery["latestTransactionStatus"] == "05"
    order = raw.admin("GET", f"/orders/{ref}").json()
    assert order["status"] == "CLOSED"
    paid = raw.admin("POST", f"/orders/{ref}/pay", {})
    assert paid.status_code == 409 and paid.json()["error"] == "order expired"


def test_no_notification_url_no_delivery(raw, sandbox_server):
    body = payment_body("1.00")
    raw.post("widget_payment", body)
    raw.admin("POST", f"/orders/{body['partnerReferenceNo']}/pay", {})
    assert raw.admin("GET", f"/notifications?partnerReferenceNo={body['partnerReferenceNo']}").json() == []


def test_unreachable_receiver_is_recorded_as_errors(raw, sandbox_server):
    body = payment_body("1.00", notify_url="http://127.0.0.1:9/v1.0/debit/notify")
    raw.post("widget_payment", body)
    raw.admin("POST", f"/orders/{body['partnerReferenceNo']}/pay", {})
    [delivery] = wait(raw, body["partnerReferenceNo"])
    assert delivery["state"] == "failed"
    assert all(a["status"] is None and a["error"] for a in delivery["attempts"])


def test_known_answer_vector_of_dana_sandbox():
    """[sdk-webhook]: a real notification signed by DANA's sandbox key."""
    body = (b'{"amount":{"currency":"IDR","value":"50000.00"},"originalReferenceNo":"20251010111230999500166931000229476",'
            b'"merchantId":"216620090016041032029","latestTransactionStatus":"00","additionalInfo":{"paidTime":'
            b'"2025-10-10T16:16:33+07:00","paymentInfo":{"payOptionInfos":[{"transAmount":{"currency":"IDR","value":'
            b'"50000.00"},"payAmount":{"currency":"IDR","value":"50000.00"},"payMethod":"VIRTUAL_ACCOUNT","payOption":'
            b'"VIRTUAL_ACCOUNT_BRI"}],"extendInfo":"{\\"externalPromoInfos\\":[]}"}},"originalPartnerReferenceNo":'
            b'"ORDER-1760087736146","createdTime":"2025-10-10T16:15:37+07:00","finishedTime":"2025-10-10T16:16:33+07:00",'
            b'"transactionStatusDesc":"SUCCESS"}')
    headers = {"X-TIMESTAMP": "2025-10-13T13:43:30+07:00", "X-SIGNATURE": (
        "fqrQPxlzEN4ZGW9vYt3PokmIrbG2HQtlbdj6krjf9HFW1qS3ilZjSR+9Z4XZNYxQIxyHHqXmjEiBU4ui/JrknSXlCpPQe7DztB/Ye+yLx"
        "IHYBnwdeCXn2zGGAV51nQki+eD2aL8Z6d6MyWz9hoytwE+jtWKUC0KtU7wQfoB0XjdEXzU3/4Ao/rWQbt97UONaaf7i5l3+M/ICP187PY"
        "w9iRHLUFh7WRPs8JKpZyO0kcJqEJbeOUjHMmIsLQImOlYVbQTM/1v89Ou1WcVAo0cXNE5yrvosB4pQROeI8KY2X1FNTuB1pdFtQTIyUcd"
        "/t1wuIxqHqqFKjrFdcQxlZOIyRg==")}
    key = load_public_key(DANA_SANDBOX_PUBLIC_KEY)
    path = "/d34021fa-7599-413b-8743-ddab605fea49"
    assert verify_notification(key, "POST", path, headers, body).form == "raw"
    assert not verify_notification(key, "POST", path, headers, body.replace(b"50000.00", b"50001.00")).valid
    assert not verify_notification(key, "POST", "/other", headers, body).valid
    assert verify_notification(key, "POST", path, {"X-TIMESTAMP": headers["X-TIMESTAMP"]}, body).reason == \
        "X-SIGNATURE header missing"


def test_repaired_form_is_reported_separately(sandbox_server):
    from conformance.snap.signature import sign, string_to_sign
    key = sandbox_server.sandbox.dana_private_key
    signed = '{"remark":"caf\u00e9"}'.encode()                 # DANA signs the bytes it sends
    received = b'{"remark":"caf\\u00e9"}'                         # a proxy re-escaped them
    ts = "2026-01-01T10:00:00+07:00"
    headers = {"X-TIMESTAMP": ts, "X-SIGNATURE": sign(key, string_to_sign("POST", "/n", signed, ts))}
    verdict = verify_notification(key.public_key(), "POST", "/n", headers, received)
    assert verdict.valid and verdict.form == "repaired:reserialised"
    findings = grade_notification(key.public_key(), "/n", headers, received)
    assert any(f.check == "signature" and f.severity == "WARN" for f in findings)
