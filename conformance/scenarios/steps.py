"""What each step kind does. One function per kind, each returning the step's findings.

Steps share a ``Run`` (target, client, recorder, expression context, browser). Admin-only steps
(clock, pay) are skipped on DANA's real sandbox with the reason; never on the embedded target.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from conformance.findings import Finding, fail
from conformance.scenarios import checks, schema
from conformance.scenarios.expressions import Context, dig

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class StepSkipped(Exception):
    """The step cannot run on this target (e.g. no movable clock on DANA's real sandbox)."""


@dataclass
class Run:
    """Everything a scenario's steps share."""

    scenario: Any                          # loader.LoadedScenario
    target: Any                            # conformance.target.Target
    client: Any                            # conformance.client.DanaClient
    recorder: Any                          # conformance.evidence.recorder.Recorder
    expr: Context
    browser: Callable[[], Any] | None = None   # returns the session's BrowserSession (lazy)
    browser_ctx: Any = None                    # this scenario's browser context, made on first use
    excerpt: str = ""                          # what the failing step exchanged, for the failure report
    notes: list[str] = field(default_factory=list)

    @property
    def settings(self):
        return self.target.settings

    def context(self):
        if self.browser_ctx is None:
            if self.browser is None:
                raise StepSkipped("browser steps need a browser session")
            self.browser_ctx = self.browser().new_context(self.recorder.scenario_id)
        return self.browser_ctx


# -- request building ----------------------------------------------------------------------------

def deep_merge(base: Mapping, override: Mapping) -> dict:
    """``override`` over ``base``; objects merge, everything else replaces; {$absent: true} removes."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and dict(value) == {"$absent": True}:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return _drop_absent(out)


def _drop_absent(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_absent(v) for k, v in value.items() if not (isinstance(v, Mapping) and dict(v) == {"$absent": True})}
    if isinstance(value, list):
        return [_drop_absent(v) for v in value]
    return value


def call_defaults(run: Run, api: str) -> schema.CallDefaults:
    model = run.scenario.file.model
    if api == model.api:
        return model.defaults
    return model.defaults.apis.get(api) or schema.CallDefaults()




def excerpt(record: dict, limit: int = 1200) -> str:
    """A short, already redacted view of one recorded HTTP exchange."""
    req, resp = record["request"], record.get("response")
    lines = [f"{req['method']} {req['url']}"]
    if record.get("tamper"):
        lines.append(f"  tamper: {json.dumps(record['tamper'], ensure_ascii=False)}")
    for name in ("X-TIMESTAMP", "X-SIGNATURE"):
        value = next((v for k, v in req["headers"].items() if k.lower() == name.lower()), "(not sent)")
        lines.append(f"  {name}: {value}")
    body = req.get("body") or {}
    lines.append("  body: " + _short(body.get("json", body.get("text")), limit // 2))
    if resp is None:
        lines.append(f"-> no response: {record.get('error')}")
    else:
        rbody = resp.get("body") or {}
        lines.append(f"-> HTTP {resp['status']} ({record.get('elapsedMs')} ms)")
        lines.append("  body: " + _short(rbody.get("json", rbody.get("text")), limit // 2))
    return "\n".join(lines)


def _short(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " ..."


# -- the step kinds ------------------------------------------------------------------------------

def run_call(run: Run, step: schema.CallStep, where: str) -> list[Finding]:
    defaults = call_defaults(run, step.call)
    request = run.expr.render(deep_merge(defaults.request, step.request))
    token = run.expr.render(step.customer_token or defaults.customer_token)
    device = run.expr.render(step.device_id or defaults.device_id)
    tamper = run.expr.render(step.tamper.model_dump(exclude_none=True)) if step.tamper else None
    ex = run.client.call(step.call, request, tamper=tamper, customer_token=token, device_id=device,
                         path=step.path)
    record = run.recorder.events[-1] if run.recorder.events else None
    run.excerpt = excerpt(record) if record and record.get("type") == "http" else ""
    if ex.status is None:
        return [fail("transport", "an HTTP response", ex.error, where=where,
                     hint=f"is the target reachable at {run.client.base_url}?")]
    expect = step.expect
    body = ex.json
    findings = checks.status(expect.status, ex.status, body, where)
    findings += checks.response_code(expect.responseCode, body, where)
    findings += checks.response_message(run.expr.render(expect.responseMessage), body, where)
    if expect.headers:
        findings += checks.headers(run.expr.render(expect.headers), ex.response_headers, where)
    if expect.body:
        findings += checks.body(run.expr.render(expect.body), body, where)
    if expect.extra_fields == "warn":
        findings += checks.extra_fields(step.call, body, where)
    findings += checks.status_matches_code(ex.status, body, where)
    sources = {"status": ex.status, "body": body, "request": request,
               "headers": {k.lower(): v for k, v in ex.response_headers.items()}}
    findings += _save(run, step.save, sources, where)
    return findings


def _save(run: Run, save: Mapping[str, str], sources: Mapping[str, Any], where: str) -> list[Finding]:
    findings = []
    for name, source in save.items():
        root, *path = str(source).split(".")
        if root == "headers":
            path = [p.lower() for p in path]
        value = dig(sources.get(root, checks.ABSENT), path, checks.ABSENT) if path else sources.get(root, checks.ABSENT)
        if value is checks.ABSENT:
            findings.append(fail("save", f"a value at {source}", "(absent)", where=f"{where}: save.{name}"))
        else:
            run.expr.saved[name] = value
    return findings


def parse_duration(text: str) -> int:
    m = schema.DURATION.match(text)
    return int(m.group(1)) * UNITS[m.group(2)]


def run_clock(run: Run, step: schema.ClockStep, where: str) -> list[Finding]:
    if run.target.admin is None:
        raise StepSkipped("DANA's real sandbox has no movable clock; this scenario runs on the embedded target")
    seconds = parse_duration(step.clock)
    data = run.target.advance_clock(seconds)
    run.recorder.event("clock", advancedSeconds=seconds, sandbox=data)
    return []


def run_pay(run: Run, step: schema.PayStep, where: str) -> list[Finding]:
    if run.target.admin is None:
        raise StepSkipped("paying without a browser needs the sandbox admin API (embedded or `dana-uat sandbox`)")
    ref = run.expr.render(step.pay.partnerReferenceNo)
    phone = run.expr.render(step.pay.phone) or run.settings.phone
    status, data = run.target.admin.pay(ref, phone)
    run.recorder.event("admin", action="pay", partnerReferenceNo=ref, status=status, answer=data)
    if status != step.pay.expect_status:
        return [fail("pay", step.pay.expect_status, status, where=where, hint=str(data))]
    return []


def run_save(run: Run, step: schema.SaveStep, where: str) -> list[Finding]:
    for name, value in step.save.items():
        run.expr.saved[name] = run.expr.render(value)
    return []


def run_bind(run: Run, step: schema.BindStep, where: str) -> list[Finding]:
    from conformance import binding
    from conformance.browser import bind as browser_bind

    opts = step.bind
    phone = run.expr.render(opts.phone) if opts.phone else run.settings.phone
    pin = run.expr.render(opts.pin) if opts.pin else run.settings.pin
    redirect = run.target.receiver_url("redirect_url")
    url = binding.build_bind_url(run.target.merchant, run.target.web_base, redirect, mode=opts.mode,
                                 scopes=opts.scopes, seamless_phone=phone if opts.seamless else None,
                                 env=run.settings.env)   # production drops AGREEMENT_PAY, as the official SDKs do
    run.recorder.event("browser", action="bind", url=url.url)
    findings = []
    if opts.lint:   # grades what the merchant configured: redirect URL, key pair (seamlessSign), partnerId
        merchant = run.target.merchant
        findings = [_at(f, where) for f in binding.lint_bind_url(
            url.url, merchant.public_key, expected_state=url.state, partner_id=merchant.partner_id)]
        if any(f.severity == "FAIL" for f in findings):
            return findings
    run.target.receiver.expect_state(url.state)
    result = browser_bind(run.context(), url.url, phone=phone, pin=pin)
    callback = run.target.receiver.wait_for_callback(url.state, timeout=30)
    run.recorder.event("browser", action="bind-callback", finalUrl=result.final_url, callback=callback)
    if callback.get("authCode") != result.auth_code:
        findings.append(fail("authCode", "the code the browser saw", callback.get("authCode"), where=where))
    run.expr.saved.update(authCode=result.auth_code, bindState=result.state)
    sources = {"auth_code": result.auth_code, "state": result.state, "final_url": result.final_url}
    for name, source in step.save.items():
        run.expr.saved[name] = sources[source]
    return findings


def run_checkout(run: Run, step: schema.CheckoutStep, where: str) -> list[Finding]:
    from conformance.browser import checkout as browser_checkout

    opts = step.checkout
    url = run.expr.render(opts.url)
    phone = run.expr.render(opts.phone) if opts.phone else run.settings.phone
    pin = run.expr.render(opts.pin) if opts.pin else run.settings.pin
    run.recorder.event("browser", action="checkout", url=url)
    result = browser_checkout(run.context(), url, phone=phone, pin=pin)
    run.recorder.event("browser", action="checkout-result", outcome=result.outcome, finalUrl=result.final_url)
    run.expr.saved["checkoutOutcome"] = result.outcome
    sources = {"outcome": result.outcome, "final_url": result.final_url}
    for name, source in step.save.items():
        run.expr.saved[name] = sources[source]
    if result.outcome != opts.outcome:
        return [fail("checkout", opts.outcome, result.outcome, where=where, hint=f"final page: {result.final_url}")]
    return []


def run_notify(run: Run, step: schema.NotifyStep, where: str) -> list[Finding]:
    from conformance import webhook

    opts = step.notify
    ref = run.expr.render(opts.partnerReferenceNo)
    if opts.mode == "send":
        return _send_notify(run, step, ref, where)
    if run.target.kind == "sandbox":
        raise StepSkipped("DANA's real sandbox cannot deliver to the suite's loopback receiver")
    if run.settings.notify_url:   # DANA posts to the merchant's own URL: read what the sandbox sent
        received = _admin_notifications(run, ref, opts.count, opts.timeout)
    else:
        received = run.target.receiver.wait_for_notifications(ref, count=opts.count, timeout=opts.timeout)
    findings: list[Finding] = []
    expected = dict(run.expr.render(opts.fields or {}))
    if opts.status is not None:
        expected["latestTransactionStatus"] = opts.status
    for n in received[: opts.count]:
        run.recorder.event("notification", path=n.path, headers=n.headers,
                           body=run.recorder.redactor.body(n.body), answeredStatus=n.answered_status,
                           answeredBody=n.answered_body)
        plain = {k: v for k, v in expected.items() if not checks.is_matcher(v)}
        findings += [_at(f, where) for f in webhook.grade_notification(run.target.dana_public_key, n.path,
                                                                      n.headers, n.body, plain or None)]
        findings += checks.body(expected, _json(n.body), f"{where}: notification")
    if received:
        last = received[min(opts.count, len(received)) - 1]
        sources = {"body": _json(last.body), "headers": {k.lower(): v for k, v in last.headers.items()}}
        findings += _save(run, step.save, sources, where)
    return findings


@dataclass
class _Delivered:
    path: str
    headers: dict
    body: bytes
    answered_status: int | None
    answered_body: Any


def _admin_notifications(run: Run, ref: str, count: int, timeout: float) -> list[_Delivered]:
    status, data = run.target.admin.wait_notifications(ref, count, timeout)
    if status != 200 or not isinstance(data, list) or len(data) < count:
        raise AssertionError(f"{count} Finish Notify for {ref} within {timeout}s; the sandbox reported {data}")
    out = []
    for n in data:
        last = (n.get("attempts") or [{}])[-1]
        out.append(_Delivered(urlsplit(n["url"]).path or "/", n["request"]["headers"],
                              n["request"]["body"].encode("utf-8"), last.get("status"), last.get("body")))
    return out


def _send_notify(run: Run, step: schema.NotifyStep, ref: str, where: str) -> list[Finding]:
    """Sign a Finish Notify as DANA and post it to the merchant's notify URL; grade the answer."""
    import httpx

    from conformance import webhook

    server = run.target.server
    if server is None:
        raise StepSkipped("sending a Finish Notify as DANA needs the embedded sandbox's gateway key")
    order = server.sandbox.store.get_order_by_partner_ref(ref) if hasattr(server.sandbox.store,
                                                                        "get_order_by_partner_ref") else None
    opts = step.notify
    url = run.expr.render(opts.url) if opts.url else run.target.receiver_url("notify_url")
    if order is not None:
        body = webhook.finish_notify_body(order, opts.status or "00", finished_at=run.target.now())
    else:
        body = {"originalPartnerReferenceNo": ref, "originalReferenceNo": ref,
                "merchantId": run.target.merchant.merchant_id, "amount": {"value": "1.00", "currency": "IDR"},
                "latestTransactionStatus": opts.status or "00"}
    raw = webhook.encode_body(body)
    path = urlsplit(url).path or "/"
    headers = webhook.sign_notification(server.sandbox.dana_private_key, path, raw,
                                        partner_id=run.target.merchant.partner_id)
    response = httpx.post(url, content=raw, headers=headers, timeout=15)
    run.recorder.event("notification-sent", url=url, headers=headers, body=run.recorder.redactor.body(raw),
                       answeredStatus=response.status_code, answeredBody=run.recorder.redactor.body(response.content))
    expect = opts.expect or schema.Expect(status=200, responseCode="2005600", responseMessage="Successful")
    answer = _json(response.content)
    findings = checks.status(expect.status, response.status_code, answer, where)
    findings += checks.response_code(expect.responseCode, answer, where)
    findings += checks.response_message(expect.responseMessage, answer, where)
    if expect.body:
        findings += checks.body(run.expr.render(expect.body), answer, where)
    return findings


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _at(f: Finding, where: str) -> Finding:
    return Finding(f.severity, f.check, f.expected, f.received, f.hint, f"{where}: {f.where}" if f.where else where)


RUNNERS: dict[str, Callable[[Run, Any, str], list[Finding]]] = {
    "call": run_call, "bind": run_bind, "checkout": run_checkout, "notify": run_notify,
    "clock": run_clock, "pay": run_pay, "save": run_save,
}


def label(index: int, step: Any) -> str:
    kind = schema.step_kind(step)
    detail = {"call": lambda s: s.call, "clock": lambda s: f"+{s.clock}",
              "notify": lambda s: s.notify.mode}.get(kind, lambda s: "")(step)
    name = f" ({step.name})" if getattr(step, "name", None) else ""
    return re.sub(r"\s+", " ", f"step {index + 1} {kind} {detail}{name}").strip()
