"""The traffic journal: every Widget API request the sandbox receives, graded (model: Prism's
validation proxy, where every request gets its list of violations).

In merchant mode the merchant's own backend points its DANA base URL at this sandbox; the journal
shows what it sent and what it did wrong, check by check (conformance/sandbox/grading.py), even
where the sandbox answers leniently. Headers and bodies are redacted when recorded, like evidence:
tokens, OTTs, authCodes, client secrets and private keys never appear in full, and X-SIGNATURE is
shortened.

``GET /sandbox-admin/traffic?partnerId=&api=&since=&limit=`` answers
``{"last": <newest seq>, "entries": [entry, ...]}`` with the entries whose ``seq`` is greater than
``since`` (default 0), oldest first. ``POST /sandbox-admin/traffic/wait`` with
``{"partnerId"?, "api"?, "since", "count", "timeoutSeconds"}`` answers the same once ``count`` such
entries exist or the timeout (at most 120 s) passes. An entry::

    {"seq": 3, "at": "2026-01-01T10:00:00+07:00", "partnerId": "2025...", "api": "widget_payment",
     "method": "POST", "path": "/rest/redirection/v1.0/debit/payment-host-to-host",
     "request": {"headers": {...}, "body": {"json": {...}} | {"text": "..."} | null},
     "response": {"status": 401, "responseCode": "4015400", "responseMessage": "...", "body": {...}},
     "secretDigests": {"authCode": "9f86d081884c7d65"},
     "verdict": "FAIL",
     "checks": [{"check": "signature", "verdict": "FAIL", "message": "expected ..., received ...",
                 "hint": "..."}, ...]}

``secretDigests`` maps each secret the request body carries (``authCode``, ``refreshToken``,
``additionalInfo.accessToken``) to ``secret_digest(value)``, the first 16 hex digits of its SHA-256, so
a scenario that knows an authCode can count the Apply Tokens made with it without the journal holding
it. ``verdict`` is the worst of ``checks`` (PASS < WARN < FAIL); ``api`` is null for a path no Widget API
owns. The journal keeps the newest ``MAX_ENTRIES`` entries within ``MAX_BYTES`` of their JSON
(conformance/sandbox/bounds.py); ``seq`` keeps counting. Bodies above ``MAX_RECORDED_BODY`` are graded but recorded as their size only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping

from conformance.evidence.redaction import Redactor
from conformance.sandbox import bounds, grading, responses, validate
from conformance.snap.apis import api_by_path
from conformance.snap.requirements import REFERENCE_FIELDS
from conformance.snap.timestamps import format_timestamp

log = logging.getLogger("conformance.sandbox")

MAX_ENTRIES = bounds.JOURNAL_ENTRIES
MAX_BYTES = bounds.JOURNAL_BYTES          # the kept entries' JSON bytes
MAX_REMEMBERED = bounds.JOURNAL_REMEMBERED   # references and external ids kept for the uniqueness checks
MAX_RECORDED_BODY = 16 * 1024     # larger bodies are graded but recorded as a size only


class _Bounded(OrderedDict):
    """Insertion-ordered dict that forgets its oldest keys beyond a bound; keys are 16-byte digests of the
    (partner, ..., value) they stand for, so a key costs the same whatever the merchant sent."""

    @staticmethod
    def key(*parts: object) -> bytes:
        text = "\0".join(str(p) for p in parts)
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:16]

    def remember(self, key: bytes, value) -> None:
        self.setdefault(key, value)
        while len(self) > MAX_REMEMBERED:
            self.popitem(last=False)


SECRET_PATHS = ("authCode", "refreshToken", "additionalInfo.accessToken")


def secret_digest(value: str) -> str:
    """A non-reversible handle on a secret: the first 16 hex digits of its SHA-256.

    A JSON string may hold a lone surrogate (``"\\ud800"``), which no UTF-8 encodes; ``surrogatepass``
    hashes it as the bytes a lenient encoder writes, so such a value still gets a digest (and its entry).
    """
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _secret_digests(body: object) -> dict[str, str]:
    found = {}
    for path in SECRET_PATHS:
        node = body
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str) and node:
            found[path.rsplit(".", 1)[-1]] = secret_digest(node)
    return found


def _recorded_body(redactor: Redactor, raw: bytes | None) -> dict | None:
    if raw is None:
        return None
    if len(raw) > MAX_RECORDED_BODY:
        return {"text": f"[{len(raw)} bytes, not recorded]"}
    try:
        recorded = redactor.body(raw)
    except RecursionError:
        recorded = None
    # a refused body nested hundreds deep would make /sandbox-admin/traffic an answer that clients' JSON parsers
    # cannot read (Python's recursion limit): record how big it was instead, as for a body too long
    problem = validate.shape_problem(recorded.get("json"), validate.MAX_DEPTH) if recorded else ("depth", "")
    if problem and problem[0] == "depth":
        return {"text": f"[{len(raw)} bytes, nested deeper than {validate.MAX_DEPTH} levels, not recorded]"}
    return recorded


def _printable(text: str) -> str:
    """Printable ASCII only: what a client sent must not colour, move or break a terminal or a log."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text).encode("ascii", "backslashreplace").decode("ascii")


