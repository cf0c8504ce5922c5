"""Runners of the merchant-mode step kinds (models.py). The suite plays DANA; the merchant is the subject.

Every finding names the behaviour it proves (check names are listed in docs/merchant-mode.md), and a step
reports the first thing that went wrong in it, so one defect yields one finding: what the sandbox graded
in the merchant's traffic first, then the merchant's answer, then its effect (the order's state).
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlsplit

from conformance.client import binding, bindlint
from conformance.findings import Finding, fail, warn
from conformance.merchant import dana, policy
from conformance.merchant.driver import MerchantAnswerError, MerchantDriver, MerchantUnreachable
from conformance.merchant.models import AUTO_SAVED, GRADING, MERCHANT_STEPS
from conformance.scenarios.steps import Run, StepSkipped, at

REDIRECTS = (301, 302, 303, 307, 308)


def _driver(run: Run) -> MerchantDriver:
    profile = getattr(run.target, "merchant_profile", None)
    if profile is None:
        raise StepSkipped("merchant mode: not configured (give a merchant profile: --merchant-profile FILE)")
    if run.target.admin is None:
        raise StepSkipped("merchant mode runs against the embedded sandbox (`dana-uat sandbox`), where the "
                          "suite signs as DANA and sees the merchant's requests")
    if getattr(run, "_merchant", None) is None:
        run._merchant = MerchantDriver(profile, run.recorder)
    return run._merchant


def _guard(runner):
    """A merchant that does not answer is a FAIL naming the URL and the bound, never a traceback; every
    finding is graded as merchant mode grades it (policy.py: recommendations WARN, FAIL with --strict)."""
    def wrapped(run: Run, step, where: str) -> list[Finding]:
        try:
            return policy.apply(runner(run, step, where), strict=getattr(run.target, "merchant_strict", False))
        except MerchantUnreachable as exc:
            return [fail("merchant answer", "an answer within the profile's timeout", str(exc), where=where,
                         hint="is the backend running at the profile's base_url?")]
        except MerchantAnswerError as exc:
            return [fail("merchant response", "JSON or a redirect off your site, as the profile says", str(exc),
                         where=where, hint="check the profile's path for this endpoint, and that no login page, "
                         "error page or redirect rule answers it instead of your handler")]
        except dana.JournalUnavailable as exc:
            raise StepSkipped(str(exc)) from None
        finally:   # one HTTP client per step: steps share values (run.expr.saved), not connections
            if getattr(run, "_merchant", None) is not None:
                run._merchant.close()
                run._merchant = None
    wrapped.__name__ = runner.__name__
    return wrapped


def _phone(run: Run, given: str | None) -> str:
    return run.expr.render(given) if given else (run.target.merchant_profile.phone or run.settings.phone)


def _apply_tokens(code: str):
    return lambda e: e.get("api") == "apply_token" and dana.carries_secret(e, "authCode", code)


# -- binding ---------------------------------------------------------------------------------------

@_guard
def run_merchant_bind(run: Run, step, where: str) -> list[Finding]:
    opts, driver = step.merchant_bind, _driver(run)
    profile = driver.profile
    phone = _phone(run, opts.phone)
    if profile.bind.page is not None:
        url = _bind_url_from_page(run, profile)
    else:
        url, answer = driver.start_bind(phone)
        if not url:
            return [fail("bind start", f"a redirect to the bind URL or JSON field {profile.bind.url_field!r}",
                         f"HTTP {answer.status} {answer.text[:200]}", where=where)]
    run.recorder.event("merchant", action="bind-url", url=run.recorder.redactor.url(url))
    merchant = run.target.merchant
    findings = [at(f, where) for f in bindlint.lint_bind_url(url, merchant.public_key,
                                                            partner_id=merchant.partner_id)]
    if any(f.failed for f in findings):
        return findings
    params = binding.parse_callback(url)
    redirect, state = params.get("redirectUrl", ""), params.get("state", "")
    if profile.redirect_url and redirect.rstrip("/") != profile.redirect_url:
        return [fail("redirect URL", profile.redirect_url, redirect, where=where,
                     hint="the bind URL's redirectUrl differs from the profile's redirect_url")]
    run.expr.saved.update(merchantRedirectUrl=redirect, bindState=state)
    if not opts.complete:
        return findings
    seen = dana.last(run.target)
    if opts.browser:
        from conformance.browser import bind as browser_bind

        result = browser_bind(run.context(), url, phone=phone, pin=_pin(run, opts.pin))
        code = result.auth_code
    else:   # deliver DANA's redirect ourselves, with a code the sandbox issued for this binding
        status, data = run.target.admin._json("POST", "/auth-codes", json={
            "partnerId": merchant.partner_id, "phone": phone, "redirectUrl": redirect, "state": state})
        if status != 200:
            return [fail("auth code", "a code from the sandbox", data, where=where)]
        code = data["authCode"]
        answer = driver.send("GET", redirect, what="OAuth callback", params={"authCode": code, "state": state})
        if not 200 <= answer.status < 400:
            return [fail("callback answer", "HTTP 2xx or 3xx for a genuine callback",
                         f"HTTP {answer.status} {answer.text[:200]}", where=where)]
    run.expr.saved["authCode"] = code
    found = dana.wait_entries(run.target, seen, _apply_tokens(code), count=1, timeout=profile.timeout)
    if not found:
        return findings + [fail("Apply Token", f"one Apply Token for the callback's authCode within "
                                f"{profile.timeout:g} s", "none", where=where,
                                hint="the callback handler must exchange the authCode (grantType AUTHORIZATION_CODE)")]
    return findings + _graded(found, "Apply Token", "2007400", where, once=True)


def _bind_uses_browser(step, profile) -> bool:
    """merchant_bind drives the browser to click the profile's bind page, or to bind (browser: true, complete)."""
    opts = step.merchant_bind
    return (profile is not None and profile.bind.page is not None) or (opts.browser and opts.complete)


