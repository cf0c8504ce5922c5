"""Bind URL builder, linter and callback parsing ([sdk-util], [doc-get-oauth])."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote, urlsplit

import pytest

from conformance.binding import build_bind_url, lint_bind_url, parse_callback, raw_query
from conformance.settings import MerchantCredentials
from conformance.snap import keys, signature, timestamps

REDIRECT = "https://merchant.example/oauth/callback?shop=1"
PHONE = "083811223355"


@pytest.fixture(scope="module")
def merchant():
    return MerchantCredentials(partner_id="2026111122223333444455", merchant_id="216620000000000000001",
                    private_key=keys.generate_private_key())


@pytest.fixture(scope="module")
def other_key():
    return keys.generate_private_key()


def fails(findings):
    return [f for f in findings if f.severity == "FAIL"]


def by_check(findings, where):
    return [f for f in findings if f.where == where]


def replace_raw(url: str, name: str, raw_value: str | None) -> str:
    """Set (or drop, with None) one parameter's raw text, leaving every other byte as it was."""
    base, _, query = url.partition("?")
    parts = [p for p in query.split("&") if p.partition("=")[0] != name]
    if raw_value is not None:
        parts.append(f"{name}={raw_value}")
    return base + "?" + "&".join(parts)


def test_api_mode_url_is_complete_encoded_once_and_lints_clean(merchant):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, seamless_phone=PHONE)
    parts = urlsplit(bind.url)
    assert (parts.netloc, parts.path) == ("m.sandbox.dana.id", "/v1.0/get-auth-code")
    assert len(bind.state) == 32 and bind.params["state"] == bind.state
    assert bind.params["isSnapBI"] == "true" and bind.params["channelId"] == merchant.partner_id
    assert bind.params["lang"] == "id" and bind.params["allowRegistration"] == "true"
    assert timestamps.is_timestamp(bind.params["timestamp"])
    assert json.loads(bind.seamless_data) == {"mobile": PHONE}
    assert bind.seamless_data == '{"mobile":"083811223355"}'          # compact: the exact signed text
    raw = dict(raw_query(bind.url))
    assert "%" in raw["seamlessSign"] and "%25" not in raw["seamlessSign"]
    assert not set("+/=") & set(raw["seamlessSign"])
    assert raw["redirectUrl"] == quote(REDIRECT, safe="")
    assert signature.verify(merchant.public_key, bind.seamless_data, bind.params["seamlessSign"])
    assert lint_bind_url(bind.url, merchant.public_key, expected_state=bind.state,
                         partner_id=merchant.partner_id) == []


def test_without_seamless_data_there_is_no_seamless_sign(merchant):
    bind = build_bind_url(merchant, "http://127.0.0.1:9", "http://127.0.0.1:8/cb", lang=None,
                          allow_registration=None, scopes=["CASHIER", "PUBLIC_ID"])
    assert "seamlessData" not in bind.params and "seamlessSign" not in bind.params
    assert "lang" not in bind.params and bind.params["scopes"] == "CASHIER,PUBLIC_ID"
    assert bind.url.startswith("http://127.0.0.1:9/v1.0/get-auth-code?")
    assert lint_bind_url(bind.url, merchant.public_key) == []


@pytest.mark.parametrize("web_base,env,host_path", [
    ("https://m.sandbox.dana.id", "sandbox", ("bw93.test-app.link", "/bindSnap")),
    ("https://m.dana.id", "production", ("link.dana.id", "/bindSnap")),
    ("http://127.0.0.1:8123", "sandbox", ("127.0.0.1:8123", "/bindSnap")),
])
def test_deeplink_mode_targets_bindsnap(merchant, web_base, env, host_path):
    bind = build_bind_url(merchant, web_base, REDIRECT, mode="deeplink", env=env, seamless_phone=PHONE)
    parts = urlsplit(bind.url)
    assert (parts.netloc, parts.path) == host_path
    assert bind.params["terminalType"] == "WEB" and "isSnapBI" not in bind.params
    data = json.loads(bind.seamless_data)
    assert data["mobile"] == PHONE and data["verifiedTime"] == "0" and data["externalUid"] == bind.params["externalId"]
    assert lint_bind_url(bind.url, merchant.public_key, expected_state=bind.state) == []
    if env == "production":
        assert "AGREEMENT_PAY" not in bind.params["scopes"]


