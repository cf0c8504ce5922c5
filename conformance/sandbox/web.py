"""Hosted pages of the embedded sandbox: OAuth/login, agreement, PIN and checkout (protocol reference 7).

Plain server-rendered HTML (Jinja2, templates/) carrying the CSS hooks of section 7.5, so DANA's own UAT
scripts (7.2, 7.4) and our page objects (conformance/browser/pages.py) drive them unchanged.

Page flow chosen for binding (7.2 current scripts; 7.3; 5.1 steps 2-4):
  entry GET  /v1.0/get-auth-code, /n/ipg/oauth (API mode query, 5.2) and /n/link/binding, /n/link/bind,
             /bindSnap (deeplink forms, 5.3) -> query validated -> phone page
  phone      `.desktop-input > input.txt-input-phone-number-field[type=tel][maxlength=13]`, pre-filled from
             seamlessData `mobile`/`mobileNumber`; submit `.agreement__button > button.btn-continue` "LANJUTKAN"
  agreement  consent text + `button.btn-continue.fs-unmask.btn.btn-primary` (the optional consent click of 7.2
             step 6; the older Java script, which goes from phone straight to PIN, does not handle it)
  PIN        `.input-pin > input.txt-input-pin-field[maxlength=6][inputmode=numeric]`, no button: a few lines of
             JS submit it after six digits (7.2 step 7); a wrong PIN stays on the page with `.error-message`
  redirect   302 to redirectUrl + responseCode=2001000&responseMessage=Successful&authCode=..&state=.. (the
             Widget Binding guide's sample, 5.8), appended to any query the redirectUrl already has.
Invalid entry queries render `.error-page .error-message` (HTTP 400), never a redirect with an error.

Checkout (7.4): /n/cashier/new/checkout?bizNo=..[&ott=..]. A valid OTT logs the user in and shows the pay
button at once; without one (or with a used/expired one) the payment-method list comes first, then phone,
PIN and pay. An order that can no longer be paid shows the pay button directly and paying it renders
`.card-header-content__title.lbl-failed-payment` -- that is how DANA's scripts check "already paid" (7.4 step 8).
The checkout `sign` parameter is not verified: no source documents what DANA signs there.

Flow state lives server-side, keyed by a random session id in a hidden field or the query: no PIN,
token or auth code is ever written into the HTML.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from conformance.binding import KNOWN_SCOPES, seamless_sign_problem

from conformance.sandbox.responses import BodyProblem, read_body
from conformance.sandbox.responses import SafeHTMLResponse as HTMLResponse
from conformance.sandbox.store import OrderNotPayable, normalise_phone

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))

BIND_ENTRY_PATHS = ("/v1.0/get-auth-code", "/n/ipg/oauth", "/n/link/binding", "/n/link/bind", "/bindSnap")
DEEPLINK_ENTRY_PATHS = ("/n/link/binding", "/n/link/bind", "/bindSnap")
REQUIRED_API = ("partnerId", "scopes", "externalId", "channelId", "redirectUrl", "timestamp", "state")
REQUIRED_DEEPLINK = ("partnerId", "scopes", "redirectUrl", "state")   # the 5.3 example has no others
MAX_STATE = 64          # doc says 32, but every SDK sends a 36-character UUID4 and DANA accepts it (5.7)
SESSION_TTL = 30 * 60
MAX_SESSIONS = 5000
SCOPE_TEXT = {
    "CASHIER": "Membayar di halaman kasir DANA",
    "AGREEMENT_PAY": "Membayar otomatis dengan persetujuan",
    "QUERY_BALANCE": "Melihat saldo DANA",
    "DEFAULT_BASIC_PROFILE": "Melihat profil dasar (disamarkan)",
    "MINI_DANA": "Membuka Mini DANA",
    "PUBLIC_ID": "Melihat ID publik pengguna",
}


class _Sessions:
    """Page-flow state keyed by an unguessable id; bounded in size and age."""

    def __init__(self):
        self._lock = threading.Lock()
        self._data: OrderedDict[str, tuple[float, dict]] = OrderedDict()

    def new(self, **values) -> str:
        sid = secrets.token_urlsafe(18)
        with self._lock:
            self._data[sid] = (time.monotonic(), dict(values))
            while len(self._data) > MAX_SESSIONS:
                self._data.popitem(last=False)
        return sid

    def get(self, sid: str | None) -> dict | None:
        with self._lock:
            item = self._data.get(sid or "")
            if item is None or time.monotonic() - item[0] > SESSION_TTL:
                return None
            return item[1]

    def drop(self, sid: str) -> None:
        with self._lock:
            self._data.pop(sid, None)


def _render(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status)


def _error(title: str, message: str, reason: str, status: int = 400) -> HTMLResponse:
    return _render("error.html", status, title=title, message=message, reason=reason)


async def _form(request: Request) -> dict[str, str]:
    """The pages' forms are application/x-www-form-urlencoded; the stdlib parses them.

    An unreadable form (too large, too slow) reads as empty, which every page treats as an expired session.
    """
    try:
        raw = await read_body(request, 64 * 1024)
    except BodyProblem:
        return {}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _mask(phone: str) -> str:
    return phone[:4] + "*" * max(0, len(phone) - 7) + phone[-3:] if len(phone) > 7 else phone


def _with_query(url: str, extra: dict[str, str]) -> str:
    """Append ``extra`` to the query ``url`` already has, keeping the existing text as it was."""
    parts = urlsplit(url)
    query = "&".join(p for p in (parts.query, urlencode(extra)) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _seamless_phone(text: str) -> tuple[str | None, str | None]:
    """(phone or None, problem or None) from the seamlessData JSON text."""
    try:
        data = json.loads(text)
    except ValueError:
        return None, "seamlessData is not JSON"
    if not isinstance(data, dict):
        return None, "seamlessData is not a JSON object"
    phone = data.get("mobile") or data.get("mobileNumber")        # 5.5: SDK helpers send `mobile`
    return (str(phone) if phone else None), None


def page_routes(sandbox) -> list[Route]:
    sessions = _Sessions()
    store = sandbox.store

    # ---------------------------------------------------------------------------------- binding
    def validate_bind(request: Request) -> tuple[dict | None, HTMLResponse | None]:
        q = request.query_params         # decoded exactly once by the HTTP layer (3.7, 9.4 item 27)
        deeplink = request.url.path in DEEPLINK_ENTRY_PATHS
        missing = [n for n in (REQUIRED_DEEPLINK if deeplink else REQUIRED_API) if not q.get(n)]
        if missing:
            return None, _error("Permintaan tidak valid", f"Missing mandatory parameter: {', '.join(missing)}",
                                "missing_parameter")
        merchant = store.get_merchant(q["partnerId"])
        if merchant is None:
            return None, _error("Merchant tidak dikenal", f"Unknown partnerId {q['partnerId']}", "unknown_partner")
        if q.get("merchantId") and q["merchantId"] != merchant.merchant_id:
            return None, _error("Merchant tidak cocok", "merchantId does not belong to partnerId",
                                "merchant_mismatch")
        redirect = urlsplit(q["redirectUrl"])
        if redirect.scheme not in ("http", "https") or not redirect.netloc:
            return None, _error("Permintaan tidak valid", "redirectUrl must be an absolute http(s) URL",
                                "invalid_redirect_url")
        if len(q["state"]) > MAX_STATE:
            return None, _error("Permintaan tidak valid", f"state is longer than {MAX_STATE} characters",
                                "invalid_state")
        scopes = [s.strip() for s in q["scopes"].split(",") if s.strip()]
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown or not scopes:
            return None, _error("Permintaan tidak valid", f"Invalid scopes: {', '.join(unknown) or '(none)'}",
                                "invalid_scopes")
        phone = None
        if "seamlessData" in q:
            phone, problem = _seamless_phone(q["seamlessData"])
            if problem is None and not q.get("seamlessSign"):
                problem = "seamlessSign is required with seamlessData"
            if problem is None:
                found = seamless_sign_problem(merchant.public_key, q["seamlessData"], q["seamlessSign"])
                problem = found and f"seamlessSign {found[0]}"
            if problem:
                return None, _error("Tanda tangan tidak valid", problem, "invalid_seamless_sign")
        return {"partner_id": merchant.partner_id, "merchant_id": merchant.merchant_id, "scopes": scopes,
                "redirect_url": q["redirectUrl"], "state": q["state"], "seamless_phone": phone}, None

    def phone_page(sid: str, flow: dict, action: str, heading: str, error: str | None = None, status=200,
                   order=None) -> HTMLResponse:
        return _render("phone.html", status, sid=sid, action=action, heading=heading, error=error, order=order,
                       phone=flow.get("typed") or flow.get("seamless_phone") or "")

    def pin_page(sid: str, flow: dict, action: str, error: str | None = None) -> HTMLResponse:
        return _render("pin.html", sid=sid, action=action, error=error, masked_phone=_mask(flow["phone"]))

    def bind_entry(request: Request):
        flow, problem = validate_bind(request)
        if problem:
            return problem
        sid = sessions.new(**flow, step="phone")
        return phone_page(sid, flow, "/n/ipg/oauth/phone", "Masuk ke DANA")

    async def bind_phone(request: Request):
        form = await _form(request)
        sid, flow = form.get("sid", ""), sessions.get(form.get("sid"))
        if flow is None:
            return _error("Sesi berakhir", "This binding session expired; start again", "session_expired")
        typed = str(form.get("phone", "")).strip()
        flow["typed"] = typed
        user = store.find_user(typed)
        if user is None:
            return phone_page(sid, flow, "/n/ipg/oauth/phone", "Masuk ke DANA",
                              "Nomor HP belum terdaftar di DANA (phone number not registered)")
        seamless = flow.get("seamless_phone")
        if seamless and normalise_phone(seamless) != normalise_phone(typed):
            # 5.1 step 2: with seamlessData the account must be the one the merchant named.
            return phone_page(sid, flow, "/n/ipg/oauth/phone", "Masuk ke DANA",
                              "Nomor HP tidak sesuai dengan seamlessData (phone differs from seamlessData)")
        flow.update(phone=user.phone, step="agreement")
        return RedirectResponse(f"/n/ipg/oauth/agreement?sid={sid}", status_code=303)

    def bind_agreement(request: Request):
        sid = request.query_params.get("sid", "")
        flow = sessions.get(sid)
        if flow is None or flow.get("step") not in ("agreement", "pin"):
            return _error("Sesi berakhir", "This binding session expired; start again", "session_expired")
        return _render("agreement.html", sid=sid, action="/n/ipg/oauth/agreement", merchant_id=flow["merchant_id"],
                       masked_phone=_mask(flow["phone"]), scopes=flow["scopes"], scope_text=SCOPE_TEXT)

    async def bind_agree(request: Request):
        form = await _form(request)
        sid, flow = form.get("sid", ""), sessions.get(form.get("sid"))
        if flow is None or flow.get("step") not in ("agreement", "pin"):
            return _error("Sesi berakhir", "This binding session expired; start again", "session_expired")
        flow["step"] = "pin"
        return RedirectResponse(f"/n/ipg/oauth/pin?sid={sid}", status_code=303)

    def bind_pin_page(request: Request):
        sid = request.query_params.get("sid", "")
        flow = sessions.get(sid)
        if flow is None or flow.get("step") != "pin":
            return _error("Sesi berakhir", "This binding session expired; start again", "session_expired")
        return pin_page(sid, flow, "/n/ipg/oauth/pin")

    async def bind_pin(request: Request):
        form = await _form(request)
        sid, flow = form.get("sid", ""), sessions.get(form.get("sid"))
        if flow is None or flow.get("step") != "pin":
            return _error("Sesi berakhir", "This binding session expired; start again", "session_expired")
        user = store.find_user(flow["phone"])
        if user is None or form.get("pin") != user.pin:
            return pin_page(sid, flow, "/n/ipg/oauth/pin", "PIN salah (wrong PIN)")
        code = store.issue_auth_code(flow["partner_id"], user.phone, flow["scopes"], flow["redirect_url"],
                                     flow["state"])
        sessions.drop(sid)
        target = _with_query(flow["redirect_url"], {"responseCode": "2001000", "responseMessage": "Successful",
                                                    "authCode": code, "state": flow["state"]})
        return RedirectResponse(target, status_code=302)

    # ---------------------------------------------------------------------------------- checkout
    def payable(order) -> bool:
        return order.status in ("INIT", "PAYING") and sandbox.clock.now() < order.expires_at

    def checkout_flow(sid: str):
        flow = sessions.get(sid)
        order = store.get_order(flow["biz_no"]) if flow else None
        return flow, order

    def expired():
        return _error("Sesi berakhir", "This checkout session expired; open the payment link again",
                      "session_expired")

    def checkout_entry(request: Request):
        biz_no = request.query_params.get("bizNo", "")
        order = store.get_order(biz_no)
        if order is None:
            return _error("Pesanan tidak ditemukan", f"Order {biz_no or '(no bizNo)'} not found", "unknown_order", 404)
        if not payable(order):        # nothing to log in for: show pay, which answers lbl-failed-payment
            sid = sessions.new(biz_no=biz_no, phone=None)
            return RedirectResponse(f"/n/cashier/new/pay?sid={sid}", status_code=303)
        ott = request.query_params.get("ott")
        user = store.redeem_ott(ott, order.partner_id) if ott else None
        sid = sessions.new(biz_no=biz_no, phone=user.phone if user else None)
        if user is not None:          # 7.4 "With OTT": already logged in; drop the OTT from the address bar
            return RedirectResponse(f"/n/cashier/new/pay?sid={sid}", status_code=303)
        notice = "Sesi login tidak berlaku lagi; silakan masuk (the OTT is used or expired)" if ott else None
        return _render("methods.html", order=order, notice=notice, login_url=f"/n/cashier/new/login?sid={sid}")

    def checkout_login_page(request: Request):
        sid = request.query_params.get("sid", "")
        flow, order = checkout_flow(sid)
        if order is None:
            return expired()
        return phone_page(sid, flow, "/n/cashier/new/login", "Bayar dengan DANA", order=order)

    async def checkout_login(request: Request):
        form = await _form(request)
        sid = str(form.get("sid", ""))
        flow, order = checkout_flow(sid)
        if order is None:
            return expired()
        typed = str(form.get("phone", "")).strip()
        flow["typed"] = typed
        user = store.find_user(typed)
        if user is None:
            return phone_page(sid, flow, "/n/cashier/new/login", "Bayar dengan DANA",
                              "Nomor HP belum terdaftar di DANA (phone number not registered)", order=order)
        flow.update(candidate=user.phone, phone=None)
        return RedirectResponse(f"/n/cashier/new/pin?sid={sid}", status_code=303)

    def checkout_pin_page(request: Request):
        sid = request.query_params.get("sid", "")
        flow, order = checkout_flow(sid)
        if order is None or not flow.get("candidate"):
            return expired()
        return pin_page(sid, {"phone": flow["candidate"]}, "/n/cashier/new/pin")

    async def checkout_pin(request: Request):
        form = await _form(request)
        sid = str(form.get("sid", ""))
        flow, order = checkout_flow(sid)
        if order is None or not flow.get("candidate"):
            return expired()
        user = store.find_user(flow["candidate"])
        if user is None or form.get("pin") != user.pin:
            return pin_page(sid, {"phone": flow["candidate"]}, "/n/cashier/new/pin", "PIN salah (wrong PIN)")
        flow["phone"] = user.phone
        return RedirectResponse(f"/n/cashier/new/pay?sid={sid}", status_code=303)

    def checkout_pay_page(request: Request):
        sid = request.query_params.get("sid", "")
        flow, order = checkout_flow(sid)
        if order is None:
            return expired()
        if payable(order) and not flow.get("phone"):
            return RedirectResponse(f"/n/cashier/new/login?sid={sid}", status_code=303)
        return _render("pay.html", order=order, sid=sid, action="/n/cashier/new/pay",
                       masked_phone=_mask(flow["phone"]) if flow.get("phone") else "")

    async def checkout_pay(request: Request):
        form = await _form(request)
        sid = str(form.get("sid", ""))
        flow, order = checkout_flow(sid)
        if order is None:
            return expired()
        if payable(order) and not flow.get("phone"):
            return RedirectResponse(f"/n/cashier/new/login?sid={sid}", status_code=303)
        try:
            sandbox.pay_order(order.reference_no, flow.get("phone") or "")
            flow["result"] = ("success", "")
        except OrderNotPayable as exc:
            flow["result"] = ("failed", getattr(exc, "reason", str(exc)))
        return RedirectResponse(f"/n/cashier/new/result?sid={sid}", status_code=303)

    def checkout_result(request: Request):
        sid = request.query_params.get("sid", "")
        flow, order = checkout_flow(sid)
        if order is None or "result" not in flow:
            return expired()
        outcome, reason = flow["result"]
        return_url = None
        if order.pay_return_url and outcome == "success":      # 5.11
            return_url = _with_query(order.pay_return_url, {
                "originalReferenceNo": order.reference_no, "originalPartnerReferenceNo": order.partner_reference_no,
                "merchantId": order.merchant_id, "status": order.status})
        return _render("result.html", success=outcome == "success", reason=reason, order=order,
                       return_url=return_url)

    routes = [Route(path, bind_entry, methods=["GET"]) for path in BIND_ENTRY_PATHS]
    routes += [
        Route("/n/ipg/oauth/phone", bind_phone, methods=["POST"]),
        Route("/n/ipg/oauth/agreement", bind_agreement, methods=["GET"]),
        Route("/n/ipg/oauth/agreement", bind_agree, methods=["POST"]),
        Route("/n/ipg/oauth/pin", bind_pin_page, methods=["GET"]),
        Route("/n/ipg/oauth/pin", bind_pin, methods=["POST"]),
        Route("/n/cashier/new/checkout", checkout_entry, methods=["GET"]),
        Route("/n/cashier/new/login", checkout_login_page, methods=["GET"]),
        Route("/n/cashier/new/login", checkout_login, methods=["POST"]),
        Route("/n/cashier/new/pin", checkout_pin_page, methods=["GET"]),
        Route("/n/cashier/new/pin", checkout_pin, methods=["POST"]),
        Route("/n/cashier/new/pay", checkout_pay_page, methods=["GET"]),
        Route("/n/cashier/new/pay", checkout_pay, methods=["POST"]),
        Route("/n/cashier/new/result", checkout_result, methods=["GET"]),
    ]
    return routes
