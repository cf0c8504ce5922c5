"""Find a Chromium to drive, in a fixed order, or explain how to install one.

Order: the configured path (setting ``chromium`` / DANA_UAT_CHROMIUM / CHROMIUM_PATH); for a headless run
Chromium's headless shell (Debian's ``chromium-headless-shell``); ``/usr/bin/chromium``, ``chromium-browser``,
``google-chrome`` (and ``-stable``); then Playwright's managed browser. A system Chromium is preferred because
Playwright's own download is unavailable on many CI hosts and offline boxes.

The headless shell is the browser Playwright itself launches for ``headless=True`` (and so what DANA's own
Playwright UAT scripts run in): the same Blink and V8 without the full browser's GPU and display-compositor
processes, which cost about half of a bind flow's CPU (bench/browser.py; issue 13). ``--headed`` needs a window,
so it skips the shell.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

HEADLESS_SHELLS = ("chromium-headless-shell",)
SYSTEM_CANDIDATES = ("/usr/bin/chromium", "chromium-browser", "chromium", "google-chrome", "google-chrome-stable")

# Flags for a system Chromium in containers and CI: no sandbox (often no user namespaces), no GPU, and no
# background traffic, so the suite never leaves loopback.
LAUNCH_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
               "--disable-dev-shm-usage")

MANAGED = "playwright-managed"


class BrowserNotFound(RuntimeError):
    """No Chromium anywhere; the message carries the install command for this machine."""


def install_command() -> str:
    if Path("/etc/debian_version").exists():
        return "apt-get install -y chromium chromium-headless-shell"
    return "python -m playwright install chromium"


def _executable(path: str) -> str | None:
    if os.path.sep in path:
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return shutil.which(path)


def managed_chromium(headless: bool = True) -> str | None:
    """Playwright's downloaded Chromium, found without starting Playwright (its cache layout); its headless shell
    first for a headless run."""
    roots = [os.environ.get("PLAYWRIGHT_BROWSERS_PATH"), str(Path.home() / ".cache" / "ms-playwright")]
    for root in filter(None, roots):
        if root == "0":
            continue
        full = sorted(Path(root).glob("chromium*/chrome-linux*/chrome"))
        shells = sorted(Path(root).glob("chromium*/chrome-linux*/headless_shell"))
        groups = (shells, full) if headless else (full, shells)
        for hit in [hit for group in groups for hit in reversed(group)]:     # the newest of each first
            if os.access(hit, os.X_OK):
                return str(hit)
    return None


def find_chromium(configured: str | None = None, headless: bool = True) -> str | None:
    """Path of the Chromium to launch, or None when there is none.

    A configured path that does not exist is an error, not a silent fallback: the user asked for it.
    """
    if configured:
        found = _executable(configured)
        if not found:
            raise BrowserNotFound(f"chromium: the configured browser {configured!r} (DANA_UAT_CHROMIUM / "
                                  f"--dana-chromium) is not an executable file; fix the path or unset it")
        return found
    for candidate in (HEADLESS_SHELLS if headless else ()) + SYSTEM_CANDIDATES:
        found = _executable(candidate)
        if found:
            return found
    return managed_chromium(headless)


def require_chromium(configured: str | None = None, headless: bool = True) -> str:
    found = find_chromium(configured, headless)
    if not found:
        raise BrowserNotFound("chromium: no Chromium found (looked for chromium-headless-shell, /usr/bin/chromium, "
                              "chromium-browser, "
                              "google-chrome and Playwright's managed browser); install one with: "
                              f"{install_command()}  (or set DANA_UAT_CHROMIUM to its path)")
    return found


def is_managed(path: str) -> bool:
    return "ms-playwright" in Path(path).parts