def _pin(run: Run, given: str | None) -> str:
    return run.expr.render(given) if given else run.settings.pin


def _bind_url_from_page(run: Run, profile) -> str:
    from conformance.browser import navigation_on_click

    return navigation_on_click(run.context(), profile.url(profile.bind.page.url), profile.bind.page.click,
                               urlsplit(run.target.web_base).netloc, profile.timeout)


def _graded(entries: list[dict], what: str, code: str, where: str, *, once: bool = False) -> list[Finding]:
    """The sandbox's grading of the merchant's requests first, then DANA's answer to them."""
    findings = [f for e in entries for f in dana.violations(e, where)]
    if any(f.failed for f in findings):
        return findings
    if once and len(entries) != 1:
        return findings + [fail(what, "exactly one request", len(entries), where=where)]
    status, answered = dana.answer_of(entries[-1])
    if answered != code:
        findings.append(fail(what, f"answered {code}", f"HTTP {status} {answered}", where=where))
    return findings


@_guard
def run_merchant_callback(run: Run, step, where: str) -> list[Finding]:
    driver = _driver(run)
    redirect = run.expr.saved.get("merchantRedirectUrl")
    if not redirect:
        return [fail("step order", "a merchant_bind step first", "no merchantRedirectUrl saved", where=where)]
    seen = dana.last(run.target)
    if step.merchant_callback.kind == "forged":
        status, data = run.target.admin._json("POST", "/auth-codes", json={
            "partnerId": run.target.merchant.partner_id, "phone": _phone(run, None), "redirectUrl": redirect})
        code, state = data["authCode"], secrets.token_hex(16)
        answer = driver.send("GET", redirect, what="forged OAuth callback", params={"authCode": code, "state": state})
        exchanged = [e for e in dana.traffic(run.target, seen) if _apply_tokens(code)(e)]
        if exchanged or 200 <= answer.status < 300:
            return [fail("forged callback", "no Apply Token and no success answer for a state never issued",
                         f"{len(exchanged)} Apply Token, merchant answered HTTP {answer.status}", where=where,
                         hint="remember the state you put in the bind URL and refuse callbacks carrying any other")]
        return []
    code, state = run.expr.saved.get("authCode"), run.expr.saved.get("bindState")
    driver.send("GET", redirect, what="replayed OAuth callback", params={"authCode": code, "state": state})
    total = [e for e in dana.traffic(run.target, 0, api="apply_token") if _apply_tokens(code)(e)]
    if len(total) != 1:
        return [fail("replayed callback", "the authCode exchanged once", f"{len(total)} Apply Token calls",
                     where=where, hint="an authCode is single-use: keep what it was exchanged for and do "
                     "not call Apply Token again when the same callback arrives twice")]
    return []


