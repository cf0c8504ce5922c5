"""The notify step: await DANA's Finish Notify and verify it, or send one as DANA to the merchant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from conformance.findings import Finding, fail
from conformance.scenarios import checks, pace, schema, steps
from conformance.scenarios.steps import Run, StepSkipped, as_json, at


def prepare_answer(run: Run, step: schema.NotifyStep) -> None:
    """``answer:`` takes effect before any step: DANA may notify before the step that awaits it."""
    if step.notify.answer is not None:
        answer = run.expr.render(step.notify.answer)
        run.target.receiver.set_notify_answer(run.expr.render(step.notify.partnerReferenceNo),
                                              int(answer.get("status", 200)), dict(answer.get("body") or {}))


def run_notify(run: Run, step: schema.NotifyStep, where: str) -> list[Finding]:
    from conformance.client import webhook

    opts = step.notify
    ref = run.expr.render(opts.partnerReferenceNo)
    if opts.mode == "send":
        return _send_notify(run, step, ref, where)
    if run.target.kind == "sandbox":      # DANA: only the suite's receiver, behind a public URL, is read
        if run.settings.notify_url:
            raise StepSkipped(f"DANA delivers this Finish Notify to DANA_UAT_NOTIFY_URL ({run.settings.notify_url}), "
                              "which the suite cannot read; unset it to have DANA deliver to the suite's receiver")
        if not run.target.receiver.reachable_by_dana:
            raise StepSkipped("DANA cannot deliver Finish Notify to the suite's receiver on this machine: set "
                              "DANA_UAT_RECEIVER_PUBLIC_URL to a public URL in front of it (README, 'Finish "
                              "Notify from DANA')")
    if run.settings.notify_url and run.target.kind != "sandbox":   # the merchant's own URL: what the sandbox sent
        if opts.answer is not None:
            raise StepSkipped(f"this scenario sets how the suite's receiver answers; DANA_UAT_NOTIFY_URL "
                              f"({run.settings.notify_url}) answers for itself (merchant mode grades that)")
        received = _admin_notifications(run, ref, opts.count, opts.timeout)
    else:
        with pace.idle():       # waiting for DANA's delivery sends nothing: other scenarios use the slot meanwhile
            received = run.target.receiver.wait_for_notifications(ref, count=opts.count, timeout=opts.timeout)
    findings: list[Finding] = []
    expected = dict(run.expr.render(opts.fields or {}))
    if opts.status is not None:
        expected["latestTransactionStatus"] = opts.status
    for n in received[: opts.count]:
        run.recorder.event("notification", path=n.path, headers=n.headers,
                           body=run.recorder.redactor.body(n.body), answeredStatus=n.answered_status,
                           answeredBody=n.answered_body)
        findings += [at(f, where) for f in webhook.grade_notification(run.target.dana_public_key, n.path,
                                                                      n.headers, n.body)]
        findings += checks.body(expected, as_json(n.body), f"{where}: notification")
        if opts.answer is None:    # the merchant's (or the receiver's) acknowledgement is part of the scenario
            findings += _acknowledged(n, where)
    if received:
        last = received[min(opts.count, len(received)) - 1]
        sources = {"body": as_json(last.body), "headers": {k.lower(): v for k, v in last.headers.items()}}
        findings += steps.save(run, step.save, sources, where)
    return findings


@dataclass
class _Delivered:
    path: str
    headers: dict
    body: bytes
    answered_status: int | None
    answered_body: Any


def _acknowledged(n, where: str) -> list[Finding]:
    body = n.answered_body if isinstance(n.answered_body, dict) else as_json(str(n.answered_body or "").encode())
    code = body.get("responseCode") if isinstance(body, dict) else None
    if n.answered_status == 200 and code == "2005600":
        return []
    return [fail("acknowledgement", "HTTP 200 with responseCode 2005600", f"HTTP {n.answered_status} {code}",
                 "the notify handler must answer a Finish Notify it accepted with HTTP 200 and "
                 "{\"responseCode\":\"2005600\"}; anything else makes DANA retry", where=where)]


def _admin_notifications(run: Run, ref: str, count: int, timeout: float) -> list[_Delivered]:
    """What the sandbox posted to the merchant's own URL, one entry per attempt: a delivery the merchant
    did not acknowledge holds all of DANA's retries, so ``count`` counts attempts, not deliveries."""
    status, data = run.target.admin.wait_notifications(ref, 1, timeout)
    out = []
    for n in data if status == 200 and isinstance(data, list) else []:
        for attempt in n.get("attempts") or [{}]:
            out.append(_Delivered(urlsplit(n["url"]).path or "/", n["request"]["headers"],
                                  n["request"]["body"].encode("utf-8"), attempt.get("status"), attempt.get("body")))
    if len(out) < count:
        raise AssertionError(f"{count} Finish Notify attempts for {ref} at {run.settings.notify_url} within "
                             f"{timeout:g} s; the sandbox made {len(out)}")
    return out


def _send_notify(run: Run, step: schema.NotifyStep, ref: str, where: str) -> list[Finding]:
    """Have DANA's side sign the order's Finish Notify and post it to the merchant's notify URL; grade the answer."""
    from conformance.dana.target import AdminUnavailable

    opts = step.notify
    url = run.expr.render(opts.url) if opts.url else run.target.receiver_url("notify_url")
    try:
        sent = run.target.send_notify(partner_reference_no=ref, status=run.expr.render(opts.status) or "00",
                                      url=url)
    except AdminUnavailable as exc:
        raise StepSkipped(str(exc)) from None
    request, answer = sent["request"], sent["answer"]
    run.recorder.event("notification-sent", url=url, headers=request["headers"],
                       body=run.recorder.redactor.body(request["body"].encode("utf-8")),
                       answeredStatus=answer["status"], answeredBody=run.recorder.redactor.body(answer["body"]),
                       error=answer["error"])
    if answer["status"] is None:
        return [fail("notify delivery", "an HTTP answer from the notify URL", answer["error"], where=where,
                     hint=f"is the merchant's notify handler reachable at {url}?")]
    expect = opts.expect or schema.Expect(status=200, responseCode="2005600", responseMessage="Successful")
    body = as_json((answer["body"] or "").encode("utf-8"))
    findings = checks.status(expect.status, answer["status"], body, where)
    findings += checks.response_code(expect.responseCode, body, where)
    findings += checks.response_message(expect.responseMessage, body, where)
    if expect.body:
        findings += checks.body(run.expr.render(expect.body), body, where)
    return findings
