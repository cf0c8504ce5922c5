"""Request field schemas of the Widget APIs, as data (type, mandatory, max length, pattern, enum), and
the top-level fields of each API's response (``RESPONSE_FIELDS``).

Source: the official SDK models ([sdk-models], dana-python dana/widget/v1/models/*), the
only complete statement of DANA's request formats. Transaction History List has no SDK model: its
schema follows the UAT fixture and SNAP's Transaction History List ([doc-history]; docs/sandbox.md).

Conventions (chosen to accept what DANA's own fixtures send, [uat-fixtures]):
* ``required`` means present and not null. A required string that is empty counts as missing unless
  ``allow_empty`` (the SDK accepts ``mcc: ""``; fixtures send ``isDeeplink: ""``).
* An optional string that is empty is treated as absent (fixtures send ``""`` for most envInfo
  fields and for ``originalReferenceNo``), so its pattern and enum are not applied.
* ``label`` is the name an error message uses; Money sub-fields report their parent's name
  (``4005401 Invalid Field Format amount``, ``4005801 ... refundAmount``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

AMOUNT_PATTERN = r"^\d+\.\d{2}$"                                   # [sdk-models] (Money.value)
JAKARTA_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$"    # [sdk-header]
LAT_LONG_PATTERN = r"^[-+]?[0-9]{1,3}([.][0-9]{1,8})?$"              # wider than the SDK's, see below
TERMINAL_TYPES = ("APP", "WEB", "WAP", "SYSTEM")


@dataclass(frozen=True)
class Field:
    type: str                                   # string | object | array | boolean | any
    required: bool = False
    max_len: int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    allow_empty: bool = False
    fields: dict[str, "Field"] | None = None    # object members (None: free object)
    items: "Field | None" = None                # array item schema
    label: str | None = None                    # name used in messages (default: dotted path)
    numeric: bool = False                       # string of digits, or an integer (pageSize)
    extra: dict = field(default_factory=dict)


def S(max_len: int | None = None, *, req: bool = False, pattern: str | None = None,
      enum: tuple[str, ...] | None = None, allow_empty: bool = False, label: str | None = None,
      numeric: bool = False) -> Field:
    return Field("string", req, max_len, pattern, enum, allow_empty, label=label, numeric=numeric)


def O(fields: dict[str, Field] | None = None, *, req: bool = False) -> Field:
    return Field("object", req, fields=fields)


def A(items: Field, *, req: bool = False, label: str | None = None) -> Field:
    return Field("array", req, items=items, label=label)


def B(*, req: bool = False) -> Field:
    return Field("boolean", req)


def money(name: str, *, req: bool = False) -> Field:
    """Money {value, currency}; errors name the Money field itself (``amount``, ``refundAmount``)."""
    return O({"value": S(19, req=True, pattern=AMOUNT_PATTERN, label=name),
              "currency": S(3, req=True, label=name)}, req=req)


FREE = O()
TS = S(25, pattern=JAKARTA_PATTERN)

# additionalInfo of the customer-token APIs ([sdk-models]). The SDK's latitude/longitude pattern
# rejects every longitude >= 100 ([sdk-validation]); the sandbox accepts 3-digit degrees.
CUSTOMER_INFO = {
    "accessToken": S(512, req=True),
    "deviceId": S(400, req=True),
    "endUserIpAddress": S(15),
    "latitude": S(10, pattern=LAT_LONG_PATTERN),
    "longitude": S(11, pattern=LAT_LONG_PATTERN),
}

_BUYER = O({"externalUserType": S(32), "nickname": S(64), "externalUserId": S(32), "userId": S(32)})
_GOODS = O({"name": S(64, req=True), "merchantGoodsId": S(64, req=True), "description": S(1024, req=True),
            "category": S(64, req=True), "price": money("price", req=True), "unit": S(64),
            "quantity": S(16, req=True), "merchantShippingId": S(64), "snapshotUrl": S(512),
            "extendInfo": S(4096)})
_SHIPPING = O({"merchantShippingId": S(64, req=True), "trackingNo": S(64), "carrier": S(64),
               "chargeAmount": money("chargeAmount"), "countryName": S(64, req=True),
               "stateName": S(64, req=True), "cityName": S(64, req=True), "areaName": S(64),
               "address1": S(256, req=True), "address2": S(256), "firstName": S(64, req=True),
               "lastName": S(64, req=True), "mobileNo": S(32), "phoneNo": S(32),
               "zipCode": S(32, req=True), "email": S(128), "faxNo": S(32)})
_ORDER = O({"orderTitle": S(64, req=True), "buyer": _BUYER, "seller": _BUYER,
            "merchantTransType": S(64), "orderMemo": S(64), "createdTime": TS,
            "goods": A(_GOODS), "shippingInfo": A(_SHIPPING), "internationalOrderInfo": FREE,
            "extendInfo": S(4096)}, req=True)
_ENV_INFO = O({"terminalType": S(32, req=True, enum=TERMINAL_TYPES), "sourcePlatform": S(32, enum=("IPG",)),
               "orderTerminalType": S(32, enum=TERMINAL_TYPES), "sessionId": S(128), "tokenId": S(128),
               "websiteLanguage": S(16), "clientIp": S(32), "osType": S(128), "appVersion": S(128),
               "sdkVersion": S(128), "orderOsType": S(128), "merchantAppVersion": S(128),
               "extendInfo": S(4096), "clientKey": S(64)}, req=True)
_PAY_OPTION = O({"payMethod": S(64, req=True), "payOption": S(64, req=True, allow_empty=True),
                 "transAmount": money("transAmount"), "feeAmount": money("feeAmount"),
                 "cardToken": S(64), "merchantToken": S(64), "additionalInfo": FREE})
_URL_PARAM = O({"url": S(512, req=True), "type": S(32, req=True, enum=("PAY_RETURN", "NOTIFICATION")),
                "isDeeplink": S(1, req=True, allow_empty=True)})

SCHEMAS: dict[str, Field] = {
    # [sdk-models]; the grant decides which of authCode/refreshToken is mandatory (see GRANT_FIELD).
    "apply_token": O({
        "grantType": S(64, req=True, enum=("AUTHORIZATION_CODE", "REFRESH_TOKEN")),
        "authCode": S(256), "refreshToken": S(512), "additionalInfo": FREE}),
    # [sdk-models]: the only resource is OTT -> 4004901 "Invalid Field Format userResources".
    "apply_ott": O({
        "userResources": A(S(64, enum=("OTT",), label="userResources"), req=True),
        "additionalInfo": O(CUSTOMER_INFO, req=True)}),
    # [sdk-models]
    "widget_payment": O({
        "partnerReferenceNo": S(64, req=True), "merchantId": S(64, req=True), "subMerchantId": S(32),
        "amount": money("amount", req=True), "externalStoreId": S(64),
        "validUpTo": S(25, req=True, pattern=JAKARTA_PATTERN), "pointOfInitiation": S(20),
        "disabledPayMethods": S(64), "payOptionDetails": A(_PAY_OPTION),
        "additionalInfo": O({"productCode": S(32, req=True), "order": _ORDER,
                             "mcc": S(64, req=True, allow_empty=True), "envInfo": _ENV_INFO,
                             "supportDeepLinkCheckoutUrl": S(64), "phoneNumber": S(64),
                             "publicUserId": S(64), "serviceInfo": FREE, "extendInfo": S(4096)},
                            req=True),
        "urlParams": A(_URL_PARAM)}),
    # [sdk-models]
    "query_payment": O({
        "originalPartnerReferenceNo": S(64), "originalReferenceNo": S(64), "originalExternalId": S(36),
        "serviceCode": S(2, req=True), "transactionDate": TS, "amount": money("amount"),
        "merchantId": S(64, req=True), "subMerchantId": S(32), "externalStoreId": S(64),
        "additionalInfo": FREE}),
    # [sdk-models]
    "cancel_order": O({
        "originalPartnerReferenceNo": S(64, req=True), "originalReferenceNo": S(64),
        "originalExternalId": S(36), "merchantId": S(64, req=True), "subMerchantId": S(32),
        "reason": S(256), "externalStoreId": S(64), "amount": money("amount"), "additionalInfo": FREE}),
    # [sdk-models]
    "refund_order": O({
        "merchantId": S(64, req=True), "subMerchantId": S(32), "originalReferenceNo": S(64),
        "originalPartnerReferenceNo": S(64, req=True), "originalExternalId": S(36),
        "originalCaptureNo": S(64), "partnerRefundNo": S(64, req=True),
        "refundAmount": money("refundAmount", req=True), "externalStoreId": S(64), "reason": S(256),
        "additionalInfo": FREE}),
    # [sdk-models]
    "balance_inquiry": O({
        "partnerReferenceNo": S(64), "balanceTypes": A(S(70), label="balanceTypes"),
        "additionalInfo": O(CUSTOMER_INFO, req=True)}),
    # [sdk-models]
    "account_unbinding": O({
        "merchantId": S(64, req=True), "subMerchantId": S(32), "partnerReferenceNo": S(64),
        "linkId": S(24), "tokenId": S(128), "additionalInfo": O(CUSTOMER_INFO, req=True)}),
    # [doc-history] (UAT fixture TransactionList) in SNAP's shape; times accept +07:00 or Z.
    "transaction_history_list": O({
        "partnerReferenceNo": S(64), "fromDateTime": S(25, req=True), "toDateTime": S(25, req=True),
        "pageSize": S(3, numeric=True), "pageNumber": S(5, numeric=True),
        "additionalInfo": O({**CUSTOMER_INFO, "deviceId": S(400),
                             "types": A(S(32, enum=("PAYMENT", "REFUND", "OFFLINE_TOPUP", "TOP_UP",
                                                    "REBATE"), label="types")),
                             "statuses": A(S(32, enum=("PROCESSING", "SUCCESS", "CLOSED", "FAILED",
                                                       "INIT", "REVOKED"), label="statuses"))},
                            req=True)}),
}

# Apply Token: the field each grant makes mandatory ([sdk-models], "conditional").
GRANT_FIELD = {"AUTHORIZATION_CODE": "authCode", "REFRESH_TOKEN": "refreshToken"}

# Top-level response fields per API besides responseCode and responseMessage, from the official SDK's
# response models (dana-python dana/widget/v1/models/*_response.py); Transaction History List has no SDK
# model: SNAP's Transaction History List response. extra_fields WARNs about any other field.
RESPONSE_FIELDS: dict[str, tuple[str, ...]] = {
    "widget_payment": ("referenceNo", "partnerReferenceNo", "webRedirectUrl", "additionalInfo"),
    "apply_token": ("tokenType", "accessToken", "accessTokenExpiryTime", "refreshToken",
                    "refreshTokenExpiryTime", "additionalInfo"),
    "apply_ott": ("userResources", "additionalInfo"),
    "query_payment": ("originalPartnerReferenceNo", "originalReferenceNo", "originalExternalId", "serviceCode",
                      "latestTransactionStatus", "transactionStatusDesc", "originalResponseCode",
                      "originalResponseMessage", "sessionId", "requestID", "transAmount", "amount", "feeAmount",
                      "paidTime", "title", "additionalInfo"),
    "cancel_order": ("originalReferenceNo", "originalPartnerReferenceNo", "originalExternalId", "cancelTime",
                     "transactionDate", "additionalInfo"),
    "refund_order": ("originalReferenceNo", "originalPartnerReferenceNo", "originalExternalId",
                     "originalCaptureNo", "refundNo", "partnerRefundNo", "refundAmount", "refundTime",
                     "additionalInfo"),
    "balance_inquiry": ("referenceNo", "partnerReferenceNo", "name", "accountInfos", "additionalInfo"),
    "account_unbinding": ("referenceNo", "partnerReferenceNo", "merchantId", "subMerchantId", "linkId",
                          "unlinkResult", "additionalInfo"),
    "transaction_history_list": ("referenceNo", "partnerReferenceNo", "detailData", "additionalInfo"),
    # the merchant's answer to a Finish Notify (DANA -> merchant)
    "finish_notify": (),
}