def test_a_url_from_the_official_python_sdk_passes_with_the_uuid4_state_warning(merchant, monkeypatch):
    util = pytest.importorskip("dana.widget.v1.util")
    models = pytest.importorskip("dana.widget.v1.models")
    monkeypatch.setenv("X_PARTNER_ID", merchant.partner_id)
    monkeypatch.setenv("DANA_ENV", "sandbox")
    monkeypatch.delenv("PRIVATE_KEY_PATH", raising=False)
    data = models.Oauth2UrlData(external_id="ext-1", merchant_id=merchant.merchant_id, redirect_url=REDIRECT,
                                seamless_data=models.Oauth2UrlDataSeamlessData(mobile_number=PHONE))
    url = util.Util.generate_oauth_url(data, private_key=keys.private_key_pem(merchant.private_key))
    findings = lint_bind_url(url, merchant.public_key)
    assert fails(findings) == [], [f.message() for f in findings]
    state = [f for f in findings if f.check == "state length"]
    assert len(state) == 1 and state[0].severity == "WARN" and "uuid4().hex" in state[0].hint


def test_the_sdk_helper_without_a_key_yields_a_hex_seamless_sign_which_fails(merchant, monkeypatch):
    util = pytest.importorskip("dana.widget.v1.util")
    models = pytest.importorskip("dana.widget.v1.models")
    monkeypatch.setenv("X_PARTNER_ID", merchant.partner_id)
    monkeypatch.delenv("PRIVATE_KEY", raising=False)
    monkeypatch.delenv("PRIVATE_KEY_PATH", raising=False)
    data = models.Oauth2UrlData(external_id="ext-1", merchant_id=merchant.merchant_id, redirect_url=REDIRECT,
                                state="s1", seamless_data=models.Oauth2UrlDataSeamlessData(mobile_number=PHONE))
    url = util.Util.generate_oauth_url(data)          # no key: the helper silently hashes instead of signing
    sign = [f for f in lint_bind_url(url, merchant.public_key) if f.where == "seamlessSign"]
    assert len(sign) == 1 and sign[0].severity == "FAIL"
    assert "hex digest" in sign[0].received and "Python helper" in sign[0].hint


def test_missing_parameter_fails(merchant):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT)
    for name in ("redirectUrl", "state", "partnerId", "scopes", "externalId", "channelId", "timestamp"):
        findings = lint_bind_url(replace_raw(bind.url, name, None), merchant.public_key)
        assert [f.check for f in fails(findings) if f.where == name] == ["required parameter"], name
    empty = lint_bind_url(replace_raw(bind.url, "state", ""), merchant.public_key)
    assert [f.received for f in fails(by_check(empty, "state"))] == ["empty"]


def test_seamless_data_without_seamless_sign_fails(merchant):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, seamless_phone=PHONE)
    findings = fails(lint_bind_url(replace_raw(bind.url, "seamlessSign", None), merchant.public_key))
    assert [(f.check, f.received) for f in findings] == [("seamlessSign", "absent")]


def test_double_encoded_seamless_sign_fails_with_the_encode_once_hint(merchant):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, seamless_phone=PHONE)
    twice = quote(quote(bind.params["seamlessSign"], safe=""), safe="")      # Node / Java UAT form
    findings = fails(lint_bind_url(replace_raw(bind.url, "seamlessSign", twice), merchant.public_key))
    assert len(findings) == 1 and findings[0].received == "URL-encoded twice"
    assert "exactly once" in findings[0].hint


def test_unencoded_seamless_sign_fails_when_plus_turns_into_space(merchant):
    # Find a signature with a '+' in its Base64 (almost every 344-character one has), then put it raw (Go form).
    for i in range(50):
        bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, seamless_phone=f"08381122{i:04d}")
        if "+" in bind.params["seamlessSign"]:
            break
    else:
        pytest.fail("no signature with '+' among 50")
    findings = fails(lint_bind_url(replace_raw(bind.url, "seamlessSign", bind.params["seamlessSign"]),
                                   merchant.public_key))
    assert len(findings) == 1 and "space" in findings[0].received and "Go SDK" in findings[0].hint


