"""Cross-checks with the official dana-python SDK (the independent client, design.md "Principles").

- The SDK's WidgetApi.widget_payment, pointed at the embedded sandbox with configuration.host, succeeds,
  and its body arrives with spaces after ',' and ':' ([sdk-header]), seen through a loopback relay.
- A request signed by conformance.snap (DanaClient) and one sent by the SDK are both accepted.
- A signature made by dana-python verifies with conformance.snap, and ours with the SDK's verifier.
"""

import json
import uuid
from datetime import timedelta

import httpx
import pytest
from dana.api_client import ApiClient
from dana.utils.snap_configuration import AuthSettings, Env, SnapConfiguration
from dana.utils.snap_header import SnapHeader
from dana.webhook import WebhookParser
from dana.widget.v1 import WidgetApi
from dana.widget.v1.models import (
    EnvInfo,
    Money,
    Order,
    WidgetPaymentRequest,
    WidgetPaymentRequestAdditionalInfo,
)
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from conformance.client.receiver import LoopbackServer
from conformance.client.snap_client import DanaClient, compact_json
from conformance.config.settings import load_settings
from conformance.dana.target import Target
from conformance.snap import apis, format_timestamp, private_key_pem, public_key_pem, sign, string_to_sign, verify
from conformance.snap.signature import apply_token_string_to_sign

PAYMENT_PATH = apis.get_api("widget_payment").path


@pytest.fixture(scope="module")
def target():
    settings = load_settings({}, environ={}, env_file=None)
    with Target(settings) as running:
        yield running


class Relay:
    """A loopback relay in front of the sandbox that keeps the exact bytes it forwards."""

    def __init__(self, upstream: str):
        self.upstream, self.bodies = upstream, []
        self.server = LoopbackServer(Starlette(routes=[Route("/{path:path}", self.forward, methods=["POST"])]))

    async def forward(self, request):
        raw = await request.body()
        self.bodies.append(raw)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with httpx.AsyncClient() as client:
            answer = await client.post(self.upstream + request.url.path, content=raw, headers=headers)
        return Response(answer.content, answer.status_code, media_type="application/json")


def sdk_api(base_url: str, merchant) -> WidgetApi:
    config = SnapConfiguration(api_key=AuthSettings(
        PRIVATE_KEY=private_key_pem(merchant.private_key), ORIGIN=merchant.origin, X_PARTNER_ID=merchant.partner_id,
        ENV=Env.SANDBOX, DANA_ENV=Env.SANDBOX))
    config.host = base_url          # [sdk-widget-api]: assign after construction
    return WidgetApi(ApiClient(config))


def payment_request(target, ref: str) -> WidgetPaymentRequest:
    return WidgetPaymentRequest(
        partner_reference_no=ref, merchant_id=target.merchant.merchant_id, amount=Money(value="1.00", currency="IDR"),
        valid_up_to=format_timestamp(target.now() + timedelta(minutes=15)),
        additional_info=WidgetPaymentRequestAdditionalInfo(
            product_code="51051000100000000001", mcc="5732", order=Order(order_title="SDK order"),
            env_info=EnvInfo(terminal_type="SYSTEM", source_platform="IPG")))


def test_sdk_widget_payment_succeeds_and_sends_spaced_json(target):
    relay = Relay(target.api_base)
    relay.server.start()
    try:
        ref = str(uuid.uuid4())
        response = sdk_api(relay.server.base_url, target.merchant).widget_payment(payment_request(target, ref))
    finally:
        relay.server.stop()
    assert response.response_code == "2005400" and response.partner_reference_no == ref
    (raw,) = relay.bodies
    assert b'", "' in raw and b'": "' in raw       # spaces after ',' and ':' reached the sandbox
    assert json.loads(raw)["partnerReferenceNo"] == ref


def test_our_client_and_the_sdk_are_both_accepted(target):
    body = payment_request(target, str(uuid.uuid4())).to_dict()
    with DanaClient(target.merchant, target.api_base, clock=target.now) as client:
        ours = client.call("widget_payment", body)
    assert ours.status == 200 and ours.json["responseCode"] == "2005400"
    theirs = sdk_api(target.api_base, target.merchant).widget_payment(payment_request(target, str(uuid.uuid4())))
    assert theirs.response_code == "2005400"
    assert ours.request_body == compact_json(body)   # the bytes we hashed are the bytes we sent


def test_sdk_signature_verifies_with_conformance_snap(target):
    key = target.merchant.private_key
    body = json.dumps({"partnerReferenceNo": "r-1", "merchantId": "m"}, separators=(",", ":"))
    auth = SnapHeader.get_snap_generated_auth("POST", PAYMENT_PATH, body, private_key=private_key_pem(key))
    ts, sig = auth["X-TIMESTAMP"]["value"], auth["X-SIGNATURE"]["value"]
    assert verify(key.public_key(), string_to_sign("POST", PAYMENT_PATH, body, ts), sig)
    assert not verify(key.public_key(), string_to_sign("POST", "/v1.0/debit/cancel.htm", body, ts), sig)
    token = SnapHeader.get_snap_generated_auth("POST", "/v1.0/access-token/b2b2c.htm", "{}",
                                               private_key=private_key_pem(key), scenario="apply_token",
                                               client_key=target.merchant.partner_id)
    assert verify(key.public_key(), apply_token_string_to_sign(target.merchant.partner_id,
                                                               token["X-TIMESTAMP"]["value"]),
                  token["X-SIGNATURE"]["value"])


def test_our_signature_verifies_with_the_sdk(monkeypatch, target):
    # The SDK's parser honours a caller's key only outside sandbox mode ([sdk-webhook]).
    monkeypatch.setenv("DANA_ENV", "production")
    key = target.merchant.private_key
    body = ('{"originalPartnerReferenceNo":"r-1","originalReferenceNo":"d-1","merchantId":"m",'
            '"amount":{"value":"1.00","currency":"IDR"},"latestTransactionStatus":"00",'
            '"createdTime":"2026-01-01T10:00:00+07:00","finishedTime":"2026-01-01T10:01:00+07:00",'
            '"additionalInfo":{"paymentInfo":{"cashierRequestId":null,"paidTime":null,'
            '"payOptionInfos":[{"payMethod":"BALANCE","payAmount":{"value":"1.00","currency":"IDR"}}]}}}')
    ts = format_timestamp()
    ours = sign(key, string_to_sign("POST", "/v1.0/debit/notify", body, ts))
    parser = WebhookParser(public_key=public_key_pem(key))
    parsed = parser.parse_webhook("POST", "/v1.0/debit/notify", {"X-TIMESTAMP": ts, "X-SIGNATURE": ours}, body)
    assert parsed.original_partner_reference_no == "r-1"
    with pytest.raises(ValueError, match="Signature verification failed"):
        parser.parse_webhook("POST", "/v1.0/debit/other", {"X-TIMESTAMP": ts, "X-SIGNATURE": ours}, body)