def _ungraded(method: str, path: str, headers: Mapping[str, str], raw: bytes | None, status: int,
              response_body: bytes, exc: Exception) -> dict:
    """The entry of a request that broke grading: what was sent (redacted) and answered, and why it is
    ungraded, as a FAIL check named ``journal``. Built from plain values only, so it cannot fail in turn."""
    problem = _printable(f"{type(exc).__name__}: {exc}")[:300]
    try:
        request_headers = Redactor().headers({_printable(k): _printable(v) for k, v in dict(headers).items()})
    except Exception:                       # noqa: BLE001 - the entry is recorded whatever the headers hold
        request_headers = {}
    partner = _printable(headers.get("x-partner-id") or headers.get("x-client-key") or "")
    return {
        "seq": 0, "at": "", "partnerId": partner or None, "api": None, "method": _printable(method),
        "path": _printable(path),
        "request": {"headers": request_headers,
                    "body": None if raw is None else {"text": f"[{len(raw)} bytes, not recorded]"}},
        "response": {"status": status, "responseCode": None, "responseMessage": None,
                     "body": {"text": f"[{len(response_body)} bytes, not recorded]"}},
        "secretDigests": {}, "verdict": grading.FAIL,
        "checks": [{"check": "journal", "verdict": grading.FAIL,
                    "message": f"expected a request the journal can grade, received one that broke grading ({problem})",
                    "hint": "the sandbox answered it; this entry keeps its place in the journal"}],
    }


