"""The sandbox's Finish Notify, read by the official dana-python SDK exactly as a merchant would.

DANA's body shapes (docs/sandbox.md, "The SDKs side by side"): paymentInfo and additionalInfo.paidTime
of its real notifications, the closed reason inside additionalInfo.extendInfo (its fixture) and under the
SDK models' flat key, and times either as +07:00 ISO or as epoch milliseconds.
"""

from __future__ import annotations

import json

import pytest
from dana.webhook import WebhookParser

from conformance.client.receiver import CallbackReceiver
from conformance.client.webhook import grade_notification
from conformance.scenarios import checks
from conformance.snap.keys import load_public_key
from conformance.snap.notify import CLOSED_REASON_KEY
from tests.sandbox.conftest import payment_body, snap

PATH = "/v1.0/debit/notify"


@pytest.fixture(scope="module")
def receiver():
    with CallbackReceiver() as merchant:
        yield merchant


@pytest.fixture
def epoch_times(sandbox_server):
    notifier = sandbox_server.sandbox.notifier
    notifier.time_form = "epoch_ms"
    yield
    notifier.time_form = "iso"


def notified(raw, receiver, amount: str, *, expire: bool = False) -> tuple[dict, bytes, dict]:
    body = payment_body(amount, notify_url=receiver.notify_url, minutes=3 if expire else 15)
    body |= {"subMerchantId": "SUB-001", "externalStoreId": "STORE-001"}
    ref = body["partnerReferenceNo"]
    assert snap(raw.post("widget_payment", body))[1] == "2005400"
    if expire:
        raw.admin("POST", "/clock", {"partnerId": raw.partner_id, "advanceSeconds": 181})
    else:
        assert raw.admin("POST", f"/orders/{ref}/pay", {"phone": "083811223355"}).status_code == 200
    [delivery] = raw.admin("POST", "/notifications/wait",
                           {"partnerReferenceNo": ref, "count": 1, "timeoutSeconds": 20}).json()
    assert delivery["state"] == "delivered", delivery
    [received] = receiver.notifications(ref)
    return json.loads(received.body), received.body, received.headers


def sdk_parse(sandbox_server, headers, raw_body: bytes, monkeypatch):
    # Production mode: in sandbox mode the SDK parser trusts only DANA's real key (docs/sandbox.md).
    monkeypatch.setenv("DANA_ENV", "production")
    parser = WebhookParser(public_key=sandbox_server.dana_public_key_pem)
    return parser.parse_webhook("POST", PATH, dict(headers), raw_body.decode())


def test_paid_notify_parses_with_every_field_populated(raw, receiver, sandbox_server, monkeypatch):
    sent, raw_body, headers = notified(raw, receiver, "11011.00")
    parsed = sdk_parse(sandbox_server, headers, raw_body, monkeypatch)
    # Nothing sent is lost by the SDK's models: its own serialisation gives the sent body back.
    assert parsed.to_dict() == sent
    top = {name: getattr(parsed, name) for name in type(parsed).model_fields}
    assert [name for name, value in top.items() if value is None] == []
    info = parsed.additional_info
    assert info.paid_time == info.payment_info.paid_time == sent["finishedTime"]
    [option] = info.payment_info.pay_option_infos
    assert option.pay_method == "BALANCE" and option.pay_amount.value == "11011.00"
    assert info.payment_info.cashier_request_id and json.loads(info.payment_info.extend_info)
    assert parsed.original_external_id and parsed.external_store_id == "STORE-001"


def test_closed_notify_carries_the_reason_where_the_sdk_and_dana_fixture_read_it(raw, receiver, sandbox_server,
                                                                                    monkeypatch):
    sent, raw_body, headers = notified(raw, receiver, "11013.00", expire=True)
    assert "extendInfoClosedReason" not in sent["additionalInfo"]
    assert sent["additionalInfo"][CLOSED_REASON_KEY] == "ORDER_EXPIRED"    # dana-node/-go models' key
    parsed = sdk_parse(sandbox_server, headers, raw_body, monkeypatch)
    top = {name: getattr(parsed, name) for name in type(parsed).model_fields}
    assert [name for name, value in top.items() if value is None] == []
    assert parsed.latest_transaction_status == "05" and parsed.transaction_status_desc == "CLOSED"
    assert json.loads(parsed.additional_info.extend_info) == {"closedReason": "ORDER_EXPIRED"}
    # dana-python 2.2.2's from_dict drops the flat key (its alias is extendInfoClosedReason): that key is
    # the only difference between what was sent and what its models give back.
    expected = json.loads(raw_body)
    del expected["additionalInfo"][CLOSED_REASON_KEY]
    assert parsed.to_dict() == expected


