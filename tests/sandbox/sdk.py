"""The official dana-python SDK pointed at the embedded sandbox ([sdk-widget-api])."""

from __future__ import annotations

import json
import uuid

from dana.api_client import ApiClient
from dana.exceptions import ApiException
from dana.utils.snap_configuration import AuthSettings, Env, SnapConfiguration
from dana.widget.v1 import WidgetApi
from dana.widget.v1.models import (
    AccountUnbindingRequest,
    AccountUnbindingRequestAdditionalInfo,
    ApplyOTTRequest,
    ApplyOTTRequestAdditionalInfo,
    ApplyTokenAuthorizationCodeRequest,
    ApplyTokenRefreshTokenRequest,
    BalanceInquiryRequest,
    BalanceInquiryRequestAdditionalInfo,
    CancelOrderRequest,
    Money,
    QueryPaymentRequest,
    RefundOrderRequest,
    RefundOrderRequestAdditionalInfo,
    WidgetPaymentRequest,
)

from conformance.snap import private_key_pem


def widget_api(base_url: str, key, partner_id: str) -> WidgetApi:
    config = SnapConfiguration(api_key=AuthSettings(
        PRIVATE_KEY=private_key_pem(key), ORIGIN="https://merchant.example", X_PARTNER_ID=partner_id,
        ENV=Env.SANDBOX, DANA_ENV=Env.SANDBOX))
    config.host = base_url                  # after construction, or the SDK keeps its own host
    return WidgetApi(ApiClient(config))


def error(call) -> tuple[int, str, str]:
    """Run an SDK call that must fail; (HTTP status, responseCode, responseMessage) of the answer."""
    try:
        call()
    except ApiException as exc:
        body = json.loads(exc.body)
        assert str(exc.status) == body["responseCode"][:3], body
        return exc.status, body["responseCode"], body["responseMessage"]
    raise AssertionError("the SDK call succeeded but an error was expected")


def money(value: str) -> Money:
    return Money(value=value, currency="IDR")


def auth_code_request(code: str) -> ApplyTokenAuthorizationCodeRequest:
    return ApplyTokenAuthorizationCodeRequest(grant_type="AUTHORIZATION_CODE", auth_code=code,
                                              refresh_token="", additional_info={})


def refresh_request(token: str) -> ApplyTokenRefreshTokenRequest:
    return ApplyTokenRefreshTokenRequest(grant_type="REFRESH_TOKEN", refresh_token=token,
                                         additional_info={})


def ott_request(token: str) -> ApplyOTTRequest:
    return ApplyOTTRequest(user_resources=["OTT"], additional_info=ApplyOTTRequestAdditionalInfo(
        access_token=token, device_id="deviceid123"))


def balance_request(token: str) -> BalanceInquiryRequest:
    return BalanceInquiryRequest(partner_reference_no=str(uuid.uuid4()), balance_types=["BALANCE"],
                                 additional_info=BalanceInquiryRequestAdditionalInfo(
                                     access_token=token, device_id="deviceid123"))


def unbinding_request(merchant_id: str, token: str) -> AccountUnbindingRequest:
    return AccountUnbindingRequest(merchant_id=merchant_id, partner_reference_no=str(uuid.uuid4()),
                                   additional_info=AccountUnbindingRequestAdditionalInfo(
                                       access_token=token, device_id="deviceid123"))


def payment_request(body: dict) -> WidgetPaymentRequest:
    return WidgetPaymentRequest.from_dict(body)


def query_request(merchant_id: str, ref: str, service_code: str = "54") -> QueryPaymentRequest:
    return QueryPaymentRequest(original_partner_reference_no=ref, service_code=service_code,
                               merchant_id=merchant_id, amount=money("1.00"))


def cancel_request(merchant_id: str, ref: str, reference_no: str | None = None) -> CancelOrderRequest:
    return CancelOrderRequest(original_partner_reference_no=ref, original_reference_no=reference_no,
                              merchant_id=merchant_id, reason="Network timeout")


def refund_request(merchant_id: str, ref: str, refund_no: str, amount: str) -> RefundOrderRequest:
    return RefundOrderRequest(merchant_id=merchant_id, original_partner_reference_no=ref,
                              partner_refund_no=refund_no, refund_amount=money(amount),
                              reason="Customer complain",
                              additional_info=RefundOrderRequestAdditionalInfo(env_info={}))
