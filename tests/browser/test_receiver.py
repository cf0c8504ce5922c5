"""The loopback merchant: OAuth redirect with state check, payment return, Finish Notify answers."""

from __future__ import annotations

import threading

import httpx
import pytest

from conformance.client.receiver import CallbackReceiver, ReceiverTimeout, StateMismatch


@pytest.fixture
def receiver():
    with CallbackReceiver() as r:
        yield r


def test_addresses_are_loopback(receiver):
    assert receiver.base_url.startswith("http://127.0.0.1:")
    assert receiver.redirect_url == receiver.base_url + "/oauth/callback"
    assert receiver.pay_return_url.endswith("/pay/return") and receiver.notify_url.endswith("/v1.0/debit/notify")


def test_callback_with_the_issued_state_is_captured(receiver):
    receiver.expect_state("s1")
    r = httpx.get(receiver.redirect_url, params={"authCode": "A+1", "state": "s1", "responseCode": "2001000"})
    assert r.status_code == 200 and "Binding complete" in r.text
    assert receiver.wait_for_callback("s1", timeout=5) == {"authCode": "A+1", "state": "s1", "responseCode": "2001000"}


def test_callback_that_arrives_while_waiting_wakes_the_waiter(receiver):
    timer = threading.Timer(0.05, lambda: httpx.get(receiver.redirect_url, params={"authCode": "x", "state": "s2"}))
    timer.start()
    try:
        assert receiver.wait_for_callback("s2", timeout=10)["authCode"] == "x"
    finally:
        timer.join()


def test_state_mismatch_is_refused_and_reported(receiver):
    receiver.expect_state("mine")
    r = httpx.get(receiver.redirect_url, params={"authCode": "x", "state": "forged"})
    assert r.status_code == 400 and "State mismatch" in r.text
    with pytest.raises(StateMismatch, match="'forged', expected 'mine'"):
        receiver.wait_for_callback("mine", timeout=5)


def test_wait_is_bounded(receiver):
    with pytest.raises(ReceiverTimeout, match="within 0.2s"):
        receiver.wait_for_callback("never", timeout=0.2)


def test_pay_return_is_recorded(receiver):
    httpx.get(receiver.pay_return_url, params={"originalPartnerReferenceNo": "P1", "status": "SUCCESS"})
    assert receiver.wait_for_pay_return("P1", timeout=5)["status"] == "SUCCESS"


def test_notify_answers_default_and_per_order(receiver):
    receiver.set_notify_answer("P2", 500, {"responseCode": "5005601", "responseMessage": "Internal Server Error"})
    ok = httpx.post(receiver.notify_url, content=b'{"originalPartnerReferenceNo":"P1"}',
                    headers={"X-Signature": "sig", "Content-Type": "application/json"})
    bad = httpx.post(receiver.base_url + "/merchant/notify", content=b'{"originalPartnerReferenceNo":"P2"}')
    assert (ok.status_code, ok.json()["responseCode"]) == (200, "2005600")
    assert (bad.status_code, bad.json()["responseCode"]) == (500, "5005601")
    [first] = receiver.wait_for_notifications("P1", timeout=5)
    assert first.path == "/v1.0/debit/notify" and first.body == b'{"originalPartnerReferenceNo":"P1"}'
    assert first.headers["x-signature"] == "sig" and first.answered_status == 200
    [second] = receiver.notifications("P2")
    assert second.path == "/merchant/notify" and second.answered_body["responseCode"] == "5005601"
    with pytest.raises(ReceiverTimeout, match="1 of 2"):
        receiver.wait_for_notifications("P1", count=2, timeout=0.2)


def test_stop_releases_the_port():
    r = CallbackReceiver().start()
    url = r.base_url
    r.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/pay/return", timeout=2)
