"""pytest plugin (entry point ``dana_uat``): collects scenarios/**/*.yaml, one item per scenario.

Only an adapter (model: tavern's pytest hooks and items): options, collection, the run of one item,
failure rendering, evidence attachment. It is active in every pytest run of the venv and costs nothing
when no scenario is collected: the target (settings, embedded sandbox) starts in a thread once the first
scenario file is collected, overlapping the rest of collection; the browser starts at its first use.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from conformance import settings as settings_mod
from conformance.evidence.recorder import EvidenceWriter, Recorder, new_run_id
from conformance.scenarios import kinds, schema
from conformance.scenarios.loader import ScenarioFileError, load_file
from conformance.snap.apis import APIS

STATE = pytest.StashKey["DanaState"]()
OPTION_MAP = {"dana_target": "target", "dana_report_dir": "report_dir", "dana_scenarios": "scenario_dir",
              "dana_chromium": "chromium"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dana-uat", "DANA Widget UAT scenarios")
    group.addoption("--dana-target", help="embedded (default), sandbox, or the URL of a `dana-uat sandbox`")
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

    def cli(self) -> dict:
        return {key: self.config.getoption(opt) for opt, key in OPTION_MAP.items() if self.config.getoption(opt)}

    def _raw_values(self) -> dict:
        root = Path(self.config.rootpath)
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
        return (Path(self.config.rootpath) / (self.raw.get("scenario_dir") or "scenarios")).resolve()

    @property
    def report_dir(self) -> Path:
        return Path(self.config.rootpath) / (self.raw.get("report_dir") or "reports")

    @property
    def writer(self) -> EvidenceWriter:
        return EvidenceWriter(self.report_dir, self.run_id)

    def load_settings(self):
        """Settings, loaded once; raises ConfigError."""
        if self._settings is None:
            env_file = self.config.getoption("dana_env_file") or ".env"
            self._settings = settings_mod.load_settings(self.cli(), env_file=env_file, root=self.config.rootpath)
        return self._settings

    def settings(self):
        try:
            return self.load_settings()
        except settings_mod.ConfigError as exc:
            pytest.exit(f"dana-uat configuration error: {exc}", returncode=2)

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
        from conformance.evidence.bundle import make_bundle
        from conformance.evidence.report import render_report

        try:
            merchant = self.load_settings().merchant
        except settings_mod.ConfigError:   # already reported when the run started
            return
        render_report(self.writer.root, merchant_partner_id=merchant.partner_id, merchant_id=merchant.merchant_id)
        make_bundle(self.writer.root, merchant)

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
        for name, value in getattr(report, "user_properties", []):
            if name == "dana" and report.when in ("call", "setup") and (report.when == "call" or report.skipped):
                self.results.append(value)

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
        display = _display(self.path, self.config)
        loaded = load_file(self.path, display)
        for sc in [] if loaded is None else loaded.scenarios:
            for mark in sc.scenario.marks:
                self.config.addinivalue_line("markers", f"{mark}: scenario mark")
            yield ScenarioItem.from_parent(self, name=sc.id, loaded=sc)

    def repr_failure(self, excinfo):
        if excinfo.errisinstance(ScenarioFileError):
            return f"scenario file error\n{excinfo.value}"
        return super().repr_failure(excinfo)


def _display(path: Path, config: pytest.Config) -> str:
    try:
        return Path(path).resolve().relative_to(Path(config.rootpath).resolve()).as_posix()
    except ValueError:
        return str(path)


class ScenarioFailure(Exception):
    def __init__(self, outcome, evidence: Path | None):
        super().__init__(outcome.failed_step)
        self.outcome, self.evidence = outcome, evidence


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
        recorder = Recorder(scenario_id=sc.id, nodeid=self.nodeid, title=sc.title, file=self.loaded.file.display,
                            api=self.loaded.file.api, mandatory=sc.mandatory, portal=sc.portal)
        target = state.target()
        secrets = [target.merchant.client_secret or ""]
        recorder.redactor.secrets.update(s for s in secrets if s)
        outcome = run_scenario(self.loaded, target, recorder, browser=state.browser)
        evidence = state.writer.write_scenario(recorder)
        self.user_properties.append(("dana", {
            "scenario": sc.id, "title": sc.title, "file": self.loaded.file.display, "api": self.loaded.file.api,
            "mandatory": sc.mandatory, "portal": sc.portal, "outcome": outcome.status,
            "warnings": [f.message() for f in outcome.warnings], "failures": [f.message() for f in outcome.failures],
            "evidence": _display(evidence, self.config)}))
        if outcome.status == "skipped":
            pytest.skip(outcome.skip_reason)
        if outcome.status == "failed":
            raise ScenarioFailure(outcome, evidence)

    def repr_failure(self, excinfo, style=None):
        if not excinfo.errisinstance(ScenarioFailure):
            return super().repr_failure(excinfo, style)
        o, sc = excinfo.value.outcome, self.loaded.scenario
        lines = [f"scenario {sc.id} ({self.loaded.file.display}:{self.loaded.line}) failed at {o.failed_step}",
                 f"  {sc.title}"]
        for f in o.failures:
            lines += ["  " + line for line in f.message().splitlines()]
        for f in o.warnings:
            lines += ["  WARN " + line for line in f.message().splitlines()]
        if o.excerpt:
            lines += ["", "exchange (redacted):"] + ["  " + line for line in o.excerpt.splitlines()]
        if excinfo.value.evidence:
            lines.append(f"evidence: {_display(excinfo.value.evidence, self.config)}")
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, self.loaded.line - 1, f"scenario: {self.name}"


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    if not config.getoption("dana_mandatory_only"):
        return
    keep = [i for i in items if not isinstance(i, ScenarioItem) or i.loaded.scenario.mandatory]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    state = session.config.stash[STATE]
    state.close()
    if state.broken:   # a scenario file that does not load is a scenario error: exit code 2 (design.md)
        session.exitstatus = 2
    if state.is_worker or not (state.results or state.broken):
        return
    counts = {k: sum(1 for r in state.results if r["outcome"] == k) for k in ("passed", "failed", "skipped")}
    state.writer.write_summary({
        "runId": state.run_id, "target": state.raw.get("target"), "exitStatus": int(session.exitstatus),
        "counts": {**counts, "warnings": sum(len(r["warnings"]) for r in state.results),
                   "brokenFiles": len(state.broken)},
        "brokenFiles": state.broken, "scenarios": state.results})
    state.publish()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    state = config.stash[STATE]
    if state.is_worker or not (state.results or state.broken):
        return
    warned = [r for r in state.results if r["warnings"]]
    if warned:
        terminalreporter.section("dana-uat warnings (shown, not failing)", sep="-")
        for r in warned:
            for w in r["warnings"]:
                terminalreporter.write_line(f"WARN {r['file']}::{r['scenario']}: {w.splitlines()[0]}")
    if not config.getoption("dana_run_id"):   # `dana-uat run` prints the path itself, last
        terminalreporter.write_line(f"dana-uat evidence: {_display(state.writer.root, config)}/")
