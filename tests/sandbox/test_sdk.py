"""The official dana-python SDK, pointed at the embedded sandbox, calls every Widget API it has.

Each call gets the documented success; every magic value gets its documented error
([uat-fixtures]). What the SDK cannot send (HTTP 202 bodies,
amounts above its sandbox cap) goes through raw signed requests.
"""

from __future__ import annotations

import uuid

import pytest

from tests.sandbox import sdk
from tests.sandbox.conftest import MERCHANT_ID, PARTNER_ID, payment_body, snap


@pytest.fixture(scope="module")
def api(sandbox_server, merchant_key):
    return sdk.widget_api(sandbox_server.base_url, merchant_key, PARTNER_ID)


def auth_code(raw, phone: str = "083811223355", scopes=None) -> str:
    body = {"partnerId": PARTNER_ID, "phone": phone, **({"scopes": scopes} if scopes else {})}
    return raw.admin("POST", "/auth-codes", body).json()["authCode"]


def token_for(api, raw, phone: str = "083811223355") -> str:
    return api.apply_token(sdk.auth_code_request(auth_code(raw, phone))).access_token


def new_order(api, amount: str = "1.00") -> tuple[str, str]:
    body = payment_body(amount)
    response = api.widget_payment(sdk.payment_request(body))
    assert (response.response_code, response.response_message) == ("2005400", "Successful")
    return body["partnerReferenceNo"], response.reference_no


def paid_order(api, raw, amount: str = "1.00") -> tuple[str, str]:
    ref, reference_no = new_order(api, amount)
    assert raw.admin("POST", f"/orders/{ref}/pay", {"phone": "083811223355"}).json()["status"] == "SUCCESS"
    return ref, reference_no


# --- Apply Token ------------------------------------------------------------------------------
def test_apply_token_success_and_code_used(api, raw):
    code = auth_code(raw, scopes=["CASHIER", "PUBLIC_ID"])
    token = api.apply_token(sdk.auth_code_request(code))
    assert (token.response_code, token.response_message, token.token_type) == ("2007400", "Successful", "Bearer")
    assert token.access_token and token.refresh_token
    assert token.additional_info.user_info.public_user_id
    assert sdk.error(lambda: api.apply_token(sdk.auth_code_request(code))) == (
        401, "4017400", "Unauthorized. Auth Code Used")


def test_apply_token_invalid_and_expired_code(api, raw):
    assert sdk.error(lambda: api.apply_token(sdk.auth_code_request("test123"))) == (
        401, "4017400", "Unauthorized. Invalid Auth Code")
    code = auth_code(raw)
    raw.admin("POST", "/clock", {"partnerId": raw.partner_id, "advanceSeconds": 601})       # auth codes live 10 minutes
    assert sdk.error(lambda: api.apply_token(sdk.auth_code_request(code))) == (
        401, "4017400", "Unauthorized. Auth Code Expired")


def test_apply_token_refresh_grant(api, raw):
    first = api.apply_token(sdk.auth_code_request(auth_code(raw)))
    renewed = api.apply_token(sdk.refresh_request(first.refresh_token))
    assert renewed.response_code == "2007400" and renewed.access_token != first.access_token
    assert api.apply_ott(sdk.ott_request(renewed.access_token)).response_code == "2004900"
    assert sdk.error(lambda: api.apply_token(sdk.refresh_request("nope")))[1] == "4017400"


def test_apply_token_header_rules(raw):
    body = {"grantType": "AUTHORIZATION_CODE", "authCode": "test123", "refreshToken": "", "additionalInfo": {}}
    assert snap(raw.post("apply_token", body, X_TIMESTAMP=None)) == (
        400, "4007402", "Invalid Mandatory Field X-TIMESTAMP")
    assert snap(raw.post("apply_token", body, timestamp="2026-01-01 10:00:00+07:00"))[1] == "4007401"
    assert snap(raw.post("apply_token", body, X_SIGNATURE="a" * 342)) == (
        401, "4017400", "Unauthorized. Invalid Signature")


# --- Apply OTT ---------------------------------------------------------------------------------
def test_apply_ott_success_and_single_use(api, raw, sandbox_server):
    response = api.apply_ott(sdk.ott_request(token_for(api, raw)))
    assert (response.response_code, response.response_message) == ("2004900", "Successful")
    ott = response.user_resources[0]
    assert ott.resource_type == "OTT"
    store = sandbox_server.sandbox.store
    assert store.redeem_ott(ott.value, raw.partner_id).phone == "083811223355"
    assert store.redeem_ott(ott.value, raw.partner_id) is None


