"""The two browser flows of a Widget Binding UAT: bind (OAuth/login: phone, PIN) and checkout (pay).

Each page step leaves a screenshot on the ScenarioContext (``ctx.record``). Waits are bounded waits on
selectors and URLs (pages.wait_first, expect_navigation, wait_for_url); nothing sleeps. Each flow runs guarded
(``ctx.guarded``): a page that answers 5xx or 429 past its reloads ends it with ``PageStatusError``; every
``goto`` is recorded with how long it took and how it ended. ``bind`` and ``checkout``
are called from a scenario's thread; their async bodies run on the browser session's thread, so flows of
scenarios side by side interleave in one Chromium.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from conformance.browser.context import PageLoadTimeout
from conformance.browser.pages import (CONSENT, DANA_OPTION, ERROR, FAILED, PAY, PHONE, PIN, SUCCESS,
                                       AgreementPage, CheckoutPage, LoginPage, PinPage, error_text, wait_first)
from conformance.client.binding import parse_callback


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


async def _fail_on_error(ctx, step: str, seen: str) -> None:
    if seen == "error":
        await ctx.record(f"{step}-error")
        raise FlowError(step, await error_text(ctx.page) or "the page showed an error", ctx.redact(ctx.page.url))


async def _open(ctx, url: str, timeout: float):
    """``page.goto`` to ``url`` (DOM loaded), recorded with its duration and its end (status or error); a page that
    does not load within ``timeout`` raises PageLoadTimeout (DANA's page, not the merchant's integration)."""
    started = time.perf_counter()
    try:
        response = await ctx.page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
    except Exception as exc:
        ctx.observe("goto", url=ctx.redact(url), ms=round((time.perf_counter() - started) * 1000, 1),
                    timeoutS=timeout, error=str(exc).splitlines()[0])
        if type(exc).__name__ == "TimeoutError":         # Playwright's: the page started and never loaded
            raise PageLoadTimeout(ctx.redact(url), timeout) from exc
        raise
    ctx.observe("goto", url=ctx.redact(url), ms=round((time.perf_counter() - started) * 1000, 1),
                status=response.status if response is not None else None)
    return response


def bind(ctx, bind_url: str, *, phone: str, pin: str, timeout: float | None = None) -> BindResult:
    """Open ``bind_url``, log in (phone, PIN) and return the authCode DANA redirected with.

    As DANA's Go and Node UAT scripts do, a consent button between phone and PIN is clicked only if it
    shows (the embedded sandbox shows none: its PIN page carries the agreement, docs/sandbox.md).
    """
    timeout = timeout or ctx.session.timeout
    return ctx.session.run(ctx.guarded(_bind(ctx, bind_url, phone=phone, pin=pin, timeout=timeout)))


async def _bind(ctx, bind_url: str, *, phone: str, pin: str, timeout: float) -> BindResult:
    page = ctx.page
    redirects: list[str] = []

    def on_request(request) -> None:
        # Captured at request time: the merchant's redirect host may be unreachable from this machine.
        if request.is_navigation_request() and "authCode=" in request.url:
            redirects.append(request.url)

    page.on("request", on_request)
    try:
        await _open(ctx, bind_url, timeout)
        await ctx.record("bind-open")
        seen = await wait_first(page, {"phone": PHONE, "pin": PIN, "error": ERROR}, timeout)
        await _fail_on_error(ctx, "bind-open", seen)
        if seen == "phone":
            login = LoginPage(page)
            await login.enter_phone(phone)
            await ctx.record("bind-phone")
            await login.submit()
            seen = await wait_first(page, {"consent": CONSENT, "pin": PIN, "error": ERROR}, timeout)
            await _fail_on_error(ctx, "bind-phone", seen)
        if seen == "consent":
            await ctx.record("bind-agreement")
            await AgreementPage(page).agree()
            seen = await wait_first(page, {"pin": PIN, "error": ERROR}, timeout)
            await _fail_on_error(ctx, "bind-agreement", seen)
        await ctx.record("bind-pin")
        try:
            await PinPage(page).enter_pin(pin, timeout)
        except Exception:
            if not redirects:        # a failed navigation to an unreachable redirect host is fine once captured
                raise
        if not redirects:
            await page.wait_for_load_state("domcontentloaded", timeout=timeout * 1000)
            if await page.locator(ERROR).first.is_visible():
                await _fail_on_error(ctx, "bind-pin", "error")
            await page.wait_for_url(lambda url: "authCode=" in url, wait_until="commit", timeout=timeout * 1000)
        if not redirects:
            raise FlowError("bind-redirect", "no redirect carrying authCode", ctx.redact(page.url))
        callback = parse_callback(redirects[0])
        if page.url.startswith(("http://", "https://")):
            try:                       # the merchant's page is evidence too, if it loads in time
                await page.wait_for_load_state("domcontentloaded", timeout=timeout * 1000)
            except Exception:
                pass
            await ctx.record("bind-redirect")
        return BindResult(auth_code=callback.get("authCode", ""), state=callback.get("state"),
                          final_url=redirects[0], callback=callback)
    finally:
        page.remove_listener("request", on_request)


async def _outcome_of_failed_label(page) -> tuple[str, str]:
    message = await error_text(page)
    # DANA's scripts read lbl-failed-payment as "already paid" ([uat-checkout]); the sandbox adds the reason.
    if not message or "paid" in message.lower():
        return "already_paid", message
    return "failed", message


def checkout(ctx, payment_url: str, *, phone: str, pin: str, timeout: float | None = None,
             return_to_merchant: bool = False) -> CheckoutResult:
    """Pay the order behind ``payment_url`` (webRedirectUrl, with or without ``ott``) as the DANA user."""
    timeout = timeout or ctx.session.timeout
    return ctx.session.run(ctx.guarded(_checkout(ctx, payment_url, phone=phone, pin=pin, timeout=timeout,
                                                 return_to_merchant=return_to_merchant)))


async def _checkout(ctx, payment_url: str, *, phone: str, pin: str, timeout: float,
                    return_to_merchant: bool) -> CheckoutResult:
    page = ctx.page
    ctx.add_secret(dict(parse_qsl(urlsplit(payment_url).query)).get("ott"))    # OTTs never reach disk
    await _open(ctx, payment_url, timeout)
    await ctx.record("checkout-open")
    states = {"method": DANA_OPTION, "phone": PHONE, "pay": PAY, "failed": FAILED, "error": ERROR}
    seen = await wait_first(page, states, timeout)
    if seen == "method":
        await CheckoutPage(page).choose_dana()
        seen = await wait_first(page, {"phone": PHONE, "pay": PAY, "error": ERROR}, timeout)
    if seen == "phone":
        login = LoginPage(page)
        await login.enter_phone(phone)
        await ctx.record("checkout-phone")
        await login.submit()
        seen = await wait_first(page, {"pin": PIN, "error": ERROR}, timeout)
        await _fail_on_error(ctx, "checkout-phone", seen)
        await ctx.record("checkout-pin")
        await PinPage(page).enter_pin(pin, timeout)
        seen = await wait_first(page, {"pay": PAY, "error": ERROR}, timeout)
    if seen == "error":
        await ctx.record("checkout-error")
        return CheckoutResult("failed", ctx.redact(page.url), await error_text(page))
    if seen == "pay":
        await ctx.record("checkout-pay")
        await CheckoutPage(page).pay()
        seen = await wait_first(page, {"success": SUCCESS, "failed": FAILED}, timeout)
    await ctx.record("checkout-result")
    if seen != "success":
        outcome, message = await _outcome_of_failed_label(page)
        return CheckoutResult(outcome, ctx.redact(page.url), message)
    message = (await page.locator(SUCCESS).first.inner_text()).strip()
    if return_to_merchant and await CheckoutPage(page).back_to_merchant():
        await page.wait_for_url(lambda url: "status=" in url, wait_until="commit", timeout=timeout * 1000)
        await ctx.record("checkout-return")
    return CheckoutResult("success", ctx.redact(page.url), message)


def navigation_on_click(ctx, page_url: str, selector: str, host: str, timeout: float | None = None) -> str:
    """Open ``page_url``, click ``selector`` and return the URL of the navigation to ``host`` it starts (a
    merchant's "link DANA" button leading to DANA's bind page), captured before the page loads."""
    timeout = timeout or ctx.session.timeout
    return ctx.session.run(ctx.guarded(_navigation_on_click(ctx, page_url, selector, host, timeout)))


async def _navigation_on_click(ctx, page_url: str, selector: str, host: str, timeout: float) -> str:
    page = ctx.page
    await _open(ctx, page_url, timeout)
    async with page.expect_request(lambda r: r.is_navigation_request() and urlsplit(r.url).netloc == host,
                                   timeout=timeout * 1000) as request:
        await page.click(selector, timeout=timeout * 1000)
    return (await request.value).url


__all__ = ["bind", "checkout", "navigation_on_click", "BindResult", "CheckoutResult", "FlowError"]
