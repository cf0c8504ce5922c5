"""pytest plugin (entry point ``dana_uat``): collects scenarios/**/*.yaml, one item per scenario.

Only an adapter (model: tavern's pytest hooks and items): options, collection, the run of one item,
failure rendering, evidence attachment. It is active in every pytest run of the venv and costs nothing
when no scenario is collected: the target (settings, embedded sandbox) starts in a thread once the first
scenario file is collected, overlapping the rest of collection; the browser starts at its first use.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
import threading
from pathlib import Path

import pytest

from conformance import catalogue, retry
from conformance import settings as settings_mod
from conformance.evidence.recorder import EvidenceWriter, Recorder, new_run_id
from conformance.evidence.runinfo import PRODUCTION_SAFE, summarise
from conformance.evidence.scrub import scrub_artifacts
from conformance.merchant.models import is_merchant_scenario
from conformance.scenarios import kinds, schema
from conformance.scenarios.loader import ScenarioFileError, load_file
from conformance.snap.apis import APIS

STATE = pytest.StashKey["DanaState"]()
OPTION_MAP = {"dana_target": "target", "dana_report_dir": "report_dir", "dana_scenarios": "scenario_dir",
              "dana_chromium": "chromium", "merchant_profile": "merchant_profile"}
NOT_CONFIGURED = "merchant mode: not configured"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dana-uat", "DANA Widget UAT scenarios")
    group.addoption("--dana-target", help="embedded (default), sandbox, production (with --dana-confirm-production), "
                                          "or the URL of a `dana-uat sandbox`")
    group.addoption("--dana-env-file", help="a .env file with the merchant's settings (default: ./.env)")
    group.addoption("--dana-mandatory-only", action="store_true", help="run only the mandatory scenarios")
    group.addoption("--dana-report-dir", help="where evidence goes (default: reports)")
    group.addoption("--dana-scenarios", help="where scenario files are collected from (default: scenarios)")
    group.addoption("--dana-run-id", help=argparse_suppress())
    group.addoption("--dana-tracing", choices=("on", "off", "retain-on-failure"), default="retain-on-failure",
                    help="Playwright tracing of browser steps")
    group.addoption("--dana-screenshot", choices=("on", "off", "only-on-failure"), default="on",
                    help="screenshots of browser steps")
    group.addoption("--dana-chromium", help="path of the Chromium to drive")
    group.addoption("--dana-confirm-production", action="store_true",
                    help="with --dana-target production: yes, run the production-safe scenarios against DANA's "
                         "production with real credentials")
    group.addoption("--merchant-profile", help="merchant mode: the profile saying how to drive the merchant's "
                    "backend (docs/merchant-mode.md); without it merchant scenarios are not collected")
    for name, kw in (("--headed", {"action": "store_true", "help": "show the browser"}),
                     ("--slowmo", {"type": int, "default": 0, "help": "slow browser actions by MS milliseconds"})):
        try:   # pytest-playwright defines the same flags; share them when it is installed
            group.addoption(name, **kw)
        except ValueError:
            pass


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mandatory: a scenario DANA's Merchant Portal counts")
    config.addinivalue_line("markers", "browser: a scenario that drives a browser (bind or checkout)")
    for name in APIS:
        config.addinivalue_line("markers", f"api_{name}: a scenario that calls {name}")
    config.stash[STATE] = DanaState(config)
    config.pluginmanager.register(config.stash[STATE], "dana_uat_state")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(), "dana_uat_xdist")


class _XdistHooks:
    def pytest_configure_node(self, node) -> None:
        node.workerinput["dana_run_id"] = node.config.stash[STATE].run_id


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
                self._profile = load_profile(path, _display(path, self.config))
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
            from conformance.target import import_sandbox

            import_sandbox()
            self._starting = threading.Thread(target=self._start_target, name="dana-uat-target", daemon=True)
            self._starting.start()

    def _start_target(self) -> None:
        from conformance.target import Target

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
        from conformance.target import Target, TargetError

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
        return self._target

    def browser(self):
        if self._browser is None:
            from conformance.browser import BrowserSession

            opt = self.config.getoption
            self._browser = BrowserSession(      # finds the Chromium itself; a missing one is a step error with a hint
                chromium=opt("dana_chromium") or self.settings().chromium,
                headed=bool(opt("headed")), slowmo=int(opt("slowmo") or 0), tracing=opt("dana_tracing"),
                screenshot=opt("dana_screenshot"), artifacts_dir=self.writer.root / "artifacts")
        return self._browser

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


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    state = parent.config.stash[STATE]
    resolved = file_path.resolve()
    if state.scenario_dir in resolved.parents or state.explicit(resolved):
        state.prestart()
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One YAML file; a broken one is a collection error for that file only."""

    def collect(self):
        display = _in_evidence(self.path, self.config)
        loaded = load_file(self.path, display)
        state = self.config.stash[STATE]
        scenarios = [] if loaded is None else loaded.scenarios
        if any(is_merchant_scenario(sc.scenario) for sc in scenarios):
            if state.profile() is None:   # neither passed nor hidden: counted and said in the summary
                state.merchant_unconfigured += len(scenarios)
                return
        for sc in scenarios:
            for mark in sc.scenario.marks:
                self.config.addinivalue_line("markers", f"{mark}: scenario mark")
            yield ScenarioItem.from_parent(self, name=sc.id, loaded=sc)

    def repr_failure(self, excinfo):
        if excinfo.errisinstance(ScenarioFileError):
            return f"scenario file error\n{excinfo.value}"
        return super().repr_failure(excinfo)


