"""Run one scenario: steps in order, stop at the first failing step, keep every finding.

Independent of pytest (the plugin is only an adapter), so it is tested and used directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.client import DanaClient
from conformance.evidence.recorder import Recorder
from conformance.findings import Finding, fail
from conformance.scenarios import expressions, schema
from conformance.scenarios.steps import RUNNERS, Run, StepSkipped, label


@dataclass
class Outcome:
    status: str                                  # passed | failed | skipped
    findings: list[Finding] = field(default_factory=list)
    failed_step: str = ""
    excerpt: str = ""
    skip_reason: str = ""

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


def _prepare_answers(run: Run) -> None:
    """Notify steps that set the receiver's answer take effect before any step (the notify may come early)."""
    for step in run.scenario.scenario.steps:
        if isinstance(step, schema.NotifyStep) and step.notify.answer is not None:
            answer = run.expr.render(step.notify.answer)
            run.target.receiver.set_notify_answer(run.expr.render(step.notify.partnerReferenceNo),
                                                  int(answer.get("status", 200)), dict(answer.get("body") or {}))


def run_scenario(loaded, target, recorder: Recorder, *, browser: Callable[[], Any] | None = None) -> Outcome:
    """Run ``loaded`` (a LoadedScenario) against a started ``target``."""
    reason = loaded.scenario.embedded_only
    if reason and target.kind == "sandbox":
        recorder.outcome = "skipped"
        return Outcome("skipped", skip_reason=f"embedded only: {reason}")
    client = DanaClient(target.merchant, target.api_base, recorder, clock=target.now)
    run = Run(scenario=loaded, target=target, client=client, recorder=recorder,
              expr=expression_context(target), browser=browser)
    outcome = Outcome("passed")
    try:
        _prepare_answers(run)
        for index, step in enumerate(loaded.scenario.steps):
            where = label(index, step)
            recorder.begin_step(index, schema.step_kind(step), where)
            try:
                found = RUNNERS[schema.step_kind(step)](run, step, where)
            except StepSkipped as exc:
                recorder.end_step("skipped", [])
                outcome.status, outcome.skip_reason = "skipped", f"{where}: {exc}"
                break
            except Exception as exc:   # noqa: BLE001 - a step's error is a finding, never a traceback
                found = [fail("step", "the step to complete", f"{type(exc).__name__}: {exc}", where=where)]
            failed = any(f.failed for f in found)
            recorder.end_step("failed" if failed else "passed", found)
            outcome.findings += found
            if failed:
                outcome.status, outcome.failed_step, outcome.excerpt = "failed", where, run.excerpt
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
