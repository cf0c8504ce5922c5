import pytest

from conformance.scenarios import checks


def test_status_and_code_fail_with_expected_received_and_hint():
    body = {"responseCode": "4015400", "responseMessage": "Unauthorized. Invalid Signature"}
    (f,) = checks.status(200, 401, body)
    assert f.failed and f.expected == 200 and f.received == 401
    (g,) = checks.response_code("2005400", body)
    assert g.message().startswith("responseCode: expected '2005400', received '4015400'")
    assert "Sign METHOD:path" in g.hint
    assert checks.status(200, 200, body) == [] and checks.response_code("4015400", body) == []


def test_response_code_absent_in_a_non_snap_body():
    (f,) = checks.response_code("2005400", "<html>")
    assert f.received == "(absent)" and "not a SNAP body" in f.hint


def test_message_exact_warn_on_case_and_fail_otherwise():
    assert checks.response_message("Successful", {"responseMessage": "Successful"}) == []
    (w,) = checks.response_message("Successful", {"responseMessage": "successful "})
    assert w.severity == "WARN"
    (f,) = checks.response_message("Successful", {"responseMessage": "Bad Request"})
    assert f.failed
    assert checks.response_message({"$regex": "^Unauthorized"}, {"responseMessage": "Unauthorized. X"}) == []
    # IPG.json answers the bare head where SNAP names the field: both pass a $prefix, another case does not.
    for text in ("Invalid Field Format", "Invalid Field Format X-TIMESTAMP"):
        assert checks.response_message({"$prefix": "Invalid Field Format"}, {"responseMessage": text}) == []
    (f,) = checks.response_message({"$prefix": "Invalid Field Format"}, {"responseMessage": "Bad Request"})
    assert f.failed and f.expected == "starting with 'Invalid Field Format'"


@pytest.mark.parametrize("expected, received, ok", [
    ({"a": "x"}, {"a": "x", "b": 1}, True),
    ({"a": "x"}, {"a": "y"}, False),
    ({"a": {"$any": True}}, {"a": None}, True),
    ({"a": {"$any": True}}, {}, False),
    ({"a": {"$absent": True}}, {}, True),
    ({"a": {"$absent": True}}, {"a": 1}, False),
    ({"a": {"$regex": "^https?://"}}, {"a": "http://h/p"}, True),
    ({"a": {"$regex": "^https?://"}}, {"a": 5}, False),
    ({"a": {"$type": "timestamp"}}, {"a": "2026-01-01T10:00:00+07:00"}, True),
    ({"a": {"$type": "timestamp"}}, {"a": "2026-01-01 10:00:00+07:00"}, False),
    ({"a": {"$type": "integer"}}, {"a": True}, False),
    ({"a": {"$exact": {"v": 1}}}, {"a": {"v": 1, "w": 2}}, False),
    ({"a": {"$ci": "INIT"}}, {"a": "init"}, True),
    ({"a": {"$prefix": "Invalid Field Format"}}, {"a": "Invalid Field Format"}, True),
    ({"a": {"$prefix": "Invalid Field Format"}}, {"a": "Invalid Field Format X-TIMESTAMP"}, True),
    ({"a": {"$prefix": "Invalid Field Format"}}, {"a": "Invalid Mandatory Field X-TIMESTAMP"}, False),
    ({"a": {"$prefix": "Invalid"}}, {"a": 4007401}, False),
    ({"a": {"$type": "notify_time"}}, {"a": "1757998714761"}, True),
    ({"a": {"$type": "notify_time"}}, {"a": "2026-01-01T10:00:00+07:00"}, True),
    ({"a": {"$type": "notify_time"}}, {"a": "17579987147"}, False),
    ({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2, "c": 3}]}, True),
    ({"a": [1]}, {"a": [1, 2]}, False),
    ({"a": {"b": {"c": "1.00"}}}, {"a": {"b": {"c": 1.0}}}, False),
    ({"a": 1}, {"a": 1.0}, True),
])
def test_body_matchers(expected, received, ok):
    assert (checks.body(expected, received) == []) is ok


def test_body_finding_names_the_field():
    (f,) = checks.body({"partnerReferenceNo": "r1", "amount": {"value": "1.00"}},
                       {"partnerReferenceNo": "r1", "amount": {"value": "2.00"}}, where="step 1")
    assert f.where == "step 1: body.amount.value" and (f.expected, f.received) == ("1.00", "2.00")


def test_headers_case_insensitive():
    assert checks.headers({"content-type": {"$regex": "json"}}, {"Content-Type": "application/json"}) == []
    (f,) = checks.headers({"X-TIMESTAMP": {"$type": "timestamp"}}, {})
    assert f.received == "(absent)"


def test_extra_fields_warn_only():
    found = checks.extra_fields("widget_payment", {"responseCode": "2005400", "responseMessage": "x",
                                                   "webRedirectUrl": "u", "webRedirectURL": "u"})
    assert [(f.severity, f.received) for f in found] == [("WARN", "webRedirectURL")]


def test_status_code_consistency():
    assert checks.status_matches_code(401, {"responseCode": "4015400"}) == []
    (w,) = checks.status_matches_code(200, {"responseCode": "4015400"})
    assert w.severity == "WARN" and w.expected == "HTTP 401 for 4015400"
