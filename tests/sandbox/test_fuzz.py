"""Bounded fuzzing over bodies, headers and paths: every answer is a SNAP body whose HTTP status matches
its responseCode, never a traceback, never a hang (each request has a timeout and must answer in 2 s).

Besides random bytes, JSON and mutated fixtures, the bodies include the abuse classes of issue 12:
unterminated quote runs (quadratic minify), lone surrogates in fields, nesting far past any Widget body,
and API paths with a trailing slash."""

from __future__ import annotations

import json
import re
import socket
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.sandbox import responses
from conformance.sandbox.handlers import HANDLERS
from conformance.snap import generate_private_key, public_key_pem
from conformance.snap.apis import APIS
from tests.sandbox.conftest import MERCHANT_ID, Raw, payment_body

CODE = re.compile(r"^\d{7}$")
API_NAMES = sorted(name for name, api in APIS.items() if api.family != "notify")
HEADER_NAMES = ["X-TIMESTAMP", "X-SIGNATURE", "X-PARTNER-ID", "X-CLIENT-KEY", "X-EXTERNAL-ID", "CHANNEL-ID",
                "ORIGIN", "Authorization-Customer", "X-DEVICE-ID", "X-IP-ADDRESS", "X-Debug-Mode",
                "Content-Type", "X-LATITUDE"]
# Values an HTTP client can send at all (no leading/trailing blanks, printable ASCII).
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(str.strip)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
TEMPLATES = {
    "widget_payment": payment_body(),
    "refund_order": {"merchantId": MERCHANT_ID, "originalPartnerReferenceNo": "x", "partnerRefundNo": "x",
                     "refundAmount": {"value": "1.00", "currency": "IDR"}},
    "apply_ott": {"userResources": ["OTT"], "additionalInfo": {"accessToken": "t", "deviceId": "d"}},
    "transaction_history_list": {"fromDateTime": "2020-12-21T17:55:11Z", "toDateTime": "2022-01-21T17:55:11Z",
                                 "pageSize": "10", "pageNumber": "1", "additionalInfo": {"accessToken": "t"}},
}


SURROGATE = st.integers(0xD800, 0xDFFF).map(lambda c: chr(c))


@st.composite
def bodies(draw, api_name: str) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "mutated", "quotes", "surrogate", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2048))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "quotes":               # '"' + '\\"' * n, up to 64 KB: linear minify answers at once
        return b'"' + b'\\"' * draw(st.integers(1, 32 * 1024)) + draw(st.sampled_from([b"", b'"', b" {"]))
    template = json.loads(json.dumps(TEMPLATES.get(api_name, TEMPLATES["widget_payment"])))
    if kind == "surrogate":            # a lone surrogate in some string field (json.dumps escapes it)
        key = draw(st.sampled_from(sorted(template)))
        template[key] = draw(st.text(max_size=5)) + draw(SURROGATE) + draw(st.text(max_size=5))
        return json.dumps(template).encode()
    if kind == "deep":                 # built as text: the test's own json would recurse too
        depth = draw(st.integers(20, 3000))
        template[draw(st.sampled_from(sorted(template)))] = "DEEP"
        return json.dumps(template).replace('"DEEP"', "[" * depth + "]" * depth, 1).encode()
    node = template
    keys = draw(st.lists(st.text(max_size=3) | st.sampled_from(sorted(template)), min_size=1, max_size=3))
    for key in keys[:-1]:
        child = node.get(key) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            break
        node = child
    node[keys[-1]] = draw(json_values)
    return json.dumps(template).encode()