@pytest.mark.parametrize("phone, expected", [
    ("0855100800", (403, "4034905", "Do Not Honor")),
    ("08551003634", (401, "4014901", "Token Expired")),
    ("0815919191", (401, "4014902", "Invalid Customer Token")),
])
def test_apply_ott_user_roles(api, raw, phone, expected):
    token = token_for(api, raw, phone)
    assert sdk.error(lambda: api.apply_ott(sdk.ott_request(token))) == expected


def test_apply_ott_unknown_token_and_bad_resource(api, raw):
    assert sdk.error(lambda: api.apply_ott(sdk.ott_request("GtRLpA0TyqK3becMq4dCMnVf1N9KLHNixVfC1800"))) == (
        401, "4014902", "Invalid Customer Token")
    body = {"userResources": ["OTTasd!#$"], "additionalInfo": {"accessToken": token_for(api, raw),
                                                               "deviceId": "123456789033"}}
    assert snap(raw.post("apply_ott", body)) == (400, "4004901", "Invalid Field Format userResources")


# --- Widget Payment ------------------------------------------------------------------------------
def test_widget_payment_success(api):
    ref, reference_no = new_order(api)
    assert ref and reference_no


@pytest.mark.parametrize("amount, code, message", [
    ("435415.00", "4035415", "Transaction Not Permitted"),
    ("445408.00", "4045408", "Invalid Merchant"),
    ("505400.00", "5005400", "General Error"),
    ("505401.00", "5005401", "Internal Server Error"),
])
def test_widget_payment_magic_amounts(api, amount, code, message):
    request = sdk.payment_request(payment_body(amount))
    assert sdk.error(lambda: api.widget_payment(request)) == (int(code[:3]), code, message)


def test_widget_payment_limit_and_format_bypass_the_sdk(raw):
    # The SDK refuses > 10,000,000 in sandbox and four decimals client-side ([sdk-validation]).
    assert snap(raw.post("widget_payment", payment_body("21000000.00"))) == (
        403, "4035402", "Exceeds Transaction Amount Limit")
    assert snap(raw.post("widget_payment", payment_body("10000.0000")))[1] == "4005401"


def test_widget_payment_inconsistent(api):
    body = payment_body()
    api.widget_payment(sdk.payment_request(body))
    changed = {**body, "amount": {"value": "10000.00", "currency": "IDR"}}
    assert sdk.error(lambda: api.widget_payment(sdk.payment_request(changed))) == (
        404, "4045418", "Inconsistent Request")


# --- Query Payment --------------------------------------------------------------------------------
def query_status(api, ref: str) -> tuple[str, str, str]:
    answer = api.query_payment(sdk.query_request(MERCHANT_ID, ref))
    assert (answer.response_code, answer.response_message) == ("2005500", "Successful")
    return (answer.latest_transaction_status, answer.transaction_status_desc,
            answer.additional_info.status_detail.acquirement_status)


def test_query_payment_states(api, raw):
    ref, _ = new_order(api)
    assert query_status(api, ref) == ("01", "INIT", "INIT")
    paying, _ = new_order(api, "205502.00")
    assert query_status(api, paying) == ("02", "PAYING", "PAYING")
    paid, _ = paid_order(api, raw)
    assert query_status(api, paid) == ("00", "SUCCESS", "SUCCESS")
    api.cancel_order(sdk.cancel_request(MERCHANT_ID, ref))
    assert query_status(api, ref) == ("05", "CANCELLED", "CANCELLED")


def test_query_payment_both_paths_and_errors(api, raw):
    ref, _ = new_order(api)
    body = {"originalPartnerReferenceNo": ref, "serviceCode": "54", "merchantId": MERCHANT_ID}
    for path in ("/rest/v1.1/debit/status", "/v1.0/debit/status.htm"):
        assert snap(raw.post("query_payment", body, path=path))[1] == "2005500"
    assert sdk.error(lambda: api.query_payment(sdk.query_request(MERCHANT_ID, "test123"))) == (
        404, "4045501", "Transaction Not Found")
    assert sdk.error(lambda: api.query_payment(sdk.query_request(MERCHANT_ID, ref, "AZ"))) == (
        500, "5005501", "Internal Server Error")
    assert snap(raw.post("query_payment", body, X_TIMESTAMP=None))[1] == "4005502"
    assert snap(raw.post("query_payment", body, timestamp="invalid-timestamp-format")) == (
        400, "4005501", "Invalid Field Format X-TIMESTAMP")