def test_epoch_millisecond_times_parse_and_grade(raw, receiver, sandbox_server, monkeypatch, epoch_times):
    sent, raw_body, headers = notified(raw, receiver, "11011.00")
    for name in ("createdTime", "finishedTime"):
        assert sent[name].isdigit() and len(sent[name]) == 13
    assert sent["additionalInfo"]["paidTime"].isdigit()
    assert "paidTime" not in sent["additionalInfo"]["paymentInfo"]     # the SDKs' pattern there is ISO only
    parsed = sdk_parse(sandbox_server, headers, raw_body, monkeypatch)
    assert parsed.to_dict() == sent
    key = load_public_key(sandbox_server.dana_public_key_pem)
    assert grade_notification(key, PATH, headers, raw_body) == []
    assert checks.match({"$type": "notify_time"}, sent["createdTime"], "createdTime") == []


def test_grader_fails_a_time_in_neither_form(sandbox_server):
    from conformance.snap.signature import sign, string_to_sign
    dana = sandbox_server.sandbox.dana_private_key
    body = json.dumps({"originalPartnerReferenceNo": "r", "originalReferenceNo": "r", "merchantId": "m",
                       "amount": {"value": "1.00", "currency": "IDR"}, "latestTransactionStatus": "00",
                       "createdTime": "2026-01-01 10:00:00", "finishedTime": "1767236400000"},
                      separators=(",", ":")).encode()
    ts = "2026-01-01T10:00:00+07:00"
    headers = {"X-TIMESTAMP": ts, "X-SIGNATURE": sign(dana, string_to_sign("POST", PATH, body, ts)),
               "X-PARTNER-ID": "p", "X-EXTERNAL-ID": "e", "CHANNEL-ID": "DANA", "Content-Type": "application/json"}
    findings = grade_notification(dana.public_key(), PATH, headers, body)
    assert [(f.check, f.received) for f in findings] == [("createdTime", "2026-01-01 10:00:00")]


# A real notification DANA sent, as dana-python's own tests/test_webhook.py records it (epoch milliseconds).
DANA_EPOCH_BODY = (
    '{"amount":{"currency":"IDR","value":"100000.00"},"originalReferenceNo":"20250916111230999500166191900293793",'
    '"merchantId":"216620080007039826152","latestTransactionStatus":"00","additionalInfo":{"paidTime":'
    '"1757998714761","paymentInfo":{"payOptionInfos":[{"transAmount":{"currency":"IDR","value":"100000.00"},'
    '"payAmount":{"currency":"IDR","value":"100000.00"},"payMethod":"NETWORK_PAY","payOption":'
    '"NETWORK_PAY_PG_LINKAJA"}],"extendInfo":"{\\"externalPromoInfos\\":[]}"}},"originalPartnerReferenceNo":'
    '"LINKIT25091757998646","createdTime":"1757998647000","finishedTime":"1757998714761",'
    '"transactionStatusDesc":"SUCCESS"}')


def test_danas_own_epoch_body_passes_our_merchant_side_grading(sandbox_server):
    """The finish_notify.yaml fields and the grader accept what DANA sent, signed here with the sandbox key."""
    from conformance.snap.signature import sign, string_to_sign
    dana = sandbox_server.sandbox.dana_private_key
    body = DANA_EPOCH_BODY.encode()
    assert json.loads(body)["additionalInfo"]["paymentInfo"]["extendInfo"] == '{"externalPromoInfos":[]}'
    ts = "2025-09-16T11:58:35+07:00"
    headers = {"X-TIMESTAMP": ts, "X-SIGNATURE": sign(dana, string_to_sign("POST", PATH, body, ts)),
               "X-PARTNER-ID": "p", "X-EXTERNAL-ID": "e", "CHANNEL-ID": "DANA", "Content-Type": "application/json"}
    expected = {"originalPartnerReferenceNo": "LINKIT25091757998646", "transactionStatusDesc": "SUCCESS",
                "createdTime": {"$type": "notify_time"}, "finishedTime": {"$type": "notify_time"}}
    assert grade_notification(dana.public_key(), PATH, headers, body) == []
    assert checks.body(expected, json.loads(body)) == []
