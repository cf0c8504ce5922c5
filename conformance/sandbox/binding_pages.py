"""Binding (OAuth) pages: entry query -> phone -> PIN -> 302 to redirectUrl with authCode.

Entry paths: /v1.0/get-auth-code and /n/ipg/oauth (Get OAuth 2.0 URL query) and /n/link/binding,
/n/link/bind, /bindSnap (deeplink forms). An invalid entry query renders `.error-page .error-message`
(HTTP 400), never a redirect with an error.

Page order (docs/sandbox.md "OAuth page order"): phone, then PIN, then the redirect. DANA's Python, Java
and PHP UAT scripts go from the phone straight to the PIN, and its Go and Node scripts click the consent
button only "if visible" (dana-id/uat-script test/*/ OAuth helpers), so no separate consent page stands
between them and the authCode. The agreement the Widget Binding guide shows after authentication is the
PIN page's text: the merchant, the account and the scopes asked for, agreed to by entering the PIN.
  phone  `.desktop-input > input.txt-input-phone-number-field[type=tel][maxlength=13]`, pre-filled from
         seamlessData `mobile`/`mobileNumber`; submit `.agreement__button > button.btn-continue` "Lanjutkan"
         (that spelling: PHP's script compares innerText case-sensitively, Go/Node accept it by exact name)
  PIN    `.input-pin > input.txt-input-pin-field[maxlength=6][inputmode=numeric]`, no button: a few lines of
         JS submit it after six digits; a wrong PIN stays on the page with `.error-message`
  302    redirectUrl + responseCode=2001000&responseMessage=Successful&authCode=..&state=.., appended to any
         query the redirectUrl already has.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from conformance.snap.oauth import KNOWN_SCOPES, seamless_sign_problem
from conformance.sandbox.store import normalise_phone
from conformance.sandbox.web import Expired, error, form, page, phone_page, pin_page, with_query

ENTRY_PATHS = ("/v1.0/get-auth-code", "/n/ipg/oauth", "/n/link/binding", "/n/link/bind", "/bindSnap")
DEEPLINK_PATHS = ("/n/link/binding", "/n/link/bind", "/bindSnap")
REQUIRED_API = ("partnerId", "scopes", "externalId", "channelId", "redirectUrl", "timestamp", "state")
REQUIRED_DEEPLINK = ("partnerId", "scopes", "redirectUrl", "state")   # the deeplink example has no others
MAX_STATE = 64          # doc says 32, but every SDK sends a 36-character UUID4 and DANA accepts it
PHONE_ACTION, PIN_ACTION = "/n/ipg/oauth/phone", "/n/ipg/oauth/pin"
HEADING = "Masuk ke DANA"
SCOPE_TEXT = {
    "CASHIER": "Membayar di halaman kasir DANA",
    "AGREEMENT_PAY": "Membayar otomatis dengan persetujuan",
    "QUERY_BALANCE": "Melihat saldo DANA",
    "DEFAULT_BASIC_PROFILE": "Melihat profil dasar (disamarkan)",
    "MINI_DANA": "Membuka Mini DANA",
    "PUBLIC_ID": "Melihat ID publik pengguna",
}


def _seamless_phone(text: str) -> tuple[str | None, str | None]:
    """(phone or None, problem or None) from the seamlessData JSON text."""
    try:
        data = json.loads(text)
    except ValueError:
        return None, "seamlessData is not JSON"
    if not isinstance(data, dict):
        return None, "seamlessData is not a JSON object"
    phone = data.get("mobile") or data.get("mobileNumber")        # the SDK helpers send `mobile`
    return (str(phone) if phone else None), None


class BindingPages:
    def __init__(self, sandbox, sessions):
        self.store, self.sessions = sandbox.store, sessions

    def _flow(self, sid: str, step: str) -> dict:
        flow = self.sessions.get(sid)
        if flow is None or flow.get("step") != step:
            raise Expired("binding")
        return flow

    def _invalid(self, request: Request) -> tuple[str, str, str] | None:
        """(title, message, reason) of the first problem of the entry query, or None."""
        q = request.query_params         # decoded exactly once by the HTTP layer
        required = REQUIRED_DEEPLINK if request.url.path in DEEPLINK_PATHS else REQUIRED_API
        missing = [n for n in required if not q.get(n)]
        if missing:
            return "Permintaan tidak valid", f"Missing mandatory parameter: {', '.join(missing)}", "missing_parameter"
        merchant = self.store.get_merchant(q["partnerId"])
        if merchant is None:
            return "Merchant tidak dikenal", f"Unknown partnerId {q['partnerId']}", "unknown_partner"
        if q.get("merchantId") and q["merchantId"] != merchant.merchant_id:
            return "Merchant tidak cocok", "merchantId does not belong to partnerId", "merchant_mismatch"
        redirect = urlsplit(q["redirectUrl"])
        if redirect.scheme not in ("http", "https") or not redirect.netloc:
            return "Permintaan tidak valid", "redirectUrl must be an absolute http(s) URL", "invalid_redirect_url"
        if len(q["state"]) > MAX_STATE:
            return "Permintaan tidak valid", f"state is longer than {MAX_STATE} characters", "invalid_state"
        scopes = [s.strip() for s in q["scopes"].split(",") if s.strip()]
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown or not scopes:
            return "Permintaan tidak valid", f"Invalid scopes: {', '.join(unknown) or '(none)'}", "invalid_scopes"
        if "seamlessData" in q:
            problem = _seamless_phone(q["seamlessData"])[1]
            if problem is None and not q.get("seamlessSign"):
                problem = "seamlessSign is required with seamlessData"
            if problem is None:
                found = seamless_sign_problem(merchant.public_key, q["seamlessData"], q["seamlessSign"])
                problem = found and f"seamlessSign {found[0]}"
            if problem:
                return "Tanda tangan tidak valid", problem, "invalid_seamless_sign"
        return None

    def entry(self, request: Request):
        problem = self._invalid(request)
        if problem:
            return error(*problem)
        q = request.query_params
        merchant = self.store.get_merchant(q["partnerId"])
        flow = {"partner_id": merchant.partner_id, "merchant_id": merchant.merchant_id, "state": q["state"],
                "scopes": [s.strip() for s in q["scopes"].split(",") if s.strip()], "redirect_url": q["redirectUrl"],
                "seamless_phone": _seamless_phone(q["seamlessData"])[0] if "seamlessData" in q else None}
        sid = self.sessions.new(**flow, step="phone")
        return phone_page(sid, flow, PHONE_ACTION, HEADING)

    async def phone(self, request: Request):
        data = await form(request)
        sid = data.get("sid", "")
        flow = self._flow(sid, "phone")
        typed = str(data.get("phone", "")).strip()
        flow["typed"] = typed
        user = self.store.find_user(typed)
        if user is None:
            return phone_page(sid, flow, PHONE_ACTION, HEADING,
                              "Nomor HP belum terdaftar di DANA (phone number not registered)")
        seamless = flow.get("seamless_phone")
        if seamless and normalise_phone(seamless) != normalise_phone(typed):
            # With seamlessData the account must be the one the merchant named (Widget Binding guide).
            return phone_page(sid, flow, PHONE_ACTION, HEADING,
                              "Nomor HP tidak sesuai dengan seamlessData (phone differs from seamlessData)")
        flow.update(phone=user.phone, step="pin")
        return RedirectResponse(f"{PIN_ACTION}?sid={sid}", status_code=303)

    def _pin_page(self, sid: str, flow: dict, problem: str | None = None):
        return pin_page(sid, flow["phone"], PIN_ACTION, problem, merchant_id=flow["merchant_id"],
                        scopes=flow["scopes"], scope_text=SCOPE_TEXT)

    def pin_form(self, request: Request):
        sid = request.query_params.get("sid", "")
        return self._pin_page(sid, self._flow(sid, "pin"))

    async def pin(self, request: Request):
        data = await form(request)
        sid = data.get("sid", "")
        flow = self._flow(sid, "pin")
        user = self.store.find_user(flow["phone"])
        if user is None or data.get("pin") != user.pin:
            return self._pin_page(sid, flow, "PIN salah (wrong PIN)")
        code = self.store.issue_auth_code(flow["partner_id"], user.phone, flow["scopes"], flow["redirect_url"],
                                          flow["state"])
        self.sessions.drop(sid)
        target = with_query(flow["redirect_url"], {"responseCode": "2001000", "responseMessage": "Successful",
                                                   "authCode": code, "state": flow["state"]})
        return RedirectResponse(target, status_code=302)

    def routes(self) -> list[Route]:
        routes = [Route(path, page(self.entry), methods=["GET"]) for path in ENTRY_PATHS]
        return routes + [
            Route(PHONE_ACTION, page(self.phone), methods=["POST"]),
            Route(PIN_ACTION, page(self.pin_form), methods=["GET"]),
            Route(PIN_ACTION, page(self.pin), methods=["POST"]),
        ]
