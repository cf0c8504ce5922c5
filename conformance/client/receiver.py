"""The merchant's side, played by the suite on loopback: OAuth redirect, payment return and Finish Notify.

``CallbackReceiver`` is a small Starlette app served by uvicorn on 127.0.0.1 (a free port) in a daemon
thread. It captures ``authCode``/``state`` on the OAuth redirect ([doc-get-oauth]) and checks the
state like a careful merchant does, records the ``PAY_RETURN`` redirect ([doc-payment]) and every Finish Notify
delivery with the answer it gave ([doc-finish-notify]). Waits are event-driven (a Condition with a bound), never polling.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from html import escape
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

DEFAULT_NOTIFY_ANSWER = (200, {"responseCode": "2005600", "responseMessage": "Successful"})   # 6.4


class ReceiverTimeout(AssertionError):
    """Nothing (or not enough) arrived within the bound; the message says what was awaited."""


class StateMismatch(AssertionError):
    """A callback arrived with a state the merchant never issued (CSRF check failed)."""


@dataclass(frozen=True)
class ReceivedNotification:
    path: str
    headers: dict[str, str]
    body: bytes
    answered_status: int
    answered_body: dict
    partner_reference_no: str | None = None
    received_at: float = field(default_factory=time.time)


class LoopbackServer:
    """uvicorn in a daemon thread on 127.0.0.1; ``start`` returns once it accepts connections."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 10.0):
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only when the listening socket says
        # TCP; without it each response can wait ~40 ms for a delayed ACK on loopback.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._ready = threading.Event()
        self._server = _SignallingServer(uvicorn.Config(app, log_level="warning", lifespan="off",
                                                        access_log=False), self._ready)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"loopback-{self.port}", daemon=True)
        self._start_timeout = start_timeout

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "LoopbackServer":
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            raise RuntimeError(f"loopback server on port {self.port} did not start within {self._start_timeout}s")
        return self

    def signal_stop(self) -> None:
        """Ask the server to stop without waiting for it (see Target.stop)."""
        self._server.should_exit = True

    def stop(self) -> None:
        self.signal_stop()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sock.close()


class _SignallingServer(uvicorn.Server):
    def __init__(self, config, ready: threading.Event):
        super().__init__(config)
        self._ready_event = ready

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        self._ready_event.set()


def _page(title: str, text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
                        f"<body><h1 class='merchant-title'>{escape(title)}</h1>"
                        f"<p class='merchant-message'>{escape(text)}</p></body></html>", status_code=status)