# -- payment ---------------------------------------------------------------------------------------

@_guard
def run_merchant_pay(run: Run, step, where: str) -> list[Finding]:
    driver = _driver(run)
    profile = driver.profile
    seen = dana.last(run.target)
    checkout, ref, answer = driver.start_pay(run.expr.render(step.merchant_pay.amount))
    entries = dana.traffic(run.target, seen)
    payments = [e for e in entries if e.get("api") == "widget_payment"]
    otts = [e for e in entries if e.get("api") == "apply_ott"]
    findings = _graded(payments, "Direct Debit Payment", "2005400", where) if payments else [
        fail("Direct Debit Payment", "the merchant's Direct Debit Payment request", "none reached the sandbox",
             where=where)]
    if any(f.failed for f in findings):
        return findings
    body = dana.body_of(payments[-1])
    ref = ref or body.get("partnerReferenceNo")
    urls = {p.get("type"): p.get("url") for p in body.get("urlParams") or [] if isinstance(p, dict)}
    findings += _graded(otts, "Apply OTT", "2004900", where) if otts else [
        fail("Apply OTT", "an Apply OTT for the payer's checkout URL", "none reached the sandbox", where=where)]
    if any(f.failed for f in findings):
        return findings
    if not checkout or answer.status not in (200, 201, *REDIRECTS):
        return findings + [fail("payment start", "the checkout URL (redirect or JSON)",
                                f"HTTP {answer.status} {answer.text[:200]}", where=where)]
    notify = urls.get("NOTIFICATION")
    if profile.notify_url and notify and notify.rstrip("/") != profile.notify_url:
        return findings + [fail("notify URL", profile.notify_url, notify, where=where,
                                hint="urlParams NOTIFICATION differs from the profile's notify_url")]
    run.expr.saved.update(merchantRef=ref, checkoutUrl=checkout, merchantNotifyUrl=notify)
    return findings


@_guard
def run_merchant_notified(run: Run, step, where: str) -> list[Finding]:
    opts = step.merchant_notified
    ref = run.expr.render(opts.partnerReferenceNo)
    status, data = run.target.admin.wait_notifications(ref, 1, opts.timeout)
    if status != 200 or not data:
        return [fail("Finish Notify delivery", f"a delivery for {ref} within {opts.timeout:g} s", data, where=where)]
    delivery = data[0]
    expected_url = run.expr.saved.get("merchantNotifyUrl")
    if expected_url and delivery.get("url") != expected_url:
        return [fail("notify URL", expected_url, delivery.get("url"), where=where)]
    attempts = delivery.get("attempts") or [{}]
    first = attempts[0]
    code = _code_in(first.get("body"))
    run.recorder.event("merchant", action="Finish Notify answer", url=delivery.get("url"), attempts=attempts)
    if first.get("status") != 200 or code != "2005600":
        return [_ack_finding(first.get("status"), code, where)]
    return []


def _code_in(text) -> str | None:
    try:
        body = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return None
    return body.get("responseCode") if isinstance(body, dict) else None


ACK_HINT = ("answer a Finish Notify you applied with HTTP 200 and {\"responseCode\":\"2005600\",\"responseMessage\":"
            "\"Successful\"}; anything else makes DANA retry")
