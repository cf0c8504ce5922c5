"""One small handler per Widget API: ``HANDLERS[api_name](sandbox, call) -> (ResponseCode, extra)``."""

from conformance.sandbox.handlers import accounts, gateway, payments

HANDLERS = {
    "widget_payment": payments.widget_payment,
    "query_payment": payments.query_payment,
    "cancel_order": payments.cancel_order,
    "refund_order": payments.refund_order,
    "pg_create_order": gateway.create_order,
    "apply_token": accounts.apply_token,
    "apply_ott": accounts.apply_ott,
    "balance_inquiry": accounts.balance_inquiry,
    "account_unbinding": accounts.account_unbinding,
    "transaction_history_list": accounts.transaction_history_list,
}
