"""Run one scenario: steps in order, stop at the first failing step, keep every finding.

Independent of pytest (the plugin is only an adapter), so it is tested and used directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.browser.context import PageLoadTimeout, PageStatusError
from conformance.client.snap_client import DanaClient
from conformance.evidence.recorder import Recorder
from conformance.findings import Finding, fail
from conformance.scenarios import excerpt, expressions, kinds
from conformance.scenarios.steps import Run, StepSkipped


@dataclass
class ScenarioResult:
    status: str                                  # passed | failed | skipped | dana-unavailable (retry.py)
    findings: list[Finding] = field(default_factory=list)
    failed_step: str = ""
    excerpt: str = ""
    skip_reason: str = ""
    unavailable: str = ""                        # why DANA's side, not a finding, stopped it (retry.py)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.failed]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.failed]


def expression_context(target) -> expressions.Context:
    m, s = target.merchant, target.settings
    values: dict[str, Callable[[], object]] = {
        "merchant.id": lambda: m.merchant_id, "merchant.partner_id": lambda: m.partner_id,
        "merchant.origin": lambda: m.origin, "merchant.channel_id": lambda: m.channel_id,
        "settings.phone": lambda: s.phone, "settings.pin": lambda: s.pin, "settings.target": lambda: s.target,
        "target.api_base": lambda: target.api_base, "target.web_base": lambda: target.web_base,
        "receiver.notify_url": lambda: target.receiver_url("notify_url"),
        "receiver.redirect_url": lambda: target.receiver_url("redirect_url"),
        "receiver.pay_return_url": lambda: target.receiver.pay_return_url,
    }
    return expressions.Context(now=target.now, values=values)


def error_finding(exc: Exception, where: str) -> Finding:
    """The finding of a step that raised: a hosted page's 5xx/429 is a status (retry.py may retry it)."""
    if isinstance(exc, PageStatusError):
        return fail("page status", "a page below HTTP 500", exc.status, where=where,
                    hint=f"{exc.url} answered HTTP {exc.status} to its last of {exc.loads} load(s)")
    if isinstance(exc, PageLoadTimeout):
        return fail("page load", f"the page loaded within {exc.timeout:g} s", "not loaded", where=where,
                    hint=f"{exc.url} started and never finished loading (DANA_UAT_PAGE_TIMEOUT sets the bound)")
    return fail("step", "the step to complete", f"{type(exc).__name__}: {exc}", where=where)


def _prepare(run: Run) -> None:
    """Kinds that act before the scenario's first step (e.g. the receiver's answer to a notify), or that know
    before it that their step cannot run on this target (StepSkipped, said with the step's label)."""
    for index, step in enumerate(run.scenario.scenario.steps):
        kind = kinds.of(step)
        if kind.prepare is not None:
            try:
                kind.prepare(run, step)
            except StepSkipped as exc:
                raise StepSkipped(f"{kinds.label(index, step)}: {exc}") from None


def run_scenario(loaded, target, recorder: Recorder, *, browser: Callable[[], Any] | None = None) -> ScenarioResult:
    """Run ``loaded`` (a LoadedScenario) against a started ``target``."""
    reason = loaded.scenario.embedded_only
    if reason and target.kind == "sandbox":
        recorder.outcome = "skipped"
        return ScenarioResult("skipped", skip_reason=f"embedded only: {reason}")
    client = DanaClient(target.merchant, target.api_base, recorder, clock=target.now,
                        verify=target.settings.tls_verify(target.api_base),
                        debug_mode=target.settings.env != "production")   # X-Debug-Mode is a sandbox header
    run = Run(scenario=loaded, target=target, client=client, recorder=recorder,
              expr=expression_context(target), browser=browser)
    outcome = ScenarioResult("passed")
    try:
        try:
            _prepare(run)
        except StepSkipped as exc:      # known before any request: the scenario sends nothing
            outcome.status, outcome.skip_reason = "skipped", str(exc)
        for index, step in enumerate(loaded.scenario.steps if outcome.status == "passed" else ()):
            kind, where = kinds.of(step), kinds.label(index, step)
            recorder.begin_step(index, kind.name, where)
            try:
                found = kind.runner(run, step, where)
            except StepSkipped as exc:
                recorder.end_step("skipped", [])
                outcome.status, outcome.skip_reason = "skipped", f"{where}: {exc}"
                break
            except Exception as exc:   # noqa: BLE001 - a step's error is a finding, never a traceback
                found = [error_finding(exc, where)]
            failed = any(f.failed for f in found)
            recorder.end_step("failed" if failed else "passed", found)
            outcome.findings += found
            if failed:
                outcome.status, outcome.failed_step = "failed", where
                outcome.excerpt = excerpt.for_step(recorder.events, index)
                break
    finally:
        client.close()
        if run.browser_ctx is not None:
            try:
                for path in run.browser_ctx.close(failed=outcome.status == "failed") or []:
                    recorder.artifact(path)
            except Exception as exc:   # noqa: BLE001 - closing must not hide the scenario's result
                recorder.event("browser", action="close-error", error=str(exc))
            for shot in getattr(run.browser_ctx, "screenshots", []) or []:
                if str(shot) not in recorder.artifacts:
                    recorder.artifact(shot)
    recorder.outcome = outcome.status
    return outcome
