"""DANA's side in merchant mode: what the sandbox saw the merchant send (traffic journal) and Finish Notify
deliveries signed, or forged, as DANA. Both need the embedded sandbox (in process or `dana-uat sandbox`).
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

from conformance.findings import Finding, fail, warn
from conformance.merchant import policy
from conformance.snap import keys
from conformance.snap.timestamps import format_timestamp


class JournalUnavailable(Exception):
    """The target keeps no traffic journal (not an embedded sandbox)."""


def _journal(call):
    from conformance.dana.target import AdminUnavailable

    try:
        return call()
    except AdminUnavailable as exc:
        raise JournalUnavailable(str(exc)) from None


def last(target) -> int:
    """The journal's newest sequence number: entries after it are what a step caused. Every answer carries
    it; one entry is asked for, not the merchant's whole journal (up to 5,000 entries on a long-running
    `dana-uat sandbox`, and read before every step)."""
    return int(_journal(lambda: target.traffic(0, partner_id=target.merchant.partner_id, limit=1))["last"])


def traffic(target, since: int, api: str | None = None) -> list[dict]:
    """The merchant's requests after ``since`` (to ``api`` only, when given), oldest first, each graded check
    by check (conformance/sandbox/journal.py documents an entry)."""
    return _journal(lambda: target.traffic(since, partner_id=target.merchant.partner_id, api=api))["entries"]


def wait_entries(target, since: int, match, *, count: int, timeout: float) -> list[dict]:
    """Entries after ``since`` matching ``match``, once ``count`` exist or ``timeout`` passed (event-driven:
    the sandbox answers /traffic/wait as soon as a request arrives)."""
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while len(found) < count and (left := deadline - time.monotonic()) > 0:
        data = _journal(lambda: target.wait_traffic(since, 1, left, partner_id=target.merchant.partner_id))
        if not data["entries"]:
            break
        since = data["entries"][-1]["seq"]
        found += [e for e in data["entries"] if match(e)]
    return found


def body_of(entry: dict) -> dict:
    body = ((entry.get("request") or {}).get("body") or {}).get("json")
    return body if isinstance(body, dict) else {}


def answer_of(entry: dict) -> tuple[int | None, str | None]:
    response = entry.get("response") or {}
    return response.get("status"), response.get("responseCode")


def carries_secret(entry: dict, field: str, value: str) -> bool:
    """The journal keeps no authCode in full: it gives a digest per secret field (sha256, 16 hex characters,
    conformance/sandbox/journal.py), so a request is matched to a code without the code being stored."""
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]
    return (entry.get("secretDigests") or {}).get(field) == digest


def violations(entry: dict, where: str) -> list[Finding]:
    """The journal's graded checks of one request that did not pass, as findings."""
    out = []
    for c in entry.get("checks") or []:
        if c.get("verdict") == "PASS":
            continue
        make = warn if c.get("verdict") == "WARN" else fail
        expected, _, received = str(c.get("message", "")).removeprefix("expected ").partition(", received ")
        out.append(make(c.get("check", "traffic"), expected, received, c.get("hint", ""),
                        where=f"{where}: {entry.get('api') or entry.get('path')} #{entry.get('seq')}"))
    return policy.apply(out)        # the journal's FAIL of a recommendation (X-EXTERNAL-ID reuse) is a WARN here


# -- Finish Notify as DANA -------------------------------------------------------------------------

def signed(target, ref: str, status: str, url: str, timestamp: str | None = None) -> tuple[dict, bytes]:
    """The Finish Notify DANA would send for order ``ref``, signed by the sandbox's DANA key, not sent."""
    data = target.send_notify(partner_reference_no=ref, status=status, url=url, timestamp=timestamp,
                              deliver=False)
    return dict(data["request"]["headers"]), data["request"]["body"].encode("utf-8")


def signed_by_other_key(target, url: str, raw: bytes) -> dict:
    from urllib.parse import urlsplit

    from conformance.snap.notify import sign_notification

    return sign_notification(keys.generate_private_key(), urlsplit(url).path or "/", raw,
                                     partner_id=target.merchant.partner_id)


def stale_timestamp(target) -> str:
    return format_timestamp(target.now() - timedelta(days=1))
