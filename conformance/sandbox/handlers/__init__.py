"""One small handler per Widget API: ``HANDLERS[api_name](sandbox, call) -> (ResponseCode, extra)``."""

from conformance.sandbox.handlers import payments

HANDLERS = {
    "widget_payment": payments.widget_payment,
    "query_payment": payments.query_payment,
    "cancel_order": payments.cancel_order,
    "refund_order": payments.refund_order,
}