def _display(path: Path, config: pytest.Config) -> str:
    shipped = catalogue.label(path)      # the shipped catalogue reads scenarios/..., wherever it is installed
    if shipped:
        return shipped
    try:
        return Path(path).resolve().relative_to(Path(config.invocation_params.dir).resolve()).as_posix()
    except ValueError:
        return str(path)


def _in_evidence(path: Path, config: pytest.Config) -> str:
    """A scenario file as evidence names it: never an absolute path of this machine."""
    shown = _display(path, config)
    if not Path(shown).is_absolute():
        return shown
    base = config.stash[STATE].scenario_dir
    base = base.parent if base.is_dir() else base.parent.parent
    try:
        return Path(path).resolve().relative_to(base).as_posix()
    except ValueError:
        return Path(path).name


def dana_info(report) -> dict:
    """The scenario's result a report carries (JSON, so JUnit shows it as JSON, not a Python repr)."""
    for name, value in getattr(report, "user_properties", []):
        if name == "dana":
            return json.loads(value) if isinstance(value, str) else value
    return {}


class ScenarioFailure(Exception):
    def __init__(self, outcome, evidence: Path | None, messages: dict, excerpt: str):
        super().__init__(outcome.failed_step)
        self.outcome, self.evidence, self.messages, self.excerpt = outcome, evidence, messages, excerpt


