"""B2B2C APIs require Authorization-Customer and X-DEVICE-ID ([sdk-header]), before the signature."""

import pytest

from tests.sandbox.conftest import snap
from tests.sandbox.test_sdk import PARTNER_ID


@pytest.fixture()
def token(raw):
    code = raw.admin("POST", "/auth-codes", {"partnerId": PARTNER_ID, "phone": "083811223355"}).json()["authCode"]
    answer = raw.post("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": code, "additionalInfo": {}})
    return answer.json()["accessToken"]


@pytest.mark.parametrize("api, code_prefix", [("apply_ott", "40049"), ("balance_inquiry", "40011"),
                                              ("account_unbinding", "40009"), ("transaction_history_list", "40012")])
@pytest.mark.parametrize("header", ["Authorization-Customer", "X-DEVICE-ID"])
def test_missing_customer_headers_are_mandatory_fields(raw, token, api, code_prefix, header):
    body = {"userResources": ["OTT"], "balanceTypes": ["BALANCE"], "merchantId": "x",
            "additionalInfo": {"accessToken": token, "deviceId": "deviceid123"}}
    response = raw.post(api, body, **{header: None})
    assert snap(response) == (400, code_prefix + "02", f"Invalid Mandatory Field {header}")
    # the same request with both headers gets past the header stage (the body may still be incomplete)
    assert snap(raw.post(api, body))[2] != f"Invalid Mandatory Field {header}"
