"""Abuse cases of issue 12 part C, each reproduced over real loopback HTTP and answered with a SNAP body."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from datetime import timedelta

import httpx
import pytest

from conformance.sandbox import responses
from conformance.sandbox.store import Order
from conformance.snap import generate_private_key, public_key_pem
from conformance.snap.apis import APIS
from conformance.snap.signature import minify
from tests.sandbox.conftest import PARTNER_ID, Raw, payment_body, snap

PHONE = "083811223355"
QUOTES = '"' + '\\"' * 20000                    # 40 KB: backtracking minify took 18 s on it


def quotes(size: int) -> bytes:
    return ('"' + '\\"' * (size // 2)).encode()


def test_minify_is_linear():
    for size in (40_000, 256 * 1024 - 2):
        started = time.perf_counter()
        minify(quotes(size))
        assert time.perf_counter() - started < 0.2, size
    assert minify(b'{ "a" : "b c\\" d" , "e":[1, 2]}') == b'{"a":"b c\\" d","e":[1,2]}'
    assert minify(b'"open  string') == b'"open  string'          # unterminated: kept as received


def test_quote_bomb_is_answered_at_once_and_does_not_delay_others(raw):
    """Four 256 KB bombs in flight; a valid request sent meanwhile answers as fast as usual."""
    bombs: list[tuple[float, httpx.Response]] = []

    def bomb():
        started = time.perf_counter()
        answer = raw.post("widget_payment", None, raw=quotes(256 * 1024 - 2))
        bombs.append((time.perf_counter() - started, answer))

    threads = [threading.Thread(target=bomb) for _ in range(4)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    valid = raw.post("widget_payment", payment_body())
    valid_seconds = time.perf_counter() - started
    for thread in threads:
        thread.join(15)
    assert snap(valid)[1] == "2005400"
    # Bounds with headroom for a loaded 2-core machine; before the fix each bomb held the loop for minutes.
    assert valid_seconds < 1.5
    assert len(bombs) == 4
    for seconds, answer in bombs:
        assert seconds < 2.0
        assert snap(answer)[:2] == (400, "4005400")           # signed correctly, but not JSON
    started = time.perf_counter()
    answer = raw.post("widget_payment", None, raw=QUOTES.encode(), X_SIGNATURE="bm90IGEgc2lnbmF0dXJl")
    assert time.perf_counter() - started < 1.0
    assert snap(answer)[:2] == (401, "4015400")


def test_half_a_body_is_cut_off(raw, monkeypatch):
    monkeypatch.setattr(responses, "BODY_TIMEOUT", 0.5)
    host, port = raw.base_url.removeprefix("http://").split(":")
    path = APIS["widget_payment"].path
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 200\r\n\r\n".encode() + b'{"partnerReferenceNo":')
        started, received = time.perf_counter(), b""
        while chunk := sock.recv(65536):                  # ends when the server closes the connection
            received += chunk
        elapsed = time.perf_counter() - started
    assert 0.4 < elapsed < 5
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"connection: close" in head.lower()
    assert json.loads(body) == {"responseCode": "4005400", "responseMessage": "Bad Request. Body read timed out"}


def test_lone_surrogate_is_refused_before_any_state(raw, sandbox_server):
    store = sandbox_server.sandbox.store
    orders = len(store.orders)
    body = payment_body(ref="\ud800" + uuid.uuid4().hex[:8])
    answer = raw.post("widget_payment", None, raw=json.dumps(body).encode())   # ASCII "\ud800" escape
    assert snap(answer) == (400, "4005401", "Invalid Field Format partnerReferenceNo")
    refund = {"merchantId": raw.merchant_id, "originalPartnerReferenceNo": "x", "partnerRefundNo": "\udfff",
              "refundAmount": {"value": "1.00", "currency": "IDR"}}
    assert snap(raw.post("refund_order", refund)) == (400, "4005801", "Invalid Field Format partnerRefundNo")
    assert len(store.orders) == orders and not any("\udfff" in key[1] for key in store.refunds)


def test_a_stored_bad_value_never_poisons_later_answers(raw, sandbox_server):
    """Should a surrogate ever reach the store, queries, the admin API and the pages still answer."""
    sandbox = sandbox_server.sandbox
    now = sandbox.clock.now(PARTNER_ID)             # its partner's clock: other tests move it
    order = Order(sandbox.store.new_reference(), "bad-" + uuid.uuid4().hex[:6], raw.merchant_id,
                  PARTNER_ID, "1.00", "IDR", "INIT", now + timedelta(minutes=15), "title \udc00",
                  None, "http://127.0.0.1:9/notify", created_at=now, expires_at=now + timedelta(minutes=15))
    sandbox.store.put_order(order)
    query = {"originalReferenceNo": order.reference_no, "serviceCode": "54", "merchantId": raw.merchant_id}
    answer = raw.post("query_payment", query)
    assert snap(answer)[:2] == (200, "2005500")
    assert answer.json()["title"] == order.title and b'"title \\udc00"' in answer.content  # the JSON escape
    admin = raw.admin("GET", f"/orders/{order.partner_reference_no}")
    assert admin.status_code == 200 and admin.json()["title"] == order.title
    page = httpx.get(f"{raw.base_url}/n/cashier/new/checkout", params={"bizNo": order.reference_no},
                     trust_env=False, timeout=10)
    assert page.status_code == 200 and "title ?" in page.text
    paid = raw.admin("POST", f"/orders/{order.partner_reference_no}/pay", {"phone": PHONE})
    assert paid.status_code == 200
    echoed = Order(sandbox.store.new_reference(), "bad-\ud800", raw.merchant_id, PARTNER_ID, "1.00", "IDR",
                   "INIT", now + timedelta(minutes=15), "t", None, "http://127.0.0.1:9/notify", created_at=now,
                   expires_at=now + timedelta(minutes=15))
    sandbox.store.put_order(echoed)                # its Finish Notify echoes the bad reference: still signed
    sandbox.pay_order(echoed.reference_no, PHONE)
    [delivery] = sandbox.notifier.deliveries("bad-\ud800")
    assert delivery["latestTransactionStatus"] == "00" and '"bad-\\ud800"' in delivery["request"]["body"]
    code = raw.admin("POST", "/auth-codes", {"partnerId": PARTNER_ID, "phone": PHONE}).json()["authCode"]
    token = raw.post("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": code,
                                     "additionalInfo": {}}).json()["accessToken"]
    history = raw.post("transaction_history_list", {
        "fromDateTime": (now - timedelta(days=1)).isoformat(timespec="seconds"),
        "toDateTime": (now + timedelta(days=1)).isoformat(timespec="seconds"), "pageSize": "100",
        "pageNumber": "1", "additionalInfo": {"accessToken": token, "deviceId": "device-test"}})
    assert snap(history)[:2] == (200, "2001200")
    assert order.reference_no in history.text


@pytest.mark.parametrize("depth, code", [(966, "4005400"), (40, "4005400"), (30, "4005401")])
def test_deep_nesting_is_a_bad_request(raw, depth, code):
    body = payment_body()
    body["additionalInfo"]["order"]["extendInfo"] = "DEEP"        # built as text: json recurses too
    nested = "[" * (depth - 3) + "]" * (depth - 3)
    answer = raw.post("widget_payment", None, raw=json.dumps(body).replace('"DEEP"', nested).encode())
    assert snap(answer)[1] == code          # 30 deep passes the bound and fails the field's type instead
    if code == "4005400":
        assert answer.json()["responseMessage"] == "Bad Request. Nesting too deep"


def test_a_refused_deep_body_is_journalled_as_its_size_so_the_traffic_answer_stays_readable(raw):
    body = payment_body()
    body["additionalInfo"]["order"]["extendInfo"] = "DEEP"
    answer = raw.post("widget_payment", None, raw=json.dumps(body).replace('"DEEP"', "[" * 960 + "]" * 960).encode())
    assert snap(answer)[1] == "4005400"
    traffic = raw.admin("GET", "/traffic")
    entries = json.loads(traffic.text)["entries"]     # before: a RecursionError in any Python client reading it
    deep = [e for e in entries if "nested deeper than 32 levels" in str(e["request"]["body"])]
    assert deep and deep[-1]["response"]["responseCode"] == "4005400"


def test_trailing_slash_is_a_snap_404(raw):
    answer = raw.post("refund_order", {}, path=APIS["refund_order"].path + "/")
    assert answer.status_code == 404 and not answer.is_redirect
    assert answer.json() == {"responseCode": "4040000", "responseMessage": "Not Found"}


def test_an_ott_logs_in_only_on_its_own_merchants_orders(raw, sandbox_server):
    other_key = generate_private_key()
    other = Raw(raw.base_url, other_key, partner_id="2025112100000000000777", merchant_id="216620000000000000777")
    sandbox_server.register_merchant(other.partner_id, other.merchant_id, public_key_pem(other_key))
    body = payment_body()
    body["merchantId"] = other.merchant_id
    order_b = other.post("widget_payment", body).json()["referenceNo"]
    order_a = raw.post("widget_payment", payment_body()).json()["referenceNo"]
    code = raw.admin("POST", "/auth-codes", {"partnerId": PARTNER_ID, "phone": PHONE}).json()["authCode"]
    token = raw.post("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": code,
                                     "additionalInfo": {}}).json()["accessToken"]
    ott = raw.post("apply_ott", {"userResources": ["OTT"], "additionalInfo": {
        "accessToken": token, "deviceId": "device-test"}}).json()["userResources"][0]["value"]

    def checkout(reference_no: str) -> httpx.Response:
        return httpx.get(f"{raw.base_url}/n/cashier/new/checkout", params={"bizNo": reference_no, "ott": ott},
                         trust_env=False, timeout=10)

    on_b = checkout(order_b)
    assert on_b.status_code == 200 and "tidak berlaku" in on_b.text     # login asked for, not logged in
    on_a = checkout(order_a)                                             # A's OTT was not used up by B
    assert on_a.status_code == 303 and on_a.headers["location"].startswith("/n/cashier/new/pay?")

