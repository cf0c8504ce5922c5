"""The traffic journal keeps an entry for every request, however malformed, and never logs a traceback.

Before, a lone surrogate (``"\\ud800"``, valid JSON, no UTF-8) in a secret field made ``secret_digest``
raise: the request was answered but never journalled, and the sandbox's log showed a traceback. Here a
surrogate goes into every string field of a body of every API, signed and unsigned, and into every header
(as the UTF-8 bytes of a surrogate and as its JSON escape); each request must leave exactly one entry.
"""

from __future__ import annotations

import json
import logging

import pytest

from conformance.sandbox import grading
from conformance.snap import generate_private_key, public_key_pem
from conformance.snap.apis import APIS
from tests.sandbox.conftest import HTTP, Raw, payment_body
from tests.sandbox.test_fuzz import HEADER_NAMES, TEMPLATES

PARTNER_ID, MERCHANT_ID = "2025112100000000000022", "216620000000000000022"
SURROGATES = ["\ud800", "\udfff", "a\udbffb"]
BODIES = TEMPLATES | {
    "widget_payment": payment_body() | {"merchantId": MERCHANT_ID},
    "apply_token": {"grantType": "AUTHORIZATION_CODE", "authCode": "code", "refreshToken": "r",
                    "additionalInfo": {"accessToken": "t"}},
    "query_payment": {"originalPartnerReferenceNo": "x", "serviceCode": "54", "merchantId": MERCHANT_ID},
    "cancel_order": {"originalPartnerReferenceNo": "x", "merchantId": MERCHANT_ID, "reason": "r"},
    "balance_inquiry": {"additionalInfo": {"accessToken": "t", "deviceId": "d"}},
    "account_unbinding": {"merchantId": MERCHANT_ID, "additionalInfo": {"accessToken": "t", "deviceId": "d"}},
}


