"""The two browser flows of a Widget Binding UAT: bind (OAuth/login: phone, PIN) and checkout (pay).

Each page step leaves a screenshot on the ScenarioContext (``ctx.step``). Waits are bounded waits on
selectors and URLs (pages.wait_first, expect_navigation, wait_for_url); nothing sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from conformance.binding import parse_callback
from conformance.browser.pages import (CONSENT, DANA_OPTION, ERROR, FAILED, PAY, PHONE, PIN, SUCCESS,
                                       AgreementPage, CheckoutPage, LoginPage, PinPage, error_text, wait_first)


class FlowError(AssertionError):
    """A page flow could not finish; says at which step, what the page said, and where it was."""

    def __init__(self, step: str, message: str, url: str = ""):
        self.step, self.message, self.url = step, message, url
        super().__init__(f"browser {step}: {message}" + (f" (at {url})" if url else ""))


@dataclass(frozen=True)
class BindResult:
    auth_code: str
    state: str | None
    final_url: str
    callback: dict = field(default_factory=dict)      # the whole redirect query (responseCode, ...)


@dataclass(frozen=True)
class CheckoutResult:
    outcome: str                    # "success" | "already_paid" | "failed"
    final_url: str
    message: str = ""


def _fail_on_error(ctx, step: str, seen: str) -> None:
    if seen == "error":
        ctx.step(f"{step}-error")
        raise FlowError(step, error_text(ctx.page) or "the page showed an error", ctx.redact(ctx.page.url))


def bind(ctx, bind_url: str, *, phone: str, pin: str, timeout: float = 30) -> BindResult:
    """Open ``bind_url``, log in (phone, PIN) and return the authCode DANA redirected with.

    As DANA's Go and Node UAT scripts do, a consent button between phone and PIN is clicked only if it
    shows (the embedded sandbox shows none: its PIN page carries the agreement, docs/sandbox.md).
    """
    page = ctx.page
    redirects: list[str] = []

    def on_request(request) -> None:
        # Captured at request time: the merchant's redirect host may be unreachable from this machine.
        if request.is_navigation_request() and "authCode=" in request.url:
            redirects.append(request.url)

    page.on("request", on_request)
    try:
        page.goto(bind_url, wait_until="domcontentloaded", timeout=timeout * 1000)
        ctx.step("bind-open")
        seen = wait_first(page, {"phone": PHONE, "pin": PIN, "error": ERROR}, timeout)
        _fail_on_error(ctx, "bind-open", seen)
        if seen == "phone":
            login = LoginPage(page)
            login.enter_phone(phone)
            ctx.step("bind-phone")
            login.submit()
            seen = wait_first(page, {"consent": CONSENT, "pin": PIN, "error": ERROR}, timeout)
            _fail_on_error(ctx, "bind-phone", seen)
        if seen == "consent":
            ctx.step("bind-agreement")
            AgreementPage(page).agree()
            seen = wait_first(page, {"pin": PIN, "error": ERROR}, timeout)
            _fail_on_error(ctx, "bind-agreement", seen)
        ctx.step("bind-pin")
        try:
            PinPage(page).enter_pin(pin, timeout)
        except Exception:
            if not redirects:        # a failed navigation to an unreachable redirect host is fine once captured
                raise
        if not redirects:
            page.wait_for_load_state("domcontentloaded", timeout=timeout * 1000)
            if page.locator(ERROR).first.is_visible():
                _fail_on_error(ctx, "bind-pin", "error")
            page.wait_for_url(lambda url: "authCode=" in url, wait_until="commit", timeout=timeout * 1000)
        if not redirects:
            raise FlowError("bind-redirect", "no redirect carrying authCode", ctx.redact(page.url))
        callback = parse_callback(redirects[0])
        if page.url.startswith(("http://", "https://")):
            try:                       # the merchant's page is evidence too, if it loads in time
                page.wait_for_load_state("domcontentloaded", timeout=timeout * 1000)
            except Exception:
                pass
            ctx.step("bind-redirect")
        return BindResult(auth_code=callback.get("authCode", ""), state=callback.get("state"),
                          final_url=redirects[0], callback=callback)
    finally:
        page.remove_listener("request", on_request)


def _outcome_of_failed_label(page) -> tuple[str, str]:
    message = error_text(page)
    # DANA's scripts read lbl-failed-payment as "already paid" ([uat-checkout]); the sandbox adds the reason.
    if not message or "paid" in message.lower():
        return "already_paid", message
    return "failed", message


def checkout(ctx, payment_url: str, *, phone: str, pin: str, timeout: float = 30,
             return_to_merchant: bool = False) -> CheckoutResult:
    """Pay the order behind ``payment_url`` (webRedirectUrl, with or without ``ott``) as the DANA user."""
    page = ctx.page
    ctx.add_secret(dict(parse_qsl(urlsplit(payment_url).query)).get("ott"))    # OTTs never reach disk
    page.goto(payment_url, wait_until="domcontentloaded", timeout=timeout * 1000)
    ctx.step("checkout-open")
    states = {"method": DANA_OPTION, "phone": PHONE, "pay": PAY, "failed": FAILED, "error": ERROR}
    seen = wait_first(page, states, timeout)
    if seen == "method":
        CheckoutPage(page).choose_dana()
        seen = wait_first(page, {"phone": PHONE, "pay": PAY, "error": ERROR}, timeout)
    if seen == "phone":
        login = LoginPage(page)
        login.enter_phone(phone)
        ctx.step("checkout-phone")
        login.submit()
        seen = wait_first(page, {"pin": PIN, "error": ERROR}, timeout)
        _fail_on_error(ctx, "checkout-phone", seen)
        ctx.step("checkout-pin")
        PinPage(page).enter_pin(pin, timeout)
        seen = wait_first(page, {"pay": PAY, "error": ERROR}, timeout)
    if seen == "error":
        ctx.step("checkout-error")
        return CheckoutResult("failed", ctx.redact(page.url), error_text(page))
    if seen == "pay":
        ctx.step("checkout-pay")
        CheckoutPage(page).pay()
        seen = wait_first(page, {"success": SUCCESS, "failed": FAILED}, timeout)
    ctx.step("checkout-result")
    if seen != "success":
        outcome, message = _outcome_of_failed_label(page)
        return CheckoutResult(outcome, ctx.redact(page.url), message)
    message = page.locator(SUCCESS).first.inner_text().strip()
    if return_to_merchant and CheckoutPage(page).back_to_merchant():
        page.wait_for_url(lambda url: "status=" in url, wait_until="commit", timeout=timeout * 1000)
        ctx.step("checkout-return")
    return CheckoutResult("success", ctx.redact(page.url), message)


__all__ = ["bind", "checkout", "BindResult", "CheckoutResult", "FlowError"]
