"""Hosted pages that misbehave (a faulted SandboxServer, a real Chromium): a 5xx or 429 page is recorded with its
status and loaded again within the bound, with the wait it asked for; past the bound, or to a form's POST, the
flow stops with PageStatusError; a page that never loads costs the flow's timeout and a bounded screenshot."""

from __future__ import annotations

import pytest

from conformance.browser import BrowserSession, checkout
from conformance.browser.context import SHOT_TIMEOUT, PageLoadTimeout, PageStatusError
from conformance.client.snap_client import DanaClient
from conformance.sandbox.server import SandboxServer

PHONE, PIN = "083811223355", "181818"
CHECKOUT, LOGIN = "/n/cashier/new/checkout", "/n/cashier/new/login"


@pytest.fixture
def faulted_checkout(merchant, needs_browser, tmp_path, payment_body):
    """(server, session, url of a fresh order's checkout) for the test's plan and retries (indirect parameter)."""
    def make(rows, page_retries, waits):
        server = SandboxServer(faults=rows).start()
        made.append(server)
        server.register_merchant(merchant.partner_id, merchant.merchant_id, merchant.public_key_pem)
        session = BrowserSession(artifacts_dir=tmp_path, timeout=4, page_retries=page_retries,
                                 page_wait=lambda retry, status, retry_after: waits.append(
                                     (retry, status, retry_after)) or 0.05)
        made.append(session.start())
        with DanaClient(merchant, server.base_url) as client:
            url = client.call("widget_payment", payment_body()).json["webRedirectUrl"]
        return server, session, url
    made: list = []
    yield make
    for part in reversed(made):
        part.stop()


def events_of(ctx) -> list[dict]:
    seen: list[dict] = []
    ctx.observers.append(seen.append)
    return seen


def test_a_503_page_is_recorded_and_loaded_again_then_the_flow_goes_on(faulted_checkout):
    server, session, url = faulted_checkout([{"match": "page", "kind": "status", "status": 503}], 2, waits := [])
    ctx = session.new_context("reloaded")
    seen = events_of(ctx)
    assert checkout(ctx, url, phone=PHONE, pin=PIN).outcome == "success"
    ctx.close()
    failed = [e for e in seen if e["action"] == "document" and e["status"] == 503]
    reloads = [e for e in seen if e["action"] == "reload"]
    assert {e["url"].split("?")[0].removeprefix(server.base_url) for e in failed} == \
        {e["path"] for e in server.faults.injected()} >= {CHECKOUT, LOGIN}
    assert len(reloads) == len(failed) == len(waits) and all(w[:2] == (1, 503) for w in waits)
    assert all(r["waitS"] == 0.05 and r["waitedMs"] >= 50 for r in reloads)


def test_a_429_page_passes_its_retry_after_to_the_wait(faulted_checkout):
    _, session, url = faulted_checkout([{"match": CHECKOUT, "kind": "retry_after", "seconds": 2}], 1, waits := [])
    ctx = session.new_context("throttled")
    seen = events_of(ctx)
    assert checkout(ctx, url, phone=PHONE, pin=PIN).outcome == "success"
    ctx.close()
    assert waits == [(1, 429, "2")]
    assert [e for e in seen if e["action"] == "document"][0] | {"url": ""} == \
        {"action": "document", "method": "GET", "url": "", "status": 429, "retryAfter": "2"}


def test_a_page_that_keeps_failing_past_its_reloads_stops_the_flow_with_its_status(faulted_checkout):
    _, session, url = faulted_checkout([{"match": CHECKOUT, "kind": "status", "status": 502, "first": 5}], 1, [])
    ctx = session.new_context("down")
    with pytest.raises(PageStatusError) as caught:
        checkout(ctx, url, phone=PHONE, pin=PIN)
    ctx.close(failed=True)
    assert caught.value.status == 502 and caught.value.loads == 2          # the first load and one reload


def test_a_5xx_to_a_forms_post_is_never_sent_again(faulted_checkout):
    _, session, url = faulted_checkout([{"match": LOGIN, "kind": "status", "status": 500, "method": "POST"}], 2, [])
    ctx = session.new_context("post")
    with pytest.raises(PageStatusError) as caught:
        checkout(ctx, url, phone=PHONE, pin=PIN)
    ctx.close(failed=True)
    assert caught.value.status == 500 and caught.value.loads == 1


def test_a_stalled_page_costs_the_flows_timeout_and_a_bounded_failure_screenshot(faulted_checkout):
    _, session, url = faulted_checkout([{"match": CHECKOUT, "kind": "stall"}], 0, [])
    ctx = session.new_context("stalled")
    seen = events_of(ctx)
    with pytest.raises(PageLoadTimeout, match="did not load within 2 s"):
        checkout(ctx, url, phone=PHONE, pin=PIN, timeout=2)
    ctx.close(failed=True)
    (goto,) = [e for e in seen if e["action"] == "goto"]
    assert goto["timeoutS"] == 2 and "2000ms" in goto["error"]
    (shot,) = [e for e in seen if e["action"] == "step" and e["name"] == "failure"]
    assert shot["ms"] > 0 and (shot["screenshot"] or f"{SHOT_TIMEOUT}ms" in shot["note"])


def test_a_page_whose_wait_is_refused_is_not_loaded_again(faulted_checkout):
    _, session, url = faulted_checkout([{"match": CHECKOUT, "kind": "retry_after", "seconds": 120}], 2, [])
    session.page_wait = lambda retry, status, retry_after: None      # as retry.page_wait for a Retry-After past 30 s
    ctx = session.new_context("too-long")
    seen = events_of(ctx)
    with pytest.raises(PageStatusError) as caught:
        checkout(ctx, url, phone=PHONE, pin=PIN)
    ctx.close(failed=True)
    assert caught.value.status == 429 and caught.value.retry_after == "120" and caught.value.loads == 1
    assert not [e for e in seen if e["action"] == "reload"]
