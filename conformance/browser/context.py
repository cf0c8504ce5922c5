"""One scenario's browser context and the evidence it leaves: a screenshot at each page step (``step``), a
Playwright trace kept per the tracing mode, every page step and every document the page loaded (its HTTP status)
to the context's ``observers`` (the scenario's recorder). A hosted page that answers HTTP 5xx or 429 to a GET is
loaded again after a wait (the session's ``page_retries`` at most); past that bound, or after a 5xx to a form's
POST, the flow stops with ``PageStatusError``. Secrets the flows meet (the OTT in a checkout URL) are registered
on the context and replaced by ``[REDACTED]`` in step URLs and inside a kept trace before it stays on disk.
The session (session.py) starts Chromium and hands these out.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from conformance.snap.timestamps import JAKARTA

if TYPE_CHECKING:
    from conformance.browser.session import BrowserSession

REDACTED = "[REDACTED]"
SHOT_QUALITY = 60                               # JPEG quality: page text stays legible at a tenth of PNG size
# A screenshot waits at most this long (ms), twice at most with a short wait for the page's load between: a page
# that never finishes loading must not add Playwright's 30 s default twice to a failure that has already waited.
SHOT_TIMEOUT = 2500
SHOT_LOAD_WAIT = 1000
T = TypeVar("T")


@dataclass(frozen=True)
class PageStep:
    name: str
    url: str                        # secrets redacted
    screenshot: Path | None
    at: str                         # Jakarta time
    note: str = ""                  # why there is no screenshot, when there is none
    ms: float = 0.0                 # how long taking the screenshot took

    def to_dict(self) -> dict:
        return {"name": self.name, "url": self.url, "at": self.at, "note": self.note, "ms": self.ms,
                "screenshot": self.screenshot.name if self.screenshot else None}


class PageLoadTimeout(AssertionError):
    """A hosted page was asked for and did not load (DOMContentLoaded) within the flow's timeout."""

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout = url, timeout
        super().__init__(f"{url} did not load within {timeout:g} s")


class PageStatusError(AssertionError):
    """A hosted page answered HTTP 5xx or 429 and kept doing so through its reloads (or to a form's POST)."""

    def __init__(self, url: str, status: int, loads: int, retry_after: str | None = None):
        self.url, self.status, self.loads, self.retry_after = url, status, loads, retry_after
        super().__init__(f"HTTP {status} from {url} after {loads} load(s)")


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:80] or "scenario"


