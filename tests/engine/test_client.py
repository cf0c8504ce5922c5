"""DanaClient: header profiles per API family, tampering as data, and the sandbox's verdict on each fault."""

import uuid
from datetime import timedelta

import httpx
import pytest

from conformance.client.snap_client import HEX64, DanaClient
from conformance.config.settings import load_settings
from conformance.dana.target import Target
from conformance.snap import apis, format_timestamp, parse_timestamp, string_to_sign, verify
from conformance.snap.signature import apply_token_string_to_sign


@pytest.fixture(scope="module")
def target():
    with Target(load_settings({}, environ={}, env_file=None)) as running:
        yield running


def payment_body(target, ref=None):
    return {"partnerReferenceNo": ref or str(uuid.uuid4()), "merchantId": target.merchant.merchant_id,
            "amount": {"value": "1.00", "currency": "IDR"},
            "validUpTo": format_timestamp(target.now() + timedelta(minutes=15)),
            "additionalInfo": {"productCode": "51051000100000000001", "mcc": "5732",
                               "order": {"orderTitle": "t"}, "envInfo": {"terminalType": "SYSTEM",
                                                                         "sourcePlatform": "IPG"}}}


def captured(merchant, api, body, **kw):
    seen = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200, json={}))
    with DanaClient(merchant, "http://dana.test", transport=transport) as client:
        ex = client.call(api, body, **kw)
    return seen[0], ex


def test_b2b_headers_and_signature(target):
    m = target.merchant
    request, ex = captured(m, "widget_payment", {"a": "é", "b": [1, 2]})
    h = request.headers
    assert request.content == '{"a":"é","b":[1,2]}'.encode()
    assert (h["X-PARTNER-ID"], h["CHANNEL-ID"], h["ORIGIN"]) == (m.partner_id, "95221", m.origin)
    assert len(h["X-EXTERNAL-ID"]) == 36 and "X-CLIENT-KEY" not in h
    parse_timestamp(h["X-TIMESTAMP"])
    message = string_to_sign("POST", apis.get_api("widget_payment").path, request.content, h["X-TIMESTAMP"])
    assert verify(m.public_key, message, h["X-SIGNATURE"])


def test_apply_token_and_b2b2c_profiles(target):
    m = target.merchant
    request, _ = captured(m, "apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": "x"})
    h = request.headers
    assert h["X-CLIENT-KEY"] == h["X-PARTNER-ID"] == m.partner_id and "X-EXTERNAL-ID" not in h
    assert verify(m.public_key, apply_token_string_to_sign(m.partner_id, h["X-TIMESTAMP"]), h["X-SIGNATURE"])
    request, _ = captured(m, "apply_ott", {"userResources": ["OTT"],
                                           "additionalInfo": {"accessToken": "tok123", "deviceId": "dev9"}})
    assert request.headers["Authorization-Customer"] == "Bearer tok123"
    assert request.headers["X-DEVICE-ID"] == "dev9"


def test_tamper_headers_body_and_path(target):
    m = target.merchant
    request, ex = captured(m, "widget_payment", {"a": 1}, tamper={
        "headers": {"drop": ["origin"], "set": {"CHANNEL-ID": "", "X-Extra": "1"}}, "body_raw": '{"a": 1}',
        "path": "/signed/elsewhere"})
    assert "ORIGIN" not in request.headers and request.headers["CHANNEL-ID"] == "" and request.headers["X-Extra"] == "1"
    assert request.content == b'{"a": 1}' and request.url.path == apis.get_api("widget_payment").path
    message = string_to_sign("POST", "/signed/elsewhere", b'{"a": 1}', request.headers["X-TIMESTAMP"])
    assert verify(m.public_key, message, request.headers["X-SIGNATURE"]) and ex.signed_path == "/signed/elsewhere"


def test_stale_timestamp_is_a_day_old_and_consistently_signed(target):
    request, _ = captured(target.merchant, "widget_payment", {}, tamper={"timestamp": "stale"})
    ts = request.headers["X-TIMESTAMP"]
    assert timedelta(hours=23) < target.now() - parse_timestamp(ts) < timedelta(hours=25)
    assert verify(target.merchant.public_key, string_to_sign("POST", apis.get_api("widget_payment").path, b"{}", ts),
                  request.headers["X-SIGNATURE"])


@pytest.mark.parametrize("tamper, status, code", [
    ({}, 200, "2005400"),
    ({"signature": "invalid"}, 401, "4015400"),
    ({"signature": "hex64"}, 401, "4015400"),
    ({"signature": "garbage"}, 401, "4015400"),
    ({"signature": "other_key"}, 401, "4015400"),
    ({"signature": "empty"}, 400, "4005402"),       # the sandbox treats an empty signature as missing
    ({"signature": "missing"}, 400, "4005402"),
    ({"path": "/rest/redirection/v1.0/debit/payment-host-to-host.htm"}, 401, "4015400"),
    ({"timestamp": "missing"}, 400, "4005402"),
    ({"timestamp": "empty"}, 400, "4005402"),
    ({"timestamp": "malformed"}, 400, "4005401"),
])
def test_the_sandbox_answers_each_fault(target, tamper, status, code):
    with DanaClient(target.merchant, target.api_base, clock=target.now) as client:
        ex = client.call("widget_payment", payment_body(target), tamper=tamper)
    assert (ex.status, ex.json["responseCode"]) == (status, code), ex.response_text()
    if tamper.get("signature") == "hex64":
        assert ex.request_headers["X-SIGNATURE"] == HEX64


def test_transport_error_is_in_the_exchange_not_raised(target):
    with DanaClient(target.merchant, "http://127.0.0.1:9", timeout=2) as client:
        ex = client.call("widget_payment", {})
    assert ex.status is None and ex.error
