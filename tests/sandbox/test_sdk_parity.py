"""Where our client and the sandbox must do what the official SDK and DANA's fixtures do.

X-Debug-Mode: the SDK (dana/utils/snap_header.py) sends it in sandbox on the B2B APIs only; DanaClient
sends the same headers, compared on the wire at a loopback capture server. An access token past its
expiry answers 401xx01 Token Expired (Widget.json ApplyOttFailTokenExpired), not Invalid Customer Token.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conformance.client.snap_client import DanaClient
from conformance.config.settings import MerchantCredentials
from conformance.sandbox.server import SandboxServer
from conformance.sandbox.store import TOKEN_TTL
from conformance.snap import public_key_pem
from tests.sandbox import sdk
from tests.sandbox.conftest import MERCHANT_ID, PARTNER_ID, Raw, snap


class _Capture(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):                      # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = b'{"responseCode":"4040000","responseMessage":"Not Found"}'
        self.send_response(404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def capture():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    _Capture.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _Capture.seen
    server.shutdown()
    server.server_close()


def test_x_debug_mode_is_sent_where_the_sdk_sends_it(capture, merchant_key):
    base, seen = capture
    api = sdk.widget_api(base, merchant_key, PARTNER_ID)
    for call in (lambda: api.query_payment(sdk.query_request(MERCHANT_ID, "ref-1")),
                 lambda: api.balance_inquiry(sdk.balance_request("token-1")),
                 lambda: api.apply_token(sdk.auth_code_request("code-1"))):
        sdk.error(call)
    merchant = MerchantCredentials(PARTNER_ID, MERCHANT_ID, merchant_key)
    with DanaClient(merchant, base) as client:
        client.call("query_payment", {"originalPartnerReferenceNo": "ref-1", "merchantId": MERCHANT_ID,
                                      "serviceCode": "54"})
        client.call("balance_inquiry", {"partnerReferenceNo": "r", "balanceTypes": ["BALANCE"],
                                        "additionalInfo": {"accessToken": "token-1", "deviceId": "d"}})
        client.call("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": "code-1"})
    assert len(seen) == 6
    by_sender = [[(path, headers.get("x-debug-mode")) for path, headers in half] for half in (seen[:3], seen[3:])]
    assert by_sender[0] == by_sender[1]
    assert [debug for _, debug in by_sender[0]] == ["1", None, None]


def test_an_expired_access_token_answers_token_expired(merchant_key):
    # Its own sandbox: the clock moves past the 3-year token lifetime, which no other test should see.
    with SandboxServer() as server:
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(merchant_key))
        raw = Raw(server.base_url, merchant_key)
        code = raw.admin("POST", "/auth-codes", {"partnerId": PARTNER_ID, "phone": "083811223355"}).json()
        token = snap_body(raw.post("apply_token", {"grantType": "AUTHORIZATION_CODE",
                                                   "authCode": code["authCode"]}))["accessToken"]
        info = {"accessToken": token, "deviceId": "device-1"}
        ott = {"userResources": ["OTT"], "additionalInfo": info}
        balance = {"partnerReferenceNo": "b-1", "balanceTypes": ["BALANCE"], "additionalInfo": info}
        assert snap(raw.post("apply_ott", ott))[1] == "2004900"
        raw.admin("POST", "/clock", {"partnerId": raw.partner_id,
                                     "advanceSeconds": int((TOKEN_TTL + timedelta(days=1)).total_seconds())})
        assert snap(raw.post("apply_ott", ott)) == (401, "4014901", "Token Expired")
        assert snap(raw.post("balance_inquiry", balance)) == (401, "4011101", "Token Expired")
        # an unknown token is still an invalid one
        ott["additionalInfo"] = {"accessToken": "unknown", "deviceId": "device-1"}
        assert snap(raw.post("apply_ott", ott)) == (401, "4014902", "Invalid Customer Token")


def snap_body(response):
    assert response.status_code == 200, response.text
    return response.json()


def test_the_hosted_page_binds_the_seamless_sign_encodings_of_danas_helpers(sandbox_server, merchant_key):
    """What the linter only WARNs about (Node: encoded twice, Go: raw Base64) opens the login page; a forged
    signature in the same encoding is still refused."""
    from urllib.parse import quote

    import httpx

    from conformance.client.binding import build_bind_url
    from conformance.snap import generate_private_key, sign

    merchant = MerchantCredentials(PARTNER_ID, MERCHANT_ID, merchant_key)
    for i in range(50):      # a signature with '+', which the raw form turns into a space
        bind = build_bind_url(merchant, sandbox_server.base_url, "https://merchant.example/cb",
                              seamless_phone=f"08381122{i:04d}")
        if "+" in bind.params["seamlessSign"]:
            break
    signed, forged = bind.params["seamlessSign"], sign(generate_private_key(), bind.seamless_data)
    base, _, query = bind.url.partition("?")
    kept = "&".join(p for p in query.split("&") if not p.startswith("seamlessSign="))
    for encode in (lambda s: quote(quote(s, safe=""), safe=""), lambda s: s):
        for sign_text, accepted in ((signed, True), (forged, False)):
            page = httpx.get(f"{base}?{kept}&seamlessSign={encode(sign_text)}", trust_env=False, timeout=10)
            assert ("invalid_seamless_sign" not in page.text) is accepted, page.text[:300]
            assert (page.status_code < 400) is accepted
