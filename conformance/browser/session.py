"""One Chromium per test session, a fresh context per scenario, and the evidence each context leaves.

Evidence: a screenshot at each page step (``ScenarioContext.step``) and a Playwright trace,
kept per the tracing mode. The modes mirror pytest-playwright's habits: tracing ``on|off|retain-on-failure``,
screenshots ``on|off|only-on-failure``. Secrets the flows meet (the OTT in a checkout URL) are registered on the
context and replaced by ``[REDACTED]`` in step URLs and inside a kept trace before it stays on disk.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from conformance.browser.discovery import LAUNCH_ARGS, is_managed, require_chromium
from conformance.snap.timestamps import JAKARTA

TRACING_MODES = ("on", "off", "retain-on-failure")
SCREENSHOT_MODES = ("on", "off", "only-on-failure")
REDACTED = "[REDACTED]"
SHOT_QUALITY = 60                               # JPEG quality: page text stays legible at a tenth of PNG size
VIEWPORT = {"width": 480, "height": 860}      # phone-sized like DANA's scripts ([uat-oauth]), small screenshots


@dataclass(frozen=True)
class PageStep:
    name: str
    url: str                        # secrets redacted
    screenshot: Path | None
    at: str                         # Jakarta time
    note: str = ""                  # why there is no screenshot, when there is none

    def to_dict(self) -> dict:
        return {"name": self.name, "url": self.url, "at": self.at, "note": self.note,
                "screenshot": str(self.screenshot) if self.screenshot else None}


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:80] or "scenario"


class ScenarioContext:
    """A browser context for one scenario: its page, its page steps, its artifacts."""

    def __init__(self, session: "BrowserSession", name: str, context, directory: Path, *,
                 tracing: str, screenshot: str):
        self.session, self.name, self.context, self.dir = session, name, context, directory
        self.tracing, self.screenshot = tracing, screenshot
        self.page = context.new_page()
        self.steps: list[PageStep] = []
        self.screenshots: list[Path] = []
        self.trace: Path | None = None
        self.listeners: list = []          # callables(PageStep): the evidence recorder subscribes here
        self._secrets: set[str] = set()
        self._closed = False

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= 6:
            self._secrets.add(value)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED).replace(quote(secret, safe=""), REDACTED)
        return text

    def step(self, name: str) -> PageStep:
        """Record a page step; with screenshots on (or kept for failure) also take one."""
        shot, note = None, ""
        if self.screenshot != "off" and not self.page.is_closed():
            shot = self.dir / f"{len(self.steps) + 1:02d}-{_slug(name)}.jpg"   # JPEG: a small report
            note = self._capture(shot)
            if note:
                shot = None
            else:
                self.screenshots.append(shot)
        record = PageStep(name, self.redact(self.page.url), shot,
                          datetime.now(JAKARTA).isoformat(timespec="milliseconds"), note)
        self.steps.append(record)
        for listener in self.listeners:
            listener(record)
        return record

    def _capture(self, path: Path) -> str:
        """Take the screenshot; '' when done, else why not. A page caught mid-navigation cannot be captured,
        so on failure wait (bounded) for it to finish loading and try once more."""
        try:
            self.page.screenshot(path=str(path), type="jpeg", quality=SHOT_QUALITY)
            return ""
        except Exception:
            pass
        try:
            self.page.wait_for_load_state("load", timeout=5000)
            self.page.screenshot(path=str(path), type="jpeg", quality=SHOT_QUALITY)
            return ""
        except Exception as exc:
            return f"no screenshot: {str(exc).splitlines()[0]}"

    def close(self, failed: bool = False) -> list[Path]:
        """Close the context; keep the trace and screenshots per the modes. Returns the kept artifacts."""
        if self._closed:
            return self.artifacts()
        self._closed = True
        if failed and self.screenshot != "off" and not self.page.is_closed():
            try:
                self.step("failure")
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
                self.context.tracing.stop(path=str(self.trace))
                _redact_zip(self.trace, self._secrets)
            else:
                self.context.tracing.stop()
        self.context.close()
        if not any(self.dir.iterdir()):
            self.dir.rmdir()
        return self.artifacts()

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


def _check_modes(tracing: str, screenshot: str) -> None:
    if tracing not in TRACING_MODES:
        raise ValueError(f"--dana-tracing: {tracing!r} is not one of {', '.join(TRACING_MODES)}")
    if screenshot not in SCREENSHOT_MODES:
        raise ValueError(f"--dana-screenshot: {screenshot!r} is not one of {', '.join(SCREENSHOT_MODES)}")


class BrowserSession:
    """Starts one Chromium (system first, see discovery) and hands out fresh contexts."""

    def __init__(self, chromium: str | None = None, headed: bool = False, slowmo: float = 0,
                 tracing: str = "retain-on-failure", screenshot: str = "on",
                 artifacts_dir: Path | str = Path("reports") / "browser", timeout: float = 30):
        _check_modes(tracing, screenshot)
        self.chromium_setting, self.headed, self.slowmo = chromium, headed, slowmo
        self.tracing, self.screenshot = tracing, screenshot
        self.artifacts_dir = Path(artifacts_dir)
        self.timeout = timeout
        self.executable: str | None = None
        self._playwright = None
        self._browser = None

    @property
    def started(self) -> bool:
        return self._browser is not None

    def start(self) -> "BrowserSession":
        if self._browser is not None:
            return self
        from playwright.sync_api import sync_playwright      # imported late: API-only runs never load it

        path = require_chromium(self.chromium_setting, headless=not self.headed)
        self._playwright = sync_playwright().start()
        try:
            if is_managed(path):
                self._browser = self._playwright.chromium.launch(headless=not self.headed, slow_mo=self.slowmo)
            else:
                args = [a for a in LAUNCH_ARGS if not (self.headed and a == "--headless")]
                self._browser = self._playwright.chromium.launch(
                    executable_path=path, args=args, headless=not self.headed, slow_mo=self.slowmo)
        except Exception:
            self._playwright.stop()
            self._playwright = None
            raise
        self.executable = path
        return self

    def stop(self) -> None:
        for name, method in (("_browser", "close"), ("_playwright", "stop")):   # the browser first
            part = getattr(self, name)
            setattr(self, name, None)
            if part is not None:
                getattr(part, method)()

    def __enter__(self) -> "BrowserSession":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def new_context(self, name: str, *, tracing: str | None = None, screenshot: str | None = None) -> ScenarioContext:
        """A fresh context (own cookies and storage) for one scenario; modes default to the session's."""
        tracing, screenshot = tracing or self.tracing, screenshot or self.screenshot
        _check_modes(tracing, screenshot)
        self.start()
        directory = self.artifacts_dir / _slug(name)
        n = 1
        while directory.exists():
            n += 1
            directory = self.artifacts_dir / f"{_slug(name)}-{n}"
        directory.mkdir(parents=True)
        context = self._browser.new_context(viewport=VIEWPORT, locale="id-ID", timezone_id="Asia/Jakarta")
        context.set_default_timeout(self.timeout * 1000)
        if tracing != "off":
            # DOM snapshots, actions and network, without the screencast: its frames cost a third of a flow's CPU
            # and the flows' own step screenshots (plus failure.png) are the pictures (issue 13)
            context.tracing.start(screenshots=False, snapshots=True)
        return ScenarioContext(self, name, context, directory, tracing=tracing, screenshot=screenshot)
