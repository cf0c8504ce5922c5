"""A small merchant backend on the official dana-python SDK: the subject of dana-uat's merchant mode.

It does what DANA's Widget Binding integration guide asks of a merchant, with the SDK the way its README
shows: build the OAuth (bind) URL and remember its state, exchange the authCode once (Apply Token), create
a Direct Debit Payment with NOTIFICATION and PAY_RETURN urlParams and hand the payer the checkout URL
(Apply OTT), verify DANA's Finish Notify signature and apply it once, and show its own view of an order.

Configuration is the SDK's environment variables plus where DANA is (see README.md):
  X_PARTNER_ID, MERCHANT_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, ORIGIN
  DANA_BASE_URL         DANA's API host (here: a `dana-uat sandbox`); DANA_WEB_URL its web host (default: same)
  DANA_PUBLIC_KEY(_PATH) DANA's gateway public key, to verify Finish Notify
  MERCHANT_BASE_URL     where this app is reachable (its redirect and notify URLs derive from it)
  DEFECT                one deliberate mistake (see defects.py); empty for the correct app

Run: uvicorn --factory examples.merchant.app:create_app --port 8000   (or python -m examples.merchant.app)
"""

from __future__ import annotations

import functools
import json
import os
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from dana.api_client import ApiClient
from dana.exceptions import ApiException
from dana.utils import snap_header
from dana.utils.snap_configuration import AuthSettings, Env, SnapConfiguration
from dana.webhook import WebhookParser
from dana.widget.v1 import WidgetApi
from dana.widget.v1.models import (ApplyOTTRequest, ApplyOTTRequestAdditionalInfo,
                                   ApplyTokenAuthorizationCodeRequest, CancelOrderRequest, Money,
                                   Oauth2UrlData, RefundOrderRequest, RefundOrderRequestAdditionalInfo,
                                   WidgetPaymentRequest)
from dana.widget.v1 import util as widget_util
from dana.widget.v1.util import Util
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.routing import Route

try:
    from . import defects
except ImportError:          # run as a script from this folder
    import defects  # type: ignore[no-redef]

ACK = {"responseCode": "2005600", "responseMessage": "Successful"}
NOTIFY_PATH = "/v1.0/debit/notify"
JAKARTA = timezone(timedelta(hours=7))


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise SystemExit(f"merchant example: set {name} (see examples/merchant/README.md)")
    return value


def _read(name: str) -> str:
    path = os.environ.get(f"{name}_PATH")
    return Path(path).read_text() if path else _env(name)


def parse_private_key_once() -> None:
    """dana-python reads PRIVATE_KEY(_PATH) and parses it again for every request it signs and for every
    seamlessSign, and cryptography checks an RSA key's primes whenever it parses one: about 40 ms of CPU per
    call with a 2048-bit key, more than the rest of the request. The same PEM always gives the same key, so
    the parses the SDK makes are cached (a key object is immutable; the SDK still reads the file each time)."""
    if hasattr(serialization.load_pem_private_key, "cache_info"):
        return
    cached = functools.lru_cache(maxsize=8)(serialization.load_pem_private_key)
    # the SDK calls it as serialization.load_pem_private_key, and by the name two of its modules imported
    for module in (serialization, snap_header, widget_util):
        module.load_pem_private_key = cached


