"""The admin API signs a Finish Notify as DANA on request: for an order or a body, delivered or returned.

Merchant-mode and the `notify: {mode: send}` step use it, so the suite never holds DANA's key. The
suite's real loopback CallbackReceiver plays the merchant; the signature is checked with the sandbox's
DANA public key as published by /sandbox-admin/info.
"""

from __future__ import annotations

import json

import pytest

from conformance.client.receiver import CallbackReceiver
from conformance.client.webhook import verify_notification
from conformance.snap.keys import load_public_key
from tests.sandbox.conftest import payment_body, snap

STALE = "2020-01-01T00:00:00+07:00"


@pytest.fixture(scope="module")
def receiver():
    with CallbackReceiver() as merchant:
        yield merchant


@pytest.fixture(scope="module")
def dana_key(raw):
    return load_public_key(raw.admin("GET", "/info").json()["danaPublicKey"])


def order(raw, receiver, amount: str) -> dict:
    body = payment_body(amount, notify_url=receiver.notify_url)
    answer = raw.post("widget_payment", body)
    assert snap(answer)[1] == "2005400"
    return {**body, "referenceNo": answer.json()["referenceNo"]}


def send(raw, **request) -> dict:
    answer = raw.admin("POST", "/notifications/send", request)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_orders_notification_is_signed_and_delivered_once(raw, receiver, dana_key):
    created = order(raw, receiver, "23456.00")
    ref = created["partnerReferenceNo"]
    sent = send(raw, partnerReferenceNo=ref, status="00")
    assert sent["answer"]["status"] == 200 and json.loads(sent["answer"]["body"])["responseCode"] == "2005600"
    [received] = receiver.notifications(ref)
    body = json.loads(received.body)
    assert (body["originalReferenceNo"], body["amount"]) == (created["referenceNo"],
                                                             {"currency": "IDR", "value": "23456.00"})
    assert body["latestTransactionStatus"] == "00" and received.body.decode() == sent["request"]["body"]
    assert verify_notification(dana_key, "POST", "/v1.0/debit/notify", received.headers, received.body).valid
    # an admin send is the caller's to grade: not one of the order's own deliveries
    assert raw.admin("GET", f"/notifications?partnerReferenceNo={ref}").json() == []


def test_deliver_false_returns_the_signed_request_with_the_timestamp_asked_for(raw, receiver, dana_key):
    ref = order(raw, receiver, "34567.00")["partnerReferenceNo"]
    sent = send(raw, partnerReferenceNo=ref, status="05", timestamp=STALE, deliver=False)
    assert sent["answer"] is None and receiver.notifications(ref) == []
    request = sent["request"]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-timestamp"] == STALE and json.loads(request["body"])["latestTransactionStatus"] == "05"
    assert verify_notification(dana_key, "POST", "/v1.0/debit/notify", request["headers"],
                               request["body"].encode()).valid


def test_a_given_body_is_signed_as_given(raw, receiver, dana_key):
    body = {"originalPartnerReferenceNo": "forged-1", "amount": {"value": "1.00", "currency": "IDR"}}
    sent = send(raw, body=body, url=receiver.notify_url, partnerId="P1", deliver=False)
    assert json.loads(sent["request"]["body"]) == body
    assert {k.lower(): v for k, v in sent["request"]["headers"].items()}["x-partner-id"] == "P1"
    assert verify_notification(dana_key, "POST", "/v1.0/debit/notify", sent["request"]["headers"],
                               sent["request"]["body"].encode()).valid


@pytest.mark.parametrize("request_body, status, error", [
    ({"partnerReferenceNo": "no-such-order"}, 404, "no order"),
    ({}, 400, "partnerReferenceNo (an order) or body"),
    ({"body": {"a": 1}}, 400, "url: an http(s) URL"),
    ({"body": [1]}, 400, "body: a JSON object"),
    ({"body": {"a": 1}, "url": "http://127.0.0.1:9/", "deliver": "no"}, 400, "deliver: true or false"),
    ({"body": {"a": 1}, "url": "http://127.0.0.1:9/", "timestamp": 5}, 400, "timestamp: a string"),
])
def test_bad_requests_are_told_why(raw, request_body, status, error):
    answer = raw.admin("POST", "/notifications/send", request_body)
    assert answer.status_code == status and error in answer.json()["error"]
