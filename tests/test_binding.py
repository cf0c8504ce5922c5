"""Bind URL builder, linter and callback parsing ([sdk-util], [doc-get-oauth])."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote, urlsplit

import pytest

from conformance.client.binding import build_bind_url, parse_callback, raw_query
from conformance.client.bindlint import lint_bind_url
from conformance.config.settings import MerchantCredentials
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
    assert bind.params["isSnapBI"] == "true" and bind.params["channelId"] == "95221"
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


def test_double_encoded_seamless_sign_warns_with_the_encode_once_hint(merchant, other_key):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, seamless_phone=PHONE)
    twice = quote(quote(bind.params["seamlessSign"], safe=""), safe="")      # Node / Java UAT form
    findings = lint_bind_url(replace_raw(bind.url, "seamlessSign", twice), merchant.public_key)
    assert [(f.severity, f.received) for f in findings] == [("WARN", "URL-encoded twice")]
    assert "exactly once" in findings[0].hint and "Node SDK" in findings[0].hint
    # tolerated encoding, but still verified: another key's signature encoded twice fails
    forged = quote(quote(signature.sign(other_key, bind.seamless_data), safe=""), safe="")
    failed = fails(lint_bind_url(replace_raw(bind.url, "seamlessSign", forged), merchant.public_key))
    assert len(failed) == 1 and "does not verify" in failed[0].received


def test_unencoded_seamless_sign_warns_when_plus_turns_into_space(merchant):
    # Find a signature with a '+' in its Base64 (almost every 344-character one has), then put it raw (Go form).
    for i in range(50):
        bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, seamless_phone=f"08381122{i:04d}")
        if "+" in bind.params["seamlessSign"]:
            break
    else:
        pytest.fail("no signature with '+' among 50")
    findings = lint_bind_url(replace_raw(bind.url, "seamlessSign", bind.params["seamlessSign"]), merchant.public_key)
    assert [f.severity for f in findings] == ["WARN"]
    assert "space" in findings[0].received and "Go SDK" in findings[0].hint


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


@pytest.mark.parametrize("value,severity,hint_part", [
    ("2026-01-01T10:00:00.123+07:00", "WARN", "Node SDK"),          # dana-node's generateTimestamp
    ("2025-05-20T22:27:01+00:00", "WARN", "automate_oauth.py"),     # DANA's own UAT URL
    ("2026-01-01T03:00:00Z", "WARN", "+07:00"),
    ("2026-01-01 10:00:00+07:00", "FAIL", "25 characters"),
    ("1767236400000", "FAIL", "25 characters"),
])
def test_timestamp_forms_dana_binds_with_warn_others_fail(merchant, value, severity, hint_part):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, timestamp=value)
    findings = lint_bind_url(bind.url, merchant.public_key)
    assert [(f.check, f.severity) for f in findings] == [("timestamp format", severity)]
    assert hint_part in findings[0].hint


@pytest.mark.parametrize("redirect,severities", [
    ("https://merchant.example/cb", []), ("http://127.0.0.1:8000/cb", []), ("http://localhost/cb", []),
    ("http://merchant.example/cb", ["WARN"]),        # no DANA source forbids http; the authCode is exposed
    ("/oauth/callback", ["FAIL"]), ("merchant.example/cb", ["FAIL"]),
])
def test_redirect_url_absolute_and_https_outside_loopback(merchant, redirect, severities):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", redirect)
    assert [f.severity for f in lint_bind_url(bind.url, merchant.public_key)] == severities


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


def test_channel_id_is_what_dana_python_sends(merchant, monkeypatch):
    util = pytest.importorskip("dana.widget.v1.util")
    for configured in (None, "77001", "ABCDEFGH"):
        if configured is None:
            monkeypatch.delenv("CHANNEL_ID", raising=False)
        else:
            monkeypatch.setenv("CHANNEL_ID", configured)
        ours = MerchantCredentials(merchant.partner_id, merchant.merchant_id, merchant.private_key,
                        **({"channel_id": configured} if configured else {}))
        bind = build_bind_url(ours, "https://m.sandbox.dana.id", REDIRECT)
        assert bind.params["channelId"] == util.Util.generate_channel_id()


def test_urls_shaped_like_danas_node_and_go_helpers_warn_but_do_not_fail(merchant):
    for i in range(50):      # a signature with '+' so that the raw (Go) form loses it to a space
        bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, seamless_phone=f"08381122{i:04d}")
        if "+" in bind.params["seamlessSign"]:
            break
    sign = bind.params["seamlessSign"]
    node = replace_raw(replace_raw(bind.url, "timestamp", quote("2026-01-01T10:00:00.123+07:00", safe="")),
                       "seamlessSign", quote(quote(sign, safe=""), safe=""))
    node = replace_raw(node, "channelId", "202601011000001231234567")          # 24-digit time id
    go = replace_raw(bind.url, "seamlessSign", sign)
    for url, checks in ((node, {"timestamp format", "seamlessSign encoding"}), (go, {"seamlessSign encoding"})):
        findings = lint_bind_url(url, merchant.public_key)
        assert fails(findings) == [] and {f.check for f in findings} == checks, [f.message() for f in findings]


def test_enum_repr_terminal_type_long_external_uid_and_spaced_scopes_are_findings(merchant):
    bind = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, mode="deeplink")
    enum = fails(lint_bind_url(replace_raw(bind.url, "terminalType", "TerminalType.WEB"), merchant.public_key))
    assert [(f.check, f.received) for f in enum] == [("terminalType", "TerminalType.WEB")]
    assert "send its value WEB" in enum[0].hint
    spaced = build_bind_url(merchant, "https://m.sandbox.dana.id", REDIRECT, scopes="CASHIER , QUERY_BALANCE")
    [finding] = lint_bind_url(spaced.url, merchant.public_key)
    assert (finding.check, finding.severity, finding.expected) == ("scopes", "WARN", "comma-separated without spaces")
    for uid, severity in (("0b6f6f1e-3f1d-4c8e-9a51-2f0d8f1b7c11", "WARN"), ("u" * 40, "FAIL")):
        data = json.dumps({"mobile": PHONE, "externalUid": uid}, separators=(",", ":"))
        url = replace_raw(bind.url, "seamlessData", quote(data, safe=""))
        url = replace_raw(url, "seamlessSign", quote(signature.sign(merchant.private_key, data), safe=""))
        findings = [f for f in lint_bind_url(url, merchant.public_key) if f.check == "externalUid length"]
        assert [(f.severity, f.received) for f in findings] == [(severity, len(uid))]


def test_the_python_sdk_deeplink_url_on_this_python_names_the_terminal_type(merchant, monkeypatch):
    util = pytest.importorskip("dana.widget.v1.util")
    models = pytest.importorskip("dana.widget.v1.models")
    monkeypatch.setenv("X_PARTNER_ID", merchant.partner_id)
    data = models.Oauth2UrlData(external_id="ext-1", merchant_id=merchant.merchant_id, redirect_url=REDIRECT,
                                mode="DEEPLINK")
    url = util.Util.generate_oauth_url(data, private_key=keys.private_key_pem(merchant.private_key))
    sent = dict(parse_callback(url))["terminalType"]
    findings = [f for f in lint_bind_url(url, merchant.public_key) if f.where == "terminalType"]
    assert (findings == []) is (sent == "WEB"), (sent, findings)
