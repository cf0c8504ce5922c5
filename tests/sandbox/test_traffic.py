"""The traffic journal grades what a merchant's backend sends: each check fires on its mistake and
stays PASS on correct requests from the official dana-python SDK, read over GET /sandbox-admin/traffic.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from conformance.sandbox.journal import live_line, secret_digest
from conformance.snap import format_timestamp, generate_private_key, public_key_pem, sign
from conformance.snap.timestamps import now as jakarta_now
from tests.sandbox import sdk
from tests.sandbox.conftest import HTTP, Raw, payment_body

PAYMENT = "/rest/redirection/v1.0/debit/payment-host-to-host"
NOTIFY = "https://merchant.example/notify"
# A partner of its own: other modules' traffic on the shared sandbox never lands in these filters.
PARTNER_ID, MERCHANT_ID = "2025112100000000000042", "216620000000000000042"


@pytest.fixture(scope="module")
def raw(sandbox_server) -> Raw:
    key = generate_private_key()
    sandbox_server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
    return Raw(sandbox_server.base_url, key, PARTNER_ID, MERCHANT_ID)


def traffic(raw: Raw, **params) -> dict:
    response = raw.admin("GET", "/traffic?" + "&".join(f"{k}={v}" for k, v in params.items()))
    assert response.status_code == 200, response.text
    return response.json()


def journalled(raw: Raw, action) -> list[dict]:
    """The entries of this partner that ``action()`` caused."""
    since = traffic(raw)["last"]
    action()
    return traffic(raw, since=since, partnerId=PARTNER_ID)["entries"]


def verdict(entry: dict, check: str) -> dict:
    found = [c for c in entry["checks"] if c["check"] == check]
    assert found, f"no {check} verdict in {entry['checks']}"
    return found[0]


def good_payment() -> dict:
    return payment_body(notify_url=NOTIFY, minutes=10) | {"merchantId": MERCHANT_ID}


def resign(raw: Raw, data: bytes, message: str, key=None, **headers) -> dict:
    """Headers of a correct request, then an X-SIGNATURE over ``message`` (a merchant's mistake)."""
    built = raw.headers("widget_payment", data, **headers)
    stamp = built["X-TIMESTAMP"]
    built["X-SIGNATURE"] = sign(key or raw.key, message.replace("{ts}", stamp))
    return built


def post(raw: Raw, data: bytes, headers: dict, path: str = PAYMENT) -> httpx.Response:
    return HTTP.post(raw.base_url + path, content=data, headers=headers, timeout=10)


# --- correct SDK traffic passes every check ---------------------------------------------------------
@pytest.fixture(scope="module")
def sdk_entries(sandbox_server, raw) -> list[dict]:
    api = sdk.widget_api(sandbox_server.base_url, raw.key, PARTNER_ID)

    def calls():
        code = raw.admin("POST", "/auth-codes", {"partnerId": PARTNER_ID}).json()["authCode"]
        codes.append(code)
        token = api.apply_token(sdk.auth_code_request(code)).access_token
        api.apply_ott(sdk.ott_request(token))
        api.balance_inquiry(sdk.balance_request(token))
        body = good_payment()
        api.widget_payment(sdk.payment_request(body))
        api.query_payment(sdk.query_request(raw.merchant_id, body["partnerReferenceNo"]))
    codes: list[str] = []
    entries = journalled(raw, calls)
    assert entries[0]["secretDigests"] == {"authCode": secret_digest(codes[0])}
    assert [e["api"] for e in entries] == ["apply_token", "apply_ott", "balance_inquiry", "widget_payment",
                                           "query_payment"]
    return entries


def test_correct_sdk_requests_pass_every_check(sdk_entries):
    for entry in sdk_entries:
        assert entry["verdict"] == "PASS", (entry["api"], [c for c in entry["checks"] if c["verdict"] != "PASS"])
    checks = {c["check"] for e in sdk_entries for c in e["checks"]}
    assert checks >= {"signature", "X-TIMESTAMP", "clock skew", "headers", "schema", "partnerReferenceNo",
                      "X-EXTERNAL-ID", "validUpTo", "amount", "urlParams"}


def test_the_journal_redacts_tokens_and_shortens_signatures(sdk_entries):
    token = next(e for e in sdk_entries if e["api"] == "apply_token")
    assert "redacted" in token["request"]["body"]["json"]["authCode"]
    assert "redacted" in token["response"]["body"]["json"]["accessToken"]
    assert set(token["secretDigests"]) == {"authCode"} and len(token["secretDigests"]["authCode"]) == 16
    ott = next(e for e in sdk_entries if e["api"] == "apply_ott")
    assert set(ott["secretDigests"]) == {"accessToken"}
    text = json.dumps(ott)
    assert "redacted" in ott["request"]["headers"]["authorization-customer"]
    assert "redacted" in ott["request"]["body"]["json"]["additionalInfo"]["accessToken"]
    assert "redacted" in json.dumps(ott["response"]["body"]["json"]["userResources"])
    assert len(ott["request"]["headers"]["x-signature"]) < 40
    assert "PRIVATE KEY" not in text


# --- signature diagnosis: one row per usual mistake ---------------------------------------------------
def _pretty(raw, body):
    data = json.dumps(body, indent=2).encode()
    return data, f"POST:{PAYMENT}:{hashlib.sha256(data).hexdigest()}:{{ts}}", None, "non-minified (pretty) body"


def _wrong_path(raw, body):
    data = json.dumps(body).encode()
    digest = hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()
    return data, f"POST:/v1.0/debit/payment-host-to-host:{digest}:{{ts}}", None, "wrong path"


def _wrong_key(raw, body):
    data = json.dumps(body).encode()
    digest = hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()
    return data, f"POST:{PAYMENT}:{digest}:{{ts}}", generate_private_key(), "a key other than the one registered"


def _reserialised(raw, body):
    body["additionalInfo"]["order"]["orderTitle"] = "Caf\u00e9 order"
    signed = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    sent = json.dumps(body, separators=(",", ":")).encode()          # the HTTP layer escaped it again
    return sent, f"POST:{PAYMENT}:{hashlib.sha256(signed.encode()).hexdigest()}:{{ts}}", None, "re-serialised"


@pytest.mark.parametrize("mistake", [_pretty, _wrong_path, _wrong_key, _reserialised],
                         ids=["pretty-body", "wrong-path", "wrong-key", "reserialised-body"])
def test_signature_diagnosis_names_the_mistake(raw, sdk_entries, mistake):
    data, message, key, named = mistake(raw, good_payment())
    [entry] = journalled(raw, lambda: post(raw, data, resign(raw, data, message, key)))
    assert entry["response"]["responseCode"] == "4015400"
    found = verdict(entry, "signature")
    assert found["verdict"] == "FAIL" and named in found["message"] and found["hint"], found
    assert all(verdict(e, "signature")["verdict"] == "PASS" for e in sdk_entries)


def test_signature_by_another_registered_partner_is_named(raw, sandbox_server):
    other = generate_private_key()
    sandbox_server.register_merchant("2025112100000000000099", "216620000000000000099", public_key_pem(other))
    body = good_payment()
    data = json.dumps(body, separators=(",", ":")).encode()
    message = f"POST:{PAYMENT}:{hashlib.sha256(data).hexdigest()}:{{ts}}"
    [entry] = journalled(raw, lambda: post(raw, data, resign(raw, data, message, other)))
    assert "registered for partner 2025112100000000000099" in verdict(entry, "signature")["message"]


# --- X-TIMESTAMP format, zone and skew ---------------------------------------------------------------
def test_other_zone_is_accepted_but_warned_and_malformed_fails(raw, sdk_entries):
    utc_z = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    [entry] = journalled(raw, lambda: raw.post("widget_payment", good_payment(), timestamp=utc_z))
    assert entry["response"]["responseCode"] == "2005400"           # the Node SDK's zone stays accepted
    assert verdict(entry, "X-TIMESTAMP")["verdict"] == "WARN"
    assert verdict(entry, "clock skew")["verdict"] == "PASS"        # the same instant, other label
    spaced = format_timestamp().replace("T", " ")
    [entry] = journalled(raw, lambda: raw.post("widget_payment", good_payment(), timestamp=spaced))
    assert verdict(entry, "X-TIMESTAMP")["verdict"] == "FAIL"
    assert all(verdict(e, "X-TIMESTAMP")["verdict"] == "PASS" for e in sdk_entries)


def test_utc_labelled_jakarta_is_seven_hours_behind(raw, sdk_entries):
    utc_as_jakarta = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    [entry] = journalled(raw, lambda: raw.post("widget_payment", good_payment(), timestamp=utc_as_jakarta))
    found = verdict(entry, "clock skew")
    assert found["verdict"] == "FAIL" and "7 h behind: UTC labelled +07:00" in found["message"], found
    two_minutes = format_timestamp(jakarta_now() - timedelta(minutes=2))
    [entry] = journalled(raw, lambda: raw.post("widget_payment", good_payment(), timestamp=two_minutes))
    assert verdict(entry, "clock skew")["verdict"] == "WARN"
    assert all(verdict(e, "clock skew")["verdict"] == "PASS" for e in sdk_entries)


# --- headers, schema, uniqueness, body rules -------------------------------------------------------
@pytest.mark.parametrize("headers, severity, named", [
    ({"CHANNEL_ID": None}, "FAIL", "missing CHANNEL-ID"),
    ({"CHANNEL_ID": f"{PARTNER_ID}-SERVER"}, "WARN", "CHANNEL-ID of 29 characters"),
    ({"Content-Type": "text/plain"}, "WARN", "Content-Type 'text/plain'"),
], ids=["no-channel-id", "node-sdk-channel-id", "content-type"])
def test_header_set(raw, sdk_entries, headers, severity, named):
    [entry] = journalled(raw, lambda: raw.post("widget_payment", good_payment(), **headers))
    found = verdict(entry, "headers")
    assert found["verdict"] == severity and named in found["message"], found
    assert all(verdict(e, "headers")["verdict"] == "PASS" for e in sdk_entries)


def test_schema(raw, sdk_entries):
    body = good_payment()
    del body["additionalInfo"]["productCode"]
    [entry] = journalled(raw, lambda: raw.post("widget_payment", body))
    found = verdict(entry, "schema")
    assert found["verdict"] == "FAIL" and "additionalInfo.productCode" in found["message"], found
    assert all(verdict(e, "schema")["verdict"] == "PASS" for e in sdk_entries)


def test_partner_reference_no_reuse(raw, sdk_entries):
    first, second = good_payment(), good_payment()
    second["partnerReferenceNo"] = first["partnerReferenceNo"]
    second["amount"]["value"] = "2.00"
    entries = journalled(raw, lambda: (raw.post("widget_payment", first), raw.post("widget_payment", second)))
    assert verdict(entries[0], "partnerReferenceNo")["verdict"] == "PASS"
    found = verdict(entries[1], "partnerReferenceNo")
    assert found["verdict"] == "FAIL" and f"request #{entries[0]['seq']}" in found["message"], found
    assert all(c["verdict"] == "PASS" for e in sdk_entries for c in e["checks"] if c["check"] == "partnerReferenceNo")


def test_external_id_reuse_is_refused_409_and_graded(raw, sdk_entries):
    external = uuid.uuid4().hex
    entries = journalled(raw, lambda: [raw.post("widget_payment", good_payment(), X_EXTERNAL_ID=external)
                                       for _ in range(2)])
    assert [e["response"]["responseCode"] for e in entries] == ["2005400", "4095400"]
    assert verdict(entries[0], "X-EXTERNAL-ID")["verdict"] == "PASS"
    found = verdict(entries[1], "X-EXTERNAL-ID")
    assert found["verdict"] == "FAIL" and "already sent today" in found["message"], found
    assert all(c["verdict"] == "PASS" for e in sdk_entries for c in e["checks"] if c["check"] == "X-EXTERNAL-ID")


def test_a_forged_request_does_not_burn_an_external_id(raw):
    external = uuid.uuid4().hex
    forged = Raw(raw.base_url, generate_private_key(), PARTNER_ID, MERCHANT_ID)
    entries = journalled(raw, lambda: (forged.post("widget_payment", good_payment(), X_EXTERNAL_ID=external),
                                       raw.post("widget_payment", good_payment(), X_EXTERNAL_ID=external)))
    assert verdict(entries[1], "X-EXTERNAL-ID")["verdict"] == "PASS"


@pytest.mark.parametrize("change, check, named", [
    (lambda b: b.update(validUpTo=format_timestamp(jakarta_now() + timedelta(minutes=25))), "validUpTo",
     "at most 15 min ahead"),
    (lambda b: b.update(validUpTo=format_timestamp(jakarta_now() - timedelta(minutes=5))), "validUpTo",
     "in the past"),
    (lambda b: b["amount"].update(value="1000"), "amount", "amount.value '1000'"),
    (lambda b: b["amount"].update(value="1.000,00"), "amount", "amount.value '1.000,00'"),
    (lambda b: b.update(urlParams=b["urlParams"][1:]), "urlParams", "no NOTIFICATION"),
    (lambda b: b.pop("urlParams"), "urlParams", "no PAY_RETURN, NOTIFICATION"),
], ids=["validUpTo-25min", "validUpTo-past", "amount-no-decimals", "amount-separators", "no-notification",
        "no-urlParams"])
def test_body_rules(raw, sdk_entries, change, check, named):
    body = good_payment()
    change(body)
    [entry] = journalled(raw, lambda: raw.post("widget_payment", body))
    found = verdict(entry, check)
    assert found["verdict"] == "FAIL" and named in found["message"], found
    assert all(c["verdict"] == "PASS" for e in sdk_entries for c in e["checks"] if c["check"] == check)


def test_a_path_no_api_owns_is_journalled_with_the_nearest_path(raw):
    since = traffic(raw)["last"]
    post(raw, b"{}", {"X-PARTNER-ID": PARTNER_ID}, path="/rest/redirection/v1.0/debit/payment-host-to-host.htm")
    [entry] = traffic(raw, since=since, partnerId=PARTNER_ID)["entries"]
    assert entry["api"] is None and entry["response"]["status"] == 404
    assert PAYMENT in verdict(entry, "path")["message"]


# --- the admin endpoint ---------------------------------------------------------------------------
def test_traffic_filters_and_waits(raw):
    since = traffic(raw)["last"]
    result = {}
    waiter = threading.Thread(target=lambda: result.update(raw.admin("POST", "/traffic/wait", {
        "since": since, "partnerId": PARTNER_ID, "api": "widget_payment", "count": 1,
        "timeoutSeconds": 20}).json()))
    waiter.start()
    raw.post("widget_payment", good_payment())
    waiter.join(timeout=30)
    assert [e["api"] for e in result["entries"]] == ["widget_payment"]
    assert traffic(raw, since=result["last"])["entries"] == []
    assert traffic(raw, since=since, partnerId="nobody")["entries"] == []
    assert traffic(raw, since=since, api="apply_ott")["entries"] == []
    assert raw.admin("GET", "/traffic?since=-1").status_code == 400
    assert raw.admin("POST", "/traffic/wait", {"timeoutSeconds": 500}).status_code == 400


def test_anything_a_client_sends_can_be_read_back_and_printed(raw):
    # Fields the sandbox does not echo: its own answer to an echoed lone surrogate is another matter.
    data = json.dumps(good_payment() | {"note": "\ud800", "colour": "\x1b[31mred"}).encode()
    [entry] = journalled(raw, lambda: post(raw, data, raw.headers("widget_payment", data)))  # HTTP 200
    assert entry["request"]["body"]["json"]["note"] == "\ud800"
    line = live_line(entry)
    assert line.isascii() and line.isprintable(), line
