"""The Finish Notify rules a merchant's receiver is graded on (conformance/client/webhook.py), one focused test each.

Every test signs a real notification with a DANA-side key (conformance.snap.notify, as the sandbox does) and
asserts which rule's finding appears (its check name and severity), not the finding's wording.
"""

from __future__ import annotations

import json
from datetime import datetime
from types import SimpleNamespace

import pytest

from conformance.client.webhook import grade_notification, verify_notification
from conformance.snap import generate_private_key
from conformance.snap.notify import REQUIRED_BODY_FIELDS, encode_body, finish_notify_body, sign_notification
from conformance.snap.timestamps import JAKARTA

PATH = "/v1.0/debit/notify"
DANA_KEY = generate_private_key()
PUBLIC = DANA_KEY.public_key()
MOMENT = datetime(2026, 1, 2, 10, 0, 0, tzinfo=JAKARTA)


def order(**over):
    fields = dict(partner_reference_no="p-1", reference_no="2026010200001", merchant_id="216620000000000000001",
                  currency="IDR", amount_value="10000.00", created_at=MOMENT, paid_at=MOMENT, request={},
                  external_id="ext-1")
    return SimpleNamespace(**{**fields, **over})


def delivery(body: dict | None = None, *, raw: bytes | None = None, **headers) -> tuple[dict, bytes]:
    data = raw if raw is not None else encode_body(body or finish_notify_body(order(), "00", finished_at=MOMENT))
    signed = sign_notification(DANA_KEY, PATH, data, partner_id="2025112100000000000001")
    for name, value in headers.items():
        name = name.replace("_", "-")
        signed = {k: v for k, v in signed.items() if k.lower() != name.lower()}
        if value is not None:
            signed[name] = value
    return signed, data


def grade(body=None, **kw):
    headers, data = delivery(body, **kw)
    return grade_notification(PUBLIC, PATH, headers, data)


def failed_checks(findings) -> set[str]:
    return {f.check for f in findings if f.failed}


def test_rule_a_complete_signed_notification_has_no_finding():
    assert grade() == [], "rule: a complete, signed Finish Notify grades clean"


@pytest.mark.parametrize("field", REQUIRED_BODY_FIELDS)
@pytest.mark.parametrize("empty", [None, "", "absent"])
def test_rule_a_mandatory_field_empty_null_or_absent_fails(field, empty):
    body = finish_notify_body(order(), "00", finished_at=MOMENT)
    if empty == "absent":
        body.pop(field)
    else:
        body[field] = empty
    assert field in failed_checks(grade(body)), f"rule: mandatory field {field} {empty!r} is a FAIL"


def test_rule_a_notification_not_signed_by_dana_fails():
    headers, data = delivery()
    other = generate_private_key().public_key()
    assert "signature" in failed_checks(grade_notification(other, PATH, headers, data)), \
        "rule: a signature that does not verify with DANA's key is a FAIL"


def test_rule_the_signature_covers_the_notify_path():
    headers, data = delivery()
    assert "signature" in failed_checks(grade_notification(PUBLIC, "/other/notify", headers, data))
    assert verify_notification(PUBLIC, "POST", PATH.lstrip("/"), headers, data).valid, \
        "rule: a path without its leading slash is the same path"


def test_rule_the_signature_covers_the_body():
    headers, data = delivery()
    edited = data.replace(b"10000.00", b"10001.00")
    assert not verify_notification(PUBLIC, "POST", PATH, headers, edited).valid
    assert "signature" in failed_checks(grade_notification(PUBLIC, PATH, headers, edited))


@pytest.mark.parametrize("header", ["X-TIMESTAMP", "X-SIGNATURE"])
def test_rule_a_missing_signing_header_makes_the_signature_invalid(header):
    headers, data = delivery(**{header: None})
    verdict = verify_notification(PUBLIC, "POST", PATH, headers, data)
    assert not verdict.valid and verdict.form is None, f"rule: without {header} nothing verifies"
    assert header in verdict.reason


def test_rule_header_names_are_matched_case_insensitively():
    headers, data = delivery()
    lower = {k.lower(): v for k, v in headers.items()}
    upper = {k.upper(): v for k, v in headers.items()}
    assert grade_notification(PUBLIC, PATH, lower, data) == grade_notification(PUBLIC, PATH, upper, data) == []


