"""Bind URLs: build them (API mode and the bindSnap deeplink), parse the callback; the linter is bindlint.py.

Protocol reference sections 3.7 (seamlessSign), 5.2 (API mode), 5.3 (deeplink), 5.5 (seamlessData keys),
5.7 (state), 5.8 (redirect back) and 9.4 (the SDK traps this builder avoids and the linter names).

The builder avoids every trap of 9.4: ``state`` is a UUID4 without dashes (32 characters, the documented
maximum), ``seamlessData`` is compact JSON with the ``mobile`` key the SDK helpers send (5.5), every value
is percent-encoded exactly once (so ``seamlessSign`` is URL-encoded once, 3.7), and ``channelId`` is what
dana-python 2.2.2 sends: the CHANNEL_ID setting or 95221, at most 5 characters (dana/widget/v1/util.py
``generate_channel_id``; older SDKs sent the partner id, Node and Go a 24-digit time id, 9.4 item 25).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, unquote_plus, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.snap import signature, timestamps

DEFAULT_SCOPES = ("CASHIER", "AGREEMENT_PAY", "QUERY_BALANCE", "DEFAULT_BASIC_PROFILE", "MINI_DANA")
PRODUCTION_SCOPES = ("MINI_DANA", "CASHIER", "QUERY_BALANCE", "DEFAULT_BASIC_PROFILE")   # 5.4: no AGREEMENT_PAY
KNOWN_SCOPES = frozenset(DEFAULT_SCOPES) | {"PUBLIC_ID"}

# 5.3: DANA's own bindSnap deeplink hosts; an embedded sandbox serves /bindSnap itself.
BIND_SNAP = {"sandbox": "https://bw93.test-app.link/bindSnap", "production": "https://link.dana.id/bindSnap"}
DANA_WEB_HOSTS = ("m.sandbox.dana.id", "m.dana.id")
DEEPLINK_PATHS = ("/bindSnap", "/n/link/binding", "/n/link/bind")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# 5.2 table: parameter -> (min, max length, required in API mode). Lengths count decoded characters.
PARAMS: dict[str, tuple[int, int, bool]] = {
    "partnerId": (1, 64, True),
    "timestamp": (25, 25, True),
    "externalId": (1, 64, True),
    "channelId": (1, 64, True),
    "merchantId": (1, 64, False),
    "subMerchantId": (1, 32, False),
    "seamlessData": (1, 512, False),
    "seamlessSign": (1, 512, False),
    "scopes": (1, 256, True),
    "redirectUrl": (1, 256, True),
    "state": (1, 32, True),
    "lang": (2, 2, False),
    "allowRegistration": (1, 5, False),
}
# Sent by every SDK / shown in the deeplink example though absent from the table (5.2, 5.3).
EXTRA_PARAMS = frozenset({"isSnapBI", "terminalType", "requestId"})
# The bindSnap example carries none of these although the table marks them required (9.6 item 40).
DEEPLINK_OPTIONAL = frozenset({"timestamp", "externalId", "channelId"})
SNAKE_CASE_NULLS = ("biz_scenario", "verified_time", "external_uid", "device_id", "skip_register_consult")

PYTHON_HELPER_HINT = (
    "this is a SHA-256 hex digest, not an RSA signature: the official Python helper "
    "Util.generate_seamless_sign silently returns exactly that when the private key is missing or "
    "unreadable (protocol reference 9.1 item 3); sign seamlessData with SHA256withRSA and Base64-encode it")


@dataclass(frozen=True)
class BindUrl:
    url: str
    state: str
    params: dict[str, str] = field(default_factory=dict)    # decoded values, in URL order

    @property
    def seamless_data(self) -> str | None:
        return self.params.get("seamlessData")


def _is_dana_web(web_base: str) -> bool:
    return urlsplit(web_base).hostname in DANA_WEB_HOSTS


def _encode(params: dict[str, str]) -> str:
    # Every value percent-encoded exactly once (RFC 3986, nothing kept safe): 3.7 and 9.4 item 27.
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


def build_bind_url(merchant, web_base: str, redirect_url: str, *, mode: str = "api", state: str | None = None,
                   scopes=None, seamless_phone: str | None = None, lang: str | None = "id",
                   allow_registration: bool | None = True, env: str = "sandbox",
                   external_id: str | None = None, timestamp: str | None = None) -> BindUrl:
    """A bind URL for ``merchant`` (partner_id, merchant_id, private_key) in API or deeplink mode.

    ``web_base`` is DANA's web host (``https://m.sandbox.dana.id``) or an embedded sandbox's base URL.
    """
    if mode not in ("api", "deeplink"):
        raise ValueError(f"mode must be 'api' or 'deeplink', not {mode!r}")
    state = state or uuid.uuid4().hex                      # 32 characters: within the documented limit (5.7)
    external_id = external_id or uuid.uuid4().hex
    timestamp = timestamp or timestamps.format_timestamp()
    if scopes is None:
        scopes = PRODUCTION_SCOPES if env == "production" else DEFAULT_SCOPES
    scope_text = scopes if isinstance(scopes, str) else ",".join(scopes)

    params: dict[str, str] = {"partnerId": merchant.partner_id, "scopes": scope_text}
    if mode == "deeplink":
        # Union of the 5.3 example (terminalType, requestId) and the table's required parameters.
        request_id = uuid.uuid4().hex
        params.update(terminalType="WEB", externalId=external_id, requestId=request_id)
    else:
        params["externalId"] = external_id
    channel_id = (getattr(merchant, "channel_id", None) or "95221")[:5]      # as dana-python 2.2.2
    params.update(channelId=channel_id, redirectUrl=redirect_url, timestamp=timestamp, state=state)
    if mode == "api":
        params["isSnapBI"] = "true"
    params["merchantId"] = merchant.merchant_id
    if lang:
        params["lang"] = lang
    if allow_registration is not None:
        params["allowRegistration"] = "true" if allow_registration else "false"
    if seamless_phone:
        data: dict[str, str] = {"mobile": seamless_phone}
        if mode == "deeplink":   # the keys of the bindSnap example (5.3), as the SDK helpers add them
            data.update(externalUid=external_id, reqTime=timestamp, verifiedTime="0", reqMsgId=request_id)
        params["seamlessData"] = json.dumps(data, separators=(",", ":"))
        params["seamlessSign"] = signature.sign(merchant.private_key, params["seamlessData"])

    if mode == "deeplink":
        env_key = "production" if env == "production" else "sandbox"
        base = BIND_SNAP[env_key] if _is_dana_web(web_base) else web_base.rstrip("/") + "/bindSnap"
    else:
        base = web_base.rstrip("/") + "/v1.0/get-auth-code"
    return BindUrl(url=f"{base}?{_encode(params)}", state=state, params=params)


# ---------------------------------------------------------------------------------------------- parsing

def raw_query(url: str) -> list[tuple[str, str]]:
    """(name, raw value) pairs exactly as written in the URL, nothing decoded."""
    query = urlsplit(url).query
    pairs = []
    for part in query.split("&") if query else []:
        name, _, value = part.partition("=")
        pairs.append((unquote_plus(name), value))
    return pairs


def decode_once(raw: str) -> str:
    """What a server's HTTP layer hands the application: one form-decoding (``+`` is a space)."""
    return unquote_plus(raw)


