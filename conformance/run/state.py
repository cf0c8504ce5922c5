"""The run's state in one pytest process: settings, the target (started while collection goes on), the browser,
the results the summary is written from, and the publishing of the report and bundle.

The plugin (plugin.py) registers one DanaState per process and stays an adapter; this is what it adapts.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path

import pytest

from conformance.config import settings as settings_mod
from conformance.dana import retry
from conformance.evidence.recorder import EvidenceWriter, new_run_id
from conformance.scenarios import catalogue

STATE = pytest.StashKey["DanaState"]()
# Playwright tracing by target kind when --dana-tracing is not given. A trace is a debugging aid, never evidence
# (scrub.py keeps it out of the bundle), and its DOM snapshots cost a fifth of a flow's CPU (bench/browser.py). On
# the embedded sandbox or a URL target a failure reproduces: run it again with --dana-tracing on. Against DANA it
# may not, so a failed scenario keeps its trace.
TRACING = {"sandbox": "retain-on-failure"}
PAGE_TIMEOUT = 30     # seconds a hosted page may take (DANA_UAT_PAGE_TIMEOUT)
OPTION_MAP = {"dana_target": "target", "dana_report_dir": "report_dir", "dana_scenarios": "scenario_dir",
              "dana_chromium": "chromium", "merchant_profile": "merchant_profile", "dana_concurrency": "concurrency"}


class DanaState:
    """Per-process state: cheap until a scenario runs."""

    def __init__(self, config: pytest.Config):
        self.config = config
        workerinput = getattr(config, "workerinput", None)
        self.is_worker = workerinput is not None
        self.run_id = (workerinput or {}).get("dana_run_id") or config.getoption("dana_run_id") or new_run_id()
        self.raw = self._raw_values()
        self._settings = None
        self._target = None
        self._starting: threading.Thread | None = None   # the target starting while collection goes on
        self._started: tuple = (None, None)              # (target, exception) left by that thread
        self._browser = None
        self._browser_made = threading.Lock()             # scenarios side by side ask for it at once
        self.ahead = None                                 # ahead.Ahead while scenarios run side by side
        self.broken: list[str] = []
        self.results: list[dict] = []
        self.interrupted = False
        self.started = datetime.now().astimezone()
        self.bundle_refusal: str | None = None
        self.merchant_unconfigured = 0      # merchant scenarios left out for want of a profile
        self._profile = None

    def cli(self) -> dict:
        values = {key: self.config.getoption(opt) for opt, key in OPTION_MAP.items() if self.config.getoption(opt)}
        return {**values, "confirm_production": True} if self.config.getoption("dana_confirm_production") else values

    @property
    def here(self) -> Path:
        """The folder pytest was started in: .env, pyproject.toml and reports resolve against it (issue 14)."""
        return Path(self.config.invocation_params.dir)

    def _raw_values(self) -> dict:
        root = self.here
        env_file = self.config.getoption("dana_env_file")
        env_path = Path(env_file) if env_file else root / ".env"
        try:
            values, _ = settings_mod.resolve_raw(self.cli(), os.environ, settings_mod.read_env_file(env_path),
                                                 settings_mod.read_pyproject(root / "pyproject.toml"))
        except settings_mod.ConfigError:
            values = {o.key: o.default for o in settings_mod.OPTIONS}   # reported when settings load
        return values

    @property
    def scenario_dir(self) -> Path:
        return (self.here / (self.raw.get("scenario_dir") or "scenarios")).resolve()

    @property
    def report_dir(self) -> Path:
        return self.here / (self.raw.get("report_dir") or "reports")

    @property
    def writer(self) -> EvidenceWriter:
        return EvidenceWriter(self.report_dir, self.run_id)

    def load_settings(self):
        """Settings, loaded once; raises ConfigError."""
        if self._settings is None:
            env_file = self.config.getoption("dana_env_file") or ".env"
            self._settings = settings_mod.load_settings(self.cli(), env_file=env_file, root=self.here)
        return self._settings

    def settings(self):
        try:
            return self.load_settings()
        except settings_mod.ConfigError as exc:
            pytest.exit(f"dana-uat configuration error: {exc}", returncode=2)

    def profile(self):
        """The merchant profile, loaded once; a wrong one ends the run with exit 2 and file:line."""
        if self._profile is None and self.raw.get("merchant_profile"):
            from conformance.merchant.profile import ProfileError, load_profile

            path = Path(self.config.invocation_params.dir, self.raw["merchant_profile"])
            try:
                self._profile = load_profile(path, display(path, self.config))
            except ProfileError as exc:
                pytest.exit(f"dana-uat merchant profile error:\n{exc}", returncode=2)
            if self.settings().merchant.throwaway:
                pytest.exit("dana-uat: merchant mode tests your backend with its own credentials: set X_PARTNER_ID, "
                            "MERCHANT_ID and PRIVATE_KEY_PATH (or PRIVATE_KEY) as your backend has them", returncode=2)
            if self.raw.get("target") == "sandbox":
                pytest.exit("dana-uat: merchant mode runs against the embedded sandbox (`dana-uat sandbox`), "
                            "where the suite can sign as DANA and see the merchant's requests", returncode=2)
        return self._profile

    def prestart(self) -> None:
        """Start the target in a thread as soon as the first scenario file is collected, so the merchant key,
        the sandbox's DANA key, uvicorn and the registration overlap the rest of collection. Errors surface on
        the first ``target()`` call, on the main thread, exactly as without the head start."""
        if self._target is None and self._starting is None and not self.config.option.collectonly:
            # Imported here, on the main thread: CPython 3.11 may raise "AST constructor recursion depth
            # mismatch" when two threads compile at once, and these modules compile (no bytecode cache) when
            # first imported. The thread then only generates keys and serves; it compiles nothing.
            from conformance.dana.target import import_sandbox

            if settings_mod.given_target(self.raw) == "embedded":   # a URL or DANA: none to start
                import_sandbox()
            self._starting = threading.Thread(target=self._start_target, name="dana-uat-target", daemon=True)
            self._starting.start()

    def _start_target(self) -> None:
        from conformance.dana.target import Target

        target = None
        try:
            target = Target(self.load_settings())
            self._started = (target.start(), None)
        except Exception as exc:   # noqa: BLE001 - handed to the main thread by target()
            if target is not None:
                target.stop()
            self._started = (None, exc)

    def _join_start(self) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
            self._target, error = self._started
            self._started = (None, None)
            if error is not None:
                raise error

    def target(self):
        from conformance.dana.target import Target, TargetError

        try:
            self._join_start()
        except settings_mod.ConfigError as exc:
            pytest.exit(f"dana-uat configuration error: {exc}", returncode=2)
        except TargetError as exc:
            pytest.exit(f"dana-uat target error: {exc}", returncode=2)
        if self._target is None:
            target = Target(self.settings())
            try:
                target.start()
            except TargetError as exc:
                target.stop()
                pytest.exit(f"dana-uat target error: {exc}", returncode=2)
            self._target = target
        self._target.merchant_profile = self.profile()     # also for a target started during collection
        self._target.merchant_strict = bool(self.config.getoption("dana_strict"))   # recommendations fail too
        return self._target

    def browser(self):
        with self._browser_made:
            if self._browser is None:
                from conformance.browser import BrowserSession

                opt = self.config.getoption
                kind = self.target().kind
                self._browser = BrowserSession(      # finds the Chromium itself; a missing one is a step error
                    chromium=opt("dana_chromium") or self.settings().chromium,
                    headed=bool(opt("headed")), slowmo=int(opt("slowmo") or 0),
                    tracing=opt("dana_tracing") or TRACING.get(kind, "off"),
                    screenshot=opt("dana_screenshot"), artifacts_dir=self.writer.root / "artifacts",
                    ca_bundle=self.settings().ca_bundle,
                    # a hosted page's 5xx/429 is loaded again as an API call is retried (retry.py)
                    page_retries=retry.retries_for(kind, self.raw.get("retries")),
                    timeout=float(self.raw.get("page_timeout") or PAGE_TIMEOUT),
                    page_wait=self._page_wait)
        return self._browser

    def _page_wait(self, attempt: int, status: int, retry_after: str | None) -> float | None:
        """Seconds before a hosted page that answered ``status`` is loaded again (retry.py's waits); None when its
        Retry-After is beyond what a run waits (the page is not loaded again)."""
        return retry.page_wait(attempt, status, retry_after, retry.backoff_for(self.raw.get("retry_backoff")))

    def run_ahead(self, items: list) -> None:
        """Start ``items`` (ScenarioItems, in pytest's order) side by side when this process runs them itself and
        the concurrency allows (ahead.py); each item's runtest then takes its own result."""
        from conformance.run.ahead import Ahead, concurrency_for

        if len(items) < 2 or self.config.option.collectonly or self.is_worker or \
                self.config.pluginmanager.hasplugin("dsession"):        # xdist's controller runs nothing itself
            return
        target = self.target()
        workers = min(concurrency_for(target.kind, self.raw.get("concurrency")), len(items))
        if workers < 2 and not any(item.waits(target) for item in items):
            return        # one at a time, and none waits out DANA's clock that another could use meanwhile
        browser = self.browser()              # made here, on the main thread: settings errors exit from here
        # a merchant scenario may drive the browser (its `browser` mark) yet not with these options and profile
        profile = self.profile() if any(item.needs_browser for item in items) else None
        uses_browser = {item.nodeid: item.will_use_browser(profile) for item in items}
        if any(uses_browser.values()):        # Chromium starts while the first scenarios run;
            threading.Thread(target=_start_quietly, args=(browser,), name="dana-uat-browser-start",
                             daemon=True).start()          # a failure surfaces in the first browser step
        self.ahead = Ahead(workers)
        # the scenarios that run alone go first (API-only ones before the browser is up): started at their place
        # in the order, each would stop the pool until everything before it finished. Reporting keeps the order.
        alone = {item.nodeid: item.runs_alone(target) for item in items}
        ordered = sorted(items, key=lambda item: (not alone[item.nodeid], uses_browser[item.nodeid]))
        self.ahead.start((item.nodeid, alone[item.nodeid], item.execute) for item in ordered)

    def await_merchant(self, items: list) -> None:
        """Merchant mode: before the first merchant scenario, the merchant's backend listens (within the profile's
        ``timeout``), else the run ends with exit 2 naming the profile's base_url, instead of every merchant
        scenario failing on a refused connection."""
        from conformance.merchant.driver import wait_listening
        from conformance.merchant.models import is_merchant_scenario

        if self.config.option.collectonly or self.config.pluginmanager.hasplugin("dsession") or \
                not any(is_merchant_scenario(item.loaded.scenario) for item in items):
            return
        profile = self.profile()
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")

        def say_waiting() -> None:
            if reporter is not None:
                reporter.write_line(f"dana-uat: waiting up to {profile.timeout:g} s (the profile's timeout) for the "
                                    f"merchant's backend at {profile.base_url}")
        if not wait_listening(profile.base_url, profile.timeout, say_waiting):
            pytest.exit(f"dana-uat: merchant mode: nothing listens at {profile.base_url} (the profile's base_url) "
                        f"after {profile.timeout:g} s; start your backend first, or fix base_url", returncode=2)

    def stop_ahead(self) -> None:
        if self.ahead is not None:
            self.ahead.close()
            self.ahead = None

    def publish(self) -> None:
        """The HTML report and the signed go-live bundle of this run (controller only)."""
        from conformance.evidence.bundle import BundleRefused, make_bundle
        from conformance.evidence.report import render_report

        render_report(self.writer.root)   # written for every run, complete or not: the run keeps its evidence
        try:
            make_bundle(self.writer.root, self.load_settings().merchant)
        except BundleRefused as exc:
            self.bundle_refusal = str(exc)
        except settings_mod.ConfigError:   # already reported when the run started
            return

    def close(self) -> None:
        self.stop_ahead()
        try:
            self._join_start()
        except Exception:   # noqa: BLE001 - a start nobody used: its error was never needed
            pass
        for name in ("_browser", "_target"):          # the browser first: it may still use the target
            part = getattr(self, name)
            setattr(self, name, None)
            if part is not None:
                part.stop()

    # -- hooks (this object is registered as a plugin) --------------------------------------------

    def pytest_collectreport(self, report) -> None:
        if report.failed and str(report.nodeid).endswith((".yaml", ".yml")):
            self.broken.append(report.nodeid)

    def pytest_runtest_logreport(self, report) -> None:
        info = dana_info(report)
        if info and report.when in ("call", "setup") and (report.when == "call" or report.skipped):
            self.results.append(info)

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        self.interrupted = True

    def explicit(self, path: Path) -> bool:
        """True when ``path`` was named on the command line (itself or a folder holding it)."""
        for arg in self.config.args:
            given = Path(self.config.invocation_params.dir, str(arg).split("::")[0]).resolve()
            if path == given or given in path.parents:
                return True
        return False


def _start_quietly(browser) -> None:
    try:
        browser.start()
    except Exception:   # noqa: BLE001 - the first browser step starts it again and reports the error there
        pass


def display(path: Path, config: pytest.Config) -> str:
    return catalogue.shown(path, Path(config.invocation_params.dir))


def dana_info(report) -> dict:
    """The scenario's result a report carries (JSON, so JUnit shows it as JSON, not a Python repr)."""
    for name, value in getattr(report, "user_properties", []):
        if name == "dana":
            return json.loads(value) if isinstance(value, str) else value
    return {}
