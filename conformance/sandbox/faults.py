"""Faults injected by the sandbox, from a declarative plan: what DANA's network does to a merchant on a bad day.

A plan is a table (YAML or JSON, docs/sandbox.md "Faults"); each row says which requests it matches and what
they get:

    faults:
      - {match: api, kind: latency, ms: 150}                   # every API call waits 150 ms first
      - {match: page, kind: status, status: 503, first: 1}     # the first GET of every hosted page: 503
      - {match: api, kind: retry_after, seconds: 1}            # the first call of every API path: 429 Retry-After: 1
      - {match: /v1.0/payment-host-to-host.htm, kind: reset}   # the order is made, its answer cut mid-body
      - {match: /n/cashier/new/checkout, kind: stall}          # the page starts and never finishes loading

``match`` is ``api`` (the SNAP API paths), ``page`` (the hosted pages: what is neither an API, the admin API nor
the sandbox tools) or a path prefix. ``first: N`` counts per path: the first N requests of each matching path
get the fault (``latency`` applies to every request unless ``first`` is given). Rows are read in order: every
matching ``latency`` row adds its delay, and the first other row that still has a fault to give for this path
decides the answer (so a 429 row and a 503 row in turn give a 429, then a 503, then the real answer).

``FaultInjector`` is the ASGI middleware around the sandbox app; ``Faults`` holds the plan, the per-path counts
and the record of every fault injected (``Faults.injected()``: path, method, kind, detail, time), which the
tests read (in process from ``SandboxServer.faults``, from a `dana-uat sandbox` at ``GET /sandbox-admin/faults``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from conformance.sandbox.admin import PREFIX as ADMIN_PREFIX
from conformance.sandbox.sandbox_tools import PATH as TOOLS_PATH
from conformance.snap.apis import APIS, api_by_path
from conformance.snap.codes import response_code
from conformance.snap.timestamps import format_timestamp

API_PATHS = frozenset(p for a in APIS.values() if a.family != "notify" for p in a.paths)
STALL_BOUND = 300          # seconds a stall lasts at most, when neither the client nor the server ends it
RECORD_LIMIT = 100_000     # injected faults kept (the oldest go first): a sandbox left running stays bounded
Kind = Literal["latency", "status", "retry_after", "reset", "stall"]


class Fault(BaseModel):
    """One row of the plan."""

    model_config = ConfigDict(extra="forbid")

    match: str = Field(description="api, page, or a path prefix starting with /")
    kind: Kind
    first: int | None = Field(None, ge=1, description="only the first N matching requests of each path "
                              "(default: every request for latency, 1 for the other kinds)")
    method: str | None = Field(None, description="only requests of this HTTP method (e.g. GET)")
    ms: int = Field(0, ge=0, le=60_000, description="latency: the delay in milliseconds")
    status: int = Field(503, ge=500, le=599, description="status: the HTTP status (5xx)")
    seconds: int = Field(1, ge=0, le=STALL_BOUND, description="retry_after: the Retry-After value; stall: how "
                         f"long the stall lasts at most (default {STALL_BOUND} s)")

    @model_validator(mode="after")
    def _settle(self) -> "Fault":
        if self.match not in ("api", "page") and not self.match.startswith("/"):
            raise ValueError(f"match {self.match!r}: give api, page, or a path prefix starting with /")
        if self.kind == "latency" and not self.ms:
            raise ValueError("a latency row needs ms")
        if self.first is None and self.kind != "latency":
            self.first = 1
        if self.kind == "stall" and "seconds" not in self.model_fields_set:
            self.seconds = STALL_BOUND
        if self.method:
            self.method = self.method.upper()
        return self


class FaultPlan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faults: list[Fault] = Field(default_factory=list)


class FaultPlanError(ValueError):
    """A plan file that cannot be used: the message names the file, the row and the field."""


def load_plan(path: str | Path) -> FaultPlan:
    """The plan in ``path`` (YAML, which includes JSON)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FaultPlanError(f"{path}: cannot read the fault plan ({exc})") from None
    try:
        return FaultPlan.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise FaultPlanError(f"{path}: {problems}") from None


def plan_of(value: FaultPlan | dict | list | str | Path | None) -> FaultPlan | None:
    """A plan from what a caller has: a FaultPlan, its dict, a list of rows, or a file path."""
    if value is None or isinstance(value, FaultPlan):
        return value
    if isinstance(value, (str, Path)):
        return load_plan(value)
    return FaultPlan.model_validate({"faults": value} if isinstance(value, list) else value)


def group_of(path: str) -> str:
    """api, admin (the admin API and the sandbox tools: never in a group) or page."""
    if path in API_PATHS:
        return "api"
    if path.startswith(ADMIN_PREFIX) or path == TOOLS_PATH:
        return "admin"
    return "page"


def _matches(row: Fault, path: str, method: str) -> bool:
    if row.method and row.method != method:
        return False
    return path.startswith(row.match) if row.match.startswith("/") else group_of(path) == row.match


