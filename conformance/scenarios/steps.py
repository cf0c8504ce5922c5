"""What the core step kinds do (call, bind, checkout, clock, pay, save), and what every kind shares.

One function per kind, each returning the step's findings; kinds.py registers them (notify.py runs notify).

Steps share a ``Run`` (target, client, recorder, expression context, browser). Against DANA, which has no
admin API, ``pay`` pays at the order's checkout page in the browser and ``clock`` waits in real time within a
bound (longer waits are skipped with the reason); on a sandbox both use its admin API.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.browser.context import PageLoadTimeout, PageStatusError
from conformance.findings import Finding, fail
from conformance.scenarios import checks, pace, schema
from conformance.scenarios.expressions import Context, dig

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
BIND_TIMEOUT = 30      # seconds for the browser to come back from DANA's bind pages
# Against DANA a `clock` step waits in real time: up to SHORT_WAIT always, up to LONG_WAIT with
# DANA_UAT_LONG_WAITS=1 (an authCode's 10 minutes), never longer (a 25-hour cancel window is skipped).
SHORT_WAIT, LONG_WAIT = 60, 15 * 60


class StepSkipped(Exception):
    """The step cannot run on this target (e.g. no movable clock on DANA's real sandbox)."""


@dataclass
class Run:
    """Everything a scenario's steps share."""

    scenario: Any                          # loader.LoadedScenario
    target: Any                            # conformance.dana.target.Target
    client: Any                            # conformance.client.snap_client.DanaClient
    recorder: Any                          # conformance.evidence.recorder.Recorder
    expr: Context
    browser: Callable[[], Any] | None = None   # returns the session's BrowserSession (lazy)
    browser_ctx: Any = None                    # this scenario's browser context, made on first use
    notes: list[str] = field(default_factory=list)
    checkout_urls: dict[str, str] = field(default_factory=dict)   # partnerReferenceNo -> webRedirectUrl answered

    @property
    def settings(self):
        return self.target.settings

    def context(self):
        if self.browser_ctx is None:
            if self.browser is None:
                raise StepSkipped("browser steps need a browser session")
            self.browser_ctx = self.browser().new_context(self.recorder.scenario_id)
            # page steps, loaded documents (with their status) and reloads go into the evidence
            self.browser_ctx.observers.append(lambda event: self.recorder.event("page", **event))
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



# -- the step kinds ------------------------------------------------------------------------------

def run_call(run: Run, step: schema.CallStep, where: str) -> list[Finding]:
    defaults = call_defaults(run, step.call)
    request = run.expr.render(deep_merge(defaults.request, step.request))
    token = run.expr.render(step.customer_token or defaults.customer_token)
    device = run.expr.render(step.device_id or defaults.device_id)
    tamper = run.expr.render(step.tamper.model_dump(exclude_none=True)) if step.tamper else None
    ex = run.client.call(step.call, request, tamper=tamper, customer_token=token, device_id=device,
                         path=step.path)
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
    if isinstance(body, dict) and isinstance(body.get("webRedirectUrl"), str) and isinstance(request, dict):
        run.checkout_urls[str(request.get("partnerReferenceNo"))] = body["webRedirectUrl"]   # the `pay` step's page
    sources = {"status": ex.status, "body": body, "request": request,
               "headers": {k.lower(): v for k, v in ex.response_headers.items()}}
    findings += save(run, step.save, sources, where)
    return findings


def save(run: Run, save: Mapping[str, str], sources: Mapping[str, Any], where: str) -> list[Finding]:
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


def moves_clock(target) -> bool:
    """A sandbox's clock moves on request (its admin API); DANA's passes in real time."""
    return target.admin is not None


def run_clock(run: Run, step: schema.ClockStep, where: str) -> list[Finding]:
    seconds = parse_duration(step.clock)
    if not moves_clock(run.target):
        return _wait_real_time(run, seconds)
    data = run.target.advance_clock(seconds)
    run.recorder.event("clock", advancedSeconds=seconds, sandbox=data)
    return []


def prepare_clock(run: Run, step: schema.ClockStep) -> None:
    """Before the first step: a wait DANA's clock would need and the run will not make skips the scenario, so
    none of its requests is sent (an order paid, then left behind by the skip)."""
    seconds = parse_duration(step.clock)
    allowed = LONG_WAIT if run.settings.long_waits else SHORT_WAIT
    if not moves_clock(run.target) and seconds > allowed:
        more = ("" if run.settings.long_waits or seconds > LONG_WAIT else
                "; DANA_UAT_LONG_WAITS=1 waits it out for real")
        raise StepSkipped(f"DANA's clock cannot be moved and waiting {seconds} s in real time is longer than "
                          f"{allowed} s{more}")


def _wait_real_time(run: Run, seconds: int) -> list[Finding]:
    """DANA's clock cannot be moved: the step waits the time out for real (prepare_clock bounded it)."""
    started = time.monotonic()
    # Waiting IS the step here: DANA's own expiry (validUpTo, an authCode's lifetime) must pass in real time.
    # The scenario sends nothing meanwhile, so other scenarios use its slot (pace.py, run/ahead.py).
    with pace.idle():
        threading.Event().wait(seconds)
    run.recorder.event("clock", waitedSeconds=round(time.monotonic() - started, 1), realTime=True)
    return []


def run_pay(run: Run, step: schema.PayStep, where: str) -> list[Finding]:
    if run.target.admin is None:
        return _pay_at_checkout(run, step, where)
    ref = run.expr.render(step.pay.partnerReferenceNo)
    phone = run.expr.render(step.pay.phone) or run.settings.phone
    status, data = run.target.admin.pay(ref, phone)
    run.recorder.event("admin", action="pay", partnerReferenceNo=ref, status=status, answer=data)
    if status != step.pay.expect_status:
        return [fail("pay", step.pay.expect_status, status, where=where, hint=str(data))]
    return []


def _pay_at_checkout(run: Run, step: schema.PayStep, where: str) -> list[Finding]:
    """Against DANA, which has no admin API, the order is paid as a customer pays it: at its checkout page."""
    ref = run.expr.render(step.pay.partnerReferenceNo)
    url = run.checkout_urls.get(ref)
    if url is None:
        raise StepSkipped(f"no webRedirectUrl was answered for {ref}: DANA's checkout page is the only way to pay it")
    if step.pay.expect_status != 200:
        raise StepSkipped(f"an order refused with HTTP {step.pay.expect_status} by the admin pay call has no "
                          "counterpart at DANA's checkout page")
    phone = run.expr.render(step.pay.phone) if step.pay.phone else None
    return run_checkout(run, schema.CheckoutStep(checkout=schema.CheckoutOptions(url=url, phone=phone)), where)


def run_save(run: Run, step: schema.SaveStep, where: str) -> list[Finding]:
    for name, value in step.save.items():
        run.expr.saved[name] = run.expr.render(value)
    return []


def person(run: Run, phone: str | None, pin: str | None) -> tuple[str, str]:
    """Who logs in on DANA's pages: the step's user, else the settings' (in production a real person's account,
    conformance/dana/person.py, whose PIN is then a secret of the evidence and the browser traces)."""
    phone = run.expr.render(phone) if phone else run.settings.phone
    pin = run.expr.render(pin) if pin else run.settings.pin
    if run.settings.env == "production":
        run.recorder.redactor.learn(pin)
        run.context().add_secret(pin)
    return phone, pin


def run_bind(run: Run, step: schema.BindStep, where: str) -> list[Finding]:
    from conformance.browser import bind as browser_bind
    from conformance.client import binding, bindlint

    opts = step.bind
    phone, pin = person(run, opts.phone, opts.pin)
    redirect = run.target.receiver_url("redirect_url")
    url = binding.build_bind_url(run.target.merchant, run.target.web_base, redirect, mode=opts.mode,
                                 scopes=opts.scopes, seamless_phone=phone if opts.seamless else None,
                                 env=run.settings.env)   # production drops AGREEMENT_PAY, as the official SDKs do
    run.recorder.event("browser", action="bind", url=url.url)
    findings = []
    if opts.lint:   # grades what the merchant configured: redirect URL, key pair (seamlessSign), partnerId
        merchant = run.target.merchant
        findings = [at(f, where) for f in bindlint.lint_bind_url(
            url.url, merchant.public_key, expected_state=url.state, partner_id=merchant.partner_id)]
        if any(f.severity == "FAIL" for f in findings):
            return findings
    own = run.settings.redirect_url_oauth    # the merchant's redirect URL: the browser ends there, not at ours
    if own:
        try:
            result = browser_bind(run.context(), url.url, phone=phone, pin=pin, timeout=BIND_TIMEOUT)
        except (PageStatusError, PageLoadTimeout):     # DANA's page failed: the runner says so (retry.py)
            raise
        except Exception as exc:   # noqa: BLE001 - Playwright's timeout, said with the URL that was awaited
            return findings + [fail("bind redirect", f"the browser redirected to {redirect} with an authCode "
                                    f"within {BIND_TIMEOUT} s", f"{type(exc).__name__}: {str(exc)[:300]}",
                                    where=where, hint="REDIRECT_URL_OAUTH must be the redirect URL registered "
                                    "for this partnerId")]
        callback = result.callback
        if not result.final_url.startswith(redirect):
            findings.append(fail("redirect URL", redirect, result.final_url, where=where))
    else:
        run.target.receiver.expect_state(url.state)
        result = browser_bind(run.context(), url.url, phone=phone, pin=pin)
        callback = run.target.receiver.wait_for_callback(url.state, timeout=BIND_TIMEOUT)
    run.recorder.event("browser", action="bind-callback", finalUrl=result.final_url, callback=callback)
    if callback.get("authCode") != result.auth_code:
        findings.append(fail("authCode", "the code the browser saw", callback.get("authCode"), where=where))
    run.expr.saved.update(authCode=result.auth_code, bindState=result.state)
    sources = {"auth_code": result.auth_code, "state": result.state, "final_url": result.final_url}
    return findings + save(run, step.save, sources, where)


def run_checkout(run: Run, step: schema.CheckoutStep, where: str) -> list[Finding]:
    from conformance.browser import checkout as browser_checkout

    opts = step.checkout
    url = run.expr.render(opts.url)
    phone, pin = person(run, opts.phone, opts.pin)
    run.recorder.event("browser", action="checkout", url=url)
    result = browser_checkout(run.context(), url, phone=phone, pin=pin)
    run.recorder.event("browser", action="checkout-result", outcome=result.outcome, finalUrl=result.final_url)
    run.expr.saved["checkoutOutcome"] = result.outcome
    findings = save(run, step.save, {"outcome": result.outcome, "final_url": result.final_url}, where)
    if result.outcome != opts.outcome:
        findings.append(fail("checkout", opts.outcome, result.outcome, where=where,
                             hint=f"final page: {result.final_url}"))
    return findings


def as_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def at(f: Finding, where: str) -> Finding:
    return Finding(f.severity, f.check, f.expected, f.received, f.hint, f"{where}: {f.where}" if f.where else where)