def test_rule_a_body_re_escaped_on_the_way_verifies_only_after_a_repair_and_warns():
    body = {**finish_notify_body(order(), "00", finished_at=MOMENT), "note": "Café"}
    headers, data = delivery(body)
    pretty = json.dumps(json.loads(data)).encode()       # a proxy re-serialised it: "Caf\u00e9"
    verdict = verify_notification(PUBLIC, "POST", PATH, headers, pretty)
    assert verdict.valid and verdict.form == "repaired:reserialised"
    findings = grade_notification(PUBLIC, PATH, headers, pretty)
    assert [(f.severity, f.check) for f in findings] == [("WARN", "signature")], \
        "rule: a repaired body is a WARN, not a FAIL"


def test_rule_the_raw_body_is_tried_first():
    headers, data = delivery()
    assert verify_notification(PUBLIC, "POST", PATH, headers, data).form == "raw"


@pytest.mark.parametrize("header", ["X-PARTNER-ID", "X-EXTERNAL-ID"])
def test_rule_partner_and_external_id_headers_are_mandatory(header):
    assert failed_checks(grade(**{header: None})) == {header}, f"rule: a notification without {header} FAILs"
    assert failed_checks(grade(**{header: ""})) == {header}


def test_rule_a_missing_channel_id_only_warns():
    findings = grade(CHANNEL_ID=None)
    assert [(f.severity, f.check) for f in findings] == [("WARN", "CHANNEL-ID")]


def test_rule_a_malformed_x_timestamp_fails():
    headers, data = delivery()
    stamp = "2026-01-02 10:00:00"
    signed = sign_notification(DANA_KEY, PATH, data, timestamp=stamp, partner_id="p")
    assert failed_checks(grade_notification(PUBLIC, PATH, signed, data)) == {"X-TIMESTAMP"}


@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_rule_the_content_type_must_be_json(content_type):
    assert failed_checks(grade(Content_Type=content_type)) == {"Content-Type"}


def test_rule_a_json_content_type_with_a_charset_is_accepted():
    assert grade(Content_Type="Application/JSON; charset=UTF-8") == []


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]"])
def test_rule_a_body_that_is_not_a_json_object_fails(raw):
    findings = grade(raw=raw)
    assert failed_checks(findings) == {"body"}, "rule: the body must be a JSON object"


@pytest.mark.parametrize("field", ["createdTime", "finishedTime"])
def test_rule_times_must_be_iso_with_offset_or_epoch_milliseconds(field):
    body = finish_notify_body(order(), "00", finished_at=MOMENT)
    for good in ("2026-01-02T10:00:00+07:00", "1767322800000"):
        assert grade({**body, field: good}) == [], f"rule: {good} is a form DANA sends"
    assert failed_checks(grade({**body, field: "02/01/2026 10:00"})) == {field}


@pytest.mark.parametrize("repair, signed, received", [
    ("collapse-escaped-quotes", r'{"note":"say \"hi\""}', r'{"note":"say \\\"hi\\\""}'),
    ("colon-space-quote", r'{"inner":"{\"k\":\"v\"}"}', r'{"inner":"{\"k\": \"v\"}"}'),
    ("unescape-quotes", r'{"a":"b"}', r'{\\"a\\":\\"b\\"}'),
    ("key-spaces", r'{"merchantId":"m"}', r'{"merchant Id" :"m"}'),
    ("reserialised", '{"note":"Café"}', r'{"note": "Caf\u00e9"}'),
])
def test_rule_each_sdk_repair_is_tried_and_named_when_only_it_verifies(repair, signed, received):
    headers = sign_notification(DANA_KEY, PATH, signed.encode(), partner_id="p")
    assert not verify_notification(PUBLIC, "POST", PATH, headers, received.encode()).form == "raw"
    verdict = verify_notification(PUBLIC, "POST", PATH, headers, received.encode())
    assert verdict.valid and verdict.form == f"repaired:{repair}", \
        f"rule: a body re-escaped on the way verifies after the SDK's repair '{repair}', and says which"
    assert repair in verdict.reason