def string_paths(node, prefix=()):
    """Every path to a string leaf (and to each key, whose name is a string too)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, ("key", key))
            yield from string_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from string_paths(value, (*prefix, i))
    elif isinstance(node, str):
        yield prefix


def with_surrogate(body, path, surrogate: str):
    body = json.loads(json.dumps(body))
    node = body
    for part in path[:-1]:
        node = node[part]
    last = path[-1]
    if isinstance(last, tuple):                       # the key itself
        node[last[1] + surrogate] = node.pop(last[1])
    else:
        node[last] = node[last] + surrogate
    return json.dumps(body).encode()                 # json.dumps writes the surrogate as its \\ud800 escape


@pytest.fixture(scope="module")
def raw(sandbox_server) -> Raw:
    key = generate_private_key()
    sandbox_server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
    return Raw(sandbox_server.base_url, key, PARTNER_ID, MERCHANT_ID)


def requests_with_surrogates(raw: Raw):
    """(api name, body bytes, headers, in the body?) of every fuzz class: body fields signed and unsigned,
    then every header."""
    for api_name, api in APIS.items():
        if api.family == "notify":
            continue
        template = BODIES.get(api_name, BODIES["widget_payment"])
        for i, path in enumerate(string_paths(template)):
            data = with_surrogate(template, path, SURROGATES[i % len(SURROGATES)])
            yield api_name, data, raw.headers(api_name, data), True
            yield api_name, data, {"X-PARTNER-ID": PARTNER_ID, "Content-Type": "application/json"}, True
    data = json.dumps(BODIES["widget_payment"]).encode()
    for name in HEADER_NAMES:
        for value in (b"\xed\xa0\x80", b"\\ud800", b"x\xed\xbf\xbfy"):   # a surrogate's UTF-8 bytes, its escape
            headers = {k.encode(): v.encode() for k, v in raw.headers("widget_payment", data).items()}
            headers[name.encode()] = value
            yield "widget_payment", data, list(headers.items()), False


def test_every_request_with_a_lone_surrogate_gets_one_entry_and_no_traceback(raw, caplog):
    sent = list(requests_with_surrogates(raw))
    since = raw.admin("GET", "/traffic").json()["last"]
    caplog.set_level(logging.INFO, logger="conformance.sandbox")
    for api_name, data, headers, in_body in sent:
        response = HTTP.post(raw.base_url + APIS[api_name].path, content=data, headers=headers, timeout=10)
        # in the body: refused before any state changes; in a header the sandbox does not read, answered
        assert 400 <= response.status_code < 500 if in_body else response.status_code < 500, \
            (api_name, data[:120], headers, response.text)
        assert response.json()["responseCode"][:3] == str(response.status_code)
    traffic = raw.admin("GET", f"/traffic?since={since}").json()
    assert traffic["last"] - since == len(sent)                  # not one request lost
    assert len(traffic["entries"]) == len(sent)
    body_entries = traffic["entries"][:sum(in_body for *_, in_body in sent)]
    passed = [e for e in body_entries if e["partnerId"] == PARTNER_ID and e["verdict"] != "FAIL"]
    assert not passed, [(e["api"], e["request"]["body"], e["response"], e["checks"]) for e in passed][:2]
    assert not [e for e in traffic["entries"] if e["checks"][0]["check"] == "journal"]   # all graded
    broken = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not broken, broken[0].getMessage()


def test_a_secret_with_a_surrogate_still_has_its_digest(raw):
    since = raw.admin("GET", "/traffic").json()["last"]
    raw.post("apply_token", {"grantType": "AUTHORIZATION_CODE", "authCode": "ab\ud800", "additionalInfo": {}})
    [entry] = raw.admin("GET", f"/traffic?since={since}&partnerId={PARTNER_ID}").json()["entries"]
    assert set(entry["secretDigests"]) == {"authCode"} and len(entry["secretDigests"]["authCode"]) == 16


def test_a_request_that_breaks_grading_is_journalled_ungraded_with_one_log_line(raw, caplog, monkeypatch):
    """The last line of defence: whatever a grader raises, the entry exists and the log has no traceback."""
    def broken(observed):
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
    monkeypatch.setattr(grading, "grade", broken)
    caplog.set_level(logging.INFO, logger="conformance.sandbox")
    since = raw.admin("GET", "/traffic").json()["last"]
    response = raw.post("widget_payment", payment_body() | {"merchantId": MERCHANT_ID})
    assert response.status_code == 200                           # the merchant still got its answer
    [entry] = raw.admin("GET", f"/traffic?since={since}").json()["entries"]
    assert entry["partnerId"] == PARTNER_ID and entry["path"] == APIS["widget_payment"].path
    assert entry["response"]["status"] == 200 and entry["verdict"] == "FAIL"
    assert entry["checks"][0]["check"] == "journal" and "UnicodeEncodeError" in entry["checks"][0]["message"]
    assert entry["request"]["headers"]["x-partner-id"] == PARTNER_ID
    assert "…" in entry["request"]["headers"]["x-signature"]      # still redacted
    lines = [r for r in caplog.records if "journalled ungraded" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None and "\n" not in lines[0].getMessage()
    assert f"#{entry['seq']}" in lines[0].getMessage()


def test_with_a_state_file_a_surrogate_is_answered_journalled_and_kept_across_a_restart(tmp_path):
    """The state file wrote entries as UTF-8: a surrogate made the commit, and with it the answer, fail (500
    and a traceback) and lost the entry; JSON escapes keep it, and the entry comes back after a restart."""
    from conformance.sandbox.server import SandboxServer
    from conformance.sandbox.statefile import StateFile

    key, state = generate_private_key(), tmp_path / "state.db"
    body = payment_body() | {"merchantId": MERCHANT_ID, "partnerReferenceNo": "x\ud800"}
    with SandboxServer(state=StateFile(state)) as server:
        server.register_merchant(PARTNER_ID, MERCHANT_ID, public_key_pem(key))
        raw = Raw(server.base_url, key, PARTNER_ID, MERCHANT_ID)
        answer = raw.post("widget_payment", body)
        assert (answer.status_code, answer.json()["responseCode"]) == (400, "4005401")
        [entry] = raw.admin("GET", "/traffic").json()["entries"]
    with SandboxServer(state=StateFile(state)) as server:
        [again] = Raw(server.base_url, key).admin("GET", "/traffic").json()["entries"]
    assert again == entry and again["request"]["body"]["json"]["partnerReferenceNo"] == "x\ud800"
