"""DANA's three mandatory Finish Notify scripts against the embedded sandbox, host changed and nothing else.

dana-id/uat-script test/python/payment_gateway/finish_notify_test.py: create an order through the official
SDK's PaymentGatewayApi.create_order with one VIRTUAL_ACCOUNT_CIMB pay option, check the answer against the
CreateOrderApi fixture, then pay the paymentCode through sandbox-tools (test/python/helper/sandbox_tools.py,
the same urllib request); the third script lets the order expire. Each ends with DANA's Finish Notify at the
order's NOTIFICATION url, here the suite's loopback receiver.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from dana.api_client import ApiClient
from dana.payment_gateway.v1 import PaymentGatewayApi
from dana.payment_gateway.v1.models import CreateOrderByApiRequest, CreateOrderResponse
from dana.utils.snap_configuration import AuthSettings, Env, SnapConfiguration

from conformance.client.receiver import CallbackReceiver
from conformance.sandbox.sandbox_tools import PATH as SANDBOX_TOOLS_PATH
from conformance.snap import generate_private_key, private_key_pem, public_key_pem
from tests.sandbox.conftest import MERCHANT_ID, PARTNER_ID, Raw, snap

WIB = timezone(timedelta(hours=7))
# resource/request/components/PaymentGateway.json, CreateOrder.CreateOrderApi.request (uat-script).
CREATE_ORDER_API = {
    "partnerReferenceNo": "${partnerReferenceNo}", "merchantId": MERCHANT_ID,
    "amount": {"value": "1.00", "currency": "IDR"}, "externalStoreId": "",
    "urlParams": [{"url": "https://tinknet.my.id/v1/test", "type": "PAY_RETURN", "isDeeplink": "Y"},
                  {"url": "https://tinknet.my.id/v1/test", "type": "NOTIFICATION", "isDeeplink": "Y"}],
    "validUpTo": "2030-05-01T00:46:43+07:00",
    "additionalInfo": {"order": {"orderTitle": "Payment Gateway Order", "scenario": "API",
                                 "merchantTransType": "SPECIAL_MOVIE", "buyer": {}},
                       "mcc": "5732", "envInfo": {"sourcePlatform": "IPG", "terminalType": "SYSTEM",
                                                  "orderTerminalType": "WEB"},
                       "extendInfo": "{\"key\":\"value\"}"},
    "payOptionDetails": [{"payMethod": "BALANCE", "payOption": "", "transAmount": {"value": "1.00", "currency": "IDR"}}],
}


@pytest.fixture(scope="module")
def receiver():
    with CallbackReceiver() as merchant:
        yield merchant


@pytest.fixture(scope="module")
def gateway(sandbox_server, merchant_key) -> PaymentGatewayApi:
    config = SnapConfiguration(api_key=AuthSettings(
        PRIVATE_KEY=private_key_pem(merchant_key), ORIGIN="https://merchant.example", X_PARTNER_ID=PARTNER_ID,
        ENV=Env.SANDBOX, DANA_ENV=Env.SANDBOX, X_DEBUG="true"))
    config.host = sandbox_server.base_url
    return PaymentGatewayApi(ApiClient(config))


def generate_formatted_date(offset_seconds: int = 0) -> str:
    return (datetime.now(WIB) + timedelta(seconds=offset_seconds)).strftime("%Y-%m-%dT%H:%M:%S+07:00")


def create_order_api_finish_notify_once(gateway, notify_url: str, amount: str, valid_up_to: str = ""):
    """The script's create_order_api_finish_notify_once, its n8n webhook replaced by our receiver."""
    body = json.loads(json.dumps(CREATE_ORDER_API))
    body["partnerReferenceNo"] = str(uuid.uuid4())
    body["validUpTo"] = valid_up_to or generate_formatted_date(360)
    body["amount"]["value"] = amount
    body["payOptionDetails"] = [{"payMethod": "VIRTUAL_ACCOUNT", "payOption": "VIRTUAL_ACCOUNT_CIMB",
                                 "transAmount": {"value": amount, "currency": "IDR"}}]
    for param in body["urlParams"]:
        if param["type"] == "NOTIFICATION":
            param["url"] = notify_url
    response = gateway.create_order(CreateOrderByApiRequest.from_dict(body))
    answer = json.loads(CreateOrderResponse.to_json(response))
    # assert_response against the fixture's response, with the partnerReferenceNo it was sent.
    assert (answer["responseCode"], answer["responseMessage"]) == ("2005400", "Successful")
    assert answer["partnerReferenceNo"] == body["partnerReferenceNo"]
    return body["partnerReferenceNo"], response


