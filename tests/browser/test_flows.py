"""End to end through a real Chromium: bind and exchange the authCode, pay at checkout, evidence."""

from __future__ import annotations

import zipfile

import pytest

from conformance.browser import FlowError, bind, checkout
from conformance.client.binding import build_bind_url

PHONE, PIN = "083811223355", "181818"    # DANA sandbox test user ([uat-oauth])
JPEG = b"\xff\xd8\xff"   # screenshots are compressed JPEG (a small report)


def apply_token(client, auth_code):
    return client.call("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": auth_code,
                                       "refreshToken": "", "additionalInfo": {}})


def bound_token(ctx, merchant, sandbox, receiver, client) -> str:
    url = build_bind_url(merchant, sandbox.base_url, receiver.redirect_url, seamless_phone=PHONE)
    receiver.expect_state(url.state)
    result = bind(ctx, url.url, phone=PHONE, pin=PIN, timeout=15)
    token = apply_token(client, result.auth_code).json["accessToken"]
    return token


def shot_names(ctx):
    return [p.name.split("-", 1)[1] for p in ctx.screenshots]


def assert_jpegs(ctx):
    assert ctx.screenshots and all(p.read_bytes().startswith(JPEG) for p in ctx.screenshots)
    assert [s.screenshot for s in ctx.steps if s.screenshot] == ctx.screenshots


def test_bind_through_chromium_then_apply_token(ctx, merchant, sandbox, receiver, client):
    url = build_bind_url(merchant, sandbox.base_url, receiver.redirect_url, seamless_phone=PHONE)
    receiver.expect_state(url.state)
    result = bind(ctx, url.url, phone=PHONE, pin=PIN, timeout=15)
    callback = receiver.wait_for_callback(url.state, timeout=10)
    assert callback["authCode"] == result.auth_code and result.state == url.state
    assert (callback["responseCode"], callback["responseMessage"]) == ("2001000", "Successful")

    token = apply_token(client, result.auth_code)
    assert (token.status, token.json["responseCode"]) == (200, "2007400"), token.response_text()
    assert token.json["accessToken"]
    again = apply_token(client, result.auth_code)            # single use ([sdk-validation])
    assert (again.status, again.json["responseCode"]) == (401, "4017400")

    assert shot_names(ctx) == ["bind-open.jpg", "bind-phone.jpg", "bind-pin.jpg",
                               "bind-redirect.jpg"]
    assert_jpegs(ctx)


def test_bind_deeplink_form_without_seamless_data_types_the_phone(ctx, merchant, sandbox, receiver):
    url = build_bind_url(merchant, sandbox.base_url, receiver.redirect_url + "?shop=7", mode="deeplink")
    result = bind(ctx, url.url, phone="83811223355", pin=PIN, timeout=15)
    assert "/bindSnap?" in url.url and result.callback["shop"] == "7" and result.auth_code
    assert receiver.wait_for_callback(url.state, timeout=10)["authCode"] == result.auth_code


@pytest.mark.parametrize("phone,pin,step,text", [
    (PHONE, "000000", "bind-pin", "PIN salah"),
    ("0899999999", PIN, "bind-phone", "belum terdaftar"),
])
def test_bind_refuses_a_wrong_pin_or_unknown_phone(ctx, merchant, sandbox, receiver, phone, pin, step, text):
    url = build_bind_url(merchant, sandbox.base_url, receiver.redirect_url)
    with pytest.raises(FlowError) as err:
        bind(ctx, url.url, phone=phone, pin=pin, timeout=15)
    assert err.value.step == step and text in err.value.message
    assert url.state not in [c.get("state") for c in receiver.callbacks()]


def test_bind_with_a_fake_seamless_sign_stops_on_the_error_page(ctx, merchant, sandbox, receiver):
    url = build_bind_url(merchant, sandbox.base_url, receiver.redirect_url, seamless_phone=PHONE)
    fake = url.url.split("&seamlessSign=")[0] + "&seamlessSign=" + "ab" * 32
    with pytest.raises(FlowError) as err:
        bind(ctx, fake, phone=PHONE, pin=PIN, timeout=15)
    assert err.value.step == "bind-open" and "hex digest" in err.value.message


