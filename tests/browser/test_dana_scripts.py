"""DANA's own UAT browser automation drives the embedded pages.

OAuth: the five language helpers of dana-id/uat-script, replayed step for step with their own waits
(dana_oauth_scripts.py), must each reach an authCode. Checkout: the Python script's selectors, bounded
waits on selectors instead of its sleeps.
"""

from __future__ import annotations

import asyncio
import threading

from conformance.browser import find_chromium
from conformance.client.binding import build_bind_url
from tests.browser import dana_oauth_scripts

PHONE, PIN = "083811223355", "181818"
T = 10_000    # ms


def test_dana_oauth_scripts_reach_the_auth_code(merchant, sandbox, receiver, needs_browser):
    """All five of DANA's OAuth automations, replayed faithfully and at once (dana_oauth_scripts.py)."""
    def url(seamless: bool, path: str | None = None) -> str:
        built = build_bind_url(merchant, sandbox.base_url, receiver.redirect_url,
                               seamless_phone=PHONE if seamless else None).url
        return built.replace("/v1.0/get-auth-code", path) if path else built

    urls = {"python": url(True, "/n/ipg/oauth"), "go": url(True), "node": url(True), "php": url(False),
            "java": url(False)}
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(
        asyncio.run(dana_oauth_scripts.run_all(find_chromium(), urls, PHONE, PIN))))
    worker.start()
    worker.join(120)                  # the longest script waits at most 2+1+3+15+10+30 s by its own bounds
    assert not worker.is_alive() and set(outcome) == set(urls), outcome
    codes = sandbox.sandbox.store.auth_codes
    for name, code in outcome.items():
        assert isinstance(code, str) and code in codes, f"{name}: {code!r}"
        assert codes[code].phone == PHONE and codes[code].partner_id == merchant.partner_id


def test_checkout_steps_of_the_python_script_then_the_already_paid_check(ctx, sandbox, client, payment_body):
    payment = client.call("widget_payment", payment_body())
    web_redirect_url = payment.json["webRedirectUrl"]

    async def pay(page) -> bool:
        await page.goto(web_redirect_url)
        await page.locator(".dana>.bank-title").wait_for(state="visible", timeout=T)     # [uat-checkout] step 2
        await page.click(".dana>.bank-title")
        await page.locator(".desktop-input>.txt-input-phone-number-field").wait_for(timeout=T)
        await page.fill(".desktop-input>.txt-input-phone-number-field", "83811223355")   # Node/Java: without the 0
        await page.click(".agreement__button>.btn-continue")
        await page.locator('.txt-input-pin-field, input[maxlength="6"], input[type="password"]').first.wait_for(
            timeout=T)
        await page.fill(".txt-input-pin-field", PIN)
        await page.locator("button.btn-pay").wait_for(timeout=T)
        await page.click(".btn.btn-primary.btn-pay")
        await page.wait_for_selector("xpath=//*[contains(@class,'lbl-success')]", timeout=T)   # [uat-checkout] step 7
        return await page.get_by_text("This transaction is paid using DANA").is_visible()

    async def pay_again(page) -> bool:
        await page.goto(web_redirect_url)                                             # [uat-checkout] step 8
        shown = await page.locator("button.btn-pay").is_visible()
        await page.click("button.btn-pay")
        await page.locator(".card-header-content__title.lbl-failed-payment").wait_for(timeout=T)
        return shown

    assert ctx.run(pay)
    assert sandbox.sandbox.store.get_order(payment.json["referenceNo"]).status == "SUCCESS"
    assert ctx.run(pay_again)
