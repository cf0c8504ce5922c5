"""The API table and the response-code table."""

import pytest

from conformance.snap import APIS, api_by_path, get_api, lookup_code, response_code
from conformance.snap.codes import http_status_of


def test_api_table_matches_reference_section_4():
    expected = {
        "apply_token": ("/v1.0/access-token/b2b2c.htm", "74", "2007400"),
        "apply_ott": ("/rest/v1.1/qr/apply-ott", "49", "2004900"),
        "widget_payment": ("/rest/redirection/v1.0/debit/payment-host-to-host", "54", "2005400"),
        "query_payment": ("/rest/v1.1/debit/status", "55", "2005500"),
        "cancel_order": ("/v1.0/debit/cancel.htm", "57", "2005700"),
        "refund_order": ("/v1.0/debit/refund.htm", "58", "2005800"),
        "balance_inquiry": ("/v1.0/balance-inquiry.htm", "11", "2001100"),
        "account_unbinding": ("/v1.0/registration-account-unbinding.htm", "09", "2000900"),
    }
    for name, (path, service, success) in expected.items():
        api = get_api(name)
        assert (api.path, api.service, api.success_code, api.method) == (path, service, success, "POST")
        assert api_by_path(path) is api


def test_query_payment_is_served_on_both_paths():
    assert api_by_path("/v1.0/debit/status.htm") is APIS["query_payment"]


def test_unknown_api_names_the_known_ones():
    with pytest.raises(KeyError, match="widget_payment"):
        get_api("widget_paymnet")


@pytest.mark.parametrize("args, code, message", [
    (("54", 401, "00"), "4015400", "Unauthorized. Invalid Signature"),
    (("54", 400, "02"), "4005402", "Invalid Mandatory Field X-TIMESTAMP"),
    (("54", 400, "01"), "4005401", "Invalid Field Format amount"),
    (("54", 404, "18"), "4045418", "Inconsistent Request"),
    (("49", 401, "01"), "4014901", "Token Expired"),
    (("57", 202, "00"), "2025700", "Request In Progress"),
    (("58", 404, "12"), "4045812", "Invalid Bill"),
])
def test_response_codes(args, code, message):
    field = "amount" if code == "4005401" else "X-TIMESTAMP"
    rc = response_code(*args, field=field, reason="Invalid Signature")
    assert (rc.code, rc.message, rc.http_status) == (code, message, int(code[:3]))
    assert rc.body() == {"responseCode": code, "responseMessage": message}


def test_lookup_explains_received_codes_with_hints():
    assert "private key" in lookup_code("4015400").hint
    assert lookup_code("4045418").message == "Inconsistent Request"
    assert lookup_code("abc") is None and lookup_code("4009999") is None
    assert http_status_of("5005401") == 500 and http_status_of("x") is None


def test_unknown_case_is_an_error_not_a_guess():
    with pytest.raises(KeyError):
        response_code("54", 418, "77")
