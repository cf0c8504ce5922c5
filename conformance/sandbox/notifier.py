"""Finish Notify deliveries: signed with the sandbox's DANA key, retried with a bound, all recorded.

A delivery is sent to the NOTIFICATION urlParam of the order only ([doc-finish-notify]), as an async
httpx POST on the server's event loop. The merchant must answer HTTP 200 with responseCode 2005600
([doc-finish-notify]); any other answer, or no answer, is recorded and retried up to MAX_ATTEMPTS.
DANA's real retry schedule is not documented publicly; the short pause between attempts
below is part of the emulated protocol (a retry schedule), not a wait "to be safe".
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from conformance.sandbox.bounds import DELIVERIES
from conformance.snap.timestamps import format_timestamp
from conformance.snap.notify import encode_body, finish_notify_body, sign_notification

MAX_ATTEMPTS = 3
RETRY_PAUSES = (0.05, 0.2)        # seconds before attempts 2 and 3 (emulated retry schedule)
ATTEMPT_TIMEOUT = 8.0               # DANA's documented expected timeout for Finish Notify ([doc-finish-notify])
# One TLS context per process: building one (loading the CA file) per delivery costs more than the delivery.
_tls_context = functools.cache(httpx.create_ssl_context)


@dataclass
class Delivery:
    id: str
    url: str
    order_partner_reference_no: str
    latest_status: str
    headers: dict[str, str]
    body: str
    attempts: list[dict] = field(default_factory=list)
    state: str = "pending"          # pending | retrying | delivered | failed
    partner_id: str = ""            # whose clock stamps the attempts

    @property
    def finished(self) -> bool:
        return self.state in ("delivered", "failed")

    def to_json(self) -> dict:
        return {"id": self.id, "url": self.url, "orderPartnerReferenceNo": self.order_partner_reference_no,
                "latestTransactionStatus": self.latest_status,
                "request": {"headers": dict(self.headers), "body": self.body},
                "attempts": [dict(a) for a in self.attempts], "state": self.state}


def _accepted(status: int, text: str) -> bool:
    if status != 200:
        return False
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("responseCode") == "2005600"


class Notifier:
    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        # "iso" (the SDK models' documented form) or "epoch_ms" (also seen in DANA's real bodies); a
        # merchant's parser must take both, so tests switch this (docs/sandbox.md).
        self.time_form = "iso"
        self._ids = itertools.count(1)
        self._deliveries: deque[Delivery] = deque(maxlen=DELIVERIES)   # the newest (bounds.py)
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """The server's loop; a private one when the Sandbox runs without a server (unit use)."""
        if self._loop is None or self._loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="sandbox-notifier", daemon=True).start()
            self._loop = loop
        return self._loop

    def body_for(self, order, latest_status: str) -> bytes:
        """The notification of ``order`` with ``latest_status``, as DANA encodes it."""
        finished_at = (order.paid_at if latest_status == "00" and order.paid_at
                       else self.sandbox.clock.now(order.partner_id))
        return encode_body(finish_notify_body(order, latest_status, finished_at=finished_at,
                                               time_form=self.time_form))

    def sign(self, url: str, raw: bytes, partner_id: str, timestamp: str | None = None) -> dict[str, str]:
        """Headers DANA sends with ``raw`` posted to ``url``; X-TIMESTAMP from the merchant's clock unless given."""
        return sign_notification(self.sandbox.dana_private_key, urlsplit(url).path or "/", raw,
                                 timestamp or self.sandbox.clock.stamp(partner_id or None), partner_id)

    def enqueue(self, order, latest_status: str) -> Delivery | None:
        """Sign and schedule the notification of ``order``; None when it names no NOTIFICATION url."""
        if not order.notify_url:
            return None
        raw = self.body_for(order, latest_status)
        headers = self.sign(order.notify_url, raw, order.partner_id)
        delivery = Delivery(str(next(self._ids)), order.notify_url, order.partner_reference_no,
                            latest_status, headers, raw.decode("utf-8"), partner_id=order.partner_id)
        with self._changed:
            self._deliveries.append(delivery)
        asyncio.run_coroutine_threadsafe(self._deliver(delivery), self._ensure_loop())
        return delivery

    async def post_once(self, url: str, headers: dict[str, str], raw: bytes) -> dict:
        """One delivery attempt, without retries or recording (an admin send: the caller grades it)."""
        record = {"at": format_timestamp(self.sandbox.clock.now()), "status": None, "body": None, "error": None}
        async with httpx.AsyncClient(trust_env=False, timeout=ATTEMPT_TIMEOUT, verify=_tls_context()) as client:
            try:
                answer = await client.post(url, content=raw, headers=headers)
                record["status"], record["body"] = answer.status_code, answer.text[:4096]
            except Exception as exc:          # any transport failure is an answer to report
                record["error"] = f"{type(exc).__name__}: {exc}"[:500]
        return record

    async def _deliver(self, delivery: Delivery) -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=ATTEMPT_TIMEOUT, verify=_tls_context()) as client:
            for attempt in range(MAX_ATTEMPTS):
                if attempt:
                    # The pause between attempts IS the emulated retry schedule (DANA retries a
                    # notify the merchant did not accept, [doc-finish-notify]), not a wait for some condition.
                    await asyncio.sleep(RETRY_PAUSES[min(attempt - 1, len(RETRY_PAUSES) - 1)])
                record = {"at": self.sandbox.clock.stamp(delivery.partner_id or None), "status": None,
                          "body": None, "error": None}
                try:
                    answer = await client.post(delivery.url, content=delivery.body.encode("utf-8"),
                                               headers=delivery.headers)
                    record["status"], record["body"] = answer.status_code, answer.text[:4096]
                except Exception as exc:          # any transport failure is an answer to record
                    record["error"] = f"{type(exc).__name__}: {exc}"[:500]
                ok = record["status"] is not None and _accepted(record["status"], record["body"] or "")
                last = attempt == MAX_ATTEMPTS - 1
                with self._changed:
                    delivery.attempts.append(record)
                    delivery.state = "delivered" if ok else ("failed" if last else "retrying")
                    self._changed.notify_all()
                if ok:
                    return

    def deliveries(self, partner_reference_no: str | None = None) -> list[dict]:
        with self._changed:
            return [d.to_json() for d in self._deliveries
                    if partner_reference_no in (None, d.order_partner_reference_no)]

    def wait(self, partner_reference_no: str | None, count: int = 1, timeout: float = 10.0) -> list[dict]:
        """Block until ``count`` deliveries of that order have finished, or ``timeout`` passes."""
        def done() -> bool:
            return sum(1 for d in self._deliveries if d.finished
                       and partner_reference_no in (None, d.order_partner_reference_no)) >= count
        with self._changed:
            self._changed.wait_for(done, timeout=max(0.0, min(timeout, 120.0)))
        return self.deliveries(partner_reference_no)