def pay_virtual_account_sandbox(base_url: str, virtual_account_no: str) -> None:
    """helper/sandbox_tools.py, its dashboard host replaced by the sandbox's."""
    payload = json.dumps({"urlEndpoint": "/v1.0/transfer-va/payment.htm",
                          "requestBody": {"virtualAccountNo": virtual_account_no}}).encode("utf-8")
    request = urllib.request.Request(base_url + SANDBOX_TOOLS_PATH, data=payload, method="POST", headers={
        "accept": "application/json", "content-type": "application/json", "origin": "https://dashboard.dana.id",
        "referer": "https://dashboard.dana.id/"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30) as answer:
        assert 200 <= answer.status < 300


def notifications(raw, ref: str) -> list[dict]:
    return raw.admin("POST", "/notifications/wait", {"partnerReferenceNo": ref, "count": 1,
                                                      "timeoutSeconds": 20}).json()


@pytest.mark.parametrize("amount", ["11011.00", "11012.00"])   # transaction_success / internal_server_error
def test_created_paid_by_virtual_account_and_notified(gateway, raw, receiver, sandbox_server, amount):
    ref, response = create_order_api_finish_notify_once(gateway, receiver.notify_url, amount)
    code = response.additional_info.payment_code                 # payment_code_from_create_order_response
    assert code and code.isdigit() and response.web_redirect_url is None
    pay_virtual_account_sandbox(sandbox_server.base_url, code)
    [delivery] = notifications(raw, ref)
    assert delivery["latestTransactionStatus"] == "00" and delivery["state"] == "delivered"
    [received] = receiver.notifications(ref)
    body = json.loads(received.body)
    assert body["originalPartnerReferenceNo"] == ref and body["amount"] == {"value": amount, "currency": "IDR"}
    order = sandbox_server.sandbox.store.find_order(MERCHANT_ID, ref)
    assert (order.status, order.payer_phone, order.pay_option) == ("SUCCESS", None, "VIRTUAL_ACCOUNT_CIMB")
    with pytest.raises(urllib.error.HTTPError) as again:          # a VA is paid once
        pay_virtual_account_sandbox(sandbox_server.base_url, code)
    assert again.value.code == 409


def test_expired_order_notifies_closed(gateway, raw, receiver, sandbox_server):
    ref, _ = create_order_api_finish_notify_once(gateway, receiver.notify_url, "11013.00",
                                                 generate_formatted_date(2 * 60 + 15))
    moved = raw.admin("POST", "/clock", {"partnerId": raw.partner_id, "advanceSeconds": 140})   # not waiting 135 s
    assert moved.status_code == 200
    [delivery] = notifications(raw, ref)
    assert delivery["latestTransactionStatus"] == "05"


@pytest.mark.parametrize("change, field", [
    (lambda b: b.update(payOptionDetails=[]), "payOptionDetails"),
    (lambda b: b["payOptionDetails"][0].update(payOption="VIRTUAL_ACCOUNT_NOPE"), "payOption"),
    (lambda b: b.pop("urlParams"), "urlParams"),
])
def test_bad_create_orders_are_refused_before_any_order(raw, sandbox_server, change, field):
    body = json.loads(json.dumps(CREATE_ORDER_API))
    body.update(partnerReferenceNo=str(uuid.uuid4()), validUpTo=generate_formatted_date(360))
    body["payOptionDetails"][0].update(payMethod="VIRTUAL_ACCOUNT", payOption="VIRTUAL_ACCOUNT_CIMB")
    change(body)
    status, code, message = snap(raw.post("pg_create_order", body))
    assert status == 400 and code in ("4005401", "4005402") and message.endswith(field), message
    assert sandbox_server.sandbox.store.find_order(MERCHANT_ID, body["partnerReferenceNo"]) is None


def test_unknown_virtual_account_is_404(sandbox_server):
    with pytest.raises(urllib.error.HTTPError) as unknown:
        pay_virtual_account_sandbox(sandbox_server.base_url, "59190000000000000")
    assert unknown.value.code == 404


def test_top_up_credits_a_sandbox_user(sandbox_server):
    """PaymentWidgetBrowser.java's topUpUserSaldo payload, before a widget payment."""
    store = sandbox_server.sandbox.store
    before = store.balance_of("083811223355")
    payload = json.dumps({"urlEndpoint": "/v1.0/emoney/topup.htm", "requestBody": {
        "partnerReferenceNo": str(uuid.uuid4()), "customerNumber": "083811223355",
        "amount": {"value": "20000.00", "currency": "IDR"}, "feeAmount": {"value": "0.00", "currency": "IDR"},
        "additionalInfo": {"fundType": "AGENT_TOPUP_FOR_USER_SETTLE"}}}).encode()
    request = urllib.request.Request(sandbox_server.base_url + SANDBOX_TOOLS_PATH, data=payload, method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30) as answer:
        assert answer.status == 200
    assert store.balance_of("083811223355") - before == 20000


# -- create order's own rules, one focused test each (issue 29) ---------------------------------------------

@pytest.fixture()
def own(sandbox_server) -> Raw:
    """A partner of its own, new per test: its clock is the real one (other tests move the shared partner's)."""
    key, digits = generate_private_key(), f"{secrets.randbelow(10**12):012d}"
    partner_id, merchant_id = "2025112100" + digits, "216620000" + digits
    sandbox_server.register_merchant(partner_id, merchant_id, public_key_pem(key))
    return Raw(sandbox_server.base_url, key, partner_id, merchant_id)


def va_order(**changes) -> dict:
    body = json.loads(json.dumps(CREATE_ORDER_API))
    body.update(partnerReferenceNo=str(uuid.uuid4()), validUpTo=generate_formatted_date(360))
    body["payOptionDetails"][0].update(payMethod="VIRTUAL_ACCOUNT", payOption="VIRTUAL_ACCOUNT_CIMB")
    body.update(changes)
    return body


@pytest.mark.parametrize("change, field", [
    (lambda b: b["amount"].update(currency="USD"), "amount"),
    (lambda b: b.update(validUpTo="2030-05-01 00:46:43"), "validUpTo"),               # not SNAP's format
    (lambda b: b.update(validUpTo="2030-13-45T00:46:43+07:00"), "validUpTo"),         # SNAP's shape, no such day
    (lambda b: b.update(validUpTo=generate_formatted_date(8 * 24 * 3600)), "validUpTo"),   # past one week
    (lambda b: b.update(validUpTo=generate_formatted_date(-60)), "validUpTo"),            # already past
], ids=["currency", "format", "no-such-day", "past-a-week", "past"])
def test_rule_create_order_refuses_a_bad_currency_or_validUpTo_as_invalid_field_format(own, sandbox_server, change,
                                                                                       field):
    body = va_order(merchantId=own.merchant_id)
    change(body)
    status, code, message = snap(own.post("pg_create_order", body))
    assert (status, code) == (400, "4005401") and message.endswith(field), \
        f"rule: create order answers Invalid Field Format naming {field}: {code} {message}"
    assert sandbox_server.sandbox.store.find_order(own.merchant_id, body["partnerReferenceNo"]) is None


def test_rule_create_order_is_idempotent_on_its_reference_and_refuses_the_same_reference_with_another_body(
        own, sandbox_server):
    body = va_order(merchantId=own.merchant_id)
    first = own.post("pg_create_order", body).json()
    retried = own.post("pg_create_order", body | {"validUpTo": generate_formatted_date(400)}).json()
    assert retried["referenceNo"] == first["referenceNo"] and \
        retried["additionalInfo"]["paymentCode"] == first["additionalInfo"]["paymentCode"], \
        "rule: a retry (its validUpTo recomputed) gets the same order back"
    other = body | {"amount": {"value": "2.00", "currency": "IDR"}}
    status, code, _ = snap(own.post("pg_create_order", other))
    assert (status, code) == (404, "4045418"), "rule: the same partnerReferenceNo with another body is Inconsistent Request"
    order = sandbox_server.sandbox.store.find_order(own.merchant_id, body["partnerReferenceNo"])
    assert order.amount_value == "1.00" and order.title == "Payment Gateway Order", \
        "rule: the order keeps what its creation sent (the refused body changes nothing)"


def test_rule_create_order_records_the_external_id_it_was_sent_with(own, sandbox_server):
    body = va_order(merchantId=own.merchant_id)
    data = json.dumps(body).encode()
    own.post("pg_create_order", body, raw=data, X_EXTERNAL_ID="ext-create-order-1")
    order = sandbox_server.sandbox.store.find_order(own.merchant_id, body["partnerReferenceNo"])
    assert order.external_id == "ext-create-order-1", "rule: the order remembers its X-EXTERNAL-ID"


def test_rule_a_balance_create_order_gets_a_checkout_url_and_no_payment_code(own, sandbox_server):
    body = va_order(merchantId=own.merchant_id)
    body["payOptionDetails"][0].update(payMethod="BALANCE", payOption="")
    status, code, _ = snap(response := own.post("pg_create_order", body))
    answer = response.json()
    assert (status, code) == (200, "2005400")
    assert answer["webRedirectUrl"].startswith(sandbox_server.base_url) and answer["additionalInfo"] == {}, \
        "rule: an order paid in DANA's pages gets their URL, not a virtual account"
    order = sandbox_server.sandbox.store.find_order(own.merchant_id, body["partnerReferenceNo"])
    assert order.payment_code is None and order.pay_option == "BALANCE"