def test_checkout_with_ott_pays_and_the_order_reaches_success(ctx, merchant, sandbox, receiver, client,
                                                             payment_body):
    token = bound_token(ctx, merchant, sandbox, receiver, client)
    body = payment_body()
    payment = client.call("widget_payment", body)
    assert payment.json["responseCode"] == "2005400", payment.response_text()
    ott = client.call("apply_ott", {"userResources": ["OTT"],
                                    "additionalInfo": {"accessToken": token, "deviceId": "dana-uat-test"}})
    assert ott.json["responseCode"] == "2004900", ott.response_text()
    ott_value = ott.json["userResources"][0]["value"]
    url = payment.json["webRedirectUrl"] + "&ott=" + ott_value

    result = checkout(ctx, url, phone=PHONE, pin=PIN, timeout=15, return_to_merchant=True)
    assert (result.outcome, result.message) == ("success", "Payment Success")
    ref = body["partnerReferenceNo"]
    query = client.call("query_payment", {"originalPartnerReferenceNo": ref, "merchantId": merchant.merchant_id,
                                          "serviceCode": "54"})
    assert (query.json["responseCode"], query.json["latestTransactionStatus"],
            query.json["transactionStatusDesc"]) == ("2005500", "00", "SUCCESS")
    back = receiver.wait_for_pay_return(ref, timeout=10)
    assert (back["status"], back["originalReferenceNo"]) == ("SUCCESS", payment.json["referenceNo"])
    [notify] = receiver.wait_for_notifications(ref, timeout=10)
    assert b'"latestTransactionStatus":"00"' in notify.body

    names = shot_names(ctx)
    assert names[-4:] == ["checkout-open.jpg", "checkout-pay.jpg", "checkout-result.jpg", "checkout-return.jpg"]
    assert "checkout-phone.jpg" not in names                 # the OTT logged the user in
    assert all(ott_value not in s.url for s in ctx.steps)
    assert_jpegs(ctx)


def test_checkout_without_ott_logs_in_then_a_second_payment_is_refused(ctx, sandbox, client, payment_body):
    body = payment_body()
    payment = client.call("widget_payment", body)
    url = payment.json["webRedirectUrl"]
    first = checkout(ctx, url, phone=PHONE, pin=PIN, timeout=15)
    assert first.outcome == "success"
    assert shot_names(ctx) == ["checkout-open.jpg", "checkout-phone.jpg", "checkout-pin.jpg",
                               "checkout-pay.jpg", "checkout-result.jpg"]
    order = sandbox.sandbox.store.get_order(payment.json["referenceNo"])
    assert order.status == "SUCCESS" and order.payer_phone == PHONE
    second = checkout(ctx, url, phone=PHONE, pin=PIN, timeout=15)
    assert second.outcome == "already_paid" and "paid" in second.message


def test_checkout_wrong_pin_is_a_failed_outcome_and_leaves_the_order_unpaid(ctx, sandbox, client, payment_body):
    payment = client.call("widget_payment", payment_body())
    result = checkout(ctx, payment.json["webRedirectUrl"], phone=PHONE, pin="999999", timeout=15)
    assert result.outcome == "failed" and "PIN salah" in result.message
    assert sandbox.sandbox.store.get_order(payment.json["referenceNo"]).status == "INIT"


def test_trace_kept_on_failure_with_the_ott_redacted(browser, merchant, sandbox, receiver, client, payment_body):
    token_ctx = browser.new_context("token", tracing="off", screenshot="off")
    try:
        token = bound_token(token_ctx, merchant, sandbox, receiver, client)
    finally:
        token_ctx.close()
    payment = client.call("widget_payment", payment_body())
    ott = client.call("apply_ott", {"userResources": ["OTT"],
                                    "additionalInfo": {"accessToken": token, "deviceId": "d"}})
    ott_value = ott.json["userResources"][0]["value"]

    failing = browser.new_context("failing", tracing="retain-on-failure", screenshot="only-on-failure")
    checkout(failing, payment.json["webRedirectUrl"] + "&ott=" + ott_value, phone=PHONE, pin=PIN, timeout=15)
    artifacts = failing.close(failed=True)
    assert failing.trace in artifacts and failing.trace.name == "trace.zip"
    with zipfile.ZipFile(failing.trace) as z:
        blob = b"".join(z.read(n) for n in z.namelist())
    assert b"[REDACTED]" in blob and ott_value.encode() not in blob
    assert failing.screenshots[-1].name.endswith("failure.jpg")

    passing = browser.new_context("passing", tracing="retain-on-failure", screenshot="only-on-failure")
    passing.run(lambda page: page.goto(sandbox.base_url + "/n/cashier/new/checkout?bizNo=nope"))
    passing.step("unknown-order")
    assert passing.close(failed=False) == [] and not passing.dir.exists()


def test_modes_are_validated(browser):
    with pytest.raises(ValueError, match="--dana-tracing"):
        browser.new_context("x", tracing="sometimes")
