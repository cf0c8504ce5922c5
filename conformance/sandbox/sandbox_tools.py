"""DANA's merchant-portal sandbox-tools: the two tools DANA's UAT scripts call, a VA payment and a top-up.

``POST https://dashboard-sandbox.dana.id/merchant-portal-app/api/sandbox-tools/execute`` with
``{"urlEndpoint": ..., "requestBody": {...}}``; the same path is served here, so the scripts need only
the host changed. The scripts check only that the HTTP status is 2xx; the shape of DANA's own answer is
in no public source, so this one says what happened in plain JSON.
  /v1.0/transfer-va/payment.htm  {"virtualAccountNo": paymentCode} pays a Payment Gateway VA order, which
      sends its Finish Notify 00 (dana-id/uat-script test/python/helper/sandbox_tools.py,
      test/go/helper/sandbox_tools.go, test/node/helper/sandboxTools.ts, test/php/helper/Util.php).
  /v1.0/emoney/topup.htm  {"customerNumber", "amount": {"value", "currency"}, ...} credits a sandbox user
      before a widget payment (test/java/src/test/java-browser/id/dana/widget/PaymentWidgetBrowser.java,
      test/php/widget/Scripts/WebAutomation.php topUpUserSaldo).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from starlette.requests import Request
from starlette.routing import Route

from conformance.sandbox.responses import BodyProblem, read_body
from conformance.sandbox.responses import SafeJSONResponse as JSONResponse
from conformance.sandbox.store import OrderNotPayable

PATH = "/merchant-portal-app/api/sandbox-tools/execute"
VA_PAYMENT, TOP_UP = "/v1.0/transfer-va/payment.htm", "/v1.0/emoney/topup.htm"


def _failure(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"success": False, "error": message, **extra}, status_code=status)


def _pay_virtual_account(sandbox, body: dict) -> JSONResponse:
    number = body.get("virtualAccountNo")
    order = sandbox.store.orders_by_payment_code.get(number) if isinstance(number, str) else None
    if order is None:
        return _failure(404, "unknown virtualAccountNo")
    try:
        paid = sandbox.pay_order(order.reference_no, None)
    except OrderNotPayable as exc:
        return _failure(409, exc.reason, orderStatus=order.status)
    return JSONResponse({"success": True, "virtualAccountNo": number, "referenceNo": paid.reference_no,
                         "partnerReferenceNo": paid.partner_reference_no, "status": paid.status})


def _top_up(sandbox, body: dict) -> JSONResponse:
    phone, amount = body.get("customerNumber"), body.get("amount")
    if not isinstance(phone, str) or sandbox.store.find_user(phone) is None:
        return _failure(404, "customerNumber is not a sandbox user")
    try:
        value = Decimal(amount["value"]) if isinstance(amount, dict) and amount.get("currency") == "IDR" else None
    except (InvalidOperation, TypeError):
        value = None
    if value is None or not value.is_finite() or value <= 0:
        return _failure(400, "amount must be a positive IDR value")
    balance = sandbox.store.top_up(phone, value)
    return JSONResponse({"success": True, "customerNumber": phone, "balance": f"{balance:.2f}"})


TOOLS = {VA_PAYMENT: _pay_virtual_account, TOP_UP: _top_up}


def sandbox_tools_routes(sandbox) -> list[Route]:
    async def execute(request: Request):
        try:
            data = json.loads(await read_body(request, 64 * 1024) or b"{}")
        except (BodyProblem, ValueError, UnicodeDecodeError, RecursionError):
            return _failure(400, "body is not JSON")
        tool = TOOLS.get(data.get("urlEndpoint")) if isinstance(data, dict) else None
        if tool is None:
            return _failure(400, f"only these urlEndpoints are emulated: {', '.join(TOOLS)}")
        body = data.get("requestBody")
        return tool(sandbox, body if isinstance(body, dict) else {})

    return [Route(PATH, execute, methods=["POST"])]
