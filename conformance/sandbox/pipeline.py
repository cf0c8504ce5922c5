"""One request pipeline for every Widget API, read top to bottom (model: stripe-mock HandleRequest).

    parse -> headers -> signature -> X-EXTERNAL-ID -> body validation -> magic-value rules -> state -> respond

The order is the one DANA's UAT fixtures expect [uat-fixtures]: X-TIMESTAMP problems win over a bad
signature; body problems and magic values are judged only for correctly signed requests. Every
failure leaves as a SNAP body whose HTTP status is the first three digits of its responseCode;
an unexpected exception becomes 500xx01 "Internal Server Error" (logged), never a traceback.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from conformance.sandbox import responses, validate
from conformance.sandbox.rules import Outcome
from conformance.sandbox.store import Merchant
from conformance.snap.apis import API, api_by_path
from conformance.snap.codes import ResponseCode, response_code
from conformance.snap.requirements import ACCEPTED_TIMESTAMP
from conformance.snap.schemas import SCHEMAS
from conformance.snap.signature import apply_token_string_to_sign, string_to_sign, verify

log = logging.getLogger("conformance.sandbox")

MAX_BODY = 256 * 1024            # far above any Widget body; larger ones are refused unread
# X-TIMESTAMP: +07:00 is documented; other explicit offsets are accepted for the Node SDK (the
# traffic journal grades them WARN). One definition, in conformance.snap.requirements.
TIMESTAMP = ACCEPTED_TIMESTAMP


class Reject(Exception):
    """Stop the pipeline with this SNAP answer."""

    def __init__(self, code: ResponseCode, **extra: object):
        super().__init__(code.code)
        self.code, self.extra = code, extra


@dataclass
class Call:
    api: API
    path: str
    headers: Mapping[str, str]
    raw: bytes
    body: dict = field(default_factory=dict)
    merchant: Merchant | None = None
    outcome: Outcome | None = None
    base_url: str = ""

    def reject(self, http: int, case: str = "00", **kw) -> Reject:
        return Reject(response_code(self.api.service, http, case, **kw))

    def ok(self, **extra: object) -> tuple[ResponseCode, dict]:
        return response_code(self.api.service, self.api.success_status), extra


Handler = Callable[[object, Call], tuple[ResponseCode, dict]]


def _header(headers: Mapping[str, str], name: str) -> str:
    """Header value, stripped; empty optional headers count as absent ([sdk-header])."""
    return (headers.get(name) or "").strip()


async def read_body(request: Request, service: str) -> bytes:
    try:
        return await responses.read_body(request, MAX_BODY)
    except responses.BodyProblem as problem:
        raise Reject(response_code(service, 400, "00", message=f"Bad Request. {problem.reason}")) from None


def check_headers(call: Call) -> str:
    """X-TIMESTAMP, then the partner headers; returns the client id that must have signed."""
    timestamp = _header(call.headers, "x-timestamp")
    if not timestamp:
        raise call.reject(400, "02", field="X-TIMESTAMP")
    if not TIMESTAMP.match(timestamp):
        raise call.reject(400, "01", field="X-TIMESTAMP")
    if call.api.family == "apply_token":
        # Apply Token names the merchant by X-CLIENT-KEY; a newer doc revision adds X-PARTNER-ID ([doc-apply-token]).
        client = _header(call.headers, "x-client-key") or _header(call.headers, "x-partner-id")
        if not client:
            raise call.reject(400, "02", field="X-CLIENT-KEY")
    else:
        client = _header(call.headers, "x-partner-id")
        if not client:
            raise call.reject(400, "02", field="X-PARTNER-ID")
        external = _header(call.headers, "x-external-id")
        if not external:
            raise call.reject(400, "02", field="X-EXTERNAL-ID")
        if len(external) > 36:
            raise call.reject(400, "01", field="X-EXTERNAL-ID")
    if call.api.family == "b2b2c":
        # DANA documents both as required on the customer-token APIs ([sdk-header]); every SDK sends them,
        # derived from additionalInfo, so a merchant backend that forgets them fails here as at DANA.
        for name in ("Authorization-Customer", "X-DEVICE-ID"):
            if not _header(call.headers, name.lower()):
                raise call.reject(400, "02", field=name)
    if len(client) > 64:
        raise call.reject(400, "01", field="X-PARTNER-ID")
    if not _header(call.headers, "x-signature"):
        raise call.reject(400, "02", field="X-SIGNATURE")
    return client


def authenticate(sandbox, call: Call, client: str) -> None:
    """Verify X-SIGNATURE with the registered public key of the calling merchant ([sdk-header])."""
    merchant = sandbox.store.get_merchant(client)
    if merchant is None:
        # Choice (docs/sandbox.md): an unregistered partner is unauthorized, like SNAP's
        # "Unauthorized. Unknown Client"; nothing about it is revealed beyond that.
        raise call.reject(401, "00", reason="Unknown Client")
    timestamp = _header(call.headers, "x-timestamp")
    if call.api.family == "apply_token":
        message = apply_token_string_to_sign(client, timestamp)
    else:
        message = string_to_sign("POST", call.path, call.raw, timestamp)
    if not verify(merchant.public_key, message, _header(call.headers, "x-signature")):
        raise call.reject(401, "00", reason="Invalid Signature")
    call.merchant = merchant


def parse_and_validate(call: Call) -> None:
    try:
        body = json.loads(call.raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise call.reject(400, "00") from None
    if not isinstance(body, dict):
        raise call.reject(400, "00")
    shape = validate.shape_problem(body, validate.MAX_DEPTH)
    if shape and shape[0] == "depth":
        raise Reject(response_code(call.api.service, 400, "00", message="Bad Request. Nesting too deep"))
    if shape:
        raise call.reject(400, "01", field=shape[1])
    call.body = body
    schema = SCHEMAS.get(call.api.name)
    problem = validate.check(schema, body) if schema is not None else None
    if problem:
        raise call.reject(400, problem.case, field=problem.field)


def apply_rules(sandbox, call: Call) -> None:
    outcome = sandbox.rules.match(call.api.name, call.body)
    if outcome and outcome.code:
        raise Reject(outcome.response())
    call.outcome = outcome


def respond(sandbox, code: ResponseCode, extra: dict, started: float, *, close: bool = False,
            partner_id: str | None = None) -> Response:
    """The SNAP answer; X-TIMESTAMP on the clock of the merchant that signed (``partner_id``), else the sandbox's."""
    try:
        payload = responses.json_bytes(code.body(**extra))
    except (TypeError, ValueError):                     # a handler defect: still a SNAP body
        log.exception("sandbox: unserialisable answer for %s", code.code)
        code = ResponseCode(f"500{code.service}01", 500, code.service, "01", "Internal Server Error")
        payload = responses.json_bytes(code.body())
    elapsed_ms = (time.perf_counter() - started) * 1000
    headers = {"X-TIMESTAMP": sandbox.clock.stamp(partner_id), "Server-Timing": f"app;dur={elapsed_ms:.3f}"}
    if close:
        headers["Connection"] = "close"
    return Response(payload, status_code=code.http_status, media_type="application/json", headers=headers)