def parse_callback(url: str) -> dict[str, str]:
    """Query of the redirect back to the merchant (5.8): authCode, state, responseCode, ... decoded once."""
    return {name: decode_once(value) for name, value in raw_query(url)}


# ---------------------------------------------------------------------------------------------- seamlessSign

# Encodings DANA's own helpers produce and its scripts bind with (dana-node src/runtime.ts
# generateSeamlessSign encodes, then the URL builder encodes again; dana-go widget/v1/utils.go appends the
# Base64 raw): recognised, normalised and verified, and reported as WARN, not FAIL (docs/sandbox.md).
SIGN_ENCODINGS = {
    "twice": ("URL-encoded twice",
              "seamlessSign was percent-encoded twice ('+' became %252B), as DANA's Node SDK and Java UAT do; "
              "DANA's scripts bind with it, but encode the Base64 text exactly once (protocol reference 3.7)"),
    "raw": ("not URL-encoded ('+' arrived as a space)",
            "seamlessSign was put in the URL as raw Base64, as DANA's Go SDK does; it verifies only once the "
            "spaces are read back as '+'. Percent-encode it once (protocol reference 3.7)"),
}


def seamless_sign_encoding(sign_text: str, raw_sign: str | None = None) -> tuple[str, str | None]:
    """(the Base64 text, the tolerated encoding's key or None) of seamlessSign after one URL-decoding."""
    raw_sign = sign_text if raw_sign is None else raw_sign
    if "%25" in raw_sign.upper() or re.search(r"%[0-9A-Fa-f]{2}", sign_text):
        return unquote(sign_text), "twice"
    if " " in sign_text:
        return sign_text.replace(" ", "+"), "raw"
    return sign_text, None


def seamless_sign_problem(public_key: rsa.RSAPublicKey | None, seamless_data: str, sign_text: str,
                          raw_sign: str | None = None) -> tuple[str, str] | None:
    """Why ``sign_text`` (seamlessSign after one URL-decoding) is not a valid signature of ``seamless_data``.

    Returns ``(problem, hint)`` or None when it verifies, also in an encoding of SIGN_ENCODINGS (the
    linter WARNs about those). ``raw_sign`` is the undecoded text from the URL, used to recognise double
    encoding (3.7 table, 9.4 item 27). The hosted pages use this too, so they bind what DANA binds.
    """
    sign_text, _ = seamless_sign_encoding(sign_text, raw_sign)
    if re.fullmatch(r"[0-9a-fA-F]{64}", sign_text):
        return "a 64-character hex digest", PYTHON_HELPER_HINT
    raw = signature.decode_signature(sign_text)
    if raw is None:
        return ("not standard Base64",
                "seamlessSign must be standard Base64 (alphabet + / and = padding) of the RSA signature")
    if public_key is None:
        return None
    if len(raw) != public_key.key_size // 8:
        return (f"{len(raw)} bytes after Base64-decoding, but the merchant key is {public_key.key_size} bits "
                f"({public_key.key_size // 8} bytes)",
                "the signature was made with a different key, or truncated; sign with the key whose public "
                "half is registered in the Merchant Portal")
    if not signature.verify(public_key, seamless_data, sign_text):
        return ("does not verify with the merchant public key over the received seamlessData text",
                "sign exactly the seamlessData string that goes into the URL (not a re-serialisation), "
                "SHA256withRSA with the key registered in the Merchant Portal (protocol reference 3.7)")
    return None


def __getattr__(name: str):
    """``lint_bind_url`` lives in conformance.bindlint (module size); imports from here keep working."""
    if name == "lint_bind_url":
        from conformance.bindlint import lint_bind_url
        return lint_bind_url
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