def assert_snap(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert CODE.match(body["responseCode"]), body
    assert isinstance(body["responseMessage"], str) and body["responseMessage"]
    assert response.status_code == int(body["responseCode"][:3]), body
    assert "Traceback" not in response.text


@pytest.fixture(scope="module")
def client():
    with httpx.Client(trust_env=False, timeout=10) as http:
        yield http


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_fuzzed_requests_get_snap_answers(raw, client, data):
    api_name = data.draw(st.sampled_from(API_NAMES))
    body = data.draw(bodies(api_name))
    signed = data.draw(st.booleans())
    headers = raw.headers(api_name, body) if signed else {}
    for name in data.draw(st.lists(st.sampled_from(HEADER_NAMES), max_size=4)):
        if data.draw(st.booleans()):
            headers.pop(name, None)
        else:
            headers[name] = data.draw(header_text)
    slash = data.draw(st.sampled_from(["", "", "", "/"]))
    response = client.post(raw.base_url + APIS[api_name].path + slash, content=body, headers=headers)
    assert_snap(response)
    assert response.elapsed.total_seconds() < 2, (len(body), body[:80])
    assert response.status_code < 500, (response.text, body[:200])      # a defect, never a client's fault
    if slash:
        assert response.status_code == 404
    if signed and response.status_code == 200:
        assert response.json()["responseCode"] == APIS[api_name].success_code


def test_odd_requests(raw, client):
    path = APIS["widget_payment"].path
    assert_snap(client.get(raw.base_url + path))
    assert_snap(client.post(raw.base_url + "/v1.0/unknown.htm", content=b"{}"))
    big = b'{"a":"' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(raw.base_url + path, content=big, headers=raw.headers("widget_payment", b"{}"))
    assert_snap(response)
    assert response.json()["responseCode"] == "4005400"


def test_unexpected_exception_is_a_snap_500(raw, client, monkeypatch):
    def boom(sandbox, call):
        raise RuntimeError("simulated defect")
    monkeypatch.setitem(HANDLERS, "widget_payment", boom)
    response = raw.post("widget_payment", payment_body())
    assert_snap(response)
    assert response.json() == {"responseCode": "5005401", "responseMessage": "Internal Server Error"}


def test_admin_api_never_leaks_a_traceback(raw, client):
    for method, path, content in [("POST", "/merchants", b"not json"), ("POST", "/merchants", b"[]"),
                                  ("POST", "/merchants", b'{"partnerId":"p","merchantId":"m","publicKey":"x"}'),
                                  ("POST", "/clock", b'{"advanceSeconds":-5}'), ("GET", "/orders/none", b""),
                                  ("POST", "/notifications/wait", b'{"count":"x"}'),
                                  ("POST", "/orders/none/pay", b"{}")]:
        response = client.request(method, f"{raw.base_url}/sandbox-admin{path}", content=content)
        assert 400 <= response.status_code < 500, (path, response.text)
        assert "error" in response.json() and "Traceback" not in response.text


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(sent=st.integers(0, 60), missing=st.integers(1, 10_000), api_name=st.sampled_from(API_NAMES))
def test_stalled_bodies_are_cut_off(raw, sent, missing, api_name):
    """A client that declares more body than it sends gets a SNAP 400 and a closed connection, in bounded time."""
    body = json.dumps(TEMPLATES.get(api_name, TEMPLATES["widget_payment"])).encode()[:sent]
    host, port = raw.base_url.removeprefix("http://").split(":")
    with pytest.MonkeyPatch.context() as patch, socket.create_connection((host, int(port)), timeout=5) as sock:
        patch.setattr(responses, "BODY_TIMEOUT", 0.3)
        sock.sendall(f"POST {APIS[api_name].path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: "
                     f"{len(body) + missing}\r\n\r\n".encode() + body)
        started, received = time.perf_counter(), b""
        while chunk := sock.recv(65536):
            received += chunk
    assert time.perf_counter() - started < 3
    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and json.loads(answer)["responseMessage"].endswith("Body read timed out")


@pytest.fixture(scope="module")
def second_merchant(raw, sandbox_server):
    key = generate_private_key()
    other = Raw(raw.base_url, key, partner_id="2025112100000000000888", merchant_id="216620000000000000888")
    sandbox_server.register_merchant(other.partner_id, other.merchant_id, public_key_pem(key))
    return other


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(issuer=st.sampled_from([0, 1]), payee=st.sampled_from([0, 1]))
def test_an_ott_logs_in_only_where_its_merchant_sells(raw, second_merchant, client, issuer, payee):
    merchants = [raw, second_merchant]
    body = payment_body()
    body["merchantId"] = merchants[payee].merchant_id
    order = merchants[payee].post("widget_payment", body).json()["referenceNo"]
    code = raw.admin("POST", "/auth-codes", {"partnerId": merchants[issuer].partner_id}).json()["authCode"]
    token = merchants[issuer].post("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": code,
                                                   "additionalInfo": {}}).json()["accessToken"]
    ott = merchants[issuer].post("apply_ott", {"userResources": ["OTT"], "additionalInfo": {
        "accessToken": token, "deviceId": "device-test"}}).json()["userResources"][0]["value"]
    page = client.get(f"{raw.base_url}/n/cashier/new/checkout", params={"bizNo": order, "ott": ott})
    logged_in = page.status_code == 303 and page.headers["location"].startswith("/n/cashier/new/pay?")
    assert logged_in == (issuer == payee), (issuer, payee, page.status_code)