def test_fake_seamless_sign_fails(merchant, other_key):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, seamless_phone=PHONE)
    hexdigest = hashlib.sha256(bind.seamless_data.encode()).hexdigest()
    wrong_key = quote(signature.sign(other_key, bind.seamless_data), safe="")
    small_key = quote(signature.sign(keys.generate_private_key(1024), bind.seamless_data), safe="")
    other_data = quote(signature.sign(merchant.private_key, '{"mobile": "083811223355"}'), safe="")
    cases = {hexdigest: "hex digest", wrong_key: "does not verify", small_key: "128 bytes",
             "not*base64": "not standard Base64", other_data: "does not verify"}
    for raw, expected in cases.items():
        findings = fails(lint_bind_url(replace_raw(bind.url, "seamlessSign", raw), merchant.public_key))
        assert len(findings) == 1 and expected in findings[0].received, (expected, findings)


def test_state_mismatch_and_length(merchant):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT)
    mismatch = fails(lint_bind_url(bind.url, merchant.public_key, expected_state="another-state"))
    assert [(f.check, f.expected, f.received) for f in mismatch] == [("state", "another-state", bind.state)]
    long_state = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, state="x" * 40)
    assert [f.check for f in fails(lint_bind_url(long_state.url, merchant.public_key))] == ["state length"]


@pytest.mark.parametrize("value,hint_part", [
    ("2026-01-01T10:00:00.123+07:00", "Node SDK"),
    ("2025-05-20T22:27:01+00:00", "+07:00"),
    ("2026-01-01 10:00:00+07:00", "25 characters"),
])
def test_timestamp_format_fails_with_a_matching_hint(merchant, value, hint_part):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, timestamp=value)
    findings = fails(lint_bind_url(bind.url, merchant.public_key))
    assert [f.check for f in findings] == ["timestamp format"] and hint_part in findings[0].hint


@pytest.mark.parametrize("redirect,ok", [
    ("https://merchant.example/cb", True), ("http://127.0.0.1:8000/cb", True), ("http://localhost/cb", True),
    ("http://merchant.example/cb", False), ("/oauth/callback", False), ("merchant.example/cb", False),
])
def test_redirect_url_must_be_absolute_https_except_on_loopback(merchant, redirect, ok):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", redirect)
    assert (fails(lint_bind_url(bind.url, merchant.public_key)) == []) is ok


def test_warnings_for_sdk_shaped_seamless_data_scopes_and_split_redirect(merchant):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, scopes="CASHIER,PAY_ALL")
    # The seamlessData of the Python helper at the reference's commit ([sdk-util]), correctly signed.
    data = '{"biz_scenario": null, "verified_time": null, "mobile": "083811223355"}'
    url = replace_raw(bind.url, "seamlessData", quote(data, safe=""))
    url = replace_raw(url, "seamlessSign", quote(signature.sign(merchant.private_key, data), safe=""))
    url = replace_raw(url, "redirectUrl", "https://merchant.example/cb?a=1") + "&b=2"   # unencoded '&'
    findings = lint_bind_url(url, merchant.public_key)
    assert fails(findings) == []
    assert {f.check for f in findings} == {"scopes", "seamlessData keys", "unknown parameter"}


def test_lengths_follow_the_documented_table(merchant):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT)
    findings = fails(lint_bind_url(replace_raw(bind.url, "externalId", "e" * 65), merchant.public_key))
    assert [(f.check, f.where, f.received) for f in findings] == [("length", "externalId", 65)]


def test_garbage_is_a_finding_not_an_exception(merchant):
    assert [f.check for f in lint_bind_url("not a url", merchant.public_key)] == ["bind URL"]
    assert len(fails(lint_bind_url("https://m.sandbox.dana.id/v1.0/get-auth-code", None))) == 7


def test_parse_callback_decodes_once():
    url = ("https://merchant.example/cb?shop=1&responseCode=2001000&responseMessage=Successful"
           "&authCode=ab%2Bc%3D&state=s%20t")
    assert parse_callback(url) == {"shop": "1", "responseCode": "2001000", "responseMessage": "Successful",
                                   "authCode": "ab+c=", "state": "s t"}
    assert parse_callback("https://merchant.example/cb") == {}
