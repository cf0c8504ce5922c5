"""One embedded sandbox on loopback for the whole sandbox test session, and signed raw requests."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from conformance.sandbox.server import SandboxServer
from conformance.snap import (
    apply_token_string_to_sign,
    format_timestamp,
    generate_private_key,
    get_api,
    public_key_pem,
    sign,
    string_to_sign,
)
from conformance.snap.timestamps import now as jakarta_now

PARTNER_ID = "2025112100000000000001"
MERCHANT_ID = "216620000000000000001"


def _additional_info(raw: bytes) -> dict:
    try:
        info = json.loads(raw).get("additionalInfo")
    except (ValueError, AttributeError, RecursionError):      # fuzzed bodies nest past json's limit
        return {}
    return info if isinstance(info, dict) else {}


def _header_safe(value) -> str:
    """The value as a legal header value; fuzzed bodies carry values no HTTP client would send."""
    text = value if isinstance(value, str) else ""
    return text if text and text.isascii() and text.isprintable() and text == text.strip() else "device-test"


@dataclass
class Raw:
    """Signs and posts requests the way the SDK's raw UAT helpers do, with hooks to tamper."""
    base_url: str
    key: object
    partner_id: str = PARTNER_ID
    merchant_id: str = MERCHANT_ID

    def headers(self, api_name: str, raw: bytes, *, timestamp: str | None = None, path: str | None = None,
                **override) -> dict:
        api = get_api(api_name)
        ts = timestamp or format_timestamp()
        if api.family == "apply_token":
            signature = sign(self.key, apply_token_string_to_sign(self.partner_id, ts))
            headers = {"X-CLIENT-KEY": self.partner_id, "X-PARTNER-ID": self.partner_id}
        else:
            signature = sign(self.key, string_to_sign("POST", path or api.path, raw, ts))
            headers = {"X-PARTNER-ID": self.partner_id, "X-EXTERNAL-ID": uuid.uuid4().hex,
                       "CHANNEL-ID": "95221", "ORIGIN": "https://merchant.example"}
            if api.family == "b2b2c":   # as the SDKs do: both taken from additionalInfo ([sdk-header])
                info = _additional_info(raw)
                headers["Authorization-Customer"] = f"Bearer {_header_safe(info.get('accessToken'))}"
                headers["X-DEVICE-ID"] = _header_safe(info.get("deviceId"))
        headers.update({"Content-Type": "application/json", "X-TIMESTAMP": ts, "X-SIGNATURE": signature})
        for name, value in override.items():
            name = name.replace("_", "-")
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        return headers

    def post(self, api_name: str, body, *, path: str | None = None, raw: bytes | None = None,
             **override) -> httpx.Response:
        data = raw if raw is not None else json.dumps(body).encode()
        headers = self.headers(api_name, data, path=path, **override)
        url = self.base_url + (path or get_api(api_name).path)
        return HTTP.post(url, content=data, headers=headers, timeout=10)

    def admin(self, method: str, path: str, body=None) -> httpx.Response:
        return HTTP.request(method, f"{self.base_url}/sandbox-admin{path}", json=body, timeout=30)


# One client for the raw requests of the session (thread-safe; concurrent requests get their own
# connections). httpx.post() built a client per call, and with it a TLS context loading the CA bundle
# (about 20 ms of CPU) for a loopback http URL: 300 times in this folder. The requests are the same (same
# headers; the sandbox sets no cookies); connections are kept alive between them, as the SDKs' are.
HTTP = httpx.Client(trust_env=False)


@pytest.fixture(scope="session")
def merchant_key():
    return generate_private_key()


@pytest.fixture(scope="session")
def sandbox_server(merchant_key):
    with SandboxServer() as server:
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(merchant_key))
        yield server


@pytest.fixture(scope="session")
def raw(sandbox_server, merchant_key) -> Raw:
    return Raw(sandbox_server.base_url, merchant_key)


def valid_up_to(minutes: int = 15) -> str:
    return format_timestamp(jakarta_now() + timedelta(minutes=minutes))


def payment_body(amount: str = "1.00", ref: str | None = None, *, notify_url: str | None = None,
                 minutes: int = 15) -> dict:
    """DANA's PaymentSuccess fixture ([uat-fixtures]) with a fresh reference."""
    body = {
        "partnerReferenceNo": ref or str(uuid.uuid4()), "merchantId": MERCHANT_ID,
        "amount": {"value": amount, "currency": "IDR"}, "validUpTo": valid_up_to(minutes),
        "additionalInfo": {
            "productCode": "51051000100000000001", "mcc": "5732",
            "order": {"orderTitle": "DANA Widget Test Order", "createdTime": format_timestamp()},
            "envInfo": {"appVersion": "", "clientIp": "", "extendInfo": "", "merchantAppVersion": "",
                        "orderOsType": "", "orderTerminalType": "SYSTEM", "osType": "", "sdkVersion": "",
                        "sessionId": "", "sourcePlatform": "IPG", "terminalType": "SYSTEM", "tokenId": "",
                        "websiteLanguage": ""}},
    }
    if notify_url:
        body["urlParams"] = [{"url": notify_url, "type": "NOTIFICATION", "isDeeplink": "N"},
                             {"url": "https://merchant.example/return", "type": "PAY_RETURN", "isDeeplink": "N"}]
    return body


def snap(response: httpx.Response) -> tuple[int, str, str]:
    """(HTTP status, responseCode, responseMessage); asserts the status/code agreement on the way."""
    body = response.json()
    assert str(response.status_code) == body["responseCode"][:3], body
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-timestamp")
    return response.status_code, body["responseCode"], body["responseMessage"]
