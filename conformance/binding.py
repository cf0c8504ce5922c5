"""Bind URLs: build them (API mode and the bindSnap deeplink), lint any of them, parse the callback.

Sources (docs/references.md): [doc-get-oauth] (API mode, state, redirect back), [doc-deeplink] (bindSnap),
[sdk-util] (seamlessData keys, seamlessSign, and the SDK helpers' traps this builder avoids and the linter names).

The builder avoids every trap of the SDK helpers: ``state`` is a UUID4 without dashes (32 characters, the documented
maximum), ``seamlessData`` is compact JSON with the ``mobile`` key the SDK helpers send ([sdk-util]), every value
is percent-encoded exactly once (so ``seamlessSign`` is URL-encoded once, 3.7), and ``channelId`` is the
partner id, as the Python SDK at the reference's commit and the Java UAT do ([doc-get-oauth], [sdk-util]; dana-python
2.2.2 sends ``CHANNEL_ID``/``95221`` instead, which is equally valid at 1-64 characters).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus, urlsplit


from conformance.findings import Finding, fail, warn
from conformance.snap import signature, timestamps
from conformance.snap.oauth import DEFAULT_SCOPES, KNOWN_SCOPES, seamless_sign_problem  # noqa: F401 - re-exported

PRODUCTION_SCOPES = ("MINI_DANA", "CASHIER", "QUERY_BALANCE", "DEFAULT_BASIC_PROFILE")   # 5.4: no AGREEMENT_PAY

# 5.3: DANA's own bindSnap deeplink hosts; an embedded sandbox serves /bindSnap itself.
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
    params.update(channelId=merchant.partner_id, redirectUrl=redirect_url, timestamp=timestamp, state=state)
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


# ---------------------------------------------------------------------------------------------- linter
# Each check takes the lint context and returns findings; lint_bind_url runs them in order.

@dataclass
class _Lint:
    url: str
    raw: dict[str, str]            # first raw value of each parameter
    values: dict[str, str]         # decoded once
    deeplink: bool
    public_key: object
    expected_state: str | None


def _check_required(c: _Lint) -> list[Finding]:
    out = []
    for name, (_, _, required) in PARAMS.items():
        if not required or c.values.get(name):
            continue
        if c.deeplink and name in DEEPLINK_OPTIONAL:
            out.append(warn("required parameter", f"{name} present", "absent",
                            "the Deeplink Binding table marks it required though its own example omits it "
                            "([doc-deeplink]); send it", where=name))
        else:
            out.append(fail("required parameter", f"{name} present and non-empty",
                            "empty" if name in c.values else "absent",
                            "add it to the bind URL ([doc-get-oauth])", where=name))
    if not c.deeplink and "isSnapBI" not in c.values:
        out.append(warn("isSnapBI", "isSnapBI=true", "absent",
                        "every SDK sends isSnapBI=true on get-auth-code ([doc-get-oauth])", where="isSnapBI"))
    return out


def _check_lengths(c: _Lint) -> list[Finding]:
    out = []
    for name, value in c.values.items():
        if name not in PARAMS or not value or name in ("state", "timestamp"):
            continue                                   # those two have dedicated checks
        low, high, _ = PARAMS[name]
        if low <= len(value) <= high:
            continue
        hint = "shorten it to the documented length ([doc-get-oauth])"
        if name == "seamlessSign" and len(value) > high:
            out.append(warn("length", f"{low}-{high} characters", len(value),
                            "a 4096-bit key gives a 684-character signature, beyond the documented 512 "
                            "([sdk-util]); a 2048-bit key fits", where=name))
            continue
        out.append(fail("length", f"{low}-{high} characters", len(value), hint, where=name))
    return out


def _check_unknown(c: _Lint) -> list[Finding]:
    unknown = [n for n in c.raw if n not in PARAMS and n not in EXTRA_PARAMS]
    return [warn("unknown parameter", "a documented bind-URL parameter", n,
                 "an unencoded '&' inside a value (e.g. in redirectUrl) splits it into a new parameter; "
                 "percent-encode every value once", where=n) for n in unknown]


def _check_timestamp(c: _Lint) -> list[Finding]:
    value = c.values.get("timestamp")
    if not value or timestamps.is_timestamp(value):
        return []
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00", value):
        hint = ("milliseconds are not part of the format; this 29-character form is what the Node SDK's OAuth "
                "helper produces ([sdk-header])")
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})", value):
        hint = "write Jakarta time with a literal +07:00, not UTC or another offset ([sdk-header])"
    else:
        hint = "use YYYY-MM-DDTHH:mm:ss+07:00, 25 characters ([sdk-header])"
    return [fail("timestamp format", "YYYY-MM-DDTHH:mm:ss+07:00", value, hint, where="timestamp")]


def _check_redirect(c: _Lint) -> list[Finding]:
    value = c.values.get("redirectUrl")
    if not value:
        return []
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return []
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return []
    hint = ("DANA redirects the user's browser there with the authCode; it must be an absolute https URL "
            "(http is accepted only on loopback for local tests)")
    return [fail("redirectUrl", "absolute https URL", value, hint, where="redirectUrl")]


_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _check_state(c: _Lint) -> list[Finding]:
    value = c.values.get("state")
    out = []
    if value and len(value) > 32:
        if _UUID4.fullmatch(value):
            out.append(warn("state length", "1-32 characters", len(value),
                            "a dashed UUID4 is 36 characters, the SDK helpers' default ([sdk-util]); "
                            "use uuid.uuid4().hex (32 characters)", where="state"))
        else:
            out.append(fail("state length", "1-32 characters", len(value),
                            "state is a random CSRF token of at most 32 characters ([doc-get-oauth])",
                            where="state"))
    if c.expected_state is not None and value != c.expected_state:
        out.append(fail("state", c.expected_state, value,
                        "the state in the URL is not the one the merchant issued and will compare on the "
                        "callback; a mismatch means the CSRF check cannot work", where="state"))
    return out


def _check_scopes(c: _Lint) -> list[Finding]:
    value = c.values.get("scopes")
    if not value:
        return []
    unknown = [s for s in (p.strip() for p in value.split(",")) if s not in KNOWN_SCOPES]
    if not unknown:
        return []
    return [warn("scopes", f"comma-separated from {sorted(KNOWN_SCOPES)}", unknown,
                 "DANA knows only the scopes of [doc-binding-guide]; no spaces around commas", where="scopes")]


def _check_seamless_data(c: _Lint) -> list[Finding]:
    text = c.values.get("seamlessData")
    if text is None:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        hint = ("it is still percent-encoded after one decoding: it was encoded twice"
                if text.lstrip().startswith("%7B") else "seamlessData must be a JSON object, percent-encoded once")
        return [fail("seamlessData", "a JSON object", text[:80], hint, where="seamlessData")]
    if not isinstance(data, dict):
        return [fail("seamlessData", "a JSON object", type(data).__name__, where="seamlessData")]
    out = []
    nulls = [k for k in SNAKE_CASE_NULLS if k in data]
    if nulls:
        out.append(warn("seamlessData keys", "camelCase keys without nulls", nulls,
                        "the official Python helper writes model attributes in snake_case with null values "
                        "([sdk-util]); DANA knows mobile, bizScenario, verifiedTime, "
                        "externalUid, deviceId", where="seamlessData"))
    if not any(k in data for k in ("mobile", "mobileNumber")):
        out.append(warn("seamlessData phone", "a 'mobile' key", sorted(data),
                        "the SDK helpers and DANA's pages use 'mobile' ([sdk-util])",
                        where="seamlessData"))
    return out


def _check_seamless_sign(c: _Lint) -> list[Finding]:
    data, sign_text = c.values.get("seamlessData"), c.values.get("seamlessSign")
    if data is None:
        if sign_text:
            return [warn("seamlessSign", "absent without seamlessData", "present",
                         "seamlessSign signs seamlessData; without it DANA has nothing to verify", where="seamlessSign")]
        return []
    if not sign_text:
        return [fail("seamlessSign", "present when seamlessData is", "absent",
                     "sign seamlessData with SHA256withRSA, Base64-encode, URL-encode once ([sdk-util])",
                     where="seamlessSign")]
    problem = seamless_sign_problem(c.public_key, data, sign_text, c.raw.get("seamlessSign"))
    out = []
    if problem:
        out.append(fail("seamlessSign", "Base64 SHA256withRSA of seamlessData, URL-encoded once", problem[0],
                        problem[1], where="seamlessSign"))
    elif c.public_key is None:
        out.append(warn("seamlessSign", "verified with the merchant public key", "not verified: no key given",
                        "pass the merchant public key to verify the signature", where="seamlessSign"))
    return out


CHECKS = (_check_required, _check_lengths, _check_unknown, _check_timestamp, _check_redirect, _check_state,
          _check_scopes, _check_seamless_data, _check_seamless_sign)


def lint_bind_url(url: str, merchant_public_key=None, *, expected_state: str | None = None,
                  partner_id: str | None = None) -> list[Finding]:
    """Grade any bind URL (ours, or one the merchant's backend produced). Empty list = clean."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [fail("bind URL", "an absolute http(s) URL", url[:120], "paste the whole URL, scheme included")]
    raw: dict[str, str] = {}
    for name, value in raw_query(url.strip()):
        raw.setdefault(name, value)
    values = {name: decode_once(value) for name, value in raw.items()}
    deeplink = parts.path.rstrip("/").endswith(DEEPLINK_PATHS)
    ctx = _Lint(url, raw, values, deeplink, merchant_public_key, expected_state)
    findings = [f for check in CHECKS for f in check(ctx)]
    if partner_id is not None and values.get("partnerId") and values["partnerId"] != partner_id:
        findings.append(fail("partnerId", partner_id, values["partnerId"],
                             "the URL names another merchant's clientId", where="partnerId"))
    return findings