class Faults:
    """The plan, the per-path counts, and the record of what was injected; safe across threads."""

    def __init__(self, plan: FaultPlan):
        self.plan = plan
        self._lock = threading.Lock()
        self._counts: dict[tuple[int, str], int] = {}
        self._injected: deque[dict] = deque(maxlen=RECORD_LIMIT)
        self._listeners: list[Callable[[dict], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    # -- what the middleware asks ------------------------------------------------------------------

    def decide(self, path: str, method: str) -> tuple[int, Fault | None]:
        """(total latency in ms, the row that decides the answer or None) for one request; counts it."""
        delay, decided = 0, None
        with self._lock:
            for index, row in enumerate(self.plan.faults):
                if not _matches(row, path, method) or (decided is not None and row.kind != "latency"):
                    continue
                seen = self._counts.get((index, path), 0)
                if row.first is not None and seen >= row.first:
                    continue
                self._counts[(index, path)] = seen + 1
                if row.kind == "latency":
                    delay += row.ms
                else:
                    decided = row
        return delay, decided

    def record(self, path: str, method: str, kind: str, **detail) -> None:
        entry = {"path": path, "method": method, "kind": kind, "at": format_timestamp(),
                 "monotonic": time.monotonic(), **detail}
        with self._lock:
            self._injected.append(entry)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(entry)

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def injected(self, kind: str | None = None) -> list[dict]:
        """Every fault injected so far, in order (only those of ``kind`` when given)."""
        with self._lock:
            return [dict(e) for e in self._injected if kind is None or e["kind"] == kind]

    def to_dict(self) -> dict:
        return {"plan": self.plan.model_dump(exclude_defaults=True)["faults"], "injected": self.injected()}

    # -- stalls end when the server stops ------------------------------------------------------------

    def stopping(self) -> asyncio.Event:
        if self._stopping is None:
            self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        return self._stopping

    def release(self) -> None:
        """End every stall now (the server is stopping); callable from any thread."""
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)


class InjectedReset(Exception):
    """Raised after part of a response was sent: the server closes the connection (a reset mid-response)."""


class _QuietResets(logging.Filter):
    """uvicorn logs every exception of the app with its traceback; an injected reset is no error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedReset))


_QUIET = _QuietResets()


def _body(path: str, status: int) -> tuple[bytes, bytes]:
    """(content type, body) of an injected status: a SNAP body on an API where SNAP has the case, else text."""
    api = api_by_path(path)
    if api is not None:
        try:
            return b"application/json", json.dumps(response_code(api.service, status).body()).encode()
        except KeyError:      # SNAP has no code for this status (e.g. 503): a gateway's plain answer
            pass
    return b"text/plain; charset=utf-8", HTTPStatus(status).phrase.encode()


class FaultInjector:
    """ASGI middleware: applies ``faults`` to every HTTP request before (or while) the app answers it."""

    def __init__(self, app, faults: Faults):
        self.app, self.faults = app, faults
        logging.getLogger("uvicorn.error").addFilter(_QUIET)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.faults.plan.faults:
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        delay, row = self.faults.decide(path, method)
        if delay:
            self.faults.record(path, method, "latency", ms=delay)
            await asyncio.sleep(delay / 1000)      # the injected latency itself
        if row is None:
            return await self.app(scope, receive, send)
        await ANSWERS[row.kind](self, row, scope, receive, send)

    async def _status(self, row: Fault, scope, receive, send, status: int | None = None, headers=()) -> None:
        status = status or row.status
        ctype, body = _body(scope["path"], status)
        detail = {"status": status} | ({"retryAfter": row.seconds} if status == 429 else {})
        # recorded before it is sent: whoever got the answer finds it in the record (it was read too early once)
        self.faults.record(scope["path"], scope["method"], row.kind, **detail)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()), *headers]})
        await send({"type": "http.response.body", "body": body})

    async def _retry_after(self, row: Fault, scope, receive, send) -> None:
        await self._status(row, scope, receive, send, 429, [(b"retry-after", str(row.seconds).encode())])

    async def _answered(self, scope, receive) -> tuple[dict, bytes]:
        """The app's own answer, held back: its start message and its whole body."""
        start, chunks = {}, []

        async def keep(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        return start, b"".join(chunks)

    async def _cut(self, row: Fault, scope, receive, send) -> bytes:
        """Send the app's headers and the first half of its body; return the body (the request was handled)."""
        start, body = await self._answered(scope, receive)
        await send(start)
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        return body

    async def _reset(self, row: Fault, scope, receive, send) -> None:
        body = await self._cut(row, scope, receive, send)
        self.faults.record(scope["path"], scope["method"], "reset", sentBytes=len(body) // 2, ofBytes=len(body))
        raise InjectedReset(f"{scope['method']} {scope['path']}: reset after {len(body) // 2} of {len(body)} bytes")

    async def _stall(self, row: Fault, scope, receive, send) -> None:
        await self._cut(row, scope, receive, send)
        self.faults.record(scope["path"], scope["method"], "stall", boundS=row.seconds)
        gone = asyncio.ensure_future(_disconnected(receive))
        stop = asyncio.ensure_future(self.faults.stopping().wait())
        try:            # until the client goes away, the server stops, or the bound passes
            await asyncio.wait({gone, stop}, timeout=row.seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            stop.cancel()
        raise InjectedReset(f"{scope['method']} {scope['path']}: stalled page closed")


async def _disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


ANSWERS = {"status": FaultInjector._status, "retry_after": FaultInjector._retry_after,
           "reset": FaultInjector._reset, "stall": FaultInjector._stall}