# --- Cancel Order -----------------------------------------------------------------------------------
def test_cancel_order_success(api):
    ref, _ = new_order(api)
    answer = api.cancel_order(sdk.cancel_request(MERCHANT_ID, ref))
    assert (answer.response_code, answer.response_message) == ("2005700", "Successful")
    assert answer.original_partner_reference_no == ref


@pytest.mark.parametrize("ref, expected", [
    ("4035705", (403, "4035705", "Do Not Honor")),
    ("4045708", (404, "4045708", "Invalid Merchant")),
    ("4035700", (403, "4035700", "Transaction Expired")),
    ("4035715", (403, "4035715", "Transaction Not Permitted")),
    ("4035714", (403, "4035714", "Insufficient Funds")),
    ("4045701", (404, "4045701", "Transaction Not Found")),
    ("5005701", (500, "5005701", "Internal Server Error")),
])
def test_cancel_order_magic_references(api, ref, expected):
    assert sdk.error(lambda: api.cancel_order(sdk.cancel_request(MERCHANT_ID, ref))) == expected


def test_cancel_order_unknown_and_in_progress(api, raw):
    unknown = str(uuid.uuid4())
    assert api.cancel_order(sdk.cancel_request(MERCHANT_ID, unknown)).response_code == "2005700"
    assert sdk.error(lambda: api.cancel_order(sdk.cancel_request(MERCHANT_ID, unknown, unknown))) == (
        404, "4045701", "Transaction Not Found")
    body = {"originalPartnerReferenceNo": "2025700", "merchantId": MERCHANT_ID}
    assert api.cancel_order(sdk.cancel_request(MERCHANT_ID, "2025700")) is None    # SDK drops 202
    assert snap(raw.post("cancel_order", body)) == (202, "2025700", "Request In Progress")
    missing = {"merchantId": MERCHANT_ID, "amount": {"value": "22200.00", "currency": "IDR"}}
    assert snap(raw.post("cancel_order", missing)) == (
        400, "4005702", "Invalid Mandatory Field originalPartnerReferenceNo")


def test_cancel_window_and_refunded_order(api, raw):
    ref, _ = paid_order(api, raw)
    assert api.cancel_order(sdk.cancel_request(MERCHANT_ID, ref)).response_code == "2005700"
    late, _ = paid_order(api, raw)
    raw.admin("POST", "/clock", {"partnerId": raw.partner_id, "advanceSeconds": 24 * 3600 + 1})
    assert sdk.error(lambda: api.cancel_order(sdk.cancel_request(MERCHANT_ID, late)))[1] == "4035700"
    refunded, _ = paid_order(api, raw)
    api.refund_order(sdk.refund_request(MERCHANT_ID, refunded, refunded, "1.00"))
    assert sdk.error(lambda: api.cancel_order(sdk.cancel_request(MERCHANT_ID, refunded))) == (
        404, "4045700", "Invalid Transaction Status")


# --- Refund Order -----------------------------------------------------------------------------------
def test_refund_success_idempotent_and_duplicate(api, raw):
    ref, reference_no = paid_order(api, raw)
    answer = api.refund_order(sdk.refund_request(MERCHANT_ID, ref, ref, "1.00"))
    assert (answer.response_code, answer.response_message) == ("2005800", "Successful")
    assert answer.original_reference_no == reference_no and answer.refund_amount.value == "1.00"
    again = api.refund_order(sdk.refund_request(MERCHANT_ID, ref, ref, "1.00"))
    assert again.response_code == "2005800" and again.refund_no == answer.refund_no
    assert sdk.error(lambda: api.refund_order(sdk.refund_request(MERCHANT_ID, ref, ref, "2.00"))) == (
        404, "4045818", "Inconsistent Request")


def test_refund_state_errors(api):
    unpaid, _ = new_order(api, "22000.00")
    assert sdk.error(lambda: api.refund_order(sdk.refund_request(MERCHANT_ID, unpaid, unpaid, "22000.00"))) == (
        404, "4045800", "Invalid Transaction Status")
    ref = "123123123123123"
    assert sdk.error(lambda: api.refund_order(sdk.refund_request(MERCHANT_ID, ref, ref, "1.00"))) == (
        404, "4045812", "Invalid Bill")


