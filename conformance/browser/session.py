"""One Chromium per test session, and a fresh context per scenario (context.py: its pages and the evidence they
leave). The modes mirror pytest-playwright's habits: tracing ``on|off|retain-on-failure``, screenshots
``on|off|only-on-failure``.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from conformance.browser import trust
from conformance.browser.context import ScenarioContext, slug
from conformance.browser.discovery import LAUNCH_ARGS, is_managed, require_chromium

TRACING_MODES = ("on", "off", "retain-on-failure")
SCREENSHOT_MODES = ("on", "off", "only-on-failure")
VIEWPORT = {"width": 480, "height": 860}      # phone-sized like DANA's scripts ([uat-oauth]), small screenshots
T = TypeVar("T")


def _check_modes(tracing: str, screenshot: str) -> None:
    if tracing not in TRACING_MODES:
        raise ValueError(f"--dana-tracing: {tracing!r} is not one of {', '.join(TRACING_MODES)}")
    if screenshot not in SCREENSHOT_MODES:
        raise ValueError(f"--dana-screenshot: {screenshot!r} is not one of {', '.join(SCREENSHOT_MODES)}")


class BrowserSession:
    """Starts one Chromium (system first, see discovery) and hands out fresh contexts, to any thread.

    Playwright's async API runs on an event loop of its own thread ("dana-uat-browser"); ``run`` hands it a
    coroutine from any other thread and waits for the result. Scenarios running side by side (ahead.py) so drive
    their pages concurrently in one Chromium, each in its own context, while one driver process serves them all.
    """

    def __init__(self, chromium: str | None = None, headed: bool = False, slowmo: float = 0,
                 tracing: str = "retain-on-failure", screenshot: str = "on",
                 artifacts_dir: Path | str = Path("reports") / "browser", timeout: float = 30,
                 ca_bundle: str | None = None, page_retries: int = 0,
                 page_wait: Callable[[int, int, str | None], float | None] | None = None):
        _check_modes(tracing, screenshot)
        self.ca_bundle = ca_bundle          # extra CAs Chromium trusts (browser/trust.py)
        self._home: Path | None = None
        # A page answered 5xx/429 to a GET is loaded again up to page_retries times, after page_wait(retry, status,
        # Retry-After) seconds (the run passes the retries and waits of conformance/dana/retry.py; None: not again).
        self.page_retries = page_retries
        self.page_wait = page_wait or (lambda retry, status, retry_after: 0.0)
        self.chromium_setting, self.headed, self.slowmo = chromium, headed, slowmo
        self.tracing, self.screenshot = tracing, screenshot
        self.artifacts_dir = Path(artifacts_dir)
        self.timeout = timeout
        self.executable: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright = None
        self._browser = None
        # scenarios side by side may all ask for the browser at once, and the run may end while it starts
        self._starting = threading.RLock()
        self._dirs = threading.Lock()

    @property
    def started(self) -> bool:
        return self._browser is not None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the browser's loop and wait for it. Never call it from that loop itself."""
        if self._loop is None or threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("the browser session is not started" if self._loop is None else
                               "run() was called on the browser's own thread: await the coroutine instead")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def start(self) -> "BrowserSession":
        with self._starting:
            if self._browser is not None:
                return self
            path = require_chromium(self.chromium_setting, headless=not self.headed)
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="dana-uat-browser", daemon=True)
            self._thread.start()
            try:
                self._browser = self.run(self._launch(path))
            except BaseException:
                self.stop()
                raise
            self.executable = path
        return self

    async def _launch(self, path: str):
        from playwright.async_api import async_playwright  # imported late: API-only runs never load it

        self._playwright = await async_playwright().start()
        options = {"headless": not self.headed, "slow_mo": self.slowmo}
        if self.ca_bundle:
            self._home = trust.browser_home(self.ca_bundle)
            options["env"] = trust.browser_env(self._home)
        if is_managed(path):
            return await self._playwright.chromium.launch(**options)
        args = [a for a in LAUNCH_ARGS if not (self.headed and a == "--headless")]
        return await self._playwright.chromium.launch(executable_path=path, args=args, **options)

    def stop(self) -> None:
        with self._starting:            # a start under way (started in the background) finishes first
            loop, thread = self._loop, self._thread
            if loop is None:
                return
            try:
                self.run(self._shutdown())
            finally:
                self._loop = self._thread = None
                if self._home is not None:
                    shutil.rmtree(self._home, ignore_errors=True)
                    self._home = None
                loop.call_soon_threadsafe(loop.stop)
                if thread is not None:
                    thread.join(10)
                if not loop.is_running():
                    loop.close()

    async def _shutdown(self) -> None:
        for name, method in (("_browser", "close"), ("_playwright", "stop")):   # the browser first
            part = getattr(self, name)
            setattr(self, name, None)
            if part is not None:
                await getattr(part, method)()

    def __enter__(self) -> "BrowserSession":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def new_context(self, name: str, *, tracing: str | None = None, screenshot: str | None = None) -> ScenarioContext:
        """A fresh context (own cookies and storage) for one scenario; modes default to the session's."""
        tracing, screenshot = tracing or self.tracing, screenshot or self.screenshot
        _check_modes(tracing, screenshot)
        self.start()
        with self._dirs:
            directory = self.artifacts_dir / slug(name)
            n = 1
            while directory.exists():
                n += 1
                directory = self.artifacts_dir / f"{slug(name)}-{n}"
            directory.mkdir(parents=True)
        return self.run(self._new_scenario_context(name, directory, tracing, screenshot))

    async def _new_scenario_context(self, name: str, directory: Path, tracing: str, screenshot: str) -> ScenarioContext:
        context, page = await self._new_context(tracing)
        # made on the browser's loop: it listens to the page's responses from the start
        return ScenarioContext(self, name, context, page, directory, tracing=tracing, screenshot=screenshot)

    async def _new_context(self, tracing: str):
        context = await self._browser.new_context(viewport=VIEWPORT, locale="id-ID", timezone_id="Asia/Jakarta")
        context.set_default_timeout(self.timeout * 1000)
        if tracing != "off":
            # DOM snapshots, actions and network, without the screencast: its frames cost a third of a flow's CPU
            # and the flows' own step screenshots (plus failure.png) are the pictures (issue 13)
            await context.tracing.start(screenshots=False, snapshots=True)
        return context, await context.new_page()
