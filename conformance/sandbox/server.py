"""SandboxServer: the sandbox on loopback, served by uvicorn in a daemon thread.

``port=0`` binds a free port before the thread starts, so ``base_url`` is known at once; ``start()``
returns when the app's startup has run (an event, bounded wait), and ``stop()`` ends the thread.
``faults`` (a FaultPlan, its dict or rows, or a plan file) puts the fault injector in front of the app
(faults.py); what it injected is ``server.faults.injected()``.
"""

from __future__ import annotations

import socket
import threading

import uvicorn

from conformance.sandbox.access import AdminAccess, as_access
from conformance.sandbox.app import create_app
from conformance.sandbox.faults import FaultInjector, Faults, FaultPlan, plan_of
from conformance.sandbox.state import Sandbox

START_TIMEOUT = 15.0


class SandboxServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, dana_private_key=None,
                 admin: AdminAccess | bool | None = None, tls: tuple[str, str] | None = None, rules=None, wrap=None,
                 state=None, faults: FaultPlan | dict | list | str | None = None):
        self.host, self.port = host, port
        self.wrap = wrap or (lambda app: app)      # ASGI middleware around the app (the twin's record)
        # admin: open on loopback, a generated token on any other address, none when False (sandbox/access.py)
        self.admin = admin if isinstance(admin, AdminAccess) else \
            AdminAccess.for_host(host) if admin in (None, True) else as_access(False)
        self.tls = tls                             # tls: (certificate chain file, key file), served as HTTPS
        self.sandbox = Sandbox(dana_private_key, rules=rules, state=state)   # state: a StateFile, or None (memory)
        plan = plan_of(faults)
        self.faults: Faults | None = Faults(plan) if plan is not None else None
        self.sandbox.faults = self.faults          # GET /sandbox-admin/faults reads it
        self.dana_public_key_pem = self.sandbox.dana_public_key_pem
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def register_merchant(self, partner_id: str, merchant_id: str, public_key_pem: str) -> None:
        self.sandbox.register_merchant(partner_id, merchant_id, public_key_pem)

    def start(self) -> "SandboxServer":
        if self._thread is not None:
            return self
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
        # says TCP; without it every response waits for a delayed ACK (~40 ms on Linux).
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET     # ::1 is a loopback too
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        sock.listen(2048)
        self._socket = sock
        self.port = sock.getsockname()[1]
        host = f"[{self.host}]" if family == socket.AF_INET6 else self.host
        self.base_url = f"{'https' if self.tls else 'http'}://{host}:{self.port}"
        self.sandbox.base_url = self.base_url
        ready = threading.Event()
        app = create_app(self.sandbox, on_startup=ready.set, admin=self.admin)
        if self.faults is not None:          # inside the wrap: the twin's record sees the faulted requests too
            app = FaultInjector(app, self.faults)
        app = self.wrap(app)
        tls = dict(zip(("ssl_certfile", "ssl_keyfile"), self.tls)) if self.tls else {}
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                                timeout_keep_alive=30, server_header=False, **tls)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"dana-sandbox-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT) or not self._thread.is_alive():
            self.stop()
            raise RuntimeError(f"the sandbox did not start on {self.base_url} within {START_TIMEOUT:.0f} s")
        return self

    def signal_stop(self) -> None:
        """Ask the server to stop without waiting for it (see Target.stop)."""
        if self._server is not None:
            self._server.should_exit = True
        if self.faults is not None:
            self.faults.release()              # a stalled response ends with the server

    def stop(self) -> None:
        self.signal_stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self.sandbox.close_state()           # after the requests in flight finished

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
