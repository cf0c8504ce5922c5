"""Known-answer tests for minification, strings to sign, signing and verification."""

import json

import pytest

from conformance.snap import (apply_token_string_to_sign, body_sha256_hex, generate_private_key,
                              minify, sign, string_to_sign, verify)
from conformance.snap.signature import decode_signature
from conformance.snap.timestamps import format_timestamp, is_timestamp, parse_timestamp

CANCEL_BODY = '{"originalPartnerReferenceNo":"2020102900000000000001","merchantId":"216620000000000000001"}'


def test_known_answer_body_hash_and_string_to_sign():
    # [sdk-header] worked example
    assert body_sha256_hex(CANCEL_BODY) == "ed3b83ad455b57185111961c3735a76881c372e6efffd7cf3834a85c628ca522"
    assert string_to_sign("post", "/v1.0/debit/cancel.htm", CANCEL_BODY, "2026-01-01T10:00:00+07:00") == (
        "POST:/v1.0/debit/cancel.htm:ed3b83ad455b57185111961c3735a76881c372e6efffd7cf3834a85c628ca522"
        ":2026-01-01T10:00:00+07:00")


def test_python_default_separators_hash_to_the_compact_form_after_minify():
    spaced = json.dumps(json.loads(CANCEL_BODY))          # ", " and ": " as the SDK sends it
    assert spaced != CANCEL_BODY
    assert body_sha256_hex(spaced) == body_sha256_hex(CANCEL_BODY)
    # the raw spaced bytes would hash differently ([sdk-header]): minify is what makes them agree
    import hashlib
    assert hashlib.sha256(spaced.encode()).hexdigest() == (
        "ae3721e32086839463b1414726f2206840b71b2ce125b12ce27758390e0acc4b")


@pytest.mark.parametrize("raw, expected", [
    (b'{ "a" : 1 ,\n\t"b" : [ 1 , 2 ] }', b'{"a":1,"b":[1,2]}'),
    (b'{"k":"two  spaces\\tand tab"}', b'{"k":"two  spaces\\tand tab"}'),      # inside strings kept
    (b'{"q":"say \\"hi there\\" ok"}', b'{"q":"say \\"hi there\\" ok"}'),        # escaped quotes
    (b'{"e":"\\u00e9", "f":"\xc3\xa9"}', b'{"e":"\\u00e9","f":"\xc3\xa9"}'),    # escapes not rewritten
    (b'{"n": 1.50, "m": 1e3, "s":"\\/"}', b'{"n":1.50,"m":1e3,"s":"\\/"}'),       # numbers as received
    (b'{"bs":"ends with backslash \\\\", "x" : 1}', b'{"bs":"ends with backslash \\\\","x":1}'),
    (b'', b''),
])
def test_minify_deletes_only_whitespace_outside_strings(raw, expected):
    assert minify(raw) == expected


def test_minify_accepts_str_and_none():
    assert minify('{ "a" : "b c" }') == b'{"a":"b c"}'
    assert minify(None) == b""


def test_sign_and_verify_round_trip_and_tamper():
    key = generate_private_key()
    message = string_to_sign("POST", "/x", '{"a":1}', "2026-01-01T10:00:00+07:00")
    signature = sign(key, message)
    assert verify(key.public_key(), message, signature)
    assert not verify(key.public_key(), message + "x", signature)
    assert not verify(generate_private_key().public_key(), message, signature)


@pytest.mark.parametrize("bad", ["", None, "not base64 !!", "85be817c55b2c135157c7e89f52499bf0c25ad6e"
                                 "eebe04a986e8c862561b19a5", "dGVzdA==", "invalid_signature"])
def test_verify_never_raises_on_garbage(bad):
    key = generate_private_key()
    assert verify(key.public_key(), "m", bad) is False


def test_decode_signature_is_strict_base64():
    assert decode_signature("dGVzdA==") == b"test"
    assert decode_signature("dGVzd A==") is None
    assert decode_signature("abc-_") is None          # URL-safe alphabet is not SNAP


def test_apply_token_string_to_sign():
    assert apply_token_string_to_sign("2025PARTNER", "2026-01-01T10:00:00+07:00") == (
        "2025PARTNER|2026-01-01T10:00:00+07:00")