class ScenarioItem(pytest.Item):
    def __init__(self, *, loaded, **kw):
        super().__init__(**kw)
        self.loaded = loaded
        sc = loaded.scenario
        apis = {loaded.file.api} | {s.call for s in sc.steps if isinstance(s, schema.CallStep)}
        marks = (["mandatory"] if sc.mandatory else []) + (["browser"] if kinds.needs_browser(sc.steps) else [])
        marks += [f"api_{a}" for a in sorted(apis)] + list(sc.marks)
        for mark in marks:
            self.add_marker(mark)

    def runtest(self) -> None:
        from conformance.scenarios.runner import run_scenario

        state = self.config.stash[STATE]
        sc = self.loaded.scenario
        target = state.target()
        allowed, retried = retry.retries_for(target.kind, state.raw.get("retries")), []
        while True:    # a bounded retry of DANA's sandbox's transient failures only (conformance/retry.py)
            recorder = self._recorder(target)
            for record in retried:
                recorder.event("retry", **record)
            outcome = run_scenario(self.loaded, target, recorder, browser=state.browser)
            scrub_artifacts(recorder.artifacts, recorder.redactor)
            reason = retry.transient(outcome)
            if reason is None or len(retried) >= allowed:
                break
            retried.append(retry.set_aside(state.writer.write_scenario(recorder), len(retried) + 1, reason))
        images = [a for a in recorder.artifacts if not a.endswith(".zip")]   # absolute until written
        evidence = state.writer.write_scenario(recorder)
        # every text that leaves this item (console, JUnit, summary.json) is redacted like the evidence
        messages = {"warnings": [recorder.message(f) for f in outcome.warnings],
                    "failures": [recorder.message(f) for f in outcome.failures]}
        info = {"scenario": sc.id, "title": sc.title, "file": self.loaded.file.display, "api": self.loaded.file.api,
                "mandatory": sc.mandatory, "portal": sc.portal, "embeddedOnly": sc.embedded_only,
                "outcome": outcome.status, **messages, "evidence": f"evidence/{evidence.name}", "retries": retried}
        self.user_properties.append(("dana", json.dumps(info, ensure_ascii=False)))
        if self.config.pluginmanager.hasplugin("html"):   # pytest --html: our evidence as its extras
            from conformance.evidence.htmlextras import scenario_extras
            from conformance.evidence.runinfo import case_names

            self.dana_extras = scenario_extras(info, case_names(state.scenario_dir).get(sc.id, []), images)
        if outcome.status == "skipped":
            pytest.skip(recorder.redactor.text(outcome.skip_reason or ""))
        if outcome.status == "failed":
            raise ScenarioFailure(outcome, evidence, messages, recorder.redactor.text(outcome.excerpt or ""))

    def _recorder(self, target) -> Recorder:
        sc = self.loaded.scenario
        recorder = Recorder(scenario_id=sc.id, nodeid=self.nodeid, title=sc.title, file=self.loaded.file.display,
                            api=self.loaded.file.api, mandatory=sc.mandatory, portal=sc.portal,
                            embedded_only=sc.embedded_only)
        recorder.redactor.secrets.update(s for s in [target.merchant.client_secret or ""] if s)
        return recorder

    def repr_failure(self, excinfo, style=None):
        if not excinfo.errisinstance(ScenarioFailure):
            return super().repr_failure(excinfo, style)
        e, sc = excinfo.value, self.loaded.scenario
        lines = [f"scenario {sc.id} ({self.loaded.file.display}:{self.loaded.line}) failed at {e.outcome.failed_step}",
                 f"  {sc.title}"]
        for text in e.messages["failures"]:
            lines += ["  " + line for line in text.splitlines()]
        for text in e.messages["warnings"]:
            lines += ["  WARN " + line for line in text.splitlines()]
        if e.excerpt:
            lines += ["", "exchange (redacted):"] + ["  " + line for line in e.excerpt.splitlines()]
        if excinfo.value.evidence:
            lines.append(f"evidence: {_display(excinfo.value.evidence, self.config)}")
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, self.loaded.line - 1, f"scenario: {self.name}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if report.when == "call" and getattr(item, "dana_extras", None):
        report.extras = [*getattr(report, "extras", []), *item.dana_extras]


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    production = config.stash[STATE].raw.get("target") == "production"
    if not (config.getoption("dana_mandatory_only") or production):
        return
    merchant_mode = config.stash[STATE].profile() is not None    # asked for explicitly: never filtered out
    keep = [i for i in items if not isinstance(i, ScenarioItem)
            or (merchant_mode and is_merchant_scenario(i.loaded.scenario) and not production)
            or ((i.loaded.scenario.mandatory or not config.getoption("dana_mandatory_only"))
                and (not production or PRODUCTION_SAFE in i.loaded.scenario.marks))]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    state = session.config.stash[STATE]
    state.close()
    if state.broken:   # a scenario file that does not load is a scenario error: exit code 2 (design.md)
        session.exitstatus = 2
    if state.is_worker or not (state.results or state.broken or state.interrupted or state.merchant_unconfigured):
        return
    try:
        settings = state.load_settings()
    except settings_mod.ConfigError:
        settings = None
    summary = summarise(
        run_id=state.run_id, results=state.results, broken=state.broken, exit_status=int(session.exitstatus),
        interrupted=state.interrupted, scenario_dir=state.scenario_dir, started=state.started, settings=settings,
        display=lambda p: _in_evidence(p, session.config))
    state.writer.write_summary({**summary, "merchantMode": _merchant_mode(state)})
    state.publish()


def _merchant_mode(state: DanaState) -> str:
    if state.raw.get("merchant_profile"):
        return f"merchant mode: profile {Path(state.raw['merchant_profile']).name}"   # no machine path in evidence
    return NOT_CONFIGURED + (f" ({state.merchant_unconfigured} merchant scenarios need a profile: "
                             "--merchant-profile FILE)" if state.merchant_unconfigured else "")


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    state = config.stash[STATE]
    if state.is_worker or not (state.results or state.broken or state.interrupted or state.merchant_unconfigured):
        return
    terminalreporter.write_line(f"dana-uat {_merchant_mode(state)}")
    if state.bundle_refusal and not config.getoption("dana_run_id"):   # `dana-uat run` says it itself
        terminalreporter.write_line("dana-uat bundle refused: " + state.bundle_refusal)
    warned = [r for r in state.results if r["warnings"]]
    if warned:
        terminalreporter.section("dana-uat warnings (shown, not failing)", sep="-")
        for r in warned:
            for w in r["warnings"]:
                terminalreporter.write_line(f"WARN {r['file']}::{r['scenario']}: {w.splitlines()[0]}")
    if not config.getoption("dana_run_id"):   # `dana-uat run` prints the path itself, last
        terminalreporter.write_line(f"dana-uat evidence: {_display(state.writer.root, config)}/")
