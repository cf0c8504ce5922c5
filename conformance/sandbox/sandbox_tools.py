"""DANA's merchant-portal sandbox-tools, the one tool DANA's Finish Notify scripts use: a VA payment.

dana-id/uat-script test/python/helper/sandbox_tools.py (and test/go/helper/sandbox_tools.go,
test/node/helper/sandboxTools.ts) post ``{"urlEndpoint": "/v1.0/transfer-va/payment.htm",
"requestBody": {"virtualAccountNo": <paymentCode>}}`` to
``https://dashboard-sandbox.dana.id/merchant-portal-app/api/sandbox-tools/execute`` and check only that the
HTTP status is 2xx. The same path is served here, so the scripts need only the host changed. Paying sends
the order's Finish Notify 00 to its NOTIFICATION url, as a card or balance payment does. The shape of DANA's
own answer is in no public source; this one says what happened in plain JSON.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.routing import Route

from conformance.sandbox.responses import BodyProblem, read_body
from conformance.sandbox.responses import SafeJSONResponse as JSONResponse
from conformance.sandbox.store import OrderNotPayable

PATH = "/merchant-portal-app/api/sandbox-tools/execute"
VA_PAYMENT = "/v1.0/transfer-va/payment.htm"


def sandbox_tools_routes(sandbox) -> list[Route]:
    async def execute(request: Request):
        try:
            data = json.loads(await read_body(request, 64 * 1024) or b"{}")
        except (BodyProblem, ValueError, UnicodeDecodeError, RecursionError):
            return JSONResponse({"success": False, "error": "body is not JSON"}, status_code=400)
        if not isinstance(data, dict) or data.get("urlEndpoint") != VA_PAYMENT:
            return JSONResponse({"success": False, "error": f"only urlEndpoint {VA_PAYMENT} is emulated"},
                                status_code=400)
        body = data.get("requestBody")
        number = body.get("virtualAccountNo") if isinstance(body, dict) else None
        order = sandbox.store.orders_by_payment_code.get(number) if isinstance(number, str) else None
        if order is None:
            return JSONResponse({"success": False, "error": "unknown virtualAccountNo"}, status_code=404)
        try:
            paid = sandbox.pay_order(order.reference_no, None)
        except OrderNotPayable as exc:
            return JSONResponse({"success": False, "error": exc.reason, "status": order.status}, status_code=409)
        return JSONResponse({"success": True, "virtualAccountNo": number, "referenceNo": paid.reference_no,
                             "partnerReferenceNo": paid.partner_reference_no, "status": paid.status})

    return [Route(PATH, execute, methods=["POST"])]
