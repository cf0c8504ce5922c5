"""Evidence: redacted when recorded; secrets never reach disk in full."""

import json

import pytest

from conformance.client.snap_client import DanaClient
from conformance.config.settings import load_settings
from conformance.dana.target import Target
from conformance.evidence.recorder import EvidenceWriter, Recorder
from conformance.evidence.redaction import Redactor, mask
from conformance.findings import fail
from conformance.snap import private_key_pem


def test_redactor_masks_fields_headers_urls_and_keys():
    r = Redactor(secrets=["the-client-secret"])
    data = r.data({"accessToken": "A" * 40, "nested": [{"refreshToken": "R" * 30}],
                   "userResources": [{"resourceType": "OTT", "value": "OTTVALUE12345"}],
                   "url": "https://m.test/pay?bizNo=1&ott=OTTVALUE12345&x=2",
                   "note": "secret is the-client-secret", "key": private_key_pem(__import__(
                       "conformance.snap", fromlist=["x"]).generate_private_key())})
    text = json.dumps(data)
    for secret in ("A" * 40, "R" * 30, "OTTVALUE12345", "the-client-secret", "PRIVATE KEY-----\nMII"):
        assert secret not in text
    assert data["accessToken"] == mask("A" * 40) and data["accessToken"].startswith("AAAA…")
    assert "bizNo=1" in data["url"] and "x=2" in data["url"]
    headers = r.headers({"Authorization-Customer": "Bearer tokentokentoken", "X-SIGNATURE": "S" * 344,
                         "CLIENT_SECRET": "the-client-secret", "X-TIMESTAMP": "t"})
    assert "tokentokentoken" not in json.dumps(headers) and headers["X-SIGNATURE"].startswith("SSSSSSSSSSSS…")
    assert headers["X-TIMESTAMP"] == "t"


def test_a_token_seen_once_is_masked_everywhere_after():
    r = Redactor()
    r.data({"accessToken": "tok-abcdef-123456"})
    assert "tok-abcdef-123456" not in r.text("GET /x?foo=tok-abcdef-123456 and more")


@pytest.fixture(scope="module")
def target():
    with Target(load_settings({"client_secret": "cs-very-secret-value"}, environ={}, env_file=None)) as running:
        yield running


def test_binding_secrets_never_reach_disk_in_full(tmp_path, target):
    """Apply Token and Apply OTT through the real sandbox; the evidence file holds no full secret."""
    store = target.server.sandbox.store
    code = store.issue_auth_code(target.merchant.partner_id, "083811223355", ["CASHIER", "AGREEMENT_PAY"],
                                 "https://merchant.example/cb", "st")
    recorder = Recorder("binding_secrets")
    recorder.redactor.secrets.add(target.merchant.client_secret)
    with DanaClient(target.merchant, target.api_base, recorder, clock=target.now) as client:
        token = client.call("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": code})
        access, refresh = token.json["accessToken"], token.json["refreshToken"]
        ott = client.call("apply_ott", {"userResources": ["OTT"],
                                         "additionalInfo": {"accessToken": access, "deviceId": "deviceid123"}})
        ott_value = ott.json["userResources"][0]["value"]
        client.call("widget_payment", {"note": f"{target.merchant.client_secret}"},
                    headers={"CLIENT_SECRET": target.merchant.client_secret})
    recorder.event("browser", action="checkout", url=f"{target.web_base}/n/cashier/new/checkout?bizNo=1&ott={ott_value}")
    recorder.end_step("failed", [fail("accessToken", access, "x")])
    path = EvidenceWriter(tmp_path, "run").write_scenario(recorder)
    text = path.read_text()
    assert token.status == 200 and ott.status == 200
    for secret in (code, access, refresh, ott_value, target.merchant.client_secret,
                   private_key_pem(target.merchant.private_key).splitlines()[1]):
        assert secret not in text, secret[:6]
    assert access[:4] + "…" in text        # still correlatable by its first characters


def test_writer_layout_and_latest_pointer(tmp_path):
    writer = EvidenceWriter(tmp_path, "r1")
    rec = Recorder("s1", file="scenarios/a.yaml")
    first = writer.write_scenario(rec)
    second = writer.write_scenario(Recorder("s1", file="scenarios/b.yaml"))
    assert first.name == "s1.json" and second.name == "b__s1.json"
    writer.write_summary({"runId": "r1"})
    assert (tmp_path / "latest").resolve() == (tmp_path / "r1").resolve()
    assert json.loads((tmp_path / "latest" / "summary.json").read_text()) == {"runId": "r1"}


@pytest.mark.parametrize("text, secret", [
    ("redirected to /cb?authCode=AbCdEf123456&state=1", "AbCdEf123456"),
    ('{"accessToken": "tok_abcdefghijklmnop"}', "tok_abcdefghijklmnop"),
    ("{'ott': 'OTT-1234567890'}", "OTT-1234567890"),
    ("refresh_token=Zz9-_.~+/=Zz9", "Zz9-_.~+/=Zz9"),
])
def test_secret_fields_written_out_in_free_text_are_masked(text, secret):
    out = Redactor().text(text)
    assert secret not in out and "redacted" in out


def test_free_text_masking_leaves_the_words_of_a_finding_alone():
    assert Redactor().text("ott: expected 'x', received 'y'") == "ott: expected 'x', received 'y'"


def test_a_finding_about_a_secret_field_never_shows_either_side_in_full():
    rec = Recorder("s")
    finding = fail("body", "not-the-token", "never-seen-token-value-123", where="step 2 body.accessToken")
    text = rec.message(finding)
    assert "never-seen-token-value-123" not in text and "not-the-token" not in text and "redacted" in text
    assert "never-seen" not in json.dumps(rec._finding(finding))


def test_scrub_zip_replaces_learned_secrets_in_text_and_binary_entries(tmp_path):
    import zipfile

    from conformance.evidence.scrub import scrub_zip

    r = Redactor(secrets=["learned-auth-code"])
    path = tmp_path / "trace.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("trace.network", '{"url": "https://m/cb?authCode=learned-auth-code", "x": "ott=unseen-ott-42"}')
        zf.writestr("resources/blob.bin", b"\xff\xfe learned-auth-code \x00 learned%2Dauth")
    scrub_zip(path, r)
    with zipfile.ZipFile(path) as zf:
        blobs = b"".join(zf.read(n) for n in zf.namelist())
    assert b"learned-auth-code" not in blobs and b"unseen-ott-42" not in blobs and b"redacted" in blobs


@pytest.mark.parametrize("text", [
    "step 2 call apply_ott: status: expected 200, received 429",          # the message issue 28 saw cut
    "step 1 token: apply_token: status: expected 200, received 503",
    "save.ott: save: expected 'a value at body.userResources', received '(absent)'",
    "ott: SUCCESS and accessToken=Bearer",
])
def test_the_words_of_a_failure_message_are_never_taken_for_secrets(text):
    assert Redactor().text(text) == text


def test_a_short_ordinary_word_in_a_secret_field_is_not_learned_but_a_token_is():
    r = Redactor()
    r.data({"accessToken": "status", "ott": "Ab12cd34Ef56"})
    assert r.data({"ott": "status"})["ott"] != "status"          # the field itself is still masked
    assert r.text("status: expected 200, received 429") == "status: expected 200, received 429"
    assert "Ab12cd34Ef56" not in r.text("checkout?x=Ab12cd34Ef56")
    assert "redacted" in Redactor().text("ott=Ab12cd34Ef56")
