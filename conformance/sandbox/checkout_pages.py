"""Checkout pages: /n/cashier/new/checkout?bizNo=..[&ott=..] (the webRedirectUrl of Widget Payment).

A valid OTT of the order's own merchant logs the user in and shows the pay button at once; without one
(or with a used, expired or other merchant's one) the payment-method list comes first, then phone, PIN and
pay. An order that can no longer be paid (``Store.is_payable``) shows the pay button directly, and paying it
renders `.card-header-content__title.lbl-failed-payment`: that is how DANA's scripts check "already paid".
The checkout `sign` parameter is not verified: no source documents what DANA signs there.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from conformance.sandbox.store import OrderNotPayable
from conformance.sandbox.web import Expired, error, form, mask, page, phone_page, pin_page, render, with_query

LOGIN, PIN, PAY, RESULT = "/n/cashier/new/login", "/n/cashier/new/pin", "/n/cashier/new/pay", "/n/cashier/new/result"
HEADING = "Bayar dengan DANA"


def _see(path: str, sid: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?sid={sid}", status_code=303)


class CheckoutPages:
    def __init__(self, sandbox, sessions):
        self.sandbox, self.store, self.sessions = sandbox, sandbox.store, sessions

    def _flow(self, sid: str, need: str | None = None):
        """(flow, order) of a live checkout session that has ``need`` set, or Expired."""
        flow = self.sessions.get(sid)
        order = self.store.get_order(flow["biz_no"]) if flow else None
        if order is None or (need and not flow.get(need)):
            raise Expired("checkout")
        return flow, order

    def entry(self, request: Request):
        biz_no = request.query_params.get("bizNo", "")
        order = self.store.get_order(biz_no)
        if order is None:
            return error("Pesanan tidak ditemukan", f"Order {biz_no or '(no bizNo)'} not found", "unknown_order", 404)
        if not self.store.is_payable(order):     # nothing to log in for: pay answers lbl-failed-payment
            return _see(PAY, self.sessions.new(biz_no=biz_no, phone=None))
        ott = request.query_params.get("ott")
        user = self.store.redeem_ott(ott, order.partner_id) if ott else None
        sid = self.sessions.new(biz_no=biz_no, phone=user.phone if user else None)
        if user is not None:                     # already logged in; drop the OTT from the address bar
            return _see(PAY, sid)
        notice = "Sesi login tidak berlaku lagi; silakan masuk (the OTT is used or expired)" if ott else None
        return render("methods.html", order=order, notice=notice, login_url=f"{LOGIN}?sid={sid}")

    def login_form(self, request: Request):
        sid = request.query_params.get("sid", "")
        flow, order = self._flow(sid)
        return phone_page(sid, flow, LOGIN, HEADING, order=order)

    async def login(self, request: Request):
        data = await form(request)
        sid = str(data.get("sid", ""))
        flow, order = self._flow(sid)
        typed = str(data.get("phone", "")).strip()
        flow["typed"] = typed
        user = self.store.find_user(typed)
        if user is None:
            return phone_page(sid, flow, LOGIN, HEADING,
                              "Nomor HP belum terdaftar di DANA (phone number not registered)", order=order)
        flow.update(candidate=user.phone, phone=None)
        return _see(PIN, sid)

    def pin_form(self, request: Request):
        sid = request.query_params.get("sid", "")
        flow, _ = self._flow(sid, "candidate")
        return pin_page(sid, flow["candidate"], PIN)

    async def pin(self, request: Request):
        data = await form(request)
        sid = str(data.get("sid", ""))
        flow, _ = self._flow(sid, "candidate")
        user = self.store.find_user(flow["candidate"])
        if user is None or data.get("pin") != user.pin:
            return pin_page(sid, flow["candidate"], PIN, "PIN salah (wrong PIN)")
        flow["phone"] = user.phone
        return _see(PAY, sid)

    def pay_form(self, request: Request):
        sid = request.query_params.get("sid", "")
        flow, order = self._flow(sid)
        if self.store.is_payable(order) and not flow.get("phone"):
            return _see(LOGIN, sid)
        return render("pay.html", order=order, sid=sid, action=PAY,
                      masked_phone=mask(flow["phone"]) if flow.get("phone") else "")

    async def pay(self, request: Request):
        data = await form(request)
        sid = str(data.get("sid", ""))
        flow, order = self._flow(sid)
        if self.store.is_payable(order) and not flow.get("phone"):
            return _see(LOGIN, sid)
        try:
            self.sandbox.pay_order(order.reference_no, flow.get("phone") or "")
            flow["result"] = ("success", "")
        except OrderNotPayable as exc:
            flow["result"] = ("failed", exc.reason)
        return _see(RESULT, sid)

    def result(self, request: Request):
        sid = request.query_params.get("sid", "")
        flow, order = self._flow(sid, "result")
        outcome, reason = flow["result"]
        return_url = None
        if order.pay_return_url and outcome == "success":      # back to the merchant's PAY_RETURN url
            return_url = with_query(order.pay_return_url, {
                "originalReferenceNo": order.reference_no, "originalPartnerReferenceNo": order.partner_reference_no,
                "merchantId": order.merchant_id, "status": order.status})
        return render("result.html", success=outcome == "success", reason=reason, order=order,
                      return_url=return_url)

    def routes(self) -> list[Route]:
        return [
            Route("/n/cashier/new/checkout", page(self.entry), methods=["GET"]),
            Route(LOGIN, page(self.login_form), methods=["GET"]),
            Route(LOGIN, page(self.login), methods=["POST"]),
            Route(PIN, page(self.pin_form), methods=["GET"]),
            Route(PIN, page(self.pin), methods=["POST"]),
            Route(PAY, page(self.pay_form), methods=["GET"]),
            Route(PAY, page(self.pay), methods=["POST"]),
            Route(RESULT, page(self.result), methods=["GET"]),
        ]