class CallbackReceiver:
    """Plays the merchant's redirect URL, payment return URL and notify URL on loopback."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None):
        # public_url: a tunnel or reverse proxy forwarding to host:port, so DANA's servers can deliver Finish
        # Notify here; the browser's redirects stay on this machine's own address
        self.public_url = public_url.rstrip("/") if public_url else None
        self._lock = threading.Condition()
        self._expected: set[str] = set()
        self._callbacks: list[dict] = []        # {"query": {...}, "consumed": bool, "url": str}
        self._returns: list[dict] = []
        self._notifications: list[ReceivedNotification] = []
        self._answers: dict[str | None, tuple[int, dict]] = {None: DEFAULT_NOTIFY_ANSWER}
        app = Starlette(routes=[
            Route("/oauth/callback", self._on_callback, methods=["GET"]),
            Route("/pay/return", self._on_return, methods=["GET"]),
            Route("/{path:path}", self._on_notify, methods=["POST"]),   # 3.9: any notify path the merchant uses
        ])
        self._server = LoopbackServer(app, host, port)

    # ------------------------------------------------------------------ lifecycle and addresses
    def start(self) -> "CallbackReceiver":
        self._server.start()
        return self

    def signal_stop(self) -> None:
        self._server.signal_stop()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> "CallbackReceiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def redirect_url(self) -> str:
        return self.base_url + "/oauth/callback"

    @property
    def pay_return_url(self) -> str:
        return self.base_url + "/pay/return"

    @property
    def notify_url(self) -> str:
        return (self.public_url or self.base_url) + "/v1.0/debit/notify"

    @property
    def reachable_by_dana(self) -> bool:
        """Whether DANA's servers can post here: only through a public URL in front of this receiver."""
        return self.public_url is not None

    # ------------------------------------------------------------------ OAuth redirect
    def expect_state(self, state: str) -> None:
        with self._lock:
            self._expected.add(state)

    async def _on_callback(self, request: Request):
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        with self._lock:
            known = query.get("state") in self._expected
            self._callbacks.append({"query": query, "consumed": False, "url": str(request.url)})
            self._lock.notify_all()
        if not known:
            return _page("State mismatch", "this state was not issued by the merchant; binding refused", 400)
        if not query.get("authCode"):
            return _page("Binding failed", f"no authCode (responseCode {query.get('responseCode', '-')})", 400)
        return _page("Binding complete", "DANA account linked; you can close this page")

    def callbacks(self) -> list[dict]:
        with self._lock:
            return [dict(c["query"]) for c in self._callbacks]

    def wait_for_callback(self, state: str, timeout: float = 30) -> dict:
        """The redirect carrying ``state``; raises StateMismatch when an unissued state arrives instead."""
        with self._lock:
            self._expected.add(state)
            result: dict = {}

            def settled() -> bool:
                for cb in self._callbacks:
                    if not cb["consumed"] and cb["query"].get("state") == state:
                        cb["consumed"] = True
                        result["match"] = cb["query"]
                        return True
                for cb in self._callbacks:
                    if not cb["consumed"] and cb["query"].get("state") not in self._expected:
                        cb["consumed"] = True
                        result["mismatch"] = cb["query"]
                        return True
                return False

            if not self._lock.wait_for(settled, timeout):
                raise ReceiverTimeout(f"no OAuth redirect with state {state!r} reached {self.redirect_url} "
                                      f"within {timeout}s")
        if "mismatch" in result:
            raise StateMismatch(f"OAuth redirect carried state {result['mismatch'].get('state')!r}, expected "
                                f"{state!r}: the redirect was not for the binding this merchant started")
        return dict(result["match"])

    # ------------------------------------------------------------------ payment return
    async def _on_return(self, request: Request):
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        with self._lock:
            self._returns.append(query)
            self._lock.notify_all()
        return _page("Payment finished", f"status {query.get('status', '-')}")

    def pay_returns(self) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._returns]

    def wait_for_pay_return(self, partner_reference_no: str | None = None, timeout: float = 30) -> dict:
        def match():
            return next((r for r in self._returns if partner_reference_no is None
                         or r.get("originalPartnerReferenceNo") == partner_reference_no), None)
        with self._lock:
            if not self._lock.wait_for(lambda: match() is not None, timeout):
                raise ReceiverTimeout(f"no payment return for {partner_reference_no or 'any order'} within {timeout}s")
            return dict(match())

    # ------------------------------------------------------------------ Finish Notify
    def set_notify_answer(self, partner_reference_no: str | None, http_status: int, body: dict) -> None:
        """How to answer notifications of one order (None: every other order)."""
        with self._lock:
            self._answers[partner_reference_no] = (int(http_status), dict(body))

    async def _on_notify(self, request: Request):
        body = await request.body()
        try:
            parsed = json.loads(body)
            prn = parsed.get("originalPartnerReferenceNo") if isinstance(parsed, dict) else None
        except ValueError:
            prn = None
        with self._lock:
            status, answer = self._answers.get(prn, self._answers[None])
            self._notifications.append(ReceivedNotification(
                path=request.url.path, headers=dict(request.headers.items()), body=body,
                answered_status=status, answered_body=answer, partner_reference_no=prn))
            self._lock.notify_all()
        return JSONResponse(answer, status_code=status)

    def notifications(self, partner_reference_no: str | None = None) -> list[ReceivedNotification]:
        with self._lock:
            return [n for n in self._notifications
                    if partner_reference_no is None or n.partner_reference_no == partner_reference_no]

    def wait_for_notifications(self, partner_reference_no: str | None, count: int = 1,
                               timeout: float = 15) -> list[ReceivedNotification]:
        def found():
            return [n for n in self._notifications
                    if partner_reference_no is None or n.partner_reference_no == partner_reference_no]
        with self._lock:
            if not self._lock.wait_for(lambda: len(found()) >= count, timeout):
                raise ReceiverTimeout(f"{len(found())} of {count} Finish Notify deliveries for "
                                      f"{partner_reference_no or 'any order'} arrived within {timeout}s")
            return found()