def test_rule_a_repair_does_not_rescue_a_forged_body():
    headers = sign_notification(DANA_KEY, PATH, b'{"a":"b"}', partner_id="p")
    verdict = verify_notification(PUBLIC, "POST", PATH, headers, rb'{\"a\":\"c\"}')
    assert not verdict.valid and verdict.form is None and PATH in verdict.reason


def test_rule_grading_reports_each_problem_once_with_its_severity():
    headers, data = delivery(X_PARTNER_ID=None, CHANNEL_ID=None, Content_Type="text/plain")
    findings = grade_notification(PUBLIC, PATH, headers, data)
    assert sorted((f.severity, f.check) for f in findings) == [
        ("FAIL", "Content-Type"), ("FAIL", "X-PARTNER-ID"), ("WARN", "CHANNEL-ID")]
    assert all(f.where.startswith("Finish Notify") for f in findings), "rule: a finding says it is about the notify"
    assert {f.received for f in findings} == {None, "text/plain"}


def test_rule_every_finding_says_what_was_expected_what_came_and_where():
    other = generate_private_key().public_key()
    headers, data = delivery(X_PARTNER_ID=None, X_EXTERNAL_ID=None, CHANNEL_ID=None, Content_Type="text/plain")
    body = finish_notify_body(order(), "00", finished_at=MOMENT)
    signed = {**body, "note": "Café"}
    resigned = sign_notification(DANA_KEY, PATH, encode_body(signed), partner_id="p")
    repaired = grade_notification(PUBLIC, PATH, resigned, json.dumps(signed).encode())
    stamped = sign_notification(DANA_KEY, PATH, data, timestamp="2026-01-02 10:00:00", partner_id="p")
    cases = [grade_notification(other, PATH, headers, data), grade(raw=b"not json"), grade(raw=b"[1]"),
             grade({**body, "merchantId": "", "createdTime": "yesterday"}), repaired,
             grade_notification(PUBLIC, PATH, stamped, data)]
    findings = [f for case in cases for f in case]
    assert len(findings) == 11
    assert [f.received for f in cases[2]] == ["list"], "rule: a body of another JSON type is named by its type"
    for f in findings:
        if f.check in ("signature", "createdTime"):
            assert f.hint, f"rule: a {f.check} finding says what DANA sends"
        if f.check in ("merchantId", "createdTime"):
            assert "body" in f.where, "rule: a body field's finding says it is in the body"
    for f in findings:
        assert isinstance(f.expected, str) and f.expected, f"rule: {f.check} says what was expected"
        assert f.where.startswith("Finish Notify"), f"rule: {f.check} says it is about the Finish Notify"
    for f in findings:
        if f.check in ("signature", "body", "createdTime", "Content-Type", "X-TIMESTAMP"):
            assert isinstance(f.received, str) and f.received, f"rule: {f.check} says what was received"


def test_rule_a_verdict_is_a_plain_yes_or_no_with_its_reason():
    headers, data = delivery()
    good = verify_notification(PUBLIC, "POST", PATH, headers, data)
    assert good.valid is True and good.reason, "rule: a valid notify says why"
    for h, body in ((delivery(X_TIMESTAMP=None)[0], data), (delivery(X_SIGNATURE=None)[0], data), (headers, b"{}")):
        bad = verify_notification(PUBLIC, "POST", PATH, h, body)
        assert bad.valid is False and bad.form is None and bad.reason


def test_rule_a_body_that_is_not_utf8_gets_a_verdict_not_an_exception():
    headers, _ = delivery()
    verdict = verify_notification(PUBLIC, "POST", PATH, headers, b'{"a":"\xff\xfe"}')
    assert verdict.valid is False, "rule: undecodable bytes are judged, never a traceback"
    assert {"signature", "body"} <= failed_checks(grade_notification(PUBLIC, PATH, headers, b"\xff\xfe\xfa"))


@pytest.mark.parametrize("field", ["createdTime", "finishedTime"])
def test_rule_an_empty_time_is_one_finding_the_mandatory_one(field):
    body = {**finish_notify_body(order(), "00", finished_at=MOMENT), field: ""}
    assert [f.check for f in grade(body)] == [field], "rule: an empty time is reported once, as missing"
