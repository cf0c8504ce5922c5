"""`dana-uat sandbox` knows the merchant from the same settings as `dana-uat run`: started in a folder whose
.env is the one the official SDK reads (X_PARTNER_ID, MERCHANT_ID, PRIVATE_KEY_PATH), it registers that merchant,
and the SDK's signed payment is accepted; a partner it does not know gets a live line naming it and the fix.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from dana.api_client import ApiClient
from dana.exceptions import ApiException
from dana.utils.snap_configuration import AuthSettings, Env, SnapConfiguration
from dana.widget.v1 import WidgetApi
from dana.widget.v1.models import WidgetPaymentRequest

from conformance.snap import keys
from tests.merchant import harness

JAKARTA = timezone(timedelta(hours=7))
SETTINGS = ("X_PARTNER_ID", "MERCHANT_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "DANA_UAT_TARGET")


class Console:
    """The sandbox's stdout, line by line, read with a bound (never a fixed wait)."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(line) for line in proc.stdout], daemon=True).start()

    def until(self, predicate, timeout: float = 30) -> str:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError("not printed:\n" + "".join(self.seen)) from None
            self.seen.append(line)
            if predicate(line):
                return line


@pytest.fixture
def sdk_folder(tmp_path):
    key = keys.generate_private_key()
    (tmp_path / "merchant-key.pem").write_text(keys.private_key_pem(key))
    (tmp_path / ".env").write_text(f"X_PARTNER_ID={harness.PARTNER_ID}\nMERCHANT_ID={harness.MERCHANT_ID}\n"
                                   "PRIVATE_KEY_PATH=merchant-key.pem\n")
    return tmp_path


@pytest.fixture
def sandbox_in(sdk_folder):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env["PYTHONPATH"] = str(harness.ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "conformance.cli", "sandbox", "--port", "0"], cwd=sdk_folder,
                            env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, preexec_fn=harness._die_with_parent)
    try:
        yield proc, Console(proc)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _payment(api_base: str, partner_id: str, key_path) -> str:
    config = SnapConfiguration(api_key=AuthSettings(PRIVATE_KEY_PATH=str(key_path), ORIGIN="https://shop.example",
                                                    X_PARTNER_ID=partner_id, ENV=Env.SANDBOX, DANA_ENV=Env.SANDBOX))
    config.host = api_base
    now = datetime.now(JAKARTA)
    body = {"partnerReferenceNo": uuid.uuid4().hex, "merchantId": harness.MERCHANT_ID,
            "amount": {"value": "10000.00", "currency": "IDR"},
            "validUpTo": (now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S+07:00"),
            "urlParams": [{"url": "https://shop.example/notify", "type": "NOTIFICATION", "isDeeplink": "N"},
                          {"url": "https://shop.example/return", "type": "PAY_RETURN", "isDeeplink": "N"}],
            "additionalInfo": {"productCode": "51051000100000000001", "mcc": "5732",
                               "order": {"orderTitle": "Order", "createdTime": now.strftime("%Y-%m-%dT%H:%M:%S+07:00")},
                               "envInfo": {"sourcePlatform": "IPG", "terminalType": "SYSTEM",
                                           "orderTerminalType": "WEB"}}}
    try:
        return WidgetApi(ApiClient(config)).widget_payment(WidgetPaymentRequest.from_dict(body)).response_code
    except ApiException as exc:
        return f"HTTP {exc.status}: {exc.body}"


def test_the_sandbox_registers_the_merchant_of_the_sdks_env_and_names_an_unknown_partner(sandbox_in, sdk_folder):
    proc, console = sandbox_in
    base = console.until(lambda line: line.startswith("DANA sandbox running at")).split()[-1]
    registered = console.until(lambda line: "Merchant registered" in line or "No merchant registered" in line)
    assert registered.strip() == (f"Merchant registered from .env: partnerId {harness.PARTNER_ID}, "
                                  f"merchantId {harness.MERCHANT_ID}")

    assert _payment(base, harness.PARTNER_ID, sdk_folder / "merchant-key.pem") == "2005400"
    console.until(lambda line: f"widget_payment partner={harness.PARTNER_ID} -> 200 2005400" in line)

    assert "4015400" in _payment(base, "2026999999999999999999", sdk_folder / "merchant-key.pem")
    line = console.until(lambda line: "is not registered with this sandbox" in line)
    assert "partnerId '2026999999999999999999'" in line and "X_PARTNER_ID, MERCHANT_ID and PRIVATE_KEY" in line
    assert proc.poll() is None


def test_half_a_merchant_in_env_is_a_configuration_error_naming_what_is_missing(sdk_folder):
    (sdk_folder / ".env").write_text(f"X_PARTNER_ID={harness.PARTNER_ID}\n")
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    result = subprocess.run([sys.executable, "-m", "conformance.cli", "sandbox", "--port", "0"], cwd=sdk_folder,
                            env={**env, "PYTHONPATH": str(harness.ROOT)}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "MERCHANT_ID: is not set, but X_PARTNER_ID is" in result.stdout + result.stderr