def claim_external_id(sandbox, call: Call, client: str) -> None:
    """A same-day X-EXTERNAL-ID of this merchant used by another request -> 409xx00 Conflict
    (conformance/sandbox/external_ids.py; a byte-identical replay passes). Apply Token sends none."""
    if call.api.family == "apply_token":
        return
    external = _header(call.headers, "x-external-id")
    if not sandbox.external_ids.claim(client, sandbox.clock.now(client).date(), external, call.api.name, call.raw):
        raise call.reject(409, "00")


def verify_and_parse(sandbox, call: Call, client: str) -> None:
    """Signature, then body: the work that grows with the body, run off the event loop. Only a request
    whose signature verifies claims its X-EXTERNAL-ID (a forgery cannot burn a merchant's id)."""
    authenticate(sandbox, call, client)
    claim_external_id(sandbox, call, client)
    parse_and_validate(call)


def not_routed(status: int, message: str) -> ResponseCode:
    # No Widget API owns the path, so there is no service code: "00" stands in for it.
    return ResponseCode(f"{status}00{'01' if status == 500 else '00'}", status, "00",
                        "01" if status == 500 else "00", message)


async def handle(sandbox, request: Request, handlers: Mapping[str, Handler]) -> Response:
    started = time.perf_counter()
    path = request.url.path
    api = api_by_path(path)
    if api is None or api.name not in handlers:
        return respond(sandbox, not_routed(404, "Not Found"), {}, started)
    if request.method != "POST":
        return respond(sandbox, not_routed(405, "Method Not Allowed"), {}, started)
    try:
        raw = await read_body(request, api.service)                 # parse
    except Reject as reject:       # the body was not read to its end: the connection cannot be reused
        return respond(sandbox, reject.code, reject.extra, started, close=True)
    request.state.raw_body = raw                                     # for the traffic journal
    call = None
    try:
        started = time.perf_counter()      # server time = processing, not waiting for the body
        base = sandbox.base_url or str(request.base_url).rstrip("/")
        call = Call(api, path, request.headers, raw, base_url=base)
        client = check_headers(call)                                 # headers
        await run_in_threadpool(verify_and_parse, sandbox, call, client)  # signature, body validation
        apply_rules(sandbox, call)                                   # magic values
        code, extra = handlers[api.name](sandbox, call)              # state
    except Reject as reject:
        code, extra = reject.code, reject.extra
    except Exception:                                                # never a traceback
        log.exception("sandbox: unexpected error in %s", path)
        code, extra = response_code(api.service, 500, "01"), {}
    merchant = getattr(call, "merchant", None)                       # set once the signature verified
    return respond(sandbox, code, extra, started, partner_id=merchant.partner_id if merchant else None)
