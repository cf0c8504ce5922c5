"""The schema of scenario files (pydantic; every field has a description).

docs/scenarios.md is the reference for authors; ``dana-uat schema scenarios`` prints the JSON Schema
editors use (editorschema.py). A validator that checks in code what JSON Schema can also say gives the same
rule to the JSON Schema beside it (``json_schema_extra``), so an editor underlines what the loader refuses.
The step models are here; which models a step may be comes from the step-kind registry
(kinds.py), which calls ``use_step_models``. Structural rules live here; rules that need the whole file (expressions, matchers,
unique ids) live in loader.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator

from conformance.snap.apis import APIS

# matcher -> what its argument is (docs/scenarios.md "Matchers"; an editor shows it)
MATCHERS = {
    "$exact": "equals this value exactly (objects: no extra fields)",
    "$regex": "is a string the regular expression matches (search)",
    "$prefix": "is a string starting with this text",
    "$any": "true: is present (any value, null included)",
    "$absent": "true: is not present",
    "$type": "has this type",
    "$ci": "equals this text ignoring case and spacing",
}
TYPE_NAMES = ("string", "number", "integer", "boolean", "object", "array", "null", "timestamp", "notify_time",
              "url")
ID = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
MARK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
CODE = re.compile(r"^\d{7}$")

Body = dict[str, Any]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _json(**schema: Any) -> Callable[[dict], None]:
    """``json_schema_extra`` for a field whose validator checks this in code; ``anyOf`` replaces the type."""
    def extra(field_schema: dict) -> None:
        if "anyOf" in schema:
            field_schema.pop("type", None)
        field_schema.update(schema)
    return extra


KNOWN_API = _json(enum=sorted(APIS))


def _known_api(name: str) -> str:
    if name not in APIS:
        raise ValueError(f"unknown API {name!r}; known: {', '.join(sorted(APIS))}")
    return name


class HeaderTamper(Strict):
    drop: list[str] = Field(default_factory=list, description="Header names to leave out (case-insensitive).")
    set: dict[str, str] = Field(default_factory=dict,
                                description="Headers to add or replace, after signing (value '' sends it empty).")


class Tamper(Strict):
    """Deliberate faults for negative scenarios; applied in one place by the client."""

    signature: Literal["invalid", "hex64", "garbage", "other_key", "empty", "missing"] | None = Field(
        None, description="invalid: a valid-looking Base64 signature of something else; hex64: the 64-hex "
        "string DANA's UAT sends; garbage: 342 alphanumerics; other_key: signed with a key DANA does not "
        "hold; empty: X-SIGNATURE ''; missing: no X-SIGNATURE.")
    timestamp: Literal["missing", "empty", "malformed", "stale"] | None = Field(
        None, description="missing: no X-TIMESTAMP (signed with one that is not sent); empty: ''; malformed: "
        "a space instead of T; stale: one day old (signed consistently).")
    headers: HeaderTamper | None = Field(None, description="Drop or set headers after signing.")
    body_raw: str | None = Field(None, description="Send these exact bytes as the body (signed as sent).")
    path: str | None = Field(None, description="Sign this path but post to the API's real path.")


class Expect(Strict):
    """What the response must be. status and responseCode are mandatory: a step that cannot fail is a defect."""

    status: int = Field(..., ge=100, le=599, description="HTTP status.")
    responseCode: str = Field(..., description="SNAP responseCode, 7 digits, e.g. \"2005400\".",
                              json_schema_extra=_json(anyOf=[{"type": "string", "pattern": CODE.pattern},
                                                             {"type": "integer", "minimum": 10**6,
                                                              "maximum": 10**7 - 1}]))
    responseMessage: Any = Field(None, description="responseMessage: exact text (WARN when it differs only in "
                                 "case or spacing) or a matcher such as {$regex: ...}.")
    headers: dict[str, Any] | None = Field(None, description="Response headers (names case-insensitive): "
                                           "value or matcher.")
    body: Body | None = Field(None, description="Response body fields: nested values or matchers "
                              "($exact, $regex, $prefix, $any, $absent, $type, $ci). Only listed fields are checked.")
    extra_fields: Literal["warn", "ignore"] = Field(
        "warn", description="warn: report fields of the response that the API's model does not have.")

    @field_validator("responseCode", mode="before")
    @classmethod
    def _code(cls, v: Any) -> str:
        text = str(v) if isinstance(v, int) and not isinstance(v, bool) else v
        if not isinstance(text, str) or not CODE.match(text):
            raise ValueError(f"must be a 7-digit SNAP code such as \"2005400\", got {v!r}")
        return text


def _paths_by_call(model_schema: dict) -> None:
    """JSON Schema of CallStep._path: an API with several paths takes only those."""
    model_schema["allOf"] = [{"if": {"properties": {"call": {"const": name}}, "required": ["call"]},
                              "then": {"properties": {"path": {"enum": [*api.paths, None]}}}}
                             for name, api in sorted(APIS.items())]


class CallStep(Strict):
    model_config = ConfigDict(json_schema_extra=_paths_by_call)

    call: str = Field(..., description="API name from the API table, e.g. widget_payment.",
                      json_schema_extra=KNOWN_API)
    name: str | None = Field(None, description="What the step does, for the report.")
    request: Body = Field(default_factory=dict, description="Body fields deep-merged over the file defaults; "
                          "{$absent: true} removes a default field.")
    customer_token: str | None = Field(None, description="B2B2C: Authorization-Customer token (default: "
                                       "additionalInfo.accessToken of the body).")
    device_id: str | None = Field(None, description="B2B2C: X-DEVICE-ID (default: additionalInfo.deviceId).")
    tamper: Tamper | None = Field(None, description="Faults to inject (negative scenarios).")
    path: str | None = Field(None, description="Post to (and sign) another of the API's known paths, e.g. "
                             "/v1.0/debit/status.htm for query_payment (default: the API's main path).")
    expect: Expect = Field(..., description="Expectations; status and responseCode are required.")
    save: dict[str, str] = Field(default_factory=dict, description="name -> source: status, "
                                 "body.<path>, headers.<name>, request.<path>.")

    @field_validator("call")
    @classmethod
    def _call(cls, v: str) -> str:
        return _known_api(v)

    @field_validator("path")
    @classmethod
    def _path(cls, v: str | None, info: ValidationInfo) -> str | None:
        call = info.data.get("call")            # validated before path (field order)
        if v is not None and call in APIS and v not in APIS[call].paths:
            raise ValueError(f"{v!r} is not a path of {call}; known: {', '.join(APIS[call].paths)}")
        return v


class BindOptions(Strict):
    mode: Literal["api", "deeplink"] = Field("api", description="Bind URL mode ([doc-get-oauth], [doc-deeplink]).")
    phone: str | None = Field(None, description="Test user's phone (default: settings.phone).")
    pin: str | None = Field(None, description="Test user's PIN (default: settings.pin).")
    seamless: bool = Field(False, description="Send seamlessData with the phone (and seamlessSign).")
    scopes: list[str] | None = Field(None, description="OAuth scopes (default: the SDK's sandbox scopes).")
    lint: bool = Field(False, description="Grade the bind URL with the bind-URL linter (docs/browser.md) first; "
                       "a FAIL finding stops the step before the browser opens.")


class BindStep(Strict):
    bind: BindOptions = Field(default_factory=BindOptions, description="The browser OAuth flow; saves authCode.")
    name: str | None = Field(None, description="What the step does, for the report.")
    save: dict[str, str] = Field(default_factory=dict, description="name -> auth_code | state | final_url "
                                 "(authCode and bindState are always saved).")


class CheckoutOptions(Strict):
    url: str = Field(..., description="Payment URL: webRedirectUrl with ott, usually an expression.")
    phone: str | None = Field(None, description="Payer's phone (default: settings.phone).")
    pin: str | None = Field(None, description="Payer's PIN (default: settings.pin).")
    outcome: Literal["success", "already_paid", "failed"] = Field("success", description="Expected outcome.")


class CheckoutStep(Strict):
    checkout: CheckoutOptions = Field(..., description="The browser payment at DANA's hosted checkout.")
    name: str | None = Field(None, description="What the step does, for the report.")
    save: dict[str, str] = Field(default_factory=dict, description="name -> outcome | final_url.")


class NotifyOptions(Strict):
    mode: Literal["await", "send"] = Field("await", description="await: wait for DANA's Finish Notify at the "
                                           "suite's receiver and verify it; send: sign one as DANA and post "
                                           "it to the merchant's notify URL.")
    partnerReferenceNo: str = Field("${ref}", description="Which order's notification.")
    count: int = Field(1, ge=1, le=20, description="await: how many deliveries to wait for.")
    timeout: float = Field(15, gt=0, le=120, description="await: seconds to wait at most.")
    status: str | None = Field(None, description="Expected (await) or sent (send) latestTransactionStatus.")
    fields: Body | None = Field(None, description="await: body fields the notification must carry.")
    answer: dict[str, Any] | None = Field(None, description="await: what the receiver answers, "
                                          "{status: 500, body: {...}} (default 200 2005600).")
    url: str | None = Field(None, description="send: where to post (default: settings notify_url).")
    expect: Expect | None = Field(None, description="send: expectations on the merchant's answer.")


class NotifyStep(Strict):
    notify: NotifyOptions = Field(..., description="Await and verify, or send, a Finish Notify.")
    name: str | None = Field(None, description="What the step does, for the report.")
    save: dict[str, str] = Field(default_factory=dict, description="name -> body.<path> of the last notification.")


class ClockStep(Strict):
    clock: str = Field(..., description="Move a sandbox's clock forward, e.g. 16m, 30s, 2h; "
                       "against DANA, wait it out in real time (up to 60 s, 15 min with DANA_UAT_LONG_WAITS=1).",
                       json_schema_extra=_json(pattern=DURATION.pattern))
    name: str | None = Field(None, description="What the step does, for the report.")

    @field_validator("clock", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> str:
        if not isinstance(v, str) or not DURATION.match(v):
            raise ValueError(f"must be a duration like 30s, 16m, 2h or 1d, got {v!r}")
        return v.strip()


class PayOptions(Strict):
    partnerReferenceNo: str = Field("${ref}", description="The order to pay.")
    phone: str | None = Field(None, description="Payer's phone (default: settings.phone).")
    expect_status: int = Field(200, description="HTTP status of the admin pay call (409: not payable).")


class PayStep(Strict):
    pay: PayOptions = Field(default_factory=PayOptions, description="Pay an order: on a sandbox through its "
                            "admin API (no browser); against DANA at the order's checkout page in the browser.")
    name: str | None = Field(None, description="What the step does, for the report.")


class SaveStep(Strict):
    save: dict[str, Any] = Field(..., description="name -> value (expressions allowed) for later steps.")
    name: str | None = Field(None, description="What the step does, for the report.")


class Scenario(Strict):
    id: str = Field(..., description="Stable id: lower case, digits, _; the pytest node id and evidence name.",
                    json_schema_extra=_json(pattern=ID.pattern))
    title: str = Field(..., min_length=1, description="What the scenario shows, in one line.")
    why: str | None = Field(None, description="One sentence a reviewer reads: why DANA mandates this.")
    portal: str | None = Field(None, description="Merchant Portal scenario group, e.g. "
                               "'Direct Debit Payment - Cashier Pay'.")
    mandatory: bool = Field(False, description="Counted by DANA's Merchant Portal; run by default.")
    marks: list[str] = Field(default_factory=list, description="Extra pytest markers.",
                             json_schema_extra=_json(items={"type": "string", "pattern": MARK.pattern}))
    embedded_only: str | None = Field(None, min_length=10, description="Why only the embedded sandbox can run "
                                      "it (a trigger DANA's sandbox does not have). Skipped with this reason on "
                                      "--target sandbox; the report marks it 'embedded only'.")
    steps: list[Any] = Field(..., min_length=1, description="Actions in order, sharing saved values.")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID.match(v):
            raise ValueError(f"{v!r} must be lower case letters, digits and _, starting with a letter")
        return v

    @field_validator("marks")
    @classmethod
    def _marks(cls, v: list[str]) -> list[str]:
        for mark in v:
            if not MARK.match(mark):
                raise ValueError(f"mark {mark!r} must be a Python identifier")
        return v


def use_step_models(models: dict[str, type[BaseModel]], kind_of: Callable[[Any], str | None]) -> None:
    """Make ``Scenario.steps`` the union of the registered step models (called by kinds.register)."""
    step = Annotated[Union[tuple(Annotated[m, Tag(k)] for k, m in models.items())],
                     Discriminator(kind_of, custom_error_type="step_kind",
                                   custom_error_message="a step needs one action: " + ", ".join(models))]
    Scenario.__pydantic_fields__["steps"].annotation = list[step]
    Scenario.model_rebuild(force=True)
    ScenarioFile.model_rebuild(force=True)


class CallDefaults(Strict):
    request: Body = Field(default_factory=dict, description="Body fields every call starts from.")
    customer_token: str | None = Field(None, description="Default Authorization-Customer token (B2B2C).")
    device_id: str | None = Field(None, description="Default X-DEVICE-ID (B2B2C).")


class Defaults(CallDefaults):
    apis: dict[str, CallDefaults] = Field(default_factory=dict, description="Defaults for calls of other APIs "
                                          "in this file, by API name.",
                                          json_schema_extra=_json(propertyNames={"enum": sorted(APIS)}))

    @field_validator("apis")
    @classmethod
    def _apis(cls, v: dict) -> dict:
        for name in v:
            _known_api(name)
        return v


class ScenarioFile(Strict):
    api: str = Field(..., description="The API this file is about; its defaults apply to calls of it.",
                     json_schema_extra=KNOWN_API)
    defaults: Defaults = Field(default_factory=Defaults, description="Deep-merged under every call of `api`.")
    scenarios: list[Scenario] = Field(..., min_length=1, description="The scenarios of this file.")

    @field_validator("api")
    @classmethod
    def _api(cls, v: str) -> str:
        return _known_api(v)
