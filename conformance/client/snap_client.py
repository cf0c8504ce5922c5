"""DanaClient: signs and sends Widget API calls as a merchant would, and records every exchange.

Headers per API family ([sdk-header], conformance.snap.apis):
  apply_token  X-TIMESTAMP, X-SIGNATURE over ``clientId|timestamp``, X-CLIENT-KEY, X-PARTNER-ID, CHANNEL-ID
  b2b          X-TIMESTAMP, X-SIGNATURE over ``POST:path:sha256(minified body):timestamp``, X-PARTNER-ID,
               X-EXTERNAL-ID (fresh, 36 chars), CHANNEL-ID, ORIGIN, and ``X-Debug-Mode: 1`` in sandbox, as
               dana-python 2.2.2 sends it (dana/utils/snap_header.py, only on this family)
  b2b2c        b2b plus Authorization-Customer: Bearer <token>, X-DEVICE-ID
The body is sent as the exact compact JSON bytes that were hashed. Negative scenarios describe their
faults as data (``tamper``), applied in one place: ``_apply_tamper``.
"""

from __future__ import annotations

import functools
import json
import random
import ssl
import string
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import httpx

from conformance.config.tls import trust
from conformance.snap import apis, keys, signature, timestamps


@functools.cache
def _other_key():
    """A key pair the merchant never registered (tamper ``signature: other_key``); one per process is enough."""
    return keys.generate_private_key()


# The 64-hex "signature" DANA's Python/PHP UAT sends ([uat-fixtures]).
HEX64 = "85be817c55b2c135157c7e89f52499bf0c25ad6eeebe04a986e8c862561b19a5"


def compact_json(body: Any) -> bytes:
    """Compact JSON bytes, key order kept, non-ASCII as UTF-8 (what Node/Go/Java SDKs send)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def external_id() -> str:
    """36 characters like the SDKs' ``sdk`` + UUID4 tail ([sdk-header])."""
    return "sdk" + str(uuid.uuid4())[3:]


