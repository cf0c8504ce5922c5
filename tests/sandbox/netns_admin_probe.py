"""Run inside a network namespace (tests/sandbox/test_admin_access.py starts it with ``unshare``).

Starts ``dana-uat sandbox --host 0.0.0.0`` as a user would, reads its banner (the URL, the generated token),
then calls every admin route without the token, with a wrong one and with it, a SNAP API through the
official SDK and a hosted page; prints what it observed as one JSON object. The test asserts on it: this
script only observes, so a sandbox that lets a stranger in shows up as a status the test refuses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx

from conformance.snap import generate_private_key, public_key_pem
from tests.sandbox import sdk
from tests.sandbox.conftest import MERCHANT_ID, PARTNER_ID, payment_body

START_TIMEOUT = 30.0
OTHER_PARTNER = "2025112100000000000026"        # registered with the token
STRANGER_PARTNER = "2025112100000000000666"     # a stranger tries to register it without


def start_sandbox() -> tuple[subprocess.Popen, str, str, list[str]]:
    """The sandbox's process, its base URL, the token its banner printed, the banner."""
    env = {k: v for k, v in os.environ.items() if k != "DANA_UAT_SANDBOX_TOKEN"}
    proc = subprocess.Popen([sys.executable, "-m", "conformance.sandbox", "--host", "0.0.0.0", "--port", "0",
                             "--quiet"], stdout=subprocess.PIPE, text=True, env=env)
    banner, base, token = [], None, None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:       # the banner ends with the key; bounded by the deadline
        line = proc.stdout.readline()
        if not line:
            break
        banner.append(line.rstrip("\n"))
        if line.startswith("DANA sandbox running at "):
            base = line.split(" at ", 1)[1].strip()
        if "Admin token (generated, shown once):" in line:
            token = line.split(":", 1)[1].strip()
        if line.startswith("-----END PUBLIC KEY-----"):
            break
    if base is None:
        proc.kill()
        raise SystemExit(f"the sandbox did not start: {banner}")
    return proc, base, token, banner


def reachable(base: str, address: str) -> str:
    """0.0.0.0 is where it listens; clients call the address this namespace gave the host."""
    parts = urlsplit(base)
    return urlunsplit(parts._replace(netloc=f"{address}:{parts.port}"))


def admin_calls(ref: str, key) -> list[tuple[str, str, dict | None]]:
    """One call per admin route (method, path, body) that succeeds with the token."""
    return [
        ("GET", "/info", None),
        ("POST", "/merchants", {"partnerId": OTHER_PARTNER, "merchantId": MERCHANT_ID,
                                "publicKey": public_key_pem(key)}),
        ("GET", "/clock", None),
        ("POST", "/clock", {"advanceSeconds": 0, "partnerId": PARTNER_ID}),
        ("GET", f"/orders/{ref}", None),
        ("POST", f"/orders/{ref}/pay", {"phone": "083811223355"}),
        ("POST", "/auth-codes", {"partnerId": PARTNER_ID}),
        ("GET", f"/notifications?partnerReferenceNo={ref}", None),
        ("POST", "/notifications/wait", {"partnerReferenceNo": ref, "count": 0, "timeoutSeconds": 0}),
        ("POST", "/notifications/send", {"body": {"originalPartnerReferenceNo": ref,
                                                  "latestTransactionStatus": "00"},
                                         "url": "http://127.0.0.1:9/notify", "deliver": False}),
        ("GET", "/traffic", None),
        ("POST", "/traffic/wait", {"since": 0, "count": 0, "timeoutSeconds": 0}),
        ("GET", "/users", None),
        ("GET", "/magic", None),
        ("GET", "/faults", None),
    ]


def stranger_calls(ref: str, key) -> list[tuple[str, str, dict | None]]:
    """The same routes, each with what a stranger would want done."""
    calls = admin_calls(ref, key)
    calls[1] = ("POST", "/merchants", {"partnerId": STRANGER_PARTNER, "merchantId": MERCHANT_ID,
                                       "publicKey": public_key_pem(key)})
    calls[3] = ("POST", "/clock", {"advanceSeconds": 86400, "partnerId": PARTNER_ID})
    calls[9] = ("POST", "/notifications/send", {"body": {"originalPartnerReferenceNo": ref,
                                                         "latestTransactionStatus": "00",
                                                         "amount": {"value": "999999.00", "currency": "IDR"}},
                                                "url": "http://127.0.0.1:9/notify", "deliver": False})
    return calls


def observe(http: httpx.Client, base: str, calls, headers: dict) -> list[dict]:
    seen = []
    for method, path, body in calls:
        response = http.request(method, f"{base}/sandbox-admin{path}", json=body, headers=headers)
        try:
            data = response.json()
        except ValueError:
            data = response.text
        seen.append({"route": f"{method} {path.split('?')[0]}", "status": response.status_code, "body": data,
                     "www_authenticate": response.headers.get("www-authenticate")})
    return seen


def main() -> None:
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    proc, listening, token, banner = start_sandbox()
    base = reachable(listening, address)
    key = generate_private_key()
    bearer = {"Authorization": f"Bearer {token}"}
    out: dict = {"banner": banner, "listening": listening, "base": base, "token_printed": bool(token)}
    try:
        with httpx.Client(timeout=20, trust_env=False) as http:
            out["health"] = http.get(f"{base}/sandbox-admin/health").json()
            registered = http.post(f"{base}/sandbox-admin/merchants", headers=bearer, json={
                "partnerId": PARTNER_ID, "merchantId": MERCHANT_ID, "publicKey": public_key_pem(key)})
            out["registered"] = registered.status_code
            api = sdk.widget_api(base, key, PARTNER_ID)
            body = payment_body()
            paid = api.widget_payment(sdk.payment_request(body))
            ref = body["partnerReferenceNo"]
            out["snap_payment"] = paid.response_code
            page = http.get(reachable(paid.web_redirect_url, address))
            out["checkout_page"] = [page.status_code, page.headers.get("content-type", "")]
            out["no_token"] = observe(http, base, stranger_calls(ref, key), {})
            out["wrong_token"] = observe(http, base, admin_calls(ref, key)[:1],
                                         {"Authorization": f"Bearer {uuid.uuid4().hex}{uuid.uuid4().hex}"})
            out["basic_scheme"] = observe(http, base, admin_calls(ref, key)[:1],
                                          {"Authorization": f"Basic {token}"})
            info = http.get(f"{base}/sandbox-admin/info", headers=bearer).json()
            clock = http.get(f"{base}/sandbox-admin/clock", headers=bearer,
                             params={"partnerId": PARTNER_ID}).json()
            order = http.get(f"{base}/sandbox-admin/orders/{ref}", headers=bearer).json()
            out["after_strangers"] = {"merchants": info["merchants"], "offsetSeconds": clock["offsetSeconds"],
                                      "order_status": order["status"]}
            out["with_token"] = observe(http, base, admin_calls(ref, key), bearer)
            query = api.query_payment(sdk.query_request(MERCHANT_ID, ref))
            out["snap_query"] = [query.response_code, query.latest_transaction_status]
    finally:
        proc.terminate()
        try:
            out["exit"] = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out["exit"] = "killed"
    print(json.dumps(out))


if __name__ == "__main__":
    main()
