"""Bind URLs: build them (API mode and the bindSnap deeplink), parse the callback; the linter is bindlint.py.

Sources (docs/references.md): [doc-get-oauth] (API mode, state, redirect back), [doc-deeplink] (bindSnap),
[sdk-util] (seamlessData keys, seamlessSign, and the SDK helpers' traps this builder avoids and the linter names).

The builder avoids every trap of the SDK helpers: ``state`` is a UUID4 without dashes (32 characters, the
documented maximum), ``seamlessData`` is compact JSON with the ``mobile`` key the SDK helpers send ([sdk-util]),
every value is percent-encoded exactly once (so ``seamlessSign`` is URL-encoded once), and ``channelId`` is
what dana-python 2.2.2 sends: the CHANNEL_ID setting or 95221, at most 5 characters ([sdk-util]
``generate_channel_id``; older SDKs sent the partner id, Node and Go a 24-digit time id).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus, urlsplit

from conformance.snap import signature, timestamps
from conformance.snap.oauth import DEFAULT_SCOPES, KNOWN_SCOPES, seamless_sign_problem  # noqa: F401 - re-exported

PRODUCTION_SCOPES = ("MINI_DANA", "CASHIER", "QUERY_BALANCE", "DEFAULT_BASIC_PROFILE")   # [sdk-util]: no AGREEMENT_PAY

# [doc-deeplink]: DANA's own bindSnap deeplink hosts; an embedded sandbox serves /bindSnap itself.
BIND_SNAP = {"sandbox": "https://bw93.test-app.link/bindSnap", "production": "https://link.dana.id/bindSnap"}
DANA_WEB_HOSTS = ("m.sandbox.dana.id", "m.dana.id")
DEEPLINK_PATHS = ("/bindSnap", "/n/link/binding", "/n/link/bind")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# [doc-get-oauth]: parameter -> (min, max length, required in API mode). Lengths count decoded characters.
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
# Sent by every SDK / shown in the deeplink example though absent from the table ([doc-get-oauth], [doc-deeplink]).
EXTRA_PARAMS = frozenset({"isSnapBI", "terminalType", "requestId"})
# The bindSnap example carries none of these although the table marks them required ([doc-deeplink]).
DEEPLINK_OPTIONAL = frozenset({"timestamp", "externalId", "channelId"})
SNAKE_CASE_NULLS = ("biz_scenario", "verified_time", "external_uid", "device_id", "skip_register_consult")


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
    # Every value percent-encoded exactly once (RFC 3986, nothing kept safe): [sdk-util].
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
    state = state or uuid.uuid4().hex                      # 32 characters: within the documented limit ([doc-get-oauth])
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
        if mode == "deeplink":   # the keys of the bindSnap example ([doc-deeplink]), as the SDK helpers add them
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
    """Query of the redirect back to the merchant ([doc-get-oauth]): authCode, state, responseCode, ... decoded once."""
    return {name: decode_once(value) for name, value in raw_query(url)}