def test_timestamps_are_jakarta_25_chars():
    from datetime import datetime, timezone
    moment = datetime(2026, 1, 1, 3, 0, 0, tzinfo=timezone.utc)
    assert format_timestamp(moment) == "2026-01-01T10:00:00+07:00"
    assert len(format_timestamp()) == 25 and is_timestamp(format_timestamp())
    assert parse_timestamp("2026-01-01T10:00:00+07:00").astimezone(timezone.utc) == moment
    for bad in ("2026-01-01 10:00:00+07:00", "2026-01-01T10:00:00Z", "2026-01-01T10:00:00.000+07:00",
                "2026-13-01T10:00:00+07:00", "", None, 5):
        assert not is_timestamp(bad)
    with pytest.raises(ValueError, match="YYYY-MM-DDTHH:mm:ss"):
        parse_timestamp("2026-01-01T10:00:00+00:00")
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(datetime(2026, 1, 1))


# -- seamlessSign (conformance/snap/oauth.py): one rule for the hosted pages and the bind-URL linter ---------

def _seamless():
    from urllib.parse import quote
    key = generate_private_key()
    data = '{"mobileNumber":"083811223355"}'
    text = sign(key, data)
    while "+" not in text:                      # a signature whose Base64 has a '+' shows every encoding
        data += " "
        text = sign(key, data)
    return key, data, text, quote


def test_rule_seamless_sign_encodings_are_recognised_once_twice_and_raw():
    from conformance.snap.oauth import seamless_sign_encoding
    key, data, text, quote = _seamless()
    once = quote(text, safe="")
    assert seamless_sign_encoding(text, once) == (text, None), "rule: encoded once (as DANA asks) is plain"
    twice = quote(once, safe="")
    assert seamless_sign_encoding(once, twice) == (text, "twice"), "rule: %252B in the URL is encoded twice"
    lower = once.replace("%2B", "%2b").replace("%2F", "%2f").replace("%3D", "%3d")
    assert seamless_sign_encoding(lower) == (text, "twice"), \
        "rule: a percent escape left after one decoding is encoded twice, whatever its case"
    spaced = text.replace("+", " ")
    assert seamless_sign_encoding(spaced, spaced) == (text, "raw"), "rule: '+' read as a space is raw Base64"


def test_rule_a_seamless_sign_verifies_in_each_tolerated_encoding_and_a_hex_digest_is_named():
    import hashlib
    from urllib.parse import quote as q

    from conformance.snap.oauth import PYTHON_HELPER_HINT, seamless_sign_problem
    key, data, text, _ = _seamless()
    public = key.public_key()
    assert seamless_sign_problem(public, data, text) is None
    assert seamless_sign_problem(public, data, q(text, safe=""), q(q(text, safe=""), safe="")) is None
    assert seamless_sign_problem(public, data, text.replace("+", " ")) is None
    digest = hashlib.sha256(data.encode()).hexdigest()
    assert seamless_sign_problem(public, data, digest) == ("a 64-character hex digest", PYTHON_HELPER_HINT)
    assert seamless_sign_problem(public, data, digest.upper())[1] == PYTHON_HELPER_HINT, \
        "rule: an upper-case hex digest is the Python helper's fallback too"
    assert seamless_sign_problem(public, data + " ", text)[0].startswith("does not verify")


def test_rule_a_seamless_sign_made_with_a_key_of_another_size_names_both_sizes():
    from conformance.snap.oauth import seamless_sign_problem
    small, big = generate_private_key(1024), generate_private_key(2048)
    problem, _ = seamless_sign_problem(big.public_key(), "data", sign(small, "data"))
    assert problem.startswith("128 bytes") and "2048 bits (256 bytes)" in problem, \
        "rule: a signature of the wrong length says how long it is and how long the merchant key's is"


def test_rule_finish_notify_times_are_jakarta_iso_or_epoch_milliseconds():
    from datetime import datetime, timezone

    from conformance.snap.notify import notify_time
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert notify_time(moment) == "2026-01-02T10:04:05+07:00"
    assert notify_time(moment, "epoch_ms") == "1767323045000", "rule: the epoch form is milliseconds since 1970"


def test_rule_finish_notify_extend_info_is_compact_json():
    from conformance.snap import notify
    assert notify._compact({"a": "1", "b": "2"}) == '{"a":"1","b":"2"}', \
        "rule: extendInfo is minified JSON text, as DANA writes it"


# -- Finish Notify as DANA sends it (conformance/snap/notify.py) -------------------------------------------