def _parsed(raw: bytes | str | None) -> Any:
    """The JSON value of a body; None when it is empty or not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


@dataclass
class Exchange:
    """One HTTP request and its response (or transport error)."""

    api: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    signed_path: str
    tamper: dict = field(default_factory=dict)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    elapsed_ms: float = 0.0
    error: str | None = None
    started_at: str = ""

    @property
    def json(self) -> Any:
        return _parsed(self.response_body)

    @property
    def request_json(self) -> Any:
        return _parsed(self.request_body)

    def response_text(self, limit: int = 2000) -> str:
        text = self.response_body.decode("utf-8", "replace")
        return text if len(text) <= limit else text[:limit] + "..."


class DanaClient:
    """Merchant-side client of one target. ``recorder`` (optional) receives every Exchange."""

    def __init__(self, merchant, base_url: str, recorder=None, *, clock: Callable[[], datetime] | None = None,
                 timeout: float = 20.0, transport: httpx.BaseTransport | None = None, debug_mode: bool = True,
                 verify: ssl.SSLContext | None = None):
        self.merchant = merchant
        self.debug_mode = debug_mode      # X-Debug-Mode: 1, sent to a sandbox only (runner: not in production)
        self.base_url = base_url.rstrip("/")
        self.recorder = recorder
        self.clock = clock or timestamps.now
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                  verify=verify or trust())   # verify: the run's (DANA_UAT_CA_BUNDLE)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "DanaClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- building ----------------------------------------------------------------------------

    def headers_for(self, api: apis.API, body: bytes, timestamp: str, *, path: str | None = None,
                    customer_token: str | None = None, device_id: str | None = None, key=None) -> dict[str, str]:
        """The signed headers for ``api`` (the family's profile), signed over ``path`` and ``body``."""
        m, key = self.merchant, key or self.merchant.private_key
        headers = {"Content-Type": "application/json", "X-TIMESTAMP": timestamp}
        if api.family == "apply_token":
            message = signature.apply_token_string_to_sign(m.partner_id, timestamp)
            headers |= {"X-CLIENT-KEY": m.partner_id, "X-PARTNER-ID": m.partner_id, "CHANNEL-ID": m.channel_id}
        else:
            message = signature.string_to_sign(api.method, path or api.path, body, timestamp)
            headers |= {"X-PARTNER-ID": m.partner_id, "X-EXTERNAL-ID": external_id(),
                        "CHANNEL-ID": m.channel_id, "ORIGIN": m.origin}
            if api.family == "b2b" and self.debug_mode:
                headers["X-Debug-Mode"] = "1"
            if api.family == "b2b2c":
                if customer_token:
                    headers["Authorization-Customer"] = f"Bearer {customer_token}"
                if device_id:
                    headers["X-DEVICE-ID"] = device_id
        headers["X-SIGNATURE"] = signature.sign(key, message)
        return headers

    def call(self, api_name: str, body: Mapping | None = None, *, headers: Mapping[str, str] | None = None,
             tamper: Mapping | Any | None = None, customer_token: str | None = None,
             device_id: str | None = None, path: str | None = None) -> Exchange:
        """Sign and send one call; never raises for HTTP or transport failures (they are in the Exchange).

        ``path`` posts to (and signs) another of the API's known paths, e.g. the Query Payment path
        DANA's Go and Node scripts use.
        """
        api = apis.get_api(api_name)
        if path is not None and path not in api.paths:
            raise ValueError(f"{path!r} is not a path of {api.name}; known: {', '.join(api.paths)}")
        if path is not None:
            api = replace(api, path=path)
        body = dict(body or {})
        info = body.get("additionalInfo") if isinstance(body.get("additionalInfo"), Mapping) else {}
        if api.family == "b2b2c":   # the SDKs take both from additionalInfo ([sdk-header])
            customer_token = customer_token or info.get("accessToken")
            device_id = device_id or info.get("deviceId")
        tamper = _tamper_dict(tamper)
        raw = tamper["body_raw"].encode("utf-8") if tamper.get("body_raw") is not None else compact_json(body)
        ts = timestamps.format_timestamp(self.clock())
        request_headers = self._apply_tamper(api, raw, ts, tamper, customer_token, device_id)
        for name, value in (headers or {}).items():
            _set_header(request_headers, name, value)
        url = self.base_url + api.path
        exchange = Exchange(api=api.name, method=api.method, url=url, request_headers=request_headers,
                            request_body=raw, signed_path=tamper.get("path") or api.path, tamper=tamper,
                            started_at=timestamps.format_timestamp())
        started = time.perf_counter()
        try:
            response = self._http.request(api.method, url, content=raw, headers=request_headers)
            exchange.status = response.status_code
            exchange.response_headers = dict(response.headers)
            exchange.response_body = response.content
        except httpx.HTTPError as exc:
            exchange.error = f"{type(exc).__name__}: {exc}"
        exchange.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        if self.recorder is not None:
            self.recorder.exchange(exchange)
        return exchange

    # -- tampering, all in one place -----------------------------------------------------------

    def _apply_tamper(self, api: apis.API, raw: bytes, ts: str, tamper: dict, customer_token, device_id) -> dict:
        mode = tamper.get("timestamp")
        signed_ts = ts
        if mode == "malformed":        # DANA's UAT: a space instead of T ([sdk-header])
            signed_ts = ts.replace("T", " ")
        elif mode == "stale":
            signed_ts = timestamps.format_timestamp(self.clock() - timedelta(days=1))
        sig_mode = tamper.get("signature")
        key = self._other() if sig_mode == "other_key" else None
        headers = self.headers_for(api, raw, signed_ts, path=tamper.get("path"), customer_token=customer_token,
                                   device_id=device_id, key=key)
        if mode == "missing":
            _drop_header(headers, "X-TIMESTAMP")
        elif mode == "empty":
            headers["X-TIMESTAMP"] = ""
        forged = {
            "invalid": lambda: signature.sign(self.merchant.private_key, "not the string to sign"),
            "hex64": lambda: HEX64,
            "garbage": lambda: "".join(random.Random(342).choices(string.ascii_letters + string.digits, k=342)),
            "empty": lambda: "",
        }
        if sig_mode in forged:
            headers["X-SIGNATURE"] = forged[sig_mode]()
        elif sig_mode == "missing":
            _drop_header(headers, "X-SIGNATURE")
        header_tamper = tamper.get("headers") or {}
        for name in header_tamper.get("drop") or []:
            _drop_header(headers, name)
        for name, value in (header_tamper.get("set") or {}).items():
            _set_header(headers, name, value)
        return headers

    def _other(self):
        return _other_key()


def _tamper_dict(tamper: Any) -> dict:
    if tamper is None:
        return {}
    if hasattr(tamper, "model_dump"):
        return tamper.model_dump(exclude_none=True)
    return {k: v for k, v in dict(tamper).items() if v is not None}


def _drop_header(headers: dict, name: str) -> None:
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]


def _set_header(headers: dict, name: str, value: str) -> None:
    _drop_header(headers, name)
    headers[name] = str(value)
