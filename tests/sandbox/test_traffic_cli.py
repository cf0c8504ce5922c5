"""`dana-uat sandbox` prints a graded line per request; its DANA key can be kept in a file; the
Target reads the journal (and says why it cannot on DANA's real sandbox)."""

from __future__ import annotations

import os
import queue
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from conformance.config.settings import ConfigError, load_settings
from conformance.dana.target import AdminUnavailable, Target
from conformance.sandbox.danakey import load_or_create
from conformance.snap import generate_private_key, load_public_key_file, private_key_pem, public_key_pem
from tests.sandbox.conftest import MERCHANT_ID, PARTNER_ID, Raw, payment_body

ROOT = Path(__file__).resolve().parents[2]


class Lines:
    """Lines of a child's stdout, read by a thread; ``expect`` waits for one with a bound."""

    def __init__(self, stream):
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def expect(self, pattern: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s; saw {self.seen}")


@pytest.fixture
def standalone(tmp_path):
    key = generate_private_key()
    (tmp_path / "merchant.pub.pem").write_text(public_key_pem(key))
    command = [sys.executable, "-m", "conformance.sandbox", "--merchant",
               f"{PARTNER_ID}:{MERCHANT_ID}:{tmp_path / 'merchant.pub.pem'}",
               "--dana-private-key", str(tmp_path / "dana.pem")]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"})
    try:
        lines = Lines(process.stdout)
        base = lines.expect(r"^DANA sandbox running at ").rsplit(" ", 1)[1]
        lines.expect(r"^Traffic: one graded line per request")
        yield Raw(base, key), lines, tmp_path
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_sandbox_prints_a_graded_line_per_request(standalone):
    raw, lines, _ = standalone
    body = payment_body(notify_url="https://merchant.example/notify", minutes=10)
    raw.post("widget_payment", body, X_SIGNATURE=raw.headers("widget_payment", b"{}")["X-SIGNATURE"])
    line = lines.expect(r"widget_payment .*-> 401 4015400")
    assert "| FAIL" in line and "signature FAIL:" in line and "\x1b" not in line

    utc_as_jakarta = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+07:00")
    raw.post("widget_payment", payment_body(notify_url="https://merchant.example/notify", minutes=10),
             timestamp=utc_as_jakarta)
    line = lines.expect(r"widget_payment .*-> 200 2005400")
    assert "clock skew FAIL:" in line and "7 h behind: UTC labelled +07:00" in line and "signature" not in line


def test_sandbox_key_file_is_created_then_reused_and_never_printed(standalone):
    raw, lines, tmp_path = standalone
    assert any(re.search(r"DANA private key generated and saved: .*dana\.pem", seen) for seen in lines.seen)
    key_file, public_file = tmp_path / "dana.pem", tmp_path / "dana.pub.pem"
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")          # PKCS#8
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    info = httpx.get(raw.base_url + "/sandbox-admin/info", trust_env=False).json()
    assert info["danaPublicKey"] == public_file.read_text()
    assert any(str(public_file) in seen for seen in lines.seen)
    assert not any("PRIVATE KEY" in seen for seen in lines.seen)

    again = load_or_create(key_file)                    # a second start reuses the same key
    assert not again.created and public_key_pem(again.private_key) == info["danaPublicKey"]


def test_unusable_key_file_is_refused_with_exit_2(tmp_path):
    (tmp_path / "dana.pem").write_text("not a key")
    result = subprocess.run([sys.executable, "-m", "conformance.sandbox", "--dana-private-key",
                             str(tmp_path / "dana.pem")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--dana-private-key" in result.stderr


# --- the Target --------------------------------------------------------------------------------------
def test_embedded_target_uses_the_key_file_and_reads_the_journal(tmp_path):
    key_file = tmp_path / "keys" / "dana.pem"
    settings = load_settings({}, environ={"DANA_UAT_DANA_PRIVATE_KEY_PATH": str(key_file)}, env_file=None,
                             root=tmp_path)
    with Target(settings) as target:
        public = load_public_key_file(tmp_path / "keys" / "dana.pub.pem")
        assert target.dana_public_key.public_numbers() == public.public_numbers()
        merchant = settings.merchant
        raw = Raw(target.api_base, merchant.private_key, merchant.partner_id, merchant.merchant_id)
        since = target.traffic()["last"]
        raw.post("widget_payment", payment_body(notify_url="https://merchant.example/n", minutes=10)
                 | {"merchantId": merchant.merchant_id})
        found = target.wait_traffic(since, 1, 10, partner_id=merchant.partner_id, api="widget_payment")
        assert [e["verdict"] for e in found["entries"]] == ["PASS"]
        assert target.traffic(found["last"])["entries"] == []


def test_merchant_mode_reads_the_newest_sequence_number_without_the_journal(tmp_path):
    """merchant.dana.last runs before every merchant step: it asks for one entry, not all of them, and
    dana.traffic(api=) filters at the sandbox; both answer as reading the whole journal would."""
    from conformance.merchant import dana

    with Target(load_settings({}, environ={}, env_file=None, root=tmp_path)) as target:
        merchant = target.merchant
        raw = Raw(target.api_base, merchant.private_key, merchant.partner_id, merchant.merchant_id)
        for _ in range(3):
            raw.post("widget_payment", payment_body(notify_url="https://merchant.example/n", minutes=10)
                     | {"merchantId": merchant.merchant_id})
        everything = target.traffic(0, partner_id=merchant.partner_id)
        one = target.traffic(0, partner_id=merchant.partner_id, limit=1)
        assert len(everything["entries"]) == 3 and one["entries"] == everything["entries"][:1]
        assert dana.last(target) == one["last"] == everything["last"] == everything["entries"][-1]["seq"]
        assert dana.traffic(target, 0, api="widget_payment") == everything["entries"]
        assert dana.traffic(target, 0, api="apply_token") == []


def test_real_sandbox_target_has_no_journal(tmp_path):
    environ = {"DANA_UAT_TARGET": "sandbox", "X_PARTNER_ID": PARTNER_ID, "MERCHANT_ID": MERCHANT_ID,
               "PRIVATE_KEY": private_key_pem(generate_private_key())}
    target = Target(load_settings({}, environ=environ, env_file=None, root=tmp_path))
    with pytest.raises(AdminUnavailable, match="no traffic journal"):
        target.traffic()


def test_a_broken_key_file_is_a_configuration_error(tmp_path):
    (tmp_path / "dana.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="DANA_UAT_DANA_PRIVATE_KEY_PATH"):
        load_settings({}, environ={"DANA_UAT_DANA_PRIVATE_KEY_PATH": str(tmp_path / "dana.pem")},
                      env_file=None, root=tmp_path)