class Merchant:
    """The merchant's state (in memory: a real shop keeps it in its database)."""

    def __init__(self):
        parse_private_key_once()
        self.defect = defects.enable(os.environ.get("DEFECT", ""))
        self.base = _env("MERCHANT_BASE_URL").rstrip("/")
        self.api_base = _env("DANA_BASE_URL").rstrip("/")
        self.web_base = os.environ.get("DANA_WEB_URL", self.api_base).rstrip("/")
        self.merchant_id = _env("MERCHANT_ID")
        config = SnapConfiguration(api_key=AuthSettings(
            PRIVATE_KEY=os.environ.get("PRIVATE_KEY"), PRIVATE_KEY_PATH=os.environ.get("PRIVATE_KEY_PATH"),
            ORIGIN=os.environ.get("ORIGIN", self.base), X_PARTNER_ID=_env("X_PARTNER_ID"),
            ENV=Env.SANDBOX, DANA_ENV=Env.SANDBOX))
        config.host = self.api_base          # the SDK's documented host override, set after construction
        self.api = WidgetApi(ApiClient(config))
        self.parser = WebhookParser(public_key=_read("DANA_PUBLIC_KEY"))
        # With DANA_ENV=sandbox the parser loads DANA's own sandbox key and ignores ours: load ours explicitly.
        self.parser.public_key = _load_public_key(_read("DANA_PUBLIC_KEY"))
        self.lock = threading.Lock()
        self.states: dict[str, dict] = {}       # state -> {"code": ..., "token": ...}
        self.token: str | None = None           # the last bound user's access token (one demo shopper)
        self.orders: dict[str, dict] = {}
        self.seen_notifications: set[str] = set()

    @property
    def redirect_url(self) -> str:
        return self.base + "/oauth/callback"

    # -- binding ----------------------------------------------------------------------------------
    def bind_url(self, phone: str | None) -> str:
        state = uuid.uuid4().hex
        with self.lock:
            self.states[state] = {}
        data = Oauth2UrlData(external_id=uuid.uuid4().hex, merchant_id=self.merchant_id,
                             redirect_url=self.redirect_url, state=state,
                             seamless_data={"mobile_number": phone} if phone else None)
        if self.defect == "hex_seamless_sign":   # a key path that does not resolve: the SDK silently sends hex
            url = Util.generate_oauth_url(data, private_key_path="keys/missing-private-key.pem")
        else:
            url = Util.generate_oauth_url(data)
        parts = urlsplit(url)                # the SDK hard-codes DANA's web host; point it at ours
        return f"{self.web_base}{parts.path}?{parts.query}"

    def callback(self, code: str, state: str) -> tuple[int, dict]:
        with self.lock:
            known = self.states.get(state)
            if known is None and self.defect != "any_state":
                return 400, {"error": "unknown state: this binding was not started here"}
            known = known if known is not None else {}
            if known.get("code") == code and self.defect != "exchange_every_callback":
                return 200, {"bound": True, "note": "code already exchanged"}
        try:
            token = self.api.apply_token(ApplyTokenAuthorizationCodeRequest(
                grant_type="AUTHORIZATION_CODE", auth_code=code, refresh_token="", additional_info={}))
        except ApiException as exc:
            return 502, {"error": f"Apply Token failed: HTTP {exc.status}"}
        with self.lock:
            known.update(code=code)
            self.token = token.access_token
        return 200, {"bound": True}

    # -- payment ----------------------------------------------------------------------------------
    def pay(self, amount: str) -> tuple[int, dict]:
        if self.token is None:
            return 409, {"error": "bind a DANA account first (/bind)"}
        ref = "ORDER-0001" if self.defect == "reused_reference" else uuid.uuid4().hex
        now = datetime.now(JAKARTA)
        body = {
            "partnerReferenceNo": ref, "merchantId": self.merchant_id,
            "amount": {"value": amount, "currency": "IDR"},
            "validUpTo": (now + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S+07:00"),
            "urlParams": [{"url": self.base + NOTIFY_PATH, "type": "NOTIFICATION", "isDeeplink": "N"},
                          {"url": self.base + "/pay/return", "type": "PAY_RETURN", "isDeeplink": "N"}],
            "additionalInfo": {
                "productCode": "51051000100000000001", "mcc": "5732",
                "order": {"orderTitle": "Example order", "createdTime": now.strftime("%Y-%m-%dT%H:%M:%S+07:00")},
                "envInfo": {"sourcePlatform": "IPG", "terminalType": "SYSTEM", "orderTerminalType": "WEB"}},
        }
        try:
            payment = self.api.widget_payment(WidgetPaymentRequest.from_dict(body))
            ott = self.api.apply_ott(ApplyOTTRequest(user_resources=["OTT"], additional_info=(
                ApplyOTTRequestAdditionalInfo(access_token=self.token, device_id="example-device"))))
        except ApiException as exc:
            return 502, {"error": f"DANA answered HTTP {exc.status}", "partnerReferenceNo": ref}
        with self.lock:
            self.orders[ref] = {"partnerReferenceNo": ref, "amount": amount, "status": "PENDING", "fulfilments": 0}
        return 200, {"partnerReferenceNo": ref,
                     "checkoutUrl": Util.generate_complete_payment_url(payment, ott)}

    def refund(self, ref: str, amount: str) -> tuple[int, dict]:
        request = RefundOrderRequest(
            merchant_id=self.merchant_id, original_partner_reference_no=ref, partner_refund_no=uuid.uuid4().hex,
            refund_amount=Money(value=amount, currency="IDR"), reason="Customer request",
            additional_info=RefundOrderRequestAdditionalInfo(env_info={}))
        return self._after(lambda: self.api.refund_order(request), ref, "REFUNDED")

    def cancel(self, ref: str) -> tuple[int, dict]:
        request = CancelOrderRequest(original_partner_reference_no=ref, merchant_id=self.merchant_id,
                                     reason="Customer request")
        return self._after(lambda: self.api.cancel_order(request), ref, "CANCELLED")

    def _after(self, call, ref: str, status: str) -> tuple[int, dict]:
        try:
            answer = call()
        except ApiException as exc:
            return 502, {"error": f"DANA answered HTTP {exc.status}", "partnerReferenceNo": ref}
        with self.lock:
            if ref in self.orders:
                self.orders[ref]["status"] = status
        return 200, {"partnerReferenceNo": ref, "responseCode": answer.response_code}

    # -- Finish Notify ----------------------------------------------------------------------------
    def notify(self, path: str, headers: dict, raw: bytes) -> tuple[int, dict]:
        text = raw.decode("utf-8", "replace")
        if self.defect == "no_webhook_verification":
            try:
                body = json.loads(text)
            except ValueError:
                return 400, {"responseCode": "4005600", "responseMessage": "Bad Request"}
        else:     # exactly as DANA's WebhookParser verifies: the signature over the received bytes, no time window
            try:
                body = self.parser.parse_webhook("POST", path, headers, text).to_dict()
            except ValueError as exc:
                return 401, {"responseCode": "4015600", "responseMessage": f"Unauthorized. {exc}"}
        ref, status = body.get("originalPartnerReferenceNo"), body.get("latestTransactionStatus")
        key = f"{ref}:{status}"
        with self.lock:
            order = self.orders.get(ref)
            if order is None:
                return 404, {"responseCode": "4045601", "responseMessage": "Transaction Not Found"}
            if key not in self.seen_notifications or self.defect == "duplicate_applied_twice":
                self.seen_notifications.add(key)
                order["status"] = {"00": "PAID", "05": "CLOSED"}.get(status, "FAILED")
                order["fulfilments"] += 1 if status == "00" else 0
        if self.defect == "ack_2000000":
            return 200, {"responseCode": "2000000", "responseMessage": "Successful"}
        return 200, ACK


def _load_public_key(text: str):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(text.replace("\\n", "\n").strip().encode())


def create_app() -> Starlette:
    merchant = Merchant()

    async def bind(request: Request):
        url = merchant.bind_url(request.query_params.get("phone"))
        if request.query_params.get("format") == "json":
            return JSONResponse({"bindUrl": url})
        return RedirectResponse(url, status_code=302)

    async def callback(request: Request):
        q = request.query_params
        status, answer = await run_in_threadpool(merchant.callback, q.get("authCode", ""), q.get("state", ""))
        return JSONResponse(answer, status_code=status)

    async def pay(request: Request):
        form = await request.json() if request.method == "POST" else dict(request.query_params)
        amount = str(form.get("amount", "")) if isinstance(form, dict) else ""
        if not amount:
            return JSONResponse({"error": "amount is required, e.g. 10000.00"}, status_code=400)
        status, answer = await run_in_threadpool(merchant.pay, amount)
        return JSONResponse(answer, status_code=status)

    async def refund(request: Request):
        data = await request.json()
        status, answer = await run_in_threadpool(merchant.refund, str(data.get("partnerReferenceNo", "")),
                                                 str(data.get("amount", "")))
        return JSONResponse(answer, status_code=status)

    async def cancel(request: Request):
        data = await request.json()
        status, answer = await run_in_threadpool(merchant.cancel, str(data.get("partnerReferenceNo", "")))
        return JSONResponse(answer, status_code=status)

    async def notify(request: Request):
        raw = await request.body()
        status, answer = merchant.notify(request.url.path, dict(request.headers.items()), raw)
        return JSONResponse(answer, status_code=status)

    async def order(request: Request):
        found = merchant.orders.get(request.path_params["ref"])
        return JSONResponse(found or {"error": "unknown order"}, status_code=200 if found else 404)

    async def account(request: Request):     # the shopper's page with the button a profile may click
        return HTMLResponse("<!doctype html><title>Account</title><a id='link-dana' "
                            "href='/bind?phone=083811223355'>Link your DANA account</a>")

    async def pay_return(request: Request):
        return JSONResponse({"returned": dict(request.query_params)})

    return Starlette(routes=[
        Route("/account", account, methods=["GET"]),
        Route("/bind", bind, methods=["GET"]),
        Route("/oauth/callback", callback, methods=["GET"]),
        Route("/pay", pay, methods=["GET", "POST"]),
        Route("/refund", refund, methods=["POST"]),
        Route("/cancel", cancel, methods=["POST"]),
        Route(NOTIFY_PATH, notify, methods=["POST"]),
        Route("/orders/{ref}", order, methods=["GET"]),
        Route("/pay/return", pay_return, methods=["GET"]),
    ])


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
