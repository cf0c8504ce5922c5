"""The bind-URL linter: grade any bind URL (ours, or one the merchant's backend produced).

Sources (docs/references.md): [doc-get-oauth] (the parameter table, state), [doc-binding-guide] (scopes),
[doc-deeplink] (seamlessData), [sdk-util] (the SDK helpers' traps). What DANA's own helpers produce and its scripts bind with is WARN, with the reason,
unless a DANA source shows it refused (docs/sandbox.md, "The SDKs side by side").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.client.binding import (
    DEEPLINK_OPTIONAL,
    DEEPLINK_PATHS,
    EXTRA_PARAMS,
    LOOPBACK_HOSTS,
    PARAMS,
    SNAKE_CASE_NULLS,
    decode_once,
    raw_query,
)
from conformance.findings import Finding, fail, warn
from conformance.snap import timestamps
from conformance.snap.oauth import KNOWN_SCOPES, SIGN_ENCODINGS, seamless_sign_encoding, seamless_sign_problem

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
    # Forms DANA's own helpers and scripts bind with are WARN: no DANA source shows them refused.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00", value):
        return [warn("timestamp format", "YYYY-MM-DDTHH:mm:ss+07:00", value,
                     "milliseconds are not part of the format, but DANA's Node SDK helper writes them "
                     "(dana-node src/widget/v1/utils/utils.ts generateTimestamp); drop them", where="timestamp")]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})", value):
        return [warn("timestamp format", "YYYY-MM-DDTHH:mm:ss+07:00", value,
                     "write Jakarta time with a literal +07:00; DANA's own UAT binds with a +00:00 URL "
                     "(uat-script test/python/widget/automate_oauth.py), so another offset is tolerated",
                     where="timestamp")]
    return [fail("timestamp format", "YYYY-MM-DDTHH:mm:ss+07:00", value,
                 "use YYYY-MM-DDTHH:mm:ss+07:00, 25 characters ([sdk-header])", where="timestamp")]


def _check_redirect(c: _Lint) -> list[Finding]:
    value = c.values.get("redirectUrl")
    if not value:
        return []
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return []
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return []
    if parts.scheme == "http" and parts.hostname:
        # No DANA source forbids it; the risk is the authCode in clear text.
        return [warn("redirectUrl", "absolute https URL", value,
                     "DANA redirects the browser there with the authCode, which plain http exposes on the way; "
                     "no DANA source forbids http, but use https outside local tests", where="redirectUrl")]
    hint = "DANA redirects the user's browser there with the authCode; it must be an absolute http(s) URL"
    return [fail("redirectUrl", "absolute https URL", value, hint, where="redirectUrl")]


_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def _at_most_32(check: str, value: str, uuid_hint: str, hint: str, where: str) -> list[Finding]:
    """state and externalUid allow 1-32 characters: a dashed UUID4 (36), what the SDK helpers default to, is
    a WARN with ``uuid_hint``; any other longer value a FAIL."""
    if len(value) <= 32:
        return []
    if _UUID4.fullmatch(value):
        return [warn(check, "1-32 characters", len(value), uuid_hint, where=where)]
    return [fail(check, "1-32 characters", len(value), hint, where=where)]


def _check_state(c: _Lint) -> list[Finding]:
    value = c.values.get("state")
    out = _at_most_32("state length", value or "",
                      "a dashed UUID4 is 36 characters, the SDK helpers' default ([sdk-util]); "
                      "use uuid.uuid4().hex (32 characters)",
                      "state is a random CSRF token of at most 32 characters ([doc-get-oauth])", "state")
    if c.expected_state is not None and value != c.expected_state:
        out.append(fail("state", c.expected_state, value,
                        "the state in the URL is not the one the merchant issued and will compare on the "
                        "callback; a mismatch means the CSRF check cannot work", where="state"))
    return out


def _check_scopes(c: _Lint) -> list[Finding]:
    value = c.values.get("scopes")
    if not value:
        return []
    parts = value.split(",")
    out = []
    if any(p != p.strip() for p in parts):
        out.append(warn("scopes", "comma-separated without spaces", value,
                        "every SDK joins the scopes with a bare ','; with spaces a scope name is ' CASHIER', "
                        "which only a lenient server trims ([doc-binding-guide])", where="scopes"))
    unknown = [s for s in (p.strip() for p in parts) if s not in KNOWN_SCOPES]
    if unknown:
        out.append(warn("scopes", f"comma-separated from {sorted(KNOWN_SCOPES)}", unknown,
                        "DANA knows only the scopes of [doc-binding-guide]", where="scopes"))
    return out


TERMINAL_TYPES = ("APP", "WEB", "WAP", "SYSTEM")


def _check_terminal_type(c: _Lint) -> list[Finding]:
    value = c.values.get("terminalType")
    if value is None or value in TERMINAL_TYPES:
        return []
    hint = (f"this is an enum member's repr, which dana-python's helper writes on Python 3.11 "
            f"([sdk-util]); send its value "
            f"{value.rpartition('.')[2]}" if "." in value else "DANA's terminal types are APP, WEB, WAP, SYSTEM")
    return [fail("terminalType", f"one of {', '.join(TERMINAL_TYPES)}", value, hint, where="terminalType")]


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
    uid = data.get("externalUid")
    if isinstance(uid, str):
        out += _at_most_32("externalUid length", uid,
                           "a dashed UUID4 is 36 characters: the SDK helpers copy their default externalId "
                           "into it (dana-python dana/widget/v1/util.py); use uuid.uuid4().hex",
                           "the Deeplink Binding table allows 1-32 characters ([doc-deeplink])", "seamlessData")
    if not any(k in data for k in ("mobile", "mobileNumber")):
        out.append(warn("seamlessData phone", "a 'mobile' key", sorted(data),
                        "the SDK helpers and DANA's pages use 'mobile' ([doc-deeplink])",
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
    _, encoding = seamless_sign_encoding(sign_text, c.raw.get("seamlessSign"))
    if encoding:
        received, hint = SIGN_ENCODINGS[encoding]
        out.append(warn("seamlessSign encoding", "Base64, URL-encoded once", received, hint, where="seamlessSign"))
    if problem:
        out.append(fail("seamlessSign", "Base64 SHA256withRSA of seamlessData, URL-encoded once", problem[0],
                        problem[1], where="seamlessSign"))
    elif c.public_key is None:
        out.append(warn("seamlessSign", "verified with the merchant public key", "not verified: no key given",
                        "pass the merchant public key to verify the signature", where="seamlessSign"))
    return out


CHECKS = (_check_required, _check_lengths, _check_unknown, _check_timestamp, _check_redirect, _check_state,
          _check_scopes, _check_terminal_type, _check_seamless_data, _check_seamless_sign)


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