def _response_summary(status: int, body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    summary = {"status": status}
    if isinstance(data, dict):
        summary |= {"responseCode": data.get("responseCode"), "responseMessage": data.get("responseMessage")}
    summary["body"] = _recorded_body(Redactor(), body)
    return summary


class Journal:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        # Each kept entry as (seq, partnerId, api, its JSON bytes): a parsed entry took 4-5 times its JSON
        # size in objects, and the bytes make MAX_BYTES what the journal really holds.
        self._entries: deque[tuple[int, str | None, str | None, bytes]] = deque()
        self._bytes = 0
        self._seq = 0
        self._changed = threading.Condition()
        self._references = _Bounded()     # (partnerId, api, field, value) -> seq
        self._external_ids = _Bounded()   # (partnerId, Jakarta day, X-EXTERNAL-ID) -> seq
        self._listeners: list[Callable[[dict], None]] = []

    def subscribe(self, listener: Callable[[dict], None]) -> None:
        """Call ``listener(entry)`` after each recorded request (the live lines of `dana-uat sandbox`)."""
        self._listeners.append(listener)

    # --- recording ------------------------------------------------------------------------------
    def _observe(self, path: str, headers: Mapping[str, str], raw: bytes | None) -> grading.Observed:
        sandbox, clock = self.sandbox, self.sandbox.clock
        observed = grading.Observed(api_by_path(path), path, headers, raw, clock.now(), clock.real_now(),
                                    base_url=sandbox.base_url, body=grading.parse_body(raw))
        partner = observed.partner_id
        if partner in sandbox.store.merchants:          # graded on that merchant's clock
            observed.now = clock.now(partner)
        merchant = sandbox.store.get_merchant(partner)
        observed.partner_key = merchant.public_key if merchant else None
        observed.other_keys = {f"the key registered for partner {pid}": m.public_key
                               for pid, m in list(sandbox.store.merchants.items()) if pid != partner}
        observed.other_keys["this sandbox's DANA key (it signs Finish Notify)"] = \
            sandbox.dana_private_key.public_key()
        api = observed.api
        ref_field = REFERENCE_FIELDS.get(api.name) if api else None
        if ref_field and isinstance(observed.body, dict) and isinstance(observed.body.get(ref_field), str):
            observed.earlier_reference = self._references.get(_Bounded.key(partner, api.name, ref_field,
                                                                            observed.body[ref_field]))
        external = observed.header("X-EXTERNAL-ID")
        if external:
            observed.earlier_external_id = self._external_ids.get(_Bounded.key(partner, observed.now.date(), external))
        return observed

    def _remember(self, observed: grading.Observed, verdicts: list[grading.Verdict], status: int,
                  seq: int) -> None:
        """Only what the sandbox authenticated counts as 'used' (a forgery cannot burn an id)."""
        if not any(v.check == "signature" and v.verdict == grading.PASS for v in verdicts):
            return
        partner, api = observed.partner_id, observed.api
        external = observed.header("X-EXTERNAL-ID")
        if external and api is not None and api.family != "apply_token":
            self._external_ids.remember(_Bounded.key(partner, observed.now.date(), external), seq)
        ref_field = REFERENCE_FIELDS.get(api.name) if api else None
        if ref_field and 200 <= status < 300 and isinstance(observed.body, dict) \
                and isinstance(observed.body.get(ref_field), str):
            self._references.remember(_Bounded.key(partner, api.name, ref_field, observed.body[ref_field]), seq)

    def record(self, method: str, path: str, headers: Mapping[str, str], raw: bytes | None,
               status: int, response_body: bytes) -> dict:
        """Grade and store one request with the sandbox's answer; never raises, never loses the request:
        when grading it fails, an ungraded entry says why (``_ungraded``) and one log line names the problem."""
        try:
            observed = self._observe(path, headers, raw)
            verdicts = grading.grade(observed)
            redactor = Redactor()
            entry = {
                "seq": 0, "at": format_timestamp(observed.now), "partnerId": observed.partner_id or None,
                "api": observed.api.name if observed.api else None, "method": method, "path": path,
                "request": {"headers": redactor.headers(dict(headers)),
                            "body": _recorded_body(redactor, raw)},
                "response": _response_summary(status, response_body),
                "secretDigests": _secret_digests(observed.body),
                "verdict": grading.worst(verdicts), "checks": [v.to_dict() for v in verdicts],
            }
        except Exception as exc:           # the journal must never cost the merchant an answer, nor an entry
            observed, verdicts = None, []
            entry = _ungraded(method, path, headers, raw, status, response_body, exc)
            entry["at"] = self.sandbox.clock.stamp()
        with self._changed:
            self._seq += 1
            entry["seq"] = self._seq
            if observed is not None:
                self._remember(observed, verdicts, status, self._seq)
            self._keep(entry)
            self._changed.notify_all()
        if observed is None:
            log.warning("sandbox: request #%d to %s journalled ungraded: %s", entry["seq"], _printable(path),
                        entry["checks"][0]["message"])
        for listener in list(self._listeners):
            try:
                listener(entry)
            except Exception:
                log.exception("sandbox: a traffic listener failed")
        return entry

    def restore(self, entries: list[dict]) -> None:
        """The entries a state file kept (oldest first); ``seq`` goes on from the newest."""
        with self._changed:
            for entry in entries:
                self._keep(entry)
            self._seq = max(self._seq, entries[-1]["seq"] if entries else 0)

    def _keep(self, entry: dict) -> None:
        """Append, forgetting the oldest entries beyond MAX_ENTRIES or MAX_BYTES (the newest always stays)."""
        try:
            blob = responses.json_bytes(entry)
        except (TypeError, ValueError, RecursionError) as exc:   # kept, as the ungraded entry of a defect
            blob = responses.json_bytes(_ungraded(entry["method"], entry["path"], {}, None, 0, b"", exc)
                                        | {"seq": entry["seq"], "at": entry["at"]})
        self._entries.append((entry["seq"], entry["partnerId"], entry["api"], blob))
        self._bytes += len(blob)
        while len(self._entries) > MAX_ENTRIES or (self._bytes > MAX_BYTES and len(self._entries) > 1):
            self._bytes -= len(self._entries.popleft()[3])

    # --- reading --------------------------------------------------------------------------------
    @property
    def last(self) -> int:
        return self._seq

    def _select(self, since: int, partner_id: str | None, api: str | None) -> list[bytes]:
        return [blob for seq, partner, name, blob in self._entries if seq > since
                and partner_id in (None, partner) and api in (None, name)]

    def entries(self, since: int = 0, partner_id: str | None = None, api: str | None = None,
                limit: int | None = None) -> dict:
        with self._changed:
            found = self._select(since, partner_id, api)
            last = self._seq
        return {"last": last, "entries": [json.loads(blob) for blob in (found[:limit] if limit else found)]}

    def wait(self, since: int = 0, partner_id: str | None = None, api: str | None = None, count: int = 1,
             timeout: float = 10.0) -> dict:
        """Block until ``count`` matching entries after ``since`` exist, or ``timeout`` passes."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._select(since, partner_id, api)) >= count,
                                   timeout=max(0.0, min(timeout, 120.0)))
        return self.entries(since, partner_id, api)


def live_line(entry: dict) -> str:
    """One short, colour-free line per request: what was called, the answer, and each violation."""
    response = entry.get("response") or {}
    head = (f"#{entry['seq']} {entry.get('api') or entry.get('path')} partner={entry.get('partnerId') or '-'} "
            f"-> {response.get('status')} {response.get('responseCode') or ''}".rstrip())
    problems = [f"{c['check']} {c['verdict']}: {c['message'].split(', received ', 1)[-1]}"
                for c in entry.get("checks", []) if c["verdict"] != grading.PASS]
    return _printable(f"{head} | {entry['verdict']}" + "".join(f" | {p}" for p in problems))
