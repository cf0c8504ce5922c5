"""Hosted pages of the embedded sandbox: what binding and checkout pages share ([uat-oauth], [uat-checkout]).

Plain server-rendered HTML (Jinja2, templates/) carrying the CSS hooks DANA's own UAT scripts and our page
objects (conformance/browser/pages.py) use. The pages themselves live in ``binding_pages`` (OAuth: phone,
PIN, redirect with authCode) and ``checkout_pages`` (webRedirectUrl: OTT or login, pay, result).

Flow state lives server-side, keyed by a random session id in a hidden field or the query: no PIN,
token or auth code is ever written into the HTML. A page whose session is unknown, expired or at the
wrong step raises ``Expired``; ``page`` turns that into the one "session expired" page.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.routing import Route

from conformance.sandbox.responses import BodyProblem, read_body
from conformance.sandbox.responses import SafeHTMLResponse as HTMLResponse

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(["html"]))
SESSION_TTL = 30 * 60
MAX_SESSIONS = 5000


class Sessions:
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


class Expired(Exception):
    """The page's session is unknown, expired or not at this step; ``what`` names the flow."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


EXPIRED_MESSAGE = {"binding": "This binding session expired; start again",
                   "checkout": "This checkout session expired; open the payment link again"}


def page(handler):
    """Route endpoint wrapper: ``Expired`` becomes the session-expired page (HTTP 400)."""
    @functools.wraps(handler)
    async def endpoint(request: Request):
        try:
            answer = handler(request)
            return await answer if hasattr(answer, "__await__") else answer
        except Expired as exc:
            return error("Sesi berakhir", EXPIRED_MESSAGE[exc.what], "session_expired")
    return endpoint


def render(name: str, status: int = 200, **context) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status)


def error(title: str, message: str, reason: str, status: int = 400) -> HTMLResponse:
    return render("error.html", status, title=title, message=message, reason=reason)


async def form(request: Request) -> dict[str, str]:
    """The pages' forms are application/x-www-form-urlencoded; the stdlib parses them.

    An unreadable form (too large, too slow) reads as empty, which every page treats as an expired session.
    """
    try:
        raw = await read_body(request, 64 * 1024)
    except BodyProblem:
        return {}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def mask(phone: str) -> str:
    return phone[:4] + "*" * max(0, len(phone) - 7) + phone[-3:] if len(phone) > 7 else phone


def with_query(url: str, extra: dict[str, str]) -> str:
    """Append ``extra`` to the query ``url`` already has, keeping the existing text as it was."""
    parts = urlsplit(url)
    query = "&".join(p for p in (parts.query, urlencode(extra)) if p)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def phone_page(sid: str, flow: dict, action: str, heading: str, problem: str | None = None, status=200,
               order=None) -> HTMLResponse:
    return render("phone.html", status, sid=sid, action=action, heading=heading, error=problem, order=order,
                  phone=flow.get("typed") or flow.get("seamless_phone") or "")


def pin_page(sid: str, phone: str, action: str, problem: str | None = None, **agreement) -> HTMLResponse:
    return render("pin.html", sid=sid, action=action, error=problem, masked_phone=mask(phone), **agreement)


def page_routes(sandbox) -> list[Route]:
    from conformance.sandbox.binding_pages import BindingPages
    from conformance.sandbox.checkout_pages import CheckoutPages

    sessions = Sessions()
    return BindingPages(sandbox, sessions).routes() + CheckoutPages(sandbox, sessions).routes()
