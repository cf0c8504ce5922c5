"""X-EXTERNAL-ID is unique per merchant and Jakarta day: another request under a used id gets 409xx00
Conflict and changes nothing; a byte-identical replay is answered as the first (docs/sandbox.md,
"X-EXTERNAL-ID reuse"). Both cases over loopback HTTP, plus what must keep working: other merchants, the
next day, a forgery that must not burn the id, and the official SDK, which sends a fresh id per request."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from conformance.sandbox.server import SandboxServer
from conformance.snap import format_timestamp, generate_private_key, public_key_pem
from tests.sandbox import sdk
from tests.sandbox.conftest import HTTP, MERCHANT_ID, PARTNER_ID, Raw, payment_body, snap

CONFLICT = (409, "4095400", "Conflict")


def query(ref: str) -> dict:
    return {"originalPartnerReferenceNo": ref, "serviceCode": "54", "merchantId": MERCHANT_ID}


def test_a_different_payment_under_a_same_day_external_id_is_409_conflict_and_creates_no_order(raw):
    external = str(uuid.uuid4())
    first, second = payment_body(), payment_body()
    assert snap(raw.post("widget_payment", first, X_EXTERNAL_ID=external))[:2] == (200, "2005400")
    assert snap(raw.post("widget_payment", second, X_EXTERNAL_ID=external)) == CONFLICT
    assert raw.admin("GET", f"/orders/{second['partnerReferenceNo']}").status_code == 404   # nothing stored
    # another API under the same id is another request too
    assert snap(raw.post("query_payment", query(first["partnerReferenceNo"]), X_EXTERNAL_ID=external)) == \
        (409, "4095500", "Conflict")                                   # Query Payment's service code, 55
    # a fresh id goes through as usual
    assert snap(raw.post("widget_payment", second))[:2] == (200, "2005400")


def test_a_byte_identical_replay_is_answered_as_the_first(raw):
    external, data = str(uuid.uuid4()), json.dumps(payment_body()).encode()
    first = raw.post("widget_payment", None, raw=data, X_EXTERNAL_ID=external)   # re-signed: new timestamp
    again = raw.post("widget_payment", None, raw=data, X_EXTERNAL_ID=external)
    assert snap(first)[:2] == snap(again)[:2] == (200, "2005400")
    assert again.json()["referenceNo"] == first.json()["referenceNo"]
    headers = raw.headers("widget_payment", data, X_EXTERNAL_ID=external)   # and the very same bytes on the wire
    resent = [HTTP.post(raw.base_url + "/rest/redirection/v1.0/debit/payment-host-to-host", content=data,
                        headers=headers, timeout=10) for _ in range(2)]
    assert [r.json()["referenceNo"] for r in resent] == [first.json()["referenceNo"]] * 2
    # one byte more is another message
    assert snap(raw.post("widget_payment", None, raw=data + b" ", X_EXTERNAL_ID=external)) == CONFLICT


def test_a_forgery_does_not_burn_an_external_id_and_another_merchant_has_its_own(raw, sandbox_server):
    external = str(uuid.uuid4())
    forged = Raw(raw.base_url, generate_private_key())
    assert snap(forged.post("widget_payment", payment_body(), X_EXTERNAL_ID=external))[0] == 401
    assert snap(raw.post("widget_payment", payment_body(), X_EXTERNAL_ID=external))[:2] == (200, "2005400")
    key = generate_private_key()
    other = Raw(raw.base_url, key, partner_id="2025112100000000000409", merchant_id="216620000000000000409")
    sandbox_server.register_merchant(other.partner_id, other.merchant_id, public_key_pem(key))
    body = payment_body() | {"merchantId": other.merchant_id}
    assert snap(other.post("widget_payment", body, X_EXTERNAL_ID=external))[:2] == (200, "2005400")


def test_the_same_id_is_free_again_the_next_jakarta_day():
    key = generate_private_key()
    with SandboxServer() as server:        # its own clock: moving it must not touch the shared sandbox
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
        raw, external = Raw(server.base_url, key), str(uuid.uuid4())
        assert snap(raw.post("widget_payment", payment_body(), X_EXTERNAL_ID=external))[:2] == (200, "2005400")
        assert snap(raw.post("widget_payment", payment_body(), X_EXTERNAL_ID=external)) == CONFLICT
        assert raw.admin("POST", "/clock", {"partnerId": PARTNER_ID, "advanceSeconds": 86_400}).status_code == 200
        # the body's validUpTo follows the moved clock, as the suite's engine sends it
        later = server.sandbox.clock.now(PARTNER_ID) + timedelta(minutes=10)
        body = payment_body() | {"validUpTo": format_timestamp(later)}
        assert snap(raw.post("widget_payment", body, X_EXTERNAL_ID=external))[:2] == (200, "2005400")


def test_the_official_sdk_sends_a_fresh_id_per_request_and_never_meets_a_conflict(sandbox_server, raw):
    api = sdk.widget_api(sandbox_server.base_url, raw.key, PARTNER_ID)
    body = payment_body()
    answers = [api.widget_payment(sdk.payment_request(body)) for _ in range(3)]   # the same payment, retried
    assert {a.response_code for a in answers} == {"2005400"}
    assert len({a.reference_no for a in answers}) == 1
