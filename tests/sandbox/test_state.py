"""The Sandbox object and store methods the hosted pages call, the clock, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from conformance.sandbox.rules import Rules
from conformance.sandbox.state import OrderNotPayable, Sandbox
from conformance.sandbox.store import Order
from conformance.sandbox.validate import Problem, check
from conformance.snap.schemas import SCHEMAS
from conformance.snap.timestamps import format_timestamp

ROOT = Path(__file__).resolve().parents[2]


def make_order(sandbox: Sandbox, minutes: int = 15, amount: str = "1.00") -> Order:
    now = sandbox.clock.now("P")
    order = Order(sandbox.store.new_reference(), f"ref-{minutes}-{amount}-{now.timestamp()}", "M", "P",
                  amount, "IDR", "INIT", now + timedelta(minutes=minutes), "t", None, None,
                  created_at=now, expires_at=now + timedelta(minutes=minutes))
    return sandbox.store.put_order(order)[0]


def test_find_user_accepts_every_phone_spelling():
    store = Sandbox().store
    for phone in ("083811223355", "6283811223355", "83811223355", "+62 838-1122-3355"):
        user = store.find_user(phone)
        assert (user.phone, user.pin, user.role) == ("083811223355", "181818", "normal")
    assert store.find_user("0855100800").role == "abnormal"
    assert store.find_user("0800000000") is None


def test_auth_code_and_ott_lifetimes_follow_the_clock():
    sandbox = Sandbox()
    store = sandbox.store
    code = store.issue_auth_code("P", "083811223355", ["CASHIER"], "https://m.example/cb", "s")
    assert store.consume_auth_code(code, "other")[0] == "unknown"
    sandbox.clock.advance(599, "P")
    assert store.consume_auth_code(code, "P")[0] == "ok"
    assert store.consume_auth_code(code, "P")[0] == "used"
    late = store.issue_auth_code("P", "083811223355", [], "", "")
    sandbox.clock.advance(600, "P")
    assert store.consume_auth_code(late, "P")[0] == "expired"
    ott = store.issue_ott("P", "083811223355")
    assert store.redeem_ott(ott, "other") is None       # another merchant's order: not valid, not used up
    assert store.redeem_ott(ott, "P").phone == "083811223355"
    assert store.redeem_ott(ott, "P") is None
    stale = store.issue_ott("P", "083811223355")
    sandbox.clock.advance(601, "P")
    assert store.redeem_ott(stale, "P") is None


def test_pay_order_contract():
    sandbox = Sandbox()
    order = make_order(sandbox)
    assert sandbox.store.get_order(order.reference_no) is order
    paid = sandbox.pay_order(order.reference_no, "083811223355")
    assert paid.status == "SUCCESS" and paid.payer_phone == "083811223355"
    for reference_no, reason in ((order.reference_no, "order already paid"), ("nope", "unknown order")):
        with pytest.raises(OrderNotPayable) as caught:
            sandbox.pay_order(reference_no, "083811223355")
        assert caught.value.reason == reason
    expiring = make_order(sandbox, minutes=1)
    sandbox.clock.advance(61, "P")
    assert expiring.status == "CLOSED"
    with pytest.raises(OrderNotPayable, match="expired"):
        sandbox.pay_order(expiring.reference_no, "083811223355")
    too_dear = make_order(sandbox, amount="99999999.00")
    with pytest.raises(OrderNotPayable, match="insufficient"):
        sandbox.pay_order(too_dear.reference_no, "083811223355")


def test_clock_only_moves_forward():
    sandbox = Sandbox()
    before = sandbox.clock.now()
    assert sandbox.clock.advance(3600) - before >= timedelta(seconds=3600)
    with pytest.raises(ValueError):
        sandbox.clock.advance(-1)


def test_schema_validation_names_the_field():
    schema = SCHEMAS["widget_payment"]
    assert check(schema, {}) == Problem("02", "partnerReferenceNo")
    body = {"partnerReferenceNo": "r", "merchantId": "m", "amount": {"value": "1.0", "currency": "IDR"}}
    assert check(schema, body) == Problem("01", "amount")
    body["amount"]["value"] = 5
    assert check(schema, body) == Problem("01", "amount")
    body["amount"]["value"] = "1.00"
    body["validUpTo"] = format_timestamp()[:-6] + "Z"
    assert check(schema, body) == Problem("01", "validUpTo")
    assert check(SCHEMAS["apply_ott"], {"userResources": ["OTT", "X"]}) == Problem("01", "userResources")
    assert check(SCHEMAS["transaction_history_list"], {"fromDateTime": "a", "toDateTime": "b",
                                                       "pageSize": "1x"}) == Problem("01", "pageSize")


def test_magic_table_is_valid_and_complete():
    rules = Rules.load()
    assert all(o.code is None or o.response() for o in rules.all_outcomes())
    assert rules.match("widget_payment", {"amount": {"value": "205502.00"}}).effect == "stay_paying"
    assert rules.match("cancel_order", {"originalPartnerReferenceNo": "4035705"}).code == "4035705"
    assert rules.match("widget_payment", {"amount": "oops"}) is None
    with pytest.raises(ValueError):
        Rules({"apis": {"widget_payment": {"amount.value": {"1.00": {"code": "9999999"}}}}})


def test_cli_prints_urls_and_key_and_stops_on_sigterm(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "conformance.sandbox", "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = process.stdout.readline()
        assert first.startswith("DANA sandbox running at http://127.0.0.1:")
        lines = [process.stdout.readline() for _ in range(12)]
        assert any("BEGIN PUBLIC KEY" in line for line in lines)
        assert any("Admin API:" in line and "open to this machine only" in line for line in lines)
        assert any("State:" in line and "in memory" in line for line in lines)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_cli_rejects_a_bad_merchant_spec():
    result = subprocess.run([sys.executable, "-m", "conformance.sandbox", "--merchant", "only-two:parts"],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "PARTNER_ID:MERCHANT_ID:PUBLIC_KEY_FILE" in result.stderr