class ScenarioContext:
    """A browser context for one scenario: its page, its page steps, its artifacts.

    ``page`` is Playwright's async Page, driven on the session's browser thread: async code (flows.py) awaits it
    there; any other thread goes through ``run`` (``ctx.run(lambda page: page.goto(url))``) or the sync methods.
    """

    def __init__(self, session: "BrowserSession", name: str, context, page, directory: Path, *,
                 tracing: str, screenshot: str):
        self.session, self.name, self.context, self.page, self.dir = session, name, context, page, directory
        self.tracing, self.screenshot = tracing, screenshot
        self.steps: list[PageStep] = []
        self.screenshots: list[Path] = []
        self.trace: Path | None = None
        self.listeners: list = []          # callables(PageStep), called on the browser thread
        self.observers: list = []          # callables(dict): page steps, loaded documents, reloads (evidence)
        self._secrets: set[str] = set()
        self._closed = False
        self._loads: dict[str, int] = {}   # GET URL -> loads answered 5xx/429 so far
        self._failed: PageStatusError | None = None
        self._failed_event = asyncio.Event()
        self._reloading: set[asyncio.Task] = set()
        page.on("response", self._on_response)

    def observe(self, action: str, **data) -> None:
        event = {"action": action, **data}
        for observer in self.observers:
            observer(event)

    # -- hosted pages that answer 5xx or 429 ---------------------------------------------------------

    def _on_response(self, response) -> None:
        """Every document of the main frame is recorded with its status; a 5xx or 429 is loaded again or ends the
        flow (on the browser thread)."""
        request = response.request
        if not request.is_navigation_request() or request.frame != self.page.main_frame:
            return
        status, url = response.status, self.redact(response.url)
        retry_after = response.headers.get("retry-after")
        self.observe("document", method=request.method, url=url, status=status,
                     **({"retryAfter": retry_after} if retry_after is not None else {}))
        if status < 500 and status != 429:
            return
        loads = self._loads[response.url] = self._loads.get(response.url, 0) + 1
        wait = self.session.page_wait(loads, status, retry_after) if request.method == "GET" else None
        if wait is None or loads > self.session.page_retries:   # a POST is never sent twice
            self._failed = PageStatusError(url, status, loads, retry_after)
            self._failed_event.set()
            return
        task = asyncio.ensure_future(self._reload(response.url, url, status, loads, wait))
        self._reloading.add(task)
        task.add_done_callback(self._reloading.discard)

    async def _reload(self, real_url: str, url: str, status: int, loads: int, wait: float) -> None:
        started = time.perf_counter()
        await asyncio.sleep(wait)          # the retry's protocol: backoff or Retry-After, as for an API call
        waited = round((time.perf_counter() - started) * 1000, 1)
        self.observe("reload", url=url, status=status, retry=loads, waitS=round(wait, 3), waitedMs=waited)
        try:
            await self.page.goto(real_url, wait_until="commit")
        except Exception as exc:           # the flow's own wait reports what the page then shows
            self.observe("reload-error", url=url, error=str(exc).splitlines()[0])

    async def guarded(self, flow: Awaitable[T]) -> T:
        """Run a page flow until it ends, or until a page fails past its reloads (``PageStatusError``)."""
        task = asyncio.ensure_future(flow)
        failed = asyncio.ensure_future(self._failed_event.wait())
        try:
            await asyncio.wait({task, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            failed.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self._failed is not None:       # the page's status explains whatever the flow then met
            raise self._failed
        return task.result()

    def run(self, action: Callable[[Any], Awaitable[T]]) -> T:
        """``await action(page)`` on the browser thread, from any other thread; its result or its exception."""
        return self.session.run(action(self.page))

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= 6:
            self._secrets.add(value)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED).replace(quote(secret, safe=""), REDACTED)
        return text

    def step(self, name: str) -> PageStep:
        """Record a page step (from a thread other than the browser's)."""
        return self.session.run(self.record(name))

    async def record(self, name: str) -> PageStep:
        """Record a page step; with screenshots on (or kept for failure) also take one."""
        shot, note, ms = None, "", 0.0
        if self.screenshot != "off" and not self.page.is_closed():
            shot = self.dir / f"{len(self.steps) + 1:02d}-{slug(name)}.jpg"   # JPEG: a small report
            started = time.perf_counter()
            note = await self._capture(shot)
            ms = round((time.perf_counter() - started) * 1000, 1)
            if note:
                shot = None
            else:
                self.screenshots.append(shot)
        record = PageStep(name, self.redact(self.page.url), shot,
                          datetime.now(JAKARTA).isoformat(timespec="milliseconds"), note, ms)
        self.steps.append(record)
        for listener in self.listeners:
            listener(record)
        self.observe("step", **{k: v for k, v in record.to_dict().items() if k != "at"})
        return record

    async def _capture(self, path: Path) -> str:
        """Take the screenshot; '' when done, else why not. A page caught mid-navigation cannot be captured,
        so on failure wait (bounded) for it to finish loading and try once more; never longer than
        2 x SHOT_TIMEOUT + SHOT_LOAD_WAIT in all (a stalled page)."""
        try:
            await self.page.screenshot(path=str(path), type="jpeg", quality=SHOT_QUALITY, timeout=SHOT_TIMEOUT)
            return ""
        except Exception:
            pass
        try:
            with contextlib.suppress(Exception):
                await self.page.wait_for_load_state("load", timeout=SHOT_LOAD_WAIT)
            await self.page.screenshot(path=str(path), type="jpeg", quality=SHOT_QUALITY, timeout=SHOT_TIMEOUT)
            return ""
        except Exception as exc:
            return f"no screenshot: {str(exc).splitlines()[0]}"

    def close(self, failed: bool = False) -> list[Path]:
        """Close the context; keep the trace and screenshots per the modes. Returns the kept artifacts."""
        if not self._closed:
            self._closed = True
            self.session.run(self._close(failed))
        return self.artifacts()

    async def _close(self, failed: bool) -> None:
        if failed and self.screenshot != "off" and not self.page.is_closed():
            try:
                await self.record("failure")
            except Exception:          # a crashed page must not hide the scenario's own failure
                pass
        if self.screenshot == "only-on-failure" and not failed:
            for shot in self.screenshots:
                shot.unlink(missing_ok=True)
            self.screenshots.clear()
        if self.tracing != "off":
            keep = self.tracing == "on" or (self.tracing == "retain-on-failure" and failed)
            if keep:
                self.trace = self.dir / "trace.zip"
                await self.context.tracing.stop(path=str(self.trace))
                await asyncio.to_thread(_redact_zip, self.trace, self._secrets)
            else:
                await self.context.tracing.stop()
        await self.context.close()
        if not any(self.dir.iterdir()):
            self.dir.rmdir()

    def artifacts(self) -> list[Path]:
        return list(self.screenshots) + ([self.trace] if self.trace else [])

    def __enter__(self) -> "ScenarioContext":
        return self

    def __exit__(self, exc_type, *_) -> None:
        self.close(failed=exc_type is not None)


def _redact_zip(path: Path, secrets: set[str]) -> None:
    """Rewrite a trace so no registered secret (plain or percent-encoded) stays inside it."""
    if not secrets:
        return
    needles = [(s.encode(), REDACTED.encode()) for s in secrets]
    needles += [(quote(s, safe="").encode(), REDACTED.encode()) for s in secrets]
    tmp = path.with_suffix(".redacting")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            for needle, replacement in needles:
                data = data.replace(needle, replacement)
            dst.writestr(item, data)
    tmp.replace(path)
