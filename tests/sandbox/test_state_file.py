"""``--state FILE`` (issue 26, part 2): the sandbox resumes from its SQLite file after a restart or a
``kill -9``; a file it cannot use stops the start with exit 2 and is left as it was."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conformance.sandbox.server import SandboxServer
from conformance.sandbox.statefile import StateFile, StateFileError
from conformance.snap import generate_private_key, private_key_pem, public_key_pem
from tests.sandbox.conftest import HTTP, MERCHANT_ID, PARTNER_ID, Raw, payment_body, snap

ROOT = Path(__file__).resolve().parents[2]
PHONE = "083811223355"
START_TIMEOUT = 30.0


BANNERS: dict[int, list[str]] = {}      # pid -> the banner it printed


def start(state: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    """`dana-uat sandbox --state FILE` as a user starts it; its process and base URL (from the banner)."""
    proc = subprocess.Popen([sys.executable, "-m", "conformance.sandbox", "--port", "0", "--quiet",
                             "--state", str(state), *extra], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    banner, base = BANNERS.setdefault(proc.pid, []), None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:            # bounded: up to the banner's key, or the process ends
        line = proc.stdout.readline()
        if not line:
            break
        banner.append(line)
        if line.startswith("DANA sandbox running at "):
            base = line.split(" at ", 1)[1].strip()
        if line.startswith("-----END PUBLIC KEY-----") and base:
            threading.Thread(target=proc.stdout.read, daemon=True).start()     # drain the rest
            return proc, base
    proc.kill()
    raise AssertionError(f"the sandbox did not start (exit {proc.wait(10)}): {banner}")


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=30)


def bind(raw: Raw) -> str:
    code = HTTP.post(f"{raw.base_url}/sandbox-admin/auth-codes", json={"partnerId": raw.partner_id, "phone": PHONE},
                     timeout=10).json()["authCode"]
    answer = raw.post("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": code, "additionalInfo": {}})
    return answer.json()["accessToken"]


def apply_ott(raw: Raw, token: str):
    return raw.post("apply_ott", {"userResources": ["OTT"],
                                  "additionalInfo": {"accessToken": token, "deviceId": "device-test"}})


@pytest.fixture()
def merchant(tmp_path):
    key = generate_private_key()
    (tmp_path / "merchant.pub.pem").write_text(public_key_pem(key))
    return key, f"{PARTNER_ID}:{MERCHANT_ID}:{tmp_path / 'merchant.pub.pem'}"


def test_sigkill_mid_loop_loses_nothing_that_was_answered(tmp_path, merchant):
    key, spec = merchant
    state = tmp_path / "sandbox.db"
    proc, base = start(state, "--merchant", spec)
    raw = Raw(base, key)
    token = bind(raw)
    assert snap(apply_ott(raw, token))[1] == "2004900"              # the token applied before the kill
    answered: list[str] = []
    enough = threading.Event()

    def loop():
        for _ in range(2000):                                        # bounded; the kill ends it sooner
            body = payment_body()
            try:
                answer = raw.post("widget_payment", body)
            except Exception:                                        # the sandbox is gone: the loop is over
                return
            assert answer.json()["responseCode"] == "2005400"
            answered.append(body["partnerReferenceNo"])
            if len(answered) >= 40:
                enough.set()

    payer = threading.Thread(target=loop)
    payer.start()
    assert enough.wait(60), "40 payments were not answered within 60 s"
    os.kill(proc.pid, signal.SIGKILL)                                # midway: the loop is still posting
    payer.join(60)
    proc.wait(10)
    before_kill = list(answered)

    proc, base = start(state)                                        # no --merchant: it is in the file
    try:
        assert any("State:" in line and "(resumed: merchants 1" in line for line in BANNERS[proc.pid])
        raw = Raw(base, key)
        for ref in before_kill:
            order = HTTP.get(f"{base}/sandbox-admin/orders/{ref}", timeout=10)
            assert order.status_code == 200 and order.json()["status"] == "INIT", ref
        query = raw.post("query_payment", {"originalPartnerReferenceNo": before_kill[-1], "serviceCode": "54",
                                           "merchantId": MERCHANT_ID, "amount": {"value": "1.00", "currency": "IDR"}})
        assert snap(query)[1] == "2005500" and query.json()["latestTransactionStatus"] == "01"
        assert snap(apply_ott(raw, token))[1] == "2004900"          # the token still works
        journal = HTTP.get(f"{base}/sandbox-admin/traffic", timeout=10).json()["entries"]
        seqs = [e["seq"] for e in journal]
        assert seqs == list(range(1, len(seqs) + 1))                 # whole: no gap up to the kill
        paid_refs = {e["request"]["body"]["json"]["partnerReferenceNo"] for e in journal
                     if e["api"] == "widget_payment"}
        assert set(before_kill) <= paid_refs
        assert [e["api"] for e in journal[:2]] == ["apply_token", "apply_ott"]
        assert [e["api"] for e in journal[-2:]] == ["query_payment", "apply_ott"]   # counted on after the restart
    finally:
        assert stop(proc) == 0
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_restart_resumes_tokens_clocks_refunds_and_balances(tmp_path):
    key = generate_private_key()
    state = tmp_path / "state.db"
    with SandboxServer(state=StateFile(state)) as server:
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
        raw = Raw(server.base_url, key)
        token = bind(raw)
        body = payment_body("10.00")
        assert snap(raw.post("widget_payment", body))[1] == "2005400"
        ref = body["partnerReferenceNo"]
        assert raw.admin("POST", f"/orders/{ref}/pay", {"phone": PHONE}).json()["status"] == "SUCCESS"
        refund = {"originalPartnerReferenceNo": ref, "partnerRefundNo": "r-1", "merchantId": MERCHANT_ID,
                  "refundAmount": {"value": "4.00", "currency": "IDR"}, "reason": "x", "additionalInfo": {}}
        assert snap(raw.post("refund_order", refund))[1] == "2005800"
        raw.admin("POST", "/clock", {"partnerId": PARTNER_ID, "advanceSeconds": 3600})
        balance = raw.admin("GET", "/users").json()
    with SandboxServer(state=StateFile(state)) as server:
        raw = Raw(server.base_url, key)
        assert server.sandbox.restored["orders"] == 1
        assert snap(apply_ott(raw, token))[1] == "2004900"
        assert raw.admin("GET", "/clock").json()["merchants"] == {PARTNER_ID: 3600}
        order = raw.admin("GET", f"/orders/{ref}").json()
        assert (order["status"], order["refunded"], order["payerPhone"]) == ("SUCCESS", "4.00", PHONE)
        again = raw.post("refund_order", refund)                     # idempotent across the restart
        assert snap(again)[1] == "2005800"
        assert raw.admin("GET", "/users").json() == balance


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(state: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.sandbox", "--port", "0", "--state", str(state)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_corrupt_file_stops_the_start_and_is_left_as_it_was(tmp_path):
    state = tmp_path / "state.db"
    state.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    before = _digest(state)
    done = _refused(state)
    assert done.returncode == 2 and str(state) in done.stderr and "damaged" in done.stderr, done.stderr
    assert _digest(state) == before and sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]
    state.write_text(private_key_pem(generate_private_key()))          # not SQLite at all
    before = _digest(state)
    done = _refused(state)
    assert done.returncode == 2 and str(state) in done.stderr and "not SQLite" in done.stderr
    assert _digest(state) == before


def test_a_file_of_another_version_or_program_is_refused_unchanged(tmp_path):
    state = tmp_path / "state.db"
    with SandboxServer(state=StateFile(state)):
        pass
    with sqlite3.connect(state) as db:
        db.execute("UPDATE meta SET value = '999' WHERE name = 'version'")
    db.close()
    before = _digest(state)
    done = _refused(state)
    assert done.returncode == 2 and str(state) in done.stderr and "version 999" in done.stderr
    assert _digest(state) == before
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE meta (name TEXT, value TEXT)")
    db.close()
    with pytest.raises(StateFileError, match="not a dana-uat sandbox state file"):
        StateFile(other)


def test_a_field_set_on_a_record_and_a_record_dropped_reach_the_file(tmp_path):
    from conformance.sandbox.state import Sandbox

    path = tmp_path / "state.db"
    sandbox = Sandbox(state=StateFile(path))
    used = sandbox.store.issue_auth_code("P", PHONE, [], "", "")
    dropped = sandbox.store.issue_auth_code("P", PHONE, [], "", "")
    sandbox.state.commit()
    assert sandbox.store.consume_auth_code(used, "P")[0] == "ok"       # sets .used on the record
    del sandbox.store.auth_codes[dropped]                              # as a cap on memory would
    sandbox.store._note_gone("auth_code", dropped)
    sandbox.close_state()
    again = Sandbox(state=StateFile(path))
    assert again.store.consume_auth_code(used, "P")[0] == "used" and dropped not in again.store.auth_codes
    again.close_state()


def test_rule_a_refresh_token_refreshes_after_a_restart_before_and_after_its_first_refresh(tmp_path):
    key, state = generate_private_key(), tmp_path / "state.db"

    def refresh(raw: Raw, token: str):
        return raw.post("apply_token", {"grantType": "REFRESH_TOKEN", "refreshToken": token, "additionalInfo": {}})

    with SandboxServer(state=StateFile(state)) as server:
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
        raw = Raw(server.base_url, key)
        code = HTTP.post(f"{raw.base_url}/sandbox-admin/auth-codes", json={"partnerId": PARTNER_ID, "phone": PHONE},
                         timeout=10).json()["authCode"]
        first = raw.post("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": code, "additionalInfo": {}})
        kept = first.json()["refreshToken"]
    with SandboxServer(state=StateFile(state)) as server:
        raw = Raw(server.base_url, key)
        assert snap(refresh(raw, kept))[:2] == (200, "2007400"), "rule: a refresh token outlives a restart"
    with SandboxServer(state=StateFile(state)) as server:
        raw = Raw(server.base_url, key)
        assert snap(refresh(raw, kept))[:2] == (200, "2007400"), \
            "rule: after a refresh, the refresh token still refreshes across the next restart"
