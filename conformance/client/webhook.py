"""Finish Notify on the merchant's side: verify and grade a delivery as a merchant must.

Building and signing one as DANA does is protocol, in ``conformance.snap.notify`` (the sandbox uses it).

[doc-finish-notify] (body, headers, the merchant's answer) and [sdk-webhook] (signature): DANA signs
``POST:<path of the notify URL>:<hex sha256(minified body)>:<X-TIMESTAMP>`` with its gateway key.
Verification is strict first (the received bytes, whitespace-minified); the repaired body forms the
official SDK also tries ([sdk-webhook]) are reported separately so a grader can WARN.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.findings import Finding, fail, warn
from conformance.snap.notify import REQUIRED_BODY_FIELDS, is_notify_time
from conformance.snap.signature import string_to_sign, verify
from conformance.snap.timestamps import is_timestamp

SUCCESS_ANSWER = {"responseCode": "2005600", "responseMessage": "Successful"}


@dataclass(frozen=True)
class NotifyVerdict:
    valid: bool
    form: str | None      # "raw" or "repaired:<name>" when valid
    reason: str


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _reserialised(text: str) -> str | None:
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return None


# Repairs the SDK applies to bodies re-escaped by frameworks and proxies ([sdk-webhook]).
REPAIRS: tuple[tuple[str, Callable[[str], str | None]], ...] = (
    ("collapse-escaped-quotes", lambda t: t.replace('\\\\\\"', '\\"')),
    ("colon-space-quote", lambda t: t.replace(': \\"', ':\\"')),
    ("unescape-quotes", lambda t: t.replace('\\\\"', '"')),
    ("key-spaces", lambda t: re.sub(r'"([A-Za-z ]+)"\s*:',
                                    lambda m: '"' + m.group(1).replace(" ", "") + '":', t)),
    ("reserialised", _reserialised),
)


def verify_notification(public_key: rsa.RSAPublicKey, method: str, path: str,
                        headers: Mapping[str, str], body: bytes) -> NotifyVerdict:
    timestamp = _header(headers, "X-TIMESTAMP")
    signature = _header(headers, "X-SIGNATURE")
    if not timestamp:
        return NotifyVerdict(False, None, "X-TIMESTAMP header missing")
    if not signature:
        return NotifyVerdict(False, None, "X-SIGNATURE header missing")
    path = path if path.startswith("/") else f"/{path}"
    if verify(public_key, string_to_sign(method, path, body, timestamp), signature):
        return NotifyVerdict(True, "raw", "signature verifies over the received body")
    text = body.decode("utf-8", "replace")
    for name, repair in REPAIRS:
        candidate = repair(text)
        if candidate and candidate != text and verify(
                public_key, string_to_sign(method, path, candidate.encode("utf-8"), timestamp), signature):
            return NotifyVerdict(True, f"repaired:{name}",
                                 f"signature verifies only after the SDK repair '{name}'")
    return NotifyVerdict(False, None, f"signature does not verify for POST {path} at {timestamp}")


def grade_notification(public_key: rsa.RSAPublicKey, path: str, headers: Mapping[str, str],
                       body: bytes) -> list[Finding]:
    """Protocol findings about one received Finish Notify: signature, headers, shape (mandatory fields).

    What a scenario expects of the body (status, amount...) is graded by the step's checks, once."""
    findings: list[Finding] = []
    verdict = verify_notification(public_key, "POST", path, headers, body)
    if not verdict.valid:
        findings.append(fail("signature", "X-SIGNATURE valid for DANA's public key", verdict.reason,
                             "DANA signs POST:<notify path>:<sha256(minified body)>:<X-TIMESTAMP>.",
                             where="Finish Notify"))
    elif verdict.form != "raw":
        findings.append(warn("signature", "verifies over the body as received", verdict.reason,
                             "Something between DANA and the handler re-escaped the body.",
                             where="Finish Notify"))
    timestamp = _header(headers, "X-TIMESTAMP")
    if timestamp and not is_timestamp(timestamp):
        findings.append(fail("X-TIMESTAMP", "YYYY-MM-DDTHH:mm:ss+07:00", timestamp, where="Finish Notify"))
    for name in ("X-PARTNER-ID", "X-EXTERNAL-ID"):
        if not _header(headers, name):
            findings.append(fail(name, "header present", None, where="Finish Notify"))
    if not _header(headers, "CHANNEL-ID"):
        findings.append(warn("CHANNEL-ID", "header present", None, where="Finish Notify"))
    content_type = _header(headers, "Content-Type") or ""
    if "application/json" not in content_type.lower():
        findings.append(fail("Content-Type", "application/json", content_type or None, where="Finish Notify"))
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        findings.append(fail("body", "a JSON object", f"unparsable ({exc})", where="Finish Notify"))
        return findings
    if not isinstance(parsed, dict):
        findings.append(fail("body", "a JSON object", type(parsed).__name__, where="Finish Notify"))
        return findings
    for name in REQUIRED_BODY_FIELDS:
        if parsed.get(name) in (None, ""):
            findings.append(fail(name, "mandatory field present", None, where="Finish Notify body"))
    for name in ("createdTime", "finishedTime"):
        value = parsed.get(name)
        if value not in (None, "") and not is_notify_time(value):
            findings.append(fail(name, "YYYY-MM-DDTHH:mm:ss+07:00 or epoch milliseconds", value,
                                 "DANA sends one of these two forms", where="Finish Notify body"))
    return findings
