"""Graders of the traffic journal: one small named function per check (model: schemathesis checks).

Each takes the ``Observed`` request (what a merchant's backend sent, plus what the sandbox knew at that
moment) and returns a ``Verdict`` (PASS, WARN or FAIL with "expected ..., received ..." and a hint), or
None when the check does not apply to that API. The sandbox's answer is not graded here: these say
what the merchant did wrong even where the sandbox is lenient (docs/sandbox.md, "Traffic journal").
Protocol facts come from conformance.snap (requirements, schemas, apis).
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from conformance.sandbox import validate
from conformance.sandbox.diagnosis import Signed, diagnose
from conformance.snap import requirements as req
from conformance.snap.apis import API, APIS
from conformance.snap.schemas import GRANT_FIELD, SCHEMAS
from conformance.snap.timestamps import is_timestamp, parse_timestamp

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
RANK = {PASS: 0, WARN: 1, FAIL: 2}


@dataclass(frozen=True)
class Verdict:
    check: str
    verdict: str
    message: str = ""
    hint: str = ""

    def to_dict(self) -> dict:
        return {"check": self.check, "verdict": self.verdict, "message": self.message, "hint": self.hint}


@dataclass
class Observed:
    api: API | None
    path: str
    headers: Mapping[str, str]           # case-insensitive (Starlette Headers)
    raw: bytes | None                    # None: the body was not read (too large, client gone)
    now: datetime                        # sandbox clock
    real_now: datetime
    base_url: str = ""
    partner_key: object | None = None    # registered public key of the claimed partner
    other_keys: Mapping[str, object] = field(default_factory=dict)   # label -> public key
    earlier_reference: int | None = None                # seq of an accepted earlier use
    earlier_external_id: int | None = None              # seq of a same-day earlier use
    body: object = None

    def header(self, name: str) -> str:
        return (self.headers.get(name.lower()) or "").strip()

    @property
    def partner_id(self) -> str:
        if self.api is not None and self.api.family == "apply_token":
            return self.header("X-CLIENT-KEY") or self.header("X-PARTNER-ID")
        return self.header("X-PARTNER-ID")


def _api_paths() -> set[str]:
    return {p for a in APIS.values() if a.family != "notify" for p in a.paths}


def _ok(check: str) -> Verdict:
    return Verdict(check, PASS)


def _graded(check: str, expected: str, received: str | None, hint: str) -> Verdict:
    """PASS when nothing wrong was received (None), else a FAIL in "expected ..., received ..." words."""
    if received is None:
        return _ok(check)
    return Verdict(check, FAIL, f"expected {expected}, received {received}", hint)


def _on_body(apis: Collection[str]) -> Callable:
    """A check of the JSON object body of requests to ``apis``, called as ``check(o, body)``; it does not
    apply (None) to other APIs or to a body that is not a JSON object (``schema`` says so)."""
    def wrap(check: Callable[[Observed, dict], Verdict | None]) -> Callable[[Observed], Verdict | None]:
        @functools.wraps(check)
        def run(o: Observed) -> Verdict | None:
            if o.api is None or o.api.name not in apis or not isinstance(o.body, dict):
                return None
            return check(o, o.body)
        return run
    return wrap


def _human(delta: timedelta) -> str:
    seconds = abs(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


# --- checks -------------------------------------------------------------------------------------

def route(o: Observed) -> Verdict | None:
    if o.api is not None:
        return None
    close = difflib.get_close_matches(o.path, sorted(_api_paths()), n=1, cutoff=0.5)
    return Verdict("path", FAIL, f"expected a Widget API path, received {o.path!r}"
                   + (f" (did you mean {close[0]}?)" if close else ""),
                   "Set the SDK's base URL to the sandbox root (scheme, host and port only); the SDK "
                   "appends each API's path.")


def signature(o: Observed) -> Verdict | None:
    name = "signature"
    if o.api is None:
        return None
    given = o.header("X-SIGNATURE")
    if not given:
        return Verdict(name, FAIL, "expected an X-SIGNATURE header, received no X-SIGNATURE",
                       "Sign every request; an SDK that cannot load the key may send an empty signature.")
    if o.partner_key is None:
        return Verdict(name, FAIL, f"expected a partner registered with this sandbox, received "
                       f"{o.partner_id or 'no partner id'!r}",
                       "Register your partner id and public key: dana-uat sandbox --merchant "
                       "PARTNER_ID:MERCHANT_ID:PUBLIC_KEY_FILE, or POST /sandbox-admin/merchants.")
    if o.raw is None:
        return Verdict(name, WARN, "expected a body to verify, received no body (not read)", "")
    apply_token = o.api is not None and o.api.family == "apply_token"
    signed = Signed(apply_token, o.path, o.raw, o.header("X-TIMESTAMP"), o.partner_id,
                    o.header("X-PARTNER-ID"), o.base_url)
    found = diagnose(signed, given, o.partner_key, o.partner_id, o.other_keys)
    return _ok(name) if found.ok else Verdict(name, FAIL, found.message, found.hint)


ZONE_HINT = ("DANA documents YYYY-MM-DDTHH:mm:ss+07:00: Jakarta time, whole seconds. This sandbox accepts "
             "other offsets because the Node SDK stamps the host zone, but format Jakarta time yourself.")


def timestamp_format(o: Observed) -> Verdict | None:
    name, value = "X-TIMESTAMP", o.header("X-TIMESTAMP")
    if not value:
        return Verdict(name, FAIL, "expected X-TIMESTAMP YYYY-MM-DDTHH:mm:ss+07:00, received no X-TIMESTAMP",
                       "Send X-TIMESTAMP on every request.")
    if is_timestamp(value):
        return _ok(name)
    if req.parse_any_offset(value) is not None:
        return Verdict(name, WARN, f"expected YYYY-MM-DDTHH:mm:ss+07:00, received {value!r}", ZONE_HINT)
    return Verdict(name, FAIL, f"expected YYYY-MM-DDTHH:mm:ss+07:00, received {value!r}",
                   "Use 'T' between date and time, whole seconds and the offset +07:00 (no space, no 'Z').")


def _zone_name(hours: int) -> str:
    return "UTC" if hours == 0 else f"UTC{hours:+d}"


def timestamp_skew(o: Observed) -> Verdict | None:
    name, value = "clock skew", o.header("X-TIMESTAMP")
    moment = req.parse_any_offset(value)
    if moment is None:
        return None
    # Against the sandbox clock, or real time when a scenario has moved the sandbox clock.
    base = min((o.now, o.real_now), key=lambda b: abs((moment - b).total_seconds()))
    delta = moment - base
    if abs(delta) <= req.SKEW_PASS:
        return _ok(name)
    side = "behind" if delta.total_seconds() < 0 else "ahead"
    message = f"{_human(delta)} {side}"
    hours = round(delta.total_seconds() / 3600)
    label_hours = round(moment.utcoffset().total_seconds() / 3600)
    if hours and abs(delta - timedelta(hours=hours)) <= req.SKEW_PASS:
        # A whole-hour error is a zone error: the clock read one zone, the label names another.
        label = value[19:].lstrip("0123456789.") or value[-6:]
        message = f"{abs(hours)} h {side}: {_zone_name(label_hours + hours)} labelled {label}"
        hint = ("Convert the time to Asia/Jakarta before formatting (e.g. datetime.now(timezone(timedelta("
                "hours=7)))); do not append +07:00 to a UTC or local time.")
    else:
        hint = "Synchronise the server clock (NTP); DANA compares X-TIMESTAMP with its own time."
    severity = WARN if abs(delta) <= req.SKEW_WARN else FAIL
    return Verdict(name, severity, f"expected X-TIMESTAMP within {_human(req.SKEW_PASS)} of the sandbox clock "
                   f"({base.strftime('%H:%M:%S')} +07:00), received {value!r}: {message}", hint)


def headers(o: Observed) -> Verdict | None:
    if o.api is None:
        return None
    profile = req.HEADER_PROFILES.get(o.api.family, ())
    missing = [(level, header) for header, level in profile if not o.header(header)]
    problems = [(level, f"{header} of {len(o.header(header))} characters (documented 1-{limit})")
                for header, (limit, level) in req.HEADER_MAX.items() if len(o.header(header)) > limit]
    content_type = o.header("Content-Type")
    if not content_type.startswith("application/json"):
        problems.append((req.DOCUMENTED, f"Content-Type {content_type or 'missing'!r}"))
    if missing:
        problems.insert(0, (max(level for level, _ in missing), "missing " + ", ".join(h for _, h in missing)))
    if not problems:
        return _ok("headers")
    # "required" sorts after "documented": any required problem makes it a FAIL.
    severity = FAIL if any(level == req.REQUIRED for level, _ in problems) else WARN
    expected = ", ".join(header for header, _ in profile)
    return Verdict("headers", severity, f"expected the {o.api.title} headers {expected}, received "
                   + "; ".join(text for _, text in problems),
                   "Send every header DANA documents for this API (CHANNEL-ID is required, 1-5 characters, "
                   "e.g. 95221); an empty header counts as missing.")


def schema(o: Observed) -> Verdict | None:
    if o.api is None or o.raw is None:
        return None
    if not isinstance(o.body, dict):
        return Verdict("schema", FAIL, "expected a JSON object body, received "
                       f"{'unparsable JSON' if o.body is None else type(o.body).__name__}",
                       "Send UTF-8 JSON with Content-Type application/json.")
    shape = validate.shape_problem(o.body, validate.MAX_DEPTH)
    if shape:       # what the pipeline refuses first (400xx00 too deep, 400xx01 a lone surrogate)
        received = ("a body nested deeper than " + str(validate.MAX_DEPTH) + " levels" if shape[0] == "depth"
                    else f"{shape[1]} holding a lone surrogate (such as \\ud800), which no UTF-8 encodes")
        return Verdict("schema", FAIL, f"expected UTF-8 JSON text in every field, received {received}",
                       "Encode the body as UTF-8 JSON from valid text; never split a character's escape.")
    spec = SCHEMAS.get(o.api.name)
    problem = validate.check(spec, o.body) if spec is not None else None
    if problem is None and o.api.name == "apply_token":
        wanted = GRANT_FIELD.get(o.body.get("grantType"))
        problem = validate.Problem("02", wanted) if wanted and not o.body.get(wanted) else None
    if problem is None:
        return _ok("schema")
    if problem.case == "02":
        message = f"expected the mandatory field {problem.field}, received no {problem.field}"
    else:
        message = (f"expected {problem.field} of the documented type, length and format, received "
                   f"{problem.field} that does not conform")
    return Verdict("schema", FAIL, message,
                   "Compare the body with the official SDK model of this API (dana-python dana/widget/v1/models).")


@_on_body(req.REFERENCE_FIELDS)
def reference_unique(o: Observed, body: dict) -> Verdict | None:
    name = req.REFERENCE_FIELDS[o.api.name]
    if not body.get(name):
        return None
    return _graded(name, f"a {name} not used before by this merchant",
                   None if o.earlier_reference is None
                   else f"{body[name]!r}, already accepted in request #{o.earlier_reference}",
                   "Generate a fresh reference per order or request; to learn the outcome of an earlier "
                   "request, query it (Query Payment) instead of sending it again.")


def external_id_unique(o: Observed) -> Verdict | None:
    value = o.header("X-EXTERNAL-ID")
    if o.api is None or o.api.family == "apply_token" or not value:
        return None
    return _graded("X-EXTERNAL-ID", "an X-EXTERNAL-ID unique within the day",
                   None if o.earlier_external_id is None
                   else f"{value!r}, already sent today in request #{o.earlier_external_id}",
                   "Generate a new X-EXTERNAL-ID (e.g. a UUID) for every request; SNAP answers 409xx00 "
                   "Conflict to a same-day reuse by another request (this sandbox too; it answers a "
                   "byte-identical replay as the first).")


@_on_body(("widget_payment",))
def valid_up_to(o: Observed, body: dict) -> Verdict | None:
    value = body.get("validUpTo")
    try:
        moment = parse_timestamp(value)
    except (ValueError, TypeError):
        return Verdict("validUpTo", FAIL, f"expected validUpTo YYYY-MM-DDTHH:mm:ss+07:00, received {value!r}",
                       "Format the expiry in Jakarta time with +07:00.")
    limit = req.VALID_UP_TO_MAX + req.VALID_UP_TO_GRACE
    ahead = [moment - base for base in (o.now, o.real_now)]
    if any(timedelta(0) < d <= limit for d in ahead):
        return _ok("validUpTo")
    delta = min(ahead, key=lambda d: abs(d.total_seconds()))
    received = f"{_human(delta)} {'in the past' if delta.total_seconds() <= 0 else 'ahead'} ({value})"
    return Verdict("validUpTo", FAIL, f"expected a time in the future, at most "
                   f"{_human(req.VALID_UP_TO_MAX)} ahead, received {received}",
                   "DANA's UAT: validUpTo at most 15 minutes from now (API requirement); compute it from "
                   "the current Jakarta time.")


@_on_body(req.MONEY_FIELDS)
def amount(o: Observed, body: dict) -> Verdict | None:
    problems = []
    for name in req.MONEY_FIELDS[o.api.name]:
        money = body.get(name)
        if money is None:
            continue
        value = money.get("value") if isinstance(money, dict) else money
        if not isinstance(value, str) or not req.AMOUNT.match(value):
            problems.append(f"{name}.value {value!r}")
        currency = money.get("currency") if isinstance(money, dict) else None
        if currency != "IDR":
            problems.append(f"{name}.currency {currency!r}")
    return _graded("amount", "a string with two decimals ('10000.00') and currency 'IDR'",
                   ", ".join(problems) or None,
                   "Send Money as {\"value\": \"10000.00\", \"currency\": \"IDR\"}: a string, a dot, exactly two "
                   "decimals, no thousands separator.")


@_on_body(("widget_payment",))
def url_params(o: Observed, body: dict) -> Verdict | None:
    params = body.get("urlParams")
    found = {p.get("type"): p.get("url") for p in params if isinstance(p, dict)} if isinstance(params, list) else {}
    missing = [t for t in req.URL_PARAM_TYPES if t not in found]
    bad = [f"{t} {found[t]!r}" for t in req.URL_PARAM_TYPES
           if t in found and not (isinstance(found[t], str) and urlsplit(found[t]).scheme in ("http", "https")
                                  and urlsplit(found[t]).netloc)]
    parts = ([f"no {', '.join(missing)}"] if missing else []) + [f"not an absolute URL: {b}" for b in bad]
    return _graded("urlParams", f"urlParams with {' and '.join(req.URL_PARAM_TYPES)} URLs",
                   "; ".join(parts) or None,
                   "Add {\"type\": \"PAY_RETURN\", \"url\": <your return page>, \"isDeeplink\": \"N\"} and "
                   "{\"type\": \"NOTIFICATION\", \"url\": <your Finish Notify endpoint>, ...}; without "
                   "NOTIFICATION DANA has nowhere to send the payment result.")


CHECKS: tuple[Callable[[Observed], Verdict | None], ...] = (
    route, signature, timestamp_format, timestamp_skew, headers, schema, reference_unique, external_id_unique,
    valid_up_to, amount, url_params,
)


def parse_body(raw: bytes | None) -> object:
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def grade(o: Observed) -> list[Verdict]:
    """Every applicable check's verdict, in CHECKS order. A check that breaks is reported, not raised."""
    verdicts = []
    for check in CHECKS:
        try:
            found = check(o)
        except Exception as exc:            # a grader bug must never cost the merchant an answer
            found = Verdict(check.__name__, WARN, f"the grader failed ({type(exc).__name__})", "")
        if found is not None:
            verdicts.append(found)
    return verdicts


def worst(verdicts: list[Verdict]) -> str:
    return max((v.verdict for v in verdicts), key=RANK.__getitem__, default=PASS)
