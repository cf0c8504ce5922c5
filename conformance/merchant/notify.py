"""Webhook grading: Finish Notify deliveries signed (or forged) as DANA, posted to the merchant's notify URL.

A valid delivery must be acknowledged (HTTP 200 + 2005600) and change the order once; a duplicate must be
acknowledged and change nothing; a forged one must not get 2005600 and must change nothing. Effects are
read through the profile's status endpoint; without one they are a WARN saying what could not be seen.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from conformance.findings import Finding, fail, warn
from conformance.merchant import dana
from conformance.merchant.steps import _ack_finding, _driver, _guard
from conformance.scenarios.steps import Run


def _valid(run, ref, status, url):
    return dana.signed(run.target, ref, status, url)


def _tampered(run, ref, status, url):
    headers, raw = dana.signed(run.target, ref, status, url)
    body = json.loads(raw)
    body["amount"]["value"] = "1.00" if body["amount"]["value"] != "1.00" else "2.00"
    return headers, json.dumps(body, separators=(",", ":")).encode()


def _other_key(run, ref, status, url):
    _, raw = dana.signed(run.target, ref, status, url)
    return dana.signed_by_other_key(run.target, url, raw), raw


def _stale(run, ref, status, url):
    return dana.signed(run.target, ref, status, url, dana.stale_timestamp(run.target))


def _malformed(run, ref, status, url):
    headers, raw = dana.signed(run.target, ref, status, url)
    return headers, raw[:-1]            # DANA's headers over a body that is no longer JSON


def _drop(name: str):
    def forge(run, ref, status, url):
        headers, raw = dana.signed(run.target, ref, status, url)
        return {k: v for k, v in headers.items() if k.lower() != name}, raw
    return forge


# forge -> (how the delivery is made, why it must be refused: the hint of its finding)
FORGES: dict[str | None, tuple[Callable, str]] = {
    None: (_valid, ""),
    "tampered_body": (_tampered, "the body was changed after DANA signed it: verify X-SIGNATURE over the "
                      "received bytes before trusting any field"),
    "other_key": (_other_key, "signed by a key that is not DANA's: verify with DANA's public key"),
    "missing_signature": (_drop("x-signature"), "no X-SIGNATURE: refuse unsigned notifications"),
    "missing_timestamp": (_drop("x-timestamp"), "no X-TIMESTAMP: the signature cannot be checked without it"),
    "stale_timestamp": (_stale, "X-TIMESTAMP is a day old, the signature genuine: DANA documents no freshness "
                        "window and its WebhookParser has none ([sdk-webhook]); refusing an old X-TIMESTAMP "
                        "limits replays"),
    "malformed_json": (_malformed, "the body is not JSON: answer 400, never 2005600"),
}


@_guard
def run_merchant_notify(run: Run, step, where: str) -> list[Finding]:
    opts, driver = step.merchant_notify, _driver(run)
    ref = run.expr.render(opts.partnerReferenceNo)
    url = run.expr.saved.get("merchantNotifyUrl")
    if not url:
        return [fail("step order", "a merchant_pay step first", "no merchantNotifyUrl saved", where=where)]
    state = run.__dict__.setdefault("_merchant_notify", {})    # what this scenario delivered before
    if opts.forge == "duplicate":
        if "delivery" not in state:
            return [fail("step order", "a valid merchant_notify first", "nothing to duplicate", where=where)]
        headers, raw = state["delivery"]
    else:
        headers, raw = FORGES[opts.forge][0](run, ref, opts.status, url)
    before = driver.order_state(ref)
    answer = driver.send("POST", url, what=f"Finish Notify ({opts.forge or 'valid ' + opts.status})",
                         content=raw, headers=headers)
    after = driver.order_state(ref)
    grade = {None: _valid_applied, "duplicate": _duplicate_once}.get(opts.forge, _forged_refused)
    return grade(run, opts, state, (headers, raw), answer, before, after, where)


def _unseen(where: str) -> list[Finding]:
    return [warn("order effect", "the order read through the merchant's status endpoint",
                 "not seen: the profile has no status endpoint", where=where)]


def _valid_applied(run, opts, state, delivery, answer, before, after, where) -> list[Finding]:
    if answer.status != 200 or answer.code() != "2005600":
        return [_ack_finding(answer.status, answer.code(), where)]
    state["delivery"] = delivery
    if after is None:
        return _unseen(where)
    state["after"] = after[0].json
    paid = run.target.merchant_profile.status.paid
    changed = after[1] == paid if opts.status == "00" else after[0].json != (before[0].json if before else None)
    if not changed:
        return [fail("order updated", f"the order changed by status {opts.status}", after[0].text[:200],
                     where=where, hint="apply a verified Finish Notify to the order it names")]
    return []


def _duplicate_once(run, opts, state, delivery, answer, before, after, where) -> list[Finding]:
    if answer.status != 200 or answer.code() != "2005600":
        return [_ack_finding(answer.status, answer.code(), where)]
    if after is None:
        return _unseen(where)
    if after[0].json != state.get("after"):
        return [fail("duplicate applied once", "the order as after the first delivery", after[0].text[:200],
                     where=where, hint="DANA may deliver a notification more than once: apply it once, keyed "
                     "by originalReferenceNo and status, and acknowledge the repeat")]
    return []


def _forged_refused(run, opts, state, delivery, answer, before, after, where) -> list[Finding]:
    if opts.forge == "stale_timestamp":     # genuine, only old: accepting it is a recommendation, not a FAIL
        applied = before is not None and after is not None and after[0].json != before[0].json
        if answer.code() == "2005600" or (answer.status == 200 and applied):
            accepted = [warn("webhook freshness", "a day-old X-TIMESTAMP refused",
                             f"HTTP {answer.status} {answer.code()}", where=where, hint=FORGES[opts.forge][1])]
            return accepted + ([] if answer.code() == "2005600" else [_ack_finding(answer.status, answer.code(), where)])
    if answer.code() == "2005600":
        return [fail("webhook verification", f"a {opts.forge.replace('_', ' ')} notification refused",
                     f"HTTP {answer.status} {answer.code()}", where=where, hint=FORGES[opts.forge][1])]
    if after is None:
        return _unseen(where)
    if after[0].json != before[0].json:
        return [fail("order unchanged", before[0].text[:200], after[0].text[:200], where=where,
                     hint="a refused notification must not change the order")]
    return []
