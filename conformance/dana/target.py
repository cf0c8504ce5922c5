"""Settings -> a running target: where DANA is for this run.

  embedded   start conformance.sandbox.server.SandboxServer on a free loopback port, register the merchant
  <URL>      a sandbox started separately with ``dana-uat sandbox``: register the merchant over its admin API
  sandbox    DANA's real sandbox: nothing to start; steps that need the admin API (clock, pay, notify send)
             are skipped there with the reason

Everything the suite asks of DANA's side goes through this module: a sandbox target (embedded or URL) is
driven over HTTP only, through its ``/sandbox-admin`` API (docs/sandbox.md, "Admin API"), so the same steps
run against both; ``server`` is kept only to stop what ``start`` started.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import httpx

from conformance.config.settings import Settings, sandbox_token_refused
from conformance.config.tls import tls_verify
from conformance.snap import keys
from conformance.snap.timestamps import JAKARTA, parse_timestamp


class TargetError(Exception):
    """The target cannot be started or reached; one line for people (exit code 2)."""


class AdminUnavailable(Exception):
    """This target has no sandbox admin API (DANA's real sandbox)."""


class Admin:
    """Client of a sandbox's ``/sandbox-admin`` API (JSON, unsigned; the bearer token when one is set)."""

    def __init__(self, base_url: str, timeout: float = 30.0, ca_bundle: str | None = None, *,
                 token: str | None = None):
        self.base = base_url.rstrip("/") + "/sandbox-admin"
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(timeout=timeout, verify=tls_verify(self.base, ca_bundle),   # follows no redirect
                                  headers=headers)

    def close(self) -> None:
        self._http.close()

    def _json(self, method: str, path: str, **kw) -> tuple[int, object]:
        response = self._http.request(method, self.base + path, **kw)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def info(self) -> dict:
        status, data = self._json("GET", "/info")
        if status == 401:
            problem = sandbox_token_refused(self.base.removesuffix("/sandbox-admin"), self.token)
            raise TargetError(f"{problem.name} {problem.problem}; {problem.fix}")
        if status != 200 or not isinstance(data, dict):
            raise TargetError(f"{self.base}/info answered HTTP {status}; is this a `dana-uat sandbox`?")
        return data

    def register_merchant(self, partner_id: str, merchant_id: str, public_key_pem: str) -> None:
        status, data = self._json("POST", "/merchants", json={"partnerId": partner_id, "merchantId": merchant_id,
                                                               "publicKey": public_key_pem})
        if status != 200:
            raise TargetError(f"registering merchant {partner_id} failed: HTTP {status} {data}")

    def clock(self, partner_id: str) -> dict:
        return self._json("GET", "/clock", params={"partnerId": partner_id})[1]

    def advance(self, seconds: int, partner_id: str) -> dict:
        """Move this merchant's clock; other merchants' clocks on the same sandbox stay where they are."""
        status, data = self._json("POST", "/clock", json={"advanceSeconds": seconds, "partnerId": partner_id})
        if status != 200:
            raise TargetError(f"moving the sandbox clock failed: HTTP {status} {data}")
        return data

    def order(self, partner_reference_no: str) -> tuple[int, object]:
        return self._json("GET", f"/orders/{partner_reference_no}")

    def pay(self, partner_reference_no: str, phone: str) -> tuple[int, object]:
        return self._json("POST", f"/orders/{partner_reference_no}/pay", json={"phone": phone})

    def notifications(self, partner_reference_no: str) -> list:
        return self._json("GET", "/notifications", params={"partnerReferenceNo": partner_reference_no})[1]

    def traffic(self, since: int = 0, partner_id: str | None = None, api: str | None = None,
                limit: int | None = None) -> dict:
        params = {k: v for k, v in (("since", since), ("partnerId", partner_id), ("api", api), ("limit", limit))
                  if v}
        status, data = self._json("GET", "/traffic", params=params)
        if status != 200 or not isinstance(data, dict):
            raise TargetError(f"reading the traffic journal failed: HTTP {status} {data}")
        return data

    def wait_traffic(self, since: int, count: int, timeout: float, partner_id: str | None = None,
                     api: str | None = None) -> dict:
        body = {"since": since, "count": count, "timeoutSeconds": timeout, "partnerId": partner_id, "api": api}
        status, data = self._json("POST", "/traffic/wait", json=body, timeout=timeout + 10)
        if status != 200 or not isinstance(data, dict):
            raise TargetError(f"waiting for traffic failed: HTTP {status} {data}")
        return data

    def wait_notifications(self, partner_reference_no: str, count: int, timeout: float) -> tuple[int, object]:
        return self._json("POST", "/notifications/wait", json={"partnerReferenceNo": partner_reference_no,
                                                                "count": count, "timeoutSeconds": timeout},
                          timeout=timeout + 10)

    def send_notification(self, **request) -> tuple[int, object]:
        """POST /notifications/send: the sandbox signs a Finish Notify as DANA and delivers or returns it."""
        return self._json("POST", "/notifications/send", json={k: v for k, v in request.items() if v is not None})


def import_sandbox() -> None:
    """Import the embedded sandbox now (``start()`` imports it lazily), e.g. on the main thread before a target
    starts in another thread; a missing sandbox is left for ``start()`` to report."""
    try:
        import conformance.sandbox.server  # noqa: F401
    except ImportError:
        pass


class Target:
    """A running target. ``start()`` is idempotent; ``stop()`` stops what this object started."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.merchant = settings.merchant
        # "sandbox": DANA itself (its sandbox or, explicitly confirmed, production); no admin API there
        self.kind = "embedded" if settings.is_embedded else (
            "sandbox" if settings.target in ("sandbox", "production") else "url")
        self.api_base: str | None = settings.api_base
        self.web_base: str | None = settings.web_base
        self.dana_public_key = settings.dana_public_key
        self.server = None
        self.admin: Admin | None = None
        self._offset = timedelta(0)
        self._receiver = None
        self._receiver_made = threading.Lock()     # scenarios side by side (ahead.py) ask for it at once
        self.started = False

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> "Target":
        if self.started:
            return self
        if self.kind == "embedded":
            try:
                from conformance.sandbox.server import SandboxServer
            except ImportError as exc:
                raise TargetError(f"the embedded sandbox is not available ({exc})") from exc
            dana_key = None
            if self.settings.dana_private_key_path is not None:
                from conformance.sandbox.danakey import load_or_create
                try:
                    dana_key = load_or_create(self.settings.dana_private_key_path).private_key
                except (OSError, keys.KeyFormatError) as exc:
                    raise TargetError(f"DANA_UAT_DANA_PRIVATE_KEY_PATH: {exc}") from exc
            self.server = SandboxServer(dana_private_key=dana_key).start()
            self.api_base = self.web_base = self.server.base_url
        if self.kind in ("embedded", "url"):
            # the URL target's token (DANA_UAT_SANDBOX_TOKEN); the embedded one is on loopback, open
            self.admin = Admin(self.api_base, ca_bundle=self.settings.ca_bundle,
                               token=self.settings.sandbox_token if self.kind == "url" else None)
            try:
                info = self.admin.info()
            except httpx.HTTPError as exc:
                raise TargetError(f"cannot reach the sandbox at {self.api_base} ({exc}); start it with "
                                  "`dana-uat sandbox` or use --dana-target embedded") from exc
            self.admin.register_merchant(self.merchant.partner_id, self.merchant.merchant_id,
                                         self.merchant.public_key_pem)
            if self.dana_public_key is None and info.get("danaPublicKey"):
                self.dana_public_key = keys.load_public_key(info["danaPublicKey"])
            self.sync_clock()
        self.started = True
        return self

    def stop(self) -> None:
        # uvicorn notices a stop on its next 0.1 s tick and then lingers 0.1 s more for open connections: both
        # servers are told first, so they wind down together (0.37 -> 0.19 s at the end of every run).
        for part in (self._receiver, self.server):
            if part is not None:
                part.signal_stop()
        for name, method in (("_receiver", "stop"), ("admin", "close"), ("server", "stop")):   # in this order
            part = getattr(self, name)
            setattr(self, name, None)
            if part is not None:
                getattr(part, method)()
        self.started = False

    def __enter__(self) -> "Target":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- clock -----------------------------------------------------------------------------------

    def sync_clock(self) -> None:
        """Learn this merchant's sandbox clock offset from real time, so ${now} follows a moved clock."""
        if self.admin is None:
            return
        data = self.admin.clock(self.merchant.partner_id)
        if isinstance(data, dict) and "offsetSeconds" in data:
            self._offset = timedelta(seconds=float(data["offsetSeconds"]))
        elif isinstance(data, dict) and data.get("now"):
            self._offset = parse_timestamp(data["now"]) - datetime.now(JAKARTA)

    def now(self) -> datetime:
        return datetime.now(JAKARTA) + self._offset

    def advance_clock(self, seconds: int) -> dict:
        if self.admin is None:
            raise AdminUnavailable("DANA's real sandbox has no movable clock")
        data = self.admin.advance(seconds, self.merchant.partner_id)
        self.sync_clock()
        return data

    # -- DANA's side ----------------------------------------------------------------------------

    def send_notify(self, *, partner_reference_no: str | None = None, status: str | None = None,
                    body: dict | None = None, url: str | None = None, timestamp: str | None = None,
                    deliver: bool = True) -> dict:
        """Have DANA's side sign a Finish Notify for an order (or for ``body``) and post it to ``url``.

        Returns ``{"request": {url, headers, body}, "answer": {status, body, error} | None}``. A sandbox
        (embedded or URL) signs with its DANA key over its admin API; DANA's real sandbox signs only its
        own deliveries, so there it raises AdminUnavailable with the reason.
        """
        if self.admin is None:
            raise AdminUnavailable("DANA's real sandbox sends Finish Notify only for its own payments; "
                                   "sending one as DANA needs a sandbox target (embedded or `dana-uat sandbox`)")
        status_code, data = self.admin.send_notification(
            partnerReferenceNo=partner_reference_no, status=status, body=body, url=url, timestamp=timestamp,
            deliver=deliver)
        if status_code != 200 or not isinstance(data, dict):
            raise TargetError(f"the sandbox could not sign a Finish Notify: HTTP {status_code} {data}")
        return data

    # -- the traffic journal (merchant mode) ---------------------------------------------------

    def traffic(self, since: int = 0, *, partner_id: str | None = None, api: str | None = None,
                limit: int | None = None) -> dict:
        """What merchants' backends sent the sandbox after sequence number ``since``, graded.

        ``{"last": n, "entries": [...]}`` (shape: conformance/sandbox/journal.py); ``partner_id`` and
        ``api`` filter, ``limit`` keeps the oldest ``limit`` entries (``last`` is the journal's newest in
        any case). Pass the ``last`` of one call as ``since`` of the next to read "what the merchant sent
        since then". Only a sandbox sees the merchant's requests: on DANA's real sandbox this raises
        AdminUnavailable.
        """
        if self.admin is None:
            raise AdminUnavailable("DANA's real sandbox has no traffic journal; merchant mode needs the "
                                   "embedded sandbox or a `dana-uat sandbox` URL as target")
        return self.admin.traffic(since, partner_id, api, limit)

    def wait_traffic(self, since: int = 0, count: int = 1, timeout: float = 10.0, *,
                     partner_id: str | None = None, api: str | None = None) -> dict:
        """Like ``traffic``, after waiting (event-driven, bounded) until ``count`` entries match."""
        if self.admin is None:
            raise AdminUnavailable("DANA's real sandbox has no traffic journal; merchant mode needs the "
                                   "embedded sandbox or a `dana-uat sandbox` URL as target")
        return self.admin.wait_traffic(since, count, timeout, partner_id, api)

    # -- the merchant side ---------------------------------------------------------------------

    @property
    def receiver(self):
        """The suite's loopback merchant endpoints (OAuth redirect, pay return, Finish Notify); lazy."""
        with self._receiver_made:
            if self._receiver is None:
                from conformance.client.receiver import CallbackReceiver

                host, port = self.settings.receiver_listen or ("127.0.0.1", 0)
                self._receiver = CallbackReceiver(host, port, public_url=self.settings.receiver_public_url).start()
        return self._receiver

    def receiver_url(self, name: str) -> str | None:
        """A merchant URL: the configured one if set, else the suite's own receiver."""
        configured = {"notify_url": self.settings.notify_url, "redirect_url": self.settings.redirect_url_oauth}
        return configured.get(name) or getattr(self.receiver, name)
