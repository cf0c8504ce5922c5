"""The ``token`` step kind: a bound test user's customer access token, bound once per run and shared read-only.

Most scenarios that carry a customer token test what a token is used for (Apply OTT, Balance Inquiry, Transaction
History), not the binding. Each of them used to bind in Chromium and exchange the authCode itself; now the first
scenario that needs user X binds (the same bind step: suite-built URL, phone, agreement, PIN, redirect with the
issued state) and exchanges the code (Apply Token, 200 2007400 Successful), all recorded in its own evidence; every
later scenario of the run that names X gets the same access token and records where it came from.

Sharing is sound only for scenarios that read the token: DANA's side sees the same token either way (a token that a
scenario only presents is the same evidence). A scenario that revokes, refreshes or consumes a token or an authCode
(binding, Apply Token, unbinding, paying with that user) keeps its own ``bind`` step.

    - token: {}                                   # settings.phone / settings.pin
    - token: {phone: "0855100800", pin: "146838"}
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from pydantic import Field

from conformance.findings import Finding
from conformance.scenarios import schema, steps


class TokenOptions(schema.Strict):
    phone: str | None = Field(None, description="Test user's phone (default: settings.phone).")
    pin: str | None = Field(None, description="Test user's PIN (default: settings.pin).")


class TokenStep(schema.Strict):
    token: TokenOptions = Field(default_factory=TokenOptions, description="A customer access token of this test "
                                "user, bound once per run and shared read-only; saves accessToken.")
    name: str | None = Field(None, description="What the step does, for the report.")


@dataclass(frozen=True)
class Held:
    access_token: str
    origin: str            # the scenario whose evidence holds the binding and the Apply Token exchange


# target -> (phone, pin) -> Held; per target, so every run (and every xdist worker) binds its own users.
_HELD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# target -> (phone, pin) -> Lock: scenarios side by side (ahead.py) that need the same user wait for one binding.
_BINDING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TABLES = threading.Lock()


def _user(target, user: tuple[str, str]) -> tuple[dict, threading.Lock]:
    with _TABLES:
        return _HELD.setdefault(target, {}), _BINDING.setdefault(target, {}).setdefault(user, threading.Lock())

EXCHANGE = schema.CallStep.model_validate({
    "call": "apply_token", "name": "exchange the authCode of the shared binding",
    "request": {"grantType": "AUTHORIZATION_CODE", "authCode": "${authCode}", "refreshToken": "",
                "additionalInfo": {}},
    "expect": {"status": 200, "responseCode": "2007400", "responseMessage": "Successful",
               "body": {"accessToken": {"$type": "string"}}},
    "save": {"accessToken": "body.accessToken"}})


def run_token(run: steps.Run, step: TokenStep, where: str) -> list[Finding]:
    phone = run.expr.render(step.token.phone) if step.token.phone else run.settings.phone
    pin = run.expr.render(step.token.pin) if step.token.pin else run.settings.pin
    held, binding = _user(run.target, (phone, pin))
    with binding:
        found = held.get((phone, pin))
        if found is not None:
            run.recorder.event("token", action="shared", phone=phone, boundIn=found.origin)
            run.expr.saved["accessToken"] = found.access_token
            return []
        bind = schema.BindStep(bind=schema.BindOptions(phone=phone, pin=pin))
        findings = steps.run_bind(run, bind, f"{where}: bind")
        if not any(f.failed for f in findings):
            findings += steps.run_call(run, EXCHANGE, f"{where}: apply_token")
        if not any(f.failed for f in findings):
            held[(phone, pin)] = Held(run.expr.saved["accessToken"], run.recorder.scenario_id)
            run.recorder.event("token", action="bound", phone=phone, sharedWithLaterScenarios=True)
        return findings