@pytest.mark.parametrize("amount, expected", [
    ("505801.00", (500, "5005801", "Internal Server Error")),
    ("445808.00", (404, "4045808", "Invalid Merchant")),
    ("435814.00", (403, "4035814", "Insufficient Funds")),
    ("435815.00", (403, "4035815", "Transaction Not Permitted")),
    ("435816.00", (403, "4035815", "Transaction Not Permitted")),
    ("435817.00", (403, "4035815", "Transaction Not Permitted")),
])
def test_refund_magic_amounts(api, amount, expected):
    ref = str(uuid.uuid4())
    assert sdk.error(lambda: api.refund_order(sdk.refund_request(MERCHANT_ID, ref, ref, amount))) == expected


def test_refund_raw_only_cases(raw):
    ref = str(uuid.uuid4())
    body = {"merchantId": MERCHANT_ID, "originalPartnerReferenceNo": ref, "partnerRefundNo": ref,
            "refundAmount": {"value": "225800.00", "currency": "IDR"}, "additionalInfo": {"envInfo": {}}}
    assert snap(raw.post("refund_order", body)) == (202, "2025800", "Request In Progress")
    body["refundAmount"]["value"] = "21000000.00"
    assert snap(raw.post("refund_order", body))[1] == "4035802"
    body["refundAmount"]["value"] = "10000"
    assert snap(raw.post("refund_order", body)) == (400, "4005801", "Invalid Field Format refundAmount")
    assert snap(raw.post("refund_order", body, X_TIMESTAMP=None)) == (
        400, "4005802", "Invalid Mandatory Field X-TIMESTAMP")


# --- Balance Inquiry, Account Unbinding -------------------------------------------------------------
def test_balance_inquiry(api, raw):
    answer = api.balance_inquiry(sdk.balance_request(token_for(api, raw)))
    assert (answer.response_code, answer.response_message) == ("2001100", "Successful")
    assert answer.account_infos[0].balance_type == "BALANCE"
    assert answer.account_infos[0].available_balance.currency == "IDR"


@pytest.mark.parametrize("phone, code", [
    ("0855100800", "4031105"), ("0815919191", "4011102"), ("0812000031118", "4031118")])
def test_balance_inquiry_user_roles(api, raw, phone, code):
    token = token_for(api, raw, phone)
    assert sdk.error(lambda: api.balance_inquiry(sdk.balance_request(token)))[1] == code


def test_account_unbinding_revokes_tokens(api, raw):
    token = token_for(api, raw)
    answer = api.account_unbinding(sdk.unbinding_request(MERCHANT_ID, token))
    assert (answer.response_code, answer.response_message) == ("2000900", "Successful")
    assert sdk.error(lambda: api.apply_ott(sdk.ott_request(token)))[1] == "4014902"
    assert sdk.error(lambda: api.account_unbinding(sdk.unbinding_request(MERCHANT_ID, token)))[1] == "4010902"


# --- Transaction History List (no SDK method: raw) ----------------------------------------------------
def test_transaction_history_list(api, raw):
    token = token_for(api, raw, "0811742234")
    body = {"partnerReferenceNo": str(uuid.uuid4()), "fromDateTime": "2020-12-21T17:55:11Z",
            "toDateTime": "2099-01-21T17:55:11Z", "pageSize": "10", "pageNumber": "1",
            "additionalInfo": {"accessToken": token, "types": ["PAYMENT", "REFUND"],
                               "statuses": ["SUCCESS", "CLOSED", "INIT"]}}
    assert snap(raw.post("transaction_history_list", body)) == (404, "4041201", "Transaction Not Found")
    ref, _ = new_order(api)
    raw.admin("POST", f"/orders/{ref}/pay", {"phone": "0811742234"})
    api.refund_order(sdk.refund_request(MERCHANT_ID, ref, f"r-{ref}", "0.50"))
    response = raw.post("transaction_history_list", body)
    assert snap(response) == (200, "2001200", "Successful")
    rows = response.json()["detailData"]
    assert sorted(r["type"] for r in rows) == ["PAYMENT", "REFUND"]
    bad = {**body, "additionalInfo": {**body["additionalInfo"], "accessToken": "unknown"}}
    assert snap(raw.post("transaction_history_list", bad)) == (401, "4011202", "Invalid Customer Token")
