"""The Widget API table: name -> method, path, service code, header family ([sdk-widget-api]).

Header families ([sdk-header]):
  apply_token  X-TIMESTAMP, X-SIGNATURE over ``clientId|timestamp``, X-CLIENT-KEY (+ X-PARTNER-ID, CHANNEL-ID)
  b2b          X-TIMESTAMP, X-SIGNATURE, X-PARTNER-ID, X-EXTERNAL-ID, CHANNEL-ID, ORIGIN
  b2b2c        b2b plus Authorization-Customer, X-DEVICE-ID, X-IP-ADDRESS, X-LATITUDE, X-LONGITUDE
  notify       what DANA sends with Finish Notify (b2b headers, signed with DANA's key)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class API:
    name: str
    title: str
    method: str
    path: str
    service: str            # two-digit SNAP service code
    family: str             # header family, see module docstring
    alt_paths: tuple[str, ...] = field(default=())
    sdk_method: str | None = None
    success_status: int = 200

    @property
    def success_code(self) -> str:
        return f"{self.success_status}{self.service}00"

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path, *self.alt_paths)


_TABLE = (
    API("apply_token", "Apply Token (B2B2C)", "POST", "/v1.0/access-token/b2b2c.htm", "74",
        "apply_token", sdk_method="apply_token"),
    API("apply_ott", "Apply OTT", "POST", "/rest/v1.1/qr/apply-ott", "49", "b2b2c",
        sdk_method="apply_ott"),
    API("widget_payment", "Direct Debit Payment (Cashier Pay)", "POST",
        "/rest/redirection/v1.0/debit/payment-host-to-host", "54", "b2b", sdk_method="widget_payment"),
    # The SDK and the Python/PHP UAT use /rest/v1.1/debit/status; DANA's Go and Node UAT scripts
    # post to /v1.0/debit/status.htm. Both are served ([uat-fixtures]).
    API("query_payment", "Query Payment", "POST", "/rest/v1.1/debit/status", "55", "b2b",
        alt_paths=("/v1.0/debit/status.htm",), sdk_method="query_payment"),
    API("cancel_order", "Cancel Order", "POST", "/v1.0/debit/cancel.htm", "57", "b2b",
        sdk_method="cancel_order"),
    API("refund_order", "Refund Order", "POST", "/v1.0/debit/refund.htm", "58", "b2b",
        sdk_method="refund_order"),
    API("balance_inquiry", "Balance Inquiry", "POST", "/v1.0/balance-inquiry.htm", "11", "b2b2c",
        sdk_method="balance_inquiry"),
    API("account_unbinding", "Account Unbinding", "POST", "/v1.0/registration-account-unbinding.htm",
        "09", "b2b2c", sdk_method="account_unbinding"),
    # No SDK implements it. Choice: the documented service code 12 (DANA API reference
    # transaction-history), not the UAT fixture's 60, which is QRIS CPM's code and was never run.
    API("transaction_history_list", "Transaction History List", "POST",
        "/v1.0/transaction-history-list.htm", "12", "b2b2c"),
    API("finish_notify", "Finish Notify (DANA -> merchant)", "POST", "/v1.0/debit/notify", "56",
        "notify"),
)

APIS: dict[str, API] = {api.name: api for api in _TABLE}
_BY_PATH: dict[str, API] = {p: api for api in _TABLE if api.family != "notify" for p in api.paths}

# Service 10 is the browser redirect of Get OAuth 2.0 URL (success 2001000), not a server call.
OAUTH_SERVICE = "10"


def get_api(name: str) -> API:
    try:
        return APIS[name]
    except KeyError:
        known = ", ".join(sorted(APIS))
        raise KeyError(f"unknown API {name!r}; known APIs: {known}") from None


def api_by_path(path: str) -> API | None:
    return _BY_PATH.get(path)
