"""`--target production --confirm-production` against the twin under DANA's production names (harness.py).

DANA's guide asks for "the same testing scenarios as sandbox testing, using your production credentials"; the
run does the production set (the scenarios marked production_safe) with a real person's DANA account, typed on
the console: here the test is that person. What reaches "DANA" is exactly what the set declares, and every
order it opens is refunded, cancelled or left to expire unpaid: no money stays moved.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.twin.harness import TwinRun

PRODUCTION_SET = {"account_unbinding_success", "cancel_order_success", "expired_notify",
                  "payment_fail_inconsistent_request", "payment_fail_invalid_signature",
                  "payment_fail_missing_or_invalid_mandatory_field", "payment_fail_invalid_format",
                  "refund_order_success"}
PERSON = "083811223355\n181818\n"      # the person's phone and PIN, typed when the run asks


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> TwinRun:
    return TwinRun(tmp_path_factory.mktemp("production"), env="production")


def _body(call: dict) -> dict:
    return (call["request"]["body"] or {}).get("json") or {}


def test_production_without_confirmation_sends_nothing(twin):
    result = twin.run(["--target", "production"], name="unconfirmed", stdin=PERSON)
    assert result.exit == 2 and "--confirm-production" in result.stderr
    assert result.api_calls() == [] and result.http() == []


def test_listing_the_production_set_asks_the_person_nothing_and_sends_nothing(twin):
    result = twin.run(["--target", "production", "--confirm-production", "--collect-only"], name="listing")
    assert result.exit == 0, result.output[-2000:]
    assert "DANA phone number" not in result.output and "PIN" not in result.stderr
    listed = {line.split("::")[1] for line in result.stdout.splitlines() if "::" in line}
    assert listed == PRODUCTION_SET
    assert result.api_calls() == []


def test_the_production_set_runs_with_the_persons_account_and_leaves_no_money_moved(twin):
    result = twin.run(["--target", "production", "--confirm-production"], name="confirmed", stdin=PERSON)
    assert result.exit == 0, result.output[-3000:]
    ran = {line.split("::")[1].split()[0] for line in result.stdout.splitlines() if "::" in line and "PASS" in line}
    assert ran == PRODUCTION_SET, ran
    assert "complete run against DANA" in result.stdout and result.bundle() is not None
    summary = result.summary()
    assert summary["target"] == "production" and summary["simulation"] is False
    assert "181818" not in result.output and "181818" not in (result.work / "reports").joinpath(
        next(result.work.glob("reports/*")).name, "summary.json").read_text()

    assert {line["host"] for line in result.http()} == {"api.saas.dana.id", "m.dana.id"}
    calls = result.api_calls()
    assert all(c["request"]["headers"].get("x-debug-mode") is None for c in calls)   # no sandbox header
    orders, paid, settled = {}, set(), defaultdict(list)
    for c in calls:
        body = _body(c)
        if c["api"] == "widget_payment" and c["response"]["responseCode"] == "2005400":
            orders[body["partnerReferenceNo"]] = body["amount"]["value"]
        elif c["api"] in ("refund_order", "cancel_order") and c["response"]["status"] == 200:
            settled[body["originalPartnerReferenceNo"]].append((c["api"], body))
    # the declared amounts: 1.00 (refund, cancel, the inconsistent reference's first order) and the unpaid
    # expiry order; nothing else was ordered
    assert sorted(orders.values()) == ["1.00", "1.00", "1.00", "11013.00"], orders
    paid = {line["path"] for line in result.http() if line["path"].startswith("/n/cashier")}
    assert paid, "the person paid at DANA's checkout page"
    for ref, amount in orders.items():
        if amount == "11013.00":
            assert ref not in settled           # never paid: it closes by itself at validUpTo
            continue
        (api, body), = settled[ref]             # every other order: exactly one refund or cancel
        key = "refundAmount" if api == "refund_order" else "amount"
        assert body[key]["value"] == amount, (ref, api, body)
    assert {api for ref in settled for api, _ in settled[ref]} == {"refund_order", "cancel_order"}