def _order(**changes):
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace
    wib = timezone(timedelta(hours=7))
    order = SimpleNamespace(currency="IDR", amount_value="10.00", partner_reference_no="p-1",
                            reference_no="2026010200000000000000000000000000001", merchant_id="216620000000000000001",
                            created_at=datetime(2026, 1, 2, 10, 0, 0, tzinfo=wib),
                            paid_at=datetime(2026, 1, 2, 10, 1, 0, tzinfo=wib), external_id="ext-1",
                            request={"subMerchantId": "sub-1", "externalStoreId": "store-1"}, pay_option=None)
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def test_rule_a_paid_finish_notify_body_has_dana_shape():
    from datetime import datetime, timedelta, timezone

    from conformance.snap.notify import finish_notify_body
    finished = datetime(2026, 1, 2, 10, 2, 0, tzinfo=timezone(timedelta(hours=7)))
    ten = {"currency": "IDR", "value": "10.00"}
    assert finish_notify_body(_order(), "00", finished_at=finished) == {
        "originalPartnerReferenceNo": "p-1", "originalReferenceNo": "2026010200000000000000000000000000001",
        "originalExternalId": "ext-1", "merchantId": "216620000000000000001", "subMerchantId": "sub-1",
        "amount": ten, "latestTransactionStatus": "00", "transactionStatusDesc": "SUCCESS",
        "createdTime": "2026-01-02T10:00:00+07:00", "finishedTime": "2026-01-02T10:02:00+07:00",
        "externalStoreId": "store-1",
        "additionalInfo": {
            "paidTime": "2026-01-02T10:01:00+07:00",
            "paymentInfo": {
                "payOptionInfos": [{"payMethod": "BALANCE", "payAmount": ten, "transAmount": ten,
                                    "chargeAmount": {"currency": "IDR", "value": "0.00"},
                                    "payOptionBillExtendInfo": "{}", "extendInfo": "{}"}],
                "cashierRequestId": "2026010200000000000000000000000000001" + "01", "payRequestExtendInfo": "{}",
                "extendInfo": '{"topupAndPay":"false","paymentStatus":"SUCCESS"}',
                "paidTime": "2026-01-02T10:01:00+07:00"}}}, \
        "rule: a paid Finish Notify carries DANA's fields, as in its real BALANCE notification"


def test_rule_a_finish_notify_names_its_pay_option_and_an_unknown_status_as_itself():
    from datetime import datetime, timezone

    from conformance.snap.notify import finish_notify_body
    now = datetime.now(timezone.utc)
    body = finish_notify_body(_order(pay_option="VIRTUAL_ACCOUNT_CIMB", pay_method="VIRTUAL_ACCOUNT"), "00",
                              finished_at=now)
    [option] = body["additionalInfo"]["paymentInfo"]["payOptionInfos"]
    assert (option["payMethod"], option["payOption"]) == ("VIRTUAL_ACCOUNT", "VIRTUAL_ACCOUNT_CIMB")
    unpaid = finish_notify_body(_order(paid_at=None, external_id="", request=None), "00", finished_at=now)
    assert "paymentInfo" not in unpaid["additionalInfo"], "rule: no payment info without a payment"
    assert "originalExternalId" not in unpaid and "subMerchantId" not in unpaid
    odd = finish_notify_body(_order(), "99", finished_at=now)
    assert odd["transactionStatusDesc"] == "99" and "paymentInfo" not in odd["additionalInfo"]
    with pytest.raises(ValueError, match="time_form"):
        finish_notify_body(_order(), "00", finished_at=now, time_form="rfc822")


def test_rule_finish_notify_headers_are_dana_s_and_sign_the_path_with_a_leading_slash():
    from conformance.snap.notify import encode_body, sign_notification
    key = generate_private_key()
    body = encode_body({"b": "é", "a": 1})
    assert body == '{"b":"é","a":1}'.encode(), "rule: DANA sends compact UTF-8 JSON"
    headers = sign_notification(key, "notify", body, "2026-01-02T10:00:00+07:00", partner_id="P1")
    assert verify(key.public_key(), string_to_sign("POST", "/notify", body, "2026-01-02T10:00:00+07:00"),
                  headers["X-Signature"]), "rule: the signed path starts with '/'"
    assert (headers["Content-Type"], headers["X-Partner-Id"], headers["Channel-Id"]) == (
        "application/json", "P1", "DANA"), "rule: the headers are spelled as DANA sends them"
    assert len(headers["X-External-Id"]) == 32 and headers["X-External-Id"].isalnum()
    assert headers["X-Timestamp"] == "2026-01-02T10:00:00+07:00"