# The Widget Binding guide's own sample answers HTTP 200 with a text body. [doc-finish-notify] makes the answer's
# responseCode and responseMessage mandatory (dana-node's FinishNotifyResponse model has both): a FAIL that says so.
TEXT_ACK_HINT = ("the answer is HTTP 200 without a JSON responseCode, as the Widget Binding guide's sample answers "
                 "(a text body); [doc-finish-notify] makes responseCode and responseMessage mandatory: answer "
                 "JSON {\"responseCode\":\"2005600\",\"responseMessage\":\"Successful\"}")


def _ack_finding(status, code, where: str) -> Finding:
    hint = TEXT_ACK_HINT if status == 200 and code is None else ACK_HINT
    return fail("acknowledgement", "HTTP 200 with responseCode 2005600", f"HTTP {status} {code}", where=where,
                hint=hint)


@_guard
def run_merchant_status(run: Run, step, where: str) -> list[Finding]:
    driver = _driver(run)
    ref = run.expr.render(step.merchant_status.partnerReferenceNo)
    seen = driver.order_state(ref)
    if seen is None:
        return [warn("order status", "the merchant's view of the order", "not seen: the profile has no status "
                     "endpoint", where=where)]
    answer, value = seen
    if step.merchant_status.paid and value != driver.profile.status.paid:
        return [fail("order paid", f"{driver.profile.status.field} = {driver.profile.status.paid}",
                     f"HTTP {answer.status} {value!r}", where=where)]
    return []


TRIGGERS = {"refund": ("refund_order", "Refund Order", "2005800"), "cancel": ("cancel_order", "Cancel Order", "2005700")}


@_guard
def run_merchant_trigger(run: Run, step, where: str) -> list[Finding]:
    opts, driver = step.merchant_trigger, _driver(run)
    trigger = getattr(driver.profile, opts.action)
    if trigger is None:
        raise StepSkipped(f"the merchant profile has no {opts.action} trigger")
    api, what, code = TRIGGERS[opts.action]
    ref = run.expr.render(opts.partnerReferenceNo)
    seen = dana.last(run.target)
    answer = driver.call(trigger.request, {"partnerReferenceNo": ref, "amount": run.expr.render(opts.amount)},
                         opts.action)
    entries = [e for e in dana.traffic(run.target, seen) if e.get("api") == api]
    if not entries:
        return [fail(what, f"the merchant's {what} request for {ref}", "none reached the sandbox", where=where,
                     hint=f"merchant answered HTTP {answer.status} {answer.text[:200]}")]
    return _graded(entries, what, code, where)


def step_kinds() -> list:
    """Merchant mode's step kinds, for the registry: the entry point ``merchant`` of the group
    ``dana_uat.step_kinds`` (pyproject.toml) names this function, so the engine never imports merchant mode."""
    from conformance.merchant.notify import run_merchant_notify
    from conformance.scenarios.kinds import StepKind

    runners = {"merchant_bind": run_merchant_bind, "merchant_callback": run_merchant_callback,
               "merchant_pay": run_merchant_pay, "merchant_notified": run_merchant_notified,
               "merchant_notify": run_merchant_notify, "merchant_status": run_merchant_status,
               "merchant_trigger": run_merchant_trigger}
    labels = {"merchant_callback": lambda s: s.merchant_callback.kind,
              "merchant_notify": lambda s: s.merchant_notify.forge or s.merchant_notify.status,
              "merchant_pay": lambda s: s.merchant_pay.amount, "merchant_trigger": lambda s: s.merchant_trigger.action}
    return [StepKind(name, model, runners[name], auto_saved=AUTO_SAVED.get(name, ()),
                     browser=name == "merchant_bind", label=labels.get(name, lambda s: ""),
                     browser_if=_bind_uses_browser if name == "merchant_bind" else None,
                     alone=True,    # the merchant's backend is one, and its traffic is read from the journal
                     asserts=lambda s, graded=name in GRADING: graded, matchers=())
            for name, model in MERCHANT_STEPS.items()]
