"""pytest plugin (entry point ``dana_uat``): collects scenarios/**/*.yaml, one item per scenario.

Only an adapter (model: tavern's pytest hooks and items): options, collection, the run of one item,
failure rendering, evidence attachment; the per-process run state it adapts is run/state.py. It is active in
every pytest run of the venv and costs nothing when no scenario is collected: the target (settings, embedded
sandbox) starts in a thread once the first scenario file is collected, overlapping the rest of collection;
the browser starts at its first use.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from conformance.config import settings as settings_mod
from conformance.dana import retry
from conformance.evidence.recorder import Recorder
from conformance.evidence.runinfo import PRODUCTION_SAFE, summarise
from conformance.evidence.scrub import scrub_artifacts
from conformance.merchant.advice import merchant_parts, part_lines, recommendation_groups
from conformance.merchant.advice import verdict as merchant_verdict
from conformance.merchant.models import is_merchant_scenario
from conformance.run.state import STATE, DanaState, display
from conformance.scenarios import kinds, schema
from conformance.scenarios.catalogue import load_catalogue
from conformance.scenarios.loader import ScenarioFileError, load_file
from conformance.scenarios.lost import recover
from conformance.snap.apis import APIS

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
    group.addoption("--dana-tracing", choices=("on", "off", "retain-on-failure"),
                    help="Playwright tracing of browser steps (default: retain-on-failure against DANA, off on the "
                         "embedded sandbox and a URL target, where a failure reproduces)")
    group.addoption("--dana-screenshot", choices=("on", "off", "only-on-failure"), default="on",
                    help="screenshots of browser steps")
    group.addoption("--dana-chromium", help="path of the Chromium to drive")
    group.addoption("--dana-concurrency", help="scenarios run side by side in this process (default 4 on the "
                                               "embedded sandbox or a URL target, 1 against DANA)")
    group.addoption("--dana-confirm-production", action="store_true",
                    help="with --dana-target production: yes, run the production-safe scenarios against DANA's "
                         "production with real credentials")
    group.addoption("--merchant-profile", help="merchant mode: the profile saying how to drive the merchant's "
                    "backend (docs/merchant-mode.md); without it merchant scenarios are not collected")
    group.addoption("--dana-strict", action="store_true",
                    help="merchant mode: fail on recommendations too (docs/merchant-mode.md, outcome per check)")
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


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    state = parent.config.stash[STATE]
    resolved = file_path.resolve()
    if state.scenario_dir in resolved.parents or state.explicit(resolved):
        state.prestart()
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_collectstart(collector: pytest.Collector) -> None:
    """A scenario may name a kind whose entry point did not load: stop with why (exit 2) rather than call the
    file broken. Here, not in pytest_collect_file, where pytest would turn the exit into a collection error."""
    if isinstance(collector, ScenarioFile) and kinds.PLUGIN_PROBLEMS:
        pytest.exit("dana-uat: step kinds: " + "\n  ".join(kinds.PLUGIN_PROBLEMS), returncode=2)


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


def _in_evidence(path: Path, config: pytest.Config) -> str:
    """A scenario file as evidence names it: never an absolute path of this machine."""
    shown = display(path, config)
    if not Path(shown).is_absolute():
        return shown
    base = config.stash[STATE].scenario_dir
    base = base.parent if base.is_dir() else base.parent.parent
    try:
        return Path(path).resolve().relative_to(base).as_posix()
    except ValueError:
        return Path(path).name


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
        self.needs_browser = kinds.needs_browser(sc.steps)
        marks = (["mandatory"] if sc.mandatory else []) + (["browser"] if self.needs_browser else [])
        marks += [f"api_{a}" for a in sorted(apis)] + list(sc.marks)
        for mark in marks:
            self.add_marker(mark)

    def runs_alone(self, target) -> bool:
        """Whether this scenario must run alone on ``target`` (run/ahead.py)."""
        return kinds.runs_alone(self.loaded.scenario.steps, target)

    def waits(self, target) -> bool:
        """Whether this scenario waits in real time on ``target``, giving its slot up meanwhile."""
        return kinds.waits(self.loaded.scenario.steps, target)

    def will_use_browser(self, profile) -> bool:
        """Whether this scenario will drive the browser with the run's merchant profile (``needs_browser``: it may)."""
        return self.needs_browser and kinds.will_use_browser(self.loaded.scenario.steps, profile)

    def execute(self) -> tuple:
        """Run the scenario, with its bounded retries; on a scenario thread when run ahead (ahead.py)."""
        from conformance.scenarios.runner import run_scenario

        state = self.config.stash[STATE]
        target = state.target()
        allowed, retried = retry.retries_for(target.kind, state.raw.get("retries")), []
        backoff = retry.backoff_for(state.raw.get("retry_backoff"))
        while True:    # a bounded retry of DANA's transient failures only (conformance/dana/retry.py)
            recorder = self._recorder(target)
            for record in retried:
                recorder.event("retry", **record)
            started = time.perf_counter()
            outcome = run_scenario(self.loaded, target, recorder, browser=state.browser)
            why = retry.transient(outcome, recorder.events)
            if why is not None:     # an order whose answer was lost is settled before anything else is sent
                recover(target, recorder)
            scrub_artifacts(recorder.artifacts, recorder.redactor)
            attempt_ms = round((time.perf_counter() - started) * 1000, 1)
            if why is None:
                return outcome, recorder, retried
            if len(retried) >= allowed or why.too_long:
                if retry.gives_up_as_unavailable(target.kind, allowed):
                    outcome.status = recorder.outcome = retry.UNAVAILABLE
                    outcome.unavailable = recorder.unavailable = (
                        f"{why.reason} after {len(retried) + 1} attempt(s)" + (
                            f"; Retry-After {why.retry_after:g} s is beyond the {retry.MAX_WAIT:g} s a run waits"
                            if why.too_long else ""))
                return outcome, recorder, retried
            record = retry.set_aside(state.writer.write_scenario(recorder), len(retried) + 1, why.reason)
            wait = retry.wait_before(len(retried) + 1, why, backoff)
            waited = retry.pause(wait)
            retried.append({**record, "attemptMs": attempt_ms, "waitS": round(wait, 3), "waitedMs": waited,
                            "waitFor": f"Retry-After: {why.retry_after:g}" if why.retry_after is not None
                            else "backoff"})

    def runtest(self) -> None:
        state = self.config.stash[STATE]
        sc = self.loaded.scenario
        ahead = state.ahead.take(self.nodeid) if state.ahead is not None else None
        outcome, recorder, retried = ahead.result() if ahead is not None else self.execute()
        images = [a for a in recorder.artifacts if not a.endswith(".zip")]   # absolute until written
        evidence = state.writer.write_scenario(recorder)
        # every text that leaves this item (console, JUnit, summary.json) is redacted like the evidence
        messages = {"warnings": [recorder.message(f) for f in outcome.warnings],
                    "failures": [recorder.message(f) for f in outcome.failures]}
        info = {"scenario": sc.id, "title": sc.title, "file": self.loaded.file.display, "api": self.loaded.file.api,
                "mandatory": sc.mandatory, "portal": sc.portal, "embeddedOnly": sc.embedded_only,
                "outcome": outcome.status, **messages, "evidence": f"evidence/{evidence.name}", "retries": retried,
                "findings": [recorder._finding(f) for f in outcome.findings],    # redacted, for the grouping
                "skipReason": recorder.redactor.text(outcome.skip_reason or "")}
        if outcome.unavailable:
            info["danaUnavailable"] = recorder.redactor.text(outcome.unavailable)
        self.user_properties.append(("dana", json.dumps(info, ensure_ascii=False)))
        if self.config.pluginmanager.hasplugin("html"):   # pytest --html: our evidence as its extras
            from conformance.evidence.htmlextras import scenario_extras
            from conformance.evidence.runinfo import case_names

            self.dana_extras = scenario_extras(info, case_names(state.scenario_dir).get(sc.id, []), images)
        if outcome.status == "skipped":
            pytest.skip(recorder.redactor.text(outcome.skip_reason or ""))
        if outcome.status in ("failed", retry.UNAVAILABLE):
            raise ScenarioFailure(outcome, evidence, messages, recorder.redactor.text(outcome.excerpt or ""))

    def _recorder(self, target) -> Recorder:
        sc = self.loaded.scenario
        recorder = Recorder(scenario_id=sc.id, nodeid=self.nodeid, title=sc.title, file=self.loaded.file.display,
                            api=self.loaded.file.api, mandatory=sc.mandatory, portal=sc.portal,
                            embedded_only=sc.embedded_only)
        recorder.redactor.secrets.update(s for s in [target.merchant.client_secret or "",
                                                     target.settings.sandbox_token or ""] if s)
        return recorder

    def repr_failure(self, excinfo, style=None):
        if not excinfo.errisinstance(ScenarioFailure):
            return super().repr_failure(excinfo, style)
        e, sc = excinfo.value, self.loaded.scenario
        lines = [f"scenario {sc.id} ({self.loaded.file.display}:{self.loaded.line}) failed at {e.outcome.failed_step}",
                 f"  {sc.title}"]
        if e.outcome.unavailable:    # DANA's outage: what it met is context, not a finding about the merchant
            lines = [f"scenario {sc.id} ({self.loaded.file.display}:{self.loaded.line}): DANA unavailable at "
                     f"{e.outcome.failed_step}: {e.outcome.unavailable}",
                     f"  {sc.title}", "  not a finding about your integration; run it again later. What DANA answered:"]
        for text in e.messages["failures"]:
            lines += ["  " + line for line in text.splitlines()]
        for text in e.messages["warnings"]:
            lines += ["  WARN " + line for line in text.splitlines()]
        if e.excerpt:
            lines += ["", "exchange (redacted):"] + ["  " + line for line in e.excerpt.splitlines()]
        if excinfo.value.evidence:
            lines.append(f"evidence: {display(excinfo.value.evidence, self.config)}")
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, self.loaded.line - 1, f"scenario: {self.name}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session: pytest.Session):
    """Scenarios side by side (ahead.py): started before pytest's loop reaches them, reported by it in order."""
    state = session.config.stash[STATE]
    scenarios = [i for i in session.items if isinstance(i, ScenarioItem)]
    state.await_merchant(scenarios)
    state.run_ahead(scenarios)
    try:
        yield
    finally:
        state.stop_ahead()


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
    # Against production the production set (marked production_safe) stands for the mandatory scenarios, and
    # nothing outside it is ever sent (runinfo.required counts the run against the same set).
    keep = [i for i in items if not isinstance(i, ScenarioItem)
            or (merchant_mode and is_merchant_scenario(i.loaded.scenario) and not production)
            or (PRODUCTION_SAFE in i.loaded.scenario.marks if production else i.loaded.scenario.mandatory)]
    dropped = [i for i in items if i not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    state = session.config.stash[STATE]
    state.close()
    if state.broken:   # a scenario file that does not load is a scenario error: exit code 2 (design.md)
        session.exitstatus = 2
    elif int(session.exitstatus) == 1 and not state.is_worker and _only_dana_unavailable(state.results):
        session.exitstatus = retry.EXIT_UNAVAILABLE      # DANA's outage, not the merchant's failure (retry.py)
    if state.is_worker or session.config.option.collectonly or \
            not (state.results or state.broken or state.interrupted or state.merchant_unconfigured):
        return        # a collection runs nothing: it leaves no evidence, report or bundle
    try:
        settings = state.load_settings()
    except settings_mod.ConfigError:
        settings = None
    summary = summarise(
        run_id=state.run_id, results=state.results, broken=state.broken, exit_status=int(session.exitstatus),
        interrupted=state.interrupted, scenario_dir=state.scenario_dir, started=state.started, settings=settings,
        catalogue=load_catalogue(state.scenario_dir, lambda p: _in_evidence(p, session.config)))
    extra = {}
    if state.raw.get("merchant_profile"):     # merchant mode's own terms (docs/merchant-mode.md, "The report")
        parts = merchant_parts(state.results)
        extra = {"recommendations": [g.to_dict() for g in recommendation_groups(state.results)],
                 "merchantParts": parts, "merchantVerdict": merchant_verdict(parts)}
    state.writer.write_summary({**summary, "merchantMode": _merchant_mode(state), **extra})
    state.publish()


def _only_dana_unavailable(results: list[dict]) -> bool:
    """Scenarios stopped by DANA's outage, and none failed on its own findings."""
    outcomes = {r["outcome"] for r in results}
    return retry.UNAVAILABLE in outcomes and "failed" not in outcomes


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
    if config.option.collectonly:      # nothing ran: no bundle to refuse, no evidence folder to point at
        return
    if state.bundle_refusal and not config.getoption("dana_run_id") and not state.raw.get("merchant_profile"):
        terminalreporter.write_line("dana-uat bundle refused: " + state.bundle_refusal)
    if state.raw.get("merchant_profile"):   # merchant mode: grouped by check and cause (merchant/advice.py)
        groups = recommendation_groups(state.results)
        if groups:
            terminalreporter.section(f"dana-uat recommendations ({sum(g.count for g in groups)} in "
                                     f"{len(groups)} groups; --strict fails them)", sep="-")
            for g in groups:
                terminalreporter.write_line(g.line())
        terminalreporter.section("dana-uat merchant mode: your backend, part by part (report.html has each check)",
                                 sep="-")
        for line in part_lines(merchant_parts(state.results)):
            terminalreporter.write_line(line)
    else:
        warned = [r for r in state.results if r["warnings"]]
        if warned:
            terminalreporter.section("dana-uat warnings (shown, not failing)", sep="-")
            for r in warned:
                for w in r["warnings"]:
                    terminalreporter.write_line(f"WARN {r['file']}::{r['scenario']}: {w.splitlines()[0]}")
    if not config.getoption("dana_run_id"):   # `dana-uat run` prints the path itself, last
        terminalreporter.write_line(f"dana-uat evidence: {display(state.writer.root, config)}/")
