"""Time one bind flow and one checkout through a real Chromium, after the browser has started.

    .venv/bin/python bench/browser.py [-n 5] [--screenshot on|off] [--tracing off|on|retain-on-failure]

Starts an embedded sandbox, the loopback receiver and one Chromium (not timed), then runs N bind flows
(bind URL -> phone -> agreement -> PIN -> redirect captured by the receiver) and N checkouts (Widget
Payment + Apply OTT done beforehand, not timed; the browser part: open -> pay -> Payment Success), each in
a fresh context. Prints min / median / max in milliseconds. The goal is <= 1 s each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conformance.browser import BrowserSession, bind, checkout  # noqa: E402
from conformance.client.binding import build_bind_url  # noqa: E402
from conformance.client.receiver import CallbackReceiver  # noqa: E402
from conformance.client.snap_client import DanaClient  # noqa: E402
from conformance.config.settings import MerchantCredentials  # noqa: E402
from conformance.sandbox.server import SandboxServer  # noqa: E402
from conformance.snap import keys, timestamps  # noqa: E402

PHONE, PIN = "083811223355", "181818"


def payment(client, merchant, receiver) -> str:
    body = {"partnerReferenceNo": uuid.uuid4().hex, "merchantId": merchant.merchant_id,
            "amount": {"value": "1.00", "currency": "IDR"},
            "validUpTo": timestamps.format_timestamp(timestamps.now() + timedelta(minutes=15)),
            "urlParams": [{"url": receiver.pay_return_url, "type": "PAY_RETURN", "isDeeplink": "N"}],
            "additionalInfo": {"productCode": "51051000100000000001", "mcc": "5732",
                               "order": {"orderTitle": "bench", "createdTime": timestamps.format_timestamp()},
                               "envInfo": {"sourcePlatform": "IPG", "terminalType": "SYSTEM"}}}
    return client.call("widget_payment", body).json["webRedirectUrl"]


def ms(seconds: list[float]) -> str:
    values = [s * 1000 for s in seconds]
    return f"min {min(values):7.1f}  median {statistics.median(values):7.1f}  max {max(values):7.1f} ms"


def measure(n: int = 5, screenshot: str = "on", tracing: str = "off") -> dict:
    """Seconds of each bind flow and each checkout, plus the browser's start-up; used by bench/run.py too."""
    merchant = MerchantCredentials("2026" + uuid.uuid4().hex[:18], "2166" + uuid.uuid4().hex[:17], keys.generate_private_key())
    with tempfile.TemporaryDirectory() as tmp, SandboxServer() as server, CallbackReceiver() as receiver, \
            DanaClient(merchant, server.base_url) as client:
        server.register_merchant(merchant.partner_id, merchant.merchant_id, merchant.public_key_pem)
        began = time.perf_counter()
        with BrowserSession(artifacts_dir=Path(tmp), screenshot=screenshot, tracing=tracing) as browser:
            started = time.perf_counter() - began
            warm = browser.new_context("warm-up")                    # first page load compiles caches: not timed
            warm.run(lambda page: page.goto(server.base_url + "/n/cashier/new/checkout?bizNo=none"))
            warm.close()

            binds, pays = [], []
            for i in range(n):
                url = build_bind_url(merchant, server.base_url, receiver.redirect_url, seamless_phone=PHONE)
                ctx = browser.new_context(f"bind-{i}")
                began = time.perf_counter()
                result = bind(ctx, url.url, phone=PHONE, pin=PIN)
                receiver.wait_for_callback(url.state, timeout=10)
                binds.append(time.perf_counter() - began)
                ctx.close()
                assert result.auth_code

            token = client.call("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": result.auth_code,
                                                "refreshToken": "", "additionalInfo": {}}).json["accessToken"]
            for i in range(n):
                web_url = payment(client, merchant, receiver)
                ott = client.call("apply_ott", {"userResources": ["OTT"], "additionalInfo": {
                    "accessToken": token, "deviceId": "bench"}}).json["userResources"][0]["value"]
                ctx = browser.new_context(f"checkout-{i}")
                began = time.perf_counter()
                outcome = checkout(ctx, f"{web_url}&ott={ott}", phone=PHONE, pin=PIN)
                pays.append(time.perf_counter() - began)
                ctx.close()
                assert outcome.outcome == "success", outcome
    return {"executable": browser.executable, "start": started, "bind": binds, "checkout": pays}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5)
    parser.add_argument("--screenshot", default="on", choices=("on", "off", "only-on-failure"))
    parser.add_argument("--tracing", default="off", choices=("on", "off", "retain-on-failure"))
    args = parser.parse_args(argv)
    result = measure(args.n, args.screenshot, args.tracing)
    print(f"browser: {result['executable']}  screenshots={args.screenshot} tracing={args.tracing}  n={args.n}")
    print(f"bind flow     {ms(result['bind'])}")
    print(f"checkout(OTT) {ms(result['checkout'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
