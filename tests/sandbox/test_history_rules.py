"""Transaction History List and Account Unbinding rules (conformance/sandbox/handlers/accounts.py), one
focused test each, over real loopback HTTP with the official SDK where it has the call.

A partner of its own, new each time the module's fixtures are set up (a run of chosen tests may set them up
more than once in a session): no other payment on the shared sandbox lands in this user's history.
"""

from __future__ import annotations

import secrets
import uuid

import pytest

from conformance.snap import generate_private_key, public_key_pem
from tests.sandbox import sdk
from tests.sandbox.conftest import Raw, payment_body, snap

PHONE = "083811223355"
WINDOW = {"fromDateTime": "2020-12-21T17:55:11Z", "toDateTime": "2099-01-21T17:55:11Z"}


@pytest.fixture(scope="module")
def own(sandbox_server):
    key, digits = generate_private_key(), f"{secrets.randbelow(10**12):012d}"
    partner_id, merchant_id = "2025112100" + digits, "216620000" + digits
    sandbox_server.register_merchant(partner_id, merchant_id, public_key_pem(key))
    raw = Raw(sandbox_server.base_url, key, partner_id, merchant_id)
    return raw, sdk.widget_api(sandbox_server.base_url, key, partner_id)


def token(own) -> str:
    raw, api = own
    code = raw.admin("POST", "/auth-codes", {"partnerId": raw.partner_id, "phone": PHONE}).json()["authCode"]
    return api.apply_token(sdk.auth_code_request(code)).access_token


@pytest.fixture(scope="module")
def history(own):
    """Three paid orders (titles o1..o3, paid in that order) and one refund of o1, then a token to read them."""
    raw, api = own
    refs = []
    for n in (1, 2, 3):
        body = payment_body(f"{n}.00") | {"merchantId": raw.merchant_id}
        body["additionalInfo"]["order"]["orderTitle"] = f"o{n}"
        api.widget_payment(sdk.payment_request(body))
        assert raw.admin("POST", f"/orders/{body['partnerReferenceNo']}/pay", {"phone": PHONE}).status_code == 200
        refs.append(body["partnerReferenceNo"])
    refund_no = f"refund-o1-{uuid.uuid4()}"
    api.refund_order(sdk.refund_request(raw.merchant_id, refs[0], refund_no, "0.50"))
    return refs, token(own), refund_no


def ask(raw: Raw, access_token: str, **fields):
    body = {"partnerReferenceNo": str(uuid.uuid4()), **WINDOW, "pageSize": "10", "pageNumber": "1",
            "additionalInfo": {"accessToken": access_token}} | fields
    return raw.post("transaction_history_list", body)


@pytest.mark.parametrize("fields, field", [
    ({"fromDateTime": "yesterday"}, "fromDateTime"),
    ({"toDateTime": "tomorrow"}, "toDateTime"),
    ({"fromDateTime": "2030-01-01T00:00:00+07:00", "toDateTime": "2029-01-01T00:00:00+07:00"}, "toDateTime"),
    ({"pageSize": "0"}, "pageSize"),
    ({"pageSize": "101"}, "pageSize"),
    ({"pageNumber": "-1"}, "pageNumber"),
    ({"pageNumber": "0"}, "pageNumber"),                  # digits, so past the schema, to the handler's own rule
], ids=["from", "to", "to-before-from", "size-0", "size-101", "page-negative", "page-0"])
def test_rule_history_refuses_a_bad_window_or_page_as_invalid_field_format(own, history, fields, field):
    status, code, message = snap(ask(own[0], history[1], **fields))
    assert (status, code) == (400, "4001201") and message.endswith(field), \
        f"rule: Transaction History List answers Invalid Field Format naming {field}: {code} {message}"


def test_rule_history_lists_newest_first_and_pages_by_size_and_number(own, history):
    raw, access_token = own[0], history[1]
    first = ask(raw, access_token, pageSize="2", pageNumber="1").json()
    second = ask(raw, access_token, pageSize="2", pageNumber="2").json()
    assert [r["remark"] for r in first["detailData"]] == ["Refund o1", "o3"], "rule: newest first, pageSize rows"
    assert [r["remark"] for r in second["detailData"]] == ["o2", "o1"], "rule: page 2 follows page 1 exactly"
    assert first["additionalInfo"] == {"totalData": "4", "pageNumber": "1", "pageSize": "2"}, \
        "rule: the answer says how many rows match and which page of what size this is"
    status, code, _ = snap(ask(raw, access_token, pageSize="2", pageNumber="3"))
    assert (status, code) == (404, "4041201"), "rule: a page past the end is Transaction Not Found"


def test_rule_history_filters_by_type_and_by_status_together(own, history):
    raw, access_token = own[0], history[1]
    refunds = ask(raw, access_token, additionalInfo={"accessToken": access_token, "types": ["REFUND"]}).json()
    [row] = refunds["detailData"]
    assert (row["type"], row["remark"]) == ("REFUND", "Refund o1"), "rule: types keeps only those types"
    assert row["additionalInfo"]["partnerRefundNo"] == history[2] and row["additionalInfo"]["refundNo"], \
        "rule: a refund row names the refund and its order"
    assert row["additionalInfo"]["partnerReferenceNo"] == history[0][0]
    both = {"accessToken": access_token, "types": ["PAYMENT"], "statuses": ["INIT"]}          # all paid: no INIT payment
    status, code, _ = snap(ask(raw, access_token, additionalInfo=both))
    assert (status, code) == (404, "4041201"), "rule: a row must match the types AND the statuses"


def test_rule_unbinding_answers_with_a_new_reference_and_the_partners_own(own):
    raw, api = own
    request = sdk.unbinding_request(raw.merchant_id, token(own))
    answer = api.account_unbinding(request)
    assert answer.reference_no and answer.reference_no.isdigit(), "rule: DANA's reference of the unbinding"
    assert answer.partner_reference_no == request.partner_reference_no, "rule: the partner's reference is echoed"


def test_rule_unbinding_for_another_merchant_id_is_invalid_merchant(own):
    raw, _ = own
    body = {"merchantId": "216620000000000009999", "partnerReferenceNo": str(uuid.uuid4()),
            "additionalInfo": {"accessToken": token(own), "deviceId": "deviceid123"}}
    status, code, _ = snap(raw.post("account_unbinding", body))
    assert (status, code) == (404, "4040908"), "rule: unbinding another merchant's id is Invalid Merchant"


def balance(raw: Raw, info: dict, **headers):
    body = {"partnerReferenceNo": str(uuid.uuid4()), "balanceTypes": ["BALANCE"], "additionalInfo": info}
    return raw.post("balance_inquiry", body, **headers)


def test_rule_the_customer_token_in_additionalInfo_decides_over_the_header(own):
    raw, _ = own
    info = {"accessToken": token(own), "deviceId": "deviceid123"}
    response = balance(raw, info, Authorization_Customer="Bearer not-the-token-0123456789")
    assert snap(response)[:2] == (200, "2001100"), "rule: additionalInfo.accessToken is the customer token"
    answer = response.json()
    assert answer["referenceNo"] and answer["partnerReferenceNo"] and answer["name"], \
        "rule: a balance answer names DANA's reference, the partner's, and the account holder"
    assert answer["accountInfos"][0]["availableBalance"]["currency"] == "IDR"

