"""The API table and the response-code table."""

import pytest

from conformance.snap import APIS, api_by_path, get_api, lookup_code, response_code
from conformance.snap.codes import http_status_of
from conformance.snap.apis import SHARED_SERVICES


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


# -- the tables agree: every API has each of its parts --------------------------------------------

def _catalogue_apis() -> set[str]:
    """APIs the catalogue exercises: call steps by API name, notify steps as finish_notify."""
    from pathlib import Path

    from conformance.scenarios import kinds
    from conformance.scenarios.loader import find_files, load_file

    used = set()
    for path in find_files(Path(__file__).parent.parent / "scenarios"):
        loaded = load_file(path)
        for sc in loaded.scenarios if loaded else []:
            for step in sc.scenario.steps:
                kind = kinds.kind_of(step)
                used |= {step.call} if kind == "call" else ({"finish_notify"} if kind == "notify" else set())
    return used


def missing_parts(apis: dict) -> dict[str, list[str]]:
    """For each API of ``apis``, the parts it lacks elsewhere in the house (empty when all agree).

    finish_notify goes DANA -> merchant: its request model is snap.notify's body, the sandbox sends it
    (notifier) instead of handling it."""
    from conformance.sandbox.handlers import HANDLERS
    from conformance.snap.notify import REQUIRED_BODY_FIELDS
    from conformance.snap.schemas import RESPONSE_FIELDS, SCHEMAS

    used, services = _catalogue_apis(), [a.service for a in apis.values()]
    out = {}
    for name, api in apis.items():
        dana_sends = api.family == "notify"
        parts = {
            "request schema": bool(REQUIRED_BODY_FIELDS) if dana_sends else name in SCHEMAS,
            "response model": name in RESPONSE_FIELDS,
            "sandbox handler": dana_sends or name in HANDLERS,
            "code family": (services.count(api.service) == 1 or name in SHARED_SERVICES.get(api.service, ()))
            and lookup_code(api.success_code) is not None,
            "scenario": name in used,
        }
        if not all(parts.values()):
            out[name] = [part for part, ok in parts.items() if not ok]
    return out


def test_every_api_has_schema_response_model_handler_code_family_and_a_scenario():
    assert missing_parts(APIS) == {}


def test_an_api_added_to_the_api_table_alone_is_reported():
    from conformance.snap.apis import API

    added = API("payment_status_v3", "Hypothetical", "POST", "/v3/status", "99", "b2b")
    assert missing_parts({**APIS, added.name: added}) == {
        "payment_status_v3": ["request schema", "response model", "sandbox handler", "scenario"]}
    reused = API("payment_status_v4", "Hypothetical", "POST", "/v4/status", "54", "b2b")
    assert "code family" in missing_parts({**APIS, reused.name: reused})["payment_status_v4"]


# -- the schema builders (conformance/snap/schemas.py): every API's request schema is made of these -------

def test_rule_schema_builders_make_the_field_their_name_says_with_every_option_kept():
    from conformance.snap.schemas import AMOUNT_PATTERN, A, B, Field, O, S, money
    assert S(64, req=True, pattern="^x$", enum=("a",), allow_empty=True, label="lbl", numeric=True) == Field(
        "string", True, 64, "^x$", ("a",), True, label="lbl", numeric=True)
    assert S() == Field("string", False)
    member = {"x": S()}
    assert O(member, req=True) == Field("object", True, fields=member) and O() == Field("object", False)
    assert A(S(), req=True, label="items") == Field("array", True, items=Field("string"), label="items")
    assert A(S()) == Field("array", False, items=Field("string"))
    assert B(req=True) == Field("boolean", True) and B() == Field("boolean", False)
    amount = money("refundAmount", req=True)
    assert amount == Field("object", True, fields={
        "value": Field("string", True, 19, AMOUNT_PATTERN, label="refundAmount"),
        "currency": Field("string", True, 3, label="refundAmount")}), \
        "rule: a Money field's errors name the Money field itself"
    assert money("amount").required is False


def test_rule_dana_hostnames_are_the_hosts_of_its_urls_without_scheme():
    from conformance.snap.hosts import DANA_HOSTS, hostnames
    for env, urls in DANA_HOSTS.items():
        names = hostnames(env)
        assert len(names) == len(urls) and all("://" not in n and n in u for n, u in zip(names, urls)), \
            f"rule: {env}'s hostnames are its URLs' hosts"
        assert all(u == f"https://{n}" for n, u in zip(names, urls))


def test_rule_an_explained_response_code_names_its_service_and_case_and_leaves_no_placeholder():
    from conformance.snap.codes import CASES, SPECIFIC, lookup_code
    found = lookup_code("4015401")
    assert (found.http_status, found.service, found.case) == (401, "54", "01"), \
        "rule: a responseCode reads as HTTP status, service, case"
    codes = list(SPECIFIC) + [f"{status}54{case}" for status, case in CASES]
    for code in codes:
        explained = lookup_code(code)
        assert explained is not None and "{" not in explained.message, \
            f"rule: {code} is explained in words, without a template placeholder: {explained and explained.message}"
    assert lookup_code("") is None and lookup_code("12345") is None
