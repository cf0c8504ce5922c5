"""Who may use the admin API (``/sandbox-admin``): the one switch that mounts, guards or drops it.

The admin API can register merchants, move clocks, pay orders, read every merchant's traffic and sign a
Finish Notify as DANA for any body, so it is never open to a network by accident (issue 26):

  open    bound to a loopback address (127.0.0.0/8, ::1, localhost) with no token given: what the
          embedded runs need (only this machine reaches it)
  token   a token given (``--admin-token`` / DANA_UAT_SANDBOX_TOKEN), or bound to any other address
          (0.0.0.0 included), in which case one is generated: every admin route then wants
          ``Authorization: Bearer <token>`` and answers 401 with a JSON error, before reading the body
  off     ``--no-admin`` and the DANA twin (``--as-dana``): no route under ``/sandbox-admin`` at all, nor
          sandbox-tools (DANA serves those on its dashboard host, not on the API or page hosts)

``GET /sandbox-admin/health`` answers ``{"status": "ok"}`` in the open and token modes without a token: an
orchestrator's probe, with no data in it. The SNAP APIs and hosted pages are never behind this switch:
they are what a merchant's backend and a browser use, guarded by SNAP signatures as on DANA's sandbox.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field

from starlette.routing import Route

from conformance.sandbox.responses import SafeJSONResponse as JSONResponse

TOKEN_ENV = "DANA_UAT_SANDBOX_TOKEN"
MIN_TOKEN_LENGTH = 16
OPEN, TOKEN, OFF = "open", "token", "off"


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or the name localhost; any other name or address (0.0.0.0 included) is not."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_problem(token: str) -> str | None:
    """Why a chosen token cannot be used, or None: it travels in a header and guards a signing key."""
    if len(token) < MIN_TOKEN_LENGTH:
        return f"is shorter than {MIN_TOKEN_LENGTH} characters"
    if not (token.isascii() and token.isprintable()) or " " in token:
        return "must be printable ASCII without spaces (it travels in an Authorization header)"
    return None


@dataclass(frozen=True)
class AdminAccess:
    mode: str
    token: str | None = field(default=None, repr=False)
    generated: bool = False          # the sandbox made the token up: the banner shows it, once

    @classmethod
    def for_host(cls, host: str, token: str | None = None, *, no_admin: bool = False) -> "AdminAccess":
        if no_admin:
            return cls(OFF)
        if token:
            return cls(TOKEN, token)
        if is_loopback(host):
            return cls(OPEN)
        return cls(TOKEN, secrets.token_urlsafe(32), generated=True)

    @property
    def mounted(self) -> bool:
        return self.mode != OFF

    def allows(self, authorization: str | None) -> bool:
        if self.mode == OPEN:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        return (self.mode == TOKEN and scheme.lower() == "bearer"
                and hmac.compare_digest(given.strip().encode(), self.token.encode()))

    def guard(self, endpoint):
        """The endpoint behind the token: a 401 JSON answer before the request's body is read."""
        if self.mode == OPEN:
            return endpoint

        @functools.wraps(endpoint)
        async def guarded(request):
            if not self.allows(request.headers.get("authorization")):
                return JSONResponse({"error": "the sandbox admin API needs its token: send Authorization: "
                                              f"Bearer <token> (the dana-uat setting {TOKEN_ENV})"},
                                    status_code=401, headers={"WWW-Authenticate": 'Bearer realm="sandbox-admin"'})
            return await endpoint(request)
        return guarded

    def mount(self, routes: list[Route], health: Route) -> list[Route]:
        """The admin routes as this mode serves them: none when off, else the health probe (open) and the
        others guarded."""
        if self.mode == OFF:
            return []
        return [health] + [Route(r.path, self.guard(r.endpoint), methods=sorted(r.methods or ()))
                           for r in routes]

    def describe(self) -> str:
        """The banner's word on it."""
        return {OPEN: "open to this machine only (bound to loopback; no token)",
                TOKEN: "bearer token required (Authorization: Bearer <token>)",
                OFF: "off (--no-admin): no route under /sandbox-admin"}[self.mode]


OPEN_ACCESS, OFF_ACCESS = AdminAccess(OPEN), AdminAccess(OFF)


def as_access(admin: AdminAccess | bool) -> AdminAccess:
    """``admin`` as callers give it: an AdminAccess, or True (open) / False (none: the DANA twin, --no-admin)."""
    if isinstance(admin, AdminAccess):
        return admin
    return OPEN_ACCESS if admin else OFF_ACCESS
