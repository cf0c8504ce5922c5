"""DANA's own UAT browser steps, selector for selector ([uat-oauth], [uat-checkout]), drive the embedded pages.

These replay what dana-id/uat-script and dana-python's automation do, minus their fixed sleeps (every wait
here is on a selector or URL, bounded), to prove the embedded sandbox honours the selector contract of 7.5
independently of our own page objects.
"""

from __future__ import annotations

import re

from conformance.binding import build_bind_url, parse_callback

PHONE, PIN = "083811223355", "181818"
T = 10_000    # ms


def test_oauth_steps_of_the_go_and_node_scripts(ctx, merchant, sandbox, receiver):
    page = ctx.page
    url = build_bind_url(merchant, sandbox.base_url, receiver.redirect_url, seamless_phone=PHONE)
    page.goto(url.url.replace("/v1.0/get-auth-code", "/n/ipg/oauth"), wait_until="domcontentloaded")
    pin_sel = '.txt-input-pin-field, input[maxlength="6"][inputmode="numeric"], input[type="password"]'
    assert not page.locator(pin_sel).first.is_visible()                        # step 3: no PIN yet
    phone = page.locator("input.txt-input-phone-number-field").first             # step 4
    assert phone.input_value() == PHONE                                          # pre-filled from seamlessData
    assert phone.get_attribute("type") == "tel" and phone.get_attribute("maxlength") == "13"
    page.get_by_role("button", name="LANJUTKAN", exact=True).click()            # step 5
    consent = page.locator("button.btn-continue.fs-unmask.btn.btn-primary")     # step 6
    consent.wait_for(state="visible", timeout=T)
    consent.click()
    page.locator(pin_sel).first.wait_for(state="attached", timeout=T)
    with page.expect_request(lambda r: "authCode=" in r.url, timeout=T) as redirect:   # step 8
        page.locator(pin_sel).first.click()                                     # step 7: keyboard, no submit
        page.keyboard.type(PIN)
    callback = parse_callback(redirect.value.url)
    assert callback["state"] == url.state and callback["authCode"]
    assert redirect.value.url.startswith(receiver.redirect_url + "?")


def test_oauth_steps_of_the_java_script_selectors(ctx, merchant, sandbox, receiver):
    page = ctx.page
    page.goto(build_bind_url(merchant, sandbox.base_url, receiver.redirect_url).url)
    page.fill(".desktop-input>.txt-input-phone-number-field", PHONE)
    page.click(".agreement__button>.btn-continue")
    page.click("button.btn-continue.fs-unmask.btn.btn-primary")   # the consent step the Java script lacks
    with page.expect_navigation(url=re.compile(r"authCode="), wait_until="commit", timeout=T):
        page.fill(".txt-input-pin-field", PIN)


def test_checkout_steps_of_the_python_script_then_the_already_paid_check(ctx, sandbox, client, payment_body):
    page = ctx.page
    payment = client.call("widget_payment", payment_body())
    web_redirect_url = payment.json["webRedirectUrl"]
    page.goto(web_redirect_url)
    page.locator(".dana>.bank-title").wait_for(state="visible", timeout=T)     # 7.4 step 2
    page.click(".dana>.bank-title")
    page.locator(".desktop-input>.txt-input-phone-number-field").wait_for(timeout=T)
    page.fill(".desktop-input>.txt-input-phone-number-field", "83811223355")   # Node/Java: without the 0
    page.click(".agreement__button>.btn-continue")
    page.locator('.txt-input-pin-field, input[maxlength="6"], input[type="password"]').first.wait_for(timeout=T)
    page.fill(".txt-input-pin-field", PIN)
    page.locator("button.btn-pay").wait_for(timeout=T)
    page.click(".btn.btn-primary.btn-pay")
    page.wait_for_selector("xpath=//*[contains(@class,'lbl-success')]", timeout=T)   # 7.4 step 7
    assert page.get_by_text("This transaction is paid using DANA").is_visible()
    assert sandbox.sandbox.store.get_order(payment.json["referenceNo"]).status == "SUCCESS"

    page.goto(web_redirect_url)                                                 # 7.4 step 8
    assert page.locator("button.btn-pay").is_visible()
    page.click("button.btn-pay")
    page.locator(".card-header-content__title.lbl-failed-payment").wait_for(timeout=T)
