"""DANA's side in merchant mode: what the sandbox saw the merchant send (traffic journal) and Finish Notify
deliveries signed, or forged, as DANA. Both need the embedded sandbox (in process or `dana-uat sandbox`).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from typing import Any

from conformance.findings import Finding, fail, warn
from conformance.snap import keys
from conformance.snap.timestamps import format_timestamp

POLL = 0.05     # seconds between journal reads while a bounded wait is open


class JournalUnavailable(Exception):
    """The target keeps no traffic journal (not an embedded sandbox)."""


def traffic(target) -> list[dict]:
    """Every request the sandbox received, oldest first, each with its graded violations."""
    reader = getattr(target, "traffic", None)
    if reader is not None:
        return list(reader())
    if target.admin is None:
        raise JournalUnavailable("DANA's real sandbox keeps no traffic journal; merchant mode runs against "
                                 "the embedded sandbox (`dana-uat sandbox`)")
    status, data = target.admin._json("GET", "/traffic")
    if status != 200:
        raise JournalUnavailable(f"the sandbox has no traffic journal (GET /sandbox-admin/traffic: HTTP {status})")
    return list(data.get("entries", data) if isinstance(data, dict) else data)


def body_of(entry: dict) -> dict:
    body = (entry.get("request") or {}).get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    return body if isinstance(body, dict) else {}


def answer_of(entry: dict) -> tuple[int | None, str | None]:
    response = entry.get("response") or {}
    body = response.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    return response.get("status"), (body or {}).get("responseCode") if isinstance(body, dict) else None


def api_of(entry: dict) -> str | None:
    return entry.get("api")


def wait_entries(target, match, *, count: int, timeout: float, after: int = 0) -> list[dict]:
    """Journal entries (from index ``after``) matching ``match``, once ``count`` exist or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        found = [e for e in traffic(target)[after:] if match(e)]
        if len(found) >= count or time.monotonic() >= deadline:
            return found
        pause.wait(POLL)   # the journal is read over HTTP; a short bounded re-read, never past the deadline


def violations(entry: dict, where: str) -> list[Finding]:
    """The journal's graded violations of one request, as findings (FAIL unless graded WARN)."""
    out = []
    for v in entry.get("violations") or []:
        make = warn if str(v.get("severity", "FAIL")).upper() == "WARN" else fail
        out.append(make(v.get("check", "traffic"), v.get("expected"), v.get("received"), v.get("hint", ""),
                        where=f"{where}: {entry.get('method', 'POST')} {entry.get('path', '')}"))
    return out


# -- Finish Notify as DANA -------------------------------------------------------------------------

def notification_body(target, ref: str, status: str) -> dict:
    """The Finish Notify DANA would send for order ``ref`` (the sandbox's own order, as DANA holds it)."""
    builder = getattr(target, "finish_notify", None)
    if builder is not None and target.server is None:
        return builder(ref, status, deliver=False)["body"]
    from conformance import webhook

    server = _server(target)
    order = server.sandbox.store.find_order_any(ref)
    if order is None:
        raise AssertionError(f"the sandbox holds no order {ref!r}; the merchant's payment never reached it")
    return webhook.finish_notify_body(order, status, finished_at=target.now())


def sign(target, path: str, raw: bytes, timestamp: str | None = None, *, other_key: bool = False) -> dict:
    from conformance import webhook

    partner = target.merchant.partner_id
    if other_key:
        return webhook.sign_notification(keys.generate_private_key(), path, raw, timestamp, partner_id=partner)
    return webhook.sign_notification(_server(target).sandbox.dana_private_key, path, raw, timestamp,
                                     partner_id=partner)


def stale_timestamp(target) -> str:
    return format_timestamp(target.now() - timedelta(days=1))


def _server(target):
    if target.server is None:
        raise AssertionError("signing as DANA needs the embedded sandbox's gateway key")
    return target.server
