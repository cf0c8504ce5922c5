"""The admin HTTP API under ``/sandbox-admin`` (JSON in and out, never SNAP-signed; docs/sandbox.md).

It registers merchants, moves the clock, reads and pays orders without a browser, issues auth codes
without a browser (sandbox-only helper), exposes every Finish Notify delivery with its answers and the
graded traffic journal (conformance/sandbox/journal.py documents its JSON), and signs a Finish Notify as
DANA on request (delivered once, or returned) so the suite needs no DANA key.
Any failure is a JSON ``{"error": ...}`` with a 4xx status; an unexpected one a 500, never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging

from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.routing import Route

from conformance.sandbox.access import OPEN_ACCESS, AdminAccess
from conformance.sandbox.responses import BodyProblem, read_body
from conformance.sandbox.responses import SafeJSONResponse as JSONResponse
from conformance.sandbox.store import OrderNotPayable, normalise_phone
from conformance.snap.notify import encode_body
from conformance.snap.orders import LATEST_TRANSACTION_STATUS
from conformance.snap.keys import KeyFormatError
from conformance.snap.timestamps import format_timestamp

PREFIX = "/sandbox-admin"
log = logging.getLogger("conformance.sandbox")


class AdminError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _guard(endpoint):
    @functools.wraps(endpoint)
    async def wrapper(request: Request):
        try:
            return await endpoint(request)
        except AdminError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except Exception:
            log.exception("sandbox admin: unexpected error")
            return JSONResponse({"error": "internal error in the sandbox admin API"}, status_code=500)
    return wrapper


async def _json(request: Request) -> dict:
    try:
        raw = await read_body(request, 64 * 1024)
    except BodyProblem as problem:
        raise AdminError(413 if "large" in problem.reason else 400, problem.reason) from None
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise AdminError(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise AdminError(400, "body must be a JSON object")
    return data


def _text(data: dict, name: str, default: str | None = None) -> str:
    value = data.get(name, default)
    if not isinstance(value, str) or not value:
        raise AdminError(400, f"{name}: a non-empty string is required")
    return value


def _stamp(moment):
    return format_timestamp(moment) if moment else None


def order_json(order) -> dict:
    return {"referenceNo": order.reference_no, "partnerReferenceNo": order.partner_reference_no,
            "merchantId": order.merchant_id, "partnerId": order.partner_id, "amount": order.amount,
            "status": order.status, "title": order.title, "validUpTo": _stamp(order.valid_up_to),
            "createdTime": _stamp(order.created_at), "paidTime": _stamp(order.paid_at),
            "cancelledTime": _stamp(order.cancelled_at), "closedTime": _stamp(order.closed_at),
            "payerPhone": order.payer_phone, "refunded": f"{order.refunded:.2f}",
            "payReturnUrl": order.pay_return_url, "notifyUrl": order.notify_url}


def admin_routes(sandbox, access: AdminAccess = OPEN_ACCESS) -> list[Route]:
    """The admin API as ``access`` serves it (sandbox/access.py): open, behind a token, or not at all."""
    store = sandbox.store

    def clock_json(partner_id: str | None) -> dict:
        if partner_id is None:       # the sandbox's own clock, and every merchant's moved one
            return {"now": sandbox.clock.stamp(), "offsetSeconds": sandbox.clock.offset_seconds,
                    "merchants": sandbox.clock.offsets()}
        return {"partnerId": partner_id, "now": sandbox.clock.stamp(partner_id),
                "offsetSeconds": sandbox.clock.offset(partner_id)}

    def registered(partner_id: str) -> str:
        if store.get_merchant(partner_id) is None:
            raise AdminError(404, f"partnerId {partner_id!r} is not registered")
        return partner_id

    def order_or_404(partner_reference_no: str):
        sandbox.sweep()
        order = store.find_order_any(partner_reference_no)
        if order is None:
            raise AdminError(404, f"no order with partnerReferenceNo {partner_reference_no!r}")
        return order

    @_guard
    async def info(request: Request):
        return JSONResponse({"baseUrl": sandbox.base_url, "danaPublicKey": sandbox.dana_public_key_pem,
                             "now": sandbox.clock.stamp(), "merchants": sorted(store.merchants)})

    @_guard
    async def merchants(request: Request):
        data = await _json(request)
        partner_id = _text(data, "partnerId")
        try:
            sandbox.register_merchant(partner_id, _text(data, "merchantId"), _text(data, "publicKey"))
        except KeyFormatError as exc:
            raise AdminError(400, f"publicKey: {exc}") from None
        return JSONResponse({"registered": partner_id})

    @_guard
    async def clock(request: Request):
        """One merchant's clock (partnerId); a move never touches another merchant's (issue 26)."""
        if request.method == "GET":
            partner_id = request.query_params.get("partnerId")
            return JSONResponse(clock_json(registered(partner_id) if partner_id else None))
        data = await _json(request)
        partner_id = registered(_text(data, "partnerId"))
        seconds = data.get("advanceSeconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 10**9:
            raise AdminError(400, "advanceSeconds: a number between 0 and 1e9 is required")
        sandbox.clock.advance(float(seconds), partner_id)
        return JSONResponse(clock_json(partner_id))

    @_guard
    async def get_order(request: Request):
        return JSONResponse(order_json(order_or_404(request.path_params["ref"])))

    @_guard
    async def pay(request: Request):
        data = await _json(request)
        order = order_or_404(request.path_params["ref"])
        try:
            paid = sandbox.pay_order(order.reference_no, _text(data, "phone", sandbox.default_phone))
        except OrderNotPayable as exc:
            return JSONResponse({"error": exc.reason, "order": order_json(order)}, status_code=409)
        return JSONResponse(order_json(paid))

    @_guard
    async def auth_codes(request: Request):
        data = await _json(request)
        partner_id, phone = registered(_text(data, "partnerId")), _text(data, "phone", sandbox.default_phone)
        if store.find_user(phone) is None:
            raise AdminError(404, f"no sandbox user with phone {phone!r}")
        scopes = data.get("scopes") or ["CASHIER", "AGREEMENT_PAY", "QUERY_BALANCE",
                                        "DEFAULT_BASIC_PROFILE", "MINI_DANA"]
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise AdminError(400, "scopes: a list of strings is required")
        code = store.issue_auth_code(partner_id, phone, scopes, str(data.get("redirectUrl", "")),
                                     str(data.get("state", "")))
        return JSONResponse({"authCode": code, "phone": normalise_phone(phone)})

    @_guard
    async def notifications(request: Request):
        return JSONResponse(sandbox.notifier.deliveries(request.query_params.get("partnerReferenceNo")))

    @_guard
    async def wait_notifications(request: Request):
        data = await _json(request)
        ref = data.get("partnerReferenceNo")
        count, timeout = data.get("count", 1), data.get("timeoutSeconds", 10)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
            raise AdminError(400, "count: an integer between 0 and 1000 is required")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 120:
            raise AdminError(400, "timeoutSeconds: a number between 0 and 120 is required")
        found = await anyio.to_thread.run_sync(sandbox.notifier.wait, ref, count, float(timeout))
        return JSONResponse(found)

    def traffic_filter(data) -> tuple[int, str | None, str | None]:
        since = data.get("since", 0)
        if isinstance(since, str) and since.isdigit():
            since = int(since)
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise AdminError(400, "since: a sequence number (integer >= 0) is required")
        return since, data.get("partnerId") or None, data.get("api") or None

    @_guard
    async def traffic(request: Request):
        since, partner_id, api = traffic_filter(request.query_params)
        limit = request.query_params.get("limit", "")
        if limit and not limit.isdigit():
            raise AdminError(400, "limit: a positive integer is required")
        return JSONResponse(sandbox.journal.entries(since, partner_id, api, int(limit) if limit else None))

    @_guard
    async def faults(request: Request):
        """The fault plan and every fault injected so far (faults.py); both empty without --faults."""
        return JSONResponse(sandbox.faults.to_dict() if sandbox.faults is not None else {"plan": [], "injected": []})

    @_guard
    async def wait_traffic(request: Request):
        data = await _json(request)
        since, partner_id, api = traffic_filter(data)
        count, timeout = data.get("count", 1), data.get("timeoutSeconds", 10)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
            raise AdminError(400, "count: an integer between 0 and 1000 is required")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 120:
            raise AdminError(400, "timeoutSeconds: a number between 0 and 120 is required")
        found = await anyio.to_thread.run_sync(sandbox.journal.wait, since, partner_id, api, count,
                                               float(timeout))
        return JSONResponse(found)       # safe JSON: recorded traffic may hold lone surrogates

    @_guard
    async def send_notification(request: Request):
        """Sign a Finish Notify as DANA: for an order (partnerReferenceNo + status) or for a given body.
        deliver (default true) posts it once and returns the answer; false returns only the signed request.
        timestamp overrides X-TIMESTAMP (signed consistently), e.g. a stale one for a forged delivery."""
        data = await _json(request)
        body, ref = data.get("body"), data.get("partnerReferenceNo")
        if body is not None and not isinstance(body, dict):
            raise AdminError(400, "body: a JSON object is required")
        if body is None and not isinstance(ref, str):
            raise AdminError(400, "partnerReferenceNo (an order) or body is required")
        for name in ("status", "url", "timestamp", "partnerId"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise AdminError(400, f"{name}: a string is required")
        deliver = data.get("deliver", True)
        if not isinstance(deliver, bool):
            raise AdminError(400, "deliver: true or false")
        order = order_or_404(ref) if body is None else None
        url = data.get("url") or (order.notify_url if order else None)
        if not url or urlsplit(url).scheme not in ("http", "https"):
            raise AdminError(400, "url: an http(s) URL is required (the order names no NOTIFICATION url)")
        status = data.get("status") or (LATEST_TRANSACTION_STATUS[order.status] if order else "00")
        raw = sandbox.notifier.body_for(order, status) if order else encode_body(body)
        partner_id = data.get("partnerId") or (order.partner_id if order else "")
        headers = sandbox.notifier.sign(url, raw, partner_id, data.get("timestamp"))
        answer = await sandbox.notifier.post_once(url, headers, raw) if deliver else None
        return JSONResponse({"request": {"url": url, "headers": headers, "body": raw.decode("utf-8")},
                             "answer": answer})

    @_guard
    async def users(request: Request):
        return JSONResponse([{"phone": u.phone, "pin": u.pin, "name": u.name, "role": u.role,
                              "balance": f"{store.balance_of(u.phone):.2f}"} for u in store.users.values()])

    @_guard
    async def magic(request: Request):
        return JSONResponse(sandbox.rules.table())

    async def health(request: Request):
        return JSONResponse({"status": "ok"})        # a probe's answer: no data, no token needed

    return access.mount([
        Route(f"{PREFIX}/info", info, methods=["GET"]),
        Route(f"{PREFIX}/merchants", merchants, methods=["POST"]),
        Route(f"{PREFIX}/clock", clock, methods=["GET", "POST"]),
        Route(f"{PREFIX}/orders/{{ref:path}}/pay", pay, methods=["POST"]),
        Route(f"{PREFIX}/orders/{{ref:path}}", get_order, methods=["GET"]),
        Route(f"{PREFIX}/auth-codes", auth_codes, methods=["POST"]),
        Route(f"{PREFIX}/notifications", notifications, methods=["GET"]),
        Route(f"{PREFIX}/notifications/wait", wait_notifications, methods=["POST"]),
        Route(f"{PREFIX}/notifications/send", send_notification, methods=["POST"]),
        Route(f"{PREFIX}/traffic", traffic, methods=["GET"]),
        Route(f"{PREFIX}/faults", faults, methods=["GET"]),
        Route(f"{PREFIX}/traffic/wait", wait_traffic, methods=["POST"]),
        Route(f"{PREFIX}/users", users, methods=["GET"]),
        Route(f"{PREFIX}/magic", magic, methods=["GET"]),
    ], Route(f"{PREFIX}/health", health, methods=["GET"]))
