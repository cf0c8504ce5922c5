"""Widget Payment through raw signed requests: pipeline order, magic amounts, idempotency."""

from __future__ import annotations

import json

import pytest

from tests.sandbox.conftest import payment_body, snap

PATH = "/rest/redirection/v1.0/debit/payment-host-to-host"


def test_payment_success_returns_checkout_url(raw):
    body = payment_body()
    response = raw.post("widget_payment", body)
    assert snap(response) == (200, "2005400", "Successful")
    answer = response.json()
    assert answer["partnerReferenceNo"] == body["partnerReferenceNo"]
    assert len(answer["referenceNo"]) == 35
    assert answer["webRedirectUrl"].startswith(f"{raw.base_url}/n/cashier/new/checkout?bizNo={answer['referenceNo']}")
    order = raw.admin("GET", f"/orders/{body['partnerReferenceNo']}").json()
    assert order["status"] == "INIT" and order["referenceNo"] == answer["referenceNo"]


def test_sdk_spaced_body_verifies(raw):
    """The SDK signs compact JSON but sends ", "/": " separators ([sdk-header])."""
    body = payment_body()
    compact = json.dumps(body, separators=(",", ":")).encode()
    spaced = json.dumps(body).encode()
    headers = raw.headers("widget_payment", compact)
    import httpx
    response = httpx.post(raw.base_url + PATH, content=spaced, headers=headers, trust_env=False)
    assert snap(response)[1] == "2005400"


@pytest.mark.parametrize("amount, code, message", [
    ("10000.0000", "4005401", "Invalid Field Format amount"),
    ("10000", "4005401", "Invalid Field Format amount"),
    ("21000000.00", "4035402", "Exceeds Transaction Amount Limit"),
    ("435415.00", "4035415", "Transaction Not Permitted"),
    ("445408.00", "4045408", "Invalid Merchant"),
    ("505400.00", "5005400", "General Error"),
    ("505401.00", "5005401", "Internal Server Error"),
])
def test_payment_magic_amounts(raw, amount, code, message):
    response = raw.post("widget_payment", payment_body(amount))
    assert snap(response) == (int(code[:3]), code, message)


def test_missing_timestamp_wins_over_bad_signature(raw):
    body = payment_body()
    response = raw.post("widget_payment", body, X_TIMESTAMP=None, X_SIGNATURE="85be817c55b2c135")
    assert snap(response) == (400, "4005402", "Invalid Mandatory Field X-TIMESTAMP")
    response = raw.post("widget_payment", body, X_TIMESTAMP="")
    assert snap(response)[1] == "4005402"


def test_malformed_timestamp(raw):
    response = raw.post("widget_payment", payment_body(), timestamp="2026-01-01 10:00:00+07:00")
    assert snap(response) == (400, "4005401", "Invalid Field Format X-TIMESTAMP")


@pytest.mark.parametrize("signature", ["85be817c55b2c135157c7e89f52499bf0c25ad6eeebe04a986e8c862561b19a5",
                                       "invalid_signature", "testing", "AAAA"])
def test_invalid_signature(raw, signature):
    response = raw.post("widget_payment", payment_body(), X_SIGNATURE=signature)
    assert snap(response) == (401, "4015400", "Unauthorized. Invalid Signature")


def test_unknown_partner(raw):
    response = raw.post("widget_payment", payment_body(), X_PARTNER_ID="nobody")
    assert snap(response) == (401, "4015400", "Unauthorized. Unknown Client")


def test_idempotent_and_inconsistent(raw):
    body = payment_body()
    first = raw.post("widget_payment", body).json()
    again = raw.post("widget_payment", body).json()
    assert again["responseCode"] == "2005400" and again["referenceNo"] == first["referenceNo"]
    changed = {**body, "amount": {"value": "10000.00", "currency": "IDR"}}
    assert snap(raw.post("widget_payment", changed)) == (404, "4045418", "Inconsistent Request")


def test_paying_magic_amount_creates_paying_order(raw):
    body = payment_body("205502.00")
    assert snap(raw.post("widget_payment", body))[1] == "2005400"
    assert raw.admin("GET", f"/orders/{body['partnerReferenceNo']}").json()["status"] == "PAYING"


@pytest.mark.parametrize("minutes", [-1, 45])
def test_valid_up_to_bounds(raw, minutes):
    response = raw.post("widget_payment", payment_body(minutes=minutes))
    assert snap(response) == (400, "4005401", "Invalid Field Format validUpTo")


def test_wrong_merchant_id(raw):
    body = {**payment_body(), "merchantId": "999"}
    assert snap(raw.post("widget_payment", body)) == (404, "4045408", "Invalid Merchant")


@pytest.mark.parametrize("data", [b"", b"not json", b"\xff\xfe\x00", b"[1,2]", b'"x"', b"{" * 5000])
def test_unparsable_bodies_are_bad_request(raw, data):
    assert snap(raw.post("widget_payment", None, raw=data)) == (400, "4005400", "Bad Request")


def test_missing_mandatory_field(raw):
    body = payment_body()
    del body["additionalInfo"]["productCode"]
    assert snap(raw.post("widget_payment", body)) == (400, "4005402",
                                                      "Invalid Mandatory Field additionalInfo.productCode")
