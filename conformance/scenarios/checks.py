"""Small named checks: each compares one expectation with what was received and returns findings.

Model: schemathesis ``specs/openapi/checks.py`` (design.md "Principles"). Messages read
"check: expected X, received Y" with a hint from the response-code table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from conformance.findings import Finding, fail, warn
from conformance.snap.codes import http_status_of, lookup_code
from conformance.snap.schemas import RESPONSE_FIELDS
from conformance.snap.timestamps import is_timestamp

COMMON_FIELDS = ("responseCode", "responseMessage")
ABSENT = object()   # marks a field that is not in the received data


def _shown(value: Any) -> Any:
    return "(absent)" if value is ABSENT else value


def code_hint(received_code: Any) -> str:
    """What a received responseCode means and what to do about it, from the code table."""
    info = lookup_code(received_code) if isinstance(received_code, str) else None
    if info is None:
        return ""
    text = f"{received_code} means {info.meaning or info.message}"
    return f"{text}. {info.hint}" if info.hint else text


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _same(expected: Any, received: Any) -> bool:
    if isinstance(expected, bool) or isinstance(received, bool):
        return type(expected) is type(received) and expected == received
    if isinstance(expected, (int, float)) and isinstance(received, (int, float)):
        return expected == received
    return type(expected) is type(received) and expected == received


_TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
    "timestamp": is_timestamp,
    "url": lambda v: isinstance(v, str) and urlsplit(v).scheme in ("http", "https") and bool(urlsplit(v).netloc),
}


def is_matcher(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and str(next(iter(value))).startswith("$")


def match(expected: Any, received: Any, where: str, check: str = "body") -> list[Finding]:
    """Compare ``received`` with ``expected`` (a value, nested object or matcher) at ``where``."""
    if is_matcher(expected):
        key, arg = next(iter(expected.items()))
        if key == "$absent":
            return [] if received is ABSENT else [fail(check, "(absent)", received, where=where)]
        if received is ABSENT:
            return [fail(check, _describe(expected), "(absent)", where=where)]
        if key == "$any":
            return []
        if key == "$exact":
            return [] if _same(arg, received) else [fail(check, arg, received, where=where)]
        if key == "$regex":
            ok = isinstance(received, str) and re.search(str(arg), received) is not None
            return [] if ok else [fail(check, f"matching /{arg}/", received, where=where)]
        if key == "$type":
            return [] if _TYPES[arg](received) else [fail(check, f"a {arg}", received, where=where)]
        if key == "$ci":
            ok = isinstance(received, str) and _norm(received) == _norm(str(arg))
            return [] if ok else [fail(check, f"{arg!r} (any case)", received, where=where)]
        raise ValueError(f"unknown matcher {key}")   # the loader rejects these earlier
    if received is ABSENT:
        return [fail(check, expected, "(absent)", where=where)]
    if isinstance(expected, Mapping):
        if not isinstance(received, Mapping):
            return [fail(check, "an object", received, where=where)]
        out: list[Finding] = []
        for key, value in expected.items():
            out += match(value, received.get(key, ABSENT), f"{where}.{key}", check)
        return out
    if isinstance(expected, list):
        if not isinstance(received, list) or len(received) != len(expected):
            return [fail(check, expected, received, where=where)]
        out = []
        for i, (e, r) in enumerate(zip(expected, received)):
            out += match(e, r, f"{where}[{i}]", check)
        return out
    return [] if _same(expected, received) else [fail(check, expected, received, where=where)]


def _describe(matcher: Mapping) -> str:
    key, arg = next(iter(matcher.items()))
    return {"$any": "present", "$regex": f"matching /{arg}/", "$type": f"a {arg}"}.get(key, repr(arg))


# --- the named checks -------------------------------------------------------------------------

def status(expected: int, received: int, body: Any = None, where: str = "") -> list[Finding]:
    if expected == received:
        return []
    code = body.get("responseCode") if isinstance(body, Mapping) else None
    return [fail("status", expected, received, hint=code_hint(code), where=where)]


def response_code(expected: str, body: Any, where: str = "") -> list[Finding]:
    received = body.get("responseCode", ABSENT) if isinstance(body, Mapping) else ABSENT
    if received == expected:
        return []
    hint = code_hint(received) if received is not ABSENT else "the response has no responseCode (not a SNAP body)"
    return [fail("responseCode", expected, _shown(received), hint=hint, where=where)]


def response_message(expected: Any, body: Any, where: str = "") -> list[Finding]:
    """Exact text; WARN when it differs only in case or spacing; matchers allowed."""
    received = body.get("responseMessage", ABSENT) if isinstance(body, Mapping) else ABSENT
    if expected is None:
        return []
    if not isinstance(expected, str):
        return match(expected, received, "responseMessage", "responseMessage")
    if received == expected:
        return []
    if isinstance(received, str) and _norm(received) == _norm(expected):
        return [warn("responseMessage", expected, received, where=where,
                     hint="differs only in case or spacing; DANA compares messages exactly")]
    return [fail("responseMessage", expected, _shown(received), where=where)]


def headers(expected: Mapping[str, Any], received: Mapping[str, str], where: str = "") -> list[Finding]:
    lower = {k.lower(): v for k, v in received.items()}
    out: list[Finding] = []
    for name, value in expected.items():
        out += match(value, lower.get(name.lower(), ABSENT), f"headers.{name}", "header")
    return [f if not where else Finding(f.severity, f.check, f.expected, f.received, f.hint,
                                        f"{where}: {f.where}") for f in out]


def body(expected: Mapping[str, Any], received: Any, where: str = "") -> list[Finding]:
    found = match(dict(expected), received if received is not None else ABSENT, "body")
    return [Finding(f.severity, f.check, f.expected, f.received, f.hint, f"{where}: {f.where}" if where else f.where)
            for f in found]


def extra_fields(api: str, received: Any, where: str = "") -> list[Finding]:
    """WARN for top-level response fields the API's model does not know."""
    known = RESPONSE_FIELDS.get(api)
    if known is None or not isinstance(received, Mapping):
        return []
    extra = [k for k in received if k not in known and k not in COMMON_FIELDS]
    return [warn("extra field", "only fields of the API's response model", k, where=where,
                 hint="the official SDK ignores unknown fields; check the spelling against the API reference")
            for k in extra]


def status_matches_code(status_code: int, body: Any, where: str = "") -> list[Finding]:
    """SNAP: the HTTP status equals the first three digits of responseCode ([sdk-header])."""
    code = body.get("responseCode") if isinstance(body, Mapping) else None
    implied = http_status_of(code) if isinstance(code, str) else None
    if implied is None or implied == status_code:
        return []
    return [warn("status/responseCode", f"HTTP {implied} for {code}", status_code, where=where,
                 hint="SNAP ties the HTTP status to responseCode[:3]; clients that branch on status will misread it")]
